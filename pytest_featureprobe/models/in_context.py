"""Probes applied to real rows through the Dense shortcut (``contexts``): each row's first
layer computed once, a probe adding its weight rows less those of the values it replaces.

The blocks run as the zero-context ones do (``DenseShortcut._blocks``), through the shifted
ReLU tail when the network allows it (``shifted``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..multihot import MultiHot
from .dense import DenseShortcut
from .first_layer import LONG_RUN
from .numpy_layers import RowVector, add_row, row_op


class RowsInContext:
    """Real rows' first layer, ready for probes applied to them (``contexts``): each row's
    pre-activation, computed once as the bias plus the sum of its weight rows (gathered from the
    rows' positions: no dense rows), and per categorical column the weight row of the row's
    value. A probe then adds, per feature f, ``W[f]`` minus the weight row of the value it
    replaces (a token: ``W[f]`` unless the row has it), which is what the plain pass computes."""

    def __init__(self, shortcut: DenseShortcut, rows: Any, columns: np.ndarray) -> None:
        self.shortcut = shortcut
        self.rows = rows if isinstance(rows, MultiHot) else MultiHot.from_dense(rows)
        self.columns = np.asarray(columns)
        kernel = shortcut.kernel
        self.base = weight_sums(kernel, self.rows)
        self.base += shortcut.bias
        self.values = {
            int(c): weight_sums(kernel, self.rows.restrict(self.columns == c))
            for c in np.unique(self.columns[self.columns >= 0])
        }
        # Per position, the rows that hold it (sorted): a token probe subtracts its weight row
        # again on those rows only.
        self._starts, self._holders = self.rows.by_position

    def outputs(self, active: np.ndarray) -> np.ndarray:
        """The network's raw outputs for each probe on every row, (probes x rows, outputs):
        each block's pre-activations are written straight into the block's buffer (so no
        probes x rows x hidden array is ever made) and blocks run as the zero-context ones do."""
        active = np.asarray(active, dtype=np.intp).reshape(len(active), -1)
        n_rows = len(self.rows)

        def spans(start: int, stop: int) -> Iterator[tuple[int, int, int, int]]:
            """(probe, first row, end row, offset in the block) of each probe's rows in a
            block (a block may end inside one probe's rows and span several probes')."""
            at = start
            while at < stop:
                probe, row = divmod(at, n_rows)
                end = min(n_rows, row + stop - at)
                yield probe, row, end, at - start
                at += end - row

        shifted = self.shortcut.shifted
        if shifted is not None:

            def block(start: int, stop: int, hidden: np.ndarray, buffers: list, out: np.ndarray):
                bounds, bases = [0], []
                for probe, row, end, at in spans(start, stop):
                    bases.append(self._fill_shifted(active[probe], row, end, hidden[at:]))
                    bounds.append(at + end - row)
                return shifted(hidden, bounds, np.stack(bases), buffers, out)

            return self.shortcut._blocks(len(active) * n_rows, block)

        def first(start: int, stop: int, hidden: np.ndarray) -> np.ndarray:
            for probe, row, end, at in spans(start, stop):
                self._fill(active[probe], row, end, hidden[at : at + end - row])
            return hidden

        return self.shortcut._blocks(len(active) * n_rows, self.shortcut._plain(first))

    def _fill(self, probe: np.ndarray, start: int, stop: int, out: np.ndarray) -> None:
        """Pre-activations of one probe on rows ``start:stop``, written into ``out``."""
        source = self.base[start:stop]
        if len(probe) == 0:
            np.copyto(out, source)
        for position in probe:
            weights = self.shortcut.kernel[position]
            if stop - start >= LONG_RUN:  # the row over long rows (``RowVector``)
                add_row(source, RowVector(weights), out)
            else:
                np.add(source, weights, out=out)
            source = out
            column = int(self.columns[position])
            if column >= 0:
                out -= self.values[column][start:stop]
                continue
            holders = self._holders[self._starts[position] : self._starts[position + 1]]
            had = holders[np.searchsorted(holders, start) : np.searchsorted(holders, stop)]
            if len(had):
                out[had - start] -= weights

    def _fill_shifted(
        self, probe: np.ndarray, start: int, stop: int, block: np.ndarray
    ) -> np.ndarray:
        """The shifted tail's first layer (``shifted``) for one probe on rows ``start:stop``,
        written into the first rows of ``block``: with ``c`` the sum of the probe's weight rows,
        ``max(rest, -c)``, where ``rest`` is each row's pre-activation less the weight rows of
        the values the probe replaces (``c`` is added back through the next layer). One or
        two passes instead of an addition a feature and a ReLU. Returns ``c``."""
        out = block[: stop - start]
        kernel = self.shortcut.kernel
        shared = np.zeros(kernel.shape[1], dtype=np.float32)
        source = self.base[start:stop]
        for position in probe:
            weights = kernel[position]
            shared += weights
            column = int(self.columns[position])
            if column >= 0:
                np.subtract(source, self.values[column][start:stop], out=out)
                source = out
                continue
            holders = self._holders[self._starts[position] : self._starts[position + 1]]
            had = holders[np.searchsorted(holders, start) : np.searchsorted(holders, stop)]
            if len(had):
                if source is not out:
                    np.copyto(out, source)
                    source = out
                out[had - start] -= weights
        floor = np.negative(shared)
        if stop - start >= LONG_RUN:
            row_op(np.maximum, source, RowVector(floor), out)
        else:
            np.maximum(source, floor, out=out)
        return shared


def weight_sums(kernel: np.ndarray, rows: MultiHot, max_bytes: int = 16 << 20) -> np.ndarray:
    """Per row, the sum of the kernel rows of its positions (rows x units, float32): the first
    layer's product with the multi-hot rows, gathered in blocks of at most about ``max_bytes``
    (an empty row sums to zeros)."""
    out = np.zeros((len(rows), kernel.shape[1]), dtype=np.float32)
    budget = max(1, max_bytes // (4 * max(kernel.shape[1], 1)))  # gathered weight rows a block
    indptr, lengths, start = rows.indptr, rows.lengths, 0
    while start < len(rows):
        stop = int(np.searchsorted(indptr, indptr[start] + budget, side="right")) - 1
        stop = min(max(stop, start + 1), len(rows))
        held = np.flatnonzero(lengths[start:stop])
        if len(held):
            gathered = kernel[rows.indices[indptr[start] : indptr[stop]]]
            at = indptr[start:stop][held] - indptr[start]
            out[start + held] = np.add.reduceat(gathered, at, axis=0)
        start = stop
    return out
