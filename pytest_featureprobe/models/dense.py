"""The Dense shortcut: a probe's first Dense layer as the bias plus a few weight rows.

For a Keras model whose first layer is Dense, a probe with k active inputs needs no matrix product
in that layer: its pre-activation is the bias plus the sum of k weight rows. The rest of the
network runs in blocks of rows: plain float32 Dense layers as numpy matrix products with in-place
activations, any other layer through Keras. ``verify_shortcut`` checks it against the plain
forward pass before it is used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..keras_runtime import load_keras
from .first_layer import FirstLayer
from .numpy_layers import (
    NUMPY_ACTIVATIONS,
    TailStep,
    activation_step,
    tail_step,
)
from .probe_model import dense_rows
from .shifted import ShiftedTail
from .threads import block_threads, run_in_threads

if TYPE_CHECKING:
    from .probe_model import ProbeModel

SHORTCUT_TOLERANCE = 1e-5

#: ``block(start, stop, hidden, buffers, out)``: one block's outputs, written into ``out`` (the
#: result's rows; None when a Keras layer decides the shape) or returned.
Block = Callable[[int, int, np.ndarray, list, Any], np.ndarray]


class DenseShortcut:
    """First Dense layer as bias + sum of active weight rows; the rest of the network batched.

    Probes are processed in blocks of ``block_rows`` rows, so every intermediate array stays small
    (cache-sized) whatever the chunk the sweep passes in. Dense layers in float32 (the usual tail)
    run as numpy matrix products with in-place activations; any other layer runs through Keras.
    A network of ReLU layers throughout runs shifted by each run's base row (``shifted``).
    """

    #: A block's widest layer is kept about this size. Larger blocks mean fewer numpy calls
    #: per row (which the two block threads otherwise wait on each other's GIL for) and fewer
    #: packings of the next layer's kernel: on pairs of 1,000 features, Dense 256-256, 4,096
    #: rows ran about 10% faster than 1,024 here (python -m benchmarks --only pairs shows the
    #: ratio to the matrix-multiply floor to check a change against).
    block_bytes = 4 << 20

    def __init__(
        self,
        kernel: np.ndarray,
        bias: np.ndarray,
        activation: Any,
        tail: Sequence[Any],
        *,
        steps: tuple[Callable[[np.ndarray], np.ndarray], Sequence[TailStep]] | None = None,
    ):
        """The first layer's ``kernel``, ``bias`` and Keras ``activation`` and the Keras
        ``tail`` layers; or, with ``steps``, the numpy activation and tail steps themselves
        (``numpy_model``: a network known by its weights alone, no Keras)."""
        self.kernel = np.ascontiguousarray(kernel, dtype=np.float32)
        self.bias = np.ascontiguousarray(bias, dtype=np.float32)
        self._first = FirstLayer(self.kernel, self.bias)
        self.activation = activation
        self.tail = list(tail)
        if steps is None:
            self._activate = activation_step(activation)
            self._steps = [tail_step(layer) for layer in self.tail]
        else:
            self._activate, self._steps = steps[0], list(steps[1])
        widths = [len(self.bias), *(step.width or 0 for step in self._steps)]
        #: Rows per internal block (a power of two from 256 to 8,192; see ``block_bytes``).
        self.block_rows = min(8192, max(256, _power_of_two(self.block_bytes // (4 * max(widths)))))
        #: The output width when every layer runs in numpy (blocks may then run in threads).
        self.numpy_width = _numpy_width(len(self.bias), self._activate, self._steps)
        #: ReLU layers throughout: probes run shifted by their runs' base rows (``shifted``).
        self.shifted = ShiftedTail.of(self._activate, self._steps)
        self._local = threading.local()

    @property
    def runs_in_parallel(self) -> bool:
        """Are a large call's blocks spread over threads (every layer in numpy, BLAS held to
        one thread each)? Not when numpy's BLAS is set to one thread (``threads``)."""
        return self.numpy_width is not None and block_threads(2) > 1

    def __call__(self, active: np.ndarray) -> np.ndarray:
        active = np.asarray(active, dtype=np.intp)
        if active.ndim != 2:
            active = active.reshape(len(active), -1)
        self._first.prepare(active.shape[1])
        if self.shifted is not None:
            shifted = self.shifted

            def block(start: int, stop: int, hidden: np.ndarray, buffers: list, out: np.ndarray):
                bounds, bases = self._first.shifted(active[start:stop], hidden)
                return shifted(hidden, bounds, bases, buffers, out)

            return self._blocks(len(active), block)

        def first(start: int, stop: int, hidden: np.ndarray) -> np.ndarray:
            return self._first(active[start:stop], hidden)

        return self._blocks(len(active), self._plain(first))

    def finish(self, pre: np.ndarray, in_place: bool = False) -> np.ndarray:
        """The network's outputs from first-layer pre-activations ``pre`` (rows x hidden, float32),
        in blocks of ``block_rows``; ``in_place`` lets the activation overwrite ``pre``."""

        def given(start: int, stop: int, hidden: np.ndarray) -> np.ndarray:
            if in_place:
                return pre[start:stop]
            np.copyto(hidden, pre[start:stop])
            return hidden

        return self._blocks(len(pre), self._plain(given))

    def _blocks(self, rows: int, block: Block) -> np.ndarray:
        """Outputs of ``rows`` rows, ``block`` by block (``_plain``, or the shifted tail's).
        Blocks are spread over threads when every layer runs in numpy."""
        size = max(1, int(self.block_rows))
        starts = list(range(0, rows, size)) or [0]  # one (empty) pass when rows == 0
        if self.numpy_width is None:  # a Keras layer: its output's shape is known once run
            return self._run(starts, rows, block, None)
        result = np.empty((rows, self.numpy_width), dtype=np.float32)
        threads = block_threads(len(starts))
        if threads == 1:
            return self._run(starts, rows, block, result)
        run_in_threads(lambda share: self._run(share, rows, block, result), starts, threads)
        return result

    def _plain(self, first: Callable[[int, int, np.ndarray], np.ndarray]) -> Block:
        """A block through the activation and each tail step; a last numpy layer writes its
        block straight into the result's rows, with no copy after it."""
        last = len(self._steps) - 1

        def block(start: int, stop: int, hidden: np.ndarray, buffers: list, out: Any) -> Any:
            x = self._activate(first(start, stop, hidden))
            for at, (step, buffer) in enumerate(zip(self._steps, buffers, strict=True)):
                if at == last and out is not None and step.width == out.shape[1]:
                    buffer = out
                x = step(x, buffer)
            return x

        return block

    def _run(
        self, starts: Sequence[int], rows: int, block: Block, result: np.ndarray | None
    ) -> np.ndarray:
        """The blocks at ``starts``, written into ``result`` (made here when None)."""
        size = min(rows, max(1, int(self.block_rows)))
        hidden, buffers = self._buffers(size)
        for start in starts:
            stop = min(start + size, rows)
            rows_here = [None if b is None else b[: stop - start] for b in buffers]
            target = None if result is None else result[start:stop]
            out = block(start, stop, hidden[: stop - start], rows_here, target)
            if result is None:
                result = np.empty((rows, *out.shape[1:]), dtype=out.dtype)
                target = result[start:stop]
            if out is not target:  # not written in place (a step that made its own array)
                target[...] = out
        return result

    def _buffers(self, size: int) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """This thread's block buffers (the first layer's, one per numpy tail layer), made once
        and reused by every block and call: a fresh array per block costs page faults the
        products then wait on."""
        held = getattr(self._local, "buffers", None)
        if held is None or len(held[0]) < size:
            rows = max(size, int(self.block_rows))
            hidden = np.empty((rows, len(self.bias)), dtype=np.float32)
            tail = [
                None if s.width is None else np.empty((rows, s.width), np.float32)
                for s in self._steps
            ]
            held = self._local.buffers = (hidden, tail)
        hidden, tail = held
        return hidden[:size], [None if b is None else b[:size] for b in tail]

    def first_layer(self, active: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Pre-activations of the first layer (bias + active weight rows) written into ``out``
        (``first_layer.FirstLayer``: runs of consecutive probes without a gather)."""
        return self._first(active, out)

    @property
    def min_mean_run(self) -> int:
        """Runs of consecutive probes shorter than this on average use a row gather instead."""
        return self._first.min_mean_run

    @min_mean_run.setter
    def min_mean_run(self, value: int) -> None:
        self._first.min_mean_run = value


def _numpy_width(width: int, activate: Any, steps: Sequence[TailStep]) -> int | None:
    """The output width of a network that runs wholly in numpy; None if any layer needs Keras."""
    if activate not in NUMPY_ACTIVATIONS.values():
        return None
    for step in steps:
        if not step.numpy:
            return None
        width = step.width or width
    return width


def _power_of_two(n: int) -> int:
    """The largest power of two not above ``n`` (1 for n < 2)."""
    return 1 << max(int(n).bit_length() - 1, 0)


def _keras_chain(model: Any) -> list[Any] | None:
    """The layers of a model that is a plain chain (Sequential, or a linear functional graph)."""
    keras = load_keras()
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if isinstance(model, keras.Sequential):
        return layers
    if not isinstance(model, keras.Model) or type(model).__name__ != "Functional":
        return None
    try:
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            return None
        previous = model.inputs[0]
        for layer in layers:
            if layer.input is not previous:
                return None
            previous = layer.output
        return layers if previous is model.outputs[0] else None
    except (AttributeError, ValueError):
        return None


def dense_shortcut(model: Any, n_inputs: int) -> DenseShortcut | None:
    """The shortcut for a Keras model whose first layer is Dense, or None when it does not apply."""
    keras = load_keras()
    layers = _keras_chain(model)
    if not layers or type(layers[0]) is not keras.layers.Dense:
        return None
    first = layers[0]
    if getattr(first, "quantization_mode", None) is not None:
        return None
    kernel = np.asarray(first.kernel)  # with any LoRA update merged in
    if kernel.ndim != 2 or kernel.shape[0] != n_inputs:
        return None
    bias = np.asarray(first.bias) if first.use_bias else np.zeros(kernel.shape[1], np.float32)
    return DenseShortcut(kernel, bias, first.activation, layers[1:])


def verify_shortcut(model: ProbeModel, shortcut: DenseShortcut) -> bool:
    """Does the shortcut agree with the plain forward pass on zero, single and a few pair probes?"""
    n = model.n_inputs
    singles = np.arange(min(n, 16)).reshape(-1, 1)
    pairs = np.stack([singles[:, 0], (singles[:, 0] + 1) % n], axis=1)[: max(0, n - 1)]
    for active in (np.zeros((1, 0), dtype=np.intp), singles, pairs):
        if len(active) == 0:
            continue
        plain = np.asarray(model.forward(dense_rows(active, n)), dtype=np.float64)
        fast = np.asarray(shortcut(active), dtype=np.float64)
        if plain.shape != fast.shape or not np.allclose(
            plain, fast, rtol=0, atol=SHORTCUT_TOLERANCE
        ):
            return False
    return True
