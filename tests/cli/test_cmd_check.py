"""``featureprobe check``: expectation files run without pytest give what pytest gives, item by
item, because both go through the runner's FileRun."""

from __future__ import annotations

import re
import shutil

import pytest

from pytest_featureprobe import cli

from .support import EXAMPLES

VERBOSE_ITEM = re.compile(r"^(\S+\.yaml)::(.+?) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")
CHECK_ITEM = re.compile(r"^(\S+\.yaml):\d+: (.+) (PASSED|FAILED|ERROR|SKIPPED|XFAILED|XPASSED)$")
SAME_WORD = {"XFAIL": "XFAILED", "XPASS": "XPASSED"}

# One file with something of each: a failing expectation, a close call marked xfail, a skip, an
# entry that names an unknown feature (refused at collection) and a drift gate without baseline.
MIXED = """\
model:
  train: {data: problems.csv, features: problems, label: results, hidden: [8], epochs: 60}
expect:
  - alone: 4
    predicts: C
  - alone: 4
    predicts: A
    name: four is A
  - alone: 4
    predicts: A
    name: marked close call
    marks: [{xfail: {reason: close}}]
  - alone: 9
    predicts: A
  - biased_toward: A
    marks: [{skip: not today}]
  - alone: 99
    predicts: A
    marks: [{xfail: known typo}]
  - alone: 5
    predicts: C
    name: skipped before its xfail
    marks: [{xfail: {reason: flaky, strict: true}}, {skip: not here}]
  - alone: 5
    predicts: C
    name: a strict xfail that passes
    marks: [{xfail: {reason: lucky, strict: true}}]
drift:
  max_flips: 0
"""


def pytest_outcomes(result: pytest.RunResult) -> dict[tuple[str, str], str]:
    found = {}
    for line in result.outlines:
        match = VERBOSE_ITEM.match(line)
        if match:
            file, name, word = match.groups()
            found[(file.rsplit("/", 1)[-1], name)] = SAME_WORD.get(word, word)
    return found


def check_outcomes(output: str) -> dict[tuple[str, str], str]:
    found = {}
    for line in output.splitlines():
        match = CHECK_ITEM.match(line)
        if match:
            file, name, word = match.groups()
            found[(file.rsplit("/", 1)[-1], name)] = word
    return found


def test_check_gives_the_outcomes_pytest_gives(pytester, monkeypatch, capsys):
    shutil.copytree(EXAMPLES / "retrain_gate", pytester.path / "gate")
    shutil.copy(EXAMPLES / "problems" / "problems.csv", pytester.path)
    shutil.copy(EXAMPLES / "problems" / "featureprobe_problems.yaml", pytester.path)
    (pytester.path / "featureprobe_mixed.yaml").write_text(MIXED)
    csv = pytester.path / "gate" / "problems.csv"  # a retrain on changed data: the gate fails
    csv.write_text(csv.read_text().replace('"[1, 4, 5]",C', '"[1, 4, 5]",A'))
    files = ["featureprobe_problems.yaml", "featureprobe_mixed.yaml", "gate/featureprobe_gate.yaml"]

    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", "-v", *files)
    by_pytest = pytest_outcomes(result)
    monkeypatch.chdir(pytester.path)
    capsys.readouterr()
    status = cli.main(["check", *files])
    output = capsys.readouterr().out
    by_check = check_outcomes(output)

    assert status == 1
    assert len(by_pytest) == 21
    assert by_check == by_pytest
    assert by_check[("featureprobe_mixed.yaml", "four-is-A")] == "FAILED"
    assert by_check[("featureprobe_mixed.yaml", "marked-close-call")] == "XFAILED"
    assert by_check[("featureprobe_mixed.yaml", "zero-biased_toward-A")] == "SKIPPED"
    assert by_check[("featureprobe_mixed.yaml", "alone-9-predicts-A")] == "ERROR"
    assert by_check[("featureprobe_problems.yaml", "feature-3-is-a-close-call")] == "XFAILED"
    assert by_check[("featureprobe_gate.yaml", "drift-band")] == "FAILED"
    assert by_check[("featureprobe_mixed.yaml", "alone-99-predicts-A")] == "XFAILED"  # own error
    assert by_check[("featureprobe_mixed.yaml", "skipped-before-its-xfail")] == "SKIPPED"
    assert by_check[("featureprobe_mixed.yaml", "a-strict-xfail-that-passes")] == "FAILED"
    assert "    [XPASS(strict)] lucky" in output
    # The failure text is the runner's, as pytest prints it.
    assert "    probe 4: expected predicts A; observed C" in output
    assert "    featureprobe_mixed.yaml:13: expect[3].alone: unknown feature '9'" in output
    assert "no baseline at __featureprobe__/featureprobe_mixed.json; create it with: " in output
    assert "featureprobe check featureprobe_mixed.yaml --update" in output
    assert output.rstrip().endswith("5 failed, 10 passed, 2 skipped, 3 xfailed, 1 error")


def test_check_update_writes_the_baseline_pytest_would(tmp_path, monkeypatch, capsys):
    shutil.copy(EXAMPLES / "problems" / "problems.csv", tmp_path)
    text = MIXED.replace("drift:\n  max_flips: 0\n", "drift:\n  order: 2\n  max_flips: 0\n")
    (tmp_path / "featureprobe_mixed.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "featureprobe_mixed.yaml", "--update"]) == 1  # "four is A" fails
    output = capsys.readouterr().out
    assert re.search(r"^featureprobe_mixed.yaml:\d+: drift-flips PASSED$", output, re.MULTILINE)
    written = tmp_path / "__featureprobe__" / "featureprobe_mixed.json"
    assert '"order": 2' in written.read_text()
    assert cli.main(["check", "featureprobe_mixed.yaml"]) == 1
    assert "drift-flips PASSED" in capsys.readouterr().out


def test_a_fixture_model_cannot_run_outside_pytest(tmp_path, monkeypatch, capsys):
    (tmp_path / "featureprobe_fix.yaml").write_text(
        "model:\n  fixture: my_model\nexpect:\n  - alone: a\n    predicts: B\n"
    )
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "featureprobe_fix.yaml"]) == 1
    output = capsys.readouterr().out
    assert "featureprobe_fix.yaml:4: alone-a-predicts-B FAILED" in output
    assert "the model comes from the pytest fixture 'my_model'" in output
    assert cli.main(["check", "missing.yaml"]) == 2
    assert "expectation file not found: missing.yaml" in capsys.readouterr().err


def test_messages_speak_the_commands_words(tmp_path, monkeypatch, capsys):
    """Hints name the command's flags, not pytest's: --allow-path, check --update, the
    --baseline-dir given."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    shutil.copy(EXAMPLES / "problems" / "problems.csv", elsewhere)
    outside = MIXED.replace("data: problems.csv", f"data: {elsewhere / 'problems.csv'}")
    (project / "featureprobe_out.yaml").write_text(outside)
    (project / "featureprobe_in.yaml").write_text(MIXED)
    shutil.copy(EXAMPLES / "problems" / "problems.csv", project)
    monkeypatch.chdir(project)
    assert cli.main(["check", "featureprobe_out.yaml"]) == 1
    output = capsys.readouterr().out
    assert "is outside the project" in output and "allow its folder with --allow-path DIR" in output
    assert "--featureprobe-allow-path" not in output
    assert cli.main(["check", "featureprobe_in.yaml", "--baseline-dir", "gates"]) == 1
    output = capsys.readouterr().out
    assert (
        "no baseline at gates/featureprobe_in.json; create it with: "
        "featureprobe check featureprobe_in.yaml --update --baseline-dir gates"
    ) in output
