"""The probe sweep: every probe of a model in batched forward passes, kept as a tidy table.

Columns of ``Sweep.table`` (index: probe name):

- ``order``: how many features are active; ``features``: their names (a tuple; the column's
  dtype is ``"feature sets"``, ``feature_sets.FeatureSets``, which makes the tuples when read)
- ``P(c)``: probability of class c; ``predicted``: top class; ``margin``: top-1 minus top-2
- ``dP(c)``: P(c) of the probe minus P(c) of the zero probe (the probe's attribution to c)
- ``interaction(c)``: for pairs, dP(c) of the pair minus the dP(c) of each of its two features;
  NaN on other rows

Imports probes and the feature space; a model is anything with ``predict_active``, ``space`` and
``classes`` (``models.ProbeModel``), so the sweep never imports the models.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError, quoted
from .features import FeatureSpace
from .probes import (
    SEPARATOR,
    ZERO,
    ProbeGroup,
    explicit_probes,
    probe_features,
    probe_name,
    standard_probes,
)
from .stream import predictions

if TYPE_CHECKING:
    import pandas as pd

    from .models.probe_model import ProbeModel

DEFAULT_CHUNK_SIZE = 16_384


def prob_column(cls: str) -> str:
    return f"P({cls})"


def delta_column(cls: str) -> str:
    return f"dP({cls})"


def interaction_column(cls: str) -> str:
    return f"interaction({cls})"


def spread_column(cls: str) -> str:
    """In context: the spread of dP(cls) over the rows."""
    return f"sd_dP({cls})"


def share_column(cls: str) -> str:
    """In context: the share of rows predicted as cls with the probe applied."""
    return f"share({cls})"


def iter_probabilities(
    model: ProbeModel, groups: Iterable[ProbeGroup], chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(active positions, probabilities) per chunk: the streaming form of a sweep.

    Memory is bounded by ``chunk_size`` rows whatever the number of probes (when the model
    predicts in the background, up to (``stream.AHEAD`` + 1) x ``stream.BATCH`` chunks' outputs
    are alive, and numpy's BLAS is held to one thread until the stream is finished or closed).
    """
    groups = list(groups)
    chunks = (active for group in groups for active in group.chunks(chunk_size))
    probes = sum(len(group) for group in groups)
    yield from predictions(model, model.predict_active, chunks, probes > chunk_size)


@dataclass
class Sweep:
    """One model's probe table plus what is needed to read it."""

    table: pd.DataFrame
    classes: tuple[str, ...]
    space: FeatureSpace
    order: int
    model_description: str = ""
    fingerprint: str | None = None
    context: str = "zero"  # what the probes were applied to (``contexts``), as named
    context_definition: dict[str, Any] = field(default_factory=lambda: {"kind": "zero"})
    context_digest: str = "zero"  # a hash of the context's rows (a baseline compares it)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def context_rows(self) -> int | None:
        """How many real rows each probe was applied to (None: the zero vector)."""
        if "rows" not in self.table.columns or len(self.table) == 0:
            return None
        return int(self.table["rows"].iloc[0])

    def context_line(self) -> str:
        """The context in one line, for failure text and reports."""
        rows = self.context_rows
        if rows is None:
            return f"context: {self.context}"
        return f"context: {self.context} ({rows} row{'' if rows == 1 else 's'})"

    def name_of(self, features: Iterable[Any]) -> str:
        """The probe name of a feature set (order-independent); unknown features raise."""
        return probe_name(self.space.names(self.space.indices(features)))

    def canonical(self, probe: Iterable[Any] | str) -> str:
        """The sweep's name of a probe given by name in any feature order (``"5+4"`` is
        ``"4+5"``; ``"zero"``) or by its features (``[4, 5]``); unknown features raise."""
        if isinstance(probe, (int, float)):  # a feature named by a YAML number: 3 is "3"
            probe = str(probe)
        if isinstance(probe, str):
            if probe in self.table.index or probe == ZERO:
                return probe
            return self.name_of(probe_features(probe))
        return self.name_of(probe)

    def row(self, features: Iterable[Any] | str) -> pd.Series:
        """The row of a probe, by name (``"4+5"``, ``"zero"``) or feature set (``[4, 5]``)."""
        name = self.canonical(features)
        try:
            return self.table.loc[name]
        except KeyError:
            raise DataError(
                f"probe {quoted(name)} is not in this sweep (order {self.order}); "
                "sweep with a higher order or pass it in probes="
            ) from None

    def probabilities(self, features: Iterable[Any] | str) -> dict[str, float]:
        row = self.row(features)
        return {c: float(row[prob_column(c)]) for c in self.classes}

    def predicted(self, features: Iterable[Any] | str) -> str:
        return str(self.row(features)["predicted"])

    def to_string(self, max_rows: int | None = 60, deltas: bool = True) -> str:
        """The table as text: probe, class probabilities, predicted class, margin (and deltas)."""
        columns = [prob_column(c) for c in self.classes] + ["predicted", "margin"]
        if deltas:
            columns += [delta_column(c) for c in self.classes]
        if "unchanged" in self.table.columns:  # in context: rows that already had the probe
            columns.append("unchanged")
        shown = self.table[columns]
        if max_rows is not None and len(shown) > max_rows:
            head = shown.head(max_rows).to_string(float_format=lambda v: f"{v:.3f}")
            return head + f"\n... {len(shown) - max_rows} more probes"
        return shown.to_string(float_format=lambda v: f"{v:.3f}")


def run_sweep(
    model: ProbeModel,
    order: int = 1,
    probes: Sequence[Iterable[Any]] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Sweep:
    """The zero probe, every combination up to ``order``, plus explicit ``probes`` (feature sets).

    All probes go through ``model.predict_active`` in chunks of ``chunk_size`` rows: batched forward
    passes, never one call per probe.
    """
    import pandas as pd

    space, classes = model.space, model.classes
    groups = standard_probes(len(space), order)
    # Explicit probes up to ``order`` are already among the standard ones.
    groups += [g for g in explicit_probes(space, probes) if g.order > order]
    columns = _FloatColumns(
        len(classes), sum(len(g) for g in groups), None if order >= 1 else _zero_and_singles(model)
    )
    labels = _Labels(space)
    # The collector is held off only where the predicting code is ours (numpy, no cycles):
    # a user's model may leave cyclic garbage that must not pile up for a whole sweep.
    ours = getattr(model, "predicts_in_background", False)
    with collection_paused() if ours else nullcontext():
        for active, probs in iter_probabilities(model, groups, chunk_size):
            columns.add(active, probs)
            labels.add(active)  # while the next chunks are predicted, when in the background
        feature_names, names, probe_orders = labels.columns()
    block = columns.block

    # The float columns are one (columns x probes) array that becomes the frame's float block as
    # it is: no per-column copies and no consolidation pass.
    n_classes = len(classes)
    float_names = (
        [prob_column(c) for c in classes]
        + ["margin"]
        + [delta_column(c) for c in classes]
        + [interaction_column(c) for c in classes]
    )
    # Strings in this pandas' own string dtype, named rather than inferred (a pass over every
    # name); the features as positions (``FeatureSets``), tuples made when read.
    text = pd.Index(["probe"]).dtype
    index = pd.Index(names, name="probe", dtype=text, copy=False)
    table = pd.DataFrame(block.T, index=index, columns=float_names, copy=False)
    table.insert(0, "order", probe_orders)
    table.insert(1, "features", pd.Series(feature_names, index=index, copy=False))
    predicted = np.asarray(classes, dtype=object)[columns.predicted]
    table.insert(2 + n_classes, "predicted", pd.array(predicted, dtype=text))
    return Sweep(
        table=table,
        classes=classes,
        space=space,
        order=order,
        model_description=model.description,
        fingerprint=model.fingerprint,
    )


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a shortcut sweep runs and makes its
    labels (``run_sweep``: not around a user's model, whose garbage may hold cycles): every
    700 container objects made start a collection, and the full ones walk every object in the
    process (TensorFlow's too). When the labels still made a tuple a probe, all triples of 200
    features with Keras imported took about 305 ms, 270 with it held off (holding it off per
    chunk only saves nothing: the full collections come all the same); the names alone are
    strings, which it does not track. The collector's earlier state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Labels:
    """Probe names and orders, chunk by chunk (every chunk holds probes of one order), built
    with array indexing: a name is the concatenation of object arrays of ``name+`` strings, not
    one join per probe. The features are kept as the chunks' positions (``FeatureSets``): no
    tuple per probe."""

    def __init__(self, space: FeatureSpace) -> None:
        self._names = np.array(space.features, dtype=object)
        self._joined = np.array([f"{name}{SEPARATOR}" for name in space.features], dtype=object)
        self._probe_names: list[np.ndarray] = []
        self._positions: list[np.ndarray] = []

    def add(self, active: np.ndarray) -> None:
        rows, k = active.shape
        self._positions.append(active)
        if k == 0:
            self._probe_names.append(np.full(rows, probe_name(()), dtype=object))
            return
        names = self._names[active[:, -1]]
        for c in range(k - 2, -1, -1):
            names = self._joined[active[:, c]] + names
        self._probe_names.append(names)

    def columns(self) -> tuple[Any, np.ndarray, np.ndarray]:
        """The features column (``FeatureSets``), probe names (an object array) and orders, for
        every probe added."""
        from .feature_sets import FeatureSets

        names = np.concatenate(self._probe_names) if self._probe_names else np.array([], object)
        features = FeatureSets.from_positions(self._positions, self._names)
        orders = np.repeat(
            np.array([p.shape[1] for p in self._positions], dtype=np.int64),
            [len(p) for p in self._positions],
        )
        return features, names, orders


def _zero_and_singles(model: ProbeModel) -> np.ndarray:
    """Probabilities of the zero probe and every single feature, (1 + n, classes)."""
    zero = model.predict_active(np.zeros((1, 0), dtype=np.int32))
    singles = model.predict_active(np.arange(len(model.space))[:, None])
    return np.concatenate([zero, singles])


class _FloatColumns:
    """A sweep table's float columns as one (columns x probes) array: P(c), margin, dP(c) and
    interaction(c), filled chunk by chunk while each chunk's probabilities are in cache.

    The zero probe and the singles are the sweep's own first rows, or ``reference`` (zero and
    singles, (1 + n, classes)) for a sweep of order 0."""

    def __init__(self, n_classes: int, probes: int, reference: np.ndarray | None) -> None:
        self.k = n_classes
        self.block = np.empty((3 * n_classes + 1, probes))
        self.predicted = np.empty(probes, dtype=np.intp)
        self.offset = 0
        self._zero = None if reference is None else np.ascontiguousarray(reference[0])
        self._singles = None if reference is None else (reference[1:] - reference[0]).T

    def add(self, active: np.ndarray, probs: np.ndarray) -> None:
        k, start = self.k, self.offset
        stop = self.offset = start + len(probs)
        p, deltas = self.block[:k, start:stop], self.block[k + 1 : 2 * k + 1, start:stop]
        p[...] = probs.T
        self.predicted[start:stop] = _top_two(p, self.block[k, start:stop])
        zero = self.block[:k, 0] if self._zero is None else self._zero
        np.subtract(p, zero[:, None], out=deltas)
        interactions = self.block[2 * k + 1 :, start:stop]
        if active.shape[1] != 2:
            interactions.fill(np.nan)
            return
        # Pairs: dP(pair) - dP(first) - dP(second); the singles' rows are already filled.
        singles = self.block[k + 1 : 2 * k + 1, 1:] if self._singles is None else self._singles
        np.subtract(deltas, singles[:, active[:, 0]], out=interactions)
        interactions -= singles[:, active[:, 1]]


def _top_two(p: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """The top class of each column of ``p`` (classes x probes, finite; the first of equal
    ones, as argmax), with top-1 minus top-2 written into ``margin`` (0 for a tie). Reductions
    over the class axis only: numpy's along a row of ten, or with a ``where``, are several
    times slower (all pairs of 1,000 features: 0.6 -> 0.4 ms a chunk)."""
    if p.shape[1] == 0:
        return np.zeros(0, dtype=np.intp)
    first = p.max(axis=0)
    top = p == first
    if len(p) == 1:
        margin[...] = np.inf
        return np.zeros(p.shape[1], dtype=np.intp)
    # The first class at the maximum: the largest of (classes - c) where p[c] is the maximum.
    small = np.min_scalar_type(len(p))
    weights = np.arange(len(p), 0, -1, dtype=small)[:, None]
    first_at = len(p) - (top * weights).max(axis=0).astype(np.intp)
    # The runner-up: the maximum once the maxima are pushed below every value, unless the
    # maximum is shared (a tie: the margin is 0).
    shift = top.astype(p.dtype)
    shift *= float(first.max() - p.min()) + 1.0
    np.subtract(p, shift, out=shift)
    second = shift.max(axis=0)
    np.copyto(second, first, where=top.sum(axis=0, dtype=small) > 1)
    np.subtract(first, second, out=margin)
    return first_at
