"""Which files a document names, which of them lie outside the folders a run allows, and whose
baseline a file is.

The path policy itself (URLs, roots, symbolic links followed) is ``confinement``; this module
knows what a document names: its declared values, the sidecar of a loaded model and the baseline
it reads and writes, declared or not. One baseline gates one file: two files sharing it would
overwrite each other's on ``--featureprobe-update`` and each would drift against the other.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..confinement import is_url, outside, outside_refusal, resolve
from ..errors import SpecError, display_path
from ..files import resolved
from ..models.sidecar import SIDECAR_SUFFIX
from ..spec import DeclaredPath, Document


def refusals(
    document: Document, roots: Sequence[Path], baseline: Path | None = None
) -> list[tuple[DeclaredPath, SpecError]]:
    """The files ``document`` names that lie outside ``roots``, each with its error: the values
    it declares, the sidecar of a loaded model, and ``baseline`` (where its drift baseline is
    read and written, declared or not)."""
    roots = list(dict.fromkeys(Path(r) for r in roots))  # named once each in the message
    base_dir = document.path.parent
    declared = document.declared_paths()
    model = document.model
    if model.kind == "load":
        sidecar = f"{model.values['target']}{SIDECAR_SUFFIX}"
        if os.path.exists(resolve(sidecar, base_dir)):  # False, not an error, for a bad name
            declared.append(DeclaredPath("model.load", model.key_lines["load"], sidecar))
    if baseline is not None and document.drift is not None and not document.drift.baseline:
        declared.append(DeclaredPath("drift", document.drift.line, str(baseline)))
    return [
        (
            entry,
            SpecError(
                outside_refusal(entry.value, roots),
                path=document.path,
                line=entry.line,
                key=entry.key,
            ),
        )
        for entry in declared
        if not is_url(entry.value) and outside(resolve(entry.value, base_dir), roots)
    ]


def claim_baseline(
    owners: dict[Path, Path], document: Document, baseline: Path
) -> list[tuple[DeclaredPath, SpecError]]:
    """Record ``document`` as the one file gated by ``baseline`` in this run (``owners`` maps a
    resolved baseline to its file); the refusal, as ``refusals`` gives them, when another file
    of the run already uses it."""
    own = resolved(document.path)
    owner = owners.setdefault(resolved(baseline), own)
    if owner == own or document.drift is None:
        return []
    drift = document.drift
    key = "drift.baseline" if drift.baseline else "drift"
    line = drift.key_lines.get("baseline", drift.line)
    error = SpecError(
        f"{display_path(baseline)} is already the baseline of {display_path(owner)}: one "
        "baseline gates one file (each file's update would overwrite the other's); give this "
        "file its own with drift.baseline, or leave it out for the default",
        path=document.path,
        line=line,
        key=key,
    )
    return [(DeclaredPath(key, line, str(baseline)), error)]
