"""Progress of long sweeps: shown on a terminal only."""

from __future__ import annotations

import io

import numpy as np

from pytest_featureprobe.cli import progress as cli_progress
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

# --- progress -----------------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _wide_model(n: int = 200):
    weights = np.linspace(-1, 1, n)

    def forward(x):
        p = 1 / (1 + np.exp(-(x @ weights)))
        return np.stack([1 - p, p], axis=1)

    return from_callable(forward, FeatureSpace.from_names(range(n)), ["no", "yes"])


def test_large_sweeps_show_progress_on_a_terminal_only():
    model = _wide_model()
    terminal = FakeTerminal()
    sweep = cli_progress.sweep_with_progress(model, 2, progress=cli_progress.Progress(terminal))
    assert len(sweep) == 1 + 200 + 19_900
    assert terminal.getvalue().rstrip().endswith("sweeping 200 features: 20,101/20,101 (100%)")
    plain = io.StringIO()
    again = cli_progress.sweep_with_progress(model, 2, progress=cli_progress.Progress(plain))
    assert plain.getvalue() == ""
    assert again.table.equals(sweep.table)
    small = FakeTerminal()
    cli_progress.sweep_with_progress(model, 1, progress=cli_progress.Progress(small))
    assert small.getvalue() == ""  # one batch: nothing to follow


def test_progress_lines_only_on_a_terminal():
    terminal, plain = FakeTerminal(), io.StringIO()
    for stream in (terminal, plain):
        progress = cli_progress.Progress(stream)
        progress.count("work", 5, 10)
        progress.line("step done")
    assert terminal.getvalue() == "\rwork: 5/10 (50%)\nstep done\n"
    assert plain.getvalue() == ""
