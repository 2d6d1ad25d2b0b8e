"""The HTML report as a library writes it (``report.write_report``): a self-contained file whose
figures are real images of the sizes it declares, with drift highlighted against a baseline."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pytest_featureprobe import report
from pytest_featureprobe.baseline import Baseline
from pytest_featureprobe.baseline.drift import DISPLAY_TOLERANCE, display_tolerances, drift_rows
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

from ..report_toy import FEATURES, WEIGHTS, decoded, images, logits_model

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
    assert f"60 of {1 + n + n * (n - 1) // 2:,} probes" in page
    assert f"the 25 strongest of {n}" in page


def test_interaction_matrix_holds_the_pair_interactions():
    sweep = logits_model().sweep(order=2)
    matrix = report.interaction_matrix(sweep, FEATURES, "B")
    assert np.isnan(np.diag(matrix)).all()
    assert matrix[0, 2] == matrix[2, 0] == pytest.approx(sweep.table.loc["a+c", "interaction(B)"])
    assert matrix[0, 2] > 0.1  # the bonus of a and c together


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
