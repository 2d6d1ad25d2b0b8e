"""The churn gate through pytest (``drift: max_churn / slice_churn``): the baseline keeps the
drift context's rows and their predictions, and a later run counts the rows whose predicted class
changed, overall and slice by slice.

The fixture model ``shade`` (CONFTEST) is P(yes) = sigmoid(-1.5 + the weights of the active
features) over colour (green, red) and size (big, small); with ``{"flip": true}`` in
``flip.json`` beside the expectation file, its logit on the rows that are both red and big is
negated, and on no other row. On the 40 rows of ``rows.csv``:

    rows  row                        logit               P(yes)   class   flipped
    8     colour=red,   size=big     -1.5+3.0+2.5 =  4.0  0.982014  yes    -4.0, no
    12    colour=red,   size=small   -1.5+3.0-3.0 = -1.5  0.182426  no
    10    colour=green, size=big     -1.5-1.2+2.5 = -0.2  0.450166  no
    10    colour=green, size=small   -1.5-1.2-3.0 = -5.7  0.003335  no

so the flip changes 8 of the 40 rows (20%): the slice colour=red + size=big entirely (8 of 8),
size=big 8 of 18 (44.4%), colour=red 8 of 20 (40%), and no other slice.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pytest

from . import reports
from .reports import one_line, section

CONFTEST = """
import json
from pathlib import Path

import numpy as np
import pytest

from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

HERE = Path(__file__).parent
BIAS = -1.5
WEIGHTS = np.array([-1.2, 3.0, 2.5, -3.0])  # colour=green, colour=red, size=big, size=small


@pytest.fixture(scope="session")
def shade_model():
    flip = json.loads((HERE / "flip.json").read_text())["flip"]

    def shade(x):
        x = np.asarray(x, dtype=float)
        logit = BIAS + x @ WEIGHTS
        if flip:
            logit = np.where((x[:, 1] > 0) & (x[:, 2] > 0), -logit, logit)
        p = 1 / (1 + np.exp(-logit))
        return np.stack([1 - p, p], axis=1)

    space = FeatureSpace(
        ("colour=green", "colour=red", "size=big", "size=small"), categorical=("colour", "size")
    )
    return from_callable(shade, space, ["no", "yes"])
"""

COUNTS = {("red", "big"): 8, ("red", "small"): 12, ("green", "big"): 10, ("green", "small"): 10}
ROWS = "colour,size\n" + "".join(
    f"{colour},{size}\n" * n for (colour, size), n in sorted(COUNTS.items())
)
LOGITS = {
    ("red", "big"): 4.0,
    ("red", "small"): -1.5,
    ("green", "big"): -0.2,
    ("green", "small"): -5.7,
}
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
FILE = "featureprobe_churn.yaml"
BASELINE = "__featureprobe__/featureprobe_churn.json"

HEADER = """\
model:
  fixture: shade_model
  context: zero
expect:
  - name: small
    alone: size=small
    predicts: no
drift:
"""
CHURN = "  context: rows.csv\n  max_churn: 0.05\n  slice_churn: {max: 0.3, min_rows: 5}\n"


@pytest.fixture
def shade(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    (pytester.path / "rows.csv").write_text(ROWS)
    set_flip(pytester, False)
    return pytester


def set_flip(pytester: pytest.Pytester, flip: bool) -> None:
    (pytester.path / "flip.json").write_text(json.dumps({"flip": flip}))


def run(pytester: pytest.Pytester, drift: str | None = None, *args: str) -> pytest.RunResult:
    """Write the expectation file (``drift``: its drift section, when given) and run pytest."""
    if drift is not None:
        (pytester.path / FILE).write_text(HEADER + drift)
    result = pytester.runpytest(*QUIET, "-rA", *args)
    assert "Traceback" not in result.stdout.str()
    return result


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    return reports.outcomes(result, FILE)


def stored(pytester: pytest.Pytester) -> dict[tuple[str, ...], tuple[int, list[float]]]:
    """The baseline's rows: count and probabilities by feature names."""
    data = json.loads((pytester.path / BASELINE).read_text())
    return {tuple(r["features"]): (r["count"], r["p"]) for r in data["rows"]}


def p_yes(colour: str, size: str) -> float:
    return 1 / (1 + math.exp(-LOGITS[(colour, size)]))


def test_a_change_in_one_slice_fails_drift_churn_and_names_the_slice(shade):
    result = run(shade, CHURN, "--featureprobe-update")
    assert outcomes(result) == {"small": "PASSED", "drift-churn": "PASSED"}
    result.stdout.fnmatch_lines([f"baseline written: {BASELINE}"])
    data = json.loads((shade.path / BASELINE).read_text())
    assert data["context"]["name"] == "rows of rows.csv" and data["context"]["rows"] == 40
    assert len(data["rows"]) == 4  # the distinct rows, not the 40
    assert stored(shade) == {
        (f"colour={c}", f"size={s}"): (n, [round(1 - p_yes(c, s), 6), round(p_yes(c, s), 6)])
        for (c, s), n in COUNTS.items()
    }

    assert outcomes(run(shade)) == {"small": "PASSED", "drift-churn": "PASSED"}

    set_flip(shade, True)
    result = run(shade, None, "--junitxml=report.xml")
    assert outcomes(result) == {"small": "PASSED", "drift-churn": "FAILED"}
    lines = section(result, "drift-churn")
    assert lines[0].endswith("expectation 'drift-churn' failed"), lines
    assert lines[1:] == [
        "  drift:",
        "    max_churn: 0.05",
        "    slice_churn: {max: 0.3, min_rows: 5}",
        "  20.0% of the 40 rows changed their predicted class (8; at most 5.0% allowed)",
        "  context: rows of rows.csv (40 rows)",
        "  3 slices of at least 5 rows changed more than 30% of their rows; the worst: rows with "
        "colour=red and size=big (8 rows): 100% changed, yes -> no (8)",
        "  the slices that changed most (of at least 5 rows):",
        "  slice                  rows  changed  churn   most common change",
        "  colour=red + size=big  8     8        100.0%  yes -> no (8)",
        "  size=big               18    8        44.4%   yes -> no (8)",
        "  colour=red             20    8        40.0%   yes -> no (8)",
    ]
    root = ET.parse(shade.path / "report.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == "drift-churn")
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert {k: v for k, v in properties.items() if k != "featureprobe_model"} == {
        "featureprobe_sweep_probes": "5",
        "featureprobe_context": "rows of rows.csv",
        "featureprobe_churn": "0.2",
        "featureprobe_rows": "40",
        "featureprobe_changed_rows": "8",
        "featureprobe_worst_slice": "colour=red + size=big",
        "featureprobe_worst_slice_churn": "1.0",
    }

    # Accepted: the baseline is written anew with today's predictions, and the gate passes.
    result = run(shade, None, "--featureprobe-update")
    assert outcomes(result) == {"small": "PASSED", "drift-churn": "PASSED"}
    flipped = 1 / (1 + math.exp(4.0))  # P(yes) on red and big now
    assert stored(shade)[("colour=red", "size=big")] == (8, [round(1 - flipped, 6), 0.017986])
    assert outcomes(run(shade)) == {"small": "PASSED", "drift-churn": "PASSED"}
    # And the model back as it was is a change again, of the same rows the other way.
    set_flip(shade, False)
    result = run(shade)
    assert outcomes(result) == {"small": "PASSED", "drift-churn": "FAILED"}
    assert "  colour=red + size=big  8     8        100.0%  no -> yes (8)" in (
        section(result, "drift-churn")
    )


def test_only_the_slice_limit_fails_when_the_overall_churn_is_allowed(shade):
    """max_churn 0.25 allows the 20%; slices over 42%: red + big (100%) and size=big (44.4%),
    not colour=red (40%). slice_churn alone, min_rows 19: only colour=red is large enough."""
    drift = "  context: rows.csv\n  max_churn: 0.25\n  slice_churn: {max: 0.42, min_rows: 5}\n"
    assert outcomes(run(shade, drift, "--featureprobe-update")) == {
        "small": "PASSED",
        "drift-churn": "PASSED",
    }
    set_flip(shade, True)
    result = run(shade)
    assert outcomes(result) == {"small": "PASSED", "drift-churn": "FAILED"}
    assert section(result, "drift-churn")[4:] == [
        "  2 slices of at least 5 rows changed more than 42% of their rows; the worst: rows with "
        "colour=red and size=big (8 rows): 100% changed, yes -> no (8)",
        "  context: rows of rows.csv (40 rows)",
        "  the slices that changed most (of at least 5 rows):",
        "  slice                  rows  changed  churn   most common change",
        "  colour=red + size=big  8     8        100.0%  yes -> no (8)",
        "  size=big               18    8        44.4%   yes -> no (8)",
        "  colour=red             20    8        40.0%   yes -> no (8)",
    ]

    # The same baseline under other limits (the rows it keeps do not depend on them).
    run(shade, "  context: rows.csv\n  slice_churn: {max: 0.42, min_rows: 19}\n")
    assert outcomes(run(shade)) == {"small": "PASSED", "drift-churn": "PASSED"}
    result = run(shade, "  context: rows.csv\n  slice_churn: {max: 0.39, min_rows: 19}\n")
    assert outcomes(result) == {"small": "PASSED", "drift-churn": "FAILED"}
    assert section(result, "drift-churn")[3:] == [
        "  1 slice of at least 19 rows changed more than 39% of their rows; the worst: rows with "
        "colour=red (20 rows): 40% changed, yes -> no (8)",
        "  context: rows of rows.csv (40 rows)",
        "  the slices that changed most (of at least 19 rows):",
        "  slice       rows  changed  churn  most common change",
        "  colour=red  20    8        40.0%  yes -> no (8)",
    ]
    # slice_churn's default min_rows is 20: colour=red (20 rows) is still read.
    result = run(shade, "  context: rows.csv\n  slice_churn: {max: 0.39}\n")
    assert outcomes(result) == {"small": "PASSED", "drift-churn": "FAILED"}
    assert "  colour=red  20    8        40.0%  yes -> no (8)" in section(result, "drift-churn")


ZERO_REFUSAL = (
    "{line}: drift: max_churn and slice_churn count the rows of a context, and the drift "
    "checks read the zero vector: give drift.context (training or a data file)"
)


def test_max_churn_on_the_zero_vector_is_refused_in_one_line(shade):
    result = run(shade, "  max_churn: 0.05\n", "--featureprobe-update")
    assert outcomes(result) == {"small": "PASSED", "drift-churn": "FAILED"}
    assert one_line(result, "drift-churn") == ZERO_REFUSAL.format(line=f"{FILE}:9")
    assert "baseline written" not in result.stdout.str()
    assert not (shade.path / BASELINE).exists()
    # drift: context: zero declared, and slice_churn alone: refused the same.
    text = "  context: zero\n  slice_churn: {max: 0.3}\n"
    result = run(shade, text, "--featureprobe-update")
    assert one_line(result, "drift-churn") == ZERO_REFUSAL.format(line=f"{FILE}:10")
    assert not (shade.path / BASELINE).exists()


def test_max_churn_on_the_zero_vector_over_an_old_baseline_says_what_to_do(shade):
    run(shade, "  max_abs_delta: 0.1\n", "--featureprobe-update").assert_outcomes(passed=2)
    result = run(shade, "  max_churn: 0.05\n  max_abs_delta: 0.1\n")
    assert outcomes(result) == {
        "small": "PASSED",
        "drift-max_abs_delta": "PASSED",
        "drift-churn": "FAILED",
    }
    assert one_line(result, "drift-churn") == ZERO_REFUSAL.format(line=f"{FILE}:9")


NO_ROWS = (
    "this baseline holds no rows to count churn on (it was written before the churn check or on "
    "the zero vector); write it anew with --featureprobe-update"
)


def test_a_baseline_without_rows_names_the_update_flag(shade):
    result = run(shade, "  context: rows.csv\n  max_abs_delta: 0.1\n", "--featureprobe-update")
    assert outcomes(result) == {"small": "PASSED", "drift-max_abs_delta": "PASSED"}
    assert "rows" not in json.loads((shade.path / BASELINE).read_text())
    written = (shade.path / BASELINE).read_text()

    result = run(shade, "  context: rows.csv\n  max_abs_delta: 0.1\n  max_churn: 0.05\n")
    assert outcomes(result) == {
        "small": "PASSED",
        "drift-max_abs_delta": "PASSED",
        "drift-churn": "FAILED",
    }
    message = one_line(result, "drift-churn")
    assert message.startswith(f"{FILE}:") and message.endswith(f": {NO_ROWS}"), message
    assert (shade.path / BASELINE).read_text() == written  # a plain run writes nothing

    # As it says: written anew, the baseline holds the rows and the check passes.
    result = run(shade, None, "--featureprobe-update")
    assert outcomes(result) == {
        "small": "PASSED",
        "drift-max_abs_delta": "PASSED",
        "drift-churn": "PASSED",
    }
    assert sum(n for n, _ in stored(shade).values()) == 40
    assert outcomes(run(shade))["drift-churn"] == "PASSED"


def test_a_baseline_without_rows_is_placed_at_the_baseline_or_the_item(shade):
    run(shade, "  context: rows.csv\n  max_abs_delta: 0.1\n", "--featureprobe-update")
    result = run(shade, "  context: rows.csv\n  max_abs_delta: 0.1\n  max_churn: 0.05\n")
    assert one_line(result, "drift-churn") == f"{FILE}:11: drift: {NO_ROWS}"
