"""Size limits on what is read (a model archive, an expectation file, a data file), each
replaceable by an environment variable, so a file that claims far more than it holds is refused
before it is read, and a user with a genuinely large file can still say so."""

from __future__ import annotations

import os
from typing import BinaryIO

#: An expectation file, in bytes (16 MiB: a file of 100,000 entries is a few MB).
MAX_SPEC_BYTES = 16 << 20
SPEC_VARIABLE = "FEATUREPROBE_MAX_SPEC_BYTES"

#: A data file (training data, ``on:`` rows, a context's rows), in bytes (512 MiB: pandas holds
#: a few times that in memory while it parses).
MAX_DATA_BYTES = 512 << 20
DATA_VARIABLE = "FEATUREPROBE_MAX_DATA_BYTES"


#: The largest limit a variable can set (larger: this), far beyond any file; reads are in
#: chunks, so a large limit allocates nothing ahead.
LARGEST_LIMIT = 1 << 62
_CHUNK = 1 << 24


def from_environment(variable: str, default: int) -> int:
    """The limit ``variable`` gives (a whole number above 0, at most ``LARGEST_LIMIT``), else
    ``default``; a ValueError with the message to show when it holds anything else."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or not text.strip("0"):
        raise ValueError(f"{variable} must be a whole number above 0, not {text[:40]!r}")
    digits = text.lstrip("0")
    return LARGEST_LIMIT if len(digits) > 19 else min(int(digits), LARGEST_LIMIT)


class TooLarge(Exception):
    """A stream holds more than the limit: ``size`` bytes, or more."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def read_at_most(stream: BinaryIO, limit: int) -> bytes:
    """The bytes of ``stream`` (a file opened in binary), when at most ``limit``; else
    TooLarge. A file whose size says it is larger is refused before anything is read; one whose
    size lies (a growing file, /proc) is read no further than the limit, in chunks."""
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        size = 0
    if size > limit:
        raise TooLarge(size)
    chunks = [stream.read(size + 1)]  # the whole file, in one read, when its size is true
    total = len(chunks[0])
    while total <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise TooLarge(max(total, size))
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def too_large(size: int, limit: int, what: str, variable: str) -> str:
    """One line: a file of ``size`` bytes is over the ``limit`` for ``what``."""
    return (
        f"the file is {size:,} bytes; {what} are read up to {limit:,} bytes (set {variable} "
        "to a larger number of bytes to read it)"
    )
