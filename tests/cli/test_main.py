"""The command as a whole: help, the entry point, usage errors, the version."""

from __future__ import annotations

from importlib import metadata

import pytest

from pytest_featureprobe import cli

from .support import COMMANDS, featureprobe

# --- help and entry points ----------------------------------------------------------------------


@pytest.mark.system
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


@pytest.mark.system
def test_run_as_a_module_shows_the_version(tmp_path):
    done = featureprobe("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip().startswith("featureprobe ")


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf"])
@pytest.mark.parametrize(
    ("command", "option"),
    [("diff", "--max-abs-delta"), ("record", "--margin-slack"), ("diff", "--max-flips")],
)
def test_a_number_option_that_is_not_finite_is_a_usage_error(command, option, value, capsys):
    """nan compares false with every bound, so it would pass as any fraction."""
    args = ["a.json", "b.json"] if command == "diff" else ["m.keras", "-o", "x.yaml"]
    assert cli.main([command, *args, option, value]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"featureprobe {command}: error: argument {option}: ")
    assert "Traceback" not in error


# --- no traceback from the file system ----------------------------------------------------------


@pytest.mark.parametrize(
    "error, line",
    [
        (
            OSError(30, "Read-only file system", "out/featureprobe_m.yaml"),
            "featureprobe: error: out/featureprobe_m.yaml: read-only file system",
        ),
        (OSError(28, "No space left on device"), "featureprobe: error: no space left on device"),
        (
            RuntimeError("Symlink loop from '/p/data.csv'"),
            "featureprobe: error: Symlink loop from '/p/data.csv'",
        ),
    ],
    ids=["read-only", "disk-full", "link-loop"],
)
def test_os_and_runtime_errors_do_not_escape_main(monkeypatch, capsys, error, line):
    """A file system's refusal that no check foresaw is one line and a usage error's status."""
    from pytest_featureprobe.cli import cmd_sweep

    def run(args):
        raise error

    monkeypatch.setattr(cmd_sweep, "run", run)
    assert cli.main(["sweep", "m.keras"]) == 2
    assert capsys.readouterr().err.splitlines() == [line]


def test_a_file_whose_data_is_a_link_loop_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loop.csv").symlink_to("loop.csv")
    (tmp_path / "featureprobe_l.yaml").write_text(
        "model:\n  train:\n    data: loop.csv\n    features: fruit\n    label: kind\n"
        "expect:\n  - alone: red\n    predicts: apple\n"
    )
    loop = "data file loop.csv is a symbolic link loop (a link that leads back to itself)"
    assert cli.main(["sweep", "featureprobe_l.yaml"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"featureprobe: error: {loop}"]
    assert cli.main(["record", "featureprobe_l.yaml", "-o", "featureprobe_o.yaml"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"featureprobe: error: {loop}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["featureprobe_l.yaml", "loop.csv"]
