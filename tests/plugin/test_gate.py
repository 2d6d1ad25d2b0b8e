"""The retraining gate through pytest: baselines, their lifecycle and every drift check.

Most tests use a model whose weights live in ``weights.json`` beside the expectation file, so a
"retrain" is rewriting that file and every number in a report can be computed by hand:
P(yes) = sigmoid(bias + the weights of the active features), P(no) = 1 - P(yes). The seed band
needs a model trained from data; it and the ``examples/retrain_gate`` walk-through train with Keras.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import stat
import sys
import textwrap
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

CONFTEST = """
import json
from pathlib import Path

import numpy as np
import pytest

from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def linear():
    spec = json.loads((HERE / "weights.json").read_text())
    names = list(spec["weights"])
    weights = np.array([spec["weights"][n] for n in names], dtype=float)
    bias = float(spec.get("bias", 0.25))

    def predict(x):
        p = 1 / (1 + np.exp(-(bias + np.asarray(x, dtype=float) @ weights)))
        return np.stack([1 - p, p], axis=1)

    classes = spec.get("classes", ["no", "yes"])
    return from_callable(predict, FeatureSpace.from_names(names), classes)
"""

# Logits with bias 0.25: zero .25, a 2.25, b -.75, c .75, d 1.75; pairs a+b 1.25, a+c 2.75,
# a+d 3.75, b+c -.25, b+d .75, c+d 2.25. Only b and b+c predict "no"; no probe is a tie.
WEIGHTS = {"a": 2.0, "b": -1.0, "c": 0.5, "d": 1.5}
# b now pushes toward yes: b and b+c flip; b, b+c, b+d and a+b move.
B_UP = {**WEIGHTS, "b": 1.0}
# b pushes harder toward no: a+b and b+d flip, b and b+c stay "no".
B_DOWN = {**WEIGHTS, "b": -3.0}
# c becomes the strongest feature: single-feature ranking a, d, c, b becomes c, a, d, b.
C_UP = {**WEIGHTS, "c": 3.0}

HEADER = "model:\n  fixture: linear\nexpect:\n  - alone: a\n    min_margin: 0.5\ndrift:\n"
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
FILE = "featureprobe_x.yaml"
BASELINE = "__featureprobe__/featureprobe_x.json"


def p_yes(weights: dict[str, float], probe: str) -> float:
    active = [] if probe == "zero" else probe.split("+")
    return 1 / (1 + math.exp(-(0.25 + sum(weights[f] for f in active))))


def probabilities(weights: dict[str, float], probe: str) -> dict[str, float]:
    p = p_yes(weights, probe)
    return {"no": 1 - p, "yes": p}


def interaction(weights: dict[str, float], pair: str, cls: str) -> float:
    first, second = pair.split("+")
    return (
        probabilities(weights, pair)[cls]
        - probabilities(weights, first)[cls]
        - probabilities(weights, second)[cls]
        + probabilities(weights, "zero")[cls]
    )


def f3(value: float) -> str:
    return f"{value:.3f}"


def write(pytester: pytest.Pytester, drift: str, weights=WEIGHTS, name: str = FILE) -> None:
    """conftest.py, weights.json and an expectation file whose ``drift:`` section is ``drift``."""
    if not (pytester.path / "conftest.py").exists():
        pytester.makeconftest(CONFTEST)
    set_weights(pytester, weights)
    text = HEADER + textwrap.indent(textwrap.dedent(drift), "  ")
    (pytester.path / name).write_text(text)


def set_weights(pytester: pytest.Pytester, weights, **extra) -> None:
    (pytester.path / "weights.json").write_text(json.dumps({"weights": weights, **extra}))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*QUIET, "-v", *args)


def retrain(pytester: pytest.Pytester, drift: str, after, before=WEIGHTS) -> pytest.RunResult:
    """Baseline of ``before`` (written with the flag), then the gate run on ``after``."""
    write(pytester, drift, before)
    run(pytester, "--featureprobe-update").assert_outcomes(passed=1 + drift_items(pytester))
    set_weights(pytester, after)
    return run(pytester)


def drift_items(pytester: pytest.Pytester) -> int:
    text = (pytester.path / FILE).read_text()
    keys = {
        "flips": ("max_flips", "allow_flips"),
        "delta": ("max_abs_delta", "per_order", "per_probe"),
        "rank": ("rank",),
        "interaction": ("interaction",),
    }
    return sum(any(re.search(rf"^  {k}:", text, re.M) for k in ks) for ks in keys.values())


def fnm(*patterns: str) -> list[str]:
    """fnmatch patterns in which only ``*`` is a wildcard (ids are full of ``[`` and ``]``)."""
    table = str.maketrans({"[": "[[]", "]": "[]]", "?": "[?]"})
    return [p.translate(table) for p in patterns]


def section(result: pytest.RunResult, name: str) -> list[str]:
    """The failure report of one item: the lines between its ``___ header ___`` and the next."""
    text = result.stdout.str()
    match = re.search(
        rf"^_+ \S+:\d+: {re.escape(name)} _+$\n(.*?)(?=^[_=]{{3,}})", text, re.M | re.S
    )
    assert match, f"no failure section for {name!r} in:\n{text}"
    return [line for line in match.group(1).splitlines() if line.strip()]


def explanation(result: pytest.RunResult, name: str) -> list[str]:
    """What a failed drift check says, after its header and its YAML source."""
    lines = section(result, name)
    assert lines[0].endswith(f"expectation {name!r} failed"), lines
    assert lines[1] == "  drift:", lines
    return [line[2:] for line in lines[2:] if not line.startswith("    ")]


def rows(lines: list[str], header: str) -> list[list[str]]:
    """The rows of the table whose header line starts with ``header``, split into cells."""
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    return [line.split() for line in lines[start + 1 :] if not line.startswith("...")]


def one_line(result: pytest.RunResult, name: str) -> str:
    """A FeatureProbeError report: one line, no traceback."""
    lines = section(result, name)
    assert len(lines) == 1, lines
    assert lines[0].startswith("featureprobe: "), lines
    assert "Traceback" not in result.stdout.str()
    return lines[0].removeprefix("featureprobe: ")


# --- the lifecycle -------------------------------------------------------------------------------


def test_lifecycle_missing_created_passes_drifts_accepted(pytester):
    write(pytester, "order: 2\nmax_flips: 0\nmax_abs_delta: 0.1\n")
    baseline = pytester.path / BASELINE
    command = f"no baseline at {BASELINE}; create it with: pytest {FILE} --featureprobe-update"

    # 1. No baseline: each drift item fails with the command that creates it; nothing is written.
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=2)
    assert one_line(result, "drift-flips") == f"{FILE}:8: drift: {command}"
    assert one_line(result, "drift-max_abs_delta") == f"{FILE}:9: drift: {command}"
    assert not (pytester.path / "__featureprobe__").exists()
    assert "baseline written" not in result.stdout.str()

    # 2. The flag writes it, says so, and the run passes.
    result = run(pytester, "--featureprobe-update")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*= featureprobe =*", f"baseline written: {BASELINE}"])
    assert baseline.is_file()
    written = baseline.read_text()

    # 3. A plain run passes against it and leaves it alone.
    result = run(pytester)
    result.assert_outcomes(passed=3)
    assert "baseline written" not in result.stdout.str()
    assert baseline.read_text() == written

    # 4. A retrain on changed data: both checks fail, with tables of what moved.
    set_weights(pytester, B_UP)
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=2)
    assert baseline.read_text() == written
    flips = explanation(result, "drift-flips")
    assert flips[0] == "2 probes changed their predicted class (at most 0 allowed)"
    assert re.split(r"  +", flips[1]) == [
        "probe",
        "baseline",
        "current",
        "P(baseline class) then",
        "P(current class) now",
    ]
    assert rows(flips, "probe") == [
        ["b+c", "no", "yes", f3(1 - p_yes(WEIGHTS, "b+c")), f3(p_yes(B_UP, "b+c"))],
        ["b", "no", "yes", f3(1 - p_yes(WEIGHTS, "b")), f3(p_yes(B_UP, "b"))],
    ]
    delta = explanation(result, "drift-max_abs_delta")
    largest = p_yes(B_UP, "b") - p_yes(WEIGHTS, "b")
    assert delta[0] == (
        f"8 probe probabilities moved beyond tolerance (largest |dp| = {largest:.3f})"
    )
    assert delta[1].split() == ["probe", "class", "baseline", "current", "difference", "tolerance"]
    expected = []
    for probe in ("b", "b+c", "b+d", "a+b"):
        before, after = probabilities(WEIGHTS, probe), probabilities(B_UP, probe)
        for cls in ("no", "yes"):
            difference = f"{after[cls] - before[cls]:+.3f}"
            expected.append([probe, cls, f3(before[cls]), f3(after[cls]), difference, "0.100"])
    table = rows(delta, "probe")
    assert sorted(table) == sorted(expected)
    assert [row[0] for row in table[::2]] == ["b", "b+c", "b+d", "a+b"]  # most severe first
    result.stdout.fnmatch_lines(
        fnm(
            f"FAILED {FILE}::drift-flips - * probes changed their pr*",
            f"FAILED {FILE}::drift-max_abs_delta - *",
        )
    )

    # 5. The flag accepts the change; the gate passes again.
    result = run(pytester, "--featureprobe-update")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"baseline written: {BASELINE}"])
    assert baseline.read_text() != written
    run(pytester).assert_outcomes(passed=3)


def test_baseline_file_is_reviewable(pytester):
    write(pytester, "order: 2\nmax_flips: 0\n")
    run(pytester, "--featureprobe-update").assert_outcomes(passed=2)
    path = pytester.path / BASELINE
    text = path.read_text()
    data = json.loads(text)
    lines = text.splitlines()
    start = lines.index('  "probes": [')
    header_keys = [json.loads("{" + line.rstrip(",") + "}").popitem()[0] for line in lines[1:start]]
    assert header_keys == sorted(header_keys)
    assert {"classes", "format", "model", "order", "precision", "space"} <= set(header_keys)
    probe_lines = lines[start + 1 : -2]
    assert lines[-2:] == ["  ]", "}"]
    assert [json.loads(line.rstrip(","))["probe"] for line in probe_lines] == [
        "zero", "a", "b", "c", "d", "a+b", "a+c", "a+d", "b+c", "b+d", "c+d",
    ]  # fmt: skip
    assert data["classes"] == ["no", "yes"] and data["order"] == 2
    assert data["space"]["features"] == ["a", "b", "c", "d"]
    record = data["probes"][1]
    assert record["p"] == pytest.approx([1 - p_yes(WEIGHTS, "a"), p_yes(WEIGHTS, "a")], abs=1e-6)
    # An ordinary project file, as readable as any other file written here (not mkstemp's 0600).
    reference = pytester.path / "reference.txt"
    reference.write_text("")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind


# --- stale and corrupt baselines -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "extra", "what"),
    [
        ({**WEIGHTS, "e": 0.3}, {}, "the feature space changed: added e"),
        ({"a": 2.0, "b": -1.0, "c": 0.5}, {}, "the feature space changed: removed d"),
        (
            {"a": 2.0, "b": -1.0, "c": 0.5, "e": 1.5},
            {},
            "the feature space changed: added e; removed d",
        ),
        (WEIGHTS, {"classes": ["no", "si"]}, "classes were ['no', 'yes'], now ['no', 'si']"),
    ],
    ids=["added", "removed", "renamed-feature", "renamed-class"],
)
def test_stale_baseline_says_what_changed(pytester, weights, extra, what):
    write(pytester, "max_flips: 0\n")
    run(pytester, "--featureprobe-update").assert_outcomes(passed=2)
    set_weights(pytester, weights, **extra)
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    assert one_line(result, "drift-flips") == (
        f"{BASELINE}: the baseline no longer matches the model: {what}. "
        "If this change is intended, accept it with --featureprobe-update"
    )
    result = run(pytester, "--featureprobe-update")
    result.assert_outcomes(passed=2)
    assert json.loads((pytester.path / BASELINE).read_text())["space"]["features"] == list(weights)
    run(pytester).assert_outcomes(passed=2)


def test_baseline_of_a_lower_order_than_the_sweep_needs(pytester):
    write(pytester, "order: 1\nmax_flips: 0\n")
    run(pytester, "--featureprobe-update").assert_outcomes(passed=2)
    write(pytester, "order: 2\nmax_flips: 0\n")
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    assert one_line(result, "drift-flips") == (
        f"{BASELINE}: the baseline no longer matches the model: it holds probes up to order 1, "
        "the file now asks for order 2. If this change is intended, accept it with "
        "--featureprobe-update"
    )
    run(pytester, "--featureprobe-update").assert_outcomes(passed=2)
    run(pytester).assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"probes": [', f"{BASELINE}:1: corrupt baseline: Expecting value; recreate it with"),
        ("{}", f"{BASELINE}: unsupported baseline format None (this version reads 1); recreate"),
        ("[]", f"{BASELINE}: corrupt baseline (AttributeError: "),
        ('{"format": 2}', f"{BASELINE}: unsupported baseline format 2 (this version reads 1)"),
        (
            '{"format": 1, "classes": ["no", "yes"], "probes": [{"p": [1.0]}], "space": {}}',
            f"{BASELINE}: corrupt baseline (ValueError: probability rows do not match the "
            "classes); recreate it with --featureprobe-update",
        ),
    ],
    ids=["truncated", "no-format", "not-a-mapping", "future-format", "bad-rows"],
)
def test_corrupt_baseline_is_one_line(pytester, text, message):
    write(pytester, "max_flips: 0\n")
    (pytester.path / "__featureprobe__").mkdir()
    (pytester.path / BASELINE).write_text(text)
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    line = one_line(result, "drift-flips")
    assert line.startswith(message)
    assert line.endswith("recreate it with --featureprobe-update")
    assert (pytester.path / BASELINE).read_text() == text  # left as it was
    run(pytester, "--featureprobe-update").assert_outcomes(passed=2)


# --- unused baselines ----------------------------------------------------------------------------


def test_two_files_cannot_share_one_baseline(pytester):
    """One baseline gates one file: the second file naming it has its drift checks refused at
    its baseline key (its expectations still run) and nothing is written over the first's."""
    write(pytester, "baseline: shared.json\nmax_flips: 0\n", name="featureprobe_a.yaml")
    write(pytester, "baseline: shared.json\nmax_flips: 0\n", name="featureprobe_b.yaml")
    result = run(pytester, "--featureprobe-update")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of featureprobe_b.yaml:8: drift-flips*",
            "featureprobe: featureprobe_b.yaml:7: drift.baseline: shared.json is already the "
            "baseline of featureprobe_a.yaml: one baseline gates one file*",
        ]
    )
    assert result.stdout.str().count("baseline written: shared.json") == 1
    # Alone, b may use it (no other file of the run claims it).
    run(pytester, "featureprobe_b.yaml").assert_outcomes(passed=2)


def test_unused_baselines_are_reported_but_not_those_of_unselected_files(pytester):
    write(pytester, "max_flips: 0\n", name="featureprobe_x.yaml")
    write(pytester, "max_flips: 0\n", name="featureprobe_y.yaml")
    result = run(pytester, "--featureprobe-update")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "*= featureprobe =*",
            "baseline written: __featureprobe__/featureprobe_x.json",
            "baseline written: __featureprobe__/featureprobe_y.json",
        ]
    )
    assert not [line for line in result.stdout.lines if line.startswith("baseline unused")]
    (pytester.path / "__featureprobe__/featureprobe_gone.json").write_text("{}")

    result = run(pytester, "featureprobe_x.yaml")  # y exists but is not selected
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*= featureprobe =*",
            "baseline unused (no selected expectation file uses it): "
            "__featureprobe__/featureprobe_gone.json",
        ]
    )
    assert "featureprobe_y.json" not in result.stdout.str()
    assert "featureprobe_x.json" not in result.stdout.str()

    # A file that no longer declares drift leaves its baseline unused; so does moving it.
    (pytester.path / "featureprobe_y.yaml").write_text(HEADER.removesuffix("drift:\n"))
    write(pytester, "baseline: gate/x.json\nmax_flips: 0\n", name="featureprobe_x.yaml")
    result = run(pytester, "--featureprobe-update")
    result.assert_outcomes(passed=3)
    unused = [line for line in result.stdout.lines if line.startswith("baseline unused")]
    assert unused == [
        f"baseline unused (no selected expectation file uses it): __featureprobe__/{name}.json"
        for name in ("featureprobe_gone", "featureprobe_x", "featureprobe_y")
    ]
    result.stdout.fnmatch_lines(["baseline written: gate/x.json"])
    assert (pytester.path / "gate/x.json").is_file()


def test_no_summary_without_expectation_files(pytester):
    pytester.makepyfile("def test_plain(): pass")
    (pytester.path / "__featureprobe__").mkdir()
    (pytester.path / "__featureprobe__/featureprobe_x.json").write_text("{}")
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert "= featureprobe =" not in result.stdout.str()


# --- each drift check, holding and failing -------------------------------------------------------


def test_max_flips_counts_flips(pytester):
    result = retrain(pytester, "order: 2\nmax_flips: 1\n", B_DOWN)
    result.assert_outcomes(passed=1, failed=1)
    lines = explanation(result, "drift-flips")
    assert lines[0] == "2 probes changed their predicted class (at most 1 allowed)"
    assert [row[:3] for row in rows(lines, "probe")] == [
        ["b+d", "yes", "no"],  # most severe first: P(no) is now .777 for b+d, .679 for a+b
        ["a+b", "yes", "no"],
    ]
    write(pytester, "order: 2\nmax_flips: 2\n", B_DOWN)
    run(pytester).assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("after", "flips", "listed"),
    [
        (B_UP, "allow_flips: [b]", ["b+c"]),
        (B_UP, "allow_flips: [b, [c, b]]", []),
        (B_DOWN, "allow_flips: [a+b]", ["b+d"]),
        (B_DOWN, "allow_flips: [b+a, [d, b]]", []),  # names in any order, or feature lists
        (B_DOWN, "allow_flips: [a+b]\nmax_flips: 1", []),
        (B_DOWN, "allow_flips: [a+c, c]", ["a+b", "b+d"]),  # probes that did not flip
    ],
)
def test_allow_flips(pytester, after, flips, listed):
    result = retrain(pytester, f"order: 2\n{flips}\n", after)
    if not listed:
        result.assert_outcomes(passed=2)
        return
    result.assert_outcomes(passed=1, failed=1)
    lines = explanation(result, "drift-flips")
    flipped = "1 probe changed its" if len(listed) == 1 else f"{len(listed)} probes changed their"
    assert lines[0] == f"{flipped} predicted class (at most 0 allowed)"
    assert sorted(row[0] for row in rows(lines, "probe")) == listed


def test_allow_flips_with_an_unknown_feature_is_one_line(pytester):
    result = retrain(pytester, "order: 2\nmax_flips: 0\n", WEIGHTS)
    write(pytester, "order: 2\nallow_flips: [a, e]\nmax_flips: 0\n")
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    message = one_line(result, "drift-flips")
    assert message.startswith(f"{FILE}:8: unknown feature 'e'")  # the line of allow_flips


@pytest.mark.parametrize(
    ("drift", "failing"),
    [
        ("max_abs_delta: 0.5", {}),
        ("max_abs_delta: 0.2", {"b": "0.200", "b+c": "0.200", "b+d": "0.200"}),
        ("max_abs_delta: 0.2\nper_order: {1: 0.5}", {"b+c": "0.200", "b+d": "0.200"}),
        ("max_abs_delta: 0.2\nper_order: {1: 0.5, 2: 0.3}", {"b+c": "0.300"}),
        ("max_abs_delta: 0.2\nper_order: {1: 0.5, 2: 0.3}\nper_probe: {c+b: 0.42}", {}),
        (
            "max_abs_delta: 0.2\nper_order: {1: 0.5, 2: 0.3}\nper_probe: {b+c: 0.41}",
            {"b+c": "0.410"},
        ),
        ("per_probe: {b: 0.01}", {"b": "0.010"}),  # the other probes take the default, 1
    ],
)
def test_max_abs_delta_with_overrides(pytester, drift, failing):
    # |dP| of the moved probes: b .457, b+c .414, b+d .261, a+b .185.
    result = retrain(pytester, f"order: 2\n{drift}\n", B_UP)
    if not failing:
        result.assert_outcomes(passed=2)
        return
    result.assert_outcomes(passed=1, failed=1)
    lines = explanation(result, "drift-max_abs_delta")
    assert lines[0].startswith(f"{2 * len(failing)} probe probabilities moved beyond tolerance")
    table = rows(lines, "probe")
    assert [row[0] for row in table[::2]] == list(failing)  # most severe first
    assert {row[0]: row[5] for row in table} == failing


def test_per_probe_with_an_unknown_feature_is_one_line(pytester):
    result = retrain(pytester, "order: 2\nmax_flips: 0\n", WEIGHTS)
    write(pytester, "order: 2\nmax_abs_delta: 0.1\nper_probe: {a+e: 0.3}\n")
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    message = one_line(result, "drift-max_abs_delta")
    assert message.startswith(f"{FILE}:8: unknown feature 'e'")


@pytest.mark.parametrize(
    ("rank", "verdicts"),
    [
        # Singles ranked a, d, c, b toward yes; after c -> 3: c, a, d, b. By hand:
        # spearman 1 - 6 * (1 + 0 + 4 + 1) / (4 * 15) = 0.4; kendall (4 - 2) / 6 = 1/3.
        ("{min: 0.35}", None),
        ("{min: 0.5}", "spearman 0.400 (min 0.5)"),
        ("{method: kendall, min: 0.3}", None),
        ("{method: kendall, min: 0.5}", "kendall 0.333 (min 0.5)"),
        ("{top_k: 2, min_overlap: 1}", None),
        ("{top_k: 2}", "top 2 overlap 1 (min 2)"),
        ("{top_k: 4, min_overlap: 4}", None),
    ],
)
def test_rank_agreement(pytester, rank, verdicts):
    result = retrain(pytester, f"rank: {rank}\n", C_UP)
    if verdicts is None:
        result.assert_outcomes(passed=2)
        return
    result.assert_outcomes(passed=1, failed=1)
    lines = explanation(result, "drift-rank")
    assert lines[0] == "attribution ranking drifted for 2 of 2 classes"
    table = lines[2:]
    assert [line.split()[0] for line in table] == ["no", "yes"]
    for line in table:
        assert verdicts in line and line.endswith("DRIFT"), line
    if "top_k" in rank:
        assert table[1].endswith("top 2 overlap 1 (min 2): a, d -> c, a  DRIFT")
        assert table[0].endswith("top 2 overlap 1 (min 2): b, c -> b, d  DRIFT")


def test_interaction_drift(pytester):
    # The pair whose interaction moves most when b flips sign, computed by hand.
    pairs = ["a+b", "a+c", "a+d", "b+c", "b+d", "c+d"]
    moved = {p: interaction(B_UP, p, "yes") - interaction(WEIGHTS, p, "yes") for p in pairs}
    worst = max(moved, key=lambda p: abs(moved[p]))
    above, below = round(abs(moved[worst]) + 0.001, 3), round(abs(moved[worst]) - 0.001, 3)
    others = sorted(abs(moved[p]) for p in pairs)[-2]
    assert others < below  # only the worst pair fails below it
    result = retrain(pytester, f"order: 2\ninteraction: {above}\n", B_UP)
    result.assert_outcomes(passed=2)
    write(pytester, f"order: 2\ninteraction: {below}\n", B_UP)
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    lines = explanation(result, "drift-interaction")
    assert lines[0] == f"2 pair interactions moved beyond {below:g}"
    table = rows(lines, "pair")
    assert [row[0] for row in table] == [worst, worst]
    yes = next(row for row in table if row[1] == "yes")
    assert yes[2:5] == [
        f3(interaction(WEIGHTS, worst, "yes")),
        f3(interaction(B_UP, worst, "yes")),
        f"{moved[worst]:+.3f}",
    ]


def test_interaction_needs_pairs(pytester):
    write(pytester, "interaction: 0.1\n")
    result = run(pytester, "--featureprobe-update")
    result.assert_outcomes(errors=1)
    assert (
        "featureprobe_x.yaml:7: drift.interaction: interaction compares pairs: set drift.order "
        "to 2 or more" in result.stdout.str()
    )
    assert not (pytester.path / "__featureprobe__").exists()


def test_each_drift_check_is_its_own_item_at_its_line(pytester):
    drift = """\
        order: 2
        allow_flips: [b]
        max_flips: 1
        max_abs_delta: 0.5
        rank: {min: 0.3}
        interaction: 0.5
    """
    result = retrain(pytester, drift, B_UP)
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        fnm(
            f"{FILE}::alone-a-margin PASSED*",
            f"{FILE}::drift-flips PASSED*",
            f"{FILE}::drift-max_abs_delta PASSED*",
            f"{FILE}::drift-rank PASSED*",
            f"{FILE}::drift-interaction PASSED*",
        )
    )
    result = pytester.runpytest(*QUIET, "--collect-only", "-q", "-k", "flips")
    result.stdout.fnmatch_lines(fnm(f"{FILE}::drift-flips", "1/5 tests collected (4 deselected)*"))
    write(pytester, drift.replace("max_flips: 1", "max_flips: 0"), B_UP)
    result = run(pytester)
    result.assert_outcomes(passed=4, failed=1)
    lines = section(result, "drift-flips")
    assert lines[:4] == [
        f"{FILE}:8: expectation 'drift-flips' failed",  # allow_flips, the check's first key
        "  drift:",
        "    allow_flips: [b]",
        "    max_flips: 0",
    ]


# --- drift spec errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drift", "message"),
    [
        (
            "order: 2",
            "6: drift: declare at least one drift check: max_flips, allow_flips, max_abs_delta, "
            "per_order, per_probe, rank, interaction, band, false_alarm, max_churn or slice_churn",
        ),
        (
            "max_flips: 0\ncalibrate: {seeds: 3}",
            "8: drift.calibrate: calibrate stores a seed band that only the band check reads: "
            "add band",
        ),
        ("rank: {}", "7: drift.rank: "),
        ("rank: {method: kendall}", "7: drift.rank: rank needs min (a correlation) or top_k"),
        (
            "rank: {top_k: 2, min_overlap: 3}",
            "7: drift.rank.min_overlap: min_overlap is larger than top_k",
        ),
        ("max_flip: 0", "7: drift.max_flip: unknown key (did you mean 'max_flips'"),
        ("max_flips: 0\nrank: {min: 0.5, top: 3}", "8: drift.rank.top: unknown key"),
        ("max_abs_delta: 1.5", "7: drift.max_abs_delta: "),
    ],
    ids=[
        "no-checks",
        "calibrate-without-band",
        "empty-rank",
        "rank-without-bound",
        "overlap-above-k",
        "typo",
        "rank-typo",
        "delta-above-one",
    ],
)
def test_drift_spec_errors_are_one_line(pytester, drift, message):
    write(pytester, drift + "\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    text = result.stdout.str()
    assert f"featureprobe: {FILE}:{message}" in text
    assert "Traceback" not in text and "spec.py" not in text
    assert not (pytester.path / "__featureprobe__").exists()


def test_band_needs_a_model_trained_from_data(pytester):
    write(pytester, "band: true\n")
    result = run(pytester, "--featureprobe-update")
    result.assert_outcomes(errors=1)
    assert (
        "featureprobe_x.yaml:7: drift.band: the seed band retrains the model with other seeds, "
        "so it needs model: train: (this file's model is fixture:)" in result.stdout.str()
    )
    assert not (pytester.path / "__featureprobe__").exists()


# --- the seed band, on a model trained from data -------------------------------------------------


def test_seed_band_passes_then_fails_on_changed_data(pytester):
    shutil.copy(EXAMPLES / "problems" / "problems.csv", pytester.path)
    (pytester.path / "featureprobe_band.yaml").write_text(
        textwrap.dedent(
            """\
            model:
              train:
                data: problems.csv
                features: problems
                label: results
                epochs: 30
                seed: 0
            expect:
              - alone: 4
                predicts: C
            drift:
              order: 2
              band: true
              calibrate: {seeds: 3}
            """
        )
    )
    # The cache provider stays on: the plain run reuses the weights the update trained.
    result = pytester.runpytest("-p", "no:hypothesispytest", "-v", "--featureprobe-update")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["baseline written: __featureprobe__/featureprobe_band.json"])
    data = json.loads((pytester.path / "__featureprobe__/featureprobe_band.json").read_text())
    assert data["band"]["seeds"] == [0, 1, 2]
    assert len(data["band"]["loo_scores"]) == 3
    assert data["model"]["spec"]["epochs"] == 30 and data["model"]["spec"]["seed"] == 0
    assert {"center", "spread", "p", "probe"} == set(data["probes"][0])
    pytester.runpytest("-p", "no:hypothesispytest").assert_outcomes(passed=2)

    # Every label swapped (A <-> C): what each feature does is turned around.
    csv = pytester.path / "problems.csv"
    swapped = {"A": "C", "C": "A"}
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join([lines[0]] + [f"{r[:-1]}{swapped[r[-1]]}" for r in lines[1:]]) + "\n")
    result = pytester.runpytest("-p", "no:hypothesispytest", "-v")
    result.assert_outcomes(failed=2)
    lines = explanation(result, "drift-band")
    assert lines[0].startswith("seed band score ")
    assert "(1.5 x the largest leave-one-out score of the calibration seeds" in lines[0]
    assert lines[0].endswith("seed spreads from the mean of seeds [0, 1, 2]")
    assert re.split(r"  +", lines[1]) == [
        "probe",
        "class",
        "band (mean +- spread)",
        "current",
        "difference",
        "spreads",
    ]


# --- the example walk-through --------------------------------------------------------------------


def test_retrain_gate_example(pytester):
    source = EXAMPLES / "retrain_gate"
    shutil.copytree(
        source,
        pytester.path,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(
            ".*", "__pycache__", "*slices*", "penguins.csv", "relabel_slice.py"
        ),
    )
    baseline = pytester.path / "__featureprobe__/featureprobe_gate.json"
    committed = baseline.read_text()

    result = run(pytester)
    result.assert_outcomes(passed=3)

    # Step 2: the same data, another seed: probabilities move within the seed band.
    spec = pytester.path / "featureprobe_gate.yaml"
    assert "    seed: 0\n" in spec.read_text()
    spec.write_text(spec.read_text().replace("    seed: 0\n", "    seed: 7\n"))
    result = run(pytester)
    result.assert_outcomes(passed=3)

    # Step 3: the row [1, 4, 5] relabelled from C to A: the gate fails.
    data = pytester.path / "problems.csv"
    assert '"[1, 4, 5]",C\n' in data.read_text()
    data.write_text(data.read_text().replace('"[1, 4, 5]",C\n', '"[1, 4, 5]",A\n'))
    result = run(pytester)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(fnm("*::drift-flips FAILED*", "*::drift-band FAILED*"))
    assert explanation(result, "drift-band")[0].startswith("seed band score ")
    assert "seed band score" in result.stdout.str()
    flips = explanation(result, "drift-flips")
    assert re.fullmatch(r"\d+ probes changed their predicted class \(at most 2 allowed\)", flips[0])
    assert baseline.read_text() == committed  # never written without the flag
    assert "baseline written" not in result.stdout.str()


def test_retrain_gate_example_on_real_rows_names_the_slice_that_changed(pytester):
    """The walk-through's second part (README.md there): the committed seed-test baseline of the
    penguins model; another seed passes; the Dream males relabelled fail, the slice named."""
    source = EXAMPLES / "retrain_gate"
    for name in ("featureprobe_slices.yaml", "penguins.csv", "relabel_slice.py"):
        shutil.copy(source / name, pytester.path / name)
    (pytester.path / "__featureprobe__").mkdir()
    committed = (source / "__featureprobe__/featureprobe_slices.json").read_text()
    (pytester.path / "__featureprobe__/featureprobe_slices.json").write_text(committed)
    assert json.loads(committed)["seed_test"]["seeds"] == list(range(19))

    spec = pytester.path / "featureprobe_slices.yaml"
    spec.write_text(spec.read_text().replace("    seed: 0\n", "    seed: 7\n"))
    # step 2: another seed is a retrain like the 19; the report gives the gate's own reading
    result = run(pytester, "--featureprobe-report=report")
    result.assert_outcomes(passed=2)
    summary = "featureprobe_slices.yaml: dense classifier on penguins.csv (seed 7); 15 probes; "
    result.stdout.fnmatch_lines([summary + "2 passed; seed test p 0.* (fails at 0.05)"])
    page = (pytester.path / "report" / "index.html").read_text()
    assert re.search(
        r"Seed test p = 0\.\d{3} \(false_alarm 0\.05, 19 seeds; score \d+\.\d\d\)", page
    )

    spec.write_text(spec.read_text().replace("    seed: 7\n", "    seed: 0\n"))
    relabel = pytester.run(sys.executable, "relabel_slice.py")
    assert relabel.ret == 0
    assert "relabelled 62 rows (island=Dream, sex=male) as Gentoo" in relabel.stdout.str()
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    said = explanation(result, "drift-band")
    assert said[0] == (
        "today's model sits further from the 19 calibration seeds than a retrain with another "
        "seed would (p = 0.050 <= false_alarm 0.05)"
    )
    assert "62 of the 344 rows changed their predicted class since the baseline" in said
    worst = said[said.index("the slices that changed most (of at least 20 rows):") + 2]
    assert worst.split()[:6] == ["island=Dream", "+", "sex=male", "62", "62", "100.0%"]
    assert "-> Gentoo" in worst
    assert said[-1].startswith("score ") and "is above 19 of the 19 seeds' scores" in said[-1]
    stored = (pytester.path / "__featureprobe__/featureprobe_slices.json").read_text()
    assert stored == committed  # never written without the flag
