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
from .labels import DIVERGING, LOWERS, RAISES, plain, tick_labels

if TYPE_CHECKING:
    from ..sweep import Sweep

DPI = 100
MAX_BAR_FEATURES = 25
MAX_MATRIX_FEATURES = 24
MAX_CLASS_PANELS = 6
MAX_DRIFT_BARS = 40
HEATMAP_LABEL = 40  # characters of a heatmap's probe label: room for a triple


def heatmap_pixels(n_probes: int, n_classes: int) -> tuple[int, int]:
    return 360 + 60 * n_classes, 110 + 18 * n_probes


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


def _class_panels(classes: Sequence[str]) -> list[str]:
    return list(classes[:MAX_CLASS_PANELS])


def heatmap_figure(sweep: Sweep, probes: Sequence[str]) -> Any:
    classes = list(sweep.classes)
    values = sweep.table.loc[list(probes), [prob_column(c) for c in classes]].to_numpy(float)
    figure = _figure(heatmap_pixels(len(probes), len(classes)))
    axes = figure.add_subplot()
    image = axes.imshow(values, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(classes)), labels=tick_labels(classes, 14))
    axes.set_yticks(range(len(probes)), labels=tick_labels(probes, HEATMAP_LABEL), fontsize=8)
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


def raises_lowers_legend(figure: Any) -> None:
    """The legend of the one colour convention: blue raises P(class), red lowers it."""
    from matplotlib.patches import Patch

    handles = [Patch(color=RAISES, label="raises P(class)"), Patch(color=LOWERS, label="lowers")]
    figure.legend(handles=handles, loc="outside upper right", ncols=2, fontsize=8, frameon=False)


def attribution_figure(sweep: Sweep, features: Sequence[str]) -> Any:
    """Bars dP(c) of each feature, ``features`` from the top (the strongest first)."""
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
    labels = tick_labels(features)
    for j, (axes, cls) in enumerate(zip(axes_list, panels, strict=True)):
        colors = [RAISES if v >= 0 else LOWERS for v in values[:, j]]
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
        axes.set_title(f"dP({tick_labels([cls], 16)[0]})", fontsize=10)
        axes.set_yticks(positions, labels=labels, fontsize=8)
        axes.tick_params(axis="x", labelsize=8)
        axes.grid(axis="x", color="#dddddd", linewidth=0.5)
    raises_lowers_legend(figure)
    if spreads is None:
        figure.supxlabel("P(class | feature alone) - P(class | zero)", fontsize=9)
    else:
        figure.supxlabel(
            f"mean change of P(class) when the value is set on each row ({plain(sweep.context)}); "
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


def color_limit(values: np.ndarray, percentile: float = 98.0) -> float:
    """The symmetric range of a diverging scale centred on zero: the ``percentile`` of |value|
    (robust: one outlier does not wash the others out), else the largest, at least 0.01."""
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return 0.01
    robust = float(np.percentile(finite, percentile))
    return max(robust if robust > 0 else float(finite.max()), 0.01)


def interaction_figure(sweep: Sweep, features: Sequence[str]) -> Any:
    classes = list(sweep.classes)
    panels = classes[:1] if len(classes) == 2 else _class_panels(classes)
    figure = _figure(interaction_pixels(len(features), len(panels)))
    axes_list = figure.subplots(1, len(panels), squeeze=False)[0]
    matrices = [interaction_matrix(sweep, features, c) for c in panels]
    limit = color_limit(np.concatenate([m.ravel() for m in matrices]))
    beyond = any(np.nanmax(np.abs(m), initial=0.0) > limit for m in matrices)
    labels = tick_labels(features, 16)
    for axes, cls, matrix in zip(axes_list, panels, matrices, strict=True):
        image = axes.imshow(matrix, cmap=DIVERGING, vmin=-limit, vmax=limit)
        axes.set_xticks(range(len(features)), labels=labels, rotation=90, fontsize=7)
        axes.set_yticks(range(len(features)), labels=labels, fontsize=7)
        title = f"interaction({tick_labels([cls], 16)[0]})"
        if len(classes) == 2:
            title += f" = -interaction({tick_labels([classes[1]], 16)[0]})"
        axes.set_title(title, fontsize=9)
    bar = figure.colorbar(
        image, ax=list(axes_list), shrink=0.8, extend="both" if beyond else "neither"
    )
    bar.set_label("blue raises, red lowers", fontsize=8)
    return figure


FLIPPED, BEYOND, WITHIN = "#553c9a", "#dd6b20", "#a0aec0"  # purple, orange, grey: not raises/lowers


def _patches(pairs: Sequence[tuple[str, str]]) -> list[Any]:
    from matplotlib.patches import Patch

    return [Patch(color=color, label=label) for color, label in pairs]


def drift_figure(rows: Sequence[dict[str, Any]], declared: bool = True) -> Any:
    """|dp| of the probes that moved most (flips and moves beyond tolerance first, as ``rows``
    are ordered); the tolerance of each as a tick only when the file ``declared`` one."""
    shown = list(rows[:MAX_DRIFT_BARS])
    figure = _figure(drift_pixels(len(shown)))
    axes = figure.add_subplot()
    positions = np.arange(len(shown))[::-1]
    sizes = [abs(r["difference"]) for r in shown]
    colors = [FLIPPED if r["flipped"] else BEYOND if r["beyond"] else WITHIN for r in shown]
    axes.barh(positions, sizes, color=colors, height=0.7)
    handles = [("changed the predicted class", FLIPPED)]
    limits = [0.01, *sizes]
    if declared:
        tolerances = [r["tolerance"] for r in shown]
        limits += tolerances
        handles += [("beyond its tolerance", BEYOND), ("within", WITHIN)]
        axes.scatter(tolerances, positions, marker="|", s=120, color="#1a202c", zorder=3)
    else:
        handles.append(("kept its class", WITHIN))
    legend = _patches([(color, label) for label, color in handles])
    if declared:
        from matplotlib.lines import Line2D

        legend.append(
            Line2D([], [], marker="|", ls="", ms=10, color="#1a202c", label="declared tolerance")
        )
    names = tick_labels([r["probe"] for r in shown])
    labels = [
        name
        + (f"  {plain(r['predicted_before'])}->{plain(r['predicted_after'])}" * r["flipped"])
        + f"  ({tick_labels([r['class']], 12)[0]})"
        for name, r in zip(names, shown, strict=True)
    ]
    axes.set_yticks(positions, labels=labels, fontsize=8)
    axes.set_xlim(0, max(limits) * 1.1)
    axes.set_xlabel("|P now - P baseline| of the class that moved most", fontsize=9)
    axes.legend(handles=legend, loc="lower right", fontsize=8)
    axes.grid(axis="x", color="#dddddd", linewidth=0.5)
    return figure


def band_figure(
    probes: Sequence[str], distances: np.ndarray, score: float, threshold: float, how: str
) -> Any:
    """The seed band check as declared: the score (the mean distance over every probe and class,
    in seed spreads) against its threshold, and the probes that sit farthest (their mean)."""
    order = np.argsort(-distances, kind="stable")[: MAX_DRIFT_BARS - 1]
    names = ["band score (all probes)", *tick_labels([probes[i] for i in order])]
    values = [score, *distances[order].tolist()]
    figure = _figure(drift_pixels(len(values)))
    axes = figure.add_subplot()
    positions = np.arange(len(values))[::-1]
    over = "#c53030" if score > threshold else "#38a169"
    colors = [over, *(BEYOND if v > threshold else WITHIN for v in values[1:])]
    axes.barh(positions, values, color=colors, height=0.7)
    axes.axvline(threshold, color="#1a202c", linestyle="--", linewidth=1.2)
    legend = _patches(
        [(over, f"score {score:.3f}"), (BEYOND, "probe above the threshold"), (WITHIN, "below")]
    )
    from matplotlib.lines import Line2D

    legend.append(
        Line2D([], [], color="#1a202c", ls="--", label=f"threshold {threshold:.3f} ({plain(how)})")
    )
    axes.set_yticks(positions, labels=names, fontsize=8)
    axes.set_xlim(0, max([*values, threshold, 0.01]) * 1.1)
    axes.set_xlabel("mean distance from the calibration seeds' mean, in seed spreads", fontsize=9)
    axes.legend(handles=legend, loc="lower right", fontsize=8)
    axes.grid(axis="x", color="#dddddd", linewidth=0.5)
    return figure
