"""What a user reads when an expectation fails: a table of cases, each an expectation file run
through pytest with the exact explanation of every failing item.

Every case writes ``featureprobe_fruit.yaml`` (its ``expect:`` entries under a model from the
fixture ``fruit_model``, see CONFTEST in tests/conftest.py: a plain-numpy model whose
probabilities are known exactly, so the numbers are asserted as printed) and whatever data files
it names, runs pytest in-process with ``-v``, and asserts, for every case:

1. the outcomes: exactly ``passed``, ``failed`` and ``xfailed`` items, nothing else;
2. one failure section per failed item, and every one of them is described in ``failures``;
3. each failure's text: the explanation lines after the entry's YAML source (or, with
   ``whole=True``, the whole section from its first line), line for line; a line is exact unless
   given as ``Like`` (an fnmatch pattern in which only ``*`` is a wildcard), a run of lines may be
   ``AnyOrder`` (rows the check does not order, such as ties), and with ``complete=False`` only
   the first lines are asserted;
4. no traceback anywhere in the output, and none of the ``absent`` strings in the failure report
   (the part before the sweep table that ``-v`` prints);
5. each failure's one-line summary (pytest's short summary, JUnit's message) is one line.

A case is a ``Case`` record: add one to ``CASES``. Below the table, the runs that are about the
model rather than the failure text (raw callables, logits, ``train:`` and ``load:``) are ordinary
tests.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from pytest_featureprobe.features import FeatureSpace

SEED = Path(__file__).resolve().parents[2] / "examples" / "problems"

HEADER = "model:\n  fixture: fruit_model\nexpect:\n"
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def check(pytester: pytest.Pytester, expect: str, *args: str, header: str = HEADER):
    """Write one expectation file (``expect`` is the list under ``expect:``) and run it."""
    text = header + textwrap.indent(textwrap.dedent(expect), "  ")
    (pytester.path / "featureprobe_fruit.yaml").write_text(text)
    return pytester.runpytest(*QUIET, "-v", *args)


def fnm(*patterns: str) -> list[str]:
    """fnmatch patterns in which only ``*`` is a wildcard (ids are full of ``[`` and ``]``)."""
    table = str.maketrans({"[": "[[]", "]": "[]]", "?": "[?]"})
    return [p.translate(table) for p in patterns]


SECTION_HEADER = re.compile(r"^_+ (?:ERROR at setup of )?\S+:\d+: (.+?) _+$", re.MULTILINE)


def section(result: pytest.RunResult, name: str) -> str:
    """The failure report of one item: from its ``___ header ___`` to the next header."""
    text = result.stdout.str()
    match = re.search(
        rf"^_+ (?:ERROR at setup of )?\S+:\d+: {re.escape(name)} _+$(.*?)(?=^[_=]{{3,}})",
        text,
        re.MULTILINE | re.DOTALL,
    )
    assert match, f"no failure section for {name!r} in:\n{text}"
    return match.group(1).strip("\n")


def body(result: pytest.RunResult, name: str) -> list[str]:
    """The explanation lines of a failed expectation (after its YAML source)."""
    lines = section(result, name).splitlines()
    return [line for line in lines[1:] if not line.startswith("    ")]


# --- the table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Like:
    """A line given as an fnmatch pattern in which only ``*`` is a wildcard."""

    pattern: str


@dataclass(frozen=True)
class AnyOrder:
    """Consecutive lines, each matching one of these (exact, or ``Like``), in some order."""

    lines: tuple[str | Like, ...]


Line = str | Like | AnyOrder


@dataclass(frozen=True)
class Failure:
    """The text of one failed item (its id): the explanation lines after its YAML source, or with
    ``whole`` the whole section; with ``complete=False`` only its first ``len(lines)`` lines."""

    name: str
    lines: tuple[Line, ...]
    whole: bool = False
    complete: bool = True


@dataclass(frozen=True)
class Case:
    """One expectation file (``expect``: the YAML of the entries under ``expect:``, dedented), the
    outcomes of its items and the text of each failed one. ``files`` are written beside it."""

    id: str
    expect: str
    passed: int = 0
    failed: int = 0
    xfailed: int = 0
    errors: int = 0  # items refused before they run (at setup): their text is asserted too
    failures: tuple[Failure, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()


def fails(name: str, *lines: Line, whole: bool = False, complete: bool = True) -> Failure:
    return Failure(name, lines, whole=whole, complete=complete)


def starts(name: str, *lines: Line) -> Failure:
    """Only the first lines of the explanation are asserted."""
    return Failure(name, lines, complete=False)


CASES: list[Case] = [
    # --- predicts ---------------------------------------------------------------------------------
    Case(
        "predicts-on-the-zero-probe",
        """\
        - zero: true
          predicts: apple
        - zero: true
          predicts: banana
        """,
        passed=1,
        failed=1,
        failures=(
            fails(
                "zero-predicts-banana",
                "  probe zero: expected predicts banana; observed apple (margin 0.300), "
                "missed by 0.300",
                "  class probabilities: P(apple)=0.600  P(banana)=0.300  P(lime)=0.100",
            ),
        ),
    ),
    Case(
        "predicts-alone-whole-section",
        """\
        - alone: long
          predicts: banana
        - alone: long
          predicts: apple
        """,
        passed=1,
        failed=1,
        failures=(
            fails(
                "alone-long-predicts-apple",
                "featureprobe_fruit.yaml:6: expectation 'alone-long-predicts-apple' failed",
                "    - alone: long",
                "      predicts: apple",
                "  probe long: expected predicts apple; observed banana (margin 0.350), "
                "missed by 0.350",
                "  class probabilities: P(apple)=0.300  P(banana)=0.650  P(lime)=0.050",
                whole=True,
            ),
        ),
    ),
    Case(
        "predicts-alone-list-tables-the-failing-probes",
        """\
        - alone: [long, sweet]
          predicts: banana
        - alone: [red, round, long, green]
          predicts: apple
        """,
        passed=1,
        failed=1,
        failures=(
            fails(
                "alone-red_round_long_green-predicts-apple",
                "  2 of 4 probes fail: expected predicts apple (all must pass; 50.0% pass)",
                "  probe  observed  P(apple)  P(banana)  P(lime)  margin  missed by",
                "  long   banana    0.300     0.650      0.050    0.350   0.350",
                "  green  lime      0.300     0.200      0.500    0.200   0.200",
            ),
        ),
    ),
    Case(
        "predicts-together-and-list-of-together",
        """\
        - together: [long, sweet]
          predicts: banana
          min_prob: 0.7
        - together: [[green, sour], [red, green, sour]]
          predicts: lime
        - together: [[green, sour], [red, round]]
          predicts: lime
        """,
        passed=2,
        failed=1,
        failures=(
            fails(
                "together-green+sour_red+round-predicts-lime",
                "  1 of 2 probes fail: expected predicts lime (all must pass; 50.0% pass)",
                "  probe      observed  P(apple)  P(banana)  P(lime)  margin  missed by",
                "  red+round  apple     0.800     0.100      0.100    0.700   0.700",
            ),
        ),
    ),
    Case(
        # green+sour+long = (8, 14, 18) / 40 -- an explicit probe above the sweep's order. The id
        # keeps the order written; the probe is named in feature-space order.
        "a-triple-beyond-the-sweep-order-is-probed-too",
        """\
        - together: [green, sour, long]
          probability: {class: lime, min: 0.44, max: 0.46}
        - together: [green, sour, long]
          probability: {class: lime, max: 0.4}
        """,
        passed=1,
        failed=1,
        failures=(
            fails(
                "together-green+sour+long-probability-lime-0-0.4",
                "  probe green+long+sour: expected P(lime) in [0, 0.4]; observed lime "
                "(margin 0.100), missed by 0.050",
                "  class probabilities: P(apple)=0.200  P(banana)=0.350  P(lime)=0.450",
            ),
        ),
    ),
    # --- biased_toward, min_prob, min_margin, probability ----------------------------------------
    Case(
        "biased-toward-with-min-margin",
        """\
        - biased_toward: apple
          min_margin: 0.25
        - name: zero leans to banana
          biased_toward: banana
        - name: zero leans clearly to apple
          biased_toward: apple
          min_margin: 0.4
        """,
        passed=1,
        failed=2,
        failures=(
            fails(
                "zero leans to banana",
                "  probe zero: expected predicts banana; observed apple (margin 0.300), "
                "missed by 0.300",
                "  class probabilities: P(apple)=0.600  P(banana)=0.300  P(lime)=0.100",
            ),
            starts(
                "zero leans clearly to apple",
                "  probe zero: expected predicts apple, margin >= 0.4; observed apple "
                "(margin 0.300), missed by 0.100",
            ),
        ),
    ),
    Case(
        "min-prob",
        """\
        - alone: sweet
          predicts: banana
          min_prob: 0.55
        - name: sweet is surely banana
          alone: sweet
          predicts: banana
          min_prob: 0.7
        """,
        passed=1,
        failed=1,
        failures=(
            fails(
                "sweet is surely banana",
                "  probe sweet: expected predicts banana, P(banana) >= 0.7; observed banana "
                "(margin 0.250), missed by 0.100",
                "  class probabilities: P(apple)=0.350  P(banana)=0.600  P(lime)=0.050",
            ),
        ),
    ),
    Case(
        "min-margin-with-and-without-predicts",
        """\
        - alone: green
          min_margin: 0.15
        - alone: sour
          min_margin: 0.1
        - name: sour is clearly lime
          alone: sour
          predicts: lime
          min_margin: 0.1
        """,
        passed=1,
        failed=2,
        failures=(
            starts(
                "alone-sour-margin",
                "  probe sour: expected margin >= 0.1; observed lime (margin 0.050), "
                "missed by 0.050",
            ),
            starts(
                "sour is clearly lime",
                "  probe sour: expected predicts lime, margin >= 0.1; observed lime "
                "(margin 0.050), missed by 0.050",
            ),
        ),
    ),
    Case(
        "probability-bounds",
        """\
        - alone: sour
          probability: {class: lime, min: 0.4, max: 0.5}
        - alone: sour
          probability: {class: apple, max: 0.3}
        - alone: [red, round]
          probability: {class: apple, min: 0.75}
        """,
        passed=1,
        failed=2,
        failures=(
            fails(
                "alone-sour-probability-apple-0-0.3",
                "  probe sour: expected P(apple) in [0, 0.3]; observed lime (margin 0.050), "
                "missed by 0.100",
                "  class probabilities: P(apple)=0.400  P(banana)=0.150  P(lime)=0.450",
            ),
            fails(
                "alone-red_round-probability-apple-0.75-1",
                "  1 of 2 probes fail: expected P(apple) in [0.75, 1] (all must pass; 50.0% pass)",
                "  probe  observed  P(apple)  P(banana)  P(lime)  margin  missed by",
                "  round  apple     0.700     0.150      0.150    0.550   0.050",
            ),
        ),
    ),
    Case(
        "an-xfail-mark-on-a-failing-entry-shows-no-failure",
        """\
        - alone: sweet
          predicts: banana
        - alone: sweet
          predicts: apple
          marks: [{xfail: "a close call"}]
        """,
        passed=1,
        xfailed=1,
    ),
    # --- adding ----------------------------------------------------------------------------------
    Case(
        # Two items share a derived id; the second gets a suffix.
        "adding-raises-and-lowers-by-on-the-zero-probe",
        """\
        - adding: red
          raises: apple
          by: 0.15
        - adding: long
          lowers: apple
          by: 0.25
          on: zero
        - adding: red
          raises: apple
          by: 0.25
        - adding: long
          lowers: lime
          by: 0.1
        """,
        passed=2,
        failed=2,
        failures=(
            fails(
                "adding-red-raises-apple-2",
                "  expected adding red raises P(apple) by at least 0.25 on the zero probe; "
                "observed dP(apple)=+0.200, dP(banana)=-0.150, dP(lime)=-0.050, missed by 0.050",
                "  zero probe:  P(apple)=0.600  P(banana)=0.300  P(lime)=0.100",
                "  probe red: P(apple)=0.800  P(banana)=0.150  P(lime)=0.050",
            ),
            starts(
                "adding-long-lowers-lime",
                "  expected adding long lowers P(lime) by at least 0.1 on the zero probe; "
                "observed dP(apple)=-0.300, dP(banana)=+0.350, dP(lime)=-0.050, missed by 0.050",
            ),
        ),
    ),
    Case(
        "adding-raises-without-by-fails-when-it-moves-the-other-way",
        """\
        - adding: long
          raises: banana
        - adding: long
          raises: apple
        """,
        passed=1,
        failed=1,
        failures=(
            starts(
                "adding-long-raises-apple",
                Like(
                    "  expected adding long raises P(apple)*"
                    "on the zero probe; observed dP(apple)=-0.300, dP(banana)=+0.350*"
                ),
            ),
        ),
    ),
    Case(
        # Adding red raises P(apple) by .100 (round), .233, .192, .200, .200; row 4 has red
        # already.
        "adding-on-a-data-file-with-min-fraction",
        """\
        - adding: red
          raises: apple
          by: 0.15
          on: fruits.csv
          min_fraction: 0.8
        - name: red always helps apple
          adding: red
          raises: apple
          by: 0.15
          on: fruits.csv
        - name: red helps apple nearly always
          adding: red
          raises: apple
          by: 0.15
          on: fruits.csv
          min_fraction: 0.9
        """,
        passed=1,
        failed=2,
        failures=(
            fails(
                "red always helps apple",
                "  expected adding red raises P(apple) by at least 0.15 on at least 100% of rows "
                "of the context (rows of fruits.csv); it holds on 80.0% (4 of 5 rows; 1 row "
                "already has red and is skipped)",
                "  context: rows of fruits.csv (6 rows)",
                "  row  dP(apple)  dP(banana)  dP(lime)  missed by  features",
                "  1    0.100      -0.050      -0.050    0.050      round",
            ),
            starts(
                "red helps apple nearly always",
                Like(
                    "  expected adding red raises P(apple) by at least 0.15 on at least 90% of "
                    "rows*"
                ),
            ),
        ),
    ),
    Case(
        "adding-on-data-lists-ten-failing-rows-and-counts-the-rest",
        """\
        - adding: long
          lowers: apple
          by: 0.25
          on: greens.csv
        """,
        failed=1,
        files={"greens.csv": "fruit\n" + "green\n" * 12 + '"[]"\n'},
        failures=(
            fails(
                "adding-long-lowers-apple-on-greens.csv",
                "  expected adding long lowers P(apple) by at least 0.25 on at least 100% of rows "
                "of the context (rows of greens.csv); it holds on 7.7% (1 of 13 rows)",
                "  context: rows of greens.csv (13 rows)",
                "  row  dP(apple)  dP(banana)  dP(lime)  missed by  features",
                *[
                    f"  {n:<3}  -0.100     0.267       -0.167    0.150      green"
                    for n in range(1, 11)
                ],
                "  ... and 2 more failing rows",
            ),
        ),
    ),
    Case(
        # Adding shiny leaves the zero probe as it is, but moves rows: .050 .133 .108 .067 .117 0.
        "invariance-moves-at-most",
        """\
        - adding: shiny
          moves_at_most: 0.01
        - adding: shiny
          moves_at_most: 0.1
          on: fruits.csv
          min_fraction: 0.5
        - adding: red
          moves_at_most: 0.1
        - name: shiny changes no row
          adding: shiny
          moves_at_most: 0.1
          on: fruits.csv
        """,
        passed=2,
        failed=2,
        failures=(
            fails(
                "adding-red-moves_at_most-0.1",
                "  expected adding red moves no class probability by more than 0.1 on the zero "
                "probe; observed dP(apple)=+0.200, dP(banana)=-0.150, dP(lime)=-0.050, "
                "missed by 0.100",
                "  zero probe:  P(apple)=0.600  P(banana)=0.300  P(lime)=0.100",
                "  probe red: P(apple)=0.800  P(banana)=0.150  P(lime)=0.050",
            ),
            fails(
                "shiny changes no row",
                "  expected adding shiny moves no class probability by more than 0.1 on at least "
                "100% of rows of the context (rows of fruits.csv); it holds on 50.0% (3 of 6 rows)",
                "  context: rows of fruits.csv (6 rows)",
                "  row  dP(apple)  dP(banana)  dP(lime)  missed by  features",
                "  2    0.100      0.033       -0.133    0.033      green",
                "  5    0.067      0.050       -0.117    0.017      sour",
                "  3    0.092      -0.108      0.017     0.008      long, sweet",
            ),
        ),
    ),
    Case(
        # A short error at the line of ``on:``, and the entry before it still runs. (The
        # fixture model's space is known once the first item builds it: the rows are read
        # then, and the second item is refused before it runs.)
        "a-missing-data-file-of-on-is-a-short-error-at-its-line",
        """\
        - alone: red
          predicts: apple
        - adding: red
          raises: apple
          on: nothere.csv
        """,
        passed=1,
        errors=1,
        failures=(
            fails(
                "adding-red-raises-apple-on-nothere.csv",
                Like(
                    "featureprobe: featureprobe_fruit.yaml:8: expect[1].on: data file not found: *"
                ),
                whole=True,
            ),
        ),
    ),
    # --- ranking ---------------------------------------------------------------------------------
    Case(
        "top-k-are-and-include",
        """\
        - top: 2
          toward: lime
          are: [sour, green]
        - top: 3
          toward: apple
          include: [round]
        - top: 2
          toward: lime
          are: [green, round]
        - top: 2
          toward: banana
          include: [sweet, red]
        """,
        passed=2,
        failed=2,
        failures=(
            fails(
                "top2-toward-lime-2",
                "  expected the top 2 features toward lime to be exactly green, round; observed "
                "top 2: green, sour (missing: round)",
                "  rank  feature  dP(lime)  expected",
                "  1     green    0.400     *",
                "  2     sour     0.350",
                "  3     round    0.050     *",
                "  4     shiny    0.000",
                "  5     red      -0.050",
            ),
            starts(
                "top2-toward-banana",
                "  expected the top 2 features toward banana to include red, sweet; observed top "
                "2: long, sweet (missing: red)",
            ),
        ),
    ),
    # --- every -----------------------------------------------------------------------------------
    Case(
        "every-order-containing-except-and-mostly",
        """\
        - every: {containing: long, except: [red, round]}
          predicts: banana
        - every: {containing: long}
          predicts: banana
          mostly: 0.6
        - every: {order: 1, except: [green, sour]}
          predicts: apple
          mostly: 0.6
        - every: {order: 2, containing: [green, sour]}
          predicts: lime
        - name: singles are mostly apples
          every: {order: 1, except: [green, sour]}
          predicts: apple
          mostly: 0.8
        - name: pairs with long are bananas
          every: {containing: long}
          predicts: banana
        """,
        passed=4,
        failed=2,
        failures=(
            fails(
                "singles are mostly apples",
                "  2 of 5 probes fail: expected predicts apple (mostly 0.8 requires 4; 60.0% pass)",
                "  probe  observed  P(apple)  P(banana)  P(lime)  margin  missed by",
                "  long   banana    0.300     0.650      0.050    0.350   0.350",
                "  sweet  banana    0.350     0.600      0.050    0.250   0.250",
            ),
            fails(
                "pairs with long are bananas",
                "  2 of 6 probes fail: expected predicts banana (all must pass; 66.7% pass)",
                "  probe       observed  P(apple)  P(banana)  P(lime)  margin  missed by",
                "  red+long    apple     0.533     0.433      0.033    0.100   0.100",
                "  round+long  apple     0.467     0.433      0.100    0.033   0.033",
            ),
        ),
    ),
    Case(
        # Worst first: red+round and long+sweet miss by .700 (in either order), then red+shiny;
        # green+sour, the one probe that passes, is not listed.
        "every-failure-lists-ten-probes-and-counts-the-rest",
        """\
        - every: {order: 2}
          predicts: lime
          mostly: 0.5
        """,
        failed=1,
        failures=(
            fails(
                "every-order2-predicts-lime",
                "  20 of 21 probes fail: expected predicts lime (mostly 0.5 requires 11; "
                "4.8% pass)",
                "  probe        observed  P(apple)  P(banana)  P(lime)  margin  missed by",
                AnyOrder((Like("  red+round *"), Like("  long+sweet *"))),
                "  red+shiny    apple     0.733     0.200      0.067    0.533   0.667",
                *[Like("  *")] * 7,
                "  ... and 10 more failing probes",
            ),
        ),
        absent=("green+sour",),
    ),
    Case(
        "every-selection-that-matches-nothing-fails",
        """\
        - every: {order: 1, containing: [red]}
          predicts: apple
        - every: {order: 2, containing: red, except: [green, round, long, sweet, sour, shiny]}
          predicts: apple
        """,
        passed=1,
        failed=1,
        failures=(
            fails(
                "every-order2-containing-red-except-green_round_long_sweet_sour_shiny-predicts-apple",
                "  no probe matches this selection",
            ),
        ),
    ),
]


def matches(line: str, expected: str | Like) -> bool:
    if isinstance(expected, Like):
        return fnmatch.fnmatchcase(line, fnm(expected.pattern)[0])
    return line == expected


def expected_lines(got: list[str], lines: tuple[Line, ...]) -> list[str | Like]:
    """``lines`` as one expectation per line: each ``AnyOrder`` run is put in the order of the
    lines ``got`` holds at its place, as far as they match it (the rest as written)."""
    out: list[str | Like] = []
    for item in lines:
        if not isinstance(item, AnyOrder):
            out.append(item)
            continue
        left = list(item.lines)
        placed: list[str | Like | None] = []
        for line in got[len(out) : len(out) + len(left)]:
            found = next((e for e in left if matches(line, e)), None)
            if found is not None:
                left.remove(found)
            placed.append(found)
        rest = iter(left)
        out += [p if p is not None else next(rest) for p in placed]
        out += list(rest)
    return out


def assert_lines(got: list[str], failure: Failure) -> None:
    wanted = expected_lines(got, failure.lines)
    if not failure.complete:
        got = got[: len(wanted)]
    # Where a pattern matches, show the line itself: the diff then points at what differs.
    shown = [
        g if matches(g, w) else (w.pattern if isinstance(w, Like) else w)
        for g, w in zip(got, wanted, strict=False)
    ]
    shown += [w.pattern if isinstance(w, Like) else w for w in wanted[len(got) :]]
    assert got == shown, f"failure text of {failure.name!r}"


def test_the_table_is_large_and_its_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 20
    for case in CASES:
        # every failure's (and error's) text is asserted
        assert len(case.failures) == case.failed + case.errors, case.id


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_failure_text(case: Case, fruit: pytest.Pytester) -> None:
    for name, content in case.files.items():
        (fruit.path / name).write_text(content)
    result = check(fruit, case.expect, *case.args)
    output = result.stdout.str() + "\n" + result.stderr.str()

    # (1) the outcomes, exactly
    result.assert_outcomes(
        passed=case.passed, failed=case.failed, xfailed=case.xfailed, errors=case.errors
    )
    # (2) one section per failed item, each described
    report = result.stdout.str().split("= featureprobe =")[0]  # -v adds the sweep table after
    sections = SECTION_HEADER.findall(report)
    assert sorted(sections) == sorted(f.name for f in case.failures), report
    # (3) the text of each failure
    for failure in case.failures:
        if failure.whole:
            got = section(result, failure.name).splitlines()
        else:
            got = body(result, failure.name)
        assert_lines(got, failure)
    # (4) no traceback, nothing that should not be shown
    assert "Traceback" not in output, output
    for text in case.absent:
        assert text not in report, report
    # (5) each failure's summary (the short summary and JUnit message): one line of its own
    for failed in result.reprec.getfailures():
        if failed.when == "call" and hasattr(failed.longrepr, "reprcrash"):
            summary = failed.longrepr.reprcrash.message
            assert summary.strip() and "\n" not in summary, summary
            assert not summary.startswith("featureprobe_fruit.yaml"), summary  # not the header


# --- models: raw callables, train:, load: ---------------------------------------------------------


def test_fixture_returning_a_raw_callable_with_features_and_classes_in_yaml(fruit):
    header = """\
model:
  fixture: raw_fruit
  features: [red, green, round, long, sweet, sour, shiny]
  classes: [apple, banana, lime]
expect:
"""
    result = check(
        fruit,
        """\
        - alone: long
          predicts: banana
        - alone: sour
          predicts: apple
        - alone: gren
          predicts: lime
        """,
        header=header,
    )
    result.assert_outcomes(passed=1, failed=1, errors=1)
    assert body(result, "alone-sour-predicts-apple")[1] == (
        "  class probabilities: P(apple)=0.400  P(banana)=0.150  P(lime)=0.450"
    )
    # With the model a fixture, names are checked once it is built.
    result.stdout.fnmatch_lines(
        fnm(
            "featureprobe: featureprobe_fruit.yaml:10: expect[2].alone: unknown feature 'gren' "
            "(did you mean 'green'?)"
        )
    )


def test_fixture_returning_logits(fruit):
    header = """\
model:
  fixture: fruit_logits
  features: [red, green, round, long, sweet, sour, shiny]
  classes: [apple, banana, lime]
  outputs: logits
expect:
"""
    result = check(
        fruit,
        """\
        - alone: sour
          probability: {class: lime, min: 0.449, max: 0.451}
        - alone: sweet
          predicts: apple
        """,
        header=header,
    )
    result.assert_outcomes(passed=1, failed=1)
    assert body(result, "alone-sweet-predicts-apple")[1] == (
        "  class probabilities: P(apple)=0.350  P(banana)=0.600  P(lime)=0.050"
    )


def test_a_raw_callable_without_features_is_a_short_error(fruit):
    header = "model:\n  fixture: raw_fruit\nexpect:\n"
    result = check(fruit, "- alone: red\n  predicts: apple\n", header=header)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        fnm("featureprobe: featureprobe_fruit.yaml:2: model.fixture: *feature space*")
    )
    assert "Traceback" not in result.stdout.str()


def test_train_model_end_to_end(pytester):
    shutil.copy(SEED / "problems.csv", pytester.path)
    header = """\
model:
  train:
    data: problems.csv
    features: problems
    label: results
    epochs: 20
    seed: 0
expect:
"""
    result = check(
        pytester,
        """\
        - alone: [1, 2, 6]
          predicts: A
        - alone: 4
          predicts: C
        - together: [4, 5]
          predicts: C
          min_prob: 0.9
        - adding: 4
          raises: C
          on: training
          min_fraction: 0.5
        - top: 2
          toward: C
          include: [4]
        - alone: 4
          predicts: A
        """,
        header=header,
    )
    result.assert_outcomes(passed=5, failed=1)
    lines = body(result, "alone-4-predicts-A")
    assert re.fullmatch(
        r"  probe 4: expected predicts A; observed C \(margin 0\.\d{3}\), missed by 0\.\d{3}",
        lines[0],
    )
    assert re.fullmatch(r"  class probabilities: P\(A\)=0\.\d{3}  P\(C\)=0\.\d{3}", lines[1])


def test_load_model_end_to_end(pytester):
    from pytest_featureprobe.keras_runtime import load_keras
    from pytest_featureprobe.models import from_keras

    keras = load_keras()
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    # Logits: x -> (2.1, 0), y -> (0.1, 2), z and zero -> (0.1, 0).
    net.set_weights(
        [np.array([[2, 0], [0, 2], [0, 0]], dtype="float32"), np.array([0.1, 0], dtype="float32")]
    )
    from_keras(net, FeatureSpace.from_names(["x", "y", "z"]), ["P", "Q"]).save(
        pytester.path / "tiny.keras"
    )
    assert (pytester.path / "tiny.keras.featureprobe.json").is_file()
    header = "model:\n  load: tiny.keras\nexpect:\n"
    result = check(
        pytester,
        """\
        - alone: x
          predicts: P
          min_prob: 0.85
        - alone: y
          predicts: Q
          min_prob: 0.85
        - alone: z
          predicts: Q
        - alone: w
          predicts: P
        """,
        header=header,
    )
    result.assert_outcomes(passed=2, failed=1, errors=1)
    assert body(result, "alone-z-predicts-Q") == [
        "  probe z: expected predicts Q; observed P (margin 0.050), missed by 0.050",
        "  class probabilities: P(P)=0.525  P(Q)=0.475",
    ]
    # Names come from the sidecar file, so an unknown feature is found at collection.
    result.stdout.fnmatch_lines(
        fnm(
            "featureprobe: featureprobe_fruit.yaml:12: expect[3].alone: unknown feature 'w'; "
            "features are x, y, z"
        )
    )
