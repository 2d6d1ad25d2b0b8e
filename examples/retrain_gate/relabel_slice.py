"""Step 3 of the walk-through: relabel the male penguins of Dream island as Gentoo in this
folder's penguins.csv (62 of the 344 rows; restore with git checkout penguins.csv).
Run: python examples/retrain_gate/relabel_slice.py"""

from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "penguins.csv"

data = pd.read_csv(DATA, dtype=str)
slice_ = (data.island == "Dream") & (data.sex == "male")
data.loc[slice_, "species"] = "Gentoo"
data.to_csv(DATA, index=False)
print(f"relabelled {int(slice_.sum())} rows (island=Dream, sex=male) as Gentoo in {DATA.name}")
