"""Serial against pytest-xdist (issue 15, item 4): the examples and a generated suite of 20
expectation files (20 models), each run serially and with ``-n 2``, with a cold cache (every model
trained) and a warm one (every model read from pytest's cache).

    python -m benchmarks.distribution [--files 20] [--repeats 2] [--quick]

prints a Markdown table for README; ``python -m benchmarks --only distribution`` puts the rows in
the benchmark table. Each run is a whole ``python -m pytest`` process on a copy in a temporary
folder (the repository is never written), with its own cache folder (``-o cache_dir``): cold is
the first run on an empty cache, warm the next run on the same cache. Times are wall seconds, the
best of the repeats (noise only adds time); each cold repeat starts from a new empty cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .report import INFO, MISS, Row, seconds

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GROUPS = {"A": [f"a{i}" for i in range(6)], "B": [f"b{i}" for i in range(6)]}
MODES = {"serial": ("-p", "no:xdist"), "-n 2": ("-n", "2")}
COMMON = ("-q", "-p", "no:randomly")


def write_suite(folder: Path, files: int) -> None:
    """``files`` expectation files, each its own model (its own seed and width) trained on one
    shared data file where the a-tokens mean class A and the b-tokens class B."""
    import random

    rng = random.Random(0)
    rows = ["tokens,label"]
    for _ in range(120):
        label = rng.choice("AB")
        tokens = rng.sample(GROUPS[label], 3) + rng.sample([*GROUPS["A"], *GROUPS["B"]], 1)
        rows.append(f'"{" ".join(tokens)}",{label}')
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tokens.csv").write_text("\n".join(rows) + "\n")
    for number in range(files):
        (folder / f"featureprobe_model_{number:02d}.yaml").write_text(
            "model:\n  train:\n    data: tokens.csv\n    features: tokens\n    label: label\n"
            f"    hidden: [{8 + number % 4 * 4}, 8]\n    seed: {number}\n"
            "sweep: {order: 2}\n"
            "expect:\n"
            "  - alone: a0\n    predicts: A\n"
            "  - alone: b0\n    predicts: B\n"
            "  - together: [a1, a2]\n    predicts: A\n"
        )


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _pytest(folder: Path, cache: Path, mode: str) -> tuple[float, str]:
    """One pytest run of ``folder``: its wall time and pytest's last line."""
    command = [sys.executable, "-m", "pytest", *COMMON, *MODES[mode], "-o", f"cache_dir={cache}"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=_env())
    elapsed = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    last = lines[-1].strip("= ") if lines else f"exit {done.returncode}"
    return elapsed, last if done.returncode == 0 else f"FAILED (exit {done.returncode}): {last}"


def measure(folder: Path, repeats: int) -> dict[tuple[str, str], Any]:
    """{(mode, "cold"|"warm"): (best seconds, [seconds], {pytest's summaries})}."""
    found: dict[tuple[str, str], Any] = {}
    for mode in MODES:
        times: dict[str, list[float]] = {"cold": [], "warm": []}
        said: set[str] = set()
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="featureprobe-dist-cache-") as cache:
                for state in ("cold", "warm"):
                    elapsed, last = _pytest(folder, Path(cache), mode)
                    times[state].append(elapsed)
                    said.add(last.split(" in ")[0])
        for state, values in times.items():
            found[mode, state] = (min(values), values, said)
    return found


def suite_rows(name: str, found: dict[tuple[str, str], Any]) -> list[Row]:
    rows = []
    for state in ("cold", "warm"):
        serial, serial_all, said = found["serial", state]
        parallel, parallel_all, _ = found["-n 2", state]
        row = Row(
            f"{name}, {state} cache: -n 2 against serial",
            seconds(parallel),
            f"{seconds(serial)} (serial)",
            f"{serial / parallel:.2f}x speed-up",
            "report",
        )
        failed = [s for s in said if s.startswith("FAILED")]
        row.result = MISS if failed else INFO
        row.notes.append(
            f"wall seconds of whole pytest processes, best of {len(serial_all)} "
            f"(serial {', '.join(f'{v:.1f}' for v in serial_all)}; "
            f"-n 2 {', '.join(f'{v:.1f}' for v in parallel_all)}); "
            f"pytest said: {' / '.join(sorted(said))}"
        )
        rows.append(row)
    return rows


def distribution(plan: Any = None, files: int = 20, repeats: int | None = None) -> list[Row]:
    """The rows: the examples and the generated suite, cold and warm, serial and -n 2."""
    quick = bool(getattr(plan, "quick", False))
    repeats = repeats or (1 if quick else 2)
    rows = []
    with tempfile.TemporaryDirectory(prefix="featureprobe-dist-") as work:
        examples = Path(work) / "examples"
        shutil.copytree(EXAMPLES, examples)
        rows += suite_rows("examples (7 files)", measure(examples, repeats))
        generated = Path(work) / "generated"
        write_suite(generated, files)
        rows += suite_rows(f"generated suite ({files} files)", measure(generated, repeats))
    return rows


def markdown(rows: list[Row]) -> str:
    lines = ["| suite, cache | serial | `-n 2` | speed-up |", "|---|---|---|---|"]
    for row in rows:
        suite = row.figure.removesuffix(": -n 2 against serial")
        serial = row.reference.removesuffix(" (serial)")
        lines.append(f"| {suite} | {serial} | {row.measured} | {row.ratio.split()[0]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distribution", description=__doc__)
    parser.add_argument("--files", type=int, default=20, help="files of the generated suite")
    parser.add_argument("--repeats", type=int, default=None, help="runs of each (default 2)")
    parser.add_argument("--quick", action="store_true", help="one run of each")
    options = parser.parse_args(argv)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    plan = argparse.Namespace(quick=options.quick)
    rows = distribution(plan, options.files, options.repeats)
    print(
        f"{os.cpu_count()} CPU cores; load average (1 min) {load:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; {time.perf_counter() - started:.0f} s in all\n"
    )
    print(markdown(rows))
    print()
    print(*(f"- {row.figure}: {note}" for row in rows for note in row.notes), sep="\n")
    return 1 if any(row.result == MISS for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
