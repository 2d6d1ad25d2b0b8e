"""pytest hooks, options and fixtures of featureprobe.

pytest imports this module in every run of an environment where the plugin is installed, so it
imports only the standard library and pytest; the library (numpy, pandas, Keras) is imported when a
fixture first needs a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import DEFAULT_BASELINE_FOLDER

if TYPE_CHECKING:
    from .models import ProbeModel
    from .session import ProbeSession
    from .summary import RunSummary
    from .sweep import Sweep

session_key = pytest.StashKey["ProbeSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
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
        default=["featureprobe_*.yaml", "featureprobe_*.yml"],
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


def pytest_configure(config: pytest.Config) -> None:
    """With --featureprobe-report, check for matplotlib now (not after the run) and register the
    report writer; without the option nothing of the report is imported."""
    from .summary import RunSummary

    sweep_order(config)  # a bad ini value stops the run before any model trains
    config.pluginmanager.register(RunSummary(), "featureprobe-summary")
    directory = config.getoption("featureprobe_report", None)
    if directory:
        from .report import ReportPlugin, ReportUnavailable, require_matplotlib

        try:
            require_matplotlib()
        except ReportUnavailable as exc:
            raise pytest.UsageError(str(exc)) from None
        plugin = ReportPlugin(config.invocation_params.dir / directory)
        config.pluginmanager.register(plugin, "featureprobe-report")


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


def probe_session(config: pytest.Config) -> ProbeSession:
    """The run's ProbeSession, made on first use: runs that never probe never import the core."""
    if session_key not in config.stash:
        from .session import ProbeSession

        cache_dir = None
        if not config.getoption("featureprobe_no_cache"):
            cache_dir = cache_folder(config)
        config.stash[session_key] = ProbeSession(cache_dir)
    return config.stash[session_key]


def cache_folder(config: pytest.Config, name: str = "") -> Path | None:
    """``featureprobe[/name]`` under pytest's cache directory; None when the cache plugin is off
    or the folder cannot be made (a warning says so, and the run goes on without it)."""
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    if cache is None:
        return None
    try:
        folder = cache.mkdir("featureprobe")
        if name:
            folder = folder / name
            folder.mkdir(exist_ok=True)
    except OSError as exc:
        import warnings

        warnings.warn(
            pytest.PytestCacheWarning(
                f"featureprobe: cannot use the cache folder ({exc.strerror or exc}: "
                f"{exc.filename or ''}); running without it"
            ),
            stacklevel=2,
        )
        return None
    return folder


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    from .collect import ExpectationFile, is_expectation_file

    if is_expectation_file(file_path, parent.config):
        return ExpectationFile.from_parent(parent, path=file_path)
    return None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Per expectation file: model, probes, outcomes, worst drift; then baselines written and
    unused. With -v, the sweep tables this process computed."""
    from .collect import baselines_seen, unused_baselines

    summary: RunSummary = config.pluginmanager.get_plugin("featureprobe-summary")
    seen = baselines_seen(config)
    unused = unused_baselines(config, sorted(seen.files)) if seen.files else []
    if not summary.files and not unused:
        return
    terminalreporter.section("featureprobe")
    for line in summary.lines():
        terminalreporter.write_line(line)
    for path in summary.written:
        terminalreporter.write_line(f"baseline written: {path}")
    for path in unused:
        terminalreporter.write_line(
            f"baseline unused (no selected expectation file uses it): {path}"
        )
    if config.get_verbosity() > 0 and session_key in config.stash:
        for sweep in config.stash[session_key].sweeps():
            terminalreporter.write_line("")
            terminalreporter.write_line(f"sweep of {sweep.model_description} (order {sweep.order})")
            terminalreporter.write_line(sweep.to_string(max_rows=40))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Report a FeatureProbeError (a mistake in a spec, data or model) as one short line.

    Only where the traceback would show our internals: expectation items, and fixtures failing
    at setup. In the body of a user's own test the traceback points at the user's line, so it
    stays.
    """
    report = yield
    if call.excinfo is not None and report.failed:
        from .collect import ExpectationItem
        from .errors import FeatureProbeError

        ours = isinstance(item, ExpectationItem) or call.when == "setup"
        if ours and isinstance(call.excinfo.value, FeatureProbeError):
            where = item.config.invocation_params.dir
            report.longrepr = f"featureprobe: {call.excinfo.value.describe(where)}"
    return report


@pytest.fixture(scope="session")
def featureprobe_session(pytestconfig: pytest.Config) -> ProbeSession:
    """The shared ProbeSession: trains, loads and sweeps each model once per run."""
    return probe_session(pytestconfig)


@pytest.fixture(scope="session")
def featureprobe_train(featureprobe_session: ProbeSession):
    """``train(data, features, label, **spec) -> ProbeModel``: the dense classifier, cached."""
    return featureprobe_session.train


@pytest.fixture(scope="session")
def featureprobe_load(featureprobe_session: ProbeSession):
    """``load(model, features=None, classes=None, outputs=None) -> ProbeModel``: saved or live."""
    return featureprobe_session.load


@pytest.fixture(scope="session")
def featureprobe_model() -> ProbeModel:
    """The model under test. Override it in conftest.py (see README: "Bring your own model")."""
    pytest.fail(
        "featureprobe: no model. Define a session-scoped `featureprobe_model` fixture in "
        "conftest.py that returns featureprobe_train(...) or featureprobe_load(...).",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def featureprobe_sweep(
    featureprobe_model: Any, featureprobe_session: ProbeSession, pytestconfig: pytest.Config
) -> Sweep:
    """The sweep of ``featureprobe_model`` up to the ``featureprobe_order`` ini value."""
    order = sweep_order(pytestconfig)
    model = featureprobe_session.load(featureprobe_model)
    return featureprobe_session.sweep(model, order=order)
