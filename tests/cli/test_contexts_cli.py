"""The command in context, on the penguins example (a ``train:`` model over categorical
columns, so its default context is the training rows): ``record`` writes in-context expectations
that pass under pytest, ``record --context zero`` the seed method's, ``diff`` refuses to compare
a baseline with a sweep in another context, and ``--sample`` needs rows.

The model is trained once for the module, into a cache that the in-process pytest run shares
(pytest's cache folder ``<root>/d/featureprobe`` is the command's ``--cache-dir``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_featureprobe.spec import load_document
from pytest_featureprobe.spec.context_decl import ContextDecl

from .support import EXAMPLES, cache_args, one_line
from .support import in_process as main

PENGUINS = EXAMPLES / "penguins"
PENGUINS_YAML = PENGUINS / "featureprobe_penguins.yaml"
FEATURES = 14  # 3 islands, 2 sexes, 3 bands of each of 4 measurements (less one band unused)


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory) -> Path:
    """pytest's cache folder for the in-process runs; the command caches weights inside it."""
    return tmp_path_factory.mktemp("pytest-cache")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, cache_root) -> tuple[Path, str]:
    """``featureprobe record`` of the penguins example in its own context (training rows), with
    stated tolerances (``--gate fixed``: the observed shares, no calibration seeds)."""
    out = tmp_path_factory.mktemp("rec") / "featureprobe_rec.yaml"
    status, stdout, stderr = main(
        "record",
        str(PENGUINS_YAML),
        "-o",
        str(out),
        "--gate",
        "fixed",
        "--allow-path",  # written outside the working directory (the repository)
        str(out.parent),
        *cache_args(cache_root),
    )
    assert status == 0, stderr
    return out, stdout


def test_record_in_context_writes_training_and_min_fraction(recorded):
    out, stdout = recorded
    assert "in the context of training rows (344 rows)" in stdout.splitlines()
    text = out.read_text()
    model = text.split("\nmodel:\n", 1)[1].split("\nexpect:\n", 1)[0]
    assert model.splitlines()[-1] == "  context: training"
    assert load_document(out).model.context == ContextDecl("rows", "training")
    # Each feature alone predicts the class most rows take with it, on a share of the rows.
    alone = re.findall(
        r"^  - alone: (\S+)\n    predicts: (\w+)\n    min_fraction: ([0-9.]+)   "
        r"# observed ([0-9.]+) of 344 rows$",
        text,
        re.M,
    )
    # A feature with which no class takes most rows is left out, with a comment that says so.
    left_out = re.findall(
        r"^  # alone: (\S+): no class takes most rows \(the largest, \w+, observed ([0-9.]+) "
        r"of 344 rows\): not recorded$",
        text,
        re.M,
    )
    assert len(alone) + len(left_out) == FEATURES and len(alone) >= 2 and left_out
    assert all(float(share) < 0.5 for _, share in left_out)
    shown = (
        f"{len(alone) + 1} expectations (the zero probe and each feature alone; "
        f"{len(left_out)} left as comments)"
    )
    assert shown in stdout
    for _feature, _cls, wanted, observed in alone:  # half the share, rounded down (3 places)
        assert float(observed) >= 0.5
        half = float(observed) * 0.5  # of the share as printed, itself rounded
        assert half - 0.0015 < float(wanted) <= half + 0.00025
    # README: moved to Torgersen, 67% of the penguins are called Adelie.
    torgersen = next(a for a in alone if a[0] == "island=Torgersen")
    assert torgersen[1] == "Adelie" and float(torgersen[3]) > 0.6
    # Only the zero probe (the rows' mean prediction) keeps a margin.
    assert text.count("    min_margin: ") == 1
    assert re.search(r"^  - biased_toward: \w+\n    min_margin: ", text, re.M)
    baseline = json.loads((out.parent / "__featureprobe__" / "featureprobe_rec.json").read_text())
    assert baseline["context"]["definition"] == {"kind": "rows", "rows": "training"}
    assert baseline["context"]["name"] == "training rows"
    assert baseline["context"]["rows"] == 344


def test_the_recorded_file_passes_under_pytest(recorded, cache_root, pytester):
    out, _ = recorded
    result = pytester.runpytest(
        str(out),
        "-p",
        "no:hypothesispytest",
        "-o",
        f"cache_dir={cache_root}",
        f"--rootdir={out.parent}",
        f"--featureprobe-allow-path={PENGUINS}",  # the recorded file names the data there
    )
    # the zero probe, the features recorded, drift-flips and drift-max_abs_delta
    recorded_features = len(re.findall(r"^  - alone: ", out.read_text(), re.M))
    result.assert_outcomes(passed=recorded_features + 3)
    assert "ContextWarning" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["featureprobe_rec.yaml: dense classifier on penguins.csv (seed 0); *; worst |dp| 0.000"]
    )


def test_record_on_the_zero_vector_writes_context_zero_and_margins(tmp_path, cache_root):
    out = tmp_path / "featureprobe_zero.yaml"
    status, stdout, stderr = main(
        "record",
        str(PENGUINS_YAML),
        "-o",
        str(out),
        "--context",
        "zero",
        "--gate",
        "fixed",
        "--allow-path",
        str(tmp_path),
        *cache_args(cache_root),
    )
    assert status == 0, stderr
    assert "in the context of" not in stdout
    text = out.read_text()
    model = text.split("\nmodel:\n", 1)[1].split("\nexpect:\n", 1)[0]
    assert model.splitlines()[-1] == "  context: zero"  # said: the space is categorical
    assert load_document(out).model.context == ContextDecl("zero")
    assert "min_fraction" not in text
    # Every expectation has a margin, or a comment saying why not.
    entries = text.count("\n  - ")
    assert entries == FEATURES + 1
    margins = len(re.findall(r"^    min_margin: [0-9.]+   # observed [0-9.]+$", text, re.M))
    too_close = text.count(": too close to require a margin")
    assert margins >= FEATURES // 2 and margins + too_close == entries
    # README: against the zero vector island=Biscoe alone reads Gentoo.
    assert "  - alone: island=Biscoe\n    predicts: Gentoo\n" in text
    baseline = json.loads((tmp_path / "__featureprobe__" / "featureprobe_zero.json").read_text())
    assert "context" not in baseline  # a zero-vector baseline, as before contexts


def test_diff_refuses_a_baseline_taken_in_another_context(recorded, cache_root, capsys):
    out, _ = recorded
    baseline = str(out.parent / "__featureprobe__" / "featureprobe_rec.json")
    status, stdout, _ = main("diff", baseline, str(PENGUINS_YAML), *cache_args(cache_root))
    assert status == 0  # the file's own context: the training rows, as recorded
    assert stdout.rstrip().endswith("no drift beyond tolerance")

    args = ["diff", baseline, str(PENGUINS_YAML), *cache_args(cache_root)]
    status, stdout, stderr = main(*args, "--context", "zero")
    assert status == 1
    assert stdout == ""
    assert one_line(stderr) == (
        f"featureprobe: {baseline} and {PENGUINS_YAML} cannot be compared: the baseline no "
        "longer matches the model: it was taken in the context training rows; this run reads "
        "the context zero"
    )
    status, _, stderr = main(*args, "--context", "training", "--sample", "50")
    assert status == 1
    assert one_line(stderr).endswith(
        "it was taken in the context training rows; this run reads the context 50 sampled of "
        "training rows"
    )


@pytest.mark.parametrize("command", ["sweep", "record", "diff"])
def test_sample_needs_rows(command, recorded, cache_root, tmp_path):
    out, _ = recorded
    args = {
        "sweep": ["sweep", str(PENGUINS_YAML)],
        "record": [
            *("record", str(PENGUINS_YAML), "-o", str(tmp_path / "featureprobe_s.yaml")),
            *("--allow-path", str(tmp_path)),
        ],
        "diff": [
            "diff",
            str(out.parent / "__featureprobe__" / "featureprobe_rec.json"),
            str(PENGUINS_YAML),
        ],
    }[command]
    status, stdout, stderr = main(
        *args, "--context", "zero", "--sample", "5", *cache_args(cache_root)
    )
    assert status == 2
    assert stdout == ""
    assert one_line(stderr) == (
        "featureprobe: error: --sample narrows real rows: give --context training or FILE"
    )
    assert list(tmp_path.iterdir()) == []  # record wrote nothing


def test_record_in_context_with_no_slack_drops_the_requirement(tmp_path, cache_root):
    out = tmp_path / "featureprobe_loose.yaml"
    status, _, stderr = main(
        "record",
        str(PENGUINS_YAML),
        *("-o", str(out), "--margin-slack", "0", "--allow-path", str(tmp_path), "--seeds", "5"),
        *cache_args(cache_root),
    )
    assert status == 0, stderr
    assert "min_fraction: 0 " not in out.read_text()
