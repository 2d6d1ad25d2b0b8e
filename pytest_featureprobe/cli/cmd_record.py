"""``featureprobe record MODEL -o FILE``: write an expectation file (and its baseline) that holds
today's behaviour, and check that it passes before anything is written."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import display_path, plural
from .common import (
    COLLECTED,
    EXIT_OK,
    YAML_SUFFIXES,
    CommandError,
    allow_path_option,
    confined_output,
    context_options,
    existing,
    fraction_arg,
    make_session,
    model_options,
    order_arg,
    refuse_to_replace,
    seed_count_arg,
    write_failure,
)
from .sources import Source, load_source, source_sweep
from .yaml_writer import (
    drift_lines,
    model_section,
    recorded_context,
    seed_range,
    seed_test_rate,
    unsettled,
    wanted_lines,
    yaml_lines,
    yaml_scalar,
)

if TYPE_CHECKING:
    from ..baseline import Baseline
    from ..contexts import Context
    from ..spec import Document
    from ..spec.context_decl import ContextDecl
    from ..sweep import Sweep

#: Calibration seeds a recorded gate is trained with. A class required because all K seeds
#: predict it is one that a further seed (exchangeable with them) is the only one to miss with
#: probability at most 1 / (K + 1): 1 in 20. With 5, a class that 1 seed in 5 reads otherwise
#: slips through a third of the time (0.8 ** 5), and small data sets have many such
#: (python -m benchmarks.record_gate measures both on fresh seeds).
RECORD_SEEDS = 19


def recorded_text(
    source: Source,
    sweep: Sweep,
    out_path: Path,
    slack: float,
    order: int,
    max_abs_delta: float | None,
    context: ContextDecl,
    allow_flips: Sequence[str] = (),
    pin: str | None = None,
    seeds: Sequence[int] = (),
    seed_sweeps: Sequence[Sweep] = (),
) -> tuple[str, int]:
    """The expectation file of today's behaviour, and how many expectations it holds
    (``pin``: the model file's sha256, to write).

    ``seed_sweeps``: the sweeps of the calibration ``seeds`` (the ``train:`` model retrained
    with each): then the drift section is the seed test, and a probe's class is required only
    where every seed predicts it, with a margin (or share) of ``slack`` times the smallest of
    theirs, so a retrain that differs only by seed passes. Without them the tolerances are
    stated ones.
    ``allow_flips`` are probes whose top two classes tie within the baseline's rounding: the
    stored probabilities cannot say which class they predict. In a context of rows each
    feature alone predicts the class most rows take with it (``min_fraction``).
    """
    references = list(seed_sweeps) or [sweep]
    why = "the smallest over the calibration seeds" if seeds else "the observed one"
    lines = [
        "# Recorded by `featureprobe record`: the behaviour of "
        f"{source.model.description}, fingerprint {source.model.fingerprint or 'none'}.",
        f"# Each min_margin is {why} times {slack:g}, rounded down; the baseline"
        if slack
        else "# No margins are required (--margin-slack 0); the baseline",
        "# holds every probability. When a change is intended, edit this file or record again.",
        "featureprobe: 1",
    ]
    lines += yaml_lines({"model": model_section(source, out_path.parent, context, pin)})
    lines.append("expect:")
    count = 0
    table = sweep.table
    for name, features in zip(table.index, table["features"], strict=True):
        if table.loc[name, "order"] > 1:
            continue
        key = "biased_toward" if name == "zero" else "alone"
        shown = "" if name == "zero" else yaml_scalar(features[0])
        wanted = wanted_lines(references, name, slack)
        if wanted[0].startswith("#"):  # nothing that would hold can be required
            lines.append(f"  # {key}{': ' + shown if shown else ''}: {wanted[0].lstrip('# ')}")
            continue
        if name == "zero":
            lines.append(f"  - biased_toward: {wanted[0].split(': ', 1)[1]}")
            lines += wanted[1:]
        else:
            lines += [f"  - alone: {shown}", *wanted]
        count += 1
    flips = sorted({*allow_flips, *unsettled(references)}, key=list(table.index).index)
    lines += drift_lines(order, max_abs_delta, flips, seeds)
    return "\n".join(lines) + "\n", count


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


def _write(out_path: Path, text: str, target: Path, baseline: Any) -> None:
    """The YAML file and its baseline staged, the baseline made (and the YAML checked) from the
    staged document (``baseline(document)``), then both renamed into place together
    (``files.staged_files``): a failure leaves both as they were."""
    from ..files import staged_files
    from ..spec import load_document

    try:
        with staged_files([out_path, target]) as (staged_yaml, staged_baseline):
            staged_yaml.write_text(text, encoding="utf-8")
            made = baseline(load_document(staged_yaml))
            staged_baseline.write_text(made.to_text(), encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{write_failure(exc, out_path)}; nothing was written") from None


def _gate(args: argparse.Namespace, source: Source) -> list[int]:
    """The calibration seeds of the seed test (none: stated tolerances). By default a
    ``train:`` model gets them (``--seeds K`` from its spec's seed), a loaded one cannot."""
    trained = source.document is not None and source.document.model.kind == "train"
    gate = args.gate or ("seeds" if trained else "fixed")
    if gate == "fixed":
        return []
    if not trained:
        raise CommandError(
            f"--gate {gate} retrains the model with other seeds, so it needs an expectation file "
            "with model: train: (this model is loaded from a file)"
        )
    spec_seed = int(source.document.model.values.get("seed", 0))
    return list(range(spec_seed, spec_seed + args.seeds))


def _band_baseline(session: Any, source: Source, sweep: Sweep, context: Context) -> Any:
    """``baseline(document)`` for ``_write``: what ``pytest --featureprobe-update`` writes for
    the staged document (the seeds' models and sweeps come from the session's memo)."""
    from ..runner import declared_baseline

    def make(document: Document) -> Baseline:
        return declared_baseline(session, document, source.model, sweep, context=context)

    return make


def run(args: argparse.Namespace) -> int:
    from ..baseline import Baseline, baseline_path, model_facts
    from ..runner.declared import seed_sweeps

    out_path = Path(args.output)
    if out_path.suffix not in YAML_SUFFIXES:
        raise CommandError(f"--output must be a .yaml file, not {args.output}")
    target = baseline_path(out_path)
    for written in (args.output, str(target)):  # the file and its baseline, as pytest would
        confined_output(args, written)
    refuse_to_replace([out_path, target], args.force, "the expectation file and its baseline")
    session = make_session(args)
    pin = None
    if Path(args.model).suffix == ".keras":
        pin = _pin(args, None)
        args.sha256 = pin or args.sha256  # the load checks the recorded pin
    source = load_source(args, session, args.model)
    if source.document is not None:
        pin = _pin(args, source)
    seeds = _gate(args, source)
    order = max(args.order, 1)
    sweep, context, decl = source_sweep(args, source, session, order)
    decl = recorded_context(source, out_path.parent, decl)
    sweep = replace(sweep, context_definition=decl.definition())  # as the recorded file reads
    band: list[Sweep] = []
    if seeds:
        model_decl, base = source.document.model, source.path.parent
        band = seed_sweeps(session, model_decl, base, seeds, order, context=context)[0]
    baseline = Baseline.from_sweep(sweep, model_facts(source.model), max_order=order)
    stored = Baseline.from_text(baseline.to_text(), target)  # as pytest will read it
    delta = args.max_abs_delta if seeds or args.max_abs_delta is not None else 0.1
    text, count = recorded_text(
        source,
        sweep,
        out_path,
        args.margin_slack,
        order,
        delta,
        decl,
        allow_flips=_rounding_ties(stored, baseline),
        pin=pin,
        seeds=seeds,
        seed_sweeps=band,
    )
    make = _band_baseline(session, source, sweep, context) if seeds else lambda d: baseline

    def checked(document: Document) -> Baseline:
        made = make(document)
        _self_check(document, source, sweep, context, Baseline.from_text(made.to_text(), target))
        return made

    _write(out_path, text, target, checked)
    singles = int((sweep.table["order"] <= 1).sum())
    _print_recorded(
        out_path, target, (count, singles), len(baseline.probes), order, context, seeds, delta
    )
    return EXIT_OK


def _print_recorded(
    out_path: Path,
    target: Path,
    counts: tuple[int, int],
    probes: int,
    order: int,
    context: Context,
    seeds: Sequence[int],
    delta: float | None,
) -> None:
    """What was recorded (``counts``: expectations, and probes of order 0 and 1), what the
    gate is, and (for stated tolerances) what a retrain needs."""
    if seeds:
        gate = f"the seed test of seeds {seed_range(seeds)}, false_alarm "
        gate += f"{seed_test_rate(len(seeds)):g}"
        gate += "" if delta is None else f", max_abs_delta {delta:g}"
    else:
        gate = f"max_abs_delta {delta:g}, no flips"
    count, singles = counts
    left = f"; {singles - count} left as comments" if count < singles else ""
    print(
        f"recorded {display_path(out_path)}: {plural(count, 'expectation')} (the zero probe "
        f"and each feature alone{left}), drift over {plural(probes, 'probe')} (order {order}, "
        f"{gate})"
    )
    if not context.is_zero:
        print(f"in the context of {context.name} ({plural(len(context.rows), 'row')})")
    print(f"baseline {display_path(target)}")
    allow = "".join(f" --featureprobe-allow-path {display_path(d)}" for d in _outside(out_path))
    print(f"check it: pytest {display_path(out_path)}{allow}")
    if seeds:
        print(
            f"seed noise measured on {plural(len(seeds), 'seed')}: a class is required only "
            "where all of them predict it with a margin, which a retrain that differs only by "
            f"seed misses at most 1 time in {len(seeds) + 1} for each probe; one on changed data "
            "fails"
        )
    else:
        print(
            f"note: max_abs_delta {delta:g} and no flips are stated tolerances, not measured: a "
            "retrain, even with only another seed, can move further; to gate retrains, record "
            "a model: train: file with the seed test (its default), or widen --max-abs-delta "
            "and allow_flips",
            file=sys.stderr,
        )
    if not any(out_path.match(pattern) for pattern in COLLECTED):
        print(
            f"note: pytest collects files named {' or '.join(COLLECTED)}; rename "
            f"{out_path.name} or add its pattern to the featureprobe_files ini value",
            file=sys.stderr,
        )


def _outside(out_path: Path) -> list[Path]:
    """The folders of the files the recorded file names outside what pytest, run here on it,
    takes as the project (this folder and the file's own): its run needs them allowed."""
    from ..confinement import resolve
    from ..files import resolved
    from ..runner import refusals
    from ..spec import load_document

    document = load_document(out_path)
    found = refusals(document, [Path.cwd(), out_path.parent])
    folders = [resolved(resolve(entry.value, out_path.parent)).parent for entry, _ in found]
    return list(dict.fromkeys(folders))


def add_parser(commands: Any) -> None:
    record = commands.add_parser(
        "record",
        help="write an expectation file and baseline capturing today's behaviour",
        description="Write an expectation file that holds today's behaviour (the zero probe's "
        "class and each feature's class alone, with margins a fraction of those observed) and a "
        "drift section with its baseline (__featureprobe__/<stem>.json beside the file). For a "
        "train: model the gate is the seed test over calibration seeds (a seed-only retrain "
        "passes; close calls are left out); for a loaded model, stated tolerances. `pytest "
        "OUTPUT` passes at once.",
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
        "--gate",
        choices=("seeds", "band", "fixed"),
        default=None,
        help="seeds: the seed test over --seeds K retrained seeds (default for a train: model; "
        "band is its old name); fixed: stated tolerances, max_abs_delta and no flips (default "
        "for a loaded model)",
    )
    record.add_argument(
        "--seeds",
        type=seed_count_arg,
        default=RECORD_SEEDS,
        metavar="K",
        help=f"calibration seeds of the seed test, from the spec's seed (default {RECORD_SEEDS}: a "
        "class all of them predict is one a further seed breaks at most 1 time in 20)",
    )
    record.add_argument(
        "--max-abs-delta",
        type=fraction_arg,
        default=None,
        metavar="D",
        help="drift tolerance on each probability (default 0.1 with --gate fixed; none with the "
        "seed test)",
    )
    force = "replace an existing file and its baseline"
    record.add_argument("-f", "--force", action="store_true", help=force)
    pin = "pin the loaded model file: write its sha256, so pytest refuses a replaced file"
    record.add_argument("--pin", action="store_true", help=pin)
    context_options(record)
    model_options(record)
    allow_path_option(record)
    record.set_defaults(run=run)
