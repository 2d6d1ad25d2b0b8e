"""The report's page: one self-contained HTML file of every model's figures, tests and drift.

The figures are PNG images embedded as base64 data, the style sheet is inline, there is no script
and nothing is fetched, so it opens offline and can be kept as a CI artefact.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..errors import plural
from ..files import atomic_write
from ..sweep import Sweep
from .drift_section import _drift_summary, drift_html  # noqa: F401 (the summary, read by tests)
from .entry import ReportEntry
from .figures import (
    HEATMAP_LABEL,
    MAX_BAR_FEATURES,
    MAX_MATRIX_FEATURES,
    attribution_figure,
    heatmap_figure,
    interaction_figure,
)
from .labels import RAISES_LOWERS, count, label_key
from .markup import STYLE, escape, figure_html
from .ranking import heatmap_probes, single_features
from .results import outcome_badge, outcome_counts, results_html

INSTALL_HINT = "pip install 'pytest-featureprobe[report]'"


class ReportUnavailable(ImportError):
    """matplotlib, which draws the report's figures, is not installed."""


def require_matplotlib() -> None:
    """Raise ReportUnavailable, saying how to install it, when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ReportUnavailable(
            f"the featureprobe HTML report draws its figures with matplotlib, which is not "
            f"installed: {INSTALL_HINT}"
        ) from None


def _sweep_figures(sweep: Sweep) -> list[str]:
    """The sweep's figures: heatmap, attribution bars and, with pairs, the interaction matrix."""
    parts = []
    probes, note = heatmap_probes(sweep)
    parts.append(
        figure_html(
            "heatmap",
            heatmap_figure(sweep, probes),
            "Class probabilities of each probe (the predicted class in bold)"
            + (f"; {note}" if note else ""),
            label_key(probes, HEATMAP_LABEL),
        )
    )
    features = single_features(sweep, MAX_BAR_FEATURES)
    if features:
        n_singles = int((sweep.table["order"] == 1).sum())
        shown = (
            ""
            if len(features) == n_singles
            else f"; the {len(features)} strongest of {count(n_singles)}"
        )
        caption = (
            "Attribution of each feature alone to each class: dP(c) = P(c | feature) - "
            f"P(c | zero), the strongest first{shown}"
            if sweep.context_rows is None
            else f"Attribution of each feature in the context of {sweep.context}: the mean "
            "change of P(c) when it is set on each of "
            f"{plural(sweep.context_rows, 'row', grouped=True)}, "
            f"with its spread over rows, the strongest first{shown}"
        )
        caption += f"; {RAISES_LOWERS}"
        figure = attribution_figure(sweep, features)
        parts.append(figure_html("attribution", figure, caption, label_key(features)))
    if sweep.order >= 2 and (sweep.table["order"] == 2).any():
        matrix_features = single_features(sweep, MAX_MATRIX_FEATURES)
        parts.append(
            figure_html(
                "interaction",
                interaction_figure(sweep, matrix_features),
                "Pair interactions: what two features do together beyond their single effects; "
                f"{RAISES_LOWERS}; the scale ends at the 98th percentile of |interaction| "
                "(stronger ones at full colour)",
                label_key(matrix_features, 16),
            )
        )
    else:
        parts.append(
            '<p class="note">No pair interaction matrix: this sweep has no pairs '
            "(order 1; sweep with order 2 or more).</p>"
        )
    return parts


def _entry_html(number: int, entry: ReportEntry) -> tuple[str, str]:
    """A model's section, and its row in the summary table."""
    anchor = f"model-{number}"
    parts = [f'<section class="model" id="{anchor}"><h2>{escape(entry.title)}</h2>']
    sweep = entry.sweep
    parts += [f'<p class="note">{escape(note)}</p>' for note in entry.notes]
    tests = escape(outcome_counts(entry.results)) or "-"
    outcome = outcome_badge(entry.results)
    link = f'<a href="#{anchor}">{escape(entry.title)}</a>'
    results = results_html(entry.results, entry.failures, anchor)
    if sweep is None:
        parts += [results, "</section>"]
        row = f"<tr><td>{link}</td><td>-</td><td>{tests}</td><td>{outcome}</td><td>-</td></tr>"
        return "".join(parts), row
    fingerprint = (  # a callable model has none to show
        f", fingerprint <code>{escape(sweep.fingerprint)}</code>" if sweep.fingerprint else ""
    )
    parts.append(
        f"<p>{escape(sweep.model_description or 'model')}{fingerprint}: "
        f"{plural(len(sweep.space), 'feature', grouped=True)}, "
        f"classes {escape(', '.join(sweep.classes))}; {count(len(sweep))} probes up to order "
        f"{sweep.order}; context: {escape(sweep.context_line().removeprefix('context: '))}.</p>"
    )
    parts.append(results)
    parts += _sweep_figures(sweep)
    drift, badge = drift_html(entry)
    parts += [drift, "</section>"]
    badge = badge or '<span class="note">no baseline</span>'
    row = (
        f'<tr><td>{link}</td><td class="num">{count(len(sweep))}</td><td>{tests}</td>'
        f"<td>{outcome}</td><td>{badge}</td></tr>"
    )
    return "".join(parts), row


def render_report(entries: Sequence[ReportEntry], title: str = "featureprobe report") -> str:
    """The report as one HTML document."""
    sections, summaries = [], []
    for number, entry in enumerate(entries, 1):
        section, summary = _entry_html(number, entry)
        sections.append(section)
        summaries.append(summary)
    if summaries:
        overview = (
            "<table><tr><th>model</th><th>probes</th><th>tests</th><th>outcome</th><th>drift</th></tr>"
            + "".join(summaries)
            + "</table>"
        )
    else:
        overview = '<p class="note">No model was probed in this run.</p>'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>pytest-featureprobe {escape(__version__)}: {len(entries)} "
        f"model{'s' if len(entries) != 1 else ''}.</p>"
        + overview
        + "".join(sections)
        + "</body></html>\n"
    )


def write_report(
    directory: str | Path,
    entries: Sequence[ReportEntry | Sweep],
    title: str = "featureprobe report",
) -> Path:
    """Write ``directory/index.html`` (the folder is created) and return its path.

    ``entries`` are ReportEntry objects or plain sweeps. The file is written atomically
    (``files.atomic_write``), so a reader never sees half a report.
    """
    require_matplotlib()
    wrapped = [
        ReportEntry(e.model_description or f"model {n}", e) if isinstance(e, Sweep) else e
        for n, e in enumerate(entries, 1)
    ]
    text = render_report(wrapped, title)
    path = Path(directory) / "index.html"
    atomic_write(path, text)
    return path
