"""The numpy tail's elementwise passes: long-row views must give exactly the plain result."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_featureprobe.models.numpy_layers import (
    NARROW,
    PERIOD,
    RowVector,
    add_row,
)

SHAPES = [(0, 256), (1, 256), (31, 256), (32, 256), (33, 256), (1000, 10), (4099, 257), (3, 9000)]


def relu():
    from pytest_featureprobe.models.numpy_layers import NUMPY_ACTIVATIONS

    return NUMPY_ACTIVATIONS["relu"]


def softmax():
    from pytest_featureprobe.models.numpy_layers import NUMPY_ACTIVATIONS

    return NUMPY_ACTIVATIONS["softmax"]


@pytest.mark.parametrize("shape", SHAPES)
def test_relu_over_long_rows_is_plain_maximum(shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    got = relu()(x.copy())
    np.testing.assert_array_equal(got, np.maximum(x, 0))
    view = x[:, : max(shape[1] // 2, 1)]  # not contiguous: the row-by-row pass
    expected = np.maximum(view, 0)
    np.testing.assert_array_equal(relu()(view), expected)


def test_relu_keeps_nan_so_the_output_check_sees_it():
    x = np.ones((64, 256), dtype=np.float32)
    x[40, 7] = np.nan  # beyond the first PERIOD values, and in the remainder
    x.reshape(-1)[-1] = np.nan
    out = relu()(x)
    assert np.isnan(out[40, 7]) and np.isnan(out.reshape(-1)[-1])
    assert np.isnan(out).sum() == 2


@pytest.mark.parametrize("shape", SHAPES)
def test_a_row_added_over_long_rows_is_the_plain_sum(shape):
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape).astype(np.float32)
    row = rng.normal(size=shape[1]).astype(np.float32)
    vector = RowVector(row)
    assert vector.repeat * shape[1] <= max(PERIOD, shape[1])
    added = x.copy()
    vector.add_to(added)
    np.testing.assert_array_equal(added, x + row)
    out = np.empty_like(x)
    add_row(x, vector, out)
    np.testing.assert_array_equal(out, x + row)
    strided = np.empty((shape[0], shape[1] + 3), np.float32)[:, : shape[1]]
    add_row(x, vector, strided)
    np.testing.assert_array_equal(strided, x + row)


@pytest.mark.parametrize("classes", [2, 10, NARROW, NARROW + 1, 300])
def test_softmax_narrow_and_wide_agree_with_float64(classes):
    rng = np.random.default_rng(2)
    x = rng.normal(scale=5, size=(517, classes)).astype(np.float32)
    x[0, 0] = 80  # exp would overflow without the shift
    wide = x.astype(np.float64)
    expected = np.exp(wide - wide.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    got = softmax()(x.copy())
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1, rtol=0, atol=1e-5)


def test_softmax_writes_into_its_argument():
    x = np.random.default_rng(3).normal(size=(40, 10)).astype(np.float32)
    same = softmax()(x)
    assert same is x
    np.testing.assert_allclose(x.sum(axis=1), 1, atol=1e-6)
