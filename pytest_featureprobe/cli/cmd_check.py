"""``featureprobe check FILE...``: run expectation files without pytest, through the same runner.

Each file goes through ``runner.FileRun`` exactly as under pytest: the same collection checks,
model, sweep, baseline and failure text. The file's ``skip``, ``skipif`` and ``xfail`` marks are
honoured as pytest reads them (the ``xfail_strict`` ini value is not read: give ``strict`` on the
mark); other marks are pytest's business and ignored here. A model given by a pytest fixture
cannot be built outside pytest: its items fail saying so.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import display_path
from .common import (
    ALLOW_HINT,
    EXIT_DRIFT,
    EXIT_OK,
    UPDATE_HINT,
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
    name: str  # the item's id, as pytest -v prints it
    outcome: str  # passed, failed, error, skipped, xfailed or xpassed
    lines: list[str] = field(default_factory=list)


def _skip_reason(spec: ItemSpec) -> str | None:
    """The reason of the first skip mark that applies (pytest reads all skips before xfail)."""
    for name, args, kwargs in spec.marks:
        if name == "skip" or (name == "skipif" and (bool(args[0]) if args else True)):
            return str(kwargs.get("reason", ""))
    return None


def _xfail(spec: ItemSpec) -> dict[str, Any] | None:
    """The keywords of the first xfail mark that applies, or None."""
    for name, args, kwargs in spec.marks:
        if name == "xfail" and (bool(args[0]) if args else True):
            return kwargs
    return None


def _item_result(file_run: FileRun, spec: ItemSpec, where: str) -> ItemResult:
    """One item as pytest decides it: skips first, then the item's own error (its setup), then
    its check (the call); an xfail mark turns a failure or error into xfailed."""
    from ..errors import FeatureProbeError

    reason = _skip_reason(spec)
    if reason is not None:
        return ItemResult(where, spec.name, "skipped", [reason])
    xfail = _xfail(spec)
    if xfail is not None and xfail.get("run", True) is False:
        return ItemResult(where, spec.name, "xfailed", [str(xfail.get("reason", ""))])
    try:
        if spec.error is not None:
            raise file_run.settings.worded(spec.error)
        outcome = file_run.check(spec)
    except FeatureProbeError as exc:
        kind = "error" if spec.error is not None else "failed"
        kind = "xfailed" if xfail is not None else kind
        return ItemResult(where, spec.name, kind, [exc.describe(Path.cwd())])
    if xfail is None:
        kind = "passed" if outcome.passed else "failed"
        return ItemResult(where, spec.name, kind, [] if outcome.passed else list(outcome.lines))
    if not outcome.passed:
        return ItemResult(where, spec.name, "xfailed", list(outcome.lines))
    if xfail.get("strict"):
        return ItemResult(
            where, spec.name, "failed", [f"[XPASS(strict)] {xfail.get('reason', '')}".rstrip()]
        )
    return ItemResult(where, spec.name, "xpassed")


def check_file(file_run: FileRun) -> list[ItemResult]:
    """Every item of one file, checked as pytest would check it."""
    from ..errors import FeatureProbeError
    from ..spec.ids import item_ids

    path = display_path(file_run.path)
    try:
        specs = file_run.collect()
    except FeatureProbeError as exc:
        return [ItemResult(f"{path}:{exc.line or 1}", "invalid-file", "error", [exc.describe()])]
    ids = item_ids(spec.name for spec in specs)
    return [
        replace(_item_result(file_run, spec, f"{path}:{spec.line}"), name=item_id)
        for spec, item_id in zip(specs, ids, strict=True)
    ]


#: pytest's order of outcomes in its closing line.
ORDER = ("failed", "passed", "skipped", "xfailed", "xpassed", "error")


def counts_line(results: list[ItemResult]) -> str:
    """The closing line as pytest writes it: ``1 failed, 10 passed, 2 errors``."""
    counts = {kind: sum(r.outcome == kind for r in results) for kind in ORDER}
    parts = [
        f"{n} {kind}s" if kind == "error" and n != 1 else f"{n} {kind}"
        for kind, n in counts.items()
        if n
    ]
    return ", ".join(parts) or "no expectations"


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
        update_command="featureprobe check {file} --update"
        + (f" --baseline-dir {args.baseline_dir}" if args.baseline_dir else ""),
        update_hint=UPDATE_HINT,
        allow_hint=ALLOW_HINT,
    )
    results = [r for path in paths for r in check_file(FileRun(path, session, settings))]
    for result in results:
        print(f"{result.where}: {result.name} {result.outcome.upper()}")
        if result.outcome in ("failed", "error"):
            print("\n".join("    " + line for line in result.lines))
    print(counts_line(results))
    failed = any(r.outcome in ("failed", "error") for r in results)
    return EXIT_DRIFT if failed else EXIT_OK


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
