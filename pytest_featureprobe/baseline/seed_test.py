"""The seed test: a band around every probe and every slice of real rows, with a threshold whose
false-alarm rate follows from the method (``drift: {false_alarm: 0.05}``).

Calibration retrains the spec with K seeds and keeps each seed's *cells*: the class
probabilities of every baseline probe (in the drift context), and the mean class probabilities
of every slice of the context's rows (all rows; the rows sharing one value; the rows sharing two
values of different columns; each slice at least ``min_rows`` rows). A model's score against a
set of seeds is its largest standardized deviation over the cells, ``max |x - mean| / max(sd,
floor)``: a change confined to one slice or a few probes moves a few cells far, which a mean over
every cell dilutes.

The threshold is a rank one (full conformal): today's model and the K seeds are each scored
against the other K, and the p-value is the share of the K + 1 scores at least as large as
today's. If retrains that differ only by seed are exchangeable, a retrain with no change has
p <= alpha with chance at most alpha, so ``false_alarm`` alpha needs K >= 1/alpha - 1 seeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import plural
from ..expectations.outcome import MAX_LISTED, Outcome, text_table
from .churn import RowPredictions, churn_slices, slice_positions, slice_sums

if TYPE_CHECKING:
    from ..features import FeatureSpace

SEED_TEST_FLOOR = 0.02  # spreads below this count as this (a cell every seed agrees on)
SLICE_MIN_ROWS = 20  # the smallest slice whose mean is a cell
SEED_DIGITS = 4  # each seed's cells as a baseline stores them
CHURN_LISTED = 5  # slices with the most changed rows a failure lists


def needed_seeds(false_alarm: float) -> int:
    """The fewest calibration seeds K with 1 / (K + 1) <= ``false_alarm``."""
    return max(2, math.ceil(1 / false_alarm - 1 - 1e-9))  # 2: a spread needs two others


@dataclass
class SeedCells:
    """Each calibration seed's cells: its probe probabilities and its slices' mean ones."""

    seeds: list[int]
    probes: np.ndarray  # (seeds, probes, classes)
    slices: list[tuple[str, ...]]  # the slices' features; () is every row
    slice_rows: list[int]  # rows in each slice
    slice_means: np.ndarray  # (seeds, slices, classes)
    floor: float = SEED_TEST_FLOOR
    min_rows: int = SLICE_MIN_ROWS

    @classmethod
    def of_seeds(
        cls,
        seeds: list[int],
        probes: np.ndarray,
        rows: RowPredictions | None,
        predictions: Sequence[np.ndarray],
        space: FeatureSpace,
        floor: float = SEED_TEST_FLOOR,
        min_rows: int = SLICE_MIN_ROWS,
    ) -> SeedCells:
        """The cells of ``seeds``: their probe probabilities (seeds, probes, classes) and, with
        ``rows`` (the drift context's) and each seed's ``predictions`` of them, every slice's
        mean: all rows, and each slice of at least ``min_rows`` (``churn.slice_positions``)."""
        if rows is None:
            empty = np.zeros((len(seeds), 0, probes.shape[2]))
            return cls(seeds, probes, [], [], empty, floor, min_rows)
        positions = [(), *slice_positions(rows, space, min_rows)]
        k, n_classes = len(predictions), probes.shape[2]
        sums, sizes = slice_sums(rows, space, positions, np.hstack(list(predictions)))
        means = (sums / sizes[:, None]).reshape(len(positions), k, n_classes).transpose(1, 0, 2)
        slices = [space.names(p) if p else () for p in positions]
        return cls(seeds, probes, slices, [round(n) for n in sizes], means, floor, min_rows)

    @classmethod
    def from_file(
        cls,
        header: dict[str, Any],
        probe_records: Sequence[dict[str, Any]],
        slice_records: Sequence[dict[str, Any]],
        n_classes: int,
    ) -> SeedCells:
        """The cells as a baseline file stores them: a header, a ``seeds`` list on each probe's
        record, and a record per slice."""
        seeds = [int(s) for s in header["seeds"]]
        shape = (len(seeds), n_classes)
        for record in slice_records:
            if not isinstance(record["slice"], list) or not all(
                isinstance(f, str) for f in record["slice"]
            ):
                raise ValueError("a slice is a list of feature names")
        probes = np.array([r["seeds"] for r in probe_records], dtype=np.float64)
        means = np.array([r["seeds"] for r in slice_records], dtype=np.float64)
        if probes.shape[1:] != shape or means.reshape(-1, *shape).shape[0] != len(slice_records):
            raise ValueError("the seeds' probabilities do not match the seeds and classes")
        if not (np.isfinite(probes).all() and np.isfinite(means).all()):
            raise ValueError("the seeds' probabilities are not all numbers")
        return cls(
            seeds,
            probes.reshape(len(probe_records), *shape).transpose(1, 0, 2),
            [tuple(str(f) for f in r["slice"]) for r in slice_records],
            [int(r["rows"]) for r in slice_records],
            means.reshape(len(slice_records), *shape).transpose(1, 0, 2),
            float(header["floor"]),
            int(header["min_rows"]),
        )

    def header(self) -> dict[str, Any]:
        return {"floor": self.floor, "min_rows": self.min_rows, "seeds": self.seeds}

    def probe_seeds(self, probe: int) -> list[list[float]]:
        """Each seed's probabilities of one probe, as a baseline's probe line holds them."""
        return [_rounded(v) for v in self.probes[:, probe]]

    def slice_records(self) -> list[dict[str, Any]]:
        """One record per slice: its features, rows and each seed's mean probabilities."""
        return [
            {"rows": rows, "seeds": [_rounded(v) for v in self.slice_means[:, n]], "slice": list(f)}
            for n, (f, rows) in enumerate(zip(self.slices, self.slice_rows, strict=True))
        ]

    def stack(self) -> np.ndarray:
        """(seeds, cells): each seed's probe cells, then its slice cells."""
        k = len(self.seeds)
        return np.concatenate([self.probes.reshape(k, -1), self.slice_means.reshape(k, -1)], 1)

    def cells(self, probes: np.ndarray, slice_means: np.ndarray) -> np.ndarray:
        """One model's cells, as ``stack`` orders them."""
        return np.concatenate([probes.reshape(-1), slice_means.reshape(-1)])

    def test(self, probes: np.ndarray, slice_means: np.ndarray) -> SeedTest:
        """Today's cells against the seeds' (see the module's docstring)."""
        today = self.cells(probes, slice_means)
        pool = np.vstack([self.stack(), today[None, :]])
        scores = np.array(
            [_score(pool[i], np.delete(pool, i, 0), self.floor) for i in range(len(pool))]
        )
        seeds, score = scores[:-1], float(scores[-1])
        p_value = (int((seeds >= score - 1e-12).sum()) + 1) / len(pool)
        stack = self.stack()
        center, spread = stack.mean(0), np.maximum(stack.std(0, ddof=1), self.floor)
        return SeedTest(score, seeds, p_value, center, spread, today)


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), SEED_DIGITS) for v in values]


def _score(cells: np.ndarray, others: np.ndarray, floor: float) -> float:
    """The largest standardized deviation of ``cells`` from the mean of ``others``."""
    spread = np.maximum(others.std(0, ddof=1), floor)
    return float((np.abs(cells - others.mean(0)) / spread).max())


@dataclass
class SeedTest:
    """Today's score, the seeds' scores (each against the others and today), the p-value, and
    today's cells beside the seeds' mean and spread (for the failure)."""

    score: float
    seed_scores: np.ndarray
    p_value: float
    center: np.ndarray
    spread: np.ndarray
    today: np.ndarray

    def deviations(self) -> np.ndarray:
        return np.abs(self.today - self.center) / self.spread


def slice_means(
    rows: RowPredictions,
    probabilities: np.ndarray,
    space: FeatureSpace,
    slices: Sequence[tuple[str, ...]],
) -> np.ndarray:
    """(slices, classes): each slice's mean class probabilities over its rows (weighted by their
    counts), from ``probabilities`` of the distinct rows."""
    if not slices:
        return np.zeros((0, probabilities.shape[1]))
    positions = [tuple(space.index(f) for f in s) for s in slices]
    sums, sizes = slice_sums(rows, space, positions, probabilities)
    return sums / sizes[:, None]


def check_seed_test(
    cells: SeedCells,
    false_alarm: float,
    probes: list[str],
    classes: Sequence[str],
    today: tuple[np.ndarray, np.ndarray],
    rows: tuple[RowPredictions, np.ndarray, FeatureSpace] | None,
) -> Outcome:
    """Pass unless today's p-value is at most ``false_alarm``. ``today``: the baseline probes'
    probabilities and the slices' means now; ``rows``: the baseline's rows, their probabilities
    now and the space (for the slices that changed most)."""
    result = cells.test(*today)
    k = len(cells.seeds)
    above = int((result.seed_scores < result.score - 1e-12).sum())
    props = {
        "seed_test_score": round(result.score, 4),
        "seed_test_p_value": round(result.p_value, 4),
        "false_alarm": false_alarm,
        "calibration_seeds": k,
    }
    if result.p_value > false_alarm:
        return Outcome(True, properties=props)
    lines = [
        f"today's model sits further from the {k} calibration seeds than a retrain with another "
        f"seed would (p = {result.p_value:.3f} <= false_alarm {false_alarm:g})"
    ]
    if rows is not None:
        lines += _churn_lines(*rows, classes, cells.min_rows)
    lines += _cell_lines(cells, result, probes, classes)
    reach = round(result.p_value * (k + 1))
    lines.append(
        f"score {result.score:.2f} (the largest deviation, in seed spreads) is above {above} of "
        f"the {k} seeds' scores (largest {result.seed_scores.max():.2f}): {reach} of the {k + 1} "
        f"scores reach it, p = {reach}/{k + 1}"
    )
    return Outcome(False, lines, props)


def _churn_lines(
    before: RowPredictions,
    after: np.ndarray,
    space: FeatureSpace,
    classes: Sequence[str],
    min_rows: int,
) -> list[str]:
    """The slices whose rows changed their predicted class most since the baseline."""
    changed = before.probabilities.argmax(1) != after.argmax(1)
    total = int(before.counts.sum())
    moved = int(before.counts[changed].sum())
    lines = [
        f"{moved} of the {plural(total, 'row')} changed their predicted class since the baseline"
    ]
    slices = churn_slices(before, after, space, classes, min_rows)[:CHURN_LISTED]
    if slices:
        table = [
            [" + ".join(s.features), s.rows, s.changed, f"{s.churn:.1%}", s.change] for s in slices
        ]
        lines.append(f"the slices that changed most (of at least {plural(min_rows, 'row')}):")
        lines += text_table(["slice", "rows", "changed", "churn", "most common change"], table)
    return lines


def _cell_lines(
    cells: SeedCells, result: SeedTest, probes: list[str], classes: Sequence[str]
) -> list[str]:
    """The cells furthest from the seeds, most spreads first."""
    deviations = result.deviations()
    n_classes = len(classes)
    labels = [("probe", p, "") for p in probes]
    labels += [
        ("slice", " + ".join(s) or "all rows", r)
        for s, r in zip(cells.slices, cells.slice_rows, strict=True)
    ]
    order = np.argsort(-deviations, kind="stable")[:MAX_LISTED]
    table = []
    for cell in order:
        if deviations[cell] <= 1:
            break
        kind, name, count = labels[cell // n_classes]
        table.append(
            [
                kind,
                name,
                count,
                classes[cell % n_classes],
                f"{result.center[cell]:.3f} +- {result.spread[cell]:.3f}",
                float(result.today[cell]),
                float(deviations[cell]),
            ]
        )
    if not table:
        return []
    headers = ["cell", "probe or slice", "rows", "class", "seeds (mean +- sd)", "today", "spreads"]
    return ["the probes and slices furthest from the seeds:", *text_table(headers, table)]
