"""``featureprobe record MODEL -o FILE``: write an expectation file (and its baseline) that holds
today's behaviour, and check that it passes before anything is written."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import display_path
from .common import (
    COLLECTED,
    EXIT_OK,
    YAML_SUFFIXES,
    CommandError,
    allow_path_option,
    context_options,
    existing,
    fraction_arg,
    make_session,
    model_options,
    order_arg,
    refuse_to_replace,
    write_failure,
)
from .sources import Source, load_source, source_sweep
from .yaml_writer import yaml_lines, yaml_scalar

if TYPE_CHECKING:
    from ..baseline import Baseline
    from ..contexts import Context
    from ..spec import Document
    from ..spec.context_decl import ContextDecl
    from ..sweep import Sweep


def _floor(value: float, digits: int = 3) -> float:
    scale = 10**digits
    return math.floor(value * scale + 1e-9) / scale


def _relative(target: Path, start: Path) -> str:
    from ..files import resolved

    target, start = resolved(target), resolved(start)
    try:
        common = Path(os.path.commonpath([target, start]))
    except ValueError:  # another drive on Windows
        return target.as_posix()
    if common == Path(common.anchor):  # nothing shared but the root: absolute reads better
        return target.as_posix()
    return Path(os.path.relpath(target, start)).as_posix()


def _model_section(
    source: Source, out_dir: Path, context: ContextDecl, pin: str | None = None
) -> dict[str, Any]:
    """The recorded file's ``model:`` section, with paths relative to the recorded file; a
    loaded model file keeps its pin, or is pinned to the digest ``pin``. The context is
    written out unless it is the zero vector of a token space (the seed method, unsaid)."""
    section = _unpinned_model_section(source, out_dir)
    decl = source.document.model if source.document is not None else None
    if pin is not None:
        section["sha256"] = pin
    elif decl is not None and decl.sha256 is not None:
        section["sha256"] = decl.sha256
    if not context.is_zero or source.model.space.categorical:
        section["context"] = context.value()  # as recorded_context names it
    return section


def recorded_context(source: Source, out_dir: Path, context: ContextDecl) -> ContextDecl:
    """``context`` as the recorded file in ``out_dir`` declares it: a data file named relative
    to that folder (so the baseline records the definition pytest will read)."""
    file = context.data_file
    if file is None:
        return context
    base = source.path.parent if source.document is not None else Path.cwd()
    return replace(context, rows=_relative(base / file, out_dir))


def _load_section(
    model: Path, features: Any, classes: Any, outputs: str | None, out_dir: Path
) -> dict[str, Any]:
    """``load:`` and what goes with it; files (the model, a feature-space file given as a Path)
    relative to the recorded file's folder ``out_dir``."""
    from ..spec import plain_data

    section: dict[str, Any] = {"load": _relative(model, out_dir)}
    if isinstance(features, Path):
        section["features"] = _relative(features, out_dir)
    elif features is not None:
        section["features"] = plain_data(features)
    if classes is not None:
        section["classes"] = list(classes)
    if outputs is not None:
        section["outputs"] = outputs
    return section


def _unpinned_model_section(source: Source, out_dir: Path) -> dict[str, Any]:
    from ..spec import plain_data

    if source.document is None:
        return _load_section(
            source.path, source.features_arg, source.classes_arg, source.outputs_arg, out_dir
        )
    decl, base = source.document.model, source.path.parent
    if decl.kind == "train":
        values = plain_data(decl.values)
        values["data"] = _relative(base / values["data"], out_dir)
        return {"train": values}
    features = base / decl.features if isinstance(decl.features, str) else decl.features
    return _load_section(
        base / decl.values["target"], features, decl.classes, decl.outputs, out_dir
    )


def recorded_text(
    source: Source,
    sweep: Sweep,
    out_path: Path,
    slack: float,
    order: int,
    max_abs_delta: float,
    context: ContextDecl,
    allow_flips: Sequence[str] = (),
    pin: str | None = None,
) -> tuple[str, int]:
    """The expectation file of today's behaviour, and how many expectations it holds
    (``pin``: the model file's sha256, to write).

    ``allow_flips`` are probes whose top two classes tie within the baseline's rounding: the
    stored probabilities cannot say which class they predict. In a context of rows each
    feature alone predicts the class most rows take with it, on a share of rows ``slack``
    times the observed one (``min_fraction``).
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
    lines += yaml_lines({"model": _model_section(source, out_path.parent, context, pin)})
    lines.append("expect:")
    count = 0

    def margin_lines(margin: float) -> list[str]:
        wanted = _floor(margin * slack)
        if wanted <= 0:
            return [f"    # observed margin {margin:.3f}: too close to require one"]
        return [f"    min_margin: {wanted:g}   # observed {margin:.3f}"]

    zero = table.loc["zero"]
    lines.append(f"  - biased_toward: {yaml_scalar(zero['predicted'])}")
    lines += margin_lines(float(zero["margin"]))
    count += 1
    singles, recorded = _singles_lines(sweep, slack, margin_lines)
    lines += singles
    count += recorded
    lines += [
        "drift:",
        f"  order: {order}",
        "  max_flips: 0",
        f"  max_abs_delta: {max_abs_delta:g}",
    ]
    if allow_flips:
        lines.append("  # top classes tied within the baseline's rounding (6 decimals):")
        lines.append(
            f"  allow_flips: [{', '.join(yaml_scalar(p, flow=True) for p in allow_flips)}]"
        )
    return "\n".join(lines) + "\n", count


def _singles_lines(sweep: Sweep, slack: float, margin_lines: Any) -> tuple[list[str], int]:
    """Each feature alone and what it predicts; how many were recorded (a feature with which
    no class takes most rows of a context is left out, with a comment saying so)."""
    table, lines, count = sweep.table, [], 0
    singles = table[table["order"] == 1]
    for name, features in zip(singles.index, singles["features"], strict=True):
        predicts = _predicts_lines(sweep, name, slack, margin_lines)
        if predicts[0].lstrip().startswith("#"):  # nothing that would hold can be required
            lines.append(f"  # alone: {yaml_scalar(features[0])}: {predicts[0].lstrip('# ')}")
            continue
        lines.append(f"  - alone: {yaml_scalar(features[0])}")
        lines += predicts
        count += 1
    return lines, count


def _predicts_lines(sweep: Sweep, name: str, slack: float, margin_lines: Any) -> list[str]:
    """What one probe predicts: on the zero vector its class and margin; in context the class
    most rows take with it, and the share of rows required."""
    from ..expectations.probe import DEFAULT_SHARE
    from ..sweep import share_column

    row = sweep.table.loc[name]
    if sweep.context_rows is None:
        return [f"    predicts: {yaml_scalar(row['predicted'])}", *margin_lines(row["margin"])]
    shares = {c: float(row[share_column(c)]) for c in sweep.classes}
    top = max(shares, key=shares.get)  # ties: the first class
    wanted = _floor(shares[top] * slack)
    observed = f"observed {shares[top]:.3f} of {sweep.context_rows} rows"
    if shares[top] < DEFAULT_SHARE:  # a behaviour of some rows only is not the probe's
        return [f"# no class takes most rows (the largest, {top}, {observed}): not recorded"]
    if wanted > 0:
        return [f"    predicts: {yaml_scalar(top)}", f"    min_fraction: {wanted:g}   # {observed}"]
    return [f"    predicts: {yaml_scalar(top)}   # most rows ({observed})"]


def _rounding_ties(stored: Baseline, exact: Baseline) -> list[str]:
    """Probes whose predicted class differs between the stored (rounded) and exact values."""
    flipped = stored.probabilities.argmax(axis=1) != exact.probabilities.argmax(axis=1)
    return [probe for probe, tie in zip(stored.probes, flipped, strict=True) if tie]


def _self_check(
    document: Document, source: Source, sweep: Sweep, probed_in: Context, baseline: Baseline
) -> None:
    """Run the recorded expectations against the sweep they were read from, through the
    runner's one way of checking an item: they must pass."""
    from ..expectations import CheckContext
    from ..runner import check_item

    context = CheckContext(source.model, sweep, probed_in, baseline=lambda: baseline)
    failed = []
    for item in document.items:
        if item.error is not None:
            failed.append(f"{item.name}: {item.error}")
        elif not check_item(item, context, document.path).passed:
            failed.append(item.name)
    if failed:
        raise RuntimeError(f"the recorded file would fail at once ({', '.join(failed)}); a bug")


def _pin(args: argparse.Namespace, source: Source | None) -> str | None:
    """The digest ``--pin`` writes: of the ``.keras`` file (before it is loaded, so the load
    checks it), or of the file an expectation file loads (its own pin if it has one)."""
    from ..models import file_sha256

    if not args.pin:
        return None
    if source is None:
        return args.sha256 or file_sha256(existing(args.model, "model file"))
    decl = source.document.model
    if decl.kind != "load":
        raise CommandError(f"--pin pins a loaded model file; this model is {decl.kind}:")
    return decl.sha256 or file_sha256(source.path.parent / decl.values["target"])


def _write(out_path: Path, text: str, target: Path, baseline: Baseline, check: Any) -> None:
    """The YAML file and its baseline staged, the YAML checked (``check(document)``), then both
    renamed into place together (``files.staged_files``): a failure leaves both as they were."""
    from ..files import staged_files
    from ..spec import load_document

    try:
        with staged_files([out_path, target]) as (staged_yaml, staged_baseline):
            staged_yaml.write_text(text, encoding="utf-8")
            check(load_document(staged_yaml))
            staged_baseline.write_text(baseline.to_text(), encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{write_failure(exc, out_path)}; nothing was written") from None


def run(args: argparse.Namespace) -> int:
    from ..baseline import Baseline, baseline_path, model_facts

    out_path = Path(args.output)
    if out_path.suffix not in YAML_SUFFIXES:
        raise CommandError(f"--output must be a .yaml file, not {args.output}")
    target = baseline_path(out_path)
    refuse_to_replace([out_path, target], args.force, "the expectation file and its baseline")
    session = make_session(args)
    pin = None
    if Path(args.model).suffix == ".keras":
        pin = _pin(args, None)
        args.sha256 = pin or args.sha256  # the load checks the recorded pin
    source = load_source(args, session, args.model)
    if source.document is not None:
        pin = _pin(args, source)
    order = max(args.order, 1)
    sweep, context, decl = source_sweep(args, source, session, order)
    decl = recorded_context(source, out_path.parent, decl)
    sweep = replace(sweep, context_definition=decl.definition())  # as the recorded file reads
    baseline = Baseline.from_sweep(sweep, model_facts(source.model), max_order=order)
    stored = Baseline.from_text(baseline.to_text(), target)  # as pytest will read it
    text, count = recorded_text(
        source,
        sweep,
        out_path,
        args.margin_slack,
        order,
        args.max_abs_delta,
        decl,
        allow_flips=_rounding_ties(stored, baseline),
        pin=pin,
    )
    _write(
        out_path, text, target, baseline, lambda d: _self_check(d, source, sweep, context, stored)
    )
    print(
        f"recorded {display_path(out_path)}: {count} expectations (the zero probe and "
        f"{count - 1} features alone), drift over {len(baseline.probes)} probes "
        f"(order {order}, max_abs_delta {args.max_abs_delta:g}, no flips)"
    )
    if not context.is_zero:
        print(f"in the context of {context.name} ({len(context.rows)} rows)")
    print(f"baseline {display_path(target)}")
    print(f"check it: pytest {display_path(out_path)}")
    if not any(out_path.match(pattern) for pattern in COLLECTED):
        print(
            f"note: pytest collects files named {' or '.join(COLLECTED)}; rename "
            f"{out_path.name} or add its pattern to the featureprobe_files ini value",
            file=sys.stderr,
        )
    return EXIT_OK


def add_parser(commands: Any) -> None:
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
        type=order_arg,
        default=1,
        help="probe order of the baseline (default 1; 2 adds pairs)",
    )
    record.add_argument(
        "--margin-slack",
        type=fraction_arg,
        default=0.5,
        metavar="F",
        help="min_margin = observed margin x F, rounded down (default 0.5; 0 drops margins)",
    )
    record.add_argument(
        "--max-abs-delta",
        type=fraction_arg,
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
    context_options(record)
    model_options(record)
    allow_path_option(record)
    record.set_defaults(run=run)
