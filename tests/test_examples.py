"""The examples: their data is what we say it is, and their expectation suites pass."""

import importlib.util
import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load_make_data():
    spec = importlib.util.spec_from_file_location("make_data", EXAMPLES / "penguins/make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_penguins_csv_is_made_from_the_shipped_data():
    pytest.importorskip("palmerpenguins")
    committed = (EXAMPLES / "penguins/penguins.csv").read_text()
    made = _load_make_data().banded_penguins()
    assert len(made) == 344
    assert committed == made.to_csv(index=False)


def test_penguins_expectations_pass(pytester):
    shutil.copytree(EXAMPLES / "penguins", pytester.path, dirs_exist_ok=True)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["*::only Adelie nest on Torgersen PASSED*"])
