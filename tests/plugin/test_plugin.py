"""The pytest side: fixtures from ordinary Python tests, short errors, ini options, the seed example
suite, and what the plugin costs a run that never probes a model."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from pytest_featureprobe.memo import ProbeSession

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED = EXAMPLES / "problems"
HEAVY = ("tensorflow", "keras", "pandas", "matplotlib")
QUIET = ("-p", "no:hypothesispytest")


# A model over 4 features without Keras: P(yes) rises with feature a, falls with feature d.
CALLABLE_CONFTEST = """
import numpy as np
import pytest


def forward(x):
    p_yes = 0.5 + 0.3 * x[:, 0] - 0.3 * x[:, 3]
    return np.stack([1 - p_yes, p_yes], axis=1)


@pytest.fixture(scope="session")
def featureprobe_model(featureprobe_load):
    return featureprobe_load(forward, features=["a", "b", "c", "d"], classes=["no", "yes"])
"""


# --- fixtures in Python tests ---------------------------------------------------------------------


def test_fixtures_from_python_tests(pytester):
    shutil.copy(SEED / "problems.csv", pytester.path)
    pytester.makeconftest(
        """
        from pathlib import Path

        import pytest

        HERE = Path(__file__).parent


        @pytest.fixture(scope="session")
        def featureprobe_model(featureprobe_train):
            return featureprobe_train(
                HERE / "problems.csv", features="problems", label="results", epochs=20
            )
        """
    )
    pytester.makepyfile(
        test_model="""
        import numpy as np

        from pytest_featureprobe.models import ProbeModel


        def test_train_gives_a_probe_model(featureprobe_model):
            assert isinstance(featureprobe_model, ProbeModel)
            assert featureprobe_model.classes == ("A", "C")
            assert list(featureprobe_model.space) == ["1", "2", "3", "4", "5", "6"]
            assert featureprobe_model.info["source"] == "train"
            assert featureprobe_model.info["spec"]["epochs"] == 20


        def test_train_is_memoised(featureprobe_model, featureprobe_train, tmp_path):
            again = featureprobe_train(
                "problems.csv", features="problems", label="results", epochs=20
            )
            assert again is featureprobe_model


        def test_sweep_reads_as_the_method(featureprobe_sweep):
            # Default featureprobe_order 2: zero, 6 singles, 15 pairs.
            assert len(featureprobe_sweep) == 1 + 6 + 15
            assert featureprobe_sweep.predicted([4]) == "C"
            assert featureprobe_sweep.predicted([1]) == "A"
            assert featureprobe_sweep.probabilities([4, 5])["C"] > 0.9


        def test_load_adapts_a_callable(featureprobe_load):
            model = featureprobe_load(
                lambda x: np.tile([0.25, 0.75], (len(x), 1)),
                features=["u", "v"],
                classes=["n", "y"],
            )
            assert model.sweep(order=1).predicted("zero") == "y"


        def test_load_passes_a_probe_model_through(featureprobe_load, featureprobe_model):
            assert featureprobe_load(featureprobe_model) is featureprobe_model
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *QUIET, "-v")
    result.assert_outcomes(passed=5)


def test_load_of_a_saved_keras_file_from_a_fixture(pytester):
    trained = ProbeSession(None).train(
        SEED / "problems.csv", "problems", "results", epochs=1, hidden=[4]
    )
    trained.save(pytester.path / "model.keras")
    pytester.makeconftest(
        """
        import pytest


        @pytest.fixture(scope="session")
        def featureprobe_model(featureprobe_load):
            return featureprobe_load("model.keras")
        """
    )
    pytester.makepyfile(
        test_loaded="""
        def test_space_and_classes_come_from_the_sidecar(featureprobe_model, featureprobe_sweep):
            assert featureprobe_model.classes == ("A", "C")
            assert len(featureprobe_model.space) == 6
            assert len(featureprobe_sweep) == 22
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", *QUIET).assert_outcomes(passed=1)


def test_featureprobe_model_must_be_overridden(pytester):
    pytester.makepyfile(
        test_nomodel="""
        def test_sweep(featureprobe_sweep):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *QUIET)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "featureprobe: no model. Define a session-scoped `featureprobe_model` fixture in "
            "conftest.py that returns featureprobe_train(...) or featureprobe_load(...).",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_featureprobe_error_in_a_fixture_is_one_short_line(pytester):
    shutil.copy(SEED / "problems.csv", pytester.path)
    pytester.makeconftest(
        """
        import pytest


        @pytest.fixture(scope="session")
        def featureprobe_model(featureprobe_train):
            return featureprobe_train("problems.csv", features="problems", label="result")
        """
    )
    pytester.makepyfile(
        test_badlabel="""
        def test_sweep(featureprobe_sweep):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *QUIET)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["featureprobe: label: no label column 'result' (did you mean 'results'[?])"]
    )
    text = result.stdout.str()
    assert "Traceback" not in text
    assert "pytest_featureprobe/" not in text
    assert "site-packages" not in text


def test_a_model_that_does_not_return_probabilities_is_one_short_line(pytester):
    pytester.makeconftest(
        """
        import pytest


        @pytest.fixture(scope="session")
        def featureprobe_model(featureprobe_load):
            return featureprobe_load(
                lambda x: x[:, :2] * 3 + 1, features=["a", "b"], classes=[0, 1]
            )
        """
    )
    pytester.makepyfile(test_bad="def test_sweep(featureprobe_sweep):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", *QUIET)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["featureprobe: * does not return probabilities*"])
    assert "Traceback" not in result.stdout.str()


# The callable model records the phase of the item pytest is running each time it is called.
PHASES_CONFTEST = (
    CALLABLE_CONFTEST
    + """
from pathlib import Path

PHASE, CALLS = ["collection"], []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    PHASE[0] = "setup"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    PHASE[0] = "call"


@pytest.fixture(scope="session")
def recorded_model(featureprobe_load):
    def model(x):
        CALLS.append(PHASE[0])
        return forward(x)

    return featureprobe_load(model, features=["a", "b", "c", "d"], classes=["no", "yes"])


@pytest.fixture(scope="session")
def broken_model():
    raise ValueError("no model today")


def pytest_sessionfinish(session):
    Path("calls.txt").write_text(" ".join(CALLS))
"""
)


def test_the_model_and_its_sweep_are_made_in_setup(pytester):
    """So --durations charges them to the setup of the file's first item, not to its call."""
    pytester.makeconftest(PHASES_CONFTEST)
    pytester.makefile(
        ".yaml",
        featureprobe_phases=(
            "model:\n  fixture: recorded_model\nexpect:\n  - alone: a\n    predicts: yes\n"
            "  - together: [a, b]\n    predicts: yes\n"
        ),
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *QUIET, "--durations=0", "-vv")
    result.assert_outcomes(passed=2)
    calls = (pytester.path / "calls.txt").read_text().split()
    assert calls and set(calls) == {"setup"}, calls
    result.stdout.fnmatch_lines(["*s setup    featureprobe_phases.yaml::alone-a-predicts-yes"])


def test_a_model_fixture_that_raises_still_fails_its_items(pytester):
    pytester.makeconftest(PHASES_CONFTEST)
    pytester.makefile(
        ".yaml",
        featureprobe_broken=(
            "model:\n  fixture: broken_model\nexpect:\n  - alone: a\n    predicts: yes\n"
            "  - alone: b\n    predicts: yes\n"
        ),
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *QUIET)
    result.assert_outcomes(failed=2)  # failures, as when the call made the model
    result.stdout.fnmatch_lines(["*ValueError: no model today*"])


@pytest.mark.parametrize(("order", "rows"), [("1", 1 + 4), ("2", 1 + 4 + 6), ("3", 1 + 4 + 6 + 4)])
def test_featureprobe_order_sets_the_sweep_rows(pytester, order, rows):
    pytester.makeconftest(CALLABLE_CONFTEST)
    pytester.makeini(f"[pytest]\nfeatureprobe_order = {order}\n")
    pytester.makepyfile(
        test_order=f"""
        def test_rows(featureprobe_sweep):
            assert len(featureprobe_sweep) == {rows}
            assert featureprobe_sweep.predicted(["a"]) == "yes"
            assert featureprobe_sweep.predicted(["d"]) == "no"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", *QUIET).assert_outcomes(passed=1)


def test_featureprobe_order_default_is_two(pytester):
    pytester.makeconftest(CALLABLE_CONFTEST)
    pytester.makepyfile(
        test_order="""
        def test_rows(featureprobe_sweep):
            assert featureprobe_sweep.order == 2
            assert len(featureprobe_sweep) == 1 + 4 + 6
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", *QUIET).assert_outcomes(passed=1)


def test_python_tests_and_expectation_files_share_the_model_fixture(pytester):
    pytester.makeconftest(CALLABLE_CONFTEST)
    pytester.makepyfile(
        test_both="""
        def test_a_is_yes(featureprobe_sweep):
            assert featureprobe_sweep.predicted(["a"]) == "yes"
        """
    )
    (pytester.path / "featureprobe_both.yaml").write_text(
        textwrap.dedent(
            """\
            model:
              fixture: featureprobe_model
            expect:
              - alone: a
                predicts: yes
                min_prob: 0.8
              - alone: d
                predicts: no
            """
        )
    )
    pytester.runpytest("-p", "no:cacheprovider", *QUIET).assert_outcomes(passed=3)


# --- the seed example -----------------------------------------------------------------------------


def test_seed_example_suite_passes(pytester):
    shutil.copytree(SEED, pytester.path / "problems")
    result = pytester.runpytest("-p", "no:cacheprovider", *QUIET, "-v", "problems")
    result.assert_outcomes(passed=8 + 8, xfailed=1)
    text = result.stdout.str()
    outcome = r" (PASSED|FAILED|XFAIL|XPASS|SKIPPED|ERROR)"
    assert len(re.findall(r"^problems/test_problems\.py::\S+" + outcome, text, re.M)) == 8
    assert len(re.findall(r"^problems/featureprobe_problems\.yaml::\S+" + outcome, text, re.M)) == 9
    result.stdout.fnmatch_lines(
        ["problems/featureprobe_problems.yaml::feature-3-is-a-close-call XFAIL*"]
    )


# --- what the plugin costs ------------------------------------------------------------------------


RECORD_CONFTEST = """
import json
import sys

HEAVY = {heavy!r}


def pytest_sessionfinish(session):
    with open("imported.json", "w") as f:
        json.dump(sorted(m for m in HEAVY if m in sys.modules), f)
"""


@pytest.mark.system
def test_a_run_without_models_does_not_import_tensorflow(pytester):
    pytester.makeconftest(RECORD_CONFTEST.format(heavy=HEAVY))
    pytester.makepyfile(test_trivial="def test_one():\n    assert 1 + 1 == 2\n")
    (pytester.path / "config.yaml").write_text("not: [an expectation file\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *QUIET)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins:*featureprobe*"])
    assert (pytester.path / "imported.json").read_text() == "[]"


@pytest.mark.system
def test_expectations_on_a_callable_model_do_not_import_tensorflow(pytester):
    pytester.makeconftest(CALLABLE_CONFTEST + RECORD_CONFTEST.format(heavy=("tensorflow", "keras")))
    (pytester.path / "featureprobe_light.yaml").write_text(
        textwrap.dedent(
            """\
            model:
              fixture: featureprobe_model
            expect:
              - alone: a
                predicts: yes
              - together: [a, b]
                predicts: no
              - every: {order: 2, containing: d, except: [a]}
                predicts: no
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *QUIET)
    result.assert_outcomes(passed=2, failed=1)
    assert (pytester.path / "imported.json").read_text() == "[]"
