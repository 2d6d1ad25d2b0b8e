"""Prediction churn on a baseline's rows (``baseline/churn.py``), on rows and probabilities set
by hand so every figure below is computed by hand.

The space has two categorical columns, colour (green, red) and size (big, small). The rows of
ROWS (feature names, count, P before, P after; classes no, yes) hold 48 rows in all; only the 10
red-and-big rows change their predicted class (yes -> no), every other row moves its
probabilities but keeps its class:

    row                     count  before  after
    colour=red, size=big    10     yes     no      changed
    colour=red, size=small  12     no      no
    colour=green, size=big   8     yes     yes
    colour=green, size=small 15    no      no
    colour=red (no size)     3     no      no

so 10 of 48 rows changed (20.8%). The slices and their sizes: colour=red 25 (10 changed, 40%),
colour=green 23 (0), size=big 18 (10, 55.6%), size=small 27 (0), colour=red + size=big 10 (10,
100%), colour=red + size=small 12 (0), colour=green + size=big 8 (0), colour=green + size=small
15 (0). Only slices with changed rows are listed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pytest_featureprobe.baseline import Baseline
from pytest_featureprobe.baseline.churn import (
    RowPredictions,
    Slice,
    check_churn,
    churn_slices,
)
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

SPACE = FeatureSpace(
    ("colour=green", "colour=red", "size=big", "size=small"), categorical=("colour", "size")
)
CLASSES = ("no", "yes")

ROWS = [
    (("colour=red", "size=big"), 10, [0.2, 0.8], [0.7, 0.3]),
    (("colour=red", "size=small"), 12, [0.7, 0.3], [0.6, 0.4]),
    (("colour=green", "size=big"), 8, [0.4, 0.6], [0.45, 0.55]),
    (("colour=green", "size=small"), 15, [0.9, 0.1], [0.8, 0.2]),
    (("colour=red",), 3, [0.55, 0.45], [0.52, 0.48]),
]


def predictions(rows=ROWS, space=SPACE) -> tuple[RowPredictions, np.ndarray]:
    """The baseline's RowPredictions of ``rows`` (through ``RowPredictions.of``, as a baseline is
    written) and the probabilities after."""
    encoded = space.encode_sets([r[0] for r in rows])
    before = RowPredictions.of(
        space, encoded, np.array([r[1] for r in rows], float), np.array([r[2] for r in rows])
    )
    return before, np.array([r[3] for r in rows], dtype=np.float64)


def summary(slices: list[Slice]) -> list[tuple]:
    return [
        (" + ".join(s.features), s.rows, s.changed, round(s.churn, 4), s.change) for s in slices
    ]


# --- RowPredictions ------------------------------------------------------------------------------


def test_row_predictions_of_decodes_rows_to_feature_names():
    before, _ = predictions()
    assert before.features == [
        ("colour=red", "size=big"),
        ("colour=red", "size=small"),
        ("colour=green", "size=big"),
        ("colour=green", "size=small"),
        ("colour=red",),
    ]
    assert before.counts.dtype == np.int64
    assert before.counts.tolist() == [10, 12, 8, 15, 3]
    assert before.probabilities.shape == (5, 2)
    np.testing.assert_array_equal(
        before.encoded(SPACE),
        [[0, 1, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [1, 0, 0, 1], [0, 1, 0, 0]],
    )


def test_row_predictions_records_round_and_read_back():
    before = RowPredictions(
        [("colour=red", "size=big")], np.array([4]), np.array([[0.1234567, 0.8765433]])
    )
    records = before.records(3)
    assert records == [{"count": 4, "features": ["colour=red", "size=big"], "p": [0.123, 0.877]}]
    again = RowPredictions.from_records(records, 2)
    assert again.features == [("colour=red", "size=big")]
    assert again.counts.tolist() == [4]
    np.testing.assert_array_equal(again.probabilities, [[0.123, 0.877]])
    with pytest.raises(ValueError, match="row probabilities do not match the classes"):
        RowPredictions.from_records(records, 3)


def shade(x):
    logit = -1.5 + np.asarray(x, dtype=float) @ np.array([-1.2, 3.0, 2.5, -3.0])
    p = 1 / (1 + np.exp(-logit))
    return np.stack([1 - p, p], axis=1)


def test_rows_survive_the_baseline_file():
    model = from_callable(shade, SPACE, list(CLASSES))
    before, _ = predictions()
    baseline = Baseline.from_sweep(model.sweep(order=1), rows=before)
    text = baseline.to_text()
    data = json.loads(text)
    assert data["rows"] == [
        {"count": 10, "features": ["colour=red", "size=big"], "p": [0.2, 0.8]},
        {"count": 12, "features": ["colour=red", "size=small"], "p": [0.7, 0.3]},
        {"count": 8, "features": ["colour=green", "size=big"], "p": [0.4, 0.6]},
        {"count": 15, "features": ["colour=green", "size=small"], "p": [0.9, 0.1]},
        {"count": 3, "features": ["colour=red"], "p": [0.55, 0.45]},
    ]
    # One row per line, after the probes, so a review reads them like the probes.
    lines = text.splitlines()
    start = lines.index('  "rows": [')
    assert lines[start - 1] == "  ],"
    assert lines[start + 1 : start + 6] == [
        '    {"count": 10, "features": ["colour=red", "size=big"], "p": [0.2, 0.8]},',
        '    {"count": 12, "features": ["colour=red", "size=small"], "p": [0.7, 0.3]},',
        '    {"count": 8, "features": ["colour=green", "size=big"], "p": [0.4, 0.6]},',
        '    {"count": 15, "features": ["colour=green", "size=small"], "p": [0.9, 0.1]},',
        '    {"count": 3, "features": ["colour=red"], "p": [0.55, 0.45]}',
    ]
    assert lines[start + 6 :] == ["  ]", "}"]

    loaded = Baseline.from_text(text, "b.json")
    assert loaded.rows is not None
    assert loaded.rows.features == before.features
    assert loaded.rows.counts.tolist() == [10, 12, 8, 15, 3]
    np.testing.assert_array_equal(loaded.rows.probabilities, before.probabilities)
    np.testing.assert_array_equal(loaded.rows.encoded(loaded.space), before.encoded(SPACE))
    assert loaded.to_text() == text
    # Read back, the rows give the same verdict as before the file.
    _, after = predictions()
    assert check_churn(loaded.rows, after, loaded.space, loaded.classes, 0.2, None, 10) == (
        check_churn(before, after, SPACE, CLASSES, 0.2, None, 10)
    )


def test_a_baseline_without_rows_writes_none_and_reads_none():
    model = from_callable(shade, SPACE, list(CLASSES))
    text = Baseline.from_sweep(model.sweep(order=1)).to_text()
    assert "rows" not in json.loads(text)
    assert Baseline.from_text(text, "b.json").rows is None


# --- churn_slices --------------------------------------------------------------------------------


def test_slices_largest_churn_first_and_only_those_with_changed_rows():
    before, after = predictions()
    assert summary(churn_slices(before, after, SPACE, CLASSES, 10)) == [
        ("colour=red + size=big", 10, 10, 1.0, "yes -> no (10)"),
        ("size=big", 18, 10, 0.5556, "yes -> no (10)"),
        ("colour=red", 25, 10, 0.4, "yes -> no (10)"),
    ]


@pytest.mark.parametrize(
    ("min_rows", "expected"),
    [
        (1, ["colour=red + size=big", "size=big", "colour=red"]),
        (11, ["size=big", "colour=red"]),  # red + big has 10 rows
        (18, ["size=big", "colour=red"]),  # at least min_rows: 18 is enough
        (19, ["colour=red"]),
        (25, ["colour=red"]),
        (26, []),
    ],
)
def test_slices_below_min_rows_are_left_out(min_rows, expected):
    before, after = predictions()
    slices = churn_slices(before, after, SPACE, CLASSES, min_rows)
    assert [" + ".join(s.features) for s in slices] == expected


def test_nothing_changed_no_slices():
    before, _ = predictions()
    assert churn_slices(before, before.probabilities, SPACE, CLASSES, 1) == []


# Ties: red + big (20 rows) and green + small (10 rows) all flip; red + small and green + big
# (10 each) keep their class. Slices: red + big 20/20, green + small 10/10 (both 100%), colour=red
# 20/30 and size=big 20/30 (66.7%), colour=green 10/20 and size=small 10/20 (50%).
TIES = [
    (("colour=red", "size=big"), 20, [0.2, 0.8], [0.8, 0.2]),
    (("colour=green", "size=small"), 10, [0.9, 0.1], [0.3, 0.7]),
    (("colour=red", "size=small"), 10, [0.6, 0.4], [0.6, 0.4]),
    (("colour=green", "size=big"), 10, [0.3, 0.7], [0.3, 0.7]),
]


def test_ties_go_to_more_changed_rows_then_to_the_names():
    before, after = predictions(TIES)
    assert summary(churn_slices(before, after, SPACE, CLASSES, 10)) == [
        ("colour=red + size=big", 20, 20, 1.0, "yes -> no (20)"),  # more changed rows
        ("colour=green + size=small", 10, 10, 1.0, "no -> yes (10)"),
        ("colour=red", 30, 20, 0.6667, "yes -> no (20)"),  # the same: by name
        ("size=big", 30, 20, 0.6667, "yes -> no (20)"),
        ("colour=green", 20, 10, 0.5, "no -> yes (10)"),
        ("size=small", 20, 10, 0.5, "no -> yes (10)"),
    ]


def test_two_values_of_one_column_never_form_a_slice():
    """A row holding two colours (no real row does) still makes no colour=green + colour=red
    slice; the one colour slices and the pairs across columns count it."""
    rows = [
        (("colour=green", "colour=red", "size=big"), 20, [0.2, 0.8], [0.9, 0.1]),
        (("colour=green", "size=small"), 20, [0.9, 0.1], [0.9, 0.1]),
    ]
    before, after = predictions(rows)
    assert summary(churn_slices(before, after, SPACE, CLASSES, 1)) == [
        ("colour=green + size=big", 20, 20, 1.0, "yes -> no (20)"),
        ("colour=red", 20, 20, 1.0, "yes -> no (20)"),
        ("colour=red + size=big", 20, 20, 1.0, "yes -> no (20)"),
        ("size=big", 20, 20, 1.0, "yes -> no (20)"),
        ("colour=green", 40, 20, 0.5, "yes -> no (20)"),
    ]


def test_token_features_pair_with_each_other():
    """Tokens belong to no column, so two of them do form a slice."""
    space = FeatureSpace(("a", "b", "colour=red"), token_column="tokens", categorical=("colour",))
    rows = [(("a", "b"), 5, [0.2, 0.8], [0.9, 0.1]), (("a",), 5, [0.2, 0.8], [0.2, 0.8])]
    before, after = predictions(rows, space)
    assert summary(churn_slices(before, after, space, CLASSES, 1)) == [
        ("a + b", 5, 5, 1.0, "yes -> no (5)"),
        ("b", 5, 5, 1.0, "yes -> no (5)"),
        ("a", 10, 5, 0.5, "yes -> no (5)"),
    ]


def test_the_most_common_change_of_a_slice():
    """Three classes. colour=red: a -> c 6 rows, a -> b 6 rows, c -> a 4 rows: a tie of 6, given
    to the lower class numbers (a -> b). size=big: a -> c 6 and b -> a 5. colour=green: b -> a 5
    and b -> c 2."""
    rows = [
        (("colour=red", "size=big"), 6, [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]),  # a -> c
        (("colour=red", "size=small"), 6, [0.8, 0.1, 0.1], [0.1, 0.8, 0.1]),  # a -> b
        (("colour=red",), 4, [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]),  # c -> a
        (("colour=green", "size=big"), 5, [0.1, 0.8, 0.1], [0.8, 0.1, 0.1]),  # b -> a
        (("colour=green", "size=small"), 2, [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]),  # b -> c
    ]
    before, after = predictions(rows)
    changes = {
        " + ".join(s.features): s.change for s in churn_slices(before, after, SPACE, "abc", 1)
    }
    assert changes == {
        "colour=red": "a -> b (6)",
        "colour=green": "b -> a (5)",
        "size=big": "a -> c (6)",
        "size=small": "a -> b (6)",
        "colour=red + size=big": "a -> c (6)",
        "colour=red + size=small": "a -> b (6)",
        "colour=green + size=big": "b -> a (5)",
        "colour=green + size=small": "b -> c (2)",
    }


# --- check_churn ---------------------------------------------------------------------------------

TABLE = [
    "the slices that changed most (of at least 10 rows):",
    "slice                  rows  changed  churn   most common change",
    "colour=red + size=big  10    10       100.0%  yes -> no (10)",
    "size=big               18    10       55.6%   yes -> no (10)",
    "colour=red             25    10       40.0%   yes -> no (10)",
]
PROPERTIES = {
    "churn": 0.2083,
    "rows": 48,
    "changed_rows": 10,
    "worst_slice": "colour=red + size=big",
    "worst_slice_churn": 1.0,
}


def check(max_churn, slice_max, min_rows=10, rows=ROWS):
    before, after = predictions(rows)
    return check_churn(before, after, SPACE, CLASSES, max_churn, slice_max, min_rows)


@pytest.mark.parametrize("max_churn", [0.25, 10 / 48, None])
def test_max_churn_passes_at_or_above_the_churn(max_churn):
    outcome = check(max_churn, None)
    assert outcome.passed
    assert outcome.lines == []
    assert outcome.properties == PROPERTIES


def test_max_churn_fails_above_it_and_lists_the_slices():
    outcome = check(0.2, None)
    assert not outcome.passed
    assert outcome.lines == [
        "20.8% of the 48 rows changed their predicted class (10; at most 20.0% allowed)",
        *TABLE,
    ]
    assert outcome.properties == PROPERTIES


@pytest.mark.parametrize("slice_max", [1.0, None])
def test_slice_churn_passes_at_or_above_the_worst_slice(slice_max):
    assert check(None, slice_max).passed


def test_slice_churn_fails_on_its_own_when_the_overall_churn_is_allowed():
    outcome = check(0.5, 0.5)
    assert not outcome.passed
    assert outcome.lines == [
        "2 slices of at least 10 rows changed more than 50% of their rows; the worst: rows with "
        "colour=red and size=big (10 rows): 100% changed, yes -> no (10)",
        *TABLE,
    ]
    assert outcome.properties == PROPERTIES


def test_both_limits_fail_overall_first():
    outcome = check(0.1, 0.3)
    assert not outcome.passed
    assert outcome.lines == [
        "20.8% of the 48 rows changed their predicted class (10; at most 10.0% allowed)",
        "3 slices of at least 10 rows changed more than 30% of their rows; the worst: rows with "
        "colour=red and size=big (10 rows): 100% changed, yes -> no (10)",
        *TABLE,
    ]


def test_slice_churn_reads_only_slices_of_min_rows():
    """With min_rows 19 the only slice left is colour=red (40%): 0.5 passes, 0.3 fails."""
    assert check(None, 0.5, min_rows=19).passed
    outcome = check(None, 0.3, min_rows=19)
    assert not outcome.passed
    assert outcome.lines == [
        "1 slice of at least 19 rows changed more than 30% of their rows; the worst: rows with "
        "colour=red (25 rows): 40% changed, yes -> no (10)",
        "the slices that changed most (of at least 19 rows):",
        "slice       rows  changed  churn  most common change",
        "colour=red  25    10       40.0%  yes -> no (10)",
    ]
    assert outcome.properties["worst_slice"] == "colour=red"
    assert outcome.properties["worst_slice_churn"] == 0.4


def test_no_changed_rows_passes_every_limit():
    before, _ = predictions()
    outcome = check_churn(before, before.probabilities, SPACE, CLASSES, 0.0, 0.0, 1)
    assert outcome.passed
    assert outcome.properties == {"churn": 0.0, "rows": 48, "changed_rows": 0}


def test_max_churn_without_a_slice_of_min_rows_prints_no_empty_table():
    outcome = check(0.1, None, min_rows=100)
    assert not outcome.passed
    assert outcome.lines[0] == (
        "20.8% of the 48 rows changed their predicted class (10; at most 10.0% allowed)"
    )
    assert "slice  rows  changed  churn  most common change" not in outcome.lines
    assert "the slices that changed most (of at least 100 rows):" not in outcome.lines
