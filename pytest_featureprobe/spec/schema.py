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
