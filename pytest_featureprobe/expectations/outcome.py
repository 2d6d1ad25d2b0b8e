"""What every check reads and returns: ``CheckContext`` in, ``Outcome`` out, and the one way a
failure prints a table. Imports nothing of ours at run time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..contexts import Context
    from ..models.probe_model import ProbeModel
    from ..sweep import Sweep

MAX_LISTED = 10  # rows of a failure table; the rest are counted


@dataclass
class CheckContext:
    """What a check may read: the model, its sweep in the item's context, that context (its
    rows; None for the zero vector) and the file's stored baseline (drift checks)."""

    model: ProbeModel
    sweep: Sweep
    context: Context | None = None  # None: the zero vector
    baseline: Callable[[], Any] | None = None  # the file's stored Baseline (drift checks)

    @property
    def in_rows(self) -> bool:
        """Whether the checks read real rows (not the zero vector)."""
        return self.context is not None and not self.context.is_zero


@dataclass
class Outcome:
    """The result of one check: pass/fail, the explanation lines, facts for JUnit properties and
    ``summary``, the failure in one line with what was observed (pytest's short summary and the
    JUnit failure message; the lines are the full text)."""

    passed: bool
    lines: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    summary: str = ""

    @property
    def headline(self) -> str:
        """The one-line summary: ``summary``, else the first line of the explanation."""
        text = self.summary or next((line for line in self.lines if line.strip()), "")
        return " ".join(text.split())


def format_probs(probs: dict[str, float]) -> str:
    return "  ".join(f"P({c})={p:.3f}" for c, p in probs.items())


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [[str(h) for h in headers]] + [
        [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]


# --- probe selections --------------------------------------------------------------------------
