"""``--featureprobe-report DIR``: the pytest side of the HTML report.

Gathers each item's outcome as pytest reports it and the sweeps of ``featureprobe_sweep``
fixtures; at the end of the session asks each expectation file's ``FileRun`` for its section and
writes the page (``report.write_report``). matplotlib is imported only when the report is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .terminal import outcome_name

if TYPE_CHECKING:
    from ..report import ReportEntry


class ReportPlugin:
    """Registered by ``--featureprobe-report DIR``: writes the report of the run's models."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.outcomes: dict[str, str] = {}
        self.failures: dict[str, str] = {}  # nodeid -> the failure text the terminal shows
        self.fixture_sweeps: list[Any] = []
        self.written: Path | None = None
        self.problem: str | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = outcome_name(report)
        if outcome is not None and self.outcomes.get(report.nodeid) not in ("failed", "error"):
            self.outcomes[report.nodeid] = outcome
        if outcome in ("failed", "error") and report.longrepr is not None:
            before = self.failures.get(report.nodeid)
            text = report.longreprtext
            self.failures[report.nodeid] = text if before is None else f"{before}\n\n{text}"

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any):
        result = yield
        if (
            fixturedef.argname == "featureprobe_sweep"
            and hasattr(result, "table")
            and all(result is not s for s in self.fixture_sweeps)
        ):
            self.fixture_sweeps.append(result)
        return result

    def entries(self, session: pytest.Session) -> list[ReportEntry]:
        from ..report import ReportEntry
        from .nodes import ExpectationFile

        files: dict[str, tuple[Any, list[pytest.Item]]] = {}
        fixture_items = []
        for item in session.items:
            parent = item.parent
            if isinstance(parent, ExpectationFile):
                files.setdefault(parent.nodeid, (parent, []))[1].append(item)
            elif "featureprobe_sweep" in getattr(item, "fixturenames", ()):
                fixture_items.append(item)
        entries = []
        for node, items in files.values():
            results = [(i.name, self.outcomes.get(i.nodeid, "not run")) for i in items]
            entry = node.file_run.report_entry(node.nodeid, results)
            entry.failures = {
                i.name: self.failures[i.nodeid] for i in items if i.nodeid in self.failures
            }
            entries.append(entry)
        for sweep in self.fixture_sweeps:
            results = [(i.nodeid, self.outcomes.get(i.nodeid, "not run")) for i in fixture_items]
            entries.append(
                ReportEntry(
                    f"featureprobe_sweep fixture: {sweep.model_description}",
                    sweep,
                    results=results if len(self.fixture_sweeps) == 1 else [],
                    failures={
                        i.nodeid: self.failures[i.nodeid]
                        for i in fixture_items
                        if i.nodeid in self.failures
                    },
                )
            )
        return entries

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        config = session.config
        if hasattr(config, "workerinput"):  # an xdist worker: the controller reports
            return
        if config.pluginmanager.has_plugin("dsession"):
            self.problem = "not written under pytest-xdist (-n): run without -n to write it"
            return
        try:
            from ..report import write_report

            self.written = write_report(self.directory, self.entries(session))
        except Exception as exc:  # a report must not hide the run's results
            self.problem = f"could not be written: {type(exc).__name__}: {exc}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written is not None:
            terminalreporter.write_line(f"featureprobe report: {self.written}")
        elif self.problem is not None:
            terminalreporter.write_line(f"featureprobe report {self.problem}", yellow=True)
