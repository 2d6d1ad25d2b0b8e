"""Baseline files on disk: where a file's baseline lives, reading, writing, and whether it still
fits today's model.

A baseline is written only on request, atomically (``files.atomic_write``), so an interrupted
write leaves the old one; an existing file that is not a baseline (by its parsed structure,
``not_a_baseline``) is not replaced.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import DEFAULT_BASELINE_FOLDER
from ..errors import UPDATE_HINT, plural
from ..files import atomic_write, remove_stale, unreadable, unwritable
from ..sweep import Sweep
from .record import Baseline, BaselineError


def baseline_path(
    document_path: str | Path, declared: str | None = None, folder: str = DEFAULT_BASELINE_FOLDER
) -> Path:
    """Where an expectation file's baseline lives: as declared (relative to the file), else
    ``<folder>/<file stem>.json`` beside it."""
    document_path = Path(document_path)
    if declared:
        return document_path.parent / declared
    return document_path.parent / folder / f"{document_path.stem}.json"


def write_baseline(path: str | Path, baseline: Baseline, *, replace_any: bool = False) -> None:
    """Write atomically: a temporary file in the same folder, renamed over the old one.

    Whatever goes wrong (an exception, KeyboardInterrupt, a full disk), the old baseline is left
    as it was and no temporary file remains (``files.atomic_write``). A folder that cannot be
    written is a BaselineError naming the file and the reason, not a traceback. An existing file
    that is not a baseline (``not_a_baseline``) is not replaced unless ``replace_any`` (files in
    the baseline folder are baselines by name; the command's ``--force``).
    """
    path = Path(path)
    text = baseline.to_text()
    problem = unwritable(path, "the baseline", path.name)  # a NUL byte, a file in the way
    if problem is not None and not (replace_any and os.path.islink(path)):
        raise BaselineError(problem, path=path)
    refusal = None if replace_any else not_a_baseline(path)
    if refusal is not None:
        raise BaselineError(
            f"refusing to replace it: {refusal}; name another file in drift.baseline, or "
            "remove this one",
            path=path,
        )
    try:
        atomic_write(path, text)
    except OSError as exc:
        message = _write_failure(exc)
        if os.path.isfile(path):
            message += "; the old baseline is unchanged"
        raise BaselineError(message, path=path) from None


#: How much of an existing file is read to decide whether it is a baseline; a larger file is
#: judged by its first part only (a baseline's header, where its format marker is).
READ_LIMIT = 64 * 1024 * 1024
_FORMAT_LINE = re.compile(rb'^  "format": [0-9]+,\r?$', re.MULTILINE)


def not_a_baseline(path: str | Path) -> str | None:
    """What an existing ``path`` is when it is not a file we made, to say what replacing it
    would lose (None when nothing is there, or it is a baseline).

    A baseline is a JSON object with an integer ``format`` (any version), a ``probes`` list, a
    ``classes`` list and a ``space`` object, parsed, not searched for words. A damaged baseline
    (truncated, a merge conflict in it: JSON no more) is ours when it holds the format marker as
    ``to_text`` writes it, a line ``  "format": <integer>,`` (two spaces, a top-level key). A JSON
    Schema (``"format": "email"``) or a ``package.json`` (``"scripts": {"format": ...}``) is
    neither. A folder, a FIFO, a link loop or a link to nothing is not a file we made either."""
    path = Path(path)
    if not os.path.lexists(path):
        return None
    shown = path.name
    problem = unreadable(path, "", shown)
    if problem is not None:
        if problem.startswith(" not found"):
            return f"{shown} is a symbolic link to a file that does not exist"
        return problem.strip()
    try:
        size = path.stat().st_size
        with open(path, "rb") as stream:
            raw = stream.read(READ_LIMIT)
    except OSError as exc:
        return f"{shown} cannot be read ({(exc.strerror or str(exc)).lower()})"
    if _is_baseline(raw, complete=size <= READ_LIMIT):
        return None
    return f"{shown} is not a featureprobe baseline ({_what_it_holds(raw, size)})"


def _is_baseline(raw: bytes, complete: bool) -> bool:
    if complete:
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            data = None  # damaged, perhaps: judged by its lines below
        else:
            return (
                isinstance(data, dict)
                and type(data.get("format")) is int
                and isinstance(data.get("probes"), list)
                and isinstance(data.get("classes"), list)
                and isinstance(data.get("space"), dict)
            )
    return _FORMAT_LINE.search(raw) is not None


def _what_it_holds(raw: bytes, size: int) -> str:
    """What would be lost: the file's size, and its lines when it is text."""
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") or not raw else 1)
    if b"\0" in raw[:8192]:
        return f"{plural(size, 'byte')} of binary data"
    return f"{plural(size, 'byte')}, {plural(lines, 'line')}"


def _write_failure(error: OSError) -> str:
    """One line: why the baseline could not be written, with a hint for the usual causes."""
    reason = (error.strerror or str(error)).lower()
    hint = {
        errno.EACCES: " (is the folder read-only?)",
        errno.EPERM: " (is the folder read-only?)",
        errno.EROFS: " (the file system is mounted read-only)",
        errno.ENOSPC: " (the disk is full)",
    }.get(error.errno or 0, "")
    if isinstance(error, FileExistsError) and error.filename:
        return f"cannot write the baseline: {error.filename} is a file, not a folder"
    if isinstance(error, NotADirectoryError) and error.filename:
        hint = f" (a file is in the way of the folder {error.filename})"
    return f"cannot write the baseline: {reason}{hint}"


def read_baseline(path: str | Path) -> Baseline:
    """The baseline at ``path``; the temporary files a killed write left beside it are removed
    first (``files.remove_stale``), so a run that only reads cleans them up too."""
    path = Path(path)
    remove_stale(path.parent)
    problem = unreadable(path, "the baseline", path.name)  # a FIFO's read would block
    if problem is not None and not problem.startswith("the baseline not found"):
        raise BaselineError(problem, path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError("no baseline", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"cannot read the baseline: {exc}", path=path) from None
    try:
        return Baseline.from_text(text, path)
    except RecursionError:  # JSON nested deeper than the parser goes
        raise BaselineError(
            f"corrupt baseline: nested too deeply to parse; recreate it with {UPDATE_HINT}",
            path=path,
        ) from None


def check_compatible(
    baseline: Baseline,
    sweep: Sweep,
    path: str | Path,
    order: int | None = None,
    probes: Sequence[Any] | None = None,
) -> None:
    """Raise when features, classes or probes no longer line up, or the baseline holds another
    probe order than ``order`` (what an update would write now), saying what changed. With
    ``probes`` (``drift.probes``, a narrower set) the baseline must hold exactly those; else
    every probe of today's sweep up to its order."""
    problems = []
    recorded = baseline.context
    if recorded["digest"] != sweep.context_digest:
        if recorded.get("definition") == sweep.context_definition:
            problems.append(
                f"its context ({recorded['name']}) holds other rows now (digest "
                f"{recorded['digest']}, now {sweep.context_digest}): the data changed"
            )
        else:
            problems.append(
                f"it was taken in the context {recorded['name']}; this run reads the context "
                f"{sweep.context}"
            )
    if tuple(baseline.classes) != tuple(sweep.classes):
        problems.append(f"classes were {list(baseline.classes)}, now {list(sweep.classes)}")
    if baseline.space.features != sweep.space.features:
        old, new = set(baseline.space.features), set(sweep.space.features)
        added, removed = sorted(new - old), sorted(old - new)
        detail = []
        if added:
            detail.append(f"added {', '.join(added[:8])}" + (" ..." if len(added) > 8 else ""))
        if removed:
            detail.append(
                f"removed {', '.join(removed[:8])}" + (" ..." if len(removed) > 8 else "")
            )
        problems.append("the feature space changed: " + ("; ".join(detail) or "new order"))
    if not problems and probes is not None:
        problems += _declared_problems(baseline, sweep, probes)
    elif not problems:
        problems += _probe_problems(baseline, sweep, order)
    if problems:
        raise BaselineError(
            "the baseline no longer matches the model: "
            + "; ".join(problems)
            + f". If this change is intended, accept it with {UPDATE_HINT}",
            path=path,
        )


def _listed(names: Sequence[str], limit: int = 8) -> str:
    """Probe names as a message lists them: the first ``limit``, then how many more."""
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _declared_problems(baseline: Baseline, sweep: Sweep, probes: Sequence[Any]) -> list[str]:
    """A baseline of a declared set (``drift.probes``) holds every probe of the set, and
    nothing else: a probe it lacks would go unchecked, one it holds beyond the set is from
    another declaration."""
    declared: list[str] = []
    for probe in probes:
        name = sweep.canonical(probe)
        if name not in declared:
            declared.append(name)
    held = set(baseline.probes)
    lacking = [p for p in declared if p not in held]
    beyond = [p for p in baseline.probes if p not in set(declared)]
    problems = []
    if lacking:
        problems.append(
            f"it lacks {len(lacking)} of the {len(declared)} probes drift.probes declares "
            f"({_listed(lacking)}), which would go unchecked"
        )
    if beyond:
        problems.append(
            f"it holds {len(beyond)} probe{'s' if len(beyond) > 1 else ''} drift.probes does "
            f"not declare ({_listed(beyond)})"
        )
    return problems


def _probe_problems(baseline: Baseline, sweep: Sweep, order: int | None) -> list[str]:
    """Probes the baseline holds that today's sweep lacks, today's probes the baseline lacks
    (a probe line removed by hand would go unchecked), or another probe order than asked for."""
    missing = [p for p in baseline.probes if p not in sweep.table.index]
    table = sweep.table
    kept = set(baseline.probes)
    unchecked = [p for p in table.index[table["order"] <= baseline.order] if p not in kept]
    if missing:
        why = (
            f"; today's sweep goes to order {sweep.order}, the baseline's to {baseline.order}"
            if sweep.order < baseline.order
            else ""
        )
        return [
            f"it holds {len(missing)} probe{'s' if len(missing) > 1 else ''} that today's sweep "
            f"does not ({_listed(missing)}{why})"
        ]
    if unchecked:
        return [
            f"it lacks {len(unchecked)} of today's probes up to order {baseline.order} "
            f"({_listed(unchecked)}), which would go unchecked"
        ]
    if order is not None and baseline.order != order:
        return [
            f"it holds probes up to order {baseline.order}, the file now asks for order {order}"
        ]
    return []
