"""What lets the processes of one run share pytest's cache directory (pytest-xdist workers):
the cache folder, one run id, and write-once baselines (a lock and a run marker per file)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from ..files import file_lock, resolved

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
    pytest-xdist workers share the files; returns whether this process wrote it."""

    def write(path: Path, do_write: Callable[[], None]) -> bool:
        marker = run_marker(config, path)
        with run_lock(config, path):
            if marker is not None and marker.is_file() and marker.read_text() == run_id(config):
                return False
            do_write()
            if marker is not None:
                marker.write_text(run_id(config))
        return True

    return write
