"""The one place that imports Keras, so the cost is paid only when a model is really needed."""

from __future__ import annotations

import os
import platform
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


def platform_facts() -> dict[str, str]:
    """What besides the library versions can change a trained model's numbers: the CPU
    architecture, the operating system, the Python version and whether TensorFlow's oneDNN
    kernels are on (``TF_ENABLE_ONEDNN_OPTS`` as set, else ``default``). Read without importing
    TensorFlow. Turning oneDNN off changed the seed example's probabilities in the last float32
    digits (README, "Determinism")."""
    return {
        "cpu": platform.machine() or "unknown",
        "os": platform.system() or "unknown",
        "python": platform.python_version(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
    }
