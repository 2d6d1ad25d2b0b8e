"""pytest marks written in an expectation file, taken as plain data: never evaluated, never
imported (a string ``condition`` would be Python to pytest)."""

from __future__ import annotations

import re
from typing import Any

from ..errors import SpecError, quoted

UNSUPPORTED_MARKS = ("parametrize", "usefixtures", "filterwarnings")
CONDITIONAL_MARKS = ("skipif", "xfail")
_MARK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: The keywords pytest's own skip marks take, and the type each must have (anything else would
#: fail inside pytest with its traceback, far from the file).
BUILTIN_KEYWORDS: dict[str, dict[str, type]] = {
    "skip": {"reason": str},
    "skipif": {"condition": bool, "reason": str},
    "xfail": {"condition": bool, "reason": str, "run": bool, "strict": bool},
}


def parse_marks(marks: list[Any]) -> list[tuple[str, tuple, dict]]:
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
        if name == "xfail" and "raises" in kwargs:
            raise SpecError(f"{name}.raises names a Python class: not in YAML", key="marks")
        _check_builtin(name, kwargs)
        if name in CONDITIONAL_MARKS:
            if not isinstance(kwargs.get("condition", True), bool):
                raise SpecError(
                    f"{name}.condition must be true or false: pytest would evaluate a string as "
                    "Python, and expectation files hold data only (for a computed condition, "
                    "mark the item in conftest.py)",
                    key="marks",
                )
            if "condition" in kwargs:
                if "reason" not in kwargs:  # pytest refuses a true/false condition without one
                    raise SpecError(f"{name} with a condition needs a reason", key="marks")
                result.append((name, (kwargs.pop("condition"),), kwargs))
                continue
        result.append((name, (), kwargs))
    return result


def _check_builtin(name: str, kwargs: dict[str, Any]) -> None:
    """pytest's skip, skipif and xfail take only their own keywords, each of one type."""
    allowed = BUILTIN_KEYWORDS.get(name)
    if allowed is None:
        return
    for key, argument in kwargs.items():
        if key not in allowed:
            raise SpecError(
                f"the {name} mark has no keyword {quoted(key)} (it takes {', '.join(allowed)})",
                key="marks",
            )
        kind = allowed[key]
        if key != "condition" and not isinstance(argument, kind):
            wanted = "text" if kind is str else "true or false"
            raise SpecError(f"{name}.{key} must be {wanted}, not {argument!r}", key="marks")
