"""The packages as PyPI and their users get them: `make dist` builds an sdist and a wheel of
tap-wave, target-databricks-upsert and wave-webhook-relay, `twine check --strict` passes them, and
the wheels installed into a fresh virtual environment (nothing of the repository on its path) work:
`--about`, and `--test` against the Wave sandbox and the Databricks SQL warehouse simulator.
"""

from __future__ import annotations

import email
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from testkit.meltano_project import REPO

pytestmark = pytest.mark.slow

PACKAGES = {
    "tap-wave": "tap-wave",
    "target-databricks-upsert": "target-databricks-upsert",
    "wave-webhook-relay": "webhook-relay",
}  # distribution name -> folder
UV = Path(sys.executable).parent / "uv"
RELATIVE_LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|#)[^)]*\)")


def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


@pytest.fixture(scope="module")
def fresh_venv(dist, tmp_path_factory) -> Path:
    """A new virtual environment with only the three wheels (and their dependencies)."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    wheels = [str(dist.wheel(name)) for name in PACKAGES]
    subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *wheels],
        check=True,
        timeout=600,
    )
    return venv / "bin"


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        check=False,
        **kwargs,
    )


def test_make_dist_builds_an_sdist_and_a_wheel_of_each_package_that_twine_passes(dist):
    output = re.sub(r"\x1b\[[0-9;]*m", "", dist.output)
    for name in PACKAGES:
        for built in (dist.sdist(name), dist.wheel(name)):
            assert f"Checking {built}: PASSED" in output, built.name
    built = [p for p in dist.directory.iterdir() if p.name.endswith((".whl", ".tar.gz"))]
    assert len(built) == 2 * len(PACKAGES)


def test_license_readme_and_metadata_are_what_pypi_shows(dist):
    license_text = (REPO / "LICENSE").read_text()
    assert license_text.split()[:3] == ["Apache", "License", "Version"]
    for name, folder in PACKAGES.items():
        assert (REPO / folder / "LICENSE").read_text() == license_text, folder
        meta = metadata(dist.wheel(name))
        assert meta["Name"] == name
        assert meta["License-Expression"] == "Apache-2.0"
        assert meta["Requires-Python"] == ">=3.11"
        assert meta["Description-Content-Type"] == "text/markdown"
        urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
        assert {"Homepage", "Documentation", "Source", "Issues"} <= set(urls)
        versions = sorted(
            c.rsplit(" :: ", 1)[1]
            for c in meta.get_all("Classifier")
            if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
        )
        assert versions == ["3.11", "3.12", "3.13", "3.14"]
        readme = (REPO / folder / "README.md").read_text()
        description = meta.get_payload()
        assert description.splitlines()[0] == readme.splitlines()[0]
        assert len(description.splitlines()) == len(readme.splitlines())
        assert RELATIVE_LINK.findall(description) == [], f"{name}: links PyPI cannot follow"
        with zipfile.ZipFile(dist.wheel(name)) as archive:
            [packed] = [n for n in archive.namelist() if n.endswith("/licenses/LICENSE")]
            assert archive.read(packed).decode() == license_text
        with tarfile.open(dist.sdist(name)) as sdist:
            members = {
                Path(m).relative_to(Path(m).parts[0]).as_posix()
                for m in sdist.getnames()
                if len(Path(m).parts) > 1
            }
        assert {"LICENSE", "README.md", "pyproject.toml", "PKG-INFO"} <= members, name


def test_installed_wheels_come_from_the_fresh_environment(fresh_venv):
    for module in ("tap_wave", "target_databricks_upsert", "webhook_relay"):
        done = run([fresh_venv / "python", "-c", f"import {module}; print({module}.__file__)"])
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.startswith(str(fresh_venv.parent)), done.stdout


def test_installed_tap_answers_about_and_passes_its_check(fresh_venv, wave_sandbox, tmp_path):
    about = json.loads(run([fresh_venv / "tap-wave", "--about", "--format=json"]).stdout)
    assert about["name"] == "tap-wave"
    assert about["supported_python_versions"] == ["3.11", "3.12", "3.13", "3.14"]
    config = tmp_path / "tap.json"
    config.write_text(
        json.dumps(
            {
                "access_token": wave_sandbox.access_token,
                "api_url": wave_sandbox.graphql_url,
                "requests_per_minute": 6000,
            }
        )
    )
    done = run([fresh_venv / "tap-wave", "--config", config, "--test"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("tap-wave: OK - access token valid, 3 businesses visible (")


def test_installed_target_answers_about_and_passes_its_checks(
    fresh_venv, databricks_sandbox, tmp_path
):
    target = fresh_venv / "target-databricks-upsert"
    about = json.loads(run([target, "--about", "--format=json"]).stdout)
    assert about["name"] == "target-databricks-upsert"
    duckdb_file = tmp_path / "new-folder" / "warehouse.duckdb"
    checks = {
        "duckdb": {"warehouse": "duckdb", "duckdb_path": str(duckdb_file)},
        "databricks": {
            **databricks_sandbox.connection()["target_config"],
            "warehouse": "databricks",
            "schema": "dist_check",
        },
    }
    for name, settings in checks.items():
        config = tmp_path / f"{name}.json"
        config.write_text(json.dumps(settings))
        done = run([target, "--config", config, "--test"])
        assert done.returncode == 0, (name, done.stdout, done.stderr[-2000:])
        assert done.stdout.startswith("target-databricks-upsert: OK - "), done.stdout
    assert duckdb_file.exists()


def test_installed_relay_runs_a_command_under_the_run_lock(fresh_venv, tmp_path):
    done = run(
        [
            fresh_venv / "webhook-relay",
            "locked-run",
            "--meltano-project",
            tmp_path,
            "--",
            fresh_venv / "python",
            "-c",
            "print('under the lock')",
        ]
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "under the lock"
    assert (tmp_path / ".meltano" / "run.lock").exists()
    assert run([fresh_venv / "webhook-relay", "serve", "--help"]).returncode == 0
