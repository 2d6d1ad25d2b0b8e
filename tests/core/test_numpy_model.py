"""numpy_model: a trained classifier known by its weights alone. It agrees with its Keras model,
a fresh model and its cached copy give the same numbers, the Keras model is built only when
asked for, and a run whose models come from the cache never imports TensorFlow."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from pytest_featureprobe.memo import ProbeSession
from pytest_featureprobe.models import dense_rows, from_keras
from pytest_featureprobe.models.numpy_model import from_dense_weights
from pytest_featureprobe.probes import ProbeGroup
from pytest_featureprobe.sweep import run_sweep

from ..conftest import SEED_CSV

ROOT = Path(__file__).resolve().parents[2]
SPEC = {"hidden": [8, 6], "epochs": 20, "seed": 3}


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "silu", "swish", "elu"])
def test_the_numpy_model_agrees_with_its_keras_model(tmp_path, activation):
    session = ProbeSession(tmp_path)
    model = session.train(SEED_CSV, "problems", "results", **SPEC, activation=activation)
    assert model.info["from_cache"] is False
    keras = from_keras(model.keras_model, model.space, model.classes)
    assert model.fingerprint == keras.fingerprint  # the same weights, the same fingerprint
    for order in (1, 2, 3):
        active = next(ProbeGroup(order, 6).chunks(100))
        np.testing.assert_allclose(
            model.predict_active(active), keras.predict_active(active), rtol=0, atol=1e-6
        )
        rows = dense_rows(active, 6)
        np.testing.assert_allclose(
            model.predict_proba(rows),
            np.asarray(model.keras_model(rows, training=False)),
            rtol=0,
            atol=1e-6,
        )


def test_a_cached_model_gives_the_fresh_model_s_numbers_and_builds_keras_on_demand(tmp_path):
    fresh = ProbeSession(tmp_path).train(SEED_CSV, "problems", "results", **SPEC)
    cached = ProbeSession(tmp_path).train(SEED_CSV, "problems", "results", **SPEC)
    assert (fresh.info["from_cache"], cached.info["from_cache"]) == (False, True)
    assert cached._keras_model is None  # not built: nothing asked for it
    for order in (1, 2, 3):
        a, b = run_sweep(fresh, order=order).table, run_sweep(cached, order=order).table
        np.testing.assert_array_equal(a.select_dtypes(float), b.select_dtypes(float))
    weights = cached.keras_model.get_weights()  # built now, from the cached weights
    for got, want in zip(weights, fresh.keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_an_activation_without_a_numpy_version_goes_through_keras(tmp_path):
    model = ProbeSession(tmp_path).train(SEED_CSV, "problems", "results", **SPEC, activation="gelu")
    assert model._keras_model is not None
    assert (
        from_dense_weights(
            model.keras_model.get_weights(), "gelu", model.space, model.classes, description="x"
        )
        is None
    )


@pytest.mark.system
def test_a_run_from_the_cache_never_imports_tensorflow(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from pytest_featureprobe.memo import ProbeSession
        model = ProbeSession({str(tmp_path)!r}).train(
            {str(SEED_CSV)!r}, "problems", "results", hidden=[8], epochs=20, seed=1
        )
        model.sweep(order=2)
        print(model.info["from_cache"], "tensorflow" in sys.modules, "keras" in sys.modules)
        """
    )

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()[-3:]

    assert run() == ["False", "True", "True"]  # trained: Keras and TensorFlow imported
    assert run() == ["True", "False", "False"]  # from the cache: neither
