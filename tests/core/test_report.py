"""The HTML report as a library writes it (``report.write_report``): a self-contained file whose
figures are real images of the sizes it declares, with drift highlighted against a baseline."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from pytest_featureprobe import report
from pytest_featureprobe.baseline import Baseline
from pytest_featureprobe.baseline.drift import DISPLAY_TOLERANCE, display_tolerances, drift_rows
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

from ..report_toy import CLASSES, FEATURES, WEIGHTS, decoded, images, logits_model

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


def test_the_fingerprint_is_shown_only_where_the_model_has_one(tmp_path):
    pytest.importorskip("matplotlib")
    sweep = logits_model().sweep(order=1)
    assert sweep.fingerprint is None  # a callable has no weights to fingerprint
    assert "fingerprint" not in report.write_report(tmp_path / "a", [sweep]).read_text()
    sweep.fingerprint = "5e2bfe79339c02b8"
    page = report.write_report(tmp_path / "b", [sweep]).read_text()
    assert "fingerprint <code>5e2bfe79339c02b8</code>: 6 features" in page


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


# --- the report says why (issue 17) ---------------------------------------------------------------


def test_a_failed_items_text_is_shown_and_linked_from_its_row(tmp_path):
    pytest.importorskip("matplotlib")
    text = "featureprobe_x.yaml:3: expectation 'alone-e' failed\n  alone e -> C: observed A <0.9>"
    entry = report.ReportEntry(
        "x.yaml",
        logits_model().sweep(order=1),
        results=[("alone-a", "passed"), ("alone-e", "failed")],
        failures={"alone-e": text},
    )
    page = report.write_report(tmp_path, [entry]).read_text()
    found = re.search(r'<div class="failure" id="([^"]+)">.*?<pre>(.*?)</pre>', page, re.S)
    assert found is not None and html.unescape(found.group(2)) == text
    assert f'<td class="failed"><a href="#{found.group(1)}">failed</a></td>' in page
    assert "<h3>Why they failed</h3>" in page
    # Before the figures: the reason is read next to them, not after the drift table.
    assert page.index("Why they failed") < page.index('data-kind="heatmap"')


def test_outcomes_are_counted_as_pytest_counts_them():
    results = [(f"p{i}", "passed") for i in range(8)] + [
        ("x", "xfailed"),
        ("f1", "failed"),
        ("f2", "failed"),
    ]
    assert report.outcome_counts(results) == "2 failed, 8 passed, 1 xfailed"
    more = [("e1", "error"), ("e2", "error"), ("s", "skipped"), ("xp", "xpassed")]
    assert report.outcome_counts(more) == "1 skipped, 1 xpassed, 2 errors"
    assert report.outcome_counts([(str(i), "passed") for i in range(1234)]) == "1,234 passed"


@pytest.mark.parametrize(
    ("outcomes", "worst"),
    [
        (["passed", "xfailed"], "xfailed"),
        (["passed", "xfailed", "skipped"], "skipped"),
        (["skipped", "xpassed", "passed"], "xpassed"),
        (["xpassed", "failed"], "failed"),
        (["failed", "error", "passed"], "error"),
        (["passed"], "passed"),
        ([], None),
    ],
)
def test_a_file_is_badged_by_its_worst_outcome(outcomes, worst):
    assert report.worst_outcome([(str(i), o) for i, o in enumerate(outcomes)]) == worst


def test_the_overview_shows_counts_and_the_worst_outcome_not_no_baseline(tmp_path):
    pytest.importorskip("matplotlib")
    results = [(f"p{i}", "passed") for i in range(8)] + [
        ("x", "xfailed"),
        ("f1", "failed"),
        ("f2", "failed"),
    ]
    failing = report.ReportEntry("failing.yaml", logits_model().sweep(order=1), results=results)
    clean = report.ReportEntry("clean.yaml", logits_model().sweep(order=1), results=results[:9])
    page = report.write_report(tmp_path, [failing, clean]).read_text()
    overview = page[: page.index("<section")]
    rows = re.findall(r"<tr><td><a [^>]*>(.*?)</a></td>(.*?)</tr>", overview)
    assert [name for name, _ in rows] == ["failing.yaml", "clean.yaml"]
    failing_row, clean_row = (cells for _, cells in rows)
    assert "<td>2 failed, 8 passed, 1 xfailed</td>" in failing_row
    assert '<span class="badge bad" title="2 failed, 8 passed, 1 xfailed">failed</span>' in (
        failing_row
    )
    assert '<span class="badge none" title="8 passed, 1 xfailed">xfailed</span>' in clean_row
    assert "9 / 11" not in page and ">no baseline</span></td>" in clean_row
    assert 'badge none">no baseline' not in page


def _drift_entry(**settings):
    baseline = Baseline.from_sweep(logits_model().sweep(order=2), {"description": "toy"})
    sweep = logits_model([*WEIGHTS[:4], [2, -1, -1], WEIGHTS[5]]).sweep(order=2)  # e -> A
    return report.ReportEntry("toy", sweep, baseline=baseline, **settings)


def _legend(figure) -> list[str]:
    return [t.get_text() for t in figure.axes[0].get_legend().get_texts()]


def test_the_drift_figure_draws_a_tolerance_only_where_one_is_declared(tmp_path):
    pytest.importorskip("matplotlib")
    from pytest_featureprobe.report.drift_section import _rows
    from pytest_featureprobe.report.figures import drift_figure

    undeclared = _drift_entry()
    rows = _rows(undeclared)
    assert all(r["tolerance"] is None and not r["beyond"] for r in rows)
    figure = drift_figure(rows, declared=False)
    assert not any("tolerance" in text for text in _legend(figure))
    assert not figure.axes[0].collections  # no tolerance ticks
    page = report.write_report(tmp_path / "none", [undeclared]).read_text()
    table = page[page.index('<table class="drift-table">') :]
    assert f"{DISPLAY_TOLERANCE:.3f}" not in table and "display threshold" not in page
    assert "no probability tolerance declared (max_abs_delta)" in page

    tolerances = [0.02] * 21 + [0.3]
    declared = _drift_entry(tolerance=tolerances)
    rows = _rows(declared)
    figure = drift_figure(rows, declared=True)
    assert "declared tolerance" in _legend(figure)
    ticks = figure.axes[0].collections[0].get_offsets()[:, 0]
    assert sorted(set(ticks.tolist())) <= [0.02, 0.3]
    page = report.write_report(tmp_path / "declared", [declared]).read_text()
    assert "moved beyond tolerance (declared)" in page and '<td class="num">0.300</td>' in page


def test_a_declared_seed_band_gets_its_figure_against_its_threshold(tmp_path):
    pytest.importorskip("matplotlib")
    sweeps = [logits_model(pair_bonus=b).sweep(order=2) for b in (1.4, 1.5, 1.6)]
    baseline = Baseline.from_sweep(sweeps[1], band=sweeps, band_seeds=[0, 1, 2])
    changed = logits_model([*WEIGHTS[:4], [2, -1, -1], WEIGHTS[5]]).sweep(order=2)
    entry = report.ReportEntry("t", changed, baseline=baseline, band={"max_score": 0.5})
    page = report.write_report(tmp_path, [entry]).read_text()
    assert [k for k, *_ in images(page)][-2:] == ["drift", "band"]
    score = baseline.band.score(baseline.current(changed))
    assert f"Seed band score {score:.3f}, above its threshold 0.500 (max_score 0.5" in page

    from pytest_featureprobe.report.drift_section import _band_image

    assert _band_image(report.ReportEntry("t", changed, baseline=baseline)) == ""  # undeclared


# --- pictures that say something at any size ------------------------------------------------------


LONG = "body_mass_g_measured_on_the_second_visit_to_the_colony=heavy"  # 60 characters


def _model_over(names, weights=WEIGHTS):
    w = np.array(weights, dtype=np.float64)
    return from_callable(lambda x: x @ w, FeatureSpace.from_names(names), CLASSES, outputs="logits")


def test_long_labels_are_shortened_and_listed_in_full(tmp_path):
    pytest.importorskip("matplotlib")
    assert len(LONG) == 60
    names = [LONG, LONG.replace("heavy", "light"), "c", "d", "e", "f"]
    page = report.write_report(tmp_path, [_model_over(names).sweep(order=2)]).read_text()
    labels = report.short_labels(names)
    assert labels[0] != labels[1] and all(len(label) <= 40 for label in labels[:2])
    assert labels[0].endswith("heavy") and labels[1].endswith("light")
    for label, full in zip(labels[:2], names[:2], strict=True):
        assert f'<tr><td title="{full}">{html.escape(label)}</td><td>{full}</td></tr>' in page
    assert "Full names of the" in page
    assert report.label_key(["a", "b"]) == []


def test_a_long_feature_reads_the_same_in_every_probe_of_a_figure():
    names = [f"feature_{i:03d}_with_a_rather_long_name=value{i % 3}" for i in range(12)]
    pairs = [f"{names[0]}+{names[j]}" for j in range(1, 12)]
    labels = report.short_labels(pairs, 40)
    assert len(set(labels)) == len(labels) and all(len(label) <= 40 for label in labels)
    assert len({label.split("+")[0] for label in labels}) == 1
    singles = report.short_labels(names, 16)  # told apart where they differ: the number
    assert len(set(singles)) == 12
    assert all(f"_{i:03d}_" in label for i, label in enumerate(singles))
    assert report.short_labels(["flipper_length_mm=low", "flipper_length_mm=high"], 16) == [
        "flipper_len…=low",
        "flipper_le…=high",
    ]


def test_a_name_with_dollars_is_drawn_as_written(tmp_path):
    pytest.importorskip("matplotlib")
    from pytest_featureprobe.report.figures import heatmap_figure

    names = ["$HOME/x_$USER", "b", "$c$", "d", "e", "f"]
    sweep = _model_over(names).sweep(order=2)
    page = report.write_report(tmp_path, [sweep]).read_text()  # mathtext would raise here
    assert [k for k, *_ in images(page)] == ["heatmap", "attribution", "interaction"]
    assert report.plain("$HOME/x_$USER") == r"\$HOME/x_\$USER"
    figure = heatmap_figure(sweep, ["zero", "$HOME/x_$USER"])
    texts = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert texts == ["zero", r"\$HOME/x_\$USER"]
    assert all(not t._preprocess_math(t.get_text())[1] for t in figure.axes[0].get_yticklabels())


def _additive(deltas: dict[str, list[float]], zero: list[float]):
    """Four classes; each feature alone moves P by its delta (singles only)."""
    step = np.array(list(deltas.values()))

    def forward(x):
        return np.asarray(zero) + x @ step

    classes = ["A", "B", "C", "D"]
    return from_callable(forward, FeatureSpace.from_names(list(deltas)), classes)


def test_features_are_ranked_by_how_much_they_move_ties_by_the_total_move():
    model = _additive(
        {
            "a": [0.3, -0.1, -0.1, -0.1],  # largest 0.3, total 0.6
            "b": [0.3, 0.2, -0.25, -0.25],  # largest 0.3, total 1.0: before a
            "c": [-0.2, 0.2, 0.2, -0.2],  # largest 0.2
            "d": [0.35, -0.05, -0.15, -0.15],  # largest 0.35: first
        },
        [0.25, 0.25, 0.25, 0.25],
    )
    sweep = model.sweep(order=1)
    assert report.single_features(sweep, 4) == ["d", "b", "a", "c"]  # not a, b, c, d
    assert report.single_features(sweep, 2) == ["d", "b"]


def test_the_heatmap_of_a_large_sweep_ranks_probes_and_includes_triples():
    n = 12

    def forward(x):
        logits = np.zeros((len(x), 3))
        logits[:, 0] = x[:, :6] @ np.linspace(1, 1.5, 6)  # toward A
        logits[:, 1] = 6 * x[:, 6] * x[:, 7] * x[:, 8] + x[:, 6:9] @ [0.1, 0.2, 0.4]  # a triple
        logits[:, 2] = x[:, 9:] @ [2, 2.3, 2.7]
        return logits

    model = from_callable(forward, FeatureSpace.from_names(range(n)), CLASSES, outputs="logits")
    sweep = model.sweep(order=3)
    probes, note = report.heatmap_probes(sweep)
    assert probes[0] == "zero" and len(probes) == report.MAX_HEATMAP_PROBES
    assert f"of {1 + n + n * (n - 1) // 2 + n * (n - 1) * (n - 2) // 6:,} probes" in note
    table = sweep.table.loc[probes[1:]]
    orders = set(table["order"])
    assert orders == {1, 2, 3}
    assert "6+7+8" in probes
    moves = table[[f"dP({c})" for c in CLASSES]].abs().max(axis=1).round(9).to_numpy()
    assert (np.diff(moves) <= 0).all()  # the one that moves most first
    rows = table[[f"P({c})" for c in CLASSES]].round(3)
    assert not rows.duplicated().any()  # no two rows alike


def test_the_interaction_scale_is_symmetric_and_robust():
    values = np.concatenate([np.linspace(-0.1, 0.1, 99), [5.0], [np.nan]])
    limit = report.color_limit(values)
    assert 0.09 < limit < 0.2  # one outlier does not wash the others out
    assert report.color_limit(np.array([np.nan])) == 0.01
    assert report.color_limit(np.array([0.0] * 99 + [0.4])) == pytest.approx(0.4)


def test_counts_have_thousands_separators(tmp_path):
    assert report.count(2604376) == "2,604,376"


def test_blue_raises_and_red_lowers_in_the_bars_and_the_interaction_scale():
    """One colour convention across figures: an attribution bar that raises P(class) is blue
    and one that lowers it red; the interaction scale runs from red (negative) to blue."""
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_rgba

    from pytest_featureprobe.report import figures
    from pytest_featureprobe.report.labels import LOWERS, RAISES

    sweep = logits_model().sweep(order=2)
    bars = figures.attribution_figure(sweep, list(FEATURES))
    seen = {"raises": 0, "lowers": 0}
    for axes in bars.axes:
        for bar in axes.patches:
            if bar.get_width() > 0:
                assert bar.get_facecolor() == to_rgba(RAISES)
                seen["raises"] += 1
            elif bar.get_width() < 0:
                assert bar.get_facecolor() == to_rgba(LOWERS)
                seen["lowers"] += 1
    assert seen["raises"] > 0 and seen["lowers"] > 0  # the toy has both
    interaction = figures.interaction_figure(sweep, list(FEATURES))
    image = interaction.axes[0].images[0]
    low, high = image.norm.vmin, image.norm.vmax
    red, _, blue, _ = image.cmap(image.norm(high))
    assert blue > red  # the positive end is blue, as raising bars are
    red, _, blue, _ = image.cmap(image.norm(low))
    assert red > blue


def test_the_page_writes_counts_with_thousands_separators(tmp_path):
    pytest.importorskip("matplotlib")
    names = [f"f{i}" for i in range(60)]
    model = from_callable(
        lambda x: np.full((len(x), 2), 0.5), FeatureSpace.from_names(names), ["A", "B"]
    )
    page = report.write_report(tmp_path, [model.sweep(order=2)]).read_text()
    assert "1,831 probes up to order 2" in page  # 1 + 60 + 1,770
    assert '<td class="num">1,831</td>' in page
