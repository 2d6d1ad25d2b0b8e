"""A declared ``context:`` made real for one model: its rows read, encoded in the model's feature
space, sliced, sampled or reduced to a reference row (``contexts.Context``).

The default, where a file declares none: the training rows for a model trained on a space with
categorical columns (no real row has every column empty, so the zero vector misleads there); the
zero vector otherwise (token features, where it is the row with no tokens: the seed method). A
loaded model with categorical columns has no training rows here, so it stays on the zero vector
with a ``ContextWarning`` that says how to give it rows.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from ..contexts import Context, check_probe, mode_row, reference_rows
from ..errors import FeatureProbeError, SpecError
from ..features import FeatureSpace
from ..memo import ProbeSession
from ..models.probe_model import ProbeModel
from ..spec import Document, ItemSpec, ModelDecl
from ..spec.context_decl import TRAINING, ContextDecl


class ContextWarning(UserWarning):
    """Probes of a categorical space read against the zero vector by default."""


def default_context(decl: ModelDecl, space: FeatureSpace) -> ContextDecl:
    """The context of a file that declares none (see the module's docstring)."""
    if space.categorical and decl.kind == "train":
        return ContextDecl("rows", TRAINING, key="model", line=decl.line)
    return ContextDecl("zero", key="model", line=decl.line)


def warn_zero_default(model: ProbeModel) -> None:
    """The ``ContextWarning`` of a loaded categorical model left on the zero vector."""
    warnings.warn(
        ContextWarning(
            f"{model.description}: its features are categorical columns, and probes are read "
            "against the zero vector, which no real row is; give model.context: {rows: <data "
            "file>} to read them on real rows (or context: zero to keep this reading)"
        ),
        stacklevel=3,
    )


def declared_context(
    session: ProbeSession,
    decl: ContextDecl,
    model_decl: ModelDecl | None,
    space: FeatureSpace,
    base_dir: str | Path,
) -> Context:
    """The rows ``decl`` names, encoded in ``space`` (the model's; known at collection for a
    model trained from data); a mistake (an unknown column in ``where``, a sample larger than
    the rows) raises with ``decl``'s key, or the sub-key it concerns."""
    try:
        return _context(session, decl, model_decl, space, base_dir)
    except FeatureProbeError as exc:
        raise keyed(exc, decl) from None


def keyed(exc: FeatureProbeError, decl: ContextDecl) -> FeatureProbeError:
    """A copy of an error reading ``decl`` (its key a sub-key or None) under ``decl``'s key;
    an error in a data file keeps that file and its key."""
    if exc.path is not None:
        return exc
    key = decl.key + (f".{exc.key}" if exc.key else "")
    return type(exc)(exc.message, line=exc.line, key=key)


def _context(
    session: ProbeSession,
    decl: ContextDecl,
    model_decl: ModelDecl | None,
    space: FeatureSpace,
    base_dir: str | Path,
) -> Context:
    definition = decl.definition()
    if decl.is_zero:
        return Context.zero()
    if decl.kind == "reference":
        records = [dict(r) for r in decl.reference]
        rows = reference_rows(space, records)
        plural = "s" if len(rows) > 1 else ""
        return Context.of_rows(f"{len(rows)} reference row{plural}", rows, definition)
    if decl.names_training:
        if model_decl is None or model_decl.kind != "train":
            raise SpecError(needs_training_rows(decl, model_decl))
        data, name = model_decl.values["data"], "training rows"
    else:
        data, name = decl.rows, f"rows of {Path(str(decl.rows)).name}"
    context = Context.of_rows(name, session.rows(space, data, base_dir), {"kind": "rows"})
    if decl.where:
        context = context.where(space, dict(decl.where))
    if decl.sample is not None:
        context = context.sample(decl.sample, decl.seed)
    if decl.kind == "mode":
        return Context.of_rows(
            f"the mode of {context.name}", mode_row(space, context.rows), definition
        )
    return Context(context.name, context.rows, definition)


def needs_training_rows(decl: ContextDecl, model_decl: ModelDecl | None) -> str:
    """Why a context that reads the training rows cannot be had, and what to write instead."""
    kind = f"{model_decl.kind}:" if model_decl is not None else "a .keras file"
    if decl.kind == "mode":
        return (
            "mode is the most common values of the training rows, which only a model trained "
            f"from data has; this file's model is given by {kind} (write {{reference: mode, "
            "rows: <data file>} for a data file's)"
        )
    return (
        "'training' names the training data of a model trained from data; this file's model "
        f"is given by {kind} (name a data file instead)"
    )


def refuse_training_rows(document: Document) -> SpecError | None:
    """'training' names the rows of a model trained from data: refused elsewhere, at the
    key that says it. An item's own context fails the item, drift's the drift checks; the
    model section's is returned (it fails the whole file)."""
    decl = document.model
    if decl.kind == "train":
        return None
    drift = document.drift
    declared = [(None, decl.context), (None, drift.context if drift is not None else None)]
    declared += [(item, item.context) for item in document.items if item.index is not None]
    whole_file = None
    for item, context in declared:
        if context is None or not context.names_training:
            continue
        key = context.key if item is None else f"expect[{item.index}].{context.key}"
        error = SpecError(
            needs_training_rows(context, decl),
            path=document.path,
            line=context.line,
            key=key,
        )
        if item is not None:
            item.error = item.error or error
        elif key.startswith("drift"):
            for drift_item in document.items:
                if drift_item.index is None:
                    drift_item.error = drift_item.error or error
        else:
            whole_file = error
    return whole_file


def refuse_mixed_probes(document: Document, space: FeatureSpace) -> None:
    """What a context cannot hold, refused at its key before anything is trained: a probe with
    two values of one column in real rows (no row can hold it), and ``min_fraction`` on the
    zero vector (it counts rows; the zero vector is one input)."""
    decl = document.model
    for spec in document.items:
        context = document.context_of(spec) or default_context(decl, space)
        if spec.error is not None or spec.expectation is None:
            continue
        if context.is_zero and "min_fraction" in spec.key_lines:
            rows = "training or context: <data file>" if decl.kind == "train" else "<data file>"
            spec.error = SpecError(
                "min_fraction counts rows of a context, and this item is read on the zero "
                f"vector: add context: {rows}",
                path=document.path,
                line=spec.line_of("min_fraction"),
                key=f"expect[{spec.index}].min_fraction",
            )
            continue
        if context.is_zero:
            continue
        key = next((k for k in ("alone", "together") if k in spec.key_lines), "expect")
        try:
            for probe in spec.expectation.needed_probes():
                check_probe(space, probe)
        except SpecError as exc:
            spec.error = SpecError(
                exc.message,
                path=document.path,
                line=spec.line_of(key),
                key=f"expect[{spec.index}].{key}",
            )


def read_contexts(
    session: ProbeSession, document: Document, space: FeatureSpace
) -> tuple[dict[ContextDecl, Context], SpecError | FeatureProbeError | None]:
    """Every context the file declares, read once the space is known (at collection for a model
    trained from data or loaded with its space): the contexts made, to be reused, and the
    mistakes placed at their file, line and key (an entry's on the entry, drift's on the drift
    checks; the model section's is returned: it fails the whole file)."""
    drift = document.drift
    declared = [(None, document.model.context), (None, drift.context if drift else None)]
    declared += [(i, i.context) for i in document.items if i.index is not None]
    made: dict[ContextDecl, Context] = {}
    failed: dict[ContextDecl, FeatureProbeError] = {}
    whole_file = None
    for item, decl in declared:
        if decl is None or decl.is_zero or (item is not None and item.error is not None):
            continue
        if decl not in made and decl not in failed:
            try:
                made[decl] = _context(session, decl, document.model, space, document.path.parent)
            except FeatureProbeError as exc:
                failed[decl] = exc  # keyed below for each declaration that shares it
        if decl in failed:
            error = placed(keyed(failed[decl], decl), decl, item, document.path)
            if item is not None:
                item.error = error
            elif decl.key.startswith("drift"):
                for drift_item in document.items:
                    if drift_item.index is None:
                        drift_item.error = drift_item.error or error
            else:
                whole_file = whole_file or error
    return made, whole_file


def placed(
    exc: FeatureProbeError, decl: ContextDecl, item: ItemSpec | None, path: Path
) -> FeatureProbeError:
    """A copy of a context's error at its place: ``path``, the line of the (sub-)key it
    concerns, the key under the entry (``item``) or section that declares it. An error in
    another file (a context data file) keeps that file."""
    if exc.path is not None and Path(exc.path) != Path(path):
        return exc
    key = exc.key or decl.key
    full = f"expect[{item.index}].{key}" if item is not None else key
    return type(exc)(exc.message, path=str(path), line=decl.line_of(key), key=full)
