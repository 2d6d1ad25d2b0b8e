"""The deterministic dense classifier of the probe method (its cache is ``model_cache``).

Input (multi-hot) -> Dense hidden layers -> softmax; Adam on sparse categorical cross-entropy.
Training is one ``fit`` over a shuffled, repeated dataset of exactly the steps asked for, run in
graph calls of ``steps_per_call`` steps each (about half a second: no per-step Python round trip,
yet Ctrl-C is seen between two calls, and the KeyboardInterrupt leaves nothing cached). How the
steps are split changes no number: the steps and their arithmetic are the same. Every random choice
is seeded from ``TrainSpec.seed``: initialisers carry explicit seeds and the data order comes from
a seeded shuffle, so the same data, spec and seed give bit-identical weights on one machine and
library version set. Every option has a range that TensorFlow and NumPy take (the schema's maxima
are the same numbers), and a training that Keras ends early (its data ran out) or that diverges (a
loss or weight that is not finite) is an error, raised before the cache is written. Imports data,
the model cache and (when training) Keras.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .data import LabelledData
from .errors import ModelError, SpecError, did_you_mean, quoted
from .features import MultiHot
from .keras_runtime import ctrl_c_kept, load_keras
from .model_cache import CacheWarning, ModelCache

__all__ = ["ACTIVATIONS", "CacheWarning", "ModelCache", "TrainSpec", "train_classifier"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "elu", "selu", "silu", "swish", "softplus")

# The ranges of the options (schema.json gives the same maxima; tests/core/test_training.py checks
# that they agree). Seeds: what TensorFlow, NumPy and Python's random all take. Steps: a
# training's step count, far inside int32 (3,000,000,000 wrapped round and
# Keras ran none). Steps also bound ``epochs`` times the batches of an epoch.
MAX_SEED = 2**31 - 1
MAX_EPOCHS = 100_000
MAX_STEPS = 10_000_000
MAX_BATCH_SIZE = 2**20
MAX_LAYERS = 64
MAX_LAYER_SIZE = 2**16
LAYERS_HINT = f"a list of at most {MAX_LAYERS} positive layer sizes up to {MAX_LAYER_SIZE:,}"


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
                raise SpecError(f"{LAYERS_HINT}, e.g. [16, 16]", key="hidden")
            kwargs["hidden"] = tuple(int(h) for h in hidden)
        spec = cls(**kwargs)
        spec.validate()
        return spec

    def validate(self) -> None:
        hidden = self.hidden
        sizes = all(_positive_int(h, MAX_LAYER_SIZE) for h in hidden)
        if not hidden or len(hidden) > MAX_LAYERS or not sizes:
            raise SpecError(f"{LAYERS_HINT}, e.g. [16, 16]", key="hidden")
        if self.activation not in ACTIVATIONS:
            raise SpecError(
                f"{quoted(self.activation)} is not one of {', '.join(ACTIVATIONS)}",
                key="activation",
            )
        for key, top in (("epochs", MAX_EPOCHS), ("batch_size", MAX_BATCH_SIZE)):
            if not _positive_int(getattr(self, key), top):
                raise SpecError(f"a positive integer up to {top:,}", key=key)
        if self.steps is not None and not _positive_int(self.steps, MAX_STEPS):
            raise SpecError(f"a positive integer up to {MAX_STEPS:,}", key="steps")
        if not (_is_int(self.seed) and 0 <= self.seed <= MAX_SEED):
            raise SpecError(f"a non-negative integer up to {MAX_SEED:,} (2**31 - 1)", key="seed")
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

    def check_steps(self, n_rows: int) -> int:
        """``total_steps``, refused (at ``epochs``) above MAX_STEPS."""
        steps = self.total_steps(n_rows)
        if steps > MAX_STEPS:
            batches = steps // self.epochs
            raise SpecError(
                f"{self.epochs:,} epochs of {batches:,} batches are {steps:,} optimizer steps, "
                f"more than the {MAX_STEPS:,} one training may take: lower epochs, raise "
                "batch_size or give steps",
                key="epochs",
            )
        return steps


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any, top: int | None = None) -> bool:
    return _is_int(value) and value > 0 and (top is None or value <= top)


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
    """A trained classifier's weights, with the facts a report or baseline needs about its
    training. ``model`` is the Keras model: the one just trained, or, from the cache, rebuilt
    from the weights on first use (a run that only sweeps needs no TensorFlow for it)."""

    weights: list[np.ndarray]
    spec: TrainSpec
    accuracy: float  # on the training rows, after training
    steps: int
    seconds: float
    cache_key: str
    from_cache: bool
    shape: tuple[int, int]  # inputs, classes
    _model: Any = field(default=None, repr=False, compare=False)

    @property
    def model(self) -> Any:
        if self._model is None:
            model = build_classifier(*self.shape, self.spec)
            model.set_weights(self.weights)
            self._model = model
        return self._model


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
    """The rows in a seeded shuffle, repeated, in batches of ``batch_size``: exactly the
    batches of the training's steps (so the last graph call stops where the training does)."""
    load_keras()
    import tensorflow as tf

    n_rows = len(data.y)
    if not isinstance(data.x, MultiHot):
        return (
            tf.data.Dataset.from_tensor_slices((data.x, data.y))
            .shuffle(n_rows, seed=spec.seed, reshuffle_each_iteration=True)
            .repeat()
            .batch(min(spec.batch_size, n_rows))
            .take(spec.total_steps(n_rows))
        )
    # Row numbers take the rows' place: the same seeded shuffle of as many elements gives the
    # same order, and each batch is made dense when it is needed (memory: one batch, not all).
    return (
        tf.data.Dataset.from_tensor_slices((tf.range(n_rows, dtype=tf.int64), data.y))
        .shuffle(n_rows, seed=spec.seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(min(spec.batch_size, n_rows))
        .map(_dense_batches(data.x))
        .take(spec.total_steps(n_rows))
        .prefetch(2)
    )


def _dense_batches(rows: MultiHot) -> Callable[[Any, Any], tuple[Any, Any]]:
    """A tf.data map: a batch of row numbers and labels to the rows' float32 multi-hot matrix
    (each row's positions scattered as ones; a row holds each position once) and the labels."""
    import tensorflow as tf

    indptr = tf.constant(rows.indptr, dtype=tf.int64)
    indices = tf.constant(rows.indices, dtype=tf.int64)
    width = rows.width

    def dense(numbers: Any, labels: Any) -> tuple[Any, Any]:
        ranges = tf.ragged.range(tf.gather(indptr, numbers), tf.gather(indptr, numbers + 1))
        where = tf.stack([ranges.value_rowids(), tf.gather(indices, ranges.flat_values)], axis=1)
        ones = tf.ones(tf.shape(where)[:1], dtype=tf.float32)
        shape = tf.stack([tf.size(numbers, out_type=tf.int64), tf.constant(width, tf.int64)])
        return tf.scatter_nd(where, ones, shape), labels

    return dense


#: What one graph call of training should take, and the rough costs ``steps_per_call`` reads
#: it with: a fixed cost per step and multiply-adds per second (forward and backward: 3 of each
#: per weight and row), low enough for a slow CPU core.
CALL_SECONDS = 0.5
STEP_SECONDS = 2e-4
MULTIPLY_ADDS_PER_SECOND = 1e9


def steps_per_call(n_inputs: int, n_classes: int, spec: TrainSpec, steps: int) -> int:
    """Optimizer steps per graph call: as many as take about ``CALL_SECONDS`` (Ctrl-C is seen
    only between calls; each call costs a Python round trip), at least 1, at most ``steps``."""
    weights = sum(math.prod(shape) for shape in weight_shapes(n_inputs, n_classes, spec)[::2])
    per_step = STEP_SECONDS + 3 * spec.batch_size * weights / MULTIPLY_ADDS_PER_SECOND
    return max(1, min(steps, int(CALL_SECONDS / per_step)))


def _fit(data: LabelledData, spec: TrainSpec, between_calls: Callable[[], None] = lambda: None):
    steps = spec.check_steps(len(data.y))
    # One fit, one data iterator (Keras keeps it across epochs when steps_per_epoch is given),
    # each epoch one graph call of ``chunk`` steps; the dataset holds exactly ``steps``
    # batches, so the last call ends with them. The same steps as one graph loop of all of them.
    chunk = steps_per_call(len(data.space), len(data.classes), spec, steps)
    model = compiled_classifier(data, spec, steps_per_execution=chunk)
    dataset = training_dataset(data, spec)
    calls = math.ceil(steps / chunk)
    ask = load_keras().callbacks.LambdaCallback(on_epoch_end=lambda *_: between_calls())
    history = model.fit(
        dataset, epochs=calls, steps_per_epoch=chunk, shuffle=False, verbose=0, callbacks=[ask]
    )
    check_finished(model, history.history.get("loss", []), steps)
    return model, steps


def check_finished(model: Any, losses: list[float], steps: int) -> None:
    """Refuse a model that is not the one asked for: fewer optimizer steps than ``steps`` (Keras
    ends a fit whose data runs out with a warning, not an error) or a loss or weight that is not
    finite (a diverged training predicts the same for everything)."""
    done = int(np.asarray(model.optimizer.iterations))
    if done != steps:
        raise ModelError(
            f"training stopped after {done:,} of its {steps:,} optimizer steps (Keras ended it "
            "early), so this is not the model asked for; nothing was cached"
        )
    loss = float(losses[-1]) if losses else math.nan
    finite = all(np.isfinite(w).all() for w in model.get_weights())
    if not (math.isfinite(loss) and finite):
        what = "a weight is not finite" if math.isfinite(loss) else f"the loss is {loss:g}"
        raise ModelError(
            f"training diverged ({what} after {steps:,} steps): lower learning_rate; nothing "
            "was cached",
            key="learning_rate",
        )


def training_accuracy(model, data: LabelledData) -> float:
    """The share of training rows predicted right; rows given as positions are read in dense
    blocks of bounded size."""
    if not isinstance(data.x, MultiHot):
        predicted = np.asarray(model(data.x, training=False)).argmax(axis=1)
    else:
        parts = [np.asarray(model(b, training=False)).argmax(axis=1) for b in data.x.blocks()]
        predicted = np.concatenate(parts)
    return float(np.mean(predicted == data.y))


def train_classifier(
    data: LabelledData,
    spec: TrainSpec | None = None,
    cache: ModelCache | None = None,
    on_training: Callable[[], None] | None = None,
) -> TrainedClassifier:
    """Train (or load from ``cache``) the dense classifier on encoded data.

    ``on_training`` is called once when a training starts (not on a cache hit), so that a caller
    can say what is training while it does (the result's ``seconds`` say how long it took). A
    KeyboardInterrupt (Ctrl-C) stops the training between two graph calls and propagates: nothing
    is cached. With a cache, the entry's file lock is held while checking, training and storing, so
    concurrent processes (pytest-xdist workers) train each model once and the others load it. A
    cache that cannot be written (read-only, a file in the way) gives one ``CacheWarning`` and the
    model is trained without it.
    """
    spec = spec or TrainSpec()
    spec.validate()
    spec.check_steps(len(data.y))
    key = ModelCache.key(data, spec)
    if cache is None:
        return _train(data, spec, key, None, on_training)
    try:
        lock = cache.lock(key)
        lock.acquire()
    except OSError as exc:
        cache.warn_unwritable(exc)
        return _train(data, spec, key, cache, on_training)
    try:
        return _train(data, spec, key, cache, on_training)
    finally:
        lock.release()


def _train(
    data: LabelledData,
    spec: TrainSpec,
    key: str,
    cache: ModelCache | None,
    on_training: Callable[[], None] | None,
) -> TrainedClassifier:
    started = time.perf_counter()
    hit = None
    if cache is not None:
        shapes = weight_shapes(len(data.space), len(data.classes), spec)
        hit = cache.load(key, shapes, spec.to_dict())
    shape = (len(data.space), len(data.classes))
    if hit is not None:
        weights, meta = hit
        return TrainedClassifier(
            weights=list(weights),
            spec=spec,
            accuracy=float(meta["accuracy"]),
            steps=int(meta["steps"]),
            seconds=time.perf_counter() - started,
            cache_key=key,
            from_cache=True,
            shape=shape,
        )
    if on_training is not None:
        on_training()
    with ctrl_c_kept() as stop_if_pressed:  # a Ctrl-C that TensorFlow's import ate stops it too
        model, steps = _fit(data, spec, stop_if_pressed)
        accuracy = training_accuracy(model, data)
    seconds = time.perf_counter() - started
    if cache is not None:
        meta = {"accuracy": accuracy, "steps": steps, "seconds": seconds, "spec": spec.to_dict()}
        try:
            cache.store(key, model.get_weights(), meta)
        except OSError as exc:
            cache.warn_unwritable(exc)
    return TrainedClassifier(
        weights=model.get_weights(),
        spec=spec,
        accuracy=accuracy,
        steps=steps,
        seconds=seconds,
        cache_key=key,
        from_cache=False,
        shape=shape,
        _model=model,
    )
