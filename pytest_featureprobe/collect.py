"""Expectation files as pytest nodes: one file node per YAML file, one test item per expectation.

The file node is a ``pytest.Module`` (as pytest's own text doctests are) so fixtures of every scope
work for its items. Items are ``pytest.Function`` objects whose function checks one expectation, so
fixtures, marks, ``-k``, ``--lf``, ``-x`` and JUnit properties behave as for Python tests.
"""

from __future__ import annotations

import fnmatch
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import DEFAULT_BASELINE_FOLDER
from .plugin import cache_folder

if TYPE_CHECKING:
    from .errors import FeatureProbeError
    from .expectations import CheckContext, Outcome
    from .spec import Document, ItemSpec

DEFAULT_PATTERNS = ("featureprobe_*.yaml", "featureprobe_*.yml")


def _drift_check_type() -> type:
    from .baseline import DriftCheck

    return DriftCheck


_run_id_key = pytest.StashKey[str]()


def run_id(config: pytest.Config) -> str:
    """One id for the whole run: pytest-xdist's testrunuid on workers, else made here."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "testrunuid" in workerinput:
        return str(workerinput["testrunuid"])
    if _run_id_key not in config.stash:
        import uuid

        config.stash[_run_id_key] = getattr(config, "testrunuid", None) or uuid.uuid4().hex
    return config.stash[_run_id_key]


def _lock_name(path: Path) -> str:
    import hashlib

    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]


def run_marker(config: pytest.Config, path: Path) -> Path | None:
    """Where this run notes that it wrote ``path`` (pytest's cache; None without a cache)."""
    folder = cache_folder(config, "written")
    return None if folder is None else folder / _lock_name(path)


def run_lock(config: pytest.Config, path: Path):
    """An inter-process lock for writing ``path``, kept in pytest's cache (not beside the file)."""
    from contextlib import nullcontext

    from filelock import FileLock

    folder = cache_folder(config, "locks")
    return nullcontext() if folder is None else FileLock(folder / f"{_lock_name(path)}.lock")


class BaselinesSeen:
    """Expectation files this process collected and the baselines they use."""

    def __init__(self) -> None:
        self.files: set[Path] = set()  # expectation files collected
        self.used: set[Path] = set()


_baselines_key = pytest.StashKey[BaselinesSeen]()


def baselines_seen(config: pytest.Config) -> BaselinesSeen:
    if _baselines_key not in config.stash:
        config.stash[_baselines_key] = BaselinesSeen()
    return config.stash[_baselines_key]


def _shown(path: Path, config: pytest.Config) -> str:
    """A path as the user would type it: relative to where pytest was started, when inside."""
    from .errors import display_path

    return display_path(path, config.invocation_params.dir)


def unused_baselines(config: pytest.Config, collected: list[Path]) -> list[str]:
    """Baseline files in the baseline folders beside the collected expectation files that no
    expectation file uses (files that exist but were not selected are given the benefit)."""
    seen = baselines_seen(config)
    folder_name = config.getini("featureprobe_baseline_dir") or DEFAULT_BASELINE_FOLDER
    unused = []
    for folder in sorted({path.parent / folder_name for path in collected}):
        for baseline in sorted(folder.glob("*.json")):
            if baseline.resolve() in seen.used:
                continue
            owners = [folder.parent / f"{baseline.stem}{s}" for s in (".yaml", ".yml")]
            if any(
                o.is_file() and o.resolve() not in {c.resolve() for c in collected} for o in owners
            ):
                continue
            unused.append(_shown(baseline, config))
    return unused


def allowed_roots(config: pytest.Config) -> list[Path]:
    """Folders whose files expectation files may name: the project root (pytest's rootdir) and
    those allowed by ``--featureprobe-allow-path`` and the ``featureprobe_allowed_paths`` ini."""
    given = config.getoption("featureprobe_allow_path") or []
    return [
        config.rootpath,
        *config.getini("featureprobe_allowed_paths"),
        *(config.invocation_params.dir / p for p in given),
    ]


def is_expectation_file(path: Path, config: pytest.Config) -> bool:
    patterns = config.getoption("featureprobe_files") or config.getini("featureprobe_files")
    return any(fnmatch.fnmatch(path.name, p) for p in (patterns or DEFAULT_PATTERNS))


class ExpectationFailed(Exception):
    """An expectation did not hold; carries the explanation for the report."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("\n".join(outcome.lines))
        self.outcome = outcome


def check_expectation(request: pytest.FixtureRequest) -> None:
    """The test function of every expectation item."""
    item: ExpectationItem = request.node
    item.run_check(request)


class ExpectationItem(pytest.Function):
    """One expectation of a file, run as a test."""

    spec: ItemSpec

    @classmethod
    def for_spec(cls, parent: ExpectationFile, spec: ItemSpec) -> ExpectationItem:
        item = cls.from_parent(parent, name=spec.name, callobj=check_expectation)
        item.spec = spec
        for name, args, kwargs in spec.marks:
            try:  # --strict-markers refuses marks that are not registered
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pytest.PytestUnknownMarkWarning)
                    item.add_marker(getattr(pytest.mark, name)(*args, **kwargs))
                for warning in caught:  # "Unknown pytest.mark.x" belongs to the YAML line
                    warnings.warn_explicit(
                        warning.message,
                        warning.category,
                        filename=str(parent.path),
                        lineno=spec.line_of("marks"),
                    )
            except (pytest.fail.Exception, AttributeError, TypeError) as exc:
                from .errors import SpecError

                spec.error = spec.error or SpecError(
                    str(exc).strip().splitlines()[0],
                    path=parent.path,
                    line=spec.line_of("marks"),
                    key=f"expect[{spec.index}].marks",
                )
        return item

    def setup(self) -> None:
        if self.spec.error is not None:
            # Raised afresh (without the traceback of collection, which pytest would render).
            raise self.spec.error.with_traceback(None)
        super().setup()

    def run_check(self, request: pytest.FixtureRequest) -> None:
        from .errors import FeatureProbeError

        parent: ExpectationFile = self.parent
        context = parent.context(request)
        if self.spec.error is not None:  # names checked once the model is known
            raise self.spec.error.with_traceback(None)
        try:
            outcome = self.spec.expectation.check(context)
        except FeatureProbeError as exc:
            raise self._located(exc) from None
        self.user_properties.append(("featureprobe_model", context.model.description))
        self.user_properties.append(("featureprobe_sweep_probes", len(context.sweep)))
        written = getattr(parent, "_written_baseline", None)
        if written is not None and isinstance(self.spec.expectation, _drift_check_type()):
            self.user_properties.append(("featureprobe_baseline_written", written))
            parent._written_baseline = None  # reported once
        for key, value in outcome.properties.items():
            self.user_properties.append((f"featureprobe_{key}", value))
        if not outcome.passed:
            raise ExpectationFailed(outcome)

    def _located(self, exc: FeatureProbeError) -> FeatureProbeError:
        """Place an error raised while checking: in another file (a data file of ``on:``) it
        keeps that file; else at the key of this expectation it concerns."""
        from .expectations import AddingExpectation

        if exc.path is not None and Path(exc.path) != self.path:
            return exc
        key = exc.key
        if key is None and isinstance(self.spec.expectation, AddingExpectation):
            key = "on" if self.spec.expectation.on is not None else None
        exc.path = str(self.path)
        exc.line = self.spec.line_of(key)
        if key is not None and self.spec.index is not None and not key.startswith("expect["):
            exc.key = f"expect[{self.spec.index}].{key}"
        return exc

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.spec.line - 1, f"{self.path.name}:{self.spec.line}: {self.name}"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]):
        if isinstance(excinfo.value, ExpectationFailed):
            where = f"{self.path.name}:{self.spec.line}"
            body = "\n".join("  " + line for line in self.spec.source.splitlines())
            detail = "\n".join("  " + line for line in excinfo.value.outcome.lines)
            return f"{where}: expectation {self.name!r} failed\n{body}\n{detail}"
        return super().repr_failure(excinfo)


class ExpectationFile(pytest.Module):
    """A YAML expectation file: parses at collection, builds the model and sweep once when run."""

    document: Document | None = None

    def collect(self):
        from .errors import FeatureProbeError
        from .spec import ItemSpec, load_document

        self._context: CheckContext | None = None
        self._error: FeatureProbeError | None = None
        try:
            self.document = load_document(self.path)
        except FeatureProbeError as exc:
            spec = ItemSpec(name="invalid-file", line=exc.line or 1, source="", error=exc)
            yield ExpectationItem.for_spec(self, spec)
            return
        self._check_names_at_collection()
        baselines_seen(self.config).files.add(self.path)
        if self.document.drift is not None:
            baselines_seen(self.config).used.add(self.baseline_path().resolve())
        for spec in self.document.items:
            yield ExpectationItem.for_spec(self, spec)

    def baseline_path(self) -> Path:
        """The drift baseline: as declared (relative to this file), or in the baseline folder."""
        from .baseline import baseline_path

        folder = self.config.getini("featureprobe_baseline_dir") or DEFAULT_BASELINE_FOLDER
        return baseline_path(self.path, self.document.drift.baseline, folder)

    def _session(self):
        from .plugin import probe_session

        return probe_session(self.config)

    def _check_names_at_collection(self) -> None:
        """Unknown features and classes, found without training when the model is declared."""
        from .errors import FeatureProbeError, SpecError
        from .expectations import AddingExpectation

        document = self.document
        decl = document.model
        if decl.kind != "train":
            for spec in document.items:
                expectation = spec.expectation
                if (
                    spec.error is None
                    and isinstance(expectation, AddingExpectation)
                    and expectation.on == "training"
                ):
                    spec.error = SpecError(
                        f"'training' names the training data of a model trained from data; this "
                        f"file's model is given by {decl.kind}: (use on: <data file> instead)",
                        path=self.path,
                        line=spec.line_of("on"),
                        key=f"expect[{spec.index}].on",
                    )
        self._check_paths()
        if self._error is not None:
            return
        missing = self._missing_file(decl)
        if missing is not None:
            self._error = missing
            return
        try:
            names = self._session().declared_names(decl, self.path.parent)
        except FeatureProbeError as exc:
            self._error = self._model_error(exc)
            return
        if names is not None:
            self._mark_unknown_names(*names)

    def _check_paths(self) -> None:
        """Refuse files outside the project root and the allowed folders."""
        from .paths import refusals

        baseline = self.baseline_path() if self.document.drift is not None else None
        # A file collected from outside the rootdir (pytest /elsewhere/x.yaml) may use its folder.
        roots = [*allowed_roots(self.config), self.path.parent]
        for declared, error in refusals(self.document, roots, baseline):
            whole_file = self.document.refuse_path(declared, error)
            self._error = self._error or whole_file

    def _missing_file(self, decl) -> FeatureProbeError | None:
        """A data or model file that the model section names and that does not exist."""
        from .errors import SpecError

        key = {"train": "train.data", "load": "load"}.get(decl.kind)
        if key is None:
            return None
        from .paths import resolve

        name = decl.values["data" if decl.kind == "train" else "target"]
        if resolve(name, self.path.parent).is_file():
            return None
        what = "data file" if decl.kind == "train" else "model file"
        return SpecError(
            f"{what} not found: {name} (paths are relative to this file)",
            path=self.path,
            line=decl.key_lines.get(key, decl.line),
            key=f"model.{key}",
        )

    def _model_error(self, exc: FeatureProbeError) -> FeatureProbeError:
        """Place an error about the model section at the key it concerns."""
        from .errors import DataError

        decl = self.document.model
        key = exc.key
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

    def _mark_unknown_names(self, space, classes) -> None:
        from .errors import SpecError
        from .expectations import check_names

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

    def context(self, request: pytest.FixtureRequest) -> CheckContext:
        """The model and its sweep, built once for all items of this file."""
        from .errors import FeatureProbeError

        if self._context is None and self._error is None:
            try:
                self._context = self._build_context(request)
            except FeatureProbeError as exc:
                self._error = self._model_error(exc)
        if self._error is not None:
            raise self._error.with_traceback(None)
        return self._context

    def _build_context(self, request: pytest.FixtureRequest) -> CheckContext:
        from .expectations import CheckContext

        document, session = self.document, self._session()
        decl, base_dir = document.model, self.path.parent
        fixture_value: Any = None
        if decl.kind == "fixture":
            try:
                fixture_value = request.getfixturevalue(decl.values["target"])
            except pytest.FixtureLookupError:
                from .errors import SpecError

                raise SpecError(
                    f"no fixture named {decl.values['target']!r}: define it in conftest.py "
                    "(`pytest --fixtures` lists the fixtures there are)",
                    key="fixture",
                ) from None
        model = session.declared_model(decl, base_dir, fixture_value)
        if decl.kind == "fixture":
            self._mark_unknown_names(model.space, model.classes)
        probes = document.extra_probes(model.space)
        sweep = session.sweep(model, order=document.sweep_order(), probes=probes)

        def rows(on: str):
            data = decl.values.get("data") if on == "training" else on
            if data is None:
                from .errors import SpecError

                raise SpecError("'training' needs a model trained from data", key="on")
            return session.rows(model, data, base_dir)

        return CheckContext(
            model=model, sweep=sweep, rows=rows, baseline=lambda: self._baseline(model, sweep)
        )

    def _baseline(self, model, sweep):
        """The stored baseline (written first under --featureprobe-update), checked to match."""
        from .baseline import BaselineError, check_compatible, read_baseline

        if getattr(self, "_stored_baseline", None) is None:
            path = self.baseline_path()
            shown = _shown(path, self.config)
            if self.config.getoption("featureprobe_update") and self._write_baseline(
                path, model, sweep
            ):
                self._written_baseline = shown
            try:
                baseline = read_baseline(path)
            except BaselineError as exc:
                if "no baseline" not in exc.message:
                    raise
                raise BaselineError(
                    f"no baseline at {shown}; create it with: pytest "
                    f"{_shown(self.path, self.config)} --featureprobe-update",
                    path=self.path,
                    line=self.document.drift.line,
                    key="drift",
                ) from None
            drift = self.document.drift
            order = drift.order if drift.order is not None else sweep.order  # as written
            check_compatible(baseline, sweep, shown, order)
            self._stored_baseline = baseline
        return self._stored_baseline

    def _write_baseline(self, path: Path, model, sweep) -> bool:
        """Write the baseline once per run, even when pytest-xdist workers share the files:
        under a lock, a marker in pytest's cache says whether this run already wrote it.
        Returns whether this process wrote it."""
        from .baseline import write_baseline

        marker = run_marker(self.config, path)
        with run_lock(self.config, path):
            if (
                marker is not None
                and marker.is_file()
                and marker.read_text() == run_id(self.config)
            ):
                return False
            baseline = self._session().declared_baseline(
                self.document, self.path.parent, model, sweep
            )
            # Only a declared path can name a file that is not ours (README, package.json...).
            write_baseline(path, baseline, replace_any=self.document.drift.baseline is None)
            if marker is not None:
                marker.write_text(run_id(self.config))
        return True
