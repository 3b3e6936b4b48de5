"""What each row of a batch does to its table, judged in SQL (Databricks SQL; DuckDB reads it
through `sql.Dialect`) before `batch_sql` writes it: the rows a MERGE applies (`source`: the
batch's rows and, for a child table, the lines their parent no longer has), and per row its action
(`actions`): insert, update, delete, redelete, remove, or nothing (older, or unchanged).

A row is rewritten only when its content changes. Child lines are taken when their root is not
newer in the table than in the batch (their own rows may be older: an unchanged line is not
rewritten), so their MERGE does not depend on the root's and may run beside it.
"""

from __future__ import annotations

from collections.abc import Iterable

from target_databricks_upsert.sql import Load, qualified, quote
from target_databricks_upsert.table_spec import STAGED_AUDIT_COLUMNS, TableSpec

REMOVAL = "_removal"
"""A column of a child MERGE's source: TRUE on a line its parent no longer has."""
ACTION = "_action"
"""A column of every MERGE's source: what writing the row does (see `actions`)."""


def join_on(left: str, right: str, pairs: Iterable[tuple[str, str]]) -> str:
    return " AND ".join(f"{left}.{quote(a)} = {right}.{quote(b)}" for a, b in pairs)


def staged_columns(table: TableSpec) -> list[str]:
    return [c for c, _ in table.data_columns] + list(STAGED_AUDIT_COLUMNS)


def _without_newer_root(load: Load, root: TableSpec, table: TableSpec, alias: str) -> str:
    """A join (after `FROM x AS <alias>`) and its WHERE condition keeping the rows of `alias` for
    whose entity the root table holds no newer version. A LEFT JOIN, not NOT EXISTS: an engine
    builds a join's hash table on its smaller side (the batch), an anti-join's on its subquery
    (the whole table: DuckDB ran out of memory on large tables)."""
    keys = join_on("r", alias, [(a, b) for a, b in table.root_key_map])
    return (
        f"LEFT JOIN {qualified(load, root.name)} AS r ON {keys} "
        f"AND r.`_sequence` > {alias}.`_sequence` WHERE r.{quote(root.key[0])} IS NULL"
    )


def source(load: Load, root: TableSpec, table: TableSpec, sources: dict[str, str]) -> str:
    """The rows one MERGE applies to `table`, each with `_removal` saying whether it is a line its
    parent no longer has (child tables only; never for the root)."""
    columns = staged_columns(table)
    select = ", ".join(f"c.{quote(c)}" for c in columns)
    if table is root:
        return f"SELECT {select}, FALSE AS {REMOVAL} FROM {sources[table.name]} AS c"
    staged = (
        f"SELECT {select} FROM {sources[table.name]} AS c "
        f"{_without_newer_root(load, root, table, 'c')}"
        if table.name in sources
        else f"SELECT {select} FROM {qualified(load, table.name)} AS c WHERE FALSE"
    )
    root_keys = ", ".join(f"s.{quote(k)}" for k in root.key)
    rewritten = (
        f"SELECT {root_keys}, s.`_sequence`, s.`_extracted_at` "
        f"FROM {sources[root.name]} AS s {_without_newer_root(load, root, root, 's')}"
    )
    types = dict(table.all_columns)
    gone_columns = [
        f"c.{quote(c)}"
        if c in table.key
        else {
            "_sequence": "p.`_sequence`",
            "_extracted_at": "p.`_extracted_at`",
            "_is_deleted": "TRUE",
            "_deleted_at": "p.`_extracted_at`",
        }.get(c, f"CAST(NULL AS {load.dialect.column_type(types[c])})")
        for c in columns
    ]
    gone = (
        f"SELECT {', '.join(gone_columns)}, TRUE AS {REMOVAL} FROM {qualified(load, table.name)} "
        f"AS c JOIN rewritten AS p ON {join_on('c', 'p', [(b, a) for a, b in table.root_key_map])} "
        f"LEFT JOIN staged AS x ON {join_on('x', 'c', [(k, k) for k in table.key])} "
        f"WHERE NOT c.`_is_deleted` AND c.`_sequence` <= p.`_sequence` "
        f"AND x.{quote(table.key[0])} IS NULL"
    )
    plain = ", ".join(quote(c) for c in columns)
    return (
        f"WITH staged AS ({staged}), rewritten AS ({rewritten}) "
        f"SELECT {plain}, FALSE AS {REMOVAL} FROM staged UNION ALL {gone}"
    )


def _conditions(table: TableSpec) -> dict[str, str]:
    """When a source row `s` matched to a table row `t` changes it, and how."""
    values = [c for c, _ in table.data_columns if c not in table.key]
    newer = "(t.`_sequence` IS NULL OR t.`_sequence` <= s.`_sequence`)"
    version = (
        "(s.`_table_version` IS NOT NULL AND "
        "t.`_table_version` IS DISTINCT FROM s.`_table_version`)"
    )
    changed = " OR ".join(
        [f"t.{quote(c)} IS DISTINCT FROM s.{quote(c)}" for c in values]
        + ["t.`_is_deleted`", version]
    )
    known_changed = " OR ".join(
        [
            f"(s.{quote(c)} IS NOT NULL AND t.{quote(c)} IS DISTINCT FROM s.{quote(c)})"
            for c in values
        ]
        + [version]
    )
    live = f"NOT s.{REMOVAL} AND {newer}"
    return {
        "remove": f"s.{REMOVAL} AND NOT t.`_is_deleted`",
        "delete": f"{live} AND s.`_is_deleted` AND NOT t.`_is_deleted`",
        "redelete": f"{live} AND s.`_is_deleted` AND ({known_changed})",
        "update": f"{live} AND NOT s.`_is_deleted` AND ({changed})",
    }


def actions(load: Load, root: TableSpec, table: TableSpec, sources: dict[str, str]) -> str:
    """The source rows of `table`, each with `_action`: what writing it does to the table:
    insert, update, delete (a deletion of a live row), redelete (new known values of a deleted
    row), remove (a line its parent no longer has), or NULL (nothing: older, or unchanged).

    Judged here, in the statement's source, rather than in the MERGE's WHEN conditions: DuckDB's
    MERGE needs tens of MB for two WHEN clauses each comparing every column."""
    when = _conditions(table)
    key0 = quote(table.key[0])
    judged = " ".join(f"WHEN {condition} THEN '{name}'" for name, condition in when.items())
    return (
        f"SELECT s.*, CASE WHEN t.{key0} IS NULL THEN CASE WHEN s.{REMOVAL} THEN NULL "
        f"ELSE 'insert' END {judged} END AS {ACTION} "
        f"FROM ({source(load, root, table, sources)}) AS s LEFT JOIN "
        f"{qualified(load, table.name)} AS t ON {join_on('t', 's', [(k, k) for k in table.key])}"
    )


def judged_relation(
    load: Load,
    root: TableSpec,
    table: TableSpec,
    sources: dict[str, str],
    judged: dict[str, str] | None,
) -> str:
    """The relation of `table`'s judged rows: a temporary table (`judge`) or `actions` inline."""
    if judged and table.name in judged:
        return judged[table.name]
    return f"({actions(load, root, table, sources)})"


def judge(
    load: Load, root: TableSpec, table: TableSpec, sources: dict[str, str], relation: str
) -> str:
    """`actions` kept in a temporary table (`batch_sql.batch_steps`), for `_counts` and `upsert`."""
    return f"CREATE OR REPLACE TEMPORARY TABLE {relation} AS {actions(load, root, table, sources)}"
