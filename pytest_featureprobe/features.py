"""The feature space: the ordered vocabulary that maps features to input positions and back.

Features are position-free: a row's token list ``[1, 2, 3]`` and ``[3, 2, 1]`` encode to the same
multi-hot vector (one-hot per token, then the maximum over positions). Categorical columns add one
feature per value, named ``column=value``.

Order (stable, documented in README): token features first in natural order (numbers numerically,
then other names alphabetically), then each categorical column in the order given, its values in the
same natural order. Missing values (NaN, None, empty cells) activate no feature. Imports errors.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError, did_you_mean, plural, preview, quoted
from .multihot import MultiHot
from .text_checks import surrogate_problem

if TYPE_CHECKING:
    import pandas as pd

FORMAT_VERSION = 1
#: One token of a cell: a quoted one keeps its spaces ('new york'), a bare one ends at a
#: separator. A quote counts only at a token's start and end (don't stays one token).
_TOKEN = re.compile(r"""(?<![^,\s;])(?:'([^']*)'|"([^"]*)")(?![^,\s;])|([^,\s;]+)""")


def feature_name(value: Any) -> str:
    """The canonical name of a token or category value: ``4``, ``4.0`` and ``"4"`` give ``"4"``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value).strip()


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return True
    if isinstance(value, str):
        return value.strip() == ""
    # pandas' NA and NaT (nullable and datetime dtypes), recognised without importing pandas.
    return type(value).__name__ in ("NAType", "NaTType")


#: Types whose equal values always have the same name (``Decimal("1.0")`` and
#: ``Decimal("1.00")`` are equal but print differently: they are named every time).
_PLAIN_SCALARS = (str, int, float, bool, np.integer, np.floating, np.bool_)


def _named_once(name: Callable[[Any], str]) -> Callable[[Any], str]:
    """``name`` with a memo of the plain scalar values seen: a column's values repeat, so each
    distinct one is named once. Keyed by type as well (``1``, ``1.0`` and ``True`` are one dict
    key but two names); any other value is named every time."""
    memo: dict[tuple[type, Any], str] = {}

    def named(value: Any) -> str:
        if not isinstance(value, _PLAIN_SCALARS):
            return name(value)
        key = (type(value), value)
        result = memo.get(key)
        if result is None:
            memo[key] = result = name(value)
        return result

    return named


def parse_tokens(cell: Any) -> list[str]:
    """The token names in one cell: a list, ``"1 2 3"``, ``"[1, 2, 3]"`` or a single value."""
    if isinstance(cell, (list, tuple, set, frozenset, np.ndarray)):
        return [feature_name(v) for v in cell if not _is_missing(v)]
    if _is_missing(cell):
        return []
    if isinstance(cell, str):
        text = cell.strip()
        if text.startswith(("[", "(", "{")) and text.endswith(("]", ")", "}")):
            text = text[1:-1]
        parts = (one or two or bare.strip("'\"") for one, two, bare in _TOKEN.findall(text))
        return [feature_name(p) for p in parts if p]
    return [feature_name(cell)]


def natural_key(name: str) -> tuple[int, float, str]:
    """Sort key: numeric names by value first, then the others alphabetically."""
    try:
        number = float(name)
    except ValueError:
        return (1, 0.0, name)
    if math.isnan(number):
        return (1, 0.0, name)
    return (0, number, name)


@dataclass(frozen=True)
class FeatureSpace:
    """Ordered feature names and the columns they are read from.

    ``token_column`` holds token lists (bag of tokens); each of ``categorical`` holds one value per
    row, encoded as the feature ``column=value``. A space made from bare names has neither and can
    only encode explicit feature sets.
    """

    features: tuple[str, ...]
    token_column: str | None = None
    categorical: tuple[str, ...] = ()
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        features = tuple(feature_name(f) for f in self.features)
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "categorical", tuple(self.categorical))
        index: dict[str, int] = {}
        for position, name in enumerate(features):
            if name in index:
                raise DataError(f"feature {quoted(name)} appears twice in the feature space")
            if name == "zero" or "+" in name:
                raise DataError(
                    f"feature {quoted(name)} cannot be probed by name: 'zero' names the empty "
                    "probe and '+' joins the features of a probe; rename it in the data (e.g. "
                    "'c++' -> 'cpp')"
                )
            index[name] = position
        if not features:
            raise DataError("the feature space is empty: no tokens or categorical values found")
        object.__setattr__(self, "_index", index)

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def from_names(cls, names: Iterable[Any]) -> FeatureSpace:
        """A space over the given names, in the given order."""
        return cls(tuple(feature_name(n) for n in names))

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        tokens: str | None = None,
        categorical: Sequence[str] = (),
    ) -> FeatureSpace:
        """The space of every token in ``tokens`` and every value of the ``categorical`` columns."""
        categorical = tuple(categorical)
        for column in ([tokens] if tokens else []) + list(categorical):
            _require_column(frame, column)
        if not tokens and not categorical:
            raise DataError("name a token column or at least one categorical column")
        names: list[str] = []
        if tokens:
            seen = {t for cell in frame[tokens] for t in parse_tokens(cell)}
            names.extend(sorted(seen, key=natural_key))
        for column in categorical:
            named = _named_once(feature_name)
            values = {named(v) for v in frame[column] if not _is_missing(v)}
            names.extend(f"{column}={v}" for v in sorted(values, key=natural_key))
        return cls(tuple(names), token_column=tokens, categorical=categorical)

    # --- lookups ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.features)

    def __iter__(self):
        return iter(self.features)

    def __contains__(self, name: object) -> bool:
        return feature_name(name) in self._index

    def index(self, name: Any) -> int:
        """The input position of a feature; a DataError with a did-you-mean when unknown."""
        key = feature_name(name)
        try:
            return self._index[key]
        except KeyError:
            raise DataError(
                f"unknown feature {quoted(key)}{did_you_mean(key, self.features)}; "
                f"the feature space has {plural(len(self), 'feature')}: {preview(self.features)}"
            ) from None

    def indices(self, names: Iterable[Any]) -> list[int]:
        """Input positions of several features, sorted and without repeats."""
        return sorted({self.index(n) for n in names})

    def column_positions(self, name: Any) -> list[int]:
        """Positions of the features read from the same categorical column as ``name``.

        A row holds one value of a categorical column, so setting ``sex=female`` must clear
        ``sex=male``. Token features (and names from a bare list) stand alone: ``[position]``.
        """
        key = feature_name(name)
        position = self.index(key)
        prefix = key.split("=", 1)[0] + "="  # the column's values start with it (names stripped)
        if "=" not in key or prefix not in {feature_name(f"{c}=") for c in self.categorical}:
            return [position]
        return [i for i, f in enumerate(self.features) if f.startswith(prefix)]

    def names(self, positions: Iterable[int]) -> tuple[str, ...]:
        """Feature names of input positions (the decoding direction)."""
        return tuple(self.features[int(p)] for p in positions)

    # --- encoding -----------------------------------------------------------------------------

    def encode_sets(self, feature_sets: Iterable[Iterable[Any]]) -> np.ndarray:
        """Multi-hot rows (float32) for explicit sets of feature names."""
        sets = [self.indices(s) for s in feature_sets]
        return _multi_hot(sets, len(self))

    def row_features(self, frame: pd.DataFrame, unknown: str = "error") -> list[list[int]]:
        """The active positions of each row of ``frame``; ``unknown='ignore'`` skips unseen ones."""
        if unknown not in ("error", "ignore"):
            raise ValueError("unknown must be 'error' or 'ignore'")
        if self.token_column is None and not self.categorical:
            raise DataError("this feature space was made from names and does not know its columns")
        columns = ([self.token_column] if self.token_column else []) + list(self.categorical)
        for column in columns:
            _require_column(frame, column)
        rows: list[list[int]] = [[] for _ in range(len(frame))]
        for column in columns:
            is_tokens = column == self.token_column
            named = _named_once(lambda cell, c=column: feature_name(f"{c}={feature_name(cell)}"))
            for row, cell in enumerate(frame[column]):
                if is_tokens:
                    names = parse_tokens(cell)
                elif _is_missing(cell):
                    continue
                else:
                    names = [named(cell)]  # as from_frame
                for name in names:
                    position = self._index.get(name)
                    if position is not None:
                        rows[row].append(position)
                    elif unknown == "error":
                        raise DataError(
                            f"row {row + 1}: {quoted(column)} has {quoted(name)}, which is not "
                            f"in the feature space{did_you_mean(name, self.features)}",
                            key=column,
                        )
        return rows

    def encode(self, frame: pd.DataFrame, unknown: str = "error") -> np.ndarray:
        """The position-free multi-hot matrix (float32, rows x features) of a data frame."""
        return _multi_hot(self.row_features(frame, unknown=unknown), len(self))

    def encode_sparse(self, frame: pd.DataFrame, unknown: str = "error") -> MultiHot:
        """The same rows as ``encode``, kept as each row's positions (``MultiHot``): memory
        grows with the features rows have, not with rows x features."""
        return MultiHot.from_positions(self.row_features(frame, unknown=unknown), len(self))

    # --- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "features": list(self.features),
            "token_column": self.token_column,
            "categorical": list(self.categorical),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpace:
        if not isinstance(data, dict) or not isinstance(data.get("features"), list):
            raise DataError("a feature space needs a 'features' list")
        if data.get("format", FORMAT_VERSION) != FORMAT_VERSION:
            raise DataError(f"unsupported feature space format {quoted(data.get('format'))}")
        token_column, categorical = data.get("token_column"), data.get("categorical") or []
        if not (token_column is None or _column_name(token_column)):
            raise DataError("must be a column name or null", key="token_column")
        if not isinstance(categorical, list) or not all(_column_name(c) for c in categorical):
            raise DataError("must be a list of column names", key="categorical")
        return cls(
            tuple(data["features"]), token_column=token_column, categorical=tuple(categorical)
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> FeatureSpace:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"feature space is not valid JSON: {exc.msg} (line {exc.lineno})"
            ) from None
        except (ValueError, RecursionError) as exc:  # an integer too long, nesting too deep
            reason = str(exc).split(":")[0]
            raise DataError(f"feature space is not valid JSON: {reason}") from None
        lone = surrogate_problem(text)
        if lone is not None:  # json reads it; no file, cache key or report could write it
            raise DataError(lone[1])
        return cls.from_dict(data)


def _column_name(value: Any) -> bool:
    """A data frame column name as JSON keeps it: a string or an integer."""
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _multi_hot(position_sets: Sequence[Sequence[int]], width: int) -> np.ndarray:
    matrix = np.zeros((len(position_sets), width), dtype=np.float32)
    rows = [r for r, positions in enumerate(position_sets) for _ in positions]
    cols = [p for positions in position_sets for p in positions]
    matrix[rows, cols] = 1.0
    return matrix


def _require_column(frame: pd.DataFrame, column: str) -> None:
    if column not in frame.columns:
        columns = [str(c) for c in frame.columns]
        raise DataError(
            f"no column {quoted(column)} in the data{did_you_mean(column, columns)}; "
            f"columns are {preview(columns)}",
            key=column,
        )
