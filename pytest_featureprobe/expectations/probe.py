"""Probe expectations: each selected probe predicts a class and/or keeps a class probability
within bounds (``zero``, ``alone``, ``together``, ``every``, ``biased_toward``).

In a context of real rows, ``predicts C`` means the probe, applied to each row, makes at least
``min_fraction`` (default 0.5) of the rows predict C; ``min_prob``, ``min_margin`` and
``probability`` bound the mean over rows; ``biased_toward`` is the rows' mean prediction. A
failure lists the rows that miss it most, by their feature values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..contexts import column_ids, row_text, rows_with_probe
from ..errors import plural
from ..features import FeatureSpace
from ..probes import selected_combinations
from ..sweep import Sweep, prob_column, share_column
from .outcome import MAX_LISTED, CheckContext, Outcome, format_probs, text_table

DEFAULT_SHARE = 0.5  # in context, ``predicts`` without min_fraction: most rows
WORST_ROWS = 5  # rows a failure in context lists


@dataclass(frozen=True)
class EveryProbe:
    """Quantified probes: every probe of ``order`` that contains all of ``containing`` and none of
    ``excluding``."""

    order: int
    containing: tuple[str, ...] = ()
    excluding: tuple[str, ...] = ()

    def generated(self, space: FeatureSpace | None) -> list[tuple[str, ...]]:
        """With ``containing``, the probes this selects, made as explicit probes (only they are
        swept, not every probe of the order); none without a space or with an unknown feature
        (the item reports it). Probes setting two values of one column are left out: no row
        can hold them."""
        if not self.containing or self.order < 2 or space is None:
            return []
        if not all(f in space for f in self.containing):
            return []
        excluded = [space.index(f) for f in self.excluding if f in space]
        required = space.indices(self.containing)
        rows = selected_combinations(len(space), self.order, required, excluded)
        ids = column_ids(space)[rows]
        keep = np.ones(len(rows), dtype=bool)
        for a in range(self.order):
            for b in range(a + 1, self.order):
                keep &= (ids[:, a] < 0) | (ids[:, a] != ids[:, b])
        return [space.names(row) for row in rows[keep]]

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
    min_fraction: float | None = None  # in context: the share of rows that must predict it
    mean_prediction: bool = False  # biased_toward: the rows' mean prediction, not a share

    def needed_probes(self, space: FeatureSpace | None = None) -> list[tuple[str, ...]]:
        if isinstance(self.probes, EveryProbe):
            return self.probes.generated(space)
        return list(self.probes)

    def needed_order(self) -> int:
        """``every`` with ``containing`` needs only the probes it generates, not the order."""
        if isinstance(self.probes, EveryProbe) and not (
            self.probes.containing and self.probes.order > 1
        ):
            return self.probes.order
        return 1

    def _names(self, sweep: Sweep) -> list[str]:
        if isinstance(self.probes, EveryProbe):
            return self.probes.select(sweep)
        return [sweep.name_of(p) for p in self.probes]

    def miss(self, row: Any, classes: Sequence[str], in_rows: bool = False) -> tuple[float, str]:
        """How far this row of the sweep is from passing (0 when it passes) and what was
        expected; ``in_rows``: the row holds means over a context's rows."""
        probs = {c: float(row[prob_column(c)]) for c in classes}
        worst, wants = 0.0, []
        if self.predicts is not None and in_rows and not self.mean_prediction:
            need = DEFAULT_SHARE if self.min_fraction is None else self.min_fraction
            wants.append(f"predicts {self.predicts} on at least {need:.0%} of rows")
            worst = max(worst, need - float(row[share_column(self.predicts)]))
        elif self.predicts is not None:
            rival = max(p for c, p in probs.items() if c != self.predicts)
            wants.append(f"predicts {self.predicts}")
            worst = max(
                worst, rival - probs[self.predicts] if row["predicted"] != self.predicts else 0.0
            )
        if self.predicts is not None and self.min_prob is not None:
            mean = "mean " if in_rows else ""
            wants.append(f"{mean}P({self.predicts}) >= {self.min_prob:g}")
            worst = max(worst, self.min_prob - probs[self.predicts])
        if self.min_margin is not None and self.predicts is not None and in_rows:
            # in rows C may take most rows without the top mean: bound C's own lead
            lead = probs[self.predicts] - max(p for c, p in probs.items() if c != self.predicts)
            wants.append(f"mean margin of {self.predicts} >= {self.min_margin:g}")
            worst = max(worst, self.min_margin - lead)
        elif self.min_margin is not None:
            wants.append(f"margin >= {self.min_margin:g}")
            worst = max(worst, self.min_margin - float(row["margin"]))
        if self.probability is not None:
            cls, low, high = self.probability
            wants.append(f"{'mean ' if in_rows else ''}P({cls}) in [{low:g}, {high:g}]")
            worst = max(worst, low - probs[cls], probs[cls] - high)
        return max(worst, 0.0), ", ".join(wants)

    def check(self, context: CheckContext) -> Outcome:
        sweep, in_rows = context.sweep, context.in_rows
        names = self._names(sweep)
        if not names:
            return Outcome(False, ["no probe matches this selection"])
        failures = []
        expected = ""
        for name in names:
            row = sweep.table.loc[name]
            missed, expected = self.miss(row, sweep.classes, in_rows)
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
            by_share = in_rows and not self.mean_prediction
            outcome = _single_outcome(sweep, names[0], expected, failures, passed, props, by_share)
            if not passed:
                outcome.summary = self.summary(names[0], sweep.table.loc[names[0]], sweep, in_rows)
            if not passed and in_rows:
                outcome.lines += self._worst_rows(context, sweep.table.loc[names[0], "features"])
            return outcome
        if passed and not failures:
            return Outcome(True, properties=props)
        worst, worst_row, _ = max(failures, key=lambda f: f[2])
        props.update(  # the worst probe's figures beside the counts
            worst_probe=worst,
            observed=worst_row["predicted"],
            probabilities=format_probs(
                {c: float(worst_row[prob_column(c)]) for c in sweep.classes}
            ),
        )
        need = (
            "all must pass"
            if self.mostly >= 1
            else f"mostly {self.mostly:g} requires {int(np.ceil(self.mostly * len(names)))}"
        )
        header = (
            f"{_failing(failures, names)}: expected {expected} ({need}; {passed_fraction:.1%} pass)"
        )
        if passed:
            return Outcome(True, [header], props)
        summary = (
            f"{_failing(failures, names)} ({passed_fraction:.1%} pass; {need}); "
            f"worst: {self.summary(worst, worst_row, sweep, in_rows)}"
        )
        lines = [header, *self._failure_table(sweep, failures, in_rows)]
        return Outcome(False, lines, props, summary)

    def summary(self, name: str, row: Any, sweep: Sweep, in_rows: bool) -> str:
        """A failing probe in one line: what it should give and what it gave, each failing bound
        with the observed figure (``alone 4 -> C: observed A, P(C)=0.260 < 0.9``)."""
        probs = {c: float(row[prob_column(c)]) for c in sweep.classes}
        mean, wanted = ("mean " if in_rows else ""), self.predicts
        seen = [f"observed {row['predicted']}"]
        low_prob = self.min_prob is not None and probs.get(self.predicts, 1.0) < self.min_prob
        if self.predicts is not None and in_rows and not self.mean_prediction:
            need = DEFAULT_SHARE if self.min_fraction is None else self.min_fraction
            share = float(row[share_column(self.predicts)])
            below = f" < {need:.0%}" if share < need else ""
            seen = [f"observed {self.predicts} on {share:.1%} of rows{below}"]
        elif self.predicts is not None and row["predicted"] != self.predicts and not low_prob:
            top = row["predicted"]
            seen.append(
                f"P({self.predicts})={probs[self.predicts]:.3f} < P({top})={probs[top]:.3f}"
            )
        if self.predicts is not None and low_prob:
            seen.append(f"{mean}P({self.predicts})={probs[self.predicts]:.3f} < {self.min_prob:g}")
        if self.min_margin is not None:
            wanted = wanted or f"margin >= {self.min_margin:g}"
            margin, what = float(row["margin"]), "margin"
            if self.predicts is not None and in_rows:
                rivals = [p for c, p in probs.items() if c != self.predicts]
                margin, what = probs[self.predicts] - max(rivals), f"mean margin of {self.predicts}"
            if margin < self.min_margin:
                seen.append(f"{what} {margin:.3f} < {self.min_margin:g}")
        if self.probability is not None:
            cls, low, high = self.probability
            wanted = wanted or f"{mean}P({cls}) in [{low:g}, {high:g}]"
            if probs[cls] < low or probs[cls] > high:
                bound = f"< {low:g}" if probs[cls] < low else f"> {high:g}"
                seen.append(f"{mean}P({cls})={probs[cls]:.3f} {bound}")
        return f"{probe_label(name, int(row['order']))} -> {wanted}: {', '.join(seen)}"

    def _failure_table(
        self, sweep: Sweep, failures: list[tuple[str, Any, float]], in_rows: bool
    ) -> list[str]:
        """The failing probes, worst first (at most MAX_LISTED; the rest counted)."""
        failures = sorted(failures, key=lambda f: -f[2])
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
        headers = ["probe", "observed", *[prob_column(c) for c in sweep.classes], "margin"]
        headers.append("missed by")
        if in_rows and self.predicts is not None:  # the share each failing probe reached
            headers.insert(-1, share_column(self.predicts))
            for (_, row, _), shown in zip(failures, rows, strict=False):
                shown.insert(-1, float(row[share_column(self.predicts)]))
        lines = text_table(headers, rows)
        if len(failures) > MAX_LISTED:
            lines.append(f"... and {len(failures) - MAX_LISTED} more failing probes")
        return lines

    def _worst_rows(self, context: CheckContext, features: Sequence[str]) -> list[str]:
        """The context rows that miss this check most with the probe applied, as feature values."""
        _base, applied, _ = rows_with_probe(context.model, context.context, features)
        classes = list(context.model.classes)
        top2 = np.sort(applied, axis=1)[:, -2:]
        per_row = [
            {
                **{prob_column(c): p for c, p in zip(classes, probs, strict=True)},
                "predicted": classes[int(np.argmax(probs))],
                "margin": float(top2[i, 1] - top2[i, 0]),
            }
            for i, probs in enumerate(applied)
        ]
        missed = np.array([self.miss(r, classes)[0] for r in per_row])
        order = np.argsort(-missed, kind="stable")[:WORST_ROWS]
        order = order[missed[order] > 0]
        if not len(order):
            return []
        table = [
            [
                int(i) + 1,
                per_row[i]["predicted"],
                *[float(per_row[i][prob_column(c)]) for c in classes],
                row_text(context.model.space, context.context.rows.row(int(i)), width=110),
            ]
            for i in order
        ]
        headers = ["row", "with probe", *[prob_column(c) for c in classes], "features (before)"]
        return [
            f"rows that miss it most ({int((missed > 0).sum())} of {len(per_row)} miss):",
            *text_table(headers, table),
        ]


def probe_label(name: str, order: int) -> str:
    """A probe as an entry names it: ``zero``, ``alone 4``, ``together 4+5``."""
    if order == 0:
        return "zero"
    return f"{'alone' if order == 1 else 'together'} {name}"


def _single_outcome(
    sweep: Sweep,
    name: str,
    expected: str,
    failures: list[tuple[str, Any, float]],
    passed: bool,
    props: dict,
    by_share: bool = False,
) -> Outcome:
    """The outcome of a check on one probe: what it predicts (``by_share``: each class's share
    of the context's rows) and all its class probabilities."""
    row = sweep.table.loc[name]
    probs = {c: float(row[prob_column(c)]) for c in sweep.classes}
    props.update(probe=name, observed=row["predicted"], probabilities=format_probs(probs))
    if passed:
        return Outcome(True, properties=props)
    mean = "" if sweep.context_rows is None else "mean "
    observed = f"{row['predicted']} (margin {row['margin']:.3f})"
    if mean and not by_share:
        observed = f"the mean prediction {row['predicted']} (margin {row['margin']:.3f})"
    elif by_share:  # in context: each class's share of the rows, and the mean probabilities
        shares = {c: float(row[share_column(c)]) for c in sweep.classes}
        observed = "rows predicted " + ", ".join(f"{c} {s:.1%}" for c, s in shares.items())
    lines = [
        f"probe {name}: expected {expected}; observed {observed}, missed by {failures[0][2]:.3f}",
        f"{mean}class probabilities: {format_probs(probs)}",
    ]
    return Outcome(False, lines, props)


def _failing(failures: Sequence[Any], names: Sequence[Any]) -> str:
    """``2 of 5 probes fail``; ``1 of 1 probe fail`` (the count of probes, not of failures)."""
    return f"{len(failures)} of {plural(len(names), 'probe')} fail"
