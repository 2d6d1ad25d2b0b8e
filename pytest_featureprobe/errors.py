"""Errors for mistakes in a user's spec, data or model, and the one way messages show names.

Each error carries where the mistake is (file, line, key) so that the plugin and the command can
report it as one short line without a Python traceback from our internals. ``quoted``,
``preview``, ``did_you_mean`` and ``plural`` are how every message quotes a name, lists names,
suggests one and counts things. Imports nothing of ours.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: How a message says to write a baseline anew, and to allow a folder outside the project, in
#: pytest's words; the command says them in its own (``runner.RunSettings``).
UPDATE_HINT = "--featureprobe-update"
ALLOW_HINT = "--featureprobe-allow-path DIR or the featureprobe_allowed_paths ini option"


class FeatureProbeError(Exception):
    """A problem the user can fix in their spec, data or model; reported without traceback."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.key = key

    def located(
        self, path: str | Path | None = None, line: int | None = None, key: str | None = None
    ) -> FeatureProbeError:
        """Fill in location facts not known where the error was raised; returns self."""
        if self.path is None and path is not None:
            self.path = str(path)
        if self.line is None:
            self.line = line
        if self.key is None:
            self.key = key
        return self

    def __str__(self) -> str:
        return self.describe()

    def describe(self, relative_to: str | Path | None = None) -> str:
        """``path:line: key: message``, the path relative to ``relative_to`` when inside it.

        Always one line of bounded length: a key or a value quoted from the user's file can hold
        line breaks or run to any length, and the report promises one short line."""
        where = ""
        if self.path:
            path = display_path(self.path, relative_to) if relative_to is not None else self.path
            where = path + (f":{self.line}" if self.line else "") + ": "
        what = f"{_one_line(self.key, MAX_KEY)}: " if self.key else ""
        return f"{where}{what}{_one_line(self.message, MAX_MESSAGE)}"


MAX_KEY = 80  # characters of a key path in a report
MAX_MESSAGE = 300  # characters of a message in a report; longer ones are cut in the middle


def _one_line(text: str, limit: int) -> str:
    text = " ".join(str(text).split("\n")).replace("\r", " ")
    if len(text) <= limit:
        return text
    tail = limit // 4
    return text[: limit - tail - 5] + " ... " + text[-tail:]


class SpecError(FeatureProbeError):
    """An expectation file or training spec is malformed."""


class DataError(FeatureProbeError):
    """A data file cannot be read or encoded."""


class ModelError(FeatureProbeError):
    """A model cannot be loaded, does not fit the feature space, or returns bad outputs."""


def display_path(path: str | Path, relative_to: str | Path | None = None) -> str:
    """``path`` as a user would type it from ``relative_to`` (default: the working directory):
    relative when inside it. The one way every message and report line shows a path."""
    base = Path.cwd() if relative_to is None else Path(relative_to)
    try:
        real = Path(path).resolve()
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte: as written
        real = Path(os.path.abspath(path))
    try:
        shown = str(real.relative_to(base.resolve()))
    except ValueError:
        shown = str(path)
    return shown if shown.isprintable() else repr(shown)[1:-1]  # a NUL byte, escaped


def quoted(name: Any, limit: int = 60) -> str:
    """A name as error messages show it: its repr, cut short when long (a message is one line)."""
    text = repr(name)
    return text if len(text) <= limit else text[: limit - 4] + "..." + text[-1]


def listed(name: Any, limit: int = 30) -> str:
    """A name in a list of names: bare when short and printable, else quoted and cut."""
    text = str(name)
    return text if len(text) <= limit and text.isprintable() else quoted(name, limit)


def preview(names: Sequence[Any], limit: int = 8, width: int | None = None) -> str:
    """The first names (at most ``limit``; with ``width``, those that fit in about that many
    characters, at least one), then how many more: for messages about long lists."""
    shown = [listed(n) for n in names[:limit]]
    if width is not None:
        count, used = 0, 0
        for item in shown:
            used += len(item) + 2
            if count and used > width:
                break
            count += 1
        shown = shown[:count]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f", ... ({more} more)" if more > 0 else "")


def plural(count: int, noun: str, many: str | None = None, *, grouped: bool = False) -> str:
    """``count`` and ``noun`` in the number it takes (1 probe, 2 probes, 0 probes, 1 class, 2
    classes): the one way a message counts things. ``many`` for an irregular plural;
    ``grouped`` writes thousands separators (2,532 rows)."""
    number = f"{count:,}" if grouped else str(count)
    if count == 1:
        return f"{number} {noun}"
    if many is None:
        if noun.endswith(("s", "x", "ch", "sh")):
            many = noun + "es"
        elif noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
            many = noun[:-1] + "ies"
        else:
            many = noun + "s"
    return f"{number} {many}"


def did_you_mean(name: Any, choices: Sequence[Any], width: int = 40) -> str:
    """A ' (did you mean ...?)' hint for an unknown name, or '' when nothing is close; each
    suggestion quoted and cut to ``width`` characters."""
    import difflib

    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(quoted(c, width) for c in close) + "?)"


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message``: how an exception from a user's model is quoted."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def not_utf8(raw: bytes, error: UnicodeDecodeError) -> tuple[str, int]:
    """What to say about bytes that are not UTF-8, and the (1-based) line of the first bad byte."""
    line = raw.count(b"\n", 0, error.start) + 1
    return f"not UTF-8 text (byte 0x{raw[error.start]:02x} on line {line}); save it as UTF-8", line
