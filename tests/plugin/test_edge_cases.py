"""Edge cases found in review: each would otherwise crash, mislead or silently change meaning."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe.errors import DataError
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable
from pytest_featureprobe.spec import load_yaml

SEED_CSV = Path(__file__).resolve().parents[2] / "examples" / "problems" / "problems.csv"


@pytest.mark.parametrize("name", ["zero", "c++", "a+b"])
def test_feature_names_that_probe_names_cannot_carry_are_refused(name):
    with pytest.raises(DataError, match="cannot be probed by name"):
        FeatureSpace.from_names(["x", name])
    frame = pd.DataFrame({"tokens": [f"x {name}"]})
    with pytest.raises(DataError, match=re.escape(f"feature {name!r}")):
        FeatureSpace.from_frame(frame, tokens="tokens")


def test_yaml_numbers_follow_yaml_1_2():
    data = load_yaml("a: 010\nb: 1:20\nc: 1_000\nd: on\ne: 0x1f\nf: .5\ng: true\n", "x.yaml")
    assert dict(data) == {
        "a": 10,
        "b": "1:20",
        "c": "1_000",
        "d": "on",
        "e": 31,
        "f": 0.5,
        "g": True,
    }


def sweep_of_two_features():
    def predict(x):
        p = 1 / (1 + np.exp(-(x @ np.array([2.0, -1.0]))))
        return np.stack([1 - p, p], axis=1)

    return from_callable(predict, FeatureSpace.from_names(["4", "5"]), ["A", "C"]).sweep(order=2)


def test_probe_names_in_any_order_name_the_same_probe():
    sweep = sweep_of_two_features()
    assert sweep.probabilities("5+4") == sweep.probabilities("4+5") == sweep.probabilities([5, 4])
    with pytest.raises(DataError, match="unknown feature '6'"):
        sweep.row("4+6")


FILE_HEAD = """\
model:
  fixture: fruit_model
expect:
  - alone: red
    predicts: apple
"""


def run_file(fruit, text: str, *args: str):
    (fruit.path / "featureprobe_edge.yaml").write_text(FILE_HEAD + text)
    return fruit.runpytest("-p", "no:cacheprovider", *args)


def test_whole_number_floats_are_not_integers_and_fail_only_their_entry(fruit):
    result = run_file(fruit, "  - every: {order: 2.0}\n    predicts: apple\n")
    result.assert_outcomes(passed=1, errors=1)
    assert (
        "featureprobe: featureprobe_edge.yaml:6: expect[1].every.order: 2.0 is not of type "
        "'integer'" in result.stdout.str()
    )


def test_repeated_feature_in_together_is_an_error(fruit):
    result = run_file(fruit, "  - together: [red, red]\n    predicts: apple\n")
    result.assert_outcomes(passed=1, errors=1)
    assert "featureprobe_edge.yaml:6: expect[1].together: a feature repeats" in result.stdout.str()


def test_repeated_calibration_seeds_are_an_error(pytester):
    (pytester.path / "featureprobe_s.yaml").write_text(
        "model:\n  train: {data: problems.csv, features: problems, label: results}\n"
        "expect:\n  - alone: 4\n    predicts: C\n"
        "drift:\n  band: true\n  calibrate: {seeds: [3, 3]}\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*drift.calibrate.seeds: calibration seeds repeat*"])
    assert "Traceback" not in result.stdout.str()


def test_observed_of_a_direction_check_is_the_checked_class(fruit):
    run_file(fruit, "  - adding: long\n    lowers: apple\n", "--junitxml=r.xml")
    import xml.etree.ElementTree as ET

    case = next(
        c
        for c in ET.parse(fruit.path / "r.xml").getroot().iter("testcase")
        if c.get("name") == "adding-long-lowers-apple"
    )
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["featureprobe_observed"] == "-0.300"  # P(apple): 0.600 -> 0.300


def test_featureprobe_error_in_a_test_body_keeps_the_users_line(fruit):
    fruit.makepyfile(
        test_body="""
        def test_unknown(fruit_model):
            fruit_model.sweep(order=1).row([99])
        """
    )
    result = fruit.runpytest("-p", "no:cacheprovider", "test_body.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_body.py:2*", "*unknown feature '99'*"])


def test_bad_featureprobe_order_stops_the_run_before_training(pytester):
    pytester.makeini("[pytest]\nfeatureprobe_order = two\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*featureprobe_order must be an integer from 0 to 4, not 'two'*"])


def test_header_only_data_says_it_has_no_rows(pytester):
    (pytester.path / "empty.csv").write_text("problems,results\n")
    (pytester.path / "featureprobe_e.yaml").write_text(
        "model:\n  train: {data: empty.csv, features: problems, label: results}\n"
        "expect:\n  - alone: 1\n    predicts: A\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*the data has no rows*"])
    assert "Traceback" not in result.stdout.str()


def test_damaged_cache_entry_is_retrained(tmp_path):
    from pytest_featureprobe.memo import ProbeSession

    first = ProbeSession(tmp_path).train(SEED_CSV, "problems", "results", epochs=20)
    (weights,) = tmp_path.glob("models/*/weights.npz")
    weights.write_bytes(weights.read_bytes()[:100])  # truncated: not a zip any more
    again = ProbeSession(tmp_path).train(SEED_CSV, "problems", "results", epochs=20)
    assert again.info["from_cache"] is False
    assert again.fingerprint == first.fingerprint
    third = ProbeSession(tmp_path).train(SEED_CSV, "problems", "results", epochs=20)
    assert third.info["from_cache"] is True


def test_parametrize_mark_is_refused(fruit):
    result = run_file(fruit, "  - alone: red\n    predicts: apple\n    marks: [parametrize]\n")
    result.assert_outcomes(passed=1, errors=1)
    assert "expect[1].marks: the 'parametrize' mark does not apply" in result.stdout.str()


@pytest.mark.parametrize(
    "mark, message",
    [
        ("{skip: {reason: 5}}", "expect[1].marks: skip.reason must be text, not 5"),
        ("{xfail: {because: x}}", "expect[1].marks: the xfail mark has no keyword 'because'"),
    ],
)
def test_a_mark_pytest_would_refuse_is_an_error_at_its_line(fruit, mark, message):
    result = run_file(fruit, f"  - alone: red\n    predicts: apple\n    marks: [{mark}]\n")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert message in out
    assert "Traceback" not in out and "_pytest/" not in out


def test_an_expectation_file_over_the_size_limit_fails_alone(fruit, monkeypatch):
    (fruit.path / "featureprobe_big.yaml").write_text(
        FILE_HEAD + "  - {alone: red, predicts: apple}\n" * 100
    )
    (fruit.path / "featureprobe_small.yaml").write_text(FILE_HEAD)
    monkeypatch.setenv("FEATUREPROBE_MAX_SPEC_BYTES", "500")
    result = fruit.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert "featureprobe_big.yaml: the file is 3," in out
    assert "expectation files are read up to 500 bytes (set FEATUREPROBE_MAX_SPEC_BYTES" in out
    assert "Traceback" not in out


WIDE_CONFTEST = """
import numpy as np
import pytest
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

@pytest.fixture(scope="session")
def wide_model():
    weights = np.linspace(-1, 1, 60).reshape(30, 2)
    def predict(x):
        z = np.exp(np.asarray(x) @ weights)
        return z / z.sum(axis=1, keepdims=True)
    return from_callable(predict, FeatureSpace.from_names([f"f{i}" for i in range(30)]), "AB")
"""


def test_every_with_containing_sweeps_only_the_probes_it_selects(pytester):
    """All triples of 30 features are 4,060; those holding f29 are C(29, 2) = 406. The sweep is
    the zero probe, 30 singles and those 406 (issue 19: 20.7M triples for 124k needed)."""
    pytester.makeconftest(WIDE_CONFTEST)
    (pytester.path / "featureprobe_wide.yaml").write_text(
        "model:\n  fixture: wide_model\nexpect:\n"
        "  - every: {order: 3, containing: f29}\n    predicts: B\n"
        "  - every: {order: 3, containing: f0, except: f29}\n    predicts: B\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert f"{1 + 30 + 406 + 378:,} probes" in out  # 378 = C(28, 2): f0, not f29


def test_a_sweep_over_the_probe_limit_is_refused_before_any_work(pytester):
    pytester.makeconftest(WIDE_CONFTEST)
    (pytester.path / "featureprobe_wide.yaml").write_text(
        "model:\n  fixture: wide_model\nexpect:\n  - every: {order: 3}\n    predicts: B\n"
    )
    (pytester.path / "featureprobe_narrow.yaml").write_text(
        "model:\n  fixture: wide_model\nexpect:\n"
        "  - every: {order: 3, containing: f29}\n    predicts: B\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--featureprobe-max-probes", "1000")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert (
        "the sweep would run 4,526 probes (every probe up to order 3 of 30 features: 4,526), "
        "over the limit of 1,000" in out
    )
    assert "--featureprobe-max-probes" in out and "Traceback" not in out
    pytester.makeini("[pytest]\nfeatureprobe_max_probes = 5000\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
    bad = pytester.runpytest("-p", "no:cacheprovider", "--featureprobe-max-probes", "0")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "must be a whole number of at least 1, not '0'" in bad.stderr.str()
