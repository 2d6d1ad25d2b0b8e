"""Adding a feature: raises or lowers a class probability, or moves none by more than a bound
(invariance); on the zero probe, or on each row of the item's context (directional).

On rows, a row that already has the feature cannot gain it: it is skipped, and the failure text
counts it. (The sweep table's means keep such rows, with an effect of 0.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..contexts import row_text, rows_with_probe
from ..errors import plural
from .outcome import MAX_LISTED, CheckContext, Outcome, format_probs, text_table

DIRECTION_TOLERANCE = 0.01  # wrong-way move a direction check without ``by`` forgives


@dataclass
class AddingExpectation:
    """Adding a feature raises or lowers P(class) by at least ``by``, or moves no class by more
    than ``at_most`` (invariance): on the zero probe, or on each row of the context, passing on
    at least ``min_fraction`` of them."""

    feature: str
    direction: str  # "raises", "lowers" or "invariant"
    cls: str | None = None
    by: float = 0.0
    at_most: float | None = None
    min_fraction: float = 1.0
    tolerance: float = DIRECTION_TOLERANCE

    def needed_probes(self, space: Any = None) -> list[tuple[str, ...]]:
        return [(self.feature,)]

    def needed_order(self) -> int:
        return 1

    def _changes(self, context: CheckContext) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """(base probabilities, with-feature probabilities, row numbers, skipped rows)."""
        model = context.model
        if not context.in_rows:
            base = np.array([[context.sweep.probabilities("zero")[c] for c in model.classes]])
            with_feature = np.array(
                [[context.sweep.probabilities([self.feature])[c] for c in model.classes]]
            )
            return base, with_feature, np.array([0]), 0
        # A categorical value replaces the row's value of its column (a row has one island).
        base, added, had = rows_with_probe(model, context.context, [self.feature])
        applicable = np.flatnonzero(~had)
        return base[applicable], added[applicable], applicable, int(had.sum())

    def _missed(self, delta: np.ndarray, classes: list[str]) -> tuple[np.ndarray, str]:
        """Per row, how far the change is from passing (> 0 fails), and what was expected."""
        if self.direction == "invariant":
            missed = np.abs(delta).max(axis=1) - self.at_most
            wanted = (
                f"adding {self.feature} moves no class probability by more than {self.at_most:g}"
            )
            return missed, wanted
        j = classes.index(self.cls)
        change = delta[:, j] if self.direction == "raises" else -delta[:, j]
        # Without ``by``: does not move the other way by more than ``tolerance`` (CheckList's
        # monotonic directional test).
        missed = self.by - change if self.by else -change - self.tolerance
        wanted = f"adding {self.feature} {self.direction} P({self.cls})"
        wanted += (
            f" by at least {self.by:g}"
            if self.by
            else f" (or moves it the other way by at most {self.tolerance:g})"
        )
        return missed, wanted

    def check(self, context: CheckContext) -> Outcome:
        classes = list(context.model.classes)
        base, added, row_numbers, skipped = self._changes(context)
        delta = added - base
        if len(delta) == 0:
            return Outcome(
                False,
                [
                    f"no row of the context ({context.context.name}) lacks feature "
                    f"{self.feature} (every row has it: {plural(skipped, 'row')})"
                ],
            )
        missed, wanted = self._missed(delta, classes)
        failing = np.flatnonzero(missed > 0)
        fraction = 1 - len(failing) / len(delta)
        passed = fraction >= self.min_fraction - 1e-12
        props = {
            "expected": wanted,
            "rows": len(delta),
            "failed_rows": len(failing),
            "pass_fraction": round(fraction, 4),
        }
        if not context.in_rows:
            return self._zero_outcome(classes, base[0], added[0], float(missed[0]), wanted, props)
        if passed:
            return Outcome(True, properties=props)
        lines = [
            f"expected {wanted} on at least {self.min_fraction:.0%} of rows of the context "
            f"({context.context.name}); it holds on {fraction:.1%} "
            f"({len(delta) - len(failing)} of {plural(len(delta), 'row')}"
            + (f"; {_already(skipped, self.feature)})" if skipped else ")")
        ]
        order = failing[np.argsort(-missed[failing], kind="stable")][:MAX_LISTED]  # ties: row order
        worst = int(order[0])
        props.update(
            worst_row=int(row_numbers[worst]) + 1, observed=self._observed(delta[worst], classes)
        )
        summary = (
            f"adding {self.feature} -> {self._target()} on {self.min_fraction:.0%} of rows: "
            f"holds on {fraction:.1%} ({len(delta) - len(failing)} of {len(delta)}); "
            f"worst row {int(row_numbers[worst]) + 1}: {self._change(delta[worst], classes)}"
        )
        headers = ["row", *[f"dP({c})" for c in classes], "missed by", "features"]
        space, rows_of = context.model.space, context.context.rows
        rows = [
            [
                int(row_numbers[i]) + 1,
                *[float(d) for d in delta[i]],
                float(missed[i]),
                row_text(space, rows_of.row(int(row_numbers[i])), width=110),
            ]
            for i in order
        ]
        lines += text_table(headers, rows)
        if len(failing) > MAX_LISTED:
            lines.append(f"... and {len(failing) - MAX_LISTED} more failing rows")
        return Outcome(False, lines, props, summary)

    def _target(self) -> str:
        """What the entry asks, short: ``raises P(C) by 0.1``, ``moves no class by > 0.05``."""
        if self.direction == "invariant":
            return f"moves no class by more than {self.at_most:g}"
        return f"{self.direction} P({self.cls})" + (f" by {self.by:g}" if self.by else "")

    def _observed(self, delta: np.ndarray, classes: list[str]) -> str:
        """The change the check reads: the class's, signed, or (invariance) the largest size."""
        if self.direction == "invariant":
            return f"{float(np.abs(delta).max()):+.3f}"
        return f"{float(delta[classes.index(self.cls)]):+.3f}"

    def _change(self, delta: np.ndarray, classes: list[str]) -> str:
        """One change with the bound it misses: ``dP(C)=+0.020 < 0.1``."""
        if self.direction == "invariant":
            j = int(np.argmax(np.abs(delta)))
            return f"dP({classes[j]})={float(delta[j]):+.3f}, beyond {self.at_most:g}"
        d, raises = float(delta[classes.index(self.cls)]), self.direction == "raises"
        if self.by:
            bound = f"< +{self.by:g}" if raises else f"> -{self.by:g}"
        else:
            bound = f"< -{self.tolerance:g}" if raises else f"> +{self.tolerance:g}"
        return f"dP({self.cls})={d:+.3f} {bound}"

    def _zero_outcome(
        self,
        classes: list[str],
        base: np.ndarray,
        added: np.ndarray,
        missed: float,
        wanted: str,
        props: dict,
    ) -> Outcome:
        """The outcome on the zero probe: one change, shown with both probes' probabilities."""
        delta = added - base
        props.update(probe=self.feature, observed=self._observed(delta, classes))
        if missed <= 0:
            return Outcome(True, properties=props)
        summary = (
            f"adding {self.feature} -> {self._target()}: observed {self._change(delta, classes)}"
        )
        moved = ", ".join(f"dP({c})={d:+.3f}" for c, d in zip(classes, delta, strict=True))
        return Outcome(
            False,
            [
                f"expected {wanted} on the zero probe; observed {moved}, missed by {missed:.3f}",
                f"zero probe:  {format_probs(dict(zip(classes, base.tolist(), strict=True)))}",
                f"probe {self.feature}: "
                f"{format_probs(dict(zip(classes, added.tolist(), strict=True)))}",
            ],
            props,
            summary,
        )


def _already(skipped: int, feature: Any) -> str:
    """How many rows already have the feature, and are skipped: said in the right number."""
    if skipped == 1:
        return f"1 row already has {feature} and is skipped"
    return f"{plural(skipped, 'row')} already have {feature} and are skipped"
