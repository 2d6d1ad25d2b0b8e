"""The terminal's ``featureprobe`` section: one line per expectation file, the baselines written
and unused, and with ``-v`` the sweep tables.

Reports carry the facts as user properties (``featureprobe_model``, ``featureprobe_sweep_probes``,
drift figures), so the summary lines are the same when pytest-xdist workers ran the items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .options import baseline_folder

if TYPE_CHECKING:
    from ..sweep import Sweep


@dataclass
class FileFacts:
    """What the run learnt about one expectation file."""

    model: str = ""
    probes: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    worst_delta: float | None = None
    band_score: tuple[float, float] | None = None  # (score, threshold)
    seed_test: tuple[float, float] | None = None  # (p-value, false_alarm)


class RunSummary:
    """Featureprobe facts gathered from every test report of the run."""

    def __init__(self) -> None:
        self.files: dict[str, FileFacts] = {}
        self.written: list[str] = []

    def add(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        is_ours = any(str(k).startswith("featureprobe_") for k in properties)
        if not is_ours and not _is_expectation_report(report):
            return
        if report.when != "call" and not (report.when == "setup" and not report.passed):
            return
        facts = self.files.setdefault(report.nodeid.split("::")[0], FileFacts())
        facts.model = properties.get("featureprobe_model", facts.model)
        facts.probes = max(facts.probes, int(properties.get("featureprobe_sweep_probes", 0)))
        outcome = outcome_name(report)
        facts.outcomes[outcome] = facts.outcomes.get(outcome, 0) + 1
        if "featureprobe_max_abs_delta" in properties:
            delta = float(properties["featureprobe_max_abs_delta"])
            facts.worst_delta = max(delta, facts.worst_delta or 0.0)
        if "featureprobe_band_score" in properties:
            facts.band_score = (
                float(properties["featureprobe_band_score"]),
                float(properties["featureprobe_band_threshold"]),
            )
        if "featureprobe_seed_test_p_value" in properties:
            facts.seed_test = (
                float(properties["featureprobe_seed_test_p_value"]),
                float(properties["featureprobe_false_alarm"]),
            )
        if "featureprobe_baseline_written" in properties:
            self.written.append(str(properties["featureprobe_baseline_written"]))

    def lines(self) -> list[str]:
        rows = []
        for path, facts in sorted(self.files.items()):
            counts = ", ".join(_counted(kind, n) for kind, n in sorted(facts.outcomes.items()))
            parts = [path + ":", facts.model or "model not built", f"{facts.probes} probes", counts]
            if facts.worst_delta is not None:
                parts.append(f"worst |dp| {facts.worst_delta:.3f}")
            if facts.band_score is not None:
                parts.append(
                    f"band score {facts.band_score[0]:.2f} (max {facts.band_score[1]:.2f})"
                )
            if facts.seed_test is not None:
                p_value, false_alarm = facts.seed_test
                parts.append(f"seed test p {p_value:.2f} (fails at {false_alarm:g})")
            rows.append(" ".join(parts[:2]) + "; " + "; ".join(parts[2:]))
        return rows


def _is_expectation_report(report: pytest.TestReport) -> bool:
    path = report.nodeid.split("::")[0]
    return path.endswith((".yaml", ".yml")) and "::" in report.nodeid


def outcome_name(report: pytest.TestReport) -> str | None:
    """An item's outcome as pytest counts it (passed, failed, skipped, xfailed, xpassed, error)
    from one phase's report; None for a phase that passed without deciding the outcome."""
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.passed:
            return "xpassed" if xfail else "passed"
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        return "failed"
    if report.failed:
        return "error"
    if report.skipped:
        return "xfailed" if xfail else "skipped"
    return None


def _counted(kind: str, n: int) -> str:
    return f"{n} {kind}s" if kind == "error" and n != 1 else f"{n} {kind}"


#: The key of what a pytest-xdist worker hands the controller in ``workeroutput``.
WORKER_OUTPUT = "featureprobe"


class BaselinesSeen:
    """Expectation files this process (and, on the pytest-xdist controller, its workers)
    collected, the baselines they use, and the -v sweep tables the workers made."""

    def __init__(self) -> None:
        self.files: set[Path] = set()  # expectation files collected
        self.used: set[Path] = set()
        self.tables: list[str] = []  # sweep tables from workers

    def to_plain(self, tables: Sequence[str]) -> dict[str, list[str]]:
        """What a worker sends (execnet carries plain lists and strings)."""
        return {
            "files": sorted(map(str, self.files)),
            "used": sorted(map(str, self.used)),
            "tables": list(tables),
        }

    def merge(self, plain: Any) -> None:
        """Take in what a worker sent (nothing, from a worker that crashed)."""
        if not isinstance(plain, dict):
            return
        self.files.update(Path(p) for p in plain.get("files", ()))
        self.used.update(Path(p) for p in plain.get("used", ()))
        self.tables.extend(t for t in plain.get("tables", ()) if t not in self.tables)


def unused_baselines(config: pytest.Config, seen: BaselinesSeen) -> list[str]:
    """Baseline files in the baseline folders beside the collected expectation files that no
    expectation file uses (files that exist but were not selected are given the benefit)."""
    from ..errors import display_path
    from ..files import is_regular_file, resolved

    collected = sorted(seen.files)
    files = {resolved(c) for c in collected}
    folder_name = baseline_folder(config)
    unused = []
    for folder in sorted({path.parent / folder_name for path in collected}):
        try:
            found = sorted(folder.glob("*.json"))
        except OSError:  # the folder cannot be listed: nothing to say about it here
            continue
        for baseline in found:  # a stale link (a loop) is listed as it is named
            if resolved(baseline) in seen.used:
                continue
            owners = [folder.parent / f"{baseline.stem}{s}" for s in (".yaml", ".yml")]
            if any(is_regular_file(o) and resolved(o) not in files for o in owners):
                continue
            unused.append(display_path(baseline, config.invocation_params.dir))
    return unused


def sweep_table(sweep: Sweep) -> str:
    """A sweep as the -v summary prints it: a heading line and its table."""
    heading = f"sweep of {sweep.model_description} (order {sweep.order}; {sweep.context_line()})"
    return f"{heading}\n{sweep.to_string(max_rows=40)}"


def write_summary(
    terminalreporter: Any,
    config: pytest.Config,
    summary: RunSummary,
    seen: BaselinesSeen,
    tables: Sequence[str],
) -> None:
    """Per expectation file: model, probes, outcomes, worst drift; then baselines written and
    unused. With -v, the sweep tables (``sweep_table``) of the run."""
    unused = unused_baselines(config, seen) if seen.files else []
    if not summary.files and not unused:
        return
    terminalreporter.section("featureprobe")
    for line in summary.lines():
        terminalreporter.write_line(line)
    for path in summary.written:
        terminalreporter.write_line(f"baseline written: {path}")
    for path in unused:
        terminalreporter.write_line(
            f"baseline unused (no selected expectation file uses it): {path}"
        )
    if config.get_verbosity() > 0:
        for table in tables:
            terminalreporter.write_line("")
            terminalreporter.write_line(table)
