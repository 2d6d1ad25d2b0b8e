"""How long the rest will take, as a person reads it: the one clock that the command's progress
and pytest's calibration lines both use."""

from __future__ import annotations

import time
from collections.abc import Callable


def clock_time(seconds: float) -> str:
    """``0:07``, ``12:30``, ``1:02:03``: a duration as a person reads a countdown."""
    minutes, secs = divmod(max(0, round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class StepClock:
    """When each step of a count finished; from the second step on, how long one takes and the
    time left. Measured from the first step, so a slow start (TensorFlow's import, the file's
    own model) is not counted as a step."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._times: list[float] = []

    def finished(self, done: int, total: int) -> str:
        """Step ``done`` of ``total`` is finished: `` [1.2 s each, about 0:13 left]``, or ""
        for the first step and the last."""
        if done <= 1 or not self._times:
            self._times = []
        self._times.append(self._clock())
        if len(self._times) < 2 or done >= total:
            return ""
        each = (self._times[-1] - self._times[0]) / (len(self._times) - 1)
        return f" [{each:.1f} s each, about {clock_time(each * (total - done))} left]"
