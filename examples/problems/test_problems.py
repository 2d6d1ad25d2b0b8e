"""The seed's reading of the probe table, stated as tests.

Feature 3 is left out on purpose: across seeds it reads A about as often as C
(README, "The seed example").
"""

import pytest


def test_training_fits_the_five_rows(featureprobe_model):
    assert featureprobe_model.info["training_accuracy"] == 1.0


def test_zero_vector_leans_towards_a(featureprobe_sweep):
    assert featureprobe_sweep.predicted("zero") == "A"


@pytest.mark.parametrize("feature", [4, 5])
def test_alone_predicts_c(featureprobe_sweep, feature):
    assert featureprobe_sweep.predicted([feature]) == "C"


@pytest.mark.parametrize("feature", [1, 2, 6])
def test_alone_predicts_a(featureprobe_sweep, feature):
    assert featureprobe_sweep.predicted([feature]) == "A"


def test_print_sweep_table(featureprobe_sweep):
    # Run with -s to see the method's table: probe, class probabilities, predicted class.
    print()
    print(featureprobe_sweep.to_string(max_rows=None))
    assert len(featureprobe_sweep) == 1 + 6 + 15
