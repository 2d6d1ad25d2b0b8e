"""Every expectation kind, holding and failing, read as a user reads the report.

The model under test is a plain-numpy function whose probabilities are known exactly (see
CONFTEST), so the numbers in failure messages are asserted as printed. The Keras paths (``train:``
and ``load:``) are covered end to end once each.
"""

from __future__ import annotations

import re
import shutil
import textwrap
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


def section(result: pytest.RunResult, name: str) -> str:
    """The failure report of one item: from its ``___ header ___`` to the next header."""
    text = result.stdout.str()
    match = re.search(
        rf"^_+ \S+:\d+: {re.escape(name)} _+$(.*?)(?=^[_=]{{3,}})", text, re.MULTILINE | re.DOTALL
    )
    assert match, f"no failure section for {name!r} in:\n{text}"
    return match.group(1).strip("\n")


def body(result: pytest.RunResult, name: str) -> list[str]:
    """The explanation lines of a failed expectation (after its YAML source)."""
    lines = section(result, name).splitlines()
    return [line for line in lines[1:] if not line.startswith("    ")]


# --- predicts -------------------------------------------------------------------------------------


def test_predicts_on_the_zero_probe(fruit):
    result = check(
        fruit,
        """\
        - zero: true
          predicts: apple
        - zero: true
          predicts: banana
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    assert body(result, "zero-predicts-banana") == [
        "  probe zero: expected predicts banana; observed apple (margin 0.300), missed by 0.300",
        "  class probabilities: P(apple)=0.600  P(banana)=0.300  P(lime)=0.100",
    ]


def test_predicts_alone(fruit):
    result = check(
        fruit,
        """\
        - alone: long
          predicts: banana
        - alone: long
          predicts: apple
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    lines = section(result, "alone-long-predicts-apple").splitlines()
    assert lines == [
        "featureprobe_fruit.yaml:6: expectation 'alone-long-predicts-apple' failed",
        "    - alone: long",
        "      predicts: apple",
        "  probe long: expected predicts apple; observed banana (margin 0.350), missed by 0.350",
        "  class probabilities: P(apple)=0.300  P(banana)=0.650  P(lime)=0.050",
    ]


def test_predicts_alone_list_tables_the_failing_probes(fruit):
    result = check(
        fruit,
        """\
        - alone: [long, sweet]
          predicts: banana
        - alone: [red, round, long, green]
          predicts: apple
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    assert body(result, "alone-red_round_long_green-predicts-apple") == [
        "  2 of 4 probes fail: expected predicts apple (all must pass; 50.0% pass)",
        "  probe  observed  P(apple)  P(banana)  P(lime)  margin  missed by",
        "  long   banana    0.300     0.650      0.050    0.350   0.350",
        "  green  lime      0.300     0.200      0.500    0.200   0.200",
    ]


def test_predicts_together_and_list_of_together(fruit):
    result = check(
        fruit,
        """\
        - together: [long, sweet]
          predicts: banana
          min_prob: 0.7
        - together: [[green, sour], [red, green, sour]]
          predicts: lime
        - together: [[green, sour], [red, round]]
          predicts: lime
        """,
    )
    result.assert_outcomes(passed=2, failed=1)
    assert body(result, "together-green+sour_red+round-predicts-lime") == [
        "  1 of 2 probes fail: expected predicts lime (all must pass; 50.0% pass)",
        "  probe      observed  P(apple)  P(banana)  P(lime)  margin  missed by",
        "  red+round  apple     0.800     0.100      0.100    0.700   0.700",
    ]


def test_a_triple_beyond_the_sweep_order_is_probed_too(fruit):
    # green+sour+long = (8, 14, 18) / 40 -- an explicit probe above the sweep's order.
    result = check(
        fruit,
        """\
        - together: [green, sour, long]
          probability: {class: lime, min: 0.44, max: 0.46}
        - together: [green, sour, long]
          probability: {class: lime, max: 0.4}
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    # The id keeps the order written; the probe is named in feature-space order.
    assert body(result, "together-green+sour+long-probability-lime-0-0.4") == [
        "  probe green+long+sour: expected P(lime) in [0, 0.4]; observed lime (margin 0.100), "
        "missed by 0.050",
        "  class probabilities: P(apple)=0.200  P(banana)=0.350  P(lime)=0.450",
    ]


# --- biased_toward, min_prob, min_margin, probability ---------------------------------------------


def test_biased_toward_with_min_margin(fruit):
    result = check(
        fruit,
        """\
        - biased_toward: apple
          min_margin: 0.25
        - name: zero leans to banana
          biased_toward: banana
        - name: zero leans clearly to apple
          biased_toward: apple
          min_margin: 0.4
        """,
    )
    result.assert_outcomes(passed=1, failed=2)
    assert body(result, "zero leans to banana") == [
        "  probe zero: expected predicts banana; observed apple (margin 0.300), missed by 0.300",
        "  class probabilities: P(apple)=0.600  P(banana)=0.300  P(lime)=0.100",
    ]
    assert body(result, "zero leans clearly to apple")[0] == (
        "  probe zero: expected predicts apple, margin >= 0.4; observed apple (margin 0.300), "
        "missed by 0.100"
    )


def test_min_prob(fruit):
    result = check(
        fruit,
        """\
        - alone: sweet
          predicts: banana
          min_prob: 0.55
        - name: sweet is surely banana
          alone: sweet
          predicts: banana
          min_prob: 0.7
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    assert body(result, "sweet is surely banana") == [
        "  probe sweet: expected predicts banana, P(banana) >= 0.7; observed banana "
        "(margin 0.250), missed by 0.100",
        "  class probabilities: P(apple)=0.350  P(banana)=0.600  P(lime)=0.050",
    ]


def test_min_margin_with_and_without_predicts(fruit):
    result = check(
        fruit,
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
    )
    result.assert_outcomes(passed=1, failed=2)
    assert body(result, "alone-sour-margin")[0] == (
        "  probe sour: expected margin >= 0.1; observed lime (margin 0.050), missed by 0.050"
    )
    assert body(result, "sour is clearly lime")[0] == (
        "  probe sour: expected predicts lime, margin >= 0.1; observed lime (margin 0.050), "
        "missed by 0.050"
    )


def test_probability_bounds(fruit):
    result = check(
        fruit,
        """\
        - alone: sour
          probability: {class: lime, min: 0.4, max: 0.5}
        - alone: sour
          probability: {class: apple, max: 0.3}
        - alone: [red, round]
          probability: {class: apple, min: 0.75}
        """,
    )
    result.assert_outcomes(passed=1, failed=2)
    assert body(result, "alone-sour-probability-apple-0-0.3") == [
        "  probe sour: expected P(apple) in [0, 0.3]; observed lime (margin 0.050), "
        "missed by 0.100",
        "  class probabilities: P(apple)=0.400  P(banana)=0.150  P(lime)=0.450",
    ]
    assert body(result, "alone-red_round-probability-apple-0.75-1") == [
        "  1 of 2 probes fail: expected P(apple) in [0.75, 1] (all must pass; 50.0% pass)",
        "  probe  observed  P(apple)  P(banana)  P(lime)  margin  missed by",
        "  round  apple     0.700     0.150      0.150    0.550   0.050",
    ]


# --- adding ---------------------------------------------------------------------------------------


def test_adding_raises_and_lowers_by_on_the_zero_probe(fruit):
    result = check(
        fruit,
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
    )
    result.assert_outcomes(passed=2, failed=2)
    # Two items share a derived id; the second gets a suffix.
    assert body(result, "adding-red-raises-apple-2") == [
        "  expected adding red raises P(apple) by at least 0.25 on the zero probe; observed "
        "dP(apple)=+0.200, dP(banana)=-0.150, dP(lime)=-0.050, missed by 0.050",
        "  zero probe:  P(apple)=0.600  P(banana)=0.300  P(lime)=0.100",
        "  probe red: P(apple)=0.800  P(banana)=0.150  P(lime)=0.050",
    ]
    assert body(result, "adding-long-lowers-lime")[0] == (
        "  expected adding long lowers P(lime) by at least 0.1 on the zero probe; observed "
        "dP(apple)=-0.300, dP(banana)=+0.350, dP(lime)=-0.050, missed by 0.050"
    )


def test_adding_raises_without_by_fails_when_it_moves_the_other_way(fruit):
    result = check(
        fruit,
        """\
        - adding: long
          raises: banana
        - adding: long
          raises: apple
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    first = body(result, "adding-long-raises-apple")[0]
    assert first.startswith("  expected adding long raises P(apple)")
    assert "on the zero probe; observed dP(apple)=-0.300, dP(banana)=+0.350" in first


def test_adding_on_a_data_file_with_min_fraction(fruit):
    # Adding red raises P(apple) by .100 (round), .233, .192, .200, .200; row 4 has red already.
    result = check(
        fruit,
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
    )
    result.assert_outcomes(passed=1, failed=2)
    assert body(result, "red always helps apple") == [
        "  expected adding red raises P(apple) by at least 0.15 on at least 100% of rows of "
        "fruits.csv; it holds on 80.0% (4 of 5 rows; 1 rows already have red and are skipped)",
        "  row  dP(apple)  dP(banana)  dP(lime)  missed by",
        "  1    0.100      -0.050      -0.050    0.050",
    ]
    assert body(result, "red helps apple nearly always")[0].startswith(
        "  expected adding red raises P(apple) by at least 0.15 on at least 90% of rows"
    )


def test_adding_on_data_lists_ten_failing_rows_and_counts_the_rest(fruit):
    (fruit.path / "greens.csv").write_text("fruit\n" + "green\n" * 12 + '"[]"\n')
    result = check(
        fruit,
        """\
        - adding: long
          lowers: apple
          by: 0.25
          on: greens.csv
        """,
    )
    result.assert_outcomes(failed=1)
    lines = body(result, "adding-long-lowers-apple-on-greens.csv")
    assert lines[0] == (
        "  expected adding long lowers P(apple) by at least 0.25 on at least 100% of rows of "
        "greens.csv; it holds on 7.7% (1 of 13 rows)"
    )
    assert lines[1] == "  row  dP(apple)  dP(banana)  dP(lime)  missed by"
    assert lines[2:12] == [
        f"  {n:<3}  -0.100     0.267       -0.167    0.150" for n in range(1, 11)
    ]
    assert lines[12:] == ["  ... and 2 more failing rows"]


def test_invariance_moves_at_most(fruit):
    # Adding shiny leaves the zero probe as it is, but moves rows: .050 .133 .108 .067 .117 0.
    result = check(
        fruit,
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
    )
    result.assert_outcomes(passed=2, failed=2)
    assert body(result, "adding-red-moves_at_most-0.1") == [
        "  expected adding red moves no class probability by more than 0.1 on the zero probe; "
        "observed dP(apple)=+0.200, dP(banana)=-0.150, dP(lime)=-0.050, missed by 0.100",
        "  zero probe:  P(apple)=0.600  P(banana)=0.300  P(lime)=0.100",
        "  probe red: P(apple)=0.800  P(banana)=0.150  P(lime)=0.050",
    ]
    assert body(result, "shiny changes no row") == [
        "  expected adding shiny moves no class probability by more than 0.1 on at least 100% "
        "of rows of fruits.csv; it holds on 50.0% (3 of 6 rows)",
        "  row  dP(apple)  dP(banana)  dP(lime)  missed by",
        "  2    0.100      0.033       -0.133    0.033",
        "  5    0.067      0.050       -0.117    0.017",
        "  3    0.092      -0.108      0.017     0.008",
    ]


def test_a_missing_data_file_of_on_is_a_short_error_at_its_line(fruit):
    result = check(
        fruit,
        """\
        - alone: red
          predicts: apple
        - adding: red
          raises: apple
          on: nothere.csv
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        fnm("featureprobe: featureprobe_fruit.yaml:8: expect[1].on: data file not found: *")
    )
    assert "Traceback" not in result.stdout.str()


# --- ranking --------------------------------------------------------------------------------------


def test_top_k_are_and_include(fruit):
    result = check(
        fruit,
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
    )
    result.assert_outcomes(passed=2, failed=2)
    assert body(result, "top2-toward-lime-2") == [
        "  expected the top 2 features toward lime to be exactly green, round; observed top 2: "
        "green, sour (missing: round)",
        "  rank  feature  dP(lime)  expected",
        "  1     green    0.400     *",
        "  2     sour     0.350",
        "  3     round    0.050     *",
        "  4     shiny    0.000",
        "  5     red      -0.050",
    ]
    assert body(result, "top2-toward-banana")[0] == (
        "  expected the top 2 features toward banana to include red, sweet; observed top 2: "
        "long, sweet (missing: red)"
    )


# --- every ----------------------------------------------------------------------------------------


def test_every_order_containing_except_and_mostly(fruit):
    result = check(
        fruit,
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
    )
    result.assert_outcomes(passed=4, failed=2)
    assert body(result, "singles are mostly apples") == [
        "  2 of 5 probes fail: expected predicts apple (mostly 0.8 requires 4; 60.0% pass)",
        "  probe  observed  P(apple)  P(banana)  P(lime)  margin  missed by",
        "  long   banana    0.300     0.650      0.050    0.350   0.350",
        "  sweet  banana    0.350     0.600      0.050    0.250   0.250",
    ]
    assert body(result, "pairs with long are bananas") == [
        "  2 of 6 probes fail: expected predicts banana (all must pass; 66.7% pass)",
        "  probe       observed  P(apple)  P(banana)  P(lime)  margin  missed by",
        "  red+long    apple     0.533     0.433      0.033    0.100   0.100",
        "  round+long  apple     0.467     0.433      0.100    0.033   0.033",
    ]


def test_every_failure_lists_ten_probes_and_counts_the_rest(fruit):
    result = check(
        fruit,
        """\
        - every: {order: 2}
          predicts: lime
          mostly: 0.5
        """,
    )
    result.assert_outcomes(failed=1)
    lines = body(result, "every-order2-predicts-lime")
    assert lines[0] == (
        "  20 of 21 probes fail: expected predicts lime (mostly 0.5 requires 11; 4.8% pass)"
    )
    assert lines[1] == "  probe        observed  P(apple)  P(banana)  P(lime)  margin  missed by"
    table = lines[2:12]
    assert len(table) == 10
    # Worst first: red+round and long+sweet miss by .700 (in either order), then red+shiny.
    assert {row.split()[0] for row in table[:2]} == {"red+round", "long+sweet"}
    assert table[2] == "  red+shiny    apple     0.733     0.200      0.067    0.533   0.667"
    assert lines[12:] == ["  ... and 10 more failing probes"]
    failures = result.stdout.str().split("= featureprobe =")[0]  # -v adds the sweep table after
    assert "green+sour" not in failures  # the one probe that passes


def test_every_selection_that_matches_nothing_fails(fruit):
    result = check(
        fruit,
        """\
        - every: {order: 1, containing: [red]}
          predicts: apple
        - every: {order: 2, containing: red, except: [green, round, long, sweet, sour, shiny]}
          predicts: apple
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    assert body(
        result,
        "every-order2-containing-red-except-green_round_long_sweet_sour_shiny-predicts-apple",
    ) == ["  no probe matches this selection"]


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


# --- unknown names: one short line whatever the names -------------------------------------------


def test_unknown_names_among_many_long_names_are_one_short_line():
    from pytest_featureprobe.expectations import (
        AddingExpectation,
        ProbeExpectation,
        RankingExpectation,
        check_names,
    )

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


def test_unknown_names_among_short_names_list_them_all():
    from pytest_featureprobe.expectations import ProbeExpectation, check_names

    space = FeatureSpace.from_names(["red", "green", "round"])
    problems = check_names(
        ProbeExpectation(probes=[("blue",)], predicts="aple"), space, ["apple", "lime"]
    )
    assert problems == [
        ("probe", "unknown feature 'blue'; features are red, green, round"),
        ("predicts", "unknown class 'aple' (did you mean 'apple'?); classes are apple, lime"),
    ]
