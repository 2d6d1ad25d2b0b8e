"""Probes: named sets of active features, generated as integer arrays so large sweeps stay cheap.

A probe group holds probes of one order as an array of active input positions (probes x order),
produced in chunks: all pairs of 1,000 features or all triples of 200 never need to exist at once.
Combinations come in lexicographic order of positions, so row order is stable and documented.
``probe_name`` writes a probe's name and ``probe_features`` reads one back. Imports errors and the
feature space.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .errors import SpecError
from .features import FeatureSpace

ZERO = "zero"
SEPARATOR = "+"


def probe_name(names: Sequence[str]) -> str:
    """``zero`` for no active feature, else the names joined by ``+`` in feature-space order."""
    return SEPARATOR.join(names) if names else ZERO


def probe_features(name: str) -> tuple[str, ...]:
    """The feature names a probe name holds, as written: ``zero`` -> (), ``4+5`` -> (4, 5).

    The one reader of the name format that ``probe_name`` writes."""
    return () if name == ZERO else tuple(name.split(SEPARATOR))


def probe_order(name: str) -> int:
    """How many features the probe ``name`` activates."""
    return len(probe_features(name))


def combinations_array(n: int, k: int) -> np.ndarray:
    """All k-subsets of range(n) as a (C(n, k), k) int32 array, in lexicographic order."""
    if k == 0:
        return np.zeros((1, 0), dtype=np.int32)
    if k > n:
        return np.zeros((0, k), dtype=np.int32)
    if k == 1:
        return np.arange(n, dtype=np.int32)[:, None]
    if k == 2:
        first, second = np.triu_indices(n, 1)
        return np.stack([first, second], axis=1).astype(np.int32)
    return np.concatenate(list(_blocks_by_first(n, k)))


def selected_combinations(
    n: int, k: int, containing: Iterable[int] = (), excluding: Iterable[int] = ()
) -> np.ndarray:
    """The k-subsets of range(n) that hold every position of ``containing`` and none of
    ``excluding``, (count, k) int32 in lexicographic order, made without the others: all
    triples of 500 features containing one are 124,251 rows, not 20.7 million filtered."""
    required = np.array(sorted(set(containing)), dtype=np.int32)
    banned = set(excluding) | set(required.tolist())
    free = np.array([p for p in range(n) if p not in banned], dtype=np.int32)
    if len(required) > k:
        return np.zeros((0, k), dtype=np.int32)
    rest = free[combinations_array(len(free), k - len(required))]
    rows = np.sort(np.concatenate([np.broadcast_to(required, (len(rest), len(required))), rest], 1))
    return rows[np.lexsort(rows.T[::-1])] if k else rows.astype(np.int32)


def _blocks_by_first(n: int, k: int) -> Iterator[np.ndarray]:
    """The k-subsets of range(n) grouped by their smallest element (each block lexicographic)."""
    for first in range(n - k + 1):
        rest = combinations_array(n - first - 1, k - 1) + (first + 1)
        yield np.column_stack([np.full(len(rest), first, dtype=np.int32), rest])


def _rechunk(blocks: Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Re-cut a stream of arrays into chunks of exactly ``size`` rows (the last may be shorter)."""
    pending: list[np.ndarray] = []
    held = 0
    for block in blocks:
        while len(block):
            take = min(size - held, len(block))
            pending.append(block[:take])
            held += take
            block = block[take:]
            if held == size:
                yield np.concatenate(pending)
                pending, held = [], 0
    if held:
        yield np.concatenate(pending)


class ProbeGroup:
    """Probes of one order: either every k-combination of n features or an explicit list."""

    def __init__(self, order: int, n_features: int, explicit: np.ndarray | None = None) -> None:
        self.order = order
        self.n_features = n_features
        self.explicit = explicit

    def __len__(self) -> int:
        if self.explicit is not None:
            return len(self.explicit)
        return math.comb(self.n_features, self.order)

    def __repr__(self) -> str:
        kind = "explicit" if self.explicit is not None else "all"
        return f"<ProbeGroup order={self.order} {kind} {len(self)} probes>"

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        """The active positions, (rows <= size, order) int32, in order."""
        if size < 1:
            raise ValueError("chunk size must be positive")
        if self.explicit is not None:
            blocks: Iterable[np.ndarray] = [self.explicit]
        elif self.order <= 1:
            blocks = [combinations_array(self.n_features, self.order)]
        else:
            blocks = _blocks_by_first(self.n_features, self.order)
        yield from _rechunk(blocks, size)


def standard_probes(n_features: int, max_order: int) -> list[ProbeGroup]:
    """The zero probe, every feature alone, and every combination up to ``max_order``."""
    if not isinstance(max_order, int) or isinstance(max_order, bool) or max_order < 0:
        raise SpecError(f"order must be a non-negative integer, not {max_order!r}", key="order")
    return [ProbeGroup(k, n_features) for k in range(min(max_order, n_features) + 1)]


def explicit_probes(space: FeatureSpace, feature_sets: Iterable[Iterable[Any]]) -> list[ProbeGroup]:
    """Groups (one per order) of explicit feature sets, without repeats; unknown names raise."""
    by_order: dict[int, set[tuple[int, ...]]] = {}
    for features in feature_sets:
        positions = tuple(space.indices(features))
        by_order.setdefault(len(positions), set()).add(positions)
    return [
        ProbeGroup(
            order, len(space), np.array(sorted(sets), dtype=np.int32).reshape(len(sets), order)
        )
        for order, sets in sorted(by_order.items())
    ]


def count_probes(n_features: int, max_order: int) -> int:
    """1 + n + C(n, 2) + ... + C(n, k): the rows of a standard sweep of order k."""
    return sum(math.comb(n_features, k) for k in range(max_order + 1))
