"""What a document's sections ask of a ``ProbeSession``: the declared model, its names found
without Keras, the seed band's retrains and the baseline to write."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..baseline.churn import ZERO_CHURN, RowPredictions
from ..baseline.record import Baseline, model_facts
from ..baseline.seed_test import SEED_TEST_FLOOR, SLICE_MIN_ROWS, SeedCells
from ..confinement import resolve
from ..contexts import Context, distinct_rows, predict_rows
from ..data import class_indices, feature_columns, prepare
from ..errors import DataError, ModelError, SpecError
from ..features import FeatureSpace, feature_name
from ..memo import ProbeSession
from ..models.probe_model import ProbeModel
from ..models.sidecar import read_sidecar, sidecar_space
from ..multihot import MultiHot
from ..spec import Document, ModelDecl
from ..spec.context_decl import ContextDecl
from ..spec.document import ALL_CONTEXTS
from ..sweep import Sweep
from .calibration import TRAINED_S, Progress, seed_decl, train_missing_seeds

OnSeed = Callable[[int, ProbeModel], None]


def declared_model(
    session: ProbeSession, decl: ModelDecl, base_dir: str | Path, fixture_value: Any = None
) -> ProbeModel:
    """The model a file's ``model:`` section names (``fixture_value`` for ``fixture:``)."""
    if decl.kind == "train":
        options = dict(decl.values)
        data, features, label = (options.pop(k) for k in ("data", "features", "label"))
        return session.train(data, features, label, base_dir=base_dir, **options)
    target = decl.values["target"] if decl.kind == "load" else fixture_value
    return session.load(
        target,
        decl.features,
        decl.classes,
        outputs=decl.outputs,
        base_dir=base_dir,
        sha256=decl.sha256,
    )


def declared_sweep(
    session: ProbeSession,
    document: Document,
    model: ProbeModel,
    context: Context | None = None,
    decl: ContextDecl | None = ALL_CONTEXTS,
) -> Sweep:
    """The sweep a document's checks in one context read (``decl``: as the items declare it,
    default all of them): its order, plus the probes those entries name."""
    probes = document.extra_probes(model.space, decl)
    return session.sweep(model, order=document.sweep_order(decl), probes=probes, context=context)


def swept_in(
    session: ProbeSession,
    document: Document,
    model: ProbeModel,
    decl: ContextDecl | None,
    context: Context | None = None,
) -> tuple[Context, Sweep]:
    """The context the items declared in ``decl`` read (None: the file's default, from the
    model's feature space; ``context``: already read) and their sweep in it: what pytest and
    the command both check."""
    from .context_rows import declared_context, default_context

    chosen = decl if decl is not None else default_context(document.model, model.space)
    if context is None:
        base_dir = document.path.parent
        context = declared_context(session, chosen, document.model, model.space, base_dir)
    return context, declared_sweep(session, document, model, context, decl)


def drift_context(document: Document) -> ContextDecl | None:
    """The context the drift checks are declared in: drift's own, else the model section's
    (None: the default of the model's feature space)."""
    drift = document.drift
    own = drift.context if drift is not None else None
    return own if own is not None else document.model.context


def declared_names(
    session: ProbeSession, decl: ModelDecl, base_dir: str | Path
) -> tuple[FeatureSpace, tuple[str, ...]] | None:
    """Feature space and classes of a declared model, found without Keras (None for fixtures).

    This lets expectation files be checked for unknown features and classes at collection.
    """
    if decl.kind == "train":
        frame, _ = session.frame(decl.values["data"], base_dir)
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
    sidecar = read_sidecar(path) if os.path.isfile(path) else {}  # a bad name: not a file
    space = session.space(decl.features, base_dir)
    if space is None and "space" in sidecar:
        space = sidecar_space(path, sidecar)
    classes = decl.classes or sidecar.get("classes")
    if space is None or classes is None:
        raise ModelError(
            f"{path.name}: give model.features and model.classes "
            "(or save the model with featureprobe, which writes them beside it)"
        )
    return space, tuple(feature_name(c) for c in classes)


def seed_sweeps(
    session: ProbeSession,
    decl: ModelDecl,
    base_dir: str | Path,
    seeds: Iterable[int],
    order: int,
    probes: Iterable[Iterable[Any]] = (),
    on_seed: OnSeed | None = None,
    context: Context | None = None,
    rows: MultiHot | np.ndarray | None = None,
    workers: int | None = 1,
    progress: Progress | None = None,
) -> tuple[list[Sweep], list[np.ndarray]]:
    """Sweeps of the declared training spec retrained with each seed (the seed band's data),
        and each seed model's probabilities of ``rows`` (none without rows). The seeds not cached
        are trained in ``workers`` processes (None: auto; see ``calibration``) once the first has
    said how long one takes, with ``progress`` lines.

        ``on_seed(seed, model)`` is called after each seed's model is trained (for progress).
    """
    if decl.kind != "train":
        raise SpecError("seed calibration needs a model trained from data (model: train:)")
    seeds = [int(s) for s in seeds]
    probe_sets = list(probes)
    sweeps, predictions = [], []
    decided = False
    for number, seed in enumerate(seeds):
        started = time.perf_counter()
        model = declared_model(session, seed_decl(decl, seed), base_dir)
        took = time.perf_counter() - started
        if not decided and (took > TRAINED_S or number == len(seeds) - 1):
            decided = True  # the first seed trained here says how long one takes
            rest = seeds[number + 1 :]
            train_missing_seeds(session, decl, base_dir, rest, workers, took, progress)
        if on_seed is not None:
            on_seed(int(seed), model)
        sweeps.append(
            session.sweep(model, order=order, probes=probe_sets, context=context, calibration=True)
        )
        if rows is not None:
            predictions.append(predict_rows(model, rows))
    return sweeps, predictions


def declared_baseline(
    session: ProbeSession,
    document: Document,
    model: ProbeModel,
    sweep: Sweep,
    seeds: Sequence[int] | None = None,
    on_seed: OnSeed | None = None,
    context: Context | None = None,
    workers: int | None = 1,
    progress: Progress | None = None,
) -> Baseline:
    """The baseline a file's ``drift:`` section asks for: today's sweep up to ``drift.order``
    and, with a band check (or ``seeds``), the seed band of the calibration seeds (with
    ``false_alarm``, each seed's cells for the seed test). ``on_seed(seed, model)``: called
    after each seed is trained; ``context``: the one ``sweep`` was taken in (the seeds are
    swept in it too); ``workers`` and ``progress``: see ``seed_sweeps``."""
    drift, decl = document.drift, document.model
    if seeds is None and "band" in drift.values:
        seeds = drift.calibration_seeds(int(decl.values.get("seed", 0)))
    settings = drift.values.get("band", {})
    seed_test = "false_alarm" in drift.values
    rows = _row_predictions(document, model, context, seed_test)
    band, predictions = [], []
    if seeds:
        table = sweep.table
        probes = table.loc[table["order"] > sweep.order, "features"].tolist()
        base_dir = document.path.parent
        encoded = _positions(model.space, rows) if rows is not None and seed_test else None
        band, predictions = seed_sweeps(
            session,
            decl,
            base_dir,
            seeds,
            sweep.order,
            probes,
            on_seed,
            context,
            encoded,
            workers,
            progress,
        )
    baseline = Baseline.from_sweep(
        sweep,
        model_facts(model),
        band,
        list(seeds or ()),
        max_order=drift.order if drift.order is not None else sweep.order,
        probes=drift.probes,
        band_floor=settings.get("floor", 0.1),
        band_cap=settings.get("cap", 10.0),
        rows=rows,
    )
    if seed_test and band:
        baseline.seed_cells = _seed_cells(baseline, band, predictions, seeds, settings)
    return baseline


def _seed_cells(
    baseline: Baseline,
    sweeps: Sequence[Sweep],
    predictions: Sequence[np.ndarray],
    seeds: Sequence[int],
    settings: dict[str, Any],
) -> SeedCells:
    """The seed test's cells of the calibration ``sweeps`` and their rows' ``predictions``."""
    return SeedCells.of_seeds(
        list(seeds),
        np.stack([baseline.current(s) for s in sweeps]),
        baseline.rows,
        predictions,
        baseline.space,
        float(settings.get("floor", SEED_TEST_FLOOR)),
        int(settings.get("min_rows", SLICE_MIN_ROWS)),
    )


def _row_predictions(
    document: Document, model: ProbeModel, context: Context | None, seed_test: bool = False
) -> RowPredictions | None:
    """With a churn check (or the seed test on rows), the drift context's distinct rows and
    their predictions today (what the checks compare against); else None. The zero vector has
    no rows: churn is refused there, and the seed test reads only the probes."""
    wanted = "churn" in document.drift.gates() or seed_test
    if not wanted or (seed_test and (context is None or context.is_zero)):
        return None
    if context is None or context.is_zero:
        raise SpecError(ZERO_CHURN, key="drift")
    rows, counts = distinct_rows(context.rows)  # sparse: read a bounded block at a time
    names = [model.space.names(rows.row(i)) for i in range(len(rows))]
    return RowPredictions(names, counts.astype(np.int64), predict_rows(model, rows))


def _positions(space: FeatureSpace, rows: RowPredictions) -> MultiHot:
    """A baseline's rows (by feature names) as positions in ``space``, never dense."""
    return MultiHot.from_positions([space.indices(f) for f in rows.features], len(space))
