"""The pytest layer of featureprobe: the module pytest loads through the ``pytest11`` entry point.

- ``options``: the option group and ini values, and the runner settings they make
- ``run``: ``FeatureProbeRun``, the one plugin object of a run, and its hooks; ``stash``: its key
- ``nodes``: expectation files and items as pytest nodes over the runner's ``FileRun``
- ``fixtures``: ``featureprobe_session``, ``_train``, ``_load``, ``_model``, ``_sweep``
- ``coordination``: pytest's cache folder, the run id, write-once baselines under pytest-xdist
- ``terminal``: the ``featureprobe`` section of the terminal summary
- ``report_plugin``: ``--featureprobe-report DIR``
- ``html_extras``: values and figures in pytest-html's report (``--html``)

pytest imports this package in every run of an environment where the plugin is installed, so it
imports only the standard library and pytest; the core (numpy, pandas, Keras) is imported when an
expectation file is collected or a fixture first needs a model. The pytest layer may import the
core and the runner; nothing below it imports pytest.
"""

from __future__ import annotations

import pytest

from .fixtures import (  # noqa: F401  (pytest finds fixtures among the plugin's attributes)
    featureprobe_load,
    featureprobe_model,
    featureprobe_session,
    featureprobe_sweep,
    featureprobe_train,
)
from .options import add_options, calibration_workers, sweep_order
from .run import FeatureProbeRun
from .stash import RUN_KEY


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the run's plugin object; with pytest-html's --html, its extras; with
    --featureprobe-report, check for matplotlib now (not after the run) and register the report
    writer. Without the options nothing of the reports is imported."""
    sweep_order(config)  # a bad ini value stops the run before any model trains
    config.addinivalue_line(
        "markers", "featureprobe: an expectation of a featureprobe YAML file (every one has it)"
    )
    calibration_workers(config)
    run = FeatureProbeRun(config)
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(run, "featureprobe-run")
    if config.getoption("htmlpath", None) and config.pluginmanager.hasplugin("html"):
        from .html_extras import HtmlExtras  # pytest-html writes a report (--html)

        config.pluginmanager.register(HtmlExtras(), "featureprobe-html")
    directory = config.getoption("featureprobe_report", None)
    if directory:
        from ..report.page import ReportUnavailable, require_matplotlib
        from .report_plugin import ReportPlugin

        try:
            require_matplotlib()
        except ReportUnavailable as exc:
            raise pytest.UsageError(str(exc)) from None
        plugin = ReportPlugin(config.invocation_params.dir / directory)
        config.pluginmanager.register(plugin, "featureprobe-report")
