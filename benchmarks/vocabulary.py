"""A large vocabulary (issue 16, item 10): 50,000 rows of 35,000 distinct tokens, trained and
swept (all singles) through ``ProbeSession`` in a fresh process, with its peak memory.

``python -m benchmarks.vocabulary`` prints the row; ``python -m benchmarks --only vocabulary`` puts
it in the table. Dense, the training matrix alone would be rows x tokens x 4 bytes (7 GB); the
rows are kept as each row's positions and made dense a batch at a time, so the target is a peak
resident size (``ru_maxrss``, TensorFlow included) under 2 GB.
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


def measure(rows: int, tokens: int, per_row: int, spec: dict[str, Any]) -> dict[str, Any]:
    """In this process: write the data, train (no cache) and sweep all singles; the seconds of
    each and the peak resident size."""
    import resource

    from pytest_featureprobe.memo import ProbeSession

    with tempfile.TemporaryDirectory(prefix="featureprobe-vocabulary-") as folder:
        data = Path(folder) / "vocabulary.csv"
        write_data(data, rows, tokens, per_row)
        session = ProbeSession()
        started = time.perf_counter()
        model = session.train(data, "tokens", "label", **spec)
        trained = time.perf_counter()
        sweep = session.sweep(model, order=1)
        swept = time.perf_counter()
    return {
        "features": len(model.space),
        "probes": len(sweep),
        "accuracy": model.info["training_accuracy"],
        "steps": model.info["steps"],
        "train_s": trained - started,
        "sweep_s": swept - trained,
        "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # KB on Linux
    }


def run(rows: int = ROWS, tokens: int = TOKENS, per_row: int = PER_ROW, **spec: Any) -> dict:
    """``measure`` in a fresh interpreter (so the peak is this work's alone)."""
    spec = spec or {"epochs": 1, "batch_size": 64, "seed": 0}
    params = json.dumps({"rows": rows, "tokens": tokens, "per_row": per_row, "spec": spec})
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
    """The benchmark table's row (``benchmarks.measure.FIGURES['vocabulary']``)."""
    result = run()
    dense = ROWS * result["features"] * 4
    row = Row(
        f"{ROWS:,} rows x {result['features']:,} tokens: train and sweep singles, peak memory",
        megabytes(result["peak_bytes"]),
        f"{megabytes(dense)} (the training matrix dense, alone)",
        f"{result['peak_bytes'] / dense:.2f}",
        "< 2 GB",
        verdict(result["peak_bytes"] < TARGET_BYTES),
    )
    row.notes.append(
        f"train {seconds(result['train_s'])} ({result['steps']:,} steps, training accuracy "
        f"{result['accuracy']:.3f}), sweep of {result['probes']:,} probes "
        f"{seconds(result['sweep_s'])}; ru_maxrss of a fresh process, TensorFlow included"
    )
    return [row]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.vocabulary", description=__doc__)
    parser.add_argument("--worker", metavar="JSON", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        params = json.loads(options.worker)
        print(MARKER + json.dumps(measure(**params)), flush=True)
        return 0
    (row,) = vocabulary()
    print(" | ".join(row.cells()))
    print(*row.notes, sep="\n")
    return 0 if row.result != "MISS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
