"""``FeatureProbeRun``: the plugin object of one pytest run, registered in ``pytest_configure``.

It holds what the run shares (the core's ``ProbeSession``, made on first use so runs that never
probe never import the core; the expectation files and baselines seen; the summary) and its hooks
hand off in a line or two: collection to ``nodes``, failure text to the errors' one-line form, the
summary to ``terminal``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .options import is_expectation_file, max_probes, run_settings
from .terminal import WORKER_OUTPUT, BaselinesSeen, RunSummary, sweep_table, write_summary

if TYPE_CHECKING:
    from ..memo import ProbeSession
    from ..runner import FileRun, RunSettings


class FeatureProbeRun:
    """What one pytest run shares across its expectation files, fixtures and hooks."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.summary = RunSummary()
        self.seen = BaselinesSeen()
        self.session: ProbeSession | None = None
        self.settings: RunSettings | None = None

    def probe_session(self) -> ProbeSession:
        """The run's ProbeSession, made on first use."""
        if self.session is None:
            from ..memo import ProbeSession
            from .coordination import cache_folder
            from .training_line import terminal_notice

            cache_dir = None
            if not self.config.getoption("featureprobe_no_cache"):
                cache_dir = cache_folder(self.config)
            self.session = ProbeSession(cache_dir, notice=terminal_notice(self.config))
            limit = max_probes(self.config)
            if limit is not None:
                self.session.max_probes = limit
        return self.session

    def file_run(self, path: Path) -> FileRun:
        """The runner's FileRun for an expectation file of this run."""
        from ..runner import FileRun
        from .coordination import write_once

        if self.settings is None:  # one for the run: it records which file owns each baseline
            self.settings = run_settings(self.config)
        return FileRun(path, self.probe_session(), self.settings, write_once(self.config))

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        if file_path.suffix in (".yaml", ".yml") and is_expectation_file(file_path, self.config):
            from .nodes import ExpectationFile

            return ExpectationFile.from_parent(parent, path=file_path)
        return None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        """Report a FeatureProbeError (a mistake in a spec, data or model) as one short line.

        Only where the traceback would show our internals: expectation items, and fixtures
        failing at setup. In the body of a user's own test the traceback points at the user's
        line, so it stays.
        """
        report = yield
        if call.excinfo is not None and report.failed:
            from ..errors import FeatureProbeError
            from .nodes import ExpectationItem

            ours = isinstance(item, ExpectationItem) or call.when == "setup"
            if ours and isinstance(call.excinfo.value, FeatureProbeError):
                where = item.config.invocation_params.dir
                report.longrepr = f"featureprobe: {call.excinfo.value.describe(where)}"
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.summary.add(report)

    def sweep_tables(self) -> list[str]:
        """The -v sweep tables of this process, and those pytest-xdist workers sent."""
        own = [sweep_table(s) for s in self.session.sweeps()] if self.session is not None else []
        return list(dict.fromkeys([*own, *self.seen.tables]))  # a sweep two workers made: once

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """On a pytest-xdist worker: hand the controller what its summary needs (the files
        collected, the baselines used, the sweep tables), as plain data in ``workeroutput``."""
        output = getattr(self.config, "workeroutput", None)
        if output is not None:
            verbose = self.config.get_verbosity() > 0
            output[WORKER_OUTPUT] = self.seen.to_plain(self.sweep_tables() if verbose else [])

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """On the pytest-xdist controller: what a worker handed over joins this run's."""
        self.seen.merge(getattr(node, "workeroutput", {}).get(WORKER_OUTPUT))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tables = self.sweep_tables() if self.config.get_verbosity() > 0 else []
        write_summary(terminalreporter, self.config, self.summary, self.seen, tables)
