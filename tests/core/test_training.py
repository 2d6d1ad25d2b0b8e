"""The deterministic dense classifier: spec validation, determinism, the cache, the seed data."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe import training
from pytest_featureprobe.data import prepare, read_table
from pytest_featureprobe.errors import DataError, ModelError, SpecError
from pytest_featureprobe.features import MultiHot
from pytest_featureprobe.models import from_keras
from pytest_featureprobe.spec.schema import schema
from pytest_featureprobe.sweep import run_sweep
from pytest_featureprobe.training import (
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_LAYER_SIZE,
    MAX_LAYERS,
    MAX_SEED,
    MAX_STEPS,
    ModelCache,
    TrainSpec,
    train_classifier,
)

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
        # Every option has a range TensorFlow and NumPy take (issue 19): above it, refused here,
        # not a traceback from NumPy or a training that Keras ends at once.
        ({"seed": 2**31}, "seed", "non-negative integer up to 2,147,483,647"),
        ({"seed": 4294967296}, "seed", "non-negative integer up to 2,147,483,647"),
        ({"steps": 3_000_000_000}, "steps", "positive integer up to 10,000,000"),
        ({"epochs": 100_001}, "epochs", "positive integer up to 100,000"),
        ({"epochs": 1e20}, "epochs", "positive integer up to 100,000"),
        ({"batch_size": 2**20 + 1}, "batch_size", "positive integer up to 1,048,576"),
        ({"hidden": [16, 65537]}, "hidden", "positive layer sizes up to 65,536"),
        ({"hidden": [4] * 65}, "hidden", "at most 64 positive layer sizes"),
    ],
)
def test_from_mapping_errors_name_the_key(values, key, fragment):
    with pytest.raises(SpecError) as info:
        TrainSpec.from_mapping(values)
    assert info.value.key == key
    assert fragment in info.value.message
    assert str(info.value).startswith(f"{key}: ")


def test_the_largest_values_are_taken():
    values = {"seed": MAX_SEED, "steps": MAX_STEPS, "epochs": MAX_EPOCHS}
    spec = TrainSpec.from_mapping({**values, "batch_size": MAX_BATCH_SIZE, "hidden": [2**16]})
    assert (spec.seed, spec.steps, spec.epochs, spec.batch_size) == (
        2**31 - 1,
        10_000_000,
        100_000,
        2**20,
    )


def test_the_schema_gives_the_same_ranges():
    """schema.json and TrainSpec refuse the same values (the schema first, for YAML files)."""
    train = schema()["properties"]["model"]["properties"]["train"]["properties"]
    assert train["seed"]["minimum"] == 0 and train["seed"]["maximum"] == MAX_SEED
    for key, top in (("epochs", MAX_EPOCHS), ("steps", MAX_STEPS), ("batch_size", MAX_BATCH_SIZE)):
        assert (train[key]["type"], train[key]["minimum"], train[key]["maximum"]) == (
            "integer",
            1,
            top,
        )
    assert train["hidden"]["items"]["maximum"] == MAX_LAYER_SIZE
    assert train["hidden"]["maxItems"] == MAX_LAYERS


def test_epochs_that_come_to_too_many_steps_are_refused_at_epochs(seed_data):
    assert TrainSpec(epochs=MAX_STEPS, batch_size=5).check_steps(5) == MAX_STEPS
    spec = TrainSpec(epochs=100_000, batch_size=1)
    with pytest.raises(SpecError) as info:
        spec.check_steps(200)
    assert str(info.value) == (
        "epochs: 100,000 epochs of 200 batches are 20,000,000 optimizer steps, more than the "
        "10,000,000 one training may take: lower epochs, raise batch_size or give steps"
    )
    # Before the cache is looked at or Keras is called.
    with pytest.raises(SpecError) as info:
        train_classifier(seed_data, TrainSpec(epochs=MAX_STEPS, batch_size=2), "not a cache")
    assert info.value.key == "epochs"


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


# --- a training that stops early or diverges --------------------------------------------------


def test_the_largest_seed_trains(seed_data):
    trained = train_classifier(seed_data, TrainSpec(hidden=(4,), steps=3, seed=MAX_SEED))
    assert trained.steps == 3
    assert all(np.isfinite(w).all() for w in weights_of(trained))


def assert_nothing_cached(cache: ModelCache, root: Path) -> None:
    models = root / "models"
    leftovers = sorted(p.name for p in models.iterdir()) if models.exists() else []
    assert [name for name in leftovers if not name.endswith(".lock")] == []


@pytest.mark.filterwarnings("ignore:Your input ran out of data")
def test_a_training_whose_data_runs_out_is_an_error_and_is_not_cached(
    seed_data, tmp_path, monkeypatch
):
    """Keras ends a fit whose data runs out with a warning only: that model was cached as trained
    (as with steps: 3000000000, which wrapped round in int32 and ran no step)."""
    whole = training.training_dataset
    monkeypatch.setattr(training, "training_dataset", lambda data, spec: whole(data, spec).take(3))
    cache = ModelCache(tmp_path)
    spec = TrainSpec(**QUICK, seed=11)
    with pytest.raises(ModelError) as info:
        train_classifier(seed_data, spec, cache)
    assert info.value.message == (
        "training stopped after 3 of its 15 optimizer steps (Keras ended it early), so this is "
        "not the model asked for; nothing was cached"
    )
    assert cache.load(ModelCache.key(seed_data, spec)) is None
    assert_nothing_cached(cache, tmp_path)
    monkeypatch.setattr(training, "training_dataset", whole)
    assert train_classifier(seed_data, spec, cache).from_cache is False  # and now it trains


@pytest.mark.filterwarnings("ignore:Your input ran out of data")
def test_a_file_whose_training_stops_early_fails_at_model_train(tmp_path, monkeypatch):
    """The same through an expectation file: its items fail at ``model.train``, none cached."""
    from pytest_featureprobe.memo import ProbeSession
    from pytest_featureprobe.runner import FileRun, RunSettings

    shutil.copy(SEED_CSV, tmp_path / "problems.csv")
    path = tmp_path / "featureprobe_early.yaml"
    path.write_text(
        "model:\n  train:\n    data: problems.csv\n    features: problems\n"
        "    label: results\n    epochs: 5\nexpect:\n  - alone: 4\n    predicts: C\n"
    )
    whole = training.training_dataset
    monkeypatch.setattr(training, "training_dataset", lambda data, spec: whole(data, spec).take(3))
    session = ProbeSession(tmp_path / "cache")
    run = FileRun(path, session, RunSettings(roots=[tmp_path], invocation_dir=tmp_path))
    run.collect()
    with pytest.raises(ModelError) as info:
        run.build()
    assert info.value.describe(tmp_path) == (
        "featureprobe_early.yaml:2: model.train: training stopped after 3 of its 5 optimizer "
        "steps (Keras ended it early), so this is not the model asked for; nothing was cached"
    )
    assert_nothing_cached(session.cache, tmp_path / "cache")


def test_a_training_that_diverges_is_an_error_and_is_not_cached(seed_data, tmp_path):
    broken = dataclasses.replace(seed_data, x=np.full_like(seed_data.x, np.nan))
    cache = ModelCache(tmp_path)
    with pytest.raises(ModelError) as info:
        train_classifier(broken, TrainSpec(**QUICK), cache)
    assert info.value.key == "learning_rate"
    assert info.value.message.startswith("training diverged (")
    assert info.value.message.endswith(" after 15 steps): lower learning_rate; nothing was cached")
    assert_nothing_cached(cache, tmp_path)


class Fitted:
    """What ``check_finished`` reads of a fitted Keras model."""

    def __init__(self, iterations: int, weights: list[np.ndarray]) -> None:
        self.optimizer = SimpleNamespace(iterations=np.int64(iterations))
        self.weights = weights

    def get_weights(self) -> list[np.ndarray]:
        return self.weights


@pytest.mark.parametrize(
    ("iterations", "losses", "weight", "shown"),
    [
        (0, [], 1.0, "training stopped after 0 of its 3,000 optimizer steps (Keras ended it"),
        (2999, [0.5], 1.0, "training stopped after 2,999 of its 3,000 optimizer steps"),
        (3000, [0.5, np.nan], 1.0, "training diverged (the loss is nan after 3,000 steps)"),
        (3000, [np.inf], 1.0, "training diverged (the loss is inf after 3,000 steps)"),
        (3000, [], 1.0, "training diverged (the loss is nan after 3,000 steps)"),
        (3000, [0.5], np.nan, "training diverged (a weight is not finite after 3,000 steps)"),
    ],
)
def test_check_finished_refuses_what_is_not_the_model_asked_for(iterations, losses, weight, shown):
    model = Fitted(iterations, [np.ones((2, 2)), np.array([0.0, weight])])
    with pytest.raises(ModelError) as info:
        training.check_finished(model, losses, 3000)
    assert info.value.message.startswith(shown)
    assert info.value.message.endswith("nothing was cached")
    training.check_finished(Fitted(3000, [np.ones(2)]), [0.25], 3000)


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


# --- graph calls (issue 19, item 5: Ctrl-C is seen between two) --------------------------------


def test_steps_per_call_is_bounded_by_the_steps_and_the_cost_of_a_step():
    small = TrainSpec(hidden=(8,), batch_size=32)
    assert training.steps_per_call(6, 2, small, 300) == 300  # a small training: one call
    assert training.steps_per_call(6, 2, small, 10_000_000) < 20_000
    wide = TrainSpec(hidden=(32, 32), batch_size=32)
    assert 1 <= training.steps_per_call(35_000, 2, wide, 10_000_000) <= 10  # 35,000 inputs
    assert training.steps_per_call(2**20, 2, TrainSpec(batch_size=2**20), 5) == 1


def test_training_in_many_graph_calls_gives_the_weights_of_one(seed_data, monkeypatch):
    """Steps split into calls of 1, 4 or 7 steps (the last one shorter) train the model of
    one call of all of them, bit for bit, and stop at exactly the steps asked for."""
    spec = TrainSpec(hidden=(8, 8), steps=45, batch_size=5, seed=2)
    whole = train_classifier(seed_data, spec)
    assert training.steps_per_call(6, 2, spec, 45) == 45
    for chunk in (1, 4, 7):
        monkeypatch.setattr(training, "steps_per_call", lambda *args, chunk=chunk: chunk)
        split = train_classifier(seed_data, spec)
        assert split.steps == 45 == int(split.model.optimizer.iterations)
        assert_same_weights(whole, split)


# --- rows as positions (issue 16, item 10: large vocabularies) ----------------------------------

PENGUINS = Path(__file__).resolve().parents[2] / "examples" / "penguins" / "penguins.csv"
PENGUIN_COLUMNS = {"categorical": ["island", "sex", "bill_length", "flipper_length"]}


@pytest.mark.parametrize(
    "spec", [TrainSpec(**QUICK), TrainSpec(hidden=(8,), steps=61, batch_size=7)]
)
def test_training_on_positions_gives_the_weights_of_the_dense_rows(spec):
    """The same rows given as positions (batches made dense as they are needed) train the same
    network, bit for bit, and read the same accuracy: the seeded shuffle orders row numbers as
    it ordered the rows."""
    frame = read_table(PENGUINS)
    dense = train_classifier(prepare(frame, PENGUIN_COLUMNS, "species"), spec)
    sparse_data = prepare(frame, PENGUIN_COLUMNS, "species", sparse=True)
    sparse = train_classifier(sparse_data, spec)
    assert isinstance(sparse_data.x, MultiHot)
    assert_same_weights(dense, sparse)
    assert (sparse.accuracy, sparse.steps) == (dense.accuracy, dense.steps)


def test_the_batches_of_positions_are_the_dense_batches(seed_frame):
    spec = TrainSpec(batch_size=2, steps=7, seed=4)
    dense = list(training.training_dataset(prepare(seed_frame, "problems", "results"), spec))
    sparse_data = prepare(seed_frame, "problems", "results", sparse=True)
    sparse = list(training.training_dataset(sparse_data, spec))
    assert len(sparse) == len(dense) == 7
    for (x, y), (xs, ys) in zip(dense, sparse, strict=True):
        assert xs.dtype == x.dtype and np.array_equal(xs.numpy(), x.numpy())
        assert np.array_equal(ys.numpy(), y.numpy())


def test_training_accuracy_on_positions_is_read_in_blocks(seed_frame, monkeypatch):
    data = prepare(seed_frame, "problems", "results", sparse=True)
    trained = train_classifier(data, TrainSpec(**QUICK))
    blocks: list[int] = []
    whole = MultiHot.blocks

    def small_blocks(self):  # two rows of six features (24 bytes a row) a block
        for block in whole(self, 24 * 2):
            blocks.append(len(block))
            yield block

    monkeypatch.setattr(MultiHot, "blocks", small_blocks)
    assert training.training_accuracy(trained.model, data) == trained.accuracy
    assert blocks == [2, 2, 1]
