"""Contexts through pytest: probes read on the rows of a data file (``context:`` in the model
section, on an entry, in ``drift:``), what a user reads when such a check fails, what is refused,
and the baseline that records the context.

Every test uses the fixture model ``shade`` (CONFTEST below): P(yes) = sigmoid(BIAS + the weights
of the active features), over two categorical columns, so every figure can be computed by hand.
Its logits and P(yes) on the four rows of ``rows.csv`` (one of each combination) are

    row 1  colour=red,   size=big     -1.5 + 3.0 + 2.5 =  4.0   P(yes) 0.982
    row 2  colour=red,   size=small   -1.5 + 3.0 - 3.0 = -1.5          0.182
    row 3  colour=green, size=big     -1.5 - 1.2 + 2.5 = -0.2          0.450
    row 4  colour=green, size=small   -1.5 - 1.2 - 3.0 = -5.7          0.003

and on the zero vector (every column empty) 0.182; colour=red alone there reads 0.818. Set on the
rows, colour=red makes rows 1 and 3 red-and-big (yes) and rows 2 and 4 red-and-small (no): a share
of 50% and a mean P(yes) of 0.582, against 0.818 on the zero vector.
"""

from __future__ import annotations

import json
import re
import textwrap
import xml.etree.ElementTree as ET

import pytest

from . import reports
from .reports import explanation, one_line, section

CONFTEST = """
import numpy as np
import pytest

from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

BIAS = -1.5
WEIGHTS = np.array([-1.2, 3.0, 2.5, -3.0])  # colour=green, colour=red, size=big, size=small


def shade(x):
    p = 1 / (1 + np.exp(-(BIAS + np.asarray(x, dtype=float) @ WEIGHTS)))
    return np.stack([1 - p, p], axis=1)


@pytest.fixture(scope="session")
def shade_model():
    space = FeatureSpace(
        ("colour=green", "colour=red", "size=big", "size=small"), categorical=("colour", "size")
    )
    return from_callable(shade, space, ["no", "yes"])
"""

ROWS = "colour,size\nred,big\nred,small\ngreen,big\ngreen,small\n"
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
FILE = "featureprobe_shade.yaml"
BASELINE = "__featureprobe__/featureprobe_shade.json"
IN_ROWS = "model:\n  fixture: shade_model\n  context: rows.csv\n"


@pytest.fixture
def shade(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    (pytester.path / "rows.csv").write_text(ROWS)
    return pytester


def write(pytester: pytest.Pytester, text: str) -> None:
    (pytester.path / FILE).write_text(textwrap.dedent(text))


def run(pytester: pytest.Pytester, text: str | None = None, *args: str) -> pytest.RunResult:
    """Write the expectation file (when given) and run pytest on the folder."""
    if text is not None:
        write(pytester, text)
    result = pytester.runpytest(*QUIET, *args)
    assert "Traceback" not in result.stdout.str()
    return result


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    return reports.outcomes(result, FILE)


ROWS_TABLE = "row  with probe  P(no)  P(yes)  features (before)"

# --- the default: a fixture model stays on the zero vector, with a warning ----------------------


def test_a_categorical_fixture_model_without_a_context_reads_the_zero_vector_and_warns(shade):
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
        expect:
          - name: red-on-zero
            alone: colour=red
            predicts: yes
            min_prob: 0.8
        """,
    )
    result.assert_outcomes(passed=1, warnings=1)  # 0.818 on the zero vector; 0.582 on rows
    result.stdout.fnmatch_lines(
        [
            "*= warnings summary =*",
            f"{FILE}::red-on-zero",
            "*ContextWarning: callable shade: its features are categorical columns, and probes "
            "are read against the zero vector, which no real row is; give model.context: "
            "{rows: <data file>} to read them on real rows (or context: zero to keep this "
            "reading)",
        ]
    )


def test_declaring_context_zero_keeps_that_reading_without_a_warning(shade):
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
          context: zero
        expect:
          - alone: colour=red
            predicts: yes
            min_prob: 0.8
        """,
    )
    result.assert_outcomes(passed=1)
    assert "ContextWarning" not in result.stdout.str()
    assert "warnings summary" not in result.stdout.str()


# --- predicts: a share of rows --------------------------------------------------------------------


def test_predicts_in_a_context_of_rows_holds_on_a_share_of_them(shade):
    result = run(
        shade,
        IN_ROWS
        + """\
expect:
  - name: red-most-rows
    alone: colour=red
    predicts: yes
  - name: red-half
    alone: colour=red
    predicts: yes
    min_fraction: 0.5
  - name: red-three-quarters
    alone: colour=red
    predicts: yes
    min_fraction: 0.75
  - name: small-every-row
    alone: size=small
    predicts: no
    min_fraction: 1
""",
        "-rA",
    )
    result.assert_outcomes(passed=3, failed=1)
    assert outcomes(result) == {
        "red-most-rows": "PASSED",
        "red-half": "PASSED",
        "red-three-quarters": "FAILED",
        "small-every-row": "PASSED",
    }
    assert "ContextWarning" not in result.stdout.str()  # a context is declared
    assert explanation(result, "red-three-quarters") == [
        "probe colour=red: expected predicts yes on at least 75% of rows; observed rows "
        "predicted no 50.0%, yes 50.0%, missed by 0.250",
        "context: rows of rows.csv (4 rows)",
        "mean class probabilities: P(no)=0.418  P(yes)=0.582",
        "rows that miss it most (2 of 4 miss):",
        ROWS_TABLE,
        "2    no          0.818  0.182   colour=red, size=small",
        "4    no          0.818  0.182   colour=green, size=small",
    ]
    assert section(result, "red-three-quarters")[0] == (
        f"{FILE}:12: expectation 'red-three-quarters' failed"
    )


def test_an_items_own_context_overrides_the_files(shade):
    """The same claim reads differently on the zero vector (0.818) and on the rows (0.582)."""
    result = run(
        shade,
        IN_ROWS
        + """\
expect:
  - name: red-sure-on-rows
    alone: colour=red
    predicts: yes
    min_prob: 0.7
  - name: red-sure-on-zero
    alone: colour=red
    predicts: yes
    min_prob: 0.7
    context: zero
  - name: green-on-zero
    alone: colour=green
    probability: {class: yes, max: 0.1}
    context: zero
  - name: green-on-rows
    alone: colour=green
    probability: {class: yes, max: 0.1}
""",
        "-rA",
    )
    assert outcomes(result) == {
        "red-sure-on-rows": "FAILED",
        "red-sure-on-zero": "PASSED",
        "green-on-zero": "PASSED",  # 0.063 on the zero vector
        "green-on-rows": "FAILED",  # mean 0.227 on the rows
    }
    red = explanation(result, "red-sure-on-rows")
    assert red[0] == (
        "probe colour=red: expected predicts yes on at least 50% of rows, mean P(yes) >= 0.7; "
        "observed rows predicted no 50.0%, yes 50.0%, missed by 0.118"
    )
    assert red[1] == "context: rows of rows.csv (4 rows)"
    green = explanation(result, "green-on-rows")
    assert green[:3] == [
        "probe colour=green: expected mean P(yes) in [0, 0.1]; observed rows predicted "
        "no 100.0%, yes 0.0%, missed by 0.127",
        "context: rows of rows.csv (4 rows)",
        "mean class probabilities: P(no)=0.773  P(yes)=0.227",
    ]


# --- adding: row by row; on: is the older name of context: ------------------------------------

ADDING_FAILURE = [
    "expected adding colour=red raises P(yes) by at least 0.3 on at least 100% of rows of the "
    "context (rows of rows.csv); it holds on 50.0% (1 of 2 rows; 2 rows already have colour=red "
    "and are skipped)",
    "context: rows of rows.csv (4 rows)",
    "row  dP(no)  dP(yes)  missed by  features",
    "4    -0.179  0.179    0.121      colour=green, size=small",
]


def test_adding_on_rows_and_in_context_of_rows_read_the_same(shade):
    """Set on the two green rows, colour=red adds 0.532 (big) and 0.179 (small) to P(yes);
    on the zero vector 0.636."""
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
        expect:
          - name: with-on
            adding: colour=red
            raises: yes
            by: 0.3
            on: rows.csv
          - name: with-context
            adding: colour=red
            raises: yes
            by: 0.3
            context: rows.csv
          - name: on-zero
            adding: colour=red
            raises: yes
            by: 0.3
            on: zero
          - name: half-the-rows
            adding: colour=red
            raises: yes
            by: 0.3
            context: rows.csv
            min_fraction: 0.5
          - name: both
            adding: colour=red
            raises: yes
            on: rows.csv
            context: rows.csv
        """,
        "-rA",
    )
    assert outcomes(result) == {
        "with-on": "FAILED",
        "with-context": "FAILED",
        "on-zero": "PASSED",
        "half-the-rows": "PASSED",
        "both": "ERROR",
    }
    assert explanation(result, "with-on") == ADDING_FAILURE
    assert explanation(result, "with-context") == ADDING_FAILURE
    assert one_line(result, "both") == (
        f"{FILE}:28: expect[4].on: on: is the older name of context: give one of them"
    )


# --- probability, biased_toward and top in context ------------------------------------------


def test_probability_bounds_read_the_mean_over_rows(shade):
    result = run(
        shade,
        IN_ROWS
        + """\
expect:
  - name: within
    alone: colour=red
    probability: {class: yes, min: 0.55, max: 0.6}
  - name: above
    alone: colour=red
    probability: {class: yes, max: 0.5}
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    assert explanation(result, "above") == [
        "probe colour=red: expected mean P(yes) in [0, 0.5]; observed rows predicted no 50.0%, "
        "yes 50.0%, missed by 0.082",
        "context: rows of rows.csv (4 rows)",
        "mean class probabilities: P(no)=0.418  P(yes)=0.582",
        "rows that miss it most (2 of 4 miss):",
        ROWS_TABLE,
        "1    yes         0.018  0.982   colour=red, size=big",
        "3    yes         0.018  0.982   colour=green, size=big",
    ]


REFERENCE_THREE = (
    "{reference: [{colour: red, size: big}, {colour: red, size: small}, "
    "{colour: green, size: big}]}"
)


def test_biased_toward_reads_the_mean_prediction_of_the_rows(shade):
    """Three reference rows: P(yes) 0.982, 0.182, 0.450. Their mean, 0.538, is yes although
    two rows of three predict no: biased_toward reads the mean, predicts the share."""
    result = run(
        shade,
        f"""\
        model:
          fixture: shade_model
          context: {REFERENCE_THREE}
        expect:
          - name: mean-yes
            biased_toward: yes
          - name: most-rows-yes
            zero: true
            predicts: yes
          - name: zero-vector-no
            biased_toward: no
            context: zero
        """,
        "-rA",
    )
    assert outcomes(result) == {
        "mean-yes": "PASSED",
        "most-rows-yes": "FAILED",
        "zero-vector-no": "PASSED",  # 0.182 on the zero vector
    }
    assert explanation(result, "most-rows-yes") == [
        "probe zero: expected predicts yes on at least 50% of rows; observed rows predicted "
        "no 66.7%, yes 33.3%, missed by 0.167",
        "context: 3 reference rows (3 rows)",
        "mean class probabilities: P(no)=0.462  P(yes)=0.538",
        "rows that miss it most (2 of 3 miss):",
        ROWS_TABLE,
        "2    no          0.818  0.182   colour=red, size=small",
        "3    no          0.550  0.450   colour=green, size=big",
    ]


def test_a_failed_biased_toward_in_context_names_the_mean_prediction(shade):
    result = run(
        shade,
        f"""\
        model:
          fixture: shade_model
          context: {REFERENCE_THREE}
        expect:
          - name: mean-no
            biased_toward: no
        """,
    )
    result.assert_outcomes(failed=1)
    first = explanation(result, "mean-no")[0]
    assert first.startswith("probe zero: expected predicts no")
    assert "observed rows predicted no 66.7%" not in first
    assert "yes (margin 0.076)" in first


def test_top_ranks_by_the_mean_change_over_rows(shade):
    """On the zero vector colour=red (+0.635) leads size=big (+0.549); on the rows size=big
    (+0.312: small rows gain 0.800 and 0.447) leads colour=red (+0.178)."""
    result = run(
        shade,
        IN_ROWS
        + """\
expect:
  - name: rows-top
    top: 1
    toward: yes
    are: [size=big]
  - name: zero-top
    top: 1
    toward: yes
    are: [colour=red]
    context: zero
  - name: rows-top-red
    top: 1
    toward: yes
    are: [colour=red]
""",
        "-rA",
    )
    assert outcomes(result) == {
        "rows-top": "PASSED",
        "zero-top": "PASSED",
        "rows-top-red": "FAILED",
    }
    assert explanation(result, "rows-top-red") == [
        "expected the top 1 feature toward yes to be exactly colour=red; observed top 1: "
        "size=big (missing: colour=red)",
        "context: rows of rows.csv (4 rows)",
        "rank  feature       dP(yes)  expected",
        "1     size=big      0.312",
        "2     colour=red    0.178    *",
        "3     colour=green  -0.178",
        "4     size=small    -0.312",
    ]


# --- narrowing: where, sample, mode -----------------------------------------------------------


def test_where_sample_and_mode_narrow_the_rows(shade):
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
          context: {rows: rows.csv, where: {colour: red}}
        expect:
          - name: big-red-rows
            alone: size=big
            predicts: yes
            min_fraction: 1
          - name: red-rows
            zero: true
            predicts: yes
            min_fraction: 0.75
          - name: sampled
            zero: true
            predicts: yes
            context: {rows: rows.csv, sample: 2, seed: 0}
          - name: mode-row
            zero: true
            predicts: yes
            context: {reference: mode, rows: rows.csv}
        """,
        "-rA",
    )
    assert outcomes(result) == {
        "big-red-rows": "PASSED",
        "red-rows": "FAILED",
        "sampled": "FAILED",
        "mode-row": "FAILED",
    }
    assert explanation(result, "red-rows") == [
        "probe zero: expected predicts yes on at least 75% of rows; observed rows predicted "
        "no 50.0%, yes 50.0%, missed by 0.250",
        "context: rows of rows.csv where colour=red (2 rows)",
        "mean class probabilities: P(no)=0.418  P(yes)=0.582",
        "rows that miss it most (1 of 2 miss):",
        ROWS_TABLE,
        "2    no          0.818  0.182   colour=red, size=small",
    ]
    # seed 0 draws the two green rows (3 and 4 of the file: 1 and 2 of the sample)
    sampled = explanation(result, "sampled")
    assert sampled[1] == "context: 2 sampled of rows of rows.csv (2 rows)"
    assert sampled[-2:] == [
        "2    no          0.997  0.003   colour=green, size=small",
        "1    no          0.550  0.450   colour=green, size=big",
    ]
    # The mode of the rows: each column's most common value, ties to the first (green, big).
    mode = explanation(result, "mode-row")
    assert mode[1].startswith("context: the mode of rows of rows.csv (1 row")
    assert mode[-1] == "1    no          0.550  0.450   colour=green, size=big"


def test_repeated_rows_count_as_often_as_they_occur(shade):
    """Three red-and-small rows and one green-and-big: colour=red is yes on one row of four
    (the green one, made red and big), size=big on three of four; the rows a failure lists are
    the file's own rows, repeats included, in the file's numbering."""
    (shade.path / "repeated.csv").write_text(
        "colour,size\nred,small\ngreen,big\nred,small\nred,small\n"
    )
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
          context: repeated.csv
        expect:
          - name: red-quarter
            alone: colour=red
            predicts: yes
            min_fraction: 0.25
          - name: big-three-quarters
            alone: size=big
            predicts: yes
            min_fraction: 0.75
          - name: red-most
            alone: colour=red
            predicts: yes
        """,
        "-rA",
    )
    assert outcomes(result) == {
        "red-quarter": "PASSED",
        "big-three-quarters": "PASSED",
        "red-most": "FAILED",
    }
    assert explanation(result, "red-most") == [
        "probe colour=red: expected predicts yes on at least 50% of rows; observed rows "
        "predicted no 75.0%, yes 25.0%, missed by 0.250",
        "context: rows of repeated.csv (4 rows)",
        "mean class probabilities: P(no)=0.618  P(yes)=0.382",
        "rows that miss it most (3 of 4 miss):",
        ROWS_TABLE,
        "1    no          0.818  0.182   colour=red, size=small",
        "3    no          0.818  0.182   colour=red, size=small",
        "4    no          0.818  0.182   colour=red, size=small",
    ]


# --- refused ---------------------------------------------------------------------------------


def test_contexts_that_cannot_be_are_refused_at_their_key(shade):
    """Each refusal fails its own item, at the file, line and key; the other items run. A
    fixture model's space is known once it is built, so the first item's own mistake is found
    as it runs (a failure) and later ones before they run (an error at setup)."""
    result = run(
        shade,
        IN_ROWS
        + """\
expect:
  - name: too-many
    alone: colour=red
    predicts: yes
    context: {rows: rows.csv, sample: 9}
  - name: unknown-column
    alone: colour=red
    predicts: yes
    context: {rows: rows.csv, where: {shape: round}}
  - name: unknown-value
    alone: colour=red
    predicts: yes
    context: {reference: [{colour: blue, size: big}]}
  - name: no-training-rows
    alone: colour=red
    predicts: yes
    context: training
  - name: two-colours
    together: [colour=red, colour=green]
    predicts: yes
  - name: fine
    alone: colour=red
    predicts: yes
""",
        "-rA",
    )
    assert outcomes(result) == {
        "too-many": "FAILED",
        "unknown-column": "ERROR",
        "unknown-value": "ERROR",
        "no-training-rows": "ERROR",  # known before the model is built
        "two-colours": "ERROR",
        "fine": "PASSED",
    }
    assert one_line(result, "too-many") == (
        f"{FILE}:8: expect[0].context.sample: sample 9 is more than the 4 rows in the context "
        "(rows of rows.csv)"
    )
    assert one_line(result, "unknown-column") == (
        f"{FILE}:12: expect[1].context.where: unknown column 'shape' (categorical columns: "
        "'colour', 'size')"
    )
    assert one_line(result, "unknown-value") == (
        f"{FILE}:16: expect[2].context.reference: reference row 1: 'colour' has 'colour=blue', "
        "which is not in the feature space (did you mean 'colour=red' or 'colour=green'?)"
    )
    assert one_line(result, "no-training-rows") == (
        f"{FILE}:20: expect[3].context: 'training' names the training data of a model trained "
        "from data; this file's model is given by fixture: (name a data file instead)"
    )
    assert one_line(result, "two-colours") == (
        f"{FILE}:22: expect[4].together: the probe 'colour=red+colour=green' sets two values of "
        "the column 'colour': a row holds one value of each column, so it has no meaning in "
        "context"
    )


def test_a_two_value_probe_on_the_zero_vector_is_allowed(shade):
    """Against the zero vector a probe with two colours is an input like any other."""
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
          context: zero
        expect:
          - name: two-colours
            together: [colour=red, colour=green]
            predicts: yes
        """,
    )
    result.assert_outcomes(passed=1)  # -1.5 - 1.2 + 3.0 = 0.3: yes


def test_training_rows_of_a_fixture_model_are_refused_at_the_model_context(shade):
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
          context: training
        expect:
          - name: one
            zero: true
            predicts: no
          - name: two
            alone: colour=red
            predicts: yes
        """,
    )
    result.assert_outcomes(failed=2)
    message = (
        f"{FILE}:3: model.context: 'training' names the training data of a model trained from "
        "data; this file's model is given by fixture: (name a data file instead)"
    )
    assert one_line(result, "one") == message
    assert one_line(result, "two") == message


def test_mode_of_a_fixture_model_is_refused_in_its_own_words(shade):
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
          context: mode
        expect:
          - name: one
            zero: true
            predicts: no
        """,
    )
    result.assert_outcomes(failed=1)
    message = one_line(result, "one")
    assert message.startswith(f"{FILE}:3: model.context: ")
    assert "'training' names" not in message
    assert "mode" in message


def test_a_sample_larger_than_the_rows_is_refused_at_the_sample_line(shade):
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
          context:
            rows: rows.csv
            sample: 9
        expect:
          - name: one
            zero: true
            predicts: no
        """,
    )
    result.assert_outcomes(failed=1)
    assert one_line(result, "one") == (
        f"{FILE}:5: model.context.sample: sample 9 is more than the 4 rows in the context "
        "(rows of rows.csv)"
    )


def test_a_sample_larger_than_the_rows_in_the_model_section_fails_every_item(shade):
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
          context: {rows: rows.csv, sample: 9}
        expect:
          - name: one
            zero: true
            predicts: no
          - name: two
            zero: true
            predicts: no
            context: rows.csv
        """,
        "-rA",
    )
    assert outcomes(result) == {"one": "FAILED", "two": "FAILED"}
    assert one_line(result, "one") == (
        f"{FILE}:3: model.context.sample: sample 9 is more than the 4 rows in the context "
        "(rows of rows.csv)"
    )


def test_a_where_on_an_unknown_value_is_refused_at_where(shade):
    result = run(
        shade,
        IN_ROWS
        + """\
expect:
  - name: blue
    zero: true
    predicts: no
    context: {rows: rows.csv, where: {colour: blue}}
""",
    )
    result.assert_outcomes(failed=1)
    message = one_line(result, "blue")
    assert message.startswith(f"{FILE}:8: expect[0].context.where: ")
    assert "'colour=blue'" in message


TRAIN_CSV = "colour,size,label\nred,big,yes\nred,small,no\ngreen,big,no\ngreen,small,no\n"


def test_context_refusals_of_a_trained_model_come_at_collection(shade):
    (shade.path / "shades.csv").write_text(TRAIN_CSV)
    result = run(
        shade,
        """\
        model:
          train:
            data: shades.csv
            features: {categorical: [colour, size]}
            label: label
            hidden: [2]
            epochs: 1
        expect:
          - name: too-many
            zero: true
            predicts: no
            context: {rows: training, sample: 9}
          - name: unknown-column
            zero: true
            predicts: no
            context: {rows: training, where: {shape: round}}
          - name: unknown-value
            zero: true
            predicts: no
            context: {reference: [{colour: blue, size: big}]}
          - name: two-colours
            together: [colour=red, colour=green]
            predicts: yes
        """,
        "-rA",
    )
    assert outcomes(result) == {
        "too-many": "ERROR",
        "unknown-column": "ERROR",
        "unknown-value": "ERROR",
        "two-colours": "ERROR",
    }


def test_min_fraction_on_an_item_read_on_the_zero_vector_is_an_error(shade):
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
        expect:
          - name: by-default
            zero: true
            predicts: no
            min_fraction: 0.5
          - name: declared
            zero: true
            predicts: no
            min_fraction: 0.5
            context: zero
          - name: in-rows
            zero: true
            predicts: no
            min_fraction: 0.5
            context: rows.csv
        """,
        "-rA",
    )
    assert outcomes(result) == {"by-default": "FAILED", "declared": "ERROR", "in-rows": "PASSED"}
    assert one_line(result, "by-default") == (
        f"{FILE}:7: expect[0].min_fraction: min_fraction counts rows of a context, and this item "
        "is read on the zero vector: add context: <data file>"
    )
    assert one_line(result, "declared") == (
        f"{FILE}:11: expect[1].min_fraction: min_fraction counts rows of a context; the zero "
        "vector is one input"
    )


# --- the drift gate in context ----------------------------------------------------------------

GATE = """\
model:
  fixture: shade_model
  context: {context}
expect:
  - name: red
    alone: colour=red
    predicts: yes
drift:
  max_abs_delta: 0.1
"""


def test_a_baseline_records_its_context_and_refuses_another(shade):
    baseline = shade.path / BASELINE
    result = run(shade, GATE.format(context="rows.csv"), "--featureprobe-update")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"baseline written: {BASELINE}"])
    data = json.loads(baseline.read_text())
    context = data["context"]
    assert context["definition"] == {"kind": "rows", "rows": "rows.csv"}
    assert context["name"] == "rows of rows.csv" and context["rows"] == 4
    assert re.fullmatch(r"[0-9a-f]{16}", context["digest"])
    # The probes are the in-context means: P(yes | colour=red) = 0.582, not 0.818.
    probes = {p["probe"]: p["p"] for p in data["probes"]}
    assert probes["colour=red"][1] == pytest.approx(0.58222, abs=1e-5)
    assert probes["zero"][1] == pytest.approx(0.404485, abs=1e-5)
    written = baseline.read_text()

    run(shade).assert_outcomes(passed=2)

    # Another context: the drift check is refused, with the reason and how to accept it.
    result = run(shade, GATE.format(context="{rows: rows.csv, sample: 2}"), "-rA")
    assert outcomes(result) == {"red": "PASSED", "drift-max_abs_delta": "FAILED"}
    assert one_line(result, "drift-max_abs_delta") == (
        f"{BASELINE}: the baseline no longer matches the model: it was taken in the context "
        "rows of rows.csv; this run reads the context 2 sampled of rows of rows.csv. If this "
        "change is intended, accept it with --featureprobe-update"
    )
    assert baseline.read_text() == written

    # The same rows in another order are the same context (the digest counts distinct rows).
    write(shade, GATE.format(context="rows.csv"))
    (shade.path / "rows.csv").write_text("colour,size\n" + "\n".join(ROWS.split()[:0:-1]) + "\n")
    run(shade).assert_outcomes(passed=2)

    # The same context on rows that have since changed.
    (shade.path / "rows.csv").write_text(ROWS.replace("green,small", "green,big"))
    result = run(shade)
    result.assert_outcomes(passed=1, failed=1)
    message = one_line(result, "drift-max_abs_delta")
    assert message.startswith(
        f"{BASELINE}: the baseline no longer matches the model: its context (rows of rows.csv) "
        f"holds other rows now (digest {context['digest']}, now "
    )
    assert message.endswith(
        "): the data changed. If this change is intended, accept it with --featureprobe-update"
    )

    # Accepted: written anew in today's context, and the gate passes again.
    result = run(shade, GATE.format(context="{rows: rows.csv, sample: 2}"), "--featureprobe-update")
    result.assert_outcomes(passed=2)
    assert json.loads(baseline.read_text())["context"]["definition"] == {
        "kind": "rows",
        "rows": "rows.csv",
        "sample": 2,
        "seed": 0,
    }
    run(shade).assert_outcomes(passed=2)


def test_drift_takes_its_own_context(shade):
    """drift: context: zero over a file read on rows: the baseline holds the zero-vector
    sweep, and (as every baseline before contexts) no context in its header."""
    text = GATE.format(context="rows.csv") + "  context: zero\n"
    result = run(shade, text, "--featureprobe-update")
    result.assert_outcomes(passed=2)
    data = json.loads((shade.path / BASELINE).read_text())
    assert "context" not in data
    probes = {p["probe"]: p["p"] for p in data["probes"]}
    assert probes["colour=red"][1] == pytest.approx(0.817574, abs=1e-5)
    run(shade).assert_outcomes(passed=2)
    # The file's context is now the drift's: a baseline of the zero vector no longer fits.
    result = run(shade, GATE.format(context="rows.csv"))
    result.assert_outcomes(passed=1, failed=1)
    assert "it was taken in the context zero; this run reads the context rows of rows.csv" in (
        one_line(result, "drift-max_abs_delta")
    )


# --- JUnit -------------------------------------------------------------------------------------


def test_junit_records_the_context_of_each_item(shade):
    run(
        shade,
        IN_ROWS
        + """\
expect:
  - name: on-rows
    alone: colour=red
    predicts: yes
  - name: on-zero
    alone: colour=red
    predicts: yes
    context: zero
  - name: on-red-rows
    zero: true
    predicts: yes
    context: {rows: rows.csv, where: {colour: red}}
""",
        "--junitxml=report.xml",
    ).assert_outcomes(passed=3)
    root = ET.parse(shade.path / "report.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    properties = {
        name: {p.get("name"): p.get("value") for p in case.iter("property")}
        for name, case in cases.items()
    }
    assert properties["on-rows"]["featureprobe_context"] == "rows of rows.csv"
    assert properties["on-rows"]["featureprobe_expected"] == "predicts yes on at least 50% of rows"
    assert properties["on-rows"]["featureprobe_probabilities"] == "P(no)=0.418  P(yes)=0.582"
    assert properties["on-zero"]["featureprobe_context"] == "zero"
    assert properties["on-zero"]["featureprobe_expected"] == "predicts yes"
    assert properties["on-zero"]["featureprobe_probabilities"] == "P(no)=0.182  P(yes)=0.818"
    assert properties["on-red-rows"]["featureprobe_context"] == (
        "rows of rows.csv where colour=red"
    )
