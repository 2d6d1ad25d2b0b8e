"""How the seed example reads across training seeds: the figures README quotes.

Trains the default spec (Dense 32-32, Adam 0.01, 300 epochs) with seeds 0..N-1 on problems.csv and
prints each seed's predicted class for the zero probe and each feature alone, then how often each
probe reads A. Run: python examples/problems/seed_reading.py [--seeds 12] [--hidden 32 32]
"""

import argparse
from pathlib import Path

from pytest_featureprobe.memo import ProbeSession

HERE = Path(__file__).parent


def main(seeds: int, hidden: list[int]) -> None:
    session = ProbeSession()
    readings = []
    for seed in range(seeds):
        model = session.train(
            HERE / "problems.csv", "problems", "results", seed=seed, hidden=hidden
        )
        table = session.sweep(model, order=1).table
        readings.append(table["predicted"])
        print(f"seed {seed:2d}: " + "  ".join(f"{p}->{c}" for p, c in table["predicted"].items()))
    print(f"\nprobes reading A, out of {seeds} seeds:")
    for probe in readings[0].index:
        count = sum(r[probe] == "A" for r in readings)
        print(f"  {probe:>4}: {count}/{seeds}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 32])
    arguments = parser.parse_args()
    main(arguments.seeds, arguments.hidden)
