"""Size limits on what is read: the environment variables that replace them, and an expectation
file over its limit refused before it is read in full."""

from __future__ import annotations

import io

import pytest

from pytest_featureprobe.data import read_table
from pytest_featureprobe.errors import SpecError
from pytest_featureprobe.limits import (
    DATA_VARIABLE,
    LARGEST_LIMIT,
    SPEC_VARIABLE,
    TooLarge,
    from_environment,
    read_at_most,
    too_large,
)
from pytest_featureprobe.spec import load_document


@pytest.mark.parametrize("text", ["0", "-5", "1e6", "12MB", "²", "٣", "1.5"])
def test_a_limit_that_is_not_a_whole_number_above_zero_is_refused(monkeypatch, text):
    monkeypatch.setenv("FEATUREPROBE_MAX_X", text)
    with pytest.raises(ValueError, match="FEATUREPROBE_MAX_X must be a whole number above 0"):
        from_environment("FEATUREPROBE_MAX_X", 10)


def test_the_environment_replaces_the_default(monkeypatch):
    assert from_environment("FEATUREPROBE_MAX_X", 10) == 10
    monkeypatch.setenv("FEATUREPROBE_MAX_X", " 2048 ")
    assert from_environment("FEATUREPROBE_MAX_X", 10) == 2048


def test_the_message_gives_both_sizes_and_the_way_out():
    assert too_large(2_000_000, 1_000, "expectation files", SPEC_VARIABLE) == (
        "the file is 2,000,000 bytes; expectation files are read up to 1,000 bytes (set "
        "FEATUREPROBE_MAX_SPEC_BYTES to a larger number of bytes to read it)"
    )


def test_an_expectation_file_over_the_limit_is_refused_naming_it(tmp_path, monkeypatch):
    path = tmp_path / "featureprobe_big.yaml"
    path.write_text("model: {fixture: m}\nexpect:\n" + "  - {alone: a, predicts: b}\n" * 200)
    before = path.read_bytes()
    monkeypatch.setenv(SPEC_VARIABLE, "1000")
    with pytest.raises(SpecError) as caught:
        load_document(path)
    assert f"the file is {len(before):,} bytes; expectation files are read up to 1,000" in str(
        caught.value
    )
    assert "featureprobe_big.yaml" in str(caught.value)
    assert path.read_bytes() == before
    monkeypatch.setenv(SPEC_VARIABLE, str(len(before)))  # exactly at the limit: read
    load_document(path)


def test_a_bad_limit_value_names_the_variable_and_the_file(tmp_path, monkeypatch):
    path = tmp_path / "featureprobe_x.yaml"
    path.write_text("model: {fixture: m}\nexpect:\n  - {alone: a, predicts: b}\n")
    monkeypatch.setenv(SPEC_VARIABLE, "lots")
    with pytest.raises(SpecError, match="FEATUREPROBE_MAX_SPEC_BYTES must be a whole number"):
        load_document(path)


@pytest.mark.parametrize("text", ["99999999999999999999", "9" * 5000, str(1 << 62), "0" * 3 + "7"])
def test_a_huge_limit_is_capped_and_reads_nothing_ahead(tmp_path, monkeypatch, text):
    """A limit past any file is 'no limit' (at most LARGEST_LIMIT), never an OverflowError or a
    buffer of that size."""
    monkeypatch.setenv("FEATUREPROBE_MAX_X", text)
    expected = 7 if text.endswith("7") else LARGEST_LIMIT
    assert from_environment("FEATUREPROBE_MAX_X", 10) == expected
    path = tmp_path / "featureprobe_x.yaml"
    path.write_text("model: {fixture: m}\nexpect:\n  - {alone: a, predicts: b}\n")
    monkeypatch.setenv(SPEC_VARIABLE, text)
    monkeypatch.setenv(DATA_VARIABLE, text)
    if expected == LARGEST_LIMIT:
        assert load_document(path).path == path
        (tmp_path / "d.csv").write_text("a,label\nx,y\n")
        assert read_table(tmp_path / "d.csv").shape == (1, 2)


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 5000)

    class Counted(io.FileIO):
        read_bytes = 0

        def read(self, size=-1):
            out = super().read(size)
            Counted.read_bytes += len(out)
            return out

    with Counted(path) as stream, pytest.raises(TooLarge) as over:
        read_at_most(stream, 1000)
    assert over.value.size == 5000 and Counted.read_bytes == 0
    with Counted(path) as stream:
        assert read_at_most(stream, 5000) == b"x" * 5000


def test_a_stream_whose_size_lies_is_read_no_further_than_the_limit():
    stream = io.BytesIO(b"y" * 10_000)  # no file size to ask: read in chunks to the limit
    with pytest.raises(TooLarge) as over:
        read_at_most(stream, 3000)
    assert over.value.size == 3001 and stream.tell() == 3001
    assert read_at_most(io.BytesIO(b"abc"), 3) == b"abc"
