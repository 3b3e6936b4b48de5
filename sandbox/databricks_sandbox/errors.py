"""Databricks-shaped SQL errors: error class, message and SQLSTATE, as the warehouse reports them.

Every refusal the simulator produces is a :class:`DatabricksSQLError`. DuckDB's own errors are
translated by :func:`from_duckdb` into the error class Databricks raises for the same mistake, so
a client sees ``[TABLE_OR_VIEW_NOT_FOUND] ... SQLSTATE: 42P01`` rather than a DuckDB message.
"""

from __future__ import annotations

import re

import duckdb


class DatabricksSQLError(Exception):
    """A statement refused the way Databricks refuses it."""

    def __init__(
        self, error_class: str, message: str, sqlstate: str | None, verbatim: bool = False
    ):
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.sqlstate = sqlstate
        self.verbatim = verbatim  # `message` is already the whole text (Spark's own)

    def display(self) -> str:
        """The text Databricks puts in ``displayMessage`` (what the connector raises)."""
        if self.verbatim:
            return self.message
        return f"[{self.error_class}] {self.message} SQLSTATE: {self.sqlstate}"


def parse_error(statement: str, detail: str) -> DatabricksSQLError:
    near = detail.splitlines()[0] if detail else "end of input"
    return DatabricksSQLError(
        "PARSE_SYNTAX_ERROR",
        f"Syntax error at or near {near!s}. Statement: {statement[:200]!r}.",
        "42601",
    )


def table_not_found(name: str) -> DatabricksSQLError:
    return DatabricksSQLError(
        "TABLE_OR_VIEW_NOT_FOUND",
        f"The table or view {name} cannot be found. Verify the spelling and correctness of the "
        "schema and catalog. If you did not qualify the name with a schema, verify the "
        "current_schema() output, or qualify the name with the correct schema and catalog.",
        "42P01",
    )


def schema_not_found(name: str) -> DatabricksSQLError:
    return DatabricksSQLError(
        "SCHEMA_NOT_FOUND",
        f"The schema {name} cannot be found. Verify the spelling and correctness of the schema "
        "and catalog.",
        "42704",
    )


def catalog_not_found(name: str) -> DatabricksSQLError:
    return DatabricksSQLError(
        "NO_SUCH_CATALOG_EXCEPTION", f"Catalog '{name}' was not found. Create it first.", "42704"
    )


def unsupported(what: str) -> DatabricksSQLError:
    return DatabricksSQLError("UNSUPPORTED_FEATURE", f"{what} is not supported.", "0A000")


def concurrent_append(table: str) -> DatabricksSQLError:
    return DatabricksSQLError(
        "DELTA_CONCURRENT_APPEND",
        f"ConcurrentAppendException: Files were added to the root of the table {table} by a "
        "concurrent update. Please try the operation again.",
        "2D521",
    )


def metadata_changed(table: str) -> DatabricksSQLError:
    return DatabricksSQLError(
        "DELTA_METADATA_CHANGED",
        f"MetadataChangedException: The metadata of the Delta table {table} has been changed by "
        "a concurrent update. Please try the operation again.",
        "2D521",
    )


def merge_multiple_matches() -> DatabricksSQLError:
    return DatabricksSQLError(
        "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE",
        "Cannot perform Merge as multiple source rows matched and attempted to modify the same "
        "target row in the Delta table in possibly conflicting ways. By SQL semantics of Merge, "
        "when multiple source rows match on the same target row, the result may be ambiguous as "
        "it is unclear which source row should be used to update or delete the matching target "
        "row. You can preprocess the source table to eliminate the possibility of multiple "
        "matches.",
        "21506",
    )


# (pattern on the DuckDB message, error class, SQLSTATE, message template using the groups)
_DUCKDB_TRANSLATIONS: list[tuple[str, str, str, str]] = [
    (
        r"Table with name (\S+) does not exist",
        "TABLE_OR_VIEW_NOT_FOUND",
        "42P01",
        "The table or view `{0}` cannot be found. Verify the spelling and correctness of the schema "
        "and catalog.",
    ),
    (
        r"Schema with name (\S+) does not exist",
        "SCHEMA_NOT_FOUND",
        "42704",
        "The schema `{0}` cannot be found.",
    ),
    (
        r'Referenced column "?([^"\s]+)"? (?:was )?not found',
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        "42703",
        "A column, variable, or function parameter with name `{0}` cannot be resolved.",
    ),
    (
        r'Values list "?([^"\s]+)"? does not have a column named "?([^"\s]+)"?',
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        "42703",
        "A column, variable, or function parameter with name `{0}`.`{1}` cannot be resolved.",
    ),
    (
        r'Table "?([^"\s]+)"? does not have a column named "?([^"\s]+)"?',
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        "42703",
        "A column, variable, or function parameter with name `{0}`.`{1}` cannot be resolved.",
    ),
    (
        r"Column with name (\S+) already exists",
        "FIELDS_ALREADY_EXISTS",
        "42710",
        "Cannot add column, because `{0}` already exists.",
    ),
    (
        r"Table with name (\S+) already exists",
        "TABLE_OR_VIEW_ALREADY_EXISTS",
        "42P07",
        "Cannot create table or view `{0}` because it already exists.",
    ),
    (
        r"has (\d+) columns but (\d+) values were supplied",
        "INSERT_COLUMN_ARITY_MISMATCH",
        "21S01",
        "Cannot write to the table: the table has {0} columns but the data has {1} columns.",
    ),
    (
        r"Could not convert string '([^']*)' to (\w+)",
        "CAST_INVALID_INPUT",
        "22018",
        'The value \'{0}\' of the type "STRING" cannot be cast to "{1}" because it is malformed.',
    ),
    (r"Conversion Error: (.*)", "CAST_INVALID_INPUT", "22018", "{0}"),
    (r"Out of Range Error: (.*)", "NUMERIC_VALUE_OUT_OF_RANGE", "22003", "{0}"),
    (
        r"Constraint Error: NOT NULL constraint failed: (\S+)",
        "DELTA_NOT_NULL_CONSTRAINT_VIOLATED",
        "23502",
        "NOT NULL constraint violated for column: {0}.",
    ),
    (
        r"No function matches the given name and argument types '([^']*)'",
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        "42K09",
        "Cannot resolve {0} due to data type mismatch.",
    ),
    (
        r"Cannot compare values of type (\S+) and type (\S+)",
        "DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES",
        "42K09",
        "Cannot resolve comparison due to data type mismatch: {0} and {1}.",
    ),
    (
        r"Scalar Function with name (\S+) does not exist",
        "UNRESOLVED_ROUTINE",
        "42883",
        "Cannot resolve routine `{0}` on search path.",
    ),
    (
        r"No files found that match the pattern \"([^\"]*)\"",
        "PATH_NOT_FOUND",
        "42K03",
        "Path does not exist: {0}.",
    ),
    (r"IO Error: (.*)", "FAILED_READ_FILE", "KD001", "Error while reading file: {0}"),
]


def from_duckdb(exc: duckdb.Error, internal_to_public=lambda text: text) -> DatabricksSQLError:
    """Translate a DuckDB error into the Databricks error class for the same mistake.

    ``internal_to_public`` rewrites DuckDB-side object names (``"main.s".t``) back into the
    Databricks names the client used.
    """
    text = internal_to_public(str(exc))
    for pattern, error_class, sqlstate, template in _DUCKDB_TRANSLATIONS:
        match = re.search(pattern, text)
        if match:
            groups = [g.strip('"`') for g in match.groups()]
            return DatabricksSQLError(error_class, template.format(*groups), sqlstate)
    first_line = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, duckdb.ParserException):
        return DatabricksSQLError("PARSE_SYNTAX_ERROR", first_line, "42601")
    if isinstance(exc, duckdb.BinderException | duckdb.CatalogException):
        return DatabricksSQLError("INVALID_QUERY", first_line, "42000")
    return DatabricksSQLError("INTERNAL_ERROR", first_line, "XX000")
