"""The YAML that ``record`` writes: block mappings, flow lists of scalars, and scalars quoted
whenever plain text would read back as something else."""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: Plain scalars that some YAML reader takes for another type than a string: the YAML 1.1 types
#: (booleans with y/n/yes/no/on/off, null, base-2/8/16 and sexagesimal integers, floats, the
#: value and merge keys) and the YAML 1.2 core schema's (``1e3`` and ``0o17`` are numbers there,
#: strings to PyYAML). Such a text is written quoted, so every reader gets the string back.
TYPED_PLAIN = re.compile(
    r"""^(?:
      y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    | ~|null|Null|NULL|=|<<
    | [-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?[0-9][0-9_]* | [-+]?0x[0-9a-fA-F_]+
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
    | [-+]?(?:[0-9][0-9_]*)?\.[0-9_.]*(?:[eE][-+]?[0-9]+)?
    | [-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+
    | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    )$""",
    re.X,
)


def yaml_number(value: int | float) -> str:
    """A number as YAML 1.1 and 1.2 both read it: a float's mantissa always has a point
    (PyYAML reads ``1e-05`` as a string), infinities and NaN in YAML's spelling."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(float(value))
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return text


def yaml_scalar(value: Any, flow: bool = False) -> str:
    """A YAML scalar that reads back as the same value under YAML 1.1 and 1.2; strings are
    quoted when plain text would read as something else (a number, a boolean, null, a
    mapping) to some reader."""
    import yaml

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return yaml_number(value)
    text = str(value)
    plain = bool(text) and text == text.strip() and "#" not in text and ": " not in text
    plain = plain and not text.startswith(tuple("-?:,[]{}!&*|>'\"%@`"))
    plain = plain and not (flow and any(c in text for c in ",[]{}"))
    plain = plain and text.isprintable() and not TYPED_PLAIN.match(text)
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
