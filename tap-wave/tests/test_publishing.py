"""What readers see matches the tap: the README carries `tap-wave --about --format=markdown` as
the tap prints it. (The Meltano Hub definition is checked by tests/test_hub_definitions.py.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tap_wave.testing import TAP

PACKAGE = Path(__file__).resolve().parents[1]


def about(fmt: str) -> str:
    return subprocess.run(
        [TAP, "--about", f"--format={fmt}"], capture_output=True, text=True, check=True
    ).stdout


def test_readme_carries_the_current_about_output():
    readme = (PACKAGE / "README.md").read_text()
    pasted = readme.split("<!-- about:start -->\n")[1].split("\n<!-- about:end -->")[0]
    assert pasted == about("markdown").strip()
