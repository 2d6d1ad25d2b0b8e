"""FeatureSpace: vocabulary from data, position-free encoding, decoding, order, JSON, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe.errors import DataError
from pytest_featureprobe.features import FeatureSpace, feature_name, parse_tokens

SEED_LISTS = [[1, 2, 3], [1, 2, 4], [1, 4, 5], [3, 4, 5], [1, 5, 6]]


def reference_multi_hot(rows: list[list[int]], vocabulary: list[int]) -> np.ndarray:
    """The seed method, computed independently: pad with -1, one-hot, max over positions."""
    lookup = {token: i for i, token in enumerate(vocabulary)}
    width = max((len(r) for r in rows), default=0)
    padded = np.full((len(rows), max(width, 1)), -1, dtype=np.int64)
    for r, tokens in enumerate(rows):
        padded[r, : len(tokens)] = [lookup[t] for t in tokens]
    one_hot = (padded[:, :, None] == np.arange(len(vocabulary))[None, None, :]).astype(np.float32)
    return one_hot.max(axis=1)


@pytest.fixture
def seed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"problems": [list(r) for r in SEED_LISTS], "results": ["A", "A", "C", "C", "A"]}
    )


@pytest.fixture
def titanic_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sex": ["female", "male", "male", "female"],
            "class": ["1st", "3rd", "2nd", "3rd"],
            "survived": ["yes", "no", "no", "yes"],
        }
    )


# --- building the space from a token column ---------------------------------------------------


def test_token_lists_give_the_seed_vocabulary(seed_frame):
    space = FeatureSpace.from_frame(seed_frame, tokens="problems")
    assert space.features == ("1", "2", "3", "4", "5", "6")
    assert space.token_column == "problems"
    assert space.categorical == ()
    assert len(space) == 6


@pytest.mark.parametrize(
    "to_cell",
    [
        pytest.param(lambda r: " ".join(map(str, r)), id="space-separated"),
        pytest.param(lambda r: str(list(r)), id="bracketed"),
        pytest.param(lambda r: ",".join(map(str, r)), id="comma-separated"),
        pytest.param(tuple, id="tuple"),
        pytest.param(lambda r: np.array(r), id="ndarray"),
    ],
)
def test_cell_formats_agree_with_lists(seed_frame, to_cell):
    as_text = pd.DataFrame({"problems": [to_cell(r) for r in SEED_LISTS]})
    reference = FeatureSpace.from_frame(seed_frame, tokens="problems")
    space = FeatureSpace.from_frame(as_text, tokens="problems")
    assert space == reference
    np.testing.assert_array_equal(space.encode(as_text), reference.encode(seed_frame))


@pytest.mark.parametrize(
    ("cell", "tokens"),
    [
        ("['new york', 'la']", ["new york", "la"]),  # a quoted token keeps its space
        ('"san jose" boston', ["san jose", "boston"]),
        ("don't stop", ["don't", "stop"]),  # an apostrophe inside a token is no quote
        ("'a'b", ["a'b"]),
        ("''", []),
        ("a,,b;c", ["a", "b", "c"]),
    ],
)
def test_quoted_tokens_keep_their_spaces(cell, tokens):
    assert parse_tokens(cell) == tokens


def test_a_quoted_token_with_a_space_is_one_feature():
    frame = pd.DataFrame({"t": ["['new york', 'la']", "['la']"], "y": ["a", "b"]})
    space = FeatureSpace.from_frame(frame, tokens="t")
    assert space.features == ("la", "new york")
    np.testing.assert_array_equal(space.encode(frame), [[1, 1], [1, 0]])


def test_parse_tokens_formats():
    assert parse_tokens("1 2 3") == ["1", "2", "3"]
    assert parse_tokens("[1, 2, 3]") == ["1", "2", "3"]
    assert parse_tokens("['a', \"b\"]") == ["a", "b"]
    assert parse_tokens([1.0, 2, np.int64(3)]) == ["1", "2", "3"]
    assert parse_tokens(7) == ["7"]
    assert parse_tokens("") == []
    assert parse_tokens(None) == []
    assert parse_tokens(float("nan")) == []
    assert parse_tokens("[]") == []


@pytest.mark.parametrize("value", [4, 4.0, "4", " 4 ", np.int64(4), np.float32(4.0)])
def test_feature_name_is_canonical(value):
    assert feature_name(value) == "4"


def test_encode_matches_one_hot_then_max_on_seed(seed_frame):
    space = FeatureSpace.from_frame(seed_frame, tokens="problems")
    x = space.encode(seed_frame)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, reference_multi_hot(SEED_LISTS, [1, 2, 3, 4, 5, 6]))
    # The seed table, row by row.
    np.testing.assert_array_equal(
        x,
        [
            [1, 1, 1, 0, 0, 0],
            [1, 1, 0, 1, 0, 0],
            [1, 0, 0, 1, 1, 0],
            [0, 0, 1, 1, 1, 0],
            [1, 0, 0, 0, 1, 1],
        ],
    )


def test_encode_matches_one_hot_then_max_on_random_rows():
    rng = np.random.default_rng(7)
    rows = [[int(t) for t in rng.integers(0, 40, size=rng.integers(0, 12))] for _ in range(60)]
    rows[0] = list(range(40))  # every token occurs somewhere
    frame = pd.DataFrame({"tokens": [" ".join(map(str, r)) for r in rows]})
    space = FeatureSpace.from_frame(frame, tokens="tokens")
    vocabulary = sorted({t for r in rows for t in r})
    assert space.features == tuple(str(t) for t in vocabulary)
    np.testing.assert_array_equal(space.encode(frame), reference_multi_hot(rows, vocabulary))


def test_encoding_is_position_free_and_ignores_repeats():
    frame = pd.DataFrame({"t": [[1, 2, 3], [3, 2, 1], [2, 1, 3, 3, 1], [2]]})
    space = FeatureSpace.from_frame(frame, tokens="t")
    x = space.encode(frame)
    np.testing.assert_array_equal(x[0], x[1])
    np.testing.assert_array_equal(x[0], x[2])
    np.testing.assert_array_equal(x[3], [0, 1, 0])
    assert x.max() == 1.0


# --- order ----------------------------------------------------------------------------------


def test_numeric_tokens_sort_numerically_then_others_alphabetically():
    frame = pd.DataFrame({"t": [[10, "b", 2], ["a", 9, 1.0], ["B", "1.5", "-3"]]})
    space = FeatureSpace.from_frame(frame, tokens="t")
    assert space.features == ("-3", "1", "1.5", "2", "9", "10", "B", "a", "b")


def test_order_does_not_depend_on_row_order():
    frame = pd.DataFrame({"t": ["3 1", "10 2", "x 4"]})
    shuffled = frame.iloc[::-1].reset_index(drop=True)
    assert FeatureSpace.from_frame(frame, "t") == FeatureSpace.from_frame(shuffled, "t")


def test_categorical_features_are_column_equals_value(titanic_frame):
    space = FeatureSpace.from_frame(titanic_frame, categorical=["sex", "class"])
    assert space.features == ("sex=female", "sex=male", "class=1st", "class=2nd", "class=3rd")
    assert space.token_column is None
    assert space.categorical == ("sex", "class")
    x = space.encode(titanic_frame)
    np.testing.assert_array_equal(
        x,
        [
            [1, 0, 1, 0, 0],
            [0, 1, 0, 0, 1],
            [0, 1, 0, 1, 0],
            [1, 0, 0, 0, 1],
        ],
    )


def test_categorical_columns_keep_the_given_order(titanic_frame):
    space = FeatureSpace.from_frame(titanic_frame, categorical=["class", "sex"])
    assert space.features == ("class=1st", "class=2nd", "class=3rd", "sex=female", "sex=male")


def test_categorical_values_sort_naturally():
    frame = pd.DataFrame({"age": [30, 4, 100, 4.0, 12]})
    space = FeatureSpace.from_frame(frame, categorical=["age"])
    assert space.features == ("age=4", "age=12", "age=30", "age=100")


def test_categorical_features_come_after_tokens():
    frame = pd.DataFrame(
        {
            "tokens": ["2 1", "b 3", ""],
            "sex": ["male", "female", "male"],
            "class": ["2nd", "1st", "1st"],
        }
    )
    space = FeatureSpace.from_frame(frame, tokens="tokens", categorical=["sex", "class"])
    assert space.features == (
        "1",
        "2",
        "3",
        "b",
        "sex=female",
        "sex=male",
        "class=1st",
        "class=2nd",
    )
    x = space.encode(frame)
    assert space.names(np.flatnonzero(x[0])) == ("1", "2", "sex=male", "class=2nd")
    assert space.names(np.flatnonzero(x[1])) == ("3", "b", "sex=female", "class=1st")
    assert space.names(np.flatnonzero(x[2])) == ("sex=male", "class=1st")


# --- decoding -------------------------------------------------------------------------------


def test_decoding_positions_back_to_names(seed_frame):
    space = FeatureSpace.from_frame(seed_frame, tokens="problems")
    x = space.encode(seed_frame)
    for row, tokens in zip(x, SEED_LISTS, strict=True):
        assert space.names(np.flatnonzero(row)) == tuple(str(t) for t in sorted(tokens))
    assert space.index(4) == 3
    assert space.index("4") == 3
    assert space.index(4.0) == 3
    assert space.indices([5, "1", 5, 3]) == [0, 2, 4]
    assert space.names(space.indices(["6", 2])) == ("2", "6")
    assert 4 in space
    assert "7" not in space


def test_row_features_lists_active_positions(titanic_frame):
    space = FeatureSpace.from_frame(titanic_frame, categorical=["sex", "class"])
    assert space.row_features(titanic_frame) == [[0, 2], [1, 4], [1, 3], [0, 4]]


def test_encode_sets(seed_frame):
    space = FeatureSpace.from_frame(seed_frame, tokens="problems")
    x = space.encode_sets([[], [4], ["1", 2.0], [6, 6]])
    np.testing.assert_array_equal(
        x,
        [
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
            [1, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 1],
        ],
    )


# --- JSON -----------------------------------------------------------------------------------


def test_json_round_trip():
    frame = pd.DataFrame({"t": ["1 b", "2 a"], "sex": ["male", "female"]})
    space = FeatureSpace.from_frame(frame, tokens="t", categorical=["sex"])
    text = space.to_json()
    assert json.loads(text)["features"] == list(space.features)
    again = FeatureSpace.from_json(text)
    assert again == space
    assert again.token_column == "t"
    assert again.categorical == ("sex",)
    np.testing.assert_array_equal(again.encode(frame), space.encode(frame))
    assert again.index("sex=male") == space.index("sex=male")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "'features' list"),
        ('{"features": "abc"}', "'features' list"),
        ('{"format": 99, "features": ["a"]}', "unsupported feature space format"),
        ('{"features": []}', "empty"),
        ('{"features": ["a", "b", "a"]}', "appears twice"),
    ],
)
def test_bad_json_is_a_data_error(text, fragment):
    with pytest.raises(DataError, match=fragment):
        FeatureSpace.from_json(text)


# --- errors ---------------------------------------------------------------------------------


def test_unknown_feature_suggests_a_close_name():
    space = FeatureSpace.from_names(["sex=female", "sex=male", "class=1st"])
    with pytest.raises(DataError) as info:
        space.index("sex=femal")
    message = str(info.value)
    assert "unknown feature 'sex=femal'" in message
    assert "did you mean 'sex=female'" in message


def test_unknown_feature_without_close_name_lists_the_space():
    space = FeatureSpace.from_names([1, 2, 3])
    with pytest.raises(DataError) as info:
        space.indices([1, "zebra"])
    assert "did you mean" not in str(info.value)
    assert "3 features: 1, 2, 3" in str(info.value)


def test_unknown_token_in_data_names_row_and_column(seed_frame):
    space = FeatureSpace.from_frame(seed_frame, tokens="problems")
    new = pd.DataFrame({"problems": ["1 2", "4 7"]})
    with pytest.raises(DataError) as info:
        space.encode(new)
    assert info.value.key == "problems"
    assert "row 2" in str(info.value)
    assert "'7'" in str(info.value)


def test_unknown_category_suggests_a_close_name(titanic_frame):
    space = FeatureSpace.from_frame(titanic_frame, categorical=["sex", "class"])
    new = pd.DataFrame({"sex": ["femal"], "class": ["1st"]})
    with pytest.raises(DataError, match=r"did you mean 'sex=female'") as info:
        space.encode(new)
    assert info.value.key == "sex"


def test_unknown_ignore_skips_unseen_values(titanic_frame):
    space = FeatureSpace.from_frame(titanic_frame, categorical=["sex", "class"])
    new = pd.DataFrame({"sex": ["female", "other"], "class": ["4th", "2nd"]})
    x = space.encode(new, unknown="ignore")
    np.testing.assert_array_equal(x, [[1, 0, 0, 0, 0], [0, 0, 0, 1, 0]])
    with pytest.raises(ValueError):
        space.encode(new, unknown="drop")


def test_unknown_ignore_on_tokens(seed_frame):
    space = FeatureSpace.from_frame(seed_frame, tokens="problems")
    x = space.encode(pd.DataFrame({"problems": ["1 99 6", "100"]}), unknown="ignore")
    np.testing.assert_array_equal(x, [[1, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0]])


def test_missing_column_is_a_data_error(seed_frame):
    with pytest.raises(DataError, match=r"did you mean 'problems'") as info:
        FeatureSpace.from_frame(seed_frame, tokens="problem")
    assert info.value.key == "problem"
    space = FeatureSpace.from_frame(seed_frame, tokens="problems")
    with pytest.raises(DataError, match="no column 'problems'"):
        space.encode(pd.DataFrame({"other": ["1"]}))


def test_space_needs_columns_and_features(seed_frame):
    with pytest.raises(DataError, match="name a token column"):
        FeatureSpace.from_frame(seed_frame)
    with pytest.raises(DataError, match="empty"):
        FeatureSpace.from_frame(pd.DataFrame({"t": ["", None]}), tokens="t")
    with pytest.raises(DataError, match="appears twice"):
        FeatureSpace.from_names([4, "4"])
    with pytest.raises(DataError, match="does not know its columns"):
        FeatureSpace.from_names([1, 2]).encode(seed_frame)


# --- missing values -------------------------------------------------------------------------


def test_missing_values_activate_nothing():
    frame = pd.DataFrame(
        {
            "t": pd.Series([[1, 2], None, np.nan, "", "  ", [], [np.nan, 2, None]], dtype=object),
            "sex": pd.Series(["male", None, np.nan, "", "female", "male", " "], dtype=object),
        }
    )
    space = FeatureSpace.from_frame(frame, tokens="t", categorical=["sex"])
    assert space.features == ("1", "2", "sex=female", "sex=male")
    x = space.encode(frame)
    np.testing.assert_array_equal(
        x,
        [
            [1, 1, 0, 1],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 1, 0],
            [0, 0, 0, 1],
            [0, 1, 0, 0],
        ],
    )


def test_pandas_na_in_nullable_columns_activates_nothing():
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None, 2], dtype="Int64"),
            "s": pd.Series(["a", pd.NA, "b"], dtype=object),
            "t": pd.Series([[1, pd.NA], pd.NA, [2]], dtype=object),
        }
    )
    space = FeatureSpace.from_frame(frame, tokens="t", categorical=["n", "s"])
    assert space.features == ("1", "2", "n=1", "n=2", "s=a", "s=b")
    np.testing.assert_array_equal(
        space.encode(frame),
        [[1, 0, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0], [0, 1, 0, 1, 0, 1]],
    )


def test_csv_with_empty_cells(tmp_path):
    from pytest_featureprobe.data import read_table

    path = tmp_path / "d.csv"
    path.write_text('t,sex,y\n"[1, 2]",male,A\n,female,B\n3,,A\n')
    frame = read_table(path)
    space = FeatureSpace.from_frame(frame, tokens="t", categorical=["sex"])
    assert space.features == ("1", "2", "3", "sex=female", "sex=male")
    np.testing.assert_array_equal(
        space.encode(frame), [[1, 1, 0, 0, 1], [0, 0, 0, 1, 0], [0, 0, 1, 0, 0]]
    )


# --- rows as positions (issue 16, item 10: large vocabularies) ----------------------------------


def test_rows_as_positions_are_the_dense_rows_bit_for_bit():
    from pytest_featureprobe.features import MultiHot

    frame = pd.DataFrame({"tokens": ["3 1 1", "", "2", "[4, 2, 4]"], "sex": ["f", "m", None, "f"]})
    space = FeatureSpace.from_frame(frame, tokens="tokens", categorical=["sex"])
    dense = space.encode(frame)
    rows = space.encode_sparse(frame)
    assert isinstance(rows, MultiHot) and rows.shape == dense.shape == (4, 6)
    assert rows.indptr.tolist() == [0, 3, 4, 5, 8]  # a repeated token counts once
    assert rows.indices.tolist() == [0, 2, 4, 5, 1, 1, 3, 4]
    assert rows.dense().dtype == np.float32
    assert np.array_equal(rows.dense(), dense)
    assert np.array_equal(rows.dense(1, 3), dense[1:3])
    assert np.array_equal(np.asarray(rows), dense)
    assert np.array_equal(np.concatenate(list(rows.blocks(max_bytes=30))), dense)
    assert [len(b) for b in rows.blocks(max_bytes=30)] == [1, 1, 1, 1]  # 24 bytes a row


def test_encoding_a_large_vocabulary_holds_positions_not_rows_times_features():
    """5,000 rows of 20 tokens from 30,000: dense they are 600 MB; as positions, the encoding's
    peak stays under 16 MB (the token lists of the frame are the most of it)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    cells = [" ".join(f"t{t}" for t in rng.choice(30_000, 20, replace=False)) for _ in range(5_000)]
    frame = pd.DataFrame({"tokens": cells})
    space = FeatureSpace.from_names([f"t{t}" for t in range(30_000)])
    space = FeatureSpace(space.features, token_column="tokens")
    tracemalloc.start()
    try:
        rows = space.encode_sparse(frame)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows.shape == (5_000, 30_000) and len(rows.indices) == 100_000
    assert peak < 16 << 20, f"{peak / 2**20:.1f} MB"
    assert 35 * peak < 5_000 * 30_000 * 4  # the dense matrix would be 35 times the bound
    assert np.array_equal(rows.dense(17, 19), space.encode(frame.iloc[17:19]))


def test_values_equal_as_dict_keys_keep_their_own_names():
    """Each distinct value is named once per column; 1, 1.0 and True are one dict key in
    Python but 1 and 1.0 name "1" and True names "true", in any order of rows."""
    for values in ([1, 1.0, True, "1", True], [True, 1, 1.0, True, "1"]):
        frame = pd.DataFrame({"A": pd.Series(values, dtype=object)})
        space = FeatureSpace.from_frame(frame, categorical=["A"])
        assert space.features == ("A=1", "A=true")
        named = [space.features[p] for (p,) in space.row_features(frame)]
        assert named == ["A=true" if v is True else "A=1" for v in values]


def test_equal_values_that_print_differently_keep_their_names():
    """Only plain scalars are named once per column: Decimal("1.0") == Decimal("1.00"), but
    they are two values of the column."""
    from decimal import Decimal

    frame = pd.DataFrame({"A": pd.Series([Decimal("1.0"), Decimal("1.00")], dtype=object)})
    space = FeatureSpace.from_frame(frame, categorical=["A"])
    assert space.features == ("A=1.0", "A=1.00")
    reversed_rows = frame.iloc[::-1].reset_index(drop=True)
    assert space.row_features(reversed_rows) == [[1], [0]]
