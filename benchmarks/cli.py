"""The benchmark command: parse options, measure the chosen figures, print one table."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from importlib import metadata

from .measure import FIGURES, Plan, failed_row
from .report import MISS, Row, markdown_table, notes, text_table


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure pytest-featureprobe's speed targets (issue 5) and print one table.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repetitions; skip the slowest references (fit(epochs=300), plain triples)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(FIGURES),
        metavar="FIGURE",
        help=f"measure only these figures (repeatable): {', '.join(FIGURES)}",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown (for README)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    return parser.parse_args(argv)


def machine() -> str:
    versions = []
    for dist in ("tensorflow", "keras", "numpy", "pandas"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} absent")
    cores = os.cpu_count()
    blas = os.environ.get("OPENBLAS_CORETYPE")
    extra = f", OPENBLAS_CORETYPE={blas}" if blas else ""
    return (
        f"{platform.machine()} {platform.system()}, {cores} CPU cores{extra}; "
        f"Python {platform.python_version()}, {', '.join(versions)}"
    )


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    plan = Plan(quick=options.quick)
    chosen = options.only or list(FIGURES)
    load_before = load()
    started = time.perf_counter()
    rows: list[Row] = []
    for name in FIGURES:
        if name not in chosen:
            continue
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(FIGURES[name](plan))
        except Exception as error:  # one broken figure must not hide the others
            rows.append(failed_row(name, error))
    elapsed = time.perf_counter() - started
    mode = "quick" if plan.quick else "full"
    print(f"pytest-featureprobe benchmarks ({mode} run) on {machine()}")
    print(
        f"load average (1 min): {load_before} before, {load()} after. Other processes may compete "
        "for the cores;\nnoise only adds time, so timings are the best of several runs."
    )
    print(markdown_table(rows) if options.markdown else text_table(rows))
    print()
    print("Notes (times are the best of the runs noted; each figure ran in fresh processes):")
    print(notes(rows))
    missed = [row.figure for row in rows if row.result == MISS]
    print()
    print(
        f"{len(rows) - len(missed)} of {len(rows)} rows without a miss; benchmark wall time "
        f"{elapsed:.0f} s"
    )
    if options.json:
        with open(options.json, "w") as out:
            json.dump(
                {"mode": mode, "seconds": elapsed, "rows": [asdict(r) for r in rows]}, out, indent=1
            )
    return 1 if missed else 0
