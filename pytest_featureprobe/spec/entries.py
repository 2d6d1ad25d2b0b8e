"""Entries under ``expect:``: each mapping becomes an expectation and its test id, or an error
kept on its ``ItemSpec`` so the file's other entries still run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import SpecError, quoted
from ..expectations import (
    DIRECTION_TOLERANCE,
    AddingExpectation,
    EveryProbe,
    Expectation,
    ProbeExpectation,
    RankingExpectation,
)
from ..features import feature_name
from .context_decl import ContextDecl, context_decl
from .declarations import ItemSpec
from .marks import parse_marks
from .yaml_lines import LineDict

SUBJECTS = ("zero", "alone", "together", "every", "biased_toward", "adding", "top")
PROBE_CHECKS = ("predicts", "min_prob", "min_margin", "probability", "mostly", "min_fraction")
ADDING_CHECKS = ("raises", "lowers", "by", "tolerance", "moves_at_most", "on", "min_fraction")
RANKING_CHECKS = ("toward", "are", "include")
COMMON = ("name", "marks", "context")


def _names(value: Any) -> list[str]:
    return [feature_name(v) for v in (value if isinstance(value, list) else [value])]


def entry_item(entry: LineDict, line: int, source: str, path: Path, n: int) -> ItemSpec:
    """The ``ItemSpec`` of entry ``n``: its expectation and id, or the error that replaces them."""
    item = ItemSpec(
        name=entry.get("name", ""),
        line=line,
        source=source,
        explicit_name="name" in entry,
        index=n,
        key_lines=dict(entry.key_lines),
    )
    try:
        item.marks = parse_marks(entry.get("marks", []))
        item.context = _item_context(entry)
        item.expectation, derived = _expectation(entry, item.context)
        item.name = bracket_free(item.name) if item.name else derived
    except SpecError as exc:
        key = exc.key or ""
        exc.key = f"expect[{n}]" + (f".{key}" if key else "")
        if exc.line is None:  # (a context's mistake comes with the line of its own sub-key)
            exc.line = entry.key_lines.get(key.split(".")[0], line) if key else line
        exc.path = str(path)
        item.error = exc
        item.name = item.name or f"expect-{n}"
    return item


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


def _item_context(entry: LineDict) -> ContextDecl | None:
    """The entry's own context: ``context:``, or ``on:`` (its older name, for adding)."""
    if "on" in entry and "context" in entry:
        raise SpecError("on: is the older name of context: give one of them", key="on")
    key = "context" if "context" in entry else "on" if "on" in entry else None
    if key is None:
        return None
    return context_decl(entry[key], key, entry.key_lines[key])


def _expectation(entry: LineDict, context: ContextDecl | None) -> tuple[Expectation, str]:
    subject = _one_subject(entry)
    if "min_fraction" in entry and context is not None and context.is_zero:
        raise SpecError(
            "min_fraction counts rows of a context; the zero vector is one input",
            key="min_fraction",
        )
    if subject == "adding":
        return _adding(entry)
    if subject == "top":
        return _ranking(entry)
    return _probe(entry, subject)


def _every(value: LineDict) -> tuple[EveryProbe, str]:
    """``every: {order, containing, except}``: the quantified probes and their id part."""
    containing = tuple(_names(value["containing"])) if "containing" in value else ()
    excluding = tuple(_names(value["except"])) if "except" in value else ()
    order = value.get("order", max(1, len(containing) + (1 if containing else 0)))
    if len(containing) > order:
        raise SpecError(
            f"a probe of order {order} cannot contain {len(containing)} features", key="every"
        )
    if set(containing) & set(excluding):
        raise SpecError("a feature is both in containing and except", key="every")
    parts = [f"order{order}"]
    parts += [f"containing-{'_'.join(containing)}"] if containing else []
    parts += [f"except-{'_'.join(excluding)}"] if excluding else []
    return EveryProbe(order, containing, excluding), "-".join(parts)


def _probe_subject(subject: str, value: Any) -> tuple[list[tuple[str, ...]] | EveryProbe, str]:
    """The probes a probe subject selects, and the part of the id that names them."""
    if subject in ("zero", "biased_toward"):
        return [()], ""
    if subject == "alone":
        names = _names(value)
        return [(n,) for n in names], "_".join(names)
    if subject == "together":
        sets = value if isinstance(value[0], list) else [value]
        probes = [tuple(_names(s)) for s in sets]
        for probe in probes:
            if len(set(probe)) != len(probe):
                raise SpecError(f"a feature repeats in {list(probe)}", key="together")
        return probes, "_".join("+".join(p) for p in probes)
    return _every(value)


def _probability(entry: LineDict) -> tuple[str, float, float] | None:
    """``probability: {class, min, max}`` as (class, low, high), bounds checked."""
    if "probability" not in entry:
        return None
    bounds = entry["probability"]
    low, high = bounds.get("min", 0.0), bounds.get("max", 1.0)
    if "min" not in bounds and "max" not in bounds:
        raise SpecError("give min, max or both", key="probability")
    if low > high:
        raise SpecError(f"min {low:g} is above max {high:g}", key="probability")
    return feature_name(bounds["class"]), float(low), float(high)


def _probe(entry: LineDict, subject: str) -> tuple[ProbeExpectation, str]:
    checks = ("min_margin",) if subject == "biased_toward" else PROBE_CHECKS
    if "min_fraction" in entry and "predicts" not in entry:
        raise SpecError(
            "biased_toward reads the rows' mean prediction, not a share of rows: write "
            f"zero: true with predicts: {entry['biased_toward']} to count rows"
            if subject == "biased_toward"
            else "min_fraction is the share of rows predicted as a class: add predicts",
            key="min_fraction",
        )
    _allow_only(entry, subject, checks)
    probes, params = _probe_subject(subject, entry[subject])
    predicts = entry.get("biased_toward", entry.get("predicts"))
    predicts = feature_name(predicts) if predicts is not None else None
    probability = _probability(entry)
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
        min_fraction=entry.get("min_fraction"),
        mean_prediction=subject == "biased_toward",
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


def bracket_free(name: str) -> str:
    return name.replace("[", "(").replace("]", ")")


def _numbered(name: str, count: int) -> str:
    return f"{name}-{count}"


def item_id(subject: str, check: str, params: str = "") -> str:
    """``alone-4-predicts-C``: the subject, its probes, the check. No square brackets: pytest
    reads ``name[...]`` as parameters when it matches ``--lf`` ids, and these items have none."""
    return bracket_free(f"{subject}-{params}-{check}" if params else f"{subject}-{check}")


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
    min_fraction = float(entry.get("min_fraction", 1.0))
    if kind == "moves_at_most":
        expectation = AddingExpectation(
            feature,
            "invariant",
            at_most=float(entry[kind]),
            min_fraction=min_fraction,
        )
        check = f"moves_at_most-{entry[kind]:g}"
    else:
        cls = feature_name(entry[kind])
        expectation = AddingExpectation(
            feature,
            kind,
            cls=cls,
            by=float(entry.get("by", 0.0)),
            min_fraction=min_fraction,
            tolerance=float(entry.get("tolerance", DIRECTION_TOLERANCE)),
        )
        check = f"{kind}-{cls}"
    if isinstance(on, str) and on != "zero":  # ids as before context: took over from on:
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


def name_items(items: list[ItemSpec], path: Path) -> None:
    """Explicit duplicate names are errors; derived ones get a -2, -3 suffix (the next number of
    each name is kept, so naming is linear in the entries)."""
    seen: dict[str, int] = {}
    next_count: dict[str, int] = {}
    for item in items:
        if item.name in seen:
            if item.explicit_name and item.error is None:
                item.error = SpecError(
                    f"duplicate name {quoted(item.name)} (also on line {seen[item.name]})",
                    path=path,
                    line=item.line_of("name"),
                    key=f"expect[{item.index}].name",
                )
            count = next_count.get(item.name, 2)
            while _numbered(item.name, count) in seen:
                count += 1
            next_count[item.name] = count + 1
            item.name = _numbered(item.name, count)
        seen[item.name] = item.line
