"""How often the gate ``featureprobe record`` writes for a ``train:`` file survives a retrain
that differs only by seed, with the default 19 calibration seeds and with 5 (issue 18).

For each data set (README's quick start, 8 rows; the seed example, 5 rows) the file is recorded
in a fresh folder with ``--seeds K``; then the recorded file is run under pytest with N fresh
seeds (100..), none of them a calibration seed, each a copy of the file and its baseline. A
seed passes when every item of its copy passes. For the seed example a changed data set (the row
``[1, 4, 5]`` relabelled C -> A, as tests/cli/test_cmd_record.py does) is checked with seed 0 too:
the gate must fail it.

Run: python -m benchmarks.record_gate [--retrains 20] [--first-seed 100]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA_SETS = {  # name: (expectation file, its data file)
    "quick start (8 rows)": (
        EXAMPLES / "quickstart" / "featureprobe_messages.yaml",
        EXAMPLES / "quickstart" / "messages.csv",
    ),
    "seed example (5 rows)": (
        EXAMPLES / "problems" / "featureprobe_problems.yaml",
        EXAMPLES / "problems" / "problems.csv",
    ),
}
RELABEL = ('"[1, 4, 5]",C', '"[1, 4, 5]",A')  # the seed example's changed data


def record(folder: Path, source: Path, data: Path, seeds: int) -> Path:
    """``featureprobe record`` of ``source`` (copied with its data into ``folder``)."""
    shutil.copy(source, folder / source.name)
    shutil.copy(data, folder / data.name)
    command = [sys.executable, "-m", "pytest_featureprobe", "record", source.name]
    command += ["-o", "featureprobe_gate.yaml", "--seeds", str(seeds)]
    command += ["--cache-dir", str(folder / "weights")]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"record failed: {done.stderr.strip()}")
    return folder / "featureprobe_gate.yaml"


def passing_seeds(gate: Path, seeds: list[int], data: Path, relabel: bool = False) -> list[int]:
    """The ``seeds`` whose retrain passes every item of the recorded file (one pytest run)."""
    trials = gate.parent / ("changed" if relabel else "trials")
    (trials / "__featureprobe__").mkdir(parents=True)
    text = data.read_text(encoding="utf-8")
    (trials / data.name).write_text(text.replace(*RELABEL) if relabel else text, encoding="utf-8")
    recorded = gate.read_text(encoding="utf-8")
    if "    seed: 0\n" not in recorded:
        raise RuntimeError(f"{gate.name} names no seed: 0 to change")
    baseline = gate.parent / "__featureprobe__" / "featureprobe_gate.json"
    for seed in seeds:
        (trials / f"featureprobe_s{seed}.yaml").write_text(
            recorded.replace("    seed: 0\n", f"    seed: {seed}\n"), encoding="utf-8"
        )
        shutil.copy(baseline, trials / "__featureprobe__" / f"featureprobe_s{seed}.json")
    report = trials / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    subprocess.run([*command, f"--junitxml={report}", "."], cwd=trials, capture_output=True)
    failed = {
        case.get("classname", "")
        for case in ElementTree.parse(report).iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    }
    return [s for s in seeds if f"featureprobe_s{s}.yaml" not in failed]  # junit: the file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--retrains", type=int, default=20, help="fresh seeds per row")
    parser.add_argument("--first-seed", type=int, default=100)
    args = parser.parse_args(argv)
    seeds = list(range(args.first_seed, args.first_seed + args.retrains))
    print("| data set | calibration seeds | seed-only retrains that pass | changed data |")
    print("|---|---|---|---|")
    for name, (source, data) in DATA_SETS.items():
        for k in (19, 5):
            with tempfile.TemporaryDirectory(prefix="featureprobe-record-gate-") as folder:
                gate = record(Path(folder), source, data, k)
                passed = passing_seeds(gate, seeds, data)
                changed = "-"
                if data.name == "problems.csv":
                    caught = not passing_seeds(gate, [0], data, relabel=True)
                    changed = "fails (caught)" if caught else "passes (missed)"
            shown = f"{len(passed)} of {len(seeds)} (seeds {seeds[0]}-{seeds[-1]})"
            print(f"| {name} | {k} | {shown} | {changed} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
