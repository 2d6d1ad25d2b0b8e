"""Reading training data and turning it into (multi-hot matrix, integer labels, space, classes).

``read_table`` reads CSV, JSON and JSON lines with one-line errors that name the line;
``prepare`` encodes a frame for training. Imports errors and the feature space.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError, display_path, not_utf8, plural, quoted
from .features import FeatureSpace, MultiHot, _is_missing, feature_name
from .files import unreadable
from .limits import (
    DATA_VARIABLE,
    MAX_DATA_BYTES,
    TooLarge,
    from_environment,
    read_at_most,
    too_large,
)
from .text_checks import check_utf8, encoding_problem, surrogate_problem

if TYPE_CHECKING:
    import pandas as pd

READERS = {".csv": ",", ".tsv": "\t"}


def read_table(path: str | Path) -> pd.DataFrame:
    """A data file as a DataFrame: CSV, TSV, JSON lines (``.jsonl``) or JSON records.

    Every cell is the text the file holds: CSV cells are read as strings, and JSON numbers keep
    the text they are written with (``1`` and ``1.0`` are two labels in both, as ``"None"`` and
    ``"NA"`` are values, not missing); an empty cell, JSON ``null`` and a missing key are
    missing. A file over the size limit (``limits.MAX_DATA_BYTES``) is refused with its size
    before it is parsed.

    A file that cannot be read is a DataError naming it (relative to the working directory) and
    saying what is wrong, with the line of the file where that is known. It carries no location of
    its own, so that the caller places it at the key that names the file (``model.train.data``,
    ``expect[3].on``).
    """
    path = Path(path)
    shown = display_path(path)
    problem = unreadable(path, "data file", shown)
    if problem is not None:
        raise DataError(problem)
    suffix = path.suffix.lower()
    if suffix not in (*READERS, ".jsonl", ".json"):
        raise DataError(
            f"{shown}: unsupported data file type {quoted(suffix)} "
            "(use .csv, .tsv, .json or .jsonl)"
        )
    if suffix in READERS:
        return _csv_frame(_text(path, shown, decode=False), READERS[suffix], shown)
    text = _text(path, shown)
    import pandas as pd

    records = _json_records(text, suffix)
    if isinstance(records, str):
        raise DataError(f"cannot read {shown}: {records}")
    return pd.DataFrame.from_records(records) if records else pd.DataFrame()


def _text(path: Path, shown: str, decode: bool = True) -> str | bytes:
    """The file's text (``decode`` False: its bytes, checked to be UTF-8 text, for pandas to
    decode: one copy fewer), read no further than the limit; a file over it, not text (a NUL
    byte, UTF-16 or UTF-32) or not UTF-8 is a DataError saying so."""
    try:
        limit = from_environment(DATA_VARIABLE, MAX_DATA_BYTES)
    except ValueError as exc:
        raise DataError(f"cannot read {shown}: {exc}") from None
    try:
        with path.open("rb") as stream:  # never more than the limit, whatever the file claims
            raw = read_at_most(stream, limit)
    except OSError as exc:  # permission denied, an I/O error
        raise DataError(f"cannot read {shown}: {(exc.strerror or str(exc)).lower()}") from None
    except TooLarge as over:
        size = max(over.size, _size(path))
        raise DataError(
            f"cannot read {shown}: {too_large(size, limit, 'data files', DATA_VARIABLE)}"
        ) from None
    problem = encoding_problem(raw[:8192], shown)
    text: str | bytes = raw
    if problem is None:
        try:
            if decode:
                text = raw.decode("utf-8-sig")  # a UTF-8 byte order mark is not text
            elif not raw.isascii():
                check_utf8(raw)
        except UnicodeDecodeError as bad:
            problem = not_utf8(raw, bad)[0]
        else:
            empty = _BLANK.match(raw) if not decode else not text.strip()
            problem = "the file is empty" if empty else None
    if problem is not None:
        raise DataError(f"cannot read {shown}: {problem}")
    return text


_BLANK = re.compile(rb"(?:\xef\xbb\xbf)?\s*\Z")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _csv_frame(raw: bytes, separator: str, shown: str) -> pd.DataFrame:
    """A CSV or TSV text as strings: only an empty cell is missing (``None``, ``NA`` and
    ``null`` are values, as a category named so must be)."""
    import io

    import pandas as pd

    try:
        frame = pd.read_csv(
            io.BytesIO(raw),
            encoding="utf-8-sig",
            sep=separator,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
        )
    except (ValueError, TypeError, pd.errors.ParserError) as exc:
        message = str(exc).strip().splitlines()
        raise DataError(
            f"cannot read {shown}: {message[0] if message else type(exc).__name__}"
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas makes the leading fields an index when rows have more fields than the
        # header: every column would then be shifted.
        text = raw.decode("utf-8-sig")
        raise DataError(f"cannot read {shown}: {_extra_fields(text, separator)}")
    return frame


def _number_text(text: str) -> str:
    return text


def _json_records(text: str, suffix: str) -> list[dict[str, Any]] | str:
    """The records of a JSON data file, its numbers as the text they are written with (JSON
    ``NaN`` missing); or why there are none: invalid JSON (with its line), nested too deep for
    the parser, or an item that is not a record."""
    lone = surrogate_problem(text)
    if lone is not None:
        return lone[1]
    constants = {"NaN": None, "Infinity": "Infinity", "-Infinity": "-Infinity"}
    decoder = json.JSONDecoder(  # one decoder: json.loads with options builds one per call
        parse_int=_number_text, parse_float=_number_text, parse_constant=constants.get
    )
    lines = [(1, text)] if suffix == ".json" else enumerate(text.splitlines(), start=1)
    records: list[dict[str, Any]] = []
    for number, line in lines:
        if not line.strip():
            continue
        try:
            data = decoder.decode(line)
        except json.JSONDecodeError as error:
            return f"invalid JSON on line {number + error.lineno - 1}: {error.msg}"
        except RecursionError:
            return f"JSON nested too deeply on line {number} (the parser's limit)"
        if suffix == ".jsonl":
            if not isinstance(data, dict):
                return f"line {number} is not a JSON object (a .jsonl file holds one per line)"
            records.append(data)
            continue
        if not isinstance(data, list):
            return "a .json data file holds a list of records ([{column: value, ...}, ...])"
        item = next((n for n, r in enumerate(data, start=1) if not isinstance(r, dict)), None)
        if item is not None:
            return (
                f"item {item} of the list is {_json_type(text, item)}, not a record "
                "(a .json data file holds a list of records: [{column: value, ...}, ...])"
            )
        records = data
    return records


def _json_type(text: str, item: int) -> str:
    """The type Python gives item ``item`` (1-based) of the JSON list ``text``, read plainly
    (the records read numbers as their text: ``"12"`` and ``12`` look alike there)."""
    try:
        value = json.loads(text)[item - 1]
    except (ValueError, RecursionError):
        return "not a record"
    return type(value).__name__


def _extra_fields(text: str, separator: str) -> str:
    import csv
    import io

    header: list[str] = []
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        header = next(rows, [])
        for row in rows:
            if len(row) > len(header):
                return (
                    f"line {rows.line_num} has {len(row)} fields but the header has "
                    f"{len(header)} ({', '.join(header)}); quote values that hold "
                    f"{separator!r}"
                )
    except csv.Error as exc:  # a field over csv's limit (128 KB)
        return f"line {rows.line_num}: {exc}, and rows have more fields than the header"
    return f"rows have more fields than the header ({', '.join(header)})"


def feature_columns(features: str | Mapping[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """Normalise a features declaration to (token column, categorical columns).

    ``"problems"`` is a token column; ``{"tokens": "problems", "categorical": ["sex"]}`` names both.
    """
    if isinstance(features, str):
        return features, ()
    if isinstance(features, Mapping):
        unknown = set(features) - {"tokens", "categorical"}
        if unknown:
            raise DataError(
                f"unknown key {quoted(sorted(unknown)[0])}: "
                "features take 'tokens' and 'categorical'",
                key="features",
            )
        tokens = features.get("tokens")
        categorical = features.get("categorical") or ()
        if isinstance(categorical, str):
            categorical = (categorical,)
        if tokens is not None and not isinstance(tokens, str):
            raise DataError("'tokens' names one column", key="features.tokens")
        if not all(isinstance(c, str) for c in categorical):
            raise DataError("'categorical' is a list of column names", key="features.categorical")
        if not tokens and not categorical:
            raise DataError("name a token column or categorical columns", key="features")
        return tokens, tuple(categorical)
    raise DataError(
        "features is a token column name or a mapping with 'tokens' and/or 'categorical'",
        key="features",
    )


@dataclass(frozen=True)
class LabelledData:
    """Training data, encoded: what the classifier is fitted on, and what it needs to report."""

    x: np.ndarray | MultiHot  # (rows, features) float32 multi-hot, or its positions
    y: np.ndarray  # (rows,) int32 class indices into ``classes``
    space: FeatureSpace
    classes: tuple[str, ...]  # sorted unique label names


#: The texts pandas reads as missing (its default na_values): a label cell holding one is
#: refused, since an R or pandas export writes them for a missing label (other cells keep them
#: as values, a category may be named "None").
MISSING_TEXT = frozenset({
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})  # fmt: skip


def class_indices(labels: Sequence[Any]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer labels from the sorted unique class names (names compared as strings)."""
    names = [feature_name(v) for v in labels]
    missing = [
        row
        for row, (value, name) in enumerate(zip(labels, names, strict=True), start=1)
        if _is_missing(value) or name == "" or name.lower() == "nan"
    ]
    if missing:
        raise DataError(
            f"the label column has missing values ({len(missing)} of "
            f"{plural(len(names), 'row')}; the first is data row {missing[0]})",
            key="label",
        )
    written_missing = [n for n in names if n in MISSING_TEXT]
    if written_missing:
        first = written_missing[0]
        count = sum(n == first for n in names)
        raise DataError(
            f"the label column holds {quoted(first)} in {plural(count, 'row', grouped=True)}, "
            "which pandas and R write for a missing value: relabel those rows or drop them",
            key="label",
        )
    classes = tuple(sorted(set(names)))
    lookup = {c: i for i, c in enumerate(classes)}
    return np.array([lookup[n] for n in names], dtype=np.int32), classes


def prepare(
    frame: pd.DataFrame,
    features: str | Mapping[str, Any],
    label: str,
    space: FeatureSpace | None = None,
    sparse: bool = False,
) -> LabelledData:
    """Encode a frame for training; the space is built from the data unless one is given.
    ``sparse``: ``x`` is a ``features.MultiHot`` (each row's positions), not a dense matrix."""
    tokens, categorical = feature_columns(features)
    if label not in frame.columns:
        from .errors import did_you_mean

        raise DataError(
            f"no label column {quoted(label)}"
            f"{did_you_mean(label, [str(c) for c in frame.columns])}",
            key="label",
        )
    if len(frame) == 0:
        raise DataError("the data has no rows")
    if space is None:
        space = FeatureSpace.from_frame(frame, tokens=tokens, categorical=categorical)
    y, classes = class_indices(list(frame[label]))
    if len(classes) < 2:
        raise DataError(f"the label column has one class only ({quoted(classes[0])})", key="label")
    x = space.encode_sparse(frame) if sparse else space.encode(frame)
    return LabelledData(x=x, y=y, space=space, classes=classes)
