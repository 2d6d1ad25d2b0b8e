"""Property tests: random expectation documents and random feature vocabularies.

1. Random expectation documents, built close to real ones (the real keys; fruit features and
   classes and unknown names; well- and ill-typed values, long ones among them; clean sections
   that load and noisy ones that mostly do not), dumped as YAML, sometimes with a value's own
   explicit tag written on it (``!!int 3``, ``!!seq [red]``: it loads the same) or with a value
   replaced by one the dumper never writes (a tag that cannot build it,
   ``!!python/object/apply``, a decimal past Python's 4,300-digit limit, a control character, a
   long value, nesting deeper than the parser goes), and, when noisy, sometimes mutated as text
   (a line repeated or lost, YAML characters typed in): ``spec.load_document`` returns a
   Document or raises a ``FeatureProbeError`` with its path and a one-line message under 400
   characters.
   Each well-formed item whose names the fruit model knows is then checked, as collect.py would,
   against a real sweep of the plain-numpy fruit model of ``tests/conftest.py`` (whatever model
   the document declares): ``Outcome`` or ``FeatureProbeError``, nothing else. Drift items get a
   ``Baseline.from_sweep`` of the fruit model or of a changed one, with or without a seed band.
   The test then asserts that the examples reached every layer (file and item refusals, each
   expectation kind, passing and failing checks), so a starved generator fails too.
2. Random text and bytes as an expectation file (fragments of YAML, explicit tags among them,
   control characters, huge decimals): a Document or a one-line ``SpecError``, nothing else.
   Beside it, the escapes these properties once found in spec.py (values a tag cannot build,
   huge decimals, characters YAML's reader refuses, nesting too deep, schema messages quoting a
   whole long value), pinned as plain tests: a one-line SpecError at the value's line.
3. ``FeatureSpace`` on random vocabularies: encode then decode gives each row's features back,
   encoding is position-free, the documented order holds, ``to_dict``/``to_json`` round-trip, and
   the names the space refuses by design are refused with a ``DataError`` (and only those).
4. Files read from disk: data files (CSV, JSON, JSON lines) holding numbers that are not finite,
   lone surrogates and UTF-16 or UTF-32 text; baselines with one number replaced (NaN, Infinity,
   1e400, out of range, 5,000 digits) or a lone surrogate in a name; sidecars with such class
   names; and a FIFO, a folder or a link loop in the place of each (and of an expectation file):
   the value, holding nothing that cannot be written again and only probabilities where there
   should be, or the reader's one-line error, never a hang.

Escapes these properties found and that were fixed stay as plain tests beside them (huge hex
integers, messages quoting long or multi-line names: one short line).

Reproducibility: every test uses ``derandomize=True``: the examples come from a hash of the test,
so CI runs the same bounded set every time and a red build reproduces locally with the same
command. ``database=None``: no example database is read or written (Hypothesis still keeps a few
caches under ``.hypothesis/``, which git ignores). A fixed set finds nothing new by itself, so to
explore, run with ``FEATUREPROBE_FUZZ_SCALE=20``: the example counts are multiplied by it and
the examples are random (a failure prints how to reproduce it). Keep what that finds as
``@example`` regressions.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from pytest_featureprobe import spec
from pytest_featureprobe.baseline import Baseline, DriftCheck, check_compatible
from pytest_featureprobe.context_sweep import run_context_sweep
from pytest_featureprobe.contexts import Context
from pytest_featureprobe.errors import DataError, FeatureProbeError, SpecError
from pytest_featureprobe.expectations import CheckContext, Outcome, check_names
from pytest_featureprobe.features import FeatureSpace, feature_name
from pytest_featureprobe.models import from_callable
from pytest_featureprobe.sweep import run_sweep

SCALE = int(os.environ.get("FEATUREPROBE_FUZZ_SCALE", "1") or 1)


def fuzz(max_examples: int, **options: Any) -> settings:
    """Bounded, reproducible settings (see the module docstring); random when exploring."""
    return settings(
        max_examples=max_examples * SCALE,
        derandomize=SCALE == 1,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
        **options,
    )


MAX_MESSAGE = 400


def assert_one_line(error: FeatureProbeError) -> None:
    """One line, and short as the user sees it (the path relative to the file's folder)."""
    text = str(error)
    assert "\n" not in text and "\r" not in text, f"multi-line error: {text!r}"
    shown = error.describe(relative_to=Path(error.path).parent) if error.path else text
    assert len(shown) < MAX_MESSAGE, f"error of {len(shown)} characters: {shown[:200]!r}..."


# --- the fruit model (as CONFTEST in tests/conftest.py) ------------------------------------------

FEATURES = ("red", "green", "round", "long", "sweet", "sour", "shiny")
CLASSES = ("apple", "banana", "lime")
BASE = np.array([6.0, 3.0, 1.0])
WEIGHTS = np.array(
    [[10, 0, 0], [0, 1, 9], [8, 0, 2], [0, 10, 0], [1, 9, 0], [2, 0, 8], [6, 3, 1]], dtype=float
)
SPACE = FeatureSpace(FEATURES, token_column="fruit")


def fruit_function(weights: np.ndarray):
    def fruit(x):
        counts = BASE + np.asarray(x, dtype=float) @ weights
        return counts / counts.sum(axis=1, keepdims=True)

    return fruit


# Variant 0 is the fruit model; the others retrain it "with another seed" (baselines and bands).
VARIANTS = [WEIGHTS, WEIGHTS[::-1].copy(), WEIGHTS + np.arange(7)[:, None], WEIGHTS * 0.3]
MODELS = [from_callable(fruit_function(w), SPACE, CLASSES) for w in VARIANTS]
MODEL = MODELS[0]

# Rows for ``on:``: round, green, long+sweet, red, sour, nothing (FRUITS_CSV of conftest.py).
FRUIT_ROWS = SPACE.encode_sets([["round"], ["green"], ["long", "sweet"], ["red"], ["sour"], []])
ON_FILES = {
    "training": FRUIT_ROWS,
    "fruits.csv": FRUIT_ROWS,
    "empty.csv": np.zeros((0, len(SPACE)), dtype=np.float32),
    "full.csv": np.ones((2, len(SPACE)), dtype=np.float32),  # no row lacks any feature
}


def rows(on: str) -> np.ndarray:
    if on in ON_FILES:
        return ON_FILES[on]
    raise DataError(f"data file not found: {on} (paths are relative to this file)", key="on")


@cache
def sweep_of(variant: int, order: int, probes: tuple[tuple[str, ...], ...]):
    return run_sweep(MODELS[variant], order=order, probes=probes)


# --- strategies: expectation documents ------------------------------------------------------------

UNKNOWN_NAMES = ("blue", "Red", "reds", "zero", "red+green", "", " ", "4", "apple", "sweet ")
OTHER_CLASSES = ("pear", "Apple", "limes", "red", "")


def weighted(*pairs: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, with integer weights. (``one_of`` flattens nested ``one_of``s and
    does not pick its branches evenly, so repeating a branch does not weight it.)"""
    total = sum(weight for weight, _ in pairs)

    @st.composite
    def pick(draw) -> Any:
        n = draw(st.integers(0, total - 1))
        for weight, strategy in pairs:
            if n < weight:
                return draw(strategy)
            n -= weight
        raise AssertionError("unreachable")

    return pick()


numbers = st.one_of(
    st.integers(-3, 12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 0.0, 1.0, 0.5, -0.0, 1e308, 1e-320, 2**63, 10**30, -1]),
)
# Long values (100 to 900 characters): error messages that quote them must still be short.
long_texts = st.tuples(st.text(min_size=1, max_size=3), st.integers(100, 300)).map(
    lambda t: t[0] * t[1]
)
short_scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=10))
scalars = weighted((12, short_scalars), (1, long_texts))
# Mapping keys: mostly short, sometimes long or with line breaks (messages quote keys and must
# still be one short line).
mapping_keys = weighted(
    (12, st.one_of(st.text(max_size=6), st.integers(0, 9))),
    (1, long_texts),
    (1, st.sampled_from(["a\nb", "x\r\ny", "\u2028"])),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(mapping_keys, inner, max_size=3),
    ),
    max_leaves=6,
)
feature = weighted(
    (4, st.sampled_from(FEATURES)), (1, st.sampled_from(UNKNOWN_NAMES)), (1, scalars)
)
features = weighted(
    (2, feature), (3, st.lists(feature, min_size=1, max_size=4)), (1, st.just([])), (1, junk)
)
cls = weighted((5, st.sampled_from(CLASSES)), (1, st.sampled_from(OTHER_CLASSES)), (1, scalars))
prob = weighted(
    (3, st.floats(0, 1)), (2, st.sampled_from([0, 1, 0.0, 0.05, 0.3, 0.5, 0.9, 1.0])), (1, numbers)
)
small_int = weighted((4, st.integers(0, 5)), (1, numbers), (1, junk))
probe_name = st.one_of(
    st.sampled_from(["zero", "red", "red+green", "green+red", "round+long", "long+long"]),
    st.sampled_from(UNKNOWN_NAMES),
    scalars,
)


def good_or_junk(strategy: st.SearchStrategy, good: int = 5) -> st.SearchStrategy:
    return weighted((good, strategy), (1, junk))


SUBJECT_VALUES = {
    "zero": weighted((6, st.just(True)), (1, scalars)),
    "alone": features,
    "together": weighted(
        (3, st.lists(feature, min_size=1, max_size=5)),
        (2, st.lists(st.lists(feature, min_size=1, max_size=3), min_size=1, max_size=3)),
        (1, junk),
    ),
    "every": good_or_junk(
        st.fixed_dictionaries(
            {},
            optional={
                "order": weighted((5, st.integers(1, 4)), (1, small_int)),
                "containing": features,
                "except": features,
            },
        )
    ),
    "biased_toward": cls,
    "adding": feature,
    "top": weighted((5, st.integers(1, 8)), (1, small_int)),
}
CHECK_VALUES = {
    "predicts": cls,
    "min_prob": prob,
    "min_margin": prob,
    "probability": good_or_junk(
        st.fixed_dictionaries(
            {"class": cls},
            optional={"min": prob, "max": prob, "maximum": prob},
        )
        | st.fixed_dictionaries({}, optional={"min": prob, "max": prob})
    ),
    "mostly": prob,
    "raises": cls,
    "lowers": cls,
    "by": prob,
    "tolerance": prob,
    "moves_at_most": prob,
    "on": weighted(
        (5, st.sampled_from(["zero", "training", *ON_FILES, "missing.csv", "a/../b.csv"])),
        (1, scalars),
    ),
    "min_fraction": prob,
    "toward": cls,
    "are": features,
    "include": features,
}
# The checks each subject takes (the others are drawn rarely, as mistakes).
SUBJECT_CHECKS = {
    "zero": ("predicts", "min_prob", "min_margin", "probability", "mostly"),
    "alone": ("predicts", "min_prob", "min_margin", "probability", "mostly"),
    "together": ("predicts", "min_prob", "min_margin", "probability", "mostly"),
    "every": ("predicts", "min_prob", "min_margin", "probability", "mostly"),
    "biased_toward": ("min_margin",),
    "adding": ("by", "tolerance", "on", "min_fraction"),
    "top": ("toward",),
}
ADDING_OPTIONS = {
    False: [
        [],
        ["by"],
        ["tolerance"],
        ["on"],
        ["on", "min_fraction"],
        ["by", "on", "min_fraction"],
    ],
    True: [[], ["on"], ["on", "min_fraction"]],  # moves_at_most
}
MARK = st.one_of(
    st.sampled_from(["slow", "xfail", "skip", "parametrize", "usefixtures", "fp_custom"]),
    st.dictionaries(
        st.sampled_from(["xfail", "skipif", "parametrize", "slow"]),
        st.one_of(scalars, st.dictionaries(st.sampled_from(["reason", "strict"]), scalars)),
        min_size=1,
        max_size=2,
    ),
    scalars,
)


# Clean values: well-typed and in range, names from the fruit vocabulary with a few unknown ones.
clean_feature = weighted((8, st.sampled_from(FEATURES)), (1, st.sampled_from(UNKNOWN_NAMES)))
clean_features = st.one_of(clean_feature, st.lists(clean_feature, min_size=1, max_size=4))
clean_cls = weighted((8, st.sampled_from(CLASSES)), (1, st.sampled_from(OTHER_CLASSES)))
clean_prob = st.one_of(st.floats(0, 1), st.sampled_from([0, 1, 0.05, 0.3, 0.5, 0.9]))
CLEAN_SUBJECTS = {
    "zero": st.just(True),
    "alone": clean_features,
    "together": st.one_of(
        st.lists(clean_feature, min_size=1, max_size=5),
        st.lists(st.lists(clean_feature, min_size=1, max_size=3), min_size=1, max_size=3),
    ),
    "every": st.fixed_dictionaries(
        {},
        optional={
            "order": st.integers(1, 4),
            "containing": clean_features,
            "except": clean_features,
        },
    ),
    "biased_toward": clean_cls,
    "adding": clean_feature,
    "top": st.integers(1, 8),
}
CLEAN_CHECKS = {
    **{key: clean_prob for key in CHECK_VALUES},
    "predicts": clean_cls,
    "probability": st.fixed_dictionaries(
        {"class": clean_cls}, optional={"min": clean_prob, "max": clean_prob}
    ),
    "mostly": st.floats(0.01, 1),
    "min_fraction": st.floats(0.01, 1),
    "raises": clean_cls,
    "lowers": clean_cls,
    "on": st.sampled_from(["zero", "training", *ON_FILES, "missing.csv"]),
    "toward": clean_cls,
    "are": clean_features,
    "include": clean_features,
}


# The check that makes an entry an expectation, by subject (now and then left out or doubled).
MAIN_CHECKS = {
    "adding": weighted(
        (8, st.sampled_from(["raises", "lowers", "moves_at_most"])),
        (1, st.sampled_from(["", "raises+lowers"])),
    ),
    "top": weighted(
        (8, st.sampled_from(["toward+are", "toward+include"])),
        (1, st.sampled_from(["toward", "toward+are+include", "are"])),
    ),
    "biased_toward": st.sampled_from(["", "min_margin"]),
    "probe": weighted(
        (8, st.sampled_from(["predicts", "predicts", "probability", "min_margin"])),
        (1, st.just("")),
    ),
}
EXTRA_CHECKS = {
    subject: st.lists(st.sampled_from(keys), max_size=3, unique=True)
    for subject, keys in SUBJECT_CHECKS.items()
}
STRAY_KEYS = st.sampled_from([*CHECK_VALUES, "predict", "expects", "Alone"])
NAMES = {
    False: st.one_of(st.sampled_from(["same", "a[1]", "x"]), st.text(min_size=1, max_size=12)),
    True: scalars,
}
MARKS = weighted((4, st.lists(MARK, max_size=3)), (1, junk))


@st.composite
def entries(draw) -> Any:
    """An entry under ``expect:``. Clean ones (three in four) hold well-typed values that mostly
    make an expectation; noisy ones add junk values, second subjects and stray keys.
    (Strategies are built once, above: building them in a draw costs more than the draw.)"""
    noisy = draw(st.integers(0, 3)) == 0
    if noisy and draw(st.integers(0, 9)) == 0:
        return draw(junk)
    subjects, checks = (SUBJECT_VALUES, CHECK_VALUES) if noisy else (CLEAN_SUBJECTS, CLEAN_CHECKS)
    subject = draw(st.sampled_from(list(subjects)))
    entry: dict[Any, Any] = {subject: draw(subjects[subject])}
    if noisy and draw(st.integers(0, 4)) == 0:  # a second subject
        other = draw(st.sampled_from(list(subjects)))
        entry[other] = draw(subjects[other])
    main = draw(MAIN_CHECKS.get(subject, MAIN_CHECKS["probe"]))
    keys = [k for k in main.split("+") if k]
    if noisy or subject != "adding":
        keys += draw(EXTRA_CHECKS[subject])
    else:  # the combinations that go together (by or tolerance; min_fraction with on)
        keys += draw(st.sampled_from(ADDING_OPTIONS["moves_at_most" in keys]))
    if noisy and draw(st.integers(0, 2)) == 0:  # a check of another kind, or a misspelt one
        keys.append(draw(STRAY_KEYS))
    for key in dict.fromkeys(keys):
        entry[key] = draw(checks.get(key, junk))
    if draw(st.integers(0, 3)) == 0:
        entry["name"] = draw(NAMES[noisy])
    if draw(st.integers(0, 5)) == 0:
        entry["marks"] = draw(MARKS)
    return entry


def sections(noisy: bool) -> dict[str, Any]:
    """Strategies for the model, sweep and drift sections. Clean ones hold only well-typed values
    (so the file as a whole loads and its expectations get checked); noisy ones mix in junk."""

    def pick(good: st.SearchStrategy, bad: st.SearchStrategy = junk, odds: int = 4):
        return weighted((odds, good), (1, bad)) if noisy else good

    train = st.fixed_dictionaries(
        {
            "data": pick(st.sampled_from(["fruits.csv", "d.json"])),
            "features": pick(
                st.one_of(
                    st.just("fruit"),
                    st.fixed_dictionaries(
                        {"tokens": st.just("fruit")},
                        optional={"categorical": st.lists(st.text(max_size=4), min_size=1)},
                    ),
                ),
            ),
            "label": pick(st.just("kind")),
        },
        optional={
            "hidden": pick(st.lists(st.integers(1, 64), min_size=1, max_size=3)),
            "activation": pick(st.sampled_from(["relu", "tanh", "silu"]), st.just("linear")),
            "epochs": pick(st.integers(1, 300), small_int),
            "steps": pick(st.integers(1, 300), small_int),
            "learning_rate": pick(st.floats(0.001, 1), numbers),
            "batch_size": pick(st.integers(1, 64), small_int),
            "seed": pick(st.integers(0, 2**31 - 1), small_int),
            **({"optimizer": junk} if noisy else {}),
        },
    )
    kinds = {
        "fixture": pick(st.just("fruit_model"), scalars),
        "load": pick(st.sampled_from(["x.keras", "m/model.keras"]), scalars),
        "train": pick(train),
    }
    declared = {
        "features": pick(
            st.one_of(
                st.lists(st.sampled_from(FEATURES), min_size=1, max_size=7, unique=True),
                st.just("space.json"),
            ),
            features,
        ),
        "classes": pick(st.just(list(CLASSES)), st.lists(cls, max_size=4)),
        "outputs": pick(st.sampled_from(["probabilities", "logits"]), st.just("scores")),
    }
    if noisy:
        declared |= {"sha256": st.one_of(st.just("ab" * 32), st.text(max_size=8)), "extra": junk}

    several_kinds = st.lists(st.sampled_from(list(kinds)), max_size=3, unique=True)
    declared_keys = st.lists(st.sampled_from(list(declared)), max_size=2, unique=True)

    @st.composite
    def model(draw) -> Any:
        if noisy and draw(st.integers(0, 9)) == 0:
            return draw(junk)
        if noisy and draw(st.integers(0, 5)) == 0:
            names = draw(several_kinds)
        else:
            names = [draw(st.sampled_from(list(kinds)))]
        section = {kind: draw(kinds[kind]) for kind in names}
        if noisy or "train" not in names:  # clean: features and classes go with load, fixture
            for key in draw(declared_keys):
                section[key] = draw(declared[key])
        return section

    checks = {
        "max_flips": pick(st.integers(0, 3), small_int),
        "allow_flips": pick(
            st.lists(st.one_of(probe_name, st.lists(feature, min_size=1, max_size=3)), max_size=4)
        ),
        "max_abs_delta": pick(st.floats(0, 1), numbers),
        "per_order": pick(
            st.dictionaries(st.one_of(st.integers(0, 4), st.sampled_from(["1", "2", "01"])), prob),
            st.dictionaries(st.sampled_from(["x", "-1", "1.5", ""]), prob, min_size=1),
        ),
        "per_probe": pick(st.dictionaries(probe_name.map(str), st.floats(0, 1), max_size=3)),
        "rank": pick(
            st.fixed_dictionaries(
                {},
                optional={
                    "method": pick(st.sampled_from(["spearman", "kendall"]), st.just("pearson")),
                    "min": pick(st.floats(-1, 1), numbers),
                    "top_k": pick(st.integers(1, 9), small_int),
                    "min_overlap": pick(st.integers(0, 9), small_int),
                },
            )
        ),
        "interaction": pick(st.floats(0, 1), numbers),
        "band": pick(
            st.one_of(
                st.just(True),
                st.fixed_dictionaries(
                    {},
                    optional={
                        "max_score": pick(st.floats(0.01, 50), numbers),
                        "floor": pick(st.floats(0.01, 1), numbers),
                        "cap": pick(st.floats(0.5, 20), numbers),
                        "factor": pick(st.floats(0.1, 5), numbers),
                    },
                ),
            )
        ),
    }
    settings_keys = {
        "baseline": pick(st.sampled_from(["b.json", "base/line.json"]), scalars),
        "order": pick(st.integers(0, 3), small_int),
        "calibrate": pick(
            st.fixed_dictionaries(
                {},
                optional={
                    "seeds": st.one_of(
                        st.integers(2, 100), st.lists(st.integers(0, 9), min_size=2, max_size=4)
                    )
                },
            ),
            st.fixed_dictionaries({"seeds": st.one_of(st.integers(-1, 120), junk)}),
        ),
    }
    if noisy:
        settings_keys["tolerance"] = junk

    drift_keys = {**checks, **settings_keys}
    check_keys = st.lists(
        st.sampled_from(list(checks)), min_size=0 if noisy else 1, max_size=3, unique=True
    )
    setting_keys = st.lists(st.sampled_from(list(settings_keys)), max_size=2, unique=True)

    @st.composite
    def drift(draw) -> Any:
        if noisy and draw(st.integers(0, 9)) == 0:
            return draw(junk)
        chosen = draw(check_keys) + draw(setting_keys)
        if not noisy and "calibrate" in chosen and "band" not in chosen:
            chosen.append("band")  # calibrate without band is refused: a mistake for noisy ones
        return {key: draw(drift_keys[key]) for key in chosen}

    return {
        "model": model(),
        "drift": drift(),
        "sweep": pick(
            st.fixed_dictionaries({}, optional={"order": pick(st.integers(1, 4), small_int)})
        ),
        "featureprobe": pick(st.just(1), scalars),
        "expect": pick(st.lists(entries(), min_size=1, max_size=5), junk, odds=12),
    }


CLEAN, NOISY = sections(noisy=False), sections(noisy=True)


@st.composite
def documents(draw) -> Any:
    """A document close to a real expectation file: clean sections (well-typed, so the file loads
    and its expectations are checked; their entries still hold mistakes) or noisy ones; now and
    then a required section missing, an unknown one, or no mapping at all."""
    noisy = draw(st.integers(0, 2)) == 0
    if noisy and draw(st.integers(0, 19)) == 0:
        return draw(junk), noisy
    part = NOISY if noisy else CLEAN
    document: dict[Any, Any] = {}
    if draw(st.integers(0, 4)) == 0:
        document["featureprobe"] = draw(part["featureprobe"])
    if not noisy or draw(st.integers(0, 14)) != 0:
        document["model"] = draw(part["model"])
    if not noisy or draw(st.integers(0, 14)) != 0:
        document["expect"] = draw(part["expect"])
    if draw(st.integers(0, 4)) == 0:
        document["sweep"] = draw(part["sweep"])
    if draw(st.integers(0, 2)) == 0:
        document["drift"] = draw(part["drift"])
    if noisy and draw(st.integers(0, 9)) == 0:
        document[draw(st.sampled_from(["expects", "models", "Model", 1, None]))] = draw(junk)
    return document, noisy


TYPOS = st.text(alphabet=":-[]{}&*!|>'\"#? \t\n,%@`<", max_size=4)

# Values typed by hand where the dumper never writes them: explicit tags (on values they fit and
# on values they cannot build, a Python tag among them), decimals past Python's 4,300-digit limit
# for int(), characters YAML's reader refuses, long values, nesting deeper than the parser goes.
TAGS = ["!!int", "!!float", "!!bool", "!!timestamp", "!!map", "!!seq", "!!str", "!!null"]
TAGGED_VALUES = ["three", "0x", "", "abc", "x", "12", "-0.5", ".inf", "true", "2001-12-14"]
TAGGED_VALUES += ["2001-12-14 x", "[a]", "[red, green]", "{a: 1}", "{order: 2}", "a", "~"]
BIG = "1" * 4301
ODD_VALUES = weighted(
    (1, st.sampled_from(["0x" + "f" * 3600, "0o" + "7" * 4800])),
    (3, st.tuples(st.sampled_from(TAGS), st.sampled_from(TAGGED_VALUES)).map(" ".join)),
    (1, st.just("!!python/object/apply:os.system [echo]")),
    (2, st.sampled_from([BIG, "-" + BIG, BIG + ".5", "[" + BIG + "]", f"!!int {BIG}"])),
    (2, st.sampled_from(["red\x07", "\x1f", "a\x00b", "\x7f", "\x9b", "\ufffe"])),
    (2, long_texts.map(lambda s: json.dumps(s, ensure_ascii=False))),
    (1, st.sampled_from(["[" + ", ".join(map(str, range(150))) + "]", "[" + "1, " * 150 + "1]"])),
    # (Deep flow sequences cost the scanner quadratic time: "[" * 3000 takes 0.6 s.)
    (1, st.sampled_from(["[" * 1000, "- " * 3000, "{a: " * 3000 + "1" + "}" * 3000])),
)
BLOCK_VALUE = re.compile(r"(?m)^(?:- |\s)*[\w'\"][^:\n]*: (?=[^\s&*!|>])(.*)$")
YAML_12 = {  # the tag of a plain scalar, YAML 1.2 core schema (as spec.py reads it)
    "!!bool": r"true|True|TRUE|false|False|FALSE",
    "!!int": r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+",
    "!!float": r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)"
    r"|\.(nan|NaN|NAN)",
    "!!null": r"~|null|Null|NULL",
}


def own_tag(value: str) -> str:
    """The tag a value the dumper wrote already has: tagging it changes nothing."""
    if value[0] in "[{":
        return "!!seq" if value[0] == "[" else "!!map"
    for tag, pattern in YAML_12.items():
        if re.fullmatch(pattern, value):
            return tag
    return "!!str"


@st.composite
def yaml_texts(draw) -> str:
    """A document dumped as YAML, in block or flow style, sometimes with its own tag written on
    one of its values (it loads the same), or with a value replaced by an odd one; a noisy one
    sometimes then mutated as text (a line repeated or lost, a few YAML characters typed in)."""
    document, noisy = draw(documents())
    text = yaml.safe_dump(
        document,
        sort_keys=False,
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([False, None])),
    )
    values = list(BLOCK_VALUE.finditer(text))
    change = draw(st.integers(0, 19)) if values else -1
    if 0 <= change < 5:  # an explicit tag, the value's own
        value = draw(st.sampled_from(values))
        tagged = text[: value.start(1)] + own_tag(value[1]) + " " + text[value.start(1) :]
        try:
            if repr(yaml.safe_load(tagged)) == repr(yaml.safe_load(text)):
                text = tagged
        except yaml.YAMLError:
            pass  # the pattern took a quoted key apart: left untagged
    elif change in (5, 6):  # a value replaced by an odd one
        value = draw(st.sampled_from(values))
        return text[: value.start(1)] + draw(ODD_VALUES) + text[value.end(1) :]
    if not noisy:
        return text
    mutation = draw(st.integers(0, 5))
    lines = text.splitlines(keepends=True)
    if mutation == 0 and lines:  # a line written twice: duplicate keys, repeated items
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(i, lines[i])
    elif mutation == 1 and lines:  # a line lost
        del lines[draw(st.integers(0, len(lines) - 1))]
    elif mutation == 2:  # a few characters typed somewhere
        at = draw(st.integers(0, len(text)))
        noise = draw(TYPOS)
        return text[:at] + noise + text[at:]
    return "".join(lines)


# --- property 1: documents, then their checks against a real sweep ------------------------------


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def load(path: Path, text: str | bytes) -> spec.Document | None:
    """load_document, which returns a Document or raises a located, one-line FeatureProbeError."""
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    try:
        return spec.load_document(path)
    except FeatureProbeError as error:
        assert error.path is not None, f"no path on {error!r}"
        assert Path(error.path) == path
        assert_one_line(error)
        return None


def check_items(document: spec.Document, data: st.DataObject, seen: Counter) -> None:
    """Check each well-formed expectation whose names the fruit model knows, as collect.py
    would: ``Outcome`` or ``FeatureProbeError``, nothing else."""
    try:
        order = document.sweep_order()
        probes = tuple(document.extra_probes(SPACE))
        sweep = sweep_of(0, order, probes)
    except FeatureProbeError as error:
        assert_one_line(error)
        seen["sweep refused"] += 1
        return
    baseline = None
    drift = document.drift
    if drift is not None:
        variant, band = 0, False
        if data is not None:  # (None in explicit examples)
            variant = data.draw(st.integers(0, len(VARIANTS) - 1), label="baseline variant")
            band = data.draw(st.booleans(), label="with seed band")
        max_order = drift.order if drift.order is not None else sweep.order
        baseline = Baseline.from_sweep(
            sweep_of(variant, order, probes),
            band=[sweep_of(v, order, probes) for v in range(1, len(VARIANTS))] if band else (),
            band_seeds=[1, 2, 3] if band else (),
            max_order=max_order,
        )
        check_compatible(baseline, sweep, "baseline.json", max_order)

    def context_of(item):
        """The item's context as the runner makes it: the zero vector, or the rows it names
        (an unknown file or no rows raise our error)."""
        decl = item.context
        if decl is None or decl.is_zero or decl.kind != "rows":
            return CheckContext(MODEL, sweep, None, baseline=lambda: baseline)
        context = Context.of_rows(decl.rows, rows(decl.rows), decl.definition())
        in_rows = run_context_sweep(MODEL, context, order=sweep.order, probes=probes)
        return CheckContext(MODEL, in_rows, context, baseline=lambda: baseline)

    for item in document.items:
        if item.error is not None:
            assert_one_line(item.error)
            seen["item refused"] += 1
            continue
        expectation = item.expectation
        assert expectation is not None
        problems = check_names(expectation, SPACE, CLASSES)
        if problems:
            for key, message in problems:
                assert isinstance(key, str) and "\n" not in message
            seen["unknown names"] += 1
            continue
        kind = "drift" if isinstance(expectation, DriftCheck) else "expectation"
        seen[type(expectation).__name__] += 1
        try:
            outcome = expectation.check(context_of(item))
        except FeatureProbeError as error:
            assert_one_line(error)
            seen[f"{kind} raised"] += 1
            continue
        assert isinstance(outcome, Outcome)
        assert outcome.passed in (True, False)
        assert all(isinstance(line, str) and "\n" not in line for line in outcome.lines)
        assert outcome.passed or outcome.lines, "a failed check explains itself"
        seen[f"{kind} {'passed' if outcome.passed else 'failed'}"] += 1


ON_EMPTY_ROWS = """\
model:
  fixture: fruit_model
expect:
- adding: red
  moves_at_most: 0.0
  'on': empty.csv
"""


LONG_NAME = """\
model:
  fixture: fruit_model
expect:
- zero: true
  predicts: apple
drift:
  per_probe:
    1e+308: 0.0
"""


FRUIT = "model:\n  fixture: fruit_model\nexpect:\n"
TAGGED = (
    FRUIT + "- alone: !!seq [!!str red, green]\n  predicts: !!str apple\n  min_prob: !!float 0.5\n"
    "- top: !!int 3\n  toward: apple\n  include: !!str red\n  marks: !!seq [!!str slow]\n"
)


def test_random_documents_load_and_check_or_raise_our_errors(fuzz_dir):
    """Property 1, then a check that the documents reached the checks (else it proves little)."""
    seen: Counter = Counter()
    path = fuzz_dir / "featureprobe_random.yaml"

    @fuzz(300)
    @given(text=yaml_texts(), data=st.data())
    @example(text=ON_EMPTY_ROWS, data=None).via("regression: ValueError from predict_proba")
    @example(text=ON_EMPTY_ROWS.replace("empty", "full"), data=None)
    @example(text=LONG_NAME, data=None).via("regression: a 309-digit feature name in a message")
    @example(text=TAGGED, data=None).via("explicit tags that fit their values")
    @example(text=FRUIT + "  - top: !!int three\n", data=None).via("regression: ValueError")
    @example(text=FRUIT + "  - alone: red\x07\n", data=None).via("regression: ReaderError")
    @example(text=FRUIT + "  - alone: " + "{a: " * 3000 + "\n", data=None).via("RecursionError")
    def documents_never_escape(text: str, data: st.DataObject) -> None:
        document = load(path, text)
        seen["examples"] += 1
        if document is None:
            seen["file refused"] += 1
            return
        seen["documents"] += 1
        check_items(document, data, seen)

    documents_never_escape()
    print(dict(seen))
    # The generator must reach every layer: whole-file refusals, item refusals, checks that pass
    # and fail, drift checks. With derandomize these counts are fixed; a change in the generator
    # or in the code that starves a layer fails here. (Hypothesis draws in correlated runs: over
    # random sets of 300, one expectation kind was reached from 4 to 50 times, hence its low floor.)
    assert seen["file refused"] >= seen["examples"] * 0.2
    assert seen["documents"] >= seen["examples"] * 0.3
    assert seen["item refused"] >= 50
    assert seen["expectation passed"] >= 5
    assert seen["expectation failed"] >= 20
    assert seen["drift passed"] >= 20 and seen["drift failed"] >= 3
    for kind in ("ProbeExpectation", "AddingExpectation", "RankingExpectation", "DriftCheck"):
        assert seen[kind] >= 3, kind


# --- property 2: raw text and bytes ---------------------------------------------------------------

FRAGMENTS = [
    "model:",
    "expect:",
    "drift:",
    "fixture: fruit_model",
    "- alone: red",
    "  predicts: apple",
    "- ",
    ": ",
    "\n",
    "\n  ",
    "    ",
    "\t",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "&a ",
    "*a",
    "<<: *a",
    "? ",
    "|\n",
    ">-\n",
    "'",
    '"',
    "# c\n",
    "%YAML 1.2\n",
    "---\n",
    "...\n",
    "!!binary ",
    "!!set ",
    "!!omap ",
    "!!python/object/apply:os.system ",
    "!custom ",
    "!!str ",
    "!!int ",
    "!!float ",
    "!!bool ",
    "!!timestamp ",
    "!!map ",
    "!!seq ",
    "!!null ",
    BIG,
    "x" * 300,
    "\x07",
    "\x1f",
    "[[[[[[[[",
    "0x1F",
    "0o17",
    "1e400",
    ".nan",
    "-.inf",
    "010",
    "1_000",
    "~",
    "null",
    "on",
    "\ufeff",
    "\x00",
    "\u2028",
    '"\\ud800"',  # a lone surrogate, as YAML's escape writes it
    '"x\\udfff y"',
    '"\\ud83d\\ude00"',  # a pair: one character
]
# Text without the control characters YAML's reader refuses, three times in four (else most
# examples stop at the reader; the fragments hold a few of them too).
printable = st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n\r")
any_text = weighted((3, st.text(printable, max_size=200)), (1, st.text(max_size=200)))
raw_texts = st.one_of(
    any_text,
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text(printable, max_size=4)), max_size=40
    ).map("".join),
)


@fuzz(250)
@given(raw=st.one_of(raw_texts, st.binary(max_size=200), raw_texts.map(str.encode)))
@example(raw=b"\xff\xfe m\x00o\x00")
@example(raw="&a [*a]")
@example(raw="a: &a\n  b: *a\n")
@example(raw="model: !!python/object/apply:os.system [echo]\n")
@example(raw="{a: 1, a: 2}")
@example(raw="? [a, b]\n: c\n")
@example(raw="0x" + "f" * 5000)
@example(raw="[" * 3000).via("regression: RecursionError (nested too deeply)")
@example(raw="a:\n" + "".join("  " * i + "- \n" for i in range(1, 1000)))
@example(raw="!!int 0x").via("regression: ValueError from an explicit tag")
@example(raw='model: {fixture: "m\\ud800"}\n').via("issue 16: cache write UnicodeEncodeError")
@example(raw="!!bool x").via("regression: KeyError from an explicit tag")
@example(raw="1" * 4301).via("regression: ValueError, int max str digits")
@example(raw="\x1f").via("regression: ReaderError, or a two-line SpecError")
def test_random_text_is_a_document_or_a_spec_error(fuzz_dir, raw):
    path = fuzz_dir / "featureprobe_raw.yaml"
    if isinstance(raw, bytes):
        path.write_bytes(raw)
    else:
        path.write_text(raw, encoding="utf-8")
    try:
        document = spec.load_document(path)
    except SpecError as error:
        assert error.path is not None and Path(error.path) == path
        assert_one_line(error)
    else:
        assert isinstance(document, spec.Document)


# Escapes these properties found in spec.py, fixed there: each is a one-line SpecError at the line
# of the value (None where the parser gave up before it had one).
REFUSED = [
    (FRUIT + "  - top: !!int three\n", 4, "'three' cannot be read as !!int"),
    ("!!int 0x", 1, "cannot be read as !!int"),
    ("!!float ", 1, "cannot be read as !!float"),
    ("!!float abc", 1, "cannot be read as !!float"),
    ("!!bool x", 1, "cannot be read as !!bool"),
    ("a: 1\nb: !!timestamp 2001-12-14 x\n", 2, "cannot be read as !!timestamp"),
    ("!!map [a]", 1, "cannot be read as !!map"),
    ("a:\n  - !!seq a\n", 2, "cannot be read as !!seq"),
    (FRUIT + "  - alone: " + BIG + "\n", 4, "an integer of 4,301 characters (at most 100)"),
    (FRUIT + "  - alone: !!int -" + BIG + "\n", 4, "an integer of 4,302 characters (at most 100)"),
    ("model: !!python/object/apply:os.system [echo]\n", 1, "tag !!python/object/apply:os"),
    ("\x1f", 1, "invalid YAML: character"),
    (FRUIT + "  - alone: red\x07\n    predicts: apple\n", 4, "is not allowed"),
    ("- " * 3000, None, "invalid YAML: nested too deeply"),
    ("{a: " * 3000 + "1" + "}" * 3000, None, "invalid YAML: nested too deeply"),
]


@pytest.mark.parametrize(("raw", "line", "phrase"), REFUSED, ids=lambda v: repr(v)[:30])
def test_what_yaml_cannot_build_is_a_spec_error_at_its_line(fuzz_dir, raw, line, phrase):
    path = fuzz_dir / "featureprobe_refused.yaml"
    path.write_text(raw, encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        spec.load_document(path)
    assert raised.value.line == line
    assert phrase in raised.value.message
    assert_one_line(raised.value)


@pytest.mark.parametrize(
    "value",
    [
        "{a: " + "x" * 400 + "}",
        "[" + "1, " * 150 + "1]",
        json.dumps("é" * 900),
        "[" + ", ".join(["[[[[[[[[[[]]]]]]]]]]"] * 40) + "]",
    ],
    ids=["long-mapping", "long-list", "long-string", "nested-lists"],
)
def test_schema_messages_quoting_a_long_value_are_short(fuzz_dir, value):
    path = fuzz_dir / "featureprobe_long.yaml"
    path.write_text(FRUIT + f"  - top: {value}\n    toward: apple\n    are: red\n", "utf-8")
    error = spec.load_document(path).items[0].error
    assert error is not None and error.line == 4
    assert_one_line(error)


@pytest.mark.parametrize(
    "line",
    [
        "    min_prob: 0x" + "f" * 3600,
        "    min_prob: 0o" + "7" * 4800,
    ],
    ids=["hex", "octal"],
)
def test_huge_hex_and_octal_integers_are_spec_errors(fuzz_dir, line):
    path = fuzz_dir / "featureprobe_hex.yaml"
    path.write_text(FRUIT + "  - alone: red\n    predicts: apple\n" + line + "\n", "utf-8")
    with pytest.raises(SpecError) as raised:
        spec.load_document(path)
    assert raised.value.line == 6
    assert_one_line(raised.value)


FRUIT_ITEM = FRUIT + "  - alone: red\n    predicts: apple\n"


@pytest.mark.parametrize(
    "raw",
    [
        FRUIT_ITEM + '"a\\nb": 1\n',
        FRUIT_ITEM + 'drift:\n  rank:\n    "a\\nb": 1\n    "a\\nb": 2\n',
        FRUIT_ITEM + "k" * 400 + ": 1\n",
        FRUIT_ITEM + "    " + "k" * 400 + ": 1\n",
        FRUIT_ITEM
        + "    name: "
        + "n" * 400
        + "\n"
        + FRUIT_ITEM[len(FRUIT) :]
        + "    name: "
        + "n" * 400
        + "\n",
        FRUIT + "  - adding: red\n    raises: apple\n    'on': http://" + "u" * 400 + "\n",
        "!" + "t" * 400 + " x\n",
        "a: *" + "t" * 400 + "\n",
        FRUIT + "  - together: [" + "1, " * 150 + "1]\n    predicts: apple\n",
    ],
    ids=[
        "line-break-key",
        "line-break-duplicate-key",
        "long-key",
        "long-key-in-item",
        "long-duplicate-name",
        "long-url",
        "long-tag",
        "long-alias",
        "long-repeated-features",
    ],
)
def test_messages_quoting_long_or_multiline_names_are_one_short_line(fuzz_dir, raw):
    path = fuzz_dir / "featureprobe_quoted.yaml"
    path.write_text(raw, encoding="utf-8")
    try:
        document = spec.load_document(path)
    except SpecError as error:
        assert_one_line(error)
    else:
        errors = [item.error for item in document.items if item.error is not None]
        assert errors
        for error in errors:
            assert_one_line(error)


# --- property 3: feature spaces on random vocabularies -------------------------------------------


def refused_by_design(name: str) -> bool:
    """Names a FeatureSpace refuses (features.py): the empty probe's name and the probe joiner."""
    return name == "zero" or "+" in name


# Token names as they come out of data: stripped, non-empty, not refused by design. Without '=':
# from its name alone, a token "a=x" cannot be told from a value x of a categorical column "a"
# (a token "a=b" that is also a value of column a is refused as a repeated feature, tested below).
token_names = st.text(min_size=1, max_size=8).filter(
    lambda s: s == s.strip() and not refused_by_design(s)
)
tokens = st.one_of(
    token_names.filter(lambda s: "=" not in s),
    st.integers(-5, 1000),
    st.sampled_from([0.5, 2.0, -0.0, math.inf, 1e20, True]),
)
missing = st.sampled_from([None, math.nan, "", "  "])
# Column names as in data files (" island" from a header "species, island"), without '=' or '+'.
column_names = st.text(max_size=5).filter(lambda s: not refused_by_design(s) and "=" not in s)


def categorical_name(column: str, value: Any) -> str:
    """README: one feature per value, named column=value (stripped, as every feature name)."""
    return f"{column}={expected_name(value)}".strip()


def expected_name(token: Any) -> str:
    """The feature a token becomes, as README says: numbers by value, names as written."""
    if isinstance(token, str):
        return token.strip()
    if isinstance(token, bool):
        return str(token).lower()
    if isinstance(token, int):
        return str(token)
    return str(int(token)) if float(token).is_integer() else repr(float(token))


def documented_order(name: str) -> tuple[int, float, str]:
    """README: numbers numerically, then other names alphabetically."""
    try:
        value = float(name)
    except ValueError:
        return (1, 0.0, name)
    return (1, 0.0, name) if math.isnan(value) else (0, value, name)


def is_missing(cell: Any) -> bool:
    return (
        cell is None
        or (isinstance(cell, float) and math.isnan(cell))
        or (isinstance(cell, str) and not cell.strip())
    )


@st.composite
def frames(draw) -> tuple[pd.DataFrame, str | None, list[str], list[set[str]]]:
    """A frame with a token-list column and/or categorical columns, and each row's features."""
    n_rows = draw(st.integers(1, 6))
    use_tokens = draw(st.booleans())
    categorical = draw(st.lists(column_names, max_size=2, unique=True))
    if not use_tokens and not categorical:
        use_tokens = True
    columns: dict[str, list[Any]] = {}
    expected: list[set[str]] = [set() for _ in range(n_rows)]
    if use_tokens:
        cells = draw(
            st.lists(
                st.lists(st.one_of(tokens, tokens, missing), max_size=5),
                min_size=n_rows,
                max_size=n_rows,
            )
        )
        columns["tokens"] = cells
        for row, cell in enumerate(cells):
            expected[row] |= {expected_name(t) for t in cell if not is_missing(t)}
    for column in categorical:
        if column == "tokens":
            continue
        values = draw(st.lists(st.one_of(tokens, missing), min_size=n_rows, max_size=n_rows))
        columns[column] = values
        for row, value in enumerate(values):
            if not is_missing(value):
                expected[row].add(categorical_name(column, value))
    categorical = [c for c in categorical if c != "tokens"]
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in columns.items()})
    return frame, "tokens" if use_tokens else None, categorical, expected


def expected_features(frame, token_column, categorical) -> list[str]:
    names = []
    if token_column:
        seen = {expected_name(t) for cell in frame[token_column] for t in cell if not is_missing(t)}
        names += sorted(seen, key=documented_order)
    for column in categorical:
        values = {expected_name(v) for v in frame[column] if not is_missing(v)}
        names += [categorical_name(column, v) for v in sorted(values, key=documented_order)]
    return names


@fuzz(150)
@given(case=frames(), data=st.data())
@example(
    case=(
        pd.DataFrame({"tokens": pd.Series([["b", 10, "a"], [2.0, None, "b"]], dtype=object)}),
        "tokens",
        [],
        [{"a", "b", "10"}, {"2", "b"}],
    ),
    data=None,
).via("the seed example's shape: numbers numerically, then names")
@example(
    case=(
        pd.DataFrame({"tokens": pd.Series([[0]], dtype=object), "0": pd.Series([0], dtype=object)}),
        "tokens",
        ["0"],
        [{"0", "0=0"}],
    ),
    data=None,
).via("regression: the token 0 was taken for a value of the categorical column 0")
@example(
    case=(
        pd.DataFrame({" island": pd.Series(["Dream", "Biscoe"], dtype=object)}),
        None,
        [" island"],
        [{"island=Dream"}, {"island=Biscoe"}],
    ),
    data=None,
).via("regression: a column ' island' gave features its own rows could not encode")
@example(
    case=(
        pd.DataFrame({"tokens": pd.Series([["a=b"]], dtype=object), "a": pd.Series(["b"])}),
        "tokens",
        ["a"],
        [{"a=b"}],
    ),
    data=None,
).via("a token that is also a categorical feature is refused")
def test_from_frame_encode_decode_round_trip(case, data):
    frame, token_column, categorical, expected_rows = case
    names = expected_features(frame, token_column, categorical)
    if not names or len(set(names)) != len(names):
        # No feature at all, or one feature twice (a token that is also a categorical feature,
        # columns " a" and "a"): refused, with our error.
        event("refused: " + ("no features" if not names else "a feature twice"))
        with pytest.raises(DataError):
            FeatureSpace.from_frame(frame, tokens=token_column, categorical=categorical)
        return
    space = FeatureSpace.from_frame(frame, tokens=token_column, categorical=categorical)
    assert space.features == tuple(names)  # documented order
    matrix = space.encode(frame)
    assert matrix.dtype == np.float32 and matrix.shape == (len(frame), len(names))
    assert set(np.unique(matrix)) <= {0.0, 1.0}
    for row, wanted in zip(matrix, expected_rows, strict=True):
        assert set(space.names(np.flatnonzero(row))) == wanted
    assert np.array_equal(space.encode_sets(expected_rows), matrix)
    for position, name in enumerate(space.features):
        assert space.index(name) == position and name in space

    # Position-free: shuffled token lists, with repeats, encode the same.
    if token_column and data is not None:
        shuffled = frame.copy()
        rng = random.Random(data.draw(st.integers(0, 2**32 - 1), label="shuffle seed"))
        cells = []
        for cell in frame[token_column]:
            cell = list(cell) + rng.sample(list(cell), k=min(len(cell), 2))
            rng.shuffle(cell)
            cells.append(cell)
        shuffled[token_column] = pd.Series(cells, dtype=object)
        assert np.array_equal(space.encode(shuffled), matrix)

    # Categorical features belong to their column: setting one clears the column's others.
    for column in categorical:
        prefix = categorical_name(column, "")
        members = [i for i, f in enumerate(space.features) if f.startswith(prefix)]
        for i in members:
            assert space.column_positions(space.features[i]) == members

    # Serialisation round trips to an equal space that encodes the same.
    for restored in (
        FeatureSpace.from_dict(space.to_dict()),
        FeatureSpace.from_json(space.to_json()),
    ):
        assert restored == space
        assert np.array_equal(restored.encode(frame), matrix)


safe_tokens = st.text(alphabet="abcxyzAB019_-.", min_size=1, max_size=6).filter(
    lambda s: not refused_by_design(s)
)


@fuzz(60)
@given(
    cells=st.lists(st.lists(safe_tokens, max_size=5), min_size=1, max_size=5),
    style=st.sampled_from(["[{}]", "{}", "({})"]),
    separator=st.sampled_from([", ", " ", ";", ",", " ; "]),
    quote=st.sampled_from(["", "'", '"']),
)
def test_token_strings_encode_as_token_lists(cells, style, separator, quote):
    """``"[a, b]"``, ``"a b"``, ``"a;b"`` and ``"('a', 'b')"`` are the list ``[a, b]``."""
    if not any(cells):
        cells[0].append("x")
    as_lists = pd.DataFrame({"t": pd.Series(cells, dtype=object)})
    as_text = pd.DataFrame(
        {"t": [style.format(separator.join(f"{quote}{t}{quote}" for t in c)) for c in cells]}
    )
    space = FeatureSpace.from_frame(as_lists, tokens="t")
    assert FeatureSpace.from_frame(as_text, tokens="t") == space
    assert np.array_equal(space.encode(as_text), space.encode(as_lists))


@fuzz(150)
@given(
    names=st.lists(
        st.one_of(
            st.text(max_size=6),
            st.sampled_from(["zero", "a+b", "+", " zero ", "x", " x", "x ", "4", "4.0"]),
            st.integers(-3, 5),
            st.floats(allow_nan=False),
            st.booleans(),
        ),
        max_size=6,
    )
)
@example(names=["x" * 500, "x" * 500]).via("regression: the whole name in the message")
@example(names=["a+" + "b" * 500])
def test_from_names_refuses_exactly_the_names_it_must(names):
    """A space refuses no names, duplicates (after 4, 4.0 and "4" become "4"), 'zero' and names
    with '+', with a DataError; it takes any other vocabulary and round-trips it."""
    canonical = [feature_name(n) for n in names]
    must_refuse = (
        not canonical
        or len(set(canonical)) != len(canonical)
        or any(refused_by_design(n) for n in canonical)
    )
    try:
        space = FeatureSpace.from_names(names)
    except DataError as error:
        assert must_refuse, f"refused {canonical}: {error}"
        assert_one_line(error)
        event("refused")
        return
    assert not must_refuse, f"accepted {canonical}"
    assert space.features == tuple(canonical)
    assert space.names(space.indices(reversed(canonical))) == tuple(canonical)
    assert FeatureSpace.from_json(space.to_json()) == space
    assert FeatureSpace.from_dict(space.to_dict()) == space


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
space_dicts = st.fixed_dictionaries(
    {"features": weighted((4, st.lists(token_names, min_size=1, max_size=4)), (1, json_values))},
    optional={
        "format": weighted((4, st.just(1)), (1, json_values)),
        "token_column": weighted((4, st.sampled_from(["t", None, 0])), (1, json_values)),
        "categorical": weighted((4, st.lists(column_names, max_size=2)), (1, json_values)),
    },
)


def space_or_data_error(load_space) -> None:
    try:
        space = load_space()
    except DataError as error:
        assert_one_line(error)
        event("DataError")
    else:
        event("a space")
        assert isinstance(space, FeatureSpace)
        assert FeatureSpace.from_json(space.to_json()) == space


@fuzz(150)
@given(data=st.one_of(space_dicts, json_values))
@example(data={"features": ["a"], "categorical": True}).via("regression: TypeError")
@example(data={"features": ["a"], "categorical": "ab"}).via("was read as columns a and b")
@example(data={"features": ["a"], "token_column": ["t"]}).via("a list kept as a column name")
def test_feature_space_dict_is_a_space_or_a_data_error(data):
    """Whatever a feature-space JSON file holds, from_dict/from_json give a space or a
    DataError, and an accepted space round-trips."""
    space_or_data_error(lambda: FeatureSpace.from_dict(data))
    space_or_data_error(lambda: FeatureSpace.from_json(json.dumps(data)))


@fuzz(100)
@given(text=st.one_of(st.text(max_size=50), st.from_regex(r"\A[\[\]{}\",:0-9a-z ]{0,40}\Z")))
@example(text="[" * 100_000).via("regression: RecursionError")
@example(text='{"features": [' + "1" * 5000 + "]}").via("regression: ValueError, int digits")
@example(text='{"features": ["a"]} x').via("trailing data")
def test_feature_space_json_text_is_a_space_or_a_data_error(text):
    space_or_data_error(lambda: FeatureSpace.from_json(text))


# --- property 4: files read from disk: data files, baselines, sidecars, special files ------------
# Numbers that are not finite (NaN, Infinity, 1e400), strings with lone surrogates, encodings
# that are not UTF-8 and paths that are not regular files (a FIFO, a folder, a link loop), in
# every reader that takes a file: the file's value or its one-line error, never a hang, and
# nothing read holds what no file can store (a lone surrogate) or a number that is not finite.

NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]
surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
odd_texts = st.lists(st.one_of(st.characters(), surrogates), max_size=6).map("".join)
cells = weighted(
    (3, st.sampled_from(FEATURES + CLASSES)),
    (2, odd_texts),
    (2, st.floats(allow_nan=True, allow_infinity=True)),
    (1, st.sampled_from(NOT_FINITE)),  # the bare token, written into JSON as a number
    (1, st.lists(st.one_of(st.sampled_from(FEATURES), odd_texts), max_size=3)),
    (1, st.none()),
)
SPECIAL = ["fifo", "folder", "loop"]
kinds = weighted((8, st.just("file")), (1, st.sampled_from(SPECIAL)))


def made(path: Path, kind: str, content: bytes = b"") -> Path:
    """``path`` as a file of ``content``, or a FIFO, a folder or a link to itself."""
    if os.path.lexists(path) or path.exists():
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()
    if kind == "file":
        path.write_bytes(content)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(path.name)
    return path


def json_text(value: Any) -> str:
    """JSON as a careless writer makes it: NaN and Infinity as Python writes them, a lone
    surrogate as an escape, and the bare tokens of NOT_FINITE as numbers."""
    text = json.dumps(value, allow_nan=True)
    for token in NOT_FINITE:
        text = text.replace(json.dumps(token), token)
    return text


@st.composite
def data_files(draw) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from([".csv", ".json", ".jsonl"]))
    columns = ["fruit", "kind"]
    rows = draw(
        st.lists(st.fixed_dictionaries({c: cells for c in columns}), min_size=0, max_size=4)
    )
    if suffix == ".csv":
        lines = [",".join(columns)]
        lines += [",".join(json.dumps(str(v))[1:-1] for v in row.values()) for row in rows]
        text = "\n".join(lines) + "\n"
    elif suffix == ".json":
        text = json_text(rows)
    else:
        text = "\n".join(json_text(row) for row in rows) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-32"]))
    return suffix, text.encode(encoding, errors="surrogatepass")


def writable(value: Any) -> None:
    """A value read from a file can be written again: no lone surrogate, no number that is not
    finite (a NaN counts as missing)."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, float):
        assert math.isnan(value) or math.isfinite(value), value
    elif isinstance(value, (list, tuple, np.ndarray)):
        for item in value:
            writable(item)


@fuzz(150)
@given(case=data_files(), kind=kinds)
@example(case=(".json", b'[{"fruit": ["x\\ud800"], "kind": "apple"}]'), kind="file")
@example(case=(".csv", "fruit,kind\nred,apple\n".encode("utf-16")), kind="file")
@example(case=(".json", b'[{"fruit": 1e400, "kind": NaN}]'), kind="file")
@example(case=(".csv", b""), kind="fifo")
def test_a_data_file_is_a_frame_of_writable_cells_or_a_data_error(fuzz_dir, case, kind):
    from pytest_featureprobe.data import read_table

    suffix, content = case
    path = made(fuzz_dir / f"data{suffix}", kind, content)
    try:
        frame = read_table(path)
    except DataError as error:
        assert_one_line(error)
        event(f"DataError ({kind})")
        return
    assert kind == "file"
    event("a frame")
    for column in frame.columns:
        writable(str(column))
        for cell in frame[column]:
            writable(cell)


def baseline_text() -> str:
    return Baseline.from_sweep(sweep_of(0, 1, ())).to_text()


NUMBER = re.compile(r'"(?:[^"\\]|\\.)*"|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)')


@fuzz(150)
@given(data=st.data())
def test_a_baseline_with_a_number_or_name_changed_is_checked_or_a_baseline_error(data):
    """Any number of a baseline replaced (by NaN, Infinity, 1e400, a value outside 0-1, a
    5,000-digit integer) or a name given a lone surrogate: a Baseline whose probabilities are
    probabilities, or a one-line BaselineError at a line of the file."""
    from pytest_featureprobe.baseline import BaselineError

    text = baseline_text()
    numbers = [m for m in NUMBER.finditer(text) if m.group(1) is not None]
    if data.draw(st.booleans()):
        target = data.draw(st.sampled_from(numbers))
        new = data.draw(
            st.one_of(
                st.sampled_from([*NOT_FINITE, "-0.5", "1.5", "9" * 5000]),
                st.floats(-2, 2).map(repr),
            )
        )
        text = text[: target.start(1)] + new + text[target.end(1) :]
    else:
        text = text.replace('"probe": "red"', '"probe": "red\\ud800"')
    try:
        baseline = Baseline.from_text(text, "b.json")
    except BaselineError as error:
        assert_one_line(error)
        event("BaselineError")
        return
    event("a baseline")
    p = baseline.probabilities
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
    assert np.abs(p.sum(axis=1) - 1).max() <= 1e-3
    for name in baseline.probes + list(baseline.classes) + list(baseline.space.features):
        writable(name)


@fuzz(100)
@given(classes=st.lists(cells, max_size=4), kind=kinds)
@example(classes=["a", "NaN"], kind="file")
@example(classes=["a", "b\ud800"], kind="file")
@example(classes=["a", "b"], kind="fifo")
def test_a_sidecar_is_checked_or_a_model_error(fuzz_dir, classes, kind):
    from pytest_featureprobe.errors import ModelError
    from pytest_featureprobe.models.sidecar import read_sidecar

    text = json_text({"space": {"features": list(FEATURES)}, "classes": classes})
    made(fuzz_dir / "m.keras.featureprobe.json", kind, text.encode())
    try:
        sidecar = read_sidecar(fuzz_dir / "m.keras")
    except ModelError as error:
        assert_one_line(error)
        event(f"ModelError ({kind})")
        return
    event("a sidecar" if sidecar else f"no sidecar ({kind})")
    for value in sidecar.get("classes", []):
        writable(value)


@fuzz(40)
@given(reader=st.sampled_from(["expectation file", "baseline", "data file"]), kind=kinds)
def test_a_path_that_is_not_a_regular_file_is_refused_not_read(fuzz_dir, reader, kind):
    """A FIFO would block the read for ever; a folder or a link loop is no file either."""
    from pytest_featureprobe.baseline import BaselineError, read_baseline
    from pytest_featureprobe.data import read_table

    name = {"expectation file": "f.yaml", "baseline": "b.json", "data file": "d.csv"}[reader]
    path = made(fuzz_dir / name, kind, FRUIT_ITEM.encode() if reader != "data file" else b"a\n1\n")
    read = {
        "expectation file": spec.load_document,
        "baseline": read_baseline,
        "data file": read_table,
    }[reader]
    try:
        read(path)
    except (SpecError, BaselineError, DataError) as error:
        assert_one_line(error)
        if kind != "file":
            assert ("not a regular file" if kind == "fifo" else "") in error.message
            event(f"refused: {kind}")
        return
    assert kind == "file", f"{reader} {kind} was read"
