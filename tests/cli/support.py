"""Shared by the command's tests: paths of the examples, and the command and pytest run as
fresh interpreters or in this process."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

from pytest_featureprobe import cli

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


def in_process(*args: str) -> tuple[int, str, str]:
    """``featureprobe ARGS`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(args))
    return status, out.getvalue(), err.getvalue()


def cache_args(cache_root: Path) -> list[str]:
    """``--cache-dir`` inside pytest's cache folder ``cache_root``, which in-process pytest runs
    with ``-o cache_dir=`` share."""
    return ["--cache-dir", str(cache_root / "d" / "featureprobe")]
