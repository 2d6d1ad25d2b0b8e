"""Expectation files as pytest items: ids, selection, marks, file patterns and collection errors.

Every run here is an in-process ``pytester`` run against a plain-numpy model defined in a
conftest.py that pytester writes, so nothing here trains a model.
"""

from __future__ import annotations

import re
import shutil
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2] / "examples" / "problems"


HEADER = """\
model:
  fixture: fruit_model
expect:
"""

# Two expectations that hold, used beside broken files to show the rest of a run still works.
GOOD = (
    HEADER
    + """\
  - alone: red
    predicts: apple
  - together: [long, sweet]
    predicts: banana
"""
)


def write(pytester: pytest.Pytester, name: str, text: str) -> Path:
    path = pytester.path / name
    path.write_text(textwrap.dedent(text))
    return path


# Hypothesis' plugin imports hypothesis in every in-process run (half a second each): keep it out.
QUIET = ("-p", "no:hypothesispytest")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", *QUIET, *args)


def output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def fnm(*patterns: str) -> list[str]:
    """fnmatch patterns in which only ``*`` is a wildcard: ids and keys are full of ``[``/``]``."""
    table = str.maketrans({"[": "[[]", "]": "[]]", "?": "[?]"})
    return [p.translate(table) for p in patterns]


def assert_line(result: pytest.RunResult, pattern: str) -> None:
    """A whole output line matches ``pattern``, where only ``*`` is a wildcard (ids and keys are
    full of the ``[`` and ``]`` that fnmatch would read as character classes)."""
    regex = "^" + re.escape(pattern).replace(r"\*", ".*") + "$"
    text = output(result)
    assert re.search(regex, text, re.MULTILINE), f"no line matches {pattern!r} in:\n{text}"


def assert_no_traceback(result: pytest.RunResult) -> None:
    text = output(result)
    assert "Traceback" not in text
    assert "site-packages" not in text
    assert "pytest_featureprobe/" not in text and "pytest_featureprobe\\" not in text
    assert not re.search(r"\.py:\d+", text), text
    assert not re.search(r"^E\s", text, re.MULTILINE), text  # no assertion-style error lines


# --- items and ids --------------------------------------------------------------------------------


def test_each_expectation_is_an_item_with_a_readable_id(fruit):
    write(
        fruit,
        "featureprobe_ids.yaml",
        HEADER
        + """\
  - biased_toward: apple
  - zero: true
    predicts: apple
  - alone: long
    predicts: banana
  - alone: [red, round]
    predicts: apple
  - together: [sweet, long]
    predicts: banana
  - together: [[green, sour], [red, round]]
    min_margin: 0.1
  - name: red fruit are apples
    alone: red
    predicts: apple
  - every: {order: 2, containing: green, except: [red]}
    probability: {class: banana, max: 0.5}
  - adding: red
    raises: apple
  - adding: shiny
    moves_at_most: 0.15
    on: fruits.csv
  - top: 2
    toward: lime
    include: [green]
  - alone: long
    predicts: banana
""",
    )
    result = run(fruit, "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        fnm(
            "featureprobe_ids.yaml::zero-biased_toward-apple",
            "featureprobe_ids.yaml::zero-predicts-apple",
            "featureprobe_ids.yaml::alone-long-predicts-banana",
            "featureprobe_ids.yaml::alone-red_round-predicts-apple",
            "featureprobe_ids.yaml::together-sweet+long-predicts-banana",  # as written
            "featureprobe_ids.yaml::together-green+sour_red+round-margin",
            "featureprobe_ids.yaml::red-fruit-are-apples",
            "featureprobe_ids.yaml::every-order2-containing-green-except-red-probability-banana-0-0.5",
            "featureprobe_ids.yaml::adding-red-raises-apple",
            "featureprobe_ids.yaml::adding-shiny-moves_at_most-0.15-on-fruits.csv",
            "featureprobe_ids.yaml::top2-toward-lime",
            # The same derived id twice: the second gets a suffix rather than an error.
            "featureprobe_ids.yaml::alone-long-predicts-banana-2",
            "12 tests collected in *",
        )
    )
    result = run(fruit, "-v")
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(fnm("featureprobe_ids.yaml::red-fruit-are-apples PASSED*"))


def test_ids_of_the_seed_data_read_as_the_method_does(pytester):
    # Collection reads the data for names but trains nothing.
    shutil.copy(SEED / "problems.csv", pytester.path)
    write(
        pytester,
        "featureprobe_problems.yaml",
        """\
        model:
          train: {data: problems.csv, features: problems, label: results}
        expect:
          - alone: 4
            predicts: C
          - alone: [1, 2, 3, 6]
            predicts: A
          - together: [4, 5]
            predicts: C
        """,
    )
    result = run(pytester, "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        fnm(
            "featureprobe_problems.yaml::alone-4-predicts-C",
            "featureprobe_problems.yaml::alone-1_2_3_6-predicts-A",
            "featureprobe_problems.yaml::together-4+5-predicts-C",
            "3 tests collected in *",
        )
    )


def test_the_header_of_a_failure_names_file_line_and_id(fruit):
    write(
        fruit,
        "featureprobe_where.yaml",
        HEADER
        + """\
  - alone: red
    predicts: apple
  - name: long fruit
    alone: long
    predicts: apple
""",
    )
    result = run(fruit)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        fnm(
            "*_ featureprobe_where.yaml:6: long fruit _*",
            "featureprobe_where.yaml:6: expectation 'long fruit' failed",
            "    - name: long fruit",
            "      alone: long",
            "      predicts: apple",
            "  probe long: expected predicts apple; observed banana (margin 0.350), "
            "missed by 0.350",
            "FAILED featureprobe_where.yaml::long-fruit - alone long -> apple: observed *",
        )
    )
    assert_no_traceback(result)


# --- selection: -k, --lf, -x, node ids ------------------------------------------------------------

SELECTION = (
    HEADER
    + """\
  - alone: red
    predicts: apple
  - alone: long
    predicts: apple
  - alone: green
    predicts: lime
  - name: sour is sweet
    alone: sour
    predicts: banana
  - together: [long, sweet]
    predicts: banana
"""
)


def test_k_selects_by_id(fruit):
    write(fruit, "featureprobe_sel.yaml", SELECTION)
    result = run(fruit, "-k", "predicts and not long and not sour", "-v")
    result.assert_outcomes(passed=2, deselected=3)
    result.stdout.fnmatch_lines(
        fnm(
            "featureprobe_sel.yaml::alone-red-predicts-apple PASSED*",
            "featureprobe_sel.yaml::alone-green-predicts-lime PASSED*",
        )
    )
    result = run(fruit, "-k", "sweet")  # the explicit name and the derived id both match
    result.assert_outcomes(passed=1, failed=1, deselected=3)


def test_last_failed_reruns_only_the_failed_expectations(fruit):
    write(fruit, "featureprobe_sel.yaml", SELECTION)
    first = fruit.runpytest(*QUIET)  # with the cache: --lf needs it
    first.assert_outcomes(passed=3, failed=2)
    again = fruit.runpytest("--lf", "-v", *QUIET)
    again.assert_outcomes(failed=2)
    again.stdout.fnmatch_lines(
        fnm(
            "collecting ... collected 2 items",
            "run-last-failure: rerun previous 2 failures*",
            "featureprobe_sel.yaml::alone-long-predicts-apple FAILED*",
            "featureprobe_sel.yaml::sour-is-sweet FAILED*",
        )
    )


def test_x_stops_at_the_first_failed_expectation(fruit):
    write(fruit, "featureprobe_sel.yaml", SELECTION)
    result = run(fruit, "-x")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(fnm("*stopping after 1 failures*"))


@pytest.mark.parametrize(
    ("node_id", "outcome"),
    [
        ("featureprobe_sel.yaml::alone-green-predicts-lime", "passed"),
        ("featureprobe_sel.yaml::together-long+sweet-predicts-banana", "passed"),
        ("featureprobe_sel.yaml::sour-is-sweet", "failed"),
    ],
)
def test_node_id_selects_one_expectation(fruit, node_id, outcome):
    write(fruit, "featureprobe_sel.yaml", SELECTION)
    result = run(fruit, node_id, "-v")
    result.assert_outcomes(**{outcome: 1})
    result.stdout.fnmatch_lines(fnm(f"{node_id} {outcome.upper()}*"))


def test_k_parses_an_id_made_from_a_name_with_spaces_and_parentheses(fruit):
    write(
        fruit,
        "featureprobe_sel.yaml",
        HEADER
        + """\
  - name: P(apple) when red [always]
    alone: red
    predicts: apple
  - name: "P(banana): long"
    alone: long
    predicts: banana
""",
    )
    result = run(fruit, "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        fnm(
            "featureprobe_sel.yaml::P-apple-when-red-always",
            "featureprobe_sel.yaml::P-banana-long",
        )
    )
    result = run(fruit, "-k", "P-apple", "-v")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(fnm("featureprobe_sel.yaml::P-apple-when-red-always PASSED*"))
    # The name as written heads the failure text, and JUnit records it beside the id.
    write(
        fruit,
        "featureprobe_sel.yaml",
        HEADER + "  - name: P(apple) long\n    alone: long\n    predicts: apple\n",
    )
    result = run(fruit, "--junitxml=r.xml")
    result.stdout.fnmatch_lines(
        fnm(
            "*_ featureprobe_sel.yaml:4: P(apple) long _*",
            "featureprobe_sel.yaml:4: expectation 'P(apple) long' failed",
        )
    )
    case = ET.parse(fruit.path / "r.xml").getroot().find(".//testcase")
    assert case.get("name") == "P-apple-long"
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["featureprobe_name"] == "P(apple) long"


def test_ids_are_bounded_and_unique_whatever_the_names(fruit):
    long_name = "red " * 1250  # 5,000 characters
    write(
        fruit,
        "featureprobe_long.yaml",
        HEADER
        + f"  - name: {long_name}a\n    alone: red\n    predicts: apple\n"
        + f"  - name: {long_name}b\n    alone: red\n    predicts: apple\n"
        + "  - name: a b\n    alone: red\n    predicts: apple\n"
        + "  - name: a(b)\n    alone: red\n    predicts: apple\n",
    )
    result = run(fruit, "--collect-only", "-q")
    ids = [line.split("::", 1)[1] for line in result.outlines if "::" in line]
    assert len(ids) == 4 and len(set(ids)) == 4, ids
    for found in ids[:2]:
        assert re.fullmatch(r"(red-){29}red-[0-9a-f]{8}", found), found
    assert ids[2:] == ["a-b", "a-b-2"]  # two names that fold to one id: numbered
    result = run(fruit, "--junitxml=r.xml")
    result.assert_outcomes(passed=4)
    cases = ET.parse(fruit.path / "r.xml").getroot().iter("testcase")
    names = [{p.get("name"): p.get("value") for p in c.iter("property")} for c in cases]
    assert names[0]["featureprobe_name"] == long_name.strip() + " a"


def test_a_file_of_5000_entries_collects(fruit):
    entries = "".join("  - alone: red\n    predicts: apple\n" for _ in range(5000))
    write(fruit, "featureprobe_many.yaml", HEADER + entries)
    result = run(fruit, "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        fnm("featureprobe_many.yaml::alone-red-predicts-apple-5000", "5000 tests collected in *")
    )


# --- marks ----------------------------------------------------------------------------------------


def test_marks_skip_xfail_and_custom_markers(fruit):
    fruit.makeini("[pytest]\nmarkers =\n    slow: checks that take long\n")
    write(
        fruit,
        "featureprobe_marks.yaml",
        HEADER
        + """\
  - alone: red
    predicts: apple
    marks: [slow]
  - alone: long
    predicts: apple
    marks:
      - xfail: long fruit are bananas
  - alone: green
    predicts: lime
    marks:
      - skip: not today
  - name: strict xpass
    alone: round
    predicts: apple
    marks:
      - xfail: {reason: round is apple, strict: true}
""",
    )
    result = run(fruit, "-rsxX")
    result.assert_outcomes(passed=1, failed=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines_random(
        fnm(
            "SKIPPED [1] featureprobe_marks.yaml: not today",
            "XFAIL featureprobe_marks.yaml::alone-long-predicts-apple - long fruit are bananas",
            "[XPASS(strict)] round is apple",
        )
    )
    result = run(fruit, "-m", "slow", "-v")
    result.assert_outcomes(passed=1, deselected=3)
    result.stdout.fnmatch_lines(fnm("featureprobe_marks.yaml::alone-red-predicts-apple PASSED*"))
    result = run(fruit, "-m", "not slow")
    result.assert_outcomes(failed=1, skipped=1, xfailed=1, deselected=1)


def test_every_expectation_carries_the_featureprobe_marker(fruit):
    write(fruit, "featureprobe_marks.yaml", GOOD)
    fruit.makefile(".yaml", featureprobe_broken="model: {fixture: fruit_model}\nexpect: 3\n")
    fruit.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = run(fruit, "-m", "not featureprobe", "--strict-markers", "-v")
    result.assert_outcomes(passed=1, deselected=3)  # both entries and the broken file's item
    result.stdout.fnmatch_lines(fnm("test_plain.py::test_plain PASSED*"))
    result = run(fruit, "-m", "featureprobe", "--strict-markers")
    result.assert_outcomes(passed=2, errors=1, deselected=1)
    result = run(fruit, "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.featureprobe: an expectation of a featureprobe*"])


# --- which files are collected --------------------------------------------------------------------


def test_default_patterns_collect_yaml_and_yml_and_ignore_other_yaml(fruit):
    write(fruit, "featureprobe_one.yaml", GOOD)
    write(fruit, "featureprobe_two.yml", GOOD)
    # Not expectation files: never parsed, so not even broken YAML is reported.
    write(fruit, "config.yaml", "this: [is not: valid\n")
    write(fruit, "my_featureprobe_x.yaml", "model: [\n")
    write(fruit, "featureprobe_notes.txt", "model: [\n")
    sub = fruit.path / "sub"
    sub.mkdir()
    write(fruit, "sub/featureprobe_nested.yaml", GOOD)
    result = run(fruit, "--collect-only", "-q")
    result.stdout.fnmatch_lines_random(
        fnm(
            "featureprobe_one.yaml::alone-red-predicts-apple",
            "featureprobe_two.yml::alone-red-predicts-apple",
            "sub/featureprobe_nested.yaml::alone-red-predicts-apple",
            "6 tests collected in *",
        )
    )
    text = output(result)
    assert "config.yaml" not in text and "my_featureprobe_x" not in text
    run(fruit).assert_outcomes(passed=6)


def test_featureprobe_files_ini_replaces_the_default_patterns(fruit):
    fruit.makeini("[pytest]\nfeatureprobe_files = checks_*.yaml probes_*.yml\n")
    write(fruit, "checks_fruit.yaml", GOOD)
    write(fruit, "probes_fruit.yml", GOOD)
    write(fruit, "featureprobe_default.yaml", GOOD)
    result = run(fruit, "--collect-only", "-q")
    result.stdout.fnmatch_lines_random(
        fnm(
            "checks_fruit.yaml::alone-red-predicts-apple",
            "probes_fruit.yml::alone-red-predicts-apple",
            "4 tests collected in *",
        )
    )
    assert "featureprobe_default.yaml" not in output(result)


def test_featureprobe_files_option_overrides_the_ini(fruit):
    fruit.makeini("[pytest]\nfeatureprobe_files = checks_*.yaml\n")
    write(fruit, "checks_fruit.yaml", GOOD)
    write(fruit, "model_fruit.yaml", GOOD)
    write(fruit, "model_extra.yml", GOOD)
    result = run(
        fruit, "--featureprobe-files=model_*.yaml", "--featureprobe-files=*_extra.yml", "-v"
    )
    result.assert_outcomes(passed=4)
    text = output(result)
    assert "model_fruit.yaml::" in text and "model_extra.yml::" in text
    assert "checks_fruit.yaml" not in text


def test_disabling_the_plugin_collects_no_expectations(fruit):
    write(fruit, "featureprobe_fruit.yaml", GOOD)
    fruit.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = run(fruit, "-p", "no:featureprobe")
    result.assert_outcomes(passed=1)
    assert "featureprobe_fruit.yaml" not in output(result)
    run(fruit).assert_outcomes(passed=3)


# --- YAML 1.2 booleans ----------------------------------------------------------------------------


def test_on_is_a_key_not_a_boolean(fruit):
    # YAML 1.1 reads on/off/yes/no as booleans, which would make the key `on:` True.
    write(
        fruit,
        "featureprobe_on.yaml",
        HEADER
        + """\
  - adding: red
    raises: apple
    by: 0.05
    on: fruits.csv
  - adding: red
    raises: apple
    on: zero
""",
    )
    result = run(fruit, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        fnm(
            "featureprobe_on.yaml::adding-red-raises-apple-on-fruits.csv PASSED*",
            "featureprobe_on.yaml::adding-red-raises-apple PASSED*",
        )
    )


def test_yes_no_on_off_are_names_not_booleans(pytester):
    pytester.makeconftest(
        """
        import numpy as np
        import pytest

        from pytest_featureprobe.features import FeatureSpace
        from pytest_featureprobe.models import from_callable


        @pytest.fixture(scope="session")
        def switch_model():
            # off -> class no; on -> class yes.
            def forward(x):
                p_yes = 0.5 + 0.4 * x[:, 0] - 0.4 * x[:, 1]
                return np.stack([1 - p_yes, p_yes], axis=1)

            return from_callable(forward, FeatureSpace.from_names(["on", "off"]), ["no", "yes"])
        """
    )
    write(
        pytester,
        "featureprobe_switch.yaml",
        """\
        model:
          fixture: switch_model
        expect:
          - alone: on
            predicts: yes
          - alone: off
            predicts: no
        """,
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(fnm("*::alone-on-predicts-yes PASSED*"))


# --- collection errors ----------------------------------------------------------------------------

# (YAML, the line users must read, outcome of the broken file's items). Every message names the
# file and the exact line; all but whole-file syntax errors name the key.
ERRORS = {
    "yaml-syntax": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - name: misindented
    alone: red
      predicts: apple
""",
        "featureprobe: featureprobe_bad.yaml:8: invalid YAML: mapping values are not allowed here",
        {"errors": 1},
    ),
    "yaml-unclosed-at-end": (
        HEADER
        + """\
  - alone: red
    predicts: [apple
""",
        "featureprobe: featureprobe_bad.yaml:5: invalid YAML: expected ',' or ']'*",
        {"errors": 1},
    ),
    "unknown-key": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - alone: long
    predict: banana
""",
        "featureprobe: featureprobe_bad.yaml:7: expect[1].predict: unknown key "
        "(did you mean 'predicts'?); allowed: *",
        {"passed": 1, "errors": 1},
    ),
    "unknown-top-level-key": (
        """\
model:
  fixture: fruit_model
expects:
  - alone: red
    predicts: apple
""",
        "featureprobe: featureprobe_bad.yaml:3: expects: unknown key (did you mean 'expect'?)*",
        {"errors": 1},
    ),
    "unknown-training-key": (
        """\
model:
  train:
    data: problems.csv
    features: problems
    lable: results
expect:
  - alone: 1
    predicts: A
""",
        "featureprobe: featureprobe_bad.yaml:5: model.train.lable: unknown key "
        "(did you mean 'label'?)*",
        {"errors": 1},
    ),
    "wrong-type": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - alone: sweet
    predicts: banana
    min_prob: high
""",
        "featureprobe: featureprobe_bad.yaml:8: expect[1].min_prob: 'high' is not of type 'number'",
        {"passed": 1, "errors": 1},
    ),
    "wrong-type-on": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - adding: red
    raises: apple
    on: 3
""",
        "featureprobe: featureprobe_bad.yaml:8: expect[1].on: 3 is not of type 'string'",
        {"passed": 1, "errors": 1},
    ),
    "wrong-type-in-model": (
        """\
model:
  train:
    data: problems.csv
    features: problems
    label: results
    hidden: 16
expect:
  - alone: 1
    predicts: A
""",
        "featureprobe: featureprobe_bad.yaml:6: model.train.hidden: 16 is not of type 'array'",
        {"errors": 1},
    ),
    "not-a-mapping": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - alone long
""",
        "featureprobe: featureprobe_bad.yaml:6: expect[1]: 'alone long' is not of type 'object'",
        {"passed": 1, "errors": 1},
    ),
    "two-subjects": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - alone: red
    together: [red, long]
    predicts: apple
""",
        "featureprobe: featureprobe_bad.yaml:6: expect[1]: an expectation needs exactly one of "
        "zero, alone, together, every, biased_toward, adding, top (found alone, together)",
        {"passed": 1, "errors": 1},
    ),
    "unknown-feature-close": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - name: green is lime
    alone: gren
    predicts: lime
""",
        "featureprobe: featureprobe_bad.yaml:7: expect[1].alone: unknown feature 'gren' "
        "(did you mean 'green'?)",
        {"passed": 1, "errors": 1},
    ),
    "unknown-feature-far": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - together: [red, zzz]
    predicts: apple
""",
        "featureprobe: featureprobe_bad.yaml:6: expect[1].together: unknown feature 'zzz'; "
        "features are red, green, round, long, sweet, sour, shiny",
        {"passed": 1, "errors": 1},
    ),
    "unknown-feature-in-every": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - every: {containing: lon}
    predicts: banana
""",
        "featureprobe: featureprobe_bad.yaml:6: expect[1].every: unknown feature 'lon' "
        "(did you mean 'long'?)",
        {"passed": 1, "errors": 1},
    ),
    "unknown-class": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - name: red is an apple
    alone: red
    predicts: appel
""",
        "featureprobe: featureprobe_bad.yaml:8: expect[1].predicts: unknown class 'appel' "
        "(did you mean 'apple'?); classes are apple, banana, lime",
        {"passed": 1, "errors": 1},
    ),
    "unknown-class-biased-toward": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - biased_toward: pear
""",
        "featureprobe: featureprobe_bad.yaml:6: expect[1].biased_toward: unknown class 'pear'*",
        {"passed": 1, "errors": 1},
    ),
    "min-above-max": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - alone: red
    probability:
      class: apple
      min: 0.9
      max: 0.2
""",
        "featureprobe: featureprobe_bad.yaml:7: expect[1].probability: min 0.9 is above max 0.2",
        {"passed": 1, "errors": 1},
    ),
    "top-1-are-2": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - top: 1
    toward: apple
    are: [red, round]
""",
        "featureprobe: featureprobe_bad.yaml:8: expect[1].are: 2 features cannot fit in the top 1",
        {"passed": 1, "errors": 1},
    ),
    "duplicate-name": (
        HEADER
        + """\
  - name: same
    alone: red
    predicts: apple
  - name: same
    alone: round
    predicts: apple
""",
        "featureprobe: featureprobe_bad.yaml:7: expect[1].name: duplicate name 'same' "
        "(also on line 4)",
        {"passed": 1, "errors": 1},
    ),
    "mostly-on-zero": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - zero: true
    predicts: apple
    mostly: 0.5
""",
        "featureprobe: featureprobe_bad.yaml:8: expect[1].mostly: mostly applies to several probes",
        {"passed": 1, "errors": 1},
    ),
    "on-training-without-training": (
        HEADER
        + """\
  - alone: red
    predicts: apple
  - adding: red
    raises: apple
    on: training
""",
        "featureprobe: featureprobe_bad.yaml:8: expect[1].on: 'training' names the training "
        "data of a model trained from data*",
        {"passed": 1, "errors": 1},
    ),
    "missing-data-file": (
        """\
model:
  train:
    data: nothere.csv
    features: problems
    label: results
expect:
  - alone: 1
    predicts: A
""",
        "featureprobe: featureprobe_bad.yaml:3: model.train.data: "
        "data file not found: nothere.csv*",
        {"failed": 1},
    ),
    "missing-label-column": (
        """\
model:
  train:
    data: problems.csv
    features: problems
    label: result
expect:
  - alone: 1
    predicts: A
""",
        "featureprobe: featureprobe_bad.yaml:5: model.train.label: no label column 'result' "
        "(did you mean 'results'?)",
        {"failed": 1},
    ),
    "missing-feature-column": (
        """\
model:
  train:
    data: problems.csv
    features: problem
    label: results
expect:
  - alone: 1
    predicts: A
""",
        "featureprobe: featureprobe_bad.yaml:4: model.train.features: *'problem'*",
        {"failed": 1},
    ),
    "missing-model-file": (
        """\
model:
  load: nothere.keras
expect:
  - alone: 1
    predicts: A
""",
        "featureprobe: featureprobe_bad.yaml:2: model.load: model file not found: nothere.keras*",
        {"failed": 1},
    ),
    "missing-fixture": (
        """\
model:
  fixture: fruit_modle
expect:
  - alone: red
    predicts: apple
""",
        "featureprobe: featureprobe_bad.yaml:2: model.fixture: no fixture named 'fruit_modle'*",
        {"failed": 1},
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_a_mistake_is_one_line_at_file_line_and_key(fruit, case):
    text, message, outcome = ERRORS[case]
    shutil.copy(SEED / "problems.csv", fruit.path)
    write(fruit, "featureprobe_bad.yaml", text)
    write(fruit, "featureprobe_good.yaml", GOOD)
    result = run(fruit, "featureprobe_bad.yaml", "featureprobe_good.yaml")
    expected = {"passed": 0, "failed": 0, "errors": 0, **outcome}
    expected["passed"] += 2  # the good file still runs
    result.assert_outcomes(**expected)
    assert_line(result, message)
    assert_no_traceback(result)
    # One short line per item that carries the mistake.
    reported = re.findall(r"^featureprobe: featureprobe_bad\.yaml", output(result), re.MULTILINE)
    assert len(reported) == outcome.get("errors", 0) + outcome.get("failed", 0)


def test_one_broken_file_does_not_stop_collection_of_the_others(fruit):
    write(fruit, "featureprobe_a_broken.yaml", "model: [\n")
    write(fruit, "featureprobe_b_good.yaml", GOOD)
    result = run(fruit)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(fnm("*featureprobe_a_broken.yaml:*invalid YAML*"))
    assert "Interrupted" not in output(result)
    assert_no_traceback(result)
