"""Multi-hot rows kept sparse (``MultiHot``): each row's active positions, as compressed sparse
rows, so a large vocabulary costs memory per active feature, not per row and feature.

Rows are made dense (float32, bit for bit as ``FeatureSpace.encode`` gives them) a bounded block
at a time, where a model must be called. What contexts read of their rows needs no dense matrix:
a subset of rows, the rows that hold a position, per-position counts, the distinct rows (in the
byte order of their dense form, so digests and sweeps are those of the dense rows). Imports numpy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

#: Dense rows are made at most about this many bytes at a time (a model call, a digest).
BLOCK_BYTES = 64 << 20
#: ``distinct`` sorts rows by a padded key of rows x longest row entries up to this many.
KEY_ENTRIES = 1 << 24


def concat_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``starts[k] .. starts[k] + lengths[k] - 1`` for every k, one after another (int64)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    before = np.cumsum(lengths) - lengths
    shift = np.asarray(starts, dtype=np.int64) - before
    return np.repeat(shift, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


@dataclass(frozen=True, eq=False)
class MultiHot:
    """Multi-hot rows held as the positions each row has (compressed sparse rows: row ``i``'s
    positions are ``indices[indptr[i]:indptr[i + 1]]``, sorted, without repeats). ``dense``
    gives the float32 rows of a block, as ``FeatureSpace.encode`` would (bit for bit)."""

    indptr: np.ndarray  # (rows + 1,) int64
    indices: np.ndarray  # (active,) int32
    width: int

    @classmethod
    def from_positions(cls, position_sets: Sequence[Sequence[int]], width: int) -> MultiHot:
        """Rows from each row's positions (in any order, repeats counted once)."""
        lengths = np.fromiter((len(p) for p in position_sets), np.int64, len(position_sets))
        flat = np.fromiter((q for p in position_sets for q in p), np.int64, int(lengths.sum()))
        rows = np.repeat(np.arange(len(position_sets), dtype=np.int64), lengths)
        keys = np.unique(rows * width + flat)  # sorted by row, then position; repeats gone
        counts = np.bincount(keys // width, minlength=len(position_sets)) if width else lengths
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(indptr, (keys % max(width, 1)).astype(np.int32), int(width))

    @classmethod
    def from_dense(cls, rows: Any) -> MultiHot:
        """Rows from a dense (rows x features) matrix: every non-zero value is a position."""
        rows = np.asarray(rows)
        if rows.ndim != 2:
            raise ValueError(f"multi-hot rows are a matrix, not shape {rows.shape}")
        which, positions = np.nonzero(rows)  # row-major: by row, then position
        counts = np.bincount(which, minlength=len(rows))
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(indptr, positions.astype(np.int32), int(rows.shape[1]))

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.indptr) - 1, self.width)

    ndim = 2
    dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def lengths(self) -> np.ndarray:
        """How many positions each row has."""
        return np.diff(self.indptr)

    @cached_property
    def row_ids(self) -> np.ndarray:
        """The row of each stored position (int64, aligned with ``indices``)."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths)

    @cached_property
    def by_position(self) -> tuple[np.ndarray, np.ndarray]:
        """Compressed sparse columns: the rows holding position ``p`` (ascending) are
        ``rows[starts[p]:starts[p + 1]]``; returns ``(starts, rows)``."""
        order = np.argsort(self.indices, kind="stable")
        counts = np.bincount(self.indices, minlength=self.width)
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), self.row_ids[order]

    def row(self, i: int) -> np.ndarray:
        """The positions of row ``i``."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def dense(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows ``start:stop`` as a float32 multi-hot matrix."""
        stop = len(self) if stop is None else min(stop, len(self))
        bounds = self.indptr[start : stop + 1]
        block = np.zeros((max(stop - start, 0), self.width), dtype=np.float32)
        rows = np.repeat(np.arange(len(block)), np.diff(bounds))
        block[rows, self.indices[bounds[0] : bounds[-1]]] = 1.0
        return block

    def block_rows(self, max_bytes: int = BLOCK_BYTES) -> int:
        """Rows per dense block of at most about ``max_bytes`` (at least one)."""
        return max(1, max_bytes // max(4 * self.width, 1))

    def blocks(self, max_bytes: int = BLOCK_BYTES) -> Iterator[np.ndarray]:
        """The dense rows in blocks of at most about ``max_bytes`` (at least one row each)."""
        step = self.block_rows(max_bytes)
        for start in range(0, len(self), step):
            yield self.dense(start, start + step)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """All rows dense: for small data and callers that need a matrix (rows x features)."""
        dense = self.dense()
        return dense if dtype is None else dense.astype(dtype)

    def __getitem__(self, key: Any) -> Any:
        """``rows[i]``: row i dense (1-D float32); a slice, index array or mask: those rows."""
        if isinstance(key, (int, np.integer)):
            i = int(key) + (len(self) if key < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(f"row {key} of {len(self)}")
            return self.dense(i, i + 1)[0]
        if isinstance(key, slice):
            return self.take(np.arange(len(self))[key])
        if isinstance(key, tuple):
            raise TypeError("MultiHot rows are indexed by row; use dense() for columns")
        return self.take(key)

    def take(self, rows: Any) -> MultiHot:
        """The given rows (row numbers, in their order, or a boolean mask over rows)."""
        chosen = np.asarray(rows)
        if chosen.dtype == bool:
            chosen = np.flatnonzero(chosen)
        chosen = chosen.astype(np.int64).ravel()
        lengths = self.lengths[chosen]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        entries = concat_ranges(self.indptr[chosen], lengths)
        return MultiHot(indptr, self.indices[entries], self.width)

    def restrict(self, keep: np.ndarray) -> MultiHot:
        """The same rows holding only the positions where ``keep`` (per position) is true."""
        mask = np.asarray(keep, dtype=bool)[self.indices]
        counts = np.bincount(self.row_ids[mask], minlength=len(self))
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return MultiHot(indptr, self.indices[mask], self.width)

    def holding(self, position: int) -> np.ndarray:
        """Per row, whether it holds ``position`` (bool)."""
        starts, rows = self.by_position
        held = np.zeros(len(self), dtype=bool)
        held[rows[starts[position] : starts[position + 1]]] = True
        return held

    def holds_all(self, active: np.ndarray) -> np.ndarray:
        """(probes, rows) bool: whether each row holds every position of each probe of
        ``active`` (probes x order; a probe of no position is held by every row)."""
        active = np.asarray(active, dtype=np.int64).reshape(len(active), -1)
        starts, rows = self.by_position
        found = np.ones((len(active), len(self)), dtype=bool)
        for column in active.T:
            lengths = starts[column + 1] - starts[column]
            held = np.zeros_like(found)
            probe = np.repeat(np.arange(len(active)), lengths)
            held[probe, rows[concat_ranges(starts[column], lengths)]] = True
            found &= held
        return found

    def counts(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Per position, how many rows hold it (each counted ``weights`` times), float64."""
        repeated = None if weights is None else np.repeat(weights, self.lengths)
        return np.bincount(self.indices, weights=repeated, minlength=self.width).astype(float)

    def distinct(self, key_entries: int = KEY_ENTRIES) -> tuple[MultiHot, np.ndarray]:
        """The distinct rows and how often each occurs (float64), in the order of their dense
        float32 bytes (as ``np.unique`` sorts those): at a row's first differing position, the
        row holding it comes later. Sorted by a padded key, or by Python tuples when the key
        would exceed ``key_entries`` entries (a few very long rows)."""
        n, lengths = len(self), self.lengths
        longest = int(lengths.max()) if n else 0
        if n == 0 or longest == 0:
            return self.take(np.arange(min(n, 1))), np.array([n] * min(n, 1), dtype=float)
        if n * longest <= key_entries:
            # width - position, big-endian: bytes compare as numbers, a larger one first is a
            # smaller position held; padding (0) sorts a prefix first, as a row of zeros does.
            keys = np.zeros((n, longest), dtype=">u4")
            rank = np.arange(len(self.indices)) - np.repeat(self.indptr[:-1], lengths)
            keys[self.row_ids, rank] = self.width - self.indices.astype(np.int64)
            void = keys.view(np.dtype((np.void, 4 * longest))).ravel()
            _, first, counts = np.unique(void, return_index=True, return_counts=True)
            return self.take(first), counts.astype(np.float64)
        flat, bounds = (-self.indices.astype(np.int64)).tolist(), self.indptr.tolist()
        tuples = [tuple(flat[bounds[i] : bounds[i + 1]]) for i in range(n)]
        firsts: list[int] = []
        counted: list[int] = []
        for i in sorted(range(n), key=tuples.__getitem__):
            if firsts and tuples[i] == tuples[firsts[-1]]:
                counted[-1] += 1
            else:
                firsts.append(i)
                counted.append(1)
        return self.take(np.array(firsts, dtype=np.int64)), np.array(counted, dtype=float)
