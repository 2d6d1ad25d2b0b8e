"""The seed test (``baseline/seed_test.py``): how many seeds a false-alarm rate needs, the rank
p-value on hand-made cells, its false-alarm rate when retrains are exchangeable (simulated), the
slice means it reads, the baseline file round trip, and the failure a user reads."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_featureprobe.baseline import Baseline
from pytest_featureprobe.baseline.churn import RowPredictions
from pytest_featureprobe.baseline.seed_test import (
    SeedCells,
    check_seed_test,
    needed_seeds,
    slice_means,
)
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

SPACE = FeatureSpace(
    ("colour=green", "colour=red", "size=big", "size=small"), categorical=("colour", "size")
)
CLASSES = ("no", "yes")


@pytest.mark.parametrize(
    ("false_alarm", "seeds"), [(0.05, 19), (0.1, 9), (0.2, 4), (0.25, 3), (0.4, 2), (0.01, 99)]
)
def test_needed_seeds_is_the_fewest_k_with_one_in_k_plus_one_at_most_alpha(false_alarm, seeds):
    assert needed_seeds(false_alarm) == seeds
    assert 1 / (seeds + 1) <= false_alarm + 1e-12
    assert seeds == 2 or 1 / seeds > false_alarm  # two at least: a spread of the others


def cells(stack: np.ndarray) -> SeedCells:
    """Cells of probes only: ``stack`` is (seeds, probes, classes)."""
    k = len(stack)
    return SeedCells(list(range(k)), stack, [], [], np.zeros((k, 0, stack.shape[2])), 0.02)


def test_an_outlier_gets_the_smallest_p_value_and_a_seed_like_model_a_large_one():
    rng = np.random.default_rng(0)
    stack = 0.5 + 0.01 * rng.standard_normal((9, 4, 2))
    band = cells(stack)
    empty = np.zeros((0, 2))
    outlier = stack.mean(0).copy()
    outlier[2, 1] += 0.5  # one cell moved 25 floors (the spread is below the floor)
    result = band.test(outlier, empty)
    assert result.p_value == pytest.approx(1 / 10)
    assert result.score == pytest.approx(0.5 / max(np.std(stack[:, 2, 1], ddof=1), 0.02), rel=0.05)
    assert result.seed_scores.shape == (9,)
    assert result.deviations().argmax() == 2 * 2 + 1  # probe 2, class yes
    typical = band.test(stack.mean(0), empty)  # the seeds' own mean: the least unusual
    assert typical.p_value == pytest.approx(1.0)


def test_a_model_equal_to_a_calibration_seed_is_no_alarm():
    rng = np.random.default_rng(1)
    stack = rng.uniform(0, 1, (19, 6, 3))
    result = cells(stack).test(stack[4], np.zeros((0, 3)))
    assert result.p_value > 0.05


def test_the_false_alarm_rate_is_at_most_alpha_for_exchangeable_retrains():
    """K + 1 draws from one distribution (heavy-tailed, cells of unequal spread): today's is
    flagged at rate <= alpha, and not far below it (the threshold is not wasted)."""
    rng = np.random.default_rng(7)
    k, trials, alpha = needed_seeds(0.1), 3000, 0.1
    spreads = rng.uniform(0.005, 0.2, 30)
    flagged = 0
    for _ in range(trials):
        draws = 0.5 + spreads * rng.standard_t(3, (k + 1, 30))
        band = SeedCells(list(range(k)), draws[:k, :, None], [], [], np.zeros((k, 0, 1)))
        flagged += band.test(draws[k][:, None], np.zeros((0, 1))).p_value <= alpha
    rate = flagged / trials
    # exactly alpha in theory (continuous scores); 3 binomial sd = 0.016 at 3000 trials
    assert 0.1 - 0.02 <= rate <= 0.1 + 0.016


def rows_and_predictions() -> tuple[RowPredictions, np.ndarray]:
    """Three distinct rows (counts 3, 1, 2) and their P(no), P(yes)."""
    features = [
        ("colour=red", "size=big"),
        ("colour=red", "size=small"),
        ("colour=green", "size=big"),
    ]
    probabilities = np.array([[0.2, 0.8], [0.6, 0.4], [0.9, 0.1]])
    rows = RowPredictions(features, np.array([3, 1, 2]), probabilities)
    return rows, probabilities


def test_slice_means_weigh_each_distinct_row_by_its_count():
    rows, probabilities = rows_and_predictions()
    means = slice_means(
        rows, probabilities, SPACE, [(), ("colour=red",), ("colour=red", "size=big")]
    )
    # all rows: (3 * 0.8 + 1 * 0.4 + 2 * 0.1) / 6; red: (3 * 0.8 + 0.4) / 4; red and big: 0.8
    assert means[:, 1] == pytest.approx([3.0 / 6, 2.8 / 4, 0.8])
    assert means.sum(axis=1) == pytest.approx([1, 1, 1])


def test_of_seeds_reads_all_rows_and_every_slice_of_min_rows():
    rows, probabilities = rows_and_predictions()
    made = SeedCells.of_seeds(
        [0, 1], np.zeros((2, 1, 2)), rows, [probabilities, probabilities[::-1]], SPACE, min_rows=3
    )
    # slices of at least 3 rows: all (6), red (4), big (5), red + big (3); green (2) and small
    # (1) are too small
    assert made.slices == [(), ("colour=red",), ("colour=red", "size=big"), ("size=big",)]
    assert made.slice_rows == [6, 4, 3, 5]
    assert made.slice_means.shape == (2, 4, 2)
    assert made.slice_means[0, 2, 1] == pytest.approx(0.8)


def seeded_baseline() -> Baseline:
    """A baseline of a two-class callable model with the cells of 3 seeds on its rows."""
    model = from_callable(
        lambda x: np.stack([1 - 0.2 - 0.5 * x[:, 1], 0.2 + 0.5 * x[:, 1]], axis=1), SPACE, CLASSES
    )
    rows, probabilities = rows_and_predictions()
    rng = np.random.default_rng(3)
    sweeps = [model.sweep(order=1) for _ in range(3)]
    baseline = Baseline.from_sweep(sweeps[0], rows=rows)
    probes = np.stack([baseline.current(s) for s in sweeps]) + 0.001 * rng.standard_normal(
        (3, len(baseline.probes), 2)
    )
    predictions = [
        probabilities + 0.001 * rng.standard_normal(probabilities.shape) for _ in range(3)
    ]
    baseline.seed_cells = SeedCells.of_seeds(
        [5, 6, 7], probes, rows, predictions, SPACE, min_rows=3
    )
    return baseline


def test_a_baseline_keeps_each_seeds_cells_through_its_file():
    baseline = seeded_baseline()
    text = baseline.to_text()
    assert '"seed_test": {"floor": 0.02, "min_rows": 3, "seeds": [5, 6, 7]}' in text
    assert '"slices": [' in text and '{"rows": 6, "seeds": [' in text
    read = Baseline.from_text(text, "b.json")
    cells_read, cells_made = read.seed_cells, baseline.seed_cells
    assert cells_read.seeds == [5, 6, 7]
    assert cells_read.slices == cells_made.slices and cells_read.slice_rows == cells_made.slice_rows
    assert cells_read.probes == pytest.approx(cells_made.probes, abs=5e-5)  # 4 digits kept
    assert cells_read.slice_means == pytest.approx(cells_made.slice_means, abs=5e-5)
    assert read.to_text() == Baseline.from_text(read.to_text(), "b.json").to_text()


def test_a_failure_names_the_slices_that_changed_then_the_cells_then_the_score():
    baseline = seeded_baseline()
    cells_ = baseline.seed_cells
    rows = baseline.rows
    after = rows.probabilities.copy()
    after[0] = [0.9, 0.1]  # the 3 red-and-big rows now say no
    today_slices = slice_means(rows, after, SPACE, cells_.slices)
    probes = cells_.probes.mean(0)
    outcome = check_seed_test(
        cells_, 0.25, baseline.probes, CLASSES, (probes, today_slices), (rows, after, SPACE)
    )
    assert not outcome.passed
    lines = outcome.lines
    assert lines[0] == (
        "today's model sits further from the 3 calibration seeds than a retrain with another "
        "seed would (p = 0.250 <= false_alarm 0.25)"
    )
    assert lines[1] == "3 of the 6 rows changed their predicted class since the baseline"
    assert lines[2] == "the slices that changed most (of at least 3 rows):"
    assert lines[4].split() == [
        "colour=red",
        "+",
        "size=big",
        "3",
        "3",
        "100.0%",
        "yes",
        "->",
        "no",
        "(3)",
    ]
    cells_at = lines.index("the probes and slices furthest from the seeds:")
    assert cells_at > 4
    first_cell = lines[cells_at + 2].split()
    assert first_cell[0] == "slice" and "colour=red" in first_cell
    assert lines[-1].startswith("score ") and "is above 3 of the 3 seeds' scores" in lines[-1]
    assert outcome.properties["seed_test_p_value"] == 0.25
    assert outcome.properties["calibration_seeds"] == 3
    # the same cells as the seeds' mean pass
    mean_slices = cells_.slice_means.mean(0)
    passed = check_seed_test(
        cells_,
        0.25,
        baseline.probes,
        CLASSES,
        (probes, mean_slices),
        (rows, rows.probabilities, SPACE),
    )
    assert passed.passed and passed.lines == []


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d.pop("rows"), "the seed test's slices have no rows"),
        (lambda d: d["slices"][1].update(slice="colour=red"), "a slice is a list of feature names"),
        (
            lambda d: d["slices"][1].update(slice=["colour=purple"]),
            "slice feature 'colour=purple' is not in the feature space",
        ),
    ],
    ids=["no-rows", "slice-not-a-list", "unknown-slice-feature"],
)
def test_a_hand_edited_seed_test_is_a_corrupt_baseline(edit, reason):
    import json

    from pytest_featureprobe.baseline.record import BaselineError

    data = json.loads(seeded_baseline().to_text())
    edit(data)
    with pytest.raises(BaselineError) as info:
        Baseline.from_text(json.dumps(data), "b.json")
    assert reason in info.value.message
    assert info.value.message.startswith("corrupt baseline (ValueError: ")


def test_the_report_shows_the_seed_test_and_never_the_mean_band_in_its_place():
    from pytest_featureprobe.report.entry import ReportEntry
    from pytest_featureprobe.report.page import _drift_summary

    model = from_callable(
        lambda x: np.stack([1 - 0.2 - 0.5 * x[:, 1], 0.2 + 0.5 * x[:, 1]], axis=1), SPACE, CLASSES
    )
    sweep = model.sweep(order=1)
    baseline = Baseline.from_sweep(sweep, band=[sweep, sweep], band_seeds=[0, 1])
    rows = [{"probe": "zero", "class": "yes", "difference": 0.0, "flipped": False, "beyond": False}]
    figures = {"seed_test_p_value": 0.45, "false_alarm": 0.05, "calibration_seeds": 19}
    shown = ReportEntry(
        "f", sweep, baseline, band={"seed_test": {**figures, "seed_test_score": 2.1}}
    )
    assert "Seed test p = 0.450 (false_alarm 0.05, 19 seeds; score 2.10)." in _drift_summary(
        shown, rows
    )
    unread = ReportEntry("f", sweep, baseline, band={"seed_test": {}})  # a note says why
    assert "Seed" not in _drift_summary(unread, rows)
    mean_band = ReportEntry("f", sweep, baseline, band={"max_score": None, "factor": 1.5})
    assert "Seed band score" in _drift_summary(mean_band, rows)


def test_auto_calibration_workers_are_one_on_a_pytest_xdist_worker():
    from pytest_featureprobe.plugin.options import calibration_workers

    class Config:
        def __init__(self, value, worker):
            self.value = value
            if worker:
                self.workerinput = {}

        def getini(self, name):
            assert name == "featureprobe_calibration_workers"
            return self.value

    assert calibration_workers(Config("auto", worker=False)) is None
    assert calibration_workers(Config("auto", worker=True)) == 1
    assert calibration_workers(Config("3", worker=True)) == 3
