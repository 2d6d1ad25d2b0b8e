"""An expectation file as a ``Document``: read, schema-checked and parsed, with every mistake
placed at its file, line and key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..confinement import is_url, url_refusal
from ..errors import SpecError, not_utf8
from ..files import unreadable
from ..limits import (
    MAX_SPEC_BYTES,
    SPEC_VARIABLE,
    TooLarge,
    from_environment,
    read_at_most,
    too_large,
)
from ..training import MAX_SEED
from .context_decl import ContextDecl
from .declarations import DeclaredPath, ItemSpec, ModelDecl, model_decl
from .drift import DriftDecl, drift_decl
from .entries import bracket_free, entry_item, name_items
from .schema import schema_errors
from .yaml_lines import LineDict, duplicate_key, load_yaml

ALL_CONTEXTS = object()  # every item, whatever its context


@dataclass
class Document:
    path: Path
    model: ModelDecl
    order: int | None
    items: list[ItemSpec]
    drift: DriftDecl | None = None

    def context_of(self, item: ItemSpec) -> ContextDecl | None:
        """The context an item is checked in: its own, else the file's (None: the default of
        the model's feature space, known once the model is)."""
        return item.context if item.context is not None else self.model.context

    def contexts(self) -> list[ContextDecl | None]:
        """The distinct contexts the items are checked in, in the order they first appear."""
        return list(dict.fromkeys(self.context_of(i) for i in self.items))

    def _in(self, context: Any) -> list[ItemSpec]:
        if context is ALL_CONTEXTS:
            return self.items
        return [i for i in self.items if self.context_of(i) == context]

    def sweep_order(self, context: Any = ALL_CONTEXTS) -> int:
        """The declared order, or the highest order the expectations (of one ``context``) and
        drift need (>= 1)."""
        items = self._in(context)
        needed = [i.expectation.needed_order() for i in items if i.expectation is not None]
        return max([self.order or 1, *needed])

    def declared_paths(self) -> list[DeclaredPath]:
        """The files this document names (data, model, feature space, ``on:`` rows, baseline)."""
        found = []
        model = self.model
        target = {"train": "data", "load": "target"}.get(model.kind)
        if target is not None:
            key = "train.data" if model.kind == "train" else "load"
            found.append(DeclaredPath(f"model.{key}", model.key_lines[key], model.values[target]))
        if isinstance(model.features, str):
            found.append(
                DeclaredPath("model.features", model.key_lines["features"], model.features)
            )
        if model.context is not None and model.context.data_file is not None:
            context = model.context
            found.append(DeclaredPath(context.key, context.line, context.data_file))
        for item in self.items:
            context = item.context
            if item.index is not None and context is not None and context.data_file is not None:
                key = f"expect[{item.index}].{context.key}"
                found.append(DeclaredPath(key, context.line, context.data_file, item))
        drift_context = self.drift.context if self.drift is not None else None
        if drift_context is not None and drift_context.data_file is not None:
            line = drift_context.line
            found.append(DeclaredPath(drift_context.key, line, drift_context.data_file))
        if self.drift is not None and self.drift.baseline:
            line = self.drift.key_lines["baseline"]
            found.append(DeclaredPath("drift.baseline", line, self.drift.baseline))
        return found

    def refuse_path(self, declared: DeclaredPath, error: SpecError) -> SpecError | None:
        """Put an error about a named file where it belongs: on its expectation (``on:``), on
        the drift checks (``drift.baseline``); returned when it concerns the whole file."""
        if declared.item is not None:
            declared.item.error = declared.item.error or error
        elif declared.key.split(".")[0] == "drift":
            for item in self.items:
                if item.index is None:
                    item.error = item.error or error
        else:
            return error
        return None

    def extra_probes(self, space: Any = None, context: Any = ALL_CONTEXTS) -> list[tuple[str, ...]]:
        """Probes the expectations (of one ``context``) name beyond the standard sweep; with
        ``space``, only those whose features it knows (unknown ones are reported by their own
        items)."""
        probes = [
            p
            for i in self._in(context)
            if i.expectation is not None and i.error is None
            for p in i.expectation.needed_probes(space)
        ]
        return probes if space is None else [p for p in probes if all(f in space for f in p)]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_text(path: Path) -> str:
    """The file's text; unreadable or non-UTF-8 files are a SpecError (with the bad byte's line)."""
    problem = unreadable(path, "expectation file", path.name)  # a FIFO's read would block
    if problem is not None and "not found" not in problem:
        raise SpecError(problem, path=path)
    try:
        limit = from_environment(SPEC_VARIABLE, MAX_SPEC_BYTES)
    except ValueError as exc:
        raise SpecError(str(exc), path=path) from None
    try:
        with path.open("rb") as stream:  # never more than the limit, whatever the file claims
            raw = read_at_most(stream, limit)
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    except TooLarge as over:
        size = max(over.size, _size(path))
        limit_text = too_large(size, limit, "expectation files", SPEC_VARIABLE)
        raise SpecError(limit_text, path=path) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message, line = not_utf8(raw, exc)
        raise SpecError(message, path=path, line=line) from None


def _checked_data(text: str, path: Path) -> tuple[LineDict, dict[int | None, SpecError]]:
    """The parsed mapping, and the errors of single entries (by index) that it holds; a
    mistake of the whole file raises."""
    data = load_yaml(text, path)
    if not isinstance(data, LineDict):
        raise SpecError(
            "an expectation file is a mapping with 'model' and 'expect'",
            path=path,
            line=getattr(data, "line", 1),
        )
    duplicate = duplicate_key(data, skip=lambda keys: len(keys) == 2 and keys[0] == "expect")
    if duplicate is not None:
        raise duplicate.located(path)
    errors = schema_errors(data, path)
    if None in errors:
        raise errors[None]
    for n, entry in enumerate(data["expect"]):
        duplicate = duplicate_key(entry, ("expect", n))
        if duplicate is not None:
            errors[n] = duplicate.located(path)
    return data, errors


def _items(
    data: LineDict, lines: list[str], errors: dict[int | None, SpecError], path: Path
) -> list[ItemSpec]:
    """One ItemSpec per entry under ``expect:``: its expectation, or the error in its place."""
    expect = data["expect"]
    items = []
    for n, entry in enumerate(expect):
        source = _source(lines, expect.item_lines, n)
        if n not in errors:
            items.append(entry_item(entry, expect.item_lines[n], source, path, n))
            continue
        name = entry.get("name") if isinstance(entry, dict) else None
        name = bracket_free(name) if isinstance(name, str) and name else f"expect-{n}"
        key_lines = dict(getattr(entry, "key_lines", {}))
        items.append(
            ItemSpec(
                name, expect.item_lines[n], source, error=errors[n], index=n, key_lines=key_lines
            )
        )
    name_items(items, path)
    return items


def load_document(path: str | Path) -> Document:
    """Read, schema-check and parse an expectation file. Whole-file mistakes raise SpecError;
    mistakes inside one expectation are kept on its ItemSpec so the others still run."""
    path = Path(path)
    text = _read_text(path)
    data, errors = _checked_data(text, path)
    lines = text.splitlines()
    model = model_decl(data["model"], path)
    order = data.get("sweep", {}).get("order")
    items = _items(data, lines, errors, path)
    drift = None
    if "drift" in data:
        drift = drift_decl(data["drift"], lines, path, model.kind, data.key_lines["drift"])
        _refuse_seeds_past_the_last(drift, model, path)
        items.extend(drift.items())
    document = Document(path, model, order, items, drift)
    for declared in document.declared_paths():
        if is_url(declared.value):
            error = SpecError(
                url_refusal(declared.value), path=path, line=declared.line, key=declared.key
            )
            if document.refuse_path(declared, error) is not None:
                raise error
    return document


def _refuse_seeds_past_the_last(drift: DriftDecl, model: ModelDecl, path: Path) -> None:
    """Counted calibration seeds run on from the model's seed: each must be a seed training
    takes (a list is checked by the schema)."""
    if "band" not in drift.values or model.kind != "train":
        return
    first = int(model.values.get("seed", 0))
    last = max(drift.calibration_seeds(first))
    if last > MAX_SEED:
        raise SpecError(
            f"the calibration seeds run from the model's seed {first:,} to {last:,}, past the "
            f"largest seed {MAX_SEED:,}: list the seeds, or lower model.train.seed",
            path=path,
            line=drift.key_lines.get("calibrate", drift.line),
            key="drift.calibrate.seeds" if "calibrate" in drift.key_lines else "drift",
        )


def _source(lines: list[str], starts: list[int], n: int) -> str:
    """The expectation's YAML text, as written (from its line to the next item's)."""
    start = starts[n] - 1
    end = starts[n + 1] - 1 if n + 1 < len(starts) else len(lines)
    block = lines[start:end]
    while block and (not block[-1].strip() or block[-1].lstrip().startswith("#")):
        block.pop()
    starts_with_dash = bool(block) and block[0].lstrip().startswith("- ")
    if not starts_with_dash and start > 0 and lines[start - 1].strip() == "-":
        block.insert(0, lines[start - 1])
    return "\n".join(block)
