"""TensorFlow's start-up lines (absl's preamble, oneDNN, CUDA drivers, cuInit) stay out of a
run's output, with ``-s`` too, and out of "Captured stderr" (issue 18, item 6); what anything
else writes to stderr meanwhile still shows, and the environment is left as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_featureprobe.keras_runtime import START_UP_LINE, start_up_lines_dropped

ROOT = Path(__file__).resolve().parents[2]
SEED_CSV = ROOT / "examples" / "problems" / "problems.csv"
NOISE = ("oneDNN", "cuInit", "cuda drivers", "absl::InitializeLog", "cpu_feature_guard")

LINES = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1796285569.124253   29225 port.cc:153] oneDNN custom operations are on.\n",
    b"E0000 00:00:1796285690.461507   32172 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n",
    b"2024-05-01 10:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations\n",
    b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
    b"with the appropriate compiler flags.\n",
]
OWN = [b"my own line\n", b"Traceback: I0000 is not at the start\n", b"no newline at the end"]


def test_the_start_up_lines_are_recognised():
    assert all(START_UP_LINE.match(line) for line in LINES)
    assert not any(START_UP_LINE.match(line) for line in OWN)


def test_only_start_up_lines_are_dropped_and_the_level_is_set_only_inside(capfd, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with start_up_lines_dropped():
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
        for line in (LINES[0], OWN[0], *LINES[1:], *OWN[1:]):
            os.write(2, line)
        print("through sys.stderr", file=sys.stderr)
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    err = capfd.readouterr().err
    assert "through sys.stderr\n" in err  # (pytest's capture may take it before descriptor 2)
    assert err.replace("through sys.stderr\n", "") == (
        "my own line\nTraceback: I0000 is not at the start\nno newline at the end"
    )


@pytest.mark.parametrize("level", ["0", "1", "3"])
def test_a_level_the_user_set_is_kept(capfd, monkeypatch, level):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", level)
    with start_up_lines_dropped():
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == level
        os.write(2, LINES[1])
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == level
    shown = capfd.readouterr().err
    # 0 and 1 ask for TensorFlow's notices: they are all shown.
    assert shown == (LINES[1].decode() if level in ("0", "1") else "")


EXPECTATIONS = """\
model:
  train: {data: problems.csv, features: problems, label: results, epochs: 1, hidden: [4]}
expect:
  - alone: 4
    predicts: C
    min_prob: 0.999
"""


def run_fresh(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    return done.stdout + done.stderr


@pytest.mark.system
def test_a_run_shows_no_tensorflow_start_up_lines(tmp_path):
    """A fresh interpreter (TensorFlow cannot be imported twice in one): first TensorFlow alone,
    which prints its lines here (else there is nothing to keep out), then pytest with ``-s``."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)  # this checkout, wherever the package is installed
    probe = "import tensorflow as tf; tf.config.list_physical_devices()"
    bare = run_fresh("-c", probe, cwd=tmp_path, env=env)
    if not any(word in bare for word in NOISE):
        pytest.skip("TensorFlow prints no start-up lines on this machine")
    shutil.copy(SEED_CSV, tmp_path / "problems.csv")
    (tmp_path / "featureprobe_noise.yaml").write_text(EXPECTATIONS)
    for args in (["-s"], []):  # -s: straight to the terminal; without: "Captured stderr"
        output = run_fresh("-m", "pytest", "-p", "no:cacheprovider", *args, cwd=tmp_path, env=env)
        assert "1 failed" in output, output  # the model was trained and its item run
        assert [word for word in NOISE if word in output] == [], output
        assert "Captured stderr" not in output, output
