"""Probe generation: combinations as arrays, chunked groups, counts."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pytest_featureprobe.errors import DataError, SpecError
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.probes import (
    ProbeGroup,
    combinations_array,
    count_probes,
    explicit_probes,
    probe_name,
    standard_probes,
)


@pytest.mark.parametrize(
    ("n", "k"),
    [
        (0, 0),
        (5, 0),
        (1, 1),
        (6, 1),
        (1, 2),
        (2, 2),
        (6, 2),
        (3, 3),
        (6, 3),
        (9, 3),
        (4, 4),
        (8, 4),
        (10, 4),
        (7, 5),
        (3, 4),
        (2, 5),
        (0, 1),
    ],
)
def test_combinations_array_equals_itertools(n, k):
    got = combinations_array(n, k)
    expected = list(itertools.combinations(range(n), k))
    assert got.dtype == np.int32
    assert got.shape == (len(expected), k)
    assert [tuple(int(v) for v in row) for row in got] == expected


def test_combination_rows_are_sorted_and_unique():
    got = combinations_array(12, 3)
    assert (np.diff(got, axis=1) > 0).all()
    assert len({tuple(r) for r in got.tolist()}) == math.comb(12, 3)


GROUP_CASES = [(9, 0), (9, 1), (9, 2), (9, 3), (9, 4), (6, 6), (5, 7)]


@pytest.mark.parametrize(("n", "k"), GROUP_CASES)
@pytest.mark.parametrize("size", [1, 2, 7, "divisor", "total", "larger"])
def test_chunks_concatenate_to_the_full_array(n, k, size):
    group = ProbeGroup(k, n)
    full = combinations_array(n, k)
    total = len(full)
    assert len(group) == total == math.comb(n, k)
    if size == "divisor":
        size = next((d for d in range(2, total) if total % d == 0), max(total, 1))
    elif size == "total":
        size = max(total, 1)
    elif size == "larger":
        size = total + 13
    chunks = list(group.chunks(size))
    if total == 0:
        assert chunks == []
        return
    assert all(c.shape[1] == k and c.dtype == np.int32 for c in chunks)
    assert all(len(c) == size for c in chunks[:-1])
    assert 1 <= len(chunks[-1]) <= size
    assert len(chunks) == math.ceil(total / size)
    np.testing.assert_array_equal(np.concatenate(chunks), full)


def test_explicit_group_chunks():
    explicit = np.array([[0, 3], [1, 2], [2, 5], [4, 5], [0, 1]], dtype=np.int32)
    group = ProbeGroup(2, 6, explicit)
    assert len(group) == 5
    for size in (1, 2, 5, 50):
        np.testing.assert_array_equal(np.concatenate(list(group.chunks(size))), explicit)


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError):
        list(ProbeGroup(2, 4).chunks(0))


@pytest.mark.parametrize("n", [0, 1, 6, 10, 30])
@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
def test_count_probes_is_sum_of_binomials(n, k):
    expected = 1 + sum(math.comb(n, j) for j in range(1, k + 1))
    assert count_probes(n, k) == expected
    assert sum(len(g) for g in standard_probes(n, k)) == expected


def test_count_probes_known_values():
    assert count_probes(6, 0) == 1
    assert count_probes(6, 1) == 7
    assert count_probes(6, 2) == 22
    assert count_probes(6, 3) == 42
    assert count_probes(6, 6) == 64
    assert count_probes(6, 9) == 64


def test_standard_probes_clamp_to_the_number_of_features():
    groups = standard_probes(3, 5)
    assert [g.order for g in groups] == [0, 1, 2, 3]
    assert [len(g) for g in groups] == [1, 3, 3, 1]


@pytest.mark.parametrize("order", [-1, 1.5, True, "2"])
def test_standard_probes_reject_bad_orders(order):
    with pytest.raises(SpecError) as info:
        standard_probes(4, order)
    assert info.value.key == "order"


def test_explicit_probes_group_by_order_without_repeats():
    space = FeatureSpace.from_names(["a", "b", "c", "d"])
    sets = [["c", "a"], ["a", "c"], ["d"], ["b", "c", "d"], ["a", "c", "a"]]
    groups = explicit_probes(space, sets)
    assert [g.order for g in groups] == [1, 2, 3]
    np.testing.assert_array_equal(groups[0].explicit, [[3]])
    np.testing.assert_array_equal(groups[1].explicit, [[0, 2]])
    np.testing.assert_array_equal(groups[2].explicit, [[1, 2, 3]])


def test_explicit_probes_reject_unknown_features():
    space = FeatureSpace.from_names(["alpha", "beta"])
    with pytest.raises(DataError, match="did you mean 'alpha'"):
        explicit_probes(space, [["alpah"]])


def test_probe_names():
    assert probe_name(()) == "zero"
    assert probe_name(("4",)) == "4"
    assert probe_name(("1", "sex=male")) == "1+sex=male"


@pytest.mark.parametrize(
    ("n", "k", "containing", "excluding"),
    [
        (6, 3, [2], [4]),
        (7, 2, [], [0, 6]),
        (5, 2, [0, 1], []),
        (5, 1, [0, 1], []),
        (4, 0, [], [1]),
        (8, 4, [7, 0], [3]),
    ],
)
def test_selected_combinations_are_the_filtered_combinations_in_order(n, k, containing, excluding):
    from pytest_featureprobe.probes import selected_combinations

    got = selected_combinations(n, k, containing, excluding)
    expected = [
        c
        for c in itertools.combinations(range(n), k)
        if set(containing) <= set(c) and not set(excluding) & set(c)
    ]
    assert got.dtype == np.int32 and got.shape == (len(expected), k)
    assert [tuple(row) for row in got.tolist()] == expected
