"""Both cores for the shortcut's blocks: worker threads, each with BLAS held to one thread.

numpy's elementwise passes (bias, activations, the first layer's sums) use one core while BLAS
uses them all for the products. Threads that each take whole blocks, with BLAS at one thread
apiece, keep every core busy through every pass. numpy releases the GIL in all of them.

The thread count is what numpy's BLAS is set to use (so ``OPENBLAS_NUM_THREADS=1``, or a
pytest-xdist worker told to use one thread, stays at one), at most ``MAX_THREADS``. Without
threadpoolctl, or when it finds no BLAS to hold to one thread, blocks run in the calling thread.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: More threads than this would wait on the GIL between their numpy calls.
MAX_THREADS = 8

_lock = threading.Lock()
_running = threading.Lock()  # one parallel pass at a time: the BLAS limit is process-wide
_state: dict[str, Any] = {}


def _controller() -> tuple[Any, int]:
    """threadpoolctl's controller (made once: it scans the loaded libraries) and the number of
    threads numpy's BLAS uses; (None, 1) when there is nothing to control."""
    with _lock:
        if "controller" not in _state:
            try:
                from threadpoolctl import ThreadpoolController

                controller = ThreadpoolController().select(user_api="blas")
                threads = min((lib.num_threads for lib in controller.lib_controllers), default=1)
            except Exception:  # threadpoolctl missing, or a library it cannot read
                controller, threads = None, 1
            _state["controller"] = controller if threads > 1 else None
            _state["threads"] = max(1, min(int(threads), MAX_THREADS, _cores()))
        return _state["controller"], _state["threads"]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def block_threads(blocks: int) -> int:
    """How many threads ``blocks`` blocks are spread over (1: the calling thread alone)."""
    controller, threads = _controller()
    if controller is None or blocks < 2:
        return 1
    return min(threads, blocks)


@contextlib.contextmanager
def blas_at_one_thread() -> Iterator[None]:
    """numpy's BLAS held to one thread while the block threads use the cores (nothing to do
    when there is no BLAS to control). Holds may overlap (a pass inside a stream, two streams
    read together): the first sets the limit and the last one out restores what it found."""
    controller, _ = _controller()
    if controller is None:
        yield
        return
    with _lock:
        if not _state.get("holders"):
            _state["limiter"] = controller.limit(limits=1)
        _state["holders"] = _state.get("holders", 0) + 1
    try:
        yield
    finally:
        with _lock:
            _state["holders"] -= 1
            if not _state["holders"]:
                _state.pop("limiter").restore_original_limits()


def _pool(threads: int) -> ThreadPoolExecutor:
    """One pool per process (remade after a fork, whose child has no threads)."""
    with _lock:
        pool = _state.get("pool")
        if pool is None or _state.get("pid") != os.getpid() or _state.get("size") != threads:
            pool = ThreadPoolExecutor(threads, thread_name_prefix="featureprobe-block")
            _state.update(pool=pool, pid=os.getpid(), size=threads)
        return pool


def run_in_threads(work: Callable[[Sequence[int]], None], items: Sequence[int], threads: int):
    """``work`` on ``threads`` interleaved shares of ``items``, in parallel, BLAS at one thread
    each meanwhile; the first exception raised is re-raised here."""
    shares = [items[i::threads] for i in range(threads)]
    with _running, blas_at_one_thread():
        futures = [_pool(threads).submit(work, share) for share in shares]
        for future in futures:
            future.result()
