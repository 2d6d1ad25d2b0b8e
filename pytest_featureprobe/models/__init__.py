"""Models as the sweep sees them: ``ProbeModel`` and the ways to make one.

- ``probe_model``: the ``ProbeModel`` contract (checked outputs, ``predict_active``)
- ``dense``: the Dense shortcut (first layer as bias + active weight rows) and its check
- ``keras_files``: Keras models in memory and ``.keras`` files in safe mode, with pins
- ``sidecar``: the feature space and classes saved beside a model file
- ``adapt``: ``as_probe_model`` for callables, ``predict_proba`` objects, paths and Keras models

Imports the feature space, errors and (when a Keras model is really used) Keras; never the sweep
at import time, never pytest.
"""

from .adapt import as_probe_model, from_callable
from .dense import DenseShortcut, dense_shortcut, verify_shortcut
from .keras_files import file_sha256, from_keras, load_keras_model, weights_fingerprint
from .probe_model import PROBABILITY_TOLERANCE, ProbeModel, dense_rows
from .sidecar import OUTPUT_KINDS, SIDECAR_SUFFIX, read_sidecar, sidecar_space, write_sidecar

__all__ = [
    "OUTPUT_KINDS",
    "PROBABILITY_TOLERANCE",
    "SIDECAR_SUFFIX",
    "DenseShortcut",
    "ProbeModel",
    "as_probe_model",
    "dense_rows",
    "dense_shortcut",
    "file_sha256",
    "from_callable",
    "from_keras",
    "load_keras_model",
    "read_sidecar",
    "sidecar_space",
    "verify_shortcut",
    "weights_fingerprint",
    "write_sidecar",
]
