"""Contexts: the inputs a probe is applied to (``Context``), and how a probe applies to a row.

The zero vector is the seed method's context, a real input only for token features. In the context
of real rows (training rows, a data file, a slice, a sample, reference rows) a probe is applied to
each row: a token feature is switched on, a categorical ``col=value`` replaces the row's value of
that column, so no column is ever left empty or holds two values, and a probe with two values of
one column is refused. A row that already has all of the probe's features is unchanged by it.
The sweep in a context is ``context_sweep``'s; the per-row reading of one probe
(``rows_with_probe``) is the checks'. Imports errors, the feature space and probes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError, SpecError, plural, preview, quoted
from .features import FeatureSpace, feature_name
from .multihot import MultiHot, concat_ranges
from .probes import probe_name

if TYPE_CHECKING:
    from .models.in_context import RowsInContext
    from .models.probe_model import ProbeModel

ZERO_CONTEXT = "zero"


@dataclass(frozen=True)
class Context:
    """The rows probes are applied to (None: the zero vector), what they are, and how made.

    Rows are kept sparse (``MultiHot``: each row's positions), whatever the vocabulary; dense
    rows given are converted. Only bounded blocks are made dense, where a model is called."""

    name: str  # as a report names it: "zero", "training rows", "rows of holdout.csv", ...
    rows: MultiHot | None = None  # (rows, features) multi-hot, as positions
    definition: dict[str, Any] = field(default_factory=dict)  # kind, file, sample, seed, where

    def __post_init__(self) -> None:
        if self.rows is not None and not isinstance(self.rows, MultiHot):
            object.__setattr__(self, "rows", MultiHot.from_dense(self.rows))

    @classmethod
    def zero(cls) -> Context:
        return cls(ZERO_CONTEXT, None, {"kind": ZERO_CONTEXT})

    @classmethod
    def of_rows(cls, name: str, rows: Any, definition: Mapping[str, Any]) -> Context:
        """Real rows (``MultiHot``, or a dense 0/1 matrix) as a context; it needs a row."""
        if not isinstance(rows, MultiHot):
            rows = np.asarray(rows, dtype=np.float32)
            if rows.ndim == 2 and not np.isin(rows, (0.0, 1.0)).all():
                raise DataError(
                    f"the context ({name}) is not multi-hot: its rows hold values other than 0 "
                    "and 1"
                )
            rows = MultiHot.from_dense(rows) if rows.ndim == 2 else None
        if rows is None or len(rows) == 0:
            raise DataError(f"the context ({name}) has no rows")
        return cls(name, rows, dict(definition))

    @property
    def is_zero(self) -> bool:
        return self.rows is None

    def digest(self) -> str:
        """A short hash of the rows, whatever their order (a baseline records it to tell
        contexts apart): of each distinct row (its dense float32 bytes, hashed a block at a
        time) and its count, as the sweep reads them. Computed once per context."""
        if self.rows is None:
            return ZERO_CONTEXT
        known = self.__dict__.get("_digest")
        if known is None:
            distinct, counts = distinct_rows(self.rows)
            digest = hashlib.sha256()
            for block in distinct.blocks():
                digest.update(block)  # C-contiguous: its bytes, not a copy
            digest.update(counts.astype("<i8").tobytes())
            known = self.__dict__["_digest"] = digest.hexdigest()[:16]
        return known

    def where(self, space: FeatureSpace, values: Mapping[str, Any]) -> Context:
        """The slice of rows that have every ``column: value`` (or token: true) of ``values``."""
        rows = self._real("where")
        keep = np.ones(len(rows), dtype=bool)
        for column, value in values.items():
            keep &= rows.holding(_slice_position(space, column, value))
        if not keep.any():
            shown = ", ".join(f"{c}={v}" for c, v in values.items())
            raise DataError(f"no row in the context ({self.name}) has {shown}", key="where")
        shown = ", ".join(f"{c}={feature_name(v)}" for c, v in values.items())
        definition = {**self.definition, "where": {str(c): v for c, v in values.items()}}
        return Context(f"{self.name} where {shown}", rows.take(keep), definition)

    def sample(self, n: int, seed: int = 0) -> Context:
        """``n`` of the rows, drawn without replacement with ``seed``, kept in their order."""
        rows = self._real("sample")
        if not 1 <= n <= len(rows):
            raise DataError(
                f"sample {n} is more than the {plural(len(rows), 'row')} in the context "
                f"({self.name})"
                if n > len(rows)
                else "sample is a positive number of rows",
                key="sample",
            )
        chosen = np.sort(np.random.default_rng(seed).choice(len(rows), size=n, replace=False))
        definition = {**self.definition, "sample": n, "seed": seed}
        return Context(f"{n} sampled of {self.name}", rows.take(chosen), definition)

    def _real(self, what: str) -> MultiHot:
        if self.rows is None:
            raise SpecError(f"{what} narrows real rows; the zero context has none", key=what)
        return self.rows


def _slice_position(space: FeatureSpace, column: str, value: Any) -> int:
    """The feature a ``where`` entry names: ``column=value`` of a categorical column, or a
    token given as ``token: true``."""
    if value is True and column in space:
        return space.index(column)
    if str(column) not in space.categorical:
        known = ", ".join(quoted(c) for c in space.categorical) or "none"
        raise DataError(
            f"unknown column {quoted(column)} (categorical columns: {known})", key="where"
        )
    try:
        return space.index(f"{column}={feature_name(value)}")
    except DataError as exc:
        raise DataError(exc.message, key="where") from None


def reference_rows(space: FeatureSpace, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Explicit rows (``{island: Dream, sex: male, ...}``) encoded in the space; a value the
    space does not know is refused with its row."""
    import pandas as pd

    columns = [*([space.token_column] if space.token_column else []), *space.categorical]
    for number, record in enumerate(records, 1):
        for column, value in record.items():
            if column not in columns:
                known = ", ".join(quoted(c) for c in columns) or "none"
                raise DataError(
                    f"reference row {number}: unknown column {quoted(column)} (columns: {known})",
                    key="reference",
                )
            if isinstance(value, (list, tuple)) and column != space.token_column:
                raise DataError(
                    f"reference row {number}: {quoted(column)} holds one value, not a list",
                    key="reference",
                )
        missing = [c for c in space.categorical if c not in record]
        if missing:  # a real row holds one value of each column
            raise DataError(
                f"reference row {number}: give {quoted(missing[0])} a value (a real row has "
                "one value of each column)",
                key="reference",
            )
    frame = pd.DataFrame([dict(r) for r in records])
    try:
        return space.encode(frame)
    except DataError as exc:
        raise DataError(f"reference {exc.message}", key="reference") from None


def mode_row(space: FeatureSpace, rows: Any) -> np.ndarray:
    """One row: the most common value of each categorical column, and the tokens that most of the
    rows (``MultiHot`` or dense) hold (ties go to the first value in feature-space order)."""
    if isinstance(rows, MultiHot):
        counts = rows.counts()
    else:
        counts = np.asarray(rows, dtype=np.float64).sum(axis=0)
    row = np.zeros((1, len(space)), dtype=np.float32)
    columns = column_ids(space)
    for column in set(columns.tolist()) - {-1}:
        positions = np.flatnonzero(columns == column)
        row[0, positions[int(np.argmax(counts[positions]))]] = 1.0
    tokens = np.flatnonzero(columns == -1)
    row[0, tokens[counts[tokens] * 2 > len(rows)]] = 1.0
    return row


def column_ids(space: FeatureSpace) -> np.ndarray:
    """Per feature position, the index of its categorical column, or -1 for a token feature."""
    ids = np.full(len(space), -1, dtype=np.int64)
    for number, column in enumerate(space.categorical):
        prefix = feature_name(f"{column}=")
        for position, name in enumerate(space.features):
            if name.startswith(prefix):
                ids[position] = number
    return ids


def check_probe(
    space: FeatureSpace, features: Iterable[Any], ids: np.ndarray | None = None
) -> None:
    """Refuse a probe with two values of one column: a row holds one value of each column, so
    such a probe has no meaning in context."""
    ids = column_ids(space) if ids is None else ids
    seen: dict[int, str] = {}
    for name in dict.fromkeys(feature_name(f) for f in features):  # a repeat is one value
        column = int(ids[space.index(name)])
        if column >= 0 and column in seen:
            raise SpecError(
                f"the probe {quoted(probe_name([seen[column], feature_name(name)]))} sets two "
                f"values of the column {quoted(space.categorical[column])}: a row holds one "
                "value of each column, so it has no meaning in context",
                key="probe",
            )
        seen[column] = feature_name(name)


def applied(rows: np.ndarray, active: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Each probe of ``active`` (probes x order positions) applied to every row: (probes, rows,
    features). A categorical value first clears its column, so the row keeps one value."""
    out = np.broadcast_to(rows, (len(active), *rows.shape)).copy()
    for j, probe in enumerate(active):
        for position in probe:
            column = columns[position]
            if column >= 0:
                out[j][:, columns == column] = 0.0
            out[j][:, position] = 1.0
    return out


def distinct_rows(rows: Any) -> tuple[Any, np.ndarray]:
    """The distinct rows (in a fixed order: sorted by their dense bytes) and how often each
    occurs; ``MultiHot`` rows stay sparse, dense ones dense. Categorical data repeats rows a lot;
    every mean is the same weighted by the counts."""
    if isinstance(rows, MultiHot):
        return rows.distinct()
    keys = np.ascontiguousarray(rows).view(np.dtype((np.void, rows.shape[1] * rows.itemsize)))
    _, first, counts = np.unique(keys.ravel(), return_index=True, return_counts=True)
    return rows[first], counts.astype(np.float64)


def applied_block(
    rows: MultiHot, active: np.ndarray, columns: np.ndarray, start: int, stop: int
) -> np.ndarray:
    """Dense float32 rows ``start:stop`` of ``applied(rows, active, columns)`` flattened
    (probe-major: application k is probe ``k // len(rows)`` on row ``k % len(rows)``), made
    from the rows' positions: only this block is ever dense."""
    probe, row = np.divmod(np.arange(start, stop, dtype=np.int64), len(rows))
    lengths = rows.lengths[row]
    positions = rows.indices[concat_ranges(rows.indptr[row], lengths)]
    which = np.repeat(np.arange(len(row)), lengths)
    keep = np.ones(len(positions), dtype=bool)
    for column in active[probe].T:  # a categorical value clears its column first
        target = columns[column][which]
        keep &= ~((target >= 0) & (columns[positions] == target))
    block = np.zeros((len(row), rows.width), dtype=np.float32)
    block[which[keep], positions[keep]] = 1.0
    for column in active[probe].T:
        block[np.arange(len(row)), column] = 1.0
    return block


def fast_rows(model: ProbeModel, rows: MultiHot, columns: np.ndarray) -> RowsInContext | None:
    """The Dense shortcut made ready on ``rows`` (``models.in_context.RowsInContext``), or None
    when the model has none."""
    shortcut = getattr(model, "shortcut", None)
    if shortcut is None:
        return None
    from .models.in_context import RowsInContext

    return RowsInContext(shortcut, rows, columns)


def probabilities_applied(
    model: ProbeModel,
    rows: MultiHot,
    active: np.ndarray,
    columns: np.ndarray,
    fast: RowsInContext | None = None,
) -> np.ndarray:
    """(probes, rows, classes) probabilities of each probe of ``active`` applied to every row:
    through the Dense shortcut when given (each row's first layer computed once), else the plain
    pass on the applied rows, made dense in blocks of at most ``multihot.BLOCK_BYTES``."""
    total = len(active) * len(rows)
    if fast is not None:
        probs = model.checked(fast.outputs(active), total)
    else:
        step = rows.block_rows()
        parts = [
            model.predict_proba(applied_block(rows, active, columns, at, min(at + step, total)))
            for at in range(0, total, step)
        ]
        probs = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return probs.reshape(len(active), len(rows), -1)


def predict_rows(model: ProbeModel, rows: Any) -> np.ndarray:
    """The model's probabilities of ``rows`` (``MultiHot``: dense a bounded block at a time)."""
    if not isinstance(rows, MultiHot):
        return model.predict_proba(rows)
    none = np.zeros((1, 0), dtype=np.intp)
    return probabilities_applied(model, rows, none, column_ids(model.space))[0]


def rows_with_probe(
    model: ProbeModel, context: Context, features: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per context row (the zero vector: one row): its probabilities as it is and with the probe
    applied, and whether it already had all of the probe's features. For checks read row by row
    and for the worst rows a failure lists. Through the Dense shortcut when the model has one
    (as the sweep in the context), else the plain pass in bounded blocks."""
    space = model.space
    columns = column_ids(space)
    check_probe(space, features, columns)
    rows = context.rows
    if rows is None:
        rows = MultiHot(np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int32), len(space))
    active = np.array([sorted({space.index(f) for f in features})], dtype=np.intp)
    fast = fast_rows(model, rows, columns)
    base = probabilities_applied(model, rows, np.zeros((1, 0), np.intp), columns, fast)[0]
    probed = probabilities_applied(model, rows, active, columns, fast)[0] if active.size else base
    return base, probed, rows.holds_all(active)[0]


def row_text(space: FeatureSpace, positions: np.ndarray, width: int = 100) -> str:
    """A row by its feature values (``island=Dream, sex=male, ...``), from its positions (a
    ``MultiHot`` row), cut to about ``width``."""
    names = space.names(positions)
    return preview(names, limit=len(names) or 1, width=width) if names else "(no feature)"
