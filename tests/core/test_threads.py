"""The shortcut's blocks spread over threads: the same outputs as one thread, BLAS restored,
errors raised in the caller, and the thread count that numpy's BLAS is set to. No timings."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_featureprobe.models import threads
from pytest_featureprobe.probes import ProbeGroup
from tests.core.test_dense import plain, probe_model, random_chain

threadpoolctl = pytest.importorskip("threadpoolctl")


@pytest.fixture(scope="module")
def keras():
    from pytest_featureprobe.keras_runtime import load_keras

    return load_keras()


@pytest.fixture
def two_threads(monkeypatch):
    """As on a machine whose BLAS uses two threads, whatever this one has."""
    threads._controller()
    if threads._state["controller"] is None:
        controller = threadpoolctl.ThreadpoolController().select(user_api="blas")
        if not controller.lib_controllers:
            pytest.skip("threadpoolctl finds no BLAS to hold to one thread here")
        monkeypatch.setitem(threads._state, "controller", controller)
    monkeypatch.setitem(threads._state, "threads", 2)


def blas_threads() -> list[int]:
    return [
        lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"
    ]


def test_threaded_blocks_match_one_thread_and_the_plain_pass(keras, two_threads, monkeypatch):
    model = probe_model(random_chain(keras, 40, [32, 16, 5], ["relu", "tanh"], seed=7), 40, 5)
    shortcut = model.shortcut
    shortcut.block_rows = 64  # 780 pairs: 13 blocks, shared between two threads
    active = next(ProbeGroup(2, 40).chunks(10_000))
    before = blas_threads()
    calls = []
    real = threads.run_in_threads
    monkeypatch.setattr(
        "pytest_featureprobe.models.dense.run_in_threads",
        lambda work, items, n: calls.append(n) or real(work, items, n),
    )
    threaded = shortcut(active)
    assert calls == [2]
    assert blas_threads() == before  # the one-thread limit is lifted afterwards
    monkeypatch.setitem(threads._state, "threads", 1)
    serial = shortcut(active)
    assert calls == [2]
    np.testing.assert_allclose(threaded, serial, rtol=0, atol=1e-6)
    np.testing.assert_allclose(threaded, plain(model, active), rtol=0, atol=1e-5)


def test_a_keras_layer_in_the_tail_keeps_blocks_in_the_calling_thread(keras, two_threads):
    layers = random_chain(keras, 12, [8, 3], ["relu"], seed=2).layers
    model = keras.Sequential(
        [keras.Input((12,)), layers[0], keras.layers.LayerNormalization(), layers[1]]
    )
    probe = probe_model(model, 12, 3)
    shortcut = probe.shortcut
    assert shortcut is not None and shortcut.numpy_width is None
    assert not probe.predicts_in_background  # a Keras layer stays in the calling thread
    whole_numpy = probe_model(random_chain(keras, 12, [8, 3], ["relu"], seed=2), 12, 3)
    assert whole_numpy.predicts_in_background


def test_an_error_in_a_worker_thread_is_raised_in_the_caller(two_threads):
    seen = []

    def work(share):
        seen.extend(share)
        if 3 in share:
            raise ValueError("block 3 failed")

    with pytest.raises(ValueError, match="block 3 failed"):
        threads.run_in_threads(work, list(range(6)), 2)
    assert sorted(seen) == list(range(6))


def test_one_blas_thread_means_one_block_thread(monkeypatch):
    monkeypatch.setitem(threads._state, "controller", None)
    monkeypatch.setitem(threads._state, "threads", 1)
    assert threads.block_threads(100) == 1


def test_thread_count_follows_the_blas_setting(monkeypatch):
    """threads.py reads how many threads numpy's BLAS uses, at most the cores and MAX_THREADS."""
    monkeypatch.setattr(threads, "_state", {})
    _controller, count = threads._controller()
    expected = min(max(blas_threads(), default=1), threads.MAX_THREADS, threads._cores())
    assert count == max(1, expected)
    assert threads.block_threads(1) == 1


def test_a_one_thread_blas_keeps_predictions_in_the_calling_thread(keras, monkeypatch):
    """With BLAS at one thread the blocks run in the caller, and so do chunks predicted ahead:
    two background forward passes at once would use two cores after all."""
    model = probe_model(random_chain(keras, 12, [8, 3], ["relu"], seed=2), 12, 3)
    monkeypatch.setitem(threads._state, "controller", None)
    monkeypatch.setitem(threads._state, "threads", 1)
    assert not model.shortcut.runs_in_parallel
    assert not model.predicts_in_background


def test_blas_stays_at_one_thread_while_chunks_are_predicted_ahead(keras, two_threads):
    """Between the passes too (the output checks call BLAS), and it is lifted afterwards,
    also when the caller stops reading early."""
    from pytest_featureprobe.sweep import iter_probabilities

    model = probe_model(random_chain(keras, 30, [16, 4], ["relu"], seed=3), 30, 4)
    model.shortcut.block_rows = 16
    assert model.predicts_in_background
    before = blas_threads()
    if not before or max(before) == 1:
        pytest.skip("numpy's BLAS uses one thread here: nothing to hold")
    seen = [blas_threads() for _ in iter_probabilities(model, [ProbeGroup(2, 30)], chunk_size=64)]
    assert len(seen) > 3 and all(max(threads) == 1 for threads in seen)
    assert blas_threads() == before
    stream = iter_probabilities(model, [ProbeGroup(2, 30)], chunk_size=64)
    next(stream)
    assert max(blas_threads()) == 1
    stream.close()
    assert blas_threads() == before


def test_overlapping_holds_restore_blas_when_the_last_one_ends(two_threads):
    """Two streams read together end in either order: BLAS is back as it was only after both."""
    before = blas_threads()
    if not before or max(before) == 1:
        pytest.skip("numpy's BLAS uses one thread here: nothing to hold")
    first, second = threads.blas_at_one_thread(), threads.blas_at_one_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert max(blas_threads()) == 1  # the second stream's passes still run
    second.__exit__(None, None, None)
    assert blas_threads() == before
