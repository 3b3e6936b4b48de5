"""A kill -9 of the relay at any point after the 2xx loses nothing: the event is run after restart."""

from __future__ import annotations

import json
import time


def runs_covering(recorder, event_id: str) -> list[dict]:
    return [run for run in recorder.starts() if event_id in {e["id"] for e in run["events"]}]


def assert_loaded_after_restart(relay_factory, recorder, event_id, eventually):
    restarted = relay_factory("--debounce", "0.2", "--max-wait", "1")
    eventually(
        lambda: [e["state"] for e in restarted.events() if e["id"] == event_id] == ["done"],
        what=f"event {event_id} done after restart",
    )
    last_run = runs_covering(recorder, event_id)[-1]
    assert json.loads(last_run["env"]["TAP_WAVE_BUSINESS_IDS"]) == ["biz-durable"]
    ended = {e["pid"]: e["exit_code"] for e in recorder.ends()}
    assert ended[last_run["pid"]] == 0
    return restarted


def test_kill_right_after_the_2xx_loses_nothing(relay_factory, new_event, eventually):
    relay = relay_factory("--debounce", "5", "--max-wait", "10")
    body = new_event(business_id="biz-durable")
    event_id = json.loads(body)["id"]
    assert relay.post(body).status_code == 202
    relay.kill9()
    assert [(e["id"], e["state"]) for e in relay.events()] == [(event_id, "pending")]
    assert relay.recorder.starts() == []
    assert_loaded_after_restart(relay_factory, relay.recorder, event_id, eventually)
    assert len(runs_covering(relay.recorder, event_id)) == 1


def test_kill_during_the_debounce_window_loses_nothing(relay_factory, new_event, eventually):
    relay = relay_factory("--debounce", "3", "--max-wait", "10")
    body = new_event(business_id="biz-durable")
    event_id = json.loads(body)["id"]
    assert relay.post(body).status_code == 202
    time.sleep(1.5)
    relay.kill9()
    assert relay.recorder.starts() == []
    assert [e["state"] for e in relay.events()] == ["pending"]
    assert_loaded_after_restart(relay_factory, relay.recorder, event_id, eventually)


def test_kill_during_a_run_reruns_it_after_restart_never_concurrently(
    relay_factory, new_event, eventually
):
    relay = relay_factory("--debounce", "0.1", "--max-wait", "1")
    recorder = relay.recorder
    recorder.control(sleep=3)
    body = new_event(business_id="biz-durable")
    event_id = json.loads(body)["id"]
    assert relay.post(body).status_code == 202
    eventually(lambda: recorder.starts(), what="the first run to start")
    relay.kill9()
    assert [e["state"] for e in relay.events()] == ["pending"]
    recorder.control(sleep=0)
    restarted = assert_loaded_after_restart(relay_factory, recorder, event_id, eventually)

    first, second = runs_covering(recorder, event_id)
    assert first["lock_held"] and second["lock_held"]
    first_end = eventually(
        lambda: [e for e in recorder.ends() if e["pid"] == first["pid"]], what="orphan run end"
    )[0]
    # The orphaned run kept the lock until it ended; the re-run started only after that.
    assert second["time"] >= first_end["time"]
    statuses = [run["status"] for run in restarted.runs()]
    assert statuses == ["interrupted", "succeeded"]
