"""Zero-vector against in-context attribution on penguins: the table README quotes ("Contexts").

Trains the penguins example's model (the spec of featureprobe_penguins.yaml) and prints, for each
feature, its attribution toward a class read two ways: dP against the zero vector (the seed
method: the value alone, every other column empty, an input no penguin can be) and the mean dP
when the value is set on each training row (its column's value replaced). Each with its rank.
Run: python examples/penguins/context_ranking.py [--class Adelie]
"""

import argparse
from pathlib import Path

from pytest_featureprobe.context_sweep import run_context_sweep
from pytest_featureprobe.contexts import Context
from pytest_featureprobe.memo import ProbeSession
from pytest_featureprobe.runner import declared_model
from pytest_featureprobe.spec import load_document

HERE = Path(__file__).parent


def main(cls: str) -> None:
    document = load_document(HERE / "featureprobe_penguins.yaml")
    session = ProbeSession()
    model = declared_model(session, document.model, HERE)
    rows = session.rows(model, document.model.values["data"], HERE)
    zero = run_context_sweep(model, Context.zero()).table
    real = run_context_sweep(model, Context.of_rows("training", rows, {"kind": "training"})).table
    column = f"dP({cls})"
    singles = zero.index[zero["order"] == 1]
    zero_rank = zero.loc[singles, column].rank(ascending=False, method="first").astype(int)
    real_rank = real.loc[singles, column].rank(ascending=False, method="first").astype(int)
    print(f"| feature | zero-vector dP({cls}), rank | mean dP on the training rows, rank |")
    print("|---|---|---|")
    for name in sorted(singles, key=lambda n: real_rank[n]):
        print(
            f"| {name} | {zero.loc[name, column]:+.3f} ({zero_rank[name]}) "
            f"| {real.loc[name, column]:+.3f} ({real_rank[name]}) |"
        )
    print(f"\n{len(rows)} training rows; {model.description}, fingerprint {model.fingerprint}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class", dest="cls", default="Adelie")
    main(parser.parse_args().cls)
