"""The ``features`` column kept as positions (``feature_sets.FeatureSets``)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe import feature_sets
from pytest_featureprobe.feature_sets import FeatureSets
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable
from pytest_featureprobe.report.transfer import table_from_plain, table_to_plain

NAMES = ["a", "b", "c", "d"]
CHUNKS = [
    np.zeros((1, 0), np.int32),
    np.array([[0], [1], [2], [3]], np.int32),
    np.array([[0, 1], [0, 3], [2, 3]], np.int32),
    np.array([[1, 2, 3]], np.int32),
]
TUPLES = [(), ("a",), ("b",), ("c",), ("d",), ("a", "b"), ("a", "d"), ("c", "d"), ("b", "c", "d")]


def column() -> FeatureSets:
    return FeatureSets.from_positions(CHUNKS, NAMES)


def test_cells_are_the_tuples_of_names_of_each_chunks_positions():
    values = column()
    assert len(values) == len(TUPLES)
    assert list(values) == TUPLES
    assert [values[i] for i in range(len(values))] == TUPLES
    assert values[-1] == ("b", "c", "d") and values[0] == ()
    assert all(type(v) is tuple and all(type(n) is str for n in v) for v in values)


def test_iteration_across_strides_keeps_the_row_order(monkeypatch):
    monkeypatch.setattr(feature_sets, "_STRIDE", 2)
    assert list(column()) == TUPLES


def test_as_an_array_it_is_one_dimensional_object_of_tuples():
    same_length = FeatureSets.from_positions([CHUNKS[2]], NAMES)
    array = np.asarray(same_length)
    assert array.shape == (3,) and array.dtype == object
    assert array.tolist() == [("a", "b"), ("a", "d"), ("c", "d")]
    assert np.asarray(column()).tolist() == TUPLES


def test_slices_masks_and_index_arrays_give_columns_of_the_same_cells():
    values = column()
    assert list(values[5:8]) == TUPLES[5:8]
    mask = np.array([len(t) == 2 for t in TUPLES])
    assert list(values[mask]) == [t for t in TUPLES if len(t) == 2]
    assert list(values[[8, 0, 5]]) == [TUPLES[8], TUPLES[0], TUPLES[5]]
    assert isinstance(values[1:3], FeatureSets)


def test_equality_with_one_tuple_compares_positions():
    values = column()
    assert (values == ("a", "d")).tolist() == [t == ("a", "d") for t in TUPLES]
    assert (values == ()).tolist() == [t == () for t in TUPLES]
    assert not (values == ("a", "zzz")).any()  # a name the column never holds
    assert not (values == ("a", "b", "c", "d")).any()  # wider than any cell
    assert not (values == ("b", "a")).any()  # order matters, as for tuples
    assert not (values == "a").any()


def test_equality_with_a_column_is_elementwise():
    values = column()
    other = list(TUPLES)
    other[3] = ("x",)
    assert (values == np.asarray(FeatureSets._from_sequence(other))).tolist() == [
        i != 3 for i in range(len(TUPLES))
    ]
    assert (values == column()).all()


def test_take_with_fill_gives_missing_cells_or_the_fill_value():
    values = column()
    assert list(values.take([8, -1])) == [TUPLES[8], TUPLES[-1]]
    taken = values.take([1, -1, 7], allow_fill=True)
    assert list(taken) == [("a",), None, ("c", "d")]
    assert taken.isna().tolist() == [False, True, False]
    assert list(values.take([-1, 0], allow_fill=True, fill_value=("z", "y"))) == [("z", "y"), ()]
    assert list(FeatureSets._from_sequence([]).take([-1], allow_fill=True)) == [None]
    with pytest.raises(IndexError):
        FeatureSets._from_sequence([]).take([0], allow_fill=True)
    with pytest.raises(ValueError):
        values.take([-2], allow_fill=True)


def test_from_sequence_reads_tuples_lists_and_missing_cells():
    values = FeatureSets._from_sequence([("x", "y"), ["y"], None, float("nan"), ()])
    assert list(values) == [("x", "y"), ("y",), None, None, ()]
    assert values.isna().tolist() == [False, False, True, True, False]
    assert list(pd.array([("p",), ("q", "p")], dtype="feature sets")) == [("p",), ("q", "p")]


def test_concatenated_columns_merge_their_names():
    first = column()
    second = FeatureSets._from_sequence([("z",), ("d", "z", "a", "b")])
    joined = FeatureSets._concat_same_type([first, second])
    assert list(joined) == [*TUPLES, ("z",), ("d", "z", "a", "b")]
    both = pd.concat([pd.Series(first), pd.Series(second)], ignore_index=True)
    assert both.dtype.name == "feature sets" and both.tolist() == list(joined)


def test_cells_can_be_set_to_new_names_and_wider_tuples():
    values = column()
    values[1] = ("new", "wider", "than", "before")
    values[2:4] = [None, ("a",)]
    values[np.array([i == 8 for i in range(9)])] = ("b",)
    expected = list(TUPLES)
    expected[1:4] = [("new", "wider", "than", "before"), None, ("a",)]
    expected[8] = ("b",)
    assert list(values) == expected
    with pytest.raises(ValueError):
        values[0:2] = [("a",)]


def test_pickles_copies_and_object_columns_hold_the_same_cells():
    series = pd.Series(column())
    assert pickle.loads(pickle.dumps(series)).tolist() == TUPLES
    copied = series.copy()
    copied.iloc[0] = ("a",)
    assert series.iloc[0] == ()
    plain = series.astype(object)
    assert plain.dtype == object and plain.tolist() == TUPLES
    assert plain.astype("feature sets").tolist() == TUPLES


def _sweep_table(order: int = 2) -> pd.DataFrame:
    def predict(x: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-(x @ np.arange(1.0, 6.0) - 3)))
        return np.stack([1 - p, p], axis=1)

    space = FeatureSpace.from_names(["v", "w", "x", "y", "z"])
    return from_callable(predict, space, ["no", "yes"]).sweep(order=order).table


def test_a_sweeps_features_are_its_probe_names_split():
    table = _sweep_table(order=3)
    assert str(table["features"].dtype) == "feature sets"
    expected = [() if name == "zero" else tuple(name.split("+")) for name in table.index]
    assert table["features"].tolist() == expected
    assert table.loc["w+y", "features"] == ("w", "y")
    assert (table["features"].map(len) == table["order"]).all()
    pairs = table[table["order"] == 2]
    assert pairs["features"].tolist() == expected[6:16]
    assert table["features"].value_counts().max() == 1


def test_a_sweep_table_survives_the_transfer_between_processes():
    table = _sweep_table()
    restored = table_from_plain(table_to_plain(table))
    assert str(restored["features"].dtype) == "feature sets"
    pd.testing.assert_frame_equal(restored, table)


def test_a_fresh_process_restores_the_column_from_plain_data(tmp_path):
    """The controller of an xdist run reads tables it never swept: the dtype must be known
    there without the sweep's imports."""
    import json
    import subprocess
    import sys

    table = _sweep_table()
    path = tmp_path / "table.json"
    path.write_text(json.dumps(table_to_plain(table)), encoding="utf-8")
    script = (
        "import json, sys\n"
        "from pytest_featureprobe.report.transfer import table_from_plain\n"
        "t = table_from_plain(json.load(open(sys.argv[1], encoding='utf-8')))\n"
        "print(t['features'].dtype, json.dumps(t['features'].tolist()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    dtype, cells = done.stdout.split(" ", 2)[:2], done.stdout.split(" ", 2)[2]
    assert " ".join(dtype) == "feature sets"
    assert [tuple(c) for c in json.loads(cells)] == table["features"].tolist()


def test_map_and_agg_results_that_are_not_feature_sets_become_object_columns():
    """pandas tries a ``map`` or ``agg`` result as the column's own type first: a string or a
    list of tuples is not a cell of names, so the result is an object column, as it was."""
    table = _sweep_table()
    joined = table["features"].map("+".join)
    assert joined.dtype != "feature sets" and joined.loc["v+w"] == "v+w"
    firsts = table["features"].apply(lambda f: f[0] if f else "")
    assert firsts.loc["w+x"] == "w"
    grouped = table.groupby("order")["features"].agg(list)
    assert grouped.loc[1] == [("v",), ("w",), ("x",), ("y",), ("z",)]
    kept = table["features"].map(lambda f: f[::-1])  # tuples of names stay feature sets
    assert str(kept.dtype) == "feature sets" and kept.loc["v+w"] == ("w", "v")


def test_cells_that_are_not_tuples_of_names_are_refused():
    values = column()
    for bad in ("abc", (("a",),), 3, ("a", 1)):
        with pytest.raises(TypeError, match="tuple of names"):
            values[0] = bad
    with pytest.raises(TypeError):
        FeatureSets._from_sequence(["abc"])
    assert list(values) == TUPLES  # nothing changed
    values[0] = pd.NA
    assert values[0] is None
    assert list(pd.array([("a",), pd.NA], dtype="feature sets")) == [("a",), None]


def test_a_slice_set_leaves_the_column_it_came_from_alone():
    values = column()
    part = values[1:3]
    part[0] = ("brand", "new", "names", "here")
    assert part[0] == ("brand", "new", "names", "here")
    assert list(values) == TUPLES
    shallow = pd.Series(values).copy(deep=False)
    pd.Series(values).array[1] = ("d",)
    assert shallow.iloc[1] in (("a",), ("d",)) and all(isinstance(v, tuple) for v in shallow)


def test_read_only_columns_refuse_writes():
    values = column()
    values._readonly = True
    with pytest.raises(ValueError, match="read-only"):
        values[0] = ("a",)


def test_numpy_style_keys_give_cells():
    values = column()
    assert values[(0,)] == () and values[(-1,)] == ("b", "c", "d")
    assert values[np.array(5)] == ("a", "b")
    assert list(values[..., 5:7]) == TUPLES[5:7]
    with pytest.raises(IndexError):
        values[0, 1]


def test_a_cell_set_from_a_one_row_slice_takes_its_tuple():
    values = column()
    values[1] = values[8:9]
    assert values[1] == ("b", "c", "d") and values[8] == ("b", "c", "d")
