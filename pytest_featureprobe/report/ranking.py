"""Which probes and features the report's figures show, and in what order: ranked by how much
they move a class probability (the largest |dP(c)|), ties broken by strength (the sum of |dP(c)|
over classes, then the pair's |interaction|, then the simpler probe), never by name.

A heatmap over more probes than it can show keeps the zero probe and the strongest others, at
least a few of each order swept (so triples appear in an order-3 sweep) and none whose
probabilities repeat a probe already shown. Numpy only: no matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..sweep import delta_column, interaction_column, prob_column
from .labels import count

if TYPE_CHECKING:
    from ..sweep import Sweep

MAX_HEATMAP_PROBES = 60
DIGITS = 2  # probabilities that agree to the decimals the heatmap prints read as one row


def ranked(sweep: Sweep, positions: np.ndarray) -> np.ndarray:
    """``positions`` (rows of the sweep's table) from the one that moves most to the least."""
    table = sweep.table
    moves = np.abs(table[[delta_column(c) for c in sweep.classes]].to_numpy(np.float64)[positions])
    largest = np.round(moves.max(axis=1, initial=0.0), 9)
    total = np.round(moves.sum(axis=1), 9)
    interaction = np.zeros(len(positions))
    columns = [interaction_column(c) for c in sweep.classes]
    if all(c in table.columns for c in columns):
        values = np.abs(table[columns].to_numpy(np.float64)[positions])
        interaction = np.round(np.nan_to_num(values, nan=0.0).max(axis=1, initial=0.0), 9)
    order = table["order"].to_numpy()[positions]
    keys = (positions, order, -interaction, -total, -largest)  # lexsort: the last key first
    return positions[np.lexsort(keys)]


def _distinct(candidates: np.ndarray, rows: np.ndarray, seen: set[bytes], want: int) -> list[int]:
    """Up to ``want`` of ``candidates`` (in their order) whose rounded probabilities are not in
    ``seen`` nor repeat one another; ``seen`` takes theirs."""
    chosen: list[int] = []
    start, size = 0, 256
    while len(chosen) < want and start < len(candidates):
        chunk = candidates[start : start + size]
        start, size = start + size, size * 2
        keys = np.ascontiguousarray(np.round(rows[chunk] * 10**DIGITS).astype(np.int64))
        as_bytes = keys.view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
        _, first = np.unique(as_bytes, return_index=True)
        for i in np.sort(first):
            key = as_bytes[i].tobytes()
            if key not in seen:
                seen.add(key)
                chosen.append(int(chunk[i]))
                if len(chosen) == want:
                    break
    return chosen


def heatmap_probes(sweep: Sweep) -> tuple[list[str], str]:
    """The probes of the heatmap: all of them in table order, or the zero probe and the others
    that move most, ranked; and a note when some are left out."""
    names = sweep.table.index
    if len(names) <= MAX_HEATMAP_PROBES:
        return list(names), ""
    rows = sweep.table[[prob_column(c) for c in sweep.classes]].to_numpy(np.float64)
    order_of = sweep.table["order"].to_numpy()
    order = ranked(sweep, np.arange(1, len(names)))
    slots = MAX_HEATMAP_PROBES - 1
    orders = sorted(set(order_of[1:].tolist()))
    each = slots // (2 * len(orders))
    seen: set[bytes] = set()
    _distinct(np.zeros(1, dtype=np.int64), rows, seen, 1)  # a probe that moves nothing: left out
    chosen: list[int] = []
    for k in orders:  # a few of each order first, so triples show in an order-3 sweep
        chosen += _distinct(order[order_of[order] == k], rows, seen, each)
    rest = order[~np.isin(order, chosen)]
    chosen += _distinct(rest, rows, seen, slots - len(chosen))
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(order))
    chosen.sort(key=lambda p: rank[p])
    shown = [names[0]] + [names[p] for p in chosen]
    note = (
        f"{len(shown)} of {count(len(names))} probes: the zero probe and the {len(chosen)} that "
        "move a class probability most, ranked (ties broken by the total move), at least "
        f"{each} of each order where there are, none repeating the probabilities of one shown"
    )
    return shown, note


def single_features(sweep: Sweep, limit: int) -> list[str]:
    """Single-feature probes, the one that moves most first: all, or the ``limit`` strongest."""
    table = sweep.table
    singles = np.flatnonzero(table["order"].to_numpy() == 1)
    return [table.index[p] for p in ranked(sweep, singles)[:limit]]
