"""The one place that imports Keras, so the cost is paid only when a model is really needed."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
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


def onednn_setting(value: str | None) -> str:
    """What TensorFlow makes of ``TF_ENABLE_ONEDNN_OPTS``: ``on`` for ``1`` or ``true``, ``off``
    for ``0`` or ``false`` (in any case), else ``default``. TensorFlow reads only those four
    words; unset, or set to anything else (``yes``, ``on``, `` 1``), it warns and keeps its
    default, which depends on the machine (on Linux: on for CPUs with AVX512-VNNI, AVX512-BF16,
    AVX-VNNI or AMX, off for others)."""
    word = (value or "").lower()
    if word in ("1", "true"):
        return "on"
    if word in ("0", "false"):
        return "off"
    return "default"


def cache_platform(facts: Mapping[str, str] | None = None) -> dict[str, str]:
    """The platform facts (default ``platform_facts()``) as the model cache key uses them: only
    what can change trained weights. The Python version is cut to major.minor (a patch release
    does not change TensorFlow's kernels) and the oneDNN setting to what TensorFlow makes of it
    (``onednn_setting``), so ``1`` and ``true`` share entries. The CPU is told apart by
    architecture only: two x86-64 machines with other instruction sets share a key."""
    facts = dict(platform_facts() if facts is None else facts)
    python = str(facts.get("python", "unknown"))
    facts["python"] = ".".join(python.split(".")[:2])
    onednn = facts.get("onednn", "default")
    facts["onednn"] = onednn_setting(None if onednn == "default" else onednn)
    return facts
