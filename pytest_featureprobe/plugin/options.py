"""The command-line options and ini values of the plugin, and how the run reads them.

One option group, written once; ``run_settings`` turns them into the runner's ``RunSettings``.
"""

from __future__ import annotations

import fnmatch
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
        "--featureprobe-allow-path",
        action="append",
        default=None,
        metavar="DIR",
        help="let expectation files name files under DIR, outside the project root (repeatable)",
    )
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
    )
