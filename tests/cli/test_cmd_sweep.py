"""``featureprobe sweep``: the probe table of a saved model or an expectation file's model, as
text, CSV and JSON; usage errors as one line."""

from __future__ import annotations

import json
import shutil

import pytest

from pytest_featureprobe import cli
from pytest_featureprobe.models import load_keras_model

from .support import EXAMPLES, SEED_CSV, SEED_YAML, featureprobe, one_line

# --- sweep --------------------------------------------------------------------------------------


@pytest.mark.system
def test_sweep_of_a_saved_model_as_json(saved_model):
    done = featureprobe("sweep", saved_model.name, "--format", "json", cwd=saved_model.parent)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "oneDNN" not in done.stderr
    payload = json.loads(done.stdout)
    assert payload["classes"] == ["A", "C"]
    assert payload["features"] == ["1", "2", "3", "4", "5", "6"]
    assert [r["probe"] for r in payload["probes"]] == ["zero", "1", "2", "3", "4", "5", "6"]
    expected = load_keras_model(saved_model).sweep(order=1)
    for record in payload["probes"]:
        assert record["predicted"] == expected.predicted(record["probe"])
        for cls, p in record["p"].items():
            assert p == pytest.approx(expected.probabilities(record["probe"])[cls], abs=1e-6)


def test_sweep_table_and_csv(saved_model, capsys):
    assert cli.main(["sweep", str(saved_model)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Keras model model.keras: 7 probes up to order 1")
    assert "P(A)" in out and "predicted" in out and "dP(C)" in out
    assert cli.main(["sweep", str(saved_model), "--order", "2", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("probe,order,features,P(A),P(C),predicted,margin,dP(A),dP(C)")
    assert "interaction(A)" in lines[0]
    assert len(lines) == 1 + 1 + 6 + 15
    assert lines[8].startswith('1+2,2,"[""1"", ""2""]"')


def test_sweep_with_names_and_classes_given(saved_model, tmp_path, capsys):
    bare = tmp_path / "bare.keras"
    shutil.copy(saved_model, bare)  # no sidecar
    assert cli.main(["sweep", str(bare)]) == 2
    assert one_line(capsys.readouterr().err) == (
        "featureprobe: error: bare.keras: no feature names or class names (no sidecar "
        f"{bare}.featureprobe.json): give --feature-names A,B,C and --classes X,Y, or save the "
        "model with featureprobe train or ProbeModel.save"
    )
    args = ["sweep", str(bare), "--feature-names", "1,2,3,4,5,6", "--classes", "A,C"]
    assert cli.main([*args, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["features"] == ["1", "2", "3", "4", "5", "6"]
    assert cli.main(["sweep", str(bare), "--feature-names", "a,b", "--classes", "A,C"]) == 2
    assert "takes 6 inputs but the feature space has 2" in one_line(capsys.readouterr().err)


def test_sweep_of_the_seed_expectation_file(cache_dir, capsys):
    assert cli.main(["sweep", str(SEED_YAML), "--cache-dir", str(cache_dir)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[3:]}
    assert rows["zero"][3] == "A" and rows["4"][3] == "C" and rows["5"][3] == "C"


def test_sweep_of_a_fixture_model_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "featureprobe_f.yaml").write_text(
        "model:\n  fixture: my_model\nexpect:\n  - alone: a\n    predicts: b\n"
    )
    assert cli.main(["sweep", str(tmp_path / "featureprobe_f.yaml")]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("featureprobe: error:") and "fixture 'my_model'" in line


@pytest.mark.parametrize(
    "args, message",
    [
        (["sweep", "missing.keras"], "model file not found: missing.keras"),
        (["sweep", "data.csv"], "expected a .keras model or an expectation file"),
        (["sweep", "featureprobe_bad.yaml"], "featureprobe_bad.yaml:2: invalid YAML"),
        (["diff", "data.csv", "x.json"], "A must be a baseline (.json)"),
        (["diff", "broken.json", "broken.json"], "broken.json:1: corrupt baseline"),
        (["record", "missing.keras", "-o", "out.txt"], "--output must be a .yaml file"),
        (["calibrate", "missing.yaml"], "expectation file not found"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / "featureprobe_bad.yaml").write_text("model: [\n")
    (tmp_path / "broken.json").write_text("{oops")
    assert cli.main(args) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("featureprobe: error: ")
    assert message in line


@pytest.mark.system
def test_a_usage_error_exits_2_without_a_traceback(tmp_path):
    done = featureprobe("sweep", "missing.keras", cwd=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == "featureprobe: error: model file not found: missing.keras"


PENGUINS_YAML = EXAMPLES / "penguins" / "featureprobe_penguins.yaml"


def _dp(output: str, probe: str) -> float:
    """dP(Adelie) of a probe in a printed table (the sixth number of its row)."""
    line = next(ln for ln in output.splitlines() if ln.split()[:1] == [probe])
    return float(line.split()[6])


def test_sweep_in_the_context_of_the_training_rows(cache_dir, capsys):
    """On penguins, island=Biscoe alone lowers P(Adelie) against the zero vector, but set on
    real penguins it raises it: the in-context table reads the rows, not the empty input."""
    args = ["sweep", str(PENGUINS_YAML), "--cache-dir", str(cache_dir), "--max-rows", "0"]
    assert cli.main([*args, "--context", "zero"]) == 0
    zero = capsys.readouterr().out
    assert cli.main(args) == 0  # categorical columns: the training rows by default
    in_context = capsys.readouterr().out
    assert cli.main([*args, "--context", "training"]) == 0
    assert capsys.readouterr().out == in_context
    assert "in the context of training rows (344 rows)" in in_context.splitlines()[0]
    assert _dp(zero, "island=Biscoe") < -0.2 and _dp(in_context, "island=Biscoe") > 0.1
    assert _dp(in_context, "zero") == 0.0  # each row against its own prediction
    assert cli.main([*args, "--context", "training", "--sample", "50", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["context"] == "50 sampled of training rows"
    assert payload["probes"][0]["dP"] == {"Adelie": 0.0, "Chinstrap": 0.0, "Gentoo": 0.0}
    assert payload["probes"][0]["rows"] == payload["probes"][0]["unchanged"] == 50
    assert sum(payload["probes"][1]["share"].values()) == pytest.approx(1.0)


def test_sweep_contexts_that_cannot_be(saved_model, cache_dir, capsys):
    assert cli.main(["sweep", str(saved_model), "--context", "training"]) == 2
    assert "--context training names the training rows of a model trained from data" in (
        one_line(capsys.readouterr().err)
    )
    assert cli.main(["sweep", str(saved_model), "--sample", "5"]) == 2
    assert "--sample narrows real rows" in one_line(capsys.readouterr().err)
    rows = ["sweep", str(saved_model), "--context", str(SEED_CSV), "--sample", "9"]
    assert cli.main(rows) == 2
    assert "sample 9 is more than the 5 rows in the context (rows of problems.csv)" in (
        one_line(capsys.readouterr().err)
    )
    assert cli.main([*rows[:4], "--sample", "5"]) == 0
    assert "in the context of 5 sampled of rows of problems.csv (5 rows)" in (
        capsys.readouterr().out
    )
