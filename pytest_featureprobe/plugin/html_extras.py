"""pytest-html's report (``--html``): featureprobe's values in each expectation item's row and
its file's figures as extras.

Registered by ``pytest_configure`` only when pytest-html is active and ``--html`` is given: a run
without it never imports this module, pytest-html's ``extras`` or matplotlib.

- Three columns (probe, expected, observed), filled from the ``featureprobe_*`` user properties
  each expectation item records (empty for other tests), through pytest-html's
  ``pytest_html_results_table_header`` and ``pytest_html_results_table_row`` hooks.
- The probability heatmap and, with a drift baseline, the drift figure of each expectation file,
  as PNG extras (``report.extras``, set in ``pytest_runtest_makereport``) on the call report of
  the file's first item that runs. They are attached where the item runs, so under pytest-xdist
  on the worker, and travel with the serialized report; where items of one file ran on two
  workers, the controller keeps the figures of the report that reached it first
  (``pytest_runtest_logreport``), so each file's figures appear once.
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Any

import pytest

from .nodes import ExpectationFile, ExpectationItem

if TYPE_CHECKING:
    from ..report import ReportEntry

FIGURE_PREFIX = "featureprobe "  # the name of every figure extra begins with it
# What every item records about its model, not about its own check.
ITEM_FACTS = (
    "featureprobe_model",
    "featureprobe_sweep_probes",
    "featureprobe_context",
    "featureprobe_name",
    "featureprobe_baseline_written",
)
COLUMNS = (("probe", "Probe"), ("expected", "Expected"), ("observed", "Observed"))


def row_values(properties: dict[str, Any]) -> tuple[str, str, str]:
    """(probe, expected, observed) of an item's user properties; empty strings for a test
    that is not an expectation item."""
    probe = properties.get("featureprobe_probe")
    if probe is None and "featureprobe_worst_probe" in properties:
        count = properties.get("featureprobe_probes")
        probe = f"{properties['featureprobe_worst_probe']} (worst of {count})"
    elif probe is None and "featureprobe_probes" in properties:
        probe = f"{properties['featureprobe_probes']} probes"
    observed = properties.get("featureprobe_observed")
    probabilities = properties.get("featureprobe_probabilities")
    if observed is not None and probabilities:
        observed = f"{observed} ({probabilities})"
    expected = properties.get("featureprobe_expected")
    if expected is None and observed is None:  # a drift gate: its figures (flips, drifted, ...)
        figures = [
            f"{key.removeprefix('featureprobe_')}={value}"
            for key, value in properties.items()
            if key.startswith("featureprobe_") and key not in ITEM_FACTS
        ]
        observed = ", ".join(figures) or None
    return tuple("" if v is None else str(v) for v in (probe, expected, observed))


def file_figures(node: ExpectationFile) -> list[dict[str, Any]]:
    """pytest-html extras of an expectation file: its heatmap and drift figure as PNG, or a
    note saying why there are none (the run's results never depend on them)."""
    from pytest_html import extras

    from ..report.page import INSTALL_HINT, ReportUnavailable, require_matplotlib

    try:
        require_matplotlib()
    except ReportUnavailable:
        note = f"featureprobe draws figures with matplotlib, which is not installed: {INSTALL_HINT}"
        return [extras.html(f"<p>{html.escape(note, quote=False)}</p>")]
    try:
        entry = node.file_run.report_entry(node.nodeid, [])
        figures = entry_figures(entry)
    except Exception as exc:  # a figure must not hide the run's results
        note = f"featureprobe figures could not be drawn: {type(exc).__name__}: {exc}"
        return [extras.html(f"<p>{html.escape(note, quote=False)}</p>")]
    where = node.nodeid
    found = [extras.png(data, name=f"{FIGURE_PREFIX}{kind}: {where}") for kind, data in figures]
    for n, note in enumerate(entry.notes):
        text = f"<p>{html.escape(note, quote=False)}</p>"
        found.append(extras.extra(text, extras.FORMAT_HTML, f"{FIGURE_PREFIX}note {n}: {where}"))
    return found


def entry_figures(entry: ReportEntry) -> list[tuple[str, str]]:
    """(kind, base64 PNG) of the heatmap and the drift figure of a report entry, as the
    featureprobe report draws them."""
    from ..report.drift_section import drift_figure_of
    from ..report.figures import heatmap_figure, png_bytes
    from ..report.ranking import heatmap_probes

    if entry.sweep is None:
        return []
    drawn = [("heatmap", heatmap_figure(entry.sweep, heatmap_probes(entry.sweep)[0]))]
    drift = drift_figure_of(entry)
    if drift is not None:
        drawn.append(("drift", drift))
    return [(kind, base64.b64encode(png_bytes(f)).decode("ascii")) for kind, f in drawn]


class HtmlExtras:
    """Registered when pytest-html writes a report (``--html``)."""

    def __init__(self) -> None:
        self.attached: set[str] = set()  # the files whose figures this process drew
        self.shown: set[str] = set()  # the figure extras already on a report that was logged

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[2:2] = [f'<th class="featureprobe-{key}">{title}</th>' for key, title in COLUMNS]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        values = row_values(dict(getattr(report, "user_properties", ())))
        cells[2:2] = [
            f'<td class="featureprobe-{key}">{html.escape(value)}</td>'
            for (key, _), value in zip(COLUMNS, values, strict=True)
        ]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        report = yield
        parent = item.parent
        if (
            call.when == "call"
            and isinstance(item, ExpectationItem)
            and isinstance(parent, ExpectationFile)
            and parent.file_run is not None
            and parent.nodeid not in self.attached
        ):
            self.attached.add(parent.nodeid)
            report.extras = [*getattr(report, "extras", []), *file_figures(parent)]
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Each file's figures once: drop those another report already carried (items of one
        file run on two pytest-xdist workers each attach them)."""
        found = getattr(report, "extras", None)
        if not found:
            return
        kept = []
        for extra in found:
            name = extra.get("name") or ""
            if name.startswith(FIGURE_PREFIX):
                if name in self.shown:
                    continue
                self.shown.add(name)
            kept.append(extra)
        report.extras = kept
