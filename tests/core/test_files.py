"""files: the atomic writer (a reader never sees half a file, a failed write leaves the old one
and no temporary file), the staged file behind it, and the inter-process lock."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_featureprobe import files
from pytest_featureprobe.files import TEMPORARY_SUFFIX, atomic_write, file_lock, staged_file

OLD = b"old contents\x00\xff\n"


@pytest.fixture
def umask() -> Iterator[None]:
    """Restore the process umask after a test that sets it."""
    mask = os.umask(0o022)
    os.umask(mask)
    yield
    os.umask(mask)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- atomic_write --------------------------------------------------------------------------------


def test_atomic_write_makes_the_folders_and_writes_text_as_utf8(tmp_path):
    target = tmp_path / "a" / "b" / "note.txt"
    atomic_write(target, "café ✓\n")
    assert target.read_bytes() == "café ✓\n".encode()
    assert sorted(p.name for p in target.parent.iterdir()) == ["note.txt"]


def test_atomic_write_writes_bytes_as_given(tmp_path):
    target = tmp_path / "blob.bin"
    atomic_write(str(target), OLD)
    assert target.read_bytes() == OLD


def test_atomic_write_replaces_an_existing_file(tmp_path):
    target = tmp_path / "f.json"
    target.write_bytes(OLD)
    atomic_write(target, "{}")
    assert target.read_bytes() == b"{}"
    assert os.listdir(tmp_path) == ["f.json"]


def test_without_make_folder_a_missing_folder_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing" / "f.txt", "x", make_folder=False)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("broken", ["fsync", "replace"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, broken):
    target = tmp_path / "baseline.json"
    target.write_bytes(OLD)

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, broken, fail)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, "new contents that never land")
    monkeypatch.undo()
    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["baseline.json"]


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "baseline.json"
    target.write_bytes(OLD)

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, "new")
    monkeypatch.undo()
    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["baseline.json"]


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_the_file_mode_follows_the_umask(tmp_path, umask, mask, expected):
    os.umask(mask)
    target = tmp_path / "report.html"
    atomic_write(target, "<html></html>")
    assert mode(target) == expected


def test_a_shared_file_is_not_made_private(tmp_path, umask):
    # mkstemp makes 0600 files: a written file must be readable as any other project file.
    os.umask(0o002)
    target = tmp_path / "shared.json"
    atomic_write(target, "{}")
    assert mode(target) == 0o664


# --- staged_file ---------------------------------------------------------------------------------


def test_staged_file_is_beside_the_target_and_renamed_over_it_on_success(tmp_path):
    target = tmp_path / "out" / "f.txt"
    with staged_file(target) as temporary:
        assert temporary.parent == target.parent
        assert temporary.name.startswith(".f.txt.")
        assert temporary.name.endswith(TEMPORARY_SUFFIX)
        assert temporary.exists() and not target.exists()
        temporary.write_text("staged")
    assert target.read_text() == "staged"
    assert not temporary.exists()
    assert os.listdir(target.parent) == ["f.txt"]


def test_staged_file_leaves_the_target_when_the_block_raises(tmp_path):
    target = tmp_path / "f.txt"
    target.write_bytes(OLD)
    with pytest.raises(ValueError, match="check failed"), staged_file(target) as temporary:
        temporary.write_text("half")
        raise ValueError("check failed")
    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["f.txt"]


def test_staged_file_tolerates_a_block_that_removed_its_temporary_file(tmp_path):
    target = tmp_path / "f.txt"
    with pytest.raises(RuntimeError), staged_file(target) as temporary:
        temporary.unlink()
        raise RuntimeError("gone")
    assert os.listdir(tmp_path) == []


# --- staged_files: files that belong together, all replaced or none ------------------------------


def _state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_staged_files_replace_every_target_on_success(tmp_path):
    (tmp_path / "a.yaml").write_bytes(OLD)
    with files.staged_files([tmp_path / "a.yaml", tmp_path / "b" / "a.json"]) as (one, two):
        one.write_text("yaml")
        two.write_text("json")
        assert one.parent == tmp_path and two.parent == tmp_path / "b"
    assert (tmp_path / "a.yaml").read_text() == "yaml"
    assert (tmp_path / "b" / "a.json").read_text() == "json"
    assert sorted(os.listdir(tmp_path)) == ["a.yaml", "b"]
    assert os.listdir(tmp_path / "b") == ["a.json"]


@pytest.mark.parametrize("existed", [True, False], ids=["old-files", "new-files"])
@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_staged_files_undo_the_first_rename_when_the_second_fails(
    tmp_path, monkeypatch, existed, failure
):
    first, second = tmp_path / "m.yaml", tmp_path / "m.json"
    if existed:
        first.write_bytes(OLD)
        second.write_bytes(OLD + b"2")
    before = _state(tmp_path)
    real_replace = os.replace

    def replace(source, target):
        if Path(target) == second:
            raise failure
        return real_replace(source, target)

    monkeypatch.setattr(files.os, "replace", replace)
    with pytest.raises(type(failure)), files.staged_files([first, second]) as (one, two):
        one.write_text("new yaml")
        two.write_text("new json")
    monkeypatch.undo()
    assert _state(tmp_path) == before  # the old files back, nothing new, no temporary file


def test_staged_files_remove_the_folders_they_made_when_nothing_lands(tmp_path):
    with pytest.raises(ValueError), files.staged_files([tmp_path / "a" / "b" / "f.json"]) as _:
        raise ValueError("check failed")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "other.txt").write_text("x")
    with pytest.raises(ValueError), files.staged_files([tmp_path / "kept" / "new" / "f"]) as _:
        raise ValueError("check failed")
    assert [p.name for p in (tmp_path / "kept").iterdir()] == ["other.txt"]


def test_staged_files_refuse_a_folder_in_a_target_place_before_renaming_any(tmp_path):
    (tmp_path / "m.yaml").write_bytes(OLD)
    (tmp_path / "m.json").mkdir()
    with (
        pytest.raises(IsADirectoryError),
        files.staged_files([tmp_path / "m.yaml", tmp_path / "m.json"]) as (one, _),
    ):
        one.write_text("new")
    assert (tmp_path / "m.yaml").read_bytes() == OLD
    assert sorted(os.listdir(tmp_path)) == ["m.json", "m.yaml"]


def test_staged_files_keep_a_suffix_a_writer_insists_on(tmp_path):
    with files.staged_files([tmp_path / "m.keras"], suffix=".tmp.keras") as (staged,):
        assert staged.name.startswith(".m.keras.") and staged.name.endswith(".tmp.keras")
        staged.write_text("zip")
    assert os.listdir(tmp_path) == ["m.keras"]


def test_unwritable_says_why_before_any_work(tmp_path):
    (tmp_path / "plain.txt").write_text("x")
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    (tmp_path / "dangling.yaml").symlink_to("nowhere.yaml")
    assert files.unwritable(tmp_path / "new" / "deep" / "f.yaml", "output", "f.yaml") is None
    assert files.unwritable(tmp_path / "plain.txt", "output", "plain.txt") is None  # a file
    assert files.unwritable(tmp_path / "dangling.yaml", "output", "d") is None
    assert files.unwritable(tmp_path / "dir.yaml", "output", "dir.yaml") == (
        "output dir.yaml is a folder, not a file"
    )
    assert "is a symbolic link loop" in files.unwritable(tmp_path / "loop.yaml", "output", "l")
    assert files.unwritable(tmp_path / "plain.txt" / "a" / "f.yaml", "output", "f.yaml") == (
        f"cannot write output f.yaml: {tmp_path / 'plain.txt'} is a file, not a folder"
    )


def test_unreadable_and_resolved_never_raise(tmp_path):
    (tmp_path / "loop").symlink_to("loop")
    for path in (tmp_path / "loop", tmp_path / "a\0b", tmp_path / ("n" * 300)):
        assert files.unreadable(path, "data file", path.name) is not None
        assert files.resolved(path).is_absolute()
        assert not files.is_regular_file(path)


# --- file_lock -----------------------------------------------------------------------------------


def test_file_lock_makes_its_folder_and_can_be_acquired_and_released(tmp_path):
    path = tmp_path / "locks" / "deep" / "model.lock"
    lock = file_lock(path)
    assert path.parent.is_dir()
    assert not lock.is_locked
    lock.acquire(timeout=5)
    assert lock.is_locked
    lock.release()
    assert not lock.is_locked
    with lock:
        assert lock.is_locked
    assert not lock.is_locked


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_only_regular_files_are_readable(tmp_path):
    """A FIFO would block a read for ever; a folder is not "not found"."""
    from pytest_featureprobe.files import unreadable

    (tmp_path / "data.csv").write_text("a\n")
    (tmp_path / "folder.csv").mkdir()
    os.mkfifo(tmp_path / "pipe.csv")
    assert unreadable(tmp_path / "data.csv", "data file", "data.csv") is None
    assert unreadable(tmp_path / "folder.csv", "data file", "folder.csv") == (
        "data file folder.csv is a folder, not a file"
    )
    assert unreadable(tmp_path / "pipe.csv", "data file", "pipe.csv") == (
        "data file pipe.csv is not a regular file (a FIFO, device or socket)"
    )
    assert unreadable(tmp_path / "gone.csv", "data file", "gone.csv") == (
        "data file not found: gone.csv"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_baseline_that_is_a_fifo_is_refused_not_read(tmp_path):
    from pytest_featureprobe.baseline import read_baseline
    from pytest_featureprobe.baseline.record import BaselineError

    os.mkfifo(tmp_path / "b.json")
    with pytest.raises(BaselineError) as info:
        read_baseline(tmp_path / "b.json")  # without the check this blocks for ever
    assert (
        info.value.message == "the baseline b.json is not a regular file (a FIFO, device or socket)"
    )


# --- stale temporary files ------------------------------------------------------------------------


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _aged(path: Path, seconds: float = 3600) -> Path:
    """``path`` last changed ``seconds`` ago."""
    import time

    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)
    return path


def _ours(name: str, pid: int, rest: str, origin: tuple[str, str] | None = None) -> str:
    """A temporary name of ours for ``name``, by ``pid`` on ``origin`` (default: this host and
    pid namespace)."""
    host, namespace = origin or files._origin()
    return f".{name}.featureprobe-{host}-{namespace}-{pid}-{rest}"


def test_a_temporary_name_says_whose_it_is(tmp_path):
    host, namespace = files._origin()
    assert host and namespace.isdigit()
    with staged_file(tmp_path / "b.json") as temporary:
        assert temporary.name.startswith(f".b.json.featureprobe-{host}-{namespace}-{os.getpid()}-")
        assert temporary.name.endswith(".tmp")
    folder = files.staging_folder(tmp_path / "models" / "entry")
    assert folder.name.startswith(f".entry.featureprobe-{host}-{namespace}-{os.getpid()}-")


def test_stale_temporaries_of_a_killed_process_are_removed_and_nothing_else(tmp_path):
    dead, live = _dead_pid(), os.getppid()
    stale = tmp_path / _ours("b.json", dead, "abc123.tmp")
    stale.write_bytes(b"")
    _aged(stale)
    stale_keras = tmp_path / _ours("m.keras", dead, "x1.tmp.keras")
    stale_folder = tmp_path / _ours("entry", dead, "x3.tmp")
    stale_keras.write_bytes(b"x")
    stale_folder.mkdir()
    (stale_folder / "weights.npz").write_bytes(b"x")
    for path in (stale_keras, stale_folder):
        _aged(path)
    kept = {
        "writer alive": tmp_path / _ours("b.json", live, "abc.tmp"),
        "newer than this process": tmp_path / _ours("b.json", dead, "new.tmp"),
        "not our name": tmp_path / ".b.json.abc12345.tmp",
        "a user's file": tmp_path / "notes.featureprobe-1-x.tmp",
    }
    for reason, path in kept.items():
        path.write_bytes(b"")
        if reason != "newer than this process":
            _aged(path)
    removed = files.remove_stale(tmp_path)
    assert sorted(removed) == sorted([stale, stale_keras, stale_folder])
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in kept.values())


def test_another_hosts_or_namespaces_temporaries_are_removed_only_when_a_day_old(tmp_path):
    """Its pid means nothing here (a container sharing the folder, NFS): only age tells."""
    dead = _dead_pid()
    host, namespace = files._origin()
    hour, two_days = 3600, 2 * 24 * 3600
    elsewhere = ("elsewhere", namespace)
    foreign = [  # a dead pid here, perhaps a live writer there
        (tmp_path / _ours("a.json", dead, "x.tmp", elsewhere), hour),
        (tmp_path / _ours("b.json", dead, "x.tmp", (host, "1")), hour),
        (tmp_path / f".c.json.featureprobe-{dead}-x.tmp", hour),  # an earlier version's name
        (tmp_path / _ours("d.json", dead, "x.tmp", elsewhere), two_days),
        (tmp_path / f".e.json.featureprobe-{dead}-x.tmp", two_days),
    ]
    for path, age in foreign:
        _aged(_touch(path), age)
    removed = files.remove_stale(tmp_path)
    assert sorted(removed) == sorted(p for p, age in foreign if age == two_days)
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p, age in foreign if age == hour)


def test_on_windows_only_age_tells_and_no_process_is_signalled(tmp_path, monkeypatch):
    dead = _dead_pid()
    recent = _aged(_touch(tmp_path / _ours("a.json", dead, "x.tmp")), 3600)
    old = _aged(_touch(tmp_path / _ours("b.json", dead, "x.tmp")), 2 * 24 * 3600)
    monkeypatch.setattr(files, "_WINDOWS", True)
    monkeypatch.setattr(files, "_alive", lambda pid: pytest.fail("os.kill(pid, 0) on Windows"))
    assert files.remove_stale(tmp_path) == [old]
    assert recent.exists()


def test_a_kept_previous_target_is_never_removed_but_named(tmp_path):
    """A kill between a two-file commit's renames leaves the previous target only there."""
    old = _aged(_touch(tmp_path / _ours("b.json", _dead_pid(), "x2.old.tmp")), 3 * 24 * 3600)
    with pytest.warns(files.StaleFilesWarning) as caught:
        assert files.remove_stale(tmp_path) == []
    assert old.exists()
    assert str(caught[0].message) == (
        f"{old} is the previous b.json of a write of two files that was interrupted between its "
        "renames (the only copy of it): restore it as b.json or delete it"
    )


def _touch(path: Path) -> Path:
    path.write_bytes(b"x")
    return path


def test_the_next_write_in_the_folder_removes_them(tmp_path):
    stale = tmp_path / _ours("b.json", _dead_pid(), "abc.tmp")
    stale.write_bytes(b"")
    _aged(stale)
    atomic_write(tmp_path / "other.json", "{}")
    assert os.listdir(tmp_path) == ["other.json"]


def test_stale_files_that_cannot_be_removed_are_named_in_a_warning(tmp_path, monkeypatch):
    stale = tmp_path / _ours("b.json", _dead_pid(), "abc.tmp")
    stale.write_bytes(b"")
    _aged(stale)

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", denied)
    with pytest.warns(files.StaleFilesWarning) as caught:
        assert files.remove_stale(tmp_path) == []
    assert str(caught[0].message) == (
        f"1 temporary file of an interrupted write could not be removed: {stale}"
    )
    assert files.remove_stale(tmp_path / "absent") == []
