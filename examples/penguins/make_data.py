"""Make penguins.csv from the Palmer penguins data that the `palmerpenguins` package ships.

Source: Gorman, Williams and Fraser (2014), Palmer Station LTER; data CC0, packaged on PyPI as
`palmerpenguins` (read from the installed package, offline). This script is how the committed
penguins.csv was made; the tests check that the committed file still matches it.

The measurements become categorical bands at fixed cut points, so every input is a `column=value`
feature that a probe can switch on alone:

    bill_length     short < 42 mm <= long
    bill_depth      shallow < 16.5 mm <= deep
    flipper_length  short < 195 mm <= medium < 205 mm <= long
    body_mass       light < 4400 g <= heavy

Missing measurements stay empty and activate no feature. Run: python make_data.py
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

BANDS = {
    "bill_length_mm": ("bill_length", [42.0], ["short", "long"]),
    "bill_depth_mm": ("bill_depth", [16.5], ["shallow", "deep"]),
    "flipper_length_mm": ("flipper_length", [195.0, 205.0], ["short", "medium", "long"]),
    "body_mass_g": ("body_mass", [4400.0], ["light", "heavy"]),
}


def banded_penguins() -> pd.DataFrame:
    source = resources.files("palmerpenguins").joinpath("data/penguins.csv")
    with resources.as_file(source) as path:
        raw = pd.read_csv(path)
    out = raw[["species", "island", "sex"]].copy()
    for column, (name, cuts, labels) in BANDS.items():
        edges = [-float("inf"), *cuts, float("inf")]
        out[name] = pd.cut(raw[column], bins=edges, labels=labels, right=False).astype(object)
    return out


if __name__ == "__main__":
    target = Path(__file__).with_name("penguins.csv")
    banded_penguins().to_csv(target, index=False)
    print(f"wrote {target}")
