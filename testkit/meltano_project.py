"""A throwaway copy of the repo's Meltano project, for end-to-end tests and benchmarks.

`make_project(directory)` copies the repo's meltano.yml with each local plugin's `pip_url`
pointing at the repo's package (still editable) and runs `meltano install` for the tap and the
target (seconds with the uv backend). Its state, system database and run lock are its own.
`point_at(project, sandbox, warehouse)` writes the project's `.env`, which every `meltano`
started there reads - ours and the relay's - so runs read the sandbox and write that DuckDB file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wave_sandbox.testing import WaveSandbox

REPO = Path(__file__).resolve().parents[1]
MELTANO = Path(sys.executable).parent / "meltano"
PLUGINS = ("tap-wave", "target-databricks-upsert")
LOCAL_PACKAGES = (*PLUGINS, "webhook-relay")  # pip_url: -e ./<dir> in the repo's meltano.yml


class MeltanoFailed(RuntimeError):
    """A `meltano` command exited non-zero; the message ends with its output."""


def meltano(
    project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real Meltano CLI in `project`; raise MeltanoFailed unless it exits 0."""
    done = subprocess.run(
        [str(MELTANO), *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise MeltanoFailed(
            f"meltano {' '.join(args)} exited {done.returncode}:\n"
            f"{(done.stdout + done.stderr)[-4000:]}"
        )
    return done


def make_project(directory: Path) -> Path:
    """The repo's project in `directory`, with the tap and the target installed."""
    directory.mkdir(parents=True, exist_ok=True)
    text = (REPO / "meltano.yml").read_text()
    for package in LOCAL_PACKAGES:
        text = text.replace(f"pip_url: -e ./{package}", f"pip_url: -e {REPO / package}")
    (directory / "meltano.yml").write_text(text)
    meltano(directory, "install", *PLUGINS)
    return directory


def point_at(project: Path, sandbox: WaveSandbox, warehouse: Path, **settings: str) -> None:
    """Make every run in `project` read `sandbox` and write `warehouse` (plus other env)."""
    values = {
        "TAP_WAVE_API_URL": sandbox.graphql_url,
        "TAP_WAVE_TOKEN_URL": sandbox.token_url,
        "TAP_WAVE_ACCESS_TOKEN": sandbox.access_token,
        "TARGET_DATABRICKS_UPSERT_DUCKDB_PATH": str(warehouse),
        **settings,
    }
    (project / ".env").write_text("".join(f"{name}='{value}'\n" for name, value in values.items()))
