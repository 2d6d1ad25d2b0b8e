"""Size limits on what is read: the environment variables that replace them, and an expectation
file over its limit refused before it is read in full."""

from __future__ import annotations

import pytest

from pytest_featureprobe.errors import SpecError
from pytest_featureprobe.limits import SPEC_VARIABLE, from_environment, too_large
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
