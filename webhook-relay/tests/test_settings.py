"""The relay's settings: one set of defaults (defaults.py) that the CLI, the settings objects and
the test helper all use and the README states; and test support kept out of the runtime."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

from webhook_relay.cli import _parser
from webhook_relay.config import RelaySettings
from webhook_relay.signature import SignatureVerifier
from webhook_relay.targeting import RunCommand
from webhook_relay.testing import start_webhook_relay
from webhook_relay.worker import WorkerSettings

README = Path(__file__).parents[1] / "README.md"


def serve_defaults() -> dict[str, object]:
    args = _parser().parse_args(["serve", "--db", "events.db", "--meltano-project", "."])
    return vars(args)


def test_serve_flags_default_to_what_the_settings_objects_default_to():
    flags = serve_defaults()
    worker = WorkerSettings()
    command = RunCommand()
    relay = RelaySettings(db_path=Path("events.db"), meltano_project=Path("."), secrets=("s",))
    expected = {
        "debounce": worker.debounce_seconds,
        "max_wait": worker.max_wait_seconds,
        "retry_base": worker.retry_base_seconds,
        "retry_max": worker.retry_max_seconds,
        "run_timeout": worker.run_timeout_seconds,
        "quarantine_after": worker.quarantine_after,
        "meltano_bin": command.meltano_bin,
        "environment": command.environment,
        "state_id_suffix": command.state_id_suffix,
        "run_command": command.template,
        "tolerance": relay.tolerance_seconds,
        "body_timeout": relay.body_timeout_seconds,
        "header_timeout": relay.header_timeout_seconds,
        "max_connections": relay.max_connections,
    }
    assert {name: flags[name] for name in expected} == expected


def test_the_verifier_and_the_test_helper_use_the_same_defaults():
    flags = serve_defaults()
    assert SignatureVerifier(("s",)).tolerance_seconds == flags["tolerance"]
    parameters = inspect.signature(start_webhook_relay).parameters
    assert parameters["debounce"].default == flags["debounce"]
    assert parameters["max_wait"].default == flags["max_wait"]


def test_the_readme_states_the_defaults_of_serve():
    """Each row of the README's flag table (``| `--a S`, `--b S` | 2, 300 | ... |``) names the
    default the CLI has, for every flag with a value."""
    flags = serve_defaults()
    stated: dict[str, str] = {}
    for names, values in re.findall(r"^\| (`--[^|]+) \| ([^|]+) \|", README.read_text(), re.M):
        options = re.findall(r"`--([a-z-]+)", names)
        values = [v.strip(" `") for v in values.split(",")]
        if len(values) == len(options):
            stated.update(zip(options, values, strict=True))
    documented = {
        name: value
        for name, value in stated.items()
        if value not in {"required", "see below", "off"}
    }
    assert set(documented) == {
        "host", "port", "tolerance", "debounce", "max-wait", "meltano-bin", "environment",
        "state-id-suffix", "retry-base", "retry-max", "quarantine-after", "run-timeout",
        "header-timeout", "body-timeout", "max-connections", "log-level",
    }  # fmt: skip
    for name, value in documented.items():
        default = flags[name.replace("-", "_")]
        if isinstance(default, int | float):
            assert float(value) == default, f"README: --{name} defaults to {value}, CLI: {default}"
        else:
            assert value == default, f"README: --{name} defaults to {value}, CLI: {default}"
    assert {name for name, value in stated.items() if value == "off"} == {
        name for name in ("no-bytecode-cache", "no-warm-start", "no-catalog-cache")
        if flags[name.replace("-", "_")] is False
    }  # fmt: skip


def test_the_relays_runtime_imports_no_test_support():
    """``webhook_relay.testing`` builds on the sandboxes' ``sandbox_support``; nothing the relay
    runs may need either (a fresh interpreter: pytest's plugins import the sandboxes here)."""
    program = (
        "import json, sys\n"
        "import webhook_relay.cli, webhook_relay.app, webhook_relay.worker, webhook_relay.views\n"
        "import webhook_relay.status_page, webhook_relay.cli_events\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert "webhook_relay.app" in loaded
    assert not {m for m in loaded if m.startswith(("sandbox_support", "webhook_relay.testing"))}
