"""The report's figures: matplotlib drawings of a sweep and of its drift, as PNG bytes.

Drawn through matplotlib's object API on the Agg canvas (pyplot and its global state are never
touched), imported only when a figure is drawn. Sizes are fixed in pixels per row, so the page can
declare each image's size (``*_pixels``) and a test can check it (``png_size``).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..sweep import delta_column, interaction_column, prob_column, spread_column

if TYPE_CHECKING:
    from ..sweep import Sweep

DPI = 100
MAX_HEATMAP_PROBES = 60
MAX_BAR_FEATURES = 25
MAX_MATRIX_FEATURES = 24
MAX_CLASS_PANELS = 6
MAX_DRIFT_BARS = 40


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


def png_bytes(figure: Any) -> bytes:
    """The figure drawn on the Agg canvas, as PNG bytes (no metadata that varies)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _label(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _strength(sweep: Sweep, names: Sequence[str]) -> np.ndarray:
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
    panels = _class_panels(sweep.classes)
    values = sweep.table.loc[list(features), [delta_column(c) for c in panels]].to_numpy(float)
    figure = _figure(attribution_pixels(len(features), len(panels)))
    axes_list = figure.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    limit = max(float(np.abs(values).max()) * 1.1, 0.05)
    positions = np.arange(len(features))[::-1]
    spreads = None
    if spread_column(panels[0]) in sweep.table.columns:  # in context: the spread over rows
        columns = [spread_column(c) for c in panels]
        spreads = sweep.table.loc[list(features), columns].to_numpy(float)
        limit = max(limit, float(np.abs(values).max() + spreads.max()) * 1.05)
    for j, (axes, cls) in enumerate(zip(axes_list, panels, strict=True)):
        colors = ["#2b6cb0" if v >= 0 else "#c53030" for v in values[:, j]]
        error = None if spreads is None else spreads[:, j]
        axes.barh(
            positions,
            values[:, j],
            color=colors,
            height=0.7,
            xerr=error,
            error_kw={"ecolor": "#555555", "elinewidth": 0.8, "capsize": 2},
        )
        axes.axvline(0, color="#333333", linewidth=0.8)
        axes.set_xlim(-limit, limit)
        axes.set_title(f"dP({_label(cls, 16)})", fontsize=10)
        axes.set_yticks(positions, labels=[_label(f) for f in features], fontsize=8)
        axes.tick_params(axis="x", labelsize=8)
        axes.grid(axis="x", color="#dddddd", linewidth=0.5)
    if spreads is None:
        figure.supxlabel("P(class | feature alone) - P(class | zero)", fontsize=9)
    else:
        figure.supxlabel(
            f"mean change of P(class) when the value is set on each row ({sweep.context}); "
            "whiskers: one standard deviation over rows",
            fontsize=9,
        )
    return figure


def interaction_matrix(sweep: Sweep, features: Sequence[str], cls: str) -> np.ndarray:
    """interaction(cls) of each pair of ``features`` (symmetric, NaN on the diagonal and where a
    pair is not in the sweep)."""
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
