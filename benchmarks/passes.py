"""Where the forward pass's distance to the matrix-multiply floor is (issue 14), in two parts.

1. One core, all pairs of 1,000 features cut to 250,000 probes, Dense 1000-256-256-10, in
   4,096-row blocks: each pass timed on its own (the first layer, ReLU, the two products, the
   bias passes, softmax). The passes that are not products are what numpy cannot fuse into them.
2. Both cores, all 499,500 pairs: the floor (``worker.matrix_floor``), one shortcut call over
   every probe at once, the shortcut in calls of 16,384 rows, and ``iter_probabilities`` (chunks
   predicted ahead and checked), interleaved, best and median of ``--repeats`` runs.

``python -m benchmarks.passes``. It unsets ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` in its
own process (numpy's BLAS at its defaults, as ``python -m benchmarks`` does in its workers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from .measure import BLAS_VARIABLES

BLOCK = 4096


def one_core(model, keras_model, probes: int) -> dict[str, float]:
    """Seconds per pass over ``probes`` pair probes, BLAS and numpy on one thread."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from pytest_featureprobe.models.numpy_layers import NUMPY_ACTIVATIONS, RowVector
    from pytest_featureprobe.probes import ProbeGroup

    relu, softmax = NUMPY_ACTIVATIONS["relu"], NUMPY_ACTIVATIONS["softmax"]
    (k2, b2), (k3, b3) = [layer.get_weights() for layer in keras_model.layers[1:]]
    b2, b3 = RowVector(b2), RowVector(b3)
    active = np.concatenate(list(ProbeGroup(2, model.n_inputs).chunks(16_384)))[:probes]
    hidden, second = (np.empty((BLOCK, k2.shape[0]), np.float32) for _ in range(2))
    out = np.empty((BLOCK, k3.shape[1]), np.float32)
    passes = {
        "first layer": lambda a, m: model.shortcut.first_layer(a, hidden[:m]),
        "ReLU": lambda a, m: relu(hidden[:m]),
        "product 256x256": lambda a, m: np.matmul(hidden[:m], k2, out=second[:m]),
        "bias": lambda a, m: b2.add_to(second[:m]),
        "ReLU ": lambda a, m: relu(second[:m]),
        "product 256x10": lambda a, m: np.matmul(second[:m], k3, out=out[:m]),
        "bias ": lambda a, m: b3.add_to(out[:m]),
        "softmax": lambda a, m: softmax(out[:m]),
    }
    best = dict.fromkeys(passes, float("inf"))
    with threadpool_limits(1):
        for _ in range(3):
            spent = dict.fromkeys(passes, 0.0)
            for start in range(0, len(active), BLOCK):
                block = active[start : start + BLOCK]
                for name, run in passes.items():
                    began = time.perf_counter()
                    run(block, len(block))
                    spent[name] += time.perf_counter() - began
            best = {name: min(best[name], spent[name]) for name in passes}
    return best


def two_cores(model, keras_model, repeats: int) -> dict[str, list[float]]:
    """Seconds of each way of predicting all pairs, interleaved so they share the load."""
    import numpy as np

    from pytest_featureprobe.probes import ProbeGroup
    from pytest_featureprobe.sweep import DEFAULT_CHUNK_SIZE, iter_probabilities

    from .worker import matrix_floor

    group = ProbeGroup(2, model.n_inputs)
    chunks = list(group.chunks(DEFAULT_CHUNK_SIZE))
    every = np.concatenate(chunks).astype(np.intp)
    floor = matrix_floor(keras_model, len(group), DEFAULT_CHUNK_SIZE)

    def streamed() -> None:
        for _active, _probabilities in iter_probabilities(model, [group]):
            pass

    ways = {
        "one shortcut call over every probe": lambda: model.shortcut(every),
        "the shortcut in calls of 16,384 rows": lambda: [model.shortcut(c) for c in chunks],
        "iter_probabilities (ahead, checked)": streamed,
    }
    times: dict[str, list[float]] = {"floor": [], **{name: [] for name in ways}}
    for _ in range(repeats):
        times["floor"].append(floor())
        for name, run in ways.items():
            began = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - began)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.passes", description=__doc__)
    parser.add_argument("--repeats", type=int, default=6, help="runs of each way (both cores)")
    parser.add_argument("--probes", type=int, default=250_000, help="pairs for the one-core part")
    args = parser.parse_args(argv)
    if any(name in os.environ for name in BLAS_VARIABLES):  # before numpy loads its BLAS
        env = {k: v for k, v in os.environ.items() if k not in BLAS_VARIABLES}
        os.execve(sys.executable, [sys.executable, "-m", "benchmarks.passes", *sys.argv[1:]], env)
    from .worker import probe_model_of, random_dense_model

    keras_model = random_dense_model(1000, (256, 256), 10)
    model = probe_model_of(keras_model, 1000, 10)
    passes = one_core(model, keras_model, args.probes)
    products = passes["product 256x256"] + passes["product 256x10"]
    print(f"One core, {args.probes:,} pair probes, blocks of {BLOCK:,} rows (best of 3):")
    for name, spent in passes.items():
        print(f"  {name.strip():<18} {spent * 1e3:7.1f} ms")
    print(f"  not products: {(sum(passes.values()) - products) / products:.2f}x the products")
    times = two_cores(model, keras_model, args.repeats)
    floor = min(times["floor"])
    print(f"Both cores, all 499,500 pairs ({args.repeats} interleaved runs):")
    for name, runs in times.items():
        best, median = min(runs), statistics.median(runs)
        print(
            f"  {name:<38} best {best * 1e3:6.0f} ms  median {median * 1e3:6.0f} ms  "
            f"{best / floor:.2f}x the floor"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
