"""Command line: ``webhook-relay serve`` (the relay), ``locked-run`` (the lock), ``events``
(quarantined events: list, show, re-queue; cli_events.py)."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

from webhook_relay import defaults
from webhook_relay.cli_events import add_events_parser, run_events_command
from webhook_relay.config import ConfigError, RelaySettings, secrets_from_environment
from webhook_relay.runlock import RunLock, lock_path
from webhook_relay.serving import Limits, guarded_h11_protocol, raise_descriptor_limit
from webhook_relay.targeting import DEFAULT_RUN_COMMAND, RunCommand
from webhook_relay.worker import WorkerSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="webhook-relay",
        description="Verify signed Wave webhooks, store them durably, run targeted meltano runs.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the relay (secrets from WAVE_WEBHOOK_SECRET[_PREVIOUS])",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve.add_argument("--host", default=defaults.HOST)
    serve.add_argument("--port", type=int, default=defaults.PORT)
    serve.add_argument("--db", required=True, type=Path, help="event store (SQLite file)")
    serve.add_argument(
        "--meltano-project",
        required=True,
        type=Path,
        help="Meltano project directory runs start in",
    )
    serve.add_argument(
        "--tolerance",
        type=int,
        default=defaults.TOLERANCE_SECONDS,
        help="accepted signature timestamp skew, seconds",
    )
    serve.add_argument(
        "--debounce",
        type=float,
        default=defaults.DEBOUNCE_SECONDS,
        help="start a run once no event arrived for this many seconds",
    )
    serve.add_argument(
        "--max-wait",
        type=float,
        default=defaults.MAX_WAIT_SECONDS,
        help="...but at the latest this long after the oldest pending event",
    )
    serve.add_argument("--meltano-bin", default=defaults.MELTANO_BIN)
    serve.add_argument("--environment", default=defaults.ENVIRONMENT, help="Meltano environment")
    serve.add_argument(
        "--state-id-suffix",
        default=defaults.STATE_ID_SUFFIX,
        help="relay runs use state id <env>:tap-wave-to-target-databricks-upsert:<suffix>",
    )
    serve.add_argument(
        "--run-command",
        default=DEFAULT_RUN_COMMAND,
        help="command template; placeholders {meltano_bin} {environment}"
        " {state_id_suffix} {run_id} {project}",
    )
    serve.add_argument(
        "--retry-base",
        type=float,
        default=defaults.RETRY_BASE_SECONDS,
        help="first retry delay after a failed run, seconds (doubles each time)",
    )
    serve.add_argument(
        "--retry-max", type=float, default=defaults.RETRY_MAX_SECONDS, help="longest retry delay"
    )
    serve.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="do not keep the runs' compiled bytecode in <db dir>/pycache (slower run start-up)",
    )
    serve.add_argument(
        "--no-warm-start",
        action="store_true",
        help="do not start the next run's meltano ahead of time (each run then imports Meltano"
        " first, about a second)",
    )
    serve.add_argument(
        "--no-catalog-cache",
        action="store_true",
        help="let every run discover the tap's catalog (a tap process more per run) instead of"
        " discovering it once into <db dir>/tap-wave.catalog.json",
    )
    serve.add_argument(
        "--run-timeout",
        type=float,
        default=defaults.RUN_TIMEOUT_SECONDS,
        help="terminate a run after this many seconds",
    )
    serve.add_argument(
        "--quarantine-after",
        type=int,
        default=defaults.QUARANTINE_AFTER,
        help="quarantine an event after its run fails this many times with it alone",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=defaults.HEADER_TIMEOUT_SECONDS,
        help="close a connection that has not sent its request headers within this many seconds",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=defaults.BODY_TIMEOUT_SECONDS,
        help="answer 408 to a webhook whose body has not arrived within this many seconds",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=defaults.MAX_CONNECTIONS,
        help="open connections at most (the longest-idle one is closed for a new one)",
    )
    serve.add_argument(
        "--log-level", default=defaults.LOG_LEVEL, choices=["debug", "info", "warning", "error"]
    )

    locked = commands.add_parser(
        "locked-run",
        help="run a command holding <meltano-project>/.meltano/run.lock (for the daily job)",
    )
    locked.add_argument("--meltano-project", required=True, type=Path)
    locked.add_argument("argv", nargs=argparse.REMAINDER, help="-- command and arguments")
    add_events_parser(commands)
    return parser


def _settings(args: argparse.Namespace) -> RelaySettings:
    project = args.meltano_project.resolve()
    if not project.is_dir():
        raise ConfigError(f"--meltano-project {args.meltano_project}: no such directory")
    db_path = args.db.resolve()
    try:
        worker = WorkerSettings(
            debounce_seconds=args.debounce,
            max_wait_seconds=args.max_wait,
            retry_base_seconds=args.retry_base,
            retry_max_seconds=args.retry_max,
            run_timeout_seconds=args.run_timeout,
            quarantine_after=args.quarantine_after,
        )
        command = RunCommand(
            template=args.run_command,
            meltano_bin=args.meltano_bin,
            environment=args.environment,
            state_id_suffix=args.state_id_suffix,
            project=str(project),
            events_db=str(db_path),
            bytecode_cache="" if args.no_bytecode_cache else str(db_path.parent / "pycache"),
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return RelaySettings(
        db_path=db_path,
        meltano_project=project,
        secrets=secrets_from_environment(os.environ),
        tolerance_seconds=args.tolerance,
        body_timeout_seconds=args.body_timeout,
        header_timeout_seconds=args.header_timeout,
        max_connections=args.max_connections,
        worker=worker,
        run_command=command,
        warm_start=not args.no_warm_start,
        catalog_cache=not args.no_catalog_cache,
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from webhook_relay.app import create_app

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    settings = _settings(args)
    limits = Limits.within(settings.max_connections, raise_descriptor_limit())
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_config=None,
        workers=1,
        http=guarded_h11_protocol(settings.header_timeout_seconds, limits.max_connections),
        backlog=limits.backlog,
        timeout_keep_alive=defaults.KEEP_ALIVE_SECONDS,
    )
    return 0


def _locked_run(args: argparse.Namespace) -> int:
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise ConfigError("locked-run: give the command after --, e.g. -- meltano run ...")
    lock = RunLock(lock_path(args.meltano_project))
    held = lock.acquire_blocking()
    try:
        return subprocess.call(argv, pass_fds=(held,))
    finally:
        lock.release()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "events":
            return run_events_command(args)
        return _locked_run(args)
    except ConfigError as exc:
        print(f"webhook-relay: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
