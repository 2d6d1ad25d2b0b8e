"""The YAML that ``record`` writes: block mappings, flow lists of scalars, and scalars quoted
whenever plain text would read back as something else."""

from __future__ import annotations

import json
from typing import Any


def yaml_scalar(value: Any, flow: bool = False) -> str:
    """A YAML scalar that reads back as the same value; strings are quoted when plain text would
    read as something else (a number, a boolean, a mapping)."""
    import yaml

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    plain = bool(text) and text == text.strip() and "#" not in text and ": " not in text
    plain = plain and not text.startswith(tuple("-?:,[]{}!&*|>'\"%@`"))
    plain = plain and not (flow and any(c in text for c in ",[]{}"))
    if plain:
        try:
            plain = yaml.safe_load(text) == text
        except yaml.YAMLError:
            plain = False
    return text if plain else json.dumps(text, ensure_ascii=False)


def yaml_lines(mapping: dict[str, Any], indent: int = 0) -> list[str]:
    """Block mappings, with lists of scalars in flow style (``hidden: [32, 32]``)."""
    pad = "  " * indent
    lines = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines += yaml_lines(value, indent + 1)
        elif isinstance(value, (list, tuple)):
            lines.append(f"{pad}{key}: [{', '.join(yaml_scalar(v, flow=True) for v in value)}]")
        else:
            lines.append(f"{pad}{key}: {yaml_scalar(value)}")
    return lines
