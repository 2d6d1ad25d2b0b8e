"""Contexts: the inputs a probe is applied to, and the sweep read as means over real rows.

The zero vector is the seed method's context, a real input only for token features. In the context
of real rows (training rows, a data file, a slice, a sample, reference rows) a probe is applied to
each row: a token feature is switched on, a categorical ``col=value`` replaces the row's value of
that column, so no column is ever left empty or holds two values. A row that already has all of
the probe's features is unchanged by it: it counts, with an effect of 0 (the table's ``unchanged``
column says how many). The in-context table keeps the sweep's columns, read as means over rows:

- ``P(c)``: the mean probability of c with the probe applied; ``predicted``, ``margin`` of it
- ``dP(c)``: the mean change against each row's own prediction (the probe's attribution to c)
- ``sd_dP(c)``: the spread (standard deviation) of that change over rows
- ``share(c)``: the share of rows whose predicted class is c with the probe applied
- ``interaction(c)``: for pairs, the mean of ``P(r+ij) - P(r+i) - P(r+j) + P(r)``
- ``rows``, ``unchanged``: the rows used, and those that already had the probe

Probes run in chunks of about ``chunk_size`` rows x probes, over blocks of ``row_block`` rows
whose sums are added, so memory is bounded whatever the number of probes and rows. Imports
errors, the feature space, probes and the sweep.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError, SpecError, preview, quoted
from .features import FeatureSpace, feature_name
from .probes import explicit_probes, probe_name, standard_probes
from .sweep import DEFAULT_CHUNK_SIZE, Sweep, delta_column, interaction_column, prob_column

if TYPE_CHECKING:
    import pandas as pd

    from .models.dense import RowsInContext
    from .models.probe_model import ProbeModel

ZERO_CONTEXT = "zero"
ROW_BLOCK = 4096  # context rows swept at a time; their sums are added


def spread_column(cls: str) -> str:
    return f"sd_dP({cls})"


def share_column(cls: str) -> str:
    return f"share({cls})"


@dataclass(frozen=True)
class Context:
    """The rows probes are applied to (None: the zero vector), what they are, and how made."""

    name: str  # as a report names it: "zero", "training rows", "rows of holdout.csv", ...
    rows: np.ndarray | None = None  # (rows, features) float32 multi-hot
    definition: dict[str, Any] = field(default_factory=dict)  # kind, file, sample, seed, where

    @classmethod
    def zero(cls) -> Context:
        return cls(ZERO_CONTEXT, None, {"kind": ZERO_CONTEXT})

    @classmethod
    def of_rows(cls, name: str, rows: np.ndarray, definition: Mapping[str, Any]) -> Context:
        """Real rows as a context; a context needs at least one row."""
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if rows.ndim != 2 or len(rows) == 0:
            raise DataError(f"the context ({name}) has no rows")
        if not np.isin(rows, (0.0, 1.0)).all():
            raise DataError(
                f"the context ({name}) is not multi-hot: its rows hold values other than 0 and 1"
            )
        return cls(name, rows, dict(definition))

    @property
    def is_zero(self) -> bool:
        return self.rows is None

    def digest(self) -> str:
        """A short hash of the rows, whatever their order (a baseline records it to tell
        contexts apart): of each distinct row and its count, as the sweep reads them."""
        if self.rows is None:
            return ZERO_CONTEXT
        distinct, counts = distinct_rows(self.rows)
        digest = hashlib.sha256(distinct.tobytes())
        digest.update(counts.astype("<i8").tobytes())
        return digest.hexdigest()[:16]

    def where(self, space: FeatureSpace, values: Mapping[str, Any]) -> Context:
        """The slice of rows that have every ``column: value`` (or token: true) of ``values``."""
        rows = self._real("where")
        keep = np.ones(len(rows), dtype=bool)
        for column, value in values.items():
            keep &= rows[:, _slice_position(space, column, value)] > 0
        if not keep.any():
            shown = ", ".join(f"{c}={v}" for c, v in values.items())
            raise DataError(f"no row in the context ({self.name}) has {shown}", key="where")
        shown = ", ".join(f"{c}={feature_name(v)}" for c, v in values.items())
        definition = {**self.definition, "where": {str(c): v for c, v in values.items()}}
        return Context(f"{self.name} where {shown}", rows[keep], definition)

    def sample(self, n: int, seed: int = 0) -> Context:
        """``n`` of the rows, drawn without replacement with ``seed``, kept in their order."""
        rows = self._real("sample")
        if not 1 <= n <= len(rows):
            raise DataError(
                f"sample {n} is more than the {len(rows)} rows in the context ({self.name})"
                if n > len(rows)
                else "sample is a positive number of rows",
                key="sample",
            )
        chosen = np.sort(np.random.default_rng(seed).choice(len(rows), size=n, replace=False))
        definition = {**self.definition, "sample": n, "seed": seed}
        return Context(f"{n} sampled of {self.name}", rows[chosen], definition)

    def _real(self, what: str) -> np.ndarray:
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
    return space.index(f"{column}={feature_name(value)}")


def reference_rows(space: FeatureSpace, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Explicit rows (``{island: Dream, sex: male, ...}``) encoded in the space; a value the
    space does not know is refused with its row."""
    import pandas as pd

    frame = pd.DataFrame([dict(r) for r in records])
    try:
        return space.encode(frame)
    except DataError as exc:
        raise DataError(f"reference {exc.message}", key="reference") from None


def mode_row(space: FeatureSpace, rows: np.ndarray) -> np.ndarray:
    """One row: the most common value of each categorical column, and the tokens that most of the
    rows hold (ties go to the first value in feature-space order)."""
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


def run_context_sweep(
    model: ProbeModel,
    context: Context,
    order: int = 1,
    probes: Sequence[Iterable[Any]] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    row_block: int = ROW_BLOCK,
) -> Sweep:
    """The sweep in ``context``: the zero vector's (``run_sweep``), or means over its rows of
    every probe up to ``order`` plus explicit ``probes`` applied to each row. Rows are taken
    ``row_block`` at a time and their sums added, so memory is bounded whatever the rows."""
    from .sweep import run_sweep

    if context.is_zero:
        return run_sweep(model, order=order, probes=probes, chunk_size=chunk_size)
    space, rows = model.space, context.rows
    if rows.shape[1] != len(space):
        raise DataError(
            f"the context ({context.name}) has rows of width {rows.shape[1]}; the model reads "
            f"{len(space)} features"
        )
    columns = column_ids(space)
    for probe in probes:
        check_probe(space, probe, columns)
    groups = standard_probes(len(space), order)
    groups += [g for g in explicit_probes(space, probes) if g.order > order]
    distinct, weights = distinct_rows(rows)  # a repeated row is swept once and counted
    block = min(len(distinct), row_block)
    per_chunk = max(1, chunk_size // block)  # the same chunks in every block of rows
    totals: list[list[Any]] | None = None
    for start in range(0, len(distinct), block):
        part = slice(start, start + block)
        sums = _block_sums(model, distinct[part], weights[part], groups, columns, per_chunk)
        if totals is None:
            totals = sums
        else:
            for total, part in zip(totals, sums, strict=True):
                total[1:] = [t + p for t, p in zip(total[1:], part[1:], strict=True)]
    parts = [(active, *_means(len(rows), *sums)) for active, *sums in totals]
    return _context_table(model, context, order, parts)


def _probabilities(
    model: ProbeModel,
    rows: np.ndarray,
    active: np.ndarray,
    columns: np.ndarray,
    fast: RowsInContext | None,
) -> np.ndarray:
    """(probes, rows, classes) probabilities of each probe applied to every row: through the
    Dense shortcut when the model has one (each row's first layer computed once), else the plain
    pass on the applied rows."""
    if fast is not None:
        probs = model.checked(fast.outputs(active), len(active) * len(rows))
    else:
        probs = model.predict_proba(applied(rows, active, columns).reshape(-1, rows.shape[1]))
    return probs.reshape(len(active), len(rows), -1)


def _one_value_per_column(active: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Probes of the standard sweep whose features lie in distinct columns (tokens always)."""
    ids = columns[active]
    keep = np.ones(len(active), dtype=bool)
    for a in range(active.shape[1]):
        for b in range(a + 1, active.shape[1]):
            keep &= (ids[:, a] < 0) | (ids[:, a] != ids[:, b])
    return keep


def distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows (in a fixed order: sorted by their bytes) and how often each occurs.
    Categorical data repeats rows a lot; every mean is the same weighted by the counts."""
    keys = np.ascontiguousarray(rows).view(np.dtype((np.void, rows.shape[1] * rows.itemsize)))
    _, first, counts = np.unique(keys.ravel(), return_index=True, return_counts=True)
    return rows[first], counts.astype(np.float64)


def _block_sums(
    model: ProbeModel,
    rows: np.ndarray,
    weights: np.ndarray,
    groups: Sequence[Any],
    columns: np.ndarray,
    per_chunk: int,
) -> list[list[Any]]:
    """Per chunk of probes, over one block of rows: [active, sum of P, of the change, of its
    square, count of rows predicting each class, rows unchanged]."""
    fast = None
    shortcut = getattr(model, "shortcut", None)
    if shortcut is not None:
        from .models.dense import RowsInContext

        fast = RowsInContext(shortcut, rows, columns)
    # Each row's own prediction by the same path as the probes': the zero probe changes nothing.
    base = _probabilities(model, rows, np.zeros((1, 0), dtype=np.intp), columns, fast)[0]
    sums = []
    for group in groups:
        for active in group.chunks(per_chunk):
            if active.shape[1] > 1:
                active = active[_one_value_per_column(active, columns)]
            if len(active):
                probs = _probabilities(model, rows, active, columns, fast)
                sums.append([active, *_sums(rows, weights, base, active, probs)])
    return sums


def _sums(
    rows: np.ndarray, weights: np.ndarray, base: np.ndarray, active: np.ndarray, probs: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Per probe over these rows, each counted ``weights`` times: sums of P, of the change and
    its square, rows predicting each class, rows unchanged (already with the probe's features)."""
    unchanged = (rows[:, active] > 0).all(axis=2).T @ weights
    change = probs.astype(np.float64) - base[None]
    predicted = probs.argmax(axis=2)
    counts = np.stack([(predicted == c) @ weights for c in range(probs.shape[2])], axis=1)
    total = np.tensordot(probs.astype(np.float64), weights, axes=([1], [0]))
    moved = np.tensordot(change, weights, axes=([1], [0]))
    squares = np.tensordot(change**2, weights, axes=([1], [0]))
    return total, moved, squares, counts, unchanged


def _means(n: int, *sums: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per probe: mean P, mean and spread of the change, share predicted, rows unchanged."""
    probs, change, squares, counts, unchanged = sums
    mean = change / n
    spread = np.sqrt(np.maximum(squares / n - mean**2, 0.0))
    return probs / n, mean, spread, counts / n, np.rint(unchanged).astype(np.int64)


def _context_table(
    model: ProbeModel, context: Context, order: int, parts: list[tuple[np.ndarray, ...]]
) -> Sweep:
    """The in-context sweep table from the per-chunk means (first part: the zero probe)."""
    import pandas as pd

    space, classes = model.space, model.classes
    actives = [p[0] for p in parts]
    probs, deltas, spreads, shares = (np.concatenate([p[i] for p in parts]) for i in range(1, 5))
    unchanged = np.concatenate([p[5] for p in parts])
    names = [probe_name(space.names(a)) for active in actives for a in active]
    features = [space.names(a) for active in actives for a in active]
    mean_of = dict(zip(names, probs, strict=True))
    interactions = np.full(probs.shape, np.nan)
    for i, feature_set in enumerate(features):
        singles = [mean_of.get(f) for f in feature_set]
        if len(feature_set) == 2 and all(s is not None for s in singles):  # order 0: not swept
            interactions[i] = probs[i] - singles[0] - singles[1] + mean_of[probe_name(())]
    top2 = np.sort(probs, axis=1)[:, -2:]
    table = pd.DataFrame(index=pd.Index(names, name="probe"))
    table["order"] = [len(f) for f in features]
    table["features"] = features
    for j, cls in enumerate(classes):
        table[prob_column(cls)] = probs[:, j]
    table["predicted"] = np.asarray(classes, dtype=object)[probs.argmax(axis=1)]
    table["margin"] = top2[:, 1] - top2[:, 0]
    for kind, values in ((delta_column, deltas), (spread_column, spreads)):
        for j, cls in enumerate(classes):
            table[kind(cls)] = values[:, j]
    for kind, values in ((share_column, shares), (interaction_column, interactions)):
        for j, cls in enumerate(classes):
            table[kind(cls)] = values[:, j]
    table["rows"] = len(context.rows)
    table["unchanged"] = unchanged
    return Sweep(
        table=table,
        classes=classes,
        space=space,
        order=order,
        model_description=model.description,
        fingerprint=model.fingerprint,
        context=context.name,
        context_definition=dict(context.definition),
        context_digest=context.digest(),
    )


def rows_with_probe(
    model: ProbeModel, context: Context, features: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per context row (the zero vector: one row): its probabilities as it is and with the probe
    applied, and whether it already had all of the probe's features. For checks read row by row
    and for the worst rows a failure lists."""
    space = model.space
    columns = column_ids(space)
    check_probe(space, features, columns)
    rows = context.rows if context.rows is not None else np.zeros((1, len(space)), np.float32)
    active = np.array([sorted({space.index(f) for f in features})], dtype=np.intp)
    had = (rows[:, active[0]] > 0).all(axis=1)
    probed = applied(rows, active, columns)[0] if active.shape[1] else rows
    return model.predict_proba(rows), model.predict_proba(probed), had


def row_text(space: FeatureSpace, row: np.ndarray, width: int = 100) -> str:
    """A row by its feature values (``island=Dream, sex=male, ...``), cut to about ``width``."""
    names = space.names(np.flatnonzero(np.asarray(row) > 0))
    return preview(names, limit=len(names) or 1, width=width) if names else "(no feature)"


def frame_context(
    space: FeatureSpace, frame: pd.DataFrame, name: str, definition: Mapping[str, Any]
) -> Context:
    """A data frame's rows, encoded in the space, as a context."""
    return Context.of_rows(name, space.encode(frame), definition)
