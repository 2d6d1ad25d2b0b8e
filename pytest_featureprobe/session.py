"""One place that trains, loads and sweeps each distinct model once per run.

The pytest fixtures and the collected expectation files share one ``ProbeSession``; a notebook or
another test runner can use it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .data import class_indices, feature_columns, prepare, read_table
from .errors import DataError, ModelError
from .features import FeatureSpace, feature_name
from .models import ProbeModel, as_probe_model, from_keras, read_sidecar, sidecar_space
from .paths import resolve
from .sweep import Sweep, run_sweep
from .training import ModelCache, TrainSpec, train_classifier

if TYPE_CHECKING:
    import pandas as pd

    from .baseline import Baseline
    from .spec import Document, ModelDecl


class ProbeSession:
    """Memoised models and sweeps; trained weights cached on disk under ``cache_dir`` when given."""

    def __init__(self, cache_dir: str | Path | None = None) -> None:
        self.cache = ModelCache(cache_dir) if cache_dir is not None else None
        self._models: dict[str, ProbeModel] = {}
        self._sweeps: dict[tuple[int, int, frozenset], Sweep] = {}
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
        frame, data_name = self._frame(data, base_dir)
        train_spec = TrainSpec.from_mapping(spec)
        encoded = prepare(frame, features, label)
        key = "train:" + ModelCache.key(encoded, train_spec)
        if key not in self._models:
            trained = train_classifier(encoded, train_spec, self.cache)
            self._models[key] = from_keras(
                trained.model,
                encoded.space,
                encoded.classes,
                description=f"dense classifier on {data_name} (seed {train_spec.seed})",
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
        space = self._space(features, base_dir)
        if isinstance(model, (str, Path)):
            path = resolve(model, base_dir)
            key = f"load:{path.resolve()}:{outputs}:{sha256}"
            if key not in self._models:
                self._models[key] = as_probe_model(
                    path, space, classes, outputs=outputs, sha256=sha256
                )
            return self._models[key]
        return as_probe_model(model, space, classes, outputs=outputs)

    def sweep(
        self, model: ProbeModel, order: int = 1, probes: Iterable[Iterable[Any]] = ()
    ) -> Sweep:
        """The model's sweep up to ``order`` plus explicit probes, computed once per session."""
        probe_sets = [tuple(p) for p in probes]
        key = (id(model), order, frozenset(probe_sets))
        if key not in self._sweeps:
            self._sweeps[key] = run_sweep(model, order=order, probes=probe_sets)
        return self._sweeps[key]

    # --- models declared in expectation files -------------------------------------------------

    def declared_model(
        self, decl: ModelDecl, base_dir: str | Path, fixture_value: Any = None
    ) -> ProbeModel:
        """The model a file's ``model:`` section names (``fixture_value`` for ``fixture:``)."""
        if decl.kind == "train":
            options = dict(decl.values)
            data, features, label = (options.pop(k) for k in ("data", "features", "label"))
            return self.train(data, features, label, base_dir=base_dir, **options)
        target = decl.values["target"] if decl.kind == "load" else fixture_value
        return self.load(
            target,
            decl.features,
            decl.classes,
            outputs=decl.outputs,
            base_dir=base_dir,
            sha256=decl.sha256,
        )

    def seed_sweeps(
        self,
        decl: ModelDecl,
        base_dir: str | Path,
        seeds: Iterable[int],
        order: int,
        probes: Iterable[Iterable[Any]] = (),
        on_seed: Callable[[int, ProbeModel], None] | None = None,
    ) -> list[Sweep]:
        """Sweeps of the declared training spec retrained with each seed: the seed band's data.

        ``on_seed(seed, model)`` is called after each seed's model is trained (for progress).
        """
        from dataclasses import replace

        from .errors import SpecError

        if decl.kind != "train":
            raise SpecError("seed calibration needs a model trained from data (model: train:)")
        probe_sets = list(probes)
        sweeps = []
        for seed in seeds:
            retrained = replace(decl, values={**decl.values, "seed": int(seed)})
            model = self.declared_model(retrained, base_dir)
            if on_seed is not None:
                on_seed(int(seed), model)
            known = {id(s) for s in self._sweeps.values()}
            sweeps.append(self.sweep(model, order=order, probes=probe_sets))
            if id(sweeps[-1]) not in known:
                self._calibration.add(id(sweeps[-1]))
        return sweeps

    def declared_baseline(
        self,
        document: Document,
        base_dir: str | Path,
        model: ProbeModel,
        sweep: Sweep,
        seeds: Sequence[int] | None = None,
        on_seed: Callable[[int, ProbeModel], None] | None = None,
    ) -> Baseline:
        """The baseline a file's ``drift:`` section asks for: today's sweep up to ``drift.order``
        and, with a band check (or ``seeds``), the seed band of the calibration seeds.

        ``on_seed(seed, model)`` is called after each calibration seed is trained (progress).
        """
        from .baseline import Baseline, model_facts

        drift, decl = document.drift, document.model
        if seeds is None and "band" in drift.values:
            seeds = drift.calibration_seeds(int(decl.values.get("seed", 0)))
        band = []
        if seeds:
            probes = document.extra_probes(model.space)
            band = self.seed_sweeps(decl, base_dir, seeds, sweep.order, probes, on_seed)
        settings = drift.values.get("band", {})
        return Baseline.from_sweep(
            sweep,
            model_facts(model),
            band,
            list(seeds or ()),
            max_order=drift.order if drift.order is not None else sweep.order,
            band_floor=settings.get("floor", 0.1),
            band_cap=settings.get("cap", 10.0),
        )

    def declared_names(
        self, decl: ModelDecl, base_dir: str | Path
    ) -> tuple[FeatureSpace, tuple[str, ...]] | None:
        """Feature space and classes of a declared model, found without Keras (None for fixtures).

        This lets expectation files be checked for unknown features and classes at collection.
        """
        if decl.kind == "train":
            frame, _ = self._frame(decl.values["data"], base_dir)
            if len(frame) == 0:
                raise DataError("the data has no rows", key="data")
            tokens, categorical = feature_columns(decl.values["features"])
            label = decl.values["label"]
            if label not in frame.columns:
                prepare(frame, decl.values["features"], label)  # raises the friendly error
            space = FeatureSpace.from_frame(frame, tokens=tokens, categorical=categorical)
            return space, class_indices(list(frame[label]))[1]
        if decl.kind == "fixture":
            return None
        path = resolve(decl.values["target"], base_dir)
        sidecar = read_sidecar(path) if path.is_file() else {}
        space = self._space(decl.features, base_dir)
        if space is None and "space" in sidecar:
            space = sidecar_space(path, sidecar)
        classes = decl.classes or sidecar.get("classes")
        if space is None or classes is None:
            raise ModelError(
                f"{path.name}: give model.features and model.classes "
                "(or save the model with featureprobe, which writes them beside it)"
            )
        return space, tuple(feature_name(c) for c in classes)

    def rows(self, model: ProbeModel, data: str | Path, base_dir: str | Path | None) -> np.ndarray:
        """Rows of a data file encoded in the model's feature space (for checks over real rows)."""
        frame, name = self._frame(data, base_dir)
        try:
            return model.space.encode(frame)
        except DataError as exc:  # placed by the caller, at the key that names the file
            raise DataError(f"{name}: {exc.message}") from None

    def _frame(self, data: Any, base_dir: str | Path | None) -> tuple[pd.DataFrame, str]:
        if isinstance(data, (str, Path)):
            path = resolve(data, base_dir).resolve()
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
    def _space(features: Any, base_dir: str | Path | None) -> FeatureSpace | None:
        if features is None or isinstance(features, FeatureSpace):
            return features
        if isinstance(features, (str, Path)):
            path = resolve(features, base_dir)
            if not path.is_file():
                raise DataError(f"feature space file not found: {features}", key="features")
            try:
                return FeatureSpace.from_json(path.read_text(encoding="utf-8"))
            except (DataError, OSError, UnicodeDecodeError) as exc:
                reason = exc.message if isinstance(exc, DataError) else str(exc)
                raise DataError(f"{features}: {reason}", key="features") from None
        return FeatureSpace.from_names(features)
