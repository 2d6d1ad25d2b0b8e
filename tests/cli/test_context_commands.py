"""The command's contexts where they are declared or given: ``diff`` in the file's drift context,
``record --context FILE`` into another folder (the rows named relative to the recorded file, in
the YAML and the baseline alike), a feature no class takes most rows with left out of a record,
``--sample`` refused with reference rows, and ``--context FILE`` confined to the working
directory and the ``--allow-path`` folders.

The penguins model (a ``train:`` model over categorical columns) is trained once for the module,
into a cache that the in-process pytest runs share (pytest's cache folder
``<root>/d/featureprobe`` is the command's ``--cache-dir``), as in ``test_contexts_cli``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe.cli.yaml_writer import wanted_lines
from pytest_featureprobe.context_sweep import run_context_sweep
from pytest_featureprobe.contexts import Context
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

from .support import EXAMPLES, cache_args, one_line
from .support import in_process as main

PENGUINS = EXAMPLES / "penguins"
PENGUINS_YAML = PENGUINS / "featureprobe_penguins.yaml"
QUIET = ("-p", "no:hypothesispytest")

MODEL = """\
featureprobe: 1
model:
  train:
    data: penguins.csv
    features:
      categorical: [island, sex, bill_length, bill_depth, flipper_length, body_mass]
    label: species
    hidden: [32, 32]
    epochs: 30
    seed: 0
  context: {context}
expect:
  - alone: island=Torgersen
    predicts: Adelie
"""


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory) -> Path:
    """pytest's cache folder for the in-process runs; the command caches weights inside it."""
    return tmp_path_factory.mktemp("pytest-cache")


def penguins_file(folder: Path, context: str, extra: str = "") -> Path:
    """``folder/featureprobe_p.yaml`` on a copy of the penguins data, in ``context``."""
    shutil.copy(PENGUINS / "penguins.csv", folder / "penguins.csv")
    path = folder / "featureprobe_p.yaml"
    path.write_text(MODEL.format(context=context) + extra)
    return path


# --- diff: the drift checks' context -----------------------------------------------------------


def test_diff_of_an_expectation_file_compares_in_its_drift_context(pytester, cache_root):
    """Entries on the training rows, drift on the zero vector: the baseline pytest writes is the
    zero vector's, and diff reads the file there too."""
    path = penguins_file(
        pytester.path, "training", "drift:\n  context: zero\n  max_abs_delta: 0.1\n"
    )
    result = pytester.runpytest(*QUIET, "-o", f"cache_dir={cache_root}", "--featureprobe-update")
    result.assert_outcomes(passed=2)  # island=Torgersen, drift-max_abs_delta
    baseline = pytester.path / "__featureprobe__" / "featureprobe_p.json"
    assert "context" not in json.loads(baseline.read_text())  # a zero-vector baseline
    status, stdout, stderr = main("diff", str(baseline), str(path), *cache_args(cache_root))
    assert (status, stderr) == (0, "")
    assert stdout.rstrip().endswith("no drift beyond tolerance")


# --- record --context FILE into another folder ---------------------------------------------------


def test_record_names_the_context_file_relative_to_the_recorded_file(pytester, cache_root):
    model = penguins_file(pytester.path, "training")
    (pytester.path / "data").mkdir()
    rows = pd.read_csv(PENGUINS / "penguins.csv").head(60)
    rows.to_csv(pytester.path / "data" / "holdout.csv", index=False)
    out = pytester.path / "out" / "featureprobe_x.yaml"
    status, stdout, stderr = main(
        "record",
        str(model),
        "--context",
        "data/holdout.csv",
        "-o",
        str(out),
        *("--seeds", "5"),  # the gate's seed count is not what this tests: the quick choice
        *cache_args(cache_root),
    )
    assert status == 0, stderr
    assert "in the context of rows of holdout.csv (60 rows)" in stdout.splitlines()
    section = out.read_text().split("\nmodel:\n", 1)[1].split("\nexpect:\n", 1)[0]
    assert section.splitlines()[-1] == "  context: ../data/holdout.csv"
    baseline = json.loads((out.parent / "__featureprobe__" / "featureprobe_x.json").read_text())
    assert baseline["context"]["definition"] == {"kind": "rows", "rows": "../data/holdout.csv"}
    result = pytester.runpytest(*QUIET, str(out), "-o", f"cache_dir={cache_root}")
    recorded = len(re.findall(r"^  - ", out.read_text(), re.M))  # and drift-flips, -max_abs_delta
    result.assert_outcomes(passed=recorded + 2)


# --- record: a feature no class takes most rows with ------------------------------------------


def test_record_leaves_out_a_feature_with_which_no_class_takes_most_rows():
    """Three classes, one per size; colour does nothing. Set on three rows of three sizes,
    colour=red keeps each row's class: each class takes a third of the rows, none most."""
    space = FeatureSpace(
        ("colour=green", "colour=red", "size=big", "size=medium", "size=small"),
        categorical=("colour", "size"),
    )
    weights = np.array([[0, 0, 0], [0, 0, 0], [4, 0, 0], [0, 4, 0], [0, 0, 4]], dtype=float)

    def by_size(x):
        logits = np.asarray(x, dtype=float) @ weights
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    model = from_callable(by_size, space, ["A", "B", "C"])
    frame = pd.DataFrame({"colour": ["green", "green", "red"], "size": ["big", "medium", "small"]})
    context = Context.of_rows("rows of three.csv", space.encode(frame), {"kind": "rows"})
    sweep = run_context_sweep(model, context, order=1)
    singles = ["colour=green", "colour=red", "size=big", "size=medium", "size=small"]
    wanted = {name: wanted_lines([sweep], name, 0.5) for name in singles}
    left_out = "# no class takes most rows (the largest, A, observed 0.333 of 3 rows): not recorded"
    assert wanted == {
        "colour=green": [left_out],
        "colour=red": [left_out],
        "size=big": ["    predicts: A", "    min_fraction: 0.5   # observed 1.000 of 3 rows"],
        "size=medium": ["    predicts: B", "    min_fraction: 0.5   # observed 1.000 of 3 rows"],
        "size=small": ["    predicts: C", "    min_fraction: 0.5   # observed 1.000 of 3 rows"],
    }


# --- what the command refuses ---------------------------------------------------------------------

REFERENCE = (
    "{reference: [{island: Dream, sex: male, bill_length: long, bill_depth: shallow, "
    "flipper_length: medium, body_mass: light}]}"
)


def test_sample_with_a_files_reference_rows_is_refused(tmp_path, cache_root):
    path = penguins_file(tmp_path, REFERENCE)
    status, stdout, stderr = main("sweep", str(path), "--sample", "5", *cache_args(cache_root))
    assert (status, stdout) == (2, "")
    assert one_line(stderr) == (
        "featureprobe: error: --sample narrows real rows: give --context training or FILE"
    )


def test_a_context_file_outside_the_working_directory_needs_allow_path(
    tmp_path, cache_root, monkeypatch
):
    elsewhere, work = tmp_path / "elsewhere", tmp_path / "work"
    elsewhere.mkdir()
    work.mkdir()
    rows = elsewhere / "rows.csv"
    pd.read_csv(PENGUINS / "penguins.csv").head(20).to_csv(rows, index=False)
    monkeypatch.chdir(work)
    args = ["sweep", str(PENGUINS_YAML), "--context", str(rows), *cache_args(cache_root)]
    status, stdout, stderr = main(*args)
    assert (status, stdout) == (2, "")
    assert one_line(stderr) == (
        f"featureprobe: error: --context: {rows} is outside the project ({Path.cwd()}); allow "
        "its folder with --allow-path DIR"
    )
    status, stdout, stderr = main(*args, "--allow-path", str(elsewhere))
    assert status == 0, stderr
    assert "in the context of rows of rows.csv (20 rows)" in stdout.splitlines()[0]
