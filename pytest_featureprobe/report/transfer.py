"""A ``ReportEntry`` as plain data and back: how a pytest-xdist worker hands the controller the
sections of the report it can make (the controller has no models and imports no TensorFlow).

The text is JSON of builtins only (dicts, lists, strings, numbers). Numeric columns and arrays go
as the base64 of their bytes, so every figure is drawn from the same float64 values; a column of
strings or of feature tuples goes as its distinct values and an int32 code per row. What the
report does not read of a baseline (its rows, the seed test's per-seed cells) is left behind.
"""

from __future__ import annotations

import base64
import json
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from .entry import ReportEntry

if TYPE_CHECKING:
    import pandas as pd

    from ..baseline.record import Baseline
    from ..sweep import Sweep

FORMAT = 1
SWEEP_FIELDS = ("classes", "order", "model_description", "fingerprint", "context")


def entry_to_text(entry: ReportEntry) -> str:
    """``entry`` as JSON text (``entry_from_text`` reads it back)."""
    data = {
        "format": FORMAT,
        "title": entry.title,
        "sweep": None if entry.sweep is None else sweep_to_plain(entry.sweep),
        "drift_sweep": None if entry.drift_sweep is None else sweep_to_plain(entry.drift_sweep),
        "baseline": None if entry.baseline is None else baseline_to_plain(entry.baseline),
        "tolerance": entry.tolerance,
        "results": [list(r) for r in entry.results],
        "notes": list(entry.notes),
        "band": entry.band,
        "failures": dict(entry.failures),
    }
    return json.dumps(data, default=_builtin)


def entry_from_text(text: str) -> ReportEntry:
    """The entry ``entry_to_text`` wrote; ValueError for text of another format."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a report entry of format {FORMAT}")
    sweep, drift = data["sweep"], data["drift_sweep"]
    return ReportEntry(
        title=data["title"],
        sweep=None if sweep is None else sweep_from_plain(sweep),
        baseline=None if data["baseline"] is None else baseline_from_plain(data["baseline"]),
        tolerance=data["tolerance"],
        results=[(str(a), str(b)) for a, b in data["results"]],
        notes=list(data["notes"]),
        band=data["band"],
        drift_sweep=None if drift is None else sweep_from_plain(drift),
        failures=dict(data["failures"]),
    )


def sweep_to_plain(sweep: Sweep) -> dict[str, Any]:
    plain = {name: getattr(sweep, name) for name in SWEEP_FIELDS}
    plain["classes"] = list(sweep.classes)
    plain["space"] = sweep.space.to_dict()
    plain["context_definition"] = sweep.context_definition
    plain["context_digest"] = sweep.context_digest
    plain["table"] = table_to_plain(sweep.table)
    return plain


def sweep_from_plain(plain: dict[str, Any]) -> Sweep:
    from ..features import FeatureSpace
    from ..sweep import Sweep

    fields = {name: plain[name] for name in SWEEP_FIELDS}
    fields["classes"] = tuple(plain["classes"])
    return Sweep(
        table=table_from_plain(plain["table"]),
        space=FeatureSpace.from_dict(plain["space"]),
        context_definition=plain["context_definition"],
        context_digest=plain["context_digest"],
        **fields,
    )


def baseline_to_plain(baseline: Baseline) -> dict[str, Any]:
    band = baseline.band
    return {
        "space": baseline.space.to_dict(),
        "classes": list(baseline.classes),
        "order": baseline.order,
        "probes": list(baseline.probes),
        "probabilities": array_to_plain(baseline.probabilities),
        "model": baseline.model,
        "versions": baseline.versions,
        "platform": baseline.platform,
        "precision": baseline.precision,
        "context": baseline.context,
        "band": None
        if band is None
        else {
            "center": array_to_plain(band.center),
            "spread": array_to_plain(band.spread),
            "seeds": list(band.seeds),
            "floor": band.floor,
            "cap": band.cap,
            "loo_scores": list(band.loo_scores),
        },
    }


def baseline_from_plain(plain: dict[str, Any]) -> Baseline:
    from ..baseline.record import Baseline
    from ..baseline.seed_band import SeedBand
    from ..features import FeatureSpace

    band = plain["band"]
    return Baseline(
        space=FeatureSpace.from_dict(plain["space"]),
        classes=tuple(plain["classes"]),
        order=plain["order"],
        probes=list(plain["probes"]),
        probabilities=array_from_plain(plain["probabilities"]),
        model=plain["model"],
        versions=plain["versions"],
        platform=plain["platform"],
        precision=plain["precision"],
        context=plain["context"],
        band=None
        if band is None
        else SeedBand(
            array_from_plain(band["center"]),
            array_from_plain(band["spread"]),
            list(band["seeds"]),
            band["floor"],
            band["cap"],
            list(band["loo_scores"]),
        ),
    )


def array_to_plain(array: np.ndarray) -> dict[str, Any]:
    """A numeric array as its dtype, shape and the base64 of its bytes (exact)."""
    array = np.ascontiguousarray(array)
    return {
        "dtype": array.dtype.str,
        "shape": list(array.shape),
        "data": base64.b64encode(array.tobytes()).decode("ascii"),
    }


def array_from_plain(plain: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(plain["dtype"])
    if dtype.kind not in "biuf":
        raise ValueError(f"not a numeric array: {dtype}")
    data = base64.b64decode(plain["data"], validate=True)
    return np.frombuffer(data, dtype=dtype).reshape(plain["shape"]).copy()


def table_to_plain(table: pd.DataFrame) -> dict[str, Any]:
    """A sweep's table: its index and each column, in order, with their dtypes."""
    return {
        "index": _values_to_plain(table.index),
        "index_name": table.index.name,
        "columns": [[str(name), _values_to_plain(table[name])] for name in table.columns],
    }


def table_from_plain(plain: dict[str, Any]) -> pd.DataFrame:
    import pandas as pd

    from .. import feature_sets  # noqa: F401  (registers the "feature sets" dtype for astype)

    index = pd.Index(_values_from_plain(plain["index"]), name=plain["index_name"])
    columns = {name: _values_from_plain(values) for name, values in plain["columns"]}
    table = pd.DataFrame(columns, index=index)
    for name, values in plain["columns"]:  # a dtype pandas would infer otherwise
        if str(table[name].dtype) != values["dtype"]:
            table[name] = table[name].astype(values["dtype"])
    if str(table.index.dtype) != plain["index"]["dtype"]:
        table.index = table.index.astype(plain["index"]["dtype"])
    return table


def _values_to_plain(values: Any) -> dict[str, Any]:
    import pandas as pd

    dtype = str(values.dtype)
    array = values.to_numpy()
    if array.dtype.kind in "biuf":
        return {"dtype": dtype, "kind": "array", "array": array_to_plain(array)}
    items = array.tolist()
    if all(isinstance(v, str) for v in items):
        codes, uniques = pd.factorize(np.asarray(items, dtype=object))
        return {"dtype": dtype, "kind": "strings", "values": list(uniques), "codes": _codes(codes)}
    if all(isinstance(v, tuple) and all(isinstance(x, str) for x in v) for v in items):
        flat = np.asarray(list(chain.from_iterable(items)), dtype=object)
        codes, uniques = pd.factorize(flat) if len(flat) else (np.zeros(0, np.int64), [])
        lengths = np.fromiter(map(len, items), dtype=np.int32, count=len(items))
        return {
            "dtype": dtype,
            "kind": "tuples",
            "values": list(uniques),
            "codes": _codes(codes),
            "lengths": array_to_plain(lengths),
        }
    return {"dtype": dtype, "kind": "json", "values": items}


def _values_from_plain(plain: dict[str, Any]) -> Any:
    kind = plain["kind"]
    if kind == "array":
        return array_from_plain(plain["array"])
    if kind == "json":
        return np.asarray(plain["values"], dtype=object)
    names = np.asarray(plain["values"], dtype=object)
    codes = array_from_plain(plain["codes"])
    if kind == "strings":
        return names[codes]
    if kind != "tuples":
        raise ValueError(f"unknown column kind {kind!r}")
    flat = names[codes].tolist()
    ends = np.cumsum(array_from_plain(plain["lengths"])).tolist()
    starts = [0, *ends[:-1]]
    values = np.empty(len(ends), dtype=object)
    values[:] = [tuple(flat[a:b]) for a, b in zip(starts, ends, strict=True)]
    return values


def _codes(codes: np.ndarray) -> dict[str, Any]:
    return array_to_plain(np.asarray(codes, dtype=np.int32))


def _builtin(value: Any) -> Any:
    """numpy scalars and tuples in the entry's mappings (band, tolerances) as builtins."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not plain data")
