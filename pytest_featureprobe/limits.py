"""Size limits on what is read (a model archive, an expectation file, a data file), each
replaceable by an environment variable, so a file that claims far more than it holds is refused
before it is read, and a user with a genuinely large file can still say so."""

from __future__ import annotations

import os

#: An expectation file, in bytes (16 MiB: a file of 100,000 entries is a few MB).
MAX_SPEC_BYTES = 16 << 20
SPEC_VARIABLE = "FEATUREPROBE_MAX_SPEC_BYTES"

#: A data file (training data, ``on:`` rows, a context's rows), in bytes (512 MiB: pandas holds
#: a few times that in memory while it parses).
MAX_DATA_BYTES = 512 << 20
DATA_VARIABLE = "FEATUREPROBE_MAX_DATA_BYTES"


def from_environment(variable: str, default: int) -> int:
    """The limit ``variable`` gives (a whole number above 0), else ``default``; a ValueError
    with the message to show when it holds anything else."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ValueError(f"{variable} must be a whole number above 0, not {text!r}")
    return int(text)


def too_large(size: int, limit: int, what: str, variable: str) -> str:
    """One line: a file of ``size`` bytes is over the ``limit`` for ``what``."""
    return (
        f"the file is {size:,} bytes; {what} are read up to {limit:,} bytes (set {variable} "
        "to a larger number of bytes to read it)"
    )
