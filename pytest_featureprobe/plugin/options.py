"""The command-line options and ini values of the plugin, and how the run reads them.

One option group, written once; ``run_settings`` turns them into the runner's ``RunSettings``.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .. import DEFAULT_BASELINE_FOLDER

if TYPE_CHECKING:
    from ..runner import RunSettings

DEFAULT_PATTERNS = ("featureprobe_*.yaml", "featureprobe_*.yml")


def add_options(parser: pytest.Parser) -> None:
    """The ``featureprobe`` option group and the plugin's ini values."""
    group = parser.getgroup("featureprobe", "model behaviour testing (featureprobe)")
    group.addoption(
        "--featureprobe-no-cache",
        action="store_true",
        default=False,
        help="train models afresh instead of loading them from pytest's cache directory",
    )
    group.addoption(
        "--featureprobe-update",
        action="store_true",
        default=False,
        help="write or refresh the drift baselines of the selected expectation files",
    )
    group.addoption(
        "--featureprobe-files",
        action="append",
        default=None,
        metavar="GLOB",
        help="file name pattern of expectation files (repeatable; "
        "default featureprobe_*.yaml and featureprobe_*.yml)",
    )
    group.addoption(
        "--featureprobe-report",
        default=None,
        metavar="DIR",
        help="write an HTML report of the probed models (figures of each sweep, drift against "
        "its baseline) to DIR/index.html; needs pip install 'pytest-featureprobe[report]'",
    )
    group.addoption(
        "--featureprobe-max-probes",
        type=_positive_int,
        default=None,
        metavar="N",
        help="refuse a sweep of more than N probes before any work (default 5,000,000; "
        "ini featureprobe_max_probes)",
    )
    group.addoption(
        "--featureprobe-allow-path",
        action="append",
        default=None,
        metavar="DIR",
        help="let expectation files name files under DIR, outside the project root (repeatable)",
    )
    _add_ini_values(parser)


def _add_ini_values(parser: pytest.Parser) -> None:
    parser.addini(
        "featureprobe_allowed_paths",
        "folders outside the project root whose files expectation files may name",
        type="paths",
        default=[],
    )
    parser.addini(
        "featureprobe_files",
        "file name patterns of expectation files",
        type="args",
        default=list(DEFAULT_PATTERNS),
    )
    parser.addini(
        "featureprobe_baseline_dir",
        "folder (beside each expectation file) that holds its drift baseline",
        default=DEFAULT_BASELINE_FOLDER,
    )
    parser.addini(
        "featureprobe_calibration_workers",
        "processes that train a baseline's calibration seeds under --featureprobe-update "
        "(default auto: one per core, at most 4, when the seeds train slower than processes "
        "start; 1 trains them in the test process)",
        default="auto",
    )
    parser.addini(
        "featureprobe_max_probes",
        "refuse a sweep of more than this many probes before any work (default 5,000,000)",
        default="",
    )
    parser.addini(
        "featureprobe_order",
        "highest probe order of the featureprobe_sweep fixture (default 2: zero, singles, pairs)",
        default="2",
    )


def sweep_order(config: pytest.Config) -> int:
    """The ``featureprobe_order`` ini value, checked."""
    raw = config.getini("featureprobe_order")
    try:
        order = int(raw)
    except ValueError:
        order = -1
    if not 0 <= order <= 4:
        raise pytest.UsageError(f"featureprobe_order must be an integer from 0 to 4, not {raw!r}")
    return order


def baseline_folder(config: pytest.Config) -> str:
    return config.getini("featureprobe_baseline_dir") or DEFAULT_BASELINE_FOLDER


def allowed_roots(config: pytest.Config) -> list[Path]:
    """Folders whose files expectation files may name: the project root (pytest's rootdir) and
    those allowed by ``--featureprobe-allow-path`` and the ``featureprobe_allowed_paths`` ini."""
    given = config.getoption("featureprobe_allow_path") or []
    return [
        config.rootpath,
        *config.getini("featureprobe_allowed_paths"),
        *(config.invocation_params.dir / p for p in given),
    ]


def is_expectation_file(path: Path, config: pytest.Config) -> bool:
    patterns = config.getoption("featureprobe_files") or config.getini("featureprobe_files")
    return any(fnmatch.fnmatch(path.name, p) for p in (patterns or DEFAULT_PATTERNS))


def run_settings(config: pytest.Config) -> RunSettings:
    """The runner's settings from this run's options."""
    from ..runner import RunSettings

    return RunSettings(
        roots=allowed_roots(config),
        baseline_folder=baseline_folder(config),
        update=bool(config.getoption("featureprobe_update")),
        invocation_dir=config.invocation_params.dir,
        calibration_workers=calibration_workers(config),
        progress=progress_line(config),
    )


def _positive_int(text: str) -> int:
    if not (text.strip().isascii() and text.strip().isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def max_probes(config: pytest.Config) -> int | None:
    """``--featureprobe-max-probes``, else the ini value, else None (the core's default)."""
    given = config.getoption("featureprobe_max_probes")
    if given is not None:
        return int(given)
    raw = str(config.getini("featureprobe_max_probes")).strip()
    if not raw:
        return None
    try:
        return _positive_int(raw)
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"featureprobe_max_probes {exc}") from None


def calibration_workers(config: pytest.Config) -> int | None:
    """The ``featureprobe_calibration_workers`` ini value, checked (auto: None)."""
    raw = str(config.getini("featureprobe_calibration_workers")).strip()
    if raw == "auto":  # on a pytest-xdist worker the cores are the other workers'
        return 1 if hasattr(config, "workerinput") else None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise pytest.UsageError(
            f"featureprobe_calibration_workers must be auto or a whole number of at least 1, "
            f"not {raw!r}"
        )
    return int(raw)


def progress_line(config: pytest.Config) -> Callable[[str], None] | None:
    """Lines on pytest's terminal while a baseline is calibrated (not on pytest-xdist workers,
    whose output nobody sees, nor under -q)."""
    if hasattr(config, "workerinput") or config.option.verbose < 0:
        return None

    def line(text: str) -> None:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.ensure_newline()
            reporter.write_line(f"featureprobe: {text}")

    return line
