"""``featureprobe check FILE...``: run expectation files without pytest, through the same runner.

Each file goes through ``runner.FileRun`` exactly as under pytest: the same collection checks,
model, sweep, baseline and failure text. The file's ``skip``, ``skipif`` and ``xfail`` marks are
honoured as pytest reads them; other marks are pytest's business and ignored here. A model given
by a pytest fixture cannot be built outside pytest: its items are errors that say so.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import display_path
from .common import (
    EXIT_DRIFT,
    EXIT_OK,
    YAML_SUFFIXES,
    CommandError,
    allow_path_option,
    cache_dir_option,
    existing,
    make_session,
)

if TYPE_CHECKING:
    from ..runner import FileRun
    from ..spec import ItemSpec


@dataclass
class ItemResult:
    """One item's outcome, named as pytest names it, and what to print about it."""

    where: str  # file:line
    name: str
    outcome: str  # passed, failed, error, skipped, xfailed or xpassed
    lines: list[str] = field(default_factory=list)


def _mark_outcome(spec: ItemSpec, passed: bool | None) -> tuple[str, str] | None:
    """(outcome, reason) that the item's skip or xfail mark decides, or None. ``passed`` is
    None before the item runs (skips, and xfail with run: false, decide then)."""
    for name, args, kwargs in spec.marks:
        active = bool(args[0]) if args else True
        reason = str(kwargs.get("reason", ""))
        if passed is None and (name == "skip" or (name == "skipif" and active)):
            return "skipped", reason
        if name != "xfail" or not active:
            continue
        if passed is None:
            return ("xfailed", reason) if kwargs.get("run", True) is False else None
        if not passed:
            return "xfailed", reason
        return ("failed" if kwargs.get("strict") else "xpassed"), f"[XPASS(strict)] {reason}"
    return None


def check_file(file_run: FileRun) -> list[ItemResult]:
    """Every item of one file, checked as pytest would check it."""
    from ..errors import FeatureProbeError

    path = display_path(file_run.path)
    try:
        specs = file_run.collect()
    except FeatureProbeError as exc:
        return [ItemResult(f"{path}:{exc.line or 1}", "invalid-file", "error", [exc.describe()])]
    results = []
    for spec in specs:
        where = f"{path}:{spec.line}"
        skipped = _mark_outcome(spec, None)
        if skipped is not None:
            results.append(ItemResult(where, spec.name, skipped[0], [skipped[1]]))
            continue
        if spec.error is not None:  # under pytest: the item's setup fails
            results.append(ItemResult(where, spec.name, "error", [spec.error.describe(Path.cwd())]))
            continue
        try:
            outcome = file_run.check(spec)
        except FeatureProbeError as exc:  # under pytest: the call fails (an xfail mark holds)
            marked = _mark_outcome(spec, False)
            kind = marked[0] if marked else "failed"
            results.append(ItemResult(where, spec.name, kind, [exc.describe(Path.cwd())]))
            continue
        marked = _mark_outcome(spec, outcome.passed)
        kind = marked[0] if marked else ("passed" if outcome.passed else "failed")
        lines = outcome.lines if kind in ("failed", "xfailed") else []
        results.append(ItemResult(where, spec.name, kind, list(lines)))
    return results


def run(args: argparse.Namespace) -> int:
    from .. import DEFAULT_BASELINE_FOLDER
    from ..keras_runtime import start_keras_quietly
    from ..runner import FileRun, RunSettings

    paths = [existing(f, "expectation file") for f in args.files]
    for path in paths:
        if path.suffix not in YAML_SUFFIXES:
            raise CommandError(f"check reads expectation files (.yaml), not {path}")
    session = make_session(args)
    start_keras_quietly()
    settings = RunSettings(
        roots=[Path.cwd(), *(Path(p) for p in args.allow_path or [])],
        baseline_folder=args.baseline_dir or DEFAULT_BASELINE_FOLDER,
        update=args.update,
        update_command="featureprobe check {file} --update",
    )
    results = [r for path in paths for r in check_file(FileRun(path, session, settings))]
    for result in results:
        print(f"{result.where}: {result.name} {result.outcome.upper()}")
        if result.outcome in ("failed", "error"):
            print("\n".join("    " + line for line in result.lines))
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    order = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
    print(", ".join(f"{counts[k]} {k}" for k in order if k in counts) or "no expectations")
    return EXIT_DRIFT if counts.get("failed") or counts.get("error") else EXIT_OK


def add_parser(commands: Any) -> None:
    check = commands.add_parser(
        "check",
        help="run expectation files without pytest (the same checks, outcomes and messages)",
        description="Run expectation files through the same runner pytest uses and print one "
        "line per expectation (PASSED, FAILED, ERROR, SKIPPED, XFAILED, XPASSED) with the "
        "failure text. Exit 1 when any expectation failed or could not run.",
    )
    check.add_argument("files", nargs="+", metavar="YAML", help="expectation files")
    check.add_argument(
        "--update",
        action="store_true",
        help="write or refresh the drift baselines first (as pytest --featureprobe-update)",
    )
    check.add_argument(
        "--baseline-dir",
        metavar="NAME",
        help="folder beside each file that holds its baseline (default __featureprobe__)",
    )
    cache_dir_option(check)
    allow_path_option(check)
    check.set_defaults(run=run)
