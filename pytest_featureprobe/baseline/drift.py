"""Drift against a baseline: class flips, probability moves beyond tolerance, pair interactions.

Each check compares today's sweep with a baseline and returns an ``Outcome`` whose failure table
lists what moved, most severe first; ``drift_rows`` is the per-probe view the report and
``featureprobe diff`` print. Formulas are in README ("Retraining gate").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import plural
from ..expectations.outcome import MAX_LISTED, Outcome, text_table
from ..probes import probe_features

if TYPE_CHECKING:
    from ..sweep import Sweep
    from .record import Baseline

DISPLAY_TOLERANCE = 0.1  # what drift_rows highlights when no tolerance is given


def check_flips(
    baseline: Baseline, sweep: Sweep, max_flips: int = 0, allowed: Sequence[str] = ()
) -> Outcome:
    """Probes whose predicted class changed; ``allowed`` probes may flip, ``max_flips`` others."""
    current = baseline.current(sweep)
    before = baseline.probabilities.argmax(axis=1)
    after = current.argmax(axis=1)
    flipped = [i for i in np.flatnonzero(before != after) if baseline.probes[i] not in allowed]
    props = {"flips": len(flipped), "max_flips": max_flips}
    if len(flipped) <= max_flips:
        return Outcome(True, properties=props)
    severity = sorted(flipped, key=lambda i: -(current[i, after[i]] - current[i, before[i]]))
    rows = [
        [
            baseline.probes[i],
            baseline.classes[before[i]],
            baseline.classes[after[i]],
            float(baseline.probabilities[i, before[i]]),
            float(current[i, after[i]]),
        ]
        for i in severity[:MAX_LISTED]
    ]
    lines = [
        f"{plural(len(flipped), 'probe')} changed {'its' if len(flipped) == 1 else 'their'} "
        f"predicted class (at most {max_flips} allowed)",
        *text_table(
            ["probe", "baseline", "current", "P(baseline class) then", "P(current class) now"], rows
        ),
    ]
    if len(flipped) > MAX_LISTED:
        lines.append(f"... and {len(flipped) - MAX_LISTED} more")
    worst = severity[0]
    summary = (
        f"{lines[0]}; worst {baseline.probes[worst]}: {baseline.classes[before[worst]]} -> "
        f"{baseline.classes[after[worst]]}, P({baseline.classes[after[worst]]})="
        f"{current[worst, after[worst]]:.3f}"
    )
    return Outcome(False, lines, props, summary)


def probe_tolerances(
    baseline: Baseline,
    default: float,
    per_order: Mapping[int, float],
    per_probe: Mapping[str, float],
) -> np.ndarray:
    """Tolerance per probe: its own override, else its order's, else the default."""
    orders = baseline.orders()
    tolerance = np.array([per_order.get(int(k), default) for k in orders], dtype=np.float64)
    for i, name in enumerate(baseline.probes):
        if name in per_probe:
            tolerance[i] = per_probe[name]
    return tolerance


def _moved_table(
    baseline: Baseline,
    cells: list[tuple[int, int]],
    current: np.ndarray,
    difference: np.ndarray,
    tolerance: np.ndarray,
) -> list[str]:
    """Rows probe, class, baseline, current, difference, tolerance; most severe first
    (difference beyond tolerance), the first MAX_LISTED and a count."""
    ordered = sorted(cells, key=lambda c: -(abs(difference[c]) - tolerance[c]))
    rows = [
        [
            baseline.probes[i],
            baseline.classes[j],
            float(baseline.probabilities[i, j]),
            float(current[i, j]),
            f"{difference[i, j]:+.3f}",
            float(tolerance[i, j]),
        ]
        for i, j in ordered[:MAX_LISTED]
    ]
    lines = text_table(["probe", "class", "baseline", "current", "difference", "tolerance"], rows)
    if len(ordered) > MAX_LISTED:
        lines.append(f"... and {len(ordered) - MAX_LISTED} more")
    return lines


def check_probability_drift(baseline: Baseline, sweep: Sweep, tolerance: np.ndarray) -> Outcome:
    """|P_now(c) - P_baseline(c)| <= tolerance of the probe, for every probe and class."""
    current = baseline.current(sweep)
    difference = current - baseline.probabilities
    limits = np.broadcast_to(tolerance[:, None], difference.shape)
    bad = [tuple(x) for x in np.argwhere(np.abs(difference) > limits + 1e-12)]
    largest = float(np.abs(difference).max()) if difference.size else 0.0
    props = {"max_abs_delta": round(largest, 6), "drifted": len(bad)}
    if not bad:
        return Outcome(True, properties=props)
    lines = [
        f"{len(bad)} probe probabilities moved beyond tolerance (largest |dp| = {largest:.3f})"
    ]
    lines += _moved_table(baseline, bad, current, difference, limits)
    i, j = max(bad, key=lambda c: abs(difference[c]) - limits[c])  # the first row of the table
    summary = (
        f"{len(bad)} probe probabilities moved beyond tolerance; worst {baseline.probes[i]}: "
        f"P({baseline.classes[j]}) {baseline.probabilities[i, j]:.3f} -> {current[i, j]:.3f} "
        f"({difference[i, j]:+.3f}, tolerance {limits[i, j]:g})"
    )
    return Outcome(False, lines, props, summary)


def check_interaction_drift(baseline: Baseline, sweep: Sweep, max_delta: float) -> Outcome:
    """For pairs: |interaction_now(c) - interaction_baseline(c)| <= max_delta."""

    def interactions(probabilities: np.ndarray) -> tuple[list[int], np.ndarray]:
        index = {probe_features(p): i for i, p in enumerate(baseline.probes)}
        zero = probabilities[index[()]]
        pairs = [i for i, p in enumerate(baseline.probes) if len(probe_features(p)) == 2]
        values = []
        for i in pairs:
            first, second = ((f,) for f in probe_features(baseline.probes[i]))
            values.append(
                probabilities[i] - probabilities[index[first]] - probabilities[index[second]] + zero
            )
        return pairs, np.array(values).reshape(len(pairs), len(baseline.classes))

    pairs, before = interactions(baseline.probabilities)
    _, after = interactions(baseline.current(sweep))
    if not pairs:
        return Outcome(False, ["the baseline has no pairs: set drift.order to 2 or more"])
    delta = np.abs(after - before)
    bad = [tuple(x) for x in np.argwhere(delta > max_delta + 1e-12)]
    props = {"max_interaction_delta": round(float(delta.max()), 6), "drifted": len(bad)}
    if not bad:
        return Outcome(True, properties=props)
    ordered = sorted(bad, key=lambda r: -delta[r])
    rows = [
        [
            baseline.probes[pairs[k]],
            baseline.classes[j],
            float(before[k, j]),
            float(after[k, j]),
            f"{after[k, j] - before[k, j]:+.3f}",
            max_delta,
        ]
        for k, j in ordered[:MAX_LISTED]
    ]
    lines = [
        f"{plural(len(bad), 'pair interaction')} moved beyond {max_delta:g}",
        *text_table(["pair", "class", "baseline", "current", "difference", "tolerance"], rows),
    ]
    if len(bad) > MAX_LISTED:
        lines.append(f"... and {len(bad) - MAX_LISTED} more")
    k, j = ordered[0]
    summary = (
        f"{lines[0]}; worst {baseline.probes[pairs[k]]} toward {baseline.classes[j]}: "
        f"{before[k, j]:+.3f} -> {after[k, j]:+.3f}"
    )
    return Outcome(False, lines, props, summary)


def display_tolerances(baseline: Baseline, tolerance: float | Sequence[float] | None) -> np.ndarray:
    """One tolerance per baseline probe: as given, or DISPLAY_TOLERANCE when none is."""
    if tolerance is None:
        tolerance = DISPLAY_TOLERANCE
    values = np.asarray(tolerance, dtype=np.float64)
    return np.array(np.broadcast_to(values, (len(baseline.probes),)))


def drift_rows(
    baseline: Baseline, sweep: Sweep, tolerance: float | Sequence[float] | None = None
) -> list[dict[str, Any]]:
    """Per baseline probe: the predicted class then and now, and the class that moved most (its
    baseline and current probability, difference, tolerance: one, one per probe, or None for
    ``DISPLAY_TOLERANCE``). Flips first, then moves beyond tolerance, then by size."""
    limits = display_tolerances(baseline, tolerance)
    current = baseline.current(sweep)
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
