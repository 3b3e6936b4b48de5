"""GraphQL errors in Wave's shape: ``extensions.code`` plus a per-request ``extensions.id``."""

from __future__ import annotations

from graphql import GraphQLError

GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
NOT_FOUND = "NOT_FOUND"
UNAUTHENTICATED = "UNAUTHENTICATED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class WaveError(GraphQLError):
    """An error a resolver raises on purpose, carrying Wave's error code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


def not_found(message: str) -> WaveError:
    return WaveError(message, NOT_FOUND)


def bad_user_input(message: str) -> WaveError:
    return WaveError(message, BAD_USER_INPUT)


def error_entry(message: str, code: str, request_id: str, **extra) -> dict:
    return {"message": message, **extra, "extensions": {"code": code, "id": request_id}}
