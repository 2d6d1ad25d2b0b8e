"""A corpus of bad inputs, each with the behaviour a user gets.

Every case writes a broken expectation file ``featureprobe_bad.yaml`` (and whatever data, model or
baseline files it names) beside a good file ``featureprobe_good.yaml``, runs pytest in-process, and
asserts, for every case:

1. the exact one-line report ``featureprobe: <file>:<line>: <key>: <message>``, and that it is one
   line (the next line of the output starts a new section);
2. no traceback, and no frame of our package, anywhere in the output;
3. no file in the folder changed (a snapshot of every file's bytes, pytest's cache excepted);
4. the good file's expectation passed, and so did the good entries of the bad file.

A case is a ``Case`` record: add one to ``CASES``, or to ``KERAS_CASES`` when it loads a
``.keras`` file or trains (those import TensorFlow and run last). A case that shows a known defect
carries ``xfail=<the defect and the output seen>``, strict: once the defect is fixed the case
XPASSes, which fails the run until the ``xfail`` is removed.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

GOOD = "model:\n  fixture: fruit_model\nexpect:\n  - alone: red\n    predicts: apple\n"
GOOD_ID = "featureprobe_good.yaml::alone-red-predicts-apple"
BAD = "featureprobe_bad.yaml"
BASELINE = "__featureprobe__/featureprobe_bad.json"

# The bad files start with this good entry (lines 1-5), so an entry appended to it is on line 6
# and a mistake in one entry shows that the entry before it still runs.
HEAD = GOOD
FEATURES = "[red, green, round, long, sweet, sour, shiny]"
DECLARED = f"  features: {FEATURES}\n  classes: [apple, banana, lime]\n"

# Fixtures added to the fruit conftest for models that misbehave.
EXTRA_CONFTEST = '''

@pytest.fixture(scope="session")
def nan_when_sour():
    """Fine on the zero row; NaN for every probe with 'sour', so the sweep finds it."""

    def predict(x):
        out = fruit(x)
        out[np.asarray(x)[:, 5] == 1] = np.nan
        return out

    return predict


@pytest.fixture(scope="session")
def returns_strings():
    def predict(x):
        return np.array([["apple", "banana", "lime"]] * len(x))

    return predict


@pytest.fixture(scope="session")
def returns_a_generator():
    def predict(x):
        return (row for row in fruit(x))

    return predict


@pytest.fixture(scope="session")
def returns_complex():
    def predict(x):
        return fruit(x) + 0j

    return predict
'''

# A CSV of the fruit features with a label column, for models trained from data.
FRUIT_CSV = (
    'fruit,kind\n"[red, round]",apple\n"[red, shiny]",apple\n"[long, sweet]",banana\n'
    '"[long]",banana\n"[green, sour]",lime\n"[green]",lime\n'
)


@dataclass(frozen=True)
class KerasFile:
    """A ``.keras`` file made once per module (see ``keras_files``), cut to ``keep`` bytes."""

    name: str
    keep: int | None = None


Content = str | bytes | KerasFile


@dataclass(frozen=True)
class Case:
    """One bad input and what the user gets.

    ``where`` is the location part of the report (``file:line: key``, or ``file:line`` for a
    whole-file error without a key), ``message`` a fragment of what follows it; ``where=None``
    means the run must succeed without any report (a damaged cache entry is simply retrained).
    ``before(pytester)`` prepares the folder (e.g. writes a baseline and damages it) and may return
    values that ``where`` and ``message`` are formatted with; ``check(pytester, output)`` adds
    assertions. ``passed`` counts the entries of the bad file that still pass.
    """

    id: str
    bad: str | bytes
    where: str | None
    message: str = ""
    files: Mapping[str, Content] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    passed: int = 0
    cache: bool = False
    before: Callable[[pytest.Pytester], dict[str, Any] | None] | None = None
    check: Callable[[pytest.Pytester, str], None] | None = None
    xfail: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # set for the run, then restored

    @property
    def keras(self) -> bool:
        return self.cache or any(isinstance(c, KerasFile) for c in self.files.values())


def entry(text: str) -> str:
    """The bad file: the good entry (lines 1-5) and then ``text`` (from line 6)."""
    return HEAD + text


def on_file(name: str) -> str:
    """A direction check over the rows of the data file ``name`` (its ``on:`` is line 8)."""
    return entry(f"  - adding: shiny\n    moves_at_most: 0.2\n    on: {name}\n")


def train(data: str, features: str = "fruit", label: str = "kind") -> str:
    """A model trained from ``data`` (``data:`` is line 3, ``features:`` 4, ``label:`` 5)."""
    return (
        f"model:\n  train:\n    data: {data}\n    features: {features}\n    label: {label}\n"
        "    hidden: [4]\n    epochs: 20\nexpect:\n  - alone: red\n    predicts: apple\n"
    )


def from_fixture(name: str, extra: str = DECLARED) -> str:
    """A model from the fixture ``name`` (``fixture:`` is line 2, then ``extra`` from line 3)."""
    return f"model:\n  fixture: {name}\n{extra}expect:\n  - alone: red\n    predicts: apple\n"


def load(extra: str = DECLARED, target: str = "m.keras") -> str:
    """A model loaded from ``target`` (``load:`` is line 2, then ``extra`` from line 3)."""
    return f"model:\n  load: {target}\n{extra}expect:\n  - alone: red\n    predicts: apple\n"


def keras_zip(members: Mapping[str, bytes | str], *, bomb_mib: int = 0) -> bytes:
    """A ``.keras``-like archive made by hand (Keras never sees it: the checks refuse it first);
    with ``bomb_mib``, a config.json of that many MiB of spaces, deflated to a few KB."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if bomb_mib:
            with archive.open("config.json", "w", force_zip64=True) as member:
                for _ in range(bomb_mib):
                    member.write(b" " * (1 << 20))
    return buffer.getvalue()


def keras_config(activation: object = "softmax", **layer: object) -> str:
    """config.json of a Sequential model with one Dense layer named 'dense'."""
    dense = {"module": "keras.layers", "class_name": "Dense", "registered_name": None}
    dense |= {"config": {"name": "dense", "units": 3, "activation": activation}} | layer
    model = {"module": "keras", "class_name": "Sequential", "registered_name": None}
    return json.dumps(model | {"config": {"name": "sequential", "layers": [dense]}})


BOSTON = {
    "module": "keras.datasets.boston_housing",
    "class_name": "function",
    "config": "load_data",
}


# --- baselines: written by a first run with --featureprobe-update, then damaged ------------------

DRIFT = entry("drift:\n  order: 1\n  max_flips: 0\n")  # drift: line 6, max_flips: line 8
QUIET = ("-p", "no:hypothesispytest")


def write_baseline(pytester: pytest.Pytester) -> Path:
    result = pytester.runpytest("-p", "no:cacheprovider", *QUIET, "--featureprobe-update", BAD)
    result.assert_outcomes(passed=2)
    return pytester.path / BASELINE


def damaged_baseline(change: Callable[[str], str]) -> Callable[[pytest.Pytester], None]:
    def before(pytester: pytest.Pytester) -> None:
        path = write_baseline(pytester)
        path.write_text(change(path.read_text()))

    return before


def edited_baseline(change: Callable[[dict], None]) -> Callable[[pytest.Pytester], None]:
    def edit(text: str) -> str:
        data = json.loads(text)
        change(data)
        return json.dumps(data, indent=1)

    return damaged_baseline(edit)


def rename_feature(data: dict) -> None:
    data["space"]["features"] = ["glossy" if f == "shiny" else f for f in data["space"]["features"]]
    for probe in data["probes"]:
        probe["probe"] = "glossy" if probe["probe"] == "shiny" else probe["probe"]


def truncated_baseline(pytester: pytest.Pytester) -> dict[str, Any]:
    """Half the baseline, as an interrupted copy would leave it; the error is on its last line."""
    path = write_baseline(pytester)
    text = path.read_text()[: len(path.read_text()) // 2]
    path.write_text(text)
    return {"line": text.count("\n") + 1}


# --- the cache: an entry trained by a first run, then damaged -----------------------------------


def cache_entry(pytester: pytest.Pytester) -> Path:
    (entry_dir,) = (pytester.path / ".pytest_cache/d/featureprobe/models").iterdir()
    return entry_dir


def damaged_cache(name: str, damage: Callable[[bytes], bytes]):
    def before(pytester: pytest.Pytester) -> None:
        pytester.runpytest(*QUIET, BAD).assert_outcomes(passed=1)
        path = cache_entry(pytester) / name
        path.write_bytes(damage(path.read_bytes()))

    return before


def cache_replaced(pytester: pytest.Pytester, output: str) -> None:
    """The damaged entry was retrained and replaced by a readable one (and only one is left)."""
    import numpy as np

    folder = cache_entry(pytester)
    json.loads((folder / "meta.json").read_text())
    with np.load(folder / "weights.npz", allow_pickle=False) as stored:
        assert len(stored.files) == 4  # kernels and biases of the hidden and the output layer
    # And a third run works with it.
    pytester.runpytest(*QUIET, BAD).assert_outcomes(passed=1)


def nothing_ran(pytester: pytest.Pytester, output: str) -> None:
    assert not (pytester.path / "PWNED").exists()


def item_refused(node_id: str) -> Callable[[pytest.Pytester, str], None]:
    """The item ``node_id`` was collected and refused before anything ran (an ERROR at setup,
    its error found with the file), while the file's other items ran."""

    def check(pytester: pytest.Pytester, output: str) -> None:
        assert re.search(rf"^ERROR {re.escape(node_id)} - ", output, re.MULTILINE), output
        assert not re.search(r"^FAILED ", output, re.MULTILINE), output

    return check


def item_failed(node_id: str) -> Callable[[pytest.Pytester, str], None]:
    """The item ``node_id`` was collected and run, and failed (rather than the file erroring)."""

    def check(pytester: pytest.Pytester, output: str) -> None:
        assert re.search(rf"^FAILED {re.escape(node_id)} - ", output, re.MULTILINE), output
        assert not re.search(r"^ERROR ", output, re.MULTILINE), output

    return check


CASES: list[Case] = [
    # --- YAML syntax ----------------------------------------------------------------------------
    Case(
        "yaml-mapping-inside-a-value",
        entry("  - alone: long\n    predicts: banana: yes\n"),
        f"{BAD}:7",
        "invalid YAML: mapping values are not allowed here",
    ),
    Case(
        "yaml-unclosed-flow-list",
        entry("  - together: [long, sweet\n    predicts: banana\n"),
        f"{BAD}:7",
        "invalid YAML: expected ',' or ']', but got ':'",
    ),
    Case(
        "yaml-bad-indentation",
        entry("  - alone: long\n     predicts: banana\n"),
        f"{BAD}:7",
        "invalid YAML: mapping values are not allowed here",
    ),
    Case(
        "yaml-unclosed-quote",
        entry('  - alone: "long\n    predicts: banana\n'),
        f"{BAD}:6",
        "invalid YAML: found unexpected end of stream",
    ),
    Case(
        "yaml-tab-indentation",
        entry("  - alone: long\n\tpredicts: banana\n"),
        f"{BAD}:7",
        "invalid YAML: found character '\\t' that cannot start any token",
    ),
    Case(
        "yaml-undefined-alias",
        entry("  - alone: *colour\n    predicts: apple\n"),
        f"{BAD}:6",
        "invalid YAML: found undefined alias 'colour'",
    ),
    Case(
        "yaml-python-tag-refused-and-not-run",
        "model:\n  fixture: !!python/object/apply:os.system ['touch PWNED']\n"
        "expect:\n  - alone: red\n    predicts: apple\n",
        f"{BAD}:2",
        "python/object/apply:os.system",
        check=nothing_ran,
    ),
    Case(
        "yaml-not-utf8",
        entry("  - alone: r\xe9d\n    predicts: apple\n").encode("latin-1"),
        f"{BAD}:6",
        "UTF-8",
    ),
    # --- the shape of the file ----------------------------------------------------------------
    Case(
        "file-empty",
        "",
        f"{BAD}:1",
        "an expectation file is a mapping with 'model' and 'expect'",
    ),
    Case(
        "file-comments-only",
        "# expectations to come\n# model: ...\n",
        f"{BAD}:1",
        "an expectation file is a mapping with 'model' and 'expect'",
    ),
    Case(
        "file-top-level-list",
        "- alone: red\n  predicts: apple\n",
        f"{BAD}:1",
        "an expectation file is a mapping with 'model' and 'expect'",
    ),
    Case(
        "file-top-level-scalar",
        "alone red predicts apple\n",
        f"{BAD}:1",
        "an expectation file is a mapping with 'model' and 'expect'",
    ),
    Case(
        "file-unknown-top-level-key",
        HEAD + "expects:\n  - zero: true\n",
        f"{BAD}:6: expects",
        "unknown key (did you mean 'expect'?); allowed: drift, expect, featureprobe, model, sweep",
    ),
    Case(
        "file-format-version-99",
        "featureprobe: 99\n" + HEAD,
        f"{BAD}:1: featureprobe",
        "1 was expected",
    ),
    Case("file-no-model", "expect:\n  - zero: true\n    predicts: apple\n", f"{BAD}:1", "'model'"),
    Case(
        "file-no-expectations",
        "model:\n  fixture: fruit_model\nexpect: []\n",
        f"{BAD}:3: expect",
        "[] should be non-empty",
    ),
    # --- one entry: keys and types (only that entry fails) ------------------------------------
    Case(
        "entry-unknown-key",
        entry("  - alone: long\n    predict: banana\n"),
        f"{BAD}:7: expect[1].predict",
        "unknown key (did you mean 'predicts'?); allowed: alone, context, marks, min_fraction,",
        passed=1,
    ),
    Case(
        "entry-not-a-mapping",
        entry("  - red\n"),
        f"{BAD}:6: expect[1]",
        "'red' is not of type 'object'",
        passed=1,
    ),
    Case(
        "entry-wrong-type-number",
        entry("  - alone: long\n    predicts: banana\n    min_prob: high\n"),
        f"{BAD}:8: expect[1].min_prob",
        "'high' is not of type 'number'",
        passed=1,
    ),
    Case(
        "entry-wrong-type-subject",
        entry("  - alone: {long: 1}\n    predicts: banana\n"),
        f"{BAD}:6: expect[1].alone",
        "{'long': 1} has the wrong form",
        passed=1,
    ),
    Case(
        "entry-float-for-integer",
        entry("  - top: 2.0\n    toward: lime\n    include: [green]\n"),
        f"{BAD}:6: expect[1].top",
        "2.0 is not of type 'integer'",
        passed=1,
    ),
    Case(
        "entry-probability-above-1",
        entry("  - alone: long\n    predicts: banana\n    min_prob: 1.5\n"),
        f"{BAD}:8: expect[1].min_prob",
        "1.5 is greater than the maximum of 1",
        passed=1,
    ),
    Case(
        "entry-negative-by",
        entry("  - adding: red\n    raises: apple\n    by: -0.2\n"),
        f"{BAD}:8: expect[1].by",
        "-0.2 is less than the minimum of 0",
        passed=1,
    ),
    Case(
        "entry-contradictory-bounds",
        entry("  - alone: long\n    probability: {class: banana, min: 0.8, max: 0.2}\n"),
        f"{BAD}:7: expect[1].probability",
        "min 0.8 is above max 0.2",
        passed=1,
    ),
    Case(
        "entry-duplicate-name",
        entry(
            "  - name: yellow\n    alone: long\n    predicts: banana\n"
            "  - name: yellow\n    alone: sweet\n    predicts: banana\n"
        ),
        f"{BAD}:9: expect[2].name",
        "duplicate name 'yellow' (also on line 6)",
        passed=2,
    ),
    Case(
        "entry-two-subjects",
        entry("  - alone: long\n    zero: true\n    predicts: banana\n"),
        f"{BAD}:6: expect[1]",
        "an expectation needs exactly one of zero, alone, together, every, biased_toward, "
        "adding, top (found zero, alone)",
        passed=1,
    ),
    Case(
        "entry-subject-without-check",
        entry("  - alone: long\n"),
        f"{BAD}:6: expect[1]",
        "'alone' needs a check: predicts, probability or min_margin",
        passed=1,
    ),
    Case(
        # The file collects; the item is refused when it is checked (its context is the zero
        # vector, which has no rows to count).
        "entry-min-fraction-without-rows",
        entry("  - adding: red\n    raises: apple\n    min_fraction: 0.9\n"),
        f"{BAD}:8: expect[1].min_fraction",
        "min_fraction counts rows of a context, and this item is read on the zero vector: "
        "add context: <data file>",
        passed=1,
        check=item_refused(f"{BAD}::adding-red-raises-apple"),
    ),
    Case(
        "entry-more-features-than-top",
        entry("  - top: 1\n    toward: lime\n    include: [green, sour]\n"),
        f"{BAD}:8: expect[1].include",
        "2 features cannot fit in the top 1",
        passed=1,
    ),
    Case(
        "entry-unsupported-mark",
        entry("  - alone: long\n    predicts: banana\n    marks: [usefixtures]\n"),
        f"{BAD}:8: expect[1].marks",
        "the 'usefixtures' mark does not apply to an expectation",
        passed=1,
    ),
    # --- names the model does not know ------------------------------------------------------
    Case(
        "entry-unknown-feature",
        entry("  - alone: blue\n    predicts: apple\n"),
        f"{BAD}:6: expect[1].alone",
        "unknown feature 'blue'; features are red, green, round, long, sweet, sour, shiny",
        passed=1,
    ),
    Case(
        "entry-unknown-feature-in-every",
        entry("  - every: {order: 2, containing: blue}\n    predicts: apple\n"),
        f"{BAD}:6: expect[1].every",
        "unknown feature 'blue'",
        passed=1,
    ),
    Case(
        "entry-unknown-class",
        entry("  - alone: red\n    predicts: aple\n"),
        f"{BAD}:7: expect[1].predicts",
        "unknown class 'aple' (did you mean 'apple'?); classes are apple, banana, lime",
        passed=1,
    ),
    # --- the model section ------------------------------------------------------------------
    Case(
        "model-train-and-load",
        "model:\n  train: {data: f.csv, features: fruit, label: kind}\n  load: m.keras\n"
        "expect:\n  - alone: red\n    predicts: apple\n",
        f"{BAD}:2: model",
        "give exactly one of train, load or fixture (found train, load)",
    ),
    Case(
        "model-unknown-key",
        "model:\n  fixture: fruit_model\n  classses: [apple, banana, lime]\n"
        "expect:\n  - alone: red\n    predicts: apple\n",
        f"{BAD}:3: model.classses",
        "unknown key (did you mean 'classes'?)",
    ),
    Case(
        "model-unknown-training-option",
        train("f.csv").replace("    hidden: [4]\n", "    hiden: [4]\n"),
        f"{BAD}:6: model.train.hiden",
        "unknown key (did you mean 'hidden'?)",
        files={"f.csv": FRUIT_CSV},
    ),
    Case(
        "model-fixture-not-defined",
        "model:\n  fixture: fruit_modle\nexpect:\n  - alone: red\n    predicts: apple\n",
        f"{BAD}:2: model.fixture",
        "no fixture named 'fruit_modle': define it in conftest.py",
    ),
    Case(
        "model-outputs-nan",
        from_fixture("nan_when_sour"),
        f"{BAD}:2: model.fixture",
        "callable nan_when_sour.<locals>.predict returned NaN or infinite values",
    ),
    Case(
        "model-outputs-undeclared-logits",
        from_fixture("fruit_logits"),
        f"{BAD}:2: model.fixture",
        "does not return probabilities: a row sums to -4.017 (values from -2.303 to -0.5108); "
        "if it returns logits, declare outputs='logits'",
    ),
    Case(
        "model-wrong-number-of-classes",
        from_fixture("raw_fruit", f"  features: {FEATURES}\n  classes: [apple, banana]\n"),
        f"{BAD}:2: model.fixture",
        "callable fruit returned shape (1, 3) for 1 row; expected (1, 2)",
    ),
    Case(
        "model-input-width-mismatch",
        from_fixture(
            "raw_fruit", "  features: [red, green, round]\n  classes: [apple, banana, lime]\n"
        ),
        f"{BAD}:2: model.fixture",
        "callable fruit failed on one all-zero row of width 3 (the feature space size)",
    ),
    Case(
        "model-file-missing",
        load(),
        f"{BAD}:2: model.load",
        "model file not found: m.keras (paths are relative to this file)",
    ),
    Case(
        "model-file-not-keras-format",
        load(target="m.h5"),
        f"{BAD}:2: model.load",
        "m.h5: only the .keras format is loaded",
        files={"m.h5": b"\x89HDF\r\n\x1a\n"},
    ),
    Case(
        "model-file-not-a-zip",
        load(),
        f"{BAD}:2: model.load",
        "cannot load m.keras: not a .keras (zip) archive; is it corrupt or truncated?",
        files={"m.keras": "a model, honest\n"},
    ),
    Case(
        "model-without-features-or-classes",
        load(extra=""),
        f"{BAD}:2: model.load",
        "m.keras: give model.features and model.classes",
        files={"m.keras": b"PK"},
    ),
    Case(
        "model-sidecar-not-json",
        load(extra=""),
        f"{BAD}:2: model.load",
        "m.keras.featureprobe.json is not valid JSON",
        files={"m.keras": b"PK", "m.keras.featureprobe.json": "{space: 1"},
    ),
    Case(
        "model-sidecar-without-a-space",
        load(extra=""),
        f"{BAD}:2: model.load",
        "m.keras.featureprobe.json",
        files={"m.keras": b"PK", "m.keras.featureprobe.json": '{"space": 3, "classes": ["a"]}'},
    ),
    Case(
        "model-sidecar-not-utf8",
        load(extra=""),
        f"{BAD}:2: model.load",
        "m.keras.featureprobe.json: not UTF-8 text (byte 0xff on line 2); save it as UTF-8",
        files={"m.keras": b"PK", "m.keras.featureprobe.json": b'{"space":\n\xff}'},
    ),
    Case(
        "model-sidecar-classes-not-a-list",
        load(extra=""),
        f"{BAD}:2: model.load",
        "m.keras.featureprobe.json: classes: must be a list of class names, not 5",
        files={
            "m.keras": b"PK",
            "m.keras.featureprobe.json": json.dumps(
                {"space": {"features": ["red", "green"]}, "classes": 5}
            ),
        },
    ),
    Case(
        "model-sidecar-unknown-outputs",
        load(extra=""),
        f"{BAD}:2: model.load",
        "m.keras.featureprobe.json: outputs: must be probabilities or logits, not 'softmax'",
        files={
            "m.keras": b"PK",
            "m.keras.featureprobe.json": json.dumps(
                {
                    "space": {"features": ["red", "green"]},
                    "classes": ["apple", "banana", "lime"],
                    "outputs": "softmax",
                }
            ),
        },
    ),
    Case(
        "model-feature-space-file-missing",
        load(extra="  features: space.json\n  classes: [apple, banana, lime]\n"),
        f"{BAD}:3: model.features",
        "feature space file not found",
        files={"m.keras": b"PK"},
    ),
    # --- training data ------------------------------------------------------------------------
    Case(
        "data-file-missing",
        train("fruit.csv"),
        f"{BAD}:3: model.train.data",
        "data file not found: fruit.csv (paths are relative to this file)",
    ),
    Case(
        "data-without-label-column",
        train("f.csv", label="kinds"),
        f"{BAD}:5: model.train.label",
        "no label column 'kinds' (did you mean 'kind'?)",
        files={"f.csv": FRUIT_CSV},
    ),
    Case(
        "data-without-features-column",
        train("f.csv", features="fruits"),
        f"{BAD}:4: model.train.features",
        "no column 'fruits' in the data (did you mean 'fruit'?); columns are fruit, kind",
        files={"f.csv": FRUIT_CSV},
    ),
    Case(
        "data-header-only",
        train("f.csv"),
        f"{BAD}:3: model.train.data",
        "the data has no rows",
        files={"f.csv": "fruit,kind\n"},
    ),
    Case(
        "data-empty-file",
        train("f.csv"),
        f"{BAD}:3: model.train.data",
        "cannot read f.csv: the file is empty",
        files={"f.csv": b""},
    ),
    Case(
        "data-empty-rows",
        train("f.csv"),
        f"{BAD}:5: model.train.label",
        "the label column has missing values (2 of 4 rows; the first is data row 2)",
        files={"f.csv": 'fruit,kind\n"[red]",apple\n,\n\n"[long]",banana\n,\n'},
    ),
    Case(
        "data-one-class",
        train("f.csv"),
        f"{BAD}:5: model.train.label",
        "the label column has one class only ('apple')",
        files={"f.csv": 'fruit,kind\n"[red]",apple\n"[round]",apple\n'},
    ),
    Case(
        "data-not-utf8",
        train("data/f.csv"),
        f"{BAD}:3: model.train.data",
        "cannot read data/f.csv: not UTF-8 text (byte 0xe9 on line 3); save it as UTF-8",
        files={"data/f.csv": b'fruit,kind\n"[red]",apple\n"[r\xe9d]",apple\n"[long]",banana\n'},
    ),
    Case(
        "data-binary",
        train("f.csv"),
        f"{BAD}:3: model.train.data",
        "cannot read f.csv: binary, not text (a NUL byte on line 1)",
        files={"f.csv": bytes(range(256)) * 4},
    ),
    Case(
        "data-more-fields-than-header",
        train("f.csv"),
        f"{BAD}:3: model.train.data",
        "cannot read f.csv: line 2 has 3 fields but the header has 2 (fruit, kind); "
        "quote values that hold ','",
        files={"f.csv": 'fruit,kind\nred, round,apple\n"[long]",banana\n'},
    ),
    Case(
        "data-json-invalid",
        train("f.json"),
        f"{BAD}:3: model.train.data",
        "cannot read f.json: invalid JSON on line 3: Expecting property name enclosed in double",
        files={"f.json": '[\n {"fruit": ["red"], "kind": "apple"},\n {fruit: ["long"]}\n]\n'},
    ),
    Case(
        "data-json-not-records",
        train("f.json"),
        f"{BAD}:3: model.train.data",
        "cannot read f.json: a .json data file holds a list of records",
        files={"f.json": '{"fruit": "red"}'},
    ),
    Case(
        "data-jsonl-invalid-line",
        train("f.jsonl"),
        f"{BAD}:3: model.train.data",
        "cannot read f.jsonl: invalid JSON on line 2: Expecting ',' delimiter",
        files={"f.jsonl": '{"fruit": ["red"], "kind": "apple"}\n{"fruit": ["long"] "kind": 1}\n'},
    ),
    Case(
        "data-unsupported-type",
        train("f.xlsx"),
        f"{BAD}:3: model.train.data",
        "f.xlsx: unsupported data file type '.xlsx' (use .csv, .tsv, .json or .jsonl)",
        files={"f.xlsx": b"PK\x03\x04"},
    ),
    Case(
        "rows-file-missing",
        on_file("rows.csv"),
        f"{BAD}:8: expect[1].on",
        "data file not found: rows.csv",
        passed=1,
    ),
    Case(
        "rows-file-not-utf8",
        on_file("rows.csv"),
        f"{BAD}:8: expect[1].on",
        "cannot read rows.csv: not UTF-8 text (byte 0xe9 on line 2)",
        files={"rows.csv": b'fruit\n"[r\xe9d]"\n'},
        passed=1,
    ),
    Case(
        "rows-file-without-features-column",
        on_file("rows.csv"),
        f"{BAD}:8: expect[1].on",
        "no column 'fruit' in the data; columns are colour",
        files={"rows.csv": "colour\nred\n"},
        passed=1,
    ),
    # --- drift baselines --------------------------------------------------------------------
    Case(
        "baseline-missing",
        DRIFT,
        f"{BAD}:8: drift",  # the line of the drift check (max_flips)
        f"no baseline at {BASELINE}; create it with: pytest {BAD} --featureprobe-update",
        passed=1,
    ),
    Case(
        "baseline-corrupt-json",
        DRIFT,
        f"{BASELINE}:1",
        "corrupt baseline: Expecting value; recreate it with --featureprobe-update",
        before=damaged_baseline(lambda text: "<<<<<<< HEAD\n" + text),
        passed=1,
    ),
    Case(
        "baseline-truncated",
        DRIFT,
        f"{BASELINE}:{{line}}",
        "corrupt baseline: ",
        before=truncated_baseline,
        passed=1,
    ),
    Case(
        "baseline-of-another-feature-space",
        DRIFT,
        BASELINE,
        "the baseline no longer matches the model: the feature space changed: added shiny; "
        "removed glossy. If this change is intended, accept it with --featureprobe-update",
        before=edited_baseline(rename_feature),
        passed=1,
    ),
    Case(
        "baseline-of-other-classes",
        DRIFT,
        BASELINE,
        "the baseline no longer matches the model: classes were ['apple', 'banana', 'cherry'], "
        "now ['apple', 'banana', 'lime']",
        before=edited_baseline(lambda data: data.update(classes=["apple", "banana", "cherry"])),
        passed=1,
    ),
    Case(
        "baseline-unknown-format-version",
        DRIFT,
        BASELINE,
        "unsupported baseline format 99 (this version reads 1); recreate it with "
        "--featureprobe-update",
        before=edited_baseline(lambda data: data.update(format=99)),
        passed=1,
    ),
    Case(
        "keras-config-zip-bomb",
        load(),
        f"{BAD}:2: model.load",
        "cannot load m.keras: its 'config.json' would inflate to 41,943,040 bytes (at most "
        "33,554,432); refused as a possible zip bomb (if the model is genuine, "
        "FEATUREPROBE_MAX_MODEL_BYTES raises the limit)",
        files={"m.keras": keras_zip({}, bomb_mib=40)},
    ),
    Case(
        "keras-members-inflate-far-beyond-the-file",
        load(),
        f"{BAD}:2: model.load",
        " (at most 100 times); refused as a possible zip bomb (if the model is genuine, "
        "FEATUREPROBE_MAX_MODEL_RATIO raises the limit)",
        files={
            "m.keras": keras_zip(
                {"config.json": keras_config(), "model.weights.h5": bytes(20 << 20)}
            )
        },
    ),
    Case(
        "keras-member-escaping-assets",
        load(),
        f"{BAD}:2: model.load",
        "cannot load m.keras: it holds 'assets/../../conftest.py', which is not a member of a "
        "Keras 3 archive",
        files={
            "m.keras": keras_zip({"config.json": keras_config(), "assets/../../conftest.py": ""})
        },
    ),
    Case(
        "keras-activation-boston-housing",
        load(),
        f"{BAD}:2: model.load",
        "cannot load m.keras: layer 'dense' names the activation "
        "'keras.datasets.boston_housing.load_data', which is not one of Keras' built-in "
        "activations (allowed: relu, softmax, sigmoid, tanh, ",
        files={"m.keras": keras_zip({"config.json": keras_config(BOSTON)})},
    ),
    Case(
        "keras-layer-of-another-package",
        load(),
        f"{BAD}:2: model.load",
        "cannot load m.keras: layer 'dense' is a layer 'keras.layers.Dense' registered as "
        "'my_package>Dense': a registered name is another package's object",
        files={
            "m.keras": keras_zip({"config.json": keras_config(registered_name="my_package>Dense")})
        },
    ),
    # To come with their implementation: an alias bomb, URLs as paths, paths outside the project
    # root, sha256 pins of model files, a key written twice in one entry.
]

# Cases that load .keras files or train: they import TensorFlow, so they come last.
KERAS_CASES: list[Case] = [
    Case(
        "keras-input-width-mismatch",
        load(),
        f"{BAD}:2: model.load",
        "the model takes 5 inputs but the feature space has 7 features",
        files={"m.keras": KerasFile("width5")},
    ),
    Case(
        "keras-wrong-number-of-classes",
        load(),
        f"{BAD}:2: model.load",
        "Keras model m.keras returned shape (1, 2) for 1 row; expected (1, 3)",
        files={"m.keras": KerasFile("two_classes")},
    ),
    Case(
        "keras-outputs-logits-undeclared",
        load(),
        f"{BAD}:2: model.load",
        "Keras model m.keras does not return probabilities",
        files={"m.keras": KerasFile("linear")},
    ),
    Case(
        "keras-lambda-layer-refused-in-safe-mode",
        load(),
        f"{BAD}:2: model.load",
        "cannot load m.keras in safe mode: it holds a Lambda layer",
        files={"m.keras": KerasFile("lambda")},
    ),
    Case(
        "keras-truncated-file",
        load(),
        f"{BAD}:2: model.load",
        "cannot load m.keras: not a .keras (zip) archive; is it corrupt or truncated?",
        files={"m.keras": KerasFile("dense", keep=4000)},
    ),
    Case(
        "keras-zip-without-a-model",
        load(),
        f"{BAD}:2: model.load",
        "cannot load m.keras: it holds 'notes.txt', which is not a member of a Keras 3 archive",
        files={"m.keras": KerasFile("junk_zip")},
    ),
    Case(
        "cache-entry-truncated-weights",
        train("f.csv"),
        None,
        files={"f.csv": FRUIT_CSV},
        cache=True,
        before=damaged_cache("weights.npz", lambda data: data[:100]),
        check=cache_replaced,
    ),
    Case(
        "cache-entry-garbage-meta",
        train("f.csv"),
        None,
        files={"f.csv": FRUIT_CSV},
        cache=True,
        before=damaged_cache("meta.json", lambda data: b"\x00garbage"),
        check=cache_replaced,
    ),
]


# An error report line; ``featureprobe: training ...`` says a model is being trained (a damaged
# cache entry is retrained), which is not one.
REPORT = r"^featureprobe: (?!training )"


# --- issue 19: paths that cannot be looked at, parser limits, files that are not ours ----------
# (a block of their own, joined to CASES and KERAS_CASES at its end)


def link_loop(name: str) -> Callable[[pytest.Pytester], None]:
    """``name`` made a symbolic link to itself (``Path.resolve`` raises RuntimeError on it)."""

    def before(pytester: pytest.Pytester) -> None:
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(path.name)

    return before


def meta_a_fifo(pytester: pytest.Pytester) -> None:
    """A cache entry whose meta.json is a FIFO, as a restored CI cache archive can hold one."""
    import os

    pytester.runpytest(*QUIET, BAD).assert_outcomes(passed=1)
    meta = cache_entry(pytester) / "meta.json"
    meta.unlink()
    os.mkfifo(meta)


def stale_link_listed(pytester: pytest.Pytester, output: str) -> None:
    line = "baseline unused (no selected expectation file uses it): __featureprobe__/stale.json"
    assert line in output.splitlines(), output


LOOP = "is a symbolic link loop (a link that leads back to itself)"
ISSUE_19_CASES: list[Case] = [
    Case(
        "data-symlink-loop",
        train("loop.csv"),
        f"{BAD}:3: model.train.data",
        f"data file loop.csv {LOOP}",
        before=link_loop("loop.csv"),
    ),
    Case(
        "data-path-with-a-nul-byte",
        train('"a\\0b.csv"'),
        f"{BAD}:3: model.train.data",
        "data file a\\x00b.csv: a file name cannot hold a NUL byte",
    ),
    Case(
        "data-name-too-long",
        train("x" * 300 + ".csv"),
        f"{BAD}:3: model.train.data",
        "(304 characters): the name is too long for the file system",
    ),
    Case(
        "data-csv-cell-over-the-field-limit",
        train("f.csv"),
        f"{BAD}:3: model.train.data",
        "cannot read f.csv: line 2: field larger than field limit (131072)",
        files={"f.csv": 'fruit,kind\n"' + "y" * 140_000 + '",apple,extra\n'},
    ),
    Case(
        "data-json-first-item-not-a-record",
        train("f.json"),
        f"{BAD}:3: model.train.data",
        "cannot read f.json: item 1 of the list is int, not a record",
        files={"f.json": '[5, {"fruit": ["red"], "kind": "apple"}]'},
    ),
    Case(
        "data-json-nested-5000-deep",
        train("f.json"),
        f"{BAD}:3: model.train.data",
        "cannot read f.json: JSON nested too deeply on line 1 (the parser's limit)",
        files={"f.json": "[" * 5000 + "]" * 5000},
    ),
    Case(
        "rows-file-symlink-loop",
        on_file("loop.csv"),
        f"{BAD}:8: expect[1].on",
        f"data file loop.csv {LOOP}",
        before=link_loop("loop.csv"),
        passed=1,
    ),
    Case(
        "baseline-symlink-loop",
        DRIFT,
        BASELINE,
        f"the baseline featureprobe_bad.json {LOOP}",
        before=link_loop(BASELINE),
        passed=1,
    ),
    Case(
        "baseline-stale-link-in-the-baseline-folder",
        HEAD,
        None,
        before=link_loop("__featureprobe__/stale.json"),
        check=stale_link_listed,
    ),
    Case(
        "baseline-declared-package-json-not-replaced",
        entry("drift:\n  baseline: package.json\n  max_flips: 0\n"),
        "package.json",
        "refusing to replace it: package.json is not a featureprobe baseline (38 bytes, 1 line)",
        files={"package.json": '{"scripts": {"format": "prettier ."}}\n'},
        args=("--featureprobe-update",),
        passed=1,
    ),
    Case(
        "baseline-declared-json-schema-not-replaced",
        entry("drift:\n  baseline: schema.json\n  max_flips: 0\n"),
        "schema.json",
        "refusing to replace it: schema.json is not a featureprobe baseline",
        files={"schema.json": '{"properties": {"mail": {"type": "string", "format": "email"}}}\n'},
        args=("--featureprobe-update",),
        passed=1,
    ),
]
ISSUE_19_KERAS_CASES: list[Case] = [
    Case(
        "cache-entry-meta-a-fifo",
        train("f.csv"),
        None,
        files={"f.csv": FRUIT_CSV},
        cache=True,
        before=meta_a_fifo,
        check=cache_replaced,
    ),
]
CASES += ISSUE_19_CASES
KERAS_CASES += ISSUE_19_KERAS_CASES


# --- issue 16: numbers that are not what they stand for, baselines that do not cover their gates,
# special files, encodings (a block of its own, joined to CASES at its end)


def baseline_line_edited(probe: str, old: str, new: str) -> Callable[[pytest.Pytester], dict]:
    """The baseline written, then ``old`` replaced by ``new`` on the line of ``probe`` (a hand
    edit); ``line`` is that line's number."""

    def before(pytester: pytest.Pytester) -> dict[str, Any]:
        path = write_baseline(pytester)
        lines = path.read_text().splitlines()
        number = next(n for n, t in enumerate(lines) if f'"probe": "{probe}"' in t)
        assert old in lines[number], lines[number]
        lines[number] = lines[number].replace(old, new)
        path.write_text("\n".join(lines) + "\n")
        return {"line": number + 1}

    return before


def fifo_at(name: str) -> Callable[[pytest.Pytester], None]:
    """``name`` made a FIFO (its folder made): reading it would block until a writer comes."""

    def before(pytester: pytest.Pytester) -> None:
        import os

        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)

    return before


def folder_at(name: str) -> Callable[[pytest.Pytester], None]:
    def before(pytester: pytest.Pytester) -> None:
        (pytester.path / name).mkdir(parents=True)

    return before


RECREATE = "recreate it with --featureprobe-update"
# drift: line 6, probes: line 7, max_flips: line 8
DECLARED_SET = entry("drift:\n  probes: [zero, red, [green, sour]]\n  max_flips: 0\n")


def baseline_of(text: str) -> Callable[[pytest.Pytester], None]:
    """The baseline written by the bad file as ``text``, then the bad file put back."""

    def before(pytester: pytest.Pytester) -> None:
        path = pytester.path / BAD
        bad = path.read_bytes()
        path.write_text(text)
        write_baseline(pytester)
        path.write_bytes(bad)

    return before


ISSUE_16_CASES: list[Case] = [
    Case(
        "baseline-probability-nan",
        DRIFT,
        f"{BASELINE}:{{line}}",
        f"corrupt baseline: probe red: p[0] is nan (every number of a baseline is finite); "
        f"{RECREATE}",
        before=baseline_line_edited("red", '"p": [0.8,', '"p": [NaN,'),
        passed=1,
    ),
    Case(
        "baseline-probability-a-string",
        DRIFT,
        f"{BASELINE}:{{line}}",
        f'corrupt baseline: probe red: p[0] is "0.8" (not a JSON number); {RECREATE}',
        before=baseline_line_edited("red", '"p": [0.8,', '"p": ["0.8",'),
        passed=1,
    ),
    Case(
        "baseline-probabilities-not-summing-to-1",
        DRIFT,
        f"{BASELINE}:{{line}}",
        "corrupt baseline: probe red: its probabilities (0.5, 0.15, 0.05) sum to 0.7, not 1 "
        f"(within 0.001); {RECREATE}",
        before=baseline_line_edited("red", '"p": [0.8,', '"p": [0.5,'),
        passed=1,
    ),
    Case(
        "baseline-integer-of-5000-digits",
        DRIFT,
        f"{BASELINE}:{{line}}",
        "corrupt baseline: a number of 5,000 digits (a baseline holds probabilities, counts and "
        f"seeds); {RECREATE}",
        before=baseline_line_edited("red", '"p": [0.8,', '"p": [' + "9" * 5000 + ","),
        passed=1,
    ),
    Case(
        "baseline-number-not-finite-elsewhere",
        DRIFT,
        f"{BASELINE}:{{line}}",
        f"corrupt baseline: probe red: extra is inf (every number of a baseline is finite); "
        f"{RECREATE}",
        before=baseline_line_edited("red", '"probe": "red"', '"probe": "red", "extra": 1e999'),
        passed=1,
    ),
    Case(
        "baseline-probe-line-deleted",
        DRIFT,
        BASELINE,
        "the baseline no longer matches the model: it lacks 1 of today's probes up to order 1 "
        "(sour), which would go unchecked",
        before=damaged_baseline(
            lambda text: "\n".join(t for t in text.split("\n") if '"probe": "sour"' not in t)
        ),
        passed=1,
    ),
    Case(
        "data-utf16-csv",
        train("f.csv"),
        f"{BAD}:3: model.train.data",
        "cannot read f.csv: UTF-16 text (UTF-16LE, a byte order mark), not UTF-8; convert it, "
        "e.g. iconv -f UTF-16LE -t UTF-8 f.csv > utf8.csv, or save it as UTF-8",
        files={"f.csv": b"\xff\xfe" + FRUIT_CSV.encode("utf-16-le")},
    ),
    Case(
        "data-utf32-csv",
        train("f.csv"),
        f"{BAD}:3: model.train.data",
        "cannot read f.csv: UTF-32 text (UTF-32BE, a byte order mark), not UTF-8",
        files={"f.csv": b"\x00\x00\xfe\xff" + FRUIT_CSV.encode("utf-32-be")},
    ),
    Case(
        "data-file-a-directory",
        train("f.csv"),
        f"{BAD}:3: model.train.data",
        "data file f.csv is a folder, not a file",
        before=folder_at("f.csv"),
    ),
    Case(
        "data-file-a-fifo",
        train("f.csv"),
        f"{BAD}:3: model.train.data",
        "data file f.csv is not a regular file (a FIFO, device or socket)",
        before=fifo_at("f.csv"),
    ),
    Case(
        "model-sidecar-a-fifo",
        load(extra=""),
        f"{BAD}:2: model.load",
        "the sidecar m.keras.featureprobe.json is not a regular file (a FIFO, device or socket)",
        files={"m.keras": b"PK"},
        before=fifo_at("m.keras.featureprobe.json"),
    ),
    Case(
        "model-sidecar-a-folder",
        load(extra=""),
        f"{BAD}:2: model.load",
        "the sidecar m.keras.featureprobe.json is a folder, not a file",
        files={"m.keras": b"PK"},
        before=folder_at("m.keras.featureprobe.json"),
    ),
    Case(
        "rows-file-a-fifo",
        on_file("rows.csv"),
        f"{BAD}:8: expect[1].on",
        "data file rows.csv is not a regular file (a FIFO, device or socket)",
        before=fifo_at("rows.csv"),
        passed=1,
    ),
    Case(
        "data-file-over-the-size-limit",
        train("f.csv"),
        f"{BAD}:3: model.train.data",
        f"cannot read f.csv: the file is {len(FRUIT_CSV)} bytes; data files are read up to 100 "
        "bytes (set FEATUREPROBE_MAX_DATA_BYTES to a larger number of bytes to read it)",
        files={"f.csv": FRUIT_CSV},
        env={"FEATUREPROBE_MAX_DATA_BYTES": "100"},
    ),
    Case(
        "rows-file-over-the-size-limit",
        on_file("fruits.csv"),
        f"{BAD}:8: expect[1].on",
        "cannot read fruits.csv: the file is 64 bytes; data files are read up to 20 bytes",
        env={"FEATUREPROBE_MAX_DATA_BYTES": "20"},
        passed=1,
    ),
    Case(
        "baseline-lacks-a-declared-probe",
        DECLARED_SET,
        BASELINE,
        "the baseline no longer matches the model: it lacks 1 of the 3 probes drift.probes "
        "declares (red), which would go unchecked",
        before=damaged_baseline(
            lambda text: "\n".join(t for t in text.split("\n") if '"probe": "red"' not in t)
        ),
        passed=1,
    ),
    Case(
        "baseline-holds-probes-not-declared",
        DECLARED_SET.replace("[zero, red, [green, sour]]", "[zero, red]"),
        BASELINE,
        "the baseline no longer matches the model: it holds 1 probe drift.probes does not "
        "declare (green+sour)",
        before=baseline_of(DECLARED_SET),
        passed=1,
    ),
    Case(
        "drift-probes-unknown-feature",
        DECLARED_SET.replace("[green, sour]", "[green, blue]"),
        f"{BAD}:7: drift.probes",
        "probe 'green+blue' names the unknown feature 'blue'",
        passed=1,
    ),
    Case(
        "drift-probes-empty",
        DECLARED_SET.replace("[zero, red, [green, sour]]", "[]"),
        f"{BAD}:7: drift.probes",
        "[] should be non-empty",
    ),
    Case(
        "model-sidecar-class-nan",
        load(extra=""),
        f"{BAD}:2: model.load",
        "m.keras.featureprobe.json: NaN on line 1 is not a finite number (a sidecar's class "
        "names and features are text or finite numbers)",
        files={
            "m.keras": b"PK",
            "m.keras.featureprobe.json": '{"space": {"features": ["red"]}, "classes": [1, NaN]}',
        },
    ),
    Case(
        "model-sidecar-class-overflowing-to-infinity",
        load(extra=""),
        f"{BAD}:2: model.load",
        "m.keras.featureprobe.json: 1e400 on line 2 is not a finite number",
        files={
            "m.keras": b"PK",
            "m.keras.featureprobe.json": '{"space": {"features": ["red"]},\n"classes": [1, 1e400]}',
        },
    ),
    Case(
        "model-sidecar-lone-surrogate",
        load(extra=""),
        f"{BAD}:2: model.load",
        "m.keras.featureprobe.json: line 2 holds the escape \\ud800, half of a UTF-16 pair, "
        "which no file can store as text (a lone surrogate)",
        files={
            "m.keras": b"PK",
            "m.keras.featureprobe.json": '{"space": {"features": ["red"]},\n'
            '"classes": ["a", "b\\ud800"]}',
        },
    ),
    Case(
        "model-feature-space-lone-surrogate",
        load(extra="  features: space.json\n  classes: [apple, banana, lime]\n"),
        f"{BAD}:3: model.features",
        "space.json: line 2 holds the escape \\ud800, half of a UTF-16 pair, which no file can "
        "store as text (a lone surrogate)",
        files={"m.keras": b"PK", "space.json": '{"format": 1,\n "features": ["red\\ud800"]}'},
    ),
    Case(
        "data-json-lone-surrogate",
        train("f.json"),
        f"{BAD}:3: model.train.data",
        "cannot read f.json: line 2 holds the escape \\udc00, half of a UTF-16 pair, which no "
        "file can store as text (a lone surrogate)",
        files={"f.json": '[{"fruit": ["red"], "kind": "apple"},\n {"fruit": ["x\\udc00"]}]'},
    ),
    Case(
        "baseline-lone-surrogate",
        DRIFT,
        f"{BASELINE}:{{line}}",
        "corrupt baseline: it holds the escape \\ud800, half of a UTF-16 pair, which no file can "
        f"store as text (a lone surrogate); {RECREATE}",
        before=baseline_line_edited("red", '"probe": "red"', '"probe": "red\\ud800"'),
        passed=1,
    ),
    Case(
        "threshold-by-nan",
        entry("  - adding: red\n    raises: lime\n    by: .nan\n"),
        f"{BAD}:8",
        "invalid YAML: .nan is not a finite number (thresholds, shares and seeds must be)",
    ),
    Case(
        "threshold-max-abs-delta-nan",
        entry("drift:\n  max_abs_delta: .NaN\n"),
        f"{BAD}:7",
        "invalid YAML: .NaN is not a finite number",
    ),
    Case(
        "threshold-mostly-nan",
        entry("  - every: {order: 1}\n    predicts: apple\n    mostly: .nan\n"),
        f"{BAD}:8",
        "invalid YAML: .nan is not a finite number",
    ),
    Case(
        "threshold-probability-min-infinite",
        entry("  - alone: red\n    probability: {class: apple, min: -.inf}\n"),
        f"{BAD}:7",
        "invalid YAML: -.inf is not a finite number",
    ),
    Case(
        "name-with-a-lone-surrogate",
        entry('  - name: "x\\ud800"\n    alone: red\n    predicts: apple\n'),
        f"{BAD}:6",
        "invalid YAML: the text holds '\\ud800', half of a UTF-16 pair, which no file can store",
    ),
    Case(
        "baseline-a-fifo",
        DRIFT,
        BASELINE,
        "the baseline featureprobe_bad.json is not a regular file (a FIFO, device or socket)",
        before=fifo_at(BASELINE),
        passed=1,
    ),
    Case(
        "model-returns-strings",
        from_fixture("returns_strings"),
        f"{BAD}:2: model.fixture",
        "callable returns_strings.<locals>.predict returned values of dtype <U6, not numbers",
    ),
    Case(
        "model-returns-a-generator",
        from_fixture("returns_a_generator"),
        f"{BAD}:2: model.fixture",
        "callable returns_a_generator.<locals>.predict returned a generator, not an array of "
        "numbers",
    ),
    Case(
        "model-returns-complex-numbers",
        from_fixture("returns_complex"),
        f"{BAD}:2: model.fixture",
        "callable returns_complex.<locals>.predict returned complex numbers, not probabilities",
    ),
    Case(
        "drift-probes-with-order",
        DECLARED_SET.replace("drift:\n", "drift:\n  order: 1\n"),
        f"{BAD}:7: drift.order",
        "drift.probes names every probe the baseline holds; drift.order (every probe up to an "
        "order) would be ignored beside it: remove one",
    ),
    Case(
        "drift-probes-with-interaction",
        DECLARED_SET.replace("drift:\n", "drift:\n  order: 2\n  interaction: 0.3\n"),
        f"{BAD}:9: drift.probes",
        "interaction reads every pair and the zero probe, not a declared set: remove "
        "drift.probes, or interaction",
    ),
]
CASES += ISSUE_16_CASES


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The .keras files of the cases, made once per module: name -> bytes."""
    from pytest_featureprobe.keras_runtime import load_keras

    keras = load_keras()
    folder = tmp_path_factory.mktemp("keras")

    def dense(width: int, outputs: int, activation: str | None = "softmax", lam: bool = False):
        layers = [keras.Input((width,))]
        if lam:
            layers.append(keras.layers.Lambda(lambda x: x * 2.0))
        init = keras.initializers.GlorotUniform(seed=1)
        layers.append(keras.layers.Dense(outputs, activation=activation, kernel_initializer=init))
        return keras.Sequential(layers)

    models = {
        "dense": dense(7, 3),
        "width5": dense(5, 3),
        "two_classes": dense(7, 2),
        "linear": dense(7, 3, activation=None),
        "lambda": dense(7, 3, lam=True),
    }
    files = {}
    for name, model in models.items():
        model.save(folder / f"{name}.keras")
        files[name] = (folder / f"{name}.keras").read_bytes()
    with zipfile.ZipFile(folder / "junk.keras", "w") as archive:
        archive.writestr("notes.txt", "not a model")
    files["junk_zip"] = (folder / "junk.keras").read_bytes()
    return files


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (pytest's cache and bytecode excepted) -> hash of its bytes."""
    skip = {".pytest_cache", "__pycache__"}
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not skip & set(path.relative_to(folder).parts)
    }


def param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


def test_the_corpus_is_large_ids_are_unique_and_tensorflow_cases_come_last():
    ids = [case.id for case in CASES + KERAS_CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 45
    assert not any(case.keras for case in CASES)
    assert all(case.keras for case in KERAS_CASES)


@pytest.mark.parametrize("case", [param(case) for case in CASES + KERAS_CASES])
def test_bad_input(
    case: Case,
    fruit: pytest.Pytester,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = fruit.path
    for variable, value in case.env.items():
        monkeypatch.setenv(variable, value)
    with (folder / "conftest.py").open("a") as stream:
        stream.write(EXTRA_CONFTEST)
    (folder / "featureprobe_good.yaml").write_text(GOOD)
    bad = case.bad if isinstance(case.bad, bytes) else case.bad.encode()
    (folder / BAD).write_bytes(bad)
    for name, content in case.files.items():
        if isinstance(content, KerasFile):
            content = request.getfixturevalue("keras_files")[content.name][: content.keep]
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    values = (case.before(fruit) if case.before else None) or {}
    before = snapshot(folder)

    cache = () if case.cache else ("-p", "no:cacheprovider")
    result = fruit.runpytest(*cache, *QUIET, "-rA", *case.args)
    output = result.stdout.str() + "\n" + result.stderr.str()

    # (1) the one-line report, at the exact place
    if case.where is None:
        assert not re.search(REPORT, output, re.MULTILINE), output
    else:
        where, message = case.where, case.message
        if values:
            where, message = where.format(**values), message.format(**values)
        prefix = f"featureprobe: {where}: "
        lines = output.splitlines()
        found = [n for n, line in enumerate(lines) if line.startswith(prefix)]
        assert found, f"no line starts with {prefix!r}:\n{output}"
        assert any(message in lines[n][len(prefix) :] for n in found), (
            f"{message!r} is not in {[lines[n] for n in found]}"
        )
        for n in found:  # one line: what follows is the next section or the summary
            assert n + 1 == len(lines) or re.match(r"[_=-]|$", lines[n + 1]), lines[n : n + 3]
        reports = [line for line in lines if re.match(REPORT, line)]
        assert all(line.startswith(prefix) for line in reports), reports  # no other error
    # (2) no traceback, no frame of ours
    assert "Traceback" not in output, output
    assert "pytest_featureprobe/" not in output and "pytest_featureprobe\\" not in output, output
    assert not re.search(r"^E\s", output, re.MULTILINE), output
    # (3) nothing on disk changed
    assert snapshot(folder) == before
    # (4) the other file ran and passed, and so did the bad file's good entries
    assert f"PASSED {GOOD_ID}" in output, output
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) == 1 + case.passed + (1 if case.where is None else 0), output
    if case.where is not None:
        assert outcomes.get("failed", 0) + outcomes.get("errors", 0) >= 1, output
    if case.check is not None:
        case.check(fruit, output)
