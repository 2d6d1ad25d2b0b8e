"""The report's page: one self-contained HTML file of every model's figures, tests and drift.

The figures are PNG images embedded as base64 data, the style sheet is inline, there is no script
and nothing is fetched, so it opens offline and can be kept as a CI artefact.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..baseline.drift import drift_rows
from ..baseline.seed_band import BAND_FACTOR
from ..files import atomic_write
from ..sweep import Sweep
from .entry import ReportEntry
from .figures import (
    MAX_BAR_FEATURES,
    MAX_MATRIX_FEATURES,
    attribution_figure,
    drift_figure,
    heatmap_figure,
    heatmap_probes,
    interaction_figure,
    png_bytes,
    png_size,
    single_features,
)

INSTALL_HINT = "pip install 'pytest-featureprobe[report]'"
MAX_DRIFT_ROWS = 30


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


STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #1a202c; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #e2e8f0; padding-bottom: .2em;
  margin-top: 2em; } h3 { font-size: 1.1em; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 13px; }
th, td { border: 1px solid #e2e8f0; padding: 3px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.drift td { background: #fff5f5; } tr.flip td { background: #fed7d7; font-weight: 600; }
.passed { color: #276749; } .failed, .error { color: #c53030; font-weight: 600; }
.skipped, .xfailed, .xpassed, .not-run { color: #718096; }
.badge { display: inline-block; padding: 0 .5em; border-radius: 3px; color: white; }
.badge.ok { background: #38a169; } .badge.bad { background: #e53e3e; }
.badge.none { background: #a0aec0; }
figure { margin: 1em 0; } figcaption { color: #4a5568; font-size: 13px; }
img { max-width: 100%; height: auto; border: 1px solid #edf2f7; }
.note { color: #4a5568; font-style: italic; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _image(kind: str, figure: Any, caption: str) -> str:
    data = png_bytes(figure)
    width, height = png_size(data)
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f'<figure data-kind="{kind}"><img alt="{_e(caption)}" width="{width}" '
        f'height="{height}" src="data:image/png;base64,{encoded}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _results_html(results: Sequence[tuple[str, str]]) -> str:
    if not results:
        return ""
    counts: dict[str, int] = {}
    for _, outcome in results:
        counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    rows = "".join(
        f'<tr><td>{_e(name)}</td><td class="{_e(outcome.replace(" ", "-"))}">'
        f"{_e(outcome)}</td></tr>"
        for name, outcome in results
    )
    return (
        f"<h3>Tests ({_e(summary)})</h3><table><tr><th>test</th><th>outcome</th></tr>{rows}</table>"
    )


def _drift_summary(entry: ReportEntry, rows: Sequence[dict[str, Any]]) -> str:
    """One paragraph: flips, moves beyond tolerance, the largest move and the seed band score."""
    baseline, sweep = entry.baseline, entry.compared
    flips = sum(r["flipped"] for r in rows)
    beyond = sum(r["beyond"] for r in rows)
    largest = max(rows, key=lambda r: abs(r["difference"]))
    which = "declared" if entry.tolerance is not None else "display threshold"
    summary = (
        f"{len(rows)} baseline probes: {flips} changed the predicted class, {beyond} moved beyond "
        f"tolerance ({which}); largest |dp| {abs(largest['difference']):.3f} "
        f"(probe {largest['probe']}, class {largest['class']})."
    )
    band, settings = baseline.band, entry.band or {}
    test = settings.get("seed_test")  # the gate's own reading ({}: a note says why there is none)
    if test:
        summary += (
            f" Seed test p = {test['seed_test_p_value']:.3f} (false_alarm "
            f"{test['false_alarm']:g}, {test['calibration_seeds']} seeds; score "
            f"{test['seed_test_score']:.2f})."
        )
    elif band is not None and test is None:
        score = band.score(baseline.current(sweep))
        threshold = band.threshold(settings.get("max_score"), settings.get("factor", BAND_FACTOR))
        summary += (
            f" Seed band score {score:.3f}, threshold {threshold:.3f} (seeds "
            f"{', '.join(map(str, band.seeds))})."
        )
    return summary


def _drift_table(rows: Sequence[dict[str, Any]]) -> str:
    """The probes that flipped or moved beyond tolerance, then the others, up to a limit."""
    marked = [r for r in rows if r["flipped"] or r["beyond"]]
    listed = [*marked, *(r for r in rows if not (r["flipped"] or r["beyond"]))]
    listed = listed[: max(MAX_DRIFT_ROWS, len(marked))]
    body = "".join(
        '<tr class="{cls}"><td>{probe}</td><td>{pred}</td><td>{klass}</td>'
        '<td class="num">{b:.3f}</td><td class="num">{c:.3f}</td>'
        '<td class="num">{d:+.3f}</td><td class="num">{t:.3f}</td></tr>'.format(
            cls="flip" if r["flipped"] else ("drift" if r["beyond"] else ""),
            probe=_e(r["probe"]),
            pred=_e(
                r["predicted_before"]
                if not r["flipped"]
                else f"{r['predicted_before']} → {r['predicted_after']}"
            ),
            klass=_e(r["class"]),
            b=r["baseline"],
            c=r["current"],
            d=r["difference"],
            t=r["tolerance"],
        )
        for r in listed
    )
    more = (
        f'<p class="note">... and {len(rows) - len(listed)} more probes within tolerance.</p>'
        if len(rows) > len(listed)
        else ""
    )
    return (
        '<table class="drift-table"><tr><th>probe</th><th>predicted</th><th>class</th>'
        "<th>baseline</th><th>current</th><th>difference</th><th>tolerance</th></tr>"
        + body
        + "</table>"
        + more
    )


def _drift_html(entry: ReportEntry) -> tuple[str, str]:
    """The drift section and the status badge of the model."""
    baseline, sweep = entry.baseline, entry.compared
    if baseline is None or sweep is None:
        return "", ""
    rows = drift_rows(baseline, sweep, entry.tolerance)
    section = (
        '<h3>Drift against the baseline</h3><div class="drift-summary">'
        f"<p>{_e(_drift_summary(entry, rows))}</p></div>"
        + _image(
            "drift",
            drift_figure(rows),
            "How far each probe moved from the baseline (the class that moved most); red: a "
            "flip or a move beyond tolerance, ticks: the tolerance",
        )
        + _drift_table(rows)
    )
    drifted = any(r["flipped"] or r["beyond"] for r in rows)
    badge = (
        '<span class="badge bad">drift</span>'
        if drifted
        else '<span class="badge ok">no drift</span>'
    )
    return section, badge


def _sweep_figures(sweep: Sweep) -> list[str]:
    """The sweep's figures: heatmap, attribution bars and, with pairs, the interaction matrix."""
    parts = []
    probes, note = heatmap_probes(sweep)
    parts.append(
        _image(
            "heatmap",
            heatmap_figure(sweep, probes),
            "Class probabilities of each probe (the predicted class in bold)"
            + (f"; {note}" if note else ""),
        )
    )
    features = single_features(sweep, MAX_BAR_FEATURES)
    if features:
        n_singles = int((sweep.table["order"] == 1).sum())
        shown = (
            "" if len(features) == n_singles else f"; the {len(features)} strongest of {n_singles}"
        )
        caption = (
            "Attribution of each feature alone to each class: dP(c) = P(c | feature) - "
            f"P(c | zero){shown}"
            if sweep.context_rows is None
            else f"Attribution of each feature in the context of {sweep.context}: the mean "
            f"change of P(c) when it is set on each of the {sweep.context_rows} rows, with its "
            f"spread over rows{shown}"
        )
        parts.append(_image("attribution", attribution_figure(sweep, features), caption))
    if sweep.order >= 2 and (sweep.table["order"] == 2).any():
        matrix_features = single_features(sweep, MAX_MATRIX_FEATURES)
        parts.append(
            _image(
                "interaction",
                interaction_figure(sweep, matrix_features),
                "Pair interactions: what two features do together beyond their single effects",
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
    parts = [f'<section class="model" id="{anchor}"><h2>{_e(entry.title)}</h2>']
    sweep = entry.sweep
    parts += [f'<p class="note">{_e(note)}</p>' for note in entry.notes]
    failed = sum(outcome in ("failed", "error") for _, outcome in entry.results)
    passed = f"{len(entry.results) - failed} / {len(entry.results)}"
    link = f'<a href="#{anchor}">{_e(entry.title)}</a>'
    if sweep is None:
        parts += [_results_html(entry.results), "</section>"]
        return "".join(parts), f"<tr><td>{link}</td><td>-</td><td>{passed}</td><td></td></tr>"
    parts.append(
        f"<p>{_e(sweep.model_description or 'model')}, fingerprint "
        f"<code>{_e(sweep.fingerprint or '-')}</code>: {len(sweep.space)} features, classes "
        f"{_e(', '.join(sweep.classes))}; {len(sweep)} probes up to order {sweep.order}; "
        f"context: {_e(sweep.context_line().removeprefix('context: '))}.</p>"
    )
    parts.append(_results_html(entry.results))
    parts += _sweep_figures(sweep)
    drift, badge = _drift_html(entry)
    parts += [drift, "</section>"]
    badge = badge or '<span class="badge none">no baseline</span>'
    summary = f"<tr><td>{link}</td><td>{len(sweep)}</td><td>{passed}</td><td>{badge}</td></tr>"
    return "".join(parts), summary


def render_report(entries: Sequence[ReportEntry], title: str = "featureprobe report") -> str:
    """The report as one HTML document."""
    sections, summaries = [], []
    for number, entry in enumerate(entries, 1):
        section, summary = _entry_html(number, entry)
        sections.append(section)
        summaries.append(summary)
    if summaries:
        overview = (
            "<table><tr><th>model</th><th>probes</th><th>tests passed</th><th>drift</th></tr>"
            + "".join(summaries)
            + "</table>"
        )
    else:
        overview = '<p class="note">No model was probed in this run.</p>'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1><p>pytest-featureprobe {_e(__version__)}: {len(entries)} "
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
