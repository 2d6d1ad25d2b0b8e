"""``featureprobe record``: an expectation file and baseline of today's behaviour that pass
under pytest at once; pins, margins, the YAML it writes, ties within rounding."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from pytest_featureprobe import cli
from pytest_featureprobe.baseline import Baseline, read_baseline
from pytest_featureprobe.cli import cmd_record, sources, yaml_writer
from pytest_featureprobe.contexts import Context
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable, load_keras_model
from pytest_featureprobe.spec import load_document
from pytest_featureprobe.spec.context_decl import ContextDecl

from .support import SEED_CSV, SEED_YAML, featureprobe, in_process, one_line, run_pytest

# --- record, then pytest --------------------------------------------------------------------------


@pytest.mark.system
def test_record_writes_a_file_that_passes_under_pytest(
    saved_model, cache_dir, tmp_path, monkeypatch, capsys
):
    gate = tmp_path / "gate"
    gate.mkdir()
    done = featureprobe(
        "record", str(saved_model), "-o", "gate/featureprobe_model.yaml", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "recorded gate/featureprobe_model.yaml: 7 expectations" in done.stdout
    assert (  # the model lies outside the folder pytest takes as the project here
        "check it: pytest gate/featureprobe_model.yaml --featureprobe-allow-path "
        f"{saved_model.parent}\n"
    ) in done.stdout
    text = (gate / "featureprobe_model.yaml").read_text()
    relative = Path(os.path.relpath(saved_model, gate)).as_posix()
    assert f"model:\n  load: {relative}\n" in text
    assert '  - alone: "4"\n    predicts: C\n    min_margin: ' in text
    assert "drift:\n  order: 1\n  # Stated tolerances, not measured" in text
    assert "\n  max_flips: 0\n  max_abs_delta: 0.1\n" in text
    baseline = read_baseline(gate / "__featureprobe__" / "featureprobe_model.json")
    assert baseline.probes == ["zero", "1", "2", "3", "4", "5", "6"]

    # From an expectation file (the seed example), into another folder, with pairs (in-process).
    monkeypatch.chdir(tmp_path)
    args = [
        "record",
        str(SEED_YAML),
        "--output",
        "elsewhere/featureprobe_seed.yaml",
        "--seeds",
        "5",
    ]
    assert (
        cli.main([*args, "--order", "2", "--margin-slack", "0.8", "--cache-dir", str(cache_dir)])
        == 0
    )
    written = tmp_path / "elsewhere" / "featureprobe_seed.yaml"
    train = yaml.safe_load(written.read_text())["model"]["train"]
    assert (written.parent / train.pop("data")).resolve() == SEED_CSV.resolve()
    assert train == {"features": "problems", "label": "results", "hidden": [32, 32], "seed": 0}
    assert read_baseline(tmp_path / "elsewhere/__featureprobe__/featureprobe_seed.json").order == 2

    # The model and the data lie outside this project (tmp_path): they must be allowed, and
    # record's "check it" line says so.
    allow = ["--featureprobe-allow-path", str(saved_model.parent)]
    allow += ["--featureprobe-allow-path", str(SEED_CSV.parent)]
    check_it = [line for line in capsys.readouterr().out.splitlines() if "check it:" in line]
    assert check_it == [
        "check it: pytest elsewhere/featureprobe_seed.yaml --featureprobe-allow-path "
        f"{SEED_CSV.parent}"
    ]
    result = run_pytest("gate", "elsewhere", "-v", *allow, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # 9 items of the loaded model's file; of the trained one's 7: its 5 settled probes (the zero
    # vector and feature 3 are close calls over seeds 0-4), the seed test and the flips
    assert " 16 passed" in result.stdout
    assert "false_alarm: 0.17\n  calibrate: {seeds: 5}" in written.read_text()  # 1/6 up
    passed = [
        line for line in result.stdout.splitlines() if line.endswith("]") and "PASSED" in line
    ]
    assert sum("featureprobe_model.yaml::" in line for line in passed) == 9
    assert any("featureprobe_model.yaml::drift" in ln and "max_abs_delta" in ln for ln in passed)


def test_record_refuses_to_overwrite_without_force(saved_model, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the files are named as the working directory sees them
    out = tmp_path / "featureprobe_m.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out)]) == 0
    first = out.read_text()
    capsys.readouterr()
    out.write_text("# edited by hand\n")
    assert cli.main(["record", str(saved_model), "-o", str(out)]) == 2
    stored = (tmp_path / "__featureprobe__/featureprobe_m.json").read_bytes()
    size, lines = len(stored), stored.count(b"\n")
    assert one_line(capsys.readouterr().err) == (
        "featureprobe: error: featureprobe_m.yaml (17 bytes, 1 line) and "
        f"__featureprobe__/featureprobe_m.json ({size} bytes, {lines} lines) exist; "
        "pass "
        "--force to replace the expectation file and its baseline (what they hold now is lost)"
    )
    assert out.read_text() == "# edited by hand\n"
    assert cli.main(["record", str(saved_model), "-o", str(out), "--force"]) == 0
    assert out.read_text() == first


def _entries(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder``: a file's bytes, a folder's name, a link's target."""
    state: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            state[name] = "-> " + os.readlink(path)
        elif path.is_dir():
            state[name] = "folder"
        else:
            state[name] = path.read_bytes()
    return state


@pytest.mark.parametrize(
    "output, message",
    [
        (
            "featureprobe_dir.yaml",
            "output featureprobe_dir.yaml is a folder, not a file; nothing was written",
        ),
        (
            "plain.txt/featureprobe_m.yaml",
            "cannot write output plain.txt/featureprobe_m.yaml: plain.txt is a file, not a "
            "folder; nothing was written",
        ),
        (
            "featureprobe_loop.yaml",
            "output featureprobe_loop.yaml is a symbolic link loop (a link that leads back to "
            "itself); nothing was written",
        ),
        (
            "featureprobe_b.yaml",
            "output __featureprobe__/featureprobe_b.json is a folder, not a file; nothing was "
            "written",
        ),
    ],
    ids=["yaml-is-a-folder", "below-a-file", "yaml-is-a-link-loop", "baseline-is-a-folder"],
)
def test_record_checks_both_files_first_and_writes_neither_when_one_cannot_be(
    saved_model, tmp_path, monkeypatch, capsys, output, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "featureprobe_dir.yaml").mkdir()
    (tmp_path / "plain.txt").write_text("notes\n")
    (tmp_path / "featureprobe_loop.yaml").symlink_to("featureprobe_loop.yaml")
    (tmp_path / "__featureprobe__/featureprobe_b.json").mkdir(parents=True)
    before = _entries(tmp_path)
    args = ["record", str(saved_model), "-o", output, "--force"]
    assert cli.main(args) == 2
    assert one_line(capsys.readouterr().err) == f"featureprobe: error: {message}"
    assert _entries(tmp_path) == before


def test_record_writes_both_files_or_neither(saved_model, tmp_path, monkeypatch, capsys):
    """The second rename fails: the first is undone, and the old files are back as they were."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "featureprobe_m.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out)]) == 0
    capsys.readouterr()
    out.write_text("# edited\n")
    before = _entries(tmp_path)
    real_replace = os.replace

    def replace(source, target):
        if str(target).endswith(".json"):
            raise OSError(28, "No space left on device", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    assert cli.main(["record", str(saved_model), "-o", str(out), "--force"]) == 2
    monkeypatch.undo()
    assert one_line(capsys.readouterr().err) == (
        "featureprobe: error: cannot write __featureprobe__/featureprobe_m.json: no space left "
        "on device; nothing was written"
    )
    assert _entries(tmp_path) == before  # the YAML is back, and no temporary file is left


def test_record_pin_writes_the_model_digest_and_sweep_checks_one(
    saved_model, tmp_path, capsys, monkeypatch
):
    import hashlib

    monkeypatch.chdir(tmp_path)
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


@pytest.mark.system
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


def test_record_margins_follow_the_slack(saved_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "featureprobe_m.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out), "--margin-slack", "0"]) == 0
    assert "min_margin:" not in out.read_text()
    sweep = load_keras_model(saved_model).sweep(order=1)
    assert cli.main(["record", str(saved_model), "-o", str(out), "--margin-slack", "1", "-f"]) == 0
    text = out.read_text()
    margin = float(sweep.table.loc["zero", "margin"])
    assert f"min_margin: {np.floor(margin * 1000) / 1000:g}" in text


def test_record_warns_when_pytest_would_not_collect_the_file(
    saved_model, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "gate.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out)]) == 0
    assert "pytest collects files named featureprobe_*.yaml" in capsys.readouterr().err


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
    zero = ContextDecl("zero")
    text, count = cmd_record.recorded_text(source, sweep, out, 0.5, 1, 0.1, zero, allow_flips=ties)
    assert count == 3 and "  allow_flips: [a]\n" in text
    out.write_text(text)
    # the recorded checks pass
    cmd_record._self_check(load_document(out), source, sweep, Context.zero(), stored)


def test_record_on_a_read_only_file_system_is_one_line(saved_model, tmp_path, monkeypatch, capsys):
    """The baseline's temporary file cannot be made: the staged YAML is removed, nothing lands."""
    import tempfile

    monkeypatch.chdir(tmp_path)
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        if Path(kwargs.get("dir", "")).name == "__featureprobe__":
            raise OSError(30, "Read-only file system", str(kwargs["dir"]))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert cli.main(["record", str(saved_model), "-o", "featureprobe_m.yaml"]) == 2
    monkeypatch.undo()
    assert one_line(capsys.readouterr().err) == (
        "featureprobe: error: cannot write __featureprobe__: read-only file system; nothing was "
        "written"
    )
    assert list(tmp_path.iterdir()) == []  # nor the baseline folder made for it


#: Names that YAML 1.1 (PyYAML) or YAML 1.2 (the plugin's loader) would read as another type
#: than a string when written plain.
TYPED_NAMES = [
    "1e3",
    ".nan",
    "0o17",
    "yes",
    "no",
    "on",
    "off",
    "null",
    "~",
    "007",
    "0x1F",
    "1:20",
    "y",
    "N",
    "=",
    "1_000",
    "2024-01-01",
    "-1",
    ".5",
    "-.inf",
    "0b101",
    "1.5e3",
    "plain",
]


def test_record_quotes_every_name_that_yaml_would_read_as_another_type(tmp_path):
    """Through record's writer, then read back by YAML 1.1 (PyYAML's safe loader) and YAML 1.2
    (the plugin's loader, which pytest uses): every name comes back as the same string."""
    from pytest_featureprobe.spec.yaml_lines import load_yaml, plain_data

    weights = np.linspace(-2.0, 2.0, len(TYPED_NAMES)) + 0.05

    def forward(x):
        p_yes = 1 / (1 + np.exp(-(0.3 + x @ weights)))
        return np.stack([1 - p_yes, p_yes], axis=1)

    model = from_callable(forward, FeatureSpace.from_names(TYPED_NAMES), ["true", "NULL"])
    sweep = model.sweep(order=1)
    out = tmp_path / "featureprobe_typed.yaml"
    source = sources.Source(tmp_path / "m.keras", model)
    text, count = cmd_record.recorded_text(source, sweep, out, 0.5, 1, 0.1, ContextDecl("zero"))
    assert count == 1 + len(TYPED_NAMES)
    for name in TYPED_NAMES[:-1]:
        assert f"  - alone: {json.dumps(name)}\n" in text  # quoted, as every reader needs
    assert "  - alone: plain\n" in text
    for read in (yaml.safe_load, lambda t: plain_data(load_yaml(t, out))):
        entries = read(text)["expect"]
        assert [e["alone"] for e in entries[1:]] == TYPED_NAMES
        assert {e.get("predicts", e.get("biased_toward")) for e in entries} <= {"true", "NULL"}
    out.write_text(text)
    document = load_document(out)
    assert [item.error for item in document.items if item.error is not None] == []
    stored = Baseline.from_sweep(sweep)
    cmd_record._self_check(document, source, sweep, Context.zero(), stored)


def test_record_writes_train_values_and_numbers_every_yaml_reads_alike():
    from pytest_featureprobe.spec.yaml_lines import load_yaml, plain_data

    train = {
        "data": "on.csv",
        "features": {"tokens": "1e3", "categorical": ["yes", "0o17", "a,b"]},
        "label": "null",
        "learning_rate": 1e-05,
        "hidden": [16, 16],
        "seed": 0,
    }
    text = "\n".join(yaml_writer.yaml_lines({"model": {"train": train}})) + "\n"
    assert "learning_rate: 1.0e-05" in text  # PyYAML reads 1e-05 as a string
    for read in (yaml.safe_load, lambda t: plain_data(load_yaml(t, "x.yaml"))):
        assert read(text) == {"model": {"train": train}}
    assert yaml_writer.yaml_number(1e20) == "1.0e+20"
    assert yaml_writer.yaml_number(0.25) == "0.25"


# --- the gate record writes: the seed band for train:, stated tolerances for a loaded model -------

TRAINED = """\
model:
  train:
    data: problems.csv
    features: problems
    label: results
    seed: 0
expect:
  - alone: 4
    predicts: C
"""


def test_record_of_a_train_model_writes_the_seed_test_a_seed_only_retrain_passes(pytester, capsys):
    """Record, retrain with other seeds: the recorded file passes; retrain on changed data: it
    fails. The seed example's close calls (the zero vector, feature 3) are left out. The
    default is 19 calibration seeds (README: why)."""
    (pytester.path / "problems.csv").write_text(SEED_CSV.read_text())
    (pytester.path / "featureprobe_src.yaml").write_text(TRAINED)
    cache = ("--cache-dir", str(pytester.path / "weights"))  # calibrate below trains nothing
    assert (
        cli.main(["record", "featureprobe_src.yaml", "-o", "featureprobe_gate.yaml", *cache]) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith(
        "recorded featureprobe_gate.yaml: 5 expectations (the zero probe and each feature alone; "
        "2 left as comments), drift over 7 probes (order 1, the seed test of seeds 0-18, "
        "false_alarm 0.05)\n"
    )
    assert (
        "seed noise measured on 19 seeds: a class is required only where all of them predict it "
        "with a margin, which a retrain that differs only by seed misses at most 1 time in 20 "
        "for each probe; one on changed data fails"
    ) in out
    gate = pytester.path / "featureprobe_gate.yaml"
    text = gate.read_text()
    assert "  # biased_toward: the 19 calibration seeds disagree (A in 18, C in 1)" in text
    assert '  # alone: "3": the 19 calibration seeds disagree (C in 6, A in 13): not' in text
    assert "  false_alarm: 0.05\n  calibrate: {seeds: 19}\n  max_flips: 0\n" in text
    assert '  allow_flips: [zero, "3"]\n' in text and "max_abs_delta" not in text
    stored = pytester.path / "__featureprobe__" / "featureprobe_gate.json"
    baseline = read_baseline(stored)
    assert baseline.band is not None and baseline.band.seeds == list(range(19))
    assert baseline.seed_cells is not None  # the seed test's
    # the baseline pytest --featureprobe-update (and calibrate) writes for the file, byte for byte
    again = ["calibrate", "featureprobe_gate.yaml", "--baseline", "again.json", *cache]
    assert cli.main(again) == 0
    assert (pytester.path / "again.json").read_bytes() == stored.read_bytes()

    quiet = ("-p", "no:cacheprovider")
    for seed in (19, 23):  # seeds the calibration did not see
        gate.write_text(text.replace("    seed: 0\n", f"    seed: {seed}\n"))
        pytester.runpytest(*quiet, "featureprobe_gate.yaml").assert_outcomes(passed=7)
    gate.write_text(text)
    csv = pytester.path / "problems.csv"
    csv.write_text(csv.read_text().replace('"[1, 4, 5]",C', '"[1, 4, 5]",A'))
    result = pytester.runpytest(*quiet, "featureprobe_gate.yaml")
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(["FAILED featureprobe_gate.yaml::drift-band - today's model *"])


def test_record_of_a_loaded_model_states_its_tolerances(saved_model, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "featureprobe_m.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "(order 1, max_abs_delta 0.1, no flips)" in captured.out
    assert one_line(captured.err) == (
        "note: max_abs_delta 0.1 and no flips are stated tolerances, not measured: a retrain, "
        "even with only another seed, can move further; to gate retrains, record a model: "
        "train: file with the seed test (its default), or widen --max-abs-delta and allow_flips"
    )
    assert "  # Stated tolerances, not measured: a model retrained even with only" in (
        out.read_text()
    )
    assert cli.main(["record", str(saved_model), "-o", str(out), "-f", "--gate", "band"]) == 2
    assert one_line(capsys.readouterr().err) == (
        "featureprobe: error: --gate band retrains the model with other seeds, so it needs an "
        "expectation file with model: train: (this model is loaded from a file)"
    )


@pytest.mark.parametrize("command", ["record", "calibrate"])
@pytest.mark.parametrize("count", ["101", "99999999999999999999"])
def test_seeds_past_the_schemas_bound_are_a_usage_error_not_an_overflow(tmp_path, command, count):
    """drift.calibrate.seeds takes at most 100; --seeds the same (a huge K overflowed)."""
    spec = tmp_path / "X.yaml"
    spec.write_text("model: {fixture: m}\nexpect:\n  - {alone: a, predicts: b}\n")
    args = [command, str(spec), "--seeds", count]
    if command == "record":
        args += ["-o", str(tmp_path / "out.yaml")]
    status, out, err = in_process(*args)
    assert status == 2 and out == "" and "Traceback" not in err
    assert err.splitlines()[-1] == (
        f"featureprobe {command}: error: argument --seeds: at most 100 calibration seeds, "
        f"not {count}"
    )
    assert not (tmp_path / "out.yaml").exists()


def test_record_writes_only_under_the_working_directory(saved_model, tmp_path, monkeypatch, capsys):
    """As pytest confines what an expectation file makes it write: a file elsewhere (or a
    baseline folder linked elsewhere) needs --allow-path, and nothing is written without it."""
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(work)
    out = elsewhere / "featureprobe_x.yaml"
    assert cli.main(["record", str(saved_model), "-o", str(out)]) == 2
    assert one_line(capsys.readouterr().err) == (
        f"featureprobe: error: {out} is outside the project ({work}); allow its folder with "
        "--allow-path DIR"
    )
    assert list(elsewhere.iterdir()) == [] and list(work.iterdir()) == []

    (work / "__featureprobe__").symlink_to(elsewhere, target_is_directory=True)
    assert cli.main(["record", str(saved_model), "-o", "featureprobe_y.yaml"]) == 2
    assert "error: __featureprobe__/featureprobe_y.json is outside the project (" in (
        capsys.readouterr().err
    )
    assert list(elsewhere.iterdir()) == [] and not (work / "featureprobe_y.yaml").exists()

    assert (
        cli.main(["record", str(saved_model), "-o", "https://example.com/featureprobe_u.yaml"]) == 2
    )
    assert "error: 'https://example.com/featureprobe_u.yaml' is a URL" in capsys.readouterr().err
    assert list(work.iterdir()) == [work / "__featureprobe__"]  # no https: folder either

    allowed = ["record", str(saved_model), "-o", str(out), "--allow-path", str(elsewhere)]
    assert cli.main(allowed) == 0
    assert (elsewhere / "__featureprobe__" / "featureprobe_x.json").is_file()
