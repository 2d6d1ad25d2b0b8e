"""A trained dense classifier as a ProbeModel from its weights alone, in numpy.

The classifier ``training`` builds is Dense layers with one activation and a softmax. Known by
its weights (from the model cache, or read off a model just trained), it runs as the Dense
shortcut with a numpy tail, and its plain forward pass is the same network on dense rows; the
Keras model is built only if someone asks for it. So a run whose models all come from the cache
never imports TensorFlow, and a fresh model and its cached copy give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..features import FeatureSpace
from .dense import DenseShortcut, verify_shortcut
from .keras_files import weights_fingerprint
from .numpy_layers import NUMPY_ACTIVATIONS, dense_step
from .probe_model import ProbeModel


def from_dense_weights(
    weights: Sequence[np.ndarray],
    activation: str,
    space: FeatureSpace,
    classes: Sequence[Any],
    *,
    description: str,
    info: dict[str, Any] | None = None,
    keras_factory: Callable[[], Any] | None = None,
) -> ProbeModel | None:
    """The classifier of ``weights`` (kernel and bias per Dense layer, hidden layers with
    ``activation``, then softmax) as a numpy ProbeModel; None when the activation has no numpy
    version (then adapt the Keras model). ``keras_factory`` makes the Keras model when asked."""
    hidden = NUMPY_ACTIVATIONS.get(activation)
    if hidden is None or len(weights) < 4 or len(weights) % 2:
        return None
    kernels, biases = list(weights[0::2]), list(weights[1::2])
    activations = [hidden] * (len(kernels) - 1) + [NUMPY_ACTIVATIONS["softmax"]]
    steps = [
        dense_step(k, b, a)
        for k, b, a in zip(kernels[1:], biases[1:], activations[1:], strict=True)
    ]
    shortcut = DenseShortcut(kernels[0], biases[0], activation, [], steps=(hidden, steps))

    def forward(x: np.ndarray) -> np.ndarray:
        rows = np.asarray(x, dtype=np.float32)
        return shortcut.finish(rows @ shortcut.kernel + shortcut.bias, in_place=True)

    model = ProbeModel(
        forward,
        space,
        classes,
        fingerprint=weights_fingerprint(weights),
        description=description,
        info=info,
        keras_factory=keras_factory,
    )
    if not verify_shortcut(model, shortcut):  # the two numpy paths agree unless weights are odd
        return None
    model.shortcut = shortcut
    return model
