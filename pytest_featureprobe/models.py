"""Loading and adapting models so the sweep can probe them.

A ``ProbeModel`` is a classifier over a feature space: Keras models, plain callables mapping a
float array to class probabilities, and objects with ``predict_proba`` are all adapted to it. Every
output is checked (shape, finite, probabilities) before anyone reads it.

For a Keras model whose first layer is Dense, a probe with k active inputs needs no matrix product
in that layer: its pre-activation is the bias plus the sum of k weight rows. ``predict_active`` uses
that shortcut when it agrees with the plain forward pass, and the plain pass otherwise. The rest of
the network runs in blocks of rows: plain float32 Dense layers as numpy matrix products with
in-place activations, any other layer through Keras.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .backend import load_keras
from .errors import ModelError
from .features import FeatureSpace, feature_name, quoted

OUTPUT_KINDS = ("probabilities", "logits")
SIDECAR_SUFFIX = ".featureprobe.json"
PROBABILITY_TOLERANCE = 1e-3
SHORTCUT_TOLERANCE = 1e-5


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
    ) -> None:
        if outputs not in OUTPUT_KINDS:
            raise ModelError(f"outputs must be one of {', '.join(OUTPUT_KINDS)}, not {outputs!r}")
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
        self.keras_model = keras_model
        self.shortcut: DenseShortcut | None = None
        self._check_width()

    def __repr__(self) -> str:
        return (
            f"<ProbeModel {self.description}: {len(self.space)} features -> "
            f"{len(self.classes)} classes {list(self.classes)}>"
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
                f"(the feature space size): {_first_line(exc)}"
            ) from None
        self._probabilities(raw, zero_rows=1)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Checked class probabilities (float64, rows x classes) for dense input rows."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ModelError(f"input must have shape (rows, {self.n_inputs}), not {x.shape}")
        return self._probabilities(self.forward(x), zero_rows=len(x))

    def predict_active(self, active: np.ndarray) -> np.ndarray:
        """Probabilities for probes given as active input positions, shape (probes, order)."""
        active = np.asarray(active, dtype=np.intp).reshape(len(active), -1)
        if self.shortcut is not None:
            raw = self.shortcut(active)
        else:
            raw = self.forward(dense_rows(active, self.n_inputs))
        return self._probabilities(raw, zero_rows=len(active))

    def _probabilities(self, raw: Any, zero_rows: int) -> np.ndarray:
        out = np.asarray(raw, dtype=np.float64)
        expected = (zero_rows, len(self.classes))
        if out.shape != expected:
            raise ModelError(
                f"{self.description} returned shape {out.shape} for {zero_rows} rows; expected "
                f"{expected} (one column per class: {', '.join(self.classes)})"
            )
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():
            raise ModelError(
                f"{self.description} returned NaN or infinite values "
                f"(first in row {int(np.argmax(bad))} of a batch)"
            )
        if self.outputs == "logits":
            shifted = np.exp(out - out.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        sums = out.sum(axis=1)
        if (
            out.min() < -PROBABILITY_TOLERANCE
            or out.max() > 1 + PROBABILITY_TOLERANCE
            or (np.abs(sums - 1).max() > PROBABILITY_TOLERANCE)
        ):
            row = int(np.argmax(np.abs(sums - 1)))
            raise ModelError(
                f"{self.description} does not return probabilities: a row sums to "
                f"{sums[row]:.4g} (values from {out.min():.4g} to {out.max():.4g}); "
                "if it returns logits, declare outputs='logits'"
            )
        return out

    def sweep(self, order: int = 1, probes: Sequence[Sequence[Any]] = (), **options: Any):
        """Run the probe sweep on this model (see ``sweep.run_sweep``)."""
        from .sweep import run_sweep

        return run_sweep(self, order=order, probes=probes, **options)

    def save(self, path: str | Path) -> Path:
        """Save a Keras-backed model as ``.keras`` plus a sidecar with its space and classes."""
        if self.keras_model is None:
            raise ModelError("only Keras-backed models can be saved")
        path = Path(path)
        if path.suffix != ".keras":
            raise ModelError(f"save to a .keras file, not {path.name}")
        self.keras_model.save(path)
        sidecar = {"space": self.space.to_dict(), "classes": list(self.classes)}
        sidecar["outputs"] = self.outputs
        target = Path(str(path) + SIDECAR_SUFFIX)
        staging = target.with_name(f".{target.name}.tmp")
        staging.write_text(json.dumps(sidecar, indent=1))
        os.replace(staging, target)  # a reader never sees half a sidecar
        return path


def dense_rows(active: np.ndarray, width: int) -> np.ndarray:
    """Multi-hot float32 rows from active positions (probes x order)."""
    rows = np.zeros((len(active), width), dtype=np.float32)
    if active.size:
        rows[np.repeat(np.arange(len(active)), active.shape[1]), active.ravel()] = 1.0
    return rows


class DenseShortcut:
    """First Dense layer as bias + sum of active weight rows; the rest of the network batched.

    Probes are processed in blocks of ``block_rows`` rows, so every intermediate array stays small
    (cache-sized) whatever the chunk the sweep passes in. Dense layers in float32 (the usual tail)
    run as numpy matrix products with in-place activations; any other layer runs through Keras.
    """

    #: Rows per internal block: big enough for efficient matrix products, small enough for cache.
    block_rows = 8192
    #: Runs of consecutive last positions shorter than this on average use a row gather instead.
    min_mean_run = 8

    def __init__(self, kernel: np.ndarray, bias: np.ndarray, activation: Any, tail: Sequence[Any]):
        self.kernel = np.ascontiguousarray(kernel, dtype=np.float32)
        self.bias = np.ascontiguousarray(bias, dtype=np.float32)
        self.activation = activation
        self.tail = list(tail)
        self._activate = _activation_step(activation)
        self._steps = [_tail_step(layer) for layer in self.tail]

    def __call__(self, active: np.ndarray) -> np.ndarray:
        active = np.asarray(active, dtype=np.intp)
        if active.ndim != 2:
            active = active.reshape(len(active), -1)
        rows = len(active)
        block = max(1, int(self.block_rows))
        hidden = np.empty((min(rows, block), len(self.bias)), dtype=np.float32)
        result: np.ndarray | None = None
        for start in range(0, max(rows, 1), block):  # one (empty) pass when rows == 0
            part = active[start : start + block]
            out = hidden[: len(part)]
            self.first_layer(part, out)
            out = self._activate(out)
            for step in self._steps:
                out = step(out)
            if result is None:
                result = np.empty((rows, *out.shape[1:]), dtype=out.dtype)
            result[start : start + len(part)] = out
        return result

    def first_layer(self, active: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Pre-activations of the first layer (bias + active weight rows) written into ``out``.

        Sweeps list probes in lexicographic order, so most rows share all but their last position
        with the row before and their last position is one higher: such a run is one contiguous
        slice of the kernel plus one row (bias + the shared positions), added without a gather.
        Rows outside long runs take the gather: one ``np.take`` per position.
        """
        rows, order = active.shape
        if order == 0 or rows == 0:
            out[...] = self.bias
            return out
        last = active[:, -1]
        breaks = np.diff(last) != 1
        if order > 1:
            breaks |= (np.diff(active[:, :-1], axis=0) != 0).any(axis=1)
        starts = np.flatnonzero(breaks) + 1
        if (len(starts) + 1) * self.min_mean_run > rows:
            np.take(self.kernel, active[:, 0], axis=0, out=out)
            out += self.bias
            if order > 1:
                gathered = np.empty_like(out)
                for column in range(1, order):
                    np.take(self.kernel, active[:, column], axis=0, out=gathered)
                    out += gathered
            return out
        bounds = np.concatenate([[0], starts, [rows]])
        heads = active[bounds[:-1]].tolist()
        for head, begin, end in zip(heads, bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            base = self.bias
            for position in head[:-1]:
                base = base + self.kernel[position]
            first = head[-1]
            np.add(self.kernel[first : first + end - begin], base, out=out[begin:end])
        return out


def _numpy_activations() -> dict[Any, Callable[[np.ndarray], np.ndarray]]:
    """Keras activation functions -> numpy versions that overwrite their float32 argument."""
    keras = load_keras()

    def linear(x: np.ndarray) -> np.ndarray:
        return x

    def relu(x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0, out=x)

    def tanh(x: np.ndarray) -> np.ndarray:
        return np.tanh(x, out=x)

    def sigmoid(x: np.ndarray) -> np.ndarray:
        # 1 / (1 + exp(-x)) without overflow: (1 + tanh(x / 2)) / 2.
        x *= 0.5
        np.tanh(x, out=x)
        x += 1
        x *= 0.5
        return x

    def softmax(x: np.ndarray) -> np.ndarray:
        x -= x.max(axis=-1, keepdims=True)
        np.exp(x, out=x)
        x /= x.sum(axis=-1, keepdims=True)
        return x

    def silu(x: np.ndarray) -> np.ndarray:
        gate = x * np.float32(0.5)
        np.tanh(gate, out=gate)
        gate += 1
        gate *= 0.5
        x *= gate
        return x

    def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
        negative = np.expm1(np.minimum(x, 0))
        if alpha != 1.0:
            negative *= np.float32(alpha)
        np.copyto(x, negative, where=~(x > 0))
        return x

    def selu(x: np.ndarray) -> np.ndarray:
        x = elu(x, alpha=1.6732632423543772)
        x *= np.float32(1.0507009873554805)
        return x

    def softplus(x: np.ndarray) -> np.ndarray:
        return np.logaddexp(x, np.float32(0), out=x)

    functions = {
        "linear": linear,
        "relu": relu,
        "tanh": tanh,
        "sigmoid": sigmoid,
        "softmax": softmax,
        "silu": silu,
        "elu": elu,
        "selu": selu,
        "softplus": softplus,
    }
    return {keras.activations.get(name): function for name, function in functions.items()}


_ACTIVATIONS: dict[Any, Callable[[np.ndarray], np.ndarray]] | None = None


def _activation_step(activation: Any) -> Callable[[np.ndarray], np.ndarray]:
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


def _tail_step(layer: Any) -> Callable[[np.ndarray], np.ndarray]:
    """One tail layer as a function of a float32 block: numpy for plain float32 Dense layers."""
    keras = load_keras()
    if _plain_dense(layer, keras):
        kernel = np.ascontiguousarray(np.asarray(layer.kernel), dtype=np.float32)
        bias = None if layer.bias is None else np.asarray(layer.bias, dtype=np.float32)
        activate = _activation_step(layer.activation)

        def dense(x: np.ndarray) -> np.ndarray:
            out = np.matmul(x, kernel)
            if bias is not None:
                out += bias
            return activate(out)

        return dense
    if type(layer) is keras.layers.Dropout:
        return lambda x: x  # dropout is the identity at inference

    def through_keras(x: np.ndarray) -> np.ndarray:
        return np.asarray(layer(x, training=False))

    return through_keras


def _plain_dense(layer: Any, keras: Any) -> bool:
    """A stock Dense layer computing in float32 (not quantized, no LoRA, not subclassed)."""
    return (
        type(layer) is keras.layers.Dense
        and getattr(layer, "quantization_mode", None) is None
        and not getattr(layer, "lora_enabled", False)
        and layer.compute_dtype == "float32"
        and layer.variable_dtype == "float32"
    )


def _keras_chain(model: Any) -> list[Any] | None:
    """The layers of a model that is a plain chain (Sequential, or a linear functional graph)."""
    keras = load_keras()
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if isinstance(model, keras.Sequential):
        return layers
    if not isinstance(model, keras.Model) or type(model).__name__ != "Functional":
        return None
    try:
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            return None
        previous = model.inputs[0]
        for layer in layers:
            if layer.input is not previous:
                return None
            previous = layer.output
        return layers if previous is model.outputs[0] else None
    except (AttributeError, ValueError):
        return None


def dense_shortcut(model: Any, n_inputs: int) -> DenseShortcut | None:
    """The shortcut for a Keras model whose first layer is Dense, or None when it does not apply."""
    keras = load_keras()
    layers = _keras_chain(model)
    if not layers or type(layers[0]) is not keras.layers.Dense:
        return None
    first = layers[0]
    if getattr(first, "quantization_mode", None) is not None:
        return None
    kernel = np.asarray(first.kernel)  # with any LoRA update merged in
    if kernel.ndim != 2 or kernel.shape[0] != n_inputs:
        return None
    bias = np.asarray(first.bias) if first.use_bias else np.zeros(kernel.shape[1], np.float32)
    return DenseShortcut(kernel, bias, first.activation, layers[1:])


def _verify_shortcut(model: ProbeModel, shortcut: DenseShortcut) -> bool:
    """Does the shortcut agree with the plain forward pass on zero, single and a few pair probes?"""
    n = model.n_inputs
    singles = np.arange(min(n, 16)).reshape(-1, 1)
    pairs = np.stack([singles[:, 0], (singles[:, 0] + 1) % n], axis=1)[: max(0, n - 1)]
    for active in (np.zeros((1, 0), dtype=np.intp), singles, pairs):
        if len(active) == 0:
            continue
        plain = np.asarray(model.forward(dense_rows(active, n)), dtype=np.float64)
        fast = np.asarray(shortcut(active), dtype=np.float64)
        if plain.shape != fast.shape or not np.allclose(
            plain, fast, rtol=0, atol=SHORTCUT_TOLERANCE
        ):
            return False
    return True


def weights_fingerprint(weights: Sequence[np.ndarray]) -> str:
    """A short hash of a model's weights: equal weights, equal fingerprint."""
    digest = hashlib.sha256()
    for array in weights:
        array = np.ascontiguousarray(array)
        digest.update(str(array.shape).encode() + str(array.dtype).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def from_keras(
    model: Any,
    space: FeatureSpace,
    classes: Sequence[Any],
    *,
    outputs: str = "probabilities",
    description: str | None = None,
    info: dict[str, Any] | None = None,
    use_shortcut: bool = True,
) -> ProbeModel:
    """Adapt an in-memory Keras model; the input width must equal the feature space size."""
    width = _keras_input_width(model)
    if width is not None and width != len(space):
        raise ModelError(
            f"the model takes {width} inputs but the feature space has {len(space)} features"
        )

    def forward(x: np.ndarray) -> np.ndarray:
        return np.asarray(model(x, training=False))

    probe_model = ProbeModel(
        forward,
        space,
        classes,
        outputs=outputs,
        fingerprint=weights_fingerprint(model.get_weights()),
        description=description or f"Keras model {model.name!r}",
        info=info,
        keras_model=model,
    )
    if use_shortcut:
        shortcut = dense_shortcut(model, len(space))
        if shortcut is not None and _verify_shortcut(probe_model, shortcut):
            probe_model.shortcut = shortcut
    return probe_model


def _keras_input_width(model: Any) -> int | None:
    try:
        shape = model.inputs[0].shape
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    return int(shape[-1]) if shape and shape[-1] is not None else None


def load_keras_model(
    path: str | Path,
    space: FeatureSpace | None = None,
    classes: Sequence[Any] | None = None,
    *,
    outputs: str | None = None,
    sha256: str | None = None,
) -> ProbeModel:
    """Load a ``.keras`` file in safe mode, without compiling.

    The feature space and classes come from the arguments or else from the sidecar file
    ``<path>.featureprobe.json`` that ``ProbeModel.save`` writes. With ``sha256``, the file is
    read once into a private temporary folder while its digest is taken; the digest must match
    before Keras reads anything, and Keras loads that copy, so the file cannot be swapped between
    the check and the load. (The sidecar is not covered by the pin.)
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    if sha256 is None:
        return _load_keras_file(path, path, space, classes, outputs)
    try:
        scratch_folder = tempfile.TemporaryDirectory(
            prefix="featureprobe-", ignore_cleanup_errors=True
        )
    except OSError as exc:
        raise ModelError(
            f"cannot make a temporary folder to load the pinned {path.name} from: "
            f"{exc.strerror or exc}"
        ) from None
    with scratch_folder as scratch:
        copy = Path(scratch) / path.name
        actual = _copy_and_hash(path, copy)
        if actual != sha256.lower():
            raise ModelError(
                f"{path.name} does not match its pin: its sha256 is {actual}, the pin is "
                f"{sha256.lower()}; if the file was replaced on purpose, update the pin",
                key="sha256",
            )
        return _load_keras_file(path, copy, space, classes, outputs)


def _copy_and_hash(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` (reading it once) and return the SHA-256 of what was read."""
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as stream, open(target, "xb") as out:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
    except OSError as exc:
        raise ModelError(
            f"cannot copy {source.name} to a temporary folder to load it: {exc.strerror or exc}"
        ) from None
    return digest.hexdigest()


def _load_keras_file(
    path: Path,
    source: Path,
    space: FeatureSpace | None,
    classes: Sequence[Any] | None,
    outputs: str | None,
) -> ProbeModel:
    """Load ``source``, the bytes of the model file ``path`` (itself, or a checked copy of it
    with the same name); messages and the sidecar go by ``path``."""
    if path.suffix != ".keras":
        raise ModelError(
            f"{path.name}: only the .keras format is loaded (it supports safe mode); "
            "re-save legacy models with model.save('model.keras')"
        )
    sidecar = read_sidecar(path)
    if space is None:
        if "space" not in sidecar:
            raise ModelError(
                f"{path.name}: give the feature space (no {path.name}{SIDECAR_SUFFIX})"
            )
        space = sidecar_space(path, sidecar)
    if classes is None:
        if "classes" not in sidecar:
            raise ModelError(f"{path.name}: give the class names (no {path.name}{SIDECAR_SUFFIX})")
        classes = sidecar["classes"]
    if not zipfile.is_zipfile(source):
        # Keras reports such a file as "File not found", which misleads.
        raise ModelError(
            f"cannot load {path.name}: not a .keras (zip) archive; is it corrupt or truncated?"
        )
    keras = load_keras()
    try:
        model = keras.saving.load_model(source, compile=False, safe_mode=True)
    except Exception as exc:  # corrupt, unsafe or foreign files all end here
        detail = _first_line(exc).replace(str(source), str(path))  # not the temporary copy
        if "Lambda" in detail:
            raise ModelError(
                f"cannot load {path.name} in safe mode: it holds a Lambda layer, whose Python "
                "code safe mode will not run (the code in a model file could do anything). "
                "Rebuild the model without Lambda layers, or, if you trust the file, load it "
                f"yourself in a conftest fixture and use model: fixture:"
            ) from None
        raise ModelError(f"cannot load {path.name} in safe mode: {detail}") from None
    return from_keras(
        model,
        space,
        classes,
        outputs=outputs or sidecar.get("outputs", "probabilities"),
        description=f"Keras model {path.name}",
    )


def file_sha256(path: str | Path) -> str:
    """The SHA-256 hex digest of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar_space(path: Path, sidecar: dict[str, Any]) -> FeatureSpace:
    """The feature space a model's sidecar holds; a bad one names the sidecar and the key."""
    from .errors import DataError

    try:
        return FeatureSpace.from_dict(sidecar["space"])
    except DataError as exc:
        key = "space" + (f".{exc.key}" if exc.key else "")
        raise ModelError(f"{path.name}{SIDECAR_SUFFIX}: {key}: {exc.message}") from None


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar of a model file (``{}`` when there is none), its shape checked.

    A sidecar is UTF-8 JSON: an object whose ``space`` (if present) is a feature space,
    ``classes`` a list of at least two distinct class names (strings, numbers or booleans) and
    ``outputs`` one of ``OUTPUT_KINDS``; other keys are left alone. Anything else, and a file
    that cannot be read, is a one-line ModelError naming the sidecar and the key.
    """
    from .errors import not_utf8

    sidecar = Path(str(path) + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    raw = b""
    try:
        raw = sidecar.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise ModelError(f"cannot read {sidecar.name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ModelError(f"{sidecar.name}: {not_utf8(raw, exc)[0]}") from None
    except json.JSONDecodeError as exc:
        raise ModelError(
            f"{sidecar.name} is not valid JSON: {exc.msg} (line {exc.lineno})"
        ) from None
    except (ValueError, RecursionError) as exc:  # an integer too long, nesting too deep
        reason = str(exc).split(":")[0] or type(exc).__name__
        raise ModelError(f"{sidecar.name} is not valid JSON: {reason}") from None
    if not isinstance(data, dict):
        raise ModelError(f"{sidecar.name} must hold a JSON object, not {_json_kind(data)}")
    if "space" in data:
        if not isinstance(data["space"], dict):
            raise ModelError(
                f"{sidecar.name}: space: must be an object (a feature space), "
                f"not {_json_kind(data['space'])}"
            )
        sidecar_space(path, data)
    if "classes" in data:
        _check_sidecar_classes(sidecar.name, data["classes"])
    if "outputs" in data and (
        not isinstance(data["outputs"], str) or data["outputs"] not in OUTPUT_KINDS
    ):
        raise ModelError(
            f"{sidecar.name}: outputs: must be {' or '.join(OUTPUT_KINDS)}, "
            f"not {_json_kind(data['outputs'])}"
        )
    return data


def _check_sidecar_classes(name: str, classes: Any) -> None:
    if not isinstance(classes, list):
        raise ModelError(
            f"{name}: classes: must be a list of class names, not {_json_kind(classes)}"
        )
    if len(classes) < 2:
        raise ModelError(f"{name}: classes: must name at least two classes, not {len(classes)}")
    seen: set[str] = set()
    for number, item in enumerate(classes, start=1):
        if item is None or not isinstance(item, (str, int, float)):  # bool is an int
            raise ModelError(
                f"{name}: classes: item {number} is {_json_kind(item)}; class names are "
                "strings, numbers or booleans"
            )
        canonical = feature_name(item)
        if canonical in seen:
            raise ModelError(f"{name}: classes: {quoted(canonical)} appears twice")
        seen.add(canonical)


def _json_kind(value: Any) -> str:
    """A JSON value as a message shows it: containers by kind, scalars by value (cut short)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return quoted(value)


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
