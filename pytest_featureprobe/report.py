"""The HTML report: per model, pictures of its sweep and of its drift against the baseline.

``write_report(directory, entries)`` writes ``directory/index.html``, one self-contained file: the
figures are PNG images embedded as base64 data, the style sheet is inline, there is no script and
nothing is fetched, so it opens offline and can be kept as a CI artefact. Per model:

- a heatmap of class probabilities over the probes,
- the attribution of each feature alone to each class (``dP(c)``, bars),
- the pair interaction matrix (``interaction(c)``, for sweeps of order 2 and more),
- drift against the baseline when there is one: what moved, flips and moves beyond tolerance
  highlighted.

Figures are drawn with matplotlib (the ``report`` extra), imported only when a report is written,
through its object API on the Agg canvas: pyplot and its global state are never touched.
``pytest --featureprobe-report DIR`` writes the report of the models a run probed
(``ReportPlugin``).
"""

from __future__ import annotations

import base64
import html
import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from .baseline import Baseline
    from .sweep import Sweep

INSTALL_HINT = "pip install 'pytest-featureprobe[report]'"
DPI = 100
DEFAULT_TOLERANCE = 0.1  # the highlight threshold when a file declares no max_abs_delta
MAX_HEATMAP_PROBES = 60
MAX_BAR_FEATURES = 25
MAX_MATRIX_FEATURES = 24
MAX_CLASS_PANELS = 6
MAX_DRIFT_BARS = 40
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


@dataclass
class ReportEntry:
    """One model's section of the report."""

    title: str
    sweep: Sweep | None
    baseline: Baseline | None = None
    tolerance: float | Sequence[float] | None = None  # one, or one per baseline probe
    results: list[tuple[str, str]] = field(default_factory=list)  # (test, outcome)
    notes: list[str] = field(default_factory=list)
    band: dict[str, Any] | None = None  # the file's drift.band settings (max_score, factor)


# --- figure sizes (pixels) ------------------------------------------------------------------------


def heatmap_pixels(n_probes: int, n_classes: int) -> tuple[int, int]:
    return 300 + 60 * n_classes, 110 + 18 * n_probes


def attribution_pixels(n_features: int, n_panels: int) -> tuple[int, int]:
    return 40 + 300 * n_panels, 100 + 17 * n_features


def interaction_pixels(n_features: int, n_panels: int) -> tuple[int, int]:
    side = max(300, 120 + 14 * n_features)
    return 60 + (side + 40) * n_panels, side


def drift_pixels(n_bars: int) -> tuple[int, int]:
    return 760, 110 + 16 * n_bars


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header; ValueError when it is not a PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _figure(pixels: tuple[int, int]) -> Any:
    from matplotlib.figure import Figure

    width, height = pixels
    # Agg truncates width x dpi to whole pixels: half a pixel more keeps the size exact.
    return Figure(
        figsize=((width + 0.5) / DPI, (height + 0.5) / DPI), dpi=DPI, layout="constrained"
    )


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _label(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- what the figures show ------------------------------------------------------------------------


def _strength(sweep: Sweep, names: Sequence[str]) -> np.ndarray:
    from .sweep import delta_column

    columns = [delta_column(c) for c in sweep.classes]
    return np.abs(sweep.table.loc[list(names), columns].to_numpy(dtype=np.float64)).max(axis=1)


def heatmap_probes(sweep: Sweep) -> tuple[list[str], str]:
    """The probes of the heatmap: all of them, or the zero probe and the strongest others (by
    largest |dP|) in table order; and a note when some are left out."""
    names = list(sweep.table.index)
    if len(names) <= MAX_HEATMAP_PROBES:
        return names, ""
    others = names[1:]
    strength = _strength(sweep, others)
    keep = set(np.argsort(-strength, kind="stable")[: MAX_HEATMAP_PROBES - 1].tolist())
    chosen = [names[0]] + [n for i, n in enumerate(others) if i in keep]
    note = (
        f"{len(chosen)} of {len(names)} probes: the zero probe and the {len(chosen) - 1} "
        "that move a class probability most"
    )
    return chosen, note


def single_features(sweep: Sweep, limit: int) -> list[str]:
    """Single-feature probes: all, or the ``limit`` with the largest |dP| (feature order kept)."""
    table = sweep.table
    singles = list(table.index[table["order"] == 1])
    if len(singles) <= limit:
        return singles
    keep = set(np.argsort(-_strength(sweep, singles), kind="stable")[:limit].tolist())
    return [n for i, n in enumerate(singles) if i in keep]


def _class_panels(classes: Sequence[str]) -> list[str]:
    return list(classes[:MAX_CLASS_PANELS])


def heatmap_figure(sweep: Sweep, probes: Sequence[str]) -> Any:
    from .sweep import prob_column

    classes = list(sweep.classes)
    values = sweep.table.loc[list(probes), [prob_column(c) for c in classes]].to_numpy(float)
    figure = _figure(heatmap_pixels(len(probes), len(classes)))
    axes = figure.add_subplot()
    image = axes.imshow(values, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(classes)), labels=[_label(c, 14) for c in classes])
    axes.set_yticks(range(len(probes)), labels=[_label(p) for p in probes], fontsize=8)
    axes.xaxis.tick_top()
    if len(probes) * len(classes) <= 600:
        predicted = values.argmax(axis=1)
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                axes.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if value > 0.6 else "white",
                    fontweight="bold" if j == predicted[i] else "normal",
                )
    figure.colorbar(image, ax=axes, label="P(class | probe)", shrink=0.9)
    return figure


def attribution_figure(sweep: Sweep, features: Sequence[str]) -> Any:
    from .sweep import delta_column

    panels = _class_panels(sweep.classes)
    values = sweep.table.loc[list(features), [delta_column(c) for c in panels]].to_numpy(float)
    figure = _figure(attribution_pixels(len(features), len(panels)))
    axes_list = figure.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    limit = max(float(np.abs(values).max()) * 1.1, 0.05)
    positions = np.arange(len(features))[::-1]
    for j, (axes, cls) in enumerate(zip(axes_list, panels, strict=True)):
        colors = ["#2b6cb0" if v >= 0 else "#c53030" for v in values[:, j]]
        axes.barh(positions, values[:, j], color=colors, height=0.7)
        axes.axvline(0, color="#333333", linewidth=0.8)
        axes.set_xlim(-limit, limit)
        axes.set_title(f"dP({_label(cls, 16)})", fontsize=10)
        axes.set_yticks(positions, labels=[_label(f) for f in features], fontsize=8)
        axes.tick_params(axis="x", labelsize=8)
        axes.grid(axis="x", color="#dddddd", linewidth=0.5)
    figure.supxlabel("P(class | feature alone) - P(class | zero)", fontsize=9)
    return figure


def interaction_matrix(sweep: Sweep, features: Sequence[str], cls: str) -> np.ndarray:
    """interaction(cls) of each pair of ``features`` (symmetric, NaN on the diagonal and where a
    pair is not in the sweep)."""
    from .sweep import interaction_column

    table = sweep.table
    position = {f: i for i, f in enumerate(features)}
    matrix = np.full((len(features), len(features)), np.nan)
    pairs = table[table["order"] == 2]
    values = pairs[interaction_column(cls)].to_numpy(float)
    for (first, second), value in zip(pairs["features"], values, strict=True):
        if first in position and second in position:
            i, j = position[first], position[second]
            matrix[i, j] = matrix[j, i] = value
    return matrix


def interaction_figure(sweep: Sweep, features: Sequence[str]) -> Any:
    classes = list(sweep.classes)
    panels = classes[:1] if len(classes) == 2 else _class_panels(classes)
    figure = _figure(interaction_pixels(len(features), len(panels)))
    axes_list = figure.subplots(1, len(panels), squeeze=False)[0]
    matrices = [interaction_matrix(sweep, features, c) for c in panels]
    finite = np.concatenate([m[np.isfinite(m)] for m in matrices] + [np.zeros(1)])
    limit = max(float(np.abs(finite).max()), 0.01)
    labels = [_label(f, 16) for f in features]
    for axes, cls, matrix in zip(axes_list, panels, matrices, strict=True):
        image = axes.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes.set_xticks(range(len(features)), labels=labels, rotation=90, fontsize=7)
        axes.set_yticks(range(len(features)), labels=labels, fontsize=7)
        title = f"interaction({_label(cls, 16)})"
        if len(classes) == 2:
            title += f" = -interaction({_label(classes[1], 16)})"
        axes.set_title(title, fontsize=9)
    figure.colorbar(
        image, ax=list(axes_list), label="dP(pair) - dP(first) - dP(second)", shrink=0.8
    )
    return figure


# --- drift ----------------------------------------------------------------------------------------


def tolerances(baseline: Baseline, tolerance: float | Sequence[float] | None) -> np.ndarray:
    """One tolerance per baseline probe (DEFAULT_TOLERANCE when none is given)."""
    if tolerance is None:
        tolerance = DEFAULT_TOLERANCE
    values = np.broadcast_to(np.asarray(tolerance, dtype=np.float64), (len(baseline.probes),))
    return np.array(values)


def drift_rows(
    baseline: Baseline, sweep: Sweep, tolerance: float | Sequence[float] | None = None
) -> list[dict[str, Any]]:
    """Per baseline probe: the predicted class then and now, and the class that moved most (its
    baseline and current probability, difference, tolerance). Flips first, then moves beyond
    tolerance, then by size."""
    from .sweep import prob_column

    limits = tolerances(baseline, tolerance)
    columns = [prob_column(c) for c in baseline.classes]
    current = sweep.table.loc[baseline.probes, columns].to_numpy(dtype=np.float64)
    difference = current - baseline.probabilities
    classes = list(baseline.classes)
    rows = []
    for i, probe in enumerate(baseline.probes):
        j = int(np.argmax(np.abs(difference[i])))
        before = classes[int(baseline.probabilities[i].argmax())]
        after = classes[int(current[i].argmax())]
        rows.append(
            {
                "probe": probe,
                "predicted_before": before,
                "predicted_after": after,
                "flipped": before != after,
                "class": classes[j],
                "baseline": float(baseline.probabilities[i, j]),
                "current": float(current[i, j]),
                "difference": float(difference[i, j]),
                "tolerance": float(limits[i]),
                "beyond": bool(abs(difference[i, j]) > limits[i] + 1e-12),
                "p_before": dict(zip(classes, baseline.probabilities[i].tolist(), strict=True)),
                "p_after": dict(zip(classes, current[i].tolist(), strict=True)),
            }
        )
    rows.sort(key=lambda r: (not r["flipped"], not r["beyond"], -abs(r["difference"])))
    return rows


def drift_figure(rows: Sequence[dict[str, Any]]) -> Any:
    shown = sorted(rows, key=lambda r: -abs(r["difference"]))[:MAX_DRIFT_BARS]
    figure = _figure(drift_pixels(len(shown)))
    axes = figure.add_subplot()
    positions = np.arange(len(shown))[::-1]
    sizes = [abs(r["difference"]) for r in shown]
    colors = ["#c53030" if r["flipped"] or r["beyond"] else "#a0aec0" for r in shown]
    axes.barh(positions, sizes, color=colors, height=0.7)
    axes.scatter(
        [r["tolerance"] for r in shown],
        positions,
        marker="|",
        s=120,
        color="#1a202c",
        label="tolerance",
        zorder=3,
    )
    labels = [
        _label(r["probe"])
        + (f"  {r['predicted_before']}->{r['predicted_after']}" if r["flipped"] else "")
        + f"  ({_label(r['class'], 12)})"
        for r in shown
    ]
    axes.set_yticks(positions, labels=labels, fontsize=8)
    axes.set_xlim(0, max([*sizes, *(r["tolerance"] for r in shown), 0.01]) * 1.1)
    axes.set_xlabel("|P now - P baseline| of the class that moved most", fontsize=9)
    axes.legend(loc="lower right", fontsize=8)
    axes.grid(axis="x", color="#dddddd", linewidth=0.5)
    return figure


# --- the page -------------------------------------------------------------------------------------

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
    data = _png(figure)
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


def _drift_html(entry: ReportEntry) -> tuple[str, str]:
    """The drift section and the status badge of the model."""
    baseline, sweep = entry.baseline, entry.sweep
    if baseline is None or sweep is None:
        return "", ""
    rows = drift_rows(baseline, sweep, entry.tolerance)
    flips = sum(r["flipped"] for r in rows)
    beyond = sum(r["beyond"] for r in rows)
    largest = max(rows, key=lambda r: abs(r["difference"]))
    which = "declared" if entry.tolerance is not None else "display threshold"
    summary = (
        f"{len(rows)} baseline probes: {flips} changed the predicted class, {beyond} moved beyond "
        f"tolerance ({which}); largest |dp| {abs(largest['difference']):.3f} "
        f"(probe {largest['probe']}, class {largest['class']})."
    )
    if baseline.band_center is not None:
        from .baseline import BAND_FACTOR, band_distances, band_threshold

        settings = entry.band or {}
        score = float(band_distances(baseline, sweep).mean())
        threshold = band_threshold(
            baseline, settings.get("max_score"), settings.get("factor", BAND_FACTOR)
        )
        summary += (
            f" Seed band score {score:.3f}, threshold {threshold:.3f} (seeds "
            f"{', '.join(map(str, baseline.band_seeds))})."
        )
    listed = [r for r in rows if r["flipped"] or r["beyond"]]
    listed += [r for r in rows if not (r["flipped"] or r["beyond"])]
    listed = listed[: max(MAX_DRIFT_ROWS, flips + beyond)]
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
    section = (
        '<h3>Drift against the baseline</h3><div class="drift-summary">'
        f"<p>{_e(summary)}</p></div>"
        + _image(
            "drift",
            drift_figure(rows),
            "How far each probe moved from the baseline (the class that moved most); red: a "
            "flip or a move beyond tolerance, ticks: the tolerance",
        )
        + '<table class="drift-table"><tr><th>probe</th><th>predicted</th><th>class</th>'
        "<th>baseline</th><th>current</th><th>difference</th><th>tolerance</th></tr>"
        + body
        + "</table>"
        + more
    )
    badge = (
        '<span class="badge bad">drift</span>'
        if flips or beyond
        else '<span class="badge ok">no drift</span>'
    )
    return section, badge


def _entry_html(number: int, entry: ReportEntry) -> tuple[str, str]:
    """A model's section, and its row in the summary table."""
    anchor = f"model-{number}"
    parts = [f'<section class="model" id="{anchor}"><h2>{_e(entry.title)}</h2>']
    sweep = entry.sweep
    for note in entry.notes:
        parts.append(f'<p class="note">{_e(note)}</p>')
    failed = sum(outcome in ("failed", "error") for _, outcome in entry.results)
    if sweep is None:
        parts.append(_results_html(entry.results))
        parts.append("</section>")
        summary = (
            f'<tr><td><a href="#{anchor}">{_e(entry.title)}</a></td><td>-</td>'
            f"<td>{len(entry.results) - failed} / {len(entry.results)}</td><td></td></tr>"
        )
        return "".join(parts), summary
    parts.append(
        f"<p>{_e(sweep.model_description or 'model')}, fingerprint "
        f"<code>{_e(sweep.fingerprint or '-')}</code>: {len(sweep.space)} features, classes "
        f"{_e(', '.join(sweep.classes))}; {len(sweep)} probes up to order {sweep.order}.</p>"
    )
    parts.append(_results_html(entry.results))

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
        parts.append(
            _image(
                "attribution",
                attribution_figure(sweep, features),
                "Attribution of each feature alone to each class: dP(c) = P(c | feature) - "
                f"P(c | zero){shown}",
            )
        )
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
    drift, badge = _drift_html(entry)
    parts.append(drift)
    parts.append("</section>")
    badge = badge or '<span class="badge none">no baseline</span>'
    summary = (
        f'<tr><td><a href="#{anchor}">{_e(entry.title)}</a></td><td>{len(sweep)}</td>'
        f"<td>{len(entry.results) - failed} / {len(entry.results)}</td><td>{badge}</td></tr>"
    )
    return "".join(parts), summary


def render_report(entries: Sequence[ReportEntry], title: str = "featureprobe report") -> str:
    """The report as one HTML document."""
    from . import __version__

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

    ``entries`` are ReportEntry objects or plain sweeps. The file is written to a temporary name
    and renamed, so a reader never sees half a report.
    """
    require_matplotlib()
    from .sweep import Sweep

    wrapped = [
        ReportEntry(e.model_description or f"model {n}", e) if isinstance(e, Sweep) else e
        for n, e in enumerate(entries, 1)
    ]
    text = render_report(wrapped, title)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "index.html"
    temporary = folder / ".index.html.tmp"
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path


# --- pytest: the report of a run ------------------------------------------------------------------


def _outcome(report: pytest.TestReport) -> str | None:
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.passed:
            return "xpassed" if xfail else "passed"
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        return "failed"
    if report.failed:
        return "error"
    if report.skipped:
        return "xfailed" if xfail else "skipped"
    return None


class ReportPlugin:
    """Registered by ``--featureprobe-report DIR``: writes the report of the run's models."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.outcomes: dict[str, str] = {}
        self.fixture_sweeps: list[Any] = []
        self.written: Path | None = None
        self.problem: str | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = _outcome(report)
        if outcome is not None and self.outcomes.get(report.nodeid) not in ("failed", "error"):
            self.outcomes[report.nodeid] = outcome

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
        from .collect import ExpectationFile

        files: dict[str, tuple[Any, list[pytest.Item]]] = {}
        fixture_items = []
        for item in session.items:
            parent = item.parent
            if isinstance(parent, ExpectationFile):
                files.setdefault(parent.nodeid, (parent, []))[1].append(item)
            elif "featureprobe_sweep" in getattr(item, "fixturenames", ()):
                fixture_items.append(item)
        entries = [self._file_entry(node, items) for node, items in files.values()]
        for sweep in self.fixture_sweeps:
            results = [(i.nodeid, self.outcomes.get(i.nodeid, "not run")) for i in fixture_items]
            entries.append(
                ReportEntry(
                    f"featureprobe_sweep fixture: {sweep.model_description}",
                    sweep,
                    results=results if len(self.fixture_sweeps) == 1 else [],
                )
            )
        return entries

    def _file_entry(self, node: Any, items: list[pytest.Item]) -> ReportEntry:
        from .errors import FeatureProbeError

        results = [(i.name, self.outcomes.get(i.nodeid, "not run")) for i in items]
        context = getattr(node, "_context", None)
        if context is None:
            error = getattr(node, "_error", None)
            note = f"not probed: {error.message}" if error is not None else "not probed"
            return ReportEntry(node.nodeid, None, results=results, notes=[note])
        entry = ReportEntry(node.nodeid, context.sweep, results=results)
        drift = node.document.drift if node.document is not None else None
        if drift is None:
            return entry
        refused = next(
            (i.error for i in node.document.items if i.index is None and i.error is not None),
            None,
        )
        if refused is not None:  # e.g. a baseline outside the project: not read, not drawn
            entry.notes.append(f"no drift figures: {refused.message}")
            return entry
        baseline = getattr(node, "_stored_baseline", None)
        if baseline is None:
            from .baseline import check_compatible, read_baseline

            path = node.baseline_path()
            try:
                baseline = read_baseline(path)
                check_compatible(baseline, context.sweep, path)
            except FeatureProbeError as exc:
                entry.notes.append(f"no drift figures: {exc.message}")
                return entry
        entry.baseline = baseline
        values = drift.values
        entry.band = values.get("band")
        if any(key in values for key in ("max_abs_delta", "per_order", "per_probe")):
            from .baseline import probe_tolerances

            entry.tolerance = probe_tolerances(
                baseline,
                values.get("max_abs_delta", 1.0),
                values.get("per_order", {}),
                values.get("per_probe", {}),
            ).tolist()
        return entry

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        config = session.config
        if hasattr(config, "workerinput"):  # an xdist worker: the controller reports
            return
        if config.pluginmanager.has_plugin("dsession"):
            self.problem = "not written under pytest-xdist (-n): run without -n to write it"
            return
        try:
            self.written = write_report(self.directory, self.entries(session))
        except Exception as exc:  # a report must not hide the run's results
            self.problem = f"could not be written: {type(exc).__name__}: {exc}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written is not None:
            terminalreporter.write_line(f"featureprobe report: {self.written}")
        elif self.problem is not None:
            terminalreporter.write_line(f"featureprobe report {self.problem}", yellow=True)
