"""The fast paths agree with the plain ones: the Dense shortcut, its numpy tail and block
boundaries, the vectorised sweep table, and the benchmark command's help. No wall-clock checks."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import DenseShortcut, dense_rows, from_callable, from_keras
from pytest_featureprobe.probes import ProbeGroup, count_probes, probe_name
from pytest_featureprobe.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[2]
ATOL = 1e-5


@pytest.fixture(scope="module")
def keras():
    from pytest_featureprobe.keras_runtime import load_keras

    return load_keras()


def random_chain(keras, n_inputs, sizes, activations, seed, *, extra=(), logits=False, bias=True):
    """Dense layers of ``sizes`` with seeded random weights (biases too, so they matter)."""
    layers = [keras.Input((n_inputs,))]
    for depth, (size, activation) in enumerate(zip(sizes, [*activations, None], strict=True)):
        last = depth == len(sizes) - 1
        layers.append(
            keras.layers.Dense(
                size,
                activation=None if (last and logits) else ("softmax" if last else activation),
                use_bias=bias or depth > 0,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + depth),
                bias_initializer=keras.initializers.RandomNormal(
                    stddev=0.5, seed=seed + 50 + depth
                ),
            )
        )
        if depth == 0:
            layers.extend(extra)
    return keras.Sequential(layers)


def probe_model(keras_model, n_inputs, n_classes, outputs="probabilities"):
    space = FeatureSpace.from_names([f"f{i}" for i in range(n_inputs)])
    return from_keras(keras_model, space, [f"c{j}" for j in range(n_classes)], outputs=outputs)


def plain(model, active):
    return np.asarray(model.forward(dense_rows(active, model.n_inputs)), dtype=np.float64)


def lexicographic(n, order):
    combinations = list(itertools.combinations(range(n), order))
    return np.array(combinations, dtype=np.int32).reshape(len(combinations), order)


def scattered(n, order, rows, seed):
    """Random sorted probes in random row order: few runs, so the gather branch is taken."""
    rng = np.random.default_rng(seed)
    return np.array(
        [np.sort(rng.choice(n, size=order, replace=False)) for _ in range(rows)], dtype=np.int32
    ).reshape(rows, order)


RANDOM_MODELS = [
    # (inputs, sizes, activations, options)
    (23, [17, 9, 4], ["relu", "relu"], {}),
    (40, [32, 3], ["tanh"], {}),
    (31, [12, 12, 12, 5], ["sigmoid", "elu", "selu"], {}),
    (19, [16, 8, 2], ["silu", "softplus"], {"bias": False}),
    (27, [10, 6, 3], ["gelu", "relu"], {"logits": True}),
    (25, [8, 8, 3], ["relu", "tanh"], {"extra": True}),
]


@pytest.fixture(scope="module")
def random_models(keras):
    built = []
    for case, (n, sizes, activations, options) in enumerate(RANDOM_MODELS):
        options = dict(options)
        extra = ()
        if options.pop("extra", False):
            norm = keras.layers.BatchNormalization()
            extra = (keras.layers.Dropout(0.3), norm, keras.layers.Activation("tanh"))
        model = random_chain(keras, n, sizes, activations, seed=10 * case, extra=extra, **options)
        if extra:
            rng = np.random.default_rng(case)
            shapes = [w.shape for w in norm.get_weights()]
            norm.set_weights(
                [
                    rng.uniform(0.5, 2, shapes[0]),
                    rng.normal(size=shapes[1]),
                    rng.normal(size=shapes[2]),
                    rng.uniform(0.5, 2, shapes[3]),
                ]
            )
        outputs = "logits" if options.get("logits") else "probabilities"
        built.append(probe_model(model, n, sizes[-1], outputs))
    return built


@pytest.mark.parametrize("case", range(len(RANDOM_MODELS)))
@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_shortcut_agrees_with_plain_forward_on_random_models(random_models, case, order):
    model = random_models[case]
    assert model.shortcut is not None
    n = model.n_inputs
    for active in (lexicographic(n, order), scattered(n, order, 300, seed=case + order)):
        fast = np.asarray(model.shortcut(active), dtype=np.float64)
        np.testing.assert_allclose(fast, plain(model, active), rtol=0, atol=ATOL)
        np.testing.assert_allclose(
            model.predict_active(active),
            model.predict_proba(dense_rows(active, n)),
            rtol=0,
            atol=ATOL,
        )


@pytest.mark.parametrize("case", range(len(RANDOM_MODELS)))
def test_random_model_sweeps_agree_with_the_plain_path(random_models, case):
    fast_model = random_models[case]
    slow_model = from_keras(
        fast_model.keras_model,
        fast_model.space,
        fast_model.classes,
        outputs=fast_model.outputs,
        use_shortcut=False,
    )
    assert slow_model.shortcut is None
    fast = run_sweep(fast_model, order=3, chunk_size=1000).table
    slow = run_sweep(slow_model, order=3, chunk_size=1000).table
    assert len(fast) == count_probes(fast_model.n_inputs, 3)
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=0, atol=ATOL)


# --- blocks, runs and gathers -------------------------------------------------------------------


@pytest.mark.parametrize("block_rows", [1, 2, 3, 7, 64, 4096])
@pytest.mark.parametrize("min_mean_run", [1, 8, 10**9])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_block_and_run_boundaries(random_models, block_rows, min_mean_run, order):
    model = random_models[0]
    n = model.n_inputs
    shortcut = DenseShortcut(
        model.shortcut.kernel, model.shortcut.bias, model.shortcut.activation, model.shortcut.tail
    )
    shortcut.block_rows, shortcut.min_mean_run = block_rows, min_mean_run
    # Lexicographic probes cut at awkward places, then scattered ones, then both mixed.
    ordered = lexicographic(n, order)[5:-3]
    mixed = np.concatenate([ordered[:50], scattered(n, order, 20, seed=1), ordered[-40:]])
    for active in (ordered, scattered(n, order, 37, seed=2), mixed, ordered[:1]):
        fast = shortcut(active)
        assert fast.shape == (len(active), len(model.classes))
        assert fast.dtype == np.float32
        np.testing.assert_allclose(fast, plain(model, active), rtol=0, atol=ATOL)


def test_chunks_that_cut_through_runs(random_models):
    """The sweep's chunks cut runs of consecutive positions anywhere; every cut must agree."""
    model = random_models[1]
    n = model.n_inputs
    reference = plain(model, lexicographic(n, 2))
    for size in (1, 2, 5, 38, 39, 40, 41, 779, 780):
        chunks = list(ProbeGroup(2, n).chunks(size))
        got = np.concatenate([model.shortcut(chunk) for chunk in chunks])
        np.testing.assert_allclose(got, reference, rtol=0, atol=ATOL)


def test_first_layer_runs_and_gather_are_the_same_sum():
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(30, 7)).astype(np.float32)
    bias = rng.normal(size=7).astype(np.float32)
    shortcut = DenseShortcut(kernel, bias, None, [])
    for order in (0, 1, 2, 3):
        active = lexicographic(30, order).astype(np.intp)
        expected = bias + kernel[active].sum(axis=1) if order else np.tile(bias, (1, 1))
        outs = []
        for min_mean_run in (1, 10**9):  # always runs, always gather
            shortcut.min_mean_run = min_mean_run
            out = np.empty((len(active), 7), dtype=np.float32)
            outs.append(shortcut.first_layer(active, out))
        np.testing.assert_array_equal(outs[0], outs[1])
        np.testing.assert_allclose(outs[0], expected, rtol=0, atol=1e-5)


def test_no_probes_gives_no_rows(random_models):
    model = random_models[0]
    out = model.shortcut(np.zeros((0, 2), dtype=np.int32))
    assert out.shape == (0, len(model.classes))


# --- the numpy tail -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["linear", "relu", "tanh", "sigmoid", "softmax", "silu", "elu", "selu", "softplus"]
)
def test_numpy_activations_match_keras(keras, name):
    from pytest_featureprobe.models.numpy_layers import activation_step

    function = keras.activations.get(name)
    step = activation_step(function)
    assert step.__name__ != "through_keras", f"{name} should run in numpy"
    rng = np.random.default_rng(1)
    x = np.concatenate(
        [rng.normal(scale=4, size=(64, 9)), np.array([[-1e4, -100, -20, -1, 0, 1, 20, 100, 1e4]])]
    ).astype(np.float32)
    expected = np.asarray(function(x), dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings
        got = step(x.copy())
    assert got.dtype == np.float32
    scale = np.maximum(1, np.abs(expected))
    np.testing.assert_array_less(np.abs(got - expected) / scale, 1e-6)


def test_unknown_activation_goes_through_keras(keras):
    from pytest_featureprobe.models.numpy_layers import activation_step

    def doubled_tanh(x):
        return keras.ops.tanh(x) * 2

    step = activation_step(doubled_tanh)
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(step(x), 2 * np.tanh(x), atol=1e-6)


def test_tail_dense_with_another_dtype_runs_through_keras(keras):
    n = 12
    model = keras.Sequential(
        [
            keras.Input((n,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(8, activation="tanh", dtype="float64"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    probe = probe_model(model, n, 3)
    assert probe.shortcut is not None
    active = lexicographic(n, 2)
    np.testing.assert_allclose(probe.shortcut(active), plain(probe, active), rtol=0, atol=ATOL)


def test_lora_first_layer_uses_the_merged_kernel(keras):
    n = 14
    model = random_chain(keras, n, [10, 3], ["relu"], seed=3)
    model.layers[0].enable_lora(2)
    rng = np.random.default_rng(0)
    first = model.layers[0]
    first.lora_kernel_b.assign(rng.normal(size=first.lora_kernel_b.shape).astype(np.float32))
    probe = probe_model(model, n, 3)
    assert probe.shortcut is not None
    active = lexicographic(n, 2)
    np.testing.assert_allclose(probe.predict_active(active), plain(probe, active), atol=ATOL)


def test_quantized_first_layer_falls_back(keras):
    n = 16
    model = random_chain(keras, n, [8, 3], ["relu"], seed=4)
    try:
        model.quantize("int8")
    except Exception as exc:  # quantization support varies by backend and version
        pytest.skip(f"int8 quantization unavailable: {exc}")
    probe = probe_model(model, n, 3)
    assert probe.shortcut is None
    active = lexicographic(n, 2)
    np.testing.assert_allclose(probe.predict_active(active), plain(probe, active), atol=1e-7)


# --- the vectorised sweep table -------------------------------------------------------------------


def reference_table(model, order, probes=()):
    """The sweep table built one probe at a time, the obvious way."""
    space, classes = model.space, model.classes
    sets = [
        c
        for k in range(min(order, len(space)) + 1)
        for c in itertools.combinations(space.features, k)
    ]
    seen = set(sets)
    extra = sorted(
        {tuple(space.names(space.indices(p))) for p in probes} - seen,
        key=lambda s: (len(s), [space.index(f) for f in s]),
    )
    sets += extra
    x = space.encode_sets(sets)
    probs = model.predict_proba(x)
    zero = model.predict_proba(space.encode_sets([[]]))[0]
    single = {f: model.predict_proba(space.encode_sets([[f]]))[0] - zero for f in space.features}
    rows = []
    for features, p in zip(sets, probs, strict=True):
        top = np.sort(p)
        row = {"order": len(features), "features": tuple(features)}
        row.update({f"P({c})": p[j] for j, c in enumerate(classes)})
        row["predicted"] = classes[int(np.argmax(p))]
        row["margin"] = top[-1] - top[-2]
        row.update({f"dP({c})": p[j] - zero[j] for j, c in enumerate(classes)})
        for j, c in enumerate(classes):
            value = math.nan
            if len(features) == 2:
                value = p[j] - zero[j] - single[features[0]][j] - single[features[1]][j]
            row[f"interaction({c})"] = value
        rows.append(row)
    index = pd.Index([probe_name(f) for f in sets], name="probe")
    return pd.DataFrame(rows, index=index)


def softmax_callable(n, n_classes, seed):
    rng = np.random.default_rng(seed)
    weights, pair = rng.normal(size=(n, n_classes)), rng.normal(size=(n, n_classes))

    def predict(x):
        x = np.asarray(x, dtype=np.float64)
        z = x @ weights + np.tanh(x @ pair) * x.sum(axis=1, keepdims=True)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return predict


@pytest.mark.parametrize("n, n_classes", [(1, 2), (4, 2), (6, 3), (9, 5)])
@pytest.mark.parametrize("order", [0, 1, 2, 3])
@pytest.mark.parametrize("chunk_size", [3, 16_384])  # runs cut short by chunks, or whole
def test_sweep_table_matches_a_probe_by_probe_build(n, n_classes, order, chunk_size):
    names = ["a=1", "b c", "é", "4"] + [f"f{i}" for i in range(n)]
    space = FeatureSpace.from_names(names[:n])
    model = from_callable(softmax_callable(n, n_classes, seed=n), space, list("KLMNOP")[:n_classes])
    probes = [list(space.features[: min(n, 3)]), list(space.features)]
    got = run_sweep(model, order=order, probes=probes, chunk_size=chunk_size).table
    expected = reference_table(model, order, probes)
    assert list(got.columns) == list(expected.columns)
    assert list(got.index) == list(expected.index)
    assert got["features"].tolist() == expected["features"].tolist()
    assert got["order"].dtype == np.int64
    text = pd.Index(["a"]).dtype  # this pandas' string dtype (object before pandas 3)
    assert got.index.dtype == got["predicted"].dtype == text
    assert str(got["features"].dtype) == "feature sets"  # positions, tuples made when read
    pd.testing.assert_frame_equal(
        got, expected, check_exact=False, rtol=0, atol=1e-12, check_dtype=False
    )


# --- training: all steps in one graph loop ----------------------------------------------------


def test_training_in_one_execution_gives_the_weights_of_one_step_per_call(keras):
    """``_fit`` runs every step inside one graph loop; a fit of one step per call must agree."""
    from pytest_featureprobe.data import prepare, read_table
    from pytest_featureprobe.training import (
        TrainSpec,
        _fit,
        compiled_classifier,
        training_dataset,
    )

    data = prepare(read_table(ROOT / "examples/problems/problems.csv"), "problems", "results")
    spec = TrainSpec(hidden=(8, 8), steps=23, batch_size=2, seed=7)
    fast, steps = _fit(data, spec)
    assert steps == 23

    plain_model = compiled_classifier(data, spec)  # one step per call
    dataset = training_dataset(data, spec)
    plain_model.fit(dataset, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    assert int(plain_model.optimizer.iterations) == int(fast.optimizer.iterations) == steps
    for a, b in zip(fast.get_weights(), plain_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# --- the benchmark command ------------------------------------------------------------------------


@pytest.mark.system
@pytest.mark.parametrize(
    "module, option", [("benchmarks", "--quick"), ("benchmarks.passes", "--repeats")]
)
def test_benchmark_help_runs_without_measuring(module, option):
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert option in done.stdout
    assert f"usage: python -m {module}" in done.stdout


@pytest.mark.parametrize("last", ["in place", "own array", "identity after"])
def test_last_layer_writes_into_the_result_or_is_copied(last):
    """The last numpy layer writes each block straight into the result; a step that makes its
    own array, or an identity step after it, is copied in instead. Either way every block's
    rows land where they belong (blocks of 16 rows, in threads where they run)."""
    from pytest_featureprobe.models.numpy_layers import NUMPY_ACTIVATIONS, TailStep, dense_step

    rng = np.random.default_rng(7)
    kernel, bias = rng.normal(size=(20, 8)).astype(np.float32), np.zeros(8, np.float32)
    tail_kernel = rng.normal(size=(8, 3)).astype(np.float32)
    steps = [dense_step(tail_kernel, None, NUMPY_ACTIVATIONS["softmax"])]
    if last == "own array":
        steps.append(TailStep(lambda x, out=None: x * np.float32(2), 3, True))
    elif last == "identity after":
        steps.append(TailStep(lambda x, out=None: x, None, True))
    shortcut = DenseShortcut(kernel, bias, None, [], steps=(NUMPY_ACTIVATIONS["relu"], steps))
    shortcut.block_rows = 16
    active = lexicographic(20, 2)
    hidden = np.maximum(kernel[active[:, 0]] + kernel[active[:, 1]], 0) @ tail_kernel
    expected = np.exp(hidden - hidden.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    if last == "own array":
        expected *= 2
    np.testing.assert_allclose(shortcut(active), expected, rtol=1e-5, atol=1e-6)
