"""``wave-sandbox serve``: start a local Wave API sandbox with seeded books."""

from __future__ import annotations

import argparse
import logging
import sys

from .auth import OAuthSettings
from .books import BookSizes
from .clock import parse_datetime
from .faults import RateLimit
from .scopes import parse_scoped_token


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wave-sandbox", description="A local stand-in for Wave's public GraphQL API."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve /graphql/public and /oauth2/token/")
    defaults = BookSizes()
    oauth = OAuthSettings()
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--businesses", type=int, default=1, help="number of businesses")
    serve.add_argument("--seed", type=int, default=1, help="seed of the generated books")
    for name in ("customers", "vendors", "products", "invoices", "estimates"):
        serve.add_argument(
            f"--{name}",
            type=int,
            default=getattr(defaults, name),
            help=f"{name} per business (default {getattr(defaults, name)})",
        )
    serve.add_argument(
        "--now",
        type=_datetime,
        default=None,
        help="start the sandbox clock at this ISO-8601 instant (default: real now)",
    )
    serve.add_argument("--page-size-max", type=int, default=200)
    serve.add_argument(
        "--access-token", default=oauth.access_token, help="full-access token that always works"
    )
    serve.add_argument(
        "--scoped-token",
        type=_scoped_token,
        action="append",
        default=None,
        metavar="TOKEN=SCOPE[,SCOPE...]",
        help="a never-expiring token holding only these scopes (e.g. "
        "t1=business:read,invoice:read); repeat for several",
    )
    serve.add_argument("--client-id", default=oauth.client_id)
    serve.add_argument("--client-secret", default=oauth.client_secret)
    serve.add_argument(
        "--refresh-token",
        default=oauth.refresh_token,
        help="the first valid refresh token (rotates on every use)",
    )
    serve.add_argument(
        "--token-ttl",
        type=int,
        default=oauth.token_ttl,
        help="seconds an OAuth access token lives (sandbox clock)",
    )
    serve.add_argument("--rate-limit", type=_rate_limit, default=None, metavar="N/SECONDS")
    serve.add_argument("--fault-rate", type=_fraction, default=0.0, metavar="P")
    serve.add_argument(
        "--graphql-error-rate",
        type=_fraction,
        default=0.0,
        metavar="P",
        help="fraction answered 200 with an INTERNAL_SERVER_ERROR GraphQL error",
    )
    serve.add_argument(
        "--stall-seconds",
        type=float,
        default=5.0,
        help="how long a 'stall' fault holds the connection before a 504",
    )
    serve.add_argument("--webhook-url", default=None)
    serve.add_argument(
        "--webhook-secret",
        action="append",
        default=None,
        help="signing secret; repeat to sign with several (rotation)",
    )
    serve.add_argument("--log-level", default="warning")
    return parser


def _datetime(text: str):
    try:
        return parse_datetime(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date-time: {text!r}") from None


def _scoped_token(text: str) -> tuple[str, frozenset[str]]:
    try:
        return parse_scoped_token(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _rate_limit(text: str) -> RateLimit | None:
    try:
        return RateLimit.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1; got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.webhook_url and not args.webhook_secret:
        print("wave-sandbox: --webhook-url needs --webhook-secret", file=sys.stderr)
        return 2
    scoped = [token for token, _scopes in args.scoped_token or []]
    if args.access_token in scoped or len(set(scoped)) < len(scoped):
        print(
            "wave-sandbox: each --scoped-token needs its own token, different from --access-token",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    import uvicorn

    from .assembly import build_sandbox

    sandbox = build_sandbox(args)
    print(
        f"wave-sandbox: {len(sandbox.books.businesses)} businesses, seed {args.seed}, "
        f"serving http://{args.host}:{args.port}/graphql/public",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        sandbox.app,
        host=args.host,
        port=args.port,
        log_level=args.log_level.lower(),
        access_log=False,
    )
    sandbox.events.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
