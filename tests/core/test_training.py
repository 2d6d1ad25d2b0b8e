"""The deterministic dense classifier: spec validation, determinism, the cache, the seed data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe.data import prepare, read_table
from pytest_featureprobe.errors import DataError, SpecError
from pytest_featureprobe.models import from_keras
from pytest_featureprobe.sweep import run_sweep
from pytest_featureprobe.training import ModelCache, TrainSpec, train_classifier

SEED_CSV = Path(__file__).resolve().parents[2] / "examples" / "problems" / "problems.csv"
QUICK = {"hidden": (8, 8), "epochs": 15}


@pytest.fixture(scope="module")
def seed_frame() -> pd.DataFrame:
    return read_table(SEED_CSV)


@pytest.fixture(scope="module")
def seed_data(seed_frame):
    return prepare(seed_frame, "problems", "results")


def weights_of(trained) -> list[np.ndarray]:
    return [np.asarray(w) for w in trained.model.get_weights()]


def assert_same_weights(a, b) -> None:
    wa, wb = weights_of(a), weights_of(b)
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y), "weights differ"


def sweep_of(trained, data):
    return run_sweep(from_keras(trained.model, data.space, data.classes), order=2)


# --- TrainSpec ------------------------------------------------------------------------------


def test_defaults_are_the_documented_method():
    spec = TrainSpec()
    assert spec.hidden == (32, 32)
    assert spec.activation == "relu"
    assert spec.epochs == 300
    assert spec.learning_rate == 0.01
    assert spec.seed == 0
    assert TrainSpec.from_mapping({}) == spec


def test_from_mapping_normalises_values():
    spec = TrainSpec.from_mapping({"hidden": [16, 8], "seed": 3, "activation": "tanh"})
    assert spec.hidden == (16, 8)
    assert spec.seed == 3
    assert spec.activation == "tanh"
    assert TrainSpec.from_mapping({"hidden": 12}).hidden == (12,)
    assert TrainSpec.from_mapping({"learning_rate": 1}).learning_rate == 1
    assert TrainSpec.from_mapping({"steps": 40}).total_steps(5) == 40


@pytest.mark.parametrize(
    ("values", "key", "fragment"),
    [
        ({"hiden": [16]}, "hiden", "did you mean 'hidden'"),
        ({"epoch": 3}, "epoch", "did you mean 'epochs'"),
        ({"optimizer": "sgd"}, "optimizer", "options are activation, batch_size"),
        ({"hidden": []}, "hidden", "positive layer sizes"),
        ({"hidden": [16, 0]}, "hidden", "positive layer sizes"),
        ({"hidden": [16, -4]}, "hidden", "positive layer sizes"),
        ({"hidden": "16"}, "hidden", "positive layer sizes"),
        ({"hidden": [16.5]}, "hidden", "positive layer sizes"),
        ({"hidden": [True]}, "hidden", "positive layer sizes"),
        ({"hidden": None}, "hidden", "positive layer sizes"),
        ({"activation": "relux"}, "activation", "'relux' is not one of relu"),
        ({"activation": None}, "activation", "is not one of"),
        ({"epochs": 0}, "epochs", "positive integer"),
        ({"epochs": 2.5}, "epochs", "positive integer"),
        ({"epochs": True}, "epochs", "positive integer"),
        ({"epochs": "10"}, "epochs", "positive integer"),
        ({"batch_size": -1}, "batch_size", "positive integer"),
        ({"steps": 0}, "steps", "positive integer"),
        ({"steps": 1.0}, "steps", "positive integer"),
        ({"seed": -1}, "seed", "non-negative integer"),
        ({"seed": 1.0}, "seed", "non-negative integer"),
        ({"seed": False}, "seed", "non-negative integer"),
        ({"learning_rate": 0}, "learning_rate", "positive number"),
        ({"learning_rate": -0.1}, "learning_rate", "positive number"),
        ({"learning_rate": 10}, "learning_rate", "positive number"),
        ({"learning_rate": "0.1"}, "learning_rate", "positive number"),
        ({"learning_rate": True}, "learning_rate", "positive number"),
    ],
)
def test_from_mapping_errors_name_the_key(values, key, fragment):
    with pytest.raises(SpecError) as info:
        TrainSpec.from_mapping(values)
    assert info.value.key == key
    assert fragment in info.value.message
    assert str(info.value).startswith(f"{key}: ")


def test_total_steps():
    assert TrainSpec(epochs=3, batch_size=2).total_steps(5) == 9
    assert TrainSpec(epochs=3, batch_size=32).total_steps(5) == 3
    assert TrainSpec(epochs=3, steps=7).total_steps(5) == 7


def test_train_classifier_validates_the_spec(seed_data):
    with pytest.raises(SpecError) as info:
        train_classifier(seed_data, TrainSpec(hidden=(4,), activation="swoosh"))
    assert info.value.key == "activation"


# --- data preparation ---------------------------------------------------------------------------


def test_prepare_seed_data(seed_data):
    assert seed_data.space.features == ("1", "2", "3", "4", "5", "6")
    assert seed_data.classes == ("A", "C")
    np.testing.assert_array_equal(seed_data.y, [0, 0, 1, 1, 0])
    assert seed_data.y.dtype == np.int32
    assert seed_data.x.shape == (5, 6)


@pytest.mark.parametrize(
    "labels",
    [
        pytest.param(pd.Series(["A", None, "B"], dtype=object), id="None"),
        pytest.param(pd.Series(["A", np.nan, "B"], dtype=object), id="NaN"),
        pytest.param(pd.array([1, None, 2], dtype="Int64"), id="pandas-NA"),
        pytest.param(["A", "", "B"], id="empty"),
    ],
)
def test_missing_labels_are_a_data_error(labels):
    frame = pd.DataFrame({"t": ["1 2", "2 3", "3"], "y": labels})
    with pytest.raises(DataError, match="missing values") as info:
        prepare(frame, "t", "y")
    assert info.value.key == "label"


def test_prepare_errors(seed_frame):
    with pytest.raises(DataError, match="did you mean 'results'") as info:
        prepare(seed_frame, "problems", "result")
    assert info.value.key == "label"
    with pytest.raises(DataError, match="one class only"):
        prepare(seed_frame.assign(results="A"), "problems", "results")
    with pytest.raises(DataError, match="no rows"):
        prepare(seed_frame.iloc[:0], "problems", "results")


# --- determinism --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_pair(seed_data):
    spec = TrainSpec(**QUICK, seed=3)
    return train_classifier(seed_data, spec), train_classifier(seed_data, spec)


def test_same_data_spec_seed_gives_identical_weights(quick_pair):
    first, second = quick_pair
    assert first.model is not second.model
    assert_same_weights(first, second)
    assert first.accuracy == second.accuracy
    assert first.cache_key == second.cache_key
    assert first.steps == second.steps == 15


def test_same_data_spec_seed_gives_identical_sweep(quick_pair, seed_data):
    first, second = quick_pair
    a = sweep_of(first, seed_data)
    b = sweep_of(second, seed_data)
    assert len(a) == 22
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert a.fingerprint == b.fingerprint


def test_different_seed_gives_different_weights(quick_pair, seed_data):
    other = train_classifier(seed_data, TrainSpec(**QUICK, seed=4))
    assert other.cache_key != quick_pair[0].cache_key
    differs = [
        not np.array_equal(x, y)
        for x, y in zip(weights_of(quick_pair[0]), weights_of(other), strict=True)
    ]
    assert any(differs)
    assert differs[0], "the first kernel is seeded from the seed"


def test_model_shape_follows_the_spec(quick_pair):
    model = quick_pair[0].model
    shapes = [tuple(w.shape) for w in model.get_weights()]
    assert shapes == [(6, 8), (8,), (8, 8), (8,), (8, 2), (2,)]
    assert model.layers[-1].get_config()["activation"] == "softmax"


# --- cache --------------------------------------------------------------------------------------


def test_cache_miss_then_hit(seed_data, tmp_path):
    cache = ModelCache(tmp_path / "cache")
    spec = TrainSpec(**QUICK, seed=5)
    first = train_classifier(seed_data, spec, cache)
    assert first.from_cache is False
    entry = cache.entry(first.cache_key)
    assert sorted(p.name for p in entry.iterdir()) == ["meta.json", "weights.npz"]
    assert json.loads((entry / "meta.json").read_text())["accuracy"] == first.accuracy
    # No staging folders left behind.
    assert [p.name for p in entry.parent.iterdir()] == [first.cache_key]

    second = train_classifier(seed_data, spec, cache)
    assert second.from_cache is True
    assert second.cache_key == first.cache_key
    assert second.accuracy == first.accuracy
    assert second.steps == first.steps
    assert_same_weights(first, second)
    pd.testing.assert_frame_equal(
        sweep_of(first, seed_data).table, sweep_of(second, seed_data).table, check_exact=True
    )


def test_unreadable_cache_entry_is_retrained(seed_data, tmp_path):
    cache = ModelCache(tmp_path)
    spec = TrainSpec(**QUICK, seed=6)
    first = train_classifier(seed_data, spec, cache)
    (cache.entry(first.cache_key) / "weights.npz").write_bytes(b"garbage")
    assert cache.load(first.cache_key) is None
    again = train_classifier(seed_data, spec, cache)
    assert again.from_cache is False
    assert_same_weights(first, again)
    # The broken entry was replaced (not left to be retrained on every run), with no leftovers.
    assert cache.load(first.cache_key) is not None
    assert [p.name for p in (tmp_path / "models").iterdir()] == [first.cache_key]
    assert train_classifier(seed_data, spec, cache).from_cache is True


def test_cache_key_changes_with_data_spec_and_seed(seed_frame, seed_data):
    spec = TrainSpec(**QUICK)
    key = ModelCache.key(seed_data, spec)
    assert ModelCache.key(prepare(seed_frame, "problems", "results"), spec) == key
    assert ModelCache.key(seed_data, TrainSpec(**QUICK)) == key

    relabelled = seed_frame.copy()
    relabelled.loc[4, "results"] = "C"
    retokened = seed_frame.copy()
    retokened.loc[0, "problems"] = "[1, 2]"
    reordered = seed_frame.iloc[[1, 0, 2, 3, 4]]
    for frame in (relabelled, retokened, reordered, seed_frame.iloc[:4]):
        assert ModelCache.key(prepare(frame, "problems", "results"), spec) != key

    for changed in (
        TrainSpec(**QUICK, seed=1),
        TrainSpec(hidden=(8, 4), epochs=15),
        TrainSpec(**QUICK, activation="tanh"),
        TrainSpec(**QUICK, learning_rate=0.02),
        TrainSpec(**QUICK, batch_size=2),
        TrainSpec(**QUICK, steps=30),
        TrainSpec(hidden=(8, 8), epochs=16),
    ):
        assert ModelCache.key(seed_data, changed) != key


def test_changed_seed_misses_the_cache(seed_data, tmp_path):
    cache = ModelCache(tmp_path)
    first = train_classifier(seed_data, TrainSpec(**QUICK, seed=7), cache)
    other = train_classifier(seed_data, TrainSpec(**QUICK, seed=8), cache)
    assert not first.from_cache and not other.from_cache
    assert other.cache_key != first.cache_key
    assert len(list((tmp_path / "models").iterdir())) == 2


# --- the seed data ------------------------------------------------------------------------------


def test_seed_data_fits_with_the_default_spec(seed_data):
    trained = train_classifier(seed_data)
    assert trained.spec == TrainSpec()
    assert trained.steps == 300
    assert trained.accuracy == 1.0
    probabilities = np.asarray(trained.model(seed_data.x, training=False))
    np.testing.assert_array_equal(probabilities.argmax(axis=1), seed_data.y)
    sweep = sweep_of(trained, seed_data)
    # Features 4 and 5 occur only in C rows or most often there; the method reads them as C.
    assert sweep.predicted([4]) == "C"
    assert sweep.predicted([4, 5]) == "C"
