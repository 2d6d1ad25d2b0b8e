"""``ReportEntry``: one model's section of the HTML report, as plain data.

The runner fills it from an expectation file's run (sweep, baseline, the tolerances its checks
apply); a notebook can fill it by hand. Imports nothing at run time: no matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..baseline.record import Baseline
    from ..sweep import Sweep


@dataclass
class ReportEntry:
    """One model's section of the report."""

    title: str
    sweep: Sweep | None
    baseline: Baseline | None = None
    tolerance: float | Sequence[float] | None = None  # one, or one per baseline probe
    results: list[tuple[str, str]] = field(default_factory=list)  # (test, outcome)
    notes: list[str] = field(default_factory=list)
    band: dict[str, Any] | None = None  # the file's drift.band settings (max_score, factor)
    drift_sweep: Sweep | None = None  # the sweep drift compares (its own context's), if another
    failures: dict[str, str] = field(default_factory=dict)  # test -> its failure text

    @property
    def compared(self) -> Sweep | None:
        """The sweep the baseline is compared with: drift's own, else the entry's."""
        return self.drift_sweep if self.drift_sweep is not None else self.sweep
