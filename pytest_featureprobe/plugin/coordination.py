"""What lets the processes of one run share pytest's cache directory (pytest-xdist workers):
the cache folder, one run id, write-once baselines (a lock and a run marker per file) and the
folder where workers leave the report's sections for the controller (``run_folder``)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import Any

import pytest

from ..files import atomic_write, file_lock, is_regular_file, resolved

_run_id_key = pytest.StashKey[str]()


def cache_folder(config: pytest.Config, name: str = "") -> Path | None:
    """``featureprobe[/name]`` under pytest's cache directory; None when the cache plugin is off
    or the folder cannot be made (a warning says so, and the run goes on without it)."""
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    if cache is None:
        return None
    try:
        folder = cache.mkdir("featureprobe")
        if name:
            folder = folder / name
            folder.mkdir(exist_ok=True)
    except OSError as exc:
        warnings.warn(
            pytest.PytestCacheWarning(
                f"featureprobe: cannot use the cache folder ({exc.strerror or exc}: "
                f"{exc.filename or ''}); running without it"
            ),
            stacklevel=2,
        )
        return None
    return folder


def run_id(config: pytest.Config) -> str:
    """One id for the whole run: pytest-xdist's testrunuid on workers, else made here."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "testrunuid" in workerinput:
        return str(workerinput["testrunuid"])
    if _run_id_key not in config.stash:
        import uuid

        config.stash[_run_id_key] = getattr(config, "testrunuid", None) or uuid.uuid4().hex
    return config.stash[_run_id_key]


def run_folder(config: pytest.Config, name: str, run: str | None = None) -> Path | None:
    """``featureprobe/name/<run id>`` under pytest's cache directory, made (None without a
    cache): what the processes of a run hand one another. The pytest-xdist controller names
    the run its workers name (``run``: the id they sent). ``drop_run_folders`` removes it."""
    folder = cache_folder(config, name)
    if folder is None:
        return None
    folder = folder / (run or run_id(config))
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        _cache_warning("cannot make a folder in the cache folder", exc)
        return None
    return folder


def drop_run_folders(
    config: pytest.Config, name: str, runs: Iterable[str], max_age_s: float = 86400.0
) -> None:
    """Remove the ``run_folder`` of ``runs`` and those of runs that ended without removing
    theirs (older than ``max_age_s``); what cannot be removed stays, silently."""
    import shutil
    import time

    folder = cache_folder(config, name)
    if folder is None:
        return
    names, now = set(runs), time.time()
    try:
        found = list(folder.iterdir())
    except OSError:
        return
    for path in found:
        try:
            stale = now - path.stat().st_mtime > max_age_s
        except OSError:
            continue
        if path.name in names or stale:
            shutil.rmtree(path, ignore_errors=True)


def _lock_name(path: Path) -> str:
    import hashlib

    return hashlib.sha256(str(resolved(path)).encode()).hexdigest()[:24]


def run_marker(config: pytest.Config, path: Path) -> Path | None:
    """Where this run notes that it wrote ``path`` (pytest's cache; None without a cache)."""
    folder = cache_folder(config, "written")
    return None if folder is None else folder / _lock_name(path)


def run_lock(config: pytest.Config, path: Path) -> Any:
    """An inter-process lock for writing ``path``, kept in pytest's cache (not beside the file)."""
    folder = cache_folder(config, "locks")
    return nullcontext() if folder is None else file_lock(folder / f"{_lock_name(path)}.lock")


def write_once(config: pytest.Config) -> Callable[[Path, Callable[[], None]], bool]:
    """The runner's ``WriteOnce`` for this run: each baseline written once, even when
    pytest-xdist workers share the files; returns whether this process wrote it. A lock or
    run marker that cannot be taken, read or written is a warning: the baseline is still
    written (it was asked for), only the coordination with other workers is lost."""

    def write(path: Path, do_write: Callable[[], None]) -> bool:
        marker = run_marker(config, path)
        with ExitStack() as stack:
            try:
                stack.enter_context(run_lock(config, path))
            except OSError as exc:
                _cache_warning("cannot take the lock in the cache folder", exc)
            if marker is not None and _marker_text(marker) == run_id(config):
                return False
            do_write()
            if marker is not None:
                try:
                    atomic_write(marker, run_id(config))  # a FIFO there is replaced, not opened
                except OSError as exc:
                    _cache_warning("cannot note the baseline written in the cache folder", exc)
        return True

    return write


def _marker_text(marker: Path) -> str | None:
    """A run marker's text; None when there is none or it cannot be read (a FIFO is not read)."""
    if not is_regular_file(marker):
        return None
    try:
        return marker.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _cache_warning(what: str, error: OSError) -> None:
    warnings.warn(
        pytest.PytestCacheWarning(
            f"featureprobe: {what} ({(error.strerror or str(error)).lower()}: "
            f"{error.filename or ''}); going on without it"
        ),
        stacklevel=3,
    )
