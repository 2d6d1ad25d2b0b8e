"""The sweep in a context of real rows: every probe applied to each row, read as means.

The table keeps the sweep's columns (``Sweep``), read over the rows:

- ``P(c)``: the mean probability of c with the probe applied; ``predicted``, ``margin`` of it
- ``dP(c)``: the mean change against each row's own prediction (the probe's attribution to c)
- ``sd_dP(c)``: the spread (standard deviation) of that change over rows
- ``share(c)``: the share of rows whose predicted class is c with the probe applied
- ``interaction(c)``: for pairs, the mean of ``P(r+ij) - P(r+i) - P(r+j) + P(r)``
- ``rows``, ``unchanged``: the rows used, and those that already had the probe (counted, with
  an effect of 0)

Each distinct row is swept once and counted as often as it occurs. Probes run in chunks of about
``chunk_size`` rows x probes, over blocks of ``row_block`` distinct rows whose sums are added, so
memory is bounded whatever the number of probes and rows. The rows stay sparse (``MultiHot``):
through the Dense shortcut when the model has one (``models.in_context.RowsInContext``: each row's
first layer a sum of weight rows), else the applied rows made dense in bounded blocks for the
model. Imports contexts, probes and the sweep.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .contexts import (
    Context,
    check_probe,
    column_ids,
    distinct_rows,
    fast_rows,
    probabilities_applied,
)
from .errors import DataError, plural
from .probes import explicit_probes, probe_name, standard_probes
from .stream import predictions
from .sweep import (
    DEFAULT_CHUNK_SIZE,
    Sweep,
    delta_column,
    interaction_column,
    prob_column,
    share_column,
    spread_column,
)

if TYPE_CHECKING:
    from .models.probe_model import ProbeModel
    from .multihot import MultiHot

ROW_BLOCK = 4096  # distinct context rows swept at a time; their sums are added


def run_context_sweep(
    model: ProbeModel,
    context: Context,
    order: int = 1,
    probes: Sequence[Iterable[Any]] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    row_block: int = ROW_BLOCK,
) -> Sweep:
    """The sweep in ``context``: the zero vector's (``run_sweep``), or means over its rows of
    every probe up to ``order`` plus explicit ``probes`` applied to each row. Rows are taken
    ``row_block`` at a time and their sums added, so memory is bounded whatever the rows."""
    from .sweep import run_sweep

    if context.is_zero:
        return run_sweep(model, order=order, probes=probes, chunk_size=chunk_size)
    space, rows = model.space, context.rows
    if rows.shape[1] != len(space):
        raise DataError(
            f"the context ({context.name}) has rows of width {rows.shape[1]}; the model reads "
            f"{plural(len(space), 'feature')}"
        )
    columns = column_ids(space)
    for probe in probes:
        check_probe(space, probe, columns)
    groups = standard_probes(len(space), order)
    groups += [g for g in explicit_probes(space, probes) if g.order > order]
    distinct, weights = distinct_rows(rows)  # a repeated row is swept once and counted
    block = min(len(distinct), row_block)
    per_chunk = max(1, chunk_size // block)  # the same chunks in every block of rows
    totals: list[list[Any]] | None = None
    for start in range(0, len(distinct), block):
        part = slice(start, start + block)
        sums = _block_sums(model, distinct[part], weights[part], groups, columns, per_chunk)
        if totals is None:
            totals = sums
        else:
            for total, part in zip(totals, sums, strict=True):
                total[1:] = [t + p for t, p in zip(total[1:], part[1:], strict=True)]
    parts = [(active, *_means(len(rows), *sums)) for active, *sums in totals]
    return _context_table(model, context, order, parts)


def _one_value_per_column(active: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Probes of the standard sweep whose features lie in distinct columns (tokens always)."""
    ids = columns[active]
    keep = np.ones(len(active), dtype=bool)
    for a in range(active.shape[1]):
        for b in range(a + 1, active.shape[1]):
            keep &= (ids[:, a] < 0) | (ids[:, a] != ids[:, b])
    return keep


def _block_sums(
    model: ProbeModel,
    rows: MultiHot,
    weights: np.ndarray,
    groups: Sequence[Any],
    columns: np.ndarray,
    per_chunk: int,
) -> list[list[Any]]:
    """Per chunk of probes, over one block of rows: [active, sum of P, of the change, of its
    square, count of rows predicting each class, rows unchanged]."""
    fast = fast_rows(model, rows, columns)
    # Each row's own prediction by the same path as the probes': the zero probe changes nothing.
    base = probabilities_applied(model, rows, np.zeros((1, 0), dtype=np.intp), columns, fast)[0]

    def chunks() -> Iterator[np.ndarray]:
        for group in groups:
            for active in group.chunks(per_chunk):
                if active.shape[1] > 1:
                    active = active[_one_value_per_column(active, columns)]
                if len(active):
                    yield active

    def predict(active: np.ndarray) -> np.ndarray:
        return probabilities_applied(model, rows, active, columns, fast)

    several = sum(len(g) for g in groups) > per_chunk
    predicted = predictions(model, predict, chunks(), several)
    return [[active, *_sums(rows, weights, base, active, probs)] for active, probs in predicted]


def _sums(
    rows: MultiHot, weights: np.ndarray, base: np.ndarray, active: np.ndarray, probs: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Per probe over these rows, each counted ``weights`` times: sums of P, of the change and
    its square, rows predicting each class, rows unchanged (already with the probe's features)."""
    unchanged = rows.holds_all(active) @ weights
    predicted = probs.argmax(axis=2)
    counts = np.stack([(predicted == c) @ weights for c in range(probs.shape[2])], axis=1)
    # One copy, overwritten in turn by the change and its square; the weighted sums over rows
    # as (rows,) @ (probes, rows, classes) products.
    change = probs.astype(np.float64)
    total = np.matmul(weights, change)
    change -= base[None]
    moved = np.matmul(weights, change)
    np.square(change, out=change)
    squares = np.matmul(weights, change)
    return total, moved, squares, counts, unchanged


def _means(n: int, *sums: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per probe: mean P, mean and spread of the change, share predicted, rows unchanged."""
    probs, change, squares, counts, unchanged = sums
    mean = change / n
    spread = np.sqrt(np.maximum(squares / n - mean**2, 0.0))
    return probs / n, mean, spread, counts / n, np.rint(unchanged).astype(np.int64)


def _context_table(
    model: ProbeModel, context: Context, order: int, parts: list[tuple[np.ndarray, ...]]
) -> Sweep:
    """The in-context sweep table from the per-chunk means (first part: the zero probe)."""
    import pandas as pd

    from .feature_sets import FeatureSets

    space, classes = model.space, model.classes
    actives = [p[0] for p in parts]
    probs, deltas, spreads, shares = (np.concatenate([p[i] for p in parts]) for i in range(1, 5))
    unchanged = np.concatenate([p[5] for p in parts])
    names = [probe_name(space.names(a)) for active in actives for a in active]
    features = [space.names(a) for active in actives for a in active]
    mean_of = dict(zip(names, probs, strict=True))
    interactions = np.full(probs.shape, np.nan)
    for i, feature_set in enumerate(features):
        singles = [mean_of.get(f) for f in feature_set]
        if len(feature_set) == 2 and all(s is not None for s in singles):  # order 0: not swept
            interactions[i] = probs[i] - singles[0] - singles[1] + mean_of[probe_name(())]
    top2 = np.sort(probs, axis=1)[:, -2:]
    table = pd.DataFrame(index=pd.Index(names, name="probe"))
    table["order"] = [len(f) for f in features]
    table["features"] = FeatureSets.from_positions(actives, space.features)
    for j, cls in enumerate(classes):
        table[prob_column(cls)] = probs[:, j]
    table["predicted"] = np.asarray(classes, dtype=object)[probs.argmax(axis=1)]
    table["margin"] = top2[:, 1] - top2[:, 0]
    for kind, values in ((delta_column, deltas), (spread_column, spreads)):
        for j, cls in enumerate(classes):
            table[kind(cls)] = values[:, j]
    for kind, values in ((share_column, shares), (interaction_column, interactions)):
        for j, cls in enumerate(classes):
            table[kind(cls)] = values[:, j]
    table["rows"] = len(context.rows)
    table["unchanged"] = unchanged
    return Sweep(
        table=table,
        classes=classes,
        space=space,
        order=order,
        model_description=model.description,
        fingerprint=model.fingerprint,
        context=context.name,
        context_definition=dict(context.definition),
        context_digest=context.digest(),
    )
