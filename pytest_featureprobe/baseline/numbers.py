"""The numbers a baseline file holds, checked as it is read, each refusal naming its line.

Every probability (each probe's ``p``, the seed band's ``center``, the context rows' ``p``) is a
finite number from 0 to 1, and each row of them sums to 1 within ``SUM_TOLERANCE`` (as a model's
outputs must); every other number (spreads, seeds, counts, floors) is finite; an integer longer
than Python converts is refused rather than raised. A NaN compares false with every tolerance:
a baseline holding one would pass every drift check without a word. A lone surrogate escape
is refused too: a name no message could print.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..data import lone_surrogate
from ..errors import UPDATE_HINT, FeatureProbeError

#: How far a stored row of probabilities may sum from 1: the tolerance a model's outputs get,
#: far above what rounding to the baseline's 6 decimals moves a sum.
SUM_TOLERANCE = 1e-3

# A JSON string (skipped) or a number, in document order, to find the line of the n-th number.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?(?:Infinity|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|NaN')
# Text that may hold a number json reads as not finite (NaN, Infinity, 1e400, 400 digits and a
# point): a quick test before the walk that finds it (a match inside a string costs only the
# walk).
_MAYBE_NOT_FINITE = re.compile(r"NaN|Infinity|[eE]\+?0*[0-9]{3}|[0-9]{309}")
_LONG_INTEGER = re.compile(r"[0-9]{4300,}")


class CorruptNumber(FeatureProbeError):
    """A number of a baseline file that cannot be what it stands for (the reader raises it
    again as a BaselineError at the file)."""


def parse(text: str) -> Any:
    """The baseline's JSON; a lone surrogate escape or an integer too long to convert is a
    CorruptNumber at its line (the JSON parser's other errors propagate)."""
    lone = lone_surrogate(text)
    if lone is not None:  # a name no message, report or JUnit file could then write
        raise CorruptNumber(
            f"corrupt baseline: the escape {lone[1]} is half of a UTF-16 pair, which no file "
            f"can store as text (a lone surrogate); recreate it with {UPDATE_HINT}",
            line=lone[0],
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        found = _LONG_INTEGER.search(text)
        if found is None:
            raise
        run = re.match(r"[0-9]+", text[found.start() :])
        digits = len(run.group()) if run else len(found.group())
        raise CorruptNumber(
            f"corrupt baseline: a number of {digits:,} digits (a baseline holds probabilities, "
            f"counts and seeds); recreate it with {UPDATE_HINT}",
            line=text.count("\n", 0, found.start()) + 1,
        ) from None


def check_probabilities(
    text: str, data: dict[str, Any], block: str, key: str, classes: tuple[str, ...]
) -> None:
    """Each record of ``data[block]`` holds under ``key`` a row of probabilities, one per class,
    finite, from 0 to 1, summing to 1; the first that does not is a CorruptNumber naming the
    record (its probe, or the row's number) and its line."""
    records = data.get(block) or []
    if not records or not all(isinstance(r, dict) and key in r for r in records):
        return  # absent (no band) or malformed: the reader's shape checks say so
    try:
        values = np.array([r[key] for r in records], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return
    if values.shape != (len(records), len(classes)):
        return
    bad = ~(np.isfinite(values) & (values >= 0) & (values <= 1))
    what = _record_name(block, key)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise CorruptNumber(
            f"corrupt baseline: {what(records, row)}: P({classes[column]}) is "
            f"{float(values[row, column])} (probabilities are finite numbers from 0 to 1); "
            f"recreate it with {UPDATE_HINT}",
            line=line_of(text, data, (block, row, key, column)),
        )
    sums = values.sum(axis=1)
    off = np.abs(sums - 1) > SUM_TOLERANCE
    if key != "center" and off.any():  # a band's centers are means: near 1, not exactly
        row = int(np.argmax(off))
        shown = ", ".join(f"{v:g}" for v in values[row])
        raise CorruptNumber(
            f"corrupt baseline: {what(records, row)}: its probabilities ({shown}) sum to "
            f"{sums[row]:.6g}, not 1 (within {SUM_TOLERANCE:g}); recreate it with {UPDATE_HINT}",
            line=line_of(text, data, (block, row, key, 0)),
        )


def _record_name(block: str, key: str):
    def name(records: list[dict[str, Any]], row: int) -> str:
        if block == "probes":
            probe = f"probe {records[row].get('probe')}"
            return probe if key == "p" else f"{probe}, the seed band's center"
        return f"context row {row + 1}" if block == "rows" else f"{block} entry {row + 1}"

    return name


def check_finite(text: str, data: Any) -> None:
    """Every number of the file is finite; the first that is not is a CorruptNumber naming its
    key and line. Cheap when the text holds nothing that could be one."""
    if _MAYBE_NOT_FINITE.search(text) is None:
        return
    for number, (path, value) in enumerate(_numbers(data)):
        if isinstance(value, float) and not math.isfinite(value):
            lines = _number_lines(text)
            raise CorruptNumber(
                f"corrupt baseline: {_dotted(path)} is {value} (every number of a baseline is "
                f"finite); recreate it with {UPDATE_HINT}",
                line=lines[number] if number < len(lines) else None,
            )


def line_of(text: str, data: Any, path: tuple[Any, ...]) -> int | None:
    """The line of the number at ``path`` in ``data`` (as parsed from ``text``)."""
    for number, (where, _) in enumerate(_numbers(data)):
        if where == path:
            lines = _number_lines(text)
            return lines[number] if number < len(lines) else None
    return None


def _numbers(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every number of parsed JSON with its path, in the order of the text (booleans aside)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _numbers(item, (*path, index))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


def _number_lines(text: str) -> list[int]:
    """The line of each number of the JSON ``text``, in order (strings skipped)."""
    lines, line, last = [], 1, 0
    for token in _TOKEN.finditer(text):
        if token.group().startswith('"'):
            continue
        line += text.count("\n", last, token.start())
        last = token.start()
        lines.append(line)
    return lines


def _dotted(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
