"""False-alarm and detection rates of the retraining gates, on real data and the seed example.

For each data set a baseline is calibrated on K seeds (0..K-1) of the unchanged data, as
``--featureprobe-update`` writes it; then the spec is retrained with N new seeds on the unchanged
data (a failure is a false alarm) and with the same N seeds on data changed on purpose, one kind
of change at a time (a failure is a detection). Each retrain is judged by three gates side by
side, all in the drift context the data set's files use (training rows for categorical columns,
the zero vector for the seed example's tokens):

- the seed test (``drift: {false_alarm: 0.05}``: every probe and slice, rank threshold over
  K = 19 seeds, floor 0.02, slices of at least 20 rows);
- the mean seed band (``band: true``: mean distance, 1.5 x the largest leave-one-out score of
  5 seeds, floor 0.1, cap 10);
- a fixed tolerance, ``max_abs_delta: 0.1`` against seed 0.

The seed test's defaults were fixed before any run of this command; the retrain seeds (2000..)
are not calibration seeds and chose nothing. Rates come with Wilson 95% intervals. The share of
rows whose predicted class the change flips (mean over the retrains, against the baseline model)
says which changes the goal (detect at least 95%) applies to: those flipping at least 5%.

Run: python -m benchmarks.gate_rates [--retrains 40] [--first-seed 2000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BAND_SEEDS = 5  # the mean band's default calibration
DRAWS = 25  # calibration sets drawn per retrain for the seed test's averaged rate
FIXED = 0.10


@dataclass
class Change:
    kind: str  # one of KINDS
    what: str  # the change in words
    apply: Callable[[pd.DataFrame], pd.DataFrame]


@dataclass
class DataSet:
    name: str
    csv: str
    features: object
    label: str
    spec: dict
    order: int
    in_rows: bool  # drift context: training rows (else the zero vector)
    changes: list[Change]

    def frame(self) -> pd.DataFrame:
        return pd.read_csv(EXAMPLES / self.csv, dtype=str)


def relabel(mask: Callable[[pd.DataFrame], pd.Series], label: str, to: str):
    """A change: the rows ``mask`` selects get class ``to``."""

    def apply(frame: pd.DataFrame) -> pd.DataFrame:
        changed = frame.copy()
        changed.loc[mask(frame), label] = to
        return changed

    return apply


def swap_interaction(label: str, a: tuple, b: tuple, c: str, d: str, most: int = 10**9):
    """A change in an interaction only: in the cells (a1, b1) and (a2, b2) n rows of class c
    become d, in (a1, b2) and (a2, b1) n rows of class d become c, so every value of column a
    and of column b keeps its class counts (its single-feature effect) while their pairs move."""
    (col_a, a1, a2), (col_b, b1, b2) = a, b

    def apply(frame: pd.DataFrame) -> pd.DataFrame:
        changed = frame.copy()
        cells = {
            (x, y): (frame[col_a] == x) & (frame[col_b] == y) for x in (a1, a2) for y in (b1, b2)
        }
        plan = [((a1, b1), c, d), ((a2, b2), c, d), ((a1, b2), d, c), ((a2, b1), d, c)]
        n = min(most, *(int((cells[cell] & (frame[label] == old)).sum()) for cell, old, _ in plan))
        assert n >= 5, f"too few rows to swap: {n}"
        for cell, old, new in plan:
            index = frame.index[cells[cell] & (frame[label] == old)][:n]
            changed.loc[index, label] = new
        return changed

    return apply


PENGUIN_COLUMNS = ["island", "sex", "bill_length", "bill_depth", "flipper_length", "body_mass"]
CHILE_COLUMNS = ["region", "population", "sex", "age", "education", "income", "statusquo"]


def data_sets() -> dict[str, DataSet]:
    species, vote, results = "species", "vote", "results"
    return {
        "penguins": DataSet(
            "penguins (344 rows)",
            "penguins/penguins.csv",
            {"categorical": PENGUIN_COLUMNS},
            species,
            {"epochs": 30},
            1,
            True,
            [
                Change(
                    "one value",
                    "island=Torgersen -> Chinstrap (52 rows, 15%)",
                    relabel(lambda f: f.island == "Torgersen", species, "Chinstrap"),
                ),
                Change(
                    "two-column slice",
                    "island=Dream, sex=male -> Gentoo (62 rows, 18%)",
                    relabel(lambda f: (f.island == "Dream") & (f.sex == "male"), species, "Gentoo"),
                ),
                Change(
                    "slice under 10%",
                    "bill_length=short, flipper_length=medium -> Chinstrap (25 rows, 7%)",
                    relabel(
                        lambda f: (f.bill_length == "short") & (f.flipper_length == "medium"),
                        species,
                        "Chinstrap",
                    ),
                ),
                Change(
                    "interaction only",
                    "sex x flipper_length (short, medium): Adelie <-> Chinstrap, 4 x 9 rows (10%)",
                    swap_interaction(
                        species,
                        ("sex", "male", "female"),
                        ("flipper_length", "short", "medium"),
                        "Adelie",
                        "Chinstrap",
                    ),
                ),
            ],
        ),
        "chile": DataSet(
            "Chile plebiscite (2,532 rows)",
            "chile/chile.csv",
            {"categorical": CHILE_COLUMNS},
            vote,
            {"hidden": [32, 32], "epochs": 30},
            1,
            True,
            [
                Change(
                    "one value",
                    "education=post_secondary -> N (438 rows; 214 change, 8.5%)",
                    relabel(lambda f: f.education == "post_secondary", vote, "N"),
                ),
                Change(
                    "two-column slice",
                    "sex=female, age=young -> Y (449 rows; 294 change, 11.6%)",
                    relabel(lambda f: (f.sex == "female") & (f.age == "young"), vote, "Y"),
                ),
                Change(
                    "slice under 10%",
                    "region=north, statusquo=neutral -> N (63 rows; 46 change, 1.8%)",
                    relabel(
                        lambda f: (f.region == "north") & (f.statusquo == "neutral"), vote, "N"
                    ),
                ),
                Change(
                    "interaction only",
                    "sex x education (primary, secondary): N <-> Y, 4 x 60 rows (9.5%)",
                    swap_interaction(
                        vote,
                        ("sex", "male", "female"),
                        ("education", "primary", "secondary"),
                        "N",
                        "Y",
                        60,
                    ),
                ),
            ],
        ),
        "problems": DataSet(
            "seed example (5 rows)",
            "problems/problems.csv",
            "problems",
            results,
            {},
            2,
            False,
            [
                Change(
                    "one value",
                    "token 2 -> C (2 rows)",
                    relabel(lambda f: f.problems.str.contains("2"), results, "C"),
                ),
                Change(
                    "two-column slice",
                    "tokens 1 and 5 -> C (2 rows; 1 changes)",
                    relabel(
                        lambda f: f.problems.str.contains("1") & f.problems.str.contains("5"),
                        results,
                        "C",
                    ),
                ),
                Change(
                    "slice under 10%",
                    "n/a with 5 rows: one row [1, 4, 5] -> A (20%)",
                    relabel(lambda f: f.problems == "[1, 4, 5]", results, "A"),
                ),
                Change(
                    "interaction only",
                    "n/a with 5 rows: one row [1, 2, 4] -> C (20%)",
                    relabel(lambda f: f.problems == "[1, 2, 4]", results, "C"),
                ),
            ],
        ),
    }


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson 95% interval of k successes in n."""
    if n == 0:
        return 0.0, 1.0
    z, p = 1.959964, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def measure(
    name: str, retrains: int, first_seed: int, false_alarm: float, cache_dir: str | None = None
) -> dict:
    """Every gate's outcome on every retrain of one data set (runs in its own process)."""
    from pytest_featureprobe.baseline import (
        Baseline,
        check_band,
        check_probability_drift,
        probe_tolerances,
    )
    from pytest_featureprobe.baseline.checks import BandLimit
    from pytest_featureprobe.baseline.churn import RowPredictions
    from pytest_featureprobe.baseline.seed_test import SeedCells, needed_seeds, slice_means
    from pytest_featureprobe.contexts import Context, distinct_rows
    from pytest_featureprobe.expectations import CheckContext
    from pytest_featureprobe.keras_runtime import start_keras_quietly
    from pytest_featureprobe.memo import ProbeSession

    start_keras_quietly()
    data = data_sets()[name]
    frame = data.frame()
    started = time.perf_counter()

    def train(table: pd.DataFrame, seed: int):
        session = ProbeSession(cache_dir)  # nothing reused in memory: memory stays flat
        return session, session.train(table, data.features, data.label, seed=seed, **data.spec)

    session, model = train(frame, 0)
    space = model.space
    training = Context.of_rows(
        "training rows", space.encode(frame), {"kind": "rows", "rows": "training"}
    )
    context = training if data.in_rows else Context.zero()
    rows, counts = distinct_rows(training.rows)
    kept = RowPredictions.of(space, rows, counts, model.predict_proba(rows))

    def swept(session, model):
        return session.sweep(model, order=data.order, context=context)

    sweep0 = swept(session, model)
    k = needed_seeds(false_alarm)
    calibration = [train(frame, s) for s in range(k)]
    sweeps = [swept(s, m) for s, m in calibration]
    band = Baseline.from_sweep(sweep0, band=sweeps[:BAND_SEEDS], band_seeds=range(BAND_SEEDS))
    seeded = Baseline.from_sweep(sweep0, rows=kept if data.in_rows else None)
    seeded.seed_cells = SeedCells.of_seeds(
        list(range(k)),
        np.stack([seeded.current(s) for s in sweeps]),
        kept if data.in_rows else None,
        [m.predict_proba(rows) for _, m in calibration],
        space,
    )
    cells = seeded.seed_cells

    def today(model, sweep) -> tuple[np.ndarray, np.ndarray]:
        means = slice_means(kept, model.predict_proba(rows), space, cells.slices)
        return seeded.current(sweep), means

    tolerance = probe_tolerances(band, FIXED, {}, {})
    gate = BandLimit(false_alarm=false_alarm)
    variants = [("none", "seed only", lambda f: f)] + [
        (c.kind, c.what, c.apply) for c in data.changes
    ]
    results, pool = [], [(cells.probes[i], cells.slice_means[i]) for i in range(k)]
    for kind, what, apply in variants:
        table = apply(frame)
        counts_ = {"seed test": 0, "mean band": 0, "fixed": 0}
        churn, found = [], []
        for seed in range(first_seed, first_seed + retrains):
            session, retrained = train(table, seed)
            sweep = swept(session, retrained)
            check = CheckContext(retrained, sweep, context, baseline=lambda: seeded)
            counts_["seed test"] += not gate.compare_in(seeded, check).passed
            counts_["mean band"] += not check_band(band, sweep).passed
            counts_["fixed"] += not check_probability_drift(band, sweep, tolerance).passed
            flipped = kept.probabilities.argmax(1) != retrained.predict_proba(rows).argmax(1)
            churn.append(float(counts[flipped].sum() / counts.sum()))
            found.append(today(retrained, sweep))
        if kind == "none":
            pool += found  # every seed-only model: the draws of calibration sets below
        results.append(
            {
                "kind": kind,
                "what": what,
                "failed": counts_,
                "churn": float(np.mean(churn)),
                "cells": found,
            }
        )
    for result in results:  # averaged over calibration sets drawn from the seed-only models
        own = result["kind"] == "none"
        result["drawn"] = drawn_rate(cells, pool, result.pop("cells"), k, false_alarm, own)
    return {
        "name": data.name,
        "retrains": retrains,
        "k": k,
        "results": results,
        "seconds": time.perf_counter() - started,
    }


def drawn_rate(cells, pool, tests, k: int, false_alarm: float, own: bool) -> float:
    """The seed test's failure rate over DRAWS calibration sets per retrain, each of K models
    drawn from the seed-only pool (the K calibration seeds and the seed-only retrains; a
    seed-only retrain is never drawn against itself). The rate the method states is this
    average over calibration sets; the fixed seeds 0..K-1 are one such set."""
    from dataclasses import replace

    rng = np.random.default_rng(0)
    flagged = total = 0
    for number, (probes, means) in enumerate(tests):
        others = [i for i in range(len(pool)) if not (own and i == k + number)]
        for _ in range(DRAWS):
            chosen = rng.choice(others, size=k, replace=False)
            drawn = replace(
                cells,
                probes=np.stack([pool[i][0] for i in chosen]),
                slice_means=np.stack([pool[i][1] for i in chosen]),
            )
            flagged += drawn.test(probes, means).p_value <= false_alarm
            total += 1
    return flagged / total


def print_table(measured: list[dict], retrains: int) -> None:
    gates = ("seed test", "mean band", "fixed")
    print(
        "| data set | change | rows flipped | seed test (false_alarm 0.05), seeds 0-18 "
        f"| seed test, {DRAWS} drawn calibration sets | mean band | fixed \\|dp\\| <= 0.1 |"
    )
    print("|---|---|---|---|---|---|---|")
    for data in measured:
        for result in data["results"]:
            cells = []
            for gate in gates:
                failed = result["failed"][gate]
                low, high = wilson(failed, retrains)
                cells.append(f"{failed}/{retrains} ({low:.0%}-{high:.0%})")
            cells.insert(1, f"{result['drawn']:.1%}")
            label = (
                "none (seed only): false alarms"
                if result["kind"] == "none"
                else f"{result['kind']}: {result['what']}"
            )
            print(
                f"| {data['name']} | {label} | {result['churn']:.1%} | " + " | ".join(cells) + " |"
            )
    for data in measured:
        print(f"# {data['name']}: K = {data['k']} calibration seeds, {data['seconds']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retrains", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=2000)
    parser.add_argument("--false-alarm", type=float, default=0.05)
    parser.add_argument("--data-sets", default="penguins,chile,problems")
    parser.add_argument("--jobs", type=int, default=2, help="data sets measured at once")
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    parser.add_argument("--cache-dir", help="model cache (a rerun trains nothing it holds)")
    args = parser.parse_args()
    names = args.data_sets.split(",")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        run = functools.partial(
            measure,
            retrains=args.retrains,
            first_seed=args.first_seed,
            false_alarm=args.false_alarm,
            cache_dir=args.cache_dir,
        )
        measured = list(pool.map(run, names))
    print(
        f"{args.retrains} retrains per row, seeds {args.first_seed}.."
        f"{args.first_seed + args.retrains - 1}\n"
    )
    print_table(measured, args.retrains)
    if args.json:
        Path(args.json).write_text(json.dumps(measured, indent=1))


if __name__ == "__main__":
    main()
