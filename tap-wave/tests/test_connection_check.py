"""`tap-wave --test` against the Wave sandbox: one line on stdout, exit 0 when every check passes,
else exit 1 and the line says what is wrong. Nothing is synced: no Singer message is written and
Wave is asked for one page of one record per stream."""

from __future__ import annotations

import json
import socket
import subprocess
from collections import Counter

from tap_wave.connection_check import STREAM_SCOPES
from tap_wave.streams import STREAM_TYPES
from tap_wave.testing import access_config, oauth_config, operation_requests

SMALL_BOOKS = {
    "businesses": 2,
    "customers": 5,
    "vendors": 2,
    "products": 3,
    "invoices": 5,
    "estimates": 2,
}
READ_ONCE = Counter(
    {
        "Businesses": 1,
        "Customers": 1,
        "Vendors": 1,
        "Products": 1,
        "Accounts": 1,
        "SalesTaxes": 1,
        "Invoices": 1,
        "Estimates": 1,
    }
)


def check(tap, config: dict) -> tuple[int, str]:
    """Run `tap-wave --test`; (exit code, stdout)."""
    done = subprocess.run(
        tap.command(config, extra=("--test",)),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tap.directory,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return done.returncode, done.stdout


def business_names(sandbox) -> str:
    answer = sandbox.graphql("{ businesses(page: 1, pageSize: 50) { edges { node { name } } } }")
    return ", ".join(edge["node"]["name"] for edge in answer["data"]["businesses"]["edges"])


def closed_port_url(path: str) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def test_full_access_token_ok_reads_one_record_per_stream_and_syncs_nothing(tap, wave_sandbox):
    before = wave_sandbox.stats()
    code, out = check(tap, access_config(wave_sandbox))
    assert operation_requests(before, wave_sandbox.stats()) == READ_ONCE
    assert (code, out) == (
        0,
        f"tap-wave: OK - access token valid, 3 businesses visible "
        f"({business_names(wave_sandbox)}), every stream readable\n",
    )


def test_business_ids_all_visible_are_confirmed(tap, wave_sandbox):
    code, out = check(
        tap, access_config(wave_sandbox, business_ids=wave_sandbox.business_ids()[1:])
    )
    assert code == 0
    assert out.endswith(", all 2 in business_ids among them, every stream readable\n")


def test_oauth_refresh_rotates_and_the_saved_token_refreshes_again(
    tap, wave_sandbox_factory, tmp_path, token_key
):
    sandbox = wave_sandbox_factory(**SMALL_BOOKS)
    config = oauth_config(sandbox, tmp_path / "tokens", token_key)
    ok = (
        f"tap-wave: OK - OAuth refresh works (the rotated refresh token is saved in the token "
        f"store), 2 businesses visible ({business_names(sandbox)}), every stream readable\n"
    )
    assert check(tap, config) == (0, ok)
    assert check(tap, config) == (
        0,
        ok.replace(
            "OAuth refresh works (the rotated refresh token is saved in the token store)",
            "OAuth access token from the token store valid",
        ),
    )
    sandbox.advance_clock(3 * 3600)  # the access token expired; config's refresh token is spent
    assert check(tap, config) == (0, ok)


def test_spent_refresh_token_says_reauthorize(tap, wave_sandbox_factory, tmp_path, token_key):
    sandbox = wave_sandbox_factory(**SMALL_BOOKS)
    assert check(tap, oauth_config(sandbox, tmp_path / "first", token_key))[0] == 0
    code, out = check(tap, oauth_config(sandbox, tmp_path / "other-store", token_key))
    assert (code, out) == (
        1,
        (
            "tap-wave: FAILED - the refresh token was rejected (invalid_grant: revoked, expired or "
            "already used): re-authorize the Wave app and set TAP_WAVE_REFRESH_TOKEN (refresh_token) "
            "to the new refresh token\n"
        ),
    )


def test_wrong_client_secret(tap, wave_sandbox, tmp_path, token_key):
    config = oauth_config(wave_sandbox, tmp_path / "tokens", token_key, client_secret="wrong")
    assert check(tap, config) == (
        1,
        (
            "tap-wave: FAILED - OAuth refresh failed: Wave refused the OAuth client "
            "(invalid_client): check client_id and client_secret.\n"
        ),
    )


def test_rejected_full_access_token(tap, wave_sandbox):
    assert check(tap, access_config(wave_sandbox, access_token="revoked")) == (
        1,
        (
            "tap-wave: FAILED - Wave rejected the access_token (UNAUTHENTICATED). It may have been "
            "revoked: create a new full-access token in Wave (Manage Applications) and update "
            "access_token.\n"
        ),
    )


def test_unknown_business_id_names_the_visible_ones(tap, wave_sandbox):
    visible = wave_sandbox.business_ids()
    code, out = check(
        tap, access_config(wave_sandbox, business_ids=[visible[0], "QnVzaW5lc3M6eA=="])
    )
    assert code == 1
    assert out.startswith(
        "tap-wave: FAILED - business id QnVzaW5lc3M6eA== not visible to this token (it sees 3: "
    )
    assert all(business_id in out for business_id in visible)
    assert out.endswith("): fix business_ids or authorize the app for that business\n")


def test_unreachable_api(tap, wave_sandbox):
    url = closed_port_url("/graphql/public")
    assert check(tap, access_config(wave_sandbox, api_url=url)) == (
        1,
        (
            f"tap-wave: FAILED - cannot reach {url}: connection refused; check the api_url setting, "
            "the network and any proxy (HTTPS_PROXY)\n"
        ),
    )


def test_unreachable_token_endpoint(tap, wave_sandbox, tmp_path, token_key):
    url = closed_port_url("/oauth2/token/")
    config = oauth_config(wave_sandbox, tmp_path / "tokens", token_key, token_url=url)
    assert check(tap, config) == (
        1,
        (
            f"tap-wave: FAILED - cannot reach {url}: connection refused; check the token_url "
            "setting, the network and any proxy (HTTPS_PROXY)\n"
        ),
    )


def test_invalid_settings_fail_in_one_line(tap, wave_sandbox):
    assert check(tap, access_config(wave_sandbox, page_size=900)) == (
        1,
        (
            "tap-wave: FAILED - settings: 900 is greater than the maximum of 200 in "
            "config['page_size']\n"
        ),
    )
    assert check(tap, {"client_id": "x", "api_url": wave_sandbox.graphql_url}) == (
        1,
        (
            "tap-wave: FAILED - OAuth needs client_id, client_secret and refresh_token; missing: "
            "client_secret, refresh_token\n"
        ),
    )


def test_every_stream_read_from_wave_names_its_scope():
    read_from_wave = {s.name for s in STREAM_TYPES if getattr(s, "query_name", None)}
    assert set(STREAM_SCOPES) == read_from_wave


def test_schema_test_mode_is_still_the_sdks(tap, wave_sandbox):
    done = subprocess.run(
        tap.command(access_config(wave_sandbox), extra=("--test=schema",)),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    streams = {json.loads(line)["stream"] for line in done.stdout.splitlines()}
    assert streams == {s.name for s in STREAM_TYPES}


def test_token_lacking_a_scope_names_it(tap, wave_sandbox_factory):
    every_scope = ["business:read", *STREAM_SCOPES.values()]
    held = ",".join(scope for scope in every_scope if scope != "invoice:read")
    sandbox = wave_sandbox_factory(**SMALL_BOOKS, scoped_token=[f"no-invoices={held}"])
    assert check(tap, access_config(sandbox, access_token="no-invoices")) == (
        1,
        (
            "tap-wave: FAILED - missing scope: invoice:read - authorize the Wave app again with "
            "these scopes and set the new refresh token\n"
        ),
    )


def test_token_lacking_business_read_names_it(tap, wave_sandbox_factory):
    sandbox = wave_sandbox_factory(
        **SMALL_BOOKS, scoped_token=[f"no-business={','.join(STREAM_SCOPES.values())}"]
    )
    assert check(tap, access_config(sandbox, access_token="no-business")) == (
        1,
        (
            "tap-wave: FAILED - missing scope: business:read - Wave refused to read the business "
            "list (business list: Wave answered with GraphQL errors: FORBIDDEN: The access token "
            "lacks the 'business:read' scope needed to read Query.businesses; authorize the "
            "application with 'business:read'. (at businesses))\n"
        ),
    )
