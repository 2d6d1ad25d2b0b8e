"""A baseline: a stored sweep plus what is needed to trust a comparison with it.

``Baseline`` holds per-probe class probabilities of one model, the feature space, classes, model
facts, versions and platform, and optionally a ``SeedBand``. ``to_text``/``from_text`` are its file
format: JSON meant for review in a pull request (sorted keys, one probe per line, probabilities
rounded to ``precision`` decimals). Reading and writing files is ``store``'s job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UPDATE_HINT, FeatureProbeError, quoted
from ..features import FeatureSpace
from ..probes import probe_features
from ..provenance import library_versions, platform_facts
from ..sweep import Sweep, prob_column
from .churn import RowPredictions
from .numbers import CorruptNumber, check_fields, check_probabilities, parse
from .seed_band import SeedBand
from .seed_test import SeedCells

FORMAT_VERSION = 1
PRECISION = 6
ZERO_CONTEXT = {"name": "zero", "definition": {"kind": "zero"}, "digest": "zero"}


def context_facts(sweep: Sweep) -> dict[str, Any]:
    """What a baseline records of the context its sweep was taken in: its name, definition (as
    declared) and a digest of its rows, so a run in another context is refused."""
    facts = {
        "name": sweep.context,
        "definition": dict(sweep.context_definition),
        "digest": sweep.context_digest,
    }
    if sweep.context_rows is not None:
        facts["rows"] = sweep.context_rows
    return facts


def model_facts(model: Any) -> dict[str, Any]:
    """What a baseline records about its model: description, fingerprint, training spec."""
    facts: dict[str, Any] = {"description": model.description, "fingerprint": model.fingerprint}
    if "spec" in model.info:
        facts["spec"] = model.info["spec"]
        facts["training_accuracy"] = round(model.info["training_accuracy"], 6)
    return facts


class BaselineError(FeatureProbeError):
    """A baseline is missing, corrupt, or no longer matches the model's features or classes."""


@dataclass
class Baseline:
    """Per-probe class probabilities of one model, and optionally a seed band around them."""

    space: FeatureSpace
    classes: tuple[str, ...]
    order: int
    probes: list[str]
    probabilities: np.ndarray  # (probes, classes)
    model: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    platform: dict[str, str] = field(default_factory=dict)  # provenance.platform_facts()
    band: SeedBand | None = None  # the calibration seeds' spread around each probability
    precision: int = PRECISION
    context: dict[str, Any] = field(default_factory=lambda: dict(ZERO_CONTEXT))  # name, ...
    rows: RowPredictions | None = None  # the context's rows and their predictions (churn)
    seed_cells: SeedCells | None = None  # each calibration seed's cells (the seed test)

    @classmethod
    def from_sweep(
        cls,
        sweep: Sweep,
        model: Mapping[str, Any] | None = None,
        band: Sequence[Sweep] = (),
        band_seeds: Sequence[int] = (),
        max_order: int | None = None,
        band_floor: float = 0.1,
        band_cap: float = 10.0,
        rows: RowPredictions | None = None,
        seed_cells: SeedCells | None = None,
        probes: Sequence[Any] | None = None,
    ) -> Baseline:
        """A baseline of ``sweep``'s probes up to ``max_order`` (default: the sweep's order),
        or of just ``probes`` (``drift.probes``: names or feature lists); ``band`` sweeps (the
        same spec with other seeds) give the seed band."""
        order = sweep.order if max_order is None else max_order
        names = list(sweep.table.index[sweep.table["order"] <= order])
        if probes is not None:
            wanted = {sweep.canonical(p) for p in probes}
            names = [name for name in sweep.table.index if name in wanted]
        columns = [prob_column(c) for c in sweep.classes]
        baseline = cls(
            space=sweep.space,
            classes=tuple(sweep.classes),
            order=order,
            probes=names,
            probabilities=sweep.table.loc[names, columns].to_numpy(dtype=np.float64),
            model=dict(model or {}),
            versions=library_versions(),
            platform=platform_facts(),
            context=context_facts(sweep),
            rows=rows,
            seed_cells=seed_cells,
        )
        if band:
            stack = np.stack([s.table.loc[names, columns].to_numpy(dtype=np.float64) for s in band])
            baseline.band = SeedBand.from_seeds(stack, band_seeds, band_floor, band_cap)
        return baseline

    def current(self, sweep: Sweep) -> np.ndarray:
        """Today's probabilities of this baseline's probes and classes, (probes, classes)."""
        columns = [prob_column(c) for c in self.classes]
        return sweep.table.loc[self.probes, columns].to_numpy(dtype=np.float64)

    def orders(self) -> np.ndarray:
        """The order of each baseline probe."""
        return np.array([len(probe_features(p)) for p in self.probes])

    def as_sweep(self, description: str = "baseline") -> Sweep:
        """This baseline's probabilities as a Sweep, so drift checks compare two baselines."""
        import pandas as pd

        probabilities = self.probabilities
        index = pd.Index(self.probes, name="probe")
        table = pd.DataFrame(
            probabilities, index=index, columns=[prob_column(c) for c in self.classes]
        )
        features = [probe_features(p) for p in self.probes]
        table.insert(0, "order", [len(f) for f in features])
        table.insert(1, "features", features)
        predicted = np.asarray(self.classes, dtype=object)[probabilities.argmax(axis=1)]
        table["predicted"] = predicted
        if probabilities.shape[1] >= 2:
            top2 = np.sort(probabilities, axis=1)[:, -2:]
            table["margin"] = top2[:, 1] - top2[:, 0]
        return Sweep(
            table=table,
            classes=tuple(self.classes),
            space=self.space,
            order=self.order,
            context=str(self.context["name"]),
            context_definition=dict(self.context.get("definition") or {}),
            context_digest=str(self.context["digest"]),
            model_description=str(self.model.get("description", description)),
            fingerprint=self.model.get("fingerprint"),
        )

    # --- file format --------------------------------------------------------------------------

    def to_text(self) -> str:
        """Reviewable JSON: sorted header keys, then one probe per line."""
        digits = self.precision
        header = {
            "format": FORMAT_VERSION,
            "classes": list(self.classes),
            "model": self.model,
            "order": self.order,
            "precision": digits,
            "space": self.space.to_dict(),
            "versions": self.versions,
        }
        if self.context.get("digest") != ZERO_CONTEXT["digest"]:  # zero: as before contexts
            header["context"] = self.context
        if self.platform:
            header["platform"] = self.platform
        if self.band is not None:
            header["band"] = self.band.header()
        cells = self.seed_cells
        if cells is not None:
            header["seed_test"] = cells.header()
        lines = ["{"]
        for key in sorted(header):
            lines.append(f"  {json.dumps(key)}: {json.dumps(header[key], sort_keys=True)},")
        records = []
        for i, name in enumerate(self.probes):
            record = {"probe": name, "p": _rounded(self.probabilities[i], digits)}
            if self.band is not None:
                record["center"] = _rounded(self.band.center[i], digits)
                record["spread"] = _rounded(self.band.spread[i], digits)
            if cells is not None:  # each calibration seed's probabilities, seed by seed
                record["seeds"] = cells.probe_seeds(i)
            records.append(json.dumps(record, sort_keys=True))
        blocks = [("probes", records)]  # one entry per line
        if cells is not None:  # each slice's mean probabilities, seed by seed
            blocks.append(
                ("slices", [json.dumps(r, sort_keys=True) for r in cells.slice_records()])
            )
        if self.rows is not None:  # the context's rows (the churn checks' and the seed test's)
            blocks.append(
                ("rows", [json.dumps(r, sort_keys=True) for r in self.rows.records(digits)])
            )
        for number, (name, entries) in enumerate(blocks):
            lines.append(f"  {json.dumps(name)}: [")
            lines.append(",\n".join(f"    {e}" for e in entries))
            lines.append("  ]," if number < len(blocks) - 1 else "  ]")
        lines.append("}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str, path: str | Path) -> Baseline:
        try:
            data = parse(text)
        except json.JSONDecodeError as exc:
            raise BaselineError(
                f"corrupt baseline: {exc.msg}; recreate it with {UPDATE_HINT}",
                path=path,
                line=exc.lineno,
            ) from None
        except CorruptNumber as exc:
            raise BaselineError(exc.message, path=path, line=exc.line) from None
        try:
            if data.get("format") != FORMAT_VERSION:
                raise BaselineError(
                    f"unsupported baseline format {quoted(data.get('format'))} (this version reads "
                    f"{FORMAT_VERSION}); recreate it with {UPDATE_HINT}",
                    path=path,
                )
            classes = tuple(data["classes"])
            check_fields(text, data)
            for block, key in (("probes", "p"), ("probes", "center"), ("rows", "p")):
                check_probabilities(text, data, block, key, classes)
            return cls._from_data(data)
        except CorruptNumber as exc:
            raise BaselineError(exc.message, path=path, line=exc.line) from None
        except BaselineError:
            raise
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            OverflowError,
            FeatureProbeError,
        ) as exc:
            raise BaselineError(
                f"corrupt baseline ({type(exc).__name__}: {exc}); recreate it with {UPDATE_HINT}",
                path=path,
            ) from None

    @classmethod
    def _from_data(cls, data: dict[str, Any]) -> Baseline:
        """The baseline parsed JSON holds, its numbers checked (``numbers``); a malformed part
        raises what reading it raises (KeyError, TypeError, ValueError)."""
        records = data["probes"]
        classes = tuple(data["classes"])
        probabilities = np.array([r["p"] for r in records], dtype=np.float64)
        if probabilities.shape != (len(records), len(classes)):
            raise ValueError("probability rows do not match the classes")
        baseline = cls(
            space=FeatureSpace.from_dict(data["space"]),
            classes=classes,
            order=int(data["order"]),
            probes=[str(r["probe"]) for r in records],
            probabilities=probabilities,
            model=dict(data.get("model") or {}),
            versions=_strings(data.get("versions")),
            platform=_strings(data.get("platform")),
            precision=int(data.get("precision", PRECISION)),
            context=_context(data.get("context")),
        )
        if "rows" in data:
            baseline.rows = RowPredictions.from_records(data["rows"], len(classes))
        if "seed_test" in data:
            baseline.seed_cells = SeedCells.from_file(
                data["seed_test"], records, data["slices"], len(classes)
            )
            _check_slices(baseline)
        if records and "center" in records[0]:
            baseline.band = SeedBand.from_file(
                data["band"],
                np.array([r["center"] for r in records], dtype=np.float64),
                np.array([r["spread"] for r in records], dtype=np.float64),
            )
        return baseline


def _context(value: Any) -> dict[str, Any]:
    """The header's context (absent: the zero vector, as every baseline before contexts)."""
    if value is None:
        return dict(ZERO_CONTEXT)
    if not isinstance(value, dict) or not isinstance(value.get("digest"), str):
        raise TypeError("the context is a mapping with a digest")
    return {**value, "name": str(value.get("name", "?"))}


def _check_slices(baseline: Baseline) -> None:
    """The seed test's slices are of the baseline's rows, in its feature space."""
    cells = baseline.seed_cells
    if cells.slices and baseline.rows is None:
        raise ValueError("the seed test's slices have no rows")
    unknown = [f for s in cells.slices for f in s if f not in baseline.space]
    if unknown:
        raise ValueError(f"slice feature {unknown[0]!r} is not in the feature space")


def _rounded(values: np.ndarray, digits: int) -> list[float]:
    return [round(float(v), digits) for v in values]


def _strings(value: Any) -> dict[str, str]:
    """A header mapping of names to strings (versions, platform); absent in old baselines."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"expected a mapping of names to strings, not {type(value).__name__}")
    return {str(k): str(v) for k, v in value.items()}
