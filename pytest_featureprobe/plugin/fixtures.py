"""The plugin's fixtures: the run's ProbeSession and the model-under-test hooks for Python tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .options import sweep_order
from .stash import featureprobe_run

if TYPE_CHECKING:
    from ..memo import ProbeSession
    from ..models import ProbeModel
    from ..sweep import Sweep


@pytest.fixture(scope="session")
def featureprobe_session(pytestconfig: pytest.Config) -> ProbeSession:
    """The shared ProbeSession: trains, loads and sweeps each model once per run."""
    return featureprobe_run(pytestconfig).probe_session()


@pytest.fixture(scope="session")
def featureprobe_train(featureprobe_session: ProbeSession):
    """``train(data, features, label, **spec) -> ProbeModel``: the dense classifier, cached."""
    return featureprobe_session.train


@pytest.fixture(scope="session")
def featureprobe_load(featureprobe_session: ProbeSession):
    """``load(model, features=None, classes=None, outputs=None) -> ProbeModel``: saved or live."""
    return featureprobe_session.load


@pytest.fixture(scope="session")
def featureprobe_model() -> ProbeModel:
    """The model under test. Override it in conftest.py (see README: "Bring your own model")."""
    pytest.fail(
        "featureprobe: no model. Define a session-scoped `featureprobe_model` fixture in "
        "conftest.py that returns featureprobe_train(...) or featureprobe_load(...).",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def featureprobe_sweep(
    featureprobe_model: Any, featureprobe_session: ProbeSession, pytestconfig: pytest.Config
) -> Sweep:
    """The sweep of ``featureprobe_model`` up to the ``featureprobe_order`` ini value."""
    order = sweep_order(pytestconfig)
    model = featureprobe_session.load(featureprobe_model)
    return featureprobe_session.sweep(model, order=order)
