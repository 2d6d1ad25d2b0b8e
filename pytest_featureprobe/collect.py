"""Expectation files as pytest nodes: one file node per YAML file, one test item per expectation.

The file node is a ``pytest.Module`` (as pytest's own text doctests are) so fixtures of every scope
work for its items. Items are ``pytest.Function`` objects whose function checks one expectation, so
fixtures, marks, ``-k``, ``--lf``, ``-x`` and JUnit properties behave as for Python tests.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .errors import FeatureProbeError
    from .expectations import CheckContext, Outcome
    from .spec import Document, ItemSpec

DEFAULT_PATTERNS = ("featureprobe_*.yaml", "featureprobe_*.yml")


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
            item.add_marker(getattr(pytest.mark, name)(*args, **kwargs))
        return item

    def setup(self) -> None:
        if self.spec.error is not None:
            raise self.spec.error
        super().setup()

    def run_check(self, request: pytest.FixtureRequest) -> None:
        from .errors import FeatureProbeError

        parent: ExpectationFile = self.parent
        context = parent.context(request)
        if self.spec.error is not None:  # names checked once the model is known
            raise self.spec.error
        try:
            outcome = self.spec.expectation.check(context)
        except FeatureProbeError as exc:
            raise exc.located(self.path, self.spec.line) from None
        for key, value in outcome.properties.items():
            self.user_properties.append((f"featureprobe_{key}", value))
        if not outcome.passed:
            raise ExpectationFailed(outcome)

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
        for spec in self.document.items:
            yield ExpectationItem.for_spec(self, spec)

    def _session(self):
        from .plugin import probe_session

        return probe_session(self.config)

    def _check_names_at_collection(self) -> None:
        """Unknown features and classes, found without training when the model is declared."""
        from .errors import FeatureProbeError

        document = self.document
        try:
            names = self._session().declared_names(document.model, self.path.parent)
        except FeatureProbeError as exc:
            self._error = exc.located(self.path, document.model.line, "model")
            return
        if names is not None:
            self._mark_unknown_names(*names)

    def _mark_unknown_names(self, space, classes) -> None:
        from .errors import SpecError
        from .expectations import check_names

        for n, spec in enumerate(self.document.items):
            if spec.error is None and spec.expectation is not None:
                problems = check_names(spec.expectation, space, classes)
                if problems:
                    key, message = problems[0]
                    spec.error = SpecError(message, path=self.path, line=spec.line,
                                           key=f"expect[{n}].{key}")

    def context(self, request: pytest.FixtureRequest) -> CheckContext:
        """The model and its sweep, built once for all items of this file."""
        from .errors import FeatureProbeError

        if self._context is None and self._error is None:
            try:
                self._context = self._build_context(request)
            except FeatureProbeError as exc:
                self._error = exc.located(self.path, self.document.model.line, "model")
        if self._error is not None:
            raise self._error
        return self._context

    def _build_context(self, request: pytest.FixtureRequest) -> CheckContext:
        from .expectations import CheckContext

        document, session = self.document, self._session()
        decl, base_dir = document.model, self.path.parent
        fixture_value: Any = None
        if decl.kind == "fixture":
            fixture_value = request.getfixturevalue(decl.values["target"])
        model = session.declared_model(decl, base_dir, fixture_value)
        if decl.kind == "fixture":
            self._mark_unknown_names(model.space, model.classes)
        probes = [p for p in document.extra_probes() if all(f in model.space for f in p)]
        sweep = session.sweep(model, order=document.sweep_order(), probes=probes)

        def rows(on: str):
            data = decl.values.get("data") if on == "training" else on
            if data is None:
                from .errors import SpecError

                raise SpecError("on: training needs a model trained from data", key="on")
            return session.rows(model, data, base_dir)

        return CheckContext(model=model, sweep=sweep, rows=rows)
