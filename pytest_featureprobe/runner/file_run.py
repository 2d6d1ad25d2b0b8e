"""``FileRun``: one expectation file through the core, the same under pytest and the command.

It parses the document and finds at collection what can be found without training (files outside
the project, missing files, unknown features and classes); builds the model and its one sweep on
first use; reads (and under update first writes) the baseline; checks each item, placing every
error at the file, line and key it concerns; and says what the HTML report shows of the file.
The pytest layer adapts it to nodes and fixtures; ``featureprobe check`` runs it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import DEFAULT_BASELINE_FOLDER
from ..baseline.checks import DriftCheck
from ..baseline.record import Baseline, BaselineError
from ..baseline.store import baseline_path, check_compatible, read_baseline, write_baseline
from ..confinement import resolve
from ..contexts import Context
from ..errors import (
    ALLOW_HINT,
    UPDATE_HINT,
    DataError,
    FeatureProbeError,
    ModelError,
    SpecError,
    display_path,
    quoted,
)
from ..eta import StepClock
from ..expectations import CheckContext, Outcome, check_names
from ..files import unreadable
from ..memo import ProbeSession
from ..models.probe_model import ProbeModel
from ..report.entry import ReportEntry
from ..spec import Document, ItemSpec, load_document
from ..spec.context_decl import ContextDecl
from ..sweep import Sweep
from .confined import claim_baseline, refusals
from .context_rows import (
    default_context,
    placed,
    read_contexts,
    refuse_mixed_probes,
    refuse_training_rows,
    warn_zero_default,
)
from .declared import (
    declared_baseline,
    declared_model,
    declared_names,
    swept_in,
)

FixtureLookup = Callable[[str], Any]  # a fixture name -> its value (raises SpecError if none)
WriteOnce = Callable[[Path, Callable[[], None]], bool]  # (path, write) -> whether it wrote


@dataclass
class RunSettings:
    """What a run of expectation files is told from outside (pytest's options, or the command's)."""

    roots: Sequence[Path]  # folders whose files a document may name (its own folder is added)
    baseline_folder: str = DEFAULT_BASELINE_FOLDER
    update: bool = False  # write the baselines before checking against them
    invocation_dir: Path | None = None  # paths in messages are shown relative to this
    update_command: str = "pytest {file} --featureprobe-update"  # how to create a baseline
    update_hint: str = UPDATE_HINT  # how messages say to write a baseline anew
    allow_hint: str = ALLOW_HINT  # how messages say to allow a folder outside the project
    calibration_workers: int | None = 1  # processes for calibration seeds (None: auto)
    progress: Callable[[str], None] | None = None  # where calibration says how far it got
    baseline_owners: dict[Path, Path] = field(default_factory=dict)  # baseline -> its one file

    def worded(self, error: FeatureProbeError) -> FeatureProbeError:
        """``error`` with its hints in this run's words (the command's flags, not pytest's)."""
        message = error.message.replace(UPDATE_HINT, self.update_hint)
        error.message = message.replace(ALLOW_HINT, self.allow_hint)
        return error

    def shown(self, path: Path) -> str:
        """A path as the user would type it: relative to where the run started, when inside."""
        return display_path(path, self.invocation_dir or Path.cwd())


def write_directly(path: Path, write: Callable[[], None]) -> bool:
    """The default ``WriteOnce`` of a single process: just write."""
    write()
    return True


class FileRun:
    """An expectation file's document, model, sweep and baseline, each built once."""

    def __init__(
        self,
        path: Path,
        session: ProbeSession,
        settings: RunSettings,
        write_once: WriteOnce = write_directly,
    ) -> None:
        self.path = Path(path)
        self.session = session
        self.settings = settings
        self.write_once = write_once
        self.document: Document | None = None
        self.error: FeatureProbeError | None = None  # the whole file's, found once
        self.model: ProbeModel | None = None
        self._checks: dict[ContextDecl | None, CheckContext | FeatureProbeError] = {}
        self._contexts: dict[ContextDecl, Context] = {}  # read at collection, reused
        self.baseline: Baseline | None = None  # as stored, read once
        self.written_baseline: str | None = None  # shown path, until reported once

    # --- collection -------------------------------------------------------------------------

    def collect(self) -> list[ItemSpec]:
        """Parse the file and check what needs no model; raises FeatureProbeError when the file
        as a whole cannot be read (errors of one entry stay on its ItemSpec)."""
        self.document = load_document(self.path)
        whole_file = refuse_training_rows(self.document)
        self.error = self.error or whole_file
        self._check_paths()
        if self.error is None:
            self.error = self._missing_file()
        if self.error is None:
            try:
                names = declared_names(self.session, self.document.model, self.path.parent)
            except FeatureProbeError as exc:
                self.error = self._model_error(exc)
            else:
                if names is not None:
                    self._mark_unknown_names(*names)
        return self.document.items

    def baseline_path(self) -> Path:
        """The drift baseline: as declared (relative to this file), or in the baseline folder."""
        declared = self.document.drift.baseline if self.document.drift is not None else None
        return baseline_path(self.path, declared, self.settings.baseline_folder)

    def _check_paths(self) -> None:
        """Refuse files outside the project root and the allowed folders, and a baseline that
        another file of the run already uses."""
        baseline = self.baseline_path() if self.document.drift is not None else None
        # A file collected from outside the rootdir (pytest /elsewhere/x.yaml) may use its folder.
        roots = [*self.settings.roots, self.path.parent]
        refused = refusals(self.document, roots, baseline)
        if baseline is not None:
            refused += claim_baseline(self.settings.baseline_owners, self.document, baseline)
        for declared, error in refused:
            whole_file = self.document.refuse_path(declared, error)
            self.error = self.error or whole_file

    def _missing_file(self) -> FeatureProbeError | None:
        """A data or model file that the model section names and that does not exist."""
        decl = self.document.model
        key = {"train": "train.data", "load": "load"}.get(decl.kind)
        if key is None:
            return None
        name = decl.values["data" if decl.kind == "train" else "target"]
        what = "data file" if decl.kind == "train" else "model file"
        problem = unreadable(resolve(name, self.path.parent), what, name)
        if problem is None:
            return None
        hint = " (paths are relative to this file)" if "not found" in problem else ""
        return SpecError(
            problem + hint,
            path=self.path,
            line=decl.key_lines.get(key, decl.line),
            key=f"model.{key}",
        )

    def _model_error(self, exc: FeatureProbeError) -> FeatureProbeError:
        """Place an error about the model section at the key it concerns."""
        decl = self.document.model
        key = exc.key
        if key is not None and key.startswith("model.context"):
            return exc  # placed where the context is declared
        if decl.kind == "train":
            if key is not None and f"train.{key}" in decl.key_lines:
                key = f"train.{key}"
            elif isinstance(exc, DataError):  # about the data, or the columns features names
                key = "train.data" if key is None else "train.features"
        if key is None or key not in decl.key_lines:
            key = decl.kind
        if exc.path is None or Path(exc.path) == self.path:
            exc.path = str(self.path)
            exc.line = decl.key_lines.get(key, decl.line)
            exc.key = f"model.{key}"
        return exc

    def _mark_unknown_names(self, space: Any, classes: Sequence[str]) -> None:
        for n, spec in enumerate(self.document.items):
            if spec.error is None and spec.expectation is not None:
                problems = check_names(spec.expectation, space, classes)
                if problems:
                    key, message = problems[0]
                    if key == "probe":  # the subject that lists the probe's features
                        key = next((k for k in ("alone", "together") if k in spec.key_lines), key)
                    elif key == "predicts" and "predicts" not in spec.key_lines:
                        key = "biased_toward"
                    spec.error = SpecError(
                        message, path=self.path, line=spec.line_of(key), key=f"expect[{n}].{key}"
                    )
        refuse_mixed_probes(self.document, space)
        self._contexts, whole_file = read_contexts(self.session, self.document, space)
        self.error = self.error or whole_file

    # --- running ------------------------------------------------------------------------------

    def build(self, fixture: FixtureLookup | None = None) -> ProbeModel:
        """The model, built once for all items; the file's error (found at collection or now) is
        raised instead, for every item. Each context's sweep is made when an item asks for it."""
        if self.model is None and self.error is None:
            try:
                self.model = self._build_model(fixture)
            except FeatureProbeError as exc:
                self.error = self._model_error(exc)
        if self.error is not None:
            raise self.error.with_traceback(None)
        return self.model

    def _build_model(self, fixture: FixtureLookup | None) -> ProbeModel:
        decl, base_dir = self.document.model, self.path.parent
        fixture_value: Any = None
        if decl.kind == "fixture":
            if fixture is None:
                raise SpecError(
                    f"the model comes from the pytest fixture {quoted(decl.values['target'])}, "
                    "which only a pytest run can provide",
                    key="fixture",
                )
            fixture_value = fixture(decl.values["target"])
        model = declared_model(self.session, decl, base_dir, fixture_value)
        if decl.kind == "fixture":
            self._mark_unknown_names(model.space, model.classes)
        return model

    def context_for(self, decl: ContextDecl | None) -> CheckContext:
        """The sweep (and rows) of the items declared in ``decl`` (None: the file's default),
        made once; an error making it is raised for each of those items, placed at ``decl``."""
        if decl not in self._checks:
            try:
                self._checks[decl] = self._check_context(decl)
            except FeatureProbeError as exc:
                self._checks[decl] = exc
        found = self._checks[decl]
        if isinstance(found, FeatureProbeError):
            raise type(found)(found.message, path=found.path, line=found.line, key=found.key)
        return found

    def _check_context(self, decl: ContextDecl | None) -> CheckContext:
        document, model = self.document, self.model
        chosen = decl if decl is not None else default_context(document.model, model.space)
        if decl is None and chosen.is_zero and model.space.categorical:
            warn_zero_default(model)
        try:
            context, sweep = swept_in(
                self.session, document, model, decl, self._contexts.get(chosen)
            )
        except FeatureProbeError as exc:
            if isinstance(exc, ModelError) and exc.key is None:  # the model failed to sweep
                raise self._model_error(exc) from None
            if exc.path is None and (exc.key or "").split(".")[0] in ("model", "drift"):
                raise placed(exc, chosen, None, self.path) from None
            raise
        return CheckContext(
            model=model,
            sweep=sweep,
            context=context,
            baseline=lambda: self._baseline(model, sweep, context),
        )

    def _baseline(self, model: ProbeModel, sweep: Sweep, context: Context) -> Baseline:
        """The stored baseline (written first under update), checked to match today's sweep."""
        if self.baseline is None:
            path = self.baseline_path()
            shown = self.settings.shown(path)
            if self.settings.update and self.write_once(
                path, lambda: self._write_baseline(path, model, sweep, context)
            ):
                self.written_baseline = shown
            try:
                baseline = read_baseline(path)
            except BaselineError as exc:
                if "no baseline" not in exc.message:
                    raise
                command = self.settings.update_command.format(file=self.settings.shown(self.path))
                raise BaselineError(
                    f"no baseline at {shown}; create it with: {command}",
                    path=self.path,
                    line=self.document.drift.line,
                    key="drift",
                ) from None
            drift = self.document.drift
            order = drift.order if drift.order is not None else sweep.order  # as written
            check_compatible(baseline, sweep, shown, order, drift.probes)
            self.baseline = baseline
        return self.baseline

    def _write_baseline(
        self, path: Path, model: ProbeModel, sweep: Sweep, context: Context
    ) -> None:
        baseline = declared_baseline(
            self.session,
            self.document,
            model,
            sweep,
            on_seed=self._seed_progress(path),
            context=context,
            workers=self.settings.calibration_workers,
            progress=self.settings.progress,
        )
        # Only a declared path can name a file that is not ours (README, package.json...).
        write_baseline(path, baseline, replace_any=self.document.drift.baseline is None)

    def _seed_progress(self, path: Path) -> Callable[[int, ProbeModel], None] | None:
        """A line per calibration seed, when the run shows progress."""
        progress = self.settings.progress
        if progress is None:
            return None
        doc, shown, done, clock = self.document, self.settings.shown(path), [], StepClock()
        total = len(doc.drift.calibration_seeds(int(doc.model.values.get("seed", 0))))

        def report(seed: int, model: ProbeModel) -> None:
            done.append(seed)
            how = "from the cache" if model.info.get("from_cache") else "trained"
            eta = clock.finished(len(done), total)
            progress(f"calibrating {shown}: seed {seed} ({len(done)} of {total}) {how}{eta}")

        return report

    def check(self, spec: ItemSpec, fixture: FixtureLookup | None = None) -> Outcome:
        """Check one item: the file's error, then the item's own, then its expectation; an
        error comes in this run's words."""
        try:
            self.build(fixture)
            if spec.error is not None:  # names checked once the model is known
                raise spec.error
            try:
                context = self.context_for(self.document.context_of(spec))
            except FeatureProbeError as exc:
                raise located(exc, spec, self.path) from None
            return check_item(spec, context, self.path)
        except FeatureProbeError as exc:
            raise self.settings.worded(exc).with_traceback(None) from None

    def properties(self, spec: ItemSpec, outcome: Outcome) -> list[tuple[str, Any]]:
        """What an item records (JUnit properties, the summary): model, probes, its figures,
        and on the first drift item of an updating run, the baseline it wrote."""
        context = self.context_for(self.document.context_of(spec))
        found: list[tuple[str, Any]] = [
            ("featureprobe_model", context.model.description),
            ("featureprobe_sweep_probes", len(context.sweep)),
            ("featureprobe_context", context.sweep.context),
        ]
        if self.written_baseline is not None and isinstance(spec.expectation, DriftCheck):
            found.append(("featureprobe_baseline_written", self.written_baseline))
            self.written_baseline = None  # reported once
        found += [(f"featureprobe_{key}", value) for key, value in outcome.properties.items()]
        return found

    # --- the report ------------------------------------------------------------------------------

    def report_entry(self, title: str, results: list[tuple[str, str]]) -> ReportEntry:
        """This file's section of the HTML report (see ``file_report``)."""
        from .file_report import report_entry

        return report_entry(self, title, results)


def check_item(spec: ItemSpec, context: CheckContext, path: Path) -> Outcome:
    """Run one item's check against a built context, placing an error it raises."""
    try:
        outcome = spec.expectation.check(context)
    except FeatureProbeError as exc:
        raise located(exc, spec, path) from None
    if not outcome.passed and context.in_rows:  # say which rows the figures are read on
        outcome.lines.insert(min(1, len(outcome.lines)), context.sweep.context_line())
    return outcome


def located(exc: FeatureProbeError, spec: ItemSpec, path: Path) -> FeatureProbeError:
    """Place an error raised while checking: in another file (a data file of ``on:``) it keeps
    that file; else at the key of this expectation it concerns."""
    if exc.path is not None and Path(exc.path) != path:
        return exc
    key = exc.key
    exc.path = str(path)
    if key is not None and key.startswith(("model.", "drift.")) and exc.line is not None:
        return exc  # placed in the section it concerns (the context declared there)
    if key is None and spec.context is not None and spec.context.data_file is not None:
        key = spec.context.key  # an error reading the item's own rows
    exc.line = spec.line_of(key)
    if spec.context is not None and key is not None and key.startswith(spec.context.key):
        exc.line = spec.context.line_of(key)  # a sub-key of the item's context
    if key is not None and spec.index is not None and not key.startswith("expect["):
        exc.key = f"expect[{spec.index}].{key}"
    return exc
