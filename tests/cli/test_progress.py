"""Progress: a counter with its rate and time left redrawn on a terminal, step lines with the
time left, plain lines (no redraws) when enabled off a terminal, nothing there by default; and
TensorFlow's retracing warning kept out from between calibration's lines."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

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
    shown = terminal.getvalue()
    last = shown.rstrip("\n").split("\r")[-1].rstrip()
    assert last.startswith("sweeping 200 features: 20,101/20,101 (100%) in ")
    assert last.endswith("/s")  # the rate over the whole sweep
    assert shown.count("(100%)") == 1 and shown.endswith("\n")
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


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_counter_on_a_terminal_shows_its_rate_and_the_time_left():
    clock, terminal = Clock(), FakeTerminal()
    progress = cli_progress.Progress(terminal, clock=clock)
    progress.count("sweeping", 0, 10_000)
    clock.now += 2.0
    progress.count("sweeping", 2_500, 10_000)
    clock.now += 0.05  # within a tenth of a second: not redrawn
    progress.count("sweeping", 2_600, 10_000)
    clock.now += 5.95
    progress.count("sweeping", 10_000, 10_000)
    progress.count("sweeping", 10_000, 10_000)  # the sweep's end after its last chunk
    draws = terminal.getvalue().split("\r")[1:]
    assert [d.rstrip() for d in draws] == [
        "sweeping: 0/10,000 (0%)",
        "sweeping: 2,500/10,000 (25%), 1,250/s, about 0:06 left",
        "sweeping: 10,000/10,000 (100%) in 8.0 s, 1,250/s",
    ]
    assert len(draws[2]) == len(draws[1]) + 1  # spaces over the longer draw before, then \n
    assert terminal.getvalue().endswith("\n")


def test_off_a_terminal_enabled_progress_writes_plain_lines():
    clock, plain = Clock(), io.StringIO()
    progress = cli_progress.Progress(plain, enabled=True, clock=clock)
    for done in (0, 400, 800, 1_000):
        progress.count("work", done, 1_000)
        clock.now += 1.0
    progress.line("next")
    assert plain.getvalue() == "work: 1,000/1,000 (100%) in 3.0 s, 333/s\nnext\n"
    assert "\r" not in plain.getvalue()


def test_steps_say_how_long_one_takes_and_the_time_left_from_the_second():
    clock, terminal = Clock(), FakeTerminal()
    progress = cli_progress.Progress(terminal, clock=clock)
    for done in (1, 2, 3, 4):
        progress.step(f"seed {done} trained", done, 4)
        clock.now += 3.0 if done == 1 else 2.0
    assert terminal.getvalue().splitlines() == [
        "seed 1 trained",
        "seed 2 trained [3.0 s each, about 0:06 left]",
        "seed 3 trained [2.5 s each, about 0:02 left]",
        "seed 4 trained",
    ]
    progress.step("again 1", 1, 2)  # a new series starts its own clock
    assert terminal.getvalue().splitlines()[-1] == "again 1"


@pytest.mark.parametrize(
    "seconds, shown", [(0.4, "0:00"), (7.2, "0:07"), (750, "12:30"), (3723, "1:02:03")]
)
def test_time_left_reads_as_a_countdown(seconds, shown):
    assert cli_progress.clock_time(seconds) == shown


def test_only_the_retracing_warning_is_dropped():
    from pytest_featureprobe.keras_runtime import _NoRetracing

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("tensorflow", logging.WARNING, "f", 1, message, None, None)

    keep = _NoRetracing()
    retraced = "5 out of the last 5 calls to <function f> triggered tf.function retracing. ..."
    assert not keep.filter(record(retraced))
    assert keep.filter(record("something else TensorFlow says"))


RETRAIN = """
import sys
from pytest_featureprobe.keras_runtime import start_keras_quietly
start_keras_quietly()
import tensorflow as tf
from pytest_featureprobe.memo import ProbeSession
tf.get_logger().warning("another tensorflow warning")
session = ProbeSession(None)
for seed in range(7):  # TensorFlow warns from the fifth new model on
    session.train("problems.csv", "problems", "results", seed=seed, hidden=[4], epochs=2)
    print(f"seed {seed} trained", file=sys.stderr, flush=True)
"""


@pytest.mark.system
def test_calibration_lines_have_no_retracing_warning_between_them(tmp_path):
    data = Path(__file__).resolve().parents[2] / "examples" / "problems" / "problems.csv"
    (tmp_path / "problems.csv").write_bytes(data.read_bytes())
    done = subprocess.run(
        [sys.executable, "-c", RETRAIN], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "retracing" not in done.stderr, lines
    assert lines[-7:] == [f"seed {n} trained" for n in range(7)], lines
    assert "WARNING:tensorflow:another tensorflow warning" in lines  # only that one is dropped
