"""``featureprobe calibrate FILE``: train the calibration seeds of a file's seed band and write its
baseline, as ``pytest FILE --featureprobe-update`` does, with progress."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import display_path, plural
from ..keras_runtime import start_keras_quietly
from .common import (
    EXIT_OK,
    YAML_SUFFIXES,
    CommandError,
    allow_path_option,
    bounded,
    cache_dir_option,
    confined_output,
    existing,
    make_session,
    seed_count_arg,
)
from .progress import Progress
from .sources import check_confined

if TYPE_CHECKING:
    from ..baseline import Baseline
    from ..models import ProbeModel
    from ..spec import Document


def _calibrated_file(args: argparse.Namespace) -> tuple[Document, list[int], Path]:
    """The expectation file, its calibration seeds and where its baseline goes, all checked."""
    from ..baseline import baseline_path
    from ..baseline.seed_test import needed_seeds
    from ..spec import load_document

    path = existing(args.file, "expectation file")
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
            f"{path}: no drift: section; add one with false_alarm: 0.05 or band: true (README, "
            "'Retraining gate')"
        )
    spec_seed = int(decl.values.get("seed", 0))
    if args.seeds is not None:
        seeds = list(range(spec_seed, spec_seed + args.seeds))
    else:
        seeds = drift.calibration_seeds(spec_seed)
    if len(seeds) < 2:
        raise CommandError("the seed band needs at least 2 calibration seeds")
    false_alarm = drift.values.get("false_alarm")
    if false_alarm is not None and len(seeds) < needed_seeds(false_alarm):
        raise CommandError(
            f"{path.name}: false_alarm {false_alarm:g} needs at least "
            f"{needed_seeds(false_alarm)} calibration seeds; --seeds gives {len(seeds)}"
        )
    target = Path(args.baseline) if args.baseline else baseline_path(path, drift.baseline)
    check_confined(document, args, None if args.baseline else target)
    if args.baseline:
        confined_output(args, args.baseline)
    _check_target(target, path, by_name=not args.baseline and not drift.baseline, args=args)
    return document, seeds, target


def _check_target(target: Path, path: Path, by_name: bool, args: argparse.Namespace) -> None:
    """Before any training: the baseline can be written at ``target``, and replaces only a
    baseline (as pytest's update does; files in the baseline folder are baselines by name)
    unless ``--force``, which the refusal names with what would be lost."""
    from ..baseline.store import not_a_baseline
    from ..files import resolved, unwritable

    problem = unwritable(target, "the baseline", display_path(target))
    if problem is not None:
        raise CommandError(f"{problem}; nothing was written")
    if resolved(target) == resolved(path):
        raise CommandError(f"--baseline {args.baseline} is the expectation file itself")
    refusal = None if by_name or args.force else not_a_baseline(target)
    if refusal is not None:
        raise CommandError(
            f"refusing to write the baseline over {display_path(target)}: {refusal}; pass "
            "--force to replace it (what it holds now is lost)"
        )


def _print_band(document: Document, baseline: Baseline, accuracies: list[float]) -> None:
    """Each seed's training accuracy and leave-one-out score, and the band threshold."""
    from ..baseline.checks import BandLimit
    from ..expectations import text_table

    band = baseline.band
    cells = baseline.seed_cells
    if cells is not None:  # the seed test: its cells, and how the threshold is set
        false_alarm = document.drift.values["false_alarm"]
        print(
            f"seed test: {len(cells.seeds)} seeds x ({len(baseline.probes)} probes + "
            f"{plural(len(cells.slices), 'slice')} of at least {cells.min_rows} rows) x "
            f"{len(baseline.classes)} classes; fails when at most {false_alarm:g} of the "
            f"{len(cells.seeds) + 1} scores (the seeds' and today's) reach today's"
        )
        return
    rows = [
        [seed, accuracy, score]
        for seed, accuracy, score in zip(band.seeds, accuracies, band.loo_scores, strict=True)
    ]
    print("\n".join(text_table(["seed", "training accuracy", "leave-one-out score"], rows)))
    gate = document.drift.gates().get("band", BandLimit())
    threshold = gate.threshold(baseline)
    how = band.explain_threshold(gate.max_score, gate.factor).split(" of the calibration")[0]
    print(f"band threshold {threshold:.3f} ({how})")


def run(args: argparse.Namespace) -> int:
    from ..baseline import write_baseline
    from ..runner import declared_baseline, declared_model
    from ..runner.declared import drift_context, swept_in

    document, seeds, target = _calibrated_file(args)
    path, decl, drift = document.path, document.model, document.drift
    progress = Progress()
    session = make_session(args)
    start_keras_quietly()
    started = time.monotonic()
    progress.line(f"training the model of {path.name} (seed {int(decl.values.get('seed', 0))})")
    model = declared_model(session, decl, path.parent)
    context, sweep = swept_in(session, document, model, drift_context(document))
    accuracies: list[float] = []

    def report_seed(seed: int, seed_model: ProbeModel) -> None:
        accuracies.append(float(seed_model.info.get("training_accuracy", float("nan"))))
        progress.step(
            f"calibrating: seed {seed} ({len(accuracies)} of {len(seeds)}) ... trained "
            f"(training accuracy {accuracies[-1]:.3f})",
            len(accuracies),
            len(seeds),
        )

    baseline = declared_baseline(
        session, document, model, sweep, seeds, report_seed, context, args.workers, progress.line
    )
    write_baseline(target, baseline, replace_any=True)  # checked before training (--force)
    print(
        f"calibrated {display_path(path)}: {len(seeds)} seeds, {len(baseline.probes)} probes up to "
        f"order {baseline.order}, in {time.monotonic() - started:.1f} s"
    )
    _print_band(document, baseline, accuracies)
    print(f"baseline {display_path(target)}")
    if "band" not in drift.values:
        print(
            f"note: the drift section of {path.name} has no band check, so pytest does not read "
            "the band; add `band: true` to use it",
            file=sys.stderr,
        )
    return EXIT_OK


def add_parser(commands: Any) -> None:
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
        type=seed_count_arg,
        default=None,
        metavar="K",
        help="K seeds from the spec's seed (default: drift.calibrate.seeds of the file, else 5)",
    )
    calibrate.add_argument(
        "--baseline", metavar="FILE", help="write here (default: where pytest looks for it)"
    )
    calibrate.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="replace the --baseline FILE (or the declared drift.baseline) even when it is not a "
        "featureprobe baseline",
    )
    calibrate.add_argument(
        "--workers",
        type=bounded(int, 1, None, "a whole number of at least 1"),
        default=None,
        metavar="N",
        help="processes that train the seeds not yet cached (default: auto, one per core up to "
        "4 when that is faster; needs --cache-dir, through which the weights come back)",
    )
    cache_dir_option(calibrate)
    allow_path_option(calibrate)
    calibrate.set_defaults(run=run)
