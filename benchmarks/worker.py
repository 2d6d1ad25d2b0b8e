"""Measurements that run in a fresh Python process each (``python -m benchmarks.worker TASK JSON``).

A fresh process per measurement keeps the figures honest: TensorFlow's import, graph tracing and
memory all start from nothing, and the peak resident set size (``ru_maxrss``) of the process says
how much memory the measured code needed. The last stdout line is ``RESULT <json>``.
"""

from __future__ import annotations

import gc
import json
import math
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED_CSV = ROOT / "examples" / "problems" / "problems.csv"
MARKER = "RESULT "
#: The seed example's training spec (examples/problems/featureprobe_problems.yaml).
SEED_SPEC = {"hidden": [32, 32], "seed": 0}


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports kilobytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _keras():
    from pytest_featureprobe.keras_runtime import load_keras

    keras = load_keras()
    import tensorflow  # noqa: F401  (the figures exclude TensorFlow's import)

    return keras


def random_dense_model(n_features: int, hidden: tuple[int, ...], n_classes: int, seed: int = 0):
    """A Keras Dense classifier n -> hidden... -> softmax with seeded random weights."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(shape=(n_features,))]
    layers += [keras.layers.Dense(size, activation="relu") for size in hidden]
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(layers)


def probe_model_of(keras_model, n_features: int, n_classes: int):
    from pytest_featureprobe.features import FeatureSpace
    from pytest_featureprobe.models import from_keras

    space = FeatureSpace.from_names([f"f{i}" for i in range(n_features)])
    return from_keras(keras_model, space, [f"c{j}" for j in range(n_classes)])


# --- tasks --------------------------------------------------------------------------------------


def task_stream(params: dict[str, Any]) -> dict[str, Any]:
    """All probes of one order streamed through the fast path, and the same probes as dense rows.

    The first run of the fast path is the memory figure: the peak RSS increase over the process
    after setup. Then fast and plain runs alternate (so both see the same machine load).
    """
    import numpy as np

    from pytest_featureprobe.models import dense_rows
    from pytest_featureprobe.probes import ProbeGroup
    from pytest_featureprobe.sweep import DEFAULT_CHUNK_SIZE, iter_probabilities

    n, order = int(params["features"]), int(params["order"])
    hidden = tuple(params.get("hidden", (256, 256)))
    n_classes = int(params.get("classes", 10))
    repeats, plain_repeats = int(params["repeats"]), int(params["plain_repeats"])
    keras_model = random_dense_model(n, hidden, n_classes)
    model = probe_model_of(keras_model, n, n_classes)
    group = ProbeGroup(order, n)

    def fast() -> int:
        counts = np.zeros(n_classes, dtype=np.int64)
        for _active, probabilities in iter_probabilities(model, [group]):
            counts += np.bincount(probabilities.argmax(axis=1), minlength=n_classes)
        return int(counts.sum())

    def plain() -> int:
        counts = np.zeros(n_classes, dtype=np.int64)
        for active in group.chunks(DEFAULT_CHUNK_SIZE):
            probabilities = np.asarray(keras_model(dense_rows(active, n), training=False))
            counts += np.bincount(probabilities.argmax(axis=1), minlength=n_classes)
        return int(counts.sum())

    floor = matrix_floor(keras_model, len(group), DEFAULT_CHUNK_SIZE)

    made: list = []

    def table() -> None:
        from pytest_featureprobe.sweep import run_sweep

        made[:] = [run_sweep(model, order=order)]

    gc.collect()
    before = peak_rss_bytes()
    started = time.perf_counter()
    rows = fast()
    fast_times = [time.perf_counter() - started]
    after = peak_rss_bytes()
    if rows != len(group):
        raise RuntimeError(f"the sweep produced {rows} rows, expected {len(group)}")
    plain_times, floor_times, table_times, read_times, again_times = [], [], [], [], []
    for index in range(max(repeats - 1, plain_repeats, repeats)):
        if index < plain_repeats:
            plain_times.append(timed(plain))
        if index < repeats - 1:
            fast_times.append(timed(fast))
        if index < repeats:  # alternating with the others: the same machine load
            floor_times.append(floor())
            table_times.append(timed(table))
            # Every cell of the features column read afterwards: its tuples are made then.
            read_times.append(timed(made.pop().table["features"].tolist))
            # Once more at once: memory freed seconds ago may have gone back to a virtual
            # machine's host, and first touches of it cost more than the same work on memory
            # just freed (the row is the run above; this one is a note).
            again_times.append(timed(table))
            made.clear()
    return {
        "probes": len(group),
        "shortcut": model.shortcut is not None,
        "fast": fast_times,
        "plain": plain_times,
        "floor": floor_times,
        "table": table_times,
        "features_read": read_times,
        "table_again": again_times,
        "rss_before": before,
        "rss_increase": after - before,
        "rss_peak": peak_rss_bytes(),
        "dense_bytes": len(group) * n * 4,
    }


def matrix_floor(keras_model, n_probes: int, chunk: int) -> Callable[[], float]:
    """The matrix products no sweep of this Dense model can avoid for ``n_probes`` probes: each
    layer after the first (the first is a gather of weight rows for a multi-hot probe) as
    float32 products into buffers made once. Timed beside the sweep it is the floor the sweep's
    ratio is read against (issue 14).

    The returned function times the products run three ways and returns the fastest: one
    product per chunk of ``chunk`` rows with BLAS on every core, and blocks of 1,024, 4,096 and
    8,192 rows shared by as many threads as BLAS uses, BLAS at one thread each (the way the shortcut
    runs them; under load it is the faster one, since BLAS' own threads wait on each other)."""
    import numpy as np

    from pytest_featureprobe.models import threads

    kernels = [
        np.asarray(layer.get_weights()[0], dtype=np.float32) for layer in _dense(keras_model)
    ]
    later = kernels[1:]
    rng = np.random.default_rng(0)
    _controller, workers = threads._controller()

    def buffers(rows: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        return [
            (
                w,
                rng.random((rows, w.shape[0]), dtype=np.float32),
                np.empty((rows, w.shape[1]), np.float32),
            )
            for w in later
        ]

    def products(layers: list, count: int) -> None:
        rows_each, done = len(layers[0][1]), 0
        while done < count:
            rows = min(rows_each, count - done)
            for w, x, out in layers:
                np.matmul(x[:rows], w, out=out[:rows])
            done += rows

    whole = buffers(chunk)
    shares = [n_probes // workers + (i < n_probes % workers) for i in range(workers)]
    per_thread = {block: [buffers(block) for _ in range(workers)] for block in (1024, 4096, 8192)}

    def in_threads(block: int) -> None:
        def work(share: list[int]) -> None:
            products(per_thread[block][share[0]], shares[share[0]])

        threads.run_in_threads(work, list(range(workers)), workers)

    def fastest() -> float:
        ways = [lambda: products(whole, n_probes)]
        if workers > 1:
            ways += [lambda: in_threads(1024), lambda: in_threads(4096), lambda: in_threads(8192)]
        return min(timed(way) for way in ways)

    return fastest


def _dense(keras_model) -> list:
    return [layer for layer in keras_model.layers if layer.get_weights()]


def task_context(params: dict[str, Any]) -> dict[str, Any]:
    """An in-context sweep (every probe of one order applied to each of N random rows) through
    ``run_context_sweep``, against the same applied rows as dense inputs through ``model(x)``.

    The first fast run is the memory figure (peak RSS increase over the process after setup)."""
    import numpy as np

    from pytest_featureprobe.context_sweep import run_context_sweep
    from pytest_featureprobe.contexts import Context, applied, column_ids, distinct_rows
    from pytest_featureprobe.probes import ProbeGroup

    n, order, n_rows = int(params["features"]), int(params["order"]), int(params["rows"])
    hidden = tuple(params.get("hidden", (256, 256)))
    n_classes = int(params.get("classes", 10))
    keras_model = random_dense_model(n, hidden, n_classes)
    model = probe_model_of(keras_model, n, n_classes)
    rng = np.random.default_rng(0)
    rows = (rng.random((n_rows, n)) < float(params.get("density", 0.01))).astype(np.float32)
    context = Context.of_rows("random rows", rows, {"kind": "rows"})
    group = ProbeGroup(order, n)
    columns = column_ids(model.space)

    def fast() -> int:
        return len(run_context_sweep(model, context, order=order).table)

    def plain() -> int:
        per_chunk = max(1, 16_384 // n_rows)
        done = 0
        for active in group.chunks(per_chunk):
            x = applied(rows, active, columns).reshape(-1, n)
            np.asarray(keras_model(x, training=False))
            done += len(active)
        return done

    def forward() -> None:
        """The forward passes alone, as the context sweep runs them: the rows' first layer once,
        the probes in chunks of about 16,384 applications, outputs checked."""
        from pytest_featureprobe.models.in_context import RowsInContext

        fast_rows = RowsInContext(model.shortcut, distinct, columns)
        for active in group.chunks(max(1, 16_384 // len(distinct))):
            model.checked(fast_rows.outputs(active), len(active) * len(distinct))

    # The sweep runs each distinct row once (and counts it): the floor is for those.
    distinct = distinct_rows(rows)[0]
    floor = matrix_floor(keras_model, len(group) * len(distinct), 16_384)
    gc.collect()
    before = peak_rss_bytes()
    started = time.perf_counter()
    probes = fast()
    fast_times = [time.perf_counter() - started]
    after = peak_rss_bytes()
    plain_times = [timed(plain) for _ in range(int(params["plain_repeats"]))]
    floor_times, forward_times = [], []
    for index in range(int(params["repeats"])):  # alternating: the same machine load
        if index:
            fast_times.append(timed(fast))
        floor_times.append(floor())
        if model.shortcut is not None:
            forward_times.append(timed(forward))
    return {
        "floor": floor_times,
        "forward": forward_times,
        "distinct_rows": len(distinct),
        "probes": probes,
        "applications": len(group) * n_rows,
        "shortcut": model.shortcut is not None,
        "fast": fast_times,
        "plain": plain_times,
        "rss_increase": after - before,
        "process_peak_rss": peak_rss_bytes(),
        "dense_bytes": len(group) * n_rows * n * 4,
    }


def task_seed_sweep(params: dict[str, Any]) -> dict[str, Any]:
    """The seed model's zero + singles sweep against one ``model.predict`` call per probe."""
    import numpy as np

    from pytest_featureprobe.memo import ProbeSession
    from pytest_featureprobe.models import dense_rows
    from pytest_featureprobe.sweep import run_sweep

    _keras()
    with tempfile.TemporaryDirectory() as cache:
        model = ProbeSession(cache).train(SEED_CSV, "problems", "results", **SEED_SPEC)
    keras_model = model.keras_model
    n = model.n_inputs
    probes = [np.zeros((1, 0), dtype=np.intp)] + [np.array([[i]]) for i in range(n)]
    rows = [dense_rows(p, n) for p in probes]

    def loop() -> None:
        for row in rows:
            keras_model.predict(row, verbose=0)

    def sweep() -> None:
        run_sweep(model, order=1)

    loop()  # both warmed: predict builds its function on first use
    sweep()
    repeats = int(params["repeats"])
    return {
        "probes": len(rows),
        "sweep": [timed(sweep) for _ in range(max(repeats, 5))],
        "loop": [timed(loop) for _ in range(repeats)],
    }


def task_train(params: dict[str, Any]) -> dict[str, Any]:
    """Seed classifier: cold training (TensorFlow imported, empty cache), then cache hits."""
    from pytest_featureprobe.memo import ProbeSession

    _keras()  # imported before the timings start
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        model = ProbeSession(cache).train(SEED_CSV, "problems", "results", **SEED_SPEC)
        result["cold"] = time.perf_counter() - started
        result["accuracy"] = model.info["training_accuracy"]
        result["steps"] = model.info["steps"]
        hits = []
        for _ in range(int(params["hits"])):
            session = ProbeSession(cache)
            started = time.perf_counter()
            hit = session.train(SEED_CSV, "problems", "results", **SEED_SPEC)
            hits.append(time.perf_counter() - started)
            if not hit.info["from_cache"]:
                raise RuntimeError("the second training was not a cache hit")
        result["hit"] = hits
    if params.get("reference"):
        # The method's original shape: one fit(epochs=300) call over the five rows.
        from pytest_featureprobe.data import prepare, read_table
        from pytest_featureprobe.training import TrainSpec, compiled_classifier

        data = prepare(read_table(SEED_CSV), "problems", "results")
        spec = TrainSpec.from_mapping(SEED_SPEC)
        reference = compiled_classifier(data, spec)
        started = time.perf_counter()
        reference.fit(data.x, data.y, epochs=spec.epochs, batch_size=spec.batch_size, verbose=0)
        result["fit_epochs"] = time.perf_counter() - started
    return result


def task_scaling(params: dict[str, Any]) -> dict[str, Any]:
    """``run_sweep`` (the full table) for each feature count and order."""
    from pytest_featureprobe.probes import count_probes
    from pytest_featureprobe.sweep import run_sweep

    repeats = int(params["repeats"])
    n_classes = int(params.get("classes", 10))
    hidden = tuple(params.get("hidden", (256, 256)))
    figures = []
    for n in params["features"]:
        model = probe_model_of(random_dense_model(n, hidden, n_classes), n, n_classes)
        for order in params["orders"]:
            run_sweep(model, order=min(order, 1))  # warm the model's first call
            times = []
            for _ in range(repeats):
                times.append(timed(lambda model=model, order=order: run_sweep(model, order=order)))
                gc.collect()
            figures.append(
                {"features": n, "order": order, "probes": count_probes(n, order), "times": times}
            )
    return {"figures": figures}


def task_import_check(params: dict[str, Any]) -> dict[str, Any]:
    """Which heavy modules importing the plugin (as pytest does) brings in."""
    import importlib

    importlib.import_module("pytest_featureprobe.plugin")
    heavy = ("tensorflow", "keras", "numpy", "pandas", "yaml", "jsonschema")
    return {"imported": [m for m in heavy if m in sys.modules]}


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "stream": task_stream,
    "context": task_context,
    "seed_sweep": task_seed_sweep,
    "train": task_train,
    "scaling": task_scaling,
    "import_check": task_import_check,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in TASKS:
        print(f"usage: python -m benchmarks.worker {{{','.join(TASKS)}}} JSON", file=sys.stderr)
        return 2
    result = TASKS[argv[0]](json.loads(argv[1]))
    result["process_peak_rss"] = peak_rss_bytes()
    print(MARKER + json.dumps(result, allow_nan=False, default=_jsonable), flush=True)
    return 0


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON: {type(value).__name__}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
