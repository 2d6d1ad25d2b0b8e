"""data: reading data files (CSV, TSV, JSON, JSON lines), the features declaration, class
indices and ``prepare``, with the DataError (and its key) of each mistake."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe.data import class_indices, feature_columns, prepare, read_table
from pytest_featureprobe.errors import DataError
from pytest_featureprobe.features import FeatureSpace


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory: messages name files relative to it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def refused(path: Path) -> DataError:
    with pytest.raises(DataError) as info:
        read_table(path)
    return info.value


# --- read_table ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "d.jsonl",
            '{"problems": [1, 2], "results": "A"}\n[3]\n',
            "line 2 is not a JSON object (a .jsonl file holds one per line)",
        ),
        (
            "d.json",
            '[{"problems": [1], "results": "A"}, 2]',
            "item 2 of the list is int, not a record (a .json data file holds a list of "
            "records: [{column: value, ...}, ...])",
        ),
    ],
    ids=["jsonl-line-not-an-object", "json-item-not-a-record"],
)
def test_json_items_that_are_not_records_are_a_data_error(here, name, content, message):
    """pandas raises TypeError on these; the reader names the file and what is wrong."""
    assert refused(write(here, name, content)).message == f"cannot read {name}: {message}"


def test_a_csv_file_is_read_as_text_with_empty_cells_missing(here):
    frame = read_table(write(here, "d.csv", 'a,b\n1,x\n2,\n"[1, 2]",y\n'))
    assert list(frame.columns) == ["a", "b"]
    assert frame["a"].tolist() == ["1", "2", "[1, 2]"]  # strings, not numbers
    assert frame["b"].iloc[0] == "x" and pd.isna(frame["b"].iloc[1])
    assert isinstance(frame.index, pd.RangeIndex)


def test_a_tsv_file_is_split_on_tabs(here):
    frame = read_table(write(here, "d.tsv", "a\tb\n1,2\tx\n"))
    assert frame.to_dict("records") == [{"a": "1,2", "b": "x"}]


def test_a_json_file_of_records_is_read(here):
    frame = read_table(write(here, "d.json", '[{"a": [1, 2], "b": "x"}, {"a": [], "b": "y"}]'))
    assert frame.to_dict("records") == [{"a": ["1", "2"], "b": "x"}, {"a": [], "b": "y"}]


def test_a_json_lines_file_is_read_one_record_a_line(here):
    frame = read_table(write(here, "d.jsonl", '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n'))
    assert frame.to_dict("records") == [{"a": "1", "b": "x"}, {"a": "2", "b": "y"}]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("d.csv", "label\n1\n1.0\n1e0\n01\n"),
        ("d.json", '[{"label": 1}, {"label": 1.0}, {"label": 1e0}, {"label": "01"}]'),
        ("d.jsonl", '{"label": 1}\n{"label": 1.0}\n{"label": 1e0}\n{"label": "01"}\n'),
    ],
)
def test_labels_are_the_text_the_file_holds_in_csv_and_json_alike(here, name, content):
    """1 and 1.0 were two classes from CSV but one from JSON (pandas made both 1)."""
    frame = read_table(write(here, name, content))
    assert frame["label"].tolist() == ["1", "1.0", "1e0", "01"]
    assert class_indices(list(frame["label"]))[1] == ("01", "1", "1.0", "1e0")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("d.csv", "kind,x\nNone,1\nNA,2\nnull,3\nN/A,4\n,5\n"),
        ("d.json", '[{"kind": "None"}, {"kind": "NA"}, {"kind": "null"}, {"kind": "N/A"}, {}]'),
    ],
)
def test_none_and_na_are_values_and_only_an_empty_cell_is_missing(here, name, content):
    """pandas' default NA strings made a category named None or NA silently missing."""
    frame = read_table(write(here, name, content))
    kinds = frame["kind"].tolist()
    assert kinds[:4] == ["None", "NA", "null", "N/A"]
    assert pd.isna(kinds[4])
    with pytest.raises(DataError, match="the label column holds 'None' in 1 row"):
        class_indices(kinds[:4])  # as labels: what an export writes for a missing label


def test_json_null_and_nan_are_missing(here):
    frame = read_table(write(here, "d.json", '[{"a": null}, {"a": NaN}, {"a": "x"}]'))
    assert [pd.isna(v) for v in frame["a"]] == [True, True, False]


@pytest.mark.parametrize(
    ("encoding", "exact", "bom"),
    [
        ("utf-16", "UTF-16LE", "a byte order mark"),
        ("utf-16-be", "UTF-16BE", "no byte order mark"),
        ("utf-16-le", "UTF-16LE", "no byte order mark"),
        ("utf-32", "UTF-32LE", "a byte order mark"),
    ],
)
def test_utf16_and_utf32_are_named_with_how_to_convert(here, encoding, exact, bom):
    """A UTF-16 export (Excel's 'Unicode text') was 'binary, not text (a NUL byte)'."""
    path = write(here, "d.csv", 'fruit,kind\n"[red]",apple\n'.encode(encoding))
    name = exact[:6]
    assert refused(path).message == (
        f"cannot read d.csv: {name} text ({exact}, {bom}), not UTF-8; convert it, e.g. iconv "
        f"-f {exact} -t UTF-8 d.csv > utf8.csv, or save it as UTF-8"
    )


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column_name(here):
    frame = read_table(write(here, "d.csv", "\ufeffa,b\n1,2\n".encode()))
    assert list(frame.columns) == ["a", "b"]


def test_a_data_file_over_the_size_limit_is_refused_with_its_size(here, monkeypatch):
    from pytest_featureprobe.limits import DATA_VARIABLE

    path = write(here, "d.csv", "a\n" + "1\n" * 600)
    monkeypatch.setenv(DATA_VARIABLE, "1000")
    assert refused(path).message == (
        "cannot read d.csv: the file is 1,202 bytes; data files are read up to 1,000 bytes (set "
        "FEATUREPROBE_MAX_DATA_BYTES to a larger number of bytes to read it)"
    )
    monkeypatch.setenv(DATA_VARIABLE, "1202")  # exactly at the limit: read
    assert len(read_table(path)) == 600
    monkeypatch.setenv(DATA_VARIABLE, "big")
    assert refused(path).message == (
        "cannot read d.csv: FEATUREPROBE_MAX_DATA_BYTES must be a whole number above 0, not 'big'"
    )


def test_a_fifo_is_not_read(here):
    """Reading a FIFO blocks until a writer comes: it is refused from its stat alone."""
    import os

    os.mkfifo(here / "d.csv")
    assert refused(here / "d.csv").message == (
        "data file d.csv is not a regular file (a FIFO, device or socket)"
    )


def test_the_suffix_is_read_in_any_case(here):
    frame = read_table(write(here, "D.CSV", "a\n1\n"))
    assert frame["a"].tolist() == ["1"]


def test_a_missing_file_is_named_relative_to_the_working_directory(here):
    error = refused(here / "sub" / "missing.csv")
    assert error.message == "data file not found: sub/missing.csv"
    assert (error.path, error.line, error.key) == (None, None, None)  # placed by the caller


def test_a_missing_file_outside_the_working_directory_is_named_in_full(here, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "missing.csv"
    assert refused(elsewhere).message == f"data file not found: {elsewhere}"


def test_a_folder_is_not_a_data_file(here):
    (here / "d.csv").mkdir()
    assert refused(here / "d.csv").message == "data file d.csv is a folder, not a file"


def test_an_unsupported_suffix_is_refused(here):
    assert refused(write(here, "d.xlsx", "a\n1\n")).message == (
        "d.xlsx: unsupported data file type '.xlsx' (use .csv, .tsv, .json or .jsonl)"
    )


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("b.csv", b"a\nx\x00y\n", "binary, not text (a NUL byte on line 2)"),
        ("e.csv", "", "the file is empty"),
        ("w.csv", "  \n\n", "the file is empty"),
        ("u.csv", b"a\nok\n\xe9\n", "not UTF-8 text (byte 0xe9 on line 3); save it as UTF-8"),
        (
            "x.csv",
            "a,b\n1,2,3\n4,5,6\n",
            "line 2 has 3 fields but the header has 2 (a, b); quote values that hold ','",
        ),
        (
            "x.tsv",
            "a\tb\n1\t2\t3\n",
            "line 2 has 3 fields but the header has 2 (a, b); quote values that hold '\\t'",
        ),
        ("j.json", '[\n{"a": 1},\n{"a"\n]', "invalid JSON on line 4: Expecting ':' delimiter"),
        (
            "o.json",
            '{"a": 1}',
            "a .json data file holds a list of records ([{column: value, ...}, ...])",
        ),
        ("l.jsonl", '{"a": 1}\n\n{"a": 2,\n', "invalid JSON on line 3: Expecting property name"),
        (
            "s.jsonl",
            '{"a": 1}\n"text"\n',
            "line 2 is not a JSON object (a .jsonl file holds one per line)",
        ),
    ],
    ids=[
        "nul",
        "empty",
        "blank",
        "latin1",
        "csv-extra",
        "tsv-extra",
        "json-syntax",
        "json-object",
        "jsonl-syntax",
        "jsonl-string",
    ],
)
def test_an_unreadable_file_says_why(here, name, content, reason):
    error = refused(write(here, name, content))
    assert error.message.startswith(f"cannot read {name}: {reason}")
    assert error.key is None


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("deep.json", "[" * 5000 + "]" * 5000, "JSON nested too deeply on line 1"),
        ("deep.jsonl", '{"a": 1}\n' + "[" * 5000 + "]" * 5000, "JSON nested too deeply on line 2"),
        ("first.json", '[5, {"a": 1}]', "item 1 of the list is int, not a record"),
        ("lists.json", "[[1], [2]]", "item 1 of the list is list, not a record"),
        ("text.json", '[{"a": "x"}, "12"]', "item 2 of the list is str, not a record"),
        ("float.json", '[{"a": "x"}, 1.5]', "item 2 of the list is float, not a record"),
        (
            "wide.csv",
            'a,b\n"' + "x" * 140_000 + '",1,2\n',
            "line 2: field larger than field limit (131072)",
        ),
    ],
    ids=[
        "json-deep",
        "jsonl-deep",
        "json-first-item-a-number",
        "json-list-of-lists",
        "json-item-a-string-of-digits",
        "json-item-a-float",
        "csv-limit",
    ],
)
def test_parser_limits_and_non_records_are_a_data_error(here, name, content, reason):
    """RecursionError, csv's field limit and a list pandas would take are the file's error."""
    assert refused(write(here, name, content)).message.startswith(f"cannot read {name}: {reason}")


def test_a_file_that_cannot_be_opened_says_why(here, monkeypatch):
    path = write(here, "d.csv", "a\n1\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "open", denied)
    assert refused(path).message == "cannot read d.csv: permission denied"


def test_paths_that_cannot_be_looked_at_say_why(here):
    (here / "loop.csv").symlink_to("loop.csv")
    assert refused(here / "loop.csv").message == (
        "data file loop.csv is a symbolic link loop (a link that leads back to itself)"
    )
    assert refused(here / "a\0b.csv").message.endswith("a file name cannot hold a NUL byte")
    long = refused(here / ("x" * 300 + ".csv")).message
    assert long.endswith("the name is too long for the file system")
    assert "(304 characters)" in long and len(long) < 250


# --- feature_columns -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "declared, columns",
    [
        ("problems", ("problems", ())),
        ({"tokens": "problems"}, ("problems", ())),
        ({"categorical": "sex"}, (None, ("sex",))),
        ({"categorical": ["sex", "class"]}, (None, ("sex", "class"))),
        ({"tokens": "t", "categorical": ["sex"]}, ("t", ("sex",))),
        ({"tokens": "t", "categorical": None}, ("t", ())),
    ],
)
def test_feature_columns_normalise_the_declaration(declared, columns):
    assert feature_columns(declared) == columns


@pytest.mark.parametrize(
    "declared, message, key",
    [
        (
            {"token": "t"},
            "unknown key 'token': features take 'tokens' and 'categorical'",
            "features",
        ),
        ({"tokens": ["a", "b"]}, "'tokens' names one column", "features.tokens"),
        (
            {"categorical": ["sex", 3]},
            "'categorical' is a list of column names",
            "features.categorical",
        ),
        ({}, "name a token column or categorical columns", "features"),
        (
            {"tokens": "", "categorical": []},
            "name a token column or categorical columns",
            "features",
        ),
        (
            3,
            "features is a token column name or a mapping with 'tokens' and/or 'categorical'",
            "features",
        ),
    ],
)
def test_feature_columns_refuse_a_malformed_declaration(declared, message, key):
    with pytest.raises(DataError) as info:
        feature_columns(declared)
    assert (info.value.message, info.value.key) == (message, key)


# --- class_indices -------------------------------------------------------------------------------


def test_class_indices_number_the_classes_in_sorted_order():
    y, classes = class_indices(["b", "a", "b", "c"])
    assert classes == ("a", "b", "c")
    assert y.tolist() == [1, 0, 1, 2]
    assert y.dtype == np.int32


def test_class_names_are_compared_as_text():
    # 9 and 9.0 are one class "9"; "10" sorts before "2" as text.
    y, classes = class_indices([10, 9, 2, 9.0])
    assert classes == ("10", "2", "9")
    assert y.tolist() == [0, 2, 1, 2]


def test_missing_labels_are_counted_and_the_first_row_named():
    with pytest.raises(DataError) as info:
        class_indices(["a", "b", None, "a", float("nan"), "", "NaN", " "])
    assert info.value.message == (
        "the label column has missing values (5 of 8 rows; the first is data row 3)"
    )
    assert info.value.key == "label"


# --- prepare -------------------------------------------------------------------------------------

SEED = pd.DataFrame(
    {
        "problems": ["[1, 2, 3]", "[1, 2, 4]", "[1, 4, 5]", "[3, 4, 5]", "[1, 5, 6]"],
        "results": ["A", "A", "C", "C", "A"],
    }
)


def test_prepare_builds_the_space_and_encodes_the_rows():
    data = prepare(SEED, "problems", "results")
    assert data.space.features == ("1", "2", "3", "4", "5", "6")
    assert data.space.token_column == "problems"
    assert data.classes == ("A", "C")
    assert data.y.tolist() == [0, 0, 1, 1, 0]
    assert data.x.dtype == np.float32
    assert data.x.tolist() == [
        [1, 1, 1, 0, 0, 0],
        [1, 1, 0, 1, 0, 0],
        [1, 0, 0, 1, 1, 0],
        [0, 0, 1, 1, 1, 0],
        [1, 0, 0, 0, 1, 1],
    ]


def test_prepare_reads_categorical_columns():
    frame = pd.DataFrame({"sex": ["f", "m", "f"], "survived": ["yes", "no", "no"]})
    data = prepare(frame, {"categorical": ["sex"]}, "survived")
    assert data.space.features == ("sex=f", "sex=m")
    assert data.classes == ("no", "yes")
    assert data.x.tolist() == [[1, 0], [0, 1], [1, 0]]
    assert data.y.tolist() == [1, 0, 0]


def test_prepare_uses_a_space_it_is_given():
    space = FeatureSpace(("6", "5", "4", "3", "2", "1", "7"), token_column="problems")
    data = prepare(SEED, "problems", "results", space=space)
    assert data.space is space
    assert data.x.shape == (5, 7)
    assert data.x[0].tolist() == [0, 0, 0, 1, 1, 1, 0]


def test_prepare_refuses_a_single_class():
    frame = pd.DataFrame({"problems": ["[1]", "[2]"], "results": ["A", "A"]})
    with pytest.raises(DataError) as info:
        prepare(frame, "problems", "results")
    assert (info.value.message, info.value.key) == (
        "the label column has one class only ('A')",
        "label",
    )


def test_prepare_refuses_a_missing_label_column_with_a_did_you_mean():
    with pytest.raises(DataError) as info:
        prepare(SEED, "problems", "result")
    assert info.value.message == "no label column 'result' (did you mean 'results'?)"
    assert info.value.key == "label"
    with pytest.raises(DataError, match=r"^label: no label column 'zzz'$"):
        prepare(SEED, "problems", "zzz")


def test_prepare_refuses_no_rows():
    with pytest.raises(DataError, match=r"^the data has no rows$"):
        prepare(SEED.iloc[:0], "problems", "results")


def test_prepare_refuses_a_malformed_features_declaration_first():
    with pytest.raises(DataError) as info:
        prepare(SEED, {"tokens": "problems", "extra": 1}, "missing")
    assert info.value.key == "features"


# --- lone surrogates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (r'["x\ud800"]', (1, r"\ud800")),
        ('[\n"\\udc00"]', (2, r"\udc00")),
        (r'["\ud83d\ude00"]', None),  # a pair: one character (an emoji)
        (r'["\\ud800"]', None),  # an escaped backslash, then the text "ud800"
        (r'["\\\ud800"]', (1, r"\ud800")),  # a backslash, then the escape
        (r'["\ude00\ud83d"]', (1, r"\ude00")),  # low before high is no pair
        ('["plain"]', None),
    ],
)
def test_a_lone_surrogate_escape_is_found_and_a_pair_is_not(text, found):
    from pytest_featureprobe.text_checks import lone_surrogate

    assert lone_surrogate(text) == found


def test_a_json_data_file_with_a_lone_surrogate_is_refused_at_its_line(here):
    """json reads "\\ud800" as a string that the report, the cache or a baseline cannot write."""
    path = write(here, "d.jsonl", '{"a": "ok"}\n{"a": "x\\ud800"}\n')
    assert refused(path).message == (
        "cannot read d.jsonl: line 2 holds the escape \\ud800, half of a UTF-16 pair, which no "
        "file can store as text (a lone surrogate)"
    )
    assert read_table(write(here, "e.json", '[{"a": "\\ud83d\\ude00"}]'))["a"][0] == "\U0001f600"


def test_categories_named_none_and_na_become_features_and_an_empty_cell_none(here):
    frame = read_table(write(here, "d.csv", "region,vote\nNone,yes\nNA,no\n,yes\nNA,yes\n"))
    data = prepare(frame, {"categorical": ["region"]}, "vote")
    assert set(data.space.features) == {"region=None", "region=NA"}
    assert data.x.sum(axis=1).tolist() == [1.0, 1.0, 0.0, 1.0]  # the empty cell: no feature


def test_a_csv_whose_size_says_it_is_over_the_limit_is_refused_unread(tmp_path, monkeypatch):
    from pytest_featureprobe import limits

    path = tmp_path / "big.csv"
    path.write_text("a,label\n" + "x,y\n" * 1000)
    monkeypatch.setenv("FEATUREPROBE_MAX_DATA_BYTES", "100")
    reads = []
    real = limits.read_at_most
    monkeypatch.setattr(
        "pytest_featureprobe.data.read_at_most", lambda s, n: reads.append(s.tell()) or real(s, n)
    )
    with pytest.raises(DataError, match="the file is 4,008 bytes; data files are read up to 100"):
        read_table(path)
    assert reads == [0]


@pytest.mark.parametrize(
    "raw", [b"\xef\xbb\xbfa,label\n\xc3\xa9,\xf0\x9f\x98\x80\n", b"a,label\r\xc3\xa9,y\r"]
)
def test_a_csv_is_decoded_by_pandas_from_its_bytes(tmp_path, raw):
    """A BOM, accents and an emoji; CR-only lines: the cells as their text."""
    path = tmp_path / "d.csv"
    path.write_bytes(raw)
    frame = read_table(path)
    assert list(frame.columns) == ["a", "label"]
    assert frame.iloc[0, 0] == "é"


def test_a_csv_not_utf8_past_the_first_chunk_names_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr("pytest_featureprobe.text_checks.UTF8_CHUNK", 16)
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,label\n" + b"x,y\n" * 10 + b"\xff,y\n")
    with pytest.raises(DataError, match="line 12"):
        read_table(path)


@pytest.mark.parametrize("cell", ["NA", "N/A", "null", "None", "<NA>"])
def test_a_label_written_as_missing_is_refused_with_its_count(tmp_path, cell):
    """An R export writes NA for a missing label: not a class named NA."""
    path = tmp_path / "d.csv"
    path.write_text(f"colour,label\nred,a\nblue,{cell}\ngreen,b\nred,{cell}\n")
    frame = read_table(path)
    assert frame["label"].tolist() == ["a", cell, "b", cell]  # a value as a feature would be
    with pytest.raises(DataError) as info:
        prepare(frame, {"categorical": ["colour"]}, "label")
    assert info.value.key == "label"
    assert info.value.message == (
        f"the label column holds '{cell}' in 2 rows, which pandas and R write for a missing "
        "value: relabel those rows or drop them"
    )


def test_na_as_a_feature_value_is_still_a_value(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("colour,label\nNA,a\nblue,b\n")
    data = prepare(read_table(path), {"categorical": ["colour"]}, "label")
    assert data.classes == ("a", "b") and "colour=NA" in data.space
