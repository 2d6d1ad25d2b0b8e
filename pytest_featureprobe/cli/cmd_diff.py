"""``featureprobe diff A B``: compare baseline A with baseline B, or with the sweep of model B."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import (
    EXIT_DRIFT,
    EXIT_OK,
    PROG,
    CommandError,
    allow_path_option,
    context_options,
    count_arg,
    existing,
    fraction_arg,
    make_session,
    model_options,
)
from .sources import load_source, source_sweep

if TYPE_CHECKING:
    from ..baseline import Baseline
    from ..expectations import Outcome
    from ..sweep import Sweep


def _read_baseline_arg(argument: str) -> Baseline:
    from ..baseline import read_baseline

    return read_baseline(existing(argument, "baseline"))


@dataclass
class Comparison:
    """Baseline A against B (a baseline or a model's sweep): the checks and the drift rows."""

    before: Baseline
    compared: str  # what B is, in words
    flips: Outcome
    moved: Outcome
    rows: list[dict[str, Any]]
    band: dict[str, Any] | None
    note: str | None

    @property
    def passed(self) -> bool:
        return self.flips.passed and self.moved.passed


def _other_side(args: argparse.Namespace, before: Baseline) -> tuple[Sweep, str, Baseline | None]:
    """B as a sweep, what it is in words, and B's baseline when it is one."""
    if Path(args.b).suffix == ".json":
        after = _read_baseline_arg(args.b)
        return after.as_sweep(f"baseline {Path(args.b).name}"), f"baseline {args.b}", after
    session = make_session(args)
    source = load_source(args, session, args.b)
    order = max(before.order, _deepest(before))  # a declared set may hold deeper probes
    sweep, _, _ = source_sweep(args, source, session, order, drift=True)
    return sweep, f"{source.model.description} ({args.b})", None


def _deepest(baseline: Baseline) -> int:
    """The largest number of features of a probe the baseline holds."""
    from ..probes import probe_features

    return max((len(probe_features(p)) for p in baseline.probes), default=0)


def _declared_set(baseline: Baseline, sweep: Sweep) -> list[str] | None:
    """The baseline's probes when they are a narrower set (``drift.probes``) than every probe
    of the sweep up to the baseline's order; None when they are all of them."""
    table = sweep.table
    every = set(table.index[table["order"] <= baseline.order])
    return None if set(baseline.probes) == every else list(baseline.probes)


def compare(
    args: argparse.Namespace, before: Baseline, sweep: Sweep, compared: str, after: Baseline | None
) -> Comparison:
    """Run the diff's checks (flips, max_abs_delta) and the seed band score (information)."""
    from ..baseline import check_flips, check_probability_drift, drift_rows, probe_tolerances
    from ..provenance import recorded_elsewhere

    tolerance = probe_tolerances(before, args.max_abs_delta, {}, {})
    flips = check_flips(before, sweep, args.max_flips)
    moved = check_probability_drift(before, sweep, tolerance)
    band = None
    if before.band is not None:
        band = {
            "score": round(before.band.score(before.current(sweep)), 4),
            "threshold": round(before.band.threshold(), 4),
            "seeds": before.band.seeds,
        }
    result = Comparison(
        before, compared, flips, moved, drift_rows(before, sweep, tolerance), band, None
    )
    if not result.passed:  # say when the two were recorded with other libraries or elsewhere
        now = (after.versions, after.platform) if after is not None else (None, None)
        result.note = recorded_elsewhere(before.versions, before.platform, *now)
    return result


def _json(args: argparse.Namespace, result: Comparison) -> str:
    before, flips, moved = result.before, result.flips, result.moved
    payload = {
        "a": args.a,
        "b": args.b,
        "passed": result.passed,
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
        "band": result.band,
        "note": result.note,
        "probes": result.rows,
    }
    return json.dumps(payload, indent=1)


def _table_lines(args: argparse.Namespace, rows: list[dict[str, Any]]) -> list[str]:
    from ..expectations import text_table

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
    lines = text_table(headers, table_rows)
    if len(rows) > len(shown):
        lines.append(f"... {len(rows) - len(shown)} more probes (--max-rows 0 shows all)")
    return lines


def _text(args: argparse.Namespace, result: Comparison) -> list[str]:
    before, flips, moved, band = result.before, result.flips, result.moved, result.band
    n_flips = flips.properties["flips"]
    lines = [
        f"baseline {args.a}: {len(before.probes)} probes up to order {before.order}, "
        f"classes {', '.join(before.classes)} ({before.model.get('description', 'model')})",
        f"compared {result.compared}",
        *_table_lines(args, result.rows),
        f"flips: {n_flips} probe{'s' if n_flips != 1 else ''} changed the predicted class "
        f"(at most {args.max_flips} allowed): {'ok' if flips.passed else 'FAIL'}",
        f"max_abs_delta: largest |dp| {moved.properties['max_abs_delta']:.3f} "
        f"(tolerance {args.max_abs_delta:g}), {moved.properties['drifted']} probabilities beyond: "
        f"{'ok' if moved.passed else 'FAIL'}",
    ]
    if band is not None:
        lines.append(
            f"seed band (information): score {band['score']:.3f}, threshold "
            f"{band['threshold']:.3f}, seeds {band['seeds']}"
        )
    if result.note is not None:
        lines.append(result.note)
    lines.append("no drift beyond tolerance" if result.passed else "DRIFT beyond tolerance")
    return lines


def run(args: argparse.Namespace) -> int:
    from ..baseline import BaselineError, check_compatible

    if Path(args.a).suffix != ".json":
        raise CommandError(f"A must be a baseline (.json), not {args.a}")
    before = _read_baseline_arg(args.a)
    sweep, compared, after = _other_side(args, before)
    try:
        check_compatible(before, sweep, args.a, probes=_declared_set(before, sweep))
    except BaselineError as exc:
        message = exc.message.split(". If this change is intended")[0]
        print(f"{PROG}: {args.a} and {args.b} cannot be compared: {message}", file=sys.stderr)
        return EXIT_DRIFT
    result = compare(args, before, sweep, compared, after)
    print(_json(args, result) if args.format == "json" else "\n".join(_text(args, result)))
    return EXIT_OK if result.passed else EXIT_DRIFT


def add_parser(commands: Any) -> None:
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
        type=fraction_arg,
        default=0.1,
        metavar="D",
        help="tolerance of |P_B(c) - P_A(c)| (default 0.1)",
    )
    diff.add_argument(
        "--max-flips",
        type=count_arg,
        default=0,
        metavar="N",
        help="probes allowed to change their predicted class (default 0)",
    )
    diff.add_argument("--format", choices=("table", "json"), default="table")
    diff.add_argument(
        "--max-rows",
        type=count_arg,
        default=20,
        metavar="N",
        help="probes listed, most moved first (default 20; 0: all)",
    )
    context_options(diff)
    model_options(diff)
    allow_path_option(diff)
    diff.set_defaults(run=run)
