"""The plugin's typed stash key: where a run keeps its ``FeatureProbeRun`` on the config."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .run import FeatureProbeRun

RUN_KEY = pytest.StashKey["FeatureProbeRun"]()


def featureprobe_run(config: pytest.Config) -> FeatureProbeRun:
    """The run's plugin object (registered by ``pytest_configure``)."""
    return config.stash[RUN_KEY]
