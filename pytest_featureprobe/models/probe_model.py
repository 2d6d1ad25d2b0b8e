"""``ProbeModel``: a classifier over a feature space, whose every output is checked.

Keras models, plain callables mapping a float array to class probabilities, and objects with
``predict_proba`` are all adapted to it (``adapt.as_probe_model``). Every output is checked (shape,
finite, probabilities) before anyone reads it. Imports the feature space and errors; Keras only
through the adapters that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError, first_line, plural, quoted
from ..features import FeatureSpace, feature_name
from .sidecar import OUTPUT_KINDS, SIDECAR_SUFFIX, write_sidecar
from .threads import blas_at_one_thread

if TYPE_CHECKING:
    from ..sweep import Sweep
    from .dense import DenseShortcut

PROBABILITY_TOLERANCE = 1e-3


class ProbeModel:
    """A classifier over ``space`` that returns one probability per class in ``classes``."""

    def __init__(
        self,
        forward: Callable[[np.ndarray], Any],
        space: FeatureSpace,
        classes: Sequence[Any],
        *,
        outputs: str = "probabilities",
        fingerprint: str | None = None,
        description: str = "model",
        info: dict[str, Any] | None = None,
        keras_model: Any = None,
        keras_factory: Callable[[], Any] | None = None,
    ) -> None:
        if outputs not in OUTPUT_KINDS:
            raise ModelError(
                f"outputs must be one of {', '.join(OUTPUT_KINDS)}, not {quoted(outputs)}"
            )
        classes = tuple(feature_name(c) for c in classes)
        if len(classes) < 2:
            raise ModelError("a classifier needs at least two classes")
        if len(set(classes)) != len(classes):
            raise ModelError(f"class names repeat: {list(classes)}")
        self.forward = forward
        self.space = space
        self.classes = classes
        self.outputs = outputs
        self.fingerprint = fingerprint
        self.description = description
        self.info = dict(info or {})
        self._keras_model = keras_model
        self._keras_factory = keras_factory
        self.shortcut: DenseShortcut | None = None
        self._check_width()

    @property
    def keras_model(self) -> Any:
        """The Keras model behind this one, if any; a model known by its weights alone builds it
        on first use (so a run that only sweeps never imports TensorFlow for it)."""
        if self._keras_model is None and self._keras_factory is not None:
            self._keras_model = self._keras_factory()
        return self._keras_model

    @keras_model.setter
    def keras_model(self, model: Any) -> None:
        self._keras_model = model

    def __repr__(self) -> str:
        return (
            f"<ProbeModel {self.description}: {plural(len(self.space), 'feature')} -> "
            f"{plural(len(self.classes), 'class')} {list(self.classes)}>"
        )

    @property
    def n_inputs(self) -> int:
        return len(self.space)

    def _check_width(self) -> None:
        zero = np.zeros((1, self.n_inputs), dtype=np.float32)
        try:
            raw = self.forward(zero)
        except Exception as exc:  # the model is the user's code: report, do not crash
            raise ModelError(
                f"{self.description} failed on one all-zero row of width {self.n_inputs} "
                f"(the feature space size): {first_line(exc)}"
            ) from None
        self._probabilities(raw, zero_rows=1)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Checked class probabilities (float64, rows x classes) for dense input rows."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ModelError(f"input must have shape (rows, {self.n_inputs}), not {x.shape}")
        return self._probabilities(self.forward(x), zero_rows=len(x))

    def _numbers(self, raw: Any) -> np.ndarray:
        """The model's raw outputs as real numbers (float32 or float64, as returned; anything
        else as float64), or a ModelError naming what it returned instead (strings, objects, a
        generator, complex numbers: refused, not cast)."""
        kind = type(raw).__name__
        if hasattr(raw, "dtype") and np.issubdtype(np.asarray(raw).dtype, np.complexfloating):
            raise ModelError(f"{self.description} returned complex numbers, not probabilities")
        if isinstance(raw, (str, bytes)) or (not hasattr(raw, "__len__") and not np.isscalar(raw)):
            raise ModelError(f"{self.description} returned a {kind}, not an array of numbers")
        try:
            out = np.asarray(raw)
        except (TypeError, ValueError):  # ragged rows, say
            raise ModelError(f"{self.description} returned a {kind} that is not an array") from None
        if out.dtype.kind not in "biuf":  # bool, integers, floats; not text or objects
            raise ModelError(
                f"{self.description} returned values of dtype {out.dtype}, not numbers"
            )
        return out if out.dtype in (np.float32, np.float64) else out.astype(np.float64)

    @property
    def predicts_in_background(self) -> bool:
        """May ``predict_active`` run in a background thread while the caller reads the last
        chunk? Only for the Dense shortcut wholly in numpy with its blocks spread over threads:
        thread-safe, it releases the GIL, and it holds BLAS to one thread while it runs (a
        user's callable, a Keras tail or a one-thread BLAS setting stays in the calling thread)."""
        return self.shortcut is not None and self.shortcut.runs_in_parallel

    def background_predictions(self) -> AbstractContextManager[None]:
        """Held while chunks are predicted in background threads: numpy's BLAS at one thread
        throughout, not only during each pass. A BLAS call between passes (the output checks'
        row sums, a multi-threaded matrix-vector product from 65,536 rows on) would otherwise
        wake BLAS's own threads, which then compete with the next pass for the cores."""
        return blas_at_one_thread()

    def predict_active(self, active: np.ndarray) -> np.ndarray:
        """Probabilities for probes given as active input positions, shape (probes, order)."""
        active = np.asarray(active, dtype=np.intp).reshape(len(active), -1)
        if self.shortcut is not None:
            raw = self.shortcut(active)
        else:
            raw = self.forward(dense_rows(active, self.n_inputs))
        return self._probabilities(raw, zero_rows=len(active))

    def checked(self, raw: Any, rows: int) -> np.ndarray:
        """Raw outputs of ``rows`` inputs, checked and made probabilities as every prediction is
        (for callers that run the network themselves: the context sweep's shortcut)."""
        return self._probabilities(raw, zero_rows=rows)

    def _probabilities(self, raw: Any, zero_rows: int) -> np.ndarray:
        out = self._numbers(raw)
        expected = (zero_rows, len(self.classes))
        if out.shape != expected:
            raise ModelError(
                f"{self.description} returned shape {out.shape} for {plural(zero_rows, 'row')}; "
                f"expected {expected} (one column per class: {', '.join(self.classes)})"
            )
        # Checked in the dtype returned (float32 from the shortcut: half the bytes to read,
        # and its sums of a row's probabilities are exact to far below the tolerance), then
        # copied to float64. One sum tests the whole batch (row by row only when it is not
        # finite: a float32 sum of large finite values may overflow); row sums as one
        # matrix-vector product: numpy's reductions along a row of ten are slow.
        if not np.isfinite(out.sum()):
            bad = ~np.isfinite(out).all(axis=1)
            if bad.any():
                raise ModelError(
                    f"{self.description} returned NaN or infinite values "
                    f"(first in row {int(np.argmax(bad))} of a batch)"
                )
        if self.outputs == "logits":
            out = out.astype(np.float64)
            shifted = np.exp(out - out.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        if len(out) == 0:
            return out.astype(np.float64)
        low, high = out.min(), out.max()
        sums = out @ np.ones(out.shape[1], dtype=out.dtype)
        if (
            low < -PROBABILITY_TOLERANCE
            or high > 1 + PROBABILITY_TOLERANCE
            or (np.abs(sums - 1).max() > PROBABILITY_TOLERANCE)
        ):
            row = int(np.argmax(np.abs(sums - 1)))
            raise ModelError(
                f"{self.description} does not return probabilities: a row sums to "
                f"{sums[row]:.4g} (values from {low:.4g} to {high:.4g}); "
                "if it returns logits, declare outputs='logits'"
            )
        return out.astype(np.float64)

    def sweep(self, order: int = 1, probes: Sequence[Sequence[Any]] = (), **options: Any) -> Sweep:
        """Run the probe sweep on this model (see ``sweep.run_sweep``)."""
        from ..sweep import run_sweep

        return run_sweep(self, order=order, probes=probes, **options)

    def save(self, path: str | Path) -> Path:
        """Save a Keras-backed model as ``.keras`` plus a sidecar with its space and classes,
        renamed into place together: a failure leaves the old files (or none) as they were."""
        if self.keras_model is None:
            raise ModelError("only Keras-backed models can be saved")
        path = Path(path)
        if path.suffix != ".keras":
            raise ModelError(f"save to a .keras file, not {path.name}")
        from ..files import staged_files

        sidecar = Path(f"{path}{SIDECAR_SUFFIX}")  # both files or neither (files.staged_files)
        with staged_files([path, sidecar], suffix=".tmp.keras") as (staged, staged_sidecar):
            self.keras_model.save(staged)
            write_sidecar(path, self.space, self.classes, self.outputs, to=staged_sidecar)
        return path


def dense_rows(active: np.ndarray, width: int) -> np.ndarray:
    """Multi-hot float32 rows from active positions (probes x order)."""
    rows = np.zeros((len(active), width), dtype=np.float32)
    if active.size:
        rows[np.repeat(np.arange(len(active)), active.shape[1]), active.ravel()] = 1.0
    return rows
