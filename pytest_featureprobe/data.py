"""Reading training data and turning it into (multi-hot matrix, integer labels, space, classes).

``read_table`` reads CSV, JSON and JSON lines with one-line errors that name the line;
``prepare`` encodes a frame for training. Imports errors and the feature space.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError, display_path, not_utf8, quoted
from .features import FeatureSpace, _is_missing, feature_name
from .files import unreadable

if TYPE_CHECKING:
    import pandas as pd

READERS = {".csv": ",", ".tsv": "\t"}


def read_table(path: str | Path) -> pd.DataFrame:
    """A data file as a DataFrame: CSV, TSV, JSON lines (``.jsonl``) or JSON records.

    A file that cannot be read is a DataError naming it (relative to the working directory) and
    saying what is wrong, with the line of the file where that is known. It carries no location of
    its own, so that the caller places it at the key that names the file (``model.train.data``,
    ``expect[3].on``).
    """
    import pandas as pd

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
    try:
        with path.open("rb") as stream:
            head = stream.read(8192)
    except OSError as exc:  # permission denied, an I/O error
        raise DataError(f"cannot read {shown}: {(exc.strerror or str(exc)).lower()}") from None
    if b"\0" in head:  # pandas would read some binary files as text
        line = head.count(b"\n", 0, head.index(b"\0")) + 1
        raise DataError(f"cannot read {shown}: binary, not text (a NUL byte on line {line})")
    try:
        if suffix in READERS:
            frame = pd.read_csv(path, sep=READERS[suffix], dtype=str, keep_default_na=True)
            if not isinstance(frame.index, pd.RangeIndex):
                # pandas makes the leading fields an index when rows have more fields than the
                # header: every column would then be shifted.
                raise DataError(f"cannot read {shown}: {_extra_fields(path, READERS[suffix])}")
            return frame
        problem = _json_problem(path, suffix)  # pandas takes a list with non-records in it
        if problem is not None:
            raise DataError(f"cannot read {shown}: {problem}")
        if suffix == ".jsonl":
            return pd.read_json(path, lines=True)
        return pd.read_json(path, orient="records")
    except (ValueError, TypeError, pd.errors.ParserError, OSError) as exc:
        raise DataError(f"cannot read {shown}: {_unreadable(path, suffix, exc)}") from None


def _unreadable(path: Path, suffix: str, exc: Exception) -> str:
    """Why a data file cannot be read, with the line of the file where that is known."""
    if isinstance(exc, OSError):
        return (exc.strerror or str(exc)).lower()
    problem = _json_problem(path, suffix) if suffix in (".json", ".jsonl") else None
    if problem is None:
        problem = _text_problem(path.read_bytes())
    if problem is not None:
        return problem
    message = str(exc).strip().splitlines()
    return message[0] if message else type(exc).__name__


def _text_problem(raw: bytes) -> str | None:
    if not raw.strip():
        return "the file is empty"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return not_utf8(raw, bad)[0]
    return None


def _json_problem(path: Path, suffix: str) -> str | None:
    """Why a JSON data file does not hold records (None when it does): not text, invalid JSON
    (with its line), nested too deep for the parser, or an item that is not a record."""
    raw = path.read_bytes()
    problem = _text_problem(raw)
    if problem is not None:
        return problem
    text = raw.decode("utf-8")
    lines = [(1, text)] if suffix == ".json" else enumerate(text.splitlines(), start=1)
    for number, line in lines:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            return f"invalid JSON on line {number + error.lineno - 1}: {error.msg}"
        except RecursionError:
            return f"JSON nested too deeply on line {number} (the parser's limit)"
        if suffix == ".jsonl" and not isinstance(data, dict):
            return f"line {number} is not a JSON object (a .jsonl file holds one per line)"
        if suffix == ".json" and not isinstance(data, list):
            return "a .json data file holds a list of records ([{column: value, ...}, ...])"
        if suffix == ".json":
            item = next((n for n, r in enumerate(data, start=1) if not isinstance(r, dict)), None)
            if item is not None:
                return (
                    f"item {item} of the list is {type(data[item - 1]).__name__}, not a record "
                    "(a .json data file holds a list of records: [{column: value, ...}, ...])"
                )
    return None


def _extra_fields(path: Path, separator: str) -> str:
    import csv

    header: list[str] = []
    with path.open(newline="", encoding="utf-8") as stream:
        rows = csv.reader(stream, delimiter=separator)
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

    x: np.ndarray  # (rows, features) float32 multi-hot
    y: np.ndarray  # (rows,) int32 class indices into ``classes``
    space: FeatureSpace
    classes: tuple[str, ...]  # sorted unique label names


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
            f"the label column has missing values ({len(missing)} of {len(names)} rows; the "
            f"first is data row {missing[0]})",
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
) -> LabelledData:
    """Encode a frame for training; the space is built from the data unless one is given."""
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
    return LabelledData(x=space.encode(frame), y=y, space=space, classes=classes)
