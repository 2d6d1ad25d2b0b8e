"""A large vocabulary (issue 16, item 10): 50,000 rows of 35,000 distinct tokens, trained and
swept (all singles) in a fresh process, with its peak memory; then the same singles in the
context of the training rows.

An expectation file runs through the runner (``FileRun``), as pytest would run it: an item on the
zero vector (the token space's default context) and two in ``{rows: training, sample: 1000}``:
all 50,000 training rows are read (as positions), 1,000 of them drawn with the seed, and the
in-context sweep applies every single to each (35 million applications; a context of all the rows
would be 50 times that, the cost that ``sample:`` is for), plus an ``adding:`` check row by row,
and a churn gate on the same rows (``--featureprobe-update``'s path: its baseline written, read
back, its rows predicted again and counted slice by slice).

``python -m benchmarks.vocabulary`` prints the rows; ``python -m benchmarks --only vocabulary``
puts them in the table. Dense, the training matrix alone would be rows x tokens x 4 bytes (7 GB);
the rows are kept as each row's positions and made dense a batch at a time (context rows never:
the Dense shortcut sums their weight rows), so the target is a peak resident size (``ru_maxrss``,
TensorFlow included) under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .report import Row, megabytes, seconds, verdict

ROWS, TOKENS, PER_ROW = 50_000, 35_000, 20
SAMPLE = 1_000  # the training rows the in-context sweep reads (context: {sample: ...})
TARGET_BYTES = 2 * 1024**3
MARKER = "VOCABULARY-RESULT "
ROOT = Path(__file__).resolve().parents[1]


def write_data(path: Path, rows: int, tokens: int, per_row: int, seed: int = 0) -> None:
    """A CSV of ``rows`` token lists over ``tokens`` distinct tokens (each one used: row ``i``
    holds token ``i % tokens``), labelled by whether a row holds one of the first 2% of them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    marker = max(1, tokens // 50)
    with path.open("w", encoding="utf-8") as out:
        out.write("tokens,label\n")
        for row in range(rows):
            drawn = {row % tokens, *rng.integers(0, tokens, per_row - 1).tolist()}
            label = "spam" if min(drawn) < marker else "ham"
            out.write(f"{' '.join(f't{t}' for t in sorted(drawn))},{label}\n")


def expectations(spec: dict[str, Any], sample: int) -> str:
    """The expectation file: one item on the zero vector, two on a sample of training rows, and
    a churn gate on the same sample (its baseline written, then read back and checked)."""
    options = ", ".join(f"{k}: {json.dumps(v)}" for k, v in spec.items())
    context = f"{{rows: training, sample: {sample}, seed: 0}}"
    return (
        "model:\n"
        f"  train: {{data: vocabulary.csv, features: tokens, label: label, {options}}}\n"
        "expect:\n"
        "  - alone: t0\n    predicts: spam\n"
        f"  - alone: t0\n    predicts: spam\n    context: {context}\n"
        f"  - adding: t0\n    raises: spam\n    context: {context}\n"
        f"drift:\n  context: {context}\n  max_churn: 0.02\n"
        "  slice_churn: {max: 0.3, min_rows: 20}\n"
    )


def measure(
    rows: int, tokens: int, per_row: int, spec: dict[str, Any], sample: int = SAMPLE
) -> dict[str, Any]:
    """In this process: write the data and the expectation file, train (no cache), sweep all
    singles on the zero vector, then in the sampled training rows and check the items there;
    the seconds of each and the peak resident size after each part."""
    import resource

    from pytest_featureprobe.memo import ProbeSession
    from pytest_featureprobe.runner import FileRun, RunSettings

    def peak() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KB on Linux

    with tempfile.TemporaryDirectory(prefix="featureprobe-vocabulary-") as name:
        folder = Path(name)
        write_data(folder / "vocabulary.csv", rows, tokens, per_row)
        path = folder / "featureprobe_vocabulary.yaml"
        path.write_text(expectations(spec, sample), encoding="utf-8")
        settings = RunSettings(roots=[folder], invocation_dir=folder, update=True)
        run = FileRun(path, ProbeSession(), settings)
        zero, on_rows, adding, churn = run.collect()
        started = time.perf_counter()
        model = run.build()
        trained = time.perf_counter()
        sweep = run.context_for(run.document.context_of(zero)).sweep
        swept = time.perf_counter()
        peak_swept = peak()
        checked = run.context_for(run.document.context_of(on_rows))
        in_context = time.perf_counter()
        outcomes = [run.check(item).passed for item in (zero, on_rows, adding)]
        done = time.perf_counter()
        outcomes.append(run.check(churn).passed)  # writes the baseline, reads it back, checks
        gated = time.perf_counter()
        baseline_bytes = sum(f.stat().st_size for f in folder.rglob("*.json"))
    return {
        "features": len(model.space),
        "probes": len(sweep),
        "accuracy": model.info["training_accuracy"],
        "steps": model.info["steps"],
        "train_s": trained - started,
        "sweep_s": swept - trained,
        "peak_swept_bytes": peak_swept,
        "context_rows": len(checked.context.rows),
        "context_probes": len(checked.sweep),
        "context_s": in_context - swept,
        "checks_s": done - in_context,
        "churn_s": gated - done,
        "baseline_bytes": baseline_bytes,
        "passed": outcomes,
        "peak_bytes": peak(),
    }


def run(
    rows: int = ROWS, tokens: int = TOKENS, per_row: int = PER_ROW, sample: int = SAMPLE, **spec
) -> dict:
    """``measure`` in a fresh interpreter (so the peak is this work's alone)."""
    spec = spec or {"epochs": 1, "batch_size": 64, "seed": 0}
    params = json.dumps(
        {"rows": rows, "tokens": tokens, "per_row": per_row, "spec": spec, "sample": sample}
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [sys.executable, "-m", "benchmarks.vocabulary", "--worker", params]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
    raise RuntimeError(f"the vocabulary benchmark failed (exit {done.returncode}):\n{tail}")


def vocabulary(plan: Any = None) -> list[Row]:
    """The benchmark table's rows (``benchmarks.measure.FIGURES['vocabulary']``): training and
    the zero-vector sweep, then the sweep in the sampled training rows (peak of the whole run)."""
    result = run()
    dense = ROWS * result["features"] * 4

    def peak_row(what: str, peak: int) -> Row:
        dense_text = f"{megabytes(dense)} (the training matrix dense, alone)"
        ratio = f"{peak / dense:.2f}"
        return Row(what, megabytes(peak), dense_text, ratio, "< 2 GB", verdict(peak < TARGET_BYTES))

    row = peak_row(
        f"{ROWS:,} rows x {result['features']:,} tokens: train and sweep singles, peak memory",
        result["peak_swept_bytes"],
    )
    row.notes.append(
        f"train {seconds(result['train_s'])} ({result['steps']:,} steps, training accuracy "
        f"{result['accuracy']:.3f}), sweep of {result['probes']:,} probes "
        f"{seconds(result['sweep_s'])}; ru_maxrss of a fresh process, TensorFlow included"
    )
    n = result["context_rows"]
    applications = n * result["context_probes"]
    context = peak_row(
        f"then in context: singles on {n:,} sampled training rows ({applications:,} "
        "applications), peak memory of the whole run",
        result["peak_bytes"],
    )
    context.notes.append(
        f"all {ROWS:,} training rows read as positions and {n:,} drawn; in-context sweep of "
        f"{result['context_probes']:,} probes {seconds(result['context_s'])}, the three items "
        f"checked (one adding: row by row) {seconds(result['checks_s'])}; a churn gate on "
        f"the same rows: baseline written ({megabytes(result['baseline_bytes'])}), read back "
        f"and checked {seconds(result['churn_s'])}; passed: {result['passed']}"
    )
    return [row, context]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.vocabulary", description=__doc__)
    parser.add_argument("--worker", metavar="JSON", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        params = json.loads(options.worker)
        print(MARKER + json.dumps(measure(**params)), flush=True)
        return 0
    rows = vocabulary()
    for row in rows:
        print(" | ".join(row.cells()))
        print(*row.notes, sep="\n")
    return 0 if all(row.result != "MISS" for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
