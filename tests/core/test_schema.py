"""schema.json on its own, as an editor or ``check-jsonschema`` reads it: a real Draft 2020-12
validator (``jsonschema`` itself, none of the plugin's error handling) over every example file
and every case of the bad-input corpus, and the set of corpus cases the schema alone catches
(asserted, so that it cannot silently shrink). YAML is read as the plugin and YAML language
servers read it, YAML 1.2 (``on:`` stays a key), with the plugin's safe loader; a file that is
not readable YAML is not the schema's to judge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_featureprobe.errors import SpecError
from pytest_featureprobe.spec.schema import schema_errors
from pytest_featureprobe.spec.yaml_lines import load_yaml, plain_data
from tests.hardening.test_bad_inputs import CASES, GOOD, KERAS_CASES

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "pytest_featureprobe" / "schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SUBJECTS = ("zero", "alone", "together", "every", "biased_toward", "adding", "top")
EXAMPLES = sorted(ROOT.glob("examples/**/featureprobe_*.y*ml"))

# The corpus cases whose file the schema alone refuses (the others are readable YAML the
# schema accepts: mistakes only the plugin can see, or bad data, models and baselines).
SCHEMA_CATCHES = {
    "drift-probes-empty",
    "entry-negative-by",
    "entry-not-a-mapping",
    "entry-probability-above-1",
    "entry-subject-without-check",
    "entry-two-subjects",
    "entry-unknown-key",
    "entry-wrong-type-number",
    "entry-wrong-type-subject",
    "file-format-version-99",
    "file-no-expectations",
    "file-no-model",
    "file-top-level-list",
    "file-top-level-scalar",
    "file-unknown-top-level-key",
    "model-train-and-load",
    "model-unknown-key",
    "model-unknown-training-option",
}


def document(text: str | bytes) -> Any:
    """The YAML document as plain data, or None where it is not readable YAML."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        return plain_data(load_yaml(text, "f.yaml"))
    except SpecError:
        return None


def errors(data: Any) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(data)]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_example_file_is_valid(path: Path):
    assert len(EXAMPLES) >= 6
    data = document(path.read_text())
    assert data is not None
    assert errors(data) == []


def test_the_corpus_good_file_is_valid():
    assert errors(document(GOOD)) == []


def test_the_corpus_cases_the_schema_alone_catches():
    caught, passed, unreadable = set(), set(), set()
    for case in CASES + KERAS_CASES:
        data = document(case.bad)
        if data is None:
            unreadable.add(case.id)
        elif errors(data):
            caught.add(case.id)
        else:
            passed.add(case.id)
    assert caught == SCHEMA_CATCHES, sorted(caught)
    # Readable, valid to the schema, refused by the plugin: what JSON Schema cannot say.
    assert {"entry-contradictory-bounds", "entry-more-features-than-top"} <= passed
    assert {"entry-duplicate-name", "entry-float-for-integer", "entry-unknown-feature"} <= passed
    assert {"yaml-unclosed-quote", "threshold-by-nan"} <= unreadable


HEAD = "model:\n  fixture: m\nexpect:\n"

# Mistakes of one entry or of the model section that the schema alone refuses, and the line
# the plugin prints for each (file:line: key: message), from the same schema.
REFUSED = {
    "two-subjects": (
        "  - alone: a\n    zero: true\n    predicts: b\n",
        "f.yaml:4: expect[0]: an expectation needs exactly one of zero, alone, together, every, "
        "biased_toward, adding, top (found zero, alone)",
    ),
    "no-subject": (
        "  - predicts: b\n",
        "f.yaml:4: expect[0]: an expectation needs exactly one of zero, alone, together, every, "
        "biased_toward, adding, top (found none)",
    ),
    "raises-with-lowers": (
        "  - adding: a\n    raises: b\n    lowers: c\n",
        "f.yaml:4: expect[0]: adding needs exactly one of raises, lowers or moves_at_most "
        "(found raises, lowers)",
    ),
    "top-without-are-or-include": (
        "  - top: 2\n    toward: b\n",
        "f.yaml:4: expect[0]: top needs exactly one of are or include (found none)",
    ),
    "top-without-toward": (
        "  - top: 2\n    include: [a]\n",
        "f.yaml:4: expect[0]: top needs toward: the class whose attributions are ranked",
    ),
    "a-key-of-another-subject": (
        "  - alone: a\n    predicts: b\n    toward: b\n",
        "f.yaml:6: expect[0].toward: does not go with 'alone'; with 'alone' use predicts, "
        "min_prob, min_margin, probability, mostly, min_fraction",
    ),
    "no-check": (
        "  - together: [a, b]\n",
        "f.yaml:4: expect[0]: 'together' needs a check: predicts, probability or min_margin",
    ),
    "min-prob-without-predicts": (
        "  - alone: a\n    min_margin: 0.1\n    min_prob: 0.5\n",
        "f.yaml:6: expect[0].min_prob: min_prob applies to the predicted class: add predicts",
    ),
    "mostly-on-one-probe": (
        "  - zero: true\n    predicts: b\n    mostly: 0.5\n",
        "f.yaml:6: expect[0].mostly: mostly applies to several probes",
    ),
    "by-with-moves-at-most": (
        "  - adding: a\n    moves_at_most: 0.2\n    by: 0.1\n",
        "f.yaml:6: expect[0].by: by goes with raises or lowers, not moves_at_most",
    ),
    "tolerance-with-by": (
        "  - adding: a\n    raises: b\n    by: 0.1\n    tolerance: 0.1\n",
        "f.yaml:7: expect[0].tolerance: tolerance applies when no 'by' is given",
    ),
    "on-with-context": (
        "  - adding: a\n    raises: b\n    on: training\n    context: zero\n",
        "f.yaml:6: expect[0].on: on: is the older name of context: give one of them",
    ),
    "probability-without-bounds": (
        "  - alone: a\n    probability: {class: b}\n",
        "f.yaml:5: expect[0].probability: give min, max or both",
    ),
    "feature-repeats-in-a-probe": (
        "  - together: [[a, b], [c, c]]\n    predicts: b\n",
        "f.yaml:4: expect[0].together[1]: a feature repeats in a probe",
    ),
}
MODELS = {
    "train-with-load": (
        "model:\n  train: {data: d.csv, features: t, label: y}\n  load: m.keras\n",
        "f.yaml:2: model: give exactly one of train, load or fixture (found train, load)",
    ),
    "classes-with-train": (
        "model:\n  train: {data: d.csv, features: t, label: y}\n  classes: [a, b]\n",
        "f.yaml:3: model.classes: classes belongs inside model.train or is derived from the data",
    ),
    "sha256-with-fixture": (
        f"model:\n  fixture: m\n  sha256: {'a' * 64}\n",
        "f.yaml:3: model.sha256: sha256 pins a model file, so it goes with load: "
        "(this model is fixture:)",
    ),
    "classes-repeat": (
        "model:\n  fixture: m\n  classes: [a, b, a]\n",
        "f.yaml:3: model.classes: class names repeat",
    ),
}
ENTRY = "  - zero: true\n    predicts: b\n"


def _refused():
    for name, (entry, line) in REFUSED.items():
        yield pytest.param(HEAD + entry, line, id=name)
    for name, (model, line) in MODELS.items():
        yield pytest.param(model + "expect:\n" + ENTRY, line, id=name)


@pytest.mark.parametrize("text, line", _refused())
def test_the_schema_alone_refuses_and_the_plugin_says_where_and_why(text, line):
    assert errors(document(text)), "a plain validator accepts it"
    found = schema_errors(load_yaml(text, "f.yaml"), "f.yaml")
    assert len(found) == 1
    assert next(iter(found.values())).describe() == line


def test_each_subject_takes_only_its_own_keys():
    """What an editor completes in an entry once its subject is written."""
    defs = SCHEMA["$defs"]
    keys = {s: set(defs[f"{s}_entry"]["properties"]) for s in SUBJECTS}
    common = {"name", "marks", "context"}
    assert keys["top"] == {"top", "toward", "are", "include"} | common
    assert keys["biased_toward"] == {"biased_toward", "min_margin", "min_fraction"} | common
    assert "raises" in keys["adding"] and "predicts" not in keys["adding"]
    assert keys["alone"] - keys["zero"] == {"alone"}


def test_integers_a_plain_validator_cannot_tell_from_whole_floats():
    """JSON's numbers do not distinguish 2 from 2.0, so a plain validator takes ``top: 2.0``;
    the plugin's validator (the same schema) refuses it, as README lists."""
    text = HEAD + "  - top: 2.0\n    toward: b\n    include: [a]\n"
    assert errors(document(text)) == []
    error = schema_errors(load_yaml(text, "f.yaml"), "f.yaml")[0]
    assert error.describe() == "f.yaml:4: expect[0].top: 2.0 is not of type 'integer'"


def test_a_new_entry_is_offered_the_subjects_only():
    """An editor reads a new list item (``- ``, or ``- a`` half typed) as null or a string, for
    which ``required`` holds vacuously: a guard that is only ``{required: [alone]}`` would apply
    every subject's branch, and yaml-language-server offered all 25 keys there
    (``python -m benchmarks.editor_completion``). Each guard also says ``type: object``, which an
    entry is anyway, so only the branch for an entry without a subject applies."""
    branches = [b for b in SCHEMA["$defs"]["entry"]["allOf"] if "if" in b]
    for item in (None, "a"):
        applying = [b for b in branches if jsonschema.Draft202012Validator(b["if"]).is_valid(item)]
        assert len(applying) == 1
        assert set(applying[0]["then"]["properties"]) == {*SUBJECTS, "name", "marks", "context"}


def test_each_model_kind_takes_only_its_own_keys():
    """What an editor completes in ``model:``: before a kind, the kinds; after one, only the keys
    that go with it. Every key is defined in the branches (the section's own properties only
    name them, hidden from completion), so no kind's key shows under another's."""
    model = SCHEMA["properties"]["model"]
    assert all(p.get("doNotSuggest") for k, p in model["properties"].items() if k != "context")
    offered = {}
    for kind in ("train", "load", "fixture", None):
        instance = {kind: "x"} if kind else {}
        offered[kind] = {
            key
            for branch in model["allOf"]
            if "if" in branch and jsonschema.Draft202012Validator(branch["if"]).is_valid(instance)
            for key, value in branch["then"]["properties"].items()
            if not value.get("doNotSuggest")
        } - {kind}
    # train is validated by the section's own definition (hidden); the branch before a kind
    # offers a copy of what an editor inserts (a $ref beside doNotSuggest loses the key's colon)
    offer = next(b for b in model["allOf"] if "not" in b.get("if", {}))["then"]["properties"]
    train = model["properties"]["train"]
    assert offer["train"] == {k: train[k] for k in ("description", "type", "required", "examples")}
    assert offered == {
        "train": set(),
        "load": {"features", "classes", "outputs", "sha256"},
        "fixture": {"features", "classes", "outputs"},
        None: {"train", "load", "fixture"},
    }


def _properties(node: Any, where: str):
    """Every property schema, with where it is."""
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield f"{where}.{key}", value
            yield from _properties(value, f"{where}.{key}")
        for key, value in node.items():
            if key not in ("properties",) and isinstance(value, dict | list):
                yield from _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _properties(value, f"{where}[{n}]")


def test_every_property_has_a_description_and_an_example_that_is_valid():
    """What an editor shows on hover and inserts on completion: every key of every section
    (drift's too) has a description and examples, and examples and defaults are valid."""
    found = list(_properties(SCHEMA, "#"))
    assert len(found) > 100
    assert {"#.drift.band/oneOf[1].floor", "#.drift.rank.method"} <= {w for w, _ in found}
    for where, prop in found:
        target = SCHEMA["$defs"][prop["$ref"].split("/")[-1]] if "$ref" in prop else prop
        assert target.get("description"), where
        if "errorMessage" in target:  # a key refused in this place
            continue
        if set(target) == {"description", "doNotSuggest"}:  # defined in the branch it goes with
            real = SCHEMA["$defs"][f"model_{where.rsplit('.', 1)[1]}"]
            assert real["description"] == target["description"], where
            continue
        assert target.get("examples"), where
        validator = jsonschema.Draft202012Validator({**target, "$defs": SCHEMA["$defs"]})
        for example in target["examples"] + [target.get("default", target["examples"][0])]:
            assert not list(validator.iter_errors(example)), (where, example)
