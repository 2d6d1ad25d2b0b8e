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

import numpy as np

from .. import __version__
from ..baseline.drift import drift_rows
from ..baseline.seed_band import BAND_FACTOR
from ..files import atomic_write
from ..sweep import Sweep
from .entry import ReportEntry
from .figures import (
    HEATMAP_LABEL,
    MAX_BAR_FEATURES,
    MAX_DRIFT_BARS,
    MAX_MATRIX_FEATURES,
    attribution_figure,
    band_figure,
    drift_figure,
    heatmap_figure,
    interaction_figure,
    png_bytes,
    png_size,
)
from .labels import RAISES_LOWERS, count, label_key
from .ranking import heatmap_probes, single_features
from .results import outcome_badge, outcome_counts, results_html

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
.xpassed { color: #c05621; font-weight: 600; } .skipped, .xfailed, .not-run { color: #718096; }
.badge { display: inline-block; padding: 0 .5em; border-radius: 3px; color: white; }
.badge.ok { background: #38a169; } .badge.bad { background: #e53e3e; }
.badge.warn { background: #dd6b20; } .badge.none { background: #a0aec0; }
.failure pre { background: #fff5f5; border-left: 3px solid #e53e3e; padding: .5em .8em;
  overflow-x: auto; font-size: 12px; white-space: pre-wrap; }
figure { margin: 1em 0; } figcaption { color: #4a5568; font-size: 13px; }
img { max-width: 100%; height: auto; border: 1px solid #edf2f7; }
details.labels { font-size: 12px; color: #4a5568; } details.labels td { padding: 1px 6px; }
.note { color: #4a5568; font-style: italic; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _image(kind: str, figure: Any, caption: str, key: Sequence[tuple[str, str]] = ()) -> str:
    """A figure as an embedded PNG, with the full name of each label it shortened."""
    data = png_bytes(figure)
    width, height = png_size(data)
    encoded = base64.b64encode(data).decode("ascii")
    labels = ""
    if key:
        rows = "".join(
            f'<tr><td title="{_e(full)}">{_e(short)}</td><td>{_e(full)}</td></tr>'
            for short, full in key
        )
        labels = (
            f'<details class="labels"><summary>Full names of the {len(key)} shortened labels'
            f"</summary><table><tr><th>label</th><th>full name</th></tr>{rows}</table></details>"
        )
    return (
        f'<figure data-kind="{kind}"><img alt="{_e(caption)}" width="{width}" '
        f'height="{height}" src="data:image/png;base64,{encoded}">'
        f"<figcaption>{_e(caption)}</figcaption>{labels}</figure>"
    )


def _rows(entry: ReportEntry) -> list[dict[str, Any]]:
    """The drift rows of ``entry``: with its declared tolerances, or with none (no row is then
    beyond a tolerance: the report draws no threshold the file did not declare)."""
    rows = drift_rows(entry.baseline, entry.compared, entry.tolerance)
    if entry.tolerance is None:
        for row in rows:
            row["tolerance"], row["beyond"] = None, False
        rows.sort(key=lambda r: (not r["flipped"], -abs(r["difference"])))
    return rows


def _band_reading(entry: ReportEntry) -> dict[str, Any] | None:
    """The declared seed band check as it reads: score, threshold, each probe's distance."""
    baseline, settings = entry.baseline, entry.band
    if settings is None or baseline.band is None or settings.get("seed_test") is not None:
        return None
    band = baseline.band
    distances = band.distances(baseline.current(entry.compared))
    max_score, factor = settings.get("max_score"), settings.get("factor", BAND_FACTOR)
    how = (
        f"max_score {max_score:g}"
        if max_score is not None
        else f"{factor:g} x the largest leave-one-out score"
    )
    return {
        "score": float(distances.mean()),
        "threshold": band.threshold(max_score, factor),
        "how": how,
        "distances": distances.mean(axis=1),
        "seeds": band.seeds,
    }


def _drift_summary(entry: ReportEntry, rows: Sequence[dict[str, Any]]) -> str:
    """One paragraph: flips, moves beyond a declared tolerance, the largest move, the band."""
    flips = sum(r["flipped"] for r in rows)
    largest = max(rows, key=lambda r: abs(r["difference"]))
    if entry.tolerance is not None:
        moved = f"{count(sum(r['beyond'] for r in rows))} moved beyond tolerance (declared)"
    else:
        moved = "no probability tolerance declared (max_abs_delta)"
    summary = (
        f"{count(len(rows))} baseline probes: {count(flips)} changed the predicted class, "
        f"{moved}; largest |dp| {abs(largest['difference']):.3f} "
        f"(probe {largest['probe']}, class {largest['class']})."
    )
    test = (entry.band or {}).get("seed_test")  # the gate's own reading ({}: a note says why)
    band = _band_reading(entry)
    if test:
        summary += (
            f" Seed test p = {test['seed_test_p_value']:.3f} (false_alarm "
            f"{test['false_alarm']:g}, {test['calibration_seeds']} seeds; score "
            f"{test['seed_test_score']:.2f})."
        )
    elif band is not None:
        verdict = "above" if band["score"] > band["threshold"] else "within"
        summary += (
            f" Seed band score {band['score']:.3f}, {verdict} its threshold "
            f"{band['threshold']:.3f} ({band['how']}; seeds {', '.join(map(str, band['seeds']))})."
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
        '<td class="num">{d:+.3f}</td><td class="num">{t}</td></tr>'.format(
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
            t="-" if r["tolerance"] is None else f"{r['tolerance']:.3f}",
        )
        for r in listed
    )
    more = (
        f'<p class="note">... and {count(len(rows) - len(listed))} more probes.</p>'
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


def _band_image(entry: ReportEntry) -> str:
    band = _band_reading(entry)
    if band is None:
        return ""
    probes = list(entry.baseline.probes)
    figure = band_figure(probes, band["distances"], band["score"], band["threshold"], band["how"])
    top = np.argsort(-band["distances"], kind="stable")[: MAX_DRIFT_BARS - 1]
    return _image(
        "band",
        figure,
        "The seed band check as declared: the band score (the mean distance of every probe and "
        "class from the calibration seeds' mean, in seed spreads) against its threshold, and "
        "the probes that sit farthest",
        label_key([probes[i] for i in top]),
    )


def _drift_html(entry: ReportEntry) -> tuple[str, str]:
    """The drift section and the drift badge of the model."""
    if entry.baseline is None or entry.compared is None:
        return "", ""
    rows = _rows(entry)
    declared = entry.tolerance is not None
    caption = "How far each probe moved from the baseline (the class that moved most); purple: "
    caption += (
        "a flip, orange: a move beyond the declared tolerance, ticks: the tolerance"
        if declared
        else "a flip (the file declares no probability tolerance, so none is drawn)"
    )
    section = (
        '<h3>Drift against the baseline</h3><div class="drift-summary">'
        f"<p>{_e(_drift_summary(entry, rows))}</p></div>"
        + _image(
            "drift",
            drift_figure(rows, declared),
            caption,
            label_key([r["probe"] for r in rows[:MAX_DRIFT_BARS]]),
        )
        + _band_image(entry)
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
            f"change of P(c) when it is set on each of the {count(sweep.context_rows)} rows, "
            f"with its spread over rows, the strongest first{shown}"
        )
        caption += f"; {RAISES_LOWERS}"
        figure = attribution_figure(sweep, features)
        parts.append(_image("attribution", figure, caption, label_key(features)))
    if sweep.order >= 2 and (sweep.table["order"] == 2).any():
        matrix_features = single_features(sweep, MAX_MATRIX_FEATURES)
        parts.append(
            _image(
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
    parts = [f'<section class="model" id="{anchor}"><h2>{_e(entry.title)}</h2>']
    sweep = entry.sweep
    parts += [f'<p class="note">{_e(note)}</p>' for note in entry.notes]
    tests = _e(outcome_counts(entry.results)) or "-"
    outcome = outcome_badge(entry.results)
    link = f'<a href="#{anchor}">{_e(entry.title)}</a>'
    results = results_html(entry.results, entry.failures, anchor)
    if sweep is None:
        parts += [results, "</section>"]
        row = f"<tr><td>{link}</td><td>-</td><td>{tests}</td><td>{outcome}</td><td>-</td></tr>"
        return "".join(parts), row
    parts.append(
        f"<p>{_e(sweep.model_description or 'model')}, fingerprint "
        f"<code>{_e(sweep.fingerprint or '-')}</code>: {count(len(sweep.space))} features, "
        f"classes {_e(', '.join(sweep.classes))}; {count(len(sweep))} probes up to order "
        f"{sweep.order}; context: {_e(sweep.context_line().removeprefix('context: '))}.</p>"
    )
    parts.append(results)
    parts += _sweep_figures(sweep)
    drift, badge = _drift_html(entry)
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
