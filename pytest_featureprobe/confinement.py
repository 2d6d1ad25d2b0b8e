"""Which files an expectation file may name: local files, inside the project.

An expectation file is data, but the files it names are read (CSV, feature spaces), loaded (Keras
models) or written (baselines). So a file may not name a URL (nothing is fetched at run time), and
the files it names must lie inside the project root (under pytest its rootdir, for the command the
working directory) or a folder allowed explicitly (``--featureprobe-allow-path``, ini
``featureprobe_allowed_paths``). Symbolic links are followed before the check, so a link inside
the project to a file outside is refused too. These are the primitives; which files a document
names is the runner's business (``runner.confined``). Imports errors and files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from .errors import ALLOW_HINT
from .files import resolved

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^//|^\\\\")


def is_url(value: str) -> bool:
    """``https://...``, ``s3://...``, ``file://...``, ``//host/...`` or ``\\\\host\\share``: a
    location on another machine, not a file (resolving a share would already connect to it)."""
    return bool(_URL.match(value.strip()))


def url_refusal(value: str) -> str:
    return (
        f"{value!r} is a URL; featureprobe reads local files only and fetches nothing at run "
        "time: download it into the project and name the file"
    )


def resolve(value: str | Path, base_dir: str | Path | None) -> Path:
    """A declared path as a file: absolute as given, else relative to ``base_dir``."""
    path = Path(value)
    return path if path.is_absolute() or base_dir is None else Path(base_dir) / path


def outside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether ``path`` (symbolic links followed) lies outside every folder of ``roots``. A path
    that cannot be resolved (a link loop, a NUL byte) is judged as written: it cannot be read
    either, and reading it says why (``files.unreadable``)."""
    real = resolved(path)
    return not any(real.is_relative_to(resolved(root)) for root in roots)


def outside_refusal(value: str, roots: list[Path]) -> str:
    shown = ", ".join(str(r) for r in roots)
    return f"{value} is outside the project ({shown}); allow its folder with {ALLOW_HINT}"
