"""The ``context:`` key: what probes are applied to, as declared (``ContextDecl``).

It may stand in the model section (the file's default), on an expectation and in ``drift:``.
Its forms:

- ``zero``: the zero vector (the seed method); ``training``: the model's training rows;
  ``mode``: one row of the training rows' most common values; any other string: a data file
- ``{rows: training | FILE, sample: N, seed: S, where: {column: value}}``: rows, narrowed
- ``{reference: [{column: value, ...}, ...]}``: explicit rows; ``{reference: mode, rows: ...}``

What the declaration means for a model (its rows, encoded) is the runner's job; here it is only
read and checked, every mistake a SpecError at its file, line and key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..features import feature_name
from .yaml_lines import LineDict, plain_data

ZERO, TRAINING, MODE = "zero", "training", "mode"


@dataclass(frozen=True)
class ContextDecl:
    """A declared context: ``kind`` is zero, rows, mode or reference; ``rows`` names the rows
    (``training`` or a data file) of rows and mode; ``key``/``line`` say where it was written."""

    kind: str
    rows: str | None = None
    sample: int | None = None
    seed: int = 0
    where: tuple[tuple[str, Any], ...] = ()
    reference: tuple[tuple[tuple[str, Any], ...], ...] = ()
    key: str = field(default="model.context", compare=False)
    line: int = field(default=0, compare=False)
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    def line_of(self, key: str | None) -> int:
        """The line of ``key`` (``model.context.sample``, or ``sample``) as written."""
        sub = (key or "").removeprefix(self.key).lstrip(".").split(".")[0]
        return self.key_lines.get(sub, self.line)

    @property
    def is_zero(self) -> bool:
        return self.kind == ZERO

    @property
    def names_training(self) -> bool:
        return self.rows == TRAINING

    @property
    def data_file(self) -> str | None:
        """The data file the rows come from (None for the zero vector, reference rows, training)."""
        return None if self.rows in (None, TRAINING) else self.rows

    def definition(self) -> dict[str, Any]:
        """The declaration as plain data (a baseline records it; the sweep table is named by it)."""
        found: dict[str, Any] = {"kind": self.kind}
        if self.rows is not None:
            found["rows"] = self.rows
        if self.sample is not None:
            found.update(sample=self.sample, seed=self.seed)
        if self.where:
            found["where"] = dict(self.where)
        if self.reference:
            found["reference"] = [
                {k: list(v) if isinstance(v, tuple) else v for k, v in r} for r in self.reference
            ]
        return found

    def value(self, rows: str | None = None) -> Any:
        """The declaration as a ``context:`` value reads it back (``rows``: the data file as
        the file that holds it should name it)."""
        rows = self.rows if rows is None else rows
        if self.is_zero:
            return ZERO
        if self.kind == "reference":
            return {"reference": [dict(r) for r in self.reference]}
        narrowed = self.sample is not None or self.where
        if not narrowed and self.kind == "rows":
            return rows
        if not narrowed and self.kind == MODE and rows == TRAINING:
            return MODE
        found: dict[str, Any] = {"rows": rows}
        if self.kind == MODE:
            found["reference"] = MODE
        if self.sample is not None:
            found.update(sample=self.sample, seed=self.seed)
        if self.where:
            found["where"] = dict(self.where)
        return found

    def label(self) -> str:
        """One line naming the context, for ids and messages."""
        return json.dumps(self.definition(), sort_keys=True)


def context_decl(value: Any, key: str, line: int, path: Path | None = None) -> ContextDecl:
    """Read a ``context:`` value written at ``key`` (line ``line``); the schema has checked its
    shape. A mistake is a SpecError at ``key`` or the sub-key it concerns."""
    try:
        decl = _decl(value, key, line)
    except SpecError as exc:
        sub = exc.key
        exc.key = key + (f".{sub}" if sub else "")
        exc.line = value.key_lines.get(sub, line) if isinstance(value, LineDict) and sub else line
        exc.path = str(path) if path is not None else exc.path
        raise
    if isinstance(value, LineDict):
        object.__setattr__(decl, "key_lines", dict(value.key_lines))
    return decl


def _decl(value: Any, key: str, line: int) -> ContextDecl:
    if isinstance(value, str):
        if value == ZERO:
            return ContextDecl(ZERO, key=key, line=line)
        if value == MODE:
            return ContextDecl(MODE, TRAINING, key=key, line=line)
        return ContextDecl("rows", value, key=key, line=line)
    values = plain_data(value)
    reference = values.get("reference")
    if reference is not None and reference != MODE:
        for narrowing in ("rows", "sample", "seed", "where"):
            if narrowing in values:
                raise SpecError(
                    f"{narrowing} narrows data rows; reference rows are given as they are",
                    key=narrowing,
                )
        rows = tuple(tuple((str(k), _cell(v)) for k, v in r.items()) for r in reference)
        return ContextDecl("reference", reference=rows, key=key, line=line)
    if "seed" in values and "sample" not in values:
        raise SpecError("seed goes with sample (it draws the sampled rows)", key="seed")
    if reference is None and "rows" not in values:
        raise SpecError("give rows: (training or a data file) or reference:")
    rows = values.get("rows", TRAINING)
    if rows == ZERO:
        raise SpecError("the zero context has no rows to narrow: write context: zero", key="rows")
    where = tuple((str(k), v) for k, v in (values.get("where") or {}).items())
    return ContextDecl(
        MODE if reference == MODE else "rows",
        rows,
        values.get("sample"),
        int(values.get("seed", 0)),
        where,
        key=key,
        line=line,
    )


def _cell(value: Any) -> Any:
    """A reference row's value: a column's value, or a token column's list of tokens."""
    if isinstance(value, (list, tuple)):
        return tuple(feature_name(v) for v in value)
    return feature_name(value)
