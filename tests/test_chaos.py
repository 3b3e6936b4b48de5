"""Chaos, a few kills of each kind (`make chaos` runs at least 20 of each; see bench/chaos.py).

`kill -9` of the project's `meltano run` at random moments (the first lands in the first load,
the second in the rerun after it), then a rerun to completion; and `kill -9` of the webhook
relay at random moments (alone, or with the run it had going) while the sandbox's books keep
changing and its signed webhooks keep arriving, each followed by a restart on the same store.
Afterwards the warehouse equals the sandbox's books, no row is duplicated and every webhook the
sandbox emitted is stored once and loaded once. The seed is printed and in every failure
message; `CHAOS_SEED=<seed>` replays it (so does `python -m bench.chaos --seed <seed>`).
"""

from __future__ import annotations

import os
import random

import pytest

from bench.chaos import meltano_run_kills
from bench.chaos_relay import relay_kills

pytestmark = pytest.mark.slow

KILLS = 2


@pytest.fixture(scope="module")
def seed() -> int:
    chosen = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(10**9))
    print(f"chaos seed {chosen} (replay: CHAOS_SEED={chosen})")
    return chosen


def assert_clean(tally, seed: int) -> None:
    print(tally.summary())
    assert tally.kills == KILLS
    assert (tally.findings.lost, tally.findings.duplicated, tally.findings.wrong) == ([], [], []), (
        f"chaos seed {seed}: {tally.summary()}\n{tally.details()}"
    )


def test_kill_9_of_the_project_run_then_a_rerun_loses_and_duplicates_nothing(tmp_path, seed):
    # Quicker than `make chaos`: the second kill lands in the rerun after the first one.
    tally = meltano_run_kills(tmp_path, KILLS, random.Random(f"{seed}:runs"), rerun_each=False)
    assert_clean(tally, seed)


def test_kill_9_of_the_relay_while_webhooks_arrive_loses_and_duplicates_nothing(tmp_path, seed):
    tally = relay_kills(tmp_path, KILLS, random.Random(f"{seed}:relay"))
    assert_clean(tally, seed)
    assert tally.how.total() == KILLS
