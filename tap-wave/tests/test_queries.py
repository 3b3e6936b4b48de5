"""Every GraphQL document of the tap is valid against Wave's combined schema (2024 SDL + live
additions, with the `#~ ` override applied), and selects what the warehouse contract needs."""

from __future__ import annotations

from importlib import resources

import graphql
import pytest
from tap_wave import queries
from tap_wave.streams import STREAM_TYPES


@pytest.fixture(scope="module")
def wave_schema() -> graphql.GraphQLSchema:
    folder = resources.files("wave_sandbox") / "schema"
    base = (folder / "wave_api_schema_20240728.graphql").read_text(encoding="utf-8")
    additions = (folder / "wave_api_schema_live_additions.graphql").read_text(encoding="utf-8")
    overridden = "\n".join(
        line[3:] if line.startswith("#~ ") else line for line in additions.splitlines()
    )
    return graphql.build_schema(base + "\n" + overridden, assume_valid_sdl=True)


def _field_arguments(document: str, field: str) -> dict[str, str]:
    found: dict[str, str] = {}

    class Finder(graphql.Visitor):
        def enter_field(self, node: graphql.FieldNode, *_args: object) -> None:
            if node.name.value == field:
                found.update({a.name.value: graphql.print_ast(a.value) for a in node.arguments})

    graphql.visit(graphql.parse(document), Finder())
    return found


@pytest.mark.parametrize("name", queries.operation_names())
def test_document_is_valid_against_the_combined_wave_schema(wave_schema, name):
    errors = graphql.validate(wave_schema, graphql.parse(queries.document(name)))
    assert errors == [], [e.message for e in errors]


def test_documents_the_tap_sends_are_the_ones_its_graphql_files_make():
    # documents.json is what a run reads (so its start never imports graphql-core)
    built = queries._built()
    assert built == queries.build(), (
        "tap_wave/queries/documents.json is out of date: run python -m tap_wave.queries"
    )
    assert all(queries.document(name) == built[name] for name in queries.operation_names())
    with pytest.raises(KeyError, match="no GraphQL document named 'invoicez'"):
        queries.document("invoicez")


def test_every_stream_and_id_pass_has_a_document():
    names = set(queries.operation_names())
    for stream in STREAM_TYPES:
        for document in (getattr(stream, "query_name", None), stream.id_pass):
            assert document is None or document in names, (stream.name, document)


def _selected_fields(schema: graphql.GraphQLSchema, document: str) -> list[str]:
    """`Type.field` for every field the document selects."""
    type_info = graphql.TypeInfo(schema)
    selected: list[str] = []

    class Collector(graphql.Visitor):
        def enter_field(self, node: graphql.FieldNode, *_args: object) -> None:
            selected.append(f"{type_info.get_parent_type().name}.{node.name.value}")

    graphql.visit(graphql.parse(document), graphql.TypeInfoVisitor(type_info, Collector()))
    return selected


def test_account_subtype_archivable_is_never_selected(wave_schema):
    for name in queries.operation_names():
        selected = _selected_fields(wave_schema, queries.document(name))
        assert "AccountSubtype.archivable" not in selected, name
    assert "AccountSubtype.systemCreated" in _selected_fields(
        wave_schema, queries.document("accounts")
    )


@pytest.mark.parametrize(
    ("document", "connection"),
    [
        ("products", "products"),
        ("accounts", "accounts"),
        ("sales_taxes", "salesTaxes"),
    ],
)
def test_archived_entities_are_read_too(document, connection):
    assert _field_arguments(queries.document(document), connection)["isArchived"] == "null"


@pytest.mark.parametrize(
    ("document", "connection", "sorted_by_modified_at"),
    [
        ("customers", "customers", True),
        ("products", "products", True),
        ("invoices", "invoices", True),
        ("vendors", "vendors", False),
        ("sales_taxes", "salesTaxes", False),
        ("estimates", "estimates", False),
    ],
)
def test_incremental_documents_use_the_modified_at_window(
    document, connection, sorted_by_modified_at
):
    arguments = _field_arguments(queries.document(document), connection)
    assert arguments["modifiedAtAfter"] == "$modifiedAtAfter"
    assert arguments["modifiedAtBefore"] == "$modifiedAtBefore"
    assert (arguments.get("sort") == "[MODIFIED_AT_ASC]") is sorted_by_modified_at


def test_documents_carry_only_the_fragments_they_use():
    invoice = graphql.parse(queries.document("invoice"))
    fragments = {
        d.name.value for d in invoice.definitions if isinstance(d, graphql.FragmentDefinitionNode)
    }
    assert fragments == {"InvoiceFields", "MoneyFields"}
    accounts = graphql.parse(queries.document("accounts"))
    assert [
        d.name.value for d in accounts.definitions if isinstance(d, graphql.FragmentDefinitionNode)
    ] == ["PageInfoFields"]


def test_an_unknown_document_name_is_reported_with_the_known_ones():
    with pytest.raises(KeyError, match="known: accounts"):
        queries.document("transactions")
