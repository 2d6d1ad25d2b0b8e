"""The model a command works on: a ``.keras`` file, or an expectation file's ``train:``/``load:``
model, confined as pytest confines it."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FeatureProbeError, quoted
from ..keras_runtime import start_keras_quietly
from .common import ALLOW_HINT, YAML_SUFFIXES, CommandError, confined_input, csv_list, existing

if TYPE_CHECKING:
    from ..contexts import Context
    from ..memo import ProbeSession
    from ..models import ProbeModel
    from ..spec import Document
    from ..spec.context_decl import ContextDecl
    from ..sweep import Sweep


@dataclass
class Source:
    """The model a command works on, and where it came from."""

    path: Path
    model: ProbeModel
    document: Document | None = None  # for an expectation file
    features_arg: Any = None  # --features / --feature-names as given (for record)
    classes_arg: list[str] | None = None
    outputs_arg: str | None = None


def load_source(args: argparse.Namespace, session: ProbeSession, argument: str) -> Source:
    """A ``.keras`` file (space and classes from options or its sidecar) or an expectation file's
    ``train:`` / ``load:`` model."""
    path = existing(argument, "model file")
    features_file = getattr(args, "features", None)
    names = csv_list(getattr(args, "feature_names", None))
    classes = csv_list(getattr(args, "classes", None))
    outputs = getattr(args, "outputs", None)
    sha256 = getattr(args, "sha256", None)
    if path.suffix == ".keras":
        features: Any = names
        if features_file is not None:
            features = existing(features_file, "feature space file")
        start_keras_quietly()
        model = session.load(path, features, classes, outputs=outputs, sha256=sha256)
        return Source(path, model, None, features, classes, outputs)
    if path.suffix in YAML_SUFFIXES:
        if features_file is not None or names is not None or classes or outputs or sha256:
            raise CommandError(
                "--features, --feature-names, --classes, --outputs and --sha256 apply to a "
                f".keras model; {path.name} declares them in its model: section"
            )
        from ..spec import load_document

        document = load_document(path)
        check_confined(document, args)
        decl = document.model
        if decl.kind == "fixture":
            raise CommandError(
                f"{path}: the model comes from the pytest fixture "
                f"{quoted(decl.values['target'])}, which only a pytest run can provide; run pytest "
                "on the file, or give the command a .keras model (ProbeModel.save writes one) or "
                "a file with model: train: or load:"
            )
        start_keras_quietly()
        from ..runner import declared_model

        model = declared_model(session, decl, path.parent)
        return Source(path, model, document)
    raise CommandError(
        f"{argument}: expected a .keras model or an expectation file (.yaml); "
        "legacy .h5 models load after model.save('model.keras')"
    )


def check_confined(
    document: Document, args: argparse.Namespace, baseline: Path | None = None
) -> None:
    """Refuse an expectation file that names files outside the working directory, its own
    folder and the folders given with --allow-path (as pytest confines them to its rootdir)."""
    from ..runner import refusals

    roots = command_roots(document, args)
    from ..runner import RunSettings

    found = refusals(document, roots, baseline)
    if found:
        words = RunSettings(roots=roots, allow_hint=ALLOW_HINT)
        raise CommandError(words.worded(found[0][1]).describe(Path.cwd()))


def command_roots(document: Document, args: argparse.Namespace) -> Sequence[Path]:
    """The folders whose files a document may name under the command: the working directory,
    the document's own folder and the folders given with --allow-path."""
    return [Path.cwd(), document.path.parent, *(Path(p) for p in args.allow_path or [])]


def context_of(
    args: argparse.Namespace, source: Source, session: ProbeSession, drift: bool = False
) -> tuple[Context, ContextDecl]:
    """``--context zero|training|FILE`` (and ``--sample N``) as a Context of the source's model,
    with its declaration. Without ``--context``: an expectation file's own context (its
    ``model.context:``, or with ``drift`` its drift checks', else the default of its feature
    space), the zero vector for a .keras file."""
    from ..runner.context_rows import declared_context, default_context
    from ..runner.declared import drift_context
    from ..spec.context_decl import ContextDecl

    given = getattr(args, "context", None)
    sample = getattr(args, "sample", None)
    document = source.document
    model_decl = document.model if document is not None else None
    if given is None and model_decl is not None:
        declared = drift_context(document) if drift else model_decl.context
        decl = declared or default_context(model_decl, source.model.space)
    elif given in (None, "zero"):
        decl = ContextDecl("zero")
    elif given == "training":
        if model_decl is None or model_decl.kind != "train":
            raise CommandError(
                "--context training names the training rows of a model trained from data "
                "(an expectation file with model: train:); give --context FILE instead"
            )
        decl = ContextDecl("rows", "training")
    else:
        decl = ContextDecl("rows", str(_confined_file(args, given)))
    if sample is not None:
        if decl.is_zero or decl.kind == "reference":
            raise CommandError("--sample narrows real rows: give --context training or FILE")
        decl = ContextDecl(decl.kind, decl.rows, sample, 0, decl.where, decl.reference)
    base_dir = source.path.parent if document is not None else Path.cwd()
    try:
        context = declared_context(session, decl, model_decl, source.model.space, base_dir)
    except FeatureProbeError as exc:
        raise CommandError(f"--context: {exc.message}") from None
    return context, decl


def source_sweep(
    args: argparse.Namespace,
    source: Source,
    session: ProbeSession,
    order: int,
    drift: bool = False,
) -> tuple[Sweep, Context, ContextDecl]:
    """The source's sweep up to ``order`` in the context ``--context`` names (see
    ``context_of``; ``drift``: by default the drift checks' context): with a progress line on
    the zero vector, as means over rows in context."""
    context, decl = context_of(args, source, session, drift)
    if context.is_zero:
        from .progress import sweep_with_progress

        return sweep_with_progress(source.model, order), context, decl
    from ..context_sweep import run_context_sweep

    return run_context_sweep(source.model, context, order=order), context, decl


def _confined_file(args: argparse.Namespace, given: str) -> Path:
    """``--context FILE``: ``confined_input``'s rules, its message prefixed with the option."""
    try:
        return confined_input(args, given, "context data file")
    except CommandError as exc:
        raise CommandError(f"--context: {exc}") from None
