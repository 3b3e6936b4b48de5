"""OAuth scopes: what a token holds, and the scope check on reads of a business's records.

Wave names scopes ``resource:operation`` (``invoice:read``); ``resource:*`` holds every operation
of the resource. The full-access token and OAuth tokens hold every scope; a token given with
``--scoped-token TOKEN=SCOPE[,SCOPE...]`` holds only those. Reading a ``Business`` field (a list
such as ``invoices`` or one record such as ``invoice(id:)``), or the businesses themselves, without
its scope answers HTTP 200 with a ``FORBIDDEN`` GraphQL error naming the scope, and null for that
field. Mutations are not scope-checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from graphql import GraphQLSchema

from .errors import WaveError

FORBIDDEN = "FORBIDDEN"

RESOURCES = (
    "account",
    "business",
    "customer",
    "estimate",
    "invoice",
    "product",
    "sales_tax",
    "transaction",
    "user",
    "vendor",
)
OPERATIONS = ("read", "write", "send", "*")
FULL_ACCESS = frozenset(f"{resource}:*" for resource in RESOURCES)
"""The scopes of the full-access token and of every OAuth access token."""

READ_SCOPES = {
    ("Query", "businesses"): "business:read",
    ("Query", "business"): "business:read",
    ("Business", "customers"): "customer:read",
    ("Business", "customer"): "customer:read",
    ("Business", "vendors"): "vendor:read",
    ("Business", "vendor"): "vendor:read",
    ("Business", "products"): "product:read",
    ("Business", "product"): "product:read",
    ("Business", "accounts"): "account:read",
    ("Business", "account"): "account:read",
    ("Business", "salesTaxes"): "sales_tax:read",
    ("Business", "salesTax"): "sales_tax:read",
    ("Business", "invoices"): "invoice:read",
    ("Business", "invoice"): "invoice:read",
    ("Business", "invoicePayment"): "invoice:read",
    ("Business", "estimates"): "estimate:read",
    ("Business", "estimate"): "estimate:read",
    ("Business", "estimatePayment"): "estimate:read",
}
"""The scope each read field needs: (type name, field name) -> scope."""

_SCOPE = re.compile(rf"({'|'.join(RESOURCES)}):(read|write|send|\*)")


def parse_scoped_token(text: str) -> tuple[str, frozenset[str]]:
    """``TOKEN=SCOPE[,SCOPE...]`` (commas or spaces between scopes) -> (token, scopes)."""
    token, sep, listed = text.partition("=")
    token = token.strip()
    scopes = [scope for scope in re.split(r"[,\s]+", listed) if scope]
    if not sep or not token or not scopes:
        raise ValueError(
            f"expected TOKEN=SCOPE[,SCOPE...], e.g. t1=business:read,invoice:read; got {text!r}"
        )
    unknown = [scope for scope in scopes if not _SCOPE.fullmatch(scope)]
    if unknown:
        raise ValueError(
            f"unknown scope {', '.join(unknown)} in {text!r}: a scope is "
            f"RESOURCE:OPERATION with RESOURCE one of {', '.join(RESOURCES)} and "
            f"OPERATION one of {', '.join(OPERATIONS)}"
        )
    return token, frozenset(scopes)


def holds(granted: frozenset[str], scope: str) -> bool:
    """Whether ``granted`` includes ``scope`` itself or its resource's ``:*``."""
    return scope in granted or f"{scope.partition(':')[0]}:*" in granted


def enforce_read_scopes(schema: GraphQLSchema) -> None:
    """Wrap the resolver of every field in ``READ_SCOPES`` with its scope check.

    Call after the read resolvers are attached; ``info.context.scopes`` is the token's scopes.
    """
    for (type_name, field_name), scope in READ_SCOPES.items():
        field = schema.get_type(type_name).fields[field_name]
        field.resolve = _checked(field.resolve, scope, f"{type_name}.{field_name}")


def _checked(resolve: Callable, scope: str, label: str) -> Callable:
    def resolver(source, info, **arguments):
        if not holds(info.context.scopes, scope):
            raise WaveError(
                f"The access token lacks the '{scope}' scope needed to read {label}; "
                f"authorize the application with '{scope}'.",
                FORBIDDEN,
            )
        return resolve(source, info, **arguments)

    return resolver
