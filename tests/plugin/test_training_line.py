"""The line pytest's terminal shows while a model trains (issue 17, item 3): what trains, then
how long it took; nothing on a cache hit, under ``-q``, or in an item's captured output."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

SEED_CSV = Path(__file__).resolve().parents[2] / "examples" / "problems" / "problems.csv"
TRAINED = "model:\n  train:\n    data: problems.csv\n    features: problems\n    label: results\n"
LINE = re.compile(
    r"^featureprobe: training dense classifier on problems\.csv \(seed 3\)\.\.\. \d+\.\d s$"
)


@pytest.fixture
def problems(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copy(SEED_CSV, pytester.path / "problems.csv")
    (pytester.path / "featureprobe_problems.yaml").write_text(
        TRAINED + "    epochs: 5\n    seed: 3\n"
        "expect:\n  - alone: 4\n    predicts: C\n  - alone: 4\n    predicts: A\n"
    )
    return pytester


def training_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "featureprobe: training" in line]


def test_a_model_that_trains_gets_one_line_and_a_cached_one_none(problems):
    first = problems.runpytest()
    first.assert_outcomes(passed=1, failed=1)
    (line,) = training_lines(first)
    assert LINE.match(line), line
    # The line stands alone: the file's results start on the next one.
    at = first.outlines.index(line)
    assert first.outlines[at + 1].startswith("featureprobe_problems.yaml ")
    second = problems.runpytest()  # the weights come from pytest's cache folder
    second.assert_outcomes(passed=1, failed=1)
    assert training_lines(second) == []


def test_the_line_is_not_in_captured_output_and_not_under_quiet(problems):
    result = problems.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1, failed=1)
    assert len(training_lines(result)) == 1
    captured = result.stdout.str().split("featureprobe: training", 1)[1]
    assert "featureprobe: training" not in captured  # not repeated in any captured section
    quiet = problems.runpytest("-p", "no:cacheprovider", "-q")
    quiet.assert_outcomes(passed=1, failed=1)
    assert training_lines(quiet) == []


def test_under_verbose_the_line_does_not_break_the_item_lines(problems):
    result = problems.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1, failed=1)
    (line,) = training_lines(result)
    assert LINE.match(line), line
    # The item's line is ended above the training line and written again, whole, below it.
    at = result.outlines.index(line)
    first = "featureprobe_problems.yaml::alone-4-predicts-C"
    assert result.outlines[at - 1] == f"{first} "
    assert re.match(rf"{first} FAILED +\[ 50%\]$", result.outlines[at + 1])
    assert re.match(
        r"featureprobe_problems.yaml::alone-4-predicts-A PASSED", result.outlines[at + 2]
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_writes_the_line_on_stderr_and_none_on_a_cache_hit(
    tmp_path, capsys, monkeypatch
):
    """The same line from ``featureprobe train`` (the command's ProbeSession), on stderr when
    it is a terminal; off a terminal, none (as the commands' progress)."""
    from pytest_featureprobe.cli import main

    shutil.copy(SEED_CSV, tmp_path / "problems.csv")
    args = ["train", str(tmp_path / "problems.csv"), "--features", "problems"]
    args += ["--label", "results", "--epochs", "5", "--seed", "3"]
    args += ["--cache-dir", str(tmp_path / "cache"), "--allow-path", str(tmp_path)]
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main([*args, "-o", str(tmp_path / "m.keras")]) == 0
    out, err = capsys.readouterr().out, terminal.getvalue()
    (line,) = [x for x in err.splitlines() if x.startswith("featureprobe: training")]
    assert LINE.match(line), line
    assert "featureprobe: training" not in out
    assert main([*args, "-o", str(tmp_path / "m2.keras")]) == 0
    assert terminal.getvalue() == err  # a cache hit: no line
    monkeypatch.undo()
    other = [*args]
    other[other.index("--seed") + 1] = "4"
    assert main([*other, "-o", str(tmp_path / "m3.keras")]) == 0
    assert "featureprobe: training" not in capsys.readouterr().err  # trained, off a terminal
