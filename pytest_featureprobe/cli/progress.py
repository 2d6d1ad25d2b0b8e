"""Progress on a terminal: a counter redrawn in place, and one line per finished step.

Quiet when stderr is not a TTY, so logs and pipes stay clean.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from ..errors import plural

if TYPE_CHECKING:
    import numpy as np

    from ..models import ProbeModel
    from ..sweep import Sweep


def _is_tty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Progress on a terminal: a counter redrawn in place and one line per step.

    Quiet (writes nothing) when the stream is not a TTY, so logs and pipes stay clean.
    """

    def __init__(self, stream: IO[str] | None = None, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_tty(self.stream) if enabled is None else enabled
        self._last = 0.0
        self._open = False

    def line(self, text: str) -> None:
        """One finished line of progress (e.g. a calibration seed done)."""
        if not self.enabled:
            return
        self._end_counter()
        self.stream.write(text + "\n")
        self.stream.flush()

    def count(self, label: str, done: int, total: int) -> None:
        """Redraw ``label: done/total (pct%)`` in place, at most ten times a second."""
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        percent = 100 * done / total if total else 100.0
        self.stream.write(f"\r{label}: {done:,}/{total:,} ({percent:.0f}%)")
        self.stream.flush()
        self._open = True
        if done >= total:
            self._end_counter()

    def _end_counter(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class _CountingModel:
    """A ProbeModel seen through a counter: the sweep calls ``predict_active`` once per chunk."""

    def __init__(self, model: ProbeModel, progress: Progress, label: str, total: int) -> None:
        self._model = model
        self._progress = progress
        self._label = label
        self._total = total
        self._done = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def predict_active(self, active: np.ndarray) -> np.ndarray:
        out = self._model.predict_active(active)
        self._done += len(active)
        self._progress.count(self._label, min(self._done, self._total), self._total)
        return out


def sweep_with_progress(
    model: ProbeModel,
    order: int,
    probes: Sequence[Sequence[str]] = (),
    progress: Progress | None = None,
) -> Sweep:
    """``run_sweep`` with a probe counter for sweeps larger than one batch (on a terminal)."""
    from ..probes import count_probes
    from ..sweep import DEFAULT_CHUNK_SIZE, run_sweep

    progress = progress if progress is not None else Progress()
    total = count_probes(len(model.space), order) + len(probes)
    if progress.enabled and total > DEFAULT_CHUNK_SIZE:
        counted = _CountingModel(
            model, progress, f"sweeping {plural(len(model.space), 'feature')}", total
        )
        sweep = run_sweep(counted, order=order, probes=probes)  # type: ignore[arg-type]
        progress.count(counted._label, total, total)
        return sweep
    return run_sweep(model, order=order, probes=probes)
