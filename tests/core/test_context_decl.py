"""context_decl: every form of the ``context:`` key read into a ``ContextDecl`` (kind, rows,
sample, seed, where, reference), written back by ``value()`` and ``definition()``, and every
mistake a SpecError at its key and at the line of the sub-key it concerns."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from pytest_featureprobe.errors import SpecError
from pytest_featureprobe.spec import load_document, load_yaml
from pytest_featureprobe.spec.context_decl import ContextDecl, context_decl

# --- the forms --------------------------------------------------------------------------------

FORMS = [
    # (as written in YAML, kind, rows, sample, seed, where, reference)
    ("zero", "zero", None, None, 0, (), ()),
    ("training", "rows", "training", None, 0, (), ()),
    ("mode", "mode", "training", None, 0, (), ()),
    ("holdout.csv", "rows", "holdout.csv", None, 0, (), ()),
    ("data/holdout.jsonl", "rows", "data/holdout.jsonl", None, 0, (), ()),
    ("{rows: training}", "rows", "training", None, 0, (), ()),
    ("{rows: holdout.csv}", "rows", "holdout.csv", None, 0, (), ()),
    ("{rows: training, sample: 200, seed: 1}", "rows", "training", 200, 1, (), ()),
    ("{rows: holdout.csv, sample: 5}", "rows", "holdout.csv", 5, 0, (), ()),
    (
        "{rows: training, where: {island: Dream, sex: male}}",
        "rows",
        "training",
        None,
        0,
        (("island", "Dream"), ("sex", "male")),
        (),
    ),
    ("{rows: training, where: {4: true}}", "rows", "training", None, 0, (("4", True),), ()),
    (
        "{rows: holdout.csv, where: {island: Dream}, sample: 3, seed: 7}",
        "rows",
        "holdout.csv",
        3,
        7,
        (("island", "Dream"),),
        (),
    ),
    ("{reference: mode}", "mode", "training", None, 0, (), ()),
    ("{reference: mode, rows: holdout.csv}", "mode", "holdout.csv", None, 0, (), ()),
    ("{reference: mode, rows: training, sample: 10}", "mode", "training", 10, 0, (), ()),
    (
        "{reference: [{island: Dream, sex: male}, {island: Biscoe, sex: female}]}",
        "reference",
        None,
        None,
        0,
        (),
        ((("island", "Dream"), ("sex", "male")), (("island", "Biscoe"), ("sex", "female"))),
    ),
    # A token column takes a list; numbers are feature names (strings), as everywhere.
    (
        "{reference: [{problems: [1, 2], band: 3}]}",
        "reference",
        None,
        None,
        0,
        (),
        ((("problems", ("1", "2")), ("band", "3")),),
    ),
]


def read(text: str, key: str = "model.context", line: int = 3, path: Path | None = None):
    """The ``context:`` value of ``text`` as the loader gives it (LineDicts with lines)."""
    document = load_yaml(f"model:\n  fixture: m\n  context: {text}\n", "x.yaml")
    return context_decl(document["model"]["context"], key, line, path)


@pytest.mark.parametrize(
    ("text", "kind", "rows", "sample", "seed", "where", "reference"),
    FORMS,
    ids=[f[0] for f in FORMS],
)
def test_each_form_parses_to_its_declaration(text, kind, rows, sample, seed, where, reference):
    decl = read(text)
    assert (decl.kind, decl.rows, decl.sample, decl.seed) == (kind, rows, sample, seed)
    assert decl.where == where
    assert decl.reference == reference
    assert (decl.key, decl.line) == ("model.context", 3)
    assert decl.is_zero == (kind == "zero")
    assert decl.names_training == (rows == "training")
    assert decl.data_file == (None if rows in (None, "training") else rows)


@pytest.mark.parametrize("text", [f[0] for f in FORMS])
def test_value_reads_back_to_the_same_declaration(text):
    decl = read(text)
    again = context_decl(decl.value(), "expect[0].context", 9)
    assert again == decl
    assert hash(again) == hash(decl)  # the runner keys its sweeps by declaration
    assert (again.key, again.line) == ("expect[0].context", 9)
    # value() is what a file writes: it loads through YAML as written (json is YAML).
    reloaded = read(json.dumps(decl.value()))
    assert reloaded == decl


@pytest.mark.parametrize("text", [f[0] for f in FORMS])
def test_definition_is_plain_data_that_names_the_declaration(text):
    decl = read(text)
    definition = decl.definition()
    assert definition["kind"] == decl.kind
    assert definition.get("rows") == decl.rows
    assert json.loads(decl.label()) == json.loads(json.dumps(definition))
    assert decl.label() == json.dumps(definition, sort_keys=True)
    if decl.sample is not None:
        assert (definition["sample"], definition["seed"]) == (decl.sample, decl.seed)
    else:
        assert "sample" not in definition and "seed" not in definition
    assert definition.get("where", {}) == dict(decl.where)
    assert len(definition.get("reference", [])) == len(decl.reference)


def test_definitions_and_values_written_out():
    assert read("zero").definition() == {"kind": "zero"}
    assert read("zero").value() == "zero"
    assert read("training").definition() == {"kind": "rows", "rows": "training"}
    assert read("training").value() == "training"
    assert read("mode").definition() == {"kind": "mode", "rows": "training"}
    assert read("mode").value() == "mode"
    assert read("holdout.csv").value() == "holdout.csv"
    narrowed = read("{rows: training, sample: 200, seed: 1, where: {island: Dream}}")
    assert narrowed.definition() == {
        "kind": "rows",
        "rows": "training",
        "sample": 200,
        "seed": 1,
        "where": {"island": "Dream"},
    }
    assert narrowed.value() == {
        "rows": "training",
        "sample": 200,
        "seed": 1,
        "where": {"island": "Dream"},
    }
    # A sample without a seed is drawn with seed 0, and says so.
    assert read("{rows: x.csv, sample: 4}").value() == {"rows": "x.csv", "sample": 4, "seed": 0}
    assert read("{reference: mode, rows: x.csv}").value() == {"rows": "x.csv", "reference": "mode"}
    assert read("{reference: [{island: Dream}]}").definition() == {
        "kind": "reference",
        "reference": [{"island": "Dream"}],
    }
    assert read("{reference: [{island: Dream}]}").value() == {"reference": [{"island": "Dream"}]}


def test_value_names_the_rows_as_another_file_would():
    """``value(rows)``: the data file as a file in another folder names it (record writes it)."""
    assert read("holdout.csv").value("../data/holdout.csv") == "../data/holdout.csv"
    sampled = read("{rows: holdout.csv, sample: 5, seed: 2}")
    moved = sampled.value("../data/holdout.csv")
    assert moved == {"rows": "../data/holdout.csv", "sample": 5, "seed": 2}
    assert context_decl(moved, "model.context", 1) == ContextDecl(
        "rows", "../data/holdout.csv", 5, 2
    )
    mode = read("{reference: mode, rows: holdout.csv}").value("../h.csv")
    assert mode == {"rows": "../h.csv", "reference": "mode"}
    assert read("zero").value("elsewhere.csv") == "zero"


def test_key_and_line_do_not_make_two_declarations_differ():
    one = context_decl("training", "model.context", 3)
    other = context_decl("training", "expect[4].context", 17)
    assert one == other and hash(one) == hash(other)
    assert {one: 1}[other] == 1
    assert context_decl("training", "k", 1) != context_decl("mode", "k", 1)
    assert read("{rows: x.csv, sample: 2}") != read("{rows: x.csv, sample: 2, seed: 1}")
    assert read("{rows: x.csv, sample: 2}") == read("{rows: x.csv, sample: 2, seed: 0}")


# --- mistakes, at their key and line ------------------------------------------------------------

BLOCK = """\
model:
  fixture: m
  context:
{body}
"""


def block(body: str):
    """A context written as a block mapping under ``model:`` (its sub-keys from line 4)."""
    text = BLOCK.format(body=textwrap.indent(textwrap.dedent(body), "    "))
    return load_yaml(text, "x.yaml")["model"]["context"]


def refused(value, key: str = "model.context", line: int = 3, path=None) -> SpecError:
    with pytest.raises(SpecError) as info:
        context_decl(value, key, line, path)
    return info.value


def test_seed_without_sample_is_refused_at_the_seed():
    error = refused(block("rows: training\nseed: 3\n"))
    assert error.key == "model.context.seed"
    assert error.line == 5
    assert error.message == "seed goes with sample (it draws the sampled rows)"
    # reference: mode draws nothing either
    error = refused(block("reference: mode\nrows: x.csv\nseed: 1\n"))
    assert (error.key, error.line) == ("model.context.seed", 6)


def test_rows_zero_is_refused_at_rows():
    error = refused(block("sample: 2\nrows: zero\n"))
    assert (error.key, error.line) == ("model.context.rows", 5)
    assert error.message == "the zero context has no rows to narrow: write context: zero"


@pytest.mark.parametrize(
    ("narrowing", "written", "line"),
    [("rows", "rows: training", 6), ("sample", "sample: 3", 6), ("where", "where: {a: b}", 6)],
)
def test_a_reference_list_takes_no_narrowing(narrowing, written, line):
    error = refused(block(f"reference:\n  - {{island: Dream}}\n{written}\n"))
    assert error.key == f"model.context.{narrowing}"
    assert error.line == line
    assert error.message == (f"{narrowing} narrows data rows; reference rows are given as they are")


def test_a_reference_list_takes_no_seed():
    error = refused(block("reference:\n  - {island: Dream}\nseed: 3\n"))
    assert error.key == "model.context.seed"
    assert error.line == 6


@pytest.mark.parametrize("body", ["sample: 3\n", "sample: 3\nseed: 1\nwhere: {island: Dream}\n"])
def test_a_mapping_with_neither_rows_nor_reference_is_refused_at_the_context(body):
    error = refused(block(body), line=3)
    assert error.key == "model.context"
    assert error.line == 3
    assert error.message == "give rows: (training or a data file) or reference:"


def test_plain_data_keeps_the_line_given():
    """Without line numbers (a dict built in Python) the error is placed at the context."""
    error = refused({"rows": "training", "seed": 3}, key="drift.context", line=12)
    assert (error.key, error.line) == ("drift.context.seed", 12)


def test_the_error_names_the_file_it_is_in(tmp_path):
    path = tmp_path / "featureprobe_x.yaml"
    error = refused(block("rows: training\nseed: 3\n"), path=path)
    assert error.path == str(path)
    assert error.describe(tmp_path) == (
        "featureprobe_x.yaml:5: model.context.seed: seed goes with sample (it draws the sampled "
        "rows)"
    )


# --- through load_document -----------------------------------------------------------------------


def document(tmp_path: Path, text: str):
    path = tmp_path / "featureprobe_x.yaml"
    path.write_text(textwrap.dedent(text))
    return load_document(path)


def test_the_model_sections_context_is_the_files_default(tmp_path):
    doc = document(
        tmp_path,
        """\
        model:
          fixture: m
          context: {rows: holdout.csv, sample: 3}
        expect:
          - zero: true
            predicts: a
          - zero: true
            predicts: a
            context: zero
          - adding: x
            raises: a
            on: holdout.csv
        """,
    )
    assert doc.model.context == ContextDecl("rows", "holdout.csv", 3, 0)
    assert (doc.model.context.key, doc.model.context.line) == ("model.context", 3)
    first, second, third = doc.items
    assert first.context is None and doc.context_of(first) == doc.model.context
    assert second.context == ContextDecl("zero") and doc.context_of(second).is_zero
    assert (second.context.key, second.context.line) == ("context", 9)
    # on: is the older name of context: (adding), read the same way.
    assert third.context == ContextDecl("rows", "holdout.csv")
    assert (third.context.key, third.context.line) == ("on", 12)
    assert doc.contexts() == [doc.model.context, ContextDecl("zero"), third.context]


def test_a_bad_model_context_fails_the_document_at_its_sub_key(tmp_path):
    with pytest.raises(SpecError) as info:
        document(
            tmp_path,
            """\
            model:
              fixture: m
              context:
                rows: training
                seed: 3
            expect:
              - zero: true
                predicts: a
            """,
        )
    assert (info.value.key, info.value.line) == ("model.context.seed", 5)
    assert info.value.path == str(tmp_path / "featureprobe_x.yaml")


def test_a_bad_drift_context_is_placed_at_its_sub_key(tmp_path):
    with pytest.raises(SpecError) as info:
        document(
            tmp_path,
            """\
            model:
              fixture: m
            expect:
              - zero: true
                predicts: a
            drift:
              max_abs_delta: 0.1
              context:
                rows: zero
            """,
        )
    assert (info.value.key, info.value.line) == ("drift.context.rows", 9)


def test_an_entry_with_a_bad_context_fails_alone(tmp_path):
    doc = document(
        tmp_path,
        """\
        model:
          fixture: m
        expect:
          - zero: true
            predicts: a
            context: {reference: [{colour: red}], where: {colour: red}}
          - adding: x
            raises: a
            on: zero
            context: zero
          - zero: true
            predicts: a
            min_fraction: 0.5
            context: zero
          - zero: true
            predicts: a
        """,
    )
    bad_context, both, fraction, fine = doc.items
    assert bad_context.error.key == "expect[0].context.where"
    assert bad_context.error.line == 6
    assert "where narrows data rows" in bad_context.error.message
    assert (both.error.key, both.error.line) == ("expect[1].on", 9)
    assert both.error.message == "on: is the older name of context: give one of them"
    assert (fraction.error.key, fraction.error.line) == ("expect[2].min_fraction", 13)
    assert fraction.error.message == (
        "min_fraction counts rows of a context; the zero vector is one input"
    )
    assert fine.error is None


def test_an_entry_context_error_is_placed_at_the_sub_keys_line(tmp_path):
    doc = document(
        tmp_path,
        """\
        model:
          fixture: m
        expect:
          - zero: true
            predicts: a
            context:
              rows: training
              seed: 3
        """,
    )
    error = doc.items[0].error
    assert error.key == "expect[0].context.seed"
    assert error.line == 8
