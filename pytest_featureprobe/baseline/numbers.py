"""The numbers a baseline file holds, checked as it is read, each refusal naming its line.

A NaN, an infinity or a number too large for a float (``1e400``, a long mantissa) is refused as
the JSON is parsed (``parse``: the parser's own hooks, so nothing escapes a quick test). Every
numeric field is a JSON number (not a string ``float()`` would read, not a boolean) and in the
range its meaning allows (``check_fields``): spreads from 0 to 0.5 (a standard deviation of
probabilities), the band's floor in (0, 1] and cap in (0, 1000] (the schema's), leave-one-out
scores from 0 to the cap, the seed test's cells probabilities and its floor in (0, 1], seeds and
counts integers. Every probability (each probe's ``p``, the seed band's ``center``, the context
rows' ``p``) lies in [0, 1] and each row sums to 1, both within the tolerance a model's outputs
get (``PROBABILITY_TOLERANCE``) plus what rounding to the stored digits moves them
(``check_probabilities``): a baseline written from a model that passed its own check reads back.
An integer longer than Python converts and a lone surrogate escape are refused too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import UPDATE_HINT, FeatureProbeError
from ..models.probe_model import PROBABILITY_TOLERANCE
from ..text_checks import surrogate_problem

#: How far a stored row of probabilities may sum from 1 (and a value lie outside [0, 1]): the
#: tolerance a model's outputs get; rounding to the stored digits is allowed on top of it.
SUM_TOLERANCE = PROBABILITY_TOLERANCE

# Each scalar of a JSON text in document order (a string followed by ':' is a key), to find the
# line of the n-th scalar of the parsed document.
_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"(\s*:)?|-?(?:Infinity|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|NaN|true|false|null'
)
_LONG_INTEGER = re.compile(r"[0-9]{4300,}")
_SEED_DIGITS = 4  # the seed test's cells as stored (seed_test.SEED_DIGITS)


class CorruptNumber(FeatureProbeError):
    """A number of a baseline file that cannot be what it stands for (the reader raises it
    again as a BaselineError at the file)."""


class _NotFinite(float):
    """What the parser gives for NaN, Infinity or a number beyond a float: found after parsing
    by its path, so the refusal names its key."""

    def __new__(cls, text: str) -> _NotFinite:
        value = super().__new__(cls, float(text) if text != "NaN" else math.nan)
        value.text = text
        return value


def _parse_float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _NotFinite(text)


def parse(text: str) -> Any:
    """The baseline's JSON; a lone surrogate escape, an integer too long to convert or a number
    that is not finite is a CorruptNumber at its line (the parser's other errors propagate)."""
    lone = surrogate_problem(text)
    if lone is not None:  # a name no message, report or JUnit file could then write
        what = lone[1].split(" holds ", 1)[1]
        raise CorruptNumber(
            f"corrupt baseline: it holds {what}; recreate it with {UPDATE_HINT}", line=lone[0]
        )
    found_bad: list[bool] = []

    def bad(value: str) -> float:
        found_bad.append(True)
        return _NotFinite(value)

    def checked(value: str) -> float:
        number = _parse_float(value)
        if isinstance(number, _NotFinite):
            found_bad.append(True)
        return number

    try:
        data = json.loads(text, parse_float=checked, parse_constant=bad)
    except json.JSONDecodeError:
        raise
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        _refuse_long_integer(text)
        raise
    if found_bad:
        for path, value in _leaves(data):
            if isinstance(value, _NotFinite):
                raise CorruptNumber(
                    f"corrupt baseline: {_where(data, path)} is {float(value)} (every number of a "
                    f"baseline is finite); recreate it with {UPDATE_HINT}",
                    line=line_of(text, data, path),
                )
    return data


def _refuse_long_integer(text: str) -> None:
    found = _LONG_INTEGER.search(text)
    if found is None:
        return
    run = re.match(r"[0-9]+", text[found.start() :])
    digits = len(run.group()) if run else len(found.group())
    raise CorruptNumber(
        f"corrupt baseline: a number of {digits:,} digits (a baseline holds probabilities, "
        f"counts and seeds); recreate it with {UPDATE_HINT}",
        line=text.count("\n", 0, found.start()) + 1,
    ) from None


def _allowance(data: dict[str, Any], digits: int | None = None) -> float:
    """What rounding to the stored digits may move a value: half a unit of the last digit."""
    if digits is None:
        precision = data.get("precision", 6)
        digits = precision if type(precision) is int and 0 < precision <= 17 else 6
    return 0.5 * 10.0**-digits


def check_probabilities(
    text: str, data: dict[str, Any], block: str, key: str, classes: tuple[str, ...]
) -> None:
    """Each record of ``data[block]`` holds under ``key`` a row of probabilities, one per class,
    from 0 to 1, summing to 1 (both within the model's tolerance and the rounding); the first
    that does not is a CorruptNumber naming the record (its probe, or the row's number) and its
    line. Call ``check_fields`` first: it refuses what is not a number."""
    records = data.get(block) or []
    if not records or not all(isinstance(r, dict) and key in r for r in records):
        return  # absent (no band) or malformed: the reader's shape checks say so
    try:
        values = np.array([r[key] for r in records], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return
    if values.shape != (len(records), len(classes)):
        return
    rounding = _allowance(data)
    slack = PROBABILITY_TOLERANCE + rounding
    bad = ~(np.isfinite(values) & (values >= -slack) & (values <= 1 + slack))
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
    off = np.abs(sums - 1) > SUM_TOLERANCE + len(classes) * rounding
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


# (path pattern, "int" or "number", low, high, low excluded, what the range means); "*" is any
# index. None: no bound. The probabilities' own ranges are check_probabilities'.
_Rule = tuple[tuple[Any, ...], str, float | None, float | None, bool, str]


def _rules(data: dict[str, Any]) -> list[_Rule]:
    band = data.get("band") if isinstance(data.get("band"), dict) else {}
    cap = band.get("cap")
    cap = float(cap) if type(cap) in (int, float) and 0 < cap <= 1000 else 1000.0
    cell = PROBABILITY_TOLERANCE + _allowance(data, _SEED_DIGITS)
    probability = "a probability from 0 to 1"
    loo = f"a score from 0 to the cap {cap:g}"
    seed = (0, 2**31 - 1, False, "a seed from 0 to 2147483647")
    return [
        (("order",), "int", 1, None, False, "a sweep order from 1"),
        (("precision",), "int", 1, 17, False, "a number of decimals from 1 to 17"),
        (("probes", "*", "p", "*"), "number", None, None, False, ""),
        (("probes", "*", "center", "*"), "number", None, None, False, ""),
        (("rows", "*", "p", "*"), "number", None, None, False, ""),
        (("rows", "*", "count"), "int", 1, None, False, "a count of rows from 1"),
        (("band", "floor"), "number", 0, 1, True, "a spread greater than 0 and at most 1"),
        (("band", "cap"), "number", 0, 1000, True, "a distance greater than 0 and at most 1000"),
        (("band", "loo_scores", "*"), "number", 0, cap, False, loo),
        (("band", "seeds", "*"), "int", *seed),
        (("probes", "*", "spread", "*"), "number", 0, 0.5 + _allowance(data), False,
         "a standard deviation of probabilities, from 0 to 0.5"),
        (("probes", "*", "seeds", "*", "*"), "number", -cell, 1 + cell, False, probability),
        (("slices", "*", "seeds", "*", "*"), "number", -cell, 1 + cell, False, probability),
        (("slices", "*", "rows"), "int", 1, None, False, "a count of rows from 1"),
        (("seed_test", "floor"), "number", 0, 1, True, "a spread greater than 0 and at most 1"),
        (("seed_test", "min_rows"), "int", 1, None, False, "a count of rows from 1"),
        (("seed_test", "seeds", "*"), "int", *seed),
    ]  # fmt: skip


def check_fields(text: str, data: Any) -> None:
    """Every numeric field of the baseline is a JSON number (an integer where it counts) in the
    range its meaning allows; the first that is not is a CorruptNumber naming it (its probe, or
    its key) and its line."""
    if not isinstance(data, dict):
        return
    for pattern, kind, low, high, low_excluded, meaning in _rules(data):
        for path, value in _matches(data, pattern, ()):
            problem = _problem(value, kind, low, high, low_excluded)
            if problem is None:
                continue
            shown = json.dumps(value) if not isinstance(value, float) else f"{value:g}"
            reason = f"{problem}: {meaning}" if meaning and problem == "out of range" else problem
            raise CorruptNumber(
                f"corrupt baseline: {_where(data, path)} is {shown} ({reason}); recreate it "
                f"with {UPDATE_HINT}",
                line=line_of(text, data, path),
            )


def _problem(value: Any, kind: str, low, high, low_excluded: bool) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"not a JSON {'integer' if kind == 'int' else 'number'}"
    if kind == "int" and not isinstance(value, int):
        return "not a JSON integer"
    if low is not None and (value < low or (low_excluded and value == low)):
        return "out of range"
    if high is not None and value > high:
        return "out of range"
    return None


def _matches(value: Any, pattern: tuple[Any, ...], path: tuple[Any, ...]):
    """Each (path, value) of parsed JSON ``value`` that ``pattern`` names ("*": any index);
    a part that is absent or of another shape is skipped (the shape checks say so)."""
    if not pattern:
        yield path, value
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _matches(item, rest, (*path, index))
    elif isinstance(value, dict) and head in value:
        yield from _matches(value[head], rest, (*path, head))


def _where(data: dict[str, Any], path: tuple[Any, ...]) -> str:
    """A field's name: ``probe red+blue: spread[1]`` under the probes, else its dotted path."""
    if len(path) > 2 and path[0] == "probes":
        record = data["probes"][path[1]]
        if isinstance(record, dict) and "probe" in record:
            return f"probe {record['probe']}: {_dotted(path[2:])}"
    return _dotted(path)


def line_of(text: str, data: Any, path: tuple[Any, ...]) -> int | None:
    """The line of the scalar at ``path`` in ``data`` (as parsed from ``text``)."""
    for number, (where, _) in enumerate(_leaves(data)):
        if where == path:
            lines = _scalar_lines(text)
            return lines[number] if number < len(lines) else None
    return None


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every scalar of parsed JSON (numbers, strings, booleans, null) with its path, in the
    order of the text."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _scalar_lines(text: str) -> list[int]:
    """The line of each scalar of the JSON ``text``, in order (keys skipped)."""
    lines, line, last = [], 1, 0
    for token in _TOKEN.finditer(text):
        if token.group(1) is not None:  # a key
            continue
        line += text.count("\n", last, token.start())
        last = token.start()
        lines.append(line)
    return lines


def _dotted(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
