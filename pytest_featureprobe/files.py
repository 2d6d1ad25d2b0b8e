"""Reading and writing files safely: why a path cannot be read or written, one atomic writer
and one inter-process lock for the whole package.

A file we write (a baseline, a sidecar, the HTML report, a recorded expectation file) is written
to a temporary file in the same folder and renamed over the target, so a reader never sees half a
file and an interrupted write leaves the old one; files that belong together (a YAML and its
baseline, a model and its sidecar) are renamed together or not at all (``staged_files``); a cache
entry (a folder) is filled in a staging folder and renamed the same way. Temporary names are
recognisable: ``.<name>.featureprobe-<host>-<pidns>-<pid>-<random>.tmp`` (``.tmp.keras`` for
Keras, which insists on its suffix), and one left by a process that was killed (SIGKILL, a power
cut) is removed by the next write or baseline read in its folder (``remove_stale``): older than
this process and made by a process that no longer runs, which only a writer on this host and in
this pid namespace can be asked; any other (a container sharing the folder, NFS, Windows, a name
without a host) only when a day old. The previous target a two-file commit kept aside
(``.old.tmp``) is never removed: a warning names it.
``unreadable``, ``unwritable`` and ``resolved`` never raise: a link loop, a NUL byte or a name too
long is a reason in words, not a RuntimeError, ValueError or OSError. Imports nothing of ours.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

TEMPORARY_SUFFIX = ".tmp"
#: What every temporary name holds after the target's name: ``.featureprobe-<pid>-``.
TEMPORARY_MARK = ".featureprobe-"
# ``.<name>.featureprobe-[<host>-<pid namespace>-]<pid>-<random>...``: the host part is absent
# in the names of earlier versions.
_TEMPORARY = re.compile(
    r"^\.(.*)\.featureprobe-(?:([A-Za-z0-9]*)-([0-9]+)-)?([0-9]+)-[^.]*(\.old)?\.tmp(\.keras)?$"
)
_STARTED = time.time()  # this process's start, as near as this module can tell
#: How old a temporary file of another host or pid namespace must be to count as left behind:
#: whether its writer still runs cannot be asked from here.
FOREIGN_AGE = 24 * 3600
_WINDOWS = os.name == "nt"


def _origin() -> tuple[str, str]:
    """This process's host (letters and digits only) and pid namespace (its inode number; "0"
    where there is none to read)."""
    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:40]
    try:
        namespace = re.sub(r"[^0-9]", "", os.readlink("/proc/self/ns/pid")) or "0"
    except (OSError, AttributeError):
        namespace = "0"
    return host, namespace


def _temporary_prefix(name: str) -> str:
    host, namespace = _origin()
    return f".{name}{TEMPORARY_MARK}{host}-{namespace}-{os.getpid()}-"


class StaleFilesWarning(UserWarning):
    """Temporary files a killed process left could not be removed: where they are."""


def remove_stale(folder: str | Path, started: float | None = None) -> list[Path]:
    """Remove the temporary files and staging folders of ours in ``folder`` (not below it) that
    a killed process left: a recognisable name (``TEMPORARY_MARK``), last changed before
    ``started`` (default: this process's start) and made by a process that no longer runs (a
    live one may still be writing; one of another host or pid namespace: a day old,
    ``FOREIGN_AGE``). Returns what was removed; what cannot be, and a two-file commit's kept
    previous target (``.old.tmp``), are named in a ``StaleFilesWarning``. Never raises."""
    started = _STARTED if started is None else started
    removed, left, kept = [], [], []
    try:
        names = os.listdir(folder)
    except (OSError, ValueError):
        return []
    origin = _origin()
    for name in names:
        found = _TEMPORARY.match(name)
        if found is None:
            continue
        path = Path(folder) / name
        try:
            if not _left_behind(found, os.lstat(path).st_mtime, started, origin):
                continue
            if found.group(5):  # the only copy of the previous target
                kept.append((path, found.group(1)))
            elif stat.S_ISDIR(os.lstat(path).st_mode):
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            continue  # removed by another process meanwhile
        except OSError:
            left.append(path)
            continue
        if not found.group(5):
            removed.append(path)
    _warn_left(left, kept)
    return removed


def _left_behind(found: re.Match, mtime: float, started: float, origin: tuple[str, str]) -> bool:
    """Whether the temporary file ``found`` names, last changed at ``mtime``, was left by a
    writer that no longer runs."""
    if mtime >= started:
        return False
    here = found.group(2) is not None and (found.group(2), found.group(3)) == origin
    if here and not _WINDOWS:  # os.kill(pid, 0) ends the process there
        return not _alive(int(found.group(4)))
    return mtime < time.time() - FOREIGN_AGE


def _warn_left(left: list[Path], kept: list[tuple[Path, str]]) -> None:
    if left:
        warnings.warn(
            StaleFilesWarning(
                f"{len(left)} temporary file{'s' if len(left) > 1 else ''} of an interrupted "
                f"write could not be removed: {', '.join(str(p) for p in left[:5])}"
            ),
            stacklevel=3,
        )
    for path, target in kept:
        warnings.warn(
            StaleFilesWarning(
                f"{path} is the previous {target} of a write of two files that was interrupted "
                f"between its renames (the only copy of it): restore it as {target} or delete it"
            ),
            stacklevel=3,
        )


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (this one always does; a pid we may not signal runs)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or a pid this system cannot have: keep it
    return True


def unreadable(path: str | Path, what: str, shown: str | Path) -> str | None:
    """Why ``path`` is not a regular file to read (None when it is): not found, a folder, a FIFO,
    device or socket (reading one could block for ever), a symbolic link loop, a name the file
    system refuses (too long, a NUL byte) or any other error of ``stat``. The one place that says
    why a path cannot be read; it never raises."""
    shown = _shortened(str(shown))
    try:
        mode = os.stat(path).st_mode
    except ValueError:  # a NUL byte in the path
        return f"{what} {shown}: a file name cannot hold a NUL byte"
    except OSError as exc:
        return _stat_failure(exc, what, shown)
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return f"{what} {shown} is a folder, not a file"
    return f"{what} {shown} is not a regular file (a FIFO, device or socket)"


def _stat_failure(error: OSError, what: str, shown: str) -> str:
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return f"{what} not found: {shown}"
    if error.errno == errno.ELOOP:
        return f"{what} {shown} is a symbolic link loop (a link that leads back to itself)"
    if error.errno == errno.ENAMETOOLONG:
        return f"{what} {shown}: the name is too long for the file system"
    return f"cannot read {what} {shown}: {(error.strerror or str(error)).lower()}"


def _shortened(text: str, keep: int = 60) -> str:
    """A name as a message shows it: a very long one cut in the middle, with its length; control
    characters (a NUL) escaped."""
    if not text.isprintable():
        text = repr(text)[1:-1]
    if len(text) <= 2 * keep:
        return text
    return f"{text[:keep]}...{text[-keep // 2 :]} ({len(text)} characters)"


def resolved(path: str | Path) -> Path:
    """``path`` made absolute with symbolic links followed, as far as that can be done: a path
    that cannot be resolved (a link loop, a NUL byte, a name too long) is made absolute as
    written, so that its read or write reports it (``unreadable``) rather than this."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError, ValueError):
        return Path(os.path.abspath(path))


def is_regular_file(path: str | Path) -> bool:
    """Whether ``path`` is a regular file (links followed); False, not an error, for any path
    that cannot be looked at."""
    return unreadable(path, "", "") is None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def unwritable(path: str | Path, what: str, shown: str | Path) -> str | None:
    """Why no file can be written at ``path`` (None when one can, as far as can be told without
    writing): a folder, FIFO or link loop in its place, or a file where a folder of its path
    would be. Checked before work whose result would be lost; never raises."""
    path = Path(path)
    if "\0" in str(path):
        return f"{what} {_shortened(str(shown))}: a file name cannot hold a NUL byte"
    if os.path.lexists(path):
        problem = unreadable(path, what, shown)
        if problem is not None and not problem.startswith(f"{what} not found"):
            return problem  # a link to nothing is replaced as the file it stands for
    for folder in path.parents:
        try:
            mode = os.stat(folder).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # made by the write, or a file in the way (found further up)
        except OSError as exc:
            return _stat_failure(exc, "the folder", _shortened(str(folder)))
        if stat.S_ISDIR(mode):
            return None
        return f"cannot write {what} {_shortened(str(shown))}: {folder} is a file, not a folder"
    return None


@contextlib.contextmanager
def staged_file(path: str | Path, *, make_folder: bool = True) -> Iterator[Path]:
    """A temporary file beside ``path``, renamed over ``path`` when the block ends normally.

    The block writes the temporary file (and may read it back to check it); if the block raises,
    the temporary file is removed and ``path`` is left as it was. OSError from making or renaming
    the file propagates to the caller, who says what it means for the user.
    """
    with staged_files([path], make_folder=make_folder) as (temporary,):
        yield temporary


@contextlib.contextmanager
def staged_files(
    paths: Sequence[str | Path], *, make_folder: bool = True, suffix: str = TEMPORARY_SUFFIX
) -> Iterator[tuple[Path, ...]]:
    """Temporary files beside each of ``paths``, renamed over them together when the block ends
    normally: files that belong together (an expectation file and its baseline, a model and its
    sidecar) are all replaced or none.

    Before anything is renamed, a folder in the place of a path is an IsADirectoryError. The
    renames go one by one; when one fails (or is interrupted), those already done are undone:
    the old file, kept aside under a temporary name (a hard link, else a copy), goes back, and a
    file that was not there is removed. If the block raises, nothing is renamed. Either way no
    temporary file remains, nor a folder made for the files. ``suffix`` ends the temporary names
    (a writer that insists on the ``.keras`` suffix gets ``.tmp.keras``). OSError propagates to
    the caller.
    """
    targets = [Path(p) for p in paths]
    temporaries: list[Path] = []
    made: list[Path] = []  # folders made for the files, removed again when nothing lands
    done = False
    try:
        for path in targets:
            if make_folder:
                made += [f for f in reversed(path.parents) if not os.path.isdir(f)]
                path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale(path.parent)
            handle, name = tempfile.mkstemp(
                prefix=_temporary_prefix(path.name), suffix=suffix, dir=path.parent
            )
            temporaries.append(Path(name))
            os.close(handle)
            # mkstemp makes the file private (0600); what we write are ordinary project files.
            os.chmod(name, 0o666 & ~_umask())
        yield tuple(temporaries)
        for path in targets:
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        _replace_together(temporaries, targets)
        done = True
    finally:
        for temporary in temporaries:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
        for folder in [] if done else reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty


def _replace_together(temporaries: list[Path], targets: list[Path]) -> None:
    """Rename each temporary over its target; on any failure put back what was renamed."""
    done: list[tuple[Path, Path | None]] = []  # (target, its old file kept aside, or None)
    try:
        for number, (temporary, path) in enumerate(zip(temporaries, targets, strict=True)):
            kept = _keep_aside(path) if number < len(targets) - 1 else None
            try:
                os.replace(temporary, path)
            except BaseException:
                if kept is not None:
                    kept.unlink(missing_ok=True)
                raise
            done.append((path, kept))
    except BaseException:
        for path, kept in reversed(done):
            with contextlib.suppress(OSError):
                if kept is None:
                    path.unlink(missing_ok=True)
                else:
                    os.replace(kept, path)
        raise
    finally:
        for _, kept in done:
            if kept is not None:
                with contextlib.suppress(OSError):
                    kept.unlink(missing_ok=True)


def _keep_aside(path: Path) -> Path | None:
    """A second name for the file at ``path`` (None when there is none), to put it back."""
    if not os.path.isfile(path):
        return None
    handle, name = tempfile.mkstemp(
        prefix=_temporary_prefix(path.name), suffix=".old.tmp", dir=path.parent
    )
    os.close(handle)
    kept = Path(name)
    try:
        kept.unlink()
        os.link(path, kept)
    except OSError:
        shutil.copy2(path, kept)
    return kept


def atomic_write(path: str | Path, data: str | bytes, *, make_folder: bool = True) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically, synced to disk before the rename.

    Whatever goes wrong (an exception, KeyboardInterrupt, a full disk), the old file is left as
    it was and no temporary file remains; OSError propagates."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with staged_file(path, make_folder=make_folder) as temporary, open(temporary, "wb") as stream:
        stream.write(payload)
        stream.flush()
        os.fsync(stream.fileno())


def staging_folder(final: str | Path) -> Path:
    """A new private folder beside ``final`` to fill and then rename onto it (``os.replace``):
    a folder's atomic write (the model cache's entries). The caller renames or removes it."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(final.parent)
    return Path(
        tempfile.mkdtemp(
            prefix=_temporary_prefix(final.name), suffix=TEMPORARY_SUFFIX, dir=final.parent
        )
    )


def file_lock(path: str | Path) -> Any:
    """An inter-process lock held in the file ``path`` (its folder is made): pytest-xdist
    workers and parallel commands take it around training a model or writing a baseline."""
    from filelock import FileLock

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path)
