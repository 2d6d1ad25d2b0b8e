"""The shifted tail: ReLU networks run with each run's base row carried beside the block agree
with the unshifted tail and with a float64 forward pass, wherever blocks and runs are cut."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pytest_featureprobe.models import DenseShortcut
from pytest_featureprobe.models.numpy_layers import NUMPY_ACTIVATIONS, TailStep, dense_step
from pytest_featureprobe.models.shifted import ShiftedTail

RELU, SOFTMAX = NUMPY_ACTIVATIONS["relu"], NUMPY_ACTIVATIONS["softmax"]


def network(n, sizes, seed, *, bias_scale=0.5, last="softmax", biases=True):
    """Kernels and biases of a Dense chain n -> sizes, seeded."""
    rng = np.random.default_rng(seed)
    widths = [n, *sizes]
    return [
        (
            (rng.normal(size=(a, b)) / np.sqrt(a)).astype(np.float32),
            (rng.normal(size=b) * bias_scale).astype(np.float32) if biases or i == 0 else None,
        )
        for i, (a, b) in enumerate(itertools.pairwise(widths))
    ]


def shortcut_of(layers, last="softmax"):
    (kernel, bias), *tail = layers
    activations = [RELU] * (len(tail) - 1) + [NUMPY_ACTIVATIONS[last]]
    steps = [dense_step(k, b, a) for (k, b), a in zip(tail, activations, strict=True)]
    return DenseShortcut(kernel, bias, "relu", [], steps=(RELU, steps))


def reference(layers, active, last="softmax"):
    """The plain forward pass in float64 on dense rows."""
    x = np.zeros((len(active), layers[0][0].shape[0]))
    for row, positions in enumerate(active):
        x[row, positions] = 1
    for depth, (kernel, bias) in enumerate(layers):
        x = x @ kernel.astype(np.float64) + (0 if bias is None else bias.astype(np.float64))
        if depth < len(layers) - 1:
            x = np.maximum(x, 0)
    if last == "softmax":
        x = np.exp(x - x.max(axis=1, keepdims=True))
        x /= x.sum(axis=1, keepdims=True)
    return x


def lexicographic(n, order):
    combinations = list(itertools.combinations(range(n), order))
    return np.array(combinations, np.intp).reshape(len(combinations), order)


def scattered(n, order, rows, seed):
    rng = np.random.default_rng(seed)
    picks = [np.sort(rng.choice(n, size=order, replace=False)) for _ in range(rows)]
    return np.array(picks, np.intp).reshape(rows, order)


def test_only_relu_chains_of_numpy_dense_layers_are_shifted():
    steps = [dense_step(np.ones((4, 4), np.float32), None, RELU)]
    last = dense_step(np.ones((4, 3), np.float32), np.zeros(3, np.float32), SOFTMAX)
    assert ShiftedTail.of(RELU, [*steps, last]) is not None
    assert ShiftedTail.of(RELU, [last]) is not None  # any activation on the last layer
    assert ShiftedTail.of(NUMPY_ACTIVATIONS["tanh"], [*steps, last]) is None
    tanh_hidden = dense_step(np.ones((4, 4), np.float32), None, NUMPY_ACTIVATIONS["tanh"])
    assert ShiftedTail.of(RELU, [tanh_hidden, last]) is None
    keras_step = TailStep(lambda x, out=None: x, None, False)
    assert ShiftedTail.of(RELU, [keras_step, last]) is None
    assert ShiftedTail.of(RELU, []) is None


@pytest.mark.parametrize("sizes", [(9, 4), (16, 8, 3), (12, 10, 6, 5)])
@pytest.mark.parametrize("order", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("block_rows", [1, 7, 64, 4096])
def test_shifted_outputs_agree_with_the_unshifted_tail_and_the_plain_pass(sizes, order, block_rows):
    n = 14
    layers = network(n, sizes, seed=len(sizes) * 10 + order)
    fast = shortcut_of(layers)
    assert fast.shifted is not None
    unshifted = shortcut_of(layers)
    unshifted.shifted = None
    ordered = lexicographic(n, order)
    mixed = np.concatenate([ordered[:30], scattered(n, order, 11, seed=order), ordered[-25:]])
    for shortcut in (fast, unshifted):
        shortcut.block_rows = block_rows
    for active in (ordered, ordered[3:-2], scattered(n, order, 40, seed=1), mixed, ordered[:1]):
        got = fast(active)
        assert got.shape == (len(active), sizes[-1]) and got.dtype == np.float32
        np.testing.assert_allclose(got, unshifted(active), rtol=0, atol=1e-6)
        np.testing.assert_allclose(got, reference(layers, active), rtol=0, atol=1e-5)


def test_the_shifted_path_is_taken_for_runs_and_for_gathered_blocks(monkeypatch):
    layers = network(20, (16, 8, 3), seed=5)
    shortcut = shortcut_of(layers)
    calls = []
    original = shortcut._first.shifted

    def counted(active, out):
        bounds, bases = original(active, out)
        calls.append(len(bounds) - 1)
        return bounds, bases

    monkeypatch.setattr(shortcut._first, "shifted", counted)
    ordered = lexicographic(20, 2)
    shortcut(ordered)
    assert calls == [19]  # one block, one run per first position
    calls.clear()
    shortcut(scattered(20, 2, 30, seed=2))
    assert calls == [1]  # gathered: one base of zeros
    np.testing.assert_allclose(shortcut(ordered), reference(layers, ordered), rtol=0, atol=1e-5)


@pytest.mark.parametrize("last", ["softmax", "linear"])
def test_large_biases_and_no_biases_stay_within_the_shortcut_tolerance(last):
    # Base rows far from zero: the carried rows cancel what the shifted blocks leave out.
    for options in ({"bias_scale": 20.0}, {"biases": False}):
        layers = network(30, (64, 32, 6), seed=3, **options)
        shortcut = shortcut_of(layers, last=last)
        for order in (1, 2, 3):
            active = lexicographic(30, order)
            expected = reference(layers, active, last=last)
            scale = max(1.0, float(np.abs(expected).max()))
            np.testing.assert_allclose(shortcut(active), expected, rtol=0, atol=1e-5 * scale)


def test_long_runs_over_long_rows(monkeypatch):
    # Runs of 256 rows and more take the long-row passes (numpy_layers.row_op) in both layers.
    layers = network(600, (256, 32, 4), seed=7)
    shortcut = shortcut_of(layers)
    active = lexicographic(600, 2)[:20_000]
    unshifted = shortcut_of(layers)
    unshifted.shifted = None
    np.testing.assert_allclose(shortcut(active), unshifted(active), rtol=0, atol=1e-6)
    sample = active[::97]
    np.testing.assert_allclose(shortcut(sample), reference(layers, sample), rtol=0, atol=1e-5)
