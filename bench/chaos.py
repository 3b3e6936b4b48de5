"""Chaos, measured: `kill -9` the pipeline at random moments, let it recover, count what was lost.

    python -m bench.chaos [--kills 20] [--seed N]        (what `make chaos` runs)

Two kinds of kill, each in a throwaway copy of the Meltano project (testkit/meltano_project.py)
against a Wave sandbox with small seeded books, writing an embedded DuckDB warehouse:

1. **meltano run**: the project's run, `meltano --environment dev run --force tap-wave
   target-databricks-upsert` (the daily job's command), is started (the first time into an empty
   warehouse, then each time after a few random changes to the books) and `kill -9`-ed at a
   random moment of it, by turns every process of the run at once (meltano, tap, target: a
   crash of the machine or the container) and the `meltano` process alone (its tap and target
   lose their parent). It is then rerun to completion and the warehouse is compared with the
   sandbox's books after every kill.
2. **relay** (bench/chaos_relay.py): the webhook relay is `kill -9`-ed at random moments and
   restarted on the same store and port, while the books keep changing and the sandbox keeps
   sending signed webhooks (retrying the ones that fail); then it drains and the warehouse, the
   store and every webhook the sandbox emitted are compared.

After each: no row duplicated (any table, by the contract's keys), nothing lost (every invoice,
line and payment as Wave has it; every customer and transaction created; every webhook emitted
stored once, done and in `webhook_events` once). The seed is printed first: `--seed` replays the
same changes and kill moments (the machine's timing still varies).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from wave_sandbox.testing import start_wave_sandbox

from bench.chaos_books import BOOKS, BookChanges
from bench.chaos_relay import relay_kills
from testkit.chaos_checks import Tally, checked
from testkit.meltano_project import MELTANO, make_project, meltano, point_at

RUN = ("--environment", "dev", "run", "--force", "tap-wave", "target-databricks-upsert")
FIRST_GUESS = 6.0
"""Seconds a whole run of the small books takes, until one has been timed here."""


class RunFailed(RuntimeError):
    """A run that was not killed exited non-zero (its log's tail is in the message)."""


def run_to_completion(project: Path) -> float:
    """The project's run, not killed; its duration. Raises RunFailed unless it exits 0."""
    started = time.monotonic()
    try:
        meltano(project, *RUN, timeout=600)
    except Exception as failed:
        raise RunFailed(str(failed)) from failed
    return time.monotonic() - started


def rerun_to_completion(project: Path, tally: Tally, orphans: list[psutil.Process]) -> float:
    """The rerun after a kill, as an operator does it: when `meltano` alone was killed, its
    orphaned target may still hold the DuckDB file for a moment (Meltano's plugins do not hold
    the project's run lock); a rerun refused for that is noted, and run again once they ended."""
    try:
        return run_to_completion(project)
    except RunFailed as failed:
        if "Could not set lock on file" not in str(failed) or not orphans:
            raise
    tally.notes.append(
        "a rerun found the warehouse file locked by the killed run's orphaned "
        "target, and was run again once it ended"
    )
    psutil.wait_procs(orphans, timeout=120)
    return run_to_completion(project)


def kill_run_at(
    project: Path, moment: float, whole: bool, log_path: Path, orphans: list[psutil.Process]
) -> str | None:
    """Start the project's run and `kill -9` it `moment` s later: all its processes (`whole`)
    or meltano alone (its children are added to `orphans`). Returns the programs that were
    running then, or None when it ended first."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(MELTANO), *RUN],
            cwd=project,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        code = process.wait(moment)
    except subprocess.TimeoutExpired:
        pass
    else:
        if code != 0:
            raise RunFailed(f"a run exited {code} on its own; log {log_path}")
        return None
    children = _quietly(psutil.Process(process.pid).children, recursive=True) or []
    alive = sorted({_program(child) for child in children} - {None})
    if whole:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.send_signal(signal.SIGKILL)
        orphans += children
    process.wait()
    return ", ".join(["meltano", *alive])


def _program(process: psutil.Process) -> str | None:
    """A process's program name (a Python console script's, not the interpreter's)."""
    command = _quietly(process.cmdline) or []
    names = [Path(part).name for part in command[:2]]
    return next((n for n in names if not n.startswith("python")), names[0] if names else None)


@contextlib.contextmanager
def _killed_at_exit(processes: list[psutil.Process]):
    """Whatever of `processes` is still going when the block ends (orphans of a killed meltano
    end on their own within seconds; this is for a harness that fails first) gets SIGKILL."""
    try:
        yield
    finally:
        for process in processes:
            with contextlib.suppress(psutil.Error):
                process.kill()


def _quietly(call, *args, **kwargs):
    with contextlib.suppress(psutil.Error):
        return call(*args, **kwargs)
    return None


def meltano_run_kills(
    root: Path,
    kills: int,
    rng: random.Random,
    books: dict = BOOKS,
    say=print,
    rerun_each: bool = True,
) -> Tally:
    """Part 1 of the module docstring: `kills` kills of the project's run, each followed by a
    rerun to completion and the checks; or (not `rerun_each`, a quicker test) each next kill
    lands in the rerun of the previous one, and only the last is rerun to completion."""
    tally = Tally("meltano run")
    project = make_project(root / "project")
    warehouse, log_path = root / "warehouse.duckdb", root / "runs.log"
    full = FIRST_GUESS  # how long a whole run takes here: the kill moments' range
    first_whole = rng.random() < 0.5  # then the two ways of killing take turns
    orphans: list[psutil.Process] = []
    with start_wave_sandbox(**books) as sandbox, _killed_at_exit(orphans):
        point_at(project, sandbox, warehouse)
        changes = BookChanges(sandbox, rng)  # the first kill lands in the first load, from empty
        while tally.kills < kills:
            if tally.kills or tally.not_killed:
                for _ in range(rng.randint(1, 4)):
                    changes.change()
            whole = first_whole != (tally.kills % 2 == 1)
            moment = rng.uniform(0.2, full * 1.1)
            started = time.monotonic()
            killed = kill_run_at(project, moment, whole, log_path, orphans)
            if killed is None:
                tally.not_killed += 1
                full = time.monotonic() - started
                continue
            tally.kills += 1
            tally.how["of the whole run" if whole else "of meltano alone"] += 1
            line = (
                f"  run kill {tally.kills}/{kills} at {moment:.2f} s "
                f"({'whole run' if whole else 'meltano alone'}; running: {killed})"
            )
            if rerun_each or tally.kills == kills:
                rerun = full = rerun_to_completion(project, tally, orphans)
                findings = checked(sandbox, warehouse, changes)
                tally.findings += findings
                line += (
                    f"; rerun {rerun:.1f} s; {len(findings.lost)} lost, "
                    f"{len(findings.duplicated)} duplicated, {len(findings.wrong)} wrong"
                )
            say(line)
        tally.notes.append(f"{changes.made} changes to the books")
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kills", type=int, default=20, help="kills of each kind (20)")
    parser.add_argument("--seed", type=int, default=None, help="replay a run's seed")
    parser.add_argument("--only", choices=("runs", "relay"), help="one kind of kill only")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)
    print(
        f"chaos seed {seed} (replay: python -m bench.chaos --seed {seed} --kills {args.kills})",
        flush=True,
    )
    tallies, started = [], time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chaos-") as directory:
        root = Path(directory)
        if args.only in (None, "runs"):
            tallies.append(
                meltano_run_kills(
                    root / "runs",
                    args.kills,
                    random.Random(f"{seed}:runs"),
                    say=lambda line: print(line, flush=True),
                )
            )
            print(tallies[-1].summary(), flush=True)
        if args.only in (None, "relay"):
            tallies.append(
                relay_kills(
                    root / "relay",
                    args.kills,
                    random.Random(f"{seed}:relay"),
                    say=lambda line: print(line, flush=True),
                )
            )
            print(tallies[-1].summary(), flush=True)
    print(f"\nchaos seed {seed}, {time.monotonic() - started:.0f} s")
    for tally in tallies:
        print(tally.summary())
        if not tally.clean:
            print(tally.details())
    return 0 if all(t.clean for t in tallies) else 1


if __name__ == "__main__":
    sys.exit(main())
