"""A user who clones the repository has only the repository: its documentation and configuration
point at nothing outside it, and every link between its Markdown files leads somewhere.

(The contracts the code implements are in docs/: warehouse.md and webhooks.md.)
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from testkit.meltano_project import REPO

OUTSIDE = re.compile(r"/work/|\.\./shared\b|\bshared/(?:wave|notes)\b|WEBHOOKS\.md|WAREHOUSE\.md")
LINK = re.compile(r"\]\(([^)\s]+)\)")
DOCUMENTATION = (".md", ".yml", ".yaml", ".toml", ".cfg", ".ini", ".txt")
# dbt files that still name the warehouse contract by its old file name in a comment (owned by
# the month-end work; the contract is docs/warehouse.md).
KNOWN_IN_CODE = {"transform/models/staging/_wave__sources.yml", "transform/dbt_project.yml"}


def tracked(*suffixes: str) -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    return [REPO / n for n in names if n.endswith(suffixes) or Path(n).name == "Makefile"]


def anchors(markdown: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    out = set()
    for line in markdown.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


def test_documentation_and_configuration_point_at_nothing_outside_the_repository():
    offenders = []
    for path in tracked(*DOCUMENTATION):
        relative = path.relative_to(REPO).as_posix()
        if relative in KNOWN_IN_CODE:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize("markdown", tracked(".md"), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_leads_to_a_file_of_the_repository(markdown):
    for target in LINK.findall(markdown.read_text()):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # a URL
        path, _, anchor = target.partition("#")
        destination = (markdown.parent / path).resolve() if path else markdown
        assert destination.is_relative_to(REPO), f"{target} leaves the repository"
        assert destination.exists(), f"{target}: no such file"
        if anchor and destination.suffix == ".md":
            assert anchor in anchors(destination), f"{target}: no such heading"
