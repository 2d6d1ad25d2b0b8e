"""Chunks of probes through a model's predict: one by one, or batched and predicted ahead in
background threads when the model allows it (the Dense shortcut wholly in numpy).

Used by the zero-context sweep (``sweep``) and the context sweep (``context_sweep``); imports
nothing of the package.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, nullcontext
from typing import Any

import numpy as np

#: Calls predicted ahead of the one the caller reads: with two, one call's output checks run
#: while the next one's blocks hold the cores.
AHEAD = 2
#: Chunks (of the same width) predicted in one call in the background: each call's blocks end
#: in a barrier for the block threads, and fewer, larger calls wait less (all pairs of 1,000
#: features through iter_probabilities: 1.53x -> 1.46x the floor with 4, as measured by
#: ``python -m benchmarks.passes``).
BATCH = 4


def predictions(
    model: Any,
    predict: Callable[[np.ndarray], np.ndarray],
    chunks: Iterator[np.ndarray],
    several: bool,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(chunk, ``predict(chunk)``) for each chunk. When there are ``several`` chunks and the
    model allows it (``predicts_in_background``), up to ``BATCH`` chunks go to ``predict`` in
    one call, predicted ahead in background threads with the model's
    ``background_predictions`` held, and each chunk gets its rows of the result; else chunks
    are predicted one by one here (threads cost about 1 ms, which one chunk does not earn back)."""
    if several and getattr(model, "predicts_in_background", False):
        batches = predicted_ahead(lambda batch: predict(_joined(batch)), _batched(chunks))
        # Closed inside the hold: the calls in flight finish before it is lifted (a pass that
        # ended after it would set BLAS back to what it found, one thread).
        with getattr(model, "background_predictions", nullcontext)(), closing(batches):
            for batch, predicted in batches:
                start = 0
                for active in batch:
                    yield active, predicted[start : start + len(active)]
                    start += len(active)
    else:
        for active in chunks:
            yield active, predict(active)


def _batched(chunks: Iterator[np.ndarray]) -> Iterator[list[np.ndarray]]:
    """Runs of up to ``BATCH`` consecutive chunks of one width (probes of one order)."""
    batch: list[np.ndarray] = []
    for active in chunks:
        if batch and (len(batch) == BATCH or active.shape[1:] != batch[0].shape[1:]):
            yield batch
            batch = []
        batch.append(active)
    if batch:
        yield batch


def _joined(batch: list[np.ndarray]) -> np.ndarray:
    """A batch's chunks as one array (a lone chunk as it is, not copied)."""
    return batch[0] if len(batch) == 1 else np.concatenate(batch)


def predicted_ahead(
    predict: Callable[[Any], np.ndarray], items: Iterator[Any]
) -> Iterator[tuple[Any, np.ndarray]]:
    """``predict`` of each item, the next ones computed in background threads while the caller
    reads this one (making chunks, checking outputs and the table's work otherwise leave the
    cores idle between blocks). Leaving early waits for the calls in flight."""
    with ThreadPoolExecutor(AHEAD, thread_name_prefix="featureprobe-ahead") as pool:
        pending: deque[tuple[Any, Future[np.ndarray]]] = deque()
        for item in items:
            pending.append((item, pool.submit(predict, item)))
            if len(pending) > AHEAD:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
