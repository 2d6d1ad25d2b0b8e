"""pytest-xdist parity: under ``-n`` the HTML report is the serial run's (each worker hands the
controller its sections as plain data; the controller probes nothing and imports no TensorFlow),
and a section survives the trip exactly (``report.transfer``)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe.baseline.record import Baseline
from pytest_featureprobe.report import ReportEntry, render_report
from pytest_featureprobe.report.transfer import entry_from_text, entry_to_text
from pytest_featureprobe.sweep import run_sweep

from ..report_toy import CLASSES, FEATURES, WEIGHTS, decoded, images, logits_model
from .test_report_plugin import CONFTEST, EXPECTATIONS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SECTION = re.compile(r'<section class="model" id="model-\d+"><h2>(.*?)</h2>')
IMAGE_DATA = re.compile(r'src="data:image/png;base64,[A-Za-z0-9+/=]+"')
# Records, in the controller only, whether TensorFlow (or Keras) was imported there.
CONTROLLER_CONFTEST = """
import json
import sys


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):
        heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
        with open("controller_imported.json", "w") as f:
            json.dump(heavy, f)
"""


def sections(page: str) -> dict[str, tuple[str, list[tuple[str, int, int, np.ndarray]]]]:
    """Each model's section of a report by title: its text with the images' data left out,
    and its figures (kind, width, height, decoded pixels)."""
    found = {}
    for part in page.split('<section class="model"')[1:]:
        part = '<section class="model"' + part
        title = SECTION.match(part).group(1)
        figures = [(k, w, h, decoded(data)) for k, w, h, data in images(part)]
        found[title] = (IMAGE_DATA.sub('src="…"', part), figures)
    return found


def assert_same_report(serial: str, parallel: str) -> None:
    assert SECTION.findall(serial) == SECTION.findall(parallel)  # same sections, same order
    overview = serial.split('<section class="model"')[0]
    assert overview == parallel.split('<section class="model"')[0]  # counts, badges
    one, other = sections(serial), sections(parallel)
    for title, (text, figures) in one.items():
        assert other[title][0] == text, title  # captions, tests, failure texts, drift tables
        assert [f[:3] for f in other[title][1]] == [f[:3] for f in figures], title
        for (kind, *_, pixels), (*_, theirs) in zip(figures, other[title][1], strict=True):
            assert np.array_equal(pixels, theirs), (title, kind)


def summary_blocks(result: pytest.RunResult) -> list[str]:
    """The featureprobe section of the summary in blocks: the file lines with the baselines
    written and unused, then each -v sweep table; sorted (workers finish in any order)."""
    text = result.stdout.str().split("= featureprobe =")[-1].split("\n=")[0]
    return sorted(block.strip() for block in text.split("\n\n") if block.strip())


@pytest.mark.system
def test_the_examples_report_is_the_same_serial_and_under_xdist(pytester):
    """The examples (seven expectation files, a fixture sweep, a drift gate with a seed band
    and one with the seed test) give one report, serial and with -n 2, and one summary: each
    -v sweep table and the unused baseline once. The models train once (the two runs share
    pytest's cache) and the controller never imports TensorFlow."""
    pytest.importorskip("xdist")
    pytest.importorskip("matplotlib")
    shutil.copytree(EXAMPLES, pytester.path / "examples")
    (pytester.path / "examples/retrain_gate/__featureprobe__/featureprobe_gone.json").write_text(
        "{}"
    )
    pytester.makeconftest(CONTROLLER_CONFTEST)
    common = ("-p", "no:randomly", "-p", "no:hypothesispytest", "-v")
    serial = pytester.runpytest_subprocess(*common, "-p", "no:xdist", "--featureprobe-report", "s")
    parallel = pytester.runpytest_subprocess(*common, "-n", "2", "--featureprobe-report", "p")
    assert serial.parseoutcomes() == parallel.parseoutcomes() == {"passed": 48, "xfailed": 1}
    parallel.stdout.fnmatch_lines([f"featureprobe report: {pytester.path / 'p' / 'index.html'}"])
    assert json.loads((pytester.path / "controller_imported.json").read_text()) == []
    blocks = summary_blocks(serial)
    assert summary_blocks(parallel) == blocks
    tables = [b for b in blocks if b.startswith("sweep of ")]
    assert len(tables) == len(set(tables)) >= 7
    unused = "baseline unused (no selected expectation file uses it): "
    assert parallel.stdout.str().count(unused) == 1
    assert f"{unused}examples/retrain_gate/__featureprobe__/featureprobe_gone.json" in blocks[0]
    page = (pytester.path / "s" / "index.html").read_text(encoding="utf-8")
    assert len(SECTION.findall(page)) == 8
    assert "featureprobe_sweep fixture: dense classifier on problems.csv" in page
    assert page.count("<h3>Drift against the baseline</h3>") == 2
    assert_same_report(page, (pytester.path / "p" / "index.html").read_text(encoding="utf-8"))
    handed = pytester.path / ".pytest_cache" / "d" / "featureprobe" / "featureprobe_report"
    assert list(handed.iterdir()) == []  # the workers' sections are removed once read


@pytest.fixture
def toy(pytester: pytest.Pytester) -> pytest.Pytester:
    pytest.importorskip("xdist")
    pytest.importorskip("matplotlib")
    pytester.makeconftest(CONFTEST.format(weights=WEIGHTS, features=FEATURES, classes=CLASSES))
    pytester.makefile(".yaml", featureprobe_toy=EXPECTATIONS, featureprobe_other=EXPECTATIONS)
    test = "def test_{}(featureprobe_sweep):\n    assert len(featureprobe_sweep) == {}\n"
    pytester.makepyfile(test_sweep=test.format("sweep", 22), test_again=test.format("again", 9))
    assert pytester.runpytest_subprocess("-p", "no:xdist", "--featureprobe-update").ret == 1
    changed = [*WEIGHTS[:4], [2, -1, -1], WEIGHTS[5]]  # retrained: e leans to A, drift fails
    pytester.makeconftest(CONFTEST.format(weights=changed, features=FEATURES, classes=CLASSES))
    return pytester


@pytest.mark.system
@pytest.mark.parametrize(
    "how",
    [
        ("-n", "auto"),  # the files' items spread over the workers
        ("-n", "2", "-p", "no:cacheprovider"),  # no cache folder: the sections go inline
    ],
    ids=["auto-load", "no-cache"],
)
def test_a_run_split_over_workers_reports_as_the_serial_run(toy, how):
    """Items of one file on two workers, failures, a fixture sweep set up in two modules on
    two workers: one section each, as serially; with and without pytest's cache."""
    serial = toy.runpytest_subprocess("-p", "no:xdist", "--featureprobe-report", "s")
    parallel = toy.runpytest_subprocess(*how, "--dist", "load", "--featureprobe-report", "p")
    assert serial.parseoutcomes() == parallel.parseoutcomes() == {"passed": 3, "failed": 7}
    page = (toy.path / "s" / "index.html").read_text(encoding="utf-8")
    assert SECTION.findall(page) == [
        "featureprobe_other.yaml",
        "featureprobe_toy.yaml",
        "featureprobe_sweep fixture: callable forward",
    ]
    assert "<h3>Tests (3 failed, 1 passed)</h3>" in page
    assert "<h3>Why they failed</h3>" in page
    assert_same_report(page, (toy.path / "p" / "index.html").read_text(encoding="utf-8"))


@pytest.mark.system
def test_a_worker_that_cannot_hand_over_its_sections_leaves_no_report(toy):
    """A worker whose sections fail: the controller says so and writes no partial page; the
    run's outcomes stand."""
    toy.makeconftest(
        toy.path.joinpath("conftest.py").read_text() + "\n\ndef pytest_configure(config):\n"
        "    if hasattr(config, 'workerinput'):\n"
        "        import pytest_featureprobe.report.transfer as transfer\n\n"
        "        def broken(entry):\n"
        "            raise RuntimeError('boom')\n\n"
        "        transfer.entry_to_text = broken\n"
    )
    result = toy.runpytest_subprocess("-n", "2", "--featureprobe-report", "p")
    assert result.parseoutcomes() == {"passed": 3, "failed": 7}
    result.stdout.fnmatch_lines(
        ["featureprobe report could not be written: on a worker, RuntimeError: boom"]
    )
    assert not (toy.path / "p").exists()


def test_a_failing_report_is_not_the_same_report():
    """The comparison above can fail: a section whose figure data moved is told apart."""
    sweep = run_sweep(logits_model(), order=2)
    moved = run_sweep(logits_model(pair_bonus=0.5), order=2)
    page = render_report([ReportEntry("toy", sweep)])
    assert_same_report(page, render_report([ReportEntry("toy", sweep)]))
    with pytest.raises(AssertionError):
        assert_same_report(page, render_report([ReportEntry("toy", moved)]))


def test_a_section_survives_the_trip_exactly():
    """Sweep tables (dtypes, NaN, feature tuples), the baseline and its seed band, tolerances
    and the band settings come back as they went; the page drawn from them is the same."""
    sweep = run_sweep(logits_model(), order=2)
    other = run_sweep(logits_model(pair_bonus=0.5), order=2)
    baseline = Baseline.from_sweep(other, band=[other, sweep], band_seeds=[0, 1])
    entry = ReportEntry(
        "toy",
        sweep,
        baseline=baseline,
        tolerance=[0.1] * len(baseline.probes),
        results=[("a", "passed"), ("b", "failed")],
        notes=["a note"],
        band={"max_score": None, "factor": 1.5},
        failures={"b": "why it failed"},
    )
    text = entry_to_text(entry)
    assert isinstance(json.loads(text), dict)  # plain JSON
    back = entry_from_text(text)
    pd.testing.assert_frame_equal(back.sweep.table, sweep.table, check_exact=True)
    assert list(back.sweep.table.dtypes) == list(sweep.table.dtypes)
    assert back.sweep.table["features"].iloc[-1] == sweep.table["features"].iloc[-1]
    assert (back.sweep.classes, back.sweep.space, back.sweep.order) == (
        sweep.classes,
        sweep.space,
        sweep.order,
    )
    assert np.array_equal(back.baseline.probabilities, baseline.probabilities)
    assert np.array_equal(back.baseline.band.spread, baseline.band.spread)
    assert back.baseline.band.loo_scores == baseline.band.loo_scores
    assert (back.results, back.failures, back.notes) == (entry.results, entry.failures, entry.notes)
    assert render_report([back]) == render_report([entry])
    with pytest.raises(ValueError, match="format"):
        entry_from_text(json.dumps({"format": 0}))
