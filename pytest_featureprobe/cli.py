"""The ``featureprobe`` command: explore a probe table, put a gate on a model, compare, calibrate.

Subcommands (each with ``--help``):

- ``sweep``: print the probe table of a ``.keras`` model or of an expectation file's model
- ``record``: write an expectation file (and its baseline) that captures today's behaviour
- ``diff``: compare a baseline with another baseline or with a model, as a drift table
- ``calibrate``: train the K calibration seeds of a file's seed band and write its baseline

Exit codes: 0 ok, 1 drift or failure, 2 usage error (bad arguments, a missing or malformed file).
Progress goes to stderr, and only when stderr is a terminal.

Nothing heavy is imported until a subcommand needs it, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import FeatureProbeError

if TYPE_CHECKING:
    import numpy as np

    from .baseline import Baseline
    from .models import ProbeModel
    from .session import ProbeSession
    from .spec import Document
    from .sweep import Sweep

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_USAGE = 2
PROG = "featureprobe"
YAML_SUFFIXES = (".yaml", ".yml")
COLLECTED = ("featureprobe_*.yaml", "featureprobe_*.yml")


class CommandError(Exception):
    """A usage mistake found by the command itself: one line on stderr, exit status 2."""


# --- progress -----------------------------------------------------------------------------------


def _is_tty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Progress on a terminal: a counter redrawn in place and one line per step.

    Quiet (writes nothing) when the stream is not a TTY, so logs and pipes stay clean.
    """

    def __init__(self, stream: IO[str] | None = None, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_tty(self.stream) if enabled is None else enabled
        self._last = 0.0
        self._open = False

    def line(self, text: str) -> None:
        """One finished line of progress (e.g. a calibration seed done)."""
        if not self.enabled:
            return
        self._end_counter()
        self.stream.write(text + "\n")
        self.stream.flush()

    def count(self, label: str, done: int, total: int) -> None:
        """Redraw ``label: done/total (pct%)`` in place, at most ten times a second."""
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        percent = 100 * done / total if total else 100.0
        self.stream.write(f"\r{label}: {done:,}/{total:,} ({percent:.0f}%)")
        self.stream.flush()
        self._open = True
        if done >= total:
            self._end_counter()

    def _end_counter(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class _CountingModel:
    """A ProbeModel seen through a counter: the sweep calls ``predict_active`` once per chunk."""

    def __init__(self, model: ProbeModel, progress: Progress, label: str, total: int) -> None:
        self._model = model
        self._progress = progress
        self._label = label
        self._total = total
        self._done = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def predict_active(self, active: np.ndarray) -> np.ndarray:
        out = self._model.predict_active(active)
        self._done += len(active)
        self._progress.count(self._label, min(self._done, self._total), self._total)
        return out


def sweep_with_progress(
    model: ProbeModel,
    order: int,
    probes: Sequence[Sequence[str]] = (),
    progress: Progress | None = None,
) -> Sweep:
    """``run_sweep`` with a probe counter for sweeps larger than one batch (on a terminal)."""
    from .probes import count_probes
    from .sweep import DEFAULT_CHUNK_SIZE, run_sweep

    progress = progress if progress is not None else Progress()
    total = count_probes(len(model.space), order) + len(probes)
    if progress.enabled and total > DEFAULT_CHUNK_SIZE:
        counted = _CountingModel(model, progress, f"sweeping {len(model.space)} features", total)
        sweep = run_sweep(counted, order=order, probes=probes)  # type: ignore[arg-type]
        progress.count(counted._label, total, total)
        return sweep
    return run_sweep(model, order=order, probes=probes)


# --- TensorFlow start-up --------------------------------------------------------------------------


@contextmanager
def _native_stderr_muted() -> Iterator[None]:
    """Silence file descriptor 2 (TensorFlow's C++ start-up logs bypass Python's sys.stderr)."""
    try:
        sys.stderr.flush()
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def _start_keras() -> None:
    """Import Keras and let TensorFlow probe its devices with its C++ logs silenced (oneDNN and
    CUDA notices on every start). Set TF_CPP_MIN_LOG_LEVEL=0 or 1 to see them."""
    from .backend import load_keras

    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2") in ("0", "1"):
        load_keras()
        return
    with _native_stderr_muted():
        keras = load_keras()
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()


# --- models from the command line -----------------------------------------------------------------


@dataclass
class Source:
    """The model a command works on, and where it came from."""

    path: Path
    model: ProbeModel
    document: Document | None = None  # for an expectation file
    features_arg: Any = None  # --features / --feature-names as given (for record)
    classes_arg: list[str] | None = None
    outputs_arg: str | None = None


def _sha256(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise argparse.ArgumentTypeError(f"not a SHA-256 digest (64 hex digits): {text!r}")
    return text.lower()


def _csv_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise CommandError(f"empty name in {text!r}: give names separated by commas")
    return items


def _existing(path_text: str, what: str) -> Path:
    path = Path(path_text)
    if not path.exists():
        raise CommandError(f"{what} not found: {path_text}")
    if not path.is_file():
        raise CommandError(f"{what} is not a file: {path_text}")
    return path


def load_source(args: argparse.Namespace, session: ProbeSession, argument: str) -> Source:
    """A ``.keras`` file (space and classes from options or its sidecar) or an expectation file's
    ``train:`` / ``load:`` model."""
    path = _existing(argument, "model file")
    features_file = getattr(args, "features", None)
    names = _csv_list(getattr(args, "feature_names", None))
    classes = _csv_list(getattr(args, "classes", None))
    outputs = getattr(args, "outputs", None)
    sha256 = getattr(args, "sha256", None)
    if path.suffix == ".keras":
        features: Any = names
        if features_file is not None:
            features = _existing(features_file, "feature space file")
        _start_keras()
        model = session.load(path, features, classes, outputs=outputs, sha256=sha256)
        return Source(path, model, None, features, classes, outputs)
    if path.suffix in YAML_SUFFIXES:
        if features_file is not None or names is not None or classes or outputs or sha256:
            raise CommandError(
                "--features, --feature-names, --classes, --outputs and --sha256 apply to a "
                f".keras model; {path.name} declares them in its model: section"
            )
        from .spec import load_document

        document = load_document(path)
        check_confined(document, args)
        decl = document.model
        if decl.kind == "fixture":
            raise CommandError(
                f"{path}: the model comes from the pytest fixture {decl.values['target']!r}, which "
                "only a pytest run can provide; run pytest on the file, or give the command a "
                ".keras model (ProbeModel.save writes one) or a file with model: train: or load:"
            )
        _start_keras()
        model = session.declared_model(decl, path.parent)
        return Source(path, model, document)
    raise CommandError(
        f"{argument}: expected a .keras model or an expectation file (.yaml); "
        "legacy .h5 models load after model.save('model.keras')"
    )


def check_confined(
    document: Document, args: argparse.Namespace, baseline: Path | None = None
) -> None:
    """Refuse an expectation file that names files outside the working directory, its own
    folder and the folders given with --allow-path (as pytest confines them to its rootdir)."""
    from .paths import refusals

    roots = [Path.cwd(), document.path.parent]
    roots += [Path(p) for p in getattr(args, "allow_path", None) or []]
    found = refusals(document, roots, baseline)
    if found:
        message = (
            found[0][1]
            .describe(Path.cwd())
            .replace(
                "--featureprobe-allow-path DIR or the featureprobe_allowed_paths ini option",
                "--allow-path DIR",
            )
        )
        raise CommandError(message)


def _session(args: argparse.Namespace) -> ProbeSession:
    from .session import ProbeSession

    return ProbeSession(getattr(args, "cache_dir", None))


def _bounded(kind: type, low: float, high: float | None, what: str):
    """An argparse type: a ``kind`` number from ``low`` to ``high`` (None: no upper bound)."""

    def parse(value: str):
        try:
            number = kind(value)
        except ValueError:
            noun = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"not {noun}: {value!r}") from None
        if number < low or (high is not None and number > high):
            raise argparse.ArgumentTypeError(f"{what}, not {value}")
        return number

    return parse


_order = _bounded(int, 0, 4, "the order is 0 to 4")
_fraction = _bounded(float, 0, 1, "a number from 0 to 1")
_non_negative_int = _bounded(int, 0, None, "a non-negative integer")


def _seed_count(value: str) -> int:
    number = _non_negative_int(value)
    if number < 2:
        raise argparse.ArgumentTypeError("the seed band needs at least 2 seeds")
    return number


def _shown(path: Path) -> str:
    """A path as typed from the current directory when it lies inside it."""
    from .errors import display_path

    return display_path(path, Path.cwd())


# --- sweep ----------------------------------------------------------------------------------------


def sweep_records(sweep: Sweep) -> list[dict[str, Any]]:
    """One JSON-ready record per probe: features, probabilities, prediction, margin, deltas."""
    from .sweep import delta_column, interaction_column, prob_column

    table = sweep.table
    classes = sweep.classes
    probs = {c: table[prob_column(c)].tolist() for c in classes}
    deltas = {c: table[delta_column(c)].tolist() for c in classes}
    pairs = {c: table[interaction_column(c)].tolist() for c in classes}
    columns = zip(
        table.index,
        table["order"],
        table["features"],
        table["predicted"],
        table["margin"],
        strict=True,
    )
    records = []
    for i, (name, order, features, predicted, margin) in enumerate(columns):
        record: dict[str, Any] = {
            "probe": str(name),
            "order": int(order),
            "features": list(features),
            "p": {c: probs[c][i] for c in classes},
            "predicted": str(predicted),
            "margin": float(margin),
            "dP": {c: deltas[c][i] for c in classes},
        }
        if order == 2:
            record["interaction"] = {c: pairs[c][i] for c in classes}
        records.append(record)
    return records


def _sweep_csv(sweep: Sweep) -> str:
    from .sweep import delta_column, interaction_column, prob_column

    table = sweep.table
    columns = (
        ["order", "features"]
        + [prob_column(c) for c in sweep.classes]
        + ["predicted", "margin"]
        + [delta_column(c) for c in sweep.classes]
    )
    if sweep.order >= 2:
        columns += [interaction_column(c) for c in sweep.classes]
    frame = table[columns].copy()
    frame["features"] = [json.dumps(list(f)) for f in frame["features"]]
    return frame.to_csv(float_format="%.6f", lineterminator="\n")


def cmd_sweep(args: argparse.Namespace) -> int:
    session = _session(args)
    source = load_source(args, session, args.model)
    sweep = sweep_with_progress(source.model, args.order)
    out = sys.stdout
    if args.format == "json":
        payload = {
            "model": source.model.description,
            "fingerprint": source.model.fingerprint,
            "classes": list(sweep.classes),
            "features": list(sweep.space.features),
            "order": sweep.order,
            "probes": sweep_records(sweep),
        }
        out.write(json.dumps(payload, indent=1) + "\n")
    elif args.format == "csv":
        out.write(_sweep_csv(sweep))
    else:
        out.write(
            f"{source.model.description}: {len(sweep)} probes up to order {sweep.order}, "
            f"classes {', '.join(sweep.classes)}\n"
        )
        out.write(sweep.to_string(max_rows=args.max_rows or None) + "\n")
    return EXIT_OK


# --- baselines ------------------------------------------------------------------------------------


# --- record ---------------------------------------------------------------------------------------


def _scalar(value: Any, flow: bool = False) -> str:
    """A YAML scalar that reads back as the same value; strings are quoted when plain text would
    read as something else (a number, a boolean, a mapping)."""
    import yaml

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    plain = bool(text) and text == text.strip() and "#" not in text and ": " not in text
    plain = plain and not text.startswith(tuple("-?:,[]{}!&*|>'\"%@`"))
    plain = plain and not (flow and any(c in text for c in ",[]{}"))
    if plain:
        try:
            plain = yaml.safe_load(text) == text
        except yaml.YAMLError:
            plain = False
    return text if plain else json.dumps(text, ensure_ascii=False)


def _yaml_lines(mapping: dict[str, Any], indent: int = 0) -> list[str]:
    """Block mappings, with lists of scalars in flow style (``hidden: [32, 32]``)."""
    pad = "  " * indent
    lines = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines += _yaml_lines(value, indent + 1)
        elif isinstance(value, (list, tuple)):
            lines.append(f"{pad}{key}: [{', '.join(_scalar(v, flow=True) for v in value)}]")
        else:
            lines.append(f"{pad}{key}: {_scalar(value)}")
    return lines


def _floor(value: float, digits: int = 3) -> float:
    scale = 10**digits
    return math.floor(value * scale + 1e-9) / scale


def _relative(target: Path, start: Path) -> str:
    target, start = target.resolve(), start.resolve()
    try:
        common = Path(os.path.commonpath([target, start]))
    except ValueError:  # another drive on Windows
        return target.as_posix()
    if common == Path(common.anchor):  # nothing shared but the root: absolute reads better
        return target.as_posix()
    return Path(os.path.relpath(target, start)).as_posix()


def _model_section(source: Source, out_dir: Path, pin: str | None = None) -> dict[str, Any]:
    """The recorded file's ``model:`` section, with paths relative to the recorded file; a
    loaded model file keeps its pin, or is pinned to the digest ``pin``."""
    section = _unpinned_model_section(source, out_dir)
    decl = source.document.model if source.document is not None else None
    if pin is not None:
        section["sha256"] = pin
    elif decl is not None and decl.sha256 is not None:
        section["sha256"] = decl.sha256
    return section


def _unpinned_model_section(source: Source, out_dir: Path) -> dict[str, Any]:
    if source.document is None:
        section: dict[str, Any] = {"load": _relative(source.path, out_dir)}
        if isinstance(source.features_arg, Path):
            section["features"] = _relative(source.features_arg, out_dir)
        elif source.features_arg is not None:
            section["features"] = list(source.features_arg)
        if source.classes_arg is not None:
            section["classes"] = list(source.classes_arg)
        if source.outputs_arg is not None:
            section["outputs"] = source.outputs_arg
        return section
    from .spec import plain_data

    decl, base = source.document.model, source.path.parent
    if decl.kind == "train":
        values = plain_data(decl.values)
        values["data"] = _relative(base / values["data"], out_dir)
        return {"train": values}
    section = {"load": _relative(base / decl.values["target"], out_dir)}
    if isinstance(decl.features, str):
        section["features"] = _relative(base / decl.features, out_dir)
    elif decl.features is not None:
        section["features"] = plain_data(decl.features)
    if decl.classes is not None:
        section["classes"] = list(decl.classes)
    if decl.outputs is not None:
        section["outputs"] = decl.outputs
    return section


def recorded_text(
    source: Source,
    sweep: Sweep,
    out_path: Path,
    slack: float,
    order: int,
    max_abs_delta: float,
    allow_flips: Sequence[str] = (),
    pin: str | None = None,
) -> tuple[str, int]:
    """The expectation file of today's behaviour, and how many expectations it holds
    (``pin``: the model file's sha256, to write).

    ``allow_flips`` are probes whose top two classes tie within the baseline's rounding: the
    stored probabilities cannot say which class they predict.
    """
    table = sweep.table
    lines = [
        "# Recorded by `featureprobe record`: the behaviour of "
        f"{source.model.description}, fingerprint {source.model.fingerprint or 'none'}.",
        f"# Each min_margin is the observed margin times {slack:g}, rounded down; the baseline"
        if slack
        else "# No margins are required (--margin-slack 0); the baseline",
        "# holds every probability. When a change is intended, edit this file or record again.",
        "featureprobe: 1",
    ]
    lines += _yaml_lines({"model": _model_section(source, out_path.parent, pin)})
    lines.append("expect:")
    count = 0

    def margin_lines(margin: float) -> list[str]:
        wanted = _floor(margin * slack)
        if wanted <= 0:
            return [f"    # observed margin {margin:.3f}: too close to require one"]
        return [f"    min_margin: {wanted:g}   # observed {margin:.3f}"]

    zero = table.loc["zero"]
    lines.append(f"  - biased_toward: {_scalar(zero['predicted'])}")
    lines += margin_lines(float(zero["margin"]))
    count += 1
    singles = table[table["order"] == 1]
    for features, predicted, margin in zip(
        singles["features"], singles["predicted"], singles["margin"], strict=True
    ):
        lines.append(f"  - alone: {_scalar(features[0])}")
        lines.append(f"    predicts: {_scalar(predicted)}")
        lines += margin_lines(float(margin))
        count += 1
    lines += [
        "drift:",
        f"  order: {order}",
        "  max_flips: 0",
        f"  max_abs_delta: {max_abs_delta:g}",
    ]
    if allow_flips:
        lines.append("  # top classes tied within the baseline's rounding (6 decimals):")
        lines.append(f"  allow_flips: [{', '.join(_scalar(p, flow=True) for p in allow_flips)}]")
    return "\n".join(lines) + "\n", count


def _rounding_ties(stored: Baseline, exact: Baseline) -> list[str]:
    """Probes whose predicted class differs between the stored (rounded) and exact values."""
    flipped = stored.probabilities.argmax(axis=1) != exact.probabilities.argmax(axis=1)
    return [probe for probe, tie in zip(stored.probes, flipped, strict=True) if tie]


def _self_check(document: Document, source: Source, sweep: Sweep, baseline: Baseline) -> None:
    """Run the recorded expectations against the sweep they were read from: they must pass."""
    from .expectations import CheckContext

    def rows(on: str) -> Any:
        raise CommandError("recorded files have no on: checks")

    context = CheckContext(source.model, sweep, rows, baseline=lambda: baseline)
    failed = []
    for item in document.items:
        if item.error is not None:
            failed.append(f"{item.name}: {item.error}")
        elif not item.expectation.check(context).passed:
            failed.append(item.name)
    if failed:
        raise RuntimeError(f"the recorded file would fail at once ({', '.join(failed)}); a bug")


def cmd_record(args: argparse.Namespace) -> int:
    from .baseline import Baseline, baseline_path, model_facts, write_baseline
    from .spec import load_document

    out_path = Path(args.output)
    if out_path.suffix not in YAML_SUFFIXES:
        raise CommandError(f"--output must be a .yaml file, not {args.output}")
    target = baseline_path(out_path)
    existing = [p for p in (out_path, target) if p.exists()]
    if existing and not args.force:
        raise CommandError(
            f"{_shown(existing[0])} exists; pass --force to replace it (and its baseline)"
        )
    session = _session(args)
    pin = None
    if args.pin and Path(args.model).suffix == ".keras":
        from .models import file_sha256

        # Hashed before loading, and checked by the load: the pin is what was recorded.
        pin = args.sha256 = args.sha256 or file_sha256(_existing(args.model, "model file"))
    source = load_source(args, session, args.model)
    if args.pin and source.document is not None:
        decl = source.document.model
        if decl.kind != "load":
            raise CommandError(f"--pin pins a loaded model file; this model is {decl.kind}:")
        from .models import file_sha256

        pin = decl.sha256 or file_sha256(source.path.parent / decl.values["target"])
    order = max(args.order, 1)
    sweep = sweep_with_progress(source.model, order)
    baseline = Baseline.from_sweep(sweep, model_facts(source.model), max_order=order)
    stored = Baseline.from_text(baseline.to_text(), target)  # as pytest will read it
    text, count = recorded_text(
        source,
        sweep,
        out_path,
        args.margin_slack,
        order,
        args.max_abs_delta,
        allow_flips=_rounding_ties(stored, baseline),
        pin=pin,
    )

    out_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_path.with_name(f".{out_path.name}.tmp{out_path.suffix}")
    try:
        temporary.write_text(text, encoding="utf-8")
        document = load_document(temporary)
        _self_check(document, source, sweep, stored)
        write_baseline(target, baseline, replace_any=True)  # checked above (--force)
        os.replace(temporary, out_path)
    finally:
        temporary.unlink(missing_ok=True)

    print(
        f"recorded {_shown(out_path)}: {count} expectations (the zero probe and "
        f"{count - 1} features alone), drift over {len(baseline.probes)} probes "
        f"(order {order}, max_abs_delta {args.max_abs_delta:g}, no flips)"
    )
    print(f"baseline {_shown(target)}")
    print(f"check it: pytest {_shown(out_path)}")
    if not any(out_path.match(pattern) for pattern in COLLECTED):
        print(
            f"note: pytest collects files named {' or '.join(COLLECTED)}; rename "
            f"{out_path.name} or add its pattern to the featureprobe_files ini value",
            file=sys.stderr,
        )
    return EXIT_OK


# --- diff -----------------------------------------------------------------------------------------


def sweep_from_baseline(baseline: Baseline, description: str = "baseline") -> Sweep:
    """A baseline's probabilities as a Sweep, so the drift checks compare two baselines."""
    import numpy as np
    import pandas as pd

    from .sweep import Sweep, prob_column

    probabilities = baseline.probabilities
    index = pd.Index(baseline.probes, name="probe")
    table = pd.DataFrame(
        probabilities, index=index, columns=[prob_column(c) for c in baseline.classes]
    )
    features = [() if p == "zero" else tuple(p.split("+")) for p in baseline.probes]
    table.insert(0, "order", [len(f) for f in features])
    table.insert(1, "features", features)
    table["predicted"] = np.asarray(baseline.classes, dtype=object)[probabilities.argmax(axis=1)]
    if probabilities.shape[1] >= 2:
        top2 = np.sort(probabilities, axis=1)[:, -2:]
        table["margin"] = top2[:, 1] - top2[:, 0]
    return Sweep(
        table=table,
        classes=tuple(baseline.classes),
        space=baseline.space,
        order=baseline.order,
        model_description=str(baseline.model.get("description", description)),
        fingerprint=baseline.model.get("fingerprint"),
    )


def _read_baseline_arg(argument: str) -> Baseline:
    from .baseline import read_baseline

    return read_baseline(_existing(argument, "baseline"))


def cmd_diff(args: argparse.Namespace) -> int:
    from .baseline import (
        BaselineError,
        band_distances,
        band_threshold,
        check_compatible,
        check_flips,
        check_probability_drift,
        probe_tolerances,
        recorded_elsewhere,
    )
    from .expectations import _table
    from .report import drift_rows

    if Path(args.a).suffix != ".json":
        raise CommandError(f"A must be a baseline (.json), not {args.a}")
    before = _read_baseline_arg(args.a)
    if Path(args.b).suffix == ".json":
        after_baseline = _read_baseline_arg(args.b)
        sweep = sweep_from_baseline(after_baseline, f"baseline {Path(args.b).name}")
        compared = f"baseline {args.b}"
    else:
        source = load_source(args, _session(args), args.b)
        sweep = sweep_with_progress(source.model, before.order)
        compared = f"{source.model.description} ({args.b})"
    try:
        check_compatible(before, sweep, args.a)
    except BaselineError as exc:
        message = exc.message.split(". If this change is intended")[0]
        print(f"{PROG}: {args.a} and {args.b} cannot be compared: {message}", file=sys.stderr)
        return EXIT_DRIFT
    tolerance = probe_tolerances(before, args.max_abs_delta, {}, {})
    flips = check_flips(before, sweep, args.max_flips)
    moved = check_probability_drift(before, sweep, tolerance)
    rows = drift_rows(before, sweep, tolerance)
    band = None
    if before.band_center is not None:
        band = {
            "score": round(float(band_distances(before, sweep).mean()), 4),
            "threshold": round(band_threshold(before), 4),
            "seeds": before.band_seeds,
        }
    passed = flips.passed and moved.passed
    note = None
    if not passed:  # say when the two were recorded with other libraries or elsewhere
        if Path(args.b).suffix == ".json":
            note = recorded_elsewhere(before, after_baseline.versions, after_baseline.platform)
        else:
            note = recorded_elsewhere(before)

    if args.format == "json":
        payload = {
            "a": args.a,
            "b": args.b,
            "passed": passed,
            "classes": list(before.classes),
            "order": before.order,
            "checks": {
                "flips": {"passed": flips.passed, **flips.properties, "lines": flips.lines},
                "max_abs_delta": {
                    "passed": moved.passed,
                    "tolerance": args.max_abs_delta,
                    **moved.properties,
                    "lines": moved.lines,
                },
            },
            "band": band,
            "note": note,
            "probes": rows,
        }
        print(json.dumps(payload, indent=1))
        return EXIT_OK if passed else EXIT_DRIFT

    print(
        f"baseline {args.a}: {len(before.probes)} probes up to order {before.order}, "
        f"classes {', '.join(before.classes)} ({before.model.get('description', 'model')})"
    )
    print(f"compared {compared}")
    shown = rows if not args.max_rows else rows[: args.max_rows]
    table_rows = [
        [
            r["probe"],
            r["predicted_before"]
            if not r["flipped"]
            else f"{r['predicted_before']} -> {r['predicted_after']}",
            r["class"],
            r["baseline"],
            r["current"],
            f"{r['difference']:+.3f}",
            r["tolerance"],
            ", ".join(word for word, on in (("FLIP", r["flipped"]), ("DRIFT", r["beyond"])) if on),
        ]
        for r in shown
    ]
    headers = ["probe", "predicted", "class", "baseline", "current", "difference", "tolerance", ""]
    print("\n".join(_table(headers, table_rows)))
    if len(rows) > len(shown):
        print(f"... {len(rows) - len(shown)} more probes (--max-rows 0 shows all)")
    n_flips = flips.properties["flips"]
    print(
        f"flips: {n_flips} probe{'s' if n_flips != 1 else ''} changed the predicted class "
        f"(at most {args.max_flips} allowed): {'ok' if flips.passed else 'FAIL'}"
    )
    print(
        f"max_abs_delta: largest |dp| {moved.properties['max_abs_delta']:.3f} "
        f"(tolerance {args.max_abs_delta:g}), {moved.properties['drifted']} probabilities beyond: "
        f"{'ok' if moved.passed else 'FAIL'}"
    )
    if band is not None:
        print(
            f"seed band (information): score {band['score']:.3f}, threshold "
            f"{band['threshold']:.3f}, seeds {band['seeds']}"
        )
    if note is not None:
        print(note)
    print("no drift beyond tolerance" if passed else "DRIFT beyond tolerance")
    return EXIT_OK if passed else EXIT_DRIFT


# --- calibrate ------------------------------------------------------------------------------------


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .baseline import band_threshold, baseline_path, write_baseline
    from .spec import load_document

    path = _existing(args.file, "expectation file")
    if path.suffix not in YAML_SUFFIXES:
        raise CommandError(f"calibrate reads an expectation file (.yaml), not {args.file}")
    document = load_document(path)
    decl, drift = document.model, document.drift
    if decl.kind != "train":
        raise CommandError(
            f"{path}: calibrate retrains the model with other seeds, so the file's model must be "
            f"train: (it is {decl.kind}:)"
        )
    if drift is None:
        raise CommandError(
            f"{path}: no drift: section; add one with band: true (README, 'Retraining gate')"
        )
    spec_seed = int(decl.values.get("seed", 0))
    if args.seeds is not None:
        seeds = list(range(spec_seed, spec_seed + args.seeds))
    else:
        seeds = drift.calibration_seeds(spec_seed)
    if len(seeds) < 2:
        raise CommandError("the seed band needs at least 2 calibration seeds")
    target = Path(args.baseline) if args.baseline else baseline_path(path, drift.baseline)
    check_confined(document, args, None if args.baseline else target)
    settings = drift.values.get("band", {})

    progress = Progress()
    session = _session(args)
    _start_keras()
    base = path.parent
    started = time.monotonic()
    progress.line(f"training the model of {path.name} (seed {spec_seed})")
    model = session.declared_model(decl, base)
    sweep = session.sweep(
        model, order=document.sweep_order(), probes=document.extra_probes(model.space)
    )
    accuracies = []

    def report_seed(seed: int, seed_model: ProbeModel) -> None:
        accuracies.append(float(seed_model.info.get("training_accuracy", float("nan"))))
        progress.line(
            f"calibrating: seed {seed} ({len(accuracies)} of {len(seeds)}) ... trained "
            f"(training accuracy {accuracies[-1]:.3f})"
        )

    baseline = session.declared_baseline(document, base, model, sweep, seeds, report_seed)
    write_baseline(target, baseline, replace_any=args.baseline is not None or not drift.baseline)

    from .expectations import _table

    print(
        f"calibrated {_shown(path)}: {len(seeds)} seeds, {len(baseline.probes)} probes up to "
        f"order {baseline.order}, in {time.monotonic() - started:.1f} s"
    )
    rows = [
        [seed, accuracy, score]
        for seed, accuracy, score in zip(seeds, accuracies, baseline.band_loo_scores, strict=True)
    ]
    print("\n".join(_table(["seed", "training accuracy", "leave-one-out score"], rows)))
    threshold = band_threshold(baseline, settings.get("max_score"), settings.get("factor", 1.5))
    how = (
        f"max_score {settings['max_score']:g}"
        if settings.get("max_score") is not None
        else f"{settings.get('factor', 1.5):g} x the largest leave-one-out score"
    )
    print(f"band threshold {threshold:.3f} ({how})")
    print(f"baseline {_shown(target)}")
    if "band" not in drift.values:
        print(
            f"note: the drift section of {path.name} has no band check, so pytest does not read "
            "the band; add `band: true` to use it",
            file=sys.stderr,
        )
    return EXIT_OK


# --- the parser -----------------------------------------------------------------------------------


def _model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("a .keras model saved without featureprobe's sidecar")
    names = group.add_mutually_exclusive_group()
    names.add_argument(
        "--features", metavar="FILE", help="feature space JSON file (FeatureSpace.to_json)"
    )
    names.add_argument(
        "--feature-names", metavar="A,B,C", help="feature names in input order, comma-separated"
    )
    group.add_argument("--classes", metavar="A,C", help="class names in output order")
    group.add_argument(
        "--sha256",
        metavar="HEX",
        type=_sha256,
        help="refuse the .keras file unless its SHA-256 is HEX (checked before loading)",
    )
    group.add_argument(
        "--outputs",
        choices=("probabilities", "logits"),
        help="what the model returns (logits get a softmax; default: from the sidecar, else "
        "probabilities)",
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="cache trained weights here (e.g. .pytest_cache/d/featureprobe, pytest's own); "
        "default: train in memory",
    )


def _allow_path_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help="let an expectation file name files under DIR (besides the working directory and "
        "its own folder; repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Probe a classifier: print its probe table, record its behaviour as an "
        "expectation file, compare baselines, calibrate the retraining gate.",
        epilog="exit status: 0 ok, 1 drift or failure, 2 usage error. "
        "MODEL is a .keras file (its space and classes from the sidecar ProbeModel.save writes, "
        "or --features/--classes) or an expectation file whose model is train: or load:.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sweep = commands.add_parser(
        "sweep",
        help="print a model's probe table",
        description="Print the probe table: the zero probe, each feature alone (and pairs, "
        "triples with --order), class probabilities, predicted class, margin, change from zero.",
    )
    sweep.add_argument("model", metavar="MODEL", help="a .keras file or an expectation .yaml file")
    sweep.add_argument(
        "--order", type=_order, default=1, metavar="N", help="highest probe order (default 1)"
    )
    sweep.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sweep.add_argument(
        "--max-rows",
        type=_non_negative_int,
        default=60,
        metavar="N",
        help="rows of the table format (default 60; 0: all)",
    )
    _model_options(sweep)
    _allow_path_option(sweep)
    sweep.set_defaults(run=cmd_sweep)

    record = commands.add_parser(
        "record",
        help="write an expectation file and baseline capturing today's behaviour",
        description="Write an expectation file that holds today's behaviour (the zero probe's "
        "class and each feature's class alone, with margins a fraction of those observed) and a "
        "drift section with its baseline (__featureprobe__/<stem>.json beside the file). "
        "`pytest OUTPUT` passes at once and fails when a retrained or replaced model moves.",
    )
    record.add_argument("model", metavar="MODEL", help="a .keras file or an expectation .yaml file")
    record.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="featureprobe_<name>.yaml to write"
    )
    record.add_argument(
        "--order",
        type=_order,
        default=1,
        help="probe order of the baseline (default 1; 2 adds pairs)",
    )
    record.add_argument(
        "--margin-slack",
        type=_fraction,
        default=0.5,
        metavar="F",
        help="min_margin = observed margin x F, rounded down (default 0.5; 0 drops margins)",
    )
    record.add_argument(
        "--max-abs-delta",
        type=_fraction,
        default=0.1,
        metavar="D",
        help="drift tolerance on each probability (default 0.1)",
    )
    record.add_argument(
        "-f", "--force", action="store_true", help="replace an existing file and its baseline"
    )
    record.add_argument(
        "--pin",
        action="store_true",
        help="pin the loaded model file: write its sha256, so pytest refuses a replaced file",
    )
    _model_options(record)
    _allow_path_option(record)
    record.set_defaults(run=cmd_record)

    diff = commands.add_parser(
        "diff",
        help="compare a baseline with another baseline or a model",
        description="Compare baseline A with baseline B, or with the sweep of model B (a .keras "
        "file or an expectation file's model), and print what moved. Exit 1 on drift beyond "
        "tolerance.",
    )
    diff.add_argument("a", metavar="A", help="baseline JSON")
    diff.add_argument("b", metavar="B", help="baseline JSON, .keras model or expectation .yaml")
    diff.add_argument(
        "--max-abs-delta",
        type=_fraction,
        default=0.1,
        metavar="D",
        help="tolerance of |P_B(c) - P_A(c)| (default 0.1)",
    )
    diff.add_argument(
        "--max-flips",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="probes allowed to change their predicted class (default 0)",
    )
    diff.add_argument("--format", choices=("table", "json"), default="table")
    diff.add_argument(
        "--max-rows",
        type=_non_negative_int,
        default=20,
        metavar="N",
        help="probes listed, most moved first (default 20; 0: all)",
    )
    _model_options(diff)
    _allow_path_option(diff)
    diff.set_defaults(run=cmd_diff)

    calibrate = commands.add_parser(
        "calibrate",
        help="train the calibration seeds of the retraining gate and write its baseline",
        description="Retrain a file's train: model with K calibration seeds and write its drift "
        "baseline with the seed band, as `pytest FILE --featureprobe-update` does. Prints each "
        "seed's leave-one-out score and the band threshold.",
    )
    calibrate.add_argument("file", metavar="YAML", help="expectation file with train: and drift:")
    calibrate.add_argument(
        "--seeds",
        type=_seed_count,
        default=None,
        metavar="K",
        help="K seeds from the spec's seed (default: drift.calibrate.seeds of the file, else 5)",
    )
    calibrate.add_argument(
        "--baseline", metavar="FILE", help="write here (default: where pytest looks for it)"
    )
    calibrate.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="cache trained weights here (e.g. .pytest_cache/d/featureprobe); default: in memory",
    )
    _allow_path_option(calibrate)
    calibrate.set_defaults(run=cmd_calibrate)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def _error(message: str) -> None:
    text = " ".join(str(message).split("\n"))
    print(f"{PROG}: error: {text}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and argument errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except CommandError as exc:
        _error(str(exc))
    except FeatureProbeError as exc:
        _error(exc.describe(Path.cwd()))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `featureprobe sweep m.keras | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_DRIFT
    return EXIT_USAGE
