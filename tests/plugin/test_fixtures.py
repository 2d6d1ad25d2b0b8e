"""The fixtures' path rule: relative paths given to ``featureprobe_train`` and
``featureprobe_load`` are read from pytest's rootdir, whatever the working directory."""

from __future__ import annotations

import shutil
from pathlib import Path

from pytest_featureprobe.memo import ProbeSession

SEED = Path(__file__).resolve().parents[2] / "examples" / "problems"
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

TRAIN_CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def featureprobe_model(featureprobe_train):
    return featureprobe_train(
        "data/problems.csv", features="problems", label="results", epochs=1, hidden=[4]
    )
"""

TESTS = """
def test_trained_from_the_rootdir(featureprobe_model, featureprobe_train):
    assert featureprobe_model.classes == ("A", "C")
    again = featureprobe_train(
        "problems.csv", features="problems", label="results", epochs=1, hidden=[4],
        base_dir="data",
    )
    assert again is featureprobe_model


def test_sweep(featureprobe_sweep):
    assert len(featureprobe_sweep) == 1 + 6 + 15
"""


def _project(pytester) -> Path:
    """A project with its data under data/ and its tests under tests/, rootdir at the top."""
    pytester.makeini("[pytest]\n")
    (pytester.path / "data").mkdir()
    shutil.copy(SEED / "problems.csv", pytester.path / "data")
    tests = pytester.path / "tests"
    tests.mkdir()
    (tests / "test_model.py").write_text(TESTS)
    return tests


def test_train_reads_a_relative_path_from_the_rootdir_run_from_elsewhere(pytester, monkeypatch):
    tests = _project(pytester)
    (tests / "conftest.py").write_text(TRAIN_CONFTEST)
    elsewhere = pytester.mkdir("elsewhere")
    monkeypatch.chdir(elsewhere)
    result = pytester.runpytest(*QUIET, "--rootdir", str(pytester.path), str(tests))
    result.assert_outcomes(passed=2)
    monkeypatch.chdir(tests)  # from the tests' own folder too: the rootdir is found by its ini
    pytester.runpytest(*QUIET).assert_outcomes(passed=2)


def test_load_reads_model_and_feature_space_from_the_rootdir(pytester, monkeypatch):
    tests = _project(pytester)
    trained = ProbeSession(None).train(
        SEED / "problems.csv", "problems", "results", epochs=1, hidden=[4]
    )
    (pytester.path / "models").mkdir()
    trained.save(pytester.path / "models" / "model.keras")
    (pytester.path / "data" / "space.json").write_text(trained.space.to_json())
    (tests / "conftest.py").write_text(
        "import pytest\n\n\n"
        '@pytest.fixture(scope="session")\n'
        "def featureprobe_model(featureprobe_load):\n"
        '    return featureprobe_load("models/model.keras", features="data/space.json")\n'
    )
    (tests / "test_model.py").write_text(
        "def test_loaded(featureprobe_model, featureprobe_load):\n"
        '    assert featureprobe_model.classes == ("A", "C")\n'
        '    assert featureprobe_load("model.keras", base_dir="models").classes == ("A", "C")\n'
    )
    monkeypatch.chdir(tests)
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)


def test_a_missing_relative_file_is_named_as_read_from_the_rootdir(pytester, monkeypatch):
    tests = _project(pytester)
    (tests / "conftest.py").write_text(TRAIN_CONFTEST.replace("data/problems.csv", "nope.csv"))
    monkeypatch.chdir(tests)
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*nope.csv*"])


def _folder_model(words: list[str], leaning: str) -> str:
    return (
        "import numpy as np\nimport pytest\n\n\n"
        '@pytest.fixture(scope="session")\n'
        "def featureprobe_model(featureprobe_load):\n"
        f"    def forward(x):\n"
        f"        p = np.full(len(x), {0.8 if leaning == 'yes' else 0.2})\n"
        "        return np.stack([1 - p, p], axis=1)\n\n"
        f"    return featureprobe_load(forward, features={words!r}, classes=['no', 'yes'])\n"
    )


def test_each_folder_gets_the_sweep_of_its_own_model(pytester):
    """Two folders override featureprobe_model; each one's tests see its own model's sweep."""
    for folder, words, leaning in (("a", ["u", "v"], "yes"), ("b", ["w", "x", "y"], "no")):
        (pytester.path / folder).mkdir()
        (pytester.path / folder / "conftest.py").write_text(_folder_model(words, leaning))
        (pytester.path / folder / f"test_{folder}.py").write_text(
            "def test_sweep(featureprobe_sweep):\n"
            f"    assert list(featureprobe_sweep.space) == {words!r}\n"
            f"    assert featureprobe_sweep.predicted('zero') == {leaning!r}\n"
        )
    pytester.runpytest(*QUIET).assert_outcomes(passed=2)
