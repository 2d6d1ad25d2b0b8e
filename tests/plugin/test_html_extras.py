"""pytest-html's report (``--html``): each expectation item's probe, expected and observed values
in its row, each file's heatmap and drift figure once as extras (also under pytest-xdist), and
nothing of it imported in a run without ``--html``."""

from __future__ import annotations

import base64
import html
import json
import re
import sys
from pathlib import Path

import pytest

from pytest_featureprobe.plugin.html_extras import row_values
from pytest_featureprobe.report import png_size

from ..report_toy import CLASSES, FEATURES, QUIET, WEIGHTS
from .test_report_plugin import CONFTEST

pytest.importorskip("pytest_html")

GATED = """\
model:
  fixture: featureprobe_model
expect:
  - alone: a
    predicts: A
  - alone: c
    predicts: A
  - alone: [a, b, e]
    predicts: A
drift:
  order: 2
  max_abs_delta: 0.05
  max_flips: 0
"""

PLAIN = """\
model:
  fixture: featureprobe_model
expect:
  - alone: e
    predicts: C
  - alone: [a, f]
    predicts: A
"""


def rendered(path: Path) -> dict[str, dict]:
    """Each test's row of a pytest-html 4 report (the data its page script renders), by id."""
    page = path.read_text(encoding="utf-8")
    blob = re.search(r'data-jsonblob="([^"]*)"', page)
    assert blob, "no data blob in the pytest-html report"
    tests = json.loads(html.unescape(blob.group(1)))["tests"]
    return {nodeid: runs[-1] for nodeid, runs in tests.items()}


def cells(row: dict) -> dict[str, str]:
    """The featureprobe cells of a row: probe, expected, observed."""
    found = {}
    for cell in row["resultsTableRow"]:
        match = re.fullmatch(r'<td class="featureprobe-(\w+)">(.*)</td>', cell, re.S)
        if match:
            found[match.group(1)] = html.unescape(match.group(2))
    return found


def figures(rows: dict[str, dict]) -> list[tuple[str, str, bytes]]:
    """(test id, extra name, PNG bytes) of every image extra in the report."""
    found = []
    for nodeid, row in rows.items():
        for extra in row["extras"]:
            if extra["format_type"] == "image":
                content = extra["content"]
                assert content.startswith("data:image/png;base64,"), content[:40]
                data = base64.b64decode(content.removeprefix("data:image/png;base64,"))
                found.append((nodeid, extra["name"], data))
    return found


@pytest.fixture
def toy(pytester: pytest.Pytester) -> pytest.Pytester:
    """Two expectation files over the toy model, one with a drift gate and its baseline."""
    pytester.makeconftest(CONFTEST.format(weights=WEIGHTS, features=FEATURES, classes=CLASSES))
    pytester.makefile(".yaml", featureprobe_gated=GATED, featureprobe_plain=PLAIN)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess(*QUIET, "-p", "no:xdist", "--featureprobe-update")
    result.assert_outcomes(passed=6, failed=2)  # c and e lean elsewhere
    return pytester


def check_report(pytester: pytest.Pytester) -> None:
    rows = rendered(pytester.path / "report.html")
    assert cells(rows["featureprobe_gated.yaml::alone-a-predicts-A"]) == {
        "probe": "a",
        "expected": "predicts A",
        "observed": "A (P(A)=0.909  P(B)=0.045  P(C)=0.045)",
    }
    failed = cells(rows["featureprobe_gated.yaml::alone-c-predicts-A"])
    assert failed["probe"] == "c"
    assert failed["observed"].startswith("B (P(A)=")
    assert cells(rows["featureprobe_gated.yaml::alone-a_b_e-predicts-A"])["probe"] == (
        "e (worst of 3)"
    )
    assert cells(rows["featureprobe_plain.yaml::alone-a_f-predicts-A"])["probe"] == "2 probes"
    assert cells(rows["featureprobe_gated.yaml::drift-flips"]) == {
        "probe": "",
        "expected": "",
        "observed": "flips=0, max_flips=0",
    }
    assert cells(rows["test_plain.py::test_plain"]) == {"probe": "", "expected": "", "observed": ""}
    # The figures: once per file (heatmap; drift where the file has a baseline), not per item.
    names = sorted(name for _, name, _ in figures(rows))
    assert names == [
        "featureprobe drift: featureprobe_gated.yaml",
        "featureprobe heatmap: featureprobe_gated.yaml",
        "featureprobe heatmap: featureprobe_plain.yaml",
    ]
    for nodeid, name, data in figures(rows):
        assert nodeid.split("::")[0] == name.split(": ")[1]  # on an item of its own file
        width, height = png_size(data)
        assert width > 300 and height > 100, name
    page = (pytester.path / "report.html").read_text(encoding="utf-8")
    assert re.findall(r"<th[^>]*>(\w+)</th>", page)[:5] == [
        "Result",
        "Test",
        "Probe",
        "Expected",
        "Observed",
    ]


@pytest.mark.system
def test_the_html_report_carries_values_and_each_files_figures_once(toy):
    result = toy.runpytest_subprocess(
        *QUIET, "-p", "no:xdist", "--html=report.html", "--self-contained-html"
    )
    result.assert_outcomes(passed=6, failed=2)
    check_report(toy)
    assert json.loads((toy.path / "imported.json").read_text()) == ["matplotlib"]


@pytest.mark.system
def test_under_xdist_the_figures_travel_from_the_workers_once_per_file(toy):
    pytest.importorskip("xdist")
    result = toy.runpytest_subprocess(
        *QUIET, "-n", "2", "--dist", "load", "--html=report.html", "--self-contained-html"
    )
    result.assert_outcomes(passed=6, failed=2)
    check_report(toy)


@pytest.mark.system
def test_a_run_without_html_does_not_import_the_extras_or_matplotlib(toy):
    toy.makeconftest(
        CONFTEST.format(weights=WEIGHTS, features=FEATURES, classes=CLASSES).replace(
            '("matplotlib", "tensorflow")',
            '("matplotlib", "tensorflow", "pytest_featureprobe.plugin.html_extras", "pytest_html")',
        )
    )
    toy.runpytest_subprocess(*QUIET).assert_outcomes(passed=6, failed=2)
    assert json.loads((toy.path / "imported.json").read_text()) == ["pytest_html"]  # its plugin
    disabled = ("-p", "no:html", "-p", "no:html_fixtures")
    toy.runpytest_subprocess(*QUIET, *disabled).assert_outcomes(passed=6, failed=2)
    assert json.loads((toy.path / "imported.json").read_text()) == []


def test_without_matplotlib_rows_keep_their_values_and_a_note_says_why(fruit, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    (fruit.path / "featureprobe_fruit.yaml").write_text(
        "model:\n  fixture: fruit_model\nexpect:\n  - alone: long\n    predicts: banana\n"
    )
    result = fruit.runpytest(
        "-p", "no:cacheprovider", "--html=report.html", "--self-contained-html"
    )
    result.assert_outcomes(passed=1)
    row = rendered(fruit.path / "report.html")[
        "featureprobe_fruit.yaml::alone-long-predicts-banana"
    ]
    assert cells(row)["expected"] == "predicts banana"
    assert [e["format_type"] for e in row["extras"]] == ["html"]
    assert "pip install 'pytest-featureprobe[report]'" in row["extras"][0]["content"]


def test_row_values_of_several_probes_and_of_a_drift_gate():
    worst = {
        "featureprobe_probes": 6,
        "featureprobe_worst_probe": "4",
        "featureprobe_observed": "C",
    }
    assert row_values({**worst, "featureprobe_expected": "predicts A"}) == (
        "4 (worst of 6)",
        "predicts A",
        "C",
    )
    drift = {
        "featureprobe_model": "m",
        "featureprobe_max_abs_delta": 0.2,
        "featureprobe_drifted": 1,
    }
    assert row_values(drift) == ("", "", "max_abs_delta=0.2, drifted=1")
    assert row_values({}) == ("", "", "")
