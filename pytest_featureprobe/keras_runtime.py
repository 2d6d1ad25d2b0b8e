"""The one place that imports Keras, so the cost is paid only when a model is really needed.

``load_keras`` quietens TensorFlow's C++ logs and picks the TensorFlow backend unless the user
chose another; ``start_keras_quietly`` also lets TensorFlow probe its devices with those logs
muted (the command line uses it: its stderr is a person's terminal). Imports nothing of ours.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType


def load_keras() -> ModuleType:
    """Import Keras (TensorFlow backend unless the user chose another), TF's C++ logs quietened."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    return keras


@contextmanager
def native_stderr_muted() -> Iterator[None]:
    """Silence file descriptor 2 (TensorFlow's C++ start-up logs bypass Python's sys.stderr)."""
    try:
        sys.stderr.flush()
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def start_keras_quietly() -> None:
    """Import Keras and let TensorFlow probe its devices with its C++ logs silenced (oneDNN and
    CUDA notices on every start). Set TF_CPP_MIN_LOG_LEVEL=0 or 1 to see them."""
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2") in ("0", "1"):
        load_keras()
        return
    with native_stderr_muted():
        keras = load_keras()
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()
            # "N out of the last N calls ... triggered tf.function retracing": each calibration
            # seed is a new model, so its training function is traced anew, as it must be
            tf.get_logger().setLevel("ERROR")
