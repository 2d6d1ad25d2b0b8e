"""Shared test setup."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

SEED_CSV = Path(__file__).resolve().parents[1] / "examples" / "problems" / "problems.csv"

_preloaded = False


def _preload_for_pytester() -> None:
    """Import the heavy libraries, and use Keras once, outside any in-process pytester run.

    An in-process ``pytester`` run removes from ``sys.modules`` every module imported during it.
    numpy, pandas and TensorFlow cannot be imported twice in one process (numpy raises "cannot
    load module more than once per process"; TensorFlow aborts the interpreter), so whatever an
    inner run may import must already be imported when the first ``pytester`` test starts.
    """
    global _preloaded
    if _preloaded:
        return
    _preloaded = True
    import jsonschema  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import yaml  # noqa: F401

    import pytest_featureprobe.collect
    import pytest_featureprobe.expectations
    import pytest_featureprobe.spec  # noqa: F401
    from pytest_featureprobe.session import ProbeSession

    # Train, save, load and sweep a tiny model so that Keras' lazily imported parts load here.
    session = ProbeSession(None)
    model = session.train(SEED_CSV, "problems", "results", epochs=1, hidden=[4])
    with tempfile.TemporaryDirectory() as tmp:
        session.load(model.save(Path(tmp) / "warm.keras")).sweep(order=1)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if "pytester" in getattr(item, "fixturenames", ()):
        _preload_for_pytester()
