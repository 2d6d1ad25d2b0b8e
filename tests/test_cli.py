"""The ``featureprobe`` command: each subcommand through a subprocess with real files, the exit
codes, and ``record`` output that passes under pytest at once. Variants run in-process (``main``)
to keep the suite fast."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import yaml

from pytest_featureprobe import cli
from pytest_featureprobe.baseline import Baseline, read_baseline
from pytest_featureprobe.cli import cmd_record, sources, yaml_writer
from pytest_featureprobe.cli import progress as cli_progress
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.memo import ProbeSession
from pytest_featureprobe.models import from_callable, load_keras_model
from pytest_featureprobe.spec import load_document

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SEED_YAML = EXAMPLES / "problems" / "featureprobe_problems.yaml"
SEED_CSV = EXAMPLES / "problems" / "problems.csv"
COMMANDS = ("sweep", "record", "diff", "calibrate")

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


def featureprobe(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """``python -m pytest_featureprobe ARGS`` in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_featureprobe", *args],
        cwd=cwd,
        capture_output=kwargs.pop("capture_output", True),
        text=True,
        timeout=300,
        **kwargs,
    )


def run_pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def session() -> ProbeSession:
    return ProbeSession(None)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory, session) -> Path:
    """A small Keras model over the seed data, saved with its sidecar (space and classes)."""
    model = session.train(SEED_CSV, "problems", "results", hidden=[16], epochs=60, seed=0)
    return model.save(tmp_path_factory.mktemp("model") / "model.keras")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """A weights cache shared by the in-process and subprocess runs on the seed example."""
    return tmp_path_factory.mktemp("cache")


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- help and entry points ----------------------------------------------------------------------


def test_help_of_the_command_and_each_subcommand(tmp_path):
    done = featureprobe("--help", cwd=tmp_path)
    assert done.returncode == 0
    for command in COMMANDS:
        assert command in done.stdout
    for command in COMMANDS:
        done = featureprobe(command, "--help", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"usage: featureprobe {command}")
    assert "--margin-slack" in featureprobe("record", "--help", cwd=tmp_path).stdout


def test_console_script_entry_point():
    scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts")}
    assert scripts.get("featureprobe") == "pytest_featureprobe.cli:main"


def test_no_subcommand_or_a_bad_argument_is_a_usage_error(capsys):
    assert cli.main([]) == 2
    assert "usage: featureprobe" in capsys.readouterr().err
    assert cli.main(["sweep", "m.keras", "--order", "9"]) == 2
    assert "the order is 0 to 4" in capsys.readouterr().err
    assert cli.main(["sweep", "m.keras", "--format", "xml"]) == 2


# --- sweep --------------------------------------------------------------------------------------


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
    assert "give the feature space" in one_line(capsys.readouterr().err)
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


def test_a_usage_error_exits_2_without_a_traceback(tmp_path):
    done = featureprobe("sweep", "missing.keras", cwd=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == "featureprobe: error: model file not found: missing.keras"


# --- record, then pytest --------------------------------------------------------------------------


def test_record_writes_a_file_that_passes_under_pytest(
    saved_model, cache_dir, tmp_path, monkeypatch
):
    gate = tmp_path / "gate"
    gate.mkdir()
    done = featureprobe(
        "record", str(saved_model), "-o", "gate/featureprobe_model.yaml", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "recorded gate/featureprobe_model.yaml: 7 expectations" in done.stdout
    assert "check it: pytest gate/featureprobe_model.yaml" in done.stdout
    text = (gate / "featureprobe_model.yaml").read_text()
    relative = Path(os.path.relpath(saved_model, gate)).as_posix()
    assert f"model:\n  load: {relative}\n" in text
    assert '  - alone: "4"\n    predicts: C\n    min_margin: ' in text
    assert "drift:\n  order: 1\n  max_flips: 0\n  max_abs_delta: 0.1\n" in text
    baseline = read_baseline(gate / "__featureprobe__" / "featureprobe_model.json")
    assert baseline.probes == ["zero", "1", "2", "3", "4", "5", "6"]

    # From an expectation file (the seed example), into another folder, with pairs (in-process).
    monkeypatch.chdir(tmp_path)
    args = ["record", str(SEED_YAML), "--output", "elsewhere/featureprobe_seed.yaml"]
    assert (
        cli.main([*args, "--order", "2", "--margin-slack", "0.8", "--cache-dir", str(cache_dir)])
        == 0
    )
    written = tmp_path / "elsewhere" / "featureprobe_seed.yaml"
    train = yaml.safe_load(written.read_text())["model"]["train"]
    assert (written.parent / train.pop("data")).resolve() == SEED_CSV.resolve()
    assert train == {"features": "problems", "label": "results", "hidden": [32, 32], "seed": 0}
    assert read_baseline(tmp_path / "elsewhere/__featureprobe__/featureprobe_seed.json").order == 2

    # The model and the data lie outside this project (tmp_path): they must be allowed.
    allow = ["--featureprobe-allow-path", str(saved_model.parent)]
    allow += ["--featureprobe-allow-path", str(SEED_CSV.parent)]
    result = run_pytest("gate", "elsewhere", "-v", *allow, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 18 passed" in result.stdout
    passed = [
        line for line in result.stdout.splitlines() if line.endswith("]") and "PASSED" in line
    ]
    assert sum("featureprobe_model.yaml::" in line for line in passed) == 9
    assert any("featureprobe_model.yaml::drift" in ln and "max_abs_delta" in ln for ln in passed)


def test_record_refuses_to_overwrite_without_force(saved_model, tmp_path, capsys):
    out = tmp_path / "featureprobe_m.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out)]) == 0
    first = out.read_text()
    out.write_text("# edited by hand\n")
    assert cli.main(["record", str(saved_model), "-o", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_text() == "# edited by hand\n"
    assert cli.main(["record", str(saved_model), "-o", str(out), "--force"]) == 0
    assert out.read_text() == first


def test_record_pin_writes_the_model_digest_and_sweep_checks_one(
    saved_model, tmp_path, capsys, monkeypatch
):
    import hashlib

    digest = hashlib.sha256(saved_model.read_bytes()).hexdigest()
    out = tmp_path / "new" / "featureprobe_m.yaml"  # a folder that does not exist yet
    assert cli.main(["record", str(saved_model), "-o", str(out), "--pin"]) == 0
    model = load_document(out).model
    assert model.sha256 == digest
    # Recording again from the pinned file keeps its pin.
    again = tmp_path / "featureprobe_again.yaml"
    assert cli.main(["record", str(out), "-o", str(again)]) == 2  # the model is elsewhere
    assert "model.keras is outside the project" in capsys.readouterr().err
    allow = ["--allow-path", str(saved_model.parent)]
    assert cli.main(["record", str(out), "-o", str(again), *allow]) == 0
    assert load_document(again).model.sha256 == digest

    assert cli.main(["sweep", str(saved_model), "--sha256", digest.upper()]) == 0
    capsys.readouterr()
    assert cli.main(["sweep", str(saved_model), "--sha256", "0" * 64]) == 2
    assert "model.keras does not match its pin: its sha256 is " + digest in (
        capsys.readouterr().err
    )
    assert cli.main(["sweep", str(saved_model), "--sha256", "abc"]) == 2
    assert "not a SHA-256 digest (64 hex digits): 'abc'" in capsys.readouterr().err

    monkeypatch.chdir(tmp_path)
    trained = tmp_path / "featureprobe_t.yaml"
    assert cli.main(["record", str(SEED_YAML), "-o", str(trained), "--pin"]) == 2
    assert "--pin pins a loaded model file; this model is train:" in (capsys.readouterr().err)
    assert not trained.exists()


def test_two_processes_give_bit_identical_sweeps(tmp_path):
    """Determinism across processes (fresh interpreters, no cache): the weights' fingerprint and
    every probability of the pairs sweep agree to the last bit."""
    runs = [
        featureprobe("sweep", str(SEED_YAML), "--order", "2", "--format", "json", cwd=tmp_path)
        for _ in range(2)
    ]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr
    first, second = (json.loads(run.stdout) for run in runs)
    assert first["fingerprint"] == second["fingerprint"]
    assert len(first["probes"]) == 22  # zero, 6 singles, 15 pairs
    assert first["probes"] == second["probes"]
    assert runs[0].stdout == runs[1].stdout


def test_record_margins_follow_the_slack(saved_model, tmp_path):
    out = tmp_path / "featureprobe_m.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out), "--margin-slack", "0"]) == 0
    assert "min_margin:" not in out.read_text()
    sweep = load_keras_model(saved_model).sweep(order=1)
    assert cli.main(["record", str(saved_model), "-o", str(out), "--margin-slack", "1", "-f"]) == 0
    text = out.read_text()
    margin = float(sweep.table.loc["zero", "margin"])
    assert f"min_margin: {np.floor(margin * 1000) / 1000:g}" in text


def test_record_warns_when_pytest_would_not_collect_the_file(saved_model, tmp_path, capsys):
    out = tmp_path / "gate.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out)]) == 0
    assert "pytest collects files named featureprobe_*.yaml" in capsys.readouterr().err


# --- diff ---------------------------------------------------------------------------------------


@pytest.fixture
def recorded(saved_model, tmp_path) -> Path:
    out = tmp_path / "featureprobe_m.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out), "--order", "2"]) == 0
    return tmp_path / "__featureprobe__" / "featureprobe_m.json"


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


# --- progress -----------------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _wide_model(n: int = 200):
    weights = np.linspace(-1, 1, n)

    def forward(x):
        p = 1 / (1 + np.exp(-(x @ weights)))
        return np.stack([1 - p, p], axis=1)

    return from_callable(forward, FeatureSpace.from_names(range(n)), ["no", "yes"])


def test_large_sweeps_show_progress_on_a_terminal_only():
    model = _wide_model()
    terminal = FakeTerminal()
    sweep = cli_progress.sweep_with_progress(model, 2, progress=cli_progress.Progress(terminal))
    assert len(sweep) == 1 + 200 + 19_900
    assert terminal.getvalue().rstrip().endswith("sweeping 200 features: 20,101/20,101 (100%)")
    plain = io.StringIO()
    again = cli_progress.sweep_with_progress(model, 2, progress=cli_progress.Progress(plain))
    assert plain.getvalue() == ""
    assert again.table.equals(sweep.table)
    small = FakeTerminal()
    cli_progress.sweep_with_progress(model, 1, progress=cli_progress.Progress(small))
    assert small.getvalue() == ""  # one batch: nothing to follow


def test_progress_lines_only_on_a_terminal():
    terminal, plain = FakeTerminal(), io.StringIO()
    for stream in (terminal, plain):
        progress = cli_progress.Progress(stream)
        progress.count("work", 5, 10)
        progress.line("step done")
    assert terminal.getvalue() == "\rwork: 5/10 (50%)\nstep done\n"
    assert plain.getvalue() == ""


def test_run_as_a_module_shows_the_version(tmp_path):
    done = featureprobe("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip().startswith("featureprobe ")


def test_yaml_written_by_record_quotes_what_needs_quoting():
    assert yaml_writer.yaml_scalar("4") == '"4"'
    assert yaml_writer.yaml_scalar("island=Dream") == "island=Dream"
    assert yaml_writer.yaml_scalar("yes") == '"yes"'
    assert yaml_writer.yaml_scalar("a: b") == '"a: b"'
    assert yaml_writer.yaml_scalar("a,b", flow=True) == '"a,b"'
    assert yaml_writer.yaml_scalar(32) == "32"
    text = textwrap.dedent(
        """\
        model:
          train:
            hidden: [32, 32]
            features:
              tokens: t
              categorical: [a, "b,c"]
        """
    )
    values = {
        "model": {
            "train": {"hidden": [32, 32], "features": {"tokens": "t", "categorical": ["a", "b,c"]}}
        }
    }
    assert "\n".join(yaml_writer.yaml_lines(values)) + "\n" == text


def test_record_allows_flips_of_probes_tied_within_the_baseline_rounding(tmp_path):
    def forward(x):
        p_yes = np.where(x[:, 0] > 0, 0.5000004, 0.9)  # "a": a tie at 6 decimals
        return np.stack([1 - p_yes, p_yes], axis=1)

    model = from_callable(forward, FeatureSpace.from_names(["a", "b"]), ["no", "yes"])
    sweep = model.sweep(order=1)
    exact = Baseline.from_sweep(sweep)
    stored = Baseline.from_text(exact.to_text(), "x.json")
    ties = cmd_record._rounding_ties(stored, exact)
    assert ties == ["a"]
    out = tmp_path / "featureprobe_t.yaml"
    source = sources.Source(tmp_path / "m.keras", model)
    text, count = cmd_record.recorded_text(source, sweep, out, 0.5, 1, 0.1, allow_flips=ties)
    assert count == 3 and "  allow_flips: [a]\n" in text
    out.write_text(text)
    cmd_record._self_check(load_document(out), source, sweep, stored)  # the recorded checks pass
