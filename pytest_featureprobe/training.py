"""The deterministic dense classifier of the probe method, and its on-disk cache.

Input (multi-hot) -> Dense hidden layers -> softmax; Adam on sparse categorical cross-entropy.
Training is one ``fit`` call over a shuffled, repeated dataset with ``steps_per_epoch`` (no
per-epoch overhead) and ``steps_per_execution`` equal to all the steps (no per-step overhead: one
graph loop runs them all). Every random choice is seeded from ``TrainSpec.seed``: initialisers carry
explicit seeds and the data order comes from a seeded shuffle, so the same data, spec and seed give
bit-identical weights on one machine and library version set.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .backend import cache_platform, library_versions, load_keras, platform_facts
from .data import LabelledData
from .errors import SpecError

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "elu", "selu", "silu", "swish", "softplus")
CACHE_FORMAT = 1


class CacheWarning(UserWarning):
    """The model cache cannot be written: models are trained, but not cached."""


@dataclass(frozen=True)
class TrainSpec:
    """How to train the dense classifier; ``steps`` (optimizer steps), if set, beats ``epochs``."""

    hidden: tuple[int, ...] = (32, 32)
    activation: str = "relu"
    epochs: int = 300
    steps: int | None = None
    learning_rate: float = 0.01
    batch_size: int = 32
    seed: int = 0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> TrainSpec:
        """A spec from YAML-like values; each mistake is a SpecError naming its key."""
        known = {f for f in cls.__dataclass_fields__}
        for key in values:
            if key not in known:
                from .errors import did_you_mean

                raise SpecError(
                    f"unknown training option{did_you_mean(key, sorted(known))}; "
                    f"options are {', '.join(sorted(known))}",
                    key=key,
                )
        kwargs: dict[str, Any] = dict(values)
        if "hidden" in kwargs:
            hidden = kwargs["hidden"]
            if isinstance(hidden, int) and not isinstance(hidden, bool):
                hidden = [hidden]
            if not isinstance(hidden, (list, tuple)) or not all(_positive_int(h) for h in hidden):
                raise SpecError("a list of positive layer sizes, e.g. [16, 16]", key="hidden")
            kwargs["hidden"] = tuple(int(h) for h in hidden)
        spec = cls(**kwargs)
        spec.validate()
        return spec

    def validate(self) -> None:
        if not self.hidden or not all(_positive_int(h) for h in self.hidden):
            raise SpecError("a list of positive layer sizes, e.g. [16, 16]", key="hidden")
        if self.activation not in ACTIVATIONS:
            raise SpecError(
                f"{self.activation!r} is not one of {', '.join(ACTIVATIONS)}", key="activation"
            )
        for key in ("epochs", "batch_size"):
            if not _positive_int(getattr(self, key)):
                raise SpecError("a positive integer", key=key)
        if self.steps is not None and not _positive_int(self.steps):
            raise SpecError("a positive integer", key="steps")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise SpecError("a non-negative integer", key="seed")
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 10:
            raise SpecError("a positive number below 10", key="learning_rate")

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["hidden"] = list(self.hidden)
        return values

    def total_steps(self, n_rows: int) -> int:
        """Optimizer steps: ``steps`` if set, else ``epochs`` passes over the data."""
        if self.steps is not None:
            return self.steps
        return self.epochs * math.ceil(n_rows / min(self.batch_size, n_rows))


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def build_classifier(n_inputs: int, n_classes: int, spec: TrainSpec):
    """The untrained Keras model; initialisers are seeded per layer from ``spec.seed``."""
    keras = load_keras()
    layers = [keras.Input(shape=(n_inputs,), name="features")]
    sizes = [*spec.hidden, n_classes]
    for depth, size in enumerate(sizes):
        last = depth == len(sizes) - 1
        layers.append(
            keras.layers.Dense(
                size,
                activation="softmax" if last else spec.activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=spec.seed * 1000 + depth),
                name="probabilities" if last else f"hidden_{depth + 1}",
            )
        )
    return keras.Sequential(layers, name="featureprobe_dense")


def weight_shapes(n_inputs: int, n_classes: int, spec: TrainSpec) -> list[tuple[int, ...]]:
    """The shapes of ``build_classifier``'s weights, in ``get_weights`` order, without Keras:
    kernel and bias of each Dense layer."""
    sizes = [n_inputs, *spec.hidden, n_classes]
    shapes: list[tuple[int, ...]] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        shapes += [(fan_in, fan_out), (fan_out,)]
    return shapes


@dataclass
class TrainedClassifier:
    """A trained Keras model with the facts a report or baseline needs about its training."""

    model: Any
    spec: TrainSpec
    accuracy: float  # on the training rows, after training
    steps: int
    seconds: float
    cache_key: str
    from_cache: bool
    info: dict[str, Any] = field(default_factory=dict)


def compiled_classifier(data: LabelledData, spec: TrainSpec, steps_per_execution: int = 1) -> Any:
    """The seeded, compiled, untrained classifier: Adam, sparse categorical cross-entropy."""
    keras = load_keras()
    keras.utils.set_random_seed(spec.seed)
    model = build_classifier(len(data.space), len(data.classes), spec)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=spec.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def training_dataset(data: LabelledData, spec: TrainSpec) -> Any:
    """The rows in a seeded shuffle, repeated without end, in batches of ``batch_size``."""
    load_keras()
    import tensorflow as tf

    n_rows = len(data.y)
    return (
        tf.data.Dataset.from_tensor_slices((data.x, data.y))
        .shuffle(n_rows, seed=spec.seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(min(spec.batch_size, n_rows))
    )


def _fit(data: LabelledData, spec: TrainSpec):
    steps = spec.total_steps(len(data.y))
    # Every step inside one graph loop: no Python round trip per step. The steps and their
    # arithmetic are the same as one step per call, so the weights are too.
    model = compiled_classifier(data, spec, steps_per_execution=steps)
    dataset = training_dataset(data, spec)
    model.fit(dataset, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    return model, steps


def training_accuracy(model, data: LabelledData) -> float:
    probabilities = np.asarray(model(data.x, training=False))
    return float(np.mean(probabilities.argmax(axis=1) == data.y))


class ModelCache:
    """Trained weights on disk, keyed by a hash of data, spec, seed, library versions and platform.

    Weights are stored as a plain ``.npz`` (no pickle) and put into a model rebuilt from the spec,
    so a cache hit runs no deserialisation of code or config. Entries are written to a temporary
    folder and renamed into place, so a reader never sees half an entry; an entry that cannot be
    read, or holds weights of other shapes than asked for, is a miss and is replaced by the next
    ``store``. Several processes may store the same key at once: one entry wins, the others are
    equivalent and discarded.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.warned = False  # the CacheWarning is given once per cache object (per session)

    def warn_unwritable(self, error: OSError) -> None:
        """One ``CacheWarning`` per cache object: the run goes on, training without caching."""
        if self.warned:
            return
        self.warned = True
        reason = (error.strerror or str(error)).lower()
        warnings.warn(
            f"featureprobe: cannot write the model cache {self.root} ({reason}); models are "
            "trained but not cached",
            CacheWarning,
            stacklevel=3,
        )

    @staticmethod
    def key(data: LabelledData, spec: TrainSpec) -> str:
        header = {
            "cache_format": CACHE_FORMAT,
            "spec": spec.to_dict(),
            "space": data.space.to_dict(),
            "classes": list(data.classes),
            "versions": library_versions(),
            # A cache folder can travel (a CI cache restored on another runner): weights trained
            # on another CPU type or oneDNN setting may differ in their last digits from what
            # training here gives, so a hit must come from the same platform. Only what can
            # change the numbers counts (Python major.minor, oneDNN on/off/default).
            "platform": cache_platform(platform_facts()),
            "shape": list(data.x.shape),
        }
        digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
        digest.update(np.ascontiguousarray(data.x, dtype=np.float32).tobytes())
        digest.update(np.ascontiguousarray(data.y, dtype=np.int32).tobytes())
        return digest.hexdigest()[:32]

    def entry(self, key: str) -> Path:
        return self.root / "models" / key

    def lock(self, key: str):
        """An inter-process lock for one entry (a file beside it)."""
        from filelock import FileLock

        folder = self.root / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        return FileLock(folder / f"{key}.lock")

    def load(
        self,
        key: str,
        shapes: Sequence[tuple[int, ...]] | None = None,
        spec: Mapping[str, Any] | None = None,
    ) -> tuple[list[np.ndarray], dict[str, Any]] | None:
        """(weights, meta) of a stored entry, or None when it is absent or damaged: unreadable
        files, a folder that is a file, meta without accuracy and steps, arrays that are not
        floating point or, with ``shapes``, not of exactly those shapes, or meta recording
        another training ``spec`` (a dict, as ``TrainSpec.to_dict``) than the one given."""
        folder = self.entry(key)
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            with np.load(folder / "weights.npz", allow_pickle=False) as stored:
                names = set(stored.files)
                if names != {f"w{i}" for i in range(len(names))}:
                    return None
                weights = [stored[f"w{i}"] for i in range(len(names))]
        except Exception:  # any damage (OSError, zip, npy or JSON errors, ...) is a miss
            return None
        if not _valid_meta(meta):
            return None
        if spec is not None and meta.get("spec", spec) != dict(spec):
            return None
        if not all(np.issubdtype(w.dtype, np.floating) for w in weights):
            return None
        if shapes is not None and [w.shape for w in weights] != [tuple(s) for s in shapes]:
            return None
        return weights, meta

    def store(self, key: str, weights: Sequence[np.ndarray], meta: dict[str, Any]) -> None:
        """Write the entry atomically (a staging folder renamed into place). An equivalent entry
        already there (same shapes: another process stored the key first) is kept; a damaged
        one is moved aside and removed. Raises OSError when the cache cannot be written."""
        final = self.entry(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
        shapes = [tuple(np.shape(w)) for w in weights]
        spec = meta.get("spec")
        try:
            np.savez(staging / "weights.npz", **{f"w{i}": w for i, w in enumerate(weights)})
            (staging / "meta.json").write_text(
                json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8"
            )
            for _ in range(5):
                try:
                    os.replace(staging, final)
                    return
                except OSError:
                    pass  # something is in the way: an entry, a damaged one, or a file
                if self.load(key, shapes, spec) is not None:
                    return  # stored by another process meanwhile: equivalent, keep it
                self._discard(final)
            raise OSError(f"cannot replace the cache entry {final}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @staticmethod
    def _discard(final: Path) -> None:
        """Move a damaged entry aside (one atomic rename: one process wins) and delete it."""
        broken = final.parent / f".{final.name}-broken-{os.getpid()}-{time.time_ns()}"
        try:
            os.replace(final, broken)
        except OSError:
            return  # gone already (another process moved it), or cannot be moved
        if broken.is_dir() and not broken.is_symlink():
            shutil.rmtree(broken, ignore_errors=True)
        else:
            broken.unlink(missing_ok=True)


def _valid_meta(meta: Any) -> bool:
    if not isinstance(meta, dict):
        return False
    accuracy, steps = meta.get("accuracy"), meta.get("steps")
    return (
        isinstance(accuracy, (int, float))
        and not isinstance(accuracy, bool)
        and 0 <= accuracy <= 1
        and isinstance(steps, int)
        and not isinstance(steps, bool)
        and steps > 0
    )


def train_classifier(
    data: LabelledData, spec: TrainSpec | None = None, cache: ModelCache | None = None
) -> TrainedClassifier:
    """Train (or load from ``cache``) the dense classifier on encoded data.

    With a cache, the entry's file lock is held while checking, training and storing, so
    concurrent processes (pytest-xdist workers) train each model once and the others load it.
    A cache that cannot be written (read-only, a file in the way) gives one ``CacheWarning`` and
    the model is trained without it.
    """
    spec = spec or TrainSpec()
    spec.validate()
    key = ModelCache.key(data, spec)
    if cache is None:
        return _train(data, spec, key, None)
    try:
        lock = cache.lock(key)
        lock.acquire()
    except OSError as exc:
        cache.warn_unwritable(exc)
        return _train(data, spec, key, cache)
    try:
        return _train(data, spec, key, cache)
    finally:
        lock.release()


def _train(
    data: LabelledData, spec: TrainSpec, key: str, cache: ModelCache | None
) -> TrainedClassifier:
    started = time.perf_counter()
    hit = None
    if cache is not None:
        shapes = weight_shapes(len(data.space), len(data.classes), spec)
        hit = cache.load(key, shapes, spec.to_dict())
    if hit is not None:
        weights, meta = hit
        model = build_classifier(len(data.space), len(data.classes), spec)
        model.set_weights(weights)
        return TrainedClassifier(
            model=model,
            spec=spec,
            accuracy=float(meta["accuracy"]),
            steps=int(meta["steps"]),
            seconds=time.perf_counter() - started,
            cache_key=key,
            from_cache=True,
            info={"trained_seconds": meta.get("seconds")},
        )
    model, steps = _fit(data, spec)
    accuracy = training_accuracy(model, data)
    seconds = time.perf_counter() - started
    if cache is not None:
        meta = {"accuracy": accuracy, "steps": steps, "seconds": seconds, "spec": spec.to_dict()}
        try:
            cache.store(key, model.get_weights(), meta)
        except OSError as exc:
            cache.warn_unwritable(exc)
    return TrainedClassifier(
        model=model,
        spec=spec,
        accuracy=accuracy,
        steps=steps,
        seconds=seconds,
        cache_key=key,
        from_cache=False,
    )
