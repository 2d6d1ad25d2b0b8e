"""contexts: probes applied to real rows (a categorical value replaces the row's value of its
column, a token is switched on) and the sweep read as means over those rows, checked against
hand-computed numbers and against an independent per-row loop."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe.context_sweep import run_context_sweep
from pytest_featureprobe.contexts import (
    Context,
    applied,
    check_probe,
    column_ids,
    mode_row,
    reference_rows,
)
from pytest_featureprobe.errors import DataError, SpecError
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

TWO_COLUMNS = FeatureSpace(("A=a1", "A=a2", "B=b1", "B=b2"), categorical=("A", "B"))


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def logistic(space: FeatureSpace, weights, pair=None):
    """P(yes) = sigmoid(x . weights [+ bonus x_i x_j]): a model whose numbers a test can compute."""
    w = np.array(weights, dtype=np.float64)

    def forward(x):
        z = x @ w
        if pair is not None:
            i, j, bonus = pair
            z = z + bonus * x[:, i] * x[:, j]
        p = 1 / (1 + np.exp(-z))
        return np.stack([1 - p, p], axis=1)

    return from_callable(forward, space, ["no", "yes"])


def rows_context(space: FeatureSpace, *rows) -> Context:
    return Context.of_rows("rows", space.encode_sets(rows), {"kind": "rows"})


def test_zero_vector_and_in_context_attribution_differ_in_sign():
    """A=a1 alone beats the empty vector (+0.231), but every real row has a value of A, and
    a2 is worth more than a1: set on real rows, A=a1 lowers P(yes) on average."""
    model = logistic(TWO_COLUMNS, [1.0, 3.0, 0.0, 0.0])
    zero = run_context_sweep(model, Context.zero(), order=1)
    assert zero.table.loc["A=a1", "dP(yes)"] == pytest.approx(sigmoid(1) - 0.5)
    context = rows_context(TWO_COLUMNS, ["A=a1", "B=b1"], ["A=a2", "B=b1"])
    sweep = run_context_sweep(model, context, order=1)
    row = sweep.table.loc["A=a1"]
    # Row 1 already has a1 (change 0); row 2 goes from a2 to a1.
    assert row["dP(yes)"] == pytest.approx((0 + sigmoid(1) - sigmoid(3)) / 2)
    assert row["P(yes)"] == pytest.approx(sigmoid(1))
    assert row["sd_dP(yes)"] == pytest.approx(abs(sigmoid(1) - sigmoid(3)) / 2)
    assert row["share(yes)"] == 1.0 and row["rows"] == 2 and row["unchanged"] == 1
    assert sweep.table.loc["zero", "dP(yes)"] == 0.0
    assert sweep.table.loc["zero", "P(yes)"] == pytest.approx((sigmoid(1) + sigmoid(3)) / 2)
    assert sweep.context == "rows" and zero.context == "zero"


def test_a_value_replaces_its_column_and_never_empties_or_doubles_it():
    space = FeatureSpace(("t1", "t2", "A=a1", "A=a2", "A=a3", "B=b1", "B=b2"), "tokens", ("A", "B"))
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(30):
        tokens = [t for t in ("t1", "t2") if rng.random() < 0.5]
        rows.append([*tokens, f"A=a{rng.integers(1, 4)}", f"B=b{rng.integers(1, 3)}"])
    x = space.encode_sets(rows)
    columns = column_ids(space)
    assert columns.tolist() == [-1, -1, 0, 0, 0, 1, 1]
    probes = np.array([[0, 3], [2, 5], [1, 6], [4, 4]])
    out = applied(x, probes, columns)
    assert out.shape == (4, 30, 7)
    for j, probe in enumerate(probes):
        assert (out[j][:, 2:5].sum(axis=1) == 1).all() and (out[j][:, 5:7].sum(axis=1) == 1).all()
        assert (out[j][:, probe] == 1).all()
    # Tokens are only switched on: the other token keeps the row's own value.
    assert (out[0][:, 1] == x[:, 1]).all() and (out[1][:, :2] == x[:, :2]).all()
    assert (x == space.encode_sets(rows)).all()  # the context's rows are not touched


def _reference(model, space: FeatureSpace, rows: list[list[str]], probes: list[tuple[str, ...]]):
    """An independent reading of the in-context sweep: each row as a set of names, the probe
    applied name by name, one prediction per (probe, row)."""
    prefix = {f: f.split("=")[0] + "=" for f in space.features if "=" in f}

    def apply(row: list[str], probe: tuple[str, ...]) -> list[str]:
        names = set(row)
        for feature in probe:
            if feature in prefix:
                names = {n for n in names if not n.startswith(prefix[feature])}
            names.add(feature)
        return sorted(names)

    base = np.array([model.predict_proba(space.encode_sets([r]))[0] for r in rows])
    found = {}
    for probe in probes:
        probs = np.array(
            [model.predict_proba(space.encode_sets([apply(r, probe)]))[0] for r in rows]
        )
        change = probs - base
        found[probe] = (probs.mean(0), change.mean(0), change.std(0), probs.argmax(1))
    return found


def test_the_in_context_sweep_equals_a_plain_per_row_loop():
    space = FeatureSpace(("t1", "t2", "t3", "A=a1", "A=a2", "B=b1", "B=b2"), "tokens", ("A", "B"))
    rng = np.random.default_rng(7)
    weights = rng.normal(size=(7, 3))
    model = from_callable(lambda x: x @ weights, space, ["p", "q", "r"], outputs="logits")
    rows = [
        [
            *(t for t in ("t1", "t2", "t3") if rng.random() < 0.4),
            f"A=a{rng.integers(1, 3)}",
            f"B=b{rng.integers(1, 3)}",
        ]
        for _ in range(25)
    ]
    context = Context.of_rows("rows", space.encode_sets(rows), {"kind": "rows"})
    sweep = run_context_sweep(model, context, order=2, chunk_size=7)
    table = sweep.table
    # Pairs of two values of one column have no meaning in context and are left out.
    assert "A=a1+A=a2" not in table.index and "B=b1+B=b2" not in table.index
    assert len(table) == 1 + 7 + math.comb(7, 2) - 2
    probes = [tuple(f) for f in table["features"]]
    expected = _reference(model, space, rows, probes)
    for probe, name in zip(probes, table.index, strict=True):
        mean, delta, spread, predicted = expected[probe]
        row = table.loc[name]
        for j, cls in enumerate(("p", "q", "r")):
            assert row[f"P({cls})"] == pytest.approx(mean[j], abs=1e-6)
            assert row[f"dP({cls})"] == pytest.approx(delta[j], abs=1e-6)
            assert row[f"sd_dP({cls})"] == pytest.approx(spread[j], abs=1e-6)
            assert row[f"share({cls})"] == pytest.approx((predicted == j).mean())
    # Any chunk size gives the same table, and so does any block of rows (their sums added).
    pd.testing.assert_frame_equal(
        run_context_sweep(model, context, 2, chunk_size=10_000).table, table
    )
    for block in (1, 2, 3):
        pd.testing.assert_frame_equal(
            run_context_sweep(model, context, 2, chunk_size=7, row_block=block).table,
            table,
            check_exact=False,
            atol=1e-12,
            rtol=0,
        )


def test_interaction_in_context_is_the_mean_of_the_per_row_interaction():
    space = FeatureSpace(("t", "A=a1", "A=a2"), "tokens", ("A",))
    # t and a1 together add 2 on top of their own weights.
    model = logistic(space, [0.5, 0.0, 1.0], pair=(0, 1, 2.0))
    context = rows_context(space, ["A=a1"], ["A=a2"], ["t", "A=a2"])
    table = run_context_sweep(model, context, order=2).table
    # Per row r: P(r+t+a1) - P(r+t) - P(r+a1) + P(r)
    r1 = sigmoid(2.5) - sigmoid(2.5) - sigmoid(0) + sigmoid(0)  # has a1: t alone already pairs
    r2 = sigmoid(2.5) - sigmoid(1.5) - sigmoid(0) + sigmoid(1)
    r3 = sigmoid(2.5) - sigmoid(1.5) - sigmoid(2.5) + sigmoid(1.5)  # has t: a1 alone pairs
    assert table.loc["t+A=a1", "interaction(yes)"] == pytest.approx((r1 + r2 + r3) / 3)
    assert table.loc["t+A=a1", "unchanged"] == 0
    assert math.isnan(table.loc["t", "interaction(yes)"])


def test_a_probe_with_two_values_of_one_column_is_refused_with_the_reason():
    with pytest.raises(SpecError) as info:
        check_probe(TWO_COLUMNS, ["A=a1", "A=a2"])
    assert info.value.message == (
        "the probe 'A=a1+A=a2' sets two values of the column 'A': a row holds one value of each "
        "column, so it has no meaning in context"
    )
    check_probe(TWO_COLUMNS, ["A=a1", "B=b2"])  # one value of each: fine
    model = logistic(TWO_COLUMNS, [1.0, 3.0, 0.0, 0.0])
    with pytest.raises(SpecError):
        run_context_sweep(model, rows_context(TWO_COLUMNS, ["A=a1"]), 1, probes=[("A=a1", "A=a2")])


def test_where_and_sample_narrow_the_rows_and_refuse_what_cannot_be():
    context = rows_context(
        TWO_COLUMNS, ["A=a1", "B=b1"], ["A=a2", "B=b1"], ["A=a2", "B=b2"], ["A=a1", "B=b2"]
    )
    sliced = context.where(TWO_COLUMNS, {"A": "a2"})
    assert np.asarray(sliced.rows).tolist() == [[0, 1, 1, 0], [0, 1, 0, 1]]
    assert sliced.name == "rows where A=a2" and sliced.definition["where"] == {"A": "a2"}
    both = context.where(TWO_COLUMNS, {"A": "a2", "B": "b2"})
    assert np.asarray(both.rows).tolist() == [[0, 1, 0, 1]]
    sample = context.sample(2, seed=5)
    assert len(sample.rows) == 2 and sample.definition == {"kind": "rows", "sample": 2, "seed": 5}
    again = context.sample(2, seed=5).rows
    assert (np.asarray(sample.rows) == np.asarray(again)).all()  # seeded: reproducible
    assert sample.digest() == context.sample(2, seed=5).digest() != context.digest()
    with pytest.raises(DataError) as info:
        context.sample(5)
    assert info.value.message == "sample 5 is more than the 4 rows in the context (rows)"
    assert info.value.key == "sample"
    with pytest.raises(
        DataError, match=r"^where: unknown column 'C' \(categorical columns: 'A', 'B'\)"
    ):
        context.where(TWO_COLUMNS, {"C": "c1"})
    with pytest.raises(DataError, match="unknown feature 'A=a9'"):
        context.where(TWO_COLUMNS, {"A": "a9"})
    with pytest.raises(SpecError, match="the zero context has none"):
        Context.zero().sample(1)


def test_reference_rows_and_the_mode_row():
    rows = reference_rows(TWO_COLUMNS, [{"A": "a2", "B": "b1"}, {"A": "a1", "B": "b1"}])
    assert rows.tolist() == [[0, 1, 1, 0], [1, 0, 1, 0]]
    with pytest.raises(DataError) as info:
        reference_rows(TWO_COLUMNS, [{"A": "a9", "B": "b1"}])
    assert info.value.message.startswith("reference row 1: 'A' has 'A=a9', which is not in")
    assert info.value.key == "reference"
    many = TWO_COLUMNS.encode_sets([["A=a2", "B=b1"], ["A=a2", "B=b2"], ["A=a1", "B=b2"]])
    assert mode_row(TWO_COLUMNS, many).tolist() == [[0, 1, 0, 1]]
    tokens = FeatureSpace(("x", "y"), "tokens")
    assert mode_row(tokens, tokens.encode_sets([["x"], ["x", "y"], []])).tolist() == [[1, 0]]


def test_the_dense_shortcut_in_context_agrees_with_the_plain_pass():
    """For a Keras model whose first layer is Dense, each row's first layer is computed once and
    a probe adds its weight rows (less the value it replaces): the table agrees with the plain
    pass on the applied rows, and the network's plain pass never runs."""
    from pytest_featureprobe.models import from_keras
    from pytest_featureprobe.training import TrainSpec, build_classifier

    space = FeatureSpace(("t1", "t2", "A=a1", "A=a2", "A=a3", "B=b1", "B=b2"), "tokens", ("A", "B"))
    keras_model = build_classifier(len(space), 3, TrainSpec(hidden=(16, 8), seed=2))
    fast = from_keras(keras_model, space, ["p", "q", "r"])
    plain = from_keras(keras_model, space, ["p", "q", "r"], use_shortcut=False)
    assert fast.shortcut is not None and plain.shortcut is None
    rng = np.random.default_rng(11)
    rows = [
        [*(t for t in ("t1", "t2") if rng.random() < 0.5), f"A=a{rng.integers(1, 4)}"]
        + ([f"B=b{rng.integers(1, 3)}"] if rng.random() < 0.8 else [])  # B is sometimes missing
        for _ in range(40)
    ]
    context = Context.of_rows("rows", space.encode_sets(rows), {"kind": "rows"})
    seen = []
    forward = fast.forward
    fast.forward = lambda x: seen.append(len(x)) or forward(x)
    expected = run_context_sweep(plain, context, order=2, chunk_size=100).table
    got = run_context_sweep(fast, context, order=2, chunk_size=100).table
    blocked = run_context_sweep(fast, context, order=2, chunk_size=100, row_block=16).table
    fast.shortcut.block_rows = 7  # blocks end inside one probe's rows and span two probes'
    small_blocks = run_context_sweep(fast, context, order=2, chunk_size=100).table
    assert seen == []  # every probe, the rows' own predictions too, went through the shortcut
    assert (got["dP(p)"]["zero"], got["sd_dP(q)"]["zero"]) == (0.0, 0.0)
    numbers = [c for c in got.columns if c not in ("features", "predicted")]
    np.testing.assert_allclose(
        got[numbers].to_numpy(float), expected[numbers].to_numpy(float), atol=1e-5, rtol=0
    )
    assert (got["predicted"] == expected["predicted"]).all()
    np.testing.assert_allclose(
        small_blocks[numbers].to_numpy(float), got[numbers].to_numpy(float), atol=1e-6, rtol=0
    )
    np.testing.assert_allclose(  # float32 products summed in another order: to 1e-6
        blocked[numbers].to_numpy(float), got[numbers].to_numpy(float), atol=1e-6, rtol=0
    )


def test_an_explicit_pair_without_its_singles_has_no_interaction_and_no_crash():
    model = logistic(TWO_COLUMNS, [1.0, 3.0, 0.0, 0.0])
    context = rows_context(TWO_COLUMNS, ["A=a1", "B=b1"], ["A=a2", "B=b2"])
    table = run_context_sweep(model, context, order=0, probes=[("A=a1", "B=b2")]).table
    assert list(table.index) == ["zero", "A=a1+B=b2"]
    assert math.isnan(table.loc["A=a1+B=b2", "interaction(yes)"])
    assert table.loc["A=a1+B=b2", "P(yes)"] == pytest.approx(sigmoid(1))


def test_rows_must_be_multi_hot_and_a_repeated_value_is_one_value():
    with pytest.raises(DataError, match="not multi-hot"):
        Context.of_rows("hand-made", np.array([[2.0, 0.0, 1.0, 0.0]]), {})
    check_probe(TWO_COLUMNS, ["A=a1", "A=a1"])  # the same value twice sets one value


def test_a_repeated_row_is_swept_once_and_counted_as_often_as_it_occurs():
    space = FeatureSpace(("t1", "t2", "A=a1", "A=a2"), "tokens", ("A",))
    weights = np.random.default_rng(3).normal(size=(4, 2))
    seen: list[int] = []

    def forward(x):
        seen.append(len(x))
        return x @ weights

    model = from_callable(forward, space, ["p", "q"], outputs="logits")
    seen.clear()  # (adapting the model made a call of its own)
    once = space.encode_sets([["t1", "A=a1"], ["A=a2"], ["t2", "A=a1"]])
    skewed = once[[0, 0, 0, 1, 2, 2]]  # the first row three times, the last twice
    table = run_context_sweep(model, Context.of_rows("rows", skewed, {}), order=1).table
    # Three distinct rows: the rows' own predictions, the zero probe and the 4 singles, each on
    # 3 rows, never 6.
    assert seen == [3, 3, 12]
    seen.clear()
    # The means weigh each row by its count: the same as a plain pass over all six rows.
    probed = once[[0, 0, 0, 1, 2, 2]].copy()
    probed[:, 0] = 1.0  # t1 on every row
    p_t1 = model.predict_proba(probed)
    assert table.loc["t1", "P(p)"] == pytest.approx(p_t1[:, 0].mean(), abs=1e-9)
    base = model.predict_proba(skewed)
    change = p_t1 - base
    assert table.loc["t1", "sd_dP(p)"] == pytest.approx(change[:, 0].std(), abs=1e-9)
    assert table.loc["t1", "unchanged"] == 3 and table.loc["zero", "rows"] == 6
    assert table.loc["t1", "share(p)"] == pytest.approx((p_t1.argmax(1) == 0).mean())


def test_the_digest_reads_the_rows_whatever_their_order_but_not_whatever_their_values():
    rows = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0]], dtype=np.float32)
    digest = Context.of_rows("r", rows, {}).digest()
    assert Context.of_rows("r", rows[[2, 0, 1]], {}).digest() == digest
    assert Context.of_rows("r", rows[[0, 1]], {}).digest() != digest  # a count changed
    changed = rows.copy()
    changed[0] = [0, 0, 1]
    assert Context.of_rows("r", changed, {}).digest() != digest
    assert Context.zero().digest() == "zero"


def test_many_rows_in_context_agree_with_the_plain_pass_on_the_applied_rows():
    """Hundreds of rows a probe: the probe's weight row is added over long rows of a view
    (``numpy_layers.RowVector``); every application still equals the plain first layer."""
    from pytest_featureprobe.contexts import applied, column_ids
    from pytest_featureprobe.models.dense import DenseShortcut
    from pytest_featureprobe.models.first_layer import LONG_RUN
    from pytest_featureprobe.models.in_context import RowsInContext

    names = (*(f"t{i}" for i in range(30)), "C=c1", "C=c2", "C=c3")
    space = FeatureSpace(names, "tokens", ("C",))
    rng = np.random.default_rng(5)
    kernel = rng.normal(size=(len(space), 24)).astype(np.float32)
    bias = rng.normal(size=24).astype(np.float32)
    shortcut = DenseShortcut(kernel, bias, None, [])
    rows = (rng.random((LONG_RUN + 300, len(space))) < 0.2).astype(np.float32)
    rows[:, 30:] = 0
    rows[np.arange(len(rows)), 30 + rng.integers(0, 3, len(rows))] = 1  # one value of C a row
    columns = column_ids(space)
    for positions in ([0], [3], [30], [32], [1, 31], [5, 29]):
        probe = np.array([positions], dtype=np.intp)
        got = RowsInContext(shortcut, rows, columns).outputs(probe)
        expected = applied(rows, probe, columns).reshape(-1, len(space)) @ kernel + bias
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("block_rows", [7, 4096])
def test_a_relu_network_in_context_runs_shifted_and_agrees_with_the_plain_pass(
    block_rows, monkeypatch
):
    """A ReLU chain in context goes through the shifted tail (``max(rest, -c)`` a probe, ``c``
    carried into the next layer): short and long runs of rows, blocks that end inside one
    probe's rows and span several, categorical values replaced, tokens some rows already
    hold. Every application agrees with a float64 plain pass on the applied rows, and with
    the unshifted path."""
    from pytest_featureprobe.contexts import applied, column_ids
    from pytest_featureprobe.models.first_layer import LONG_RUN
    from pytest_featureprobe.models.in_context import RowsInContext

    from .test_shifted import reference, shortcut_of

    names = (*(f"t{i}" for i in range(12)), "C=c1", "C=c2", "C=c3", "D=d1", "D=d2")
    space = FeatureSpace(names, "tokens", ("C", "D"))
    rng = np.random.default_rng(21)
    layers = [
        (
            (rng.normal(size=(a, b)) / np.sqrt(a)).astype(np.float32),
            rng.normal(size=b).astype(np.float32),
        )
        for a, b in ((len(space), 24), (24, 16), (16, 4))
    ]
    shortcut = shortcut_of(layers)
    assert shortcut.shifted is not None
    shortcut.block_rows = block_rows
    rows = (rng.random((LONG_RUN + 40, len(space))) < 0.3).astype(np.float32)
    rows[:, 12:] = 0
    rows[np.arange(len(rows)), 12 + rng.integers(0, 3, len(rows))] = 1  # one value of C a row
    some = rng.random(len(rows)) < 0.7  # D is sometimes missing
    rows[some, 15 + rng.integers(0, 2, some.sum())] = 1
    columns = column_ids(space)
    probes = np.array([[0, 3], [0, 12], [2, 13], [12, 15], [5, 16], [1, 11]], dtype=np.intp)
    calls = []
    in_context = RowsInContext(shortcut, rows, columns)
    real = in_context._fill_shifted
    monkeypatch.setattr(in_context, "_fill_shifted", lambda *a: calls.append(1) or real(*a))
    got = in_context.outputs(probes)
    assert calls  # the shifted path ran
    dense = applied(rows, probes, columns).reshape(-1, len(space))
    expected = reference(layers, [np.flatnonzero(r) for r in dense])
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)
    for single in ([], [4], [14]):  # the zero probe, a token, a categorical value
        probe = np.array([single], dtype=np.intp)
        dense = applied(rows, probe, columns).reshape(-1, len(space))
        expected = reference(layers, [np.flatnonzero(r) for r in dense])
        np.testing.assert_allclose(in_context.outputs(probe), expected, rtol=0, atol=2e-6)
    shortcut.shifted = None
    np.testing.assert_allclose(in_context.outputs(probes), got, rtol=0, atol=2e-6)


def test_chunks_predicted_ahead_give_the_same_in_context_table(monkeypatch):
    """With chunks predicted in background threads the in-context table is the same, bit for
    bit, as with every chunk predicted in the calling thread."""
    from pytest_featureprobe import stream
    from pytest_featureprobe.models.numpy_model import from_dense_weights
    from pytest_featureprobe.models.probe_model import ProbeModel

    names = (*(f"t{i}" for i in range(12)), "C=c1", "C=c2")
    space = FeatureSpace(names, "tokens", ("C",))
    rng = np.random.default_rng(8)
    weights = []
    for inputs, outputs in ((len(space), 16), (16, 3)):
        weights += [rng.normal(size=(inputs, outputs)).astype(np.float32)]
        weights += [rng.normal(size=outputs).astype(np.float32)]
    model = from_dense_weights(weights, "relu", space, ["a", "b", "c"], description="m")
    rows = [[f"t{i}" for i in rng.choice(12, 3, replace=False)] + ["C=c1"] for _ in range(30)]
    context = Context.of_rows("rows", space.encode_sets(rows), {"kind": "rows"})
    monkeypatch.setattr(ProbeModel, "predicts_in_background", property(lambda self: False))
    alone = run_context_sweep(model, context, order=2, chunk_size=60).table
    used = []
    real = stream.predicted_ahead
    monkeypatch.setattr(stream, "predicted_ahead", lambda *a: used.append(1) or real(*a))
    monkeypatch.setattr(ProbeModel, "predicts_in_background", property(lambda self: True))
    ahead = run_context_sweep(model, context, order=2, chunk_size=60).table
    assert used  # the chunks were predicted ahead
    pd.testing.assert_frame_equal(ahead, alone, check_exact=True)
    assert len(alone) == 1 + 14 + 91 - 1  # C=c1+C=c2 is not a probe: one value a column
