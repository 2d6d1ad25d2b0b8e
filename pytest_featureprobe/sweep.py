"""The probe sweep: every probe of a model in batched forward passes, kept as a tidy table.

Columns of ``Sweep.table`` (index: probe name):

- ``order``: how many features are active; ``features``: their names (a tuple)
- ``P(c)``: probability of class c; ``predicted``: top class; ``margin``: top-1 minus top-2
- ``dP(c)``: P(c) of the probe minus P(c) of the zero probe (the probe's attribution to c)
- ``interaction(c)``: for pairs, dP(c) of the pair minus the dP(c) of each of its two features;
  NaN on other rows
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError
from .features import FeatureSpace
from .models import ProbeModel
from .probes import ProbeGroup, explicit_probes, probe_name, standard_probes

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_CHUNK_SIZE = 16_384


def prob_column(cls: str) -> str:
    return f"P({cls})"


def delta_column(cls: str) -> str:
    return f"dP({cls})"


def interaction_column(cls: str) -> str:
    return f"interaction({cls})"


def iter_probabilities(
    model: ProbeModel, groups: Iterable[ProbeGroup], chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(active positions, probabilities) per chunk: the streaming form of a sweep.

    Memory is bounded by ``chunk_size`` rows whatever the number of probes.
    """
    for group in groups:
        for active in group.chunks(chunk_size):
            yield active, model.predict_active(active)


@dataclass
class Sweep:
    """One model's probe table plus what is needed to read it."""

    table: pd.DataFrame
    classes: tuple[str, ...]
    space: FeatureSpace
    order: int
    model_description: str = ""
    fingerprint: str | None = None

    def __len__(self) -> int:
        return len(self.table)

    def name_of(self, features: Iterable[Any]) -> str:
        """The probe name of a feature set (order-independent); unknown features raise."""
        return probe_name(self.space.names(self.space.indices(features)))

    def row(self, features: Iterable[Any] | str) -> pd.Series:
        """The row of a probe, by name (``"4+5"``, ``"zero"``) or feature set (``[4, 5]``)."""
        name = features if isinstance(features, str) else self.name_of(features)
        try:
            return self.table.loc[name]
        except KeyError:
            raise DataError(
                f"probe {name!r} is not in this sweep (order {self.order}); "
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
    extra = [g for g in explicit_probes(space, probes) if g.order > order]
    actives, probabilities = [], []
    for active, probs in iter_probabilities(model, groups + extra, chunk_size):
        actives.append(active)
        probabilities.append(probs)
    probs = np.concatenate(probabilities)
    reference = probs[: 1 + len(space)] if order >= 1 else _zero_and_singles(model)
    zero = reference[0]
    active_lists = [row for block in actives for row in block.tolist()]

    feature_names = [space.names(a) for a in active_lists]
    names = [probe_name(f) for f in feature_names]
    top2 = np.sort(probs, axis=1)[:, -2:]
    table = pd.DataFrame(
        {
            "order": np.array([len(a) for a in active_lists], dtype=np.int64),
            "features": feature_names,
        },
        index=pd.Index(names, name="probe"),
    )
    deltas = probs - zero
    for j, cls in enumerate(classes):
        table[prob_column(cls)] = probs[:, j]
    table["predicted"] = np.asarray(classes, dtype=object)[probs.argmax(axis=1)]
    table["margin"] = top2[:, 1] - top2[:, 0]
    for j, cls in enumerate(classes):
        table[delta_column(cls)] = deltas[:, j]
    interactions = _interactions(active_lists, deltas, reference[1:] - zero)
    for j, cls in enumerate(classes):
        table[interaction_column(cls)] = interactions[:, j]
    return Sweep(
        table=table,
        classes=classes,
        space=space,
        order=order,
        model_description=model.description,
        fingerprint=model.fingerprint,
    )


def _zero_and_singles(model: ProbeModel) -> np.ndarray:
    """Probabilities of the zero probe and every single feature, (1 + n, classes)."""
    zero = model.predict_active(np.zeros((1, 0), dtype=np.int32))
    singles = model.predict_active(np.arange(len(model.space))[:, None])
    return np.concatenate([zero, singles])


def _interactions(
    active_lists: list[list[int]], deltas: np.ndarray, single_deltas: np.ndarray
) -> np.ndarray:
    result = np.full(deltas.shape, np.nan)
    pair_rows = [r for r, a in enumerate(active_lists) if len(a) == 2]
    if pair_rows:
        pairs = np.array([active_lists[r] for r in pair_rows])
        result[pair_rows] = (
            deltas[pair_rows] - single_deltas[pairs[:, 0]] - single_deltas[pairs[:, 1]]
        )
    return result
