"""Ranking drift: do the features that push each class most still rank as they did?

Per class, the rank correlation (Spearman's rho or Kendall's tau-b) of single-feature
attributions, and the overlap of the top-k features, between the baseline and today.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..expectations.outcome import Outcome, text_table
from ..probes import ZERO, probe_features

if TYPE_CHECKING:
    from ..sweep import Sweep
    from .record import Baseline


def rank_correlation(a: np.ndarray, b: np.ndarray, method: str = "spearman") -> float:
    """Spearman's rho (Pearson correlation of average ranks) or Kendall's tau-b."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2:
        return 1.0
    if method == "spearman":
        ra, rb = _average_ranks(a), _average_ranks(b)
        ra, rb = ra - ra.mean(), rb - rb.mean()
        denominator = np.sqrt((ra**2).sum() * (rb**2).sum())
        return float((ra * rb).sum() / denominator) if denominator else 1.0
    if method == "kendall":
        i, j = np.triu_indices(len(a), 1)
        sa, sb = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
        concordant_minus_discordant = float((sa * sb).sum())
        n_a, n_b = float((sa != 0).sum()), float((sb != 0).sum())
        return concordant_minus_discordant / np.sqrt(n_a * n_b) if n_a and n_b else 1.0
    raise ValueError(f"method must be spearman or kendall, not {method!r}")


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _single_attributions(
    probabilities: np.ndarray, probes: Sequence[str]
) -> tuple[list[str], np.ndarray]:
    zero = probabilities[list(probes).index(ZERO)]
    rows = [i for i, p in enumerate(probes) if len(probe_features(p)) == 1]
    return [probes[i] for i in rows], probabilities[rows] - zero


def check_rank_agreement(
    baseline: Baseline,
    sweep: Sweep,
    method: str = "spearman",
    minimum: float | None = None,
    top_k: int | None = None,
    min_overlap: int | None = None,
) -> Outcome:
    """Per class: rank correlation of single-feature attributions (dP) >= minimum, and the
    overlap of the top-k features toward the class >= min_overlap."""
    names, before = _single_attributions(baseline.probabilities, baseline.probes)
    _, after = _single_attributions(baseline.current(sweep), baseline.probes)
    rows, failing = [], 0
    for j, cls in enumerate(baseline.classes):
        row: list[Any] = [cls]
        ok = True
        if minimum is not None:
            value = rank_correlation(before[:, j], after[:, j], method)
            ok &= value >= minimum - 1e-12
            row.append(f"{method} {value:.3f} (min {minimum:g})")
        if top_k is not None:
            top_before = [names[i] for i in np.argsort(-before[:, j], kind="stable")[:top_k]]
            top_after = [names[i] for i in np.argsort(-after[:, j], kind="stable")[:top_k]]
            overlap = len(set(top_before) & set(top_after))
            needed = min_overlap if min_overlap is not None else top_k
            ok &= overlap >= needed
            row.append(
                f"top {top_k} overlap {overlap} (min {needed}): "
                f"{', '.join(top_before)} -> {', '.join(top_after)}"
            )
        row.append("ok" if ok else "DRIFT")
        failing += not ok
        rows.append(row)
    headers = (
        ["class"]
        + (["rank agreement"] if minimum is not None else [])
        + (["top-k"] if top_k is not None else [])
        + ["verdict"]
    )
    table = text_table(headers, rows)
    if not failing:
        return Outcome(True, properties={"classes_drifted": 0})
    return Outcome(
        False,
        [f"attribution ranking drifted for {failing} of {len(baseline.classes)} classes", *table],
        {"classes_drifted": failing},
    )
