"""Adapting what a user hands us (a ProbeModel, a path, a Keras model, an object with
``predict_proba``, a callable) to a ProbeModel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..features import FeatureSpace
from ..keras_runtime import load_keras
from .keras_files import from_keras, load_keras_model
from .probe_model import ProbeModel


def from_callable(
    function: Callable[[np.ndarray], Any],
    space: FeatureSpace,
    classes: Sequence[Any],
    *,
    outputs: str = "probabilities",
    description: str | None = None,
) -> ProbeModel:
    """Adapt a function from a (rows, features) float array to (rows, classes) outputs."""
    name = getattr(function, "__qualname__", None) or type(function).__name__
    return ProbeModel(
        function, space, classes, outputs=outputs, description=description or f"callable {name}"
    )


def as_probe_model(
    model: Any,
    space: FeatureSpace | None = None,
    classes: Sequence[Any] | None = None,
    *,
    outputs: str | None = None,
    sha256: str | None = None,
) -> ProbeModel:
    """Adapt a ProbeModel, a path, a Keras model, an object with ``predict_proba`` or a callable.

    ``sha256`` pins a model file (checked before loading); it applies to paths only."""
    if isinstance(model, ProbeModel):
        return model
    if isinstance(model, (str, Path)):
        return load_keras_model(model, space, classes, outputs=outputs, sha256=sha256)
    if space is None:
        raise ModelError("give the feature space the model reads")
    kind = outputs or "probabilities"
    if _is_keras_model(model):
        if classes is None:
            raise ModelError("give the class names of the model's outputs")
        return from_keras(model, space, classes, outputs=kind)
    if hasattr(model, "predict_proba"):
        classes = classes if classes is not None else getattr(model, "classes_", None)
        if classes is None:
            raise ModelError("give the class names (the model has no classes_)")
        return from_callable(
            model.predict_proba,
            space,
            classes,
            outputs=kind,
            description=f"{type(model).__name__}.predict_proba",
        )
    if callable(model):
        if classes is None:
            raise ModelError("give the class names of the model's outputs")
        return from_callable(model, space, classes, outputs=kind)
    raise ModelError(
        f"cannot probe a {type(model).__name__}: give a Keras model, a callable "
        "or an object with predict_proba"
    )


def _is_keras_model(model: Any) -> bool:
    # Only import Keras when the object could be one: plain callables stay cheap.
    modules = (getattr(cls, "__module__", "") or "" for cls in type(model).__mro__)
    if not any(m.startswith(("keras", "tensorflow", "tf_keras")) for m in modules):
        return False
    keras = load_keras()
    return isinstance(model, keras.Model)
