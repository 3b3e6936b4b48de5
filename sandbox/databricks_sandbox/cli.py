"""``databricks-sandbox serve``: run the simulated Databricks SQL warehouse."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import uvicorn

from .analyzer import MODES, AnalyzerUnavailable
from .app import SandboxConfig, create_app
from .latency import KINDS, parse_spec
from .privileges import parse_rule
from .tls import certificate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="databricks-sandbox",
        description="A local stand-in for a Databricks SQL warehouse, for the real "
        "databricks-sql-connector (Thrift over plain HTTP).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the warehouse over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="directory for the DuckDB file and volume files (default: a new temporary directory)",
    )
    serve.add_argument(
        "--warehouse-id",
        default="sandbox",
        help="served at /sql/1.0/warehouses/<id> (default: sandbox)",
    )
    serve.add_argument("--catalog", default="main", help="catalog created at start (default: main)")
    serve.add_argument(
        "--schema",
        default="default",
        help="schema created at start, the session default (default: default)",
    )
    serve.add_argument("--pat", default="sandbox-pat", help="personal access token accepted")
    serve.add_argument(
        "--pat-user",
        default=None,
        help="who the personal access token belongs to, as current_user() names "
        "it (default: the --client-id service principal)",
    )
    serve.add_argument("--client-id", default="sandbox-sp", help="service principal id (OAuth M2M)")
    serve.add_argument(
        "--client-secret", default="sandbox-sp-secret", help="service principal secret (OAuth M2M)"
    )
    serve.add_argument(
        "--token-ttl",
        type=int,
        default=3600,
        help="expires_in of issued OAuth tokens, seconds (default: 3600)",
    )
    serve.add_argument(
        "--fault-http-503",
        type=int,
        default=0,
        metavar="N",
        help="answer the next N warehouse requests with HTTP 503",
    )
    serve.add_argument(
        "--fault-http-429",
        type=int,
        default=0,
        metavar="N",
        help="answer the next N warehouse requests with HTTP 429",
    )
    serve.add_argument(
        "--fault-concurrent-append",
        type=int,
        default=0,
        metavar="N",
        help="fail the next N writes with DELTA_CONCURRENT_APPEND",
    )
    serve.add_argument(
        "--fault-metadata-changed",
        type=int,
        default=0,
        metavar="N",
        help="fail the next N writes with DELTA_METADATA_CHANGED",
    )
    serve.add_argument(
        "--deny",
        action="append",
        default=[],
        metavar="PRINCIPAL=CATALOG",
        type=_deny_rule,
        help="make PRINCIPAL (the --pat-user or a --client-id) read-only in "
        "CATALOG: creating or modifying objects there fails with "
        "INSUFFICIENT_PERMISSIONS (repeatable)",
    )
    serve.add_argument(
        "--analyzer",
        choices=MODES,
        default="spark",
        help="spark (default): every statement is parsed and analysed by Apache "
        "Spark 4 before it runs, and refused as Databricks refuses it; none: "
        "skip that (quicker start, DuckDB alone decides)",
    )
    serve.add_argument(
        "--tls",
        action="store_true",
        help="serve https with a self-signed certificate for 127.0.0.1/localhost "
        "(<data-dir>/tls-cert.pem; clients trust it with REQUESTS_CA_BUNDLE "
        "and SSL_CERT_FILE), for clients that only speak https",
    )
    serve.add_argument(
        "--latency",
        type=_latency_spec,
        default=None,
        metavar="SPEC",
        help="model a real warehouse's latency: each statement waits, outside the "
        "statement lock, the seconds of its kind: 'serverless' (a warm "
        "serverless SQL warehouse, see the README) and/or kind=seconds, "
        "comma-separated (kinds: " + ", ".join(KINDS) + "; unnamed: 0), "
        "e.g. 'serverless,dml=3' (default: off)",
    )
    serve.add_argument(
        "--latency-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="the same settings from a file (commas or lines, # comments); "
        "--latency items apply after it",
    )
    serve.add_argument("--log-level", default="warning")
    return parser


def _deny_rule(text: str) -> str:
    try:
        parse_rule(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _latency_spec(text: str) -> str:
    try:
        parse_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _latency(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, float]:
    """Seconds per kind: the file's items, then --latency's (later items override earlier)."""
    text = args.latency or ""
    if args.latency_file is not None:
        try:
            text = args.latency_file.read_text() + "\n" + text
        except OSError as exc:
            parser.error(f"--latency-file {args.latency_file}: {exc.strerror or exc}")
    try:
        return parse_spec(text)
    except ValueError as exc:
        parser.error(f"--latency-file {args.latency_file}: {exc}")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="databricks-sandbox-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        data_dir=data_dir,
        warehouse_id=args.warehouse_id,
        catalog=args.catalog.lower(),
        schema=args.schema.lower(),
        pat=args.pat,
        client_id=args.client_id,
        client_secret=args.client_secret,
        token_ttl=args.token_ttl,
        pat_user=args.pat_user,
        deny=args.deny,
        analyzer=args.analyzer,
        tls=args.tls,
        latency=_latency(parser, args),
        faults={
            "http_503": args.fault_http_503,
            "http_429": args.fault_http_429,
            "concurrent_append": args.fault_concurrent_append,
            "metadata_changed": args.fault_metadata_changed,
        },
    )
    logging.basicConfig(level=args.log_level.upper())
    try:
        app = create_app(config)
    except AnalyzerUnavailable as exc:
        print(f"databricks-sandbox: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    print(
        f"databricks-sandbox: serving {config.base_url}{config.http_path} (data dir {data_dir})",
        flush=True,
    )
    tls = {}
    if args.tls:
        cert, key = certificate(data_dir)
        tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level.lower(),
        access_log=False,
        **tls,
    )


if __name__ == "__main__":
    main()
