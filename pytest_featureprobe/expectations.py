"""Expectation kinds: declared statements over a model's sweep that pass or fail, with explanations.

Each kind knows which probes it needs (so one sweep serves a whole file) and checks itself against a
``CheckContext``. A failed check explains itself: the probe, what was expected, what was observed
(every class probability) and by how much it missed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .features import FeatureSpace, quoted
from .models import ProbeModel
from .sweep import Sweep, delta_column, prob_column

MAX_LISTED = 10
DIRECTION_TOLERANCE = 0.01  # wrong-way move a direction check without ``by`` forgives


@dataclass
class CheckContext:
    """What a check may read: the model, its sweep and (for ``on:`` checks) encoded data rows."""

    model: ProbeModel
    sweep: Sweep
    rows: Callable[[str], np.ndarray]  # the ``on:`` value -> multi-hot rows of that data
    baseline: Callable[[], Any] | None = None  # the file's stored Baseline (drift checks)


@dataclass
class Outcome:
    """The result of one check: pass/fail, the explanation lines and facts for JUnit properties."""

    passed: bool
    lines: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)


def format_probs(probs: dict[str, float]) -> str:
    return "  ".join(f"P({c})={p:.3f}" for c, p in probs.items())


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [[str(h) for h in headers]] + [
        [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]


# --- probe selections --------------------------------------------------------------------------


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
            row = sweep.table.loc[names[0]]
            probs = {c: float(row[prob_column(c)]) for c in sweep.classes}
            props.update(
                probe=names[0], observed=row["predicted"], probabilities=format_probs(probs)
            )
            if passed:
                return Outcome(True, properties=props)
            lines = [
                f"probe {names[0]}: expected {expected}; observed {row['predicted']} "
                f"(margin {row['margin']:.3f}), missed by {failures[0][2]:.3f}",
                f"class probabilities: {format_probs(probs)}",
            ]
            return Outcome(False, lines, props)
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
        lines = [header, *_table(headers, rows)]
        if len(failures) > MAX_LISTED:
            lines.append(f"... and {len(failures) - MAX_LISTED} more failing probes")
        return Outcome(False, lines, props)


@dataclass
class AddingExpectation:
    """Adding a feature raises or lowers P(class) by at least ``by``, or moves no class by more
    than ``at_most`` (invariance): on the zero probe, or on each row of a data set (directional)."""

    feature: str
    direction: str  # "raises", "lowers" or "invariant"
    cls: str | None = None
    by: float = 0.0
    at_most: float | None = None
    on: str | None = None  # None: the zero probe; else a data file or "training"
    min_fraction: float = 1.0
    tolerance: float = DIRECTION_TOLERANCE

    def needed_probes(self) -> list[tuple[str, ...]]:
        return [(self.feature,)]

    def needed_order(self) -> int:
        return 1

    def _changes(self, context: CheckContext) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """(base probabilities, with-feature probabilities, row numbers, skipped rows)."""
        model = context.model
        position = model.space.index(self.feature)
        if self.on is None:
            base = np.array([[context.sweep.probabilities("zero")[c] for c in model.classes]])
            with_feature = np.array(
                [[context.sweep.probabilities([self.feature])[c] for c in model.classes]]
            )
            return base, with_feature, np.array([0]), 0
        rows = context.rows(self.on)
        applicable = np.flatnonzero(rows[:, position] == 0)
        if len(applicable) == 0:  # nothing to predict (check says why)
            nothing = np.zeros((0, len(model.classes)))
            return nothing, nothing, applicable, len(rows)
        x = rows[applicable]
        added = x.copy()
        # A categorical value replaces the row's value of that column (a row has one island).
        added[:, model.space.column_positions(self.feature)] = 0.0
        added[:, position] = 1.0
        return (
            model.predict_proba(x),
            model.predict_proba(added),
            applicable,
            len(rows) - len(applicable),
        )

    def check(self, context: CheckContext) -> Outcome:
        classes = list(context.model.classes)
        base, added, row_numbers, skipped = self._changes(context)
        delta = added - base
        where = "the zero probe" if self.on is None else f"rows of {self.on}"
        if len(delta) == 0:
            why = f"all {skipped} rows have it" if skipped else "it has no rows"
            return Outcome(False, [f"no row of {self.on} lacks feature {self.feature} ({why})"])
        if self.direction == "invariant":
            change = np.abs(delta).max(axis=1)
            missed = change - self.at_most
            wanted = (
                f"adding {self.feature} moves no class probability by more than {self.at_most:g}"
            )
        else:
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
        failing = np.flatnonzero(missed > 0)
        fraction = 1 - len(failing) / len(delta)
        passed = fraction >= self.min_fraction - 1e-12
        props = {
            "expected": wanted,
            "rows": len(delta),
            "failed_rows": len(failing),
            "pass_fraction": round(fraction, 4),
        }
        if self.on is None:
            probs_before = dict(zip(classes, base[0].tolist(), strict=True))
            probs_after = dict(zip(classes, added[0].tolist(), strict=True))
            observed = (
                float(np.abs(delta[0]).max())
                if self.direction == "invariant"
                else float(delta[0, classes.index(self.cls)])
            )
            props.update(probe=self.feature, observed=f"{observed:+.3f}")
            if passed:
                return Outcome(True, properties=props)
            moved = ", ".join(f"dP({c})={d:+.3f}" for c, d in zip(classes, delta[0], strict=True))
            return Outcome(
                False,
                [
                    f"expected {wanted} on {where}; observed {moved}, "
                    f"missed by {float(missed[0]):.3f}",
                    f"zero probe:  {format_probs(probs_before)}",
                    f"probe {self.feature}: {format_probs(probs_after)}",
                ],
                props,
            )
        if passed:
            return Outcome(True, properties=props)
        lines = [
            f"expected {wanted} on at least {self.min_fraction:.0%} of {where}; "
            f"it holds on {fraction:.1%} ({len(delta) - len(failing)} of {len(delta)} rows"
            + (f"; {skipped} rows already have {self.feature} and are skipped)" if skipped else ")")
        ]
        order = failing[np.argsort(-missed[failing])][:MAX_LISTED]
        headers = ["row", *[f"dP({c})" for c in classes], "missed by"]
        rows = [
            [int(row_numbers[i]) + 1, *[float(d) for d in delta[i]], float(missed[i])]
            for i in order
        ]
        lines += _table(headers, rows)
        if len(failing) > MAX_LISTED:
            lines.append(f"... and {len(failing) - MAX_LISTED} more failing rows")
        return Outcome(False, lines, props)


@dataclass
class RankingExpectation:
    """The top-k single features by attribution toward a class (their dP) are, or include, a set."""

    cls: str
    k: int
    features: tuple[str, ...]
    exact: bool  # True: the top k are exactly ``features``; False: they include them

    def needed_probes(self) -> list[tuple[str, ...]]:
        return []

    def needed_order(self) -> int:
        return 1

    def check(self, context: CheckContext) -> Outcome:
        sweep = context.sweep
        singles = sweep.table[sweep.table["order"] == 1]
        # Stable sort: ties keep feature-space order.
        ranked = singles.sort_values(delta_column(self.cls), ascending=False, kind="stable")
        top = [names[0] for names in ranked["features"].iloc[: self.k]]
        wanted = set(self.features)
        ok = wanted == set(top) if self.exact else wanted <= set(top)
        relation = "are exactly" if self.exact else "include"
        props = {
            "expected": f"top {self.k} toward {self.cls} {relation} {sorted(wanted)}",
            "observed": ", ".join(top),
        }
        if ok:
            return Outcome(True, properties=props)
        shown = ranked.head(max(self.k + 3, len(wanted)))
        rows = [
            [rank + 1, names[0], float(value), "*" if names[0] in wanted else ""]
            for rank, (names, value) in enumerate(
                zip(shown["features"], shown[delta_column(self.cls)], strict=True)
            )
        ]
        missing = sorted(wanted - set(top))
        lines = [
            f"expected the top {self.k} features toward {self.cls} to "
            f"{'be exactly' if self.exact else 'include'} "
            f"{', '.join(sorted(wanted))}; observed top {self.k}: {', '.join(top)}"
            + (f" (missing: {', '.join(missing)})" if missing else ""),
            *_table(["rank", "feature", f"dP({self.cls})", "expected"], rows),
        ]
        return Outcome(False, lines, props)


Expectation = ProbeExpectation | AddingExpectation | RankingExpectation


#: In an unknown-name message, the unknown name is cut to ``UNKNOWN_WIDTH`` characters, known
#: names (in a hint or a list) to ``NAME_WIDTH`` and a list of them to about ``NAMES_WIDTH``:
#: the message stays one line of under 300 characters whatever the names.
UNKNOWN_WIDTH = 40
NAME_WIDTH = 30
NAMES_WIDTH = 80


def _shown(name: str) -> str:
    """A name in a list: as it is when short and printable, else quoted and cut short."""
    return name if name.isprintable() and len(name) <= NAME_WIDTH else quoted(name, NAME_WIDTH)


def _listing(names: Sequence[str]) -> str:
    """The first names that fit in about ``NAMES_WIDTH`` characters (at least one, at most
    ``preview``'s eight), then how many more."""
    from .errors import preview

    shown = [_shown(name) for name in names]
    count, width = 0, 0
    for item in shown[:8]:
        width += len(item) + 2
        if count and width > NAMES_WIDTH:
            break
        count += 1
    return preview(shown, limit=count)


def _hint(name: str, choices: Sequence[str]) -> str:
    """A ' (did you mean ...?)' hint, its names cut short; '' when nothing is close."""
    import difflib

    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(quoted(c, NAME_WIDTH) for c in close) + "?)"


def check_names(
    expectation: Expectation, space: FeatureSpace, classes: Sequence[str]
) -> list[tuple[str, str]]:
    """Unknown features and classes of an expectation, as (key, message) pairs.

    Each message is one line of at most about 300 characters: long names are cut short and
    names that are not printable (a newline) are quoted, in the hint and the list alike.
    """
    problems: list[tuple[str, str]] = []

    def feature(key: str, name: str) -> None:
        if name not in space:
            hint = _hint(name, space.features) or f"; features are {_listing(space.features)}"
            problems.append((key, f"unknown feature {quoted(name, UNKNOWN_WIDTH)}{hint}"))

    def cls(key: str, name: str | None) -> None:
        if name is not None and name not in classes:
            problems.append(
                (
                    key,
                    f"unknown class {quoted(name, UNKNOWN_WIDTH)}{_hint(name, classes)}; "
                    f"classes are {_listing(classes)}",
                )
            )

    if isinstance(expectation, ProbeExpectation):
        if isinstance(expectation.probes, EveryProbe):
            for name in expectation.probes.containing + expectation.probes.excluding:
                feature("every", name)
        else:
            for probe in expectation.probes:
                for name in probe:
                    feature("probe", name)
        cls("predicts", expectation.predicts)
        if expectation.probability:
            cls("probability.class", expectation.probability[0])
    elif isinstance(expectation, AddingExpectation):
        feature("adding", expectation.feature)
        cls(expectation.direction, expectation.cls)
    elif isinstance(expectation, RankingExpectation):
        for name in expectation.features:
            feature("are" if expectation.exact else "include", name)
        cls("toward", expectation.cls)
    return problems
