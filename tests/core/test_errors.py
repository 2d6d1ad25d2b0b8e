"""errors: how an error places itself (path:line: key: message, one bounded line) and how every
message quotes, lists and suggests names."""

from __future__ import annotations

import pytest

from pytest_featureprobe.errors import (
    MAX_KEY,
    MAX_MESSAGE,
    DataError,
    FeatureProbeError,
    ModelError,
    SpecError,
    did_you_mean,
    display_path,
    first_line,
    listed,
    not_utf8,
    plural,
    preview,
    quoted,
)

# --- describe: path:line: key: message -----------------------------------------------------------


def test_describe_joins_path_line_key_and_message():
    error = FeatureProbeError("unknown key", path="spec/f.yaml", line=7, key="expect[2].on")
    assert error.describe() == "spec/f.yaml:7: expect[2].on: unknown key"
    assert str(error) == "spec/f.yaml:7: expect[2].on: unknown key"


@pytest.mark.parametrize(
    "location, shown",
    [
        ({}, "bad"),
        ({"path": "f.yaml"}, "f.yaml: bad"),
        ({"path": "f.yaml", "line": 3}, "f.yaml:3: bad"),
        ({"path": "f.yaml", "key": "model"}, "f.yaml: model: bad"),
        ({"key": "model"}, "model: bad"),
        ({"line": 3}, "bad"),  # a line without a file says nothing
        ({"path": "f.yaml", "line": 0}, "f.yaml: bad"),
    ],
)
def test_describe_leaves_out_what_is_not_known(location, shown):
    assert FeatureProbeError("bad", **location).describe() == shown


def test_describe_shows_a_path_inside_relative_to_a_folder_and_one_outside_as_given(tmp_path):
    inside = tmp_path / "sub" / "f.yaml"
    error = SpecError("bad", path=inside, line=2)
    assert error.path == str(inside)
    assert error.describe(tmp_path) == "sub/f.yaml:2: bad"
    elsewhere = tmp_path.parent / "elsewhere.yaml"
    assert SpecError("bad", path=elsewhere).describe(tmp_path) == f"{elsewhere}: bad"
    # Without a folder the path is shown as it was given.
    assert error.describe() == f"{inside}:2: bad"


def test_display_path_is_relative_only_inside(tmp_path):
    assert display_path(tmp_path / "a" / "b.csv", tmp_path) == "a/b.csv"
    assert display_path("/somewhere/else.csv", tmp_path) == "/somewhere/else.csv"


def test_describe_is_one_line_for_keys_and_messages_with_line_breaks():
    error = FeatureProbeError("first\nsecond\r\nthird", path="f.yaml", line=1, key="a\nb")
    assert error.describe() == "f.yaml:1: a b: first second  third"


def test_a_huge_message_is_cut_in_the_middle_to_its_limit():
    message = "h" * 500 + "MIDDLE" + "t" * 500
    text = FeatureProbeError(message).describe()
    assert len(text) == MAX_MESSAGE == 300
    # The head is 300 - 75 - 5 characters, the tail the last quarter of the limit.
    assert text == "h" * 220 + " ... " + "t" * 75
    assert "MIDDLE" not in text


def test_a_huge_key_is_cut_to_its_limit():
    key = "k" * 200 + "\n" + "e" * 200
    text = FeatureProbeError("msg", key=key).describe()
    assert text == "k" * 55 + " ... " + "e" * 20 + ": msg"
    assert len(text.removesuffix(": msg")) == MAX_KEY == 80


def test_a_message_at_the_limit_is_not_cut():
    message = "m" * MAX_MESSAGE
    assert FeatureProbeError(message).describe() == message


def test_the_kinds_of_error_are_feature_probe_errors_with_a_message():
    for kind in (SpecError, DataError, ModelError):
        error = kind("broken", key="x")
        assert isinstance(error, FeatureProbeError)
        assert error.message == "broken"
        assert error.args == ("broken",)


# --- located: only what is missing ---------------------------------------------------------------


def test_located_fills_in_what_is_missing_and_returns_the_error():
    error = DataError("bad")
    assert error.located("f.yaml", 4, "model.train.data") is error
    assert (error.path, error.line, error.key) == ("f.yaml", 4, "model.train.data")


def test_located_keeps_what_the_error_already_knows():
    error = DataError("bad", path="data.csv", line=9, key="label")
    error.located("f.yaml", 4, "model")
    assert (error.path, error.line, error.key) == ("data.csv", 9, "label")


def test_located_fills_each_fact_on_its_own():
    error = DataError("bad", key="label")
    error.located("f.yaml", 4, "model")
    assert (error.path, error.line, error.key) == ("f.yaml", 4, "label")
    partial = DataError("bad", line=2)
    partial.located(key="model")
    assert (partial.path, partial.line, partial.key) == (None, 2, "model")


def test_located_takes_a_path_object_as_text(tmp_path):
    error = SpecError("bad").located(tmp_path / "f.yaml")
    assert error.path == str(tmp_path / "f.yaml")


# --- quoted, listed, preview ---------------------------------------------------------------------


def test_quoted_is_the_repr_when_short():
    assert quoted("colour") == "'colour'"
    assert quoted(4) == "4"
    assert quoted("a\nb") == "'a\\nb'"


def test_quoted_cuts_a_long_name_to_its_limit_keeping_the_closing_quote():
    text = quoted("a" * 100)
    assert text == "'" + "a" * 55 + "...'"
    assert len(text) == 60
    assert quoted("a" * 100, limit=10) == "'aaaaa...'"


def test_listed_is_bare_when_short_and_printable_else_quoted():
    assert listed("sex=female") == "sex=female"
    assert listed(12) == "12"
    assert listed("tab\there") == "'tab\\there'"
    assert listed("x" * 31) == "'" + "x" * 25 + "...'"
    assert listed("x" * 30) == "x" * 30


def test_preview_shows_at_most_limit_names_then_how_many_more():
    names = list("abcdefghij")
    assert preview(names) == "a, b, c, d, e, f, g, h, ... (2 more)"
    assert preview(names, limit=3) == "a, b, c, ... (7 more)"
    assert preview(["a", "b"]) == "a, b"
    assert preview([]) == ""


def test_preview_with_width_shows_the_names_that_fit_and_at_least_one():
    names = ["aaaa", "bbbb", "cccc"]
    # Each name costs its length plus two: 6, 12, 18.
    assert preview(names, width=12) == "aaaa, bbbb, ... (1 more)"
    assert preview(names, width=11) == "aaaa, ... (2 more)"
    assert preview(names, width=100) == "aaaa, bbbb, cccc"
    assert preview(["a-rather-long-name", "x"], width=1) == "a-rather-long-name, ... (1 more)"


# --- did_you_mean --------------------------------------------------------------------------------


def test_did_you_mean_suggests_close_names():
    assert did_you_mean("lable", ["label", "data", "features"]) == " (did you mean 'label'?)"
    # Names compare as text: "4" and "40" are 2 * 1 / 3 = 0.67 alike (the cutoff is 0.6), "5" not.
    assert did_you_mean(4, [5, 40]) == " (did you mean '40'?)"
    assert did_you_mean("xyz", ["label", "data"]) == ""


def test_did_you_mean_joins_several_suggestions_best_first():
    assert did_you_mean("colour", ["colours", "color", "size"]) == (
        " (did you mean 'colours' or 'color'?)"
    )


def test_did_you_mean_cuts_each_suggestion_to_its_width():
    choice = "x" * 50 + "y"
    assert did_you_mean("x" * 50, [choice], width=20) == " (did you mean '" + "x" * 15 + "...'?)"


# --- first_line, not_utf8 ------------------------------------------------------------------------


def test_first_line_is_the_type_and_the_first_line_of_the_message():
    assert first_line(ValueError("bad shape\n  more detail")) == "ValueError: bad shape"
    assert first_line(KeyError()) == "KeyError"
    assert first_line(RuntimeError("  \n ")) == "RuntimeError"
    assert first_line(TypeError("\n  leading blank\nnext")) == "TypeError: leading blank"


def test_not_utf8_names_the_byte_and_its_line():
    raw = b"ok\nfine\n\xffbad\n"
    with pytest.raises(UnicodeDecodeError) as info:
        raw.decode("utf-8")
    message, line = not_utf8(raw, info.value)
    assert line == 3
    assert message == "not UTF-8 text (byte 0xff on line 3); save it as UTF-8"


def test_not_utf8_on_the_first_line():
    raw = "caf\u00e9".encode("latin-1")
    with pytest.raises(UnicodeDecodeError) as info:
        raw.decode("utf-8")
    assert not_utf8(raw, info.value) == (
        "not UTF-8 text (byte 0xe9 on line 1); save it as UTF-8",
        1,
    )


@pytest.mark.parametrize(
    ("count", "noun", "many", "shown"),
    [
        (1, "probe", None, "1 probe"),
        (0, "probe", None, "0 probes"),
        (2, "class", None, "2 classes"),
        (1, "class", None, "1 class"),
        (3, "entry", None, "3 entries"),
        (2, "key", None, "2 keys"),
        (2, "matrix", None, "2 matrixes"),
        (2, "pair interaction", None, "2 pair interactions"),
        (2, "datum", "data", "2 data"),
    ],
)
def test_plural_counts_in_the_number_the_noun_takes(count, noun, many, shown):
    assert plural(count, noun, many) == shown


def test_plural_groups_thousands_when_asked():
    assert plural(2532, "row", grouped=True) == "2,532 rows"
    assert plural(2532, "row") == "2532 rows"
