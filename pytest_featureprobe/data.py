"""Reading training data and turning it into (multi-hot matrix, integer labels, space, classes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError
from .features import FeatureSpace, _is_missing, feature_name

if TYPE_CHECKING:
    import pandas as pd

READERS = {".csv": ",", ".tsv": "\t"}


def read_table(path: str | Path) -> pd.DataFrame:
    """A data file as a DataFrame: CSV, TSV, JSON lines (``.jsonl``) or JSON records."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in READERS:
            return pd.read_csv(path, sep=READERS[suffix], dtype=str, keep_default_na=True)
        if suffix == ".jsonl":
            return pd.read_json(path, lines=True)
        if suffix == ".json":
            return pd.read_json(path, orient="records")
    except (ValueError, pd.errors.ParserError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {path.name}: {first_line}", path=path) from None
    raise DataError(
        f"unsupported data file type {suffix!r} (use .csv, .tsv, .json or .jsonl)", path=path
    )


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
                f"unknown key {sorted(unknown)[0]!r}: features take 'tokens' and 'categorical'",
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
    if any(_is_missing(v) for v in labels) or any(n == "" or n.lower() == "nan" for n in names):
        raise DataError("the label column has missing values", key="label")
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
            f"no label column {label!r}{did_you_mean(label, [str(c) for c in frame.columns])}",
            key="label",
        )
    if len(frame) == 0:
        raise DataError("the data has no rows")
    if space is None:
        space = FeatureSpace.from_frame(frame, tokens=tokens, categorical=categorical)
    y, classes = class_indices(list(frame[label]))
    if len(classes) < 2:
        raise DataError(f"the label column has one class only ({classes[0]!r})", key="label")
    return LabelledData(x=space.encode(frame), y=y, space=space, classes=classes)
