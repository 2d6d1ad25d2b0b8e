"""The calibration seeds trained in parallel processes, each into the model cache.

A seed band or seed test retrains the spec K times (19 for ``false_alarm: 0.05``). The seeds
whose weights are not in the cache yet are trained by a pool of worker processes (spawned, so
each starts its own TensorFlow), each storing its weights in the cache under the entry's file
lock; the sweeps that follow load them from there. A second update with the same data and spec
finds every seed cached and trains nothing. Without a cache (``--featureprobe-no-cache``), with
one worker, or (auto) when the seeds train faster than processes start, they are trained one
after the other in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import plural
from ..memo import ProbeSession
from ..spec import ModelDecl

WORTH_PARALLEL_S = 30.0  # auto: start processes only when training serially would take longer
TRAINED_S = 0.05  # a model that took longer than this was trained, not found in memory
STARTUP_S = 8.0  # about what a worker takes to start TensorFlow before it trains anything
Progress = Callable[[str], None]


def default_workers() -> int:
    """Worker processes for calibration: one per core, at most 4 (each holds a TensorFlow)."""
    return max(1, min(4, os.cpu_count() or 1))


def seed_decl(decl: ModelDecl, seed: int) -> ModelDecl:
    """The declared model with another seed."""
    return replace(decl, values={**decl.values, "seed": int(seed)})


def train_missing_seeds(
    session: ProbeSession,
    decl: ModelDecl,
    base_dir: str | Path,
    seeds: Sequence[int],
    workers: int | None,
    seconds_per_seed: float,
    progress: Progress | None = None,
) -> list[int]:
    """Train the ``seeds`` not yet cached in worker processes, into the session's cache, and
    return them; the caller's loop loads them (or trains them itself when this returns none).
    ``workers`` None is auto: ``default_workers()`` processes, and only when training the
    missing seeds one by one (``seconds_per_seed`` each, as the first one took) would take
    longer than ``WORTH_PARALLEL_S`` and longer than starting the processes. Nothing happens
    without a cache (the weights could not travel back) or with one worker."""
    if session.cache is None or workers == 1:
        return []
    missing = [s for s in seeds if not _cached(session, seed_decl(decl, s), base_dir)]
    count = min(workers or default_workers(), len(missing))
    serial = seconds_per_seed * len(missing)
    parallel = STARTUP_S + serial / max(count, 1)
    if count < 2 or (workers is None and (serial < WORTH_PARALLEL_S or parallel >= serial)):
        return []
    if progress is not None:
        progress(
            f"calibrating: training {plural(len(missing), 'seed')} in {plural(count, 'process')}"
        )
    jobs = [(str(session.cache.root), seed_decl(decl, s), str(base_dir)) for s in missing]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        futures = {pool.submit(_train_one, *job): s for job, s in zip(jobs, missing, strict=True)}
        for done, future in enumerate(as_completed(futures), 1):
            future.result()  # a failure in a worker is raised here, as it would be in the loop
            if progress is not None:
                progress(f"calibrating: seed {futures[future]} trained ({done} of {len(missing)})")
    return missing


def _cached(session: ProbeSession, decl: ModelDecl, base_dir: str | Path) -> bool:
    """Whether the model ``decl`` declares has weights in the session's cache."""
    data, features, label, options = _train_arguments(decl)
    return session.is_cached(data, features, label, base_dir=base_dir, **options)


def _train_one(cache_root: str, decl: ModelDecl, base_dir: str) -> None:
    """In a worker process: train ``decl``'s model into the cache at ``cache_root``."""
    from ..keras_runtime import start_keras_quietly

    start_keras_quietly()
    data, features, label, options = _train_arguments(decl)
    ProbeSession(cache_root).train(data, features, label, base_dir=base_dir, **options)


def _train_arguments(decl: ModelDecl) -> tuple[Any, Any, str, dict[str, Any]]:
    """``train:``'s data, features, label and the training options, as ``ProbeSession.train``
    takes them."""
    options = dict(decl.values)
    data, features, label = (options.pop(k) for k in ("data", "features", "label"))
    return data, features, label, options
