"""The end-of-run summary: one line per expectation file, built from test reports.

Reports carry the facts as user properties (``featureprobe_model``, ``featureprobe_sweep_probes``,
drift figures), so the summary is the same when pytest-xdist workers ran the items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest


@dataclass
class FileFacts:
    """What the run learnt about one expectation file."""

    model: str = ""
    probes: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    worst_delta: float | None = None
    band_score: tuple[float, float] | None = None  # (score, threshold)


class RunSummary:
    """A pytest plugin object: gathers featureprobe facts from every test report."""

    def __init__(self) -> None:
        self.files: dict[str, FileFacts] = {}
        self.written: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        is_ours = any(str(k).startswith("featureprobe_") for k in properties)
        if not is_ours and not _is_expectation_report(report):
            return
        if report.when != "call" and not (report.when == "setup" and not report.passed):
            return
        facts = self.files.setdefault(report.nodeid.split("::")[0], FileFacts())
        facts.model = properties.get("featureprobe_model", facts.model)
        facts.probes = max(facts.probes, int(properties.get("featureprobe_sweep_probes", 0)))
        outcome = _outcome(report)
        facts.outcomes[outcome] = facts.outcomes.get(outcome, 0) + 1
        if "featureprobe_max_abs_delta" in properties:
            delta = float(properties["featureprobe_max_abs_delta"])
            facts.worst_delta = max(delta, facts.worst_delta or 0.0)
        if "featureprobe_band_score" in properties:
            facts.band_score = (
                float(properties["featureprobe_band_score"]),
                float(properties["featureprobe_band_threshold"]),
            )
        if "featureprobe_baseline_written" in properties:
            self.written.append(str(properties["featureprobe_baseline_written"]))

    def lines(self) -> list[str]:
        rows = []
        for path, facts in sorted(self.files.items()):
            counts = ", ".join(f"{n} {kind}" for kind, n in sorted(facts.outcomes.items()))
            parts = [path + ":", facts.model or "model not built", f"{facts.probes} probes", counts]
            if facts.worst_delta is not None:
                parts.append(f"worst |dp| {facts.worst_delta:.3f}")
            if facts.band_score is not None:
                parts.append(
                    f"band score {facts.band_score[0]:.2f} (max {facts.band_score[1]:.2f})"
                )
            rows.append(" ".join(parts[:2]) + "; " + "; ".join(parts[2:]))
        return rows


def _is_expectation_report(report: pytest.TestReport) -> bool:
    path = report.nodeid.split("::")[0]
    return path.endswith((".yaml", ".yml")) and "::" in report.nodeid


def _outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when == "setup" and report.failed:
        return "errors"
    return report.outcome
