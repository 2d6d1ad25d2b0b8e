"""The seed example: the dense classifier of the probe method, trained on the five-row table."""

from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def featureprobe_model(featureprobe_train):
    # The default spec: Dense 32-32 relu, softmax, Adam(0.01), 300 epochs, seed 0 (see README).
    return featureprobe_train(HERE / "problems.csv", features="problems", label="results")
