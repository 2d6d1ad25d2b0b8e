"""``featureprobe diff``: a baseline against another baseline or a model, as a drift table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_featureprobe import cli

from .support import featureprobe

# --- diff ---------------------------------------------------------------------------------------


@pytest.fixture
def recorded(saved_model, tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the command writes only under its working directory
    out = tmp_path / "featureprobe_m.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out), "--order", "2"]) == 0
    return tmp_path / "__featureprobe__" / "featureprobe_m.json"


@pytest.mark.system
def test_diff_of_a_baseline_and_its_model_is_clean(recorded, saved_model, capsys):
    assert cli.main(["diff", str(recorded), str(saved_model)]) == 0
    out = capsys.readouterr().out
    assert "flips: 0 probes changed the predicted class (at most 0 allowed): ok" in out
    assert out.rstrip().endswith("no drift beyond tolerance")
    done = featureprobe(
        "diff", recorded.name, recorded.name, "--format", "json", cwd=recorded.parent
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["passed"] is True


def test_diff_of_two_baselines_shows_what_moved(recorded, capsys):
    data = json.loads(recorded.read_text())
    moved = recorded.with_name("moved.json")
    for record in data["probes"]:
        if record["probe"] == "4":  # C -> A
            record["p"] = [0.7, 0.3]
        if record["probe"] == "1+2":  # a small move, within tolerance
            record["p"] = [record["p"][0] - 0.05, record["p"][1] + 0.05]
    moved.write_text(json.dumps(data))
    assert cli.main(["diff", str(recorded), str(moved)]) == 1
    out = capsys.readouterr().out
    rows = out.splitlines()
    assert rows[2].split()[:2] == ["probe", "predicted"]
    assert rows[3].split()[:4] == ["4", "C", "->", "A"] and rows[3].endswith("FLIP, DRIFT")
    assert "flips: 1 probe changed the predicted class (at most 0 allowed): FAIL" in out
    assert out.rstrip().endswith("DRIFT beyond tolerance")
    # Within looser tolerances it passes; the same as JSON.
    args = ["diff", str(recorded), str(moved), "--max-flips", "1", "--max-abs-delta", "0.8"]
    assert cli.main(args) == 0
    capsys.readouterr()
    assert cli.main([*args[:3], "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["passed"] is False
    assert payload["checks"]["flips"]["flips"] == 1
    assert payload["probes"][0]["probe"] == "4" and payload["probes"][0]["flipped"]
    assert payload["probes"][1]["probe"] == "1+2" and not payload["probes"][1]["beyond"]
    assert payload["note"] is None  # both recorded here, with these libraries

    # Recorded with another TensorFlow on another CPU: the drift says so.
    data["versions"]["tensorflow"] = "0.0.1"
    data["platform"] = {**data.get("platform", {}), "cpu": "elsewhere64"}
    moved.write_text(json.dumps(data))
    assert cli.main(["diff", str(recorded), str(moved)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "DRIFT beyond tolerance"
    assert out[-2].startswith("note: the baseline was recorded with tensorflow ")
    assert "tensorflow 0.0.1 on elsewhere64" in out[-2]


def test_diff_of_incompatible_baselines_fails(recorded, capsys):
    data = json.loads(recorded.read_text())
    data["classes"] = ["A", "B"]
    other = recorded.with_name("other.json")
    other.write_text(json.dumps(data))
    assert cli.main(["diff", str(recorded), str(other)]) == 1
    assert "cannot be compared: the baseline no longer matches the model: classes were" in (
        capsys.readouterr().err
    )


@pytest.mark.system
def test_diff_compares_a_baseline_of_a_declared_set_with_its_model(recorded, saved_model, capsys):
    """drift.probes: the baseline holds a narrower set (here order 1 and one pair)."""
    data = json.loads(recorded.read_text())
    singles = [r for r in data["probes"] if "+" not in r["probe"] and r["probe"] != "zero"]
    pair = next(r for r in data["probes"] if r["probe"].count("+") == 1)
    data["probes"] = [*singles[:2], pair]
    data["order"] = 1
    narrowed = recorded.with_name("narrowed.json")
    narrowed.write_text(json.dumps(data))
    assert cli.main(["diff", str(narrowed), str(saved_model)]) == 0
    captured = capsys.readouterr()
    assert "cannot be compared" not in captured.err
    assert captured.out.rstrip().endswith("no drift beyond tolerance")
    assert cli.main(["diff", str(narrowed), str(recorded)]) == 0  # baseline to baseline too
