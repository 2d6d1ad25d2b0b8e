"""The sidecar ``<model>.keras.featureprobe.json``: the feature space, classes and output kind that
``ProbeModel.save`` writes beside a model file, so loading it needs nothing else."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from ..errors import DataError, ModelError, not_utf8, quoted
from ..features import FeatureSpace, feature_name
from ..files import atomic_write, unreadable
from ..text_checks import surrogate_problem

SIDECAR_SUFFIX = ".featureprobe.json"
OUTPUT_KINDS = ("probabilities", "logits")


def sidecar_space(path: Path, sidecar: dict[str, Any]) -> FeatureSpace:
    """The feature space a model's sidecar holds; a bad one names the sidecar and the key."""
    try:
        return FeatureSpace.from_dict(sidecar["space"])
    except DataError as exc:
        key = "space" + (f".{exc.key}" if exc.key else "")
        raise ModelError(f"{path.name}{SIDECAR_SUFFIX}: {key}: {exc.message}") from None


# A JSON string (skipped: a "NaN" inside one is text) or a number or constant outside strings.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?(?:Infinity|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|NaN')


def _token_line(text: str, token: str) -> int:
    """The line of the first ``token`` (a number or constant) of the JSON ``text`` that is not
    inside a string."""
    for found in _JSON_TOKEN.finditer(text):
        if found.group() == token:
            return text.count("\n", 0, found.start()) + 1
    return 1


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar of a model file (``{}`` when there is none), its shape checked.

    A sidecar is UTF-8 JSON: an object whose ``space`` (if present) is a feature space,
    ``classes`` a list of at least two distinct class names (strings, numbers or booleans) and
    ``outputs`` one of ``OUTPUT_KINDS``; other keys are left alone. Anything else, and a file
    that cannot be read, is a one-line ModelError naming the sidecar and the key.
    """
    sidecar = Path(str(path) + SIDECAR_SUFFIX)
    if not os.path.isfile(sidecar):  # False, not an error, for a name too long
        problem = unreadable(sidecar, "the sidecar", sidecar.name)
        if os.path.lexists(sidecar) and problem is not None:  # a folder, FIFO or link loop
            raise ModelError(problem)
        return {}
    raw = b""
    try:
        raw = sidecar.read_bytes()
        text = raw.decode("utf-8")
        _check_text(sidecar.name, text)
        data = json.loads(text, parse_constant=_not_finite, parse_float=_finite)
    except _NotFinite as exc:
        line = _token_line(text, exc.text)
        raise ModelError(
            f"{sidecar.name}: {exc.text} on line {line} is not a finite number (a sidecar's "
            "class names and features are text or finite numbers)"
        ) from None
    except OSError as exc:
        raise ModelError(f"cannot read {sidecar.name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ModelError(f"{sidecar.name}: {not_utf8(raw, exc)[0]}") from None
    except json.JSONDecodeError as exc:
        raise ModelError(
            f"{sidecar.name} is not valid JSON: {exc.msg} (line {exc.lineno})"
        ) from None
    except (ValueError, RecursionError) as exc:  # an integer too long, nesting too deep
        reason = str(exc).split(":")[0] or type(exc).__name__
        raise ModelError(f"{sidecar.name} is not valid JSON: {reason}") from None
    if not isinstance(data, dict):
        raise ModelError(f"{sidecar.name} must hold a JSON object, not {_json_kind(data)}")
    if "space" in data:
        if not isinstance(data["space"], dict):
            raise ModelError(
                f"{sidecar.name}: space: must be an object (a feature space), "
                f"not {_json_kind(data['space'])}"
            )
        sidecar_space(path, data)
    if "classes" in data:
        _check_sidecar_classes(sidecar.name, data["classes"])
    if "outputs" in data and (
        not isinstance(data["outputs"], str) or data["outputs"] not in OUTPUT_KINDS
    ):
        raise ModelError(
            f"{sidecar.name}: outputs: must be {' or '.join(OUTPUT_KINDS)}, "
            f"not {_json_kind(data['outputs'])}"
        )
    return data


class _NotFinite(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _not_finite(text: str) -> float:
    raise _NotFinite(text)  # NaN, Infinity, -Infinity: JSON has no such numbers


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise _NotFinite(text)
    return value


def _check_text(name: str, text: str) -> None:
    """A lone surrogate escape would make a feature or class name no file can store."""
    lone = surrogate_problem(text)
    if lone is not None:
        raise ModelError(f"{name}: {lone[1]}")


def _check_sidecar_classes(name: str, classes: Any) -> None:
    if not isinstance(classes, list):
        raise ModelError(
            f"{name}: classes: must be a list of class names, not {_json_kind(classes)}"
        )
    if len(classes) < 2:
        raise ModelError(f"{name}: classes: must name at least two classes, not {len(classes)}")
    seen: set[str] = set()
    for number, item in enumerate(classes, start=1):
        if item is None or not isinstance(item, (str, int, float)):  # bool is an int
            raise ModelError(
                f"{name}: classes: item {number} is {_json_kind(item)}; class names are "
                "strings, numbers or booleans"
            )
        canonical = feature_name(item)
        if canonical in seen:
            raise ModelError(f"{name}: classes: {quoted(canonical)} appears twice")
        seen.add(canonical)


def _json_kind(value: Any) -> str:
    """A JSON value as a message shows it: containers by kind, scalars by value (cut short)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return quoted(value)


def write_sidecar(
    path: Path, space: FeatureSpace, classes: tuple[str, ...], outputs: str, to: Path | None = None
) -> Path:
    """Write the sidecar of the model file ``path`` atomically (to the staged file ``to`` when
    the model and its sidecar are written together); returns the sidecar's path."""
    target = Path(str(path) + SIDECAR_SUFFIX)
    sidecar = {"space": space.to_dict(), "classes": list(classes), "outputs": outputs}
    atomic_write(to or target, json.dumps(sidecar, indent=1))
    return target
