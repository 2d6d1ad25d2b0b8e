"""The figures of the benchmark table: each runs its measurement in fresh processes.

Every function returns rows for the table. Timings are the best of several runs (noise only adds
time) unless a note says otherwise; the plugin overhead is the ratio of medians of alternating runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .distribution import distribution
from .report import (
    INFO,
    MISS,
    Row,
    best,
    median,
    megabytes,
    seconds,
    spread,
    times,
    verdict,
)
from .vocabulary import vocabulary
from .worker import MARKER, ROOT

GB = 1024**3


@dataclass(frozen=True)
class Plan:
    """How hard to measure: a full run, or ``--quick`` (fewer repeats, slow references skipped)."""

    quick: bool = False

    def repeats(self, full: int, quick: int) -> int:
        return quick if self.quick else full


class WorkerError(RuntimeError):
    pass


BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # set on CI machines; slow numpy


def run_worker(task: str, blas_defaults: bool = False, **params: Any) -> dict[str, Any]:
    """Run one task of ``benchmarks.worker`` in a fresh interpreter and return its result;
    ``blas_defaults``: with ``BLAS_VARIABLES`` unset in that process (numpy's own BLAS
    defaults), as a figure that says so."""
    command = [sys.executable, "-m", "benchmarks.worker", task, json.dumps(params)]
    env = _env()
    for name in BLAS_VARIABLES if blas_defaults else ():
        env.pop(name, None)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
    raise WorkerError(f"benchmark task {task!r} failed (exit {done.returncode}):\n{tail}")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _pytest(args: list[str], cwd: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args], cwd=cwd, capture_output=True, text=True, env=_env()
    )
    elapsed = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    return elapsed, done.returncode, lines[-1] if lines else ""


# --- plugin overhead ------------------------------------------------------------------------------

TRIVIAL_FILES, TRIVIAL_TESTS = 20, 10


def write_trivial_suite(folder: Path) -> int:
    """200 trivial tests (20 files of 10) and nothing featureprobe would collect."""
    for f in range(TRIVIAL_FILES):
        body = "".join(
            f"def test_{f}_{t}():\n    assert {t} + 1 == {t + 1}\n\n\n"
            for t in range(TRIVIAL_TESTS)
        )
        (folder / f"test_trivial_{f:02d}.py").write_text(body.rstrip() + "\n")
    return TRIVIAL_FILES * TRIVIAL_TESTS


def plugin_overhead(plan: Plan) -> list[Row]:
    runs = plan.repeats(9, 5)
    with tempfile.TemporaryDirectory(prefix="featureprobe-bench-") as tmp:
        folder = Path(tmp)
        count = write_trivial_suite(folder)
        on_args, off_args = ["-q"], ["-q", "-p", "no:featureprobe"]
        # One unmeasured run of each, then alternate so both see the same machine load.
        for args in (on_args, off_args):
            _pytest(args, folder)
        with_plugin, without = [], []
        for _ in range(runs):
            for args, out in ((on_args, with_plugin), (off_args, without)):
                elapsed, code, summary = _pytest(args, folder)
                if code != 0 or f"{count} passed" not in summary:
                    raise WorkerError(f"pytest {' '.join(args)} failed: {summary}")
                out.append(elapsed)
    imported = run_worker("import_check")["imported"]
    ratio = median(with_plugin) / median(without)
    row = Row(
        f"plugin overhead, pytest on {count} trivial tests",
        seconds(median(with_plugin)),
        f"{seconds(median(without))} (-p no:featureprobe)",
        f"{ratio:.3f}",
        "ratio <= 1.05",
        verdict(ratio <= 1.05),
    )
    row.notes.append(
        f"medians of {runs} alternating runs each; best runs {seconds(min(with_plugin))} vs "
        f"{seconds(min(without))} (ratio {min(with_plugin) / min(without):.3f}); importing the "
        f"plugin imports {', '.join(imported) or 'no heavy module (no numpy, no TensorFlow)'}"
    )
    return [row]


# --- sweeps ---------------------------------------------------------------------------------------


def seed_sweep(plan: Plan) -> list[Row]:
    result = run_worker("seed_sweep", repeats=plan.repeats(5, 3))
    sweep, loop = best(result["sweep"]), best(result["loop"])
    ratio = loop / sweep
    row = Row(
        f"zero + singles sweep, seed model ({result['probes']} probes)",
        seconds(sweep),
        f"{seconds(loop)} (one model.predict per probe)",
        times(ratio),
        ">= 50x",
        verdict(ratio >= 50),
    )
    row.notes.append(
        "run_sweep(order=1), the whole table; the reference calls keras Model.predict once per "
        f"probe on one dense row; sweep {spread(result['sweep'])}, loop {spread(result['loop'])}"
    )
    return [row]


def all_pairs(plan: Plan) -> list[Row]:
    result = run_worker(
        "stream",
        features=1000,
        order=2,
        hidden=[256, 256],
        classes=10,
        repeats=plan.repeats(5, 3),
        plain_repeats=plan.repeats(3, 2),
    )
    fast, plain = best(result["fast"]), best(result["plain"])
    ratio = plain / fast
    probes = f"{result['probes']:,}"
    time_row = Row(
        f"all pairs, 1000 features, Dense 1000-256-256-10 ({probes} probes)",
        seconds(fast),
        f"{seconds(plain)} (dense rows through model(x) in chunks)",
        times(ratio),
        "<= 1.5 s and >= 3x",
        verdict(fast <= 1.5, ratio >= 3),
    )
    time_row.notes.append(
        f"iter_probabilities with the Dense shortcut "
        f"({'on' if result['shortcut'] else 'OFF: fell back to the plain path'}); "
        f"fast path {spread(result['fast'])}, reference {spread(result['plain'])}"
    )
    floor = floor_rows("all pairs, 1000 features", result)
    return [time_row, *floor, sweep_memory_row("all pairs, 1000 features", result)]


def floor_rows(label: str, result: dict) -> list[Row]:
    """The forward pass and the whole table against the matrix-multiply floor (issue 14)."""
    floor = best(result["floor"])
    rows = []
    forward = "forward" if "forward" in result else "fast"  # in context: "fast" is the table
    for what, key, target in (
        ("forward pass", forward, 1.25),
        ("whole run_sweep table" if forward == "fast" else "whole in-context table", "table", 1.6),
    ):
        elapsed = best(result[key])
        ratio = elapsed / floor
        rows.append(
            Row(
                f"{label}: {what} against the matrix-multiply floor",
                seconds(elapsed),
                f"{seconds(floor)} (the unavoidable products)",
                f"{ratio:.2f}x the floor",
                f"<= {target}x",
                verdict(ratio <= target),
            )
        )
    rows[0].notes.append(
        "floor: layers 2 and later of the same model as numpy float32 products into buffers "
        "made once, the fastest of chunks of 16,384 rows with BLAS on every core and blocks of "
        "1,024, 4,096 or 8,192 rows over as many threads (BLAS at one thread each), timed in "
        f"the same process, alternating; floor {spread(result['floor'])}, table "
        f"{spread(result['table'])}"
    )
    if result.get("features_read"):
        rows[1].notes.append(
            "reading every cell of the table's features column afterwards (each tuple made "
            f"when read): {seconds(best(result['features_read']))}, "
            f"{spread(result['features_read'])}"
        )
    if result.get("table_again"):
        rows[1].notes.append(
            "the table again straight after (memory freed just before, not seconds before): "
            f"{seconds(best(result['table_again']))}, "
            f"{best(result['table_again']) / floor:.2f}x the floor, "
            f"{spread(result['table_again'])}"
        )
    return rows


def in_context(plan: Plan) -> list[Row]:
    """Issue 12's figures: probes applied to real rows, against model(x) on the applied rows."""
    rows = []
    for label, params in (
        ("all singles, 1000 features x 10,000 rows, Dense 1000-256-256-10", (1000, 1, 10_000)),
        ("all pairs, 100 features x 2,000 rows, Dense 100-256-256-10", (100, 2, 2_000)),
    ):
        n, order, n_rows = params
        result = run_worker(
            "context",
            blas_defaults=True,
            features=n,
            order=order,
            rows=n_rows,
            hidden=[256, 256],
            classes=10,
            repeats=plan.repeats(3, 1),
            plain_repeats=plan.repeats(2, 1),
        )
        fast, plain = best(result["fast"]), best(result["plain"])
        row = Row(
            f"in context: {label} ({result['applications']:,} applications)",
            seconds(fast),
            f"{seconds(plain)} (the applied rows through model(x) in chunks)",
            times(plain / fast),
            ">= 3x",
            verdict(plain / fast >= 3),
        )
        row.notes.append(
            f"run_context_sweep (the whole table: means, spreads, shares) with the Dense shortcut "
            f"{'on' if result['shortcut'] else 'OFF'}; fast {spread(result['fast'])}, "
            f"reference {spread(result['plain'])}; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset "
            "in this worker (numpy's own BLAS defaults; TensorFlow's reference does not use them)"
        )
        short = label.split(",")[0]
        if result["forward"]:
            distinct = f"{result['distinct_rows']:,} distinct rows"
            rows += floor_rows(
                f"in context, {short} ({distinct})", {**result, "table": result["fast"]}
            )
        rows += [row, sweep_memory_row(f"in context, {short}", result)]
    return rows


def sweep_memory_row(label: str, result: dict) -> Row:
    """Peak memory of a streamed sweep against holding all its probes as dense rows."""
    memory = result["rss_increase"]
    row = Row(
        f"{label}: peak memory of the sweep",
        megabytes(memory),
        f"{megabytes(result['dense_bytes'])} (all probes as dense rows)",
        f"{memory / result['dense_bytes']:.3f}",
        "<= 1.5 GB",
        verdict(memory <= 1.5 * GB),
    )
    row.notes.append(
        "peak RSS increase of a fresh process during its first sweep; the whole process "
        f"(TensorFlow, the model) peaked at {megabytes(result['process_peak_rss'])}"
    )
    return row


def all_triples(plan: Plan) -> list[Row]:
    plain_repeats = plan.repeats(1, 0)
    result = run_worker(
        "stream",
        features=200,
        order=3,
        hidden=[256, 256],
        classes=10,
        repeats=plan.repeats(3, 1),
        plain_repeats=plain_repeats,
    )
    fast = best(result["fast"])
    probes = f"{result['probes']:,}"
    time_row = Row(
        f"all triples, 200 features, Dense 200-256-256-10 ({probes} probes)", seconds(fast)
    )
    if result["plain"]:
        plain = best(result["plain"])
        time_row.reference = f"{seconds(plain)} (dense rows through model(x) in chunks)"
        time_row.ratio = times(plain / fast)
    else:
        time_row.reference = "(skipped with --quick)"
    time_row.target = "report"
    time_row.notes.append(f"fast path {spread(result['fast'])}")
    floor = floor_rows("all triples, 200 features", result)
    return [time_row, *floor, sweep_memory_row("all triples, 200 features", result)]


def scaling(plan: Plan) -> list[Row]:
    result = run_worker(
        "scaling",
        features=[100, 300, 1000],
        orders=[1, 2],
        hidden=[256, 256],
        classes=10,
        repeats=plan.repeats(3, 1),
    )
    rows = []
    base: dict[int, float] = {}
    for figure in result["figures"]:
        n, order, probes = figure["features"], figure["order"], figure["probes"]
        elapsed = best(figure["times"])
        base.setdefault(order, elapsed)
        row = Row(
            f"scaling: run_sweep order {order}, {n} features ({probes:,} probes)",
            f"{seconds(elapsed)} ({elapsed / probes * 1e6:.2f} us/probe)",
            "100 features" if n != 100 else "-",
            times(elapsed / base[order]) if n != 100 else "-",
            "report",
            INFO,
        )
        rows.append(row)
    rows[0].notes.append(
        "run_sweep builds the whole table (names, deltas, interactions) on a random "
        f"Dense n-256-256-10 model; {spread(result['figures'][0]['times'])} each; ratio = time "
        "against the 100-feature sweep of the same order; order 1 sweeps are so small that fixed "
        "per-call costs (a few Keras-free numpy calls, the pandas frame) dominate"
    )
    return rows


# --- training -----------------------------------------------------------------------------------


def training(plan: Plan) -> list[Row]:
    processes = plan.repeats(3, 1)
    results = [
        run_worker("train", hits=5, reference=(i == 0 and not plan.quick)) for i in range(processes)
    ]
    cold = [r["cold"] for r in results]
    hits = [h for r in results for h in r["hit"]]
    cold_best, hit_best = best(cold), best(hits)
    cold_row = Row(
        "train the seed classifier, cold (TensorFlow imported, empty cache)",
        seconds(cold_best),
        "(skipped with --quick)",
        "-",
        "<= 2 s",
        verdict(cold_best <= 2),
    )
    fit = results[0].get("fit_epochs")
    if fit is not None:
        cold_row.reference = f"{seconds(fit)} (one fit(epochs=300) call)"
        cold_row.ratio = times(fit / cold_best)
    cold_row.notes.append(
        f"ProbeSession.train on problems.csv ({results[0]['steps']} optimizer steps in one fit "
        f"call, training accuracy {results[0]['accuracy']:.2f}); fresh process each, "
        f"{spread(cold)}"
    )
    hit_row = Row(
        "train the seed classifier, cache hit",
        seconds(hit_best),
        f"{seconds(cold_best)} (cold)",
        times(cold_best / hit_best),
        "<= 0.5 s",
        verdict(hit_best <= 0.5),
    )
    hit_row.notes.append(f"a new ProbeSession on the same cache folder; {spread(hits)}")
    return [cold_row, hit_row]


# --- the example suite ----------------------------------------------------------------------------


def example_suite(plan: Plan) -> list[Row]:
    rounds = plan.repeats(2, 1)
    cold, warm, summaries, failures = [], [], set(), []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="featureprobe-bench-cache-") as cache:
            for out in (cold, warm):
                elapsed, code, summary = _pytest(
                    ["examples", "-q", "-o", f"cache_dir={cache}"], ROOT
                )
                out.append(elapsed)
                summaries.add(summary)
                if code != 0:
                    failures.append(f"exit {code}: {summary}")
    command = "python -m pytest examples"
    cold_row = Row(f"example suite, cold ({command}, empty cache)", seconds(best(cold)))
    cold_row.target = "report"
    warm_row = Row(
        f"example suite, warm ({command}, cached models)",
        seconds(best(warm)),
        f"{seconds(best(cold))} (cold)",
        f"{best(warm) / best(cold):.2f}",
        "report",
    )
    cold_row.notes.append(
        f"whole pytest processes (Python, TensorFlow import, training or cache, sweeps); "
        f"{spread(cold)}; pytest said: {' / '.join(sorted(summaries))}"
    )
    if failures:
        for row in (cold_row, warm_row):
            row.result = MISS
        cold_row.notes.append("the example suite FAILED: " + "; ".join(failures))
    imported = best([_import_tensorflow() for _ in range(rounds + 1)])
    import_row = Row(
        "import tensorflow alone (python -c 'import tensorflow')",
        seconds(imported),
        f"{seconds(best(warm))} (the warm example suite)",
        f"{imported / best(warm):.2f}",
        "report",
    )
    import_row.notes.append(
        "the warm example suite imports no TensorFlow (every model a cache hit, swept in numpy): "
        f"it takes {imported / best(warm):.1f}x less than the import alone"
        if best(warm) < imported
        else f"of the warm example suite, {seconds(best(warm) - imported)} is beyond importing "
        "TensorFlow (pytest, our collection, cache hits, sweeps, checks)"
    )
    return [cold_row, warm_row, import_row]


def _import_tensorflow() -> float:
    """Seconds a fresh interpreter takes to import TensorFlow (and exit)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import tensorflow"], capture_output=True, env=_env(), check=True
    )
    return time.perf_counter() - started


FIGURES = {
    "overhead": plugin_overhead,
    "seed": seed_sweep,
    "pairs": all_pairs,
    "triples": all_triples,
    "context": in_context,
    "training": training,
    "examples": example_suite,
    "scaling": scaling,
    "vocabulary": vocabulary,  # benchmarks/vocabulary.py: 50,000 rows x 35,000 tokens
    "distribution": distribution,  # benchmarks/distribution.py: serial against -n 2
}


def failed_row(name: str, error: Exception) -> Row:
    row = Row(f"{name} (failed to measure)", "-", result=MISS)
    row.notes.append(str(error).splitlines()[0] if str(error) else type(error).__name__)
    row.notes.extend(str(error).splitlines()[1:])
    return row
