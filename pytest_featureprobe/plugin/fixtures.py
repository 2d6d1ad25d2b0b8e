"""The plugin's fixtures: the run's ProbeSession and the model-under-test hooks for Python tests.

Relative paths given to ``featureprobe_train`` and ``featureprobe_load`` (data, model and
feature-space files) are read from pytest's rootdir, as an expectation file's paths are read from
its own folder: a run started from another working directory finds the same files. ``base_dir=``
names another folder (relative to the rootdir); an absolute path is used as given.
"""

from __future__ import annotations

from pathlib import Path
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


def _base(root: Path, base_dir: str | Path | None) -> Path:
    """The folder relative paths are read from: the rootdir, or ``base_dir`` relative to it."""
    return root if base_dir is None else root / base_dir


@pytest.fixture(scope="session")
def featureprobe_train(featureprobe_session: ProbeSession, pytestconfig: pytest.Config):
    """``train(data, features, label, **spec) -> ProbeModel``: the dense classifier, cached; a
    relative ``data`` path is read from the rootdir."""
    root = pytestconfig.rootpath

    def train(data: Any, features: Any, label: str, *, base_dir: Any = None, **spec: Any):
        return featureprobe_session.train(
            data, features, label, base_dir=_base(root, base_dir), **spec
        )

    return train


@pytest.fixture(scope="session")
def featureprobe_load(featureprobe_session: ProbeSession, pytestconfig: pytest.Config):
    """``load(model, features=None, classes=None, outputs=None) -> ProbeModel``: saved or live; a
    relative model or feature-space path is read from the rootdir."""
    root = pytestconfig.rootpath

    def load(model: Any, features: Any = None, classes: Any = None, **options: Any):
        base_dir = _base(root, options.pop("base_dir", None))
        return featureprobe_session.load(model, features, classes, base_dir=base_dir, **options)

    return load


@pytest.fixture(scope="session")
def featureprobe_model() -> ProbeModel:
    """The model under test. Override it in conftest.py (see README: "Bring your own model")."""
    pytest.fail(
        "featureprobe: no model. Define a session-scoped `featureprobe_model` fixture in "
        "conftest.py that returns featureprobe_train(...) or featureprobe_load(...).",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def featureprobe_sweep(
    featureprobe_model: Any, featureprobe_session: ProbeSession, pytestconfig: pytest.Config
) -> Sweep:
    """The sweep of ``featureprobe_model`` up to the ``featureprobe_order`` ini value.

    Module scope, so that each test module gets the sweep of the ``featureprobe_model`` its own
    folder's conftest.py defines (a session-scoped sweep was the first folder's for every folder);
    the session's memo sweeps each model once all the same."""
    order = sweep_order(pytestconfig)
    model = featureprobe_session.load(featureprobe_model)
    return featureprobe_session.sweep(model, order=order)
