"""Context rows kept sparse (issue 16, item 10): ``MultiHot`` against the dense rows it stands
for (distinct rows in the dense byte order, subsets, holders, applied probes), the digest and
the in-context sweep the same as from dense rows, the Dense shortcut's gathered first layer
against the plain pass, and a context far wider than memory would hold dense, read in bounded
memory."""

from __future__ import annotations

import hashlib
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe import multihot
from pytest_featureprobe.context_sweep import run_context_sweep
from pytest_featureprobe.contexts import (
    Context,
    applied,
    applied_block,
    column_ids,
    distinct_rows,
    mode_row,
    predict_rows,
    rows_with_probe,
)
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable
from pytest_featureprobe.models.in_context import weight_sums
from pytest_featureprobe.models.numpy_model import from_dense_weights
from pytest_featureprobe.multihot import MultiHot

SPACE = FeatureSpace(("t1", "t2", "t3", "A=a1", "A=a2", "A=a3", "B=b1", "B=b2"), "t", ("A", "B"))


def random_rows(rng: np.random.Generator, n: int, space: FeatureSpace = SPACE) -> np.ndarray:
    """Dense rows of ``space``: tokens at random, one value of A, B sometimes missing."""
    names = []
    for _ in range(n):
        row = [t for t in ("t1", "t2", "t3") if rng.random() < 0.4]
        row.append(f"A=a{rng.integers(1, 4)}")
        if rng.random() < 0.8:
            row.append(f"B=b{rng.integers(1, 3)}")
        names.append(row)
    return space.encode_sets(names)


def dense_distinct(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dense reading the sparse one must equal: np.unique over the rows' bytes."""
    keys = np.ascontiguousarray(rows).view(np.dtype((np.void, rows.shape[1] * 4)))
    _, first, counts = np.unique(keys.ravel(), return_index=True, return_counts=True)
    return rows[first], counts.astype(np.float64)


@pytest.mark.parametrize("key_entries", [multihot.KEY_ENTRIES, 1])  # padded key; tuples
def test_multihot_reads_what_the_dense_rows_hold(key_entries):
    rng = np.random.default_rng(4)
    for _ in range(30):
        n, width = int(rng.integers(1, 200)), int(rng.integers(1, 12))
        dense = (rng.random((n, width)) < rng.random()).astype(np.float32)
        rows = MultiHot.from_dense(dense)
        np.testing.assert_array_equal(np.asarray(rows), dense)
        distinct, counts = rows.distinct(key_entries)
        expected, expected_counts = dense_distinct(dense)
        np.testing.assert_array_equal(np.asarray(distinct), expected)  # the same order too
        np.testing.assert_array_equal(counts, expected_counts)
        chosen = rng.integers(0, n, 9)
        np.testing.assert_array_equal(np.asarray(rows.take(chosen)), dense[chosen])
        np.testing.assert_array_equal(np.asarray(rows[dense[:, 0] > 0]), dense[dense[:, 0] > 0])
        np.testing.assert_array_equal(rows[n - 1], dense[n - 1])
        np.testing.assert_array_equal(rows.holding(0), dense[:, 0] > 0)
        active = rng.integers(0, width, (6, 2))
        np.testing.assert_array_equal(rows.holds_all(active), (dense[:, active] > 0).all(2).T)
        assert rows.holds_all(np.zeros((2, 0), dtype=int)).all()  # the zero probe: every row
        weights = rng.random(n)
        np.testing.assert_allclose(rows.counts(weights), weights @ dense, rtol=1e-12)
        keep = rng.random(width) < 0.5
        np.testing.assert_array_equal(np.asarray(rows.restrict(keep)), dense * keep)


def test_applied_blocks_are_the_applied_rows_block_by_block():
    rng = np.random.default_rng(5)
    dense = random_rows(rng, 23)
    rows, columns = MultiHot.from_dense(dense), column_ids(SPACE)
    active = np.array([[0, 4], [3, 6], [1, 2], [5, 7], [2, 2]])
    expected = applied(dense, active, columns).reshape(-1, len(SPACE))
    for step in (1, 7, 23, 40, len(expected)):
        blocks = [
            applied_block(rows, active, columns, at, min(at + step, len(expected)))
            for at in range(0, len(expected), step)
        ]
        np.testing.assert_array_equal(np.concatenate(blocks), expected)
    zero = applied_block(rows, np.zeros((1, 0), dtype=np.intp), columns, 0, len(rows))
    np.testing.assert_array_equal(zero, dense)


def test_the_digest_and_the_mode_are_those_of_the_dense_rows():
    rng = np.random.default_rng(6)
    dense = random_rows(rng, 300)  # many repeats
    sparse = Context.of_rows("rows", MultiHot.from_dense(dense), {})
    distinct, counts = dense_distinct(dense)
    old = hashlib.sha256(distinct.tobytes())  # the digest as baselines recorded it
    old.update(counts.astype("<i8").tobytes())
    assert sparse.digest() == Context.of_rows("rows", dense, {}).digest()
    assert sparse.digest() == old.hexdigest()[:16]
    np.testing.assert_array_equal(mode_row(SPACE, sparse.rows), mode_row(SPACE, dense))
    assert isinstance(distinct_rows(sparse.rows)[0], MultiHot)
    assert isinstance(distinct_rows(dense)[0], np.ndarray)  # dense stays dense


def test_the_sweep_in_context_is_the_same_in_blocks_of_one_row(monkeypatch):
    """The plain pass takes the applied rows in dense blocks of bounded size: blocks of one
    row give the same table as one block of everything."""
    rng = np.random.default_rng(7)
    weights = rng.normal(size=(len(SPACE), 3))
    seen: list[int] = []

    def forward(x):
        seen.append(len(x))
        return x @ weights

    model = from_callable(forward, SPACE, ["p", "q", "r"], outputs="logits")
    context = Context.of_rows("rows", random_rows(rng, 40), {})
    whole = run_context_sweep(model, context, order=2).table
    seen.clear()
    monkeypatch.setattr(MultiHot, "block_rows", lambda self, max_bytes=0: 1)
    blocked = run_context_sweep(model, context, order=2).table
    assert set(seen) == {1}  # the model never saw more than one dense row at a time
    pd.testing.assert_frame_equal(blocked, whole, check_exact=False, atol=1e-12, rtol=0)
    base, probed, had = rows_with_probe(model, context, ["A=a2"])
    dense = np.asarray(context.rows)
    np.testing.assert_allclose(base, model.predict_proba(dense), atol=1e-12, rtol=0)
    changed = applied(dense, np.array([[SPACE.index("A=a2")]]), column_ids(SPACE))[0]
    np.testing.assert_allclose(probed, model.predict_proba(changed), atol=1e-12, rtol=0)
    np.testing.assert_array_equal(had, dense[:, SPACE.index("A=a2")] > 0)


def dense_classifier(space: FeatureSpace, seed: int = 0, hidden: int = 16):
    """A numpy classifier from random weights, with its Dense shortcut."""
    rng = np.random.default_rng(seed)
    shapes = [(len(space), hidden), (hidden,), (hidden, hidden), (hidden,), (hidden, 3), (3,)]
    weights = [rng.normal(scale=0.5, size=s).astype(np.float32) for s in shapes]
    model = from_dense_weights(weights, "relu", space, ["p", "q", "r"], description="random")
    assert model is not None and model.shortcut is not None
    return model


def test_the_gathered_first_layer_agrees_with_the_dense_product():
    rng = np.random.default_rng(8)
    dense = random_rows(rng, 500)
    kernel = rng.normal(size=(len(SPACE), 16)).astype(np.float32)
    rows = MultiHot.from_dense(dense)
    np.testing.assert_allclose(weight_sums(kernel, rows), dense @ kernel, atol=1e-5, rtol=0)
    small = weight_sums(kernel, rows, max_bytes=1)  # one row a gather: the same sums
    np.testing.assert_array_equal(small, weight_sums(kernel, rows))
    model = dense_classifier(SPACE)
    context = Context.of_rows("rows", dense, {})
    base, probed, _ = rows_with_probe(model, context, ["t2", "B=b1"])  # through the shortcut
    changed = applied(dense, np.array([SPACE.indices(["t2", "B=b1"])]), column_ids(SPACE))[0]
    np.testing.assert_allclose(base, model.predict_proba(dense), atol=1e-5, rtol=0)
    np.testing.assert_allclose(probed, model.predict_proba(changed), atol=1e-5, rtol=0)
    np.testing.assert_allclose(predict_rows(model, rows), model.predict_proba(dense), atol=1e-12)


def test_a_context_wider_than_memory_would_hold_dense_is_read_in_bounded_memory():
    """2,000 rows of 60,000 tokens (dense: 480 MB): narrowed, digested, its mode read, a probe
    checked row by row and a sweep of explicit probes run, through the shortcut and the plain
    pass, with at most about a 64 MB block and the rows' positions in memory."""
    width, n = 60_000, 2_000
    space = FeatureSpace.from_names([f"w{i}" for i in range(width)])
    rng = np.random.default_rng(9)
    rows = MultiHot.from_positions([rng.integers(0, width, 12) for _ in range(n)], width)
    model = dense_classifier(space, hidden=8)
    plain = from_callable(model.forward, space, ["p", "q", "r"])  # no shortcut: dense blocks
    tracemalloc.start()
    try:
        context = Context.of_rows("wide rows", rows, {"kind": "rows"})
        narrowed = context.where(space, {"w7": True}) if rows.holding(7).any() else context
        assert len(context.sample(500, seed=1).rows) == 500 and len(narrowed.rows) >= 1
        assert len(context.digest()) == 16 and mode_row(space, rows).shape == (1, width)
        for probing in (model, plain):
            base, probed, had = rows_with_probe(probing, context, ["w3"])
            assert base.shape == probed.shape == (n, 3) and had.shape == (n,)
        small = context.sample(50, seed=2)
        fast = run_context_sweep(model, small, order=0, probes=[("w1",), ("w2", "w5")]).table
        slow = run_context_sweep(plain, small, order=0, probes=[("w1",), ("w2", "w5")]).table
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.0f} MB"  # dense rows alone: 458 MB
    numbers = [c for c in fast.columns if c not in ("features", "predicted")]
    np.testing.assert_allclose(
        fast[numbers].to_numpy(float), slow[numbers].to_numpy(float), atol=1e-5, rtol=0
    )


def test_a_baselines_rows_are_read_back_and_compared_in_bounded_memory():
    """The rows a baseline keeps (2,000 distinct rows of 60,000 tokens; dense: 480 MB) are
    predicted again, their churn counted slice by slice and the seed test's slice means taken,
    without the dense matrix: the same figures as from the dense rows of a small copy."""
    from pytest_featureprobe.baseline.churn import RowPredictions, check_churn, churn_slices
    from pytest_featureprobe.baseline.seed_test import slice_means

    width, n = 60_000, 2_000
    space = FeatureSpace.from_names([f"w{i}" for i in range(width)])
    rng = np.random.default_rng(11)
    common = [f"w{i}" for i in range(5)]  # frequent enough to make slices
    names = [
        tuple(sorted({*rng.choice(common, 2), *(f"w{i}" for i in rng.integers(5, width, 10))}))
        for _ in range(n)
    ]
    model = dense_classifier(space, hidden=8)
    before = RowPredictions(names, rng.integers(1, 4, n), rng.dirichlet(np.ones(3), n))
    tracemalloc.start()
    try:
        after = predict_rows(model, before.encoded(space))
        outcome = check_churn(before, after, space, ["p", "q", "r"], 1.0, 1.0, 20)
        found = churn_slices(before, after, space, ["p", "q", "r"], 20)
        means = slice_means(before, after, space, [(), ("w0",), ("w1", "w2")])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.0f} MB"
    assert outcome.passed and {s.features for s in found} >= {("w0",), ("w0", "w1")}
    assert means.shape == (3, 3) and np.allclose(means.sum(axis=1), 1.0)
    dense = np.asarray(before.encoded(space)[:200])  # a small copy, checked against the dense rows
    np.testing.assert_allclose(predict_rows(model, dense), after[:200], atol=1e-6, rtol=0)
    weights = before.counts.astype(float)
    holding = dense[:, 0] > 0
    expected = (after[:200][holding] * weights[:200][holding, None]).sum(0)
    small = RowPredictions(names[:200], before.counts[:200], before.probabilities[:200])
    np.testing.assert_allclose(
        slice_means(small, after[:200], space, [("w0",)])[0],
        expected / weights[:200][holding].sum(),
    )
