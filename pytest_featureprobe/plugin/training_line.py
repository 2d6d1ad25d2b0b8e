"""The line pytest's terminal shows while a model trains (a cache miss): what trains, then how
long it took, as ``featureprobe: training dense classifier on penguins.csv (seed 0)... 12.3 s``.

Written through pytest's terminal reporter with capture suspended (as ``--setup-show`` writes), so
it never lands in an item's captured output; left out under ``-q``, without a terminal reporter
and in pytest-xdist workers (whose output no terminal shows).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..memo import TrainingNotice


def terminal_notice(config: pytest.Config) -> TrainingNotice | None:
    """The ``ProbeSession``'s training notice for this run, or None where no line is shown."""
    if config.get_verbosity() < 0 or hasattr(config, "workerinput"):
        return None
    if config.pluginmanager.get_plugin("terminalreporter") is None:
        return None

    opened: list[object] = []  # the file whose progress line the training line interrupts

    def notice(event: str, what: str, seconds: float | None) -> None:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        capture = config.pluginmanager.get_plugin("capturemanager")
        suspended = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
        with suspended:
            if event == "started":
                opened[:] = [reporter.currentfspath]
                reporter.ensure_newline()
                reporter.write(f"featureprobe: training {what}...")
            else:
                reporter.line(f" {seconds:.1f} s" if event == "finished" else " stopped")
                _resume(reporter, opened[0] if opened else None)
            reporter.flush()

    return notice


def _resume(reporter: pytest.TerminalReporter, opened: object) -> None:
    """Write the line the training line interrupted again below it, whole: the file's name
    (the items' letters follow it) or, under ``-v``, the item's name (its outcome follows), so
    every item line still reads ``file::name PASSED`` for people and log parsers alike."""
    if isinstance(opened, Path):
        reporter.write(f"{os.path.relpath(opened, reporter.startpath)} ")
    elif isinstance(opened, str):
        reporter.write(opened)
    else:
        opened = None  # no line was open: none is now
    reporter.currentfspath = opened
