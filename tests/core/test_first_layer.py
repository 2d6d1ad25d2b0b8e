"""The first layer without a product: runs of the kernel or of the pair table, and gathers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pytest_featureprobe.models import first_layer
from pytest_featureprobe.models.first_layer import FirstLayer
from pytest_featureprobe.probes import ProbeGroup


def layer(n, width=7, seed=0):
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=(n, width)).astype(np.float32)
    return FirstLayer(kernel, rng.normal(size=width).astype(np.float32))


def expected(first, active):
    return first.bias.astype(np.float64) + first.kernel[active].astype(np.float64).sum(axis=1)


def run(first, active, min_mean_run=8):
    first.min_mean_run = min_mean_run
    return first(active, np.empty((len(active), first.kernel.shape[1]), np.float32))


def lexicographic(n, order):
    return np.array(list(itertools.combinations(range(n), order)), np.intp).reshape(-1, order)


@pytest.mark.parametrize("order", [3, 4])
def test_the_pair_table_path_agrees_with_the_kernel_path(monkeypatch, order):
    active = lexicographic(14, order)
    with_table = layer(14)
    got = run(with_table, active)
    assert with_table._pairs is not None  # the pair table was used
    monkeypatch.setattr(first_layer, "PAIR_TABLE_BYTES", 0)
    without = layer(14)
    plain = run(without, active)
    assert without._pairs is None
    np.testing.assert_allclose(got, expected(with_table, active), rtol=0, atol=1e-5)
    np.testing.assert_allclose(plain, expected(without, active), rtol=0, atol=1e-5)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_runs_and_gathers_give_the_same_bits(order):
    """A probe's numbers do not depend on the rows its block held (a baseline compares them)."""
    active = lexicographic(12, order)
    first = layer(12)
    runs, gathered = run(first, active, 1), run(first, active, 10**9)
    np.testing.assert_array_equal(runs, gathered)
    for cut in (1, 5, 17):  # the same probes in blocks cut elsewhere
        pieces = [run(first, active[i : i + cut], 1) for i in range(0, len(active), cut)]
        np.testing.assert_array_equal(np.concatenate(pieces), runs)


def test_long_runs_over_long_rows_are_the_plain_sum():
    first = layer(700, width=256)
    active = np.concatenate([chunk for chunk in ProbeGroup(2, 700).chunks(50_000)])[:60_000]
    got = run(first, active)
    assert (np.diff(active[:, 0]) == 0).sum() > first_layer.LONG_RUN  # runs long enough
    np.testing.assert_allclose(got, expected(first, active), rtol=0, atol=1e-4)


def test_rows_out_of_order_do_not_read_the_pair_table_wrongly():
    first = layer(10)
    active = np.array([[0, 5, 3], [1, 2, 3], [2, 9, 4], [0, 1, 2]], dtype=np.intp)
    for min_mean_run in (1, 10**9):
        np.testing.assert_allclose(
            run(first, active, min_mean_run), expected(first, active), rtol=0, atol=1e-5
        )


def test_the_pair_table_is_made_once_read_only_and_only_when_small():
    first = layer(30)
    first.prepare(3)
    table, offsets = first._pairs
    assert table.shape == (30 * 29 // 2, 7) and not table.flags.writeable
    np.testing.assert_array_equal(table[offsets[4] + 2], first.kernel[4] + first.kernel[7])
    first.prepare(4)
    assert first._pairs[0] is table
    big = FirstLayer(np.zeros((600, 256), np.float32), np.zeros(256, np.float32))
    big.prepare(3)  # 600 features: 179,700 pairs x 256 floats would pass PAIR_TABLE_BYTES
    assert big._pairs is None


def test_the_zero_probe_and_empty_blocks():
    first = layer(5)
    zero = run(first, np.zeros((3, 0), np.intp))
    np.testing.assert_array_equal(zero, np.tile(first.bias, (3, 1)))
    assert run(first, np.zeros((0, 3), np.intp)).shape == (0, 7)


def test_positions_outside_the_space_are_not_read_from_the_pair_table():
    """As the kernel path: a position past the end raises, a negative one counts from the end
    (the plain numpy indexing ``predict_active`` always had), never another pair's row."""
    first = layer(10)
    with pytest.raises(IndexError):
        run(first, np.array([[0, 7, 10]], dtype=np.intp))
    negative = np.array([[0, -5, 3]], dtype=np.intp)
    np.testing.assert_allclose(run(first, negative), expected(first, negative), rtol=0, atol=1e-5)
