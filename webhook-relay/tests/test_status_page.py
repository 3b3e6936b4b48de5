"""GET /status in a real headless browser (Debian's chromium through chromedriver): per business
the last event, the last load and its lag, pending and quarantined counts and the last error; the
quarantined events; the recent runs with status, duration and a working link to their log. No
secret and no event body anywhere, run output shown as text (never markup), and nothing to run.

`make test` installs chromium and chromium-driver (Makefile target `browser`)."""

from __future__ import annotations

import json
import shutil
import uuid

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
RUN_SECRET = "sk-live-9f8e7d6c5b4a"  # a setting the runs see: must never be shown
BODY_MARKER = f"BODY-{uuid.uuid4().hex}"  # inside event bodies: must never be shown


@pytest.fixture
def browser(tmp_path):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: run `make browser` (apt-get install chromium"
            " chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def relay_with_history(relay_factory, new_event, eventually):
    """A relay whose store holds a loaded business, a quarantined event and a pending one."""
    relay = relay_factory(
        "--debounce",
        "0.2",
        "--max-wait",
        "1",
        "--retry-base",
        "0.2",
        "--quarantine-after",
        "1",
        env={"TAP_WAVE_CLIENT_SECRET": RUN_SECRET},
    )
    body = {"object": {"description": BODY_MARKER}}
    poison = f"evt_poison_{uuid.uuid4().hex}"
    relay.recorder.control(
        poison_ids=(poison,),
        output=f"<script>alert(1)</script> RecordValidationError in {{ids}} token={RUN_SECRET}",
    )
    relay.post(new_event(business_id="biz-poisoned", event_id=poison, data=body))
    for n in range(3):
        relay.post(new_event(business_id="biz-healthy", entity_id=f"inv-{n}", data=body))
    eventually(
        lambda: {e["state"] for e in relay.events()} == {"done", "quarantined"},
        timeout=30,
        what="one event quarantined, the others loaded",
    )
    relay.recorder.control(sleep=60)  # the next run stays running: an event stays pending
    relay.post(new_event(business_id="biz-waiting", data=body))
    eventually(lambda: any(r["status"] == "running" for r in relay.runs()), what="a run going")
    relay.post(new_event(business_id="biz-waiting", data=body))
    return relay, poison


def cells(row) -> list[str]:
    return [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]


def test_status_page_in_a_browser(browser, relay_with_history, webhook_secrets):
    relay, poison = relay_with_history
    browser.get(f"{relay.url}/status")
    assert browser.title == "webhook-relay status: degraded"
    assert browser.find_element(By.ID, "overall").text == "degraded"
    assert browser.find_element(By.ID, "counts").text.endswith("1 quarantined")

    rows = {
        r.get_attribute("data-business"): r
        for r in browser.find_elements(By.CSS_SELECTOR, "#businesses tbody tr")
    }
    assert set(rows) == {"biz-poisoned", "biz-healthy", "biz-waiting"}
    poisoned = cells(rows["biz-poisoned"])
    assert poisoned[5] == "1"  # quarantined
    assert "RecordValidationError" in poisoned[6] and "<script>" in poisoned[6]
    healthy = cells(rows["biz-healthy"])
    assert "ago" in healthy[1] and "ago" in healthy[2]  # last received, last loaded
    assert healthy[3].endswith(" s")  # lag
    assert healthy[4] == "0" and healthy[5] == "0"
    waiting = cells(rows["biz-waiting"])
    assert waiting[4].startswith("2") and "oldest" in waiting[4]
    assert waiting[2] == "never"

    (quarantined,) = browser.find_elements(By.CSS_SELECTOR, "#quarantined tbody tr")
    assert quarantined.get_attribute("data-event") == poison
    assert "failed alone 1 times" in cells(quarantined)[6]

    runs = browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
    statuses = [cells(r)[2] for r in runs]
    assert "running" in statuses and "failed" in statuses and "succeeded" in statuses
    finished = [r for r in runs if cells(r)[2] in ("failed", "succeeded")]
    assert all(cells(r)[3].endswith(" s") for r in finished)  # durations

    page_text = browser.find_element(By.TAG_NAME, "body").text
    source = browser.page_source
    for secret in (RUN_SECRET, webhook_secrets["current"], BODY_MARKER):
        assert secret not in page_text and secret not in source
    assert "[redacted]" in page_text
    assert browser.find_elements(By.TAG_NAME, "script") == []  # run output stayed text
    assert (
        browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    )  # nothing else loaded

    failed_run = next(r for r in runs if cells(r)[2] == "failed")
    run_id = failed_run.get_attribute("data-run")
    failed_run.find_element(By.CSS_SELECTOR, "a.log").click()
    assert browser.current_url.endswith(f"/status/runs/{run_id}/log")
    log_text = browser.find_element(By.TAG_NAME, "body").text
    assert f"RecordValidationError in {poison}" in log_text
    assert RUN_SECRET not in log_text and "token=[redacted]" in log_text
    browser.back()
    assert browser.find_element(By.ID, "overall").text == "degraded"


def test_status_endpoints_are_read_only_and_log_links_stay_inside(relay_with_history):
    relay, _ = relay_with_history
    assert httpx.post(f"{relay.url}/status").status_code == 405
    for run_id in (
        "../store/events.db",
        "..%2F..%2Fstore%2Fevents.db",
        "not-a-run",
        str(uuid.uuid4()),
    ):
        answer = httpx.get(f"{relay.url}/status/runs/{run_id}/log")
        assert answer.status_code == 404
    page = httpx.get(f"{relay.url}/status")
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "<script" not in page.text.replace("&lt;script", "")
    assert json.dumps(BODY_MARKER)[1:-1] not in page.text
