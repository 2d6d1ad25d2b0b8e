"""The YAML that ``record`` writes: block mappings, flow lists of scalars, scalars quoted
whenever plain text would read back as something else, and the recorded file's ``model:``
section with its paths relative to that file."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import plural

if TYPE_CHECKING:
    from ..spec.context_decl import ContextDecl
    from ..sweep import Sweep
    from .sources import Source

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


def relative(target: Path, start: Path) -> str:
    from ..files import resolved

    target, start = resolved(target), resolved(start)
    try:
        common = Path(os.path.commonpath([target, start]))
    except ValueError:  # another drive on Windows
        return target.as_posix()
    if common == Path(common.anchor):  # nothing shared but the root: absolute reads better
        return target.as_posix()
    return Path(os.path.relpath(target, start)).as_posix()


def model_section(
    source: Source, out_dir: Path, context: ContextDecl, pin: str | None = None
) -> dict[str, Any]:
    """The recorded file's ``model:`` section, with paths relative to the recorded file; a
    loaded model file keeps its pin, or is pinned to the digest ``pin``. The context is
    written out unless it is the zero vector of a token space (the seed method, unsaid)."""
    section = _unpinned_model_section(source, out_dir)
    decl = source.document.model if source.document is not None else None
    if pin is not None:
        section["sha256"] = pin
    elif decl is not None and decl.sha256 is not None:
        section["sha256"] = decl.sha256
    if not context.is_zero or source.model.space.categorical:
        section["context"] = context.value()  # as recorded_context names it
    return section


def recorded_context(source: Source, out_dir: Path, context: ContextDecl) -> ContextDecl:
    """``context`` as the recorded file in ``out_dir`` declares it: a data file named relative
    to that folder (so the baseline records the definition pytest will read)."""
    file = context.data_file
    if file is None:
        return context
    base = source.path.parent if source.document is not None else Path.cwd()
    return replace(context, rows=relative(base / file, out_dir))


def _load_section(
    model: Path, features: Any, classes: Any, outputs: str | None, out_dir: Path
) -> dict[str, Any]:
    """``load:`` and what goes with it; files (the model, a feature-space file given as a Path)
    relative to the recorded file's folder ``out_dir``."""
    from ..spec import plain_data

    section: dict[str, Any] = {"load": relative(model, out_dir)}
    if isinstance(features, Path):
        section["features"] = relative(features, out_dir)
    elif features is not None:
        section["features"] = plain_data(features)
    if classes is not None:
        section["classes"] = list(classes)
    if outputs is not None:
        section["outputs"] = outputs
    return section


def _unpinned_model_section(source: Source, out_dir: Path) -> dict[str, Any]:
    from ..spec import plain_data

    if source.document is None:
        return _load_section(
            source.path, source.features_arg, source.classes_arg, source.outputs_arg, out_dir
        )
    decl, base = source.document.model, source.path.parent
    if decl.kind == "train":
        values = plain_data(decl.values)
        values["data"] = relative(base / values["data"], out_dir)
        return {"train": values}
    features = base / decl.features if isinstance(decl.features, str) else decl.features
    return _load_section(
        base / decl.values["target"], features, decl.classes, decl.outputs, out_dir
    )


def floor_to(value: float, digits: int = 3) -> float:
    scale = 10**digits
    return math.floor(value * scale + 1e-9) / scale


def drift_lines(
    order: int, max_abs_delta: float | None, flips: Sequence[str], seeds: Sequence[int]
) -> list[str]:
    """The drift section: the seed test over ``seeds``, or stated tolerances (none given)."""
    lines = ["drift:", f"  order: {order}"]
    if seeds:
        rate = seed_test_rate(len(seeds))
        lines += [
            f"  # The seed test: the spec retrained with seeds {seed_range(seeds)} when the "
            "baseline was written;",
            "  # it fails when today's model sits further from them than all but "
            f"{rate:.0%} of the retrains",
            "  # that differ only by seed would.",
            f"  false_alarm: {rate:g}",
            f"  calibrate: {{seeds: {len(seeds)}}}",
        ]
    else:
        lines += [
            "  # Stated tolerances, not measured: a model retrained even with only another seed",
            "  # can move further (README, 'Seed test'); record a model: train: file for one.",
        ]
    lines.append("  max_flips: 0")
    if max_abs_delta is not None:
        lines.append(f"  max_abs_delta: {max_abs_delta:g}")
    if flips:
        lines.append("  # close calls: the seeds disagree, a margin is small or top classes tie:")
        lines.append(f"  allow_flips: [{', '.join(yaml_scalar(p, flow=True) for p in flips)}]")
    return lines


def seed_test_rate(seeds: int) -> float:
    """The seed test's false-alarm rate that ``seeds`` calibration seeds give: 1 / (K + 1),
    rounded up to a percent (19 seeds: 0.05)."""
    return math.ceil(100 / (seeds + 1)) / 100


def seed_range(seeds: Sequence[int]) -> str:
    consecutive = list(seeds) == list(range(seeds[0], seeds[0] + len(seeds)))
    return f"{seeds[0]}-{seeds[-1]}" if consecutive else ", ".join(map(str, seeds))


#: With calibration seeds, a class is required (and its flip refused) only where the smallest
#: margin over the seeds reaches this: a closer call flips on some other seed (the seed
#: example's zero vector: margins 0.035 to 0.4 over seeds 0-4, and seed 11 reads C).
CLOSE_CALL = 0.1


def unsettled(references: Sequence[Sweep]) -> list[str]:
    """Probes that another seed may well read differently: their predicted class is not the
    same in every reference sweep, or the smallest margin is under ``CLOSE_CALL``."""
    if len(references) < 2:
        return []
    first = references[0].table["predicted"]
    return [
        name
        for name in first.index
        if any(s.table.loc[name, "predicted"] != first[name] for s in references[1:])
        or min(float(s.table.loc[name, "margin"]) for s in references) < CLOSE_CALL
    ]


def wanted_lines(references: Sequence[Sweep], name: str, slack: float) -> list[str]:
    """What one probe must predict, as every reference sweep has it: on the zero vector its
    class and margin; in context the class most rows take with it, and the share of rows
    required. A line starting with ``#`` says why nothing is required."""
    from ..expectations.probe import DEFAULT_SHARE
    from ..sweep import share_column

    rows = references[0].context_rows
    if rows is None or name == "zero":  # the zero probe: its class and margin in any context
        picks = [str(s.table.loc[name, "predicted"]) for s in references]
        values = [float(s.table.loc[name, "margin"]) for s in references]
    else:
        shares = [
            {c: float(s.table.loc[name, share_column(c)]) for c in s.classes} for s in references
        ]
        picks = [max(share, key=share.get) for share in shares]  # ties: the first class
        values = [share[pick] for share, pick in zip(shares, picks, strict=True)]
    if len(set(picks)) > 1:
        counts = ", ".join(f"{c} in {picks.count(c)}" for c in dict.fromkeys(picks))
        return [f"# the {len(picks)} calibration seeds disagree ({counts}): not required"]
    top, smallest = picks[0], min(values)
    wanted = floor_to(smallest * slack)
    seen = f"{'smallest over the seeds' if len(values) > 1 else 'observed'} {smallest:.3f}"
    if (rows is None or name == "zero") and len(values) > 1 and smallest < CLOSE_CALL:
        return [f"# a close call ({top}; margin {seen}, under {CLOSE_CALL:g}): not required"]
    if rows is None or name == "zero":
        if wanted <= 0:
            return [
                f"    predicts: {yaml_scalar(top)}",
                f"    # {seen}: too close to require a margin",
            ]
        return [f"    predicts: {yaml_scalar(top)}", f"    min_margin: {wanted:g}   # {seen}"]
    seen += f" of {plural(rows, 'row')}"
    if smallest < DEFAULT_SHARE:  # a behaviour of some rows only is not the probe's
        return [f"# no class takes most rows (the largest, {top}, {seen}): not recorded"]
    if wanted > 0:
        return [f"    predicts: {yaml_scalar(top)}", f"    min_fraction: {wanted:g}   # {seen}"]
    return [f"    predicts: {yaml_scalar(top)}   # most rows ({seen})"]
