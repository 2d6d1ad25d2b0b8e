"""The HTML report (--featureprobe-report): a self-contained file whose figures are real images of
the sizes it declares, drift highlighted against a baseline, and a clear message without
matplotlib."""

from __future__ import annotations

import base64
import io
import json
import re
import sys

import numpy as np
import pytest

from pytest_featureprobe import report
from pytest_featureprobe.baseline import Baseline
from pytest_featureprobe.baseline.drift import DISPLAY_TOLERANCE, display_tolerances, drift_rows
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
FEATURES = ["a", "b", "c", "d", "e", "f"]
CLASSES = ["A", "B", "C"]
# Logits of each feature alone toward A, B, C; "e" leans to C.
WEIGHTS = [[2, -1, -1], [1, 0, -1], [-1, 2, -1], [0, 1, 0], [-1, -1, 2], [0.5, 0, 0]]
IMAGE = re.compile(
    r'<figure data-kind="(\w+)"><img alt="[^"]*" width="(\d+)" height="(\d+)" '
    r'src="data:image/png;base64,([A-Za-z0-9+/=]+)">'
)


def logits_model(weights=WEIGHTS, pair_bonus: float = 1.5):
    """Three classes over six features, with an interaction: a and c together lean to B."""
    w = np.array(weights, dtype=np.float64)

    def forward(x):
        logits = x @ w
        logits[:, 1] += pair_bonus * x[:, 0] * x[:, 2]
        return logits

    return from_callable(
        forward, FeatureSpace.from_names(FEATURES), CLASSES, outputs="logits", description="toy"
    )


def images(page: str) -> list[tuple[str, int, int, bytes]]:
    return [(k, int(w), int(h), base64.b64decode(d)) for k, w, h, d in IMAGE.findall(page)]


def decoded(data: bytes) -> np.ndarray:
    """Decode the PNG with matplotlib's reader: (height, width, channels)."""
    from matplotlib.image import imread

    return imread(io.BytesIO(data), format="png")


# --- write_report ---------------------------------------------------------------------------------


def test_images_are_real_pngs_of_the_declared_and_expected_size(tmp_path):
    pytest.importorskip("matplotlib")
    baseline = Baseline.from_sweep(logits_model().sweep(order=2), {"description": "toy"})
    sweep = logits_model([*WEIGHTS[:4], [2, -1, -1], WEIGHTS[5]]).sweep(order=2)  # e -> A
    entry = report.ReportEntry("toy model", sweep, baseline=baseline, tolerance=0.05)
    path = report.write_report(tmp_path / "out", [entry])
    assert path == tmp_path / "out" / "index.html"
    page = path.read_text(encoding="utf-8")

    found = images(page)
    assert [kind for kind, *_ in found] == ["heatmap", "attribution", "interaction", "drift"]
    expected = {
        "heatmap": report.heatmap_pixels(22, 3),
        "attribution": report.attribution_pixels(6, 3),
        "interaction": report.interaction_pixels(6, 3),
        "drift": report.drift_pixels(22),
    }
    for kind, width, height, data in found:
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert report.png_size(data) == (width, height) == expected[kind]
        pixels = decoded(data)
        assert pixels.shape[:2] == (height, width)
        assert pixels.std() > 0.05  # something is drawn

    # Drift: "e" now predicts A (a flip), highlighted in the table and summary.
    assert '<tr class="flip"><td>e</td><td>C → A</td>' in page
    summary = re.search(r'<div class="drift-summary"><p>(.*?)</p>', page).group(1)
    assert summary.startswith("22 baseline probes: ")
    assert summary.startswith(
        "22 baseline probes: 5 changed the predicted class, 6 moved beyond tolerance (declared)"
    )
    assert '<span class="badge bad">drift</span>' in page


def test_the_page_is_self_contained(tmp_path):
    pytest.importorskip("matplotlib")
    page = report.write_report(tmp_path, [logits_model().sweep(order=2)]).read_text()
    assert page.startswith("<!DOCTYPE html>")
    for external in ("<script", "<link", "http://", "https://", "@import", "url("):
        assert external not in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)


def test_an_order_one_sweep_has_no_interaction_matrix(tmp_path):
    pytest.importorskip("matplotlib")
    page = report.write_report(tmp_path, [logits_model().sweep(order=1)]).read_text()
    assert [kind for kind, *_ in images(page)] == ["heatmap", "attribution"]
    assert "No pair interaction matrix: this sweep has no pairs" in page
    assert "no baseline" in page


def test_large_sweeps_are_summarised(tmp_path):
    pytest.importorskip("matplotlib")
    n = 80
    weights = np.linspace(-2, 2, n)

    def forward(x):
        return np.stack([x @ weights, -(x @ weights)], axis=1)

    model = from_callable(
        forward, FeatureSpace.from_names(range(n)), ["yes", "no"], outputs="logits"
    )
    page = report.write_report(tmp_path, [model.sweep(order=2)]).read_text()
    sizes = {kind: (w, h) for kind, w, h, _ in images(page)}
    assert sizes["heatmap"] == report.heatmap_pixels(report.MAX_HEATMAP_PROBES, 2)
    assert sizes["attribution"] == report.attribution_pixels(report.MAX_BAR_FEATURES, 2)
    assert sizes["interaction"] == report.interaction_pixels(report.MAX_MATRIX_FEATURES, 1)
    assert f"60 of {1 + n + n * (n - 1) // 2} probes" in page
    assert f"the 25 strongest of {n}" in page


def test_interaction_matrix_holds_the_pair_interactions():
    sweep = logits_model().sweep(order=2)
    matrix = report.interaction_matrix(sweep, FEATURES, "B")
    assert np.isnan(np.diag(matrix)).all()
    assert matrix[0, 2] == matrix[2, 0] == pytest.approx(sweep.table.loc["a+c", "interaction(B)"])
    assert matrix[0, 2] > 0.1  # the bonus of a and c together


# --- pytest --featureprobe-report -----------------------------------------------------------------

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
    assert '<td class="failed">failed</td>' in file_section
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


def test_baseline_tolerances_per_probe_are_used(tmp_path):
    sweep = logits_model().sweep(order=1)
    baseline = Baseline.from_sweep(sweep)
    rows = drift_rows(baseline, sweep, [0.0] * 7)
    assert [r["probe"] for r in rows][:1] and not any(r["flipped"] for r in rows)
    assert all(r["tolerance"] == 0.0 for r in rows)
    assert display_tolerances(baseline, None).tolist() == [DISPLAY_TOLERANCE] * 7


def test_text_is_escaped(tmp_path):
    pytest.importorskip("matplotlib")
    entry = report.ReportEntry("<b>model</b> & co", None, notes=["not probed: <oops>"])
    page = report.write_report(tmp_path, [entry]).read_text()
    assert "&lt;b&gt;model&lt;/b&gt; &amp; co" in page and "<b>model" not in page
    assert "not probed: &lt;oops&gt;" in page


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
