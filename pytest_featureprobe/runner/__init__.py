"""The runner: a parsed expectation file plus models -> outcomes, baselines written, report entries.

- ``file_run``: ``FileRun``, one file from collection to each item's outcome; ``RunSettings``
- ``declared``: what a document's sections ask of the ``ProbeSession`` (model, names, baseline)
- ``confined``: which files a document names lie outside the allowed folders

The pytest layer and the command both run files through it, so the two cannot disagree. Imports
the core (spec, memo, baseline, expectations, the report's plain ``ReportEntry``); never pytest,
the pytest layer or the command line.
"""

from .confined import refusals
from .declared import (
    declared_baseline,
    declared_model,
    declared_names,
    declared_sweep,
    seed_sweeps,
)
from .file_run import FileRun, RunSettings, check_item, located

__all__ = [
    "FileRun",
    "RunSettings",
    "check_item",
    "declared_baseline",
    "declared_model",
    "declared_names",
    "declared_sweep",
    "located",
    "refusals",
    "seed_sweeps",
]
