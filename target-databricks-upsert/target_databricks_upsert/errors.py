"""Errors the target raises: each says what was wrong, where, and what to do."""

from __future__ import annotations


class TargetError(Exception):
    """Base class for this target's errors."""


class SchemaError(TargetError):
    """A SCHEMA message cannot be mapped to warehouse tables."""


class InputError(TargetError):
    """A line of the input, or of a BATCH message's file, cannot be read as what it must be."""


class SchemaEvolutionError(TargetError):
    """A stream's new schema is incompatible with the table already in the warehouse."""


class RecordValidationError(TargetError):
    """A record does not match its stream's schema; its batch is not written."""

    def __init__(self, stream: str, key: object, field: str, problem: str) -> None:
        self.stream, self.key, self.field, self.problem = stream, key, field, problem
        super().__init__(
            f"{stream} record {key}: field {field}: {problem}. Nothing from this batch was "
            "written and the state was not advanced; fix the record (or the schema) at the "
            "source and rerun."
        )
