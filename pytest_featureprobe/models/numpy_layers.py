"""numpy versions of a Dense network's layers, for the shortcut's tail (``dense``).

Each activation overwrites its float32 argument, so a block needs no new arrays. Stock Keras
activations and plain float32 Dense layers run here; anything else runs through Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..keras_runtime import load_keras


def _np_linear(x: np.ndarray) -> np.ndarray:
    return x


#: Elementwise passes over a block run on views of ``PERIOD`` elements a row: numpy's loop is
#: then called once per 8,192 values rather than once per row of the layer (about twice as fast
#: for a 256-wide layer here, where a bias or ReLU pass is memory-bound). 32 KiB stays in L1.
PERIOD = 8192
_ZEROS = np.zeros(PERIOD, dtype=np.float32)
_ZEROS.setflags(write=False)


class RowVector:
    """A row (a bias, say) combined with every row of a block, repeated to about ``PERIOD``
    values so that the pass runs over long rows of a reshaped view rather than row by row."""

    def __init__(self, row: np.ndarray) -> None:
        self.row = np.ascontiguousarray(row, dtype=np.float32)
        self.repeat = max(1, PERIOD // max(len(self.row), 1))
        self.tiled = np.tile(self.row, self.repeat)
        self.tiled.setflags(write=False)

    def add_to(self, x: np.ndarray) -> np.ndarray:
        """``x += row`` on every row of the float32 (rows x width) ``x``."""
        return add_row(x, self, x)


def add_row(x: np.ndarray, row: RowVector, out: np.ndarray) -> np.ndarray:
    """``out = x + row.row`` on every row (``row_op`` with ``np.add``)."""
    return row_op(np.add, x, row, out)


def row_op(op: np.ufunc, x: np.ndarray, row: RowVector, out: np.ndarray) -> np.ndarray:
    """``out = op(x, row.row)`` on every row: over ``PERIOD``-long rows of reshaped views where
    both are contiguous, row by row for the rest."""
    rows = len(x)
    whole = rows - rows % row.repeat
    if whole and x.flags.c_contiguous and out.flags.c_contiguous:
        shape = (whole // row.repeat, len(row.tiled))
        op(x[:whole].reshape(shape), row.tiled, out=out[:whole].reshape(shape))
        op(x[whole:], row.row, out=out[whole:])
    else:
        op(x, row.row, out=out)
    return out


def _np_relu(x: np.ndarray) -> np.ndarray:
    if not x.flags.c_contiguous:
        return np.maximum(x, _ZEROS[:1], out=x)
    flat = x.reshape(-1)
    whole = len(flat) - len(flat) % PERIOD
    if whole:
        view = flat[:whole].reshape(-1, PERIOD)
        np.maximum(view, _ZEROS, out=view)
    rest = flat[whole:]
    np.maximum(rest, _ZEROS[: len(rest)], out=rest)
    return x


def _np_tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(x, out=x)


def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-x)) without overflow: (1 + tanh(x / 2)) / 2.
    x *= 0.5
    np.tanh(x, out=x)
    x += 1
    x *= 0.5
    return x


#: Softmax over at most this many classes runs on a transposed copy: a reduction along rows of
#: ten values costs numpy a loop call per row, one along columns is a pass per class.
NARROW = 64


def _np_softmax(x: np.ndarray) -> np.ndarray:
    if x.ndim != 2 or x.shape[1] > NARROW:
        x -= x.max(axis=-1, keepdims=True)
        np.exp(x, out=x)
        x /= x.sum(axis=-1, keepdims=True)
        return x
    columns = np.ascontiguousarray(x.T)
    columns -= columns.max(axis=0)
    np.exp(columns, out=columns)
    columns /= columns.sum(axis=0)
    x[...] = columns.T
    return x


def _np_silu(x: np.ndarray) -> np.ndarray:
    gate = x * np.float32(0.5)
    np.tanh(gate, out=gate)
    gate += 1
    gate *= 0.5
    x *= gate
    return x


def _np_elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    negative = np.expm1(np.minimum(x, 0))
    if alpha != 1.0:
        negative *= np.float32(alpha)
    np.copyto(x, negative, where=~(x > 0))
    return x


def _np_selu(x: np.ndarray) -> np.ndarray:
    x = _np_elu(x, alpha=1.6732632423543772)
    x *= np.float32(1.0507009873554805)
    return x


def _np_softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(x, np.float32(0), out=x)


NUMPY_ACTIVATIONS = {
    "linear": _np_linear,
    "swish": _np_silu,  # Keras 3's name for silu too
    "relu": _np_relu,
    "tanh": _np_tanh,
    "sigmoid": _np_sigmoid,
    "softmax": _np_softmax,
    "silu": _np_silu,
    "elu": _np_elu,
    "selu": _np_selu,
    "softplus": _np_softplus,
}


def _numpy_activations() -> dict[Any, Callable[[np.ndarray], np.ndarray]]:
    """Keras activation functions -> numpy versions that overwrite their float32 argument."""
    keras = load_keras()
    return {keras.activations.get(name): f for name, f in NUMPY_ACTIVATIONS.items()}


_ACTIVATIONS: dict[Any, Callable[[np.ndarray], np.ndarray]] | None = None


def activation_step(activation: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A numpy function for a standard Keras activation, else the activation itself via Keras."""
    global _ACTIVATIONS
    if _ACTIVATIONS is None:
        _ACTIVATIONS = _numpy_activations()
    if activation is None:
        return _ACTIVATIONS[load_keras().activations.get("linear")]
    try:
        function = _ACTIVATIONS.get(activation)
    except TypeError:  # unhashable callable object
        function = None
    if function is not None:
        return function

    def through_keras(x: np.ndarray) -> np.ndarray:
        return np.asarray(activation(x), dtype=np.float32)

    return through_keras


class TailStep:
    """One layer after the first, as a function of a float32 block and a buffer it may write
    into. ``width`` is its output width when it runs in numpy (None: through Keras); ``dense``
    is a numpy Dense layer's (kernel, bias or None, activation), for ``shifted``."""

    def __init__(
        self,
        function: Callable[..., np.ndarray],
        width: int | None,
        numpy: bool,
        dense: tuple[np.ndarray, np.ndarray | None, Callable[[np.ndarray], np.ndarray]]
        | None = None,
    ):
        self.function = function
        self.width = width
        self.numpy = numpy  # safe to run from several threads at once
        self.dense = dense

    def __call__(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return self.function(x, out)


def dense_step(
    kernel: np.ndarray, bias: np.ndarray | None, activate: Callable[[np.ndarray], np.ndarray]
) -> TailStep:
    """A float32 Dense layer as a numpy ``TailStep``: product, bias, activation in place."""
    kernel = np.ascontiguousarray(kernel, dtype=np.float32)
    bias = None if bias is None else np.ascontiguousarray(bias, dtype=np.float32)
    row = None if bias is None else RowVector(bias)

    def dense(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        out = np.matmul(x, kernel, out=out)
        if row is not None:
            row.add_to(out)
        return activate(out)

    numpy = activate in NUMPY_ACTIVATIONS.values()
    return TailStep(dense, kernel.shape[1], numpy, (kernel, bias, activate) if numpy else None)


def tail_step(layer: Any) -> TailStep:
    """One tail layer as a ``TailStep``: numpy for plain float32 Dense layers and Dropout."""
    keras = load_keras()
    if _plain_dense(layer, keras):
        bias = None if layer.bias is None else np.asarray(layer.bias)
        return dense_step(np.asarray(layer.kernel), bias, activation_step(layer.activation))
    if type(layer) is keras.layers.Dropout:  # the identity at inference
        return TailStep(lambda x, out=None: x, None, True)

    def through_keras(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(layer(x, training=False))

    return TailStep(through_keras, None, False)


def _plain_dense(layer: Any, keras: Any) -> bool:
    """A stock Dense layer computing in float32 (not quantized, no LoRA, not subclassed)."""
    return (
        type(layer) is keras.layers.Dense
        and getattr(layer, "quantization_mode", None) is None
        and not getattr(layer, "lora_enabled", False)
        and layer.compute_dtype == "float32"
        and layer.variable_dtype == "float32"
    )
