"""Progress on a terminal: a counter redrawn in place with its rate and time left, and one
line per finished step (with the time left once two steps say how long one takes).

Quiet by default when stderr is not a TTY, so logs and pipes stay clean; enabled there, it
writes plain lines (no carriage returns): each step, and the counter once it is done.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

from ..errors import plural
from ..eta import StepClock, clock_time

if TYPE_CHECKING:
    import numpy as np

    from ..models import ProbeModel
    from ..sweep import Sweep

REDRAW_S = 0.1  # a counter is redrawn at most ten times a second


def is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _rate(per_second: float) -> str:
    return f"{per_second:,.0f}/s" if per_second >= 10 else f"{per_second:.2g}/s"


class Progress:
    """Progress on a terminal: a counter redrawn in place and one line per step, each with
    its rate and the time left; plain lines when enabled on a stream that is not a terminal."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = is_terminal(self.stream)
        self.enabled = self.terminal if enabled is None else enabled
        self._clock = clock
        self._last = float("-inf")
        self._open = 0  # the width of the counter drawn on the current line (0: none)
        self._started: dict[str, float] = {}
        self._steps = StepClock(clock)
        self._finished: set[str] = set()

    def line(self, text: str) -> None:
        """One finished line of progress (e.g. a calibration seed done)."""
        if not self.enabled:
            return
        self._end_counter()
        self.stream.write(text + "\n")
        self.stream.flush()

    def step(self, text: str, done: int, total: int) -> None:
        """Step ``done`` of ``total`` finished: ``text``, and from the second step on how long
        one takes and the time left (measured from the first step, so a slow start such as
        TensorFlow's import is not counted)."""
        self.line(text + self._steps.finished(done, total))

    def count(self, label: str, done: int, total: int) -> None:
        """``label: done/total (pct%)`` with the rate and the time left, redrawn in place at
        most ten times a second; off a terminal, one plain line when it is done."""
        if not self.enabled:
            return
        now = self._clock()
        finished = done >= total
        if finished and label in self._finished:
            return  # said already (the sweep's last chunk, then its end)
        self._finished.discard(label)
        started = self._started.setdefault(label, now)
        if not finished and (not self.terminal or now - self._last < REDRAW_S):
            return
        self._last = now
        percent = 100 * done / total if total else 100.0
        text = f"{label}: {done:,}/{total:,} ({percent:.0f}%)"
        elapsed = now - started
        if finished:
            text += f" in {elapsed:.1f} s" + (f", {_rate(done / elapsed)}" if elapsed > 0 else "")
        elif elapsed > 0 and done > 0:
            rate = done / elapsed
            text += f", {_rate(rate)}, about {clock_time((total - done) / rate)} left"
        if finished:
            self._started.pop(label, None)
            self._finished.add(label)
        if not self.terminal:
            self.line(text)
            return
        self.stream.write("\r" + text.ljust(self._open))  # spaces over a longer last draw
        self.stream.flush()
        self._open = max(len(text), 1)
        if finished:
            self._end_counter()

    def _end_counter(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = 0


class _CountingModel:
    """A ProbeModel seen through a counter: the sweep calls ``predict_active`` once per chunk."""

    def __init__(self, model: ProbeModel, progress: Progress, label: str, total: int) -> None:
        self._model = model
        self._progress = progress
        self._label = label
        self._total = total
        self._done = 0
        self._lock = threading.Lock()  # chunks may be predicted in background threads

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def predict_active(self, active: np.ndarray) -> np.ndarray:
        out = self._model.predict_active(active)
        with self._lock:
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
