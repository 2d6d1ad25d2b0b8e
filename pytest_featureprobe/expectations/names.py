"""Unknown features and classes of an expectation, found before any model runs when the file
declares its model, as one short message each."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import did_you_mean, preview, quoted
from ..features import FeatureSpace
from .adding import AddingExpectation
from .probe import EveryProbe, ProbeExpectation
from .ranking import RankingExpectation

Expectation = ProbeExpectation | AddingExpectation | RankingExpectation

#: In an unknown-name message, the unknown name is cut to ``UNKNOWN_WIDTH`` characters, known
#: names (in a hint or a list) to ``NAME_WIDTH`` and a list of them to about ``NAMES_WIDTH``:
#: the message stays one line of under 300 characters whatever the names.
UNKNOWN_WIDTH = 40
NAME_WIDTH = 30
NAMES_WIDTH = 80


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
            hint = did_you_mean(name, space.features, NAME_WIDTH)
            hint = hint or f"; features are {preview(space.features, width=NAMES_WIDTH)}"
            problems.append((key, f"unknown feature {quoted(name, UNKNOWN_WIDTH)}{hint}"))

    def cls(key: str, name: str | None) -> None:
        if name is not None and name not in classes:
            hint = did_you_mean(name, classes, NAME_WIDTH)
            listing = preview(classes, width=NAMES_WIDTH)
            problems.append(
                (key, f"unknown class {quoted(name, UNKNOWN_WIDTH)}{hint}; classes are {listing}")
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
