"""Contexts where each one is declared: the drift section's own context in the report, an entry's
margin in context, two files naming one rows file in their own words, one faulty context on two
entries, no warning when every entry has rows, ``min_fraction`` refused before training, and the
messages of refused contexts, each at its file, line and key.

The fixture model is ``shade`` of ``test_contexts`` (P(yes) = sigmoid(-1.5 + the weights of the
active features)); on the four rows of ``rows.csv`` (one of each combination) it reads

    row 1  colour=red,   size=big      P(yes) 0.982
    row 2  colour=red,   size=small           0.182
    row 3  colour=green, size=big             0.450
    row 4  colour=green, size=small           0.003

so the zero probe on the rows has a mean P(yes) of 0.404 and one row in four predicts yes;
colour=red there reads a mean P(yes) of 0.582 (two rows of four yes); on the zero vector it reads
0.818.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.memo import ProbeSession
from pytest_featureprobe.models import from_callable
from pytest_featureprobe.runner import FileRun, RunSettings

from . import reports
from .reports import explanation, one_line
from .test_contexts import CONFTEST, QUIET, ROWS

FILE = "featureprobe_shade.yaml"
IN_ROWS = "model:\n  fixture: shade_model\n  context: rows.csv\n"


@pytest.fixture
def shade(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    (pytester.path / "rows.csv").write_text(ROWS)
    return pytester


def run(pytester: pytest.Pytester, text: str | None = None, *args: str) -> pytest.RunResult:
    """Write the expectation file (when given) and run pytest on the folder."""
    if text is not None:
        (pytester.path / FILE).write_text(textwrap.dedent(text))
    result = pytester.runpytest(*QUIET, *args)
    assert "Traceback" not in result.stdout.str()
    return result


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    return reports.outcomes(result, FILE)


def shade_model():
    """The fixture model of CONFTEST, in this process (for ``FileRun`` driven directly)."""
    weights = np.array([-1.2, 3.0, 2.5, -3.0])

    def shade(x):
        p = 1 / (1 + np.exp(-(-1.5 + np.asarray(x, dtype=float) @ weights)))
        return np.stack([1 - p, p], axis=1)

    space = FeatureSpace(
        ("colour=green", "colour=red", "size=big", "size=small"), categorical=("colour", "size")
    )
    return from_callable(shade, space, ["no", "yes"])


# --- the report: drift's own context ----------------------------------------------------------

DRIFT_ON_ZERO = """\
model:
  fixture: shade_model
  context: rows.csv
expect:
  - name: red
    alone: colour=red
    predicts: yes
drift:
  max_abs_delta: 0.1
  context: zero
"""


def test_the_report_compares_the_baseline_with_the_drift_contexts_sweep(tmp_path):
    (tmp_path / "rows.csv").write_text(ROWS)
    path = tmp_path / FILE
    path.write_text(DRIFT_ON_ZERO)
    model, session = shade_model(), ProbeSession(None)

    def file_run(**settings) -> FileRun:
        return FileRun(
            path, session, RunSettings(roots=[tmp_path], invocation_dir=tmp_path, **settings)
        )

    def red_yes(sweep) -> float:
        return float(sweep.table.loc["colour=red", "P(yes)"])

    writer = file_run(update=True)
    items = {i.name: i for i in writer.collect()}
    assert writer.check(items["drift-max_abs_delta"], lambda name: model).passed
    reader = file_run()  # a run whose items read only the entries' context (the rows)
    items = {i.name: i for i in reader.collect()}
    assert reader.check(items["red"], lambda name: model).passed
    for run in (reader, writer):  # the baseline as stored, and as a drift check read it
        entry = run.report_entry(FILE, [])
        assert entry.notes == []
        assert entry.sweep.context == "rows of rows.csv"
        assert red_yes(entry.sweep) == pytest.approx(0.582, abs=1e-3)
        assert entry.drift_sweep.context == "zero" and entry.compared is entry.drift_sweep
        baseline = entry.baseline
        assert baseline is not None
        stored = baseline.probabilities[baseline.probes.index("colour=red"), 1]
        assert stored == pytest.approx(0.818, abs=1e-3)
        assert red_yes(entry.compared) == pytest.approx(stored, abs=1e-6)


# --- min_margin with predicts: the margin of the class predicted -------------------------------


def test_min_margin_in_context_bounds_the_margin_of_the_predicted_class(shade):
    """The zero probe on the rows: one row in four predicts yes (min_fraction 0.25 holds), but
    the mean P(yes) is 0.404, so yes trails no by 0.191. The top mean class (no) leads by 0.191,
    more than 0.1: that is not the margin of yes."""
    result = run(
        shade,
        IN_ROWS
        + """\
expect:
  - name: yes-by-a-margin
    zero: true
    predicts: yes
    min_fraction: 0.25
    min_margin: 0.1
  - name: red-yes-by-a-margin
    alone: colour=red
    predicts: yes
    min_margin: 0.1
""",
        "-rA",
    )
    assert outcomes(result) == {"yes-by-a-margin": "FAILED", "red-yes-by-a-margin": "PASSED"}
    assert explanation(result, "yes-by-a-margin")[:3] == [
        "probe zero: expected predicts yes on at least 25% of rows, mean margin of yes >= 0.1; "
        "observed rows predicted no 75.0%, yes 25.0%, missed by 0.291",
        "context: rows of rows.csv (4 rows)",
        "mean class probabilities: P(no)=0.596  P(yes)=0.404",
    ]


# --- two files, one rows file, each in its own words ---------------------------------------------

GATED = """\
model:
  fixture: shade_model
  context: {rows}
expect:
  - alone: colour=red
    predicts: yes
drift:
  max_abs_delta: 0.1
"""


def test_each_baseline_records_its_own_files_definition_of_shared_rows(shade):
    (shade.path / "a").mkdir()
    (shade.path / "a" / "featureprobe_a.yaml").write_text(GATED.format(rows="../rows.csv"))
    (shade.path / "featureprobe_b.yaml").write_text(GATED.format(rows="rows.csv"))
    run(shade, None, "--featureprobe-update").assert_outcomes(passed=4)
    for baseline, rows in [
        ("a/__featureprobe__/featureprobe_a.json", "../rows.csv"),
        ("__featureprobe__/featureprobe_b.json", "rows.csv"),
    ]:
        context = json.loads((shade.path / baseline).read_text())["context"]
        assert context["definition"] == {"kind": "rows", "rows": rows}, baseline
        assert context["name"] == "rows of rows.csv" and context["rows"] == 4
    run(shade).assert_outcomes(passed=4)


# --- one faulty context, declared at several places -------------------------------------------


def test_one_faulty_context_on_two_entries_and_drift_is_placed_at_each(shade):
    """The same context (a sample larger than the rows) on two entries and in drift: (which is
    read first): each error names its own key and the line of its own sample."""
    result = run(
        shade,
        IN_ROWS
        + """\
expect:
  - name: first
    zero: true
    predicts: no
    context:
      rows: rows.csv
      sample: 9
  - name: second
    adding: colour=red
    raises: yes
    context:
      rows: rows.csv
      sample: 9
drift:
  max_abs_delta: 0.1
  context:
    rows: rows.csv
    sample: 9
""",
        "-rA",
    )
    assert set(outcomes(result)) == {"first", "second", "drift-max_abs_delta"}
    assert "PASSED" not in outcomes(result).values()
    message = "sample 9 is more than the 4 rows in the context (rows of rows.csv)"
    assert one_line(result, "first") == f"{FILE}:10: expect[0].context.sample: {message}"
    assert one_line(result, "second") == f"{FILE}:16: expect[1].context.sample: {message}"
    assert one_line(result, "drift-max_abs_delta") == f"{FILE}:21: drift.context.sample: {message}"


# --- the default context: only when an entry reads it -----------------------------------------


def test_no_context_warning_when_every_entry_declares_its_rows(shade):
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
        expect:
          - name: red
            alone: colour=red
            predicts: yes
            context: rows.csv
          - name: small
            alone: size=small
            predicts: no
            context: rows.csv
        """,
        "-W",
        "always::pytest_featureprobe.runner.context_rows.ContextWarning",
    )
    result.assert_outcomes(passed=2)
    assert "ContextWarning" not in result.stdout.str()


# --- min_fraction on the zero vector, refused before training -----------------------------------


def test_min_fraction_on_a_token_models_zero_vector_is_refused_without_training(
    pytester, monkeypatch
):
    trained = []
    monkeypatch.setattr(
        "pytest_featureprobe.memo.train_classifier", lambda *args, **kw: trained.append(args)
    )
    (pytester.path / "tokens.csv").write_text('tokens,label\n"[1]",yes\n"[2]",no\n"[1, 2]",no\n')
    result = run(
        pytester,
        """\
        model:
          train:
            data: tokens.csv
            features: tokens
            label: label
            hidden: [2]
            epochs: 1
        expect:
          - name: share
            alone: 1
            predicts: yes
            min_fraction: 0.5
        """,
        "-rA",
    )
    assert outcomes(result) == {"share": "ERROR"}
    assert one_line(result, "share") == (
        f"{FILE}:12: expect[0].min_fraction: min_fraction counts rows of a context, and this "
        "item is read on the zero vector: add context: training or context: <data file>"
    )
    assert trained == []


# --- what a refused context says -----------------------------------------------------------------


def test_mode_of_a_fixture_model_says_how_to_write_a_data_files_mode(shade):
    result = run(
        shade,
        """\
        model:
          fixture: shade_model
          context: mode
        expect:
          - name: one
            zero: true
            predicts: no
        """,
    )
    result.assert_outcomes(failed=1)
    assert one_line(result, "one") == (
        f"{FILE}:3: model.context: mode is the most common values of the training rows, which "
        "only a model trained from data has; this file's model is given by fixture: (write "
        "{reference: mode, rows: <data file>} for a data file's)"
    )


def test_reference_rows_and_biased_toward_with_min_fraction_are_refused_in_words(shade):
    result = run(
        shade,
        IN_ROWS
        + """\
expect:
  - name: unknown-column
    zero: true
    predicts: no
    context: {reference: [{colour: red, size: big, shape: round}]}
  - name: list-value
    zero: true
    predicts: no
    context: {reference: [{colour: [red], size: big}]}
  - name: missing-column
    zero: true
    predicts: no
    context: {reference: [{colour: red}]}
  - name: mean-not-share
    biased_toward: yes
    min_fraction: 0.5
""",
        "-rA",
    )
    assert set(outcomes(result)) == {
        "unknown-column",
        "list-value",
        "missing-column",
        "mean-not-share",
    }
    assert "PASSED" not in outcomes(result).values()
    assert one_line(result, "unknown-column") == (
        f"{FILE}:8: expect[0].context.reference: reference row 1: unknown column 'shape' "
        "(columns: 'colour', 'size')"
    )
    assert one_line(result, "list-value") == (
        f"{FILE}:12: expect[1].context.reference: reference row 1: 'colour' holds one value, "
        "not a list"
    )
    assert one_line(result, "missing-column") == (
        f"{FILE}:16: expect[2].context.reference: reference row 1: give 'size' a value (a real "
        "row has one value of each column)"
    )
    assert one_line(result, "mean-not-share") == (
        f"{FILE}:19: expect[3].min_fraction: biased_toward reads the rows' mean prediction, not "
        "a share of rows: write zero: true with predicts: yes to count rows"
    )
