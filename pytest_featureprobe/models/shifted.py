"""A ReLU network's tail with each run's base row carried beside the block (the Dense shortcut).

A run of probes shares a base row ``c`` (the bias and the positions they share), and
``relu(v + c) = max(v, -c) + c``. So the first layer is one pass, ``max(v, -c)`` over the run's
slice of the kernel (``FirstLayer.shifted``), instead of an addition and a ReLU; the ``+ c``
it leaves out goes into the next layer as ``c @ W``, added to that layer's bias per run: a
product of runs x width rather than rows x width. Each ReLU layer after that is again one pass,
``max(z, -c')``, in place of a bias pass and a ReLU pass, and the last layer adds its carried
row per run before its activation. Half the passes over each hidden block are gone (all pairs
of 1,000 features, Dense 256-256: four to two).

The same numbers in exact arithmetic; in float32 they differ from the plain order by rounding,
and the tests hold both to the plain forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

from .first_layer import LONG_RUN
from .numpy_layers import NUMPY_ACTIVATIONS, RowVector, TailStep, row_op

_RELU = NUMPY_ACTIVATIONS["relu"]


class ShiftedTail:
    """The tail layers of a network whose first layer and hidden layers are ReLU Dense layers,
    run on shifted blocks (``FirstLayer.shifted``) with their runs' base rows."""

    def __init__(
        self,
        hidden: Sequence[tuple[np.ndarray, np.ndarray | None]],
        last: tuple[np.ndarray, np.ndarray | None, Callable[[np.ndarray], np.ndarray]],
    ) -> None:
        self.hidden = list(hidden)
        self.last = last

    @classmethod
    def of(
        cls, activate: Callable[[np.ndarray], np.ndarray], steps: Sequence[TailStep]
    ) -> ShiftedTail | None:
        """The shifted tail when the first activation and every layer but the last are ReLU
        Dense layers in numpy (the last may have any numpy activation); else None."""
        if activate is not _RELU or not steps:
            return None
        layers = []
        for at, step in enumerate(steps):
            if step.dense is None or (at < len(steps) - 1 and step.dense[2] is not _RELU):
                return None
            layers.append(step.dense)
        return cls([(kernel, bias) for kernel, bias, _ in layers[:-1]], layers[-1])

    def __call__(
        self,
        shifted: np.ndarray,
        bounds: list[int],
        bases: np.ndarray,
        buffers: Sequence[np.ndarray],
        out: np.ndarray,
    ) -> np.ndarray:
        """The network's outputs, written into ``out``, from a shifted first-layer block, its
        runs' ``bounds`` and base rows ``bases``; ``buffers`` hold each hidden layer's block."""
        x, carried = shifted, bases
        for (kernel, bias), buffer in zip(self.hidden, buffers, strict=False):
            z = np.matmul(x, kernel, out=buffer[: len(x)])
            carried = _carried(carried, kernel, bias)
            np.negative(carried, out=carried)
            for run, (begin, end) in enumerate(pairwise(bounds)):
                if end - begin >= LONG_RUN:
                    row_op(np.maximum, z[begin:end], RowVector(carried[run]), z[begin:end])
                else:
                    np.maximum(z[begin:end], carried[run], out=z[begin:end])
            np.negative(carried, out=carried)
            x = z
        kernel, bias, activate = self.last
        np.matmul(x, kernel, out=out)
        carried = _carried(carried, kernel, bias)
        if len(carried) == 1:
            out += carried[0]
        else:
            out += np.repeat(carried, np.diff(bounds), axis=0)
        return activate(out)


def _carried(carried: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """The base rows' share of the next layer's pre-activation: ``carried @ W + b``."""
    product = carried @ kernel
    if bias is not None:
        product += bias
    return product
