"""``--featureprobe-report DIR``: the pytest side of the HTML report.

Gathers each item's outcome as pytest reports it and the sweeps of ``featureprobe_sweep``
fixtures; at the end of the session asks each expectation file's ``FileRun`` for its section and
writes the page (``report.write_report``). matplotlib is imported only when the report is written.

Under pytest-xdist the controller collects nothing and probes nothing: each worker hands over,
in ``workeroutput``, what its collection holds (the files, their items, the tests that use the
fixture sweep) and the sections it can make (``report.transfer``'s plain data, in a file of this
run's folder in pytest's cache, or inline without a cache); the controller joins them with the
outcomes and failure texts it has from the test reports and writes the same page.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .terminal import outcome_name

if TYPE_CHECKING:
    from ..report import ReportEntry

#: The key of what a worker hands over in ``workeroutput``, and the cache folder's name.
HANDOVER = "featureprobe_report"


class WorkerProblem(RuntimeError):
    """A pytest-xdist worker could not make its sections of the report."""


class ReportPlugin:
    """Registered by ``--featureprobe-report DIR``: writes the report of the run's models."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.outcomes: dict[str, str] = {}
        self.failures: dict[str, str] = {}  # nodeid -> the failure text the terminal shows
        self.fixture_sweeps: list[tuple[Any, str]] = []  # (sweep, the test that set it up)
        self.ran: set[str] = set()  # the items this process ran (a worker: its share)
        self.handed: list[dict[str, Any]] = []  # on the xdist controller: what workers sent
        self.written: Path | None = None
        self.problem: str | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = outcome_name(report)
        if outcome is not None and self.outcomes.get(report.nodeid) not in ("failed", "error"):
            self.outcomes[report.nodeid] = outcome
        if outcome in ("failed", "error") and report.longrepr is not None:
            before = self.failures.get(report.nodeid)
            text = failure_text(report)
            self.failures[report.nodeid] = text if before is None else f"{before}\n\n{text}"
        self.ran.add(report.nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any):
        result = yield
        if (
            fixturedef.argname == "featureprobe_sweep"
            and hasattr(result, "table")
            and all(result is not s for s, _ in self.fixture_sweeps)
        ):
            self.fixture_sweeps.append((result, request.node.nodeid))
        return result

    def entries(self, session: pytest.Session) -> list[ReportEntry]:
        """The report's sections, from this process's collection and models (a serial run)."""
        files, fixture_items = layout(session)
        nodes = _file_nodes(session)
        made = {f: nodes[f].file_run.report_entry(f, []) for f, _ in files}
        return self.assembled(files, fixture_items, made, [s for s, _ in self.fixture_sweeps])

    def assembled(
        self,
        files: list[tuple[str, list[tuple[str, str]]]],
        fixture_items: list[str],
        made: dict[str, ReportEntry],
        fixture_sweeps: list[Any],
    ) -> list[ReportEntry]:
        """Each file's section with its items' outcomes and failure texts, then a section per
        fixture sweep (the tests' outcomes under it when there is one)."""
        from ..report import ReportEntry

        entries = []
        for nodeid, items in files:
            entry = made.get(nodeid) or ReportEntry(nodeid, None, notes=["not probed"])
            entry.results = [(name, self.outcome(i)) for name, i in items]
            entry.failures = {name: self.failures[i] for name, i in items if i in self.failures}
            entries.append(entry)
        for sweep in fixture_sweeps:
            entry = _fixture_entry(sweep)
            if len(fixture_sweeps) == 1:
                entry.results = [(i, self.outcome(i)) for i in fixture_items]
            entry.failures = {i: self.failures[i] for i in fixture_items if i in self.failures}
            entries.append(entry)
        return entries

    def outcome(self, nodeid: str) -> str:
        return self.outcomes.get(nodeid, "not run")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        config = session.config
        if hasattr(config, "workerinput"):  # an xdist worker: hand the controller its part
            try:
                config.workeroutput[HANDOVER] = self.handover(session)
            except Exception as exc:  # the controller says so; the run's results stand
                config.workeroutput[HANDOVER] = {"problem": f"{type(exc).__name__}: {exc}"}
            return
        try:
            from ..report import write_report

            if config.pluginmanager.has_plugin("dsession"):
                entries = self.controller_entries(config)
            else:
                entries = self.entries(session)
            self.written = write_report(self.directory, entries)
        except WorkerProblem as exc:
            self.problem = f"could not be written: {exc}"
        except Exception as exc:  # a report must not hide the run's results
            self.problem = f"could not be written: {type(exc).__name__}: {exc}"

    def handover(self, session: pytest.Session) -> dict[str, Any]:
        """On a worker: the collection's layout and the sections this worker can make, each
        as ``report.transfer`` text: the files it ran items of (and, cheaply, those whose model
        was never built); left in this run's cache folder, or inline without a cache."""
        from ..report.transfer import entry_to_text
        from .coordination import run_folder, run_id

        files, fixture_items = layout(session)
        folder = run_folder(session.config, HANDOVER)
        worker = str(session.config.workerinput.get("workerid", "gw"))
        nodes = _file_nodes(session)
        sections: list[dict[str, Any]] = []
        sweeps: list[dict[str, Any]] = []
        for nodeid, items in files:
            ran = any(i in self.ran for _, i in items)
            if ran or nodes[nodeid].file_run.model is None:
                text = entry_to_text(nodes[nodeid].file_run.report_entry(nodeid, []))
                sections.append({"file": nodeid, "ran": ran, **_put(folder, worker, text)})
        for sweep, item in self.fixture_sweeps:
            text = entry_to_text(_fixture_entry(sweep))
            sweeps.append({"item": item, **_put(folder, worker, text)})
        return {
            "run": run_id(session.config),
            "files": [[f, [list(i) for i in items]] for f, items in files],
            "fixture_items": fixture_items,
            "sections": sections,
            "fixture_sweeps": sweeps,
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """On the xdist controller: keep what a worker handed over (nothing from a crash)."""
        handed = getattr(node, "workeroutput", {}).get(HANDOVER)
        if isinstance(handed, dict):
            self.handed.append(handed)

    def controller_entries(self, config: pytest.Config) -> list[ReportEntry]:
        """On the xdist controller: the sections the workers made, joined as a serial run
        joins its own; for a file, the section of a worker that ran its items comes first."""
        from ..report.transfer import entry_from_text
        from .coordination import drop_run_folders, run_folder

        runs = {str(h["run"]) for h in self.handed if "run" in h}  # the workers' one run id
        folder = run_folder(config, HANDOVER, next(iter(runs))) if len(runs) == 1 else None
        try:
            problems = [h["problem"] for h in self.handed if "problem" in h]
            if problems:  # no report that lacks a worker's sections
                raise WorkerProblem(f"on a worker, {problems[0]}")
            # Every worker collects the whole run: the first that sent a layout gives it.
            first = next((h for h in self.handed if h.get("files") or h.get("fixture_items")), None)
            files = [(f, [(n, i) for n, i in items]) for f, items in (first or {}).get("files", [])]
            fixture_items = list((first or {}).get("fixture_items", []))
            made: dict[str, tuple[int, ReportEntry]] = {}
            for handed in self.handed:
                for section in handed.get("sections", ()):
                    entry = entry_from_text(_take(folder, section))
                    rank = 2 * bool(section["ran"]) + (entry.sweep is not None)
                    if section["file"] not in made or rank > made[section["file"]][0]:
                        made[section["file"]] = (rank, entry)
            sweeps = _fixture_sweeps(folder, self.handed, fixture_items)
        finally:
            drop_run_folders(config, HANDOVER, runs)
        return self.assembled(files, fixture_items, {f: e for f, (_, e) in made.items()}, sweeps)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written is not None:
            terminalreporter.write_line(f"featureprobe report: {self.written}")
        elif self.problem is not None:
            terminalreporter.write_line(f"featureprobe report {self.problem}", yellow=True)


def failure_text(report: pytest.TestReport) -> str:
    """The failure text the terminal shows for ``report``, less the line pytest-xdist puts
    first on a worker's report (``[gw0] linux -- Python 3.11.7 ...``): the serial run's text."""
    text = report.longreprtext
    if hasattr(report, "node"):  # a worker's report, on the controller
        first, _, rest = text.partition("\n")
        if first.startswith("[") and " -- Python " in first:
            return rest.strip()  # as longreprtext strips the whole
    return text


def layout(session: pytest.Session) -> tuple[list[tuple[str, list[tuple[str, str]]]], list[str]]:
    """The expectation files of the run's items, in order, each with its items (name, nodeid);
    and the other tests that use the ``featureprobe_sweep`` fixture."""
    from .nodes import ExpectationFile

    files: dict[str, list[tuple[str, str]]] = {}
    fixture_items = []
    for item in session.items:
        parent = item.parent
        if isinstance(parent, ExpectationFile):
            files.setdefault(parent.nodeid, []).append((item.name, item.nodeid))
        elif "featureprobe_sweep" in getattr(item, "fixturenames", ()):
            fixture_items.append(item.nodeid)
    return list(files.items()), fixture_items


def _file_nodes(session: pytest.Session) -> dict[str, Any]:
    from .nodes import ExpectationFile

    return {
        item.parent.nodeid: item.parent
        for item in session.items
        if isinstance(item.parent, ExpectationFile)
    }


def _fixture_entry(sweep: Any) -> ReportEntry:
    from ..report import ReportEntry

    return ReportEntry(f"featureprobe_sweep fixture: {sweep.model_description}", sweep)


def _put(folder: Path | None, worker: str, text: str) -> dict[str, str]:
    """Where a section goes: a file of the run's cache folder (its name), else inline."""
    if folder is not None:
        import uuid

        name = f"{worker}-{uuid.uuid4().hex}.json"
        try:
            (folder / name).write_text(text, encoding="utf-8")
            return {"name": name}
        except OSError:
            pass
    return {"text": text}


def _take(folder: Path | None, section: dict[str, Any]) -> str:
    if "text" in section:
        return section["text"]
    if folder is None:
        raise OSError("a worker left a report section in the cache folder, which is gone")
    return (folder / section["name"]).read_text(encoding="utf-8")


def _fixture_sweeps(
    folder: Path | None, handed: list[dict[str, Any]], fixture_items: list[str]
) -> list[Any]:
    """The workers' fixture sweeps, each once (two workers set up the same model's sweep: one
    section, as in a serial run), in the order of the tests that set them up."""
    from ..report.transfer import entry_from_text

    position = {item: n for n, item in enumerate(fixture_items)}
    found: dict[str, tuple[int, str]] = {}  # the same text: the same sweep
    for worker in handed:
        for sweep in worker.get("fixture_sweeps", ()):
            text = _take(folder, sweep)
            place = position.get(sweep["item"], len(position))
            if text not in found or place < found[text][0]:
                found[text] = (place, text)
    ordered = sorted(found.values(), key=lambda pair: pair[0])
    return [entry_from_text(text).sweep for _, text in ordered]
