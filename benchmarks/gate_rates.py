"""False-alarm and detection rates of the retraining gate's seed band.

For each example data set: calibrate a baseline on K seeds (0..K-1: mean and spread per probe
and class), then retrain N times with new seeds on the same data (a failure is a false alarm) and
N times with the same new seeds on data whose labels were changed on purpose (a failure is a
detection). The same retrains are also judged by a fixed tolerance (|dp| <= 0.10 against seed 0)
to show why a seed band is needed. The band's defaults (threshold 1.5 x the largest leave-one-out
score of the calibration seeds, floor 0.1, cap 10) were chosen looking at retrain seeds
1000..1019 (run with --first-seed 1000); the default retrain seeds here (2000..) were not used
to choose them.

Run: python -m benchmarks.gate_rates [--retrains 20] [--calibration-seeds 5] [--first-seed 2000]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pytest_featureprobe.baseline import (
    BAND_FACTOR,
    Baseline,
    check_band,
    check_probability_drift,
    probe_tolerances,
)
from pytest_featureprobe.memo import ProbeSession

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@dataclass
class Case:
    """A data set, how the model is trained on it, and a change that should be caught."""

    name: str
    frame: pd.DataFrame
    changed: pd.DataFrame
    change: str
    features: object
    label: str
    spec: dict
    order: int


def seed_case() -> Case:
    frame = pd.read_csv(EXAMPLES / "problems/problems.csv", dtype=str)
    changed = frame.copy()
    # Feature 4 now goes with A: the row [1, 4, 5] is relabelled from C to A.
    changed.loc[changed["problems"] == "[1, 4, 5]", "results"] = "A"
    return Case(
        "seed example (problems.csv)",
        frame,
        changed,
        "row [1, 4, 5] relabelled C -> A",
        "problems",
        "results",
        {},
        2,
    )


def penguins_case() -> Case:
    frame = pd.read_csv(EXAMPLES / "penguins/penguins.csv", dtype=str)
    changed = frame.copy()
    # Torgersen penguins relabelled from Adelie to Chinstrap: the island now means another species.
    changed.loc[changed["island"] == "Torgersen", "species"] = "Chinstrap"
    features = {
        "categorical": ["island", "sex", "bill_length", "bill_depth", "flipper_length", "body_mass"]
    }
    return Case(
        "penguins (penguins.csv)",
        frame,
        changed,
        "island=Torgersen rows relabelled Adelie -> Chinstrap",
        features,
        "species",
        {"epochs": 30},
        1,
    )


def sweep_for(session: ProbeSession, case: Case, frame: pd.DataFrame, seed: int):
    model = session.train(frame, case.features, case.label, seed=seed, **case.spec)
    return session.sweep(model, order=case.order)


def measure(
    case: Case, retrains: int, k: int, first_seed: int, factor: float, fixed: float
) -> dict:
    session = ProbeSession()
    started = time.perf_counter()
    calibration = [sweep_for(session, case, case.frame, s) for s in range(k)]
    baseline = Baseline.from_sweep(calibration[0], band=calibration, band_seeds=range(k))
    tolerance = probe_tolerances(baseline, fixed, {}, {})
    counts = {"band_false": 0, "band_detect": 0, "fixed_false": 0, "fixed_detect": 0}
    scores = {"same": [], "changed": []}
    for seed in range(first_seed, first_seed + retrains):
        same = sweep_for(session, case, case.frame, seed)
        changed = sweep_for(session, case, case.changed, seed)
        for kind, sweep in (("same", same), ("changed", changed)):
            outcome = check_band(baseline, sweep, factor=factor)
            scores[kind].append(outcome.properties["band_score"])
        threshold = outcome.properties["band_threshold"]
        counts["band_false"] += scores["same"][-1] > threshold
        counts["band_detect"] += scores["changed"][-1] > threshold
        counts["fixed_false"] += not check_probability_drift(baseline, same, tolerance).passed
        counts["fixed_detect"] += not check_probability_drift(baseline, changed, tolerance).passed
        session = ProbeSession()  # keep memory flat: models are not reused across seeds
    counts["seconds"] = time.perf_counter() - started
    counts["same_max"] = max(scores["same"])
    counts["changed_min"] = min(scores["changed"])
    counts["threshold"] = threshold
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retrains", type=int, default=20)
    parser.add_argument("--calibration-seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=2000)
    parser.add_argument("--factor", type=float, default=BAND_FACTOR)
    parser.add_argument("--fixed", type=float, default=0.10, help="fixed |dp| tolerance compared")
    args = parser.parse_args()
    print(
        f"seed band: mean distance <= {args.factor:g} x the largest leave-one-out score of "
        f"{args.calibration_seeds} calibration seeds (floor 0.1, cap 10); {args.retrains} "
        f"retrains per row, seeds {args.first_seed}..{args.first_seed + args.retrains - 1}\n"
    )
    header = (
        f"{'data set':30} {'check':24} {'false alarms (seed only)':>26} "
        f"{'detected (changed data)':>25}"
    )
    print(header)
    print("-" * len(header))
    for case in (seed_case(), penguins_case()):
        counts = measure(
            case,
            args.retrains,
            args.calibration_seeds,
            args.first_seed,
            args.factor,
            args.fixed,
        )
        n = args.retrains
        rows = (("seed band", "band"), (f"fixed |dp| <= {args.fixed:g}", "fixed"))
        for label, key in rows:
            false, detect = counts[f"{key}_false"], counts[f"{key}_detect"]
            print(
                f"{case.name:30} {label:24} {false:>3}/{n} = {false / n:5.0%}{'':11} "
                f"{detect:>3}/{n} = {detect / n:5.0%}"
            )
        print(
            f"{'':30} band threshold {counts['threshold']:.2f}; scores: highest seed-only "
            f"{counts['same_max']:.2f}, lowest "
            f"changed-data {counts['changed_min']:.2f}; change: {case.change} "
            f"({counts['seconds']:.0f} s)"
        )


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
