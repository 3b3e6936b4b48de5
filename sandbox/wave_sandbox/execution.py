"""Running GraphQL documents fast: a parse/validate cache and a leaf-field fast path.

graphql-core spends most of a large page's time building a ResolveInfo and a Path for every
scalar field. ``DictLeafExecutor`` answers a leaf field of a dict record directly (the default
resolver would do ``record.get(name)`` anyway) and hands every other field to graphql-core
unchanged, so semantics, errors and null propagation stay graphql-core's.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLNonNull,
    GraphQLSchema,
    is_leaf_type,
    parse,
    validate,
)
from graphql.execution import ExecutionResult, execute_sync
from graphql.pyutils import Path, Undefined

try:  # graphql-core 3.3's executor classes; older versions run without the fast path
    from graphql.execution.incremental.incremental_executor import IncrementalExecutor
except ImportError:  # pragma: no cover - depends on the installed graphql-core
    IncrementalExecutor = None


class ParsedDocument:
    """A document parsed and validated once; ``errors`` holds syntax or validation errors."""

    __slots__ = ("document", "errors", "syntax_error")

    def __init__(
        self, document: DocumentNode | None, errors: list[GraphQLError], syntax_error: bool
    ) -> None:
        self.document, self.errors, self.syntax_error = document, errors, syntax_error


class DocumentCache:
    """LRU of parsed+validated documents keyed by the query text."""

    def __init__(self, schema: GraphQLSchema, size: int = 512) -> None:
        self.schema, self.size = schema, size
        self._entries: OrderedDict[str, ParsedDocument] = OrderedDict()

    def get(self, query: str) -> ParsedDocument:
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry
        try:
            document = parse(query)
        except GraphQLError as error:
            entry = ParsedDocument(None, [error], syntax_error=True)
        else:
            entry = ParsedDocument(document, validate(self.schema, document), False)
        self._entries[query] = entry
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return entry


if IncrementalExecutor is not None:

    class DictLeafExecutor(IncrementalExecutor):
        """graphql-core's executor with a direct path for scalar fields of dict records."""

        _plans: dict | None = None

        def _plan(self, parent_type, grouped_field_set) -> list:
            plans = self._plans
            if plans is None:
                plans = self._plans = {}
            cached = plans.get(id(grouped_field_set))
            if cached is not None and cached[0] is grouped_field_set:
                return cached[1]
            steps = []
            for response_name, details in grouped_field_set.items():
                node = details[0].node
                field = parent_type.fields.get(node.name.value)
                leaf = None
                if (
                    field is not None
                    and field.resolve is None
                    and not field.args
                    and not node.arguments
                    and not any(d.fragment_variable_values for d in details)
                ):
                    non_null = isinstance(field.type, GraphQLNonNull)
                    inner = field.type.of_type if non_null else field.type
                    if is_leaf_type(inner):
                        leaf = (node.name.value, non_null, inner.coerce_output_value)
                steps.append((response_name, details, leaf))
            plans[id(grouped_field_set)] = (grouped_field_set, steps)
            return steps

        def execute_fields(
            self, parent_type, source_value, path, grouped_field_set, position_context
        ):
            if type(source_value) is not dict or self.middleware_manager:
                return super().execute_fields(
                    parent_type, source_value, path, grouped_field_set, position_context
                )
            results: dict[str, Any] = {}
            for response_name, details, leaf in self._plan(parent_type, grouped_field_set):
                if leaf is not None:
                    value = source_value.get(leaf[0])
                    if value is None and not leaf[1]:
                        results[response_name] = None
                        continue
                    if value is not None:
                        try:
                            results[response_name] = leaf[2](value)
                            continue
                        except Exception:
                            pass
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
            return results

else:  # pragma: no cover
    DictLeafExecutor = None


def run_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    context: Any,
    variables: dict | None,
    operation_name: str | None,
) -> ExecutionResult:
    return execute_sync(
        schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        executor_class=DictLeafExecutor,
    )
