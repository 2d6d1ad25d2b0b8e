"""The one place that imports Keras, so the cost is paid only when a model is really needed."""

from __future__ import annotations

import os
from importlib import metadata
from types import ModuleType


def load_keras() -> ModuleType:
    """Import Keras (TensorFlow backend unless the user chose another), TF's C++ logs quietened."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    return keras


def library_versions() -> dict[str, str]:
    """Versions that change numerics or file formats; read from metadata, without importing."""
    versions = {}
    for dist in ("pytest-featureprobe", "tensorflow", "keras", "numpy"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "absent"
    return versions
