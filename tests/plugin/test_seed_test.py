"""The seed test through pytest (``drift: {false_alarm: ALPHA}``): an update retrains the spec
with K = 1/ALPHA - 1 calibration seeds and stores each seed's cells (every baseline probe, every
slice of the drift context's rows); a plain run fails when today's model ranks further from the
seeds than all but ALPHA of them would.

The models are trained with Keras on ``shapes.csv`` (DATA below): 120 rows, ten of each
combination of colour (red, green, blue), size (big, small) and shape (round, square), labelled
yes exactly when the colour is red. Its slices of at least 20 rows: all rows (120), each value
(40 or 60 rows), each two values of different columns (20 or 30 rows). ``relabel`` turns the 20
rows that are red and big to no, which the model learns: those 20 rows change their predicted
class, and no other row does. ``false_alarm: 0.25`` needs K = 3 seeds, 0.2 needs 4.

Every run keeps pytest's cache provider: the model cache lives in the pytester folder's
``.pytest_cache``, so a run after an update loads the weights it trained.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from . import reports
from .reports import one_line, section

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

DATA = "colour,size,shape,label\n" + "".join(
    f"{colour},{size},{shape},{'yes' if colour == 'red' else 'no'}\n" * 10
    for colour in ("red", "green", "blue")
    for size in ("big", "small")
    for shape in ("round", "square")
)
FILE = "featureprobe_shapes.yaml"
BASELINE = "__featureprobe__/featureprobe_shapes.json"
NO_HYPOTHESIS = ("-p", "no:hypothesispytest")

# Line 12 is drift:, line 13 its first key.
SPEC = """\
model:
  train:
    data: shapes.csv
    features: {categorical: [colour, size, shape]}
    label: label
    epochs: 20
    hidden: [8]
expect:
  - name: blue
    alone: colour=blue
    predicts: no
drift:
"""
SEED_TEST = "  false_alarm: 0.25\n"

CONFTEST = """
import numpy as np
import pytest

from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable


@pytest.fixture(scope="session")
def shade_model():
    def shade(x):
        p = 1 / (1 + np.exp(-(np.asarray(x, dtype=float) @ np.array([-2.0, 2.0]) - 0.5)))
        return np.stack([1 - p, p], axis=1)

    space = FeatureSpace(("colour=green", "colour=red"), categorical=("colour",))
    return from_callable(shade, space, ["no", "yes"])
"""


@pytest.fixture
def shapes(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder with ``shapes.csv``."""
    (pytester.path / "shapes.csv").write_text(DATA)
    return pytester


def write(pytester: pytest.Pytester, drift: str, spec: str = SPEC) -> None:
    (pytester.path / FILE).write_text(spec + drift)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest on the folder, with the model cache (-rA: every item's outcome)."""
    result = pytester.runpytest(*NO_HYPOTHESIS, "-rA", *args)
    assert "Traceback" not in result.stdout.str()
    return result


def update(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return run(pytester, "--featureprobe-update", *args)


def relabel(pytester: pytest.Pytester) -> None:
    """The rows both red and big labelled no (they were yes)."""
    csv = pytester.path / "shapes.csv"
    lines = csv.read_text().splitlines(keepends=True)
    changed = [re.sub(r"^(red,big,\w+),yes$", r"\1,no", line) for line in lines]
    assert sum(a != b for a, b in zip(lines, changed, strict=True)) == 20
    csv.write_text("".join(changed))


def stored(pytester: pytest.Pytester, path: str = BASELINE) -> dict:
    return json.loads((pytester.path / path).read_text())


def outcomes(result: pytest.RunResult, file: str = FILE) -> dict[str, str]:
    return reports.outcomes(result, file)


def explanation(result: pytest.RunResult, name: str) -> list[str]:
    """What a failed drift check says after its header and its YAML source."""
    return reports.explanation(result, name, "  drift:")


TIME_LEFT = re.compile(r" \[\d+\.\d s each, about \d+:\d\d left\]$")


def progress(result: pytest.RunResult, timed: bool = False) -> list[str]:
    """The calibration's progress lines on pytest's terminal (without the time each seed took
    and the time left, unless ``timed``)."""
    lines = [line for line in result.outlines if line.startswith("featureprobe: calibrating")]
    return lines if timed else [TIME_LEFT.sub("", line) for line in lines]


def seed_lines(seeds: list[int], how: str | list[str]) -> list[str]:
    hows = [how] * len(seeds) if isinstance(how, str) else how
    return [
        f"featureprobe: calibrating {BASELINE}: seed {seed} ({n} of {len(seeds)}) {h}"
        for n, (seed, h) in enumerate(zip(seeds, hows, strict=True), 1)
    ]


# --- the baseline an update writes, and a plain run after it -------------------------------------


def test_an_update_writes_each_seeds_cells_and_a_plain_run_passes(shapes):
    write(shapes, SEED_TEST)
    result = update(shapes)
    assert outcomes(result) == {"blue": "PASSED", "drift-band": "PASSED"}
    result.stdout.fnmatch_lines([f"baseline written: {BASELINE}"])
    assert progress(result) == seed_lines([0, 1, 2], "trained")
    timed = progress(result, timed=True)  # from the second seed on: each seed's time, time left
    assert [bool(TIME_LEFT.search(line)) for line in timed] == [False, True, False], timed

    data = stored(shapes)
    assert data["seed_test"] == {"floor": 0.02, "min_rows": 20, "seeds": [0, 1, 2]}
    assert data["band"]["seeds"] == [0, 1, 2]
    assert data["context"]["name"] == "training rows" and data["context"]["rows"] == 120
    probes = data["probes"]
    assert [p["probe"] for p in probes][:2] == ["zero", "colour=blue"]
    for probe in probes:
        assert len(probe["seeds"]) == 3, probe
        assert all(len(cells) == 2 for cells in probe["seeds"]), probe  # no, yes
        assert probe["seeds"][0] == [round(p, 4) for p in probe["p"]]  # seed 0 is today's model
    slices = data["slices"]
    assert slices[0]["slice"] == [] and slices[0]["rows"] == 120
    assert len(slices[0]["seeds"]) == 3
    by_slice = {tuple(s["slice"]): s["rows"] for s in slices}
    assert by_slice[("colour=red",)] == 40 and by_slice[("size=big",)] == 60
    assert by_slice[("colour=red", "size=big")] == 20
    assert by_slice[("size=big", "shape=round")] == 30
    assert len(slices) == 1 + 7 + 3 * 2 * 2 + 2 * 2  # all rows, one value, two values
    assert sum(r["count"] for r in data["rows"]) == 120

    written = (shapes.path / BASELINE).read_text()
    result = run(shapes, "-v")
    assert outcomes(result) == {"blue": "PASSED", "drift-band": "PASSED"}
    result.stdout.fnmatch_lines([f"{FILE}::drift-band PASSED*"])
    assert progress(result) == []  # a plain run calibrates nothing
    assert "baseline written" not in result.stdout.str()
    assert (shapes.path / BASELINE).read_text() == written


# --- a change in one slice -----------------------------------------------------------------------


def test_a_relabelled_slice_fails_the_seed_test_and_is_named(shapes):
    write(shapes, SEED_TEST)
    assert outcomes(update(shapes)) == {"blue": "PASSED", "drift-band": "PASSED"}
    relabel(shapes)
    result = run(shapes)
    assert outcomes(result) == {"blue": "PASSED", "drift-band": "FAILED"}
    assert section(result, "drift-band")[:3] == [
        f"{FILE}:13: expectation 'drift-band' failed",
        "  drift:",
        "    false_alarm: 0.25",
    ]
    lines = explanation(result, "drift-band")
    assert lines[0] == (
        "today's model sits further from the 3 calibration seeds than a retrain with another "
        "seed would (p = 0.250 <= false_alarm 0.25)"
    )
    assert lines[1:4] == [
        "context: training rows (120 rows)",
        "20 of the 120 rows changed their predicted class since the baseline",
        "the slices that changed most (of at least 20 rows):",
    ]
    slices_at = lines.index("the slices that changed most (of at least 20 rows):")
    assert [re.split(r"  +", line) for line in lines[slices_at + 1 : slices_at + 7]] == [
        ["slice", "rows", "changed", "churn", "most common change"],
        ["colour=red + size=big", "20", "20", "100.0%", "yes -> no (20)"],
        ["colour=red", "40", "20", "50.0%", "yes -> no (20)"],
        ["colour=red + shape=round", "20", "10", "50.0%", "yes -> no (10)"],
        ["colour=red + shape=square", "20", "10", "50.0%", "yes -> no (10)"],
        ["size=big", "60", "20", "33.3%", "yes -> no (20)"],
    ]
    cells_at = lines.index("the probes and slices furthest from the seeds:")
    assert cells_at == slices_at + 7  # the slices table, then the cells table
    assert re.split(r"  +", lines[cells_at + 1]) == [
        "cell",
        "probe or slice",
        "rows",
        "class",
        "seeds (mean +- sd)",
        "today",
        "spreads",
    ]
    furthest = re.split(r"  +", lines[cells_at + 2])
    assert furthest[:3] == ["slice", "colour=red + size=big", "20"], furthest
    assert re.fullmatch(r"0\.\d{3} \+- 0\.\d{3}", furthest[4]) and float(furthest[6]) > 10
    assert re.match(
        r"score \d+\.\d\d \(the largest deviation, in seed spreads\) is above 3 of the 3 seeds' "
        r"scores \(largest \d+\.\d\d\)",
        lines[-1],
    ), lines[-1]
    assert cells_at + 2 < len(lines) - 1  # the cells table before the score line


# --- refused declarations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drift", "message"),
    [
        (
            "  false_alarm: 0.25\n  band: {max_score: 1}\n",
            "14: drift.band.max_score: false_alarm sets the seed test's threshold by rank; "
            "band.max_score belongs to the mean band it replaces",
        ),
        (
            "  band: {factor: 2}\n  false_alarm: 0.25\n",
            "13: drift.band.factor: false_alarm sets the seed test's threshold by rank; "
            "band.factor belongs to the mean band it replaces",
        ),
        (
            "  false_alarm: 0.05\n  calibrate: {seeds: 5}\n",
            "14: drift.calibrate.seeds: false_alarm 0.05 needs at least 19 calibration seeds "
            "(1/(K+1) <= 0.05); calibrate.seeds gives 5",
        ),
        (
            "  false_alarm: 0.25\n  calibrate: {seeds: [4, 9]}\n",
            "14: drift.calibrate.seeds: false_alarm 0.25 needs at least 3 calibration seeds "
            "(1/(K+1) <= 0.25); calibrate.seeds gives 2",
        ),
        (
            "  false_alarm: 0\n",
            "13: drift.false_alarm: 0 is less than the minimum of 0.01",
        ),
        (
            "  false_alarm: 0.5\n",
            "13: drift.false_alarm: 0.5 is greater than or equal to the maximum of 0.5",
        ),
        (
            "  false_alarm: 1e-300\n",
            "13: drift.false_alarm: 1e-300 is less than the minimum of 0.01",
        ),
        (
            "  false_alarm: .nan\n",
            "13: invalid YAML: .nan is not a finite number (thresholds, shares and seeds must be)",
        ),
        (
            "  band: {min_rows: 5}\n",
            "13: drift.band.min_rows: band.min_rows is the smallest slice the seed test reads: "
            "add false_alarm",
        ),
    ],
    ids=[
        "max-score",
        "factor",
        "too-few-seeds",
        "too-few-listed-seeds",
        "zero",
        "half",
        "tiny",
        "nan",
        "min-rows-without-false-alarm",
    ],
)
def test_contradicting_seed_test_settings_are_refused_in_one_line(shapes, drift, message):
    write(shapes, drift)
    result = run(shapes, "--featureprobe-update")
    assert outcomes(result) == {"invalid-file": "ERROR"}
    assert one_line(result, "invalid-file") == f"{FILE}:{message}"
    assert progress(result) == []  # refused before any training
    assert not (shapes.path / "__featureprobe__").exists()


def test_false_alarm_on_a_fixture_model_is_refused(pytester):
    pytester.makeconftest(CONFTEST)
    spec = "model:\n  fixture: shade_model\n  context: zero\nexpect:\n  - alone: colour=red\n"
    write(pytester, SEED_TEST, spec + "    predicts: yes\ndrift:\n")
    result = run(pytester, "--featureprobe-update")
    assert outcomes(result) == {"invalid-file": "ERROR"}
    assert one_line(result, "invalid-file") == (
        f"{FILE}:8: drift.false_alarm: the seed test retrains the model with other seeds, so it "
        "needs model: train: (this file's model is fixture:)"
    )
    assert not (pytester.path / "__featureprobe__").exists()


# --- a baseline without (enough) seed cells ------------------------------------------------------


def test_a_baseline_without_a_seed_test_names_the_update_flag(shapes):
    write(shapes, "  band: true\n  calibrate: {seeds: 3}\n")  # the mean band
    assert outcomes(update(shapes)) == {"blue": "PASSED", "drift-band": "PASSED"}
    data = stored(shapes)
    assert "seed_test" not in data and "slices" not in data and data["band"]["seeds"] == [0, 1, 2]
    written = (shapes.path / BASELINE).read_text()

    write(shapes, "  false_alarm: 0.25\n  calibrate: {seeds: 3}\n")
    result = run(shapes)
    assert outcomes(result) == {"blue": "PASSED", "drift-band": "FAILED"}
    assert one_line(result, "drift-band") == (
        f"{FILE}:13: drift: false_alarm 0.25 needs the cells of at least 3 calibration seeds, and "
        "this baseline holds no seed test; write it anew with --featureprobe-update"
    )
    assert (shapes.path / BASELINE).read_text() == written  # a plain run writes nothing

    # As it says: written anew (the seeds from the cache), it holds the seed test and passes.
    result = update(shapes)
    assert outcomes(result) == {"blue": "PASSED", "drift-band": "PASSED"}
    assert progress(result) == seed_lines([0, 1, 2], "from the cache")
    assert "seed_test" in stored(shapes)
    assert outcomes(run(shapes)) == {"blue": "PASSED", "drift-band": "PASSED"}

    # A smaller false_alarm needs more seeds than this baseline holds.
    write(shapes, "  false_alarm: 0.2\n")
    result = run(shapes)
    assert outcomes(result) == {"blue": "PASSED", "drift-band": "FAILED"}
    assert one_line(result, "drift-band") == (
        f"{FILE}:13: drift: false_alarm 0.2 needs the cells of at least 4 calibration seeds, and "
        "this baseline holds 3 calibration seeds; write it anew with --featureprobe-update"
    )


# --- calibration: the model cache, progress lines, worker processes ------------------------------


def test_a_second_update_finds_every_seed_in_the_cache(shapes):
    write(shapes, SEED_TEST)
    first = update(shapes)
    assert outcomes(first) == {"blue": "PASSED", "drift-band": "PASSED"}
    assert progress(first) == seed_lines([0, 1, 2], "trained")
    written = (shapes.path / BASELINE).read_text()

    second = update(shapes)
    assert outcomes(second) == {"blue": "PASSED", "drift-band": "PASSED"}
    assert progress(second) == seed_lines([0, 1, 2], "from the cache")
    assert "trained" not in second.stdout.str()
    assert (shapes.path / BASELINE).read_text() == written

    # Under -q, no progress lines (the baseline is still written).
    (shapes.path / BASELINE).unlink()
    quiet = update(shapes, "-q")
    assert outcomes(quiet) == {"blue": "PASSED", "drift-band": "PASSED"}
    assert "calibrating" not in quiet.stdout.str()
    assert (shapes.path / BASELINE).read_text() == written


def test_seeds_trained_in_worker_processes_give_the_same_baseline(shapes, monkeypatch):
    """Seed 0 is the file's own model, seed 1 is trained here (and times one seed), seeds 2
    and 3 go to two spawned processes; one process trains all four alike."""
    shapes.makeini("[pytest]\nfeatureprobe_calibration_workers = 2\n")
    write(shapes, "  false_alarm: 0.2\n")
    result = update(shapes)
    assert outcomes(result) == {"blue": "PASSED", "drift-band": "PASSED"}
    lines = progress(result)
    # Either worker may finish first; the count runs in the order they finish.
    finished = [re.sub(r"\(\d of 2\)$", "(k of 2)", line) for line in lines[2:4]]
    assert lines[:2] + sorted(finished) + lines[4:] == [
        f"featureprobe: calibrating {BASELINE}: seed 0 (1 of 4) trained",
        "featureprobe: calibrating: training 2 seeds in 2 processes",
        "featureprobe: calibrating: seed 2 trained (k of 2)",
        "featureprobe: calibrating: seed 3 trained (k of 2)",
        f"featureprobe: calibrating {BASELINE}: seed 1 (2 of 4) trained",
        f"featureprobe: calibrating {BASELINE}: seed 2 (3 of 4) from the cache",
        f"featureprobe: calibrating {BASELINE}: seed 3 (4 of 4) from the cache",
    ], lines
    assert lines[2].endswith("(1 of 2)") and lines[3].endswith("(2 of 2)"), lines
    parallel = (shapes.path / BASELINE).read_text()
    assert stored(shapes)["band"]["seeds"] == [0, 1, 2, 3]
    assert outcomes(run(shapes)) == {"blue": "PASSED", "drift-band": "PASSED"}

    fresh = shapes.mkdir("fresh")  # its own ini, rootdir and model cache
    (fresh / "pytest.ini").write_text("[pytest]\nfeatureprobe_calibration_workers = 1\n")
    (fresh / "shapes.csv").write_text(DATA)
    (fresh / FILE).write_text((shapes.path / FILE).read_text())
    monkeypatch.chdir(fresh)
    result = update(shapes)
    assert outcomes(result) == {"blue": "PASSED", "drift-band": "PASSED"}
    assert progress(result) == seed_lines([0, 1, 2, 3], "trained")
    assert (fresh / BASELINE).read_text() == parallel


@pytest.mark.parametrize("value", ["0", "many", "\u00b2"])
def test_an_invalid_calibration_workers_value_is_a_usage_error(shapes, value):
    shapes.makeini(f"[pytest]\nfeatureprobe_calibration_workers = {value}\n")
    write(shapes, SEED_TEST)
    result = shapes.runpytest(*NO_HYPOTHESIS, "--featureprobe-update")
    assert "Traceback" not in result.stdout.str() and "options.py" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: featureprobe_calibration_workers must be auto or a whole number of at least "
            f"1, not '{value}'"
        ]
    )
    assert progress(result) == []
    assert not (shapes.path / "__featureprobe__").exists()


# --- the zero vector of a token space ------------------------------------------------------------


def test_the_seed_test_on_the_zero_vector_reads_only_the_probes(pytester):
    shutil.copy(EXAMPLES / "problems" / "problems.csv", pytester.path)
    spec = (
        "model:\n  train:\n    data: problems.csv\n    features: problems\n    label: results\n"
        "    epochs: 30\nexpect:\n  - alone: 4\n    predicts: C\n"
        "drift:\n  false_alarm: 0.25\n"
    )
    (pytester.path / "featureprobe_problems.yaml").write_text(spec)
    result = update(pytester)
    assert outcomes(result, "featureprobe_problems.yaml") == {
        "alone-4-predicts-C": "PASSED",
        "drift-band": "PASSED",
    }
    baseline = "__featureprobe__/featureprobe_problems.json"
    result.stdout.fnmatch_lines([f"baseline written: {baseline}"])
    data = stored(pytester, baseline)
    assert "context" not in data  # the zero vector
    assert "rows" not in data and data["slices"] == []
    assert "seed_test" in data and data["band"]["seeds"] == [0, 1, 2]
    assert data["probes"][0]["probe"] == "zero"
    assert all(len(p["seeds"]) == 3 for p in data["probes"])
    result = run(pytester)
    assert outcomes(result, "featureprobe_problems.yaml") == {
        "alone-4-predicts-C": "PASSED",
        "drift-band": "PASSED",
    }
