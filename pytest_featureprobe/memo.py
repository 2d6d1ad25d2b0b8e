"""The memo of a run: ``ProbeSession`` trains, loads and sweeps each distinct model once.

The pytest fixtures, the collected expectation files and the command share one ``ProbeSession``
per run; a notebook or another test runner can use it directly. What an expectation file's
sections ask of it is the runner's job (``runner.declared``). Imports the core below it: data,
models, the sweep and training.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .confinement import resolve
from .context_sweep import run_context_sweep
from .contexts import Context
from .data import prepare, read_table
from .errors import DataError
from .features import FeatureSpace, MultiHot
from .files import resolved, unreadable
from .model_cache import ModelCache
from .models.adapt import as_probe_model
from .models.keras_files import from_keras
from .models.numpy_model import from_dense_weights
from .models.probe_model import ProbeModel
from .probes import count_probes
from .sweep import Sweep
from .training import TrainedClassifier, TrainSpec, train_classifier

if TYPE_CHECKING:
    import pandas as pd


#: Told when a model trains (a cache miss): ``("started", what, None)`` before,
#: ``("finished", what, seconds)`` after, ``("stopped", what, None)`` when it raised (an error,
#: Ctrl-C). ``what`` reads as "dense classifier on penguins.csv (seed 0)".
TrainingNotice = Callable[[str, str, "float | None"], None]


def stream_notice(stream: IO[str]) -> TrainingNotice:
    """A ``TrainingNotice`` writing one line to ``stream`` (the command's stderr): what trains
    while it does, then how long it took (or that it stopped)."""

    def notice(event: str, what: str, seconds: float | None) -> None:
        if event == "started":
            stream.write(f"featureprobe: training {what}...")
        else:
            stream.write(f" {seconds:.1f} s\n" if event == "finished" else " stopped\n")
        stream.flush()

    return notice


#: Probes per sweep (triples of 300 features are 4.5 million); a table takes about
#: ``TABLE_BYTES_PER_PROBE`` bytes a probe with ten classes.
DEFAULT_MAX_PROBES = 5_000_000
TABLE_BYTES_PER_PROBE = 400


class ProbeSession:
    """Memoised models and sweeps; trained weights cached on disk under ``cache_dir`` when given."""

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        *,
        max_probes: int = DEFAULT_MAX_PROBES,
        notice: TrainingNotice | None = None,
    ) -> None:
        self.cache = ModelCache(cache_dir) if cache_dir is not None else None
        self.notice = notice  # told when a model trains: the runner says so (see TrainingNotice)
        self.max_probes = max_probes  # a larger sweep is refused before any work
        self._models: dict[str, ProbeModel] = {}
        self._sweeps: dict[tuple[int, int, frozenset, str, str], Sweep] = {}
        self._frames: dict[Path, pd.DataFrame] = {}
        self._calibration: set[int] = set()  # ids of sweeps made only for a seed band

    def train(
        self,
        data: str | Path | pd.DataFrame,
        features: str | Mapping[str, Any],
        label: str,
        *,
        base_dir: str | Path | None = None,
        **spec: Any,
    ) -> ProbeModel:
        """The dense classifier trained on ``data`` (a file, relative to ``base_dir``, or a frame).

        ``spec`` holds ``TrainSpec`` options (hidden, activation, epochs, steps, learning_rate,
        batch_size, seed). The same data and spec give the same model object within a session and
        a cached one across sessions.
        """
        encoded, train_spec, data_name, cache_key = self._training(
            data, features, label, base_dir, spec
        )
        key = "train:" + cache_key
        if key not in self._models:
            description = f"dense classifier on {data_name} (seed {train_spec.seed})"
            trained = self._trained(encoded, train_spec, description)
            self._models[key] = _trained_model(
                trained,
                encoded.space,
                encoded.classes,
                description=description,
                info={
                    "source": "train",
                    "data": data_name,
                    "spec": train_spec.to_dict(),
                    "training_accuracy": trained.accuracy,
                    "steps": trained.steps,
                    "seconds": round(trained.seconds, 3),
                    "from_cache": trained.from_cache,
                    "cache_key": trained.cache_key,
                },
            )
        return self._models[key]

    def _trained(self, encoded: Any, spec: TrainSpec, description: str) -> TrainedClassifier:
        """``train_classifier``, telling ``notice`` when a training starts and ends."""
        notice = self.notice
        started: list[bool] = []

        def starting() -> None:
            started.append(True)
            if notice is not None:
                notice("started", description, None)

        try:
            trained = train_classifier(encoded, spec, self.cache, on_training=starting)
        except BaseException as exc:  # an error or Ctrl-C: the line is ended, the exception goes on
            if started and notice is not None:
                notice("stopped", description, None)
            if isinstance(exc, KeyboardInterrupt):
                # A fresh one from this frame: the signal can land in a TensorFlow frame whose
                # tb_lineno is None, and pytest's report of the interruption then crashes.
                raise KeyboardInterrupt from None
            raise
        if started and notice is not None:
            notice("finished", description, trained.seconds)
        return trained

    def is_cached(
        self,
        data: str | Path | pd.DataFrame,
        features: str | Mapping[str, Any],
        label: str,
        *,
        base_dir: str | Path | None = None,
        **spec: Any,
    ) -> bool:
        """Whether ``train`` with these arguments would find its weights in the disk cache."""
        if self.cache is None:
            return False
        key = self._training(data, features, label, base_dir, spec)[3]
        return (self.cache.entry(key) / "meta.json").is_file()

    def _training(
        self,
        data: str | Path | pd.DataFrame,
        features: str | Mapping[str, Any],
        label: str,
        base_dir: str | Path | None,
        spec: Mapping[str, Any],
    ) -> tuple[Any, TrainSpec, str, str]:
        """What ``train`` and ``is_cached`` both need: the encoded data, the spec, the data's
        name and the cache key."""
        frame, data_name = self.frame(data, base_dir)
        train_spec = TrainSpec.from_mapping(dict(spec))
        encoded = prepare(frame, features, label, sparse=True)  # rows as positions
        return encoded, train_spec, data_name, ModelCache.key(encoded, train_spec)

    def load(
        self,
        model: Any,
        features: FeatureSpace | str | Path | Sequence[Any] | None = None,
        classes: Sequence[Any] | None = None,
        *,
        outputs: str | None = None,
        base_dir: str | Path | None = None,
        sha256: str | None = None,
    ) -> ProbeModel:
        """A saved ``.keras`` file (safe mode) or an in-memory model, adapted for probing.

        ``features`` is a FeatureSpace, a feature-space JSON file, or a list of feature names; for a
        ``.keras`` file saved by featureprobe it may be omitted (read from the sidecar file).
        ``sha256`` pins a model file: it is checked before the file is loaded.
        """
        space = self.space(features, base_dir)
        if isinstance(model, (str, Path)):
            path = resolve(model, base_dir)
            key = f"load:{resolved(path)}:{outputs}:{sha256}"
            if key not in self._models:
                self._models[key] = as_probe_model(
                    path, space, classes, outputs=outputs, sha256=sha256
                )
            return self._models[key]
        return as_probe_model(model, space, classes, outputs=outputs)

    def sweep(
        self,
        model: ProbeModel,
        order: int = 1,
        probes: Iterable[Iterable[Any]] = (),
        *,
        context: Context | None = None,
        calibration: bool = False,
    ) -> Sweep:
        """The model's sweep up to ``order`` plus explicit probes in ``context`` (default: the
        zero vector), computed once per session.

        ``calibration``: made only for a seed band, so ``sweeps()`` leaves it out."""
        context = Context.zero() if context is None else context
        probe_sets = [tuple(p) for p in probes]
        self._check_size(model, order, probe_sets)
        definition = json.dumps(context.definition, sort_keys=True, default=str)  # recorded
        key = (id(model), order, frozenset(probe_sets), context.name, definition, context.digest())
        if key not in self._sweeps:
            self._sweeps[key] = run_context_sweep(model, context, order=order, probes=probe_sets)
            if calibration:
                self._calibration.add(id(self._sweeps[key]))
        elif not calibration:  # asked for in its own right too: listed by sweeps()
            self._calibration.discard(id(self._sweeps[key]))
        return self._sweeps[key]

    def _check_size(self, model: ProbeModel, order: int, probes: list[tuple]) -> None:
        """Refuse, before any work, a sweep of more than ``max_probes`` probes."""
        standard = count_probes(len(model.space), min(order, len(model.space)))
        count = standard + sum(1 for p in probes if len(set(p)) > order)
        if count <= self.max_probes:
            return
        raise DataError(
            f"the sweep would run {count:,} probes (every probe up to order {order} of "
            f"{len(model.space):,} features: {standard:,}), over the limit of "
            f"{self.max_probes:,} (about {count * TABLE_BYTES_PER_PROBE / 2**30:.1f} GB of "
            "table); select fewer (every with containing sweeps only what it selects, or a "
            "lower sweep order) or raise the limit (--featureprobe-max-probes)",
            key="expect",
        )

    def rows(
        self, model: ProbeModel | FeatureSpace, data: str | Path, base_dir: str | Path | None
    ) -> MultiHot:
        """Rows of a data file encoded in the model's feature space (or in ``space``), kept as
        each row's positions (``MultiHot``: no rows x features matrix)."""
        frame, name = self.frame(data, base_dir)
        space = model if isinstance(model, FeatureSpace) else model.space
        try:
            return space.encode_sparse(frame)
        except DataError as exc:  # placed by the caller, at the key that names the file
            raise DataError(f"{name}: {exc.message}") from None

    def frame(self, data: Any, base_dir: str | Path | None) -> tuple[pd.DataFrame, str]:
        """A data file (relative to ``base_dir``) read once per session, or a DataFrame as given;
        with its name for messages."""
        if isinstance(data, (str, Path)):
            path = resolved(resolve(data, base_dir))  # a loop: read_table says so
            if path not in self._frames:
                self._frames[path] = read_table(path)
            return self._frames[path], path.name
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return data, "a DataFrame"
        raise DataError(
            f"data must be a file path or a pandas DataFrame, not {type(data).__name__}"
        )

    def sweeps(self) -> list[Sweep]:
        """The sweeps computed so far, in order, except those made only for seed bands."""
        return [s for s in self._sweeps.values() if id(s) not in self._calibration]

    @staticmethod
    def space(features: Any, base_dir: str | Path | None) -> FeatureSpace | None:
        """A feature space as given: a FeatureSpace, a feature-space JSON file (relative to
        ``base_dir``) or a list of names; None stays None."""
        if features is None or isinstance(features, FeatureSpace):
            return features
        if isinstance(features, (str, Path)):
            path = resolve(features, base_dir)
            problem = unreadable(path, "feature space file", features)
            if problem is not None:
                raise DataError(problem, key="features")
            try:
                return FeatureSpace.from_json(path.read_text(encoding="utf-8"))
            except (DataError, OSError, UnicodeDecodeError) as exc:
                reason = exc.message if isinstance(exc, DataError) else str(exc)
                raise DataError(f"{features}: {reason}", key="features") from None
        return FeatureSpace.from_names(features)


def _trained_model(
    trained: TrainedClassifier,
    space: FeatureSpace,
    classes: Sequence[str],
    *,
    description: str,
    info: dict[str, Any],
) -> ProbeModel:
    """A trained classifier as a ProbeModel: from its weights in numpy (fresh or cached alike,
    so both give the same numbers, and a cached one needs no TensorFlow), or through Keras for
    an activation numpy does not have."""
    model = from_dense_weights(
        trained.weights,
        trained.spec.activation,
        space,
        classes,
        description=description,
        info=info,
        keras_factory=lambda: trained.model,
    )
    if model is None:
        model = from_keras(trained.model, space, classes, description=description, info=info)
    return model
