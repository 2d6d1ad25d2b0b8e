"""A probe's first Dense layer without a matrix product: the bias plus its active weight rows.

Sweeps list probes in lexicographic order, so most consecutive rows share all but their last
position and the last is one higher: such a run is a contiguous slice of the kernel plus one row
(the bias and the shared positions), one addition with no gather. For order 3 and up the last
two positions go together: the rows of a run are then a contiguous slice of a table of every
pair's weight-row sum (made once per model, when it is small), so a run covers a whole prefix
rather than one pair of it and there are far fewer runs for Python to loop over. Rows outside
long runs are gathered (one ``np.take`` per position), with the same sums in the same order:
whether a probe was in a run or gathered does not change its bits. (Which table a block uses is
chosen per block: a block holding an unsorted or out-of-range row uses the kernel, whose sums
for order 3 and up are added in another order, within float32 rounding.) ``shifted`` gives a
ReLU network's first layer less each run's base row, for ``shifted.ShiftedTail``.
"""

from __future__ import annotations

import threading

import numpy as np

from .numpy_layers import RowVector, add_row, row_op

#: The pair table is made only up to this size (all pairs of 250 features at 256 units).
PAIR_TABLE_BYTES = 32 << 20
#: A run of at least this many rows adds its base row over long rows (``RowVector``): the
#: repeated row costs a few microseconds, which a shorter run does not earn back (one core,
#: 4,096-row blocks: all triples of 200 features 175 -> 160 ms; all pairs of 1,000, runs of
#: about 500 rows, 50 -> 53 ms, within noise).
LONG_RUN = 256


class FirstLayer:
    """Pre-activations of the first layer for probes given by active positions."""

    #: Runs shorter than this on average use the row gather instead.
    min_mean_run = 8

    def __init__(self, kernel: np.ndarray, bias: np.ndarray) -> None:
        self.kernel = kernel
        self.bias = bias
        self._bias_row = RowVector(bias)
        self._lock = threading.Lock()
        self._pairs: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, active: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The pre-activations of ``active`` (rows x order positions), written into ``out``."""
        plan = self._plan(active, out)
        if plan is None:
            return out
        for source, base, target in plan:
            if len(target) >= LONG_RUN:
                add_row(source, RowVector(base), target)
            else:
                np.add(source, base, out=target)
        return out

    def shifted(self, active: np.ndarray, out: np.ndarray) -> tuple[list[int], np.ndarray]:
        """ReLU of the pre-activations less each run's base row, ``max(rows, -base)``, written
        into ``out`` in one pass (``shifted``); returns the runs' bounds in the block and their
        base rows. Blocks without runs are the ReLU of the plain sum with one base of zeros."""
        plan = self._plan(active, out)
        if plan is None:
            np.maximum(out, 0, out=out)
            return [0, len(out)], np.zeros((1, out.shape[1]), np.float32)
        bounds, bases = [0], np.empty((len(plan), out.shape[1]), np.float32)
        for run, (source, base, target) in enumerate(plan):
            np.negative(base, out=bases[run])
            if len(target) >= LONG_RUN:
                row_op(np.maximum, source, RowVector(bases[run]), target)
            else:
                np.maximum(source, bases[run], out=target)
            bounds.append(bounds[-1] + len(target))
        np.negative(bases, out=bases)
        return bounds, bases

    def _plan(
        self, active: np.ndarray, out: np.ndarray
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
        """Per run (source rows, base row, rows of ``out``); or None, with ``out`` written,
        when the block has no probe positions or too few long runs (then gathered)."""
        rows, order = active.shape
        if order == 0 or rows == 0:
            out[...] = self.bias
            return None
        table, index, lead = self._runs_over(active)
        breaks = np.diff(index) != 1
        if lead.shape[1]:
            breaks |= (np.diff(lead, axis=0) != 0).any(axis=1)
        starts = np.flatnonzero(breaks) + 1
        if (len(starts) + 1) * self.min_mean_run > rows:
            self._gathered(table, index, lead, out)
            return None
        bounds = np.concatenate([[0], starts, [rows]])
        heads = bounds[:-1]
        bases = self._bases(lead[heads])
        return [
            (table[first : first + end - begin], bases[run], out[begin:end])
            for run, (first, begin, end) in enumerate(
                zip(index[heads].tolist(), heads.tolist(), bounds[1:].tolist(), strict=True)
            )
        ]

    def prepare(self, order: int) -> None:
        """Make what a sweep of ``order`` reads (the pair table) before threads share it."""
        if order >= 3:
            self._pair_table()

    def _runs_over(self, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The table runs are slices of, each row's index in it and the positions before."""
        pairs = self._pair_table() if active.shape[1] >= 3 else None
        if pairs is not None:
            second, last = active[:, -2], active[:, -1]
            inside = active.min() >= 0 and active.max() < len(self.kernel)  # else as the kernel
            if inside and (second < last).all():
                table, offsets = pairs
                return table, offsets[second] + (last - second - 1), active[:, :-2]
        return self.kernel, active[:, -1], active[:, :-1]

    def _bases(self, lead: np.ndarray) -> np.ndarray:
        """Per run, the bias plus the weight rows of the positions before the table's part."""
        bases = np.repeat(self.bias[None, :], len(lead), axis=0)
        for column in range(lead.shape[1]):
            bases += self.kernel[lead[:, column]]
        return bases

    def _gathered(
        self, table: np.ndarray, index: np.ndarray, lead: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        """The rows one by one: the same sums as a run's, added in the same order (so a probe
        gets the same bits whether it was in a run or gathered)."""
        if lead.shape[1] == 0:
            np.take(table, index, axis=0, out=out)
            self._bias_row.add_to(out)
            return out
        np.take(self.kernel, lead[:, 0], axis=0, out=out)
        self._bias_row.add_to(out)
        gathered = np.empty_like(out)
        for column in range(1, lead.shape[1]):
            np.take(self.kernel, lead[:, column], axis=0, out=gathered)
            out += gathered
        np.take(table, index, axis=0, out=gathered)
        out += gathered
        return out

    def _pair_table(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Every pair's weight-row sum in lexicographic order (b < c), and per b the index of its
        first pair; None when the table would pass ``PAIR_TABLE_BYTES``."""
        n, width = self.kernel.shape
        if n * (n - 1) // 2 * width * 4 > PAIR_TABLE_BYTES:
            return None
        with self._lock:
            if self._pairs is None:
                counts = np.arange(n - 1, -1, -1)
                offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
                table = np.empty((n * (n - 1) // 2, width), dtype=np.float32)
                for b in range(n - 1):
                    at = int(offsets[b])
                    np.add(self.kernel[b + 1 :], self.kernel[b], out=table[at : at + n - 1 - b])
                table.setflags(write=False)
                self._pairs = (table, offsets.astype(np.intp))
            return self._pairs
