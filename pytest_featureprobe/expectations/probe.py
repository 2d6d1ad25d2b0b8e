"""Probe expectations: each selected probe predicts a class and/or keeps a class probability
within bounds (``zero``, ``alone``, ``together``, ``every``, ``biased_toward``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..sweep import Sweep, prob_column
from .outcome import MAX_LISTED, CheckContext, Outcome, format_probs, text_table


@dataclass(frozen=True)
class EveryProbe:
    """Quantified probes: every probe of ``order`` that contains all of ``containing`` and none of
    ``excluding``."""

    order: int
    containing: tuple[str, ...] = ()
    excluding: tuple[str, ...] = ()

    def select(self, sweep: Sweep) -> list[str]:
        table = sweep.table
        chosen = table.index[table["order"] == self.order]
        need, avoid = set(self.containing), set(self.excluding)
        features = table.loc[chosen, "features"]
        return [
            name
            for name, names in zip(chosen, features, strict=True)
            if need <= set(names) and not avoid & set(names)
        ]


@dataclass
class ProbeExpectation:
    """Each selected probe predicts a class and/or keeps a class probability within bounds."""

    probes: list[tuple[str, ...]] | EveryProbe
    predicts: str | None = None
    min_prob: float | None = None
    min_margin: float | None = None
    probability: tuple[str, float, float] | None = None  # (class, low, high)
    mostly: float = 1.0

    def needed_probes(self) -> list[tuple[str, ...]]:
        return [] if isinstance(self.probes, EveryProbe) else list(self.probes)

    def needed_order(self) -> int:
        if isinstance(self.probes, EveryProbe):
            return self.probes.order
        return 1

    def _names(self, sweep: Sweep) -> list[str]:
        if isinstance(self.probes, EveryProbe):
            return self.probes.select(sweep)
        return [sweep.name_of(p) for p in self.probes]

    def miss(self, row: Any, classes: Sequence[str]) -> tuple[float, str]:
        """How far this row is from passing (0 when it passes) and what was expected."""
        probs = {c: float(row[prob_column(c)]) for c in classes}
        worst, wants = 0.0, []
        if self.predicts is not None:
            rival = max(p for c, p in probs.items() if c != self.predicts)
            wants.append(f"predicts {self.predicts}")
            worst = max(
                worst, rival - probs[self.predicts] if row["predicted"] != self.predicts else 0.0
            )
            if self.min_prob is not None:
                wants.append(f"P({self.predicts}) >= {self.min_prob:g}")
                worst = max(worst, self.min_prob - probs[self.predicts])
        if self.min_margin is not None:
            wants.append(f"margin >= {self.min_margin:g}")
            worst = max(worst, self.min_margin - float(row["margin"]))
        if self.probability is not None:
            cls, low, high = self.probability
            wants.append(f"P({cls}) in [{low:g}, {high:g}]")
            worst = max(worst, low - probs[cls], probs[cls] - high)
        return max(worst, 0.0), ", ".join(wants)

    def check(self, context: CheckContext) -> Outcome:
        sweep = context.sweep
        names = self._names(sweep)
        if not names:
            return Outcome(False, ["no probe matches this selection"])
        failures = []
        expected = ""
        for name in names:
            row = sweep.table.loc[name]
            missed, expected = self.miss(row, sweep.classes)
            if missed > 0:
                failures.append((name, row, missed))
        passed_fraction = 1 - len(failures) / len(names)
        passed = passed_fraction >= self.mostly - 1e-12
        props = {
            "probes": len(names),
            "failed_probes": len(failures),
            "expected": expected,
        }
        if len(names) == 1:
            return _single_outcome(sweep, names[0], expected, failures, passed, props)
        if passed and not failures:
            return Outcome(True, properties=props)
        need = (
            "all must pass"
            if self.mostly >= 1
            else f"mostly {self.mostly:g} requires {int(np.ceil(self.mostly * len(names)))}"
        )
        header = (
            f"{len(failures)} of {len(names)} probes fail: expected {expected} ({need}; "
            f"{passed_fraction:.1%} pass)"
        )
        if passed:
            return Outcome(True, [header], props)
        failures.sort(key=lambda f: -f[2])
        rows = [
            [
                name,
                row["predicted"],
                *[float(row[prob_column(c)]) for c in sweep.classes],
                float(row["margin"]),
                missed,
            ]
            for name, row, missed in failures[:MAX_LISTED]
        ]
        headers = [
            "probe",
            "observed",
            *[prob_column(c) for c in sweep.classes],
            "margin",
            "missed by",
        ]
        lines = [header, *text_table(headers, rows)]
        if len(failures) > MAX_LISTED:
            lines.append(f"... and {len(failures) - MAX_LISTED} more failing probes")
        return Outcome(False, lines, props)


def _single_outcome(
    sweep: Sweep,
    name: str,
    expected: str,
    failures: list[tuple[str, Any, float]],
    passed: bool,
    props: dict,
) -> Outcome:
    """The outcome of a check on one probe: what it predicts and all its class probabilities."""
    row = sweep.table.loc[name]
    probs = {c: float(row[prob_column(c)]) for c in sweep.classes}
    props.update(probe=name, observed=row["predicted"], probabilities=format_probs(probs))
    if passed:
        return Outcome(True, properties=props)
    lines = [
        f"probe {name}: expected {expected}; observed {row['predicted']} "
        f"(margin {row['margin']:.3f}), missed by {failures[0][2]:.3f}",
        f"class probabilities: {format_probs(probs)}",
    ]
    return Outcome(False, lines, props)
