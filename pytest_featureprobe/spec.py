"""Expectation files: YAML (safe loader, with line numbers) -> validated documents.

Validation runs in two layers. The JSON Schema shipped as ``schema.json`` checks structure (and
serves editors for completion). The checks here add meaning: which keys go together, contradictory
bounds, duplicate names. Every error is a ``SpecError`` carrying file, line and key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError, did_you_mean, not_utf8
from .expectations import (
    DIRECTION_TOLERANCE,
    AddingExpectation,
    EveryProbe,
    Expectation,
    ProbeExpectation,
    RankingExpectation,
)
from .features import feature_name, quoted
from .paths import is_url, url_refusal

FORMAT_VERSION = 1
SUBJECTS = ("zero", "alone", "together", "every", "biased_toward", "adding", "top")
PROBE_CHECKS = ("predicts", "min_prob", "min_margin", "probability", "mostly")
ADDING_CHECKS = ("raises", "lowers", "by", "tolerance", "moves_at_most", "on", "min_fraction")
RANKING_CHECKS = ("toward", "are", "include")
COMMON = ("name", "marks")


# --- YAML with line numbers -----------------------------------------------------------------


class LineDict(dict):
    """A mapping that remembers the line of itself and of each key (1-based), and the keys that
    were written twice (YAML forbids that; PyYAML would silently keep the last)."""

    line = 0
    key_lines: dict[Any, int]
    duplicates: list[tuple[Any, int]]


class LineList(list):
    """A sequence that remembers the line of itself and of each item (1-based)."""

    line = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """The safe loader, building containers that carry line numbers, with YAML 1.2 scalars.

    YAML 1.1 (PyYAML's default) reads ``on``/``off``/``yes``/``no`` as booleans, ``010`` as 8,
    ``1:20`` as 80 and ``1_000`` as 1000, which would turn the key ``on:`` into ``True`` and a
    feature named ``010`` into another feature. Here only true/false are booleans and numbers
    follow the YAML 1.2 core schema; anything else stays a string.
    """

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """PyYAML's merge (``<<``), noting on the node how many of its pairs came from merges.

        PyYAML flattens a mapping in place, and flattens a merged mapping while merging it, so
        the count is taken once, when the node is first flattened."""
        if hasattr(node, "merged"):
            return
        written = sum(1 for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge")
        super().flatten_mapping(node)
        node.merged = len(node.value) - written

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A value that its tag cannot build (``!!int three``, an integer of 5000 digits) is a
        SpecError at its line, not a ValueError from deep inside PyYAML."""
        try:
            return super().construct_object(node, deep=deep)
        except (SpecError, yaml.YAMLError):
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            value = node.value if isinstance(node, yaml.ScalarNode) else node.id
            raise SpecError(
                f"invalid YAML: {quoted(str(value))} cannot be read as {tag}",
                line=node.start_mark.line + 1,
            ) from None


_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_LineLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _INT_TAG, _FLOAT_TAG)
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_LineLoader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_LineLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


MAX_INTEGER_DIGITS = 100  # no number in an expectation file needs more; Python caps decimals


def _construct_int(loader: _LineLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if len(text) > MAX_INTEGER_DIGITS:
        raise SpecError(
            f"invalid YAML: an integer of {len(text):,} characters (at most {MAX_INTEGER_DIGITS})",
            line=node.start_mark.line + 1,
        )
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # "010" is ten, as in YAML 1.2


_LineLoader.add_constructor(_INT_TAG, _construct_int)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)  # merge keys (<<) put the merged pairs first
    n_merged = node.merged
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    mapping.duplicates = []
    seen = set()
    for n, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            duplicate = key in seen
        except TypeError:
            raise SpecError("a mapping key must be a plain value", line=line) from None
        if duplicate:
            # Kept, not raised: a duplicate inside one expectation fails only that expectation
            # (see duplicate_key). The first value stays, as a reader of the file would expect.
            mapping.duplicates.append((key, line))
            continue
        if n >= n_merged:  # a key written here overrides a merged one; merged ones may repeat
            seen.add(key)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    sequence = LineList(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


# Aliases let a few lines of YAML stand for billions of nodes ("billion laughs"). PyYAML builds
# them by reference, but validating or walking the result would expand them; a document whose
# aliases add more nodes than this is refused before anything reads it.
MAX_ALIAS_EXPANSION = 100_000


def load_yaml(text: str, path: str | Path) -> Any:
    """Parse YAML with the safe loader; syntax errors become SpecError with the line.

    Alias expansion is bounded (``MAX_ALIAS_EXPANSION``) and self-referencing aliases refused.
    """
    loader = None
    try:
        loader = _LineLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        bomb = _alias_bomb(node, path)
        if bomb is not None:
            del node  # no frame of the traceback may hold the graph: repr() would expand it
            raise bomb
        return loader.construct_document(node)
    except SpecError as exc:
        raise exc.located(path) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and mark is not None and mark.index >= len(text.rstrip()):
            # "got <stream end>": the line past the file's end says nothing; point at where the
            # unfinished construct began.
            mark = exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if problem.startswith("could not determine a constructor for the tag"):
            tag = problem.rsplit(" ", 1)[-1].strip("'").replace("tag:yaml.org,2002:", "!!")
            problem = f"the tag {tag} is not allowed (expectation files hold plain data only)"
        raise SpecError(f"invalid YAML: {problem}", path=path, line=line) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        character = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise SpecError(
            f"invalid YAML: character {character!r} is not allowed", path=path, line=line
        ) from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid YAML"
        raise SpecError(f"invalid YAML: {first}", path=path) from None
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply", path=path) from None
    finally:
        if loader is not None:
            loader.dispose()


def _alias_bomb(root: yaml.Node, path: str | Path) -> SpecError | None:
    """The error for a node graph whose aliases expand past MAX_ALIAS_EXPANSION nodes, or that
    contains itself (``&a [*a]``). Walks each distinct node once: measured, never expanded."""
    expanded: dict[int, int] = {}  # id(node) -> nodes it stands for, aliases expanded
    distinct = 0
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            active.discard(id(node))
            expanded[id(node)] = 1 + sum(expanded[id(c)] for c in _children(node))
            continue
        if id(node) in expanded:
            continue
        if id(node) in active:
            return SpecError(
                "an alias refers to the node that contains it (a structure without end)",
                path=path,
                line=node.start_mark.line + 1,
            )
        distinct += 1
        active.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in expanded)
    if expanded[id(root)] - distinct > MAX_ALIAS_EXPANSION:
        where, key = root, None
        if isinstance(root, yaml.MappingNode):  # name the top-level key that grows most
            key_node, where = max(root.value, key=lambda kv: expanded[id(kv[1])])
            key = getattr(key_node, "value", None)
        return SpecError(
            f"the aliases in this file expand to {expanded[id(root)]:,} nodes (the limit is "
            f"{MAX_ALIAS_EXPANSION:,}); refused as an alias bomb",
            path=path,
            line=where.start_mark.line + 1,
            key=key if isinstance(key, str) else None,
        )
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def duplicate_key(value: Any, keys: tuple[Any, ...] = (), skip: Any = None) -> SpecError | None:
    """The first key written twice in a mapping anywhere under ``value`` (in file order), with its
    line and key path; ``skip(keys)`` true prunes a branch (expectations are checked apart)."""
    found: list[tuple[int, tuple[Any, ...]]] = []
    stack = [(value, keys)]
    while stack:
        node, here = stack.pop()
        if skip is not None and skip(here):
            continue
        if isinstance(node, LineDict):
            found.extend((line, (*here, key)) for key, line in node.duplicates)
            stack.extend((v, (*here, k)) for k, v in node.items())
        elif isinstance(node, LineList):
            stack.extend((v, (*here, i)) for i, v in enumerate(node))
    if not found:
        return None
    line, where = min(found, key=lambda f: f[0])
    return SpecError("duplicate key (each key may appear once)", line=line, key=key_path(where))


def line_of(root: Any, keys: Sequence[Any]) -> int | None:
    """The line of the deepest container entry found along ``keys``."""
    line = getattr(root, "line", None)
    node = root
    for key in keys:
        if isinstance(node, LineDict) and key in node:
            line = node.key_lines.get(key, line)
            node = node[key]
        elif isinstance(node, LineList) and isinstance(key, int) and key < len(node):
            line = node.item_lines[key]
            node = node[key]
        else:
            break
    return line


def key_path(keys: Sequence[Any]) -> str:
    """``expect[2].predicts`` style path of a key sequence."""
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


MAX_MESSAGE = 240  # characters of a schema message; longer ones are cut in the middle

# --- the JSON Schema --------------------------------------------------------------------------


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of expectation files (shipped in the package as schema.json)."""
    return json.loads(resources.files(__package__).joinpath("schema.json").read_text())


def plain_data(value: Any) -> Any:
    """Drop line-number containers (jsonschema wants plain JSON-like data)."""
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    return value


@cache
def _validator_class() -> type:
    """Draft 2020-12 with ``integer`` meaning a YAML integer: ``2.0`` is not one here, since the
    checks behind the schema count with it."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    return jsonschema.validators.extend(base, type_checker=checker)


def schema_errors(document: Any, path: str | Path) -> dict[int | None, SpecError]:
    """Schema violations as SpecErrors with file:line and key: per expectation index, and under
    None for the rest of the file (the most relevant violation of each)."""
    validator = _validator_class()(schema())
    grouped: dict[int | None, list[Any]] = {}
    for error in validator.iter_errors(plain_data(document)):
        keys = list(error.absolute_path)
        item = keys[1] if len(keys) > 1 and keys[0] == "expect" else None
        grouped.setdefault(item, []).append(error)
    return {
        item: _schema_error(_most_relevant(errors), document, path)
        for item, errors in grouped.items()
    }


def _most_relevant(errors: list[Any]) -> Any:
    """jsonschema's best match, except that a misspelt key (``expects:``, ``lable:``) is reported
    as an unknown key with a did-you-mean rather than as the required key it was meant to be."""
    import jsonschema

    best = jsonschema.exceptions.best_match(errors)
    if best.validator == "required":
        for error in errors:
            if error.validator == "additionalProperties" and list(error.absolute_path) == list(
                best.absolute_path
            ):
                return error
    return best


def _schema_error(error: Any, document: Any, path: str | Path) -> SpecError:
    keys = list(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        if extra:
            keys.append(extra[0])
            message = f"unknown key{did_you_mean(extra[0], allowed)}; allowed: {', '.join(allowed)}"
    elif error.validator in ("oneOf", "anyOf"):
        shown = quoted(plain_data(error.instance))
        message = f"{shown} has the wrong form: {error.schema.get('description', '')}"
        message = message.rstrip(": ")
    if len(message) > MAX_MESSAGE:  # jsonschema quotes the whole offending value
        message = message[: MAX_MESSAGE - 60] + " ... " + message[-55:]
    return SpecError(message, path=path, line=line_of(document, keys), key=key_path(keys) or None)


# --- documents --------------------------------------------------------------------------------


@dataclass
class ModelDecl:
    """The ``model:`` section: how to get the model under test."""

    kind: str  # "train", "load" or "fixture"
    values: dict[str, Any]
    features: Any = None
    classes: list[str] | None = None
    outputs: str | None = None
    line: int = 0
    key_lines: dict[str, int] = field(default_factory=dict)  # "load", "train.data", ... -> line
    sha256: str | None = None  # the pinned digest of a loaded model file


@dataclass
class ItemSpec:
    """One expectation as collected: its id, where it is, its marks, and it or its error."""

    name: str
    line: int
    source: str
    marks: list[tuple[str, tuple, dict]] = field(default_factory=list)
    explicit_name: bool = False
    expectation: Expectation | None = None
    error: SpecError | None = None
    index: int | None = 0  # position under expect:, None for drift checks
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level keys -> line

    def line_of(self, key: str | None) -> int:
        """The line of a key of this expectation (its first line when the key is not there)."""
        top = (key or "").split(".")[0]
        return self.key_lines.get(top, self.line)


@dataclass
class DeclaredPath:
    """A file named in a document: its key, line, the value as written, and the expectation it
    belongs to (None for the model and drift sections, which concern the whole file)."""

    key: str
    line: int
    value: str
    item: ItemSpec | None = None


@dataclass
class Document:
    path: Path
    model: ModelDecl
    order: int | None
    items: list[ItemSpec]
    drift: DriftDecl | None = None

    def sweep_order(self) -> int:
        """The declared order, or the highest order the expectations and drift need (>= 1)."""
        needed = [i.expectation.needed_order() for i in self.items if i.expectation is not None]
        if self.drift is not None and self.drift.order is not None:
            needed.append(self.drift.order)
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
        for item in self.items:
            on = getattr(item.expectation, "on", None)
            if isinstance(on, str) and on != "training":
                key = f"expect[{item.index}].on"
                found.append(DeclaredPath(key, item.line_of("on"), on, item))
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

    def extra_probes(self, space: Any = None) -> list[tuple[str, ...]]:
        """Probes the expectations name (beyond the standard sweep); with ``space``, only those
        whose features it knows (unknown ones are reported by their own items)."""
        probes = [
            p
            for i in self.items
            if i.expectation is not None
            for p in i.expectation.needed_probes()
        ]
        return probes if space is None else [p for p in probes if all(f in space for f in p)]


def load_document(path: str | Path) -> Document:
    """Read, schema-check and parse an expectation file. Whole-file mistakes raise SpecError;
    mistakes inside one expectation are kept on its ItemSpec so the others still run."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message, line = not_utf8(raw, exc)
        raise SpecError(message, path=path, line=line) from None
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
    lines = text.splitlines()
    model = _model_decl(data["model"], path)
    order = data.get("sweep", {}).get("order")
    expect = data["expect"]
    items = []
    for n, entry in enumerate(expect):
        source = _source(lines, expect.item_lines, n)
        if n in errors:
            name = entry.get("name") if isinstance(entry, dict) else None
            name = _bracket_free(name) if isinstance(name, str) and name else f"expect-{n}"
            key_lines = dict(getattr(entry, "key_lines", {}))
            items.append(
                ItemSpec(
                    name,
                    expect.item_lines[n],
                    source,
                    error=errors[n],
                    index=n,
                    key_lines=key_lines,
                )
            )
        else:
            items.append(_item(entry, expect.item_lines[n], source, path, n))
    _name_items(items, path)
    drift = None
    if "drift" in data:
        drift = _drift_decl(data["drift"], lines, path, model.kind, data.key_lines["drift"])
    if drift is not None:
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


def _model_decl(section: LineDict, path: Path) -> ModelDecl:
    kinds = [k for k in ("train", "load", "fixture") if k in section]
    if len(kinds) != 1:
        raise SpecError(
            "give exactly one of train, load or fixture"
            + (f" (found {', '.join(kinds)})" if kinds else ""),
            path=path,
            line=section.line,
            key="model",
        )
    kind = kinds[0]
    if kind == "train":
        for key in ("features", "classes", "outputs"):
            if key in section:
                raise SpecError(
                    f"{key} belongs inside model.train or is derived from the data",
                    path=path,
                    line=section.key_lines[key],
                    key=f"model.{key}",
                )
    if "sha256" in section and kind != "load":
        raise SpecError(
            f"sha256 pins a model file, so it goes with load: (this model is {kind}:)",
            path=path,
            line=section.key_lines["sha256"],
            key="model.sha256",
        )
    classes = section.get("classes")
    if classes is not None:
        classes = [feature_name(c) for c in classes]
        if len(set(classes)) != len(classes):
            raise SpecError(
                "class names repeat",
                path=path,
                line=section.key_lines["classes"],
                key="model.classes",
            )
    values = section[kind] if kind == "train" else {"target": section[kind]}
    key_lines = dict(section.key_lines)
    if kind == "train":
        key_lines.update({f"train.{k}": v for k, v in section["train"].key_lines.items()})
    return ModelDecl(
        kind,
        dict(values),
        section.get("features"),
        classes,
        section.get("outputs"),
        section.line,
        key_lines,
        section["sha256"].lower() if "sha256" in section else None,
    )


def _names(value: Any) -> list[str]:
    return [feature_name(v) for v in (value if isinstance(value, list) else [value])]


def _item(entry: LineDict, line: int, source: str, path: Path, n: int) -> ItemSpec:
    item = ItemSpec(
        name=entry.get("name", ""),
        line=line,
        source=source,
        explicit_name="name" in entry,
        index=n,
        key_lines=dict(entry.key_lines),
    )
    try:
        item.marks = _marks(entry.get("marks", []))
        item.expectation, derived = _expectation(entry)
        item.name = _bracket_free(item.name) if item.name else derived
    except SpecError as exc:
        key = exc.key or ""
        exc.key = f"expect[{n}]" + (f".{key}" if key else "")
        exc.line = entry.key_lines.get(key.split(".")[0], line) if key else line
        exc.path = str(path)
        item.error = exc
        item.name = item.name or f"expect-{n}"
    return item


# Marks that shape how pytest makes tests from functions (an expectation is already one test), or
# that would import or evaluate what the file names (filterwarnings imports warning classes).
UNSUPPORTED_MARKS = ("parametrize", "usefixtures", "filterwarnings")
CONDITIONAL_MARKS = ("skipif", "xfail")
_MARK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _marks(marks: list[Any]) -> list[tuple[str, tuple, dict]]:
    """pytest marks as plain data: a name, ``{name: reason}`` or ``{name: {keyword: value}}``.

    pytest evaluates a string ``condition`` of skipif/xfail as Python, so only true/false are
    taken: an expectation file stays data."""
    result = []
    for mark in marks:
        name = mark if isinstance(mark, str) else next(iter(mark))
        if not isinstance(name, str) or not _MARK_NAME.match(name):
            raise SpecError(f"{quoted(name)} is not a mark name", key="marks")
        if name in UNSUPPORTED_MARKS:
            raise SpecError(f"the {name!r} mark does not apply to an expectation", key="marks")
        if isinstance(mark, str):
            result.append((mark, (), {}))
            continue
        value = mark[name]
        if isinstance(value, dict):
            kwargs = dict(value)
        elif value is None:
            kwargs = {}
        else:
            kwargs = {"reason": str(value)}
        for key, argument in kwargs.items():
            if not isinstance(key, str) or not _MARK_NAME.match(key):
                raise SpecError(f"{quoted(key)} is not a keyword of the {name} mark", key="marks")
            if isinstance(argument, (dict, list)):
                raise SpecError(f"{name}.{key} must be a plain value", key="marks")
        if name in CONDITIONAL_MARKS:
            if "raises" in kwargs:
                raise SpecError(f"{name}.raises names a Python class: not in YAML", key="marks")
            if not isinstance(kwargs.get("condition", True), bool):
                raise SpecError(
                    f"{name}.condition must be true or false: pytest would evaluate a string as "
                    "Python, and expectation files hold data only (for a computed condition, "
                    "mark the item in conftest.py)",
                    key="marks",
                )
            if "condition" in kwargs:
                result.append((name, (kwargs.pop("condition"),), kwargs))
                continue
        result.append((name, (), kwargs))
    return result


def _one_subject(entry: LineDict) -> str:
    subjects = [k for k in SUBJECTS if k in entry]
    if len(subjects) != 1:
        found = f"found {', '.join(subjects)}" if subjects else "found none"
        raise SpecError(f"an expectation needs exactly one of {', '.join(SUBJECTS)} ({found})")
    return subjects[0]


def _allow_only(entry: LineDict, subject: str, allowed: Sequence[str]) -> None:
    for key in entry:
        if key not in allowed and key not in COMMON and key != subject:
            raise SpecError(
                f"does not go with {subject!r}; with {subject!r} use {', '.join(allowed)}", key=key
            )


def _expectation(entry: LineDict) -> tuple[Expectation, str]:
    subject = _one_subject(entry)
    if subject == "adding":
        return _adding(entry)
    if subject == "top":
        return _ranking(entry)
    return _probe(entry, subject)


def _probe(entry: LineDict, subject: str) -> tuple[ProbeExpectation, str]:
    checks = ("min_margin",) if subject == "biased_toward" else PROBE_CHECKS
    _allow_only(entry, subject, checks)
    value = entry[subject]
    if subject in ("zero", "biased_toward"):
        probes: list[tuple[str, ...]] | EveryProbe = [()]
        params = ""
    elif subject == "alone":
        names = _names(value)
        probes = [(n,) for n in names]
        params = "_".join(names)
    elif subject == "together":
        sets = value if isinstance(value[0], list) else [value]
        probes = [tuple(_names(s)) for s in sets]
        for probe in probes:
            if len(set(probe)) != len(probe):
                raise SpecError(f"a feature repeats in {list(probe)}", key="together")
        params = "_".join("+".join(p) for p in probes)
    else:
        containing = tuple(_names(value["containing"])) if "containing" in value else ()
        excluding = tuple(_names(value["except"])) if "except" in value else ()
        order = value.get("order", max(1, len(containing) + (1 if containing else 0)))
        if len(containing) > order:
            raise SpecError(
                f"a probe of order {order} cannot contain {len(containing)} features", key="every"
            )
        if set(containing) & set(excluding):
            raise SpecError("a feature is both in containing and except", key="every")
        probes = EveryProbe(order, containing, excluding)
        parts = [f"order{order}"]
        parts += [f"containing-{'_'.join(containing)}"] if containing else []
        parts += [f"except-{'_'.join(excluding)}"] if excluding else []
        params = "-".join(parts)
    predicts = entry.get("biased_toward", entry.get("predicts"))
    predicts = feature_name(predicts) if predicts is not None else None
    probability = None
    if "probability" in entry:
        bounds = entry["probability"]
        low, high = bounds.get("min", 0.0), bounds.get("max", 1.0)
        if "min" not in bounds and "max" not in bounds:
            raise SpecError("give min, max or both", key="probability")
        if low > high:
            raise SpecError(f"min {low:g} is above max {high:g}", key="probability")
        probability = (feature_name(bounds["class"]), float(low), float(high))
    if predicts is None and probability is None and "min_margin" not in entry:
        raise SpecError(f"{subject!r} needs a check: predicts, probability or min_margin")
    if "min_prob" in entry and predicts is None:
        raise SpecError("min_prob applies to the predicted class: add predicts", key="min_prob")
    mostly = float(entry.get("mostly", 1.0))
    if "mostly" in entry and subject in ("zero", "biased_toward"):
        raise SpecError("mostly applies to several probes", key="mostly")
    expectation = ProbeExpectation(
        probes=probes,
        predicts=predicts,
        min_prob=entry.get("min_prob"),
        min_margin=entry.get("min_margin"),
        probability=probability,
        mostly=mostly,
    )
    if subject == "biased_toward":
        check = f"biased_toward-{predicts}"
    elif predicts is not None:
        check = f"predicts-{predicts}"
    elif probability is not None:
        check = f"probability-{probability[0]}-{probability[1]:g}-{probability[2]:g}"
    else:
        check = "margin"
    return expectation, item_id("zero" if subject == "biased_toward" else subject, check, params)


def _bracket_free(name: str) -> str:
    return name.replace("[", "(").replace("]", ")")


def _numbered(name: str, count: int) -> str:
    return f"{name}-{count}"


def item_id(subject: str, check: str, params: str = "") -> str:
    """``alone-4-predicts-C``: the subject, its probes, the check. No square brackets: pytest
    reads ``name[...]`` as parameters when it matches ``--lf`` ids, and these items have none."""
    return _bracket_free(f"{subject}-{params}-{check}" if params else f"{subject}-{check}")


def _adding(entry: LineDict) -> tuple[AddingExpectation, str]:
    _allow_only(entry, "adding", ADDING_CHECKS)
    feature = feature_name(entry["adding"])
    kinds = [k for k in ("raises", "lowers", "moves_at_most") if k in entry]
    if len(kinds) != 1:
        raise SpecError(
            "adding needs exactly one of raises, lowers or moves_at_most"
            + (f" (found {', '.join(kinds)})" if kinds else "")
        )
    kind = kinds[0]
    for key in ("by", "tolerance"):
        if kind == "moves_at_most" and key in entry:
            raise SpecError(f"{key} goes with raises or lowers, not moves_at_most", key=key)
    if "by" in entry and "tolerance" in entry:
        raise SpecError("tolerance applies when no 'by' is given", key="tolerance")
    on = entry.get("on")
    if on == "zero":
        on = None
    if "min_fraction" in entry and on is None:
        raise SpecError(
            "min_fraction applies to data rows: add on: <data file> or on: training",
            key="min_fraction",
        )
    if kind == "moves_at_most":
        expectation = AddingExpectation(
            feature,
            "invariant",
            at_most=float(entry[kind]),
            on=on,
            min_fraction=float(entry.get("min_fraction", 1.0)),
        )
        check = f"moves_at_most-{entry[kind]:g}"
    else:
        cls = feature_name(entry[kind])
        expectation = AddingExpectation(
            feature,
            kind,
            cls=cls,
            by=float(entry.get("by", 0.0)),
            on=on,
            min_fraction=float(entry.get("min_fraction", 1.0)),
            tolerance=float(entry.get("tolerance", DIRECTION_TOLERANCE)),
        )
        check = f"{kind}-{cls}"
    if on is not None:
        check += f"-on-{Path(on).name}"
    return expectation, item_id("adding", check, feature)


def _ranking(entry: LineDict) -> tuple[RankingExpectation, str]:
    _allow_only(entry, "top", RANKING_CHECKS)
    if "toward" not in entry:
        raise SpecError("top needs toward: the class whose attributions are ranked", key="top")
    kinds = [k for k in ("are", "include") if k in entry]
    if len(kinds) != 1:
        raise SpecError("top needs exactly one of are or include", key="top")
    features = tuple(_names(entry[kinds[0]]))
    if len(set(features)) > entry["top"]:
        raise SpecError(
            f"{len(set(features))} features cannot fit in the top {entry['top']}", key=kinds[0]
        )
    cls = feature_name(entry["toward"])
    return (
        RankingExpectation(cls, int(entry["top"]), features, exact=kinds[0] == "are"),
        f"top{entry['top']}-toward-{cls}",
    )


def _name_items(items: list[ItemSpec], path: Path) -> None:
    """Explicit duplicate names are errors; derived ones get a -2, -3 suffix."""
    seen: dict[str, int] = {}
    for item in items:
        if item.name in seen:
            if item.explicit_name and item.error is None:
                item.error = SpecError(
                    f"duplicate name {item.name!r} (also on line {seen[item.name]})",
                    path=path,
                    line=item.line_of("name"),
                    key=f"expect[{item.index}].name",
                )
            count = 2
            while _numbered(item.name, count) in seen:
                count += 1
            item.name = _numbered(item.name, count)
        seen[item.name] = item.line


# --- drift ------------------------------------------------------------------------------------

DRIFT_CHECKS = {  # item name -> the keys that declare it
    "flips": ("max_flips", "allow_flips"),
    "max_abs_delta": ("max_abs_delta", "per_order", "per_probe"),
    "rank": ("rank",),
    "interaction": ("interaction",),
    "band": ("band",),
}


@dataclass
class DriftDecl:
    """The ``drift:`` section: where the baseline is and which drift checks run against it."""

    values: dict[str, Any]
    line: int
    key_lines: dict[str, int]
    source_lines: list[str]
    path: Path

    @property
    def order(self) -> int | None:
        return self.values.get("order")

    @property
    def baseline(self) -> str | None:
        return self.values.get("baseline")

    def calibration_seeds(self, spec_seed: int) -> list[int]:
        """The seeds of the seed band: a list as given, or K seeds from the spec's own seed."""
        seeds = self.values.get("calibrate", {}).get("seeds", 5)
        if isinstance(seeds, int):
            return list(range(spec_seed, spec_seed + seeds))
        return [int(s) for s in seeds]

    def items(self) -> list[ItemSpec]:
        from .baseline import DriftCheck

        items = []
        for kind, keys in DRIFT_CHECKS.items():
            present = sorted((k for k in keys if k in self.values), key=self.key_lines.get)
            if not present:
                continue
            line = self.key_lines[present[0]]
            source = "\n".join(self.source_lines[self.key_lines[k] - 1] for k in present)
            items.append(
                ItemSpec(
                    name=f"drift-{kind}",
                    line=line,
                    source="drift:\n" + source,
                    expectation=DriftCheck(kind, self),
                    index=None,
                )
            )
        return items


def _drift_decl(
    section: LineDict, lines: list[str], path: Path, model_kind: str, line: int
) -> DriftDecl:
    def refuse(message: str, key: str) -> SpecError:
        return SpecError(message, path=path, line=section.key_lines[key], key=f"drift.{key}")

    order = section.get("order")
    if not str(section.get("baseline", "x.json")).endswith(".json"):
        raise refuse("a baseline is a .json file (it replaces the file it names)", "baseline")
    if "interaction" in section and (order is None or order < 2):
        raise refuse("interaction compares pairs: set drift.order to 2 or more", "interaction")
    if "rank" in section and order == 0:
        raise refuse("rank compares single features: drift.order must be 1 or more", "rank")
    if "band" in section and model_kind != "train":
        raise refuse(
            f"the seed band retrains the model with other seeds, so it needs model: train: "
            f"(this file's model is {model_kind}:)",
            "band",
        )
    values = plain_data(section)
    values["per_order"] = {int(k): float(v) for k, v in section.get("per_order", {}).items()}
    values["per_probe"] = {
        feature_name(k): float(v) for k, v in section.get("per_probe", {}).items()
    }
    if "per_order" not in section:
        values.pop("per_order")
    if "per_probe" not in section:
        values.pop("per_probe")
    declared = [k for keys in DRIFT_CHECKS.values() for k in keys if k in section]
    if not declared:
        raise SpecError(
            "declare at least one drift check: max_flips, allow_flips, max_abs_delta, per_order, "
            "per_probe, rank, interaction or band",
            path=path,
            line=line,
            key="drift",
        )
    if "band" in section and section["band"] is True:
        values["band"] = {}
    if "band" in values and "calibrate" not in values:
        values["calibrate"] = {}
    if "calibrate" in values and "band" not in values:
        raise SpecError(
            "calibrate stores a seed band that only the band check reads: add band",
            path=path,
            line=section.key_lines["calibrate"],
            key="drift.calibrate",
        )
    seeds = values.get("calibrate", {}).get("seeds")
    if isinstance(seeds, list) and len(set(seeds)) != len(seeds):
        raise SpecError(
            "calibration seeds repeat (a repeated seed narrows the band)",
            path=path,
            line=section.key_lines["calibrate"],
            key="drift.calibrate.seeds",
        )
    rank = values.get("rank")
    if rank is not None and "min" not in rank and "top_k" not in rank:
        raise SpecError(
            "rank needs min (a correlation) or top_k",
            path=path,
            line=section.key_lines["rank"],
            key="drift.rank",
        )
    if rank is not None and rank.get("min_overlap", 0) > rank.get("top_k", 10**9):
        raise SpecError(
            "min_overlap is larger than top_k",
            path=path,
            line=section.key_lines["rank"],
            key="drift.rank.min_overlap",
        )
    return DriftDecl(values, line, dict(section.key_lines), lines, path)
