"""``featureprobe train``: the ``train:`` classifier saved with its sidecar outside pytest; its
options and their ranges are the ``train:`` keys'; bad input is one line and writes nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pytest_featureprobe import cli
from pytest_featureprobe.memo import ProbeSession
from pytest_featureprobe.models import load_keras_model

from .support import EXAMPLES, featureprobe, in_process, one_line, run_pytest

MESSAGES = EXAMPLES / "quickstart" / "messages.csv"
TRAIN = ["train", "messages.csv", "--features", "words", "--label", "label"]


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A folder holding the quick start's messages.csv, as the working directory."""
    shutil.copy(MESSAGES, tmp_path / "messages.csv")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _entries(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_train_saves_the_model_that_train_key_trains_with_its_sidecar(project):
    status, out, err = in_process(*TRAIN, "-o", "spam.keras", "--hidden", "8", "--seed", "3")
    assert status == 0, err
    assert out.splitlines()[0].startswith(
        "trained spam.keras: 16 features, classes ham, spam, on 8 rows of messages.csv "
        "(seed 3, 300 steps, training accuracy 1.000, "
    )
    assert "sidecar spam.keras.featureprobe.json" in out
    assert "next: featureprobe record spam.keras -o featureprobe_spam.yaml" in out
    saved = load_keras_model(project / "spam.keras")  # space and classes from the sidecar
    trained = ProbeSession().train("messages.csv", "words", "label", hidden=[8], seed=3)
    assert list(saved.classes) == list(trained.classes) == ["ham", "spam"]
    assert list(saved.space.features) == list(trained.space.features)
    assert saved.fingerprint == trained.fingerprint  # the same weights train: gives


@pytest.mark.system
def test_train_then_record_then_pytest_passes(project):
    done = featureprobe(*TRAIN, "-o", "spam.keras", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    done = featureprobe("record", "spam.keras", "-o", "featureprobe_spam.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    result = run_pytest("featureprobe_spam.yaml", cwd=project)
    assert result.returncode == 0, result.stdout
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_a_cached_model_is_saved_from_its_weights(project, capsys):
    cache = ["--cache-dir", str(project / "cache")]
    assert cli.main([*TRAIN, "-o", "a.keras", "--epochs", "5", *cache]) == 0
    assert "weights from the cache" not in capsys.readouterr().out
    assert cli.main([*TRAIN, "-o", "b.keras", "--epochs", "5", *cache]) == 0
    assert "weights from the cache)" in capsys.readouterr().out
    first, second = (load_keras_model(project / name) for name in ("a.keras", "b.keras"))
    assert first.fingerprint == second.fingerprint


def test_categorical_columns_train_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plans.csv").write_text(
        "plan,country,churn\nfree,fr,yes\npro,fr,no\nfree,de,yes\npro,de,no\n"
    )
    args = ["train", "plans.csv", "--categorical", "plan,country", "--label", "churn"]
    status, _, err = in_process(*args, "-o", "m.keras", "--epochs", "5")
    assert status == 0, err
    names = load_keras_model(tmp_path / "m.keras").space.features
    assert sorted(names) == ["country=de", "country=fr", "plan=free", "plan=pro"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seed", "-1"], "--seed: a non-negative integer up to 2,147,483,647 (2**31 - 1)"),
        (["--seed", "4294967296"], "--seed: a non-negative integer up to 2,147,483,647"),
        (["--epochs", "1e3"], "--epochs: an integer, not '1e3'"),
        (["--epochs", "100001"], "--epochs: a positive integer up to 100,000"),
        (["--steps", "0"], "--steps: a positive integer up to 10,000,000"),
        (["--hidden", "0"], "--hidden: a list of at most 64 positive layer sizes up to 65,536"),
        (["--hidden", "16,x"], "--hidden: layer sizes are integers, not '16,x'"),
        (["--activation", "foo"], "--activation: 'foo' is not one of relu, tanh"),
        (["--learning-rate", "nan"], "--learning-rate: a positive number below 10"),
        (["--batch-size", "0"], "--batch-size: a positive integer up to 1,048,576"),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else None,
)
def test_a_training_option_out_of_its_range_is_one_line(project, capsys, extra, message):
    before = _entries(project)
    assert cli.main([*TRAIN, "-o", "m.keras", *extra]) == 2
    error = one_line(capsys.readouterr().err)
    assert error.startswith(f"featureprobe: error: {message}"), error
    assert _entries(project) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["train", "messages.csv", "--features", "text", "--label", "label"],
            "--features: no column 'text' in messages.csv; columns are words, label",
        ),
        (
            ["train", "messages.csv", "--categorical", "words,plan", "--label", "label"],
            "--categorical: no column 'plan' in messages.csv; columns are words, label",
        ),
        (
            ["train", "messages.csv", "--features", "words", "--label", "lable"],
            "--label: no label column 'lable' (did you mean 'label'?)",
        ),
        (
            ["train", "messages.csv", "--label", "label"],
            "name the input: --features COLUMN (tokens) or --categorical A,B",
        ),
        (
            ["train", "nothing.csv", "--features", "words", "--label", "label"],
            "data file not found: nothing.csv",
        ),
        (
            ["train", "https://example.com/m.csv", "--features", "w", "--label", "label"],
            "'https://example.com/m.csv' is a URL; featureprobe reads local files only",
        ),
        ([*TRAIN, "--output", "m.h5"], "--output must be a .keras file, not m.h5"),
        (["train", "empty.csv", "--features", "words", "--label", "label"], "empty.csv: "),
    ],
    ids=["features", "categorical", "label", "no-input", "missing", "url", "suffix", "empty"],
)
def test_bad_input_is_one_line_and_writes_nothing(project, capsys, args, message):
    (project / "empty.csv").write_text("words,label\n")
    before = _entries(project)
    output = [] if "--output" in args else ["-o", "m.keras"]
    assert cli.main([*args, *output]) == 2
    error = one_line(capsys.readouterr().err)
    assert error.startswith(f"featureprobe: error: {message}"), error
    assert _entries(project) == before


def test_data_outside_the_project_needs_allow_path(project, tmp_path_factory, capsys):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    shutil.copy(MESSAGES, elsewhere / "messages.csv")
    data = str(elsewhere / "messages.csv")
    args = ["train", data, "--features", "words", "--label", "label", "-o", "m.keras"]
    assert cli.main([*args, "--epochs", "5"]) == 2
    assert one_line(capsys.readouterr().err).endswith(
        "is outside the project (" + str(project) + "); allow its folder with --allow-path DIR"
    )
    assert not (project / "m.keras").exists()
    assert cli.main([*args, "--epochs", "5", "--allow-path", str(elsewhere)]) == 0


def test_the_model_is_written_only_under_the_working_directory(project, tmp_path_factory, capsys):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    args = [*TRAIN, "-o", str(elsewhere / "m.keras"), "--epochs", "5"]
    assert cli.main(args) == 2
    assert one_line(capsys.readouterr().err) == (
        f"featureprobe: error: {elsewhere / 'm.keras'} is outside the project ({project}); "
        "allow its folder with --allow-path DIR"
    )
    assert list(elsewhere.iterdir()) == []
    assert cli.main([*args, "--allow-path", str(elsewhere)]) == 0
    assert sorted(p.name for p in elsewhere.iterdir()) == ["m.keras", "m.keras.featureprobe.json"]


def test_an_existing_model_is_replaced_only_with_force(project, capsys):
    (project / "m.keras").write_text("mine\n")
    assert cli.main([*TRAIN, "-o", "m.keras", "--epochs", "5"]) == 2
    error = one_line(capsys.readouterr().err)
    assert error == (
        "featureprobe: error: m.keras (5 bytes, 1 line) exists; pass --force to replace the "
        "model and its sidecar (what it holds now is lost)"
    )
    assert (project / "m.keras").read_text() == "mine\n"
    assert not (project / "m.keras.featureprobe.json").exists()
    assert cli.main([*TRAIN, "-o", "m.keras", "--epochs", "5", "--force"]) == 0
    assert list(load_keras_model(project / "m.keras").classes) == ["ham", "spam"]


def test_the_model_and_its_sidecar_are_written_together_or_not_at_all(project, monkeypatch, capsys):
    real_replace = os.replace

    def replace(source, target):
        if str(target).endswith(".featureprobe.json"):
            raise OSError(28, "No space left on device", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    before = _entries(project)
    assert cli.main([*TRAIN, "-o", "m.keras", "--epochs", "5"]) == 2
    monkeypatch.undo()
    err = capsys.readouterr().err  # the training line, then the error
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        "featureprobe: error: cannot write m.keras.featureprobe.json: no space left on device; "
        "nothing was written"
    )
    assert _entries(project) == before  # neither file, and no temporary file


def test_the_command_lists_train(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "train" in out and "train the dense classifier" in out
    assert cli.main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--hidden", "--seed", "--epochs", "--steps", "--learning-rate", "--batch-size"):
        assert option in out
