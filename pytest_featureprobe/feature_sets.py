"""The sweep table's ``features`` column: each probe's feature positions, tuples made when read.

A sweep of all triples of 200 features has 1.3 million probes; a tuple of names for each is
1.3 million Python objects made (and paged in) while the sweep's cores are busy, most never
read. ``FeatureSets`` keeps the positions instead (rows x order, padded) and the space's names
once; a cell read, an iteration, ``tolist()`` or ``astype(object)`` gives the same tuples of
names an object column held. The dtype's name, ``"feature sets"``, works with ``astype``.

Imports pandas: loaded by the table builders only, never by the plugin at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from pandas import NA
from pandas.api.extensions import ExtensionArray, ExtensionDtype, register_extension_dtype
from pandas.api.indexers import check_array_indexer

#: ``lengths`` of a missing cell (a row added by a reindex).
MISSING = -1
#: Rows turned into tuples at a time when iterating.
_STRIDE = 65_536


@register_extension_dtype
class FeatureSetsDtype(ExtensionDtype):
    """A column of feature-name tuples (``FeatureSets``)."""

    name = "feature sets"
    type = tuple
    kind = "O"
    na_value = None

    @classmethod
    def construct_array_type(cls) -> type[FeatureSets]:
        return FeatureSets


class FeatureSets(ExtensionArray):
    """Feature-name tuples as ``positions`` (rows x width, padded) into ``names``, with each
    row's ``lengths`` (``MISSING`` for a missing cell). A slice is a copy, not a view (a cell
    set in one column never shows in another). ``df.loc[row, "features"] = cell`` is read by
    pandas as a sequence (it nests values in object columns only): set a cell with ``.at``."""

    def __init__(self, positions: np.ndarray, lengths: np.ndarray, names: np.ndarray) -> None:
        self._positions = positions
        self._lengths = lengths
        self._names = names

    # --- making one -----------------------------------------------------------------------

    @classmethod
    def from_positions(cls, chunks: Sequence[np.ndarray], names: Sequence[Any]) -> FeatureSets:
        """One column from chunks of positions (each rows x its order) into ``names``."""
        width = max((c.shape[1] for c in chunks), default=0)
        rows = sum(len(c) for c in chunks)
        positions = np.zeros((rows, width), dtype=np.int32)
        lengths = np.empty(rows, dtype=np.int32)
        at = 0
        for chunk in chunks:
            positions[at : at + len(chunk), : chunk.shape[1]] = chunk
            lengths[at : at + len(chunk)] = chunk.shape[1]
            at += len(chunk)
        return cls(positions, lengths, _object_array(names))

    @classmethod
    def _from_sequence(
        cls, scalars: Iterable[Any], *, dtype: Any = None, copy: bool = False
    ) -> FeatureSets:
        """From tuples (or lists) of names, or missing cells (None, NaN, pd.NA); anything else
        (a string, a tuple of tuples) raises TypeError."""
        vocabulary: dict[Any, int] = {}
        rows = [_cell(s) for s in scalars]
        width = max((len(r) for r in rows if r is not None), default=0)
        positions = np.zeros((len(rows), width), dtype=np.int32)
        lengths = np.empty(len(rows), dtype=np.int32)
        for i, row in enumerate(rows):
            if row is None:
                lengths[i] = MISSING
                continue
            lengths[i] = len(row)
            positions[i, : len(row)] = [vocabulary.setdefault(n, len(vocabulary)) for n in row]
        return cls(positions, lengths, _object_array(list(vocabulary)))

    @classmethod
    def _from_scalars(cls, scalars: Any, *, dtype: Any) -> FeatureSets:
        """What ``map``, ``apply`` and ``groupby().agg`` results are tried as: only cells of
        this column's kind, so that strings or lists of tuples fall back to an object column."""
        return cls._from_sequence(scalars, dtype=dtype)

    @classmethod
    def _from_factorized(cls, values: np.ndarray, original: FeatureSets) -> FeatureSets:
        return cls._from_sequence(values)

    @classmethod
    def _concat_same_type(cls, to_concat: Sequence[FeatureSets]) -> FeatureSets:
        """One column from several, their names merged into one list."""
        vocabulary: dict[Any, int] = {}
        parts = []
        for array in to_concat:
            codes = np.array(
                [vocabulary.setdefault(n, len(vocabulary)) for n in array._names], np.int32
            )
            parts.append((codes[array._positions] if len(codes) else array._positions, array))
        width = max((a._positions.shape[1] for a in to_concat), default=0)
        positions = np.zeros((sum(len(a) for a in to_concat), width), dtype=np.int32)
        at = 0
        for mapped, array in parts:
            positions[at : at + len(array), : mapped.shape[1]] = mapped
            at += len(array)
        lengths = np.concatenate([a._lengths for a in to_concat]) if to_concat else np.empty(0)
        return cls(positions, lengths.astype(np.int32), _object_array(list(vocabulary)))

    # --- reading --------------------------------------------------------------------------

    @property
    def dtype(self) -> FeatureSetsDtype:
        return FeatureSetsDtype()

    @property
    def nbytes(self) -> int:
        return self._positions.nbytes + self._lengths.nbytes + self._names.nbytes

    def __len__(self) -> int:
        return len(self._lengths)

    def __getitem__(self, key: Any) -> Any:
        key = _one_axis(key)
        if isinstance(key, (int, np.integer)):
            length = int(self._lengths[key])
            if length == MISSING:
                return None
            return tuple(self._names[self._positions[key, :length]].tolist())
        if not isinstance(key, slice):
            key = check_array_indexer(self, key)
        # A slice is copied as masks and index arrays are: no two columns share positions,
        # so setting a cell in one cannot change another.
        return type(self)(self._positions[key].copy(), self._lengths[key].copy(), self._names)

    def __iter__(self) -> Iterator[Any]:
        for start in range(0, len(self), _STRIDE):
            yield from self._tuples(start, min(start + _STRIDE, len(self)))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy is False:
            raise ValueError("the tuples of a feature-sets column are made when read: a copy")
        values = np.empty(len(self), dtype=object)
        values[:] = list(self)  # a list of tuples: numpy would make a 2-D array of it
        return values if dtype is None or np.dtype(dtype) == object else values.astype(dtype)

    def _tuples(self, start: int, stop: int) -> list[Any]:
        """Rows ``start:stop`` as tuples of names (None where missing), a run of rows of one
        length at a time (a sweep's rows come in runs of one order)."""
        lengths = self._lengths[start:stop]
        edges = [0, *(np.flatnonzero(np.diff(lengths)) + 1).tolist(), len(lengths)]
        out: list[Any] = []
        for begin, end in pairwise(edges):
            length = int(lengths[begin])
            if length <= 0:  # the zero probe's (), or missing cells
                out.extend([() if length == 0 else None] * (end - begin))
                continue
            columns = self._names[self._positions[start + begin : start + end, :length]]
            out.extend(zip(*columns.T.tolist(), strict=True))
        return out

    def isna(self) -> np.ndarray:
        return self._lengths == MISSING

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        """Elementwise: against one tuple of names (as an object column compares a scalar),
        or a column of them; anything else is unequal."""
        if isinstance(other, tuple):
            return self._equal_to(other)
        if isinstance(other, (ExtensionArray, np.ndarray, list)) and len(other) == len(self):
            return np.fromiter(
                (a is not None and a == b for a, b in zip(self, other, strict=True)),
                dtype=bool,
                count=len(self),
            )
        return np.zeros(len(self), dtype=bool)

    def _equal_to(self, wanted: tuple) -> np.ndarray:
        """Rows holding exactly ``wanted``, compared as positions (no tuples made)."""
        codes = {name: at for at, name in enumerate(self._names.tolist())}
        if len(wanted) > self._positions.shape[1] or any(n not in codes for n in wanted):
            return np.zeros(len(self), dtype=bool)
        wanted_at = np.array([codes[n] for n in wanted], dtype=np.int32)
        same = self._lengths == len(wanted)
        return same & (self._positions[:, : len(wanted)] == wanted_at).all(axis=1)

    def take(self, indices: Any, *, allow_fill: bool = False, fill_value: Any = None) -> Any:
        """Rows at ``indices``; with ``allow_fill``, -1 gives ``fill_value`` (missing)."""
        indices = np.asarray(indices, dtype=np.intp)
        if not allow_fill:
            return type(self)(
                self._positions.take(indices, axis=0), self._lengths.take(indices), self._names
            )
        if (indices < -1).any():
            raise ValueError("indices below -1 with allow_fill")
        fill = indices == -1
        if len(self) == 0 and not fill.all():
            raise IndexError("cannot take from an empty column")
        safe = np.where(fill, 0, indices) if len(self) else np.zeros(len(indices), np.intp)
        positions = (
            self._positions.take(safe, axis=0)
            if len(self)
            else np.zeros((len(indices), self._positions.shape[1]), np.int32)
        )
        lengths = self._lengths.take(safe) if len(self) else np.zeros(len(indices), np.int32)
        lengths[fill] = MISSING
        taken = type(self)(positions, lengths, self._names)
        if fill.any() and not _missing(fill_value):
            taken[fill] = fill_value
        return taken

    def copy(self) -> FeatureSets:
        return type(self)(self._positions.copy(), self._lengths.copy(), self._names)

    def __setitem__(self, key: Any, value: Any) -> None:
        """Cells set to a tuple of names (or a missing value), or to a sequence of them."""
        if getattr(self, "_readonly", False):
            raise ValueError("Cannot modify read-only array")
        key = _one_axis(key)
        if not isinstance(key, (slice, int, np.integer)):
            key = check_array_indexer(self, key)
        targets = np.arange(len(self))[key]
        if np.ndim(targets) == 0:
            if isinstance(value, FeatureSets) and len(value) == 1:  # a[i] = a[j : j + 1]
                value = value[0]
            targets, values = targets[None], [value]
        elif _missing(value) or _one_cell(value):
            values = [value] * len(targets)  # one tuple of names for every cell
        else:
            values = list(value)
        cells = [_cell(v) for v in values]
        if len(cells) != len(targets):
            raise ValueError(f"{len(cells)} values for {len(targets)} cells")
        codes = {name: at for at, name in enumerate(self._names.tolist())}
        added = [n for n in dict.fromkeys(n for c in cells if c for n in c) if n not in codes]
        if added:  # the names so far keep their codes: only the new ones are appended
            codes.update({name: len(codes) + at for at, name in enumerate(added)})
            self._names = _object_array([*self._names.tolist(), *added])
        width = max((len(c) for c in cells if c is not None), default=0)
        if width > self._positions.shape[1]:
            wider = np.zeros((len(self), width), dtype=np.int32)
            wider[:, : self._positions.shape[1]] = self._positions
            self._positions = wider
        for at, cell in zip(targets.tolist(), cells, strict=True):
            self._lengths[at] = MISSING if cell is None else len(cell)
            if cell:
                self._positions[at, : len(cell)] = [codes[n] for n in cell]

    def _values_for_factorize(self) -> tuple[np.ndarray, Any]:
        return np.asarray(self), None


def _one_axis(key: Any) -> Any:
    """A numpy-style key of one axis (``(key,)``, ``(..., key)``, a 0-d integer array) as
    the key itself."""
    if isinstance(key, tuple):
        rest = [k for k in key if k is not Ellipsis]
        if len(rest) > 1:
            raise IndexError("a feature-sets column has one axis")
        key = rest[0] if rest else slice(None)
    if isinstance(key, np.ndarray) and key.ndim == 0 and key.dtype.kind in "iu":
        return int(key)
    return key


def _missing(value: Any) -> bool:
    return value is None or value is NA or (isinstance(value, float) and value != value)


def _cell(value: Any) -> tuple | None:
    """One cell's value as a tuple of names (None: missing); TypeError for anything else."""
    if _missing(value):
        return None
    if isinstance(value, (tuple, list)) and all(isinstance(n, str) for n in value):
        return tuple(value)
    raise TypeError(f"a feature-sets cell is a tuple of names, not {type(value).__name__}")


def _one_cell(value: Any) -> bool:
    """A tuple of names (one cell's value) rather than a sequence of cells."""
    return isinstance(value, tuple) and not any(isinstance(v, (tuple, list)) for v in value)


def _object_array(items: Sequence[Any]) -> np.ndarray:
    values = np.empty(len(items), dtype=object)
    values[:] = list(items)
    return values
