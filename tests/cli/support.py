"""Shared by the command's tests: paths of the examples, and the command and pytest run as
fresh interpreters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_YAML = EXAMPLES / "problems" / "featureprobe_problems.yaml"
SEED_CSV = EXAMPLES / "problems" / "problems.csv"
COMMANDS = ("sweep", "record", "diff", "calibrate")


def featureprobe(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """``python -m pytest_featureprobe ARGS`` in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_featureprobe", *args],
        cwd=cwd,
        capture_output=kwargs.pop("capture_output", True),
        text=True,
        timeout=300,
        **kwargs,
    )


def run_pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]
