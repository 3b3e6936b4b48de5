"""Fixtures shared by the publishing tests: the distributions `make dist` builds, once a session."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from testkit.meltano_project import REPO


@dataclass(frozen=True)
class Dist:
    directory: Path
    output: str
    """What `make dist` printed (twine check's verdicts among it)."""

    def wheel(self, project: str) -> Path:
        """The wheel of `project` (its distribution name, e.g. tap-wave)."""
        [found] = self.directory.glob(f"{project.replace('-', '_')}-*-py3-none-any.whl")
        return found

    def sdist(self, project: str) -> Path:
        [found] = self.directory.glob(f"{project.replace('-', '_')}-*.tar.gz")
        return found


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Dist:
    """The sdists and wheels `make dist` builds, in a directory of their own."""
    directory = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        ["make", "--no-print-directory", "dist", f"DIST={directory}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "COLUMNS": "1000"},
    )  # twine: a line per file
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return Dist(directory, done.stdout + done.stderr)
