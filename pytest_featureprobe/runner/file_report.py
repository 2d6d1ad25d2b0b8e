"""What the HTML report shows of one expectation file's run: its sweep and, with a drift gate,
the baseline beside the sweep it is compared with and the tolerances the checks apply."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..baseline.checks import BandLimit, DriftCheck, ProbabilityTolerance
from ..baseline.store import check_compatible, read_baseline
from ..errors import FeatureProbeError
from ..report.entry import ReportEntry
from .declared import drift_context

if TYPE_CHECKING:
    from ..baseline.record import Baseline
    from ..sweep import Sweep
    from .file_run import FileRun


def report_entry(run: FileRun, title: str, results: list[tuple[str, str]]) -> ReportEntry:
    """``run``'s section of the report: the sweep of the first context its entries are checked
    in that could be made and, when it has a drift gate, the baseline against the sweep of the
    drift checks' own context (the gate's own reading of the file)."""
    sweep, note = _entries_sweep(run)
    if sweep is None:
        return ReportEntry(title, None, results=results, notes=[note])
    entry = ReportEntry(title, sweep, results=results)
    drift_items = [i for i in run.document.items if isinstance(i.expectation, DriftCheck)]
    if not drift_items:
        return entry
    refused = next((i.error for i in drift_items if i.error is not None), None)
    if refused is not None:  # e.g. a baseline outside the project: not read, not drawn
        entry.notes.append(f"no drift figures: {refused.message}")
        return entry
    try:
        sweep = entry.drift_sweep = run.context_for(drift_context(run.document)).sweep
        baseline = run.baseline
        if baseline is None:
            path = run.baseline_path()
            baseline = read_baseline(path)
            check_compatible(baseline, sweep, path, probes=run.document.drift.probes)
    except FeatureProbeError as exc:
        entry.notes.append(f"no drift figures: {exc.message}")
        return entry
    entry.baseline = baseline
    for item in drift_items:
        gate = item.expectation.gate
        if isinstance(gate, ProbabilityTolerance):
            try:
                entry.tolerance = gate.tolerances(baseline, sweep).tolist()
            except FeatureProbeError as exc:  # e.g. per_probe names an unknown feature
                entry.notes.append(f"no declared tolerances: {exc.message}")
        elif isinstance(gate, BandLimit):
            entry.band = {"max_score": gate.max_score, "factor": gate.factor}
            if gate.false_alarm is not None:
                entry.band["seed_test"] = _seed_test(run, gate, baseline, entry)
    return entry


def _seed_test(run: FileRun, gate: BandLimit, baseline: Baseline, entry: ReportEntry) -> dict:
    """The seed test's figures (p-value, score), as the drift-band item computed them."""
    try:
        context = run.context_for(drift_context(run.document))
        return gate.compare_in(baseline, context).properties
    except FeatureProbeError as exc:
        entry.notes.append(f"no seed test figures: {exc.message}")
        return {}


def _entries_sweep(run: FileRun) -> tuple[Sweep | None, str]:
    """The first sweep of the entries' contexts that could be made, or why none could."""
    if run.model is None:
        error = run.error
        return None, f"not probed: {error.message}" if error is not None else "not probed"
    reason = "not probed"
    for decl in run.document.contexts() or [run.document.model.context]:
        try:
            return run.context_for(decl).sweep, ""
        except FeatureProbeError as exc:
            reason = reason if reason != "not probed" else f"not probed: {exc.message}"
    return None, reason
