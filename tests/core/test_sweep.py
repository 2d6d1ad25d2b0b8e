"""The probe sweep: row counts, agreement with a plain loop, the Dense shortcut, derived columns."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe import models
from pytest_featureprobe.errors import DataError
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import dense_rows, from_callable, from_keras
from pytest_featureprobe.probes import count_probes
from pytest_featureprobe.sweep import run_sweep

# --- a deterministic numpy model with hand-computable numbers --------------------------------
#
# Three features x, y, z and three classes A, B, C:
#   P(A) = 0.5 + 0.1 x + 0.2 y - 0.30 z + 0.10 x y
#   P(B) = 0.3 - 0.1 x - 0.1 y + 0.25 z - 0.05 x y
#   P(C) = 1 - P(A) - P(B)


def hand_model(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    a = 0.5 + 0.1 * x[:, 0] + 0.2 * x[:, 1] - 0.3 * x[:, 2] + 0.1 * x[:, 0] * x[:, 1]
    b = 0.3 - 0.1 * x[:, 0] - 0.1 * x[:, 1] + 0.25 * x[:, 2] - 0.05 * x[:, 0] * x[:, 1]
    return np.stack([a, b, 1 - a - b], axis=1)


HAND_P = {  # probe -> (P(A), P(B), P(C))
    "zero": (0.5, 0.3, 0.2),
    "x": (0.6, 0.2, 0.2),
    "y": (0.7, 0.2, 0.1),
    "z": (0.2, 0.55, 0.25),
    "x+y": (0.9, 0.05, 0.05),
    "x+z": (0.3, 0.45, 0.25),
    "y+z": (0.4, 0.45, 0.15),
    "x+y+z": (0.6, 0.3, 0.1),
}


@pytest.fixture(scope="module")
def hand() -> models.ProbeModel:
    space = FeatureSpace.from_names(["x", "y", "z"])
    return from_callable(hand_model, space, ["A", "B", "C"])


def softmax_model(n: int, n_classes: int, seed: int):
    """A numpy logistic model with a pair term, so pairs are not additive."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(n, n_classes))
    pair = rng.normal(size=(n, n_classes))
    bias = rng.normal(size=n_classes)

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        logits = x @ weights + bias + np.tanh(x @ pair) * x.sum(axis=1, keepdims=True)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return predict


@pytest.fixture(scope="module")
def numpy_model() -> models.ProbeModel:
    space = FeatureSpace.from_names([f"f{i}" for i in range(7)])
    return from_callable(softmax_model(7, 3, seed=11), space, ["red", "green", "blue"])


# --- Keras models, built once -----------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    from pytest_featureprobe.keras_runtime import load_keras

    keras = load_keras()
    keras.utils.set_random_seed(1234)
    return keras


def dense_chain(keras, n_inputs, sizes, activation, *, use_bias=True, logits=False, extra=()):
    def init(seed):
        return keras.initializers.RandomNormal(stddev=0.5, seed=seed)

    layers = [keras.Input(shape=(n_inputs,))]
    for depth, size in enumerate(sizes[:-1]):
        layers.append(
            keras.layers.Dense(
                size,
                activation=activation,
                use_bias=use_bias or depth > 0,
                kernel_initializer=keras.initializers.GlorotUniform(seed=depth),
                bias_initializer=init(depth),
            )
        )
        if depth == 0:
            layers.extend(extra)
    layers.append(
        keras.layers.Dense(
            sizes[-1],
            activation=None if logits else "softmax",
            kernel_initializer=keras.initializers.GlorotUniform(seed=99),
            bias_initializer=init(99),
        )
    )
    return keras.Sequential(layers)


SHORTCUT_CASES = [
    ("relu", {}),
    ("tanh", {}),
    ("sigmoid", {}),
    ("gelu", {}),
    ("selu", {}),
    ("softplus", {"use_bias": False}),
    ("elu", {"logits": True}),
    ("relu", {"extra": "dropout+batchnorm"}),
    ("silu", {"functional": True}),
]


@pytest.fixture(scope="module")
def shortcut_models(keras):
    space = FeatureSpace.from_names([f"t{i}" for i in range(30)])
    built = []
    for activation, options in SHORTCUT_CASES:
        options = dict(options)
        extra = ()
        if options.pop("extra", None):
            norm = keras.layers.BatchNormalization()
            extra = (keras.layers.Dropout(0.5), norm)
        functional = options.pop("functional", False)
        model = dense_chain(keras, 30, [16, 8, 3], activation, extra=extra, **options)
        if extra:
            # Non-trivial moving statistics so the tail really transforms.
            rng = np.random.default_rng(5)
            gamma, beta, mean, var = (w.copy() for w in norm.get_weights())
            norm.set_weights(
                [
                    rng.uniform(0.5, 2, gamma.shape),
                    rng.normal(size=beta.shape),
                    rng.normal(size=mean.shape),
                    rng.uniform(0.5, 2, var.shape),
                ]
            )
        if functional:
            # The same layers as a linear functional graph (fresh layers, one call each).
            inputs = keras.Input(shape=(30,))
            out = inputs
            for layer in model.layers:
                fresh = type(layer).from_config(layer.get_config())
                out = fresh(out)
                fresh.set_weights(layer.get_weights())
            model = keras.Model(inputs, out)
        outputs = "logits" if options.get("logits") else "probabilities"
        built.append(from_keras(model, space, ["a", "b", "c"], outputs=outputs))
    return built


@pytest.mark.parametrize(
    "case",
    range(len(SHORTCUT_CASES)),
    ids=[f"{a}-{'-'.join(o) or 'plain'}" for a, o in SHORTCUT_CASES],
)
@pytest.mark.parametrize("order", [1, 2, 3])
def test_dense_shortcut_agrees_with_plain_forward(shortcut_models, case, order):
    probe_model = shortcut_models[case]
    assert probe_model.shortcut is not None, "a first Dense layer must get the shortcut"
    n = probe_model.n_inputs
    active = np.array(list(itertools.combinations(range(n), order)), dtype=np.int32)
    fast = np.asarray(probe_model.shortcut(active), dtype=np.float64)
    plain = np.asarray(probe_model.forward(dense_rows(active, n)), dtype=np.float64)
    assert fast.shape == plain.shape == (math.comb(n, order), 3)
    np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-5)
    # And through the checked public path.
    np.testing.assert_allclose(
        probe_model.predict_active(active),
        probe_model.predict_proba(dense_rows(active, n)),
        rtol=0,
        atol=1e-5,
    )


def test_shortcut_sweep_agrees_with_plain_sweep(shortcut_models):
    with_shortcut = shortcut_models[0]
    plain = from_keras(
        with_shortcut.keras_model, with_shortcut.space, with_shortcut.classes, use_shortcut=False
    )
    assert plain.shortcut is None
    fast_table = run_sweep(with_shortcut, order=2).table
    plain_table = run_sweep(plain, order=2).table
    pd.testing.assert_frame_equal(fast_table, plain_table, check_exact=False, rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def fallback_models(keras):
    space = FeatureSpace.from_names([f"t{i}" for i in range(8)])

    class Scale(keras.layers.Layer):
        def call(self, x):
            return 2.0 * x - 0.5

    class ShiftedDense(keras.layers.Dense):
        def call(self, x):
            return super().call(x * x + 0.25)

    def sigma():
        return keras.initializers.RandomNormal(stddev=0.7)

    def head():
        return [
            keras.layers.Dense(6, activation="tanh", bias_initializer=sigma()),
            keras.layers.Dense(3, activation="softmax", bias_initializer=sigma()),
        ]

    normalization = keras.Sequential(
        [keras.Input((8,)), keras.layers.Normalization(mean=0.3, variance=0.2), *head()]
    )
    custom = keras.Sequential([keras.Input((8,)), Scale(), *head()])
    subclassed = keras.Sequential(
        [keras.Input((8,)), ShiftedDense(5, activation="relu", bias_initializer=sigma()), *head()]
    )
    inputs = keras.Input((8,))
    left = keras.layers.Dense(4, activation="relu", bias_initializer=sigma())(inputs)
    right = keras.layers.Dense(4, activation="sigmoid", bias_initializer=sigma())(inputs)
    merged = keras.layers.Concatenate()([left, right])
    out = keras.layers.Dense(3, activation="softmax", bias_initializer=sigma())(merged)
    branched = keras.Model(inputs, out)
    inputs = keras.Input((8,))
    residual_hidden = keras.layers.Dense(8, activation="relu", bias_initializer=sigma())(inputs)
    added = keras.layers.Add()([inputs, residual_hidden])
    residual = keras.Model(
        inputs, keras.layers.Dense(3, activation="softmax", bias_initializer=sigma())(added)
    )
    return {
        name: (model, from_keras(model, space, ["a", "b", "c"]))
        for name, model in {
            "normalization": normalization,
            "custom-layer": custom,
            "dense-subclass": subclassed,
            "two-branches": branched,
            "residual": residual,
        }.items()
    }


@pytest.mark.parametrize(
    "name", ["normalization", "custom-layer", "dense-subclass", "two-branches", "residual"]
)
def test_non_dense_first_layer_falls_back(fallback_models, name):
    keras_model, probe_model = fallback_models[name]
    assert probe_model.shortcut is None
    sweep = run_sweep(probe_model, order=3)
    assert len(sweep) == count_probes(8, 3)
    rows = probe_model.space.encode_sets(sweep.table["features"])
    expected = np.asarray(keras_model(rows, training=False), dtype=np.float64)
    got = sweep.table[["P(a)", "P(b)", "P(c)"]].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


# --- row counts and the plain loop ------------------------------------------------------------


@pytest.mark.parametrize("order", [0, 1, 2, 3, 4, 7, 9])
def test_row_counts(numpy_model, order):
    sweep = run_sweep(numpy_model, order=order)
    n = 7
    expected = sum(math.comb(n, k) for k in range(min(order, n) + 1))
    assert len(sweep) == len(sweep.table) == expected == count_probes(n, order)
    counts = sweep.table["order"].value_counts().to_dict()
    assert counts == {k: math.comb(n, k) for k in range(min(order, n) + 1)}
    assert sweep.table.index.is_unique
    assert sweep.table.index[0] == "zero"


def test_rows_in_documented_order(hand):
    table = run_sweep(hand, order=3).table
    assert list(table.index) == ["zero", "x", "y", "z", "x+y", "x+z", "y+z", "x+y+z"]
    assert list(table["order"]) == [0, 1, 1, 1, 2, 2, 2, 3]
    assert table.loc["x+z", "features"] == ("x", "z")


def plain_loop(call, space, features_column):
    """One model call per probe, on one dense row built without the library."""
    out = []
    for features in features_column:
        row = np.zeros((1, len(space)), dtype=np.float32)
        for name in features:
            row[0, list(space.features).index(name)] = 1.0
        out.append(np.asarray(call(row), dtype=np.float64)[0])
    return np.array(out)


def test_batched_sweep_agrees_with_plain_loop_numpy(numpy_model):
    sweep = run_sweep(numpy_model, order=3)
    classes = numpy_model.classes
    expected = plain_loop(numpy_model.forward, numpy_model.space, sweep.table["features"])
    got = sweep.table[[f"P({c})" for c in classes]].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_batched_sweep_agrees_with_plain_loop_keras(keras):
    space = FeatureSpace.from_names(range(1, 7))
    model = dense_chain(keras, 6, [16, 16, 2], "relu")
    probe_model = from_keras(model, space, ["A", "C"])
    assert probe_model.shortcut is not None
    sweep = run_sweep(probe_model, order=2)
    expected = plain_loop(lambda row: model(row, training=False), space, sweep.table["features"])
    got = sweep.table[["P(A)", "P(C)"]].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


class CountingModel:
    """Counts forward calls and rows, to show the sweep batches."""

    def __init__(self, function):
        self.function = function
        self.calls = 0
        self.rows = 0

    def __call__(self, x):
        self.calls += 1
        self.rows += len(x)
        return self.function(x)


def test_sweep_is_batched_not_one_call_per_probe():
    space = FeatureSpace.from_names([f"f{i}" for i in range(7)])
    counter = CountingModel(softmax_model(7, 3, seed=11))
    probe_model = from_callable(counter, space, ["r", "g", "b"])
    counter.calls = counter.rows = 0
    sweep = run_sweep(probe_model, order=3)
    assert counter.rows == len(sweep) == count_probes(7, 3)
    assert counter.calls == 4  # one per order: 0, 1, 2, 3


# --- chunks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 3, 7])
def test_chunk_size_does_not_change_the_table(numpy_model, chunk_size):
    probes = [["f0", "f2", "f4", "f6"]]
    reference = run_sweep(numpy_model, order=3, probes=probes)
    chunked = run_sweep(numpy_model, order=3, probes=probes, chunk_size=chunk_size)
    pd.testing.assert_frame_equal(chunked.table, reference.table, check_exact=False, atol=1e-12)


@pytest.mark.parametrize("chunk_size", [1, 3, 7])
def test_chunk_size_does_not_change_the_keras_table(shortcut_models, chunk_size):
    probe_model = shortcut_models[1]
    space = probe_model.space
    # Pairs of a 12-feature slice would still be many; sweep order 2 of all 30 features.
    reference = run_sweep(probe_model, order=2)
    chunked = run_sweep(probe_model, order=2, chunk_size=chunk_size)
    assert list(chunked.table.index) == list(reference.table.index)
    assert len(reference) == count_probes(len(space), 2)
    pd.testing.assert_frame_equal(
        chunked.table, reference.table, check_exact=False, rtol=0, atol=1e-6
    )


# --- derived columns on hand-computed numbers -------------------------------------------------


def test_probabilities_match_hand_numbers(hand):
    table = run_sweep(hand, order=3).table
    for probe, probs in HAND_P.items():
        np.testing.assert_allclose(
            table.loc[probe, ["P(A)", "P(B)", "P(C)"]].to_numpy(dtype=float), probs, atol=1e-12
        )


def test_predicted_and_margin(hand):
    table = run_sweep(hand, order=3).table
    expected = {
        "zero": ("A", 0.2),
        "x": ("A", 0.4),
        "y": ("A", 0.5),
        "z": ("B", 0.3),
        "x+y": ("A", 0.85),
        "x+z": ("B", 0.15),
        "y+z": ("B", 0.05),
        "x+y+z": ("A", 0.3),
    }
    for probe, (predicted, margin) in expected.items():
        assert table.loc[probe, "predicted"] == predicted, probe
        assert table.loc[probe, "margin"] == pytest.approx(margin, abs=1e-12), probe
    assert (table["margin"] >= 0).all()


def test_dp_is_p_minus_zero_p(hand, numpy_model):
    table = run_sweep(hand, order=3).table
    assert table.loc["z", "dP(A)"] == pytest.approx(-0.3, abs=1e-12)
    assert table.loc["z", "dP(B)"] == pytest.approx(0.25, abs=1e-12)
    assert table.loc["x+y", "dP(C)"] == pytest.approx(-0.15, abs=1e-12)
    for model in (hand, numpy_model):
        table = run_sweep(model, order=2).table
        for cls in model.classes:
            expected = table[f"P({cls})"] - table.loc["zero", f"P({cls})"]
            np.testing.assert_allclose(table[f"dP({cls})"], expected, rtol=0, atol=1e-12)
        assert (table.loc["zero", [f"dP({c})" for c in model.classes]] == 0).all()


def test_interaction_on_hand_numbers(hand):
    table = run_sweep(hand, order=3).table
    expected = {  # dP(pair) - dP(first) - dP(second)
        "x+y": (0.1, -0.05, -0.05),
        "x+z": (0.0, 0.0, 0.0),
        "y+z": (0.0, 0.0, 0.0),
    }
    for probe, values in expected.items():
        got = table.loc[probe, ["interaction(A)", "interaction(B)", "interaction(C)"]]
        np.testing.assert_allclose(got.to_numpy(dtype=float), values, atol=1e-12)
    for probe in ("zero", "x", "y", "z", "x+y+z"):
        assert table.loc[probe, ["interaction(A)", "interaction(B)", "interaction(C)"]].isna().all()


def test_interaction_is_pair_minus_singles_on_random_model(numpy_model):
    table = run_sweep(numpy_model, order=2).table
    for probe, row in table[table["order"] == 2].iterrows():
        first, second = row["features"]
        for cls in numpy_model.classes:
            expected = (
                row[f"dP({cls})"] - table.loc[first, f"dP({cls})"] - table.loc[second, f"dP({cls})"]
            )
            assert row[f"interaction({cls})"] == pytest.approx(expected, abs=1e-12), probe


# --- explicit probes --------------------------------------------------------------------------


def test_explicit_probes_beyond_the_order(hand):
    sweep = run_sweep(hand, order=1, probes=[["y", "x"], ["x", "y", "z"], ["z"]])
    table = sweep.table
    assert list(table.index) == ["zero", "x", "y", "z", "x+y", "x+y+z"]
    assert list(table["order"]) == [0, 1, 1, 1, 2, 3]
    assert sweep.predicted(["x", "y"]) == "A"
    assert sweep.probabilities("x+y+z") == pytest.approx({"A": 0.6, "B": 0.3, "C": 0.1})
    assert table.loc["x+y", "interaction(A)"] == pytest.approx(0.1, abs=1e-12)
    assert np.isnan(table.loc["x+y+z", "interaction(A)"])


def test_explicit_probes_with_order_zero(hand):
    table = run_sweep(hand, order=0, probes=[["x", "y"]]).table
    assert list(table.index) == ["zero", "x+y"]
    assert table.loc["x+y", "dP(A)"] == pytest.approx(0.4, abs=1e-12)
    assert table.loc["x+y", "interaction(A)"] == pytest.approx(0.1, abs=1e-12)
    assert table.loc["x+y", "interaction(B)"] == pytest.approx(-0.05, abs=1e-12)


def test_explicit_probes_of_unknown_features_raise(hand):
    with pytest.raises(DataError, match="did you mean 'x'"):
        run_sweep(hand, order=1, probes=[["x", "xx"]])


def test_sweep_lookups(hand):
    sweep = run_sweep(hand, order=2)
    assert sweep.name_of(["z", "x"]) == "x+z"
    assert sweep.row(["z", "x"]).name == "x+z"
    assert sweep.predicted("zero") == "A"
    assert sweep.predicted(["z"]) == "B"
    with pytest.raises(DataError, match="not in this sweep"):
        sweep.row(["x", "y", "z"])
    text = sweep.to_string()
    assert "P(A)" in text and "dP(C)" in text and "x+y" in text
    assert sweep.to_string(max_rows=2).endswith("... 5 more probes")


@pytest.mark.parametrize("chunk_size", [1, 3, 5, 16_384])
@pytest.mark.parametrize("order", [0, 2, 3])
def test_columns_built_chunk_by_chunk_match_a_plain_computation(numpy_model, chunk_size, order):
    """The float columns are filled per chunk (singles may span chunks); they equal the columns
    computed from the whole probability matrix at once, ties in the top class included."""
    extra = [["f0", "f1"], ["f2", "f3", "f4"], ["f1", "f2", "f3", "f6"]]
    table = run_sweep(numpy_model, order=order, probes=extra, chunk_size=chunk_size).table
    classes = numpy_model.classes
    probs = table[[f"P({c})" for c in classes]].to_numpy()
    reference = run_sweep(numpy_model, order=1).table[[f"P({c})" for c in classes]].to_numpy()
    ordered = np.sort(probs, axis=1)
    np.testing.assert_array_equal(table["margin"].to_numpy(), ordered[:, -1] - ordered[:, -2])
    assert list(table["predicted"]) == [classes[i] for i in probs.argmax(axis=1)]
    deltas = table[[f"dP({c})" for c in classes]].to_numpy()
    np.testing.assert_array_equal(deltas, probs - reference[0])
    for name, row in table.iterrows():
        got = row[[f"interaction({c})" for c in classes]].to_numpy(dtype=float)
        if row["order"] != 2:
            assert np.isnan(got).all(), name
            continue
        a, b = (numpy_model.space.index(f) + 1 for f in row["features"])
        single = reference - reference[0]
        np.testing.assert_allclose(
            got, deltas[table.index.get_loc(name)] - single[a] - single[b], rtol=0, atol=1e-15
        )


def test_top_class_ties_go_to_the_first_class():
    from pytest_featureprobe.sweep import _top_two

    p = np.array([[0.4, 0.2, 0.5], [0.4, 0.5, 0.25], [0.2, 0.3, 0.25]])  # classes x probes
    margin = np.empty(3)
    assert _top_two(p, margin).tolist() == [0, 1, 0]
    np.testing.assert_allclose(margin, [0.0, 0.2, 0.25])


@pytest.mark.parametrize("classes", [1, 2, 3, 10, 255, 256, 300])
def test_top_two_agrees_with_argmax_and_a_sort(classes):
    from pytest_featureprobe.sweep import _top_two

    rng = np.random.default_rng(classes)
    # Coarse values make ties common (two, three or all classes at the maximum); some columns
    # hold values outside [0, 1] (logits, or probabilities within the tolerance).
    p = rng.integers(0, 4, size=(classes, 2_000)).astype(np.float64) / 4
    p[:, :50] *= -3.0
    p[:, 50:60] = 0.5
    margin = np.empty(p.shape[1])
    top = _top_two(p, margin)
    np.testing.assert_array_equal(top, p.argmax(axis=0))
    ordered = np.sort(p, axis=0)
    expected = ordered[-1] - ordered[-2] if classes > 1 else np.full(p.shape[1], np.inf)
    np.testing.assert_array_equal(margin, expected)
    assert _top_two(p[:, :0], np.empty(0)).shape == (0,)  # no probes


# --- chunks predicted ahead ---------------------------------------------------------------------


class _Ahead:
    """A model whose predict_active may run in a background thread, recording where it ran."""

    predicts_in_background = True

    def __init__(self, fail_at=None):
        import threading

        self.calls, self.threads, self.fail_at = [], set(), fail_at
        self._main = threading.get_ident()

    def predict_active(self, active):
        import threading

        self.threads.add(threading.get_ident() != self._main)
        self.calls.append(int(active[0, 0]) if active.size else -1)
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise RuntimeError(f"chunk {self.fail_at} failed")
        first = _identity(active)
        return np.stack([first, 1 - first], axis=1)  # each probe's own numbers


def _identity(active):
    """A number per probe that no other probe of these tests shares."""
    return active.astype(np.float64) @ (1000.0 ** np.arange(active.shape[1])) / 1e7


def test_chunks_predicted_ahead_come_back_in_order():
    from pytest_featureprobe.probes import ProbeGroup
    from pytest_featureprobe.stream import BATCH
    from pytest_featureprobe.sweep import iter_probabilities

    model = _Ahead()
    groups = [ProbeGroup(1, 50), ProbeGroup(2, 50)]
    pairs = list(iter_probabilities(model, groups, chunk_size=64))
    expected = [active for group in groups for active in group.chunks(64)]
    assert len(pairs) == len(expected) > 3
    for (active, probabilities), wanted in zip(pairs, expected, strict=True):
        np.testing.assert_array_equal(active, wanted)
        np.testing.assert_array_equal(probabilities[:, 0], _identity(active))  # its own rows
    assert model.threads == {True}  # every chunk was predicted off the calling thread
    # The singles in one call, the 20 chunks of pairs in calls of BATCH chunks (no call mixes
    # widths): fewer, larger calls, each ending in one barrier for the block threads.
    assert len(model.calls) == 1 + math.ceil(20 / BATCH)
    small = _Ahead()
    list(iter_probabilities(small, [ProbeGroup(0, 50), ProbeGroup(1, 50)], chunk_size=64))
    assert small.threads == {False}  # one chunk's worth of probes: no threads to start


def test_leaving_early_waits_for_the_chunks_in_flight_and_errors_reach_the_caller():
    from pytest_featureprobe.probes import ProbeGroup
    from pytest_featureprobe.stream import AHEAD
    from pytest_featureprobe.sweep import iter_probabilities

    model = _Ahead()
    stream = iter_probabilities(model, [ProbeGroup(2, 60)], chunk_size=10)
    next(stream)
    stream.close()  # the caller stops reading: no prediction goes on after this returns
    calls = len(model.calls)
    assert calls <= 2 + AHEAD
    import time

    time.sleep(0.05)
    assert len(model.calls) == calls
    failing = _Ahead(fail_at=3)
    with pytest.raises(RuntimeError, match="chunk 3 failed"):
        list(iter_probabilities(failing, [ProbeGroup(2, 60)], chunk_size=10))


# --- the garbage collector held off while the labels are made ------------------------------------


def test_collection_paused_restores_the_collectors_state():
    import gc

    from pytest_featureprobe.sweep import collection_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), collection_paused():
        assert not gc.isenabled()
        raise RuntimeError("a model's error")
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()


def test_a_sweep_leaves_the_collector_on(hand):
    import gc

    seen = []

    def predict(x):
        seen.append(gc.isenabled())
        return hand.forward(x)

    model = from_callable(predict, hand.space, hand.classes)
    seen.clear()  # a call made while the model was checked
    run_sweep(model, order=2)
    assert seen and all(seen)  # a user's model: its cyclic garbage is collected as it goes
    assert gc.isenabled()


def test_the_collector_is_held_off_only_around_our_own_predictions():
    import gc

    model = _Ahead()  # predicts in the background, as only the numpy shortcut does
    model.space = FeatureSpace.from_names([f"f{i}" for i in range(40)])
    model.classes, model.description, model.fingerprint = ("A", "B"), "ahead", None
    enabled = []
    predict = model.predict_active
    model.predict_active = lambda active: enabled.append(gc.isenabled()) or predict(active)
    table = run_sweep(model, order=2, chunk_size=64).table
    assert len(table) == 1 + 40 + 780 and enabled and not any(enabled)
    assert gc.isenabled()
