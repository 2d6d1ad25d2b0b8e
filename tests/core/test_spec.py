"""spec: expectation files read directly, without pytest. The YAML loader (line numbers, YAML 1.2
scalars, duplicates, aliases), the schema layer, entries and their ids, marks, the drift section
and ``load_document`` end to end. What the plugin makes of these is in tests/plugin and
tests/hardening; here each function is called on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_featureprobe.baseline.checks import (
    BandLimit,
    DriftCheck,
    FlipLimit,
    InteractionTolerance,
    ProbabilityTolerance,
    RankAgreement,
)
from pytest_featureprobe.baseline.seed_band import BAND_FACTOR
from pytest_featureprobe.errors import SpecError
from pytest_featureprobe.expectations import (
    AddingExpectation,
    EveryProbe,
    ProbeExpectation,
    RankingExpectation,
)
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.spec import (
    MAX_ALIAS_EXPANSION,
    DeclaredPath,
    ItemSpec,
    LineDict,
    LineList,
    item_id,
    key_path,
    line_of,
    load_document,
    load_yaml,
    plain_data,
    schema_errors,
)
from pytest_featureprobe.spec.drift import drift_decl
from pytest_featureprobe.spec.entries import bracket_free, entry_item, name_items
from pytest_featureprobe.spec.marks import parse_marks
from pytest_featureprobe.spec.schema import schema
from pytest_featureprobe.spec.yaml_lines import duplicate_key

# --- yaml_lines: containers with line numbers ----------------------------------------------------

NESTED = """\
model:
  fixture: m
expect:
  - alone: [red,
      green]
    predicts: apple

  -
    zero: true
    predicts: lime
"""


def test_mappings_and_sequences_remember_their_lines():
    data = load_yaml(NESTED, "f.yaml")
    assert isinstance(data, LineDict) and data.line == 1
    assert data.key_lines == {"model": 1, "expect": 3}
    expect = data["expect"]
    assert isinstance(expect, LineList)
    assert expect.line == 4  # the block sequence starts at its first dash
    assert expect.item_lines == [4, 9]  # a mapping starts at its first key, below a bare dash
    assert expect[0].key_lines == {"alone": 4, "predicts": 6}
    assert expect[0]["alone"].item_lines == [4, 5]
    assert expect[1].line == 9
    assert data["model"].line == 2


def test_the_containers_compare_as_plain_data():
    data = load_yaml(NESTED, "f.yaml")
    assert data == {
        "model": {"fixture": "m"},
        "expect": [
            {"alone": ["red", "green"], "predicts": "apple"},
            {"zero": True, "predicts": "lime"},
        ],
    }


def test_an_empty_document_is_none():
    assert load_yaml("", "f.yaml") is None
    assert load_yaml("# only a comment\n", "f.yaml") is None


# --- yaml_lines: YAML 1.2 scalars ----------------------------------------------------------------


def test_yaml_1_1_booleans_stay_strings_as_values_and_keys():
    data = load_yaml("on: yes\noff: no\ny: n\nflags: [On, OFF, Yes, NO]\n", "f.yaml")
    assert dict(data) == {"on": "yes", "off": "no", "y": "n", "flags": ["On", "OFF", "Yes", "NO"]}
    assert all(isinstance(key, str) for key in data)


def test_only_true_and_false_are_booleans():
    data = load_yaml("a: [true, True, TRUE, false, False, FALSE, tRUE]\n", "f.yaml")
    assert data["a"] == [True, True, True, False, False, False, "tRUE"]
    assert [type(v) for v in data["a"][:6]] == [bool] * 6


def test_integers_follow_yaml_1_2():
    data = load_yaml(
        "dec: 010\nneg: -5\npos: +3\noct: 0o17\nhex: 0x1F\n010: key\n"
        "under: 1_000\nsexagesimal: 1:20\nbinary: 0b11\nquoted: '010'\n",
        "f.yaml",
    )
    assert dict(data) == {
        "dec": 10,
        "neg": -5,
        "pos": 3,
        "oct": 15,
        "hex": 31,
        10: "key",
        "under": "1_000",
        "sexagesimal": "1:20",
        "binary": "0b11",
        "quoted": "010",
    }


def test_floats_follow_yaml_1_2():
    values = load_yaml("a: [1.5, 1e3, .5, 1.0, -2.5e-3, 1_000.5, 1.2.3]\n", "f.yaml")["a"]
    assert values[:5] == [1.5, 1000.0, 0.5, 1.0, -0.0025]
    assert all(isinstance(v, float) for v in values[:5])
    assert values[5:] == ["1_000.5", "1.2.3"]


@pytest.mark.parametrize("text", [".nan", ".NaN", ".inf", "-.Inf", "+.INF", "1e400", "-1e999"])
def test_a_number_that_is_not_finite_is_refused_at_its_line(text):
    """Every comparison with NaN is false: a threshold of .nan would pass any check."""
    with pytest.raises(SpecError) as info:
        load_yaml(f"expect:\n  - adding: red\n    by: {text}\n", "f.yaml")
    assert info.value.describe() == (
        f"f.yaml:3: invalid YAML: {text} is not a finite number (thresholds, shares and seeds "
        "must be)"
    )
    assert load_yaml(f"name: '{text}'\n", "f.yaml") == {"name": text}  # quoted: a string


def test_null_stays_null():
    assert load_yaml("a: [~, null, ]\n", "f.yaml")["a"] == [None, None]


# --- yaml_lines: duplicate keys ------------------------------------------------------------------

DUPLICATES = """\
model:
  fixture: m
expect:
  - alone: red
    predicts: apple
    predicts: lime
  - zero: true
    predicts: apple
"""


def test_a_duplicate_key_keeps_its_first_value_and_is_noted_with_its_line():
    data = load_yaml(DUPLICATES, "f.yaml")
    entry = data["expect"][0]
    assert entry["predicts"] == "apple"
    assert entry.key_lines["predicts"] == 5
    assert entry.duplicates == [("predicts", 6)]
    assert data.duplicates == [] and data["expect"][1].duplicates == []


def test_duplicate_key_reports_the_line_and_key_path():
    error = duplicate_key(load_yaml(DUPLICATES, "f.yaml"))
    assert isinstance(error, SpecError)
    assert (error.line, error.key) == (6, "expect[0].predicts")
    assert error.message == "duplicate key (each key may appear once)"


def test_duplicate_key_is_none_without_duplicates_and_can_skip_branches():
    assert duplicate_key(load_yaml(NESTED, "f.yaml")) is None
    data = load_yaml(DUPLICATES, "f.yaml")
    assert duplicate_key(data, skip=lambda keys: keys[:1] == ("expect",)) is None


def test_duplicate_key_under_a_prefix_names_the_full_path():
    data = load_yaml(DUPLICATES, "f.yaml")
    error = duplicate_key(data["expect"][0], ("expect", 0))
    assert (error.line, error.key) == (6, "expect[0].predicts")


def test_the_first_duplicate_in_the_file_is_reported_among_nested_ones():
    data = load_yaml("a:\n  b: 1\n  c:\n    d: 1\n    d: 2\n  b: 2\nx: 1\nx: 2\n", "f.yaml")
    error = duplicate_key(data)
    assert (error.line, error.key) == (5, "a.c.d")


def test_a_key_written_after_a_merge_overrides_it_without_a_duplicate():
    data = load_yaml(
        "base: &b {predicts: apple, alone: red}\nuse:\n  <<: *b\n  predicts: lime\n", "f"
    )
    assert dict(data["use"]) == {"predicts": "lime", "alone": "red"}
    assert data["use"].duplicates == []


# --- yaml_lines: aliases -------------------------------------------------------------------------


def aliased(leaves: int, copies: int) -> str:
    """``a`` is a list of ``leaves`` scalars; ``b`` lists it ``copies`` times by alias. The
    aliases add copies * (leaves + 1) nodes beyond the distinct ones."""
    return "a: &a [" + ", ".join(["x"] * leaves) + "]\nb: [" + ", ".join(["*a"] * copies) + "]\n"


def test_aliases_that_expand_to_exactly_the_limit_are_read():
    assert MAX_ALIAS_EXPANSION == 100_000
    data = load_yaml(aliased(999, 100), "f.yaml")  # 100 * 1000 added nodes
    assert len(data["b"]) == 100
    assert data["b"][0] is data["a"] and len(data["a"]) == 999


def test_aliases_that_expand_past_the_limit_are_refused_at_the_key_that_grows():
    with pytest.raises(SpecError) as info:
        load_yaml(aliased(1000, 100), "f.yaml")  # 100 * 1001 added nodes
    error = info.value
    # All nodes: the root, two keys, a (1 + 1000) and b (1 + 100 * 1001).
    assert error.message == (
        "the aliases in this file expand to 101,105 nodes (the limit is 100,000); refused as "
        "an alias bomb"
    )
    assert (error.path, error.line, error.key) == ("f.yaml", 2, "b")


@pytest.mark.parametrize(
    "text, line",
    [("a: &a [1, *a]\n", 1), ("x: 1\nb: &b\n  c: *b\n", 2), ("- &l\n  - - *l\n", 1)],
    ids=["list", "mapping", "nested"],
)
def test_an_alias_inside_the_node_it_names_is_refused(text, line):
    with pytest.raises(SpecError) as info:
        load_yaml(text, "f.yaml")
    assert info.value.message == (
        "an alias refers to the node that contains it (a structure without end)"
    )
    assert (info.value.path, info.value.line) == ("f.yaml", line)  # where the anchor is


def test_a_syntax_error_is_a_spec_error_at_its_line():
    with pytest.raises(SpecError) as info:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    assert info.value.describe() == "f.yaml:3: invalid YAML: expected ',' or ']', but got ':'"


# --- yaml_lines: line_of, key_path, plain_data ---------------------------------------------------


def test_line_of_follows_keys_and_indices():
    data = load_yaml(NESTED, "f.yaml")
    assert line_of(data, ["expect", 1, "predicts"]) == 10
    assert line_of(data, ["expect", 0, "alone", 1]) == 5
    assert line_of(data, ["model", "fixture"]) == 2
    assert line_of(data, []) == 1


def test_line_of_stops_at_the_deepest_entry_it_finds():
    data = load_yaml(NESTED, "f.yaml")
    assert line_of(data, ["expect", 7, "predicts"]) == 3  # no entry 7: the line of expect
    assert line_of(data, ["expect", 1, "min_prob"]) == 9  # no such key: the entry's line
    assert line_of(data, ["expect", "0"]) == 3  # a list is indexed by integers only
    assert line_of(data, ["nothing"]) == 1
    assert line_of({"plain": 1}, ["plain"]) is None


@pytest.mark.parametrize(
    "keys, path",
    [
        (["expect", 2, "predicts"], "expect[2].predicts"),
        (["model", "train", "data"], "model.train.data"),
        (["drift", "calibrate", "seeds", 0], "drift.calibrate.seeds[0]"),
        (["a", 0, 1], "a[0][1]"),
        ([0, "a"], "[0].a"),
        ([], ""),
    ],
)
def test_key_path(keys, path):
    assert key_path(keys) == path


def test_plain_data_drops_the_line_containers_and_stringifies_keys():
    data = load_yaml("010: [a, {b: (1)}]\n", "f.yaml")
    plain = plain_data(data)
    assert plain == {"10": ["a", {"b": "(1)"}]}
    assert type(plain) is dict and type(plain["10"]) is list and type(plain["10"][1]) is dict
    assert plain_data((1, [2])) == [1, [2]]


# --- schema --------------------------------------------------------------------------------------


def test_a_valid_document_has_no_schema_errors():
    text = "featureprobe: 1\nmodel:\n  fixture: m\nexpect:\n  - zero: true\n    predicts: a\n"
    assert schema_errors(load_yaml(text, "f.yaml"), "f.yaml") == {}


def test_schema_errors_are_grouped_by_expectation_with_file_line_and_key():
    text = (
        "model:\n  fixture: m\n"
        "sweep: {order: 9}\n"
        "expect:\n"
        "  - alone: red\n    predicts: apple\n"
        "  - alone: red\n    min_prob: 2\n    predicts: apple\n"
        "  - zero: false\n    predicts: apple\n"
    )
    errors = schema_errors(load_yaml(text, "f.yaml"), "f.yaml")
    assert sorted(errors, key=str) == [1, 2, None]
    assert errors[None].describe() == "f.yaml:3: sweep.order: 9 is greater than the maximum of 4"
    assert errors[1].describe() == (
        "f.yaml:8: expect[1].min_prob: 2 is greater than the maximum of 1"
    )
    assert errors[2].describe() == "f.yaml:10: expect[2].zero: True was expected"
    assert all(isinstance(e, SpecError) for e in errors.values())


def test_a_misspelt_key_is_an_unknown_key_with_a_did_you_mean():
    errors = schema_errors(load_yaml("model:\n  fixture: m\nexpects:\n  - zero: true\n", "f"), "f")
    assert errors[None].describe() == (
        "f:3: expects: unknown key (did you mean 'expect'?); allowed: drift, expect, "
        "featureprobe, model, sweep"
    )
    text = "model:\n  fixture: m\nexpect:\n  - alone: red\n    predcts: apple\n"
    error = schema_errors(load_yaml(text, "f"), "f")[0]
    assert (error.line, error.key) == (5, "expect[0].predcts")
    assert error.message == (  # the keys of an 'alone' entry only
        "unknown key (did you mean 'predicts'?); allowed: alone, context, marks, min_fraction, "
        "min_margin, min_prob, mostly, name, predicts, probability"
    )


def test_a_whole_number_float_is_not_a_schema_integer():
    text = "model:\n  fixture: m\nsweep:\n  order: 2.0\nexpect:\n  - zero: true\n"
    error = schema_errors(load_yaml(text, "f"), "f")[None]
    assert (error.line, error.key, error.message) == (
        4,
        "sweep.order",
        "2.0 is not of type 'integer'",
    )


def test_a_whole_number_float_is_not_an_integer_for_top():
    text = "model:\n  fixture: m\nexpect:\n  - top: 2.0\n    toward: a\n    include: [b]\n"
    error = schema_errors(load_yaml(text, "f"), "f")[0]
    assert error.describe() == "f:4: expect[0].top: 2.0 is not of type 'integer'"


def test_every_number_in_the_schema_has_a_range():
    """Issue 19: a number without a maximum reached NumPy or TensorFlow as it was written."""

    def numbers(node, where):
        if isinstance(node, dict):
            if node.get("type") in ("integer", "number") and "const" not in node:
                yield where, node
            for key, value in node.items():
                yield from numbers(value, f"{where}.{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                yield from numbers(value, f"{where}[{n}]")

    found = list(numbers(schema(), "schema"))
    assert len(found) > 30
    for where, node in found:
        assert {"minimum", "exclusiveMinimum"} & set(node), where
        assert {"maximum", "exclusiveMaximum"} & set(node), where


TRAINED = (
    "model:\n  train:\n    data: d.csv\n    features: t\n    label: y\n    {option}\n"
    "expect:\n  - zero: true\n    predicts: a\n"
)


@pytest.mark.parametrize(
    ("option", "shown"),
    [
        (
            "seed: 4294967296",
            "model.train.seed: 4294967296 is greater than the maximum of 2147483647",
        ),
        (
            "seed: 2147483648",
            "model.train.seed: 2147483648 is greater than the maximum of 2147483647",
        ),
        (
            "steps: 3000000000",
            "model.train.steps: 3000000000 is greater than the maximum of 10000000",
        ),
        ("epochs: 1e20", "model.train.epochs: 1e+20 is not of type 'integer'"),
        ("epochs: 100001", "model.train.epochs: 100001 is greater than the maximum of 100000"),
        ("batch_size: 2000000", "model.train.batch_size: 2000000 is greater than the maximum of"),
        ("hidden: [8, 100000]", "model.train.hidden[1]: 100000 is greater than the maximum of"),
    ],
    ids=["seed-2**32", "seed-2**31", "steps-3e9", "epochs-1e20", "epochs", "batch", "hidden"],
)
def test_a_training_number_out_of_range_is_refused_at_its_line(tmp_path, option, shown):
    path = tmp_path / "f.yaml"
    path.write_text(TRAINED.format(option=option))
    with pytest.raises(SpecError) as info:
        load_document(path)
    assert info.value.describe(tmp_path).startswith(f"f.yaml:6: {shown}")


def test_the_largest_training_numbers_are_read(tmp_path):
    path = tmp_path / "f.yaml"
    option = "seed: 2147483647\n    steps: 10000000\n    batch_size: 1048576"
    path.write_text(TRAINED.format(option=option))
    values = load_document(path).model.values
    assert (values["seed"], values["steps"], values["batch_size"]) == (2**31 - 1, 10**7, 2**20)


@pytest.mark.parametrize(
    ("drift", "shown"),
    [
        (
            "drift:\n  band: true\n  calibrate: {seeds: 5}\n",
            "f.yaml:12: drift.calibrate.seeds: the calibration seeds run from the model's seed "
            "2,147,483,644 to 2,147,483,648, past the largest seed 2,147,483,647: list the seeds, "
            "or lower model.train.seed",
        ),
        (
            "drift:\n  band: true\n",
            "f.yaml:10: drift: the calibration seeds run from the model's seed 2,147,483,644 to "
            "2,147,483,648, past the largest seed 2,147,483,647: list the seeds, or lower "
            "model.train.seed",
        ),
    ],
    ids=["count", "default"],
)
def test_counted_calibration_seeds_past_the_largest_seed_are_refused(tmp_path, drift, shown):
    path = tmp_path / "f.yaml"
    path.write_text(TRAINED.format(option="seed: 2147483644") + drift)
    with pytest.raises(SpecError) as info:
        load_document(path)
    assert info.value.describe(tmp_path) == shown
    path.write_text(TRAINED.format(option="seed: 2147483643") + drift)
    assert load_document(path).drift.calibration_seeds(2147483643)[-1] == 2**31 - 1


def test_listed_calibration_seeds_are_in_range(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(
        TRAINED.format(option="seed: 1") + "drift:\n  band: true\n  calibrate:\n"
        "    seeds: [1, 4294967296]\n"
    )
    with pytest.raises(SpecError) as info:
        load_document(path)
    assert info.value.describe(tmp_path) == (
        "f.yaml:13: drift.calibrate.seeds[1]: 4294967296 is greater than the maximum of 2147483647"
    )


# --- entries: ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, name",
    [
        (("zero", "predicts-A"), "zero-predicts-A"),
        (("alone", "predicts-C", "4"), "alone-4-predicts-C"),
        (("together", "margin", "4+5_1+2"), "together-4+5_1+2-margin"),
        (("alone", "predicts-C", "x[1]"), "alone-x(1)-predicts-C"),
        (("top2", "toward-[c]"), "top2-toward-(c)"),
    ],
)
def test_item_id_joins_subject_probes_and_check_without_brackets(args, name):
    assert item_id(*args) == name


def test_bracket_free():
    assert bracket_free("a [b] [[c]]") == "a (b) ((c))"
    assert bracket_free("plain") == "plain"


def entry(text: str) -> LineDict:
    return load_yaml("expect:\n" + text, "f.yaml")["expect"][0]


@pytest.mark.parametrize(
    "text, name, kind",
    [
        ("  - zero: true\n    predicts: A\n", "zero-predicts-A", ProbeExpectation),
        ("  - biased_toward: A\n", "zero-biased_toward-A", ProbeExpectation),
        ("  - alone: [4, 5]\n    predicts: C\n", "alone-4_5-predicts-C", ProbeExpectation),
        ("  - together: [5, 4]\n    min_margin: 0.1\n", "together-5+4-margin", ProbeExpectation),
        (
            "  - every: {order: 2, containing: 4, except: [2, 6]}\n"
            "    probability: {class: C, min: 0.25}\n",
            "every-order2-containing-4-except-2_6-probability-C-0.25-1",
            ProbeExpectation,
        ),
        ("  - adding: 2\n    raises: A\n    by: 0.2\n", "adding-2-raises-A", AddingExpectation),
        (
            "  - adding: 4\n    moves_at_most: 0.15\n    on: data/rows.csv\n",
            "adding-4-moves_at_most-0.15-on-rows.csv",
            AddingExpectation,
        ),
        ("  - top: 2\n    toward: C\n    include: [4]\n", "top2-toward-C", RankingExpectation),
    ],
)
def test_an_entry_gets_its_expectation_and_derived_name(text, name, kind):
    item = entry_item(entry(text), 2, text, Path("f.yaml"), 0)
    assert item.error is None
    assert item.name == name
    assert not item.explicit_name
    assert isinstance(item.expectation, kind)


def test_an_entry_keeps_its_line_source_index_and_key_lines():
    text = "  - name: red [fruit]\n    alone: red\n    predicts: apple\n"
    item = entry_item(entry(text), 2, "source text", Path("f.yaml"), 3)
    assert item.name == "red (fruit)"  # explicit, brackets replaced
    assert item.explicit_name
    assert (item.line, item.source, item.index) == (2, "source text", 3)
    assert item.key_lines == {"name": 2, "alone": 3, "predicts": 4}
    assert item.line_of("predicts") == 4 and item.line_of("missing") == 2
    assert item.expectation.probes == [("red",)]
    assert item.expectation.predicts == "apple"


def test_the_every_subject_reads_order_containing_and_except():
    text = "  - every: {containing: [4, 5], except: 2}\n    predicts: C\n    mostly: 0.5\n"
    expectation = entry_item(entry(text), 2, text, Path("f.yaml"), 0).expectation
    # Without an order, a probe holds the features it must contain and one more.
    assert expectation.probes == EveryProbe(3, ("4", "5"), ("2",))
    assert expectation.mostly == 0.5
    assert expectation.needed_order() == 1  # only the probes it selects are swept
    space = FeatureSpace.from_names([str(i) for i in range(1, 7)])
    assert expectation.needed_probes(space) == [("1", "4", "5"), ("3", "4", "5"), ("4", "5", "6")]


@pytest.mark.parametrize(
    "text, line, key, message",
    [
        (
            "  - alone: red\n",
            2,
            "expect[4]",
            "'alone' needs a check: predicts, probability or min_margin",
        ),
        (
            "  - alone: red\n    predicts: apple\n    by: 0.1\n",
            4,
            "expect[4].by",
            "does not go with 'alone'; with 'alone' use predicts, min_prob, min_margin, "
            "probability, mostly, min_fraction",
        ),
        (
            "  - alone: red\n    probability: {class: apple, min: 0.8, max: 0.2}\n",
            3,
            "expect[4].probability",
            "min 0.8 is above max 0.2",
        ),
        (
            "  - together: [red, red]\n    predicts: apple\n",
            2,
            "expect[4].together",
            "a feature repeats in ['red', 'red']",
        ),
        (
            "  - adding: red\n    raises: apple\n    lowers: lime\n",
            2,
            "expect[4]",
            "adding needs exactly one of raises, lowers or moves_at_most (found raises, lowers)",
        ),
        (
            "  - top: 1\n    toward: apple\n    are: [red, green]\n",
            4,
            "expect[4].are",
            "2 features cannot fit in the top 1",
        ),
        (
            "  - alone: red\n    zero: true\n    predicts: apple\n",
            2,
            "expect[4]",
            "an expectation needs exactly one of zero, alone, together, every, biased_toward, "
            "adding, top (found zero, alone)",
        ),
    ],
    ids=["no-check", "foreign-key", "bounds", "repeat", "two-kinds", "top-too-small", "subjects"],
)
def test_an_entry_error_is_kept_on_its_item_at_its_key(text, line, key, message):
    item = entry_item(entry(text), 2, text, Path("f.yaml"), 4)
    assert item.expectation is None
    assert item.name == "expect-4"
    error = item.error
    assert (error.path, error.line, error.key, error.message) == ("f.yaml", line, key, message)


def test_an_entry_error_keeps_an_explicit_name():
    text = "  - name: mine\n    alone: red\n"
    item = entry_item(entry(text), 2, text, Path("f.yaml"), 0)
    assert item.error is not None and item.name == "mine"


# --- entries: names ------------------------------------------------------------------------------


def named_items(*names: str | tuple[str, bool]) -> list[ItemSpec]:
    made = []
    for n, name in enumerate(names):
        name, explicit = name if isinstance(name, tuple) else (name, False)
        key_lines = {"name": 10 * n + 2} if explicit else {}
        made.append(
            ItemSpec(name, 10 * n + 1, "", explicit_name=explicit, index=n, key_lines=key_lines)
        )
    return made


def test_derived_names_that_repeat_are_numbered_from_two():
    named = named_items("a", "b", "a", "a", "b")
    name_items(named, Path("f.yaml"))
    assert [i.name for i in named] == ["a", "b", "a-2", "a-3", "b-2"]
    assert all(i.error is None for i in named)


def test_a_number_already_taken_is_skipped():
    named = named_items("a-2", "a", "a")
    name_items(named, Path("f.yaml"))
    assert [i.name for i in named] == ["a-2", "a", "a-3"]


def test_an_explicit_name_given_twice_is_refused_at_its_name_key():
    named = named_items(("same", True), "other", ("same", True))
    name_items(named, Path("f.yaml"))
    error = named[2].error
    assert error.describe() == "f.yaml:22: expect[2].name: duplicate name 'same' (also on line 1)"
    assert named[2].name == "same-2"  # ids stay unique
    assert named[0].error is None


def test_an_explicit_name_that_repeats_a_derived_one_is_refused_and_not_the_other_way():
    named = named_items("zero-predicts-A", ("zero-predicts-A", True))
    name_items(named, Path("f.yaml"))
    assert named[1].error.message == "duplicate name 'zero-predicts-A' (also on line 1)"
    derived_after = named_items(("mine", True), "mine")
    name_items(derived_after, Path("f.yaml"))
    assert [i.error for i in derived_after] == [None, None]
    assert [i.name for i in derived_after] == ["mine", "mine-2"]


def test_an_explicit_duplicate_keeps_an_error_it_already_has():
    named = named_items(("same", True), ("same", True))
    earlier = SpecError("its own mistake")
    named[1].error = earlier
    name_items(named, Path("f.yaml"))
    assert named[1].error is earlier


# --- marks ---------------------------------------------------------------------------------------


def test_marks_are_read_as_plain_data():
    assert parse_marks(
        [
            "slow",
            {"skip": "not today"},
            {"skip": 3},
            {"skipif": None},
            {"xfail": {"condition": True, "reason": "known", "strict": True}},
            {"skipif": {"condition": False, "reason": "never"}},
            {"xfail": {"reason": "no condition"}},
            {"timeout": {"seconds": 5}},
        ]
    ) == [
        ("slow", (), {}),
        ("skip", (), {"reason": "not today"}),
        ("skip", (), {"reason": "3"}),
        ("skipif", (), {}),
        ("xfail", (True,), {"reason": "known", "strict": True}),
        ("skipif", (False,), {"reason": "never"}),
        ("xfail", (), {"reason": "no condition"}),
        ("timeout", (), {"seconds": 5}),
    ]
    assert parse_marks([]) == []


@pytest.mark.parametrize(
    "mark, message",
    [
        (
            {"skipif": {"condition": "sys.platform == 'win32'"}},
            "skipif.condition must be true or false: pytest would evaluate a string as Python",
        ),
        ({"xfail": {"condition": "yes"}}, "xfail.condition must be true or false"),
        ({"xfail": {"condition": 1}}, "xfail.condition must be true or false"),
        # pytest itself refuses a true/false condition without a reason, at run time
        ({"skipif": {"condition": False}}, "skipif with a condition needs a reason"),
        ({"xfail": {"condition": True}}, "xfail with a condition needs a reason"),
        ({"xfail": {"raises": "ValueError"}}, "xfail.raises names a Python class: not in YAML"),
        ("parametrize", "the 'parametrize' mark does not apply to an expectation"),
        ({"usefixtures": "db"}, "the 'usefixtures' mark does not apply to an expectation"),
        ("filterwarnings", "the 'filterwarnings' mark does not apply to an expectation"),
        ("not-a-name", "'not-a-name' is not a mark name"),
        ({3: "x"}, "3 is not a mark name"),
        # pytest's own marks take their own keywords, of their own types (not pytest's traceback)
        ({"skip": {"reason": 5}}, "skip.reason must be text, not 5"),
        ({"xfail": {"strict": "yes"}}, "xfail.strict must be true or false, not 'yes'"),
        ({"xfail": {"reason": "r", "run": 0}}, "xfail.run must be true or false, not 0"),
        ({"skip": {"because": "x"}}, "the skip mark has no keyword 'because' (it takes reason)"),
        (
            {"skipif": {"condition": True, "reason": "r", "when": 1}},
            "the skipif mark has no keyword 'when' (it takes condition, reason)",
        ),
        ({"skip": {"bad-key": 1}}, "'bad-key' is not a keyword of the skip mark"),
        ({"skip": {"reason": ["a"]}}, "skip.reason must be a plain value"),
        ({"custom": {"options": {"a": 1}}}, "custom.options must be a plain value"),
    ],
)
def test_marks_that_are_not_data_are_refused(mark, message):
    with pytest.raises(SpecError) as info:
        parse_marks([mark])
    assert info.value.message.startswith(message)
    assert info.value.key == "marks"


# --- drift ---------------------------------------------------------------------------------------

DRIFT = """\
drift:
  order: 2
  per_probe: {"5+4": 0.3}
  max_abs_delta: 0.05
  rank: {min: 0.8, top_k: 3, min_overlap: 2}
  allow_flips: [zero, [4, 5]]
  interaction: 0.2
  per_order: {"2": 0.1}
  band: {max_score: 3.0}
  calibrate: {seeds: [3, 1, 2]}
  max_flips: 1
"""


def drift_of(text: str, model_kind: str = "train"):
    data = load_yaml(text, "f.yaml")
    return drift_decl(
        data["drift"], text.splitlines(), Path("f.yaml"), model_kind, data.key_lines["drift"]
    )


def test_drift_gates_are_the_declared_gates_with_their_values():
    gates = drift_of(DRIFT).gates()
    assert list(gates) == ["flips", "max_abs_delta", "rank", "interaction", "band"]
    assert gates["flips"] == FlipLimit(1, ["zero", [4, 5]])
    # per_order keys are orders (integers); per_probe names stay as written.
    assert gates["max_abs_delta"] == ProbabilityTolerance(0.05, {2: 0.1}, {"5+4": 0.3})
    assert gates["rank"] == RankAgreement("spearman", 0.8, 3, 2)
    assert gates["interaction"] == InteractionTolerance(0.2)
    assert gates["band"] == BandLimit(3.0, BAND_FACTOR)


def test_drift_drift_itemsare_one_per_gate_at_the_line_of_its_first_key():
    drift_items = drift_of(DRIFT).items()
    assert [(i.name, i.line) for i in drift_items] == [
        ("drift-flips", 6),  # allow_flips (line 6) comes before max_flips (line 11)
        ("drift-max_abs_delta", 3),
        ("drift-rank", 5),
        ("drift-interaction", 7),
        ("drift-band", 9),
    ]
    assert drift_items[0].source == "drift:\n  allow_flips: [zero, [4, 5]]\n  max_flips: 1"
    assert drift_items[1].source == (
        'drift:\n  per_probe: {"5+4": 0.3}\n  max_abs_delta: 0.05\n  per_order: {"2": 0.1}'
    )
    for item in drift_items:
        assert item.index is None and item.error is None
        assert isinstance(item.expectation, DriftCheck)
        assert item.expectation.order == 2
    assert [i.expectation.gate.kind for i in drift_items] == [
        "flips",
        "max_abs_delta",
        "rank",
        "interaction",
        "band",
    ]


def test_drift_gates_take_their_defaults():
    gates = drift_of(
        "drift:\n  per_order: {1: 0.2}\n  rank: {top_k: 2}\n  allow_flips: [4]\n"
    ).gates()
    assert gates["flips"] == FlipLimit(0, [4])
    assert gates["max_abs_delta"] == ProbabilityTolerance(1.0, {1: 0.2}, {})
    assert gates["rank"] == RankAgreement("spearman", None, 2, None)


def test_a_band_alone_is_a_band_with_default_settings_and_five_seeds():
    drift = drift_of("drift:\n  band: true\n")
    assert drift.values == {"band": {}, "calibrate": {}}
    assert drift.gates() == {"band": BandLimit(None, BAND_FACTOR)}
    assert [i.name for i in drift.items()] == ["drift-band"]
    assert drift.calibration_seeds(7) == [7, 8, 9, 10, 11]
    assert drift.order is None and drift.baseline is None


def test_calibration_seeds_from_a_count_and_from_a_list():
    counted = drift_of("drift:\n  band: {factor: 2}\n  calibrate: {seeds: 3}\n")
    assert counted.calibration_seeds(0) == [0, 1, 2]
    assert counted.calibration_seeds(10) == [10, 11, 12]
    assert counted.gates()["band"] == BandLimit(None, 2)
    assert drift_of(DRIFT).calibration_seeds(10) == [3, 1, 2]


def test_drift_keeps_where_it_is():
    drift = drift_of("x: 1\ndrift:\n  baseline: base/b.json\n  max_flips: 0\n")
    assert (drift.line, drift.baseline, drift.path) == (2, "base/b.json", Path("f.yaml"))
    assert drift.key_lines == {"baseline": 3, "max_flips": 4}


@pytest.mark.parametrize(
    "body, kind, line, key, message",
    [
        (
            "  baseline: b.txt\n  max_flips: 0\n",
            "train",
            2,
            "drift.baseline",
            "a baseline is a .json",
        ),
        ("  interaction: 0.1\n", "train", 2, "drift.interaction", "interaction compares pairs"),
        ("  order: 0\n  rank: {min: 0.5}\n", "train", 3, "drift.rank", "rank compares single"),
        ("  band: true\n", "load", 2, "drift.band", "the seed band retrains the model"),
        (
            "  calibrate: {seeds: 3}\n  max_flips: 0\n",
            "train",
            2,
            "drift.calibrate",
            "calibrate stores a seed band that only the band check reads: add band",
        ),
        (
            "  band: true\n  calibrate: {seeds: [1, 1]}\n",
            "train",
            3,
            "drift.calibrate.seeds",
            "calibration seeds repeat",
        ),
        ("  rank: {method: kendall}\n", "train", 2, "drift.rank", "rank needs min"),
        (
            "  rank: {top_k: 2, min_overlap: 3}\n",
            "train",
            2,
            "drift.rank.min_overlap",
            "min_overlap is larger than top_k",
        ),
        ("  order: 1\n  baseline: x.json\n", "train", 1, "drift", "declare at least one drift"),
        (
            "  order: 1\n  per_order: {1: 0.2, 3: 0.1}\n",
            "train",
            3,
            "drift.per_order",
            "per_order 3 is above drift.order 1: the baseline holds no probe of that order",
        ),
    ],
)
def test_drift_settings_that_cannot_work_are_refused_at_their_keys(body, kind, line, key, message):
    with pytest.raises(SpecError) as info:
        drift_of("drift:\n" + body, kind)
    error = info.value
    assert (error.path, error.line, error.key) == ("f.yaml", line, key)
    assert error.message.startswith(message)


# --- document: load_document end to end ----------------------------------------------------------

DOCUMENT = """\
featureprobe: 1
model:
  load: models/m.keras
  features: space.json
  classes: [A, C]
sweep:
  order: 1
expect:
  - alone: [4, 5]
    predicts: C
  - together: [5, 4]
    predicts: C
  - adding: 2
    raises: A
    on: rows.csv
  - every: {order: 3}
    predicts: A
    mostly: 0.5
  - adding: 6
    lowers: A
    on: training
drift:
  baseline: base/b.json
  max_flips: 0
  max_abs_delta: 0.1
"""


@pytest.fixture
def document_path(tmp_path: Path) -> Path:
    path = tmp_path / "featureprobe_doc.yaml"
    path.write_text(DOCUMENT)
    return path


def test_load_document_reads_model_drift_itemsand_drift(document_path):
    document = load_document(document_path)
    assert document.path == document_path
    model = document.model
    assert (model.kind, model.values, model.features, model.classes) == (
        "load",
        {"target": "models/m.keras"},
        "space.json",
        ["A", "C"],
    )
    assert (model.line, model.key_lines["load"], model.key_lines["features"]) == (3, 3, 4)
    assert document.order == 1
    assert [(i.name, i.line, i.index) for i in document.items] == [
        ("alone-4_5-predicts-C", 9, 0),
        ("together-5+4-predicts-C", 11, 1),
        ("adding-2-raises-A-on-rows.csv", 13, 2),
        ("every-order3-predicts-A", 16, 3),
        ("adding-6-lowers-A-on-training", 19, 4),
        ("drift-flips", 24, None),
        ("drift-max_abs_delta", 25, None),
    ]
    assert document.items[1].source == "  - together: [5, 4]\n    predicts: C"
    assert all(i.error is None for i in document.items)
    assert document.drift.baseline == "base/b.json"


def test_declared_paths_are_the_files_the_document_names(document_path):
    document = load_document(document_path)
    adding = document.items[2]
    assert document.declared_paths() == [
        DeclaredPath("model.load", 3, "models/m.keras"),
        DeclaredPath("model.features", 4, "space.json"),
        DeclaredPath("expect[2].on", 15, "rows.csv", adding),  # 'training' is no file
        DeclaredPath("drift.baseline", 23, "base/b.json"),
    ]


def test_declared_paths_of_a_trained_model_name_its_data(tmp_path):
    path = tmp_path / "featureprobe_train.yaml"
    path.write_text(
        "model:\n  train:\n    data: d.csv\n    features: t\n    label: y\n"
        "expect:\n  - zero: true\n    predicts: A\n"
    )
    document = load_document(path)
    assert document.model.kind == "train"
    assert document.model.values == {"data": "d.csv", "features": "t", "label": "y"}
    assert document.model.key_lines["train.data"] == 3
    assert document.declared_paths() == [DeclaredPath("model.train.data", 3, "d.csv")]


def test_refuse_path_puts_the_error_where_it_belongs(document_path):
    document = load_document(document_path)
    model, features, on, baseline = document.declared_paths()
    on_error = SpecError("refused on")
    assert document.refuse_path(on, on_error) is None
    assert document.items[2].error is on_error
    assert [i.error for i in document.items if i is not document.items[2]] == [None] * 6

    baseline_error = SpecError("refused baseline")
    assert document.refuse_path(baseline, baseline_error) is None
    assert [i.error for i in document.items[-2:]] == [baseline_error, baseline_error]
    assert [i.error for i in document.items[:5]] == [None, None, on_error, None, None]

    model_error = SpecError("refused model")
    assert document.refuse_path(model, model_error) is model_error  # the whole file's
    assert document.refuse_path(features, model_error) is model_error


def test_refuse_path_keeps_an_error_an_item_already_has(document_path):
    document = load_document(document_path)
    on = document.declared_paths()[2]
    first = SpecError("first")
    document.refuse_path(on, first)
    document.refuse_path(on, SpecError("second"))
    assert document.items[2].error is first


@pytest.mark.parametrize(
    "change, order",
    [
        ((), 3),  # every: {order: 3}, above sweep.order 1
        (("  - every: {order: 3}\n    predicts: A\n    mostly: 0.5\n", ""), 1),
        (("  - every: {order: 3}\n", "  - every: {order: 1}\n"), 1),
        (("sweep:\n  order: 1\n", "sweep:\n  order: 2\n"), 3),
        (("drift:\n", "drift:\n  order: 4\n"), 4),
        (("sweep:\n  order: 1\n", "sweep:\n  order: 4\n"), 4),
    ],
)
def test_sweep_order_is_the_highest_order_needed(tmp_path, change, order):
    path = tmp_path / "featureprobe_doc.yaml"
    path.write_text(DOCUMENT.replace(*change) if change else DOCUMENT)
    assert load_document(path).sweep_order() == order


def test_sweep_order_is_at_least_one(tmp_path):
    path = tmp_path / "featureprobe_zero.yaml"
    path.write_text("model:\n  fixture: m\nexpect:\n  - zero: true\n    predicts: A\n")
    assert load_document(path).sweep_order() == 1


def test_extra_probes_are_those_the_expectations_name(document_path):
    document = load_document(document_path)
    assert document.extra_probes() == [("4",), ("5",), ("5", "4"), ("2",), ("6",)]
    space = FeatureSpace.from_names(["2", "4", "6"])
    assert document.extra_probes(space) == [("4",), ("2",), ("6",)]


def test_an_entry_error_stays_on_its_item_and_the_others_load(tmp_path):
    path = tmp_path / "featureprobe_mixed.yaml"
    path.write_text(
        "model:\n  fixture: m\nexpect:\n"
        "  - zero: true\n    predicts: A\n"
        "  - name: broken\n    alone: x\n    min_prob: 2\n    predicts: A\n"
        "  - alone: y\n    predicts: A\n    predicts: B\n"
        "  - alone: z\n"
    )
    document = load_document(path)
    assert [i.name for i in document.items] == ["zero-predicts-A", "broken", "expect-2", "expect-3"]
    assert document.items[0].error is None
    described = [i.error.describe(tmp_path) for i in document.items[1:]]
    assert described == [
        "featureprobe_mixed.yaml:8: expect[1].min_prob: 2 is greater than the maximum of 1",
        "featureprobe_mixed.yaml:12: expect[2].predicts: duplicate key (each key may appear once)",
        "featureprobe_mixed.yaml:13: expect[3]: 'alone' needs a check: predicts, probability or "
        "min_margin",
    ]


@pytest.mark.parametrize(
    "text, shown",
    [
        ("- a\n- b\n", "f.yaml:1: an expectation file is a mapping with 'model' and 'expect'"),
        ("just text\n", "f.yaml:1: an expectation file is a mapping with 'model' and 'expect'"),
        (
            "model:\n  fixture: m\n  load: m.keras\nexpect:\n  - zero: true\n",
            "f.yaml:2: model: give exactly one of train, load or fixture (found load, fixture)",
        ),
        (
            "model:\n  train: {data: d.csv, features: t, label: y}\n  classes: [a, b]\n"
            "expect:\n  - zero: true\n",
            "f.yaml:3: model.classes: classes belongs inside model.train or is derived from the "
            "data",
        ),
        (
            "model:\n  fixture: m\n  sha256: " + "a" * 64 + "\nexpect:\n  - zero: true\n",
            "f.yaml:3: model.sha256: sha256 pins a model file, so it goes with load: (this model "
            "is fixture:)",
        ),
        (
            "model:\n  fixture: m\n  classes: [1, 1.0]\nexpect:\n  - zero: true\n",
            "f.yaml:3: model.classes: class names repeat",
        ),
        (
            "model:\n  fixture: m\nexpect:\n  - zero: true\n    predicts: A\n"
            "drift:\n  interaction: 0.1\n",
            "f.yaml:7: drift.interaction: interaction compares pairs: set drift.order to 2 or more",
        ),
    ],
    ids=["list", "scalar", "two-models", "train-classes", "sha-fixture", "classes-repeat", "drift"],
)
def test_a_whole_file_mistake_raises_at_its_line(tmp_path, text, shown):
    path = tmp_path / "f.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_document(path)
    assert info.value.describe(tmp_path) == shown


def test_a_file_that_is_not_utf8_is_refused_at_the_line_of_the_bad_byte(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes(b"model:\n  fixture: m\nexpect:\n  - alone: caf\xe9\n")
    with pytest.raises(SpecError) as info:
        load_document(path)
    assert info.value.describe(tmp_path) == (
        "f.yaml:4: not UTF-8 text (byte 0xe9 on line 4); save it as UTF-8"
    )


def test_a_file_that_cannot_be_read_is_refused(tmp_path):
    with pytest.raises(SpecError) as info:
        load_document(tmp_path / "missing.yaml")
    assert info.value.message.startswith("cannot read the file: ")
    assert info.value.path == str(tmp_path / "missing.yaml")


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff"])
def test_a_lone_surrogate_is_refused_at_its_line(escape):
    """Written back (a baseline, pytest's cache, the report) it would fail with a traceback."""
    text = f'model:\n  fixture: m\nexpect:\n  - name: "x{escape}"\n'
    with pytest.raises(SpecError) as info:
        load_yaml(text, "f.yaml")
    shown = repr(escape.encode().decode("unicode_escape"))
    assert info.value.describe() == (
        f"f.yaml:4: invalid YAML: the text holds {shown}, half of a UTF-16 pair, which no file "
        "can store"
    )
    assert load_yaml('a: "\\u00e9\\U0001F600"\n', "f.yaml") == {"a": "\u00e9\U0001f600"}
