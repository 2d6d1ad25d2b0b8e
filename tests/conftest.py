"""Shared test setup."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

SEED_CSV = Path(__file__).resolve().parents[1] / "examples" / "problems" / "problems.csv"

_preloaded = False


def _preload_for_pytester() -> None:
    """Import the heavy libraries, and use Keras once, outside any in-process pytester run.

    An in-process ``pytester`` run removes from ``sys.modules`` every module imported during it.
    numpy, pandas and TensorFlow cannot be imported twice in one process (numpy raises "cannot
    load module more than once per process"; TensorFlow aborts the interpreter), so whatever an
    inner run may import must already be imported when the first ``pytester`` test starts.
    """
    global _preloaded
    if _preloaded:
        return
    _preloaded = True
    import concurrent.futures.process  # noqa: F401  (calibration's worker pool pickles its own)

    import jsonschema  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import yaml  # noqa: F401

    import pytest_featureprobe.expectations
    import pytest_featureprobe.plugin.nodes
    import pytest_featureprobe.spec  # noqa: F401
    from pytest_featureprobe.memo import ProbeSession

    # Train, save, load and sweep a tiny model so that Keras' lazily imported parts load here.
    session = ProbeSession(None)
    model = session.train(SEED_CSV, "problems", "results", epochs=1, hidden=[4])
    with tempfile.TemporaryDirectory() as tmp:
        session.load(model.save(Path(tmp) / "warm.keras")).sweep(order=1)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if "pytester" in getattr(item, "fixturenames", ()):
        _preload_for_pytester()


# A plain-numpy model whose every probability is known, for pytester runs: the fixture
# ``fruit`` writes it as the conftest.py of the pytester folder, with a small data file.
# Each feature adds counts to (apple, banana, lime); probabilities are the normalised counts.
# zero   .600 .300 .100 apple      red   .800 .150 .050 apple      green .300 .200 .500 lime
# round  .700 .150 .150 apple      long  .300 .650 .050 banana     sweet .350 .600 .050 banana
# sour   .400 .150 .450 lime       shiny .600 .300 .100 apple (proportional to the base counts)
# Pairs have no ties; dP(lime) ranks green .40, sour .35, round .05, shiny 0, red/long/sweet -.05.
CONFTEST = """
import numpy as np
import pytest

from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

FEATURES = ["red", "green", "round", "long", "sweet", "sour", "shiny"]
CLASSES = ["apple", "banana", "lime"]
BASE = np.array([6.0, 3.0, 1.0])
WEIGHTS = np.array([
    [10, 0, 0],  # red
    [0, 1, 9],   # green
    [8, 0, 2],   # round
    [0, 10, 0],  # long
    [1, 9, 0],   # sweet
    [2, 0, 8],   # sour
    [6, 3, 1],   # shiny
], dtype=float)


def fruit(x):
    counts = BASE + np.asarray(x, dtype=float) @ WEIGHTS
    return counts / counts.sum(axis=1, keepdims=True)


@pytest.fixture(scope="session")
def fruit_model():
    space = FeatureSpace(tuple(FEATURES), token_column="fruit")
    return from_callable(fruit, space, CLASSES)


@pytest.fixture(scope="session")
def raw_fruit():
    return fruit


@pytest.fixture(scope="session")
def fruit_logits():
    return lambda x: np.log(fruit(x))
"""

# Rows (1-based): round, green, long+sweet, red, sour, nothing.
FRUITS_CSV = 'fruit\n"[round]"\n"[green]"\n"[long, sweet]"\n"[red]"\n"[sour]"\n"[]"\n'


@pytest.fixture
def fruit(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    (pytester.path / "fruits.csv").write_text(FRUITS_CSV)
    return pytester
