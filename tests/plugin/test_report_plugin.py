"""``pytest --featureprobe-report DIR``: the report of a run, with each file's drift against its
baseline, the fixture sweeps, a clear message without matplotlib, and tolerances as the checks
read them."""

from __future__ import annotations

import html
import json
import re
import sys

import pytest

from pytest_featureprobe import report

from ..report_toy import CLASSES, FEATURES, QUIET, WEIGHTS, images
from .reports import section

CONFTEST = """
import json
import sys

import numpy as np
import pytest

WEIGHTS = {weights!r}


def forward(x):
    return x @ np.array(WEIGHTS)


@pytest.fixture(scope="session")
def featureprobe_model(featureprobe_load):
    return featureprobe_load(
        forward, features={features!r}, classes={classes!r}, outputs="logits"
    )


def pytest_sessionfinish(session):
    with open("imported.json", "w") as f:
        json.dump(sorted(m for m in ("matplotlib", "tensorflow") if m in sys.modules), f)
"""

EXPECTATIONS = """\
model:
  fixture: featureprobe_model
expect:
  - alone: a
    predicts: A
  - alone: e
    predicts: C
drift:
  order: 2
  max_abs_delta: 0.05
  max_flips: 0
"""


@pytest.mark.system
def test_report_of_a_run_with_drift_against_its_baseline(pytester):
    pytest.importorskip("matplotlib")
    conftest = dict(features=FEATURES, classes=CLASSES)
    pytester.makeconftest(CONFTEST.format(weights=WEIGHTS, **conftest))
    pytester.makefile(".yaml", featureprobe_toy=EXPECTATIONS)
    pytester.makepyfile(
        test_sweep="def test_sweep(featureprobe_sweep):\n    assert len(featureprobe_sweep) == 22\n"
    )
    # Without the option, matplotlib is never imported, even when models are probed.
    result = pytester.runpytest_subprocess(*QUIET, "--featureprobe-update")
    result.assert_outcomes(passed=5)
    assert json.loads((pytester.path / "imported.json").read_text()) == []

    # Retrained: feature e now leans to A.
    changed = [*WEIGHTS[:4], [2, -1, -1], WEIGHTS[5]]
    pytester.makeconftest(CONFTEST.format(weights=changed, **conftest))
    result = pytester.runpytest_subprocess(*QUIET, "--featureprobe-report", "out/report")
    result.assert_outcomes(passed=2, failed=3)
    index = pytester.path / "out" / "report" / "index.html"
    result.stdout.fnmatch_lines([f"featureprobe report: {index}"])
    assert json.loads((pytester.path / "imported.json").read_text()) == ["matplotlib"]

    page = index.read_text(encoding="utf-8")
    sections = re.findall(r'<section class="model" id="model-\d+"><h2>(.*?)</h2>', page)
    assert sections == ["featureprobe_toy.yaml", "featureprobe_sweep fixture: callable forward"]
    file_section, fixture_section = page.split('<section class="model"')[1:]
    assert [k for k, *_ in images(file_section)] == [
        "heatmap",
        "attribution",
        "interaction",
        "drift",
    ]
    assert [k for k, *_ in images(fixture_section)] == ["heatmap", "attribution", "interaction"]
    for kind, width, height, data in images(page):
        assert report.png_size(data) == (width, height), kind
    assert "<h3>Tests (3 failed, 1 passed)</h3>" in file_section
    assert re.search(
        r'<td class="failed"><a href="#model-1-failure-\d">failed</a></td>', file_section
    )
    # Each failed item shows the text the terminal shows for it.
    failures = re.findall(
        r'<div class="failure" id="([^"]+)"><p>.*?</span> (.*?)</p><pre>(.*?)</pre>',
        file_section,
        re.S,
    )
    assert [name for _, name, _ in failures] == [
        "alone-e-predicts-C",
        "drift-flips",
        "drift-max_abs_delta",
    ]
    for anchor, name, text in failures:
        assert f'href="#{anchor}"' in file_section
        terminal = [x for x in section(result, name) if not x.startswith("featureprobe report:")]
        assert [line for line in html.unescape(text).splitlines() if line.strip()] == terminal
    assert "observed A" in failures[0][2]
    # The overview: counts as pytest counts them, the badge of the worst outcome.
    assert '<span class="badge bad" title="3 failed, 1 passed">failed</span>' in page
    assert '<tr class="flip"><td>e</td><td>C → A</td>' in file_section
    assert "moved beyond tolerance (declared)" in file_section
    assert '<span class="badge bad">drift</span>' in page
    assert "<h3>Tests (1 passed)</h3>" in fixture_section


def test_without_matplotlib_the_option_says_how_to_install_it(pytester, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = pytester.runpytest(*QUIET, "--featureprobe-report", "out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "matplotlib, which is not installed: pip install 'pytest-featureprobe[report]'" in (
        result.stderr.str()
    )
    assert not (pytester.path / "out").exists()
    with pytest.raises(report.ReportUnavailable, match=re.escape(report.INSTALL_HINT)):
        report.write_report(pytester.path / "out", [])


def test_the_option_is_listed_in_help(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--featureprobe-report=DIR*"])


@pytest.mark.system
def test_a_per_probe_tolerance_reaches_the_report_as_the_check_reads_it(pytester):
    """per_probe names a probe in any feature order ("e+a" is the probe a+e): the report's drift
    table shows the tolerance the check applies (0.001), not the file-wide max_abs_delta."""
    pytest.importorskip("matplotlib")
    pytester.makeconftest(CONFTEST.format(weights=WEIGHTS, features=FEATURES, classes=CLASSES))
    pytester.makefile(
        ".yaml",
        featureprobe_toy=EXPECTATIONS.replace(
            "  max_abs_delta: 0.05\n", '  max_abs_delta: 0.5\n  per_probe: {"e+a": 0.001}\n'
        ),
    )
    pytester.runpytest_subprocess(*QUIET, "--featureprobe-update").assert_outcomes(passed=4)
    changed = [*WEIGHTS[:4], [-1, -0.9, 2], WEIGHTS[5]]  # a+e moves a little, nothing flips
    pytester.makeconftest(CONFTEST.format(weights=changed, features=FEATURES, classes=CLASSES))
    result = pytester.runpytest_subprocess(*QUIET, "--featureprobe-report", "out", "-rf")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["  a+e *0.001"])  # the check's table: the probe's tolerance
    page = (pytester.path / "out" / "index.html").read_text(encoding="utf-8")
    row = re.search(r"<tr[^>]*><td>a\+e</td>(.*?)</tr>", page)
    assert row is not None
    assert row.group(1).endswith('<td class="num">0.001</td>'), row.group(1)


@pytest.mark.system
def test_a_per_probe_key_naming_an_unknown_feature_fails_its_check_not_the_report(pytester):
    pytest.importorskip("matplotlib")
    pytester.makeconftest(CONFTEST.format(weights=WEIGHTS, features=FEATURES, classes=CLASSES))
    pytester.makefile(
        ".yaml",
        featureprobe_toy=EXPECTATIONS.replace(
            "  max_abs_delta: 0.05\n", '  max_abs_delta: 0.5\n  per_probe: {"e+zz": 0.0}\n'
        ),
    )
    pytester.runpytest_subprocess(*QUIET, "--featureprobe-update")
    result = pytester.runpytest_subprocess(*QUIET, "--featureprobe-report", "out")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines([f"featureprobe report: {pytester.path / 'out' / 'index.html'}"])
    page = (pytester.path / "out" / "index.html").read_text(encoding="utf-8")
    assert "no declared tolerances: unknown feature &#x27;zz&#x27;" in page
    assert "<h3>Drift against the baseline</h3>" in page  # drawn, with no tolerance drawn


@pytest.mark.system
def test_a_run_with_an_xfail_and_flips_only_counts_as_pytest_and_draws_no_tolerance(pytester):
    """xfailed is counted as xfailed, the failing file's badge is "failed", and a drift section
    that declares only max_flips gets no tolerance (no 0.100 the gate never declared)."""
    pytest.importorskip("matplotlib")
    pytester.makeconftest(CONFTEST.format(weights=WEIGHTS, features=FEATURES, classes=CLASSES))
    pytester.makefile(
        ".yaml",
        featureprobe_toy=(
            "model:\n  fixture: featureprobe_model\nexpect:\n"
            "  - alone: a\n    predicts: A\n"
            "  - alone: c\n    predicts: A\n    marks:\n      - xfail: c leans to B\n"
            "drift:\n  order: 2\n  max_flips: 0\n"
        ),
    )
    pytester.runpytest_subprocess(*QUIET, "--featureprobe-update").assert_outcomes(
        passed=2, xfailed=1
    )
    changed = [*WEIGHTS[:4], [2, -1, -1], WEIGHTS[5]]
    pytester.makeconftest(CONFTEST.format(weights=changed, features=FEATURES, classes=CLASSES))
    result = pytester.runpytest_subprocess(*QUIET, "--featureprobe-report", "out")
    result.assert_outcomes(passed=1, failed=1, xfailed=1)
    page = (pytester.path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<h3>Tests (1 failed, 1 passed, 1 xfailed)</h3>" in page
    assert '<td class="xfailed">xfailed</td>' in page
    assert '<span class="badge bad" title="1 failed, 1 passed, 1 xfailed">failed</span>' in page
    assert "2 / 3" not in page and "no baseline" not in page
    assert "no probability tolerance declared (max_abs_delta)" in page
    table = page[page.index('<table class="drift-table">') :]
    assert "0.100" not in table and '<td class="num">-</td></tr>' in table
    assert "probes changed their predicted class" in page  # drift-flips' failure text
