"""The ``drift:`` section: where the baseline is, which gates run against it (each its own test
item) and the seeds that calibrate the seed band."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..baseline.checks import (
    BandLimit,
    ChurnLimit,
    DriftCheck,
    FlipLimit,
    InteractionTolerance,
    ProbabilityTolerance,
    RankAgreement,
)
from ..baseline.seed_band import BAND_FACTOR
from ..baseline.seed_test import needed_seeds
from ..errors import SpecError
from ..features import feature_name
from .context_decl import ContextDecl, context_decl
from .declarations import ItemSpec
from .yaml_lines import LineDict, plain_data

DRIFT_CHECKS = {  # item name -> the keys that declare it
    "flips": ("max_flips", "allow_flips"),
    "max_abs_delta": ("max_abs_delta", "per_order", "per_probe"),
    "rank": ("rank",),
    "interaction": ("interaction",),
    "band": ("band", "false_alarm"),
    "churn": ("max_churn", "slice_churn"),
}


@dataclass
class DriftDecl:
    """The ``drift:`` section: where the baseline is and which drift checks run against it."""

    values: dict[str, Any]
    line: int
    key_lines: dict[str, int]
    source_lines: list[str]
    path: Path
    context: ContextDecl | None = None  # the gates' context; None: the model section's

    @property
    def order(self) -> int | None:
        return self.values.get("order")

    @property
    def baseline(self) -> str | None:
        return self.values.get("baseline")

    @property
    def probes(self) -> list[Any] | None:
        """``drift.probes``: the narrower set the baseline holds and the gates compare (names
        or feature lists; a number or boolean named as a data cell names it: ``1.0`` is
        ``"1"``, ``true`` is ``"true"``); None: every probe up to the order."""
        probes = self.values.get("probes")
        if probes is None:
            return None
        return [
            [feature_name(f) if _scalar(f) else f for f in p] if isinstance(p, list) else
            feature_name(p) if _scalar(p) else p
            for p in probes
        ]  # fmt: skip

    def calibration_seeds(self, spec_seed: int) -> list[int]:
        """The seeds of the seed band: a list as given, or K seeds from the spec's own seed."""
        false_alarm = self.values.get("false_alarm")
        default = needed_seeds(false_alarm) if false_alarm is not None else 5
        seeds = self.values.get("calibrate", {}).get("seeds", default)
        if isinstance(seeds, int):
            return list(range(spec_seed, spec_seed + seeds))
        return [int(s) for s in seeds]

    def gates(self) -> dict[str, Any]:
        """The gates this section declares, by item kind, in DRIFT_CHECKS order."""
        values, gates = self.values, {}
        if "max_flips" in values or "allow_flips" in values:
            gates["flips"] = FlipLimit(values.get("max_flips", 0), values.get("allow_flips", []))
        if any(key in values for key in DRIFT_CHECKS["max_abs_delta"]):
            gates["max_abs_delta"] = ProbabilityTolerance(
                values.get("max_abs_delta", 1.0),
                values.get("per_order", {}),
                values.get("per_probe", {}),
            )
        if "rank" in values:
            rank = values["rank"]
            gates["rank"] = RankAgreement(
                rank.get("method", "spearman"),
                rank.get("min"),
                rank.get("top_k"),
                rank.get("min_overlap"),
            )
        if "interaction" in values:
            gates["interaction"] = InteractionTolerance(values["interaction"])
        if "band" in values:
            band = values["band"]
            gates["band"] = BandLimit(
                band.get("max_score"), band.get("factor", BAND_FACTOR), values.get("false_alarm")
            )
        if "max_churn" in values or "slice_churn" in values:
            slices = values.get("slice_churn", {})
            gates["churn"] = ChurnLimit(
                values.get("max_churn"), slices.get("max"), slices.get("min_rows", 20)
            )
        return gates

    def items(self) -> list[ItemSpec]:
        """One test item per declared gate, at the line of its first key."""
        gates = self.gates()
        items = []
        for kind, keys in DRIFT_CHECKS.items():
            present = sorted((k for k in keys if k in self.key_lines), key=self.key_lines.get)
            if not present:
                continue
            line = self.key_lines[present[0]]
            source = "\n".join(self.source_lines[self.key_lines[k] - 1] for k in present)
            items.append(
                ItemSpec(
                    name=f"drift-{kind}",
                    line=line,
                    source="drift:\n" + source,
                    expectation=DriftCheck(
                        gates[kind], self.order, self.probes, self.key_lines.get("probes")
                    ),
                    index=None,
                    context=self.context,
                )
            )
        return items


def _refuse_combinations(section: LineDict, path: Path, model_kind: str) -> None:
    """Checks that cannot work with this file's order or model, refused at their keys."""

    def refuse(message: str, key: str) -> SpecError:
        return SpecError(message, path=path, line=section.key_lines[key], key=f"drift.{key}")

    order = section.get("order")
    if not str(section.get("baseline", "x.json")).endswith(".json"):
        raise refuse("a baseline is a .json file (it replaces the file it names)", "baseline")
    if "interaction" in section and (order is None or order < 2):
        raise refuse("interaction compares pairs: set drift.order to 2 or more", "interaction")
    if "rank" in section and order == 0:
        raise refuse("rank compares single features: drift.order must be 1 or more", "rank")
    above = sorted(
        int(k) for k in section.get("per_order") or {} if order is not None and int(k) > order
    )
    if above:  # a tolerance for probes the baseline does not hold would check nothing
        raise refuse(
            f"per_order {above[0]} is above drift.order {order}: the baseline holds no probe of "
            "that order, so its tolerance would check nothing; raise drift.order or remove it",
            "per_order",
        )
    for gate, reads in (("rank", "every single feature"), ("interaction", "every pair")):
        if gate in section and "probes" in section:
            raise refuse(
                f"{gate} reads {reads} and the zero probe, not a declared set: remove "
                f"drift.probes, or {gate}",
                "probes",
            )
    if "order" in section and "probes" in section:
        raise refuse(
            "drift.probes names every probe the baseline holds; drift.order (every probe up to "
            "an order) would be ignored beside it: remove one",
            "order",
        )
    if ("band" in section or "false_alarm" in section) and model_kind != "train":
        gate = "seed band" if "false_alarm" not in section else "seed test"
        raise refuse(
            f"the {gate} retrains the model with other seeds, so it needs model: train: "
            f"(this file's model is {model_kind}:)",
            "band" if "band" in section else "false_alarm",
        )


def _refuse_settings(values: dict[str, Any], section: LineDict, path: Path) -> None:
    """Calibration and rank settings that contradict themselves, refused at their keys."""

    def refuse(message: str, key: str, where: str) -> SpecError:
        return SpecError(message, path=path, line=section.key_lines[where], key=f"drift.{key}")

    false_alarm = values.get("false_alarm")
    if false_alarm is not None and not 0.01 <= false_alarm < 0.5:  # NaN, which the schema lets by
        raise refuse("false_alarm is a share from 0.01 to below 0.5", "false_alarm", "false_alarm")
    if false_alarm is None and "min_rows" in values.get("band", {}):
        raise refuse(
            "band.min_rows is the smallest slice the seed test reads: add false_alarm",
            "band.min_rows",
            "band",
        )
    if false_alarm is not None:
        for key in ("max_score", "factor", "cap"):
            if key in values["band"]:
                raise refuse(
                    f"false_alarm sets the seed test's threshold by rank; band.{key} belongs to "
                    "the mean band it replaces",
                    f"band.{key}",
                    "band" if "band" in section else "false_alarm",
                )
        needed = needed_seeds(false_alarm)
        given = len(DriftDecl(values, 0, {}, [], path).calibration_seeds(0))
        if given < needed:
            raise refuse(
                f"false_alarm {false_alarm:g} needs at least {needed} calibration seeds "
                f"(1/(K+1) <= {false_alarm:g}); calibrate.seeds gives {given}",
                "calibrate.seeds",
                "calibrate" if "calibrate" in section else "false_alarm",
            )
    if "calibrate" in values and "band" not in values:
        raise refuse(
            "calibrate stores a seed band that only the band check reads: add band",
            "calibrate",
            "calibrate",
        )
    seeds = values.get("calibrate", {}).get("seeds")
    if isinstance(seeds, list) and len(set(seeds)) != len(seeds):
        raise refuse(
            "calibration seeds repeat (a repeated seed narrows the band)",
            "calibrate.seeds",
            "calibrate",
        )
    rank = values.get("rank")
    if rank is not None and "min" not in rank and "top_k" not in rank:
        raise refuse("rank needs min (a correlation) or top_k", "rank", "rank")
    if rank is not None and rank.get("min_overlap", 0) > rank.get("top_k", 10**9):
        raise refuse("min_overlap is larger than top_k", "rank.min_overlap", "rank")


def drift_decl(
    section: LineDict, lines: list[str], path: Path, model_kind: str, line: int
) -> DriftDecl:
    """The ``drift:`` section, checked: at least one gate, and settings that can work."""
    _refuse_combinations(section, path, model_kind)
    values = plain_data(section)
    if "per_order" in section:
        values["per_order"] = {int(k): float(v) for k, v in section["per_order"].items()}
    if "per_probe" in section:
        values["per_probe"] = {feature_name(k): float(v) for k, v in section["per_probe"].items()}
    declared = [k for keys in DRIFT_CHECKS.values() for k in keys if k in section]
    if not declared:
        raise SpecError(
            "declare at least one drift check: max_flips, allow_flips, max_abs_delta, per_order, "
            "per_probe, rank, interaction, band, false_alarm, max_churn or slice_churn",
            path=path,
            line=line,
            key="drift",
        )
    if "band" in section and section["band"] is True:
        values["band"] = {}
    if "false_alarm" in values and "band" not in values:  # the seed test is the band's gate
        values["band"] = {}
    if "band" in values and "calibrate" not in values:
        values["calibrate"] = {}
    _refuse_settings(values, section, path)
    context = values.pop("context", None)
    if context is not None:
        context = context_decl(
            section["context"], "drift.context", section.key_lines["context"], path
        )
    return DriftDecl(values, line, dict(section.key_lines), lines, path, context)


def _scalar(value: Any) -> bool:
    """A number or boolean (YAML's): named as the data's cells name it (``feature_name``)."""
    return isinstance(value, (bool, int, float))
