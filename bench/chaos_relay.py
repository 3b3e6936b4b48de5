"""Chaos, part 2 (see bench/chaos.py): `kill -9` the webhook relay while webhooks keep arriving.

The relay runs the project's real targeted runs (`meltano run` of tap-wave in events mode and the
target). The books keep changing from a thread, so the sandbox keeps sending signed webhooks and
retrying those that fail (0.5 s doubling to 30 s, 8 attempts). The relay is killed at random
moments (during a run, while events wait for their debounce, in the middle of a request) and
restarted on the same store and port after a random pause. Every other kill takes the run going
with it (the machine died: meltano, tap and target killed mid-write); otherwise that run
finishes on its own, holding the project's run lock. Either way the new relay runs its events
again. At the end the changes stop, everything drains, and every webhook the sandbox emitted
must be stored once, done, and in `webhook_events` once, with the warehouse equal to the
sandbox's books. The books start without invoices and no other run loads them: every invoice,
line and payment in the warehouse came through the relay.
"""

from __future__ import annotations

import contextlib
import random
import time
from pathlib import Path

import psutil
from wave_sandbox.testing import start_wave_sandbox
from webhook_relay.testing import RelayProcess

from bench.chaos_books import BookChanges
from testkit.chaos_checks import Tally, checked, compare_events
from testkit.meltano_project import MELTANO, make_project, point_at

SECRET = "chaos-webhook-secret"
RELAY_FLAGS = [
    "--debounce",
    "0.3",
    "--max-wait",
    "2",
    "--meltano-bin",
    str(MELTANO),
    "--retry-base",
    "0.5",
    "--retry-max",
    "4",
]
RELAY_BOOKS = {
    "businesses": 3,
    "seed": 43,
    "customers": 1,
    "vendors": 0,
    "products": 2,
    "invoices": 0,
    "estimates": 0,
}
"""Books without invoices: every invoice in the warehouse came through the relay's runs."""


class DrainTimeout(RuntimeError):
    """The pipeline did not settle after the last kill."""


def what_it_was_doing(relay: RelayProcess) -> str:
    """How a kill lands: during a run, while events wait, or with nothing to do."""
    if any(run["status"] == "running" for run in relay.runs()):
        return "during a run"
    if relay.pending():
        return "while events waited"
    return "with nothing to do"


def runs_of(relay: RelayProcess) -> list[psutil.Process]:
    """The relay's runs going now (each a session of its own: they outlive a kill)."""
    with contextlib.suppress(psutil.Error):
        return psutil.Process(relay.process.pid).children(recursive=True)
    return []


def settled(sandbox, relay: RelayProcess) -> bool:
    """Every webhook delivered or given up on, every event stored out of `pending`, no run."""
    if sandbox.stats()["webhooks"]["pending"]:
        return False
    if relay.process.poll() is not None:
        raise DrainTimeout(f"the relay exited {relay.process.returncode}:\n{relay.log()[-3000:]}")
    return all(event["state"] != "pending" for event in relay.events()) and all(
        run["status"] != "running" for run in relay.runs()
    )


def relay_kills(
    root: Path,
    kills: int,
    rng: random.Random,
    books: dict | None = None,
    say=print,
    drain_timeout: float = 300.0,
) -> Tally:
    """`kills` kills of the relay while the books change; then drain and compare."""
    tally = Tally("relay")
    project = make_project(root / "project")
    warehouse = root / "warehouse.duckdb"
    relay = RelayProcess(
        db=root / "store" / "events.db",
        meltano_project=project,
        secret=SECRET,
        log_path=root / "store" / "webhook-relay.log",
        args=RELAY_FLAGS,
    )
    orphans: list[psutil.Process] = []
    relay.start()
    try:
        with start_wave_sandbox(
            **(books or RELAY_BOOKS), webhook_url=relay.webhook_url, webhook_secret=SECRET
        ) as sandbox:
            point_at(project, sandbox, warehouse)
            changes = BookChanges(sandbox, rng, transactions=True)
            changes.start(pause=(0.05, 0.4))
            first_with_runs = rng.random() < 0.5  # then kills with and without take turns
            try:
                for _ in range(kills):
                    moment = rng.uniform(0.2, 5.0)
                    time.sleep(moment)
                    doing, runs = what_it_was_doing(relay), runs_of(relay)
                    with_runs = first_with_runs != (tally.kills % 2 == 1)
                    relay.kill9()
                    if with_runs and runs:  # the machine died: its runs with it
                        for process in runs:
                            with contextlib.suppress(psutil.Error):
                                process.kill()
                        doing += ", its run killed too"
                    orphans += runs
                    tally.kills += 1
                    tally.how[doing] += 1
                    pause = rng.uniform(0.0, 1.0)
                    time.sleep(pause)
                    relay.start()
                    say(
                        f"  relay kill {tally.kills}/{kills} {moment:.2f} s after its start "
                        f"{doing}; back {pause:.2f} s later; {changes.made} changes so far"
                    )
            finally:
                changes.stop()
            deadline = time.monotonic() + drain_timeout
            while not settled(sandbox, relay):
                if time.monotonic() > deadline:
                    raise DrainTimeout(
                        f"not drained after {drain_timeout} s: "
                        f"{sandbox.stats()['webhooks']}, "
                        f"{relay.pending()} pending\n{relay.log()[-3000:]}"
                    )
                time.sleep(0.5)
            emitted = sandbox.webhooks()
            tally.findings += compare_events(emitted, relay.events(), warehouse)
            tally.findings += checked(sandbox, warehouse, changes)
            runs = relay.runs()
            tally.notes += [
                f"{changes.made} changes to the books, {len(emitted)} webhooks "
                f"emitted ({sum(e['attempts'] for e in emitted) - len(emitted)} "
                f"retried deliveries)",
                f"{len(runs)} relay runs "
                f"({sum(r['status'] == 'interrupted' for r in runs)} interrupted)",
            ]
    finally:
        relay.stop()
        for process in orphans:  # only a failed drain leaves one going
            with contextlib.suppress(psutil.Error):
                process.kill()
    return tally
