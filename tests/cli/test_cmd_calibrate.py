"""``featureprobe calibrate``: the seed band's baseline, byte for byte what pytest
--featureprobe-update writes, with progress on a terminal."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_featureprobe import cli
from pytest_featureprobe.baseline import read_baseline

from .support import SEED_CSV, one_line

# A seed-band file with a small, quick spec: the expectation is one that any model passes.
CALIBRATE_YAML = """\
model:
  train:
    data: problems.csv
    features: problems
    label: results
    hidden: [8]
    epochs: 20
expect:
  - alone: 4
    probability: {class: C, min: 0}
drift:
  order: 2
  band: true
  calibrate: {seeds: 3}
  max_flips: 22
"""


# --- calibrate ----------------------------------------------------------------------------------


def _pty_run(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, str]:
    """Run the command with stderr on a pseudo-terminal; returns the run and what it showed."""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest_featureprobe", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=300,
        )
    finally:
        os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal is closed once everything is read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return done, shown.decode()


@pytest.mark.system
@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_calibrate_writes_the_baseline_pytest_update_writes(tmp_path, pytester):
    for folder in ("cli", "pytest"):
        (tmp_path / folder).mkdir()
        shutil.copy(SEED_CSV, tmp_path / folder)
        (tmp_path / folder / "featureprobe_cal.yaml").write_text(CALIBRATE_YAML)
    done, terminal = _pty_run(["calibrate", "cli/featureprobe_cal.yaml"], tmp_path)
    assert done.returncode == 0, terminal
    assert "calibrating: seed 2 (3 of 3) ..." in terminal
    assert "calibrated cli/featureprobe_cal.yaml: 3 seeds, 22 probes up to order 2" in done.stdout
    assert done.stdout.splitlines()[1].split() == [
        "seed",
        "training",
        "accuracy",
        "leave-one-out",
        "score",
    ]
    assert "band threshold " in done.stdout
    written = tmp_path / "cli" / "__featureprobe__" / "featureprobe_cal.json"
    assert read_baseline(written).band.seeds == [0, 1, 2]

    shutil.copytree(tmp_path / "pytest", pytester.path / "pytest")
    result = pytester.runpytest("-p", "no:cacheprovider", "pytest", "--featureprobe-update")
    result.assert_outcomes(passed=3)
    updated = pytester.path / "pytest" / "__featureprobe__" / "featureprobe_cal.json"
    assert written.read_text() == updated.read_text()


def test_calibrate_is_quiet_off_a_terminal_and_takes_seeds(tmp_path, monkeypatch, capsys):
    shutil.copy(SEED_CSV, tmp_path)
    (tmp_path / "featureprobe_cal.yaml").write_text(CALIBRATE_YAML)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["calibrate", "featureprobe_cal.yaml", "--seeds", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "2 seeds" in captured.out
    assert read_baseline(tmp_path / "__featureprobe__/featureprobe_cal.json").band.seeds == [0, 1]
    assert cli.main(["calibrate", "featureprobe_cal.yaml", "--seeds", "1"]) == 2
    assert "at least 2 seeds" in capsys.readouterr().err


def test_calibrate_needs_a_trained_model_and_a_drift_section(saved_model, tmp_path, capsys):
    loaded = tmp_path / "featureprobe_l.yaml"
    loaded.write_text(
        f"model:\n  load: {saved_model.as_posix()}\nexpect:\n  - biased_toward: A\n"
        "drift:\n  max_flips: 0\n"
    )
    assert cli.main(["calibrate", str(loaded)]) == 2
    assert "the file's model must be train: (it is load:)" in one_line(capsys.readouterr().err)
    shutil.copy(SEED_CSV, tmp_path)
    no_drift = tmp_path / "featureprobe_n.yaml"
    no_drift.write_text(CALIBRATE_YAML.split("drift:")[0])
    assert cli.main(["calibrate", str(no_drift)]) == 2
    assert "no drift: section" in one_line(capsys.readouterr().err)


# --- only baselines are replaced, and only checked targets: before any training -----------------

DECLARED_YAML = CALIBRATE_YAML.replace("drift:\n", "drift:\n  baseline: gate.json\n")


@pytest.fixture
def cal_folder(tmp_path, monkeypatch) -> Path:
    shutil.copy(SEED_CSV, tmp_path)
    (tmp_path / "featureprobe_cal.yaml").write_text(CALIBRATE_YAML)
    (tmp_path / "README.md").write_text("# The project\n\nWhat it does.\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _bytes(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--baseline", "README.md"],
            "featureprobe: error: refusing to write the baseline over README.md: README.md is "
            "not a featureprobe baseline (29 bytes, 3 lines); pass --force to replace it (what "
            "it holds now is lost)",
        ),
        (
            ["--baseline", "featureprobe_cal.yaml", "--force"],
            "featureprobe: error: --baseline featureprobe_cal.yaml is the expectation file itself",
        ),
        (
            ["--baseline", "README.md/b.json", "--force"],
            "featureprobe: error: cannot write the baseline README.md/b.json: README.md is a "
            "file, not a folder; nothing was written",
        ),
        (
            ["--baseline", "sub", "--force"],
            "featureprobe: error: the baseline sub is a folder, not a file; nothing was written",
        ),
    ],
    ids=["not-a-baseline", "the-yaml-itself", "below-a-file", "a-folder"],
)
def test_calibrate_refuses_a_target_before_training_and_changes_nothing(
    cal_folder, capsys, monkeypatch, args, message
):
    from pytest_featureprobe import runner

    (cal_folder / "sub").mkdir()
    monkeypatch.setattr(runner, "declared_model", lambda *a: pytest.fail("trained"))
    before = _bytes(cal_folder)
    assert cli.main(["calibrate", "featureprobe_cal.yaml", *args]) == 2
    assert one_line(capsys.readouterr().err) == message
    assert _bytes(cal_folder) == before


def test_calibrate_writes_a_baseline_only_under_the_working_directory(
    cal_folder, capsys, monkeypatch
):
    from pytest_featureprobe import runner

    monkeypatch.setattr(runner, "declared_model", lambda *a: pytest.fail("trained"))
    before = _bytes(cal_folder)
    assert cli.main(["calibrate", "featureprobe_cal.yaml", "--baseline", "../gate.json"]) == 2
    assert one_line(capsys.readouterr().err) == (
        f"featureprobe: error: ../gate.json is outside the project ({cal_folder}); allow its "
        "folder with --allow-path DIR"
    )
    assert _bytes(cal_folder) == before and not (cal_folder.parent / "gate.json").exists()


def test_calibrate_declared_baseline_replaces_a_baseline_and_with_force_any_file(
    cal_folder, capsys
):
    (cal_folder / "featureprobe_cal.yaml").write_text(DECLARED_YAML)
    (cal_folder / "gate.json").write_text('{"scripts": {"format": "prettier ."}}\n')
    assert cli.main(["calibrate", "featureprobe_cal.yaml", "--seeds", "2"]) == 2
    assert "gate.json is not a featureprobe baseline (38 bytes, 1 line)" in one_line(
        capsys.readouterr().err
    )
    assert (cal_folder / "gate.json").read_text() == '{"scripts": {"format": "prettier ."}}\n'
    assert cli.main(["calibrate", "featureprobe_cal.yaml", "--seeds", "2", "--force"]) == 0
    first = read_baseline(cal_folder / "gate.json")
    assert first.band.seeds == [0, 1]
    # A baseline is replaced without --force, and so is README.md with it.
    assert cli.main(["calibrate", "featureprobe_cal.yaml", "--seeds", "2"]) == 0
    args = ["calibrate", "featureprobe_cal.yaml", "--seeds", "2", "--baseline", "README.md"]
    assert cli.main([*args, "--force"]) == 0
    assert read_baseline(cal_folder / "README.md").probes == first.probes
