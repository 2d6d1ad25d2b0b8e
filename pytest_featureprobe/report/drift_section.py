"""The drift section of a model in the report: the summary, the drift figure (tolerances only
where the file declares them), the declared seed band's figure, the table of the probes that
moved, and the drift badge of the overview."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..baseline.drift import drift_rows
from ..baseline.seed_band import BAND_FACTOR
from .entry import ReportEntry
from .figures import MAX_DRIFT_BARS, band_figure, drift_figure
from .labels import count, label_key
from .markup import escape as _e
from .markup import figure_html as _image

MAX_DRIFT_ROWS = 30


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


def drift_figure_of(entry: ReportEntry) -> Any | None:
    """The drift figure of ``entry`` as its section draws it (pytest-html's extras show it
    too); None without a baseline."""
    if entry.baseline is None or entry.compared is None:
        return None
    return drift_figure(_rows(entry), entry.tolerance is not None)


def drift_html(entry: ReportEntry) -> tuple[str, str]:
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
