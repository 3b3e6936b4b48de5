"""Delta MERGE semantics on top of DuckDB's MERGE.

* ``UPDATE SET *`` / ``INSERT *`` are expanded by column name against the target table, so a
  source lacking a target column is refused as Databricks refuses it (unresolved column) and
  extra source columns are ignored.
* Before anything is written, the join is checked the way Delta checks it: if any target row
  is matched by more than one source row, and the matched clauses are not just one unconditional
  DELETE, the MERGE fails with ``DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE``. (The
  check counts every match of the ON condition, regardless of the WHEN MATCHED conditions —
  the stricter reading, so a loader that passes here passes on Databricks.)
"""

from __future__ import annotations

from sqlglot import exp


def _whens(merge: exp.Merge) -> list[exp.When]:
    whens = merge.args.get("whens")
    return list(whens.expressions) if whens else []


def expand_stars(merge: exp.Merge, target_columns: list[str]) -> None:
    """Rewrite ``UPDATE SET *`` and ``INSERT *`` into explicit by-name column lists."""
    source = merge.args["using"].alias_or_name
    for when in _whens(merge):
        then = when.args.get("then")
        if isinstance(then, exp.Update) and any(isinstance(e, exp.Star) for e in then.expressions):
            then.set(
                "expressions",
                [
                    exp.EQ(this=exp.column(c), expression=exp.column(c, table=source))
                    for c in target_columns
                ],
            )
        elif isinstance(then, exp.Insert) and isinstance(then.this, exp.Star):
            then.set("this", exp.Tuple(expressions=[exp.column(c) for c in target_columns]))
            then.set(
                "expression",
                exp.Tuple(expressions=[exp.column(c, table=source) for c in target_columns]),
            )


def needs_multiple_match_check(merge: exp.Merge) -> bool:
    """Delta skips the check for insert-only merges and a lone unconditional DELETE."""
    matched = [w for w in _whens(merge) if w.args.get("matched")]
    if not matched:
        return False
    only = matched[0]
    lone_delete = (
        len(matched) == 1
        and not only.args.get("condition")
        and isinstance(only.args.get("then"), exp.Var)
        and only.args["then"].name.upper() == "DELETE"
    )
    return not lone_delete


def multiple_match_query(merge: exp.Merge) -> str:
    """DuckDB SQL counting target rows matched by more than one source row.

    ``merge`` must already be translated to DuckDB names.
    """
    target = merge.this
    target_ref = exp.column("rowid", table=target.alias_or_name)
    inner = (
        exp.select(target_ref)
        .from_(target.copy())
        .join(merge.args["using"].copy(), on=merge.args["on"].copy())
        .group_by(target_ref.copy())
        .having("count(*) > 1")
    )
    return exp.select("count(*)").from_(inner.subquery("multiple_matches")).sql(dialect="duckdb")


def merge_result_columns(actions: list[str]) -> dict[str, int]:
    """Databricks' MERGE result row from DuckDB's ``RETURNING merge_action`` values."""
    updated = sum(a == "UPDATE" for a in actions)
    deleted = sum(a == "DELETE" for a in actions)
    inserted = sum(a == "INSERT" for a in actions)
    return {
        "num_affected_rows": updated + deleted + inserted,
        "num_updated_rows": updated,
        "num_deleted_rows": deleted,
        "num_inserted_rows": inserted,
    }
