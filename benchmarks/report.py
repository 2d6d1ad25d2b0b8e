"""Rows of the benchmark table and how they are printed (plain text or Markdown)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

PASS, MISS, INFO = "PASS", "MISS", "info"


@dataclass
class Row:
    """One figure: what was measured, against what, and whether it meets its target."""

    figure: str
    measured: str
    reference: str = "-"
    ratio: str = "-"
    target: str = "-"
    result: str = INFO
    notes: list[str] = field(default_factory=list)

    def cells(self) -> list[str]:
        return [self.figure, self.measured, self.reference, self.ratio, self.target, self.result]


HEADER = ["figure", "measured", "reference", "ratio", "target", "result"]


def verdict(*met: bool) -> str:
    return PASS if all(met) else MISS


def seconds(value: float) -> str:
    if value < 0.01:
        return f"{value * 1000:.2f} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def megabytes(value: float) -> str:
    if value >= 1024**3:
        return f"{value / 1024**3:.2f} GB"
    return f"{value / 1024**2:.0f} MB"


def times(value: float) -> str:
    return f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def best(values: list[float]) -> float:
    """The least time of several runs: noise (other load, a descheduled core) only adds time."""
    return min(values)


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """'best of N (up to X)' for a note."""
    if len(values) == 1:
        return "1 run"
    return f"best of {len(values)} runs (slowest {seconds(max(values))})"


def text_table(rows: list[Row]) -> str:
    grid = [HEADER] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in grid) for i in range(len(HEADER))]
    lines = []
    for number, line in enumerate(grid):
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [line(HEADER), "|" + "|".join("---" for _ in HEADER) + "|"]
    out += [line(row.cells()) for row in rows]
    return "\n".join(out)


def notes(rows: list[Row]) -> str:
    lines = []
    for row in rows:
        for note in row.notes:
            lines.append(f"- {row.figure}: {note}")
    return "\n".join(lines)
