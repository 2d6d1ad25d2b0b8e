"""Prediction churn on real rows: which rows of the drift context changed their predicted class
since the baseline, overall and slice by slice (the rows with one value, or two values, in
common), so a gate sees a change that lives in one part of the data and says where it is.

``RowPredictions`` is what a baseline keeps of its context's rows: each distinct row (by its
feature names), how often it occurs, and its class probabilities then. ``churn_slices`` groups
the changed rows; ``check_churn`` is the ``max_churn`` / ``slice_churn`` gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import plural
from ..expectations.outcome import MAX_LISTED, Outcome, text_table
from ..multihot import BLOCK_BYTES, MultiHot

if TYPE_CHECKING:
    from ..features import FeatureSpace

MAX_SLICE_FEATURES = 200  # the most frequent features whose slices (and pairs) are read
ZERO_CHURN = (
    "max_churn and slice_churn count the rows of a context, and the drift checks read the zero "
    "vector: give drift.context (training or a data file)"
)


@dataclass
class RowPredictions:
    """The distinct rows of a context, their counts and their class probabilities (rows,
    classes), as a baseline stores them."""

    features: list[tuple[str, ...]]
    counts: np.ndarray
    probabilities: np.ndarray

    @classmethod
    def of(
        cls, space: FeatureSpace, rows: np.ndarray, counts: np.ndarray, probabilities: np.ndarray
    ) -> RowPredictions:
        names = [space.names(np.flatnonzero(row > 0)) for row in rows]
        return cls(names, np.asarray(counts, dtype=np.int64), np.asarray(probabilities, float))

    def encoded(self, space: FeatureSpace) -> MultiHot:
        """The rows, multi-hot in ``space`` (the baseline's, which today's must equal), held as
        positions: a baseline of a large vocabulary's rows is never one dense matrix."""
        return MultiHot.from_positions([space.indices(f) for f in self.features], len(space))

    def records(self, digits: int) -> list[dict[str, Any]]:
        return [
            {"count": int(n), "features": list(f), "p": [round(float(v), digits) for v in p]}
            for f, n, p in zip(self.features, self.counts, self.probabilities, strict=True)
        ]

    @classmethod
    def from_records(cls, records: Sequence[dict[str, Any]], n_classes: int) -> RowPredictions:
        probabilities = np.array([r["p"] for r in records], dtype=np.float64)
        if probabilities.shape != (len(records), n_classes):
            raise ValueError("row probabilities do not match the classes")
        return cls(
            [tuple(str(f) for f in r["features"]) for r in records],
            np.array([int(r["count"]) for r in records], dtype=np.int64),
            probabilities,
        )


@dataclass
class Slice:
    """The rows that share one or two feature values, and how many of them changed."""

    features: tuple[str, ...]
    rows: int
    changed: int
    change: str  # the most common change, "Adelie -> Chinstrap (58)"

    @property
    def churn(self) -> float:
        return self.changed / self.rows if self.rows else 0.0


def slice_positions(
    before: RowPredictions, space: FeatureSpace, min_rows: int
) -> list[tuple[int, ...]]:
    """The slices of at least ``min_rows`` rows, as feature positions: each feature, and each
    two features of different columns, of the ``MAX_SLICE_FEATURES`` most frequent; in
    position order (a slice's rows: those that hold all of its features)."""
    rows = before.encoded(space)
    weights = before.counts.astype(np.float64)
    sizes = rows.counts(weights)
    frequent = np.flatnonzero(sizes >= min_rows)
    frequent = frequent[np.argsort(-sizes[frequent], kind="stable")][:MAX_SLICE_FEATURES]
    frequent.sort()
    pair_sizes = _pair_sizes(rows, frequent, weights)
    columns = _columns(space, frequent)
    found = []
    for a in range(len(frequent)):
        for b in range(a, len(frequent)):
            if b > a and columns[a] >= 0 and columns[a] == columns[b]:
                continue  # two values of one column: no row has both
            if pair_sizes[a, b] >= min_rows:
                found.append(
                    (int(frequent[a]),) if a == b else (int(frequent[a]), int(frequent[b]))
                )
    return found


def slice_sums(
    before: RowPredictions,
    space: FeatureSpace,
    slices: Sequence[Sequence[int]],
    values: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per slice (feature positions; () is every row), the count-weighted sum of ``values``
    (distinct rows, m) over its rows, and its number of rows. Each slice's rows are found from
    its features' row lists, so time and memory follow the rows the slices hold."""
    counts = before.counts.astype(np.float64)
    weighted = np.asarray(values, dtype=np.float64) * counts[:, None]
    holding = _rows_holding(before, space)
    sums, sizes = np.zeros((len(slices), weighted.shape[1])), np.zeros(len(slices))
    for number, positions in enumerate(slices):
        member = _member(holding, positions, len(counts))
        sums[number], sizes[number] = weighted[member].sum(axis=0), counts[member].sum()
    return sums, sizes


def _pair_sizes(rows: MultiHot, frequent: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(k, k): the count-weighted number of rows holding both of two ``frequent`` positions
    (the diagonal: one), from the rows dense only over those k positions, a block at a time."""
    column = np.full(rows.width, -1, dtype=np.int64)
    column[frequent] = np.arange(len(frequent))
    part = rows.restrict(column >= 0)
    sizes = np.zeros((len(frequent), len(frequent)))
    step = max(1, BLOCK_BYTES // max(8 * len(frequent), 1))
    for start in range(0, len(part), step):
        stop = min(start + step, len(part))
        bounds = part.indptr[start : stop + 1]
        block = np.zeros((stop - start, len(frequent)))
        block[
            part.row_ids[bounds[0] : bounds[-1]] - start,
            column[part.indices[bounds[0] : bounds[-1]]],
        ] = 1.0
        sizes += block.T @ (block * weights[start:stop, None])
    return sizes


def _rows_holding(before: RowPredictions, space: FeatureSpace) -> list[np.ndarray]:
    """Per feature position, the (sorted) distinct rows that hold it."""
    starts, rows = before.encoded(space).by_position
    return [rows[starts[p] : starts[p + 1]] for p in range(len(space))]


def _member(holding: list[np.ndarray], positions: Sequence[int], n_rows: int) -> np.ndarray:
    """The distinct rows that hold every feature of a slice (all rows for ())."""
    if not positions:
        return np.arange(n_rows)
    found = holding[positions[0]]
    for position in positions[1:]:
        found = np.intersect1d(found, holding[position], assume_unique=True)
    return found


def churn_slices(
    before: RowPredictions,
    after: np.ndarray,
    space: FeatureSpace,
    classes: Sequence[str],
    min_rows: int,
) -> list[Slice]:
    """Every slice of one feature, or two features of different columns, with at least
    ``min_rows`` rows and a changed row, largest churn first (ties: more changed rows, then
    name order)."""
    weights = before.counts.astype(np.float64)
    old, new = before.probabilities.argmax(axis=1), after.argmax(axis=1)
    changed = (old != new).astype(np.float64)
    slices = slice_positions(before, space, min_rows)
    moved, sizes = slice_sums(before, space, slices, changed[:, None])
    holding = _rows_holding(before, space)
    found = [
        Slice(
            space.names(positions),
            round(sizes[n]),
            round(moved[n, 0]),
            _most_common_change(
                old, new, weights, _member(holding, positions, len(weights)), classes
            ),
        )
        for n, positions in enumerate(slices)
        if moved[n, 0] > 0
    ]
    found.sort(key=lambda s: (-s.churn, -s.changed, s.features))
    return found


def _columns(space: FeatureSpace, positions: np.ndarray) -> list[int]:
    """Per position, its categorical column's number, or -1 for a token."""
    from ..contexts import column_ids

    ids = column_ids(space)
    return [int(ids[p]) for p in positions]


def _most_common_change(
    old: np.ndarray,
    new: np.ndarray,
    weights: np.ndarray,
    members: np.ndarray,
    classes: Sequence[str],
) -> str:
    """The commonest change among a slice's rows (``members``: their indices), "A -> B (n)";
    ties go to the earlier class before, then after."""
    moved = members[old[members] != new[members]]
    n = len(classes)
    counts = np.bincount(old[moved] * n + new[moved], weights=weights[moved], minlength=n * n)
    code = int(np.argmax(counts))
    return f"{classes[code // n]} -> {classes[code % n]} ({round(counts[code])})"


def check_churn(
    before: RowPredictions,
    after: np.ndarray,
    space: FeatureSpace,
    classes: Sequence[str],
    max_churn: float | None,
    slice_max: float | None,
    min_rows: int,
) -> Outcome:
    """At most ``max_churn`` of the rows changed their predicted class, and no slice of at
    least ``min_rows`` rows more than ``slice_max`` of its rows; the failure names the slices
    that changed most."""
    weights = before.counts.astype(np.float64)
    changed_rows = before.probabilities.argmax(axis=1) != after.argmax(axis=1)
    total, changed = float(weights.sum()), float(weights[changed_rows].sum())
    churn = changed / total
    slices = churn_slices(before, after, space, classes, min_rows)
    worst = slices[0] if slices else None
    props = {"churn": round(churn, 4), "rows": int(total), "changed_rows": int(changed)}
    if worst is not None:
        props["worst_slice"] = " + ".join(worst.features)
        props["worst_slice_churn"] = round(worst.churn, 4)
    problems = []
    if max_churn is not None and churn > max_churn + 1e-12:
        problems.append(
            f"{churn:.1%} of the {plural(int(total), 'row')} changed their predicted class "
            f"({int(changed)}; at most {max_churn:.1%} allowed)"
        )
    over = [s for s in slices if slice_max is not None and s.churn > slice_max + 1e-12]
    if over:
        problems.append(
            f"{plural(len(over), 'slice')} of at least {min_rows} rows changed more than "
            f"{slice_max:.0%} of their rows; the worst: rows with {' and '.join(over[0].features)} "
            f"({over[0].rows} rows): {over[0].churn:.0%} changed, {over[0].change}"
        )
    if not problems:
        return Outcome(True, properties=props)
    if not slices:
        return Outcome(False, problems, props)
    table = [
        [" + ".join(s.features), s.rows, s.changed, f"{s.churn:.1%}", s.change]
        for s in slices[:MAX_LISTED]
    ]
    lines = [*problems, f"the slices that changed most (of at least {plural(min_rows, 'row')}):"]
    lines += text_table(["slice", "rows", "changed", "churn", "most common change"], table)
    if len(slices) > MAX_LISTED:
        lines.append(f"... and {len(slices) - MAX_LISTED} more slices with changed rows")
    return Outcome(False, lines, props)
