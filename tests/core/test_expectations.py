"""The expectation kinds of ``pytest_featureprobe.expectations``, checked directly: each kind's
``check(CheckContext(...))`` on a small callable model, without pytest's runner.

The model adds counts per feature to (A, B, C) and normalises them, so every probability is a
fraction worked out by hand below; the numbers in the expected lines are those fractions as the
checks print them (three decimals). What a user reads in pytest's report is tested, through
pytest, in tests/plugin/test_failure_text.py.

    base [5, 3, 2] (zero: .500 .300 .200, predicts A, margin .200)
    x [9, 1, 0]  y [0, 9, 1]  z [1, 1, 8]  w [5, 3, 2] (w is proportional to the base)

    probe  counts        P(A)  P(B)  P(C)   predicted  margin
    zero   5  3  2 /10   .500  .300  .200   A          .200
    x     14  4  2 /20   .700  .200  .100   A          .500
    y      5 12  3 /20   .250  .600  .150   B          .350
    z      6  4 10 /20   .300  .200  .500   C          .200
    w     10  6  4 /20   .500  .300  .200   A          .200
    x+y   14 13  3 /30   .467  .433  .100   A          .033
    x+z   15  5 10 /30   .500  .167  .333   A          .167
    x+w   19  7  4 /30   .633  .233  .133   A          .400
    y+z    6 13 11 /30   .200  .433  .367   B          .067
    y+w   10 15  5 /30   .333  .500  .167   B          .167
    z+w   11  7 12 /30   .367  .233  .400   C          .033
    x+y+z 15 14 11 /40   .375  .350  .275   A          .025
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from pytest_featureprobe.contexts import Context
from pytest_featureprobe.errors import DataError
from pytest_featureprobe.expectations import (
    AddingExpectation,
    CheckContext,
    EveryProbe,
    Outcome,
    ProbeExpectation,
    RankingExpectation,
    check_names,
)
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

FEATURES = ["x", "y", "z", "w"]
CLASSES = ["A", "B", "C"]
BASE = np.array([5.0, 3.0, 2.0])
WEIGHTS = np.array([[9, 1, 0], [0, 9, 1], [1, 1, 8], [5, 3, 2]], dtype=float)


def counts_model(x):
    counts = BASE + np.asarray(x, dtype=float) @ WEIGHTS
    return counts / counts.sum(axis=1, keepdims=True)


MODEL = from_callable(counts_model, FeatureSpace.from_names(FEATURES), CLASSES)


def rows_of(*feature_sets: list[str]) -> np.ndarray:
    """Multi-hot rows (as an ``on:`` data file is encoded) holding the given features."""
    out = np.zeros((len(feature_sets), len(FEATURES)), dtype=np.float32)
    for n, names in enumerate(feature_sets):
        out[n, [FEATURES.index(name) for name in names]] = 1.0
    return out


@pytest.fixture(scope="module")
def context() -> CheckContext:
    """The model, its sweep (order 2, and the triple x+y+z) and no data rows."""
    return CheckContext(MODEL, MODEL.sweep(order=2, probes=[("x", "y", "z")]))


def on_rows(context: CheckContext, rows: np.ndarray, name: str = "rows of sample.csv"):
    """``context`` in the context of ``rows`` (as an ``on:`` data file's rows)."""
    return CheckContext(context.model, context.sweep, Context.of_rows(name, rows, {}))


# --- ProbeExpectation: one probe ------------------------------------------------------------------


def test_predicts_on_one_probe_passes_and_records_the_probe(context):
    outcome = ProbeExpectation([("x",)], predicts="A").check(context)
    assert outcome.passed
    assert outcome.lines == []
    assert outcome.properties == {
        "probes": 1,
        "failed_probes": 0,
        "expected": "predicts A",
        "probe": "x",
        "observed": "A",
        "probabilities": "P(A)=0.700  P(B)=0.200  P(C)=0.100",
    }


def test_predicts_fails_by_the_lead_of_the_predicted_class(context):
    # y predicts B: P(B) - P(A) = .600 - .250.
    outcome = ProbeExpectation([("y",)], predicts="A").check(context)
    assert not outcome.passed
    assert outcome.lines == [
        "probe y: expected predicts A; observed B (margin 0.350), missed by 0.350",
        "class probabilities: P(A)=0.250  P(B)=0.600  P(C)=0.150",
    ]
    assert outcome.properties["failed_probes"] == 1
    assert outcome.properties["observed"] == "B"


def test_the_zero_probe_and_its_margin(context):
    # biased_toward: the zero probe, predicts and an optional min_margin (zero's margin is .200).
    assert ProbeExpectation([()], predicts="A", min_margin=0.15).check(context).passed
    wrong = ProbeExpectation([()], predicts="B").check(context)
    assert wrong.lines[0] == (
        "probe zero: expected predicts B; observed A (margin 0.200), missed by 0.200"
    )
    assert wrong.properties["probe"] == "zero"
    narrow = ProbeExpectation([()], predicts="A", min_margin=0.3).check(context)
    assert not narrow.passed
    assert narrow.lines[0] == (
        "probe zero: expected predicts A, margin >= 0.3; observed A (margin 0.200), missed by 0.100"
    )


def test_min_prob(context):
    assert ProbeExpectation([("x",)], predicts="A", min_prob=0.65).check(context).passed
    outcome = ProbeExpectation([("x",)], predicts="A", min_prob=0.8).check(context)
    assert not outcome.passed
    assert outcome.lines == [
        "probe x: expected predicts A, P(A) >= 0.8; observed A (margin 0.500), missed by 0.100",
        "class probabilities: P(A)=0.700  P(B)=0.200  P(C)=0.100",
    ]
    assert outcome.properties["expected"] == "predicts A, P(A) >= 0.8"


def test_a_wrong_class_and_a_low_probability_miss_by_the_worse_of_the_two(context):
    # On y, predicting A misses by .350 (B leads); P(A) >= .5 by .250 and P(A) >= .9 by .650.
    lead = ProbeExpectation([("y",)], predicts="A", min_prob=0.5).check(context)
    assert lead.lines[0].endswith("observed B (margin 0.350), missed by 0.350")
    low = ProbeExpectation([("y",)], predicts="A", min_prob=0.9).check(context)
    assert low.lines[0] == (
        "probe y: expected predicts A, P(A) >= 0.9; observed B (margin 0.350), missed by 0.650"
    )


def test_min_margin_without_predicts(context):
    assert ProbeExpectation([("z",)], min_margin=0.15).check(context).passed
    outcome = ProbeExpectation([("z",)], min_margin=0.25).check(context)
    assert not outcome.passed
    assert outcome.lines[0] == (
        "probe z: expected margin >= 0.25; observed C (margin 0.200), missed by 0.050"
    )
    assert outcome.properties["expected"] == "margin >= 0.25"


def test_probability_bounds_above_and_below(context):
    # On y: P(B) = .600, P(C) = .150.
    assert ProbeExpectation([("y",)], probability=("B", 0.55, 0.65)).check(context).passed
    above = ProbeExpectation([("y",)], probability=("B", 0.5, 0.55)).check(context)
    assert not above.passed
    assert above.lines[0] == (
        "probe y: expected P(B) in [0.5, 0.55]; observed B (margin 0.350), missed by 0.050"
    )
    below = ProbeExpectation([("y",)], probability=("C", 0.2, 1.0)).check(context)
    assert not below.passed
    assert below.lines[0] == (
        "probe y: expected P(C) in [0.2, 1]; observed B (margin 0.350), missed by 0.050"
    )


def test_all_checks_at_once_report_the_worst_miss(context):
    # On x: P(A) >= .75 misses by .050, margin >= .6 by .100, P(C) <= .05 by .050.
    outcome = ProbeExpectation(
        [("x",)], predicts="A", min_prob=0.75, min_margin=0.6, probability=("C", 0.0, 0.05)
    ).check(context)
    assert not outcome.passed
    assert outcome.lines[0] == (
        "probe x: expected predicts A, P(A) >= 0.75, margin >= 0.6, P(C) in [0, 0.05]; "
        "observed A (margin 0.500), missed by 0.100"
    )


def test_a_probe_is_named_in_feature_space_order_whatever_the_order_written(context):
    # x+y+z = (15, 14, 11) / 40, beyond the sweep's order: the explicit probe the sweep was given.
    outcome = ProbeExpectation([("z", "x", "y")], probability=("A", 0.0, 0.3)).check(context)
    assert outcome.lines == [
        "probe x+y+z: expected P(A) in [0, 0.3]; observed A (margin 0.025), missed by 0.075",
        "class probabilities: P(A)=0.375  P(B)=0.350  P(C)=0.275",
    ]
    assert outcome.properties["probe"] == "x+y+z"


def test_probe_expectations_name_the_probes_they_need():
    probes = ProbeExpectation([("x",), ("z", "y")], predicts="A")
    assert probes.needed_probes() == [("x",), ("z", "y")]
    assert probes.needed_order() == 1
    every = ProbeExpectation(EveryProbe(2, ("x",)), predicts="A")
    assert every.needed_probes() == []  # without a space there is nothing to generate
    space = FeatureSpace.from_names(["w", "x", "y", "z"])
    # Only the probes it selects are swept, as explicit probes; not every pair.
    assert every.needed_probes(space) == [("w", "x"), ("x", "y"), ("x", "z")]
    assert every.needed_order() == 1
    unquantified = ProbeExpectation(EveryProbe(2), predicts="A")
    assert unquantified.needed_probes(space) == [] and unquantified.needed_order() == 2


def test_generated_probes_leave_out_two_values_of_one_column():
    space = FeatureSpace(("t", "A=a1", "A=a2", "B=b1"), None, ("A", "B"))
    every = EveryProbe(2, ("A=a1",))
    assert every.generated(space) == [("t", "A=a1"), ("A=a1", "B=b1")]
    assert EveryProbe(2, ("A=a1",), ("t",)).generated(space) == [("A=a1", "B=b1")]
    assert EveryProbe(2, ("nope",)).generated(space) == []  # the item reports the name


# --- ProbeExpectation: several probes ---------------------------------------------------------


def test_several_probes_table_the_failing_ones_worst_first(context):
    # Predicting A fails on y (B leads by .350) and z (C leads by .200).
    outcome = ProbeExpectation([("x",), ("y",), ("z",), ("w",)], predicts="A").check(context)
    assert not outcome.passed
    assert outcome.lines == [
        "2 of 4 probes fail: expected predicts A (all must pass; 50.0% pass)",
        "probe  observed  P(A)   P(B)   P(C)   margin  missed by",
        "y      B         0.250  0.600  0.150  0.350   0.350",
        "z      C         0.300  0.200  0.500  0.200   0.200",
    ]
    assert outcome.properties == {
        "probes": 4,
        "failed_probes": 2,
        "expected": "predicts A",
        "worst_probe": "y",  # the worst probe's figures beside the counts
        "observed": "B",
        "probabilities": "P(A)=0.250  P(B)=0.600  P(C)=0.150",
    }
    assert outcome.summary == (
        "2 of 4 probes fail (50.0% pass; all must pass); "
        "worst: alone y -> A: observed B, P(A)=0.250 < P(B)=0.600"
    )


def test_several_probes_that_all_pass(context):
    outcome = ProbeExpectation([("x",), ("w",)], predicts="A").check(context)
    assert outcome.passed
    assert outcome.lines == []
    assert outcome.properties == {"probes": 2, "failed_probes": 0, "expected": "predicts A"}


def test_mostly_passes_with_a_note_at_the_fraction_and_fails_below_it(context):
    probes = [("x",), ("y",), ("z",), ("w",)]  # 2 of 4 predict A
    enough = ProbeExpectation(probes, predicts="A", mostly=0.5).check(context)
    assert enough.passed
    assert enough.lines == [
        "2 of 4 probes fail: expected predicts A (mostly 0.5 requires 2; 50.0% pass)"
    ]
    assert enough.properties["failed_probes"] == 2
    short = ProbeExpectation(probes, predicts="A", mostly=0.75).check(context)
    assert not short.passed
    assert short.lines[0] == (
        "2 of 4 probes fail: expected predicts A (mostly 0.75 requires 3; 50.0% pass)"
    )
    assert short.lines[2:] == [
        "y      B         0.250  0.600  0.150  0.350   0.350",
        "z      C         0.300  0.200  0.500  0.200   0.200",
    ]


def test_a_failure_lists_ten_probes_and_counts_the_rest(context):
    # P(C) >= .9 fails on all 11 probes of order <= 2, by .9 - P(C) (or C's rival's lead, which is
    # smaller everywhere); z, the closest (.900 - .500), is the one left out.
    probes = [(), *[(f,) for f in FEATURES]]
    probes += [(a, b) for i, a in enumerate(FEATURES) for b in FEATURES[i + 1 :]]
    outcome = ProbeExpectation(probes, predicts="C", min_prob=0.9).check(context)
    assert not outcome.passed
    assert outcome.lines[0] == (
        "11 of 11 probes fail: expected predicts C, P(C) >= 0.9 (all must pass; 0.0% pass)"
    )
    table = outcome.lines[2:12]
    assert [row.split()[-1] for row in table] == [
        "0.800",  # x, x+y (P(C) = .100)
        "0.800",
        "0.767",  # x+w
        "0.750",  # y
        "0.733",  # y+w
        "0.700",  # zero, w
        "0.700",
        "0.567",  # x+z
        "0.533",  # y+z
        "0.500",  # z+w
    ]
    listed = {row.split()[0] for row in table}
    assert listed == {"zero", "x", "y", "w", "x+y", "x+z", "x+w", "y+z", "y+w", "z+w"}  # not z
    assert outcome.lines[12:] == ["... and 1 more failing probes"]
    assert outcome.properties == {
        "probes": 11,
        "failed_probes": 11,
        "expected": "predicts C, P(C) >= 0.9",
        "worst_probe": "x",  # the first of the worst (x and x+y miss by .800)
        "observed": "A",
        "probabilities": "P(A)=0.700  P(B)=0.200  P(C)=0.100",
    }
    assert outcome.summary.endswith("worst: alone x -> C: observed A, P(C)=0.100 < 0.9")


# --- EveryProbe -----------------------------------------------------------------------------------


def test_every_selects_probes_of_an_order_by_containing_and_except(context):
    sweep = context.sweep
    assert EveryProbe(2, ("x",)).select(sweep) == ["x+y", "x+z", "x+w"]
    assert EveryProbe(2, ("x",), ("w",)).select(sweep) == ["x+y", "x+z"]
    assert EveryProbe(2, ("y", "x")).select(sweep) == ["x+y"]
    assert EveryProbe(1, (), ("x", "y")).select(sweep) == ["z", "w"]
    assert EveryProbe(1).select(sweep) == FEATURES
    assert EveryProbe(2, ("x",), ("y", "z", "w")).select(sweep) == []


def test_every_checks_the_probes_it_selects(context):
    # Pairs with x all predict A; of the pairs with y, x+y predicts A (by .467 - .433).
    assert ProbeExpectation(EveryProbe(2, ("x",)), predicts="A").check(context).passed
    most = ProbeExpectation(EveryProbe(2, ("y",)), predicts="B", mostly=0.6).check(context)
    assert most.passed
    assert most.lines == [
        "1 of 3 probes fail: expected predicts B (mostly 0.6 requires 2; 66.7% pass)"
    ]
    strict = ProbeExpectation(EveryProbe(2, ("y",)), predicts="B", mostly=0.7).check(context)
    assert not strict.passed
    assert strict.lines == [
        "1 of 3 probes fail: expected predicts B (mostly 0.7 requires 3; 66.7% pass)",
        "probe  observed  P(A)   P(B)   P(C)   margin  missed by",
        "x+y    A         0.467  0.433  0.100  0.033   0.033",
    ]


def test_every_selection_that_matches_nothing_fails(context):
    outcome = ProbeExpectation(EveryProbe(2, ("x",), ("y", "z", "w")), predicts="A").check(context)
    assert not outcome.passed
    assert outcome.lines == ["no probe matches this selection"]
    assert outcome.properties == {}


# --- AddingExpectation on the zero probe ----------------------------------------------------------


def test_adding_raises_by_on_the_zero_probe(context):
    # Adding x: dP = (+.200, -.100, -.100).
    held = AddingExpectation("x", "raises", "A", by=0.15).check(context)
    assert held.passed
    assert held.lines == []
    assert held.properties == {
        "expected": "adding x raises P(A) by at least 0.15",
        "rows": 1,
        "failed_rows": 0,
        "pass_fraction": 1.0,
        "probe": "x",
        "observed": "+0.200",
    }
    missed = AddingExpectation("x", "raises", "A", by=0.25).check(context)
    assert not missed.passed
    assert missed.lines == [
        "expected adding x raises P(A) by at least 0.25 on the zero probe; observed "
        "dP(A)=+0.200, dP(B)=-0.100, dP(C)=-0.100, missed by 0.050",
        "zero probe:  P(A)=0.500  P(B)=0.300  P(C)=0.200",
        "probe x: P(A)=0.700  P(B)=0.200  P(C)=0.100",
    ]
    assert missed.properties["failed_rows"] == 1
    assert missed.properties["pass_fraction"] == 0.0


def test_adding_lowers_by_on_the_zero_probe(context):
    # Adding y: dP = (-.250, +.300, -.050).
    held = AddingExpectation("y", "lowers", "A", by=0.2).check(context)
    assert held.passed
    assert held.properties["observed"] == "-0.250"  # the change itself, signed
    missed = AddingExpectation("y", "lowers", "A", by=0.3).check(context)
    assert not missed.passed
    assert missed.lines == [
        "expected adding y lowers P(A) by at least 0.3 on the zero probe; observed "
        "dP(A)=-0.250, dP(B)=+0.300, dP(C)=-0.050, missed by 0.050",
        "zero probe:  P(A)=0.500  P(B)=0.300  P(C)=0.200",
        "probe y: P(A)=0.250  P(B)=0.600  P(C)=0.150",
    ]


def test_adding_without_by_forgives_a_wrong_way_move_up_to_the_tolerance(context):
    # Any move the right way passes: z raises C by .300, and w leaves A where it is.
    assert AddingExpectation("z", "raises", "C").check(context).passed
    assert AddingExpectation("w", "raises", "A").check(context).passed
    # y moves A down by .250: .240 beyond the default tolerance of .01.
    wrong = AddingExpectation("y", "raises", "A").check(context)
    assert not wrong.passed
    assert wrong.lines[0] == (
        "expected adding y raises P(A) (or moves it the other way by at most 0.01) on the zero "
        "probe; observed dP(A)=-0.250, dP(B)=+0.300, dP(C)=-0.050, missed by 0.240"
    )
    # x moves A up by .200: within a tolerance of .25, .050 beyond one of .15.
    assert AddingExpectation("x", "lowers", "A", tolerance=0.25).check(context).passed
    beyond = AddingExpectation("x", "lowers", "A", tolerance=0.15).check(context)
    assert not beyond.passed
    assert beyond.lines[0] == (
        "expected adding x lowers P(A) (or moves it the other way by at most 0.15) on the zero "
        "probe; observed dP(A)=+0.200, dP(B)=-0.100, dP(C)=-0.100, missed by 0.050"
    )
    assert beyond.properties["expected"] == (
        "adding x lowers P(A) (or moves it the other way by at most 0.15)"
    )


def test_invariance_on_the_zero_probe(context):
    # w is proportional to the base: it moves nothing on the zero probe.
    still = AddingExpectation("w", "invariant", at_most=0.01).check(context)
    assert still.passed
    assert still.properties["observed"] == "+0.000"
    assert still.properties["expected"] == ("adding w moves no class probability by more than 0.01")
    moved = AddingExpectation("x", "invariant", at_most=0.1).check(context)
    assert not moved.passed
    assert moved.lines == [
        "expected adding x moves no class probability by more than 0.1 on the zero probe; "
        "observed dP(A)=+0.200, dP(B)=-0.100, dP(C)=-0.100, missed by 0.100",
        "zero probe:  P(A)=0.500  P(B)=0.300  P(C)=0.200",
        "probe x: P(A)=0.700  P(B)=0.200  P(C)=0.100",
    ]


def test_invariance_observes_the_largest_move_whichever_way_it_goes():
    # Adding s to the base (5, 3, 2): (5, 8, 7) / 20, a move of (-.250, +.100, +.150).
    weights = np.array([[0.0, 5.0, 5.0]])

    def takes_from_a(x):
        counts = BASE + np.asarray(x, dtype=float) @ weights
        return counts / counts.sum(axis=1, keepdims=True)

    model = from_callable(takes_from_a, FeatureSpace.from_names(["s"]), CLASSES)
    context = CheckContext(model, model.sweep(order=1))
    held = AddingExpectation("s", "invariant", at_most=0.3).check(context)
    assert held.passed
    assert held.properties["observed"] == "+0.250"
    moved = AddingExpectation("s", "invariant", at_most=0.2).check(context)
    assert moved.lines[0] == (
        "expected adding s moves no class probability by more than 0.2 on the zero probe; "
        "observed dP(A)=-0.250, dP(B)=+0.100, dP(C)=+0.150, missed by 0.050"
    )


def test_adding_names_the_one_probe_it_needs():
    adding = AddingExpectation("x", "raises", "A")
    assert adding.needed_probes() == [("x",)]
    assert adding.needed_order() == 1


# --- AddingExpectation on data rows ---------------------------------------------------------------

# Adding x raises P(A) on the rows: [] by .200, [y] by .467 - .250 = .217, [z] by .500 - .300 =
# .200, [w] by .633 - .500 = .133; the row [x] has it already.
SAMPLE = rows_of([], ["y"], ["z"], ["x"], ["w"])


def test_adding_on_rows_holds_on_min_fraction_of_the_rows_that_lack_it(context):
    outcome = AddingExpectation("x", "raises", "A", by=0.15, min_fraction=0.75)
    outcome = outcome.check(on_rows(context, SAMPLE))
    assert outcome.passed
    assert outcome.lines == []
    assert outcome.properties == {
        "expected": "adding x raises P(A) by at least 0.15",
        "rows": 4,
        "failed_rows": 1,
        "pass_fraction": 0.75,
    }


def test_adding_on_rows_fails_below_min_fraction_and_tables_the_failing_rows(context):
    outcome = AddingExpectation("x", "raises", "A", by=0.15).check(on_rows(context, SAMPLE))
    assert not outcome.passed
    # Row 5 ([w]): dP = (19, 7, 4) / 30 - (10, 6, 4) / 20 = (+.133, -.067, -.067).
    assert outcome.lines == [
        "expected adding x raises P(A) by at least 0.15 on at least 100% of rows of the context "
        "(rows of sample.csv); "
        "it holds on 75.0% (3 of 4 rows; 1 row already has x and is skipped)",
        "row  dP(A)  dP(B)   dP(C)   missed by  features",
        "5    0.133  -0.067  -0.067  0.017      w",
    ]
    assert outcome.properties["failed_rows"] == 1
    nearly = AddingExpectation("x", "raises", "A", by=0.15, min_fraction=0.8)
    assert (
        nearly.check(on_rows(context, SAMPLE))
        .lines[0]
        .startswith(
            "expected adding x raises P(A) by at least 0.15 on at least 80% of rows of the context "
            "(rows of sample.csv); "
            "it holds on 75.0% (3 of 4 rows; "
        )
    )


def test_adding_on_rows_that_all_lack_it_counts_no_skipped_rows(context):
    outcome = AddingExpectation("x", "raises", "A", by=0.15).check(
        on_rows(context, rows_of([], ["y"], ["z"], ["w"]))
    )
    assert outcome.lines[0].endswith("it holds on 75.0% (3 of 4 rows)")
    assert outcome.properties["rows"] == 4


def test_adding_on_rows_that_all_have_it_or_no_rows_fails_saying_why(context):
    adding = AddingExpectation("x", "raises", "A")
    have = adding.check(on_rows(context, rows_of(["x"], ["x", "y"])))
    assert not have.passed
    assert have.lines == [
        "no row of the context (rows of sample.csv) lacks feature x (every row has it: 2 rows)"
    ]
    assert have.properties == {}
    # A context needs at least one row: one with none is refused before any check reads it.
    with pytest.raises(DataError, match=r"^the context \(rows of sample\.csv\) has no rows$"):
        on_rows(context, np.zeros((0, len(FEATURES)), dtype=np.float32))


def test_invariance_on_rows(context):
    # Adding w: row [] does not move; row [x] moves by (-.067, +.033, +.033), so .017 beyond
    # .05; row [y] by (10, 15, 5) / 30 - (5, 12, 3) / 20 = (+.083, -.100, +.017), .050 beyond.
    rows = rows_of([], ["x"], ["y"])
    outcome = AddingExpectation("w", "invariant", at_most=0.05).check(on_rows(context, rows))
    assert not outcome.passed
    assert outcome.lines == [
        "expected adding w moves no class probability by more than 0.05 on at least 100% of "
        "rows of the context (rows of sample.csv); it holds on 33.3% (1 of 3 rows)",
        "row  dP(A)   dP(B)   dP(C)  missed by  features",
        "3    0.083   -0.100  0.017  0.050      y",
        "2    -0.067  0.033   0.033  0.017      x",
    ]
    assert outcome.properties == {
        "expected": "adding w moves no class probability by more than 0.05",
        "rows": 3,
        "failed_rows": 2,
        "pass_fraction": 0.3333,
        "worst_row": 3,
        "observed": "+0.100",
    }
    assert outcome.summary == (
        "adding w -> moves no class by more than 0.05 on 100% of rows: holds on 33.3% (1 of 3); "
        "worst row 3: dP(B)=-0.100, beyond 0.05"
    )
    lenient = AddingExpectation("w", "invariant", at_most=0.05, min_fraction=0.3)
    assert lenient.check(on_rows(context, rows)).passed


def test_adding_on_rows_lists_ten_failing_rows_and_counts_the_rest(context):
    # By .25: the rows [] miss by .250 - .200, the rows [y] by .250 - .217. Twenty of each,
    # alternating: the ties are listed in row order (a sort that is not stable scrambles them).
    rows = rows_of(*[[], ["y"]] * 20)
    outcome = AddingExpectation("x", "raises", "A", by=0.25).check(on_rows(context, rows))
    assert not outcome.passed
    assert outcome.lines[0] == (
        "expected adding x raises P(A) by at least 0.25 on at least 100% of rows of the context "
        "(rows of sample.csv); "
        "it holds on 0.0% (0 of 40 rows)"
    )
    assert outcome.lines[1] == "row  dP(A)  dP(B)   dP(C)   missed by  features"
    listed = outcome.lines[2:12]
    assert all(
        re.fullmatch(r"\d+ +0\.200  -0\.100  -0\.100  0\.050      \(no feature\)", row)
        for row in listed
    )
    assert [row.split()[0] for row in listed] == [str(n) for n in range(1, 21, 2)]
    assert outcome.lines[12:] == ["... and 30 more failing rows"]


def test_adding_a_categorical_value_replaces_the_rows_value_of_its_column(context):
    # P(apple) = counts / 4: colour=green alone is (1, 3); with colour=red instead, (3, 1), a
    # rise of .500 (were green kept, (3, 3) / 6 would be a rise of .250).
    space = FeatureSpace(("colour=red", "colour=green", "ripe"), categorical=("colour",))
    weights = np.array([[2, 0], [0, 2], [1, 1]], dtype=float)

    def colour_model(x):
        counts = 1 + np.asarray(x, dtype=float) @ weights
        return counts / counts.sum(axis=1, keepdims=True)

    model = from_callable(colour_model, space, ["apple", "lime"])
    rows = np.array([[0, 1, 0], [1, 0, 0]], dtype=np.float32)  # green; red (skipped)
    colours = CheckContext(model, model.sweep(order=1), Context.of_rows("rows of d.csv", rows, {}))
    outcome = AddingExpectation("colour=red", "raises", "apple", by=0.6).check(colours)
    assert outcome.lines[1:] == [
        "row  dP(apple)  dP(lime)  missed by  features",
        "1    0.500      -0.500    0.100      colour=green",
    ]
    assert outcome.lines[0].endswith("(0 of 1 row; 1 row already has colour=red and is skipped)")
    assert AddingExpectation("colour=red", "raises", "apple", by=0.4).check(colours).passed


# --- RankingExpectation ---------------------------------------------------------------------------

# dP(A) of the singles: x +.200, w 0, z -.200, y -.250; dP(B): y +.300, w 0, x and z -.100.


def test_top_k_are_exactly(context):
    held = RankingExpectation("A", 2, ("w", "x"), exact=True).check(context)
    assert held.passed
    assert held.lines == []
    assert held.properties == {
        "expected": "top 2 toward A are exactly ['w', 'x']",
        "observed": "x, w",
    }
    missed = RankingExpectation("A", 2, ("x", "z"), exact=True).check(context)
    assert not missed.passed
    assert missed.lines == [
        "expected the top 2 features toward A to be exactly x, z; observed top 2: x, w "
        "(missing: z)",
        "rank  feature  dP(A)   expected",
        "1     x        0.200   *",
        "2     w        0.000",
        "3     z        -0.200  *",
        "4     y        -0.250",
    ]


def test_top_k_include(context):
    held = RankingExpectation("A", 1, ("x",), exact=False).check(context)
    assert held.passed
    assert held.properties == {"expected": "top 1 toward A include ['x']", "observed": "x"}
    missed = RankingExpectation("A", 1, ("z",), exact=False).check(context)
    assert not missed.passed
    assert missed.lines[0] == (
        "expected the top 1 feature toward A to include z; observed top 1: x (missing: z)"
    )
    assert len(missed.lines) == 1 + 1 + 4  # the top k + 3, here all four features


def test_top_k_are_exactly_fewer_features_than_k_names_none_missing(context):
    outcome = RankingExpectation("A", 2, ("x",), exact=True).check(context)
    assert not outcome.passed
    assert outcome.lines[0] == (
        "expected the top 2 features toward A to be exactly x; observed top 2: x, w"
    )


def test_ranking_ties_keep_feature_space_order(context):
    # dP(B) of x and z are both -.100: x comes first.
    assert RankingExpectation("B", 3, ("y", "w", "x"), exact=True).check(context).passed
    outcome = RankingExpectation("B", 3, ("z",), exact=False).check(context)
    assert outcome.properties["observed"] == "y, w, x"
    assert outcome.lines == [
        "expected the top 3 features toward B to include z; observed top 3: y, w, x (missing: z)",
        "rank  feature  dP(B)   expected",
        "1     y        0.300",
        "2     w        0.000",
        "3     x        -0.100",
        "4     z        -0.100  *",
    ]


def test_ranking_needs_the_singles_only():
    ranking = RankingExpectation("A", 2, ("x",), exact=False)
    assert ranking.needed_probes() == []
    assert ranking.needed_order() == 1


# --- check_names ----------------------------------------------------------------------------------

SPACE = FeatureSpace.from_names(["red", "green", "round"])
FRUITS = ["apple", "lime"]


def test_known_names_have_no_problems():
    expectations = [
        ProbeExpectation([("red", "round")], predicts="apple", probability=("lime", 0.0, 0.5)),
        ProbeExpectation(EveryProbe(2, ("red",), ("green",)), predicts="apple"),
        AddingExpectation("green", "raises", "lime"),
        AddingExpectation("green", "invariant", at_most=0.1),
        RankingExpectation("lime", 2, ("green",), exact=False),
    ]
    assert [check_names(e, SPACE, FRUITS) for e in expectations] == [[]] * 5


def test_unknown_names_among_short_names_list_them_all():
    problems = check_names(
        ProbeExpectation(probes=[("blue",)], predicts="aple"), SPACE, ["apple", "lime"]
    )
    assert problems == [
        ("probe", "unknown feature 'blue'; features are red, green, round"),
        ("predicts", "unknown class 'aple' (did you mean 'apple'?); classes are apple, lime"),
    ]


def test_unknown_names_are_found_under_the_key_that_names_them():
    every = ProbeExpectation(EveryProbe(2, ("gren",), ("blue",)), probability=("lim", 0.0, 0.5))
    assert check_names(every, SPACE, FRUITS) == [
        ("every", "unknown feature 'gren' (did you mean 'green'?)"),
        ("every", "unknown feature 'blue'; features are red, green, round"),
        (
            "probability.class",
            "unknown class 'lim' (did you mean 'lime'?); classes are apple, lime",
        ),
    ]
    adding = AddingExpectation("rond", "lowers", "pear")
    assert check_names(adding, SPACE, FRUITS) == [
        ("adding", "unknown feature 'rond' (did you mean 'round'?)"),
        ("lowers", "unknown class 'pear'; classes are apple, lime"),
    ]
    assert check_names(AddingExpectation("blue", "invariant", at_most=0.1), SPACE, FRUITS) == [
        ("adding", "unknown feature 'blue'; features are red, green, round"),
    ]
    include = RankingExpectation("pear", 2, ("red", "blue"), exact=False)
    assert check_names(include, SPACE, FRUITS) == [
        ("include", "unknown feature 'blue'; features are red, green, round"),
        ("toward", "unknown class 'pear'; classes are apple, lime"),
    ]
    are = RankingExpectation("lime", 1, ("blue",), exact=True)
    assert check_names(are, SPACE, FRUITS) == [
        ("are", "unknown feature 'blue'; features are red, green, round"),
    ]


def test_unknown_names_among_many_long_names_are_one_short_line():
    long_names = [f"name {i}\nsecond line " + "x" * 80 for i in range(200)]
    space = FeatureSpace.from_names(long_names)
    classes = long_names
    near = "name 7\nsecond line " + "x" * 79  # close to the names: a did-you-mean hint
    far = "q" * 500 + "\n"  # close to nothing: the list of names
    expectations = [
        ProbeExpectation(probes=[(near,)], predicts=far),
        ProbeExpectation(probes=[(far,)], predicts=near),
        AddingExpectation(feature=near, direction="raises", cls=far),
        RankingExpectation(cls=near, k=1, features=(far,), exact=False),
    ]
    messages = []
    for expectation in expectations:
        problems = check_names(expectation, space, classes)
        assert len(problems) == 2
        messages += [message for _, message in problems]
    for message in messages:
        assert "\n" not in message, message
        assert len(message) < 300, (len(message), message)
        assert message.startswith(("unknown feature ", "unknown class "))
    assert any("did you mean" in m and "unknown class" in m for m in messages)
    assert any("classes are " in m and "(198 more)" in m for m in messages)
    assert any("features are " in m and "more)" in m for m in messages)


# --- the one-line summary of a failure ---------------------------------------------------------


@pytest.mark.parametrize(
    ("expectation", "summary"),
    [
        (
            ProbeExpectation([("x", "y")], probability=("C", 0.5, 1.0)),
            "together x+y -> P(C) in [0.5, 1]: observed A, P(C)=0.100 < 0.5",
        ),
        (
            ProbeExpectation([("x",)], min_margin=0.9),
            "alone x -> margin >= 0.9: observed A, margin 0.500 < 0.9",
        ),
        (
            AddingExpectation("x", "lowers", cls="A"),
            "adding x -> lowers P(A): observed dP(A)=+0.200 > +0.01",
        ),
        (
            AddingExpectation("x", "invariant", at_most=0.01),
            "adding x -> moves no class by more than 0.01: observed dP(A)=+0.200, beyond 0.01",
        ),
        (
            RankingExpectation("C", 1, ("x",), exact=True),
            "top 1 toward C -> are exactly x: observed z (missing x)",
        ),
    ],
)
def test_a_failure_summary_is_one_line_with_the_observed_value(context, expectation, summary):
    outcome = expectation.check(context)
    assert not outcome.passed
    assert outcome.summary == outcome.headline == summary
    assert len(outcome.lines) > 1  # the full text stays as it was


def test_the_headline_of_an_outcome_without_a_summary_is_its_first_line():
    assert Outcome(False, ["", "3 probes  changed\ttheir class", "table"]).headline == (
        "3 probes changed their class"
    )
    assert Outcome(False, [], summary="given").headline == "given"
