"""The JSON Schema of expectation files (``schema.json``, shipped in the package) as the first
layer of validation: structure, for editors and for us; each violation a SpecError at its line."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import SpecError, did_you_mean, quoted
from .yaml_lines import key_path, line_of, plain_data

MAX_MESSAGE = 240  # characters of a schema message; longer ones are cut in the middle


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of expectation files (shipped in the package as schema.json)."""
    return json.loads(resources.files("pytest_featureprobe").joinpath("schema.json").read_text())


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


ENTRY_COMMON = ("name", "marks", "context")  # keys every subject's entry takes


@cache
def _entry_keys() -> frozenset[str]:
    """Every key some subject's entry takes: such a key elsewhere does not go with the subject."""
    defs = schema()["$defs"]
    return frozenset(
        k for name, d in defs.items() if name.endswith("_entry") for k in d["properties"]
    )


def _extra_keys(error: Any) -> list[str]:
    return sorted(set(error.instance) - set(error.schema.get("properties", {})))


def _is_typo(error: Any) -> bool:
    """An unknown key (not one that merely belongs to another subject): it gets a did-you-mean."""
    if error.validator != "additionalProperties":
        return False
    in_entry = _is_entry(list(error.absolute_path))
    return any(not (in_entry and k in _entry_keys()) for k in _extra_keys(error))


def _is_entry(keys: list[Any]) -> bool:
    return len(keys) == 2 and keys[0] == "expect"


def _most_relevant(errors: list[Any]) -> Any:
    """The error a person should read first: of the shallowest ones, a wrong type, then an
    unknown key (a misspelt ``expects:`` is reported with a did-you-mean rather than as the
    required key it was meant to be), then a rule the schema states in words (``errorMessage``:
    two subjects, ``raises`` with ``lowers``), then jsonschema's best match."""
    import jsonschema

    depth = min(len(e.absolute_path) for e in errors)
    shallowest = [e for e in errors if len(e.absolute_path) == depth]
    for wanted in (
        lambda e: e.validator == "type",
        _is_typo,
        lambda e: isinstance(e.schema, dict) and "errorMessage" in e.schema,
    ):
        found = [e for e in shallowest if wanted(e)]
        if found:
            return found[0]
    for error in shallowest:
        found = _explained_within(error)
        if found is not None:
            return found
    return jsonschema.exceptions.best_match(shallowest)


def _explained_within(error: Any) -> Any:
    """A rule stated in words under a ``oneOf``/``anyOf`` (a probe of ``together:`` repeating a
    feature), which jsonschema's best match would pass over for another branch's type."""
    for inner in error.context or ():
        if isinstance(inner.schema, dict) and "errorMessage" in inner.schema:
            return inner
        found = _explained_within(inner)
        if found is not None:
            return found
    return None


def _explained(error: Any, keys: list[Any]) -> str:
    """The schema's own words for a rule, with the keys found (``(found raises, lowers)``) or
    the key that needs another (``dependentRequired``) placed in ``keys``."""
    message = error.schema["errorMessage"]
    branches = error.schema.get("oneOf", ())
    if error.validator == "oneOf" and all(set(b) == {"required"} for b in branches):
        found = [b["required"][0] for b in branches if b["required"][0] in error.instance]
        message += f" (found {', '.join(found) if found else 'none'})"
    elif error.validator == "dependentRequired":
        needing = error.schema["dependentRequired"]
        keys.append(next(k for k in needing if k in error.instance))
    return message


def _unknown(error: Any, keys: list[Any]) -> str:
    allowed = list(error.schema.get("properties", {}))
    extra = _extra_keys(error)
    foreign = [k for k in extra if k in _entry_keys()] if _is_entry(keys) else []
    typos = [k for k in extra if k not in foreign]
    if typos:
        keys.append(typos[0])
        return (
            f"unknown key{did_you_mean(typos[0], allowed)}; allowed: {', '.join(sorted(allowed))}"
        )
    subject = error.schema["required"][0]
    keys.append(foreign[0])
    use = [k for k in allowed if k not in (subject, *ENTRY_COMMON)]
    use = [k for k in use if "errorMessage" not in error.schema["properties"][k]]
    return f"does not go with {subject!r}; with {subject!r} use {', '.join(use)}"


def _schema_error(error: Any, document: Any, path: str | Path) -> SpecError:
    keys = list(error.absolute_path)
    message = error.message
    line = None
    if isinstance(error.schema, dict) and "errorMessage" in error.schema:
        node = _node(document, keys)
        line = getattr(node, "line", None)  # a rule of a mapping: where its keys start
        message = _explained(error, keys)
        parent = _node(document, keys[:-1])
        if "<class>" in message and isinstance(parent, dict) and "biased_toward" in parent:
            message = message.replace("<class>", str(parent["biased_toward"]))
    elif error.validator == "additionalProperties":
        message = _unknown(error, keys)
    elif error.validator in ("oneOf", "anyOf"):
        shown = quoted(plain_data(error.instance))
        message = f"{shown} has the wrong form: {error.schema.get('description', '')}"
        message = message.rstrip(": ")
    if len(message) > MAX_MESSAGE:  # jsonschema quotes the whole offending value
        message = message[: MAX_MESSAGE - 60] + " ... " + message[-55:]
    line = line if line is not None and len(keys) == len(error.absolute_path) else None
    line = line or line_of(document, keys)
    return SpecError(message, path=path, line=line, key=key_path(keys) or None)


def _node(document: Any, keys: list[Any]) -> Any:
    """The value at ``keys`` (None where the path leaves the document)."""
    node = document
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node
