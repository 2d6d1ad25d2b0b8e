"""The drift checks a file's ``drift:`` section declares, each run as one test item.

A ``DriftCheck`` reads the file's baseline from its ``CheckContext`` and hands it, with today's
sweep, to one gate: ``FlipLimit``, ``ProbabilityTolerance``, ``RankAgreement``,
``InteractionTolerance`` or ``BandLimit``. Probe names a file gives (``allow_flips``,
``per_probe``) are read as the sweep names them, in any feature order, here and only here, so the
check and the report cannot read them differently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..contexts import predict_rows
from ..errors import UPDATE_HINT, SpecError, quoted
from ..expectations.outcome import CheckContext, Outcome
from ..features import feature_name
from ..probes import probe_features
from ..provenance import recorded_elsewhere
from ..sweep import Sweep
from .churn import ZERO_CHURN, check_churn
from .drift import check_flips, check_interaction_drift, check_probability_drift, probe_tolerances
from .rank import check_rank_agreement
from .record import Baseline, BaselineError
from .seed_band import BAND_FACTOR, check_band
from .seed_test import check_seed_test, needed_seeds, slice_means


def declared_features(probe: Any) -> tuple[str, ...]:
    """The feature names of a probe as a file declares it: a name (``zero``, ``4``, ``4+5``)
    or a list of features."""
    if isinstance(probe, (list, tuple)):
        return tuple(feature_name(f) for f in probe)
    return probe_features(feature_name(probe))


def _known(probe: Any, sweep: Sweep) -> bool:
    return all(f in sweep.space for f in declared_features(probe))


class Gate(Protocol):
    kind: str

    def compare(self, baseline: Baseline, sweep: Sweep) -> Outcome: ...


@dataclass
class FlipLimit:
    """At most ``max_flips`` probes change their predicted class, besides ``allow_flips``."""

    max_flips: int = 0
    allow_flips: Sequence[Any] = ()
    kind: str = "flips"

    def compare(self, baseline: Baseline, sweep: Sweep) -> Outcome:
        allowed = [sweep.canonical(p) for p in self.allow_flips]
        return check_flips(baseline, sweep, self.max_flips, allowed)


@dataclass
class ProbabilityTolerance:
    """|P_now(c) - P_baseline(c)| within each probe's tolerance: its own (``per_probe``), its
    order's (``per_order``), else ``default``."""

    default: float = 1.0
    per_order: Mapping[int, float] = field(default_factory=dict)
    per_probe: Mapping[Any, float] = field(default_factory=dict)
    kind: str = "max_abs_delta"

    def tolerances(self, baseline: Baseline, sweep: Sweep) -> np.ndarray:
        """One tolerance per baseline probe."""
        per_probe = {sweep.canonical(name): value for name, value in self.per_probe.items()}
        return probe_tolerances(baseline, self.default, self.per_order, per_probe)

    def compare(self, baseline: Baseline, sweep: Sweep) -> Outcome:
        return check_probability_drift(baseline, sweep, self.tolerances(baseline, sweep))


@dataclass
class RankAgreement:
    """Per class, the ranking of single-feature attributions agrees with the baseline's."""

    method: str = "spearman"
    minimum: float | None = None
    top_k: int | None = None
    min_overlap: int | None = None
    kind: str = "rank"

    def compare(self, baseline: Baseline, sweep: Sweep) -> Outcome:
        return check_rank_agreement(
            baseline, sweep, self.method, self.minimum, self.top_k, self.min_overlap
        )


@dataclass
class InteractionTolerance:
    """Each pair's interaction moved by at most ``max_delta``."""

    max_delta: float
    kind: str = "interaction"

    def compare(self, baseline: Baseline, sweep: Sweep) -> Outcome:
        return check_interaction_drift(baseline, sweep, self.max_delta)


@dataclass
class BandLimit:
    """The seed band score stays within its threshold (``max_score``, else ``factor`` x the
    largest leave-one-out score); with ``false_alarm``, the seed test instead (``seed_test``:
    every probe and slice, a rank threshold with that false-alarm rate)."""

    max_score: float | None = None
    factor: float = BAND_FACTOR
    false_alarm: float | None = None
    kind: str = "band"

    def compare(self, baseline: Baseline, sweep: Sweep) -> Outcome:
        return check_band(baseline, sweep, self.max_score, self.factor)

    def compare_in(self, baseline: Baseline, context: CheckContext) -> Outcome:
        if self.false_alarm is None:
            return self.compare(baseline, context.sweep)
        cells = baseline.seed_cells
        if cells is None or len(cells.seeds) < needed_seeds(self.false_alarm):
            have = "no seed test" if cells is None else f"{len(cells.seeds)} calibration seeds"
            raise BaselineError(
                f"false_alarm {self.false_alarm:g} needs the cells of at least "
                f"{needed_seeds(self.false_alarm)} calibration seeds, and this baseline holds "
                f"{have}; write it anew with {UPDATE_HINT}",
                key="drift",
            )
        rows = None
        means = np.zeros((0, len(baseline.classes)))
        if baseline.rows is not None:
            after = predict_rows(context.model, baseline.rows.encoded(baseline.space))
            means = slice_means(baseline.rows, after, baseline.space, cells.slices)
            rows = (baseline.rows, after, baseline.space)
        today = (baseline.current(context.sweep), means)
        return check_seed_test(
            cells, self.false_alarm, baseline.probes, baseline.classes, today, rows
        )

    def threshold(self, baseline: Baseline) -> float:
        return baseline.band.threshold(self.max_score, self.factor)


@dataclass
class ChurnLimit:
    """At most ``max_churn`` of the context's rows change their predicted class, and no slice
    (the rows with one or two values in common, at least ``min_rows`` of them) more than
    ``slice_max`` of its rows. Reads the rows the baseline kept, through today's model."""

    max_churn: float | None = None
    slice_max: float | None = None
    min_rows: int = 20
    kind: str = "churn"

    def compare_in(self, baseline: Baseline, context: CheckContext) -> Outcome:
        if not context.in_rows:  # before the baseline: no update could give it rows
            raise SpecError(ZERO_CHURN, key="drift")
        if baseline.rows is None:
            raise BaselineError(
                "this baseline holds no rows to count churn on (it was written before the "
                f"churn check or on the zero vector); write it anew with {UPDATE_HINT}",
                key="drift",  # the drift item's own line, not its context's
            )
        after = predict_rows(context.model, baseline.rows.encoded(baseline.space))
        return check_churn(
            baseline.rows,
            after,
            baseline.space,
            baseline.classes,
            self.max_churn,
            self.slice_max,
            self.min_rows,
        )


@dataclass
class DriftCheck:
    """One drift check of a file's ``drift:`` section, run like an expectation."""

    gate: Gate
    order: int | None = None  # drift.order: the baseline's probes
    probes: Sequence[Any] | None = None  # drift.probes: the narrower set the baseline holds
    probes_line: int | None = None  # the line of drift.probes

    @property
    def kind(self) -> str:
        return self.gate.kind

    def needed_order(self) -> int:
        return self.order if self.order is not None else 1

    def needed_probes(self, space: Any = None) -> list[tuple[str, ...]]:
        """The probes ``drift.probes`` declares, so that the sweep holds them whatever its
        order (those naming a feature the space lacks are refused by ``check``)."""
        needed = [declared_features(p) for p in self.probes or ()]
        return [p for p in needed if space is None or all(f in space for f in p)]

    def check(self, context: CheckContext) -> Outcome:
        if self.probes is not None:
            unknown = next((p for p in self.probes if not _known(p, context.sweep)), None)
            if unknown is not None:
                names = declared_features(unknown)
                missing = next(f for f in names if f not in context.sweep.space)
                raise SpecError(
                    f"probe {quoted('+'.join(names) or 'zero')} names the unknown feature "
                    f"{quoted(missing)}",
                    key="drift.probes",
                    line=self.probes_line,
                )
        baseline: Baseline = context.baseline()
        if hasattr(self.gate, "compare_in"):  # reads rows through the model, not the sweep
            outcome = self.gate.compare_in(baseline, context)
        else:
            outcome = self.gate.compare(baseline, context.sweep)
        if not outcome.passed:
            note = recorded_elsewhere(baseline.versions, baseline.platform)
            if note:
                outcome.lines.append(note)
        return outcome
