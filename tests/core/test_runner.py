"""runner: ``FileRun`` driven directly, without pytest, from collection to outcomes, the baseline
it writes and the report entry; ``check_item`` and ``located``; ``refusals``; ``declared_names``.

Every test writes its own project folder (an expectation file, a copy of the seed data); the
module shares one ``ProbeSession``, so the tiny model is trained once (models are keyed by the
data's contents, not its path).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from pytest_featureprobe.baseline.checks import DriftCheck
from pytest_featureprobe.errors import DataError, FeatureProbeError, ModelError, SpecError
from pytest_featureprobe.expectations import AddingExpectation, Outcome, ProbeExpectation
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.memo import ProbeSession
from pytest_featureprobe.runner import (
    FileRun,
    RunSettings,
    check_item,
    declared_names,
    located,
    refusals,
)
from pytest_featureprobe.spec import DeclaredPath, ItemSpec, load_document
from pytest_featureprobe.spec.context_decl import ContextDecl

from ..conftest import SEED_CSV

MODEL = """\
model:
  train:
    data: problems.csv
    features: problems
    label: results
    hidden: [4]
    epochs: 2
"""

# Line numbers: expect 8; entries at 9, 11, 13, 15, 16, 19; drift 21, its keys 22-26.
FILE = (
    MODEL
    + """\
expect:
  - zero: true
    probability: {class: A, min: 0, max: 1}
  - alone: [4, 7]
    predicts: A
  - alone: 4
    predicts: B
  - biased_toward: B
  - adding: 4
    moves_at_most: 1.0
    on: rows.csv
  - together: [1, 2, 3]
    probability: {class: Z, max: 1}
drift:
  order: 2
  allow_flips: ["5+4"]
  max_flips: 22
  per_probe: {"5+4": 0.3}
  max_abs_delta: 1.0
"""
)
NAMES = [
    "zero-probability-A-0-1",
    "alone-4_7-predicts-A",
    "alone-4-predicts-B",
    "zero-biased_toward-B",
    "adding-4-moves_at_most-1-on-rows.csv",
    "together-1+2+3-probability-Z-0-1",
    "drift-flips",
    "drift-max_abs_delta",
]
BASELINE = "__featureprobe__/featureprobe_run.json"


@pytest.fixture(scope="module")
def session() -> ProbeSession:
    return ProbeSession(None)


def project(folder: Path, text: str = FILE) -> Path:
    """``folder`` with the expectation file, a copy of the seed data and two rows of data."""
    shutil.copy(SEED_CSV, folder / "problems.csv")
    (folder / "rows.csv").write_text('problems\n"[4]"\n"[1, 2]"\n')
    path = folder / "featureprobe_run.yaml"
    path.write_text(text)
    return path


def file_run(path: Path, session: ProbeSession, **settings) -> FileRun:
    folder = path.parent
    return FileRun(path, session, RunSettings(roots=[folder], invocation_dir=folder, **settings))


def by_name(items: list[ItemSpec]) -> dict[str, ItemSpec]:
    return {item.name: item for item in items}


# --- collection ----------------------------------------------------------------------------------


def test_collect_returns_the_items_with_unknown_names_marked_at_their_keys(tmp_path, session):
    path = project(tmp_path)
    run = file_run(path, session)
    items = run.collect()
    assert [i.name for i in items] == NAMES
    assert run.error is None
    errors = {i.name: i.error.describe(tmp_path) for i in items if i.error is not None}
    assert errors == {
        "alone-4_7-predicts-A": "featureprobe_run.yaml:11: expect[1].alone: unknown feature "
        "'7'; features are 1, 2, 3, 4, 5, 6",
        "alone-4-predicts-B": "featureprobe_run.yaml:14: expect[2].predicts: unknown class 'B'; "
        "classes are A, C",
        "zero-biased_toward-B": "featureprobe_run.yaml:15: expect[3].biased_toward: unknown "
        "class 'B'; classes are A, C",
        "together-1+2+3-probability-Z-0-1": "featureprobe_run.yaml:20: expect[5].probability."
        "class: unknown class 'Z'; classes are A, C",
    }
    assert run.model is None  # nothing trained at collection


def test_the_baseline_is_in_the_baseline_folder_unless_declared(tmp_path, session):
    run = file_run(project(tmp_path), session, baseline_folder="gates")
    run.collect()
    assert run.baseline_path() == tmp_path / "gates" / "featureprobe_run.json"
    declared = FILE.replace("drift:\n", "drift:\n  baseline: stored/b.json\n")
    run = file_run(project(tmp_path, declared), session)
    run.collect()
    assert run.baseline_path() == tmp_path / "stored" / "b.json"


# --- checking ------------------------------------------------------------------------------------


def test_check_gives_outcomes_and_raises_the_errors_of_items(tmp_path, session):
    run = file_run(project(tmp_path), session, update=True)
    items = by_name(run.collect())
    outcome = run.check(items["zero-probability-A-0-1"])
    assert isinstance(outcome, Outcome) and outcome.passed
    assert outcome.properties["probe"] == "zero"
    # Of the two rows, "[4]" already holds 4: adding it changes nothing, so one row counts.
    assert run.check(items["adding-4-moves_at_most-1-on-rows.csv"]).properties["rows"] == 1
    with pytest.raises(SpecError, match="unknown feature '7'") as info:
        run.check(items["alone-4_7-predicts-A"])
    assert info.value is items["alone-4_7-predicts-A"].error
    # The model and its one sweep: order 2 (drift.order); the probe 1+2+3 is named only by an
    # item refused at collection (unknown class 'Z'), so it is not swept.
    assert len(run.context_for(None).sweep) == 1 + 6 + 15
    assert "1+2+3" not in run.context_for(None).sweep.table.index


def test_an_update_writes_the_baseline_once_and_reports_it_once(tmp_path, session):
    path = project(tmp_path)
    writes = []

    def write_once(target, write):
        writes.append(target)
        write()
        return True

    run = FileRun(
        path,
        session,
        RunSettings(roots=[tmp_path], update=True, invocation_dir=tmp_path),
        write_once=write_once,
    )
    items = by_name(run.collect())
    first = items["zero-probability-A-0-1"]
    found = dict(run.properties(first, run.check(first)))
    assert found["featureprobe_model"] == "dense classifier on problems.csv (seed 0)"
    assert found["featureprobe_sweep_probes"] == 22  # 1+2+3's item is refused: not swept
    assert "featureprobe_baseline_written" not in found  # not a drift item

    flips, delta = items["drift-flips"], items["drift-max_abs_delta"]
    outcome = run.check(flips)
    assert outcome.passed  # today's sweep against the baseline just written from it
    assert writes == [tmp_path / BASELINE]
    assert (tmp_path / BASELINE).is_file()
    assert ("featureprobe_baseline_written", BASELINE) in run.properties(flips, outcome)
    outcome = run.check(delta)
    assert outcome.passed
    assert writes == [tmp_path / BASELINE]  # written once for the file
    assert "featureprobe_baseline_written" not in dict(run.properties(delta, outcome))
    assert "featureprobe_baseline_written" not in dict(run.properties(flips, outcome))
    stored = json.loads((tmp_path / BASELINE).read_text())
    assert stored["order"] == 2


def test_a_baseline_another_process_wrote_is_read_and_not_reported(tmp_path, session):
    path = project(tmp_path)
    writer = file_run(path, session, update=True)
    writer.check(by_name(writer.collect())["drift-flips"])
    before = (tmp_path / BASELINE).read_bytes()
    reader = FileRun(
        path,
        session,
        RunSettings(roots=[tmp_path], update=True, invocation_dir=tmp_path),
        write_once=lambda target, write: False,
    )
    flips = by_name(reader.collect())["drift-flips"]
    outcome = reader.check(flips)
    assert outcome.passed
    assert "featureprobe_baseline_written" not in dict(reader.properties(flips, outcome))
    assert (tmp_path / BASELINE).read_bytes() == before


def test_without_update_a_missing_baseline_says_how_to_create_it(tmp_path, session):
    run = file_run(project(tmp_path), session)
    flips = by_name(run.collect())["drift-flips"]
    with pytest.raises(FeatureProbeError) as info:
        run.check(flips)
    # At the line of the drift check that needs it (allow_flips), with the section as key.
    assert info.value.describe(tmp_path) == (
        f"featureprobe_run.yaml:23: drift: no baseline at {BASELINE}; create it with: "
        "pytest featureprobe_run.yaml --featureprobe-update"
    )
    assert not (tmp_path / BASELINE).exists()


def test_the_update_command_is_the_runs_own(tmp_path, session):
    run = file_run(project(tmp_path), session, update_command="featureprobe check {file} -u")
    flips = by_name(run.collect())["drift-flips"]
    with pytest.raises(FeatureProbeError, match="create it with: featureprobe check "):
        run.check(flips)


# --- whole-file errors ---------------------------------------------------------------------------


def test_a_data_file_outside_the_roots_is_refused(tmp_path, tmp_path_factory, session):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "rows.csv").write_text('problems\n"[4]"\n')
    text = FILE.replace("on: rows.csv", f"on: {outside / 'rows.csv'}")
    run = file_run(project(tmp_path, text), session)
    items = by_name(run.collect())
    assert run.error is None  # only the expectation that reads it
    error = items["adding-4-moves_at_most-1-on-rows.csv"].error
    assert error.describe(tmp_path) == (
        f"featureprobe_run.yaml:18: expect[4].on: {outside / 'rows.csv'} is outside the project "
        f"({tmp_path}); allow its folder with --featureprobe-allow-path DIR or the "
        "featureprobe_allowed_paths ini option"
    )
    assert run.check(items["zero-probability-A-0-1"]).passed


def test_training_data_outside_the_roots_fails_the_whole_file(tmp_path, tmp_path_factory, session):
    outside = tmp_path_factory.mktemp("outside")
    shutil.copy(SEED_CSV, outside / "problems.csv")
    folder = tmp_path / "project"
    folder.mkdir()
    text = FILE.replace("data: problems.csv", "data: ../outside-data/problems.csv")
    os.symlink(outside, tmp_path / "outside-data", target_is_directory=True)
    run = file_run(project(folder, text), session)
    items = run.collect()
    assert run.error.describe(folder) == (
        f"featureprobe_run.yaml:3: model.train.data: ../outside-data/problems.csv is outside the "
        f"project ({folder}); allow its folder with --featureprobe-allow-path DIR or the "
        "featureprobe_allowed_paths ini option"
    )
    with pytest.raises(SpecError, match="is outside the project") as info:
        run.check(items[0])
    assert info.value is run.error


def test_an_allowed_folder_lets_the_file_be_read(tmp_path, tmp_path_factory, session):
    outside = tmp_path_factory.mktemp("allowed")
    shutil.copy(SEED_CSV, outside / "seed.csv")
    text = FILE.replace("data: problems.csv", f"data: {outside / 'seed.csv'}")
    path = project(tmp_path, text)
    run = FileRun(path, session, RunSettings(roots=[tmp_path, outside]))
    run.collect()
    assert run.error is None
    assert run.check(run.document.items[0]).passed


def test_a_missing_data_file_is_an_error_of_the_whole_file_raised_by_build(tmp_path, session):
    path = project(tmp_path, FILE.replace("data: problems.csv", "data: missing.csv"))
    run = file_run(path, session)
    items = run.collect()
    assert len(items) == 8  # still collected, each to report the file's error
    expected = (
        "featureprobe_run.yaml:3: model.train.data: data file not found: missing.csv (paths are "
        "relative to this file)"
    )
    assert run.error.describe(tmp_path) == expected
    for _ in range(2):  # the same error, every time
        with pytest.raises(SpecError) as info:
            run.build()
        assert info.value.describe(tmp_path) == expected
    assert run.model is None


def test_a_missing_label_column_is_placed_at_the_label_key(tmp_path, session):
    run = file_run(project(tmp_path, FILE.replace("label: results", "label: result")), session)
    run.collect()
    assert run.error.describe(tmp_path) == (
        "featureprobe_run.yaml:5: model.train.label: no label column 'result' (did you mean "
        "'results'?)"
    )


def test_a_fixture_model_needs_pytest(tmp_path, session):
    path = tmp_path / "featureprobe_fixture.yaml"
    path.write_text("model:\n  fixture: my_model\nexpect:\n  - zero: true\n    predicts: A\n")
    run = file_run(path, session)
    run.collect()
    assert run.error is None
    with pytest.raises(SpecError) as info:
        run.build()
    assert info.value.describe(tmp_path) == (
        "featureprobe_fixture.yaml:2: model.fixture: the model comes from the pytest fixture "
        "'my_model', which only a pytest run can provide"
    )


def test_training_rows_need_a_trained_model(tmp_path, session):
    path = tmp_path / "featureprobe_fixture.yaml"
    path.write_text(
        "model:\n  fixture: my_model\nexpect:\n  - adding: 4\n    raises: A\n    on: training\n"
    )
    run = file_run(path, session)
    (item,) = run.collect()
    assert item.error.describe(tmp_path) == (
        "featureprobe_fixture.yaml:6: expect[0].on: 'training' names the training data of a "
        "model trained from data; this file's model is given by fixture: (name a data file "
        "instead)"
    )


# --- the report ----------------------------------------------------------------------------------


def test_report_entry_gives_the_sweep_the_baseline_and_the_tolerance_the_check_applies(
    tmp_path, session
):
    run = file_run(project(tmp_path), session, update=True)
    items = by_name(run.collect())
    run.check(items["drift-max_abs_delta"])
    entry = run.report_entry("featureprobe_run.yaml", [("drift-max_abs_delta", "passed")])
    assert entry.title == "featureprobe_run.yaml"
    assert entry.sweep is run.context_for(None).sweep
    assert entry.results == [("drift-max_abs_delta", "passed")]
    assert entry.notes == []
    baseline = entry.baseline
    assert baseline is not None and baseline.order == 2
    assert len(baseline.probes) == 22 and baseline.probes[19] == "4+5"
    # per_probe names "5+4": the check reads it as the sweep's "4+5", and so does the report.
    assert entry.tolerance == [1.0] * 19 + [0.3] + [1.0] * 2
    assert entry.band is None


def test_report_entry_reads_a_stored_baseline_when_no_check_read_it(tmp_path, session):
    path = project(tmp_path)
    writer = file_run(path, session, update=True)
    writer.check(by_name(writer.collect())["drift-flips"])
    run = file_run(path, session)
    items = by_name(run.collect())
    run.check(items["zero-probability-A-0-1"])  # builds the sweep, reads no baseline
    entry = run.report_entry("t", [])
    assert entry.baseline is not None and entry.baseline.probes[19] == "4+5"
    assert entry.tolerance[19] == 0.3


def test_report_entry_without_a_baseline_notes_why(tmp_path, session):
    run = file_run(project(tmp_path), session)
    run.check(by_name(run.collect())["zero-probability-A-0-1"])
    entry = run.report_entry("t", [])
    assert entry.sweep is run.context_for(None).sweep
    assert entry.baseline is None
    assert entry.notes == ["no drift figures: no baseline"]


def test_report_entry_of_a_file_that_was_not_probed(tmp_path, session):
    run = file_run(project(tmp_path, FILE.replace("data: problems.csv", "data: gone.csv")), session)
    run.collect()
    with pytest.raises(SpecError):
        run.build()
    entry = run.report_entry("t", [("x", "error")])
    assert entry.sweep is None
    assert entry.notes == [
        "not probed: data file not found: gone.csv (paths are relative to this file)"
    ]


def test_report_entry_draws_no_drift_from_a_refused_baseline(tmp_path, tmp_path_factory, session):
    outside = tmp_path_factory.mktemp("elsewhere")
    text = FILE.replace("drift:\n", f"drift:\n  baseline: {outside / 'b.json'}\n")
    run = file_run(project(tmp_path, text), session)
    items = by_name(run.collect())
    assert items["drift-flips"].error is items["drift-max_abs_delta"].error is not None
    run.check(items["zero-probability-A-0-1"])
    entry = run.report_entry("t", [])
    assert entry.baseline is None
    assert entry.notes == [f"no drift figures: {items['drift-flips'].error.message}"]
    assert entry.notes[0].startswith(f"no drift figures: {outside / 'b.json'} is outside the ")


# --- check_item and located ----------------------------------------------------------------------


def test_check_item_places_an_error_at_the_key_of_its_expectation(tmp_path, session):
    (tmp_path / "bad_rows.csv").write_text('problems\n"[4]"\n"[9]"\n')
    text = FILE.replace("on: rows.csv", "on: bad_rows.csv")
    path = project(tmp_path, text)
    run = file_run(path, session)
    items = by_name(run.collect())
    adding = items["adding-4-moves_at_most-1-on-bad_rows.csv"]
    run.build()
    context = run.context_for(None)
    with pytest.raises(DataError) as info:  # reading the item's own context, its on: rows
        run.check(adding)
    assert info.value.describe(tmp_path) == (
        "featureprobe_run.yaml:18: expect[4].on: bad_rows.csv: row 2: 'problems' has '9', which "
        "is not in the feature space"
    )
    assert check_item(items["zero-probability-A-0-1"], context, path).passed


def spec_item(index: int | None = 2) -> ItemSpec:
    return ItemSpec(
        "item",
        10,
        "",
        expectation=ProbeExpectation(probes=[()], predicts="A"),
        index=index,
        key_lines={"alone": 10, "min_prob": 12},
    )


def test_located_puts_an_error_at_the_key_it_concerns():
    path = Path("/project/featureprobe_x.yaml")
    error = located(DataError("too low", key="min_prob"), spec_item(), path)
    assert (error.path, error.line, error.key) == (str(path), 12, "expect[2].min_prob")
    error = located(DataError("no key"), spec_item(), path)
    assert (error.path, error.line, error.key) == (str(path), 10, None)


def test_located_keeps_an_error_about_another_file():
    error = DataError("bad row", path="/project/rows.csv", line=3, key="problems")
    assert located(error, spec_item(), Path("/project/featureprobe_x.yaml")) is error
    assert (error.path, error.line, error.key) == ("/project/rows.csv", 3, "problems")


def test_located_keeps_a_full_key_and_the_key_of_a_drift_check():
    path = Path("/project/featureprobe_x.yaml")
    error = located(SpecError("x", key="expect[5].on"), spec_item(), path)
    assert (error.line, error.key) == (10, "expect[5].on")
    error = located(SpecError("x", path=path, line=99, key="drift"), spec_item(None), path)
    assert (error.path, error.line, error.key) == (str(path), 10, "drift")


def test_located_reads_an_error_without_a_key_as_one_of_the_items_own_rows():
    spec = ItemSpec(
        "adding",
        20,
        "",
        expectation=AddingExpectation("4", "invariant", at_most=0.1),
        index=0,
        key_lines={"adding": 20, "on": 22},
        context=ContextDecl("rows", "rows.csv", key="on", line=22),
    )
    error = located(DataError("unreadable"), spec, Path("f.yaml"))
    assert (error.line, error.key) == (22, "expect[0].on")


# --- refusals ------------------------------------------------------------------------------------


def test_refusals_name_each_file_outside_the_roots(tmp_path, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    path = tmp_path / "featureprobe_r.yaml"
    path.write_text(
        "model:\n  load: m.keras\n  features: ../x/space.json\n  classes: [A, C]\n"
        f"expect:\n  - adding: 4\n    raises: A\n    on: {outside / 'rows.csv'}\n"
        "  - zero: true\n    predicts: A\n"
        "drift:\n  baseline: https://example.com/b.json\n  max_flips: 0\n"
    )
    document = load_document(path)
    found = refusals(document, [tmp_path, tmp_path])
    assert [(d.key, d.line, d.value) for d, _ in found] == [
        ("model.features", 3, "../x/space.json"),
        ("expect[0].on", 8, str(outside / "rows.csv")),
    ]  # m.keras is inside; the URL was refused when the document was read
    declared, error = found[1]
    assert declared.item is document.items[0]
    assert error.describe(tmp_path) == (
        f"featureprobe_r.yaml:8: expect[0].on: {outside / 'rows.csv'} is outside the project "
        f"({tmp_path}); allow its folder with --featureprobe-allow-path DIR or the "
        "featureprobe_allowed_paths ini option"
    )
    assert refusals(document, [tmp_path.parent]) == []


def test_refusals_include_an_undeclared_baseline_and_a_loaded_models_sidecar(
    tmp_path, tmp_path_factory
):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "sidecar.json").write_text("{}")
    (tmp_path / "m.keras").write_bytes(b"PK")
    os.symlink(outside / "sidecar.json", tmp_path / "m.keras.featureprobe.json")
    path = tmp_path / "featureprobe_r.yaml"
    path.write_text(
        "model:\n  load: m.keras\nexpect:\n  - zero: true\n    predicts: A\n"
        "drift:\n  max_flips: 0\n"
    )
    document = load_document(path)
    baseline = outside / "gate" / "featureprobe_r.json"
    found = refusals(document, [tmp_path], baseline)
    assert [(d.key, d.line, d.value) for d, _ in found] == [
        ("model.load", 2, "m.keras.featureprobe.json"),
        ("drift", 6, str(baseline)),
    ]
    assert [d.key for d, _ in refusals(document, [tmp_path], tmp_path / "b.json")] == ["model.load"]


def test_a_declared_baseline_is_checked_as_declared(tmp_path):
    path = tmp_path / "featureprobe_r.yaml"
    path.write_text(
        "model:\n  fixture: m\nexpect:\n  - zero: true\n    predicts: A\n"
        "drift:\n  baseline: ../b.json\n  max_flips: 0\n"
    )
    document = load_document(path)
    found = refusals(document, [tmp_path], tmp_path / "inside.json")
    assert [d for d, _ in found] == [DeclaredPath("drift.baseline", 7, "../b.json")]


# --- declared_names ------------------------------------------------------------------------------


def test_declared_names_of_a_trained_model_are_read_from_its_data_without_keras(
    tmp_path, monkeypatch
):
    path = project(tmp_path)
    document = load_document(path)
    for module in ("keras", "tensorflow"):
        monkeypatch.setitem(sys.modules, module, None)  # importing either now fails
    space, classes = declared_names(ProbeSession(None), document.model, tmp_path)
    assert space == FeatureSpace(("1", "2", "3", "4", "5", "6"), token_column="problems")
    assert classes == ("A", "C")


def test_declared_names_of_a_loaded_model_come_from_the_file(tmp_path):
    path = tmp_path / "featureprobe_l.yaml"
    path.write_text(
        "model:\n  load: m.keras\n  features: [a, b]\n  classes: [x, 2]\n"
        "expect:\n  - zero: true\n    predicts: x\n"
    )
    decl = load_document(path).model
    space, classes = declared_names(ProbeSession(None), decl, tmp_path)
    assert space.features == ("a", "b")
    assert classes == ("x", "2")


def test_declared_names_of_a_fixture_model_are_not_known_before_the_run(tmp_path):
    path = tmp_path / "featureprobe_f.yaml"
    path.write_text("model:\n  fixture: m\nexpect:\n  - zero: true\n    predicts: A\n")
    assert declared_names(ProbeSession(None), load_document(path).model, tmp_path) is None


def test_declared_names_of_a_model_without_names_is_a_model_error(tmp_path):
    path = tmp_path / "featureprobe_l.yaml"
    path.write_text("model:\n  load: m.keras\nexpect:\n  - zero: true\n    predicts: x\n")
    with pytest.raises(ModelError) as info:
        declared_names(ProbeSession(None), load_document(path).model, tmp_path)
    assert info.value.message == (
        "m.keras: give model.features and model.classes (or save the model with featureprobe, "
        "which writes them beside it)"
    )


def test_the_drift_items_of_a_run_are_drift_checks(tmp_path, session):
    run = file_run(project(tmp_path), session)
    items = by_name(run.collect())
    assert isinstance(items["drift-flips"].expectation, DriftCheck)
    assert items["drift-flips"].line == 23  # allow_flips, the first of its keys
    assert items["drift-max_abs_delta"].line == 25  # per_probe
