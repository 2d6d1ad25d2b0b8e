"""YAML as expectation files are read: the safe loader, YAML 1.2 scalars, line numbers kept.

``load_yaml`` builds ``LineDict``/``LineList`` containers that remember the line of themselves
and of each key or item, refuses alias bombs and tags, and turns every parser complaint into a
one-line ``SpecError`` at its line. ``line_of``, ``key_path``, ``duplicate_key`` and
``plain_data`` read those containers. Imports errors only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError, quoted


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


def _construct_float(loader: _LineLoader, node: yaml.ScalarNode) -> float:
    """A YAML 1.2 float, finite: every comparison with NaN is false, so a threshold of ``.nan``
    (or ``.inf``, or 1e400) would let a check pass without a word."""
    value = loader.construct_yaml_float(node)
    if not math.isfinite(value):
        text = loader.construct_scalar(node)
        raise SpecError(
            f"invalid YAML: {text} is not a finite number (thresholds, shares and seeds must be)",
            line=node.start_mark.line + 1,
        )
    return value


_LineLoader.add_constructor(_FLOAT_TAG, _construct_float)

_SURROGATE = re.compile("[\ud800-\udfff]")


def _construct_str(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    """A string that can be written back as UTF-8: a lone surrogate (from an escape such as
    "\\ud800") would fail every file, cache entry or report that names it."""
    value = loader.construct_yaml_str(node)
    found = _SURROGATE.search(value)
    if found:
        raise SpecError(
            f"invalid YAML: the text holds {found.group()!r}, half of a UTF-16 pair, which no "
            "file can store",
            line=node.start_mark.line + 1,
        )
    return value


_LineLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)


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


def plain_data(value: Any) -> Any:
    """Drop line-number containers (jsonschema wants plain JSON-like data)."""
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    return value
