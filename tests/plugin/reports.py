"""Reading what pytester runs of expectation files print: one item's report, the explanation of a
failed expectation, a one-line FeatureProbeError, and each item's outcome. Shared by the plugin
tests that read the failure text a user reads."""

from __future__ import annotations

import re

import pytest


def section(result: pytest.RunResult, name: str) -> list[str]:
    """The report of one failed or errored item: the lines between its header and the next."""
    text = result.stdout.str()
    header = rf"^_+ (?:ERROR at setup of )?\S+:\d+: {re.escape(name)} _+$\n"
    match = re.search(header + r"(.*?)(?=^[_=]{3,})", text, re.M | re.S)
    assert match, f"no report for {name!r} in:\n{text}"
    return [line for line in match.group(1).splitlines() if line.strip()]


def explanation(result: pytest.RunResult, name: str, source: str | None = None) -> list[str]:
    """What a failed expectation says after its header and its YAML source (``source``: the
    source's first line, checked, e.g. ``  drift:``)."""
    lines = section(result, name)
    assert lines[0].endswith(f"expectation {name!r} failed"), lines
    if source is not None:
        assert lines[1] == source, lines
        return [line[2:] for line in lines[2:] if not line.startswith("    ")]
    return [line[2:] for line in lines[1:] if not line.startswith("    ")]


def one_line(result: pytest.RunResult, name: str) -> str:
    """A FeatureProbeError report: one line, no traceback."""
    lines = section(result, name)
    assert len(lines) == 1, lines
    assert lines[0].startswith("featureprobe: "), lines
    return lines[0].removeprefix("featureprobe: ")


def outcomes(result: pytest.RunResult, file: str) -> dict[str, str]:
    """Each item of ``file`` and its outcome, by its id (from the -rA short summary)."""
    found = {}
    for line in result.outlines:
        match = re.match(rf"^(PASSED|FAILED|ERROR|XFAIL|XPASS) {re.escape(file)}::(\S+)", line)
        if match:
            found[match.group(2)] = match.group(1)
    return found
