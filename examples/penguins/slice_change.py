"""A change in one slice of the penguins, caught by the churn gate: README's "Churn" output.

In a temporary folder: writes an expectation file for the penguins model with a churn gate on its
training rows, writes the baseline (``pytest --featureprobe-update``), relabels the Adelie males
on Dream as Chinstrap (28 of the 344 penguins), retrains, and prints what ``drift-churn`` says.
Run: python examples/penguins/slice_change.py
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
SPEC = """\
featureprobe: 1
model:
  train:
    data: penguins.csv
    features:
      categorical: [island, sex, bill_length, bill_depth, flipper_length, body_mass]
    label: species
    hidden: [32, 32]
    epochs: 30
    seed: 0
  context: training
expect:
  - alone: island=Torgersen
    predicts: Adelie
drift:
  max_churn: 0.02
  slice_churn: {max: 0.3, min_rows: 20}
"""


def pytest(folder: Path, *args: str) -> str:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    return done.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        shutil.copy(HERE / "penguins.csv", folder / "penguins.csv")
        (folder / "featureprobe_slice.yaml").write_text(SPEC)
        pytest(folder, "--featureprobe-update")
        data = pd.read_csv(folder / "penguins.csv")
        moved = (data.island == "Dream") & (data.sex == "male") & (data.species == "Adelie")
        data.loc[moved, "species"] = "Chinstrap"
        data.to_csv(folder / "penguins.csv", index=False)
        print(f"relabelled {int(moved.sum())} Adelie males on Dream as Chinstrap; retrained:")
        report = pytest(folder).split("expectation 'drift-churn' failed")[1]
        for line in report.splitlines()[4:]:
            if line.startswith(("=", "_")):
                break
            print(line.removeprefix("  "))


if __name__ == "__main__":
    main()
