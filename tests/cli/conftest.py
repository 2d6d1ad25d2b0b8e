"""Fixtures of the command's tests: a small saved Keras model and a shared weights cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_featureprobe.memo import ProbeSession

from .support import SEED_CSV


@pytest.fixture(scope="module")
def session() -> ProbeSession:
    return ProbeSession(None)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory, session) -> Path:
    """A small Keras model over the seed data, saved with its sidecar (space and classes)."""
    model = session.train(SEED_CSV, "problems", "results", hidden=[16], epochs=60, seed=0)
    return model.save(tmp_path_factory.mktemp("model") / "model.keras")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """A weights cache shared by the in-process and subprocess runs on the seed example."""
    return tmp_path_factory.mktemp("cache")
