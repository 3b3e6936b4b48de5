"""Who may change what: a minimal Unity Catalog privilege model.

Every principal holds every privilege, except where a rule ``PRINCIPAL=CATALOG`` (``serve --deny``
or ``POST /sandbox/faults {"deny": [...]}``) makes that principal read-only in that catalog: it
may still use the catalog and its schemas, read tables and get volume files, but a statement that
creates or modifies an object there (CREATE SCHEMA/TABLE/VIEW/VOLUME, ALTER, INSERT, UPDATE,
DELETE, MERGE, TRUNCATE, DROP, and PUT/REMOVE of volume files) fails as Databricks fails it:
``[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have CREATE SCHEMA on
Catalog 'main'. SQLSTATE: 42501``.

Principals are named as ``current_user()`` names them: the personal access token's user, or the
service principal's client id for OAuth M2M tokens.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlglot import exp

from .errors import DatabricksSQLError
from .translate import Namespace

MODIFYING_KINDS = {
    "INSERT": "MODIFY",
    "UPDATE": "MODIFY",
    "DELETE": "MODIFY",
    "MERGE": "MODIFY",
    "TRUNCATE TABLE": "MODIFY",
    "ALTER TABLE": None,
    "DROP TABLE": None,
    "DROP VIEW": None,
    "CREATE TABLE": "CREATE TABLE",
    "CREATE VIEW": "CREATE TABLE",
}
"""Statement kind -> privilege it needs on its table (None: only the owner may do it)."""


@dataclass(frozen=True)
class Requirement:
    """A privilege (None: ownership) a statement needs on a securable such as Table 'c.s.t'."""

    privilege: str | None
    securable: str  # Catalog | Schema | Table | Volume
    name: str  # dotted, catalog first

    @property
    def catalog(self) -> str:
        return self.name.split(".")[0]

    def refusal(self) -> DatabricksSQLError:
        what = (
            f"User does not have {self.privilege} on"
            if self.privilege
            else "User is not an owner of"
        )
        return DatabricksSQLError(
            "INSUFFICIENT_PERMISSIONS",
            f"Insufficient privileges: {what} {self.securable} '{self.name}'.",
            "42501",
        )


def parse_rule(rule: str) -> tuple[str, str]:
    """``PRINCIPAL=CATALOG`` -> (principal, catalog); ValueError says what is malformed."""
    principal, sep, catalog = rule.rpartition("=")
    if not sep or not principal.strip() or not catalog.strip():
        raise ValueError(f"deny rule {rule!r} must be PRINCIPAL=CATALOG, e.g. sandbox-sp=main")
    return principal.strip(), catalog.strip().lower()


class Privileges:
    """The deny rules in force (thread-safe; replaced as a whole)."""

    def __init__(self, rules: list[str] | None = None):
        self._lock = threading.Lock()
        self._denied: set[tuple[str, str]] = set()
        self.replace(rules or [])

    def replace(self, rules: list[str]) -> list[str]:
        if not isinstance(rules, list):
            raise ValueError("deny must be a list of PRINCIPAL=CATALOG rules")
        denied = {parse_rule(rule) for rule in rules}
        with self._lock:
            self._denied = denied
        return self.rules()

    def rules(self) -> list[str]:
        with self._lock:
            return sorted(f"{principal}={catalog}" for principal, catalog in self._denied)

    def require(self, principal: str, requirement: Requirement | None) -> None:
        """Raise INSUFFICIENT_PERMISSIONS if ``principal`` lacks ``requirement``."""
        if requirement is None:
            return
        with self._lock:
            denied = (principal, requirement.catalog) in self._denied
        if denied:
            raise requirement.refusal()


def for_tree(tree: exp.Expression, kind: str, ns: Namespace) -> Requirement | None:
    """What a parsed statement needs; None for reads and session statements."""
    if kind in ("CREATE SCHEMA", "CREATE DATABASE", "DROP SCHEMA", "DROP DATABASE"):
        named = tree.this if tree.this is not None else tree.args["tables"][0]
        if named.args.get("db"):
            catalog, schema = (named.catalog or ns.catalog), named.db
        else:
            catalog, schema = ns.catalog, named.name
        if kind.startswith("CREATE"):
            return Requirement("CREATE SCHEMA", "Catalog", catalog.lower())
        return Requirement(None, "Schema", f"{catalog}.{schema}".lower())
    if kind not in MODIFYING_KINDS:
        return None
    table = tree.find(exp.Table)
    if table is None:
        return None
    catalog, schema = (table.catalog or ns.catalog).lower(), (table.db or ns.schema).lower()
    if kind.startswith("CREATE"):
        return Requirement(MODIFYING_KINDS[kind], "Schema", f"{catalog}.{schema}")
    return Requirement(MODIFYING_KINDS[kind], "Table", f"{catalog}.{schema}.{table.name.lower()}")


def for_volume_command(kind: str, name: str, ns: Namespace) -> Requirement | None:
    """What ``CREATE VOLUME``/``DROP VOLUME`` of ``name`` needs; None for other commands."""
    if kind not in ("CREATE VOLUME", "DROP VOLUME"):
        return None
    parts = [part.strip("`").lower() for part in name.split(".")]
    catalog, schema, volume = ([ns.catalog, ns.schema][: 3 - len(parts)] + parts)[-3:]
    if kind == "CREATE VOLUME":
        return Requirement("CREATE VOLUME", "Schema", f"{catalog}.{schema}")
    return Requirement(None, "Volume", f"{catalog}.{schema}.{volume}")


def for_staging(operation: str, volume_path: str) -> Requirement | None:
    """PUT and REMOVE of ``/Volumes/<catalog>/<schema>/<volume>/...`` need WRITE VOLUME."""
    parts = [p for p in volume_path.split("/") if p]
    if operation == "GET" or len(parts) < 4:
        return None  # reads need nothing more; a malformed path fails on its own
    return Requirement("WRITE VOLUME", "Volume", ".".join(p.lower() for p in parts[1:4]))
