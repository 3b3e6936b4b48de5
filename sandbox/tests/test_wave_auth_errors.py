"""Bearer auth, OAuth refresh rotation and token expiry, and every error code in Wave's shape."""

from __future__ import annotations

import httpx
import pytest

QUERY = "{ user { id } }"


def post(sandbox, body, token: str | None = "default") -> httpx.Response:
    headers = (
        {}
        if token is None
        else {"Authorization": f"Bearer {sandbox.access_token if token == 'default' else token}"}
    )
    return httpx.post(sandbox.graphql_url, json=body, headers=headers, timeout=10)


def only_error(response: httpx.Response) -> dict:
    assert response.status_code == 200
    body = response.json()
    (error,) = body["errors"]
    assert error["extensions"]["id"]
    return {"code": error["extensions"]["code"], "message": error["message"], "data": body["data"]}


def refresh(sandbox, refresh_token: str, **overrides) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "refresh_token": refresh_token,
        **overrides,
    }
    return httpx.post(sandbox.token_url, data=form, timeout=10)


def test_requests_without_a_valid_token_are_unauthenticated(wave_sandbox):
    for token in (None, "not-a-token"):
        error = only_error(post(wave_sandbox, {"query": QUERY}, token))
        assert error["code"] == "UNAUTHENTICATED" and error["data"] is None
    assert only_error(post(wave_sandbox, {"query": QUERY}, token=None))["message"].startswith(
        "No Authorization header"
    )


def test_full_access_token_works_and_introspection_needs_none(wave_sandbox):
    assert post(wave_sandbox, {"query": QUERY}).json()["data"]["user"]["id"]
    schema = post(wave_sandbox, {"query": "{ __schema { queryType { name } } }"}, None).json()
    assert schema["data"]["__schema"]["queryType"]["name"] == "Query"


def test_refresh_rotates_and_the_used_refresh_token_stops_working(wave_sandbox_factory):
    sandbox = wave_sandbox_factory(
        businesses=1, customers=2, invoices=2, estimates=1, token_ttl=600
    )
    first = refresh(sandbox, sandbox.refresh_token)
    assert first.status_code == 200
    grant = first.json()
    assert grant["expires_in"] == 600 and grant["token_type"] == "Bearer"
    assert grant["refresh_token"] != sandbox.refresh_token
    assert post(sandbox, {"query": QUERY}, grant["access_token"]).json()["data"]["user"]

    reused = refresh(sandbox, sandbox.refresh_token)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    second = refresh(sandbox, grant["refresh_token"])
    assert second.status_code == 200
    assert refresh(sandbox, grant["refresh_token"]).json()["error"] == "invalid_grant"

    sandbox.advance_clock(601)  # the access token outlives its ttl on the sandbox clock
    expired = only_error(post(sandbox, {"query": QUERY}, grant["access_token"]))
    assert expired["code"] == "UNAUTHENTICATED" and "expired" in expired["message"]
    assert post(sandbox, {"query": QUERY}).json()["data"]["user"]  # full-access still works


def test_token_endpoint_rejects_bad_clients_and_grants(wave_sandbox):
    assert refresh(wave_sandbox, "x", client_secret="wrong").json()["error"] == "invalid_client"
    assert (
        refresh(wave_sandbox, "x", grant_type="password").json()["error"]
        == "unsupported_grant_type"
    )
    assert refresh(wave_sandbox, "never-issued").json()["error"] == "invalid_grant"


def test_validation_failed(wave_sandbox):
    error = only_error(post(wave_sandbox, {"query": "{ user { nope } }"}))
    assert error["code"] == "GRAPHQL_VALIDATION_FAILED" and error["data"] is None
    # Wave validates before it authenticates
    assert (
        only_error(post(wave_sandbox, {"query": "{ user { nope } }"}, None))["code"]
        == "GRAPHQL_VALIDATION_FAILED"
    )


def test_syntax_error_is_a_parse_failure(wave_sandbox):
    assert (
        only_error(post(wave_sandbox, {"query": "{ user { id }"}))["code"] == "GRAPHQL_PARSE_FAILED"
    )


def test_unknown_business_is_not_found_with_partial_data(wave_sandbox):
    business_id = wave_sandbox.business_ids()[0]
    body = {
        "query": "query($b: ID!) { user { id } business(id: $b) { id } "
        'other: business(id: "QnVzaW5lc3M6bm9wZQ==") { id } }',
        "variables": {"b": business_id},
    }
    answer = post(wave_sandbox, body).json()
    assert answer["data"]["business"]["id"] == business_id and answer["data"]["other"] is None
    (error,) = answer["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND" and error["path"] == ["other"]


def test_page_size_above_the_maximum_is_bad_user_input(wave_sandbox):
    business_id = wave_sandbox.business_ids()[0]
    answer = post(
        wave_sandbox,
        {
            "query": "query($b: ID!) { business(id: $b) { id "
            "invoices(pageSize: 201) { edges { node { id } } } } }",
            "variables": {"b": business_id},
        },
    ).json()
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "maximum of 200" in answer["errors"][0]["message"]
    assert answer["data"]["business"] == {"id": business_id, "invoices": None}


@pytest.mark.parametrize("variables", [{"size": "ten"}, {}])
def test_bad_variables_are_bad_user_input(wave_sandbox, variables):
    body = {
        "query": "query($size: Int!) { businesses(pageSize: $size) { edges { node { id } } } }",
        "variables": variables,
    }
    assert only_error(post(wave_sandbox, body))["code"] == "BAD_USER_INPUT"
    assert only_error(post(wave_sandbox, body, None))["code"] == "BAD_USER_INPUT"


def test_bad_datetime_argument_is_bad_user_input(wave_sandbox):
    business_id = wave_sandbox.business_ids()[0]
    answer = post(
        wave_sandbox,
        {
            "query": "query($b: ID!) { business(id: $b) { customers("
            'modifiedAtAfter: "yesterday") { edges { node { id } } } } }',
            "variables": {"b": business_id},
        },
    ).json()
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_internal_server_error_in_a_200(wave_sandbox_factory):
    sandbox = wave_sandbox_factory(
        businesses=1, customers=2, invoices=2, estimates=1, graphql_error_rate=1
    )
    error = only_error(post(sandbox, {"query": QUERY}))
    assert error["code"] == "INTERNAL_SERVER_ERROR" and error["data"] is None
    sandbox.set_faults(graphql_error_rate=0)
    assert post(sandbox, {"query": QUERY}).json()["data"]["user"]
