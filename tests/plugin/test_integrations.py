"""CI integrations: the end-of-run summary, JUnit properties, and pytest-xdist."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

FRUIT_FILE = """\
model:
  fixture: fruit_model
expect:
  - alone: red
    predicts: apple
  - alone: long
    predicts: apple
"""


def test_summary_line_per_file(fruit):
    (fruit.path / "featureprobe_fruit.yaml").write_text(FRUIT_FILE)
    result = fruit.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*= featureprobe =*",
            "featureprobe_fruit.yaml: callable fruit; 8 probes; 1 failed, 1 passed",
        ]
    )


def test_verbose_prints_the_sweep_table(fruit):
    (fruit.path / "featureprobe_fruit.yaml").write_text(FRUIT_FILE)
    quiet = fruit.runpytest("-p", "no:cacheprovider")
    assert "sweep of callable fruit" not in quiet.stdout.str()
    verbose = fruit.runpytest("-p", "no:cacheprovider", "-v")
    verbose.stdout.fnmatch_lines(
        ["sweep of callable fruit (order 1; context: zero)", "*P(apple)*P(banana)*"]
    )


def test_junit_xml_carries_probe_expected_and_observed(fruit):
    (fruit.path / "featureprobe_fruit.yaml").write_text(FRUIT_FILE)
    fruit.runpytest("-p", "no:cacheprovider", "--junitxml=report.xml")
    root = ET.parse(fruit.path / "report.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    failing = cases["alone-long-predicts-apple"]
    properties = {p.get("name"): p.get("value") for p in failing.iter("property")}
    assert properties["featureprobe_probe"] == "long"
    assert properties["featureprobe_expected"] == "predicts apple"
    assert properties["featureprobe_observed"] == "banana"
    assert properties["featureprobe_model"] == "callable fruit"
    assert "P(banana)=0.650" in properties["featureprobe_probabilities"]
    assert failing.find("failure") is not None


SUMMARY_FILE = """\
model:
  fixture: fruit_model
expect:
  - alone: long
    predicts: apple
  - name: sure of apples (zero)
    zero: true
    predicts: apple
    min_prob: 0.9
  - alone: [red, long, green]
    predicts: apple
"""

# What each failure's line says (the fruit model's probabilities, see tests/conftest.py).
SUMMARIES = {
    "alone-long-predicts-apple": "alone long -> apple: observed banana, P(apple)=0.300 < "
    "P(banana)=0.650",
    "sure-of-apples-zero": "zero -> apple: observed apple, P(apple)=0.600 < 0.9",
    "alone-red_long_green-predicts-apple": "2 of 3 probes fail (33.3% pass; all must pass); "
    "worst: alone long -> apple: observed banana, P(apple)=0.300 < P(banana)=0.650",
}


def test_the_short_summary_is_one_line_with_the_observed_value(fruit):
    (fruit.path / "featureprobe_fruit.yaml").write_text(SUMMARY_FILE)
    result = fruit.runpytest("-p", "no:cacheprovider", "-rf", "-vv")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [f"FAILED featureprobe_fruit.yaml::{name} - {line}" for name, line in SUMMARIES.items()]
    )
    # --tb=line: one line per failure, at the entry's line
    result = fruit.runpytest("-p", "no:cacheprovider", "--tb=line")
    result.stdout.fnmatch_lines(["*featureprobe_fruit.yaml:6: zero -> apple: observed apple, *"])
    assert "expectation 'sure of apples (zero)' failed" not in result.stdout.str()


def test_junit_failure_message_is_the_summary_and_the_body_the_full_text(fruit):
    (fruit.path / "featureprobe_fruit.yaml").write_text(SUMMARY_FILE)
    fruit.runpytest("-p", "no:cacheprovider", "--junitxml=report.xml")
    root = ET.parse(fruit.path / "report.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    for name, line in SUMMARIES.items():
        failure = cases[name].find("failure")
        assert failure.get("message") == line
        assert failure.text.startswith("featureprobe_fruit.yaml:")
        assert "expected predicts apple" in failure.text and len(failure.text.splitlines()) > 3
    several = {p.get("name"): p.get("value") for p in cases[name].iter("property")}
    assert several["featureprobe_failed_probes"] == "2"
    assert several["featureprobe_worst_probe"] == "long"  # the worst probe's figures
    assert several["featureprobe_observed"] == "banana"
    assert "P(banana)=0.650" in several["featureprobe_probabilities"]


# the folder's second walk-through (penguins, the seed test): not this fixture's subject
SLICES_WALK_THROUGH = shutil.ignore_patterns("*slices*", "penguins.csv", "relabel_slice.py")


@pytest.fixture
def gate_copy(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(
        EXAMPLES / "retrain_gate", pytester.path, dirs_exist_ok=True, ignore=SLICES_WALK_THROUGH
    )
    shutil.rmtree(pytester.path / "__featureprobe__")
    return pytester


def _outcomes(result: pytest.RunResult) -> dict[str, int]:
    return {k: v for k, v in result.parseoutcomes().items() if k in ("passed", "failed", "xfailed")}


@pytest.mark.system
def test_xdist_same_outcomes_and_baseline_written_once(gate_copy):
    pytest.importorskip("xdist")
    updated = gate_copy.runpytest_subprocess("-n", "2", "--featureprobe-update")
    assert _outcomes(updated) == {"passed": 3}
    written = [line for line in updated.outlines if line.startswith("baseline written:")]
    assert written == ["baseline written: __featureprobe__/featureprobe_gate.json"]
    text = (gate_copy.path / "__featureprobe__/featureprobe_gate.json").read_text()
    assert json.loads(text)["band"]["seeds"] == [0, 1, 2, 3, 4]
    # No lock or marker files next to the baseline: they live in pytest's cache.
    assert [p.name for p in (gate_copy.path / "__featureprobe__").iterdir()] == [
        "featureprobe_gate.json"
    ]
    # Relabel a row: the serial and the parallel run report the same outcomes.
    csv = gate_copy.path / "problems.csv"
    csv.write_text(csv.read_text().replace('"[1, 4, 5]",C', '"[1, 4, 5]",A'))
    serial = gate_copy.runpytest_subprocess("-p", "no:xdist")
    parallel = gate_copy.runpytest_subprocess("-n", "2")
    assert _outcomes(serial) == _outcomes(parallel) == {"passed": 1, "failed": 2}
    assert (gate_copy.path / "__featureprobe__/featureprobe_gate.json").read_text() == text


@pytest.mark.system
def test_xdist_summary_has_the_sweep_tables_and_unused_baselines_once(fruit):
    """Under -n 2 the workers hand the controller (workeroutput) the files they collected, the
    baselines those use and their -v sweep tables: the summary says what a serial run says."""
    pytest.importorskip("xdist")
    (fruit.path / "featureprobe_fruit.yaml").write_text(FRUIT_FILE)
    (fruit.path / "featureprobe_second.yaml").write_text("sweep: {order: 2}\n" + FRUIT_FILE)
    (fruit.path / "__featureprobe__").mkdir()
    (fruit.path / "__featureprobe__" / "featureprobe_gone.json").write_text("{}")

    def summary(*args: str) -> list[str]:
        result = fruit.runpytest_subprocess("-p", "no:cacheprovider", "-v", *args)
        lines = result.stdout.str().split("= featureprobe =")[-1].splitlines()
        return sorted(line for line in lines if line.startswith(("sweep of", "baseline unused")))

    serial, parallel = summary("-p", "no:xdist"), summary("-n", "2")
    assert serial == parallel
    assert serial == [
        "baseline unused (no selected expectation file uses it): "
        "__featureprobe__/featureprobe_gone.json",
        "sweep of callable fruit (order 1; context: zero)",
        "sweep of callable fruit (order 2; context: zero)",
    ]
