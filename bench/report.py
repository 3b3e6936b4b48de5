"""One shape for every benchmark's figures, so `make bench` can print them in one table.

Each benchmark module measures side by side in one run and returns `Figure`s: what was measured,
the value, what it is compared with, and the ratio. Run alone, a module prints its own table;
`python -m bench` runs every module (each in its own process, `--figures-json PATH`) and prints
them all together.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    """One measured figure: `value` (in `unit`) against `reference`, and their ratio."""

    benchmark: str
    metric: str
    value: float
    unit: str
    reference: str = ""
    ratio: float | None = None
    goal: str = ""

    @property
    def verdict(self) -> str:
        """'met' / 'MISSED' when the goal is a ratio bound like '>= 0.5' or '<= 1', or '=0' (the
        value itself must be zero), else ''."""
        if self.goal == "=0":
            return "met" if self.value == 0 else "MISSED"
        if self.ratio is None or self.goal[:2] not in (">=", "<="):
            return ""
        bound = float(self.goal[2:])
        met = self.ratio >= bound if self.goal.startswith(">=") else self.ratio <= bound
        return "met" if met else "MISSED"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flag every benchmark module takes, for `python -m bench`."""
    parser.add_argument(
        "--figures-json",
        type=Path,
        help="also write the figures as JSON here (used by `python -m bench`)",
    )


def format_table(figures: list[Figure]) -> str:
    header = (
        f"{'benchmark':<26}{'metric':<34}{'value':>12} {'unit':<10}"
        f"{'compared with':<34}{'ratio':>8}  {'goal':<8}{'':<6}"
    )
    lines = [header, "-" * len(header)]
    for f in figures:
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
        lines.append(
            f"{f.benchmark[:25]:<26}{f.metric[:33]:<34}{f.value:>12,.2f} {f.unit[:9]:<10}"
            f"{f.reference[:33]:<34}{ratio:>8}  {f.goal:<8}{f.verdict:<6}"
        )
    return "\n".join(lines)


def emit(figures: list[Figure], figures_json: Path | None) -> None:
    """Print the table; write JSON too when asked."""
    print(format_table(figures), flush=True)
    if figures_json:
        figures_json.write_text(json.dumps([asdict(f) for f in figures]))


def load(figures_json: Path) -> list[Figure]:
    return [Figure(**item) for item in json.loads(figures_json.read_text())]
