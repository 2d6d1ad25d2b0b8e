"""The report's tests: each item's outcome counted as pytest counts it, the badge of a file's
worst outcome, and the failure text of each failed item (what the terminal shows for it)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

# pytest's order in its summary line ("2 failed, 8 passed, 1 xfailed").
COUNT_ORDER = ("failed", "passed", "skipped", "xfailed", "xpassed", "error", "not run")
# Worst first: what a file's badge shows.
SEVERITY = ("error", "failed", "xpassed", "not run", "skipped", "xfailed", "passed")
BADGE = {"error": "bad", "failed": "bad", "xpassed": "warn", "passed": "ok"}
MAX_FAILURE_LINES = 200


def _e(value: object) -> str:
    return html.escape(str(value))


def outcome_counts(results: Sequence[tuple[str, str]]) -> str:
    """``results``' outcomes as pytest's summary counts them: "2 failed, 8 passed, 1 xfailed"."""
    counts: dict[str, int] = {}
    for _, outcome in results:
        counts[outcome] = counts.get(outcome, 0) + 1
    known = [k for k in COUNT_ORDER if k in counts]
    ordered = known + sorted(k for k in counts if k not in COUNT_ORDER)
    return ", ".join(_counted(k, counts[k]) for k in ordered)


def _counted(kind: str, n: int) -> str:
    return f"{n:,} {kind}s" if kind == "error" and n != 1 else f"{n:,} {kind}"


def worst_outcome(results: Sequence[tuple[str, str]]) -> str | None:
    """The worst of ``results``' outcomes (error, failed, xpassed, not run, skipped, xfailed,
    passed), None when there are none."""
    found = {outcome for _, outcome in results}
    if not found:
        return None
    rank = {k: i for i, k in enumerate(SEVERITY)}
    return min(found, key=lambda k: rank.get(k, -1))


def outcome_badge(results: Sequence[tuple[str, str]]) -> str:
    """The badge of a file's worst outcome, with its counts on hover; "-" without tests."""
    worst = worst_outcome(results)
    if worst is None:
        return "-"
    kind = BADGE.get(worst, "none")
    return f'<span class="badge {kind}" title="{_e(outcome_counts(results))}">{_e(worst)}</span>'


def failure_anchor(section: str, number: int) -> str:
    return f"{section}-failure-{number}"


def results_html(
    results: Sequence[tuple[str, str]], failures: Mapping[str, str], section: str
) -> str:
    """The tests table (a failed item links to its failure text) and each failure's text."""
    if not results:
        return ""
    rows, texts = [], []
    for name, outcome in results:
        text = failures.get(name)
        cell = _e(outcome)
        if text:
            anchor = failure_anchor(section, len(texts) + 1)
            cell = f'<a href="#{anchor}">{cell}</a>'
            texts.append(_failure(anchor, name, outcome, text))
        rows.append(
            f'<tr><td>{_e(name)}</td><td class="{_e(outcome.replace(" ", "-"))}">{cell}</td></tr>'
        )
    table = (
        f"<h3>Tests ({_e(outcome_counts(results))})</h3><table><tr><th>test</th>"
        f"<th>outcome</th></tr>{''.join(rows)}</table>"
    )
    if texts:
        table += '<h3>Why they failed</h3><div class="failures">' + "".join(texts) + "</div>"
    return table


def _failure(anchor: str, name: str, outcome: str, text: str) -> str:
    lines = text.rstrip().splitlines()
    if len(lines) > MAX_FAILURE_LINES:
        cut = len(lines) - MAX_FAILURE_LINES
        lines = [*lines[:MAX_FAILURE_LINES], f"... ({cut:,} more lines in the terminal's report)"]
    return (
        f'<div class="failure" id="{anchor}"><p><span class="{_e(outcome)}">{_e(outcome)}'
        f"</span> {_e(name)}</p><pre>{_e(chr(10).join(lines))}</pre></div>"
    )
