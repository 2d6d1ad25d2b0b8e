"""The seed band: how far today's probabilities sit from what retraining with other seeds gives.

The K calibration seeds give, per probe and class, a mean and a spread. A probe's distance is
``min(|P - mean| / max(spread, floor), cap)``; the band score is the mean distance over probes and
classes. Retraining with another seed moves a few probes a lot; a change in the data moves many:
the mean tells the two apart where a per-probe tolerance cannot (README, "Seed band"). The
threshold is ``factor`` times the largest leave-one-out score of the calibration seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UPDATE_HINT
from ..expectations.outcome import MAX_LISTED, Outcome, text_table

if TYPE_CHECKING:
    from ..sweep import Sweep
    from .record import Baseline

BAND_FACTOR = 1.5


@dataclass
class SeedBand:
    """Mean and spread over the calibration seeds of each probe's class probabilities."""

    center: np.ndarray  # (probes, classes), mean over calibration seeds
    spread: np.ndarray  # (probes, classes), standard deviation over seeds
    seeds: list[int]
    floor: float = 0.1  # spreads below this count as this
    cap: float = 10.0  # distances above this count as this
    loo_scores: list[float] = field(default_factory=list)  # each seed against the others

    @classmethod
    def from_seeds(
        cls, stack: np.ndarray, seeds: Sequence[int], floor: float = 0.1, cap: float = 10.0
    ) -> SeedBand:
        """The band of ``stack`` (seeds, probes, classes), with each seed's leave-one-out score."""
        band = cls(stack.mean(0), stack.std(0), [int(s) for s in seeds], float(floor), float(cap))
        for k in range(len(stack)):
            others = np.delete(stack, k, 0)
            band.loo_scores.append(
                cls(others.mean(0), others.std(0), [], band.floor, band.cap).score(stack[k])
            )
        return band

    @classmethod
    def from_file(
        cls, header: Mapping[str, Any], center: np.ndarray, spread: np.ndarray
    ) -> SeedBand:
        """The band as a baseline file stores it: a header and per-probe centers and spreads."""
        return cls(
            center,
            spread,
            [int(x) for x in header["seeds"]],
            float(header["floor"]),
            float(header["cap"]),
            [float(x) for x in header["loo_scores"]],
        )

    def header(self) -> dict[str, Any]:
        """What a baseline file's header records of the band (centers and spreads go per probe)."""
        return {
            "cap": self.cap,
            "floor": self.floor,
            "loo_scores": [round(float(v), 4) for v in self.loo_scores],
            "seeds": self.seeds,
        }

    def distances(self, probabilities: np.ndarray) -> np.ndarray:
        """Per probe and class: min(|P - center| / max(spread, floor), cap)."""
        distance = np.abs(probabilities - self.center) / np.maximum(self.spread, self.floor)
        return np.minimum(distance, self.cap)

    def score(self, probabilities: np.ndarray) -> float:
        """The mean distance over probes and classes."""
        return float(self.distances(probabilities).mean())

    def threshold(self, max_score: float | None = None, factor: float = BAND_FACTOR) -> float:
        """``max_score`` if given, else ``factor`` times the largest leave-one-out score of the
        calibration seeds (how far one seed sits from the others: the seed noise of this model)."""
        if max_score is not None:
            return float(max_score)
        return factor * max(self.loo_scores)

    def explain_threshold(self, max_score: float | None, factor: float) -> str:
        """How the threshold was set, in words."""
        if max_score is not None:
            return f"max_score {max_score:g}"
        return (
            f"{factor:g} x the largest leave-one-out score of the calibration seeds, "
            f"{max(self.loo_scores):.3f}"
        )


def band_distances(baseline: Baseline, sweep: Sweep) -> np.ndarray:
    """Per baseline probe and class: today's distance from the band, in seed spreads."""
    return baseline.band.distances(baseline.current(sweep))


def check_band(
    baseline: Baseline, sweep: Sweep, max_score: float | None = None, factor: float = BAND_FACTOR
) -> Outcome:
    """The band score of today's probabilities must not exceed the band's threshold."""
    band = baseline.band
    if band is None:
        return Outcome(
            False,
            [f"the baseline has no seed band: add drift.band and run with {UPDATE_HINT}"],
        )
    current = baseline.current(sweep)
    distances = band.distances(current)
    score = float(distances.mean())
    threshold = band.threshold(max_score, factor)
    props = {"band_score": round(score, 4), "band_threshold": round(threshold, 4)}
    if score <= threshold:
        return Outcome(True, properties=props)
    cells = sorted(np.ndindex(*distances.shape), key=lambda c: -distances[c])
    rows = [
        [
            baseline.probes[i],
            baseline.classes[j],
            f"{band.center[i, j]:.3f} +- {band.spread[i, j]:.3f}",
            float(current[i, j]),
            f"{current[i, j] - band.center[i, j]:+.3f}",
            float(distances[i, j]),
        ]
        for i, j in cells[:MAX_LISTED]
        if distances[i, j] > 1
    ]
    lines = [
        f"seed band score {score:.3f} > {threshold:.3f} "
        f"({band.explain_threshold(max_score, factor)}): today's probabilities sit "
        f"on average {score:.2f} seed spreads from the mean of seeds {band.seeds}",
        *text_table(
            ["probe", "class", "band (mean +- spread)", "current", "difference", "spreads"], rows
        ),
    ]
    far = int((distances > 1).sum())
    if far > len(rows):
        lines.append(f"... {far} cells in all lie more than one spread away")
    return Outcome(False, lines, props)
