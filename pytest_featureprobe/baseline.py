"""Baselines (a stored sweep plus what is needed to trust a comparison) and drift against them.

A baseline file is JSON meant for review in a pull request: sorted keys, one probe per line,
probabilities rounded to ``precision`` decimals. It is written only on request, atomically (to a
temporary file in the same folder, then renamed), so an interrupted write leaves the old one.

Drift checks compare today's sweep with the baseline and return an ``Outcome`` whose failure
table lists what moved, most severe first. Formulas are in README ("Retraining gate"). A failing
check whose baseline was recorded with other library versions or on another platform says so.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import DEFAULT_BASELINE_FOLDER
from .backend import cache_platform, library_versions, platform_facts
from .errors import FeatureProbeError
from .expectations import MAX_LISTED, CheckContext, Outcome, _table
from .features import FeatureSpace
from .sweep import Sweep, prob_column

FORMAT_VERSION = 1
PRECISION = 6


def baseline_path(
    document_path: str | Path, declared: str | None = None, folder: str = DEFAULT_BASELINE_FOLDER
) -> Path:
    """Where an expectation file's baseline lives: as declared (relative to the file), else
    ``<folder>/<file stem>.json`` beside it."""
    document_path = Path(document_path)
    if declared:
        return document_path.parent / declared
    return document_path.parent / folder / f"{document_path.stem}.json"


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
    platform: dict[str, str] = field(default_factory=dict)  # backend.platform_facts()
    band_center: np.ndarray | None = None  # (probes, classes), mean over calibration seeds
    band_spread: np.ndarray | None = None  # (probes, classes), standard deviation over seeds
    band_seeds: list[int] = field(default_factory=list)
    band_floor: float = 0.1  # spreads below this count as this (see band_score)
    band_cap: float = 10.0  # distances above this count as this
    band_loo_scores: list[float] = field(default_factory=list)  # each seed against the others
    precision: int = PRECISION

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
    ) -> Baseline:
        """A baseline of ``sweep``'s probes up to ``max_order`` (default: the sweep's order);
        ``band`` sweeps (the same spec with other seeds) give the seed band."""
        order = sweep.order if max_order is None else max_order
        names = list(sweep.table.index[sweep.table["order"] <= order])
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
        )
        if band:
            stack = np.stack([s.table.loc[names, columns].to_numpy(dtype=np.float64) for s in band])
            baseline.band_center = stack.mean(axis=0)
            baseline.band_spread = stack.std(axis=0)
            baseline.band_seeds = [int(s) for s in band_seeds]
            baseline.band_floor, baseline.band_cap = float(band_floor), float(band_cap)
            baseline.band_loo_scores = [
                band_score(
                    stack[k],
                    np.delete(stack, k, 0).mean(0),
                    np.delete(stack, k, 0).std(0),
                    band_floor,
                    band_cap,
                )
                for k in range(len(stack))
            ]
        return baseline

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
        if self.platform:
            header["platform"] = self.platform
        if self.band_center is not None:
            header["band"] = {
                "cap": self.band_cap,
                "floor": self.band_floor,
                "loo_scores": _rounded(np.array(self.band_loo_scores), 4),
                "seeds": self.band_seeds,
            }
        lines = ["{"]
        for key in sorted(header):
            lines.append(f"  {json.dumps(key)}: {json.dumps(header[key], sort_keys=True)},")
        lines.append('  "probes": [')
        records = []
        for i, name in enumerate(self.probes):
            record = {"probe": name, "p": _rounded(self.probabilities[i], digits)}
            if self.band_center is not None:
                record["center"] = _rounded(self.band_center[i], digits)
                record["spread"] = _rounded(self.band_spread[i], digits)
            records.append("    " + json.dumps(record, sort_keys=True))
        lines.append(",\n".join(records))
        lines.append("  ]")
        lines.append("}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str, path: str | Path) -> Baseline:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BaselineError(
                f"corrupt baseline: {exc.msg}; recreate it with --featureprobe-update",
                path=path,
                line=exc.lineno,
            ) from None
        try:
            if data.get("format") != FORMAT_VERSION:
                raise BaselineError(
                    f"unsupported baseline format {data.get('format')!r} (this version reads "
                    f"{FORMAT_VERSION}); recreate it with --featureprobe-update",
                    path=path,
                )
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
            )
            if records and "center" in records[0]:
                baseline.band_center = np.array([r["center"] for r in records], dtype=np.float64)
                baseline.band_spread = np.array([r["spread"] for r in records], dtype=np.float64)
                band = data["band"]
                baseline.band_seeds = [int(x) for x in band["seeds"]]
                baseline.band_floor, baseline.band_cap = float(band["floor"]), float(band["cap"])
                baseline.band_loo_scores = [float(x) for x in band["loo_scores"]]
        except BaselineError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, FeatureProbeError) as exc:
            raise BaselineError(
                f"corrupt baseline ({type(exc).__name__}: {exc}); recreate it with "
                "--featureprobe-update",
                path=path,
            ) from None
        return baseline


def _rounded(values: np.ndarray, digits: int) -> list[float]:
    return [round(float(v), digits) for v in values]


def _strings(value: Any) -> dict[str, str]:
    """A header mapping of names to strings (versions, platform); absent in old baselines."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"expected a mapping of names to strings, not {type(value).__name__}")
    return {str(k): str(v) for k, v in value.items()}


def write_baseline(path: str | Path, baseline: Baseline, *, replace_any: bool = False) -> None:
    """Write atomically: a temporary file in the same folder, renamed over the old one.

    Whatever goes wrong (an exception, KeyboardInterrupt, a full disk), the old baseline is left
    as it was and no temporary file remains. A folder that cannot be written is a BaselineError
    naming the file and the reason, not a traceback. An existing file that is not a baseline is
    not replaced unless ``replace_any`` (files in the baseline folder are baselines by name).
    """
    path = Path(path)
    text = baseline.to_text()
    if not replace_any and path.exists() and not _replaceable(path):
        raise BaselineError(
            "refusing to replace a file that is not a featureprobe baseline (name another "
            "file in drift.baseline, or remove this one)",
            path=path,
        )
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        os.close(handle)
        # mkstemp makes the file private (0600); a baseline is an ordinary project file.
        os.chmod(temporary, 0o666 & ~_umask())
        with open(temporary, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
        temporary = None
    except OSError as exc:
        message = _write_failure(exc)
        if path.is_file():
            message += "; the old baseline is unchanged"
        raise BaselineError(message, path=path) from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                Path(temporary).unlink(missing_ok=True)


def _replaceable(path: Path) -> bool:
    """Whether an existing file may be overwritten by a baseline: one that is a baseline, even
    a damaged one (its first lines name the format or hold the probes), not any other file."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4096)
    except OSError:
        return True  # a folder or an unreadable file: the write reports it
    return head.lstrip().startswith(b"{") and (b'"format"' in head or b'"probes"' in head)


def _write_failure(error: OSError) -> str:
    """One line: why the baseline could not be written, with a hint for the usual causes."""
    reason = (error.strerror or str(error)).lower()
    hint = {
        errno.EACCES: " (is the folder read-only?)",
        errno.EPERM: " (is the folder read-only?)",
        errno.EROFS: " (the file system is mounted read-only)",
        errno.ENOSPC: " (the disk is full)",
    }.get(error.errno or 0, "")
    if isinstance(error, FileExistsError) and error.filename:
        return f"cannot write the baseline: {error.filename} is a file, not a folder"
    if isinstance(error, NotADirectoryError) and error.filename:
        hint = f" (a file is in the way of the folder {error.filename})"
    return f"cannot write the baseline: {reason}{hint}"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_baseline(path: str | Path) -> Baseline:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError("no baseline", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"cannot read the baseline: {exc}", path=path) from None
    return Baseline.from_text(text, path)


def check_compatible(
    baseline: Baseline, sweep: Sweep, path: str | Path, order: int | None = None
) -> None:
    """Raise when features, classes or probes no longer line up, or the baseline holds another
    probe order than ``order`` (what an update would write now), saying what changed."""
    problems = []
    if tuple(baseline.classes) != tuple(sweep.classes):
        problems.append(f"classes were {list(baseline.classes)}, now {list(sweep.classes)}")
    if baseline.space.features != sweep.space.features:
        old, new = set(baseline.space.features), set(sweep.space.features)
        added, removed = sorted(new - old), sorted(old - new)
        detail = []
        if added:
            detail.append(f"added {', '.join(added[:8])}" + (" ..." if len(added) > 8 else ""))
        if removed:
            detail.append(
                f"removed {', '.join(removed[:8])}" + (" ..." if len(removed) > 8 else "")
            )
        problems.append("the feature space changed: " + ("; ".join(detail) or "new order"))
    if not problems:
        missing = [p for p in baseline.probes if p not in sweep.table.index]
        if missing:
            problems.append(
                f"{len(missing)} baseline probes are not in today's sweep "
                f"(e.g. {missing[0]}); sweep order {sweep.order} < {baseline.order}?"
            )
        elif order is not None and baseline.order != order:
            problems.append(
                f"it holds probes up to order {baseline.order}, the file now asks for order {order}"
            )
    if problems:
        raise BaselineError(
            "the baseline no longer matches the model: "
            + "; ".join(problems)
            + ". If this change is intended, accept it with --featureprobe-update",
            path=path,
        )


# --- drift checks -------------------------------------------------------------------------------


def _current(baseline: Baseline, sweep: Sweep) -> np.ndarray:
    columns = [prob_column(c) for c in baseline.classes]
    return sweep.table.loc[baseline.probes, columns].to_numpy(dtype=np.float64)


def _orders(baseline: Baseline) -> np.ndarray:
    return np.array([0 if p == "zero" else p.count("+") + 1 for p in baseline.probes])


def check_flips(
    baseline: Baseline, sweep: Sweep, max_flips: int = 0, allowed: Sequence[str] = ()
) -> Outcome:
    """Probes whose predicted class changed; ``allowed`` probes may flip, ``max_flips`` others."""
    current = _current(baseline, sweep)
    before = baseline.probabilities.argmax(axis=1)
    after = current.argmax(axis=1)
    flipped = [i for i in np.flatnonzero(before != after) if baseline.probes[i] not in allowed]
    props = {"flips": len(flipped), "max_flips": max_flips}
    if len(flipped) <= max_flips:
        return Outcome(True, properties=props)
    severity = sorted(flipped, key=lambda i: -(current[i, after[i]] - current[i, before[i]]))
    rows = [
        [
            baseline.probes[i],
            baseline.classes[before[i]],
            baseline.classes[after[i]],
            float(baseline.probabilities[i, before[i]]),
            float(current[i, after[i]]),
        ]
        for i in severity[:MAX_LISTED]
    ]
    lines = [
        f"{len(flipped)} probes changed their predicted class (at most {max_flips} allowed)",
        *_table(
            ["probe", "baseline", "current", "P(baseline class) then", "P(current class) now"], rows
        ),
    ]
    if len(flipped) > MAX_LISTED:
        lines.append(f"... and {len(flipped) - MAX_LISTED} more")
    return Outcome(False, lines, props)


def probe_tolerances(
    baseline: Baseline,
    default: float,
    per_order: Mapping[int, float],
    per_probe: Mapping[str, float],
) -> np.ndarray:
    """Tolerance per probe: its own override, else its order's, else the default."""
    orders = _orders(baseline)
    tolerance = np.array([per_order.get(int(k), default) for k in orders], dtype=np.float64)
    for i, name in enumerate(baseline.probes):
        if name in per_probe:
            tolerance[i] = per_probe[name]
    return tolerance


def _moved_table(
    baseline: Baseline,
    cells: list[tuple[int, int]],
    reference: str,
    current: np.ndarray,
    difference: np.ndarray,
    tolerance: np.ndarray,
) -> list[str]:
    """Rows probe, class, baseline (value or band), current, difference, tolerance; most severe
    first (difference beyond tolerance), the first MAX_LISTED and a count."""
    ordered = sorted(cells, key=lambda c: -(abs(difference[c]) - tolerance[c]))
    rows = [
        [
            baseline.probes[i],
            baseline.classes[j],
            reference_for(baseline, (i, j), reference),
            float(current[i, j]),
            f"{difference[i, j]:+.3f}",
            float(tolerance[i, j]),
        ]
        for i, j in ordered[:MAX_LISTED]
    ]
    lines = _table(["probe", "class", "baseline", "current", "difference", "tolerance"], rows)
    if len(ordered) > MAX_LISTED:
        lines.append(f"... and {len(ordered) - MAX_LISTED} more")
    return lines


def reference_for(baseline: Baseline, cell: tuple[int, int], kind: str) -> str:
    i, j = cell
    if kind == "band":
        return f"{baseline.band_center[i, j]:.3f} (band)"
    return f"{baseline.probabilities[i, j]:.3f}"


def check_probability_drift(baseline: Baseline, sweep: Sweep, tolerance: np.ndarray) -> Outcome:
    """|P_now(c) - P_baseline(c)| <= tolerance of the probe, for every probe and class."""
    current = _current(baseline, sweep)
    difference = current - baseline.probabilities
    limits = np.broadcast_to(tolerance[:, None], difference.shape)
    bad = [tuple(x) for x in np.argwhere(np.abs(difference) > limits + 1e-12)]
    largest = float(np.abs(difference).max()) if difference.size else 0.0
    props = {"max_abs_delta": round(largest, 6), "drifted": len(bad)}
    if not bad:
        return Outcome(True, properties=props)
    lines = [
        f"{len(bad)} probe probabilities moved beyond tolerance (largest |dp| = {largest:.3f})"
    ]
    lines += _moved_table(baseline, bad, "value", current, difference, limits)
    return Outcome(False, lines, props)


BAND_FACTOR = 1.5


def band_score(
    probabilities: np.ndarray, center: np.ndarray, spread: np.ndarray, floor: float, cap: float
) -> float:
    """Mean over probes and classes of min(|P - center| / max(spread, floor), cap)."""
    distance = np.abs(probabilities - center) / np.maximum(spread, floor)
    return float(np.minimum(distance, cap).mean())


def band_distances(baseline: Baseline, sweep: Sweep) -> np.ndarray:
    """Per probe and class: min(|P_now - center| / max(spread, floor), cap)."""
    current = _current(baseline, sweep)
    distance = np.abs(current - baseline.band_center) / np.maximum(
        baseline.band_spread, baseline.band_floor
    )
    return np.minimum(distance, baseline.band_cap)


def band_threshold(
    baseline: Baseline, max_score: float | None = None, factor: float = BAND_FACTOR
) -> float:
    """``max_score`` if given, else ``factor`` times the largest leave-one-out score of the
    calibration seeds (how far one seed sits from the others: the seed noise of this model)."""
    if max_score is not None:
        return float(max_score)
    return factor * max(baseline.band_loo_scores)


def check_band(
    baseline: Baseline, sweep: Sweep, max_score: float | None = None, factor: float = BAND_FACTOR
) -> Outcome:
    """The seed band: the mean distance of today's probabilities from the calibration seeds'
    mean, in seed spreads (floored, capped), must not exceed the threshold.

    Retraining with another seed moves a few probes a lot; a change in the data moves many. The
    mean distance tells the two apart where a per-probe tolerance cannot (README, "Seed band").
    """
    if baseline.band_center is None:
        return Outcome(
            False,
            ["the baseline has no seed band: add drift.band and run with --featureprobe-update"],
        )
    distances = band_distances(baseline, sweep)
    score = float(distances.mean())
    threshold = band_threshold(baseline, max_score, factor)
    props = {"band_score": round(score, 4), "band_threshold": round(threshold, 4)}
    if score <= threshold:
        return Outcome(True, properties=props)
    current = _current(baseline, sweep)
    cells = sorted(((i, j) for i, j in np.ndindex(*distances.shape)), key=lambda c: -distances[c])
    rows = [
        [
            baseline.probes[i],
            baseline.classes[j],
            f"{baseline.band_center[i, j]:.3f} +- {baseline.band_spread[i, j]:.3f}",
            float(current[i, j]),
            f"{current[i, j] - baseline.band_center[i, j]:+.3f}",
            float(distances[i, j]),
        ]
        for i, j in cells[:MAX_LISTED]
        if distances[i, j] > 1
    ]
    how = (
        f"max_score {max_score:g}"
        if max_score is not None
        else f"{factor:g} x the largest leave-one-out score of the calibration seeds, "
        f"{max(baseline.band_loo_scores):.3f}"
    )
    lines = [
        f"seed band score {score:.3f} > {threshold:.3f} ({how}): today's probabilities sit "
        f"on average {score:.2f} seed spreads from the mean of seeds {baseline.band_seeds}",
        *_table(
            ["probe", "class", "band (mean +- spread)", "current", "difference", "spreads"], rows
        ),
    ]
    far = int((distances > 1).sum())
    if far > len(rows):
        lines.append(f"... {far} cells in all lie more than one spread away")
    return Outcome(False, lines, props)


def rank_correlation(a: np.ndarray, b: np.ndarray, method: str = "spearman") -> float:
    """Spearman's rho (Pearson correlation of average ranks) or Kendall's tau-b."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2:
        return 1.0
    if method == "spearman":
        ra, rb = _average_ranks(a), _average_ranks(b)
        ra, rb = ra - ra.mean(), rb - rb.mean()
        denominator = np.sqrt((ra**2).sum() * (rb**2).sum())
        return float((ra * rb).sum() / denominator) if denominator else 1.0
    if method == "kendall":
        i, j = np.triu_indices(len(a), 1)
        sa, sb = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
        concordant_minus_discordant = float((sa * sb).sum())
        n_a, n_b = float((sa != 0).sum()), float((sb != 0).sum())
        return concordant_minus_discordant / np.sqrt(n_a * n_b) if n_a and n_b else 1.0
    raise ValueError(f"method must be spearman or kendall, not {method!r}")


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _single_attributions(
    probabilities: np.ndarray, probes: Sequence[str]
) -> tuple[list[str], np.ndarray]:
    zero = probabilities[list(probes).index("zero")]
    rows = [i for i, p in enumerate(probes) if p != "zero" and "+" not in p]
    return [probes[i] for i in rows], probabilities[rows] - zero


def check_rank_agreement(
    baseline: Baseline,
    sweep: Sweep,
    method: str = "spearman",
    minimum: float | None = None,
    top_k: int | None = None,
    min_overlap: int | None = None,
) -> Outcome:
    """Per class: rank correlation of single-feature attributions (dP) >= minimum, and the
    overlap of the top-k features toward the class >= min_overlap."""
    names, before = _single_attributions(baseline.probabilities, baseline.probes)
    _, after = _single_attributions(_current(baseline, sweep), baseline.probes)
    rows, failing = [], 0
    for j, cls in enumerate(baseline.classes):
        row: list[Any] = [cls]
        ok = True
        if minimum is not None:
            value = rank_correlation(before[:, j], after[:, j], method)
            ok &= value >= minimum - 1e-12
            row.append(f"{method} {value:.3f} (min {minimum:g})")
        if top_k is not None:
            top_before = [names[i] for i in np.argsort(-before[:, j], kind="stable")[:top_k]]
            top_after = [names[i] for i in np.argsort(-after[:, j], kind="stable")[:top_k]]
            overlap = len(set(top_before) & set(top_after))
            needed = min_overlap if min_overlap is not None else top_k
            ok &= overlap >= needed
            row.append(
                f"top {top_k} overlap {overlap} (min {needed}): "
                f"{', '.join(top_before)} -> {', '.join(top_after)}"
            )
        row.append("ok" if ok else "DRIFT")
        failing += not ok
        rows.append(row)
    headers = (
        ["class"]
        + (["rank agreement"] if minimum is not None else [])
        + (["top-k"] if top_k is not None else [])
        + ["verdict"]
    )
    table = _table(headers, rows)
    if not failing:
        return Outcome(True, properties={"classes_drifted": 0})
    return Outcome(
        False,
        [f"attribution ranking drifted for {failing} of {len(baseline.classes)} classes", *table],
        {"classes_drifted": failing},
    )


def check_interaction_drift(baseline: Baseline, sweep: Sweep, max_delta: float) -> Outcome:
    """For pairs: |interaction_now(c) - interaction_baseline(c)| <= max_delta."""

    def interactions(probabilities: np.ndarray) -> tuple[list[int], np.ndarray]:
        index = {p: i for i, p in enumerate(baseline.probes)}
        zero = probabilities[index["zero"]]
        pairs = [i for i, p in enumerate(baseline.probes) if p.count("+") == 1]
        values = []
        for i in pairs:
            first, second = baseline.probes[i].split("+")
            values.append(
                probabilities[i] - probabilities[index[first]] - probabilities[index[second]] + zero
            )
        return pairs, np.array(values).reshape(len(pairs), len(baseline.classes))

    pairs, before = interactions(baseline.probabilities)
    _, after = interactions(_current(baseline, sweep))
    if not pairs:
        return Outcome(False, ["the baseline has no pairs: set drift.order to 2 or more"])
    delta = np.abs(after - before)
    bad = [tuple(x) for x in np.argwhere(delta > max_delta + 1e-12)]
    props = {"max_interaction_delta": round(float(delta.max()), 6), "drifted": len(bad)}
    if not bad:
        return Outcome(True, properties=props)
    ordered = sorted(bad, key=lambda r: -delta[r])
    rows = [
        [
            baseline.probes[pairs[k]],
            baseline.classes[j],
            float(before[k, j]),
            float(after[k, j]),
            f"{after[k, j] - before[k, j]:+.3f}",
            max_delta,
        ]
        for k, j in ordered[:MAX_LISTED]
    ]
    lines = [
        f"{len(bad)} pair interactions moved beyond {max_delta:g}",
        *_table(["pair", "class", "baseline", "current", "difference", "tolerance"], rows),
    ]
    if len(bad) > MAX_LISTED:
        lines.append(f"... and {len(bad) - MAX_LISTED} more")
    return Outcome(False, lines, props)


# --- drift checks as expectations of a file ------------------------------------------------------


@dataclass
class DriftCheck:
    """One drift check of a file's ``drift:`` section, run like an expectation."""

    kind: str  # flips, max_abs_delta, rank, interaction or band
    decl: Any  # spec.DriftDecl

    def needed_order(self) -> int:
        return self.decl.order if self.decl.order is not None else 1

    def needed_probes(self) -> list[tuple[str, ...]]:
        return []

    def check(self, context: CheckContext) -> Outcome:
        baseline: Baseline = context.baseline()
        outcome = self._check(baseline, context.sweep)
        if not outcome.passed:
            note = recorded_elsewhere(baseline)
            if note:
                outcome.lines.append(note)
        return outcome

    def _check(self, baseline: Baseline, sweep: Sweep) -> Outcome:
        values = self.decl.values
        if self.kind == "flips":
            allowed = [_probe_name(sweep, p) for p in values.get("allow_flips", [])]
            return check_flips(baseline, sweep, values.get("max_flips", 0), allowed)
        if self.kind == "max_abs_delta":
            tolerance = probe_tolerances(
                baseline,
                values.get("max_abs_delta", 1.0),
                values.get("per_order", {}),
                {_probe_name(sweep, k): v for k, v in values.get("per_probe", {}).items()},
            )
            return check_probability_drift(baseline, sweep, tolerance)
        if self.kind == "rank":
            rank = values["rank"]
            return check_rank_agreement(
                baseline,
                sweep,
                rank.get("method", "spearman"),
                rank.get("min"),
                rank.get("top_k"),
                rank.get("min_overlap"),
            )
        if self.kind == "interaction":
            return check_interaction_drift(baseline, sweep, values["interaction"])
        band = values["band"]
        return check_band(baseline, sweep, band.get("max_score"), band.get("factor", BAND_FACTOR))


# Recorded facts that can change numbers, as a note names them: libraries first, then the platform.
_NOTED_LIBRARIES = ("tensorflow", "keras", "numpy", "pytest-featureprobe")


def recorded_elsewhere(
    baseline: Baseline,
    versions: Mapping[str, str] | None = None,
    platform: Mapping[str, str] | None = None,
) -> str | None:
    """A note when the baseline was recorded with other library versions or on another platform
    than today's (``versions``, ``platform``: default this process's), naming only what differs
    and only what the baseline recorded (old baselines have no platform); else None."""
    versions = library_versions() if versions is None else versions
    platform = platform_facts() if platform is None else platform
    then: list[str] = []  # what differs, as recorded and as now
    now: list[str] = []
    for name in _NOTED_LIBRARIES:
        old, new = baseline.versions.get(name), versions.get(name)
        if old is not None and new is not None and old != new:
            then.append(f"{name} {old}")
            now.append(f"{name} {new}")
    recorded = baseline.platform
    differs = [k for k in ("python", "onednn", "cpu", "os") if k in recorded and k in platform]
    # Compared as the cache key sees them: a Python patch release or oneDNN "1" vs "true"
    # cannot change a sweep, so they are not worth a note.
    then_key, now_key = cache_platform(recorded), cache_platform(platform)
    differs = [k for k in differs if str(then_key[k]) != str(now_key[k])]
    if "python" in differs:
        then.append(f"Python {recorded['python']}")
        now.append(f"Python {platform['python']}")
    if "onednn" in differs:
        then.append(_onednn(recorded["onednn"]))
        now.append(_onednn(platform["onednn"]))
    where = [k for k in ("cpu", "os") if k in differs]
    if not then and not where:
        return None

    def phrase(facts: list[str], place: Mapping[str, str], recorded_with: bool) -> str:
        text = ("with " if recorded_with and facts else "") + ", ".join(facts)
        if where:
            text += (" on " if text else "on ") + " ".join(str(place[k]) for k in where)
        return text

    return (
        f"note: the baseline was recorded {phrase(then, recorded, True)}; now "
        f"{phrase(now, platform, False)}: numeric differences may come from that"
    )


def _onednn(setting: str) -> str:
    return "oneDNN default" if setting == "default" else f"TF_ENABLE_ONEDNN_OPTS={setting}"


def _probe_name(sweep: Sweep, probe: Any) -> str:
    """A probe given as a name (``zero``, ``4``, ``4+5``) or a feature list, as its sweep name."""
    if isinstance(probe, list):
        return sweep.name_of(probe)
    text = str(probe)
    if text == "zero":
        return text
    return sweep.name_of(text.split("+"))
