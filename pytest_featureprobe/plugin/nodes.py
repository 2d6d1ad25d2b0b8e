"""Expectation files as pytest nodes: one file node per YAML file, one test item per expectation.

The file node is a ``pytest.Module`` (as pytest's own text doctests are) so fixtures of every scope
work for its items. Items are ``pytest.Function`` objects whose function checks one expectation, so
fixtures, marks, ``-k``, ``--lf``, ``-x`` and JUnit properties behave as for Python tests. All the
work is the runner's ``FileRun``; these nodes adapt it to pytest.

An item's id is its entry's name as ``spec.ids`` folds it for ``-k``; the name itself heads the
failure text and is the JUnit property ``featureprobe_name`` where it differs. Every item carries
the ``featureprobe`` mark. The model and the item's sweep are made in setup (so ``--durations``
counts them there); an error making them is the failure of the call, as it was when the check
made them.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _pytest._code.code import ReprExceptionInfo, ReprFileLocation, ReprTracebackNative

from ..errors import quoted
from .stash import featureprobe_run

if TYPE_CHECKING:
    from ..expectations import Outcome
    from ..runner import FileRun
    from ..spec import ItemSpec


class ExpectationFailed(Exception):
    """An expectation did not hold; carries the explanation for the report."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("\n".join(outcome.lines))
        self.outcome = outcome


def check_expectation(request: pytest.FixtureRequest) -> None:
    """The test function of every expectation item."""
    item: ExpectationItem = request.node
    item.run_check(request)


def fixture_lookup(request: pytest.FixtureRequest):
    """The runner's ``FixtureLookup`` for one item: a fixture by name, or a SpecError."""

    def lookup(name: str) -> Any:
        try:
            return request.getfixturevalue(name)
        except pytest.FixtureLookupError:
            from ..errors import SpecError

            raise SpecError(
                f"no fixture named {quoted(name)}: define it in conftest.py "
                "(`pytest --fixtures` lists the fixtures there are)",
                key="fixture",
            ) from None

    return lookup


def prepare(file_run: FileRun, spec: ItemSpec, lookup: Any) -> None:
    """Make the model and the sweep ``spec`` reads, so that its check only reads them. An error
    of ours is kept by the FileRun, which raises it again from the check (a failure, as before)."""
    from ..errors import FeatureProbeError

    try:
        file_run.build(lookup)
        if spec.error is None:
            file_run.context_for(file_run.document.context_of(spec))
    except FeatureProbeError:
        pass


class ExpectationItem(pytest.Function):
    """One expectation of a file, run as a test."""

    spec: ItemSpec

    setup_error: Exception | None = None  # making the model or sweep in setup: the call's

    @classmethod
    def for_spec(cls, parent: ExpectationFile, spec: ItemSpec, name: str) -> ExpectationItem:
        item = cls.from_parent(parent, name=name, callobj=check_expectation)
        item.spec = spec
        item.add_marker(pytest.mark.featureprobe)
        for mark, args, kwargs in spec.marks:
            item._add_mark(mark, args, kwargs)
        return item

    def _add_mark(self, name: str, args: tuple, kwargs: dict) -> None:
        """A mark from the YAML file; under --strict-markers an unregistered one fails only this
        item, and pytest's unknown-mark warning points at the YAML line."""
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pytest.PytestUnknownMarkWarning)
                self.add_marker(getattr(pytest.mark, name)(*args, **kwargs))
            for warning in caught:  # "Unknown pytest.mark.x" belongs to the YAML line
                warnings.warn_explicit(
                    warning.message,
                    warning.category,
                    filename=str(self.path),
                    lineno=self.spec.line_of("marks"),
                )
        except (pytest.fail.Exception, AttributeError, TypeError) as exc:
            from ..errors import SpecError

            self.spec.error = self.spec.error or SpecError(
                str(exc).strip().splitlines()[0],
                path=self.path,
                line=self.spec.line_of("marks"),
                key=f"expect[{self.spec.index}].marks",
            )

    def setup(self) -> None:
        if self.spec.error is not None:
            # Raised afresh (without the traceback of collection, which pytest would render).
            raise self.spec.error.with_traceback(None)
        super().setup()
        try:
            prepare(self.parent.file_run, self.spec, fixture_lookup(self._request))
        except Exception as exc:  # (a fixture's own error): still this item's failure
            self.setup_error = exc

    def run_check(self, request: pytest.FixtureRequest) -> None:
        if self.setup_error is not None:
            raise self.setup_error
        file_run: FileRun = self.parent.file_run
        outcome = file_run.check(self.spec, fixture_lookup(request))
        if self.spec.name != self.name:
            self.user_properties.append(("featureprobe_name", self.spec.name))
        self.user_properties.extend(file_run.properties(self.spec, outcome))
        if not outcome.passed:
            raise ExpectationFailed(outcome)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.spec.line - 1, f"{self.path.name}:{self.spec.line}: {self.spec.name}"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]):
        """A failed expectation: its one-line summary (the short summary, JUnit's message) and
        the full text (the entry's source and the explanation)."""
        if isinstance(excinfo.value, ExpectationFailed):
            outcome = excinfo.value.outcome
            where = f"{self.path.name}:{self.spec.line}"
            body = "\n".join("  " + line for line in self.spec.source.splitlines())
            detail = "\n".join("  " + line for line in outcome.lines)
            text = f"{where}: expectation {self.spec.name!r} failed\n{body}\n{detail}\n"
            crash = ReprFileLocation(str(self.path), self.spec.line, outcome.headline)
            if self.config.getoption("tbstyle", "auto") == "line":  # the crash line says it all
                return ReprExceptionInfo(ReprTracebackNative([]), crash)
            return ReprExceptionInfo(ReprTracebackNative([text]), crash)
        return super().repr_failure(excinfo)


class ExpectationFile(pytest.Module):
    """A YAML expectation file: parsed at collection; its model and sweep built once when run."""

    file_run: FileRun | None = None

    def collect(self):
        from ..errors import FeatureProbeError
        from ..files import resolved
        from ..spec import ItemSpec
        from ..spec.ids import item_ids

        run = featureprobe_run(self.config)
        self.file_run = run.file_run(self.path)
        try:
            specs = self.file_run.collect()
        except FeatureProbeError as exc:
            spec = ItemSpec(name="invalid-file", line=exc.line or 1, source="", error=exc)
            yield ExpectationItem.for_spec(self, spec, spec.name)
            return
        run.seen.files.add(self.path)
        if self.file_run.document.drift is not None:
            run.seen.used.add(resolved(self.file_run.baseline_path()))
        for spec, name in zip(specs, item_ids(spec.name for spec in specs), strict=True):
            yield ExpectationItem.for_spec(self, spec, name)
