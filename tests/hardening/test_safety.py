"""Safety of what expectation files may make featureprobe do: YAML stays data (safe loader,
bounded aliases), model files load in safe mode and may be pinned by sha256, and the files a
document names are local and inside the project unless allowed."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from pytest_featureprobe.errors import SpecError
from pytest_featureprobe.spec import MAX_ALIAS_EXPANSION, load_document, load_yaml

SEED_CSV = Path(__file__).resolve().parents[2] / "examples" / "problems" / "problems.csv"

GOOD = """\
model:
  fixture: fruit_model
expect:
  - alone: red
    predicts: apple
"""


def run(pytester: pytest.Pytester, *args: str):
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA", *args)
    output = result.stdout.str()
    assert "Traceback" not in output
    assert f"pytest_featureprobe{os.sep}" not in output
    return result


def has_line(result, text: str) -> None:
    """Some output line contains ``text`` (no glob: keys like expect[1] hold brackets)."""
    output = result.stdout.str()
    assert any(text in line for line in output.splitlines()), output


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts
    }


# --- YAML: aliases, tags, duplicates ----------------------------------------------------------


def alias_bomb(levels: int = 9) -> str:
    """Nine levels of ten aliases each: 10**10 leaves in under 400 bytes."""
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in itertools.pairwise("abcdefghijklmnop"[: levels + 1]):
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_fast_without_expanding():
    text = "model:\n  fixture: fruit_model\n" + alias_bomb() + "expect:\n  - zero: {predicts: x}\n"
    started = time.perf_counter()
    with pytest.raises(SpecError) as info:
        load_yaml(text, "featureprobe_bomb.yaml")
    assert time.perf_counter() - started < 1.0  # measured, not expanded (10**9 nodes)
    # The ten lists stand for about 1.23e10 nodes (the sum of 11, 111, ... 11_111_111_111).
    assert re.fullmatch(
        r"featureprobe_bomb\.yaml:12: j: the aliases in this file expand to 12,345,679,\d{3} "
        rf"nodes \(the limit is {MAX_ALIAS_EXPANSION:,}\); refused as an alias bomb",
        info.value.describe(),
    )


def test_aliases_within_the_bound_and_merge_keys_still_work(fruit):
    (fruit.path / "featureprobe_anchors.yaml").write_text(
        "model:\n  fixture: fruit_model\n"
        "defaults: &strict {min_prob: 0.5}\n"
        "expect:\n"
        "  - alone: red\n    predicts: apple\n    <<: *strict\n"
        "  - alone: long\n    predicts: banana\n    <<: *strict\n    min_prob: 0.6\n"
    )
    result = run(fruit)
    # 'defaults' is not a key of the format: the schema names it, the anchors themselves work.
    has_line(
        result,
        "featureprobe_anchors.yaml:3: defaults: unknown key",
    )
    (fruit.path / "featureprobe_anchors.yaml").write_text(
        "model:\n  fixture: fruit_model\n"
        "expect:\n"
        "  - &red\n    alone: red\n    predicts: apple\n    min_prob: 0.5\n    name: red-one\n"
        "  - <<: *red\n    name: red-two\n"
        "  - <<: *red\n    alone: long\n    predicts: banana\n    name: long\n"
    )
    run(fruit).assert_outcomes(passed=3)


def test_an_alias_bomb_fails_its_file_and_the_others_still_run(fruit):
    (fruit.path / "featureprobe_good.yaml").write_text(GOOD)
    bomb = "model:\n  fixture: fruit_model\n" + alias_bomb() + "expect:\n  - alone: red\n"
    (fruit.path / "featureprobe_bomb.yaml").write_text(bomb)
    result = run(fruit)
    result.assert_outcomes(passed=1, errors=1)
    has_line(
        result,
        "featureprobe: featureprobe_bomb.yaml:12: j: the aliases ",
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: &a [1, *a]\n", "1: an alias refers to the node that contains it"),
        ("[" * 3000 + "]" * 3000 + "\n", " invalid YAML: nested too deeply"),
        ("{[1, 2]: x}\n", "1: a mapping key must be a plain value"),
        ("a: !!int three\n", "1: invalid YAML: 'three' cannot be read as !!int"),
        (
            "a: " + "1" * 5000 + "\n",
            "1: invalid YAML: an integer of 5,000 characters (at most 100)",
        ),
        ("a: b\x1f\n", "1: invalid YAML: character '\\x1f' is not allowed"),
    ],
    ids=["self-reference", "deep-nesting", "list-as-key", "bad-int", "huge-int", "control"],
)
def test_yaml_structures_without_a_plain_reading_are_refused(text, message):
    with pytest.raises(SpecError) as info:
        load_yaml(text, "f.yaml")
    assert info.value.describe().startswith(f"f.yaml:{message}")
    assert "\n" not in info.value.describe() and len(info.value.describe()) < 200


def test_merged_mappings_that_were_merged_before_are_not_duplicates():
    data = load_yaml(
        "expect:\n"
        "  - <<: &red {<<: {predicts: banana}, predicts: apple, alone: red}\n"
        "    name: first\n"
        "  - *red\n",
        "f.yaml",
    )
    assert [dict(e) for e in data["expect"]] == [
        {"predicts": "apple", "alone": "red", "name": "first"},
        {"predicts": "apple", "alone": "red"},
    ]
    assert [e.duplicates for e in data["expect"]] == [[], []]


def test_python_tags_are_refused_and_never_run(fruit):
    marker = fruit.path / "pwned"
    (fruit.path / "featureprobe_good.yaml").write_text(GOOD)
    (fruit.path / "featureprobe_tag.yaml").write_text(
        "model:\n  fixture: fruit_model\nexpect:\n"
        f"  - alone: !!python/object/apply:os.system ['touch {marker}']\n"
        "    predicts: apple\n"
    )
    result = run(fruit)
    result.assert_outcomes(passed=1, errors=1)
    has_line(
        result,
        "featureprobe: featureprobe_tag.yaml:4: invalid YAML: the tag "
        "!!python/object/apply:os.system is not allowed (expectation files hold plain data "
        "only)",
    )
    assert not marker.exists()


def test_a_duplicate_key_inside_an_entry_fails_only_that_entry(fruit):
    (fruit.path / "featureprobe_dup.yaml").write_text(
        GOOD + "  - alone: long\n    predicts: banana\n    predicts: apple\n"
    )
    result = run(fruit)
    result.assert_outcomes(passed=1, errors=1)
    has_line(
        result,
        "featureprobe: featureprobe_dup.yaml:8: expect[1].predicts: duplicate key (each key "
        "may appear once)",
    )


def test_the_first_duplicate_in_file_order_is_reported(tmp_path):
    path = tmp_path / "featureprobe_dup.yaml"
    path.write_text(
        "model:\n  fixture: a\n  fixture: b\nsweep: {order: 1, order: 2}\nexpect:\n"
        "  - alone: red\n    predicts: apple\n"
    )
    with pytest.raises(SpecError) as info:
        load_document(path)
    assert info.value.describe(tmp_path) == (
        "featureprobe_dup.yaml:3: model.fixture: duplicate key (each key may appear once)"
    )


def test_a_duplicate_key_in_the_model_section_fails_the_whole_file(fruit):
    (fruit.path / "featureprobe_dup.yaml").write_text(
        "model:\n  fixture: fruit_model\n  fixture: other\nexpect:\n  - alone: red\n"
        "    predicts: apple\n"
    )
    result = run(fruit)
    result.assert_outcomes(errors=1)
    has_line(
        result,
        "featureprobe: featureprobe_dup.yaml:3: model.fixture: duplicate key",
    )


# --- files an expectation file names: URLs and the project root ----------------------------


@pytest.mark.parametrize(
    "section, line, key",
    [
        ("model:\n  load: https://example.com/m.keras\n", 2, "model.load"),
        (
            "model:\n  train:\n    data: s3://bucket/data.csv\n    features: f\n    label: y\n",
            3,
            "model.train.data",
        ),
        ("model:\n  load: m.keras\n  features: //host/share/space.json\n", 3, "model.features"),
    ],
    ids=["load", "train-data", "features"],
)
def test_urls_in_the_model_section_are_refused(tmp_path, section, line, key):
    path = tmp_path / "featureprobe_url.yaml"
    path.write_text(section + "expect:\n  - zero: {predicts: A}\n")
    with pytest.raises(SpecError) as info:
        load_document(path)
    assert info.value.line == line
    assert info.value.key == key
    assert "is a URL; featureprobe reads local files only and fetches nothing" in str(info.value)


def test_a_url_in_on_or_drift_baseline_fails_only_the_items_that_use_it(fruit):
    (fruit.path / "featureprobe_url.yaml").write_text(
        GOOD + "  - adding: red\n    raises: apple\n    on: http://example.com/rows.csv\n"
    )
    result = run(fruit)
    result.assert_outcomes(passed=1, errors=1)
    has_line(
        result,
        "featureprobe: featureprobe_url.yaml:8: expect[1].on: "
        "'http://example.com/rows.csv' is a URL",
    )
    (fruit.path / "featureprobe_url.yaml").write_text(
        GOOD + "drift:\n  baseline: https://example.com/b.json\n  max_flips: 0\n"
    )
    result = run(fruit)
    result.assert_outcomes(passed=1, errors=1)  # the expectation runs, the drift check cannot
    has_line(
        result,
        "featureprobe_url.yaml:7: drift.baseline: 'https://example.com/b.json' is a URL",
    )


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory) -> Path:
    """A small Keras model of the seed data, saved with its sidecar (features and classes)."""
    from pytest_featureprobe.memo import ProbeSession

    model = ProbeSession(None).train(SEED_CSV, "problems", "results", hidden=[16], epochs=100)
    return model.save(tmp_path_factory.mktemp("outside") / "model.keras")


def load_file(target: str, extra: str = "") -> str:
    return f"model:\n  load: {target}\n{extra}expect:\n  - alone: 4\n    predicts: C\n"


def test_a_model_outside_the_project_is_refused_unless_allowed(pytester, keras_file):
    pytester.makeini("[pytest]\n")  # the project root is pytester's folder
    (pytester.path / "featureprobe_out.yaml").write_text(load_file(str(keras_file)))
    (pytester.path / "featureprobe_fruitless.yaml").write_text(
        "model:\n  load: model.keras\nexpect:\n  - alone: 4\n    predicts: C\n"
    )
    shutil.copy(keras_file, pytester.path / "model.keras")
    shutil.copy(str(keras_file) + ".featureprobe.json", pytester.path)
    before = snapshot(pytester.path)

    result = run(pytester)
    result.assert_outcomes(failed=1, passed=1)  # the model inside the project still runs
    has_line(
        result,
        f"featureprobe: featureprobe_out.yaml:2: model.load: {keras_file} is outside the "
        f"project ({pytester.path}); allow its folder with --featureprobe-allow-path DIR or "
        "the featureprobe_allowed_paths ini option",
    )
    assert snapshot(pytester.path) == before

    run(pytester, "--featureprobe-allow-path", str(keras_file.parent)).assert_outcomes(passed=2)
    pytester.makeini(f"[pytest]\nfeatureprobe_allowed_paths = {keras_file.parent}\n")
    run(pytester).assert_outcomes(passed=2)


def test_relative_paths_are_resolved_from_the_yaml_file_and_may_not_climb_out(pytester):
    pytester.makeini("[pytest]\n")
    project = pytester.path
    (project / "specs").mkdir()
    (project / "specs" / "data").mkdir()
    shutil.copy(SEED_CSV, project / "specs" / "data" / "problems.csv")
    shutil.copy(SEED_CSV, project.parent / "problems_outside.csv")
    train = "model:\n  train:\n    data: {}\n    features: problems\n    label: results\n"
    (project / "specs" / "featureprobe_in.yaml").write_text(
        train.format("data/problems.csv") + "expect:\n  - alone: 4\n    predicts: C\n"
    )
    (project / "specs" / "featureprobe_climb.yaml").write_text(
        train.format("../../problems_outside.csv") + "expect:\n  - alone: 4\n    predicts: C\n"
    )
    result = run(pytester, "--collect-only")
    result.stdout.fnmatch_lines(["*featureprobe_climb.yaml*", "*featureprobe_in.yaml*"])
    result = run(pytester, "-k", "climb")
    result.assert_outcomes(failed=1)
    has_line(
        result,
        "featureprobe_climb.yaml:3: model.train.data: ../../problems_outside.csv is outside "
        "the project",
    )


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_symbolic_link_out_of_the_project_is_refused(fruit, tmp_path_factory):
    fruit.makeini("[pytest]\n")
    outside = tmp_path_factory.mktemp("elsewhere") / "rows.csv"
    outside.write_text('fruit\n"[red]"\n')
    (fruit.path / "rows.csv").symlink_to(outside)
    (fruit.path / "featureprobe_link.yaml").write_text(
        GOOD + "  - adding: red\n    raises: apple\n    on: rows.csv\n"
    )
    result = run(fruit)
    result.assert_outcomes(passed=1, errors=1)
    has_line(
        result,
        "featureprobe_link.yaml:8: expect[1].on: rows.csv is outside",
    )


def test_a_baseline_outside_the_project_is_neither_read_nor_written(fruit, tmp_path_factory):
    fruit.makeini("[pytest]\n")
    target = tmp_path_factory.mktemp("baselines") / "b.json"
    (fruit.path / "featureprobe_base.yaml").write_text(
        GOOD + f"drift:\n  baseline: {target}\n  max_flips: 0\n"
    )
    result = run(fruit, "--featureprobe-update")
    result.assert_outcomes(passed=1, errors=1)  # the expectation runs; the drift check does not
    has_line(
        result,
        f"featureprobe_base.yaml:7: drift.baseline: {target} is outside",
    )
    assert not target.exists()


# --- model files: sha256 pins and safe mode -------------------------------------------------


def test_a_sha256_pin_is_checked_before_the_model_is_loaded(pytester, keras_file):
    pytester.makeini("[pytest]\n")
    shutil.copy(keras_file, pytester.path / "model.keras")
    shutil.copy(str(keras_file) + ".featureprobe.json", pytester.path)
    digest = hashlib.sha256(keras_file.read_bytes()).hexdigest()
    path = pytester.path / "featureprobe_pin.yaml"

    path.write_text(load_file("model.keras", f"  sha256: {digest.upper()}\n"))
    run(pytester).assert_outcomes(passed=1)

    # A replaced file that would not even load: the pin reports it first, so nothing reads it.
    (pytester.path / "model.keras").write_bytes(b"not a model at all")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    actual = hashlib.sha256(b"not a model at all").hexdigest()
    has_line(
        result,
        f"featureprobe: featureprobe_pin.yaml:3: model.sha256: model.keras does not match "
        f"its pin: its sha256 is {actual}, the pin is {digest}; if the file was replaced on "
        "purpose, update the pin",
    )


@pytest.mark.parametrize(
    "model, message",
    [
        (
            "  load: model.keras\n  sha256: abc123\n",
            "3: model.sha256: 'abc123' does not match '^[0-9a-fA-F]{64}$'",
        ),
        (
            "  fixture: fruit_model\n  sha256: " + "ab" * 32 + "\n",
            "3: model.sha256: sha256 pins a model file, so it goes with load: (this model is "
            "fixture:)",
        ),
    ],
    ids=["not-a-digest", "not-a-file"],
)
def test_a_sha256_pin_that_cannot_apply_is_refused(tmp_path, model, message):
    path = tmp_path / "featureprobe_pin.yaml"
    path.write_text(f"model:\n{model}expect:\n  - alone: 4\n    predicts: C\n")
    with pytest.raises(SpecError) as info:
        load_document(path)
    assert info.value.describe(tmp_path) == f"featureprobe_pin.yaml:{message}"


def test_a_lambda_layer_is_refused_with_the_reason_and_a_way_out(tmp_path):
    from pytest_featureprobe.errors import ModelError
    from pytest_featureprobe.features import FeatureSpace
    from pytest_featureprobe.keras_runtime import load_keras
    from pytest_featureprobe.models import from_keras, load_keras_model

    keras = load_keras()
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Lambda(lambda x: x + 1.0), keras.layers.Dense(2)]
    )
    path = from_keras(
        model, FeatureSpace.from_names(["a", "b"]), ["x", "y"], outputs="logits"
    ).save(tmp_path / "lambda.keras")
    with pytest.raises(ModelError) as info:
        load_keras_model(path)
    message = str(info.value)
    assert message.startswith(
        "cannot load lambda.keras in safe mode: it holds a Lambda layer, whose Python code safe "
        "mode will not run"
    )
    assert "use model: fixture:" in message
    assert "\n" not in message


# --- .keras archives: checked before Keras opens them ---------------------------------------------

BOSTON = {
    "module": "keras.datasets.boston_housing",
    "class_name": "function",
    "config": "load_data",
}


def keras_bomb(path: Path) -> None:
    """40 MiB of spaces as config.json, deflated to about 40 KB (the limit is 32 MiB)."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("config.json", "w", force_zip64=True) as member,
    ):
        for _ in range(40):
            member.write(b" " * (1 << 20))


def keras_boston(path: Path) -> None:
    """A Dense layer whose activation is a function that downloads a data set."""
    dense = {"name": "dense", "units": 3, "activation": BOSTON}
    layers = [{"module": "keras.layers", "class_name": "Dense", "config": dense}]
    config = {"module": "keras", "class_name": "Sequential", "config": {"layers": layers}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", "{}")


@pytest.mark.parametrize(
    "make, pin, message",
    [
        (
            keras_bomb,
            False,
            "cannot load m.keras: its 'config.json' would inflate to 41,943,040 bytes (at most "
            "33,554,432); refused as a possible zip bomb (if the model is genuine, "
            "FEATUREPROBE_MAX_MODEL_BYTES raises the limit)",
        ),
        (keras_bomb, True, "cannot load m.keras: its 'config.json' would inflate to 41,943,040"),
        (
            keras_boston,
            False,
            "cannot load m.keras: layer 'dense' names the activation "
            "'keras.datasets.boston_housing.load_data', which is not one of Keras' built-in "
            "activations (allowed: relu, softmax, sigmoid, tanh, ",
        ),
    ],
    ids=["zip-bomb", "zip-bomb-pinned", "boston-housing-activation"],
)
def test_a_keras_archive_is_refused_before_keras_opens_it(fruit, monkeypatch, make, pin, message):
    monkeypatch.delenv("FEATUREPROBE_MAX_MODEL_BYTES", raising=False)
    make(fruit.path / "m.keras")
    digest = hashlib.sha256((fruit.path / "m.keras").read_bytes()).hexdigest()
    (fruit.path / "featureprobe_good.yaml").write_text(GOOD)
    (fruit.path / "featureprobe_m.yaml").write_text(
        "model:\n  load: m.keras\n"
        "  features: [red, green, round, long, sweet, sour, shiny]\n"
        "  classes: [apple, banana, lime]\n"
        + (f"  sha256: {digest}\n" if pin else "")
        + "expect:\n  - alone: red\n    predicts: apple\n  - alone: long\n    predicts: banana\n"
    )
    before = snapshot(fruit.path)
    started = time.perf_counter()
    result = run(fruit)
    assert time.perf_counter() - started < 30
    result.assert_outcomes(passed=1, failed=2)  # both items of the file, the other file runs
    has_line(result, f"featureprobe: featureprobe_m.yaml:2: model.load: {message}")
    reports = [
        line for line in result.stdout.str().splitlines() if line.startswith("featureprobe:")
    ]
    assert len(reports) == 2 and not any("featureprobe-" in line for line in reports), reports
    assert snapshot(fruit.path) == before


# --- marks stay data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "marks, message",
    [
        (
            "[{skipif: {condition: \"__import__('pathlib').Path('pwned').write_text('x')\", "
            "reason: r}}]",
            "expect[1].marks: skipif.condition must be true or false: pytest would evaluate a "
            "string as Python",
        ),
        ("[{xfail: {raises: ValueError}}]", "expect[1].marks: xfail.raises names a Python class"),
        ("[_private]", "expect[1].marks: '_private' is not a mark name"),
        ("[{skipif: {1: 2}}]", "expect[1].marks: 1 is not a keyword of the skipif mark"),
        (
            "[{filterwarnings: 'error::os.Warn'}]",
            "expect[1].marks: the 'filterwarnings' mark does not apply",
        ),
    ],
    ids=["string-condition", "raises", "private-name", "number-keyword", "filterwarnings"],
)
def test_marks_that_would_run_or_import_code_are_refused(fruit, marks, message):
    (fruit.path / "featureprobe_marks.yaml").write_text(
        GOOD + f"  - alone: long\n    predicts: banana\n    marks: {marks}\n"
    )
    result = run(fruit)
    result.assert_outcomes(passed=1, errors=1)
    has_line(result, f"featureprobe: featureprobe_marks.yaml:8: {message}")
    assert not (fruit.path / "pwned").exists()


def test_boolean_conditions_and_registered_marks_work(fruit):
    (fruit.path / "featureprobe_marks.yaml").write_text(
        GOOD + "  - alone: long\n    predicts: apple\n"
        "    marks: [{xfail: {condition: true, reason: known}}]\n"
        "  - alone: long\n    predicts: lime\n"
        "    marks: [{skipif: {condition: false, reason: never}}, unregistered_slow]\n"
    )
    result = run(fruit, "-m", "not unregistered_slow")
    result.assert_outcomes(passed=1, xfailed=1, deselected=1)
    # pytest's warning about the unregistered mark points at the YAML line that uses it.
    result.stdout.fnmatch_lines(
        [
            "*featureprobe_marks.yaml:11: PytestUnknownMarkWarning: Unknown "
            "pytest.mark.unregistered_slow*"
        ]
    )


def test_an_unregistered_mark_under_strict_markers_fails_its_item_only(fruit):
    (fruit.path / "featureprobe_marks.yaml").write_text(
        GOOD + "  - alone: long\n    predicts: banana\n    marks: [nightly]\n"
    )
    result = run(fruit, "--strict-markers")
    result.assert_outcomes(passed=1, errors=1)
    has_line(
        result,
        "featureprobe: featureprobe_marks.yaml:8: expect[1].marks: 'nightly' not found in "
        "`markers` configuration option",
    )


# --- baselines: only baselines are written, only inside the project -------------------------


def test_a_baseline_must_be_a_json_file(fruit):
    (fruit.path / "featureprobe_b.yaml").write_text(
        GOOD + "drift:\n  baseline: pytest.ini\n  max_flips: 0\n"
    )
    fruit.makeini("[pytest]\n")
    before = snapshot(fruit.path)
    result = run(fruit, "--featureprobe-update")
    result.assert_outcomes(errors=1)
    has_line(
        result,
        "featureprobe: featureprobe_b.yaml:7: drift.baseline: a baseline is a .json file",
    )
    assert snapshot(fruit.path) == before


def test_a_json_file_that_is_not_a_baseline_is_not_replaced(fruit):
    (fruit.path / "package.json").write_text('{"name": "web", "version": "1.0.0"}\n')
    (fruit.path / "featureprobe_b.yaml").write_text(
        GOOD + "drift:\n  baseline: package.json\n  max_flips: 0\n"
    )
    before = snapshot(fruit.path)
    result = run(fruit, "--featureprobe-update")
    result.assert_outcomes(passed=1, failed=1)
    has_line(
        result,
        "featureprobe: package.json: refusing to replace it: package.json is not a featureprobe "
        "baseline (36 bytes, 1 line); name another file in drift.baseline, or remove this one",
    )
    assert snapshot(fruit.path) == before
    # A baseline (even a damaged one) is replaced as asked.
    (fruit.path / "package.json").write_text('{\n  "classes": ["apple"],\n  "format": 1,\n  "pro')
    run(fruit, "--featureprobe-update").assert_outcomes(passed=2)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_baseline_folder_linked_out_of_the_project_is_not_written(fruit, tmp_path_factory):
    fruit.makeini("[pytest]\n")
    outside = tmp_path_factory.mktemp("linked_baselines")
    (fruit.path / "__featureprobe__").symlink_to(outside, target_is_directory=True)
    (fruit.path / "featureprobe_b.yaml").write_text(GOOD + "drift:\n  max_flips: 0\n")
    result = run(fruit, "--featureprobe-update")
    result.assert_outcomes(passed=1, errors=1)
    has_line(result, "featureprobe: featureprobe_b.yaml:6: drift: ")
    has_line(result, "featureprobe_b.json is outside the project")
    assert list(outside.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_sidecar_linked_out_of_the_project_is_refused(pytester, keras_file):
    pytester.makeini("[pytest]\n")
    shutil.copy(keras_file, pytester.path / "model.keras")
    (pytester.path / "model.keras.featureprobe.json").symlink_to(
        str(keras_file) + ".featureprobe.json"
    )
    (pytester.path / "featureprobe_side.yaml").write_text(load_file("model.keras"))
    result = run(pytester)
    result.assert_outcomes(failed=1)
    has_line(
        result,
        "featureprobe: featureprobe_side.yaml:2: model.load: model.keras.featureprobe.json is "
        "outside the project",
    )


@pytest.mark.parametrize("path", ["\\\\fileserver\\share\\m.keras", "//fileserver/share/m.keras"])
def test_network_shares_are_refused_like_urls(tmp_path, path):
    target = tmp_path / "featureprobe_share.yaml"
    target.write_text(f"model:\n  load: '{path}'\nexpect:\n  - zero: {{predicts: A}}\n")
    with pytest.raises(SpecError, match="is a URL"):
        load_document(target)


# --- the command confines files too -------------------------------------------------------------


def test_the_command_refuses_files_outside_its_folders_unless_allowed(
    tmp_path, monkeypatch, capsys
):
    from pytest_featureprobe import cli

    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "specs").mkdir(parents=True)
    elsewhere.mkdir()
    shutil.copy(SEED_CSV, elsewhere / "problems.csv")
    spec = project / "specs" / "featureprobe_s.yaml"
    spec.write_text(
        "model:\n  train: {data: ../../elsewhere/problems.csv, features: problems, "
        "label: results, epochs: 2}\nexpect:\n  - alone: 4\n    predicts: C\n"
        "drift:\n  baseline: ../../elsewhere/written.json\n  band: true\n"
        "  calibrate: {seeds: 2}\n"
    )
    monkeypatch.chdir(project)
    assert cli.main(["sweep", "specs/featureprobe_s.yaml"]) == 2
    err = capsys.readouterr().err
    assert "specs/featureprobe_s.yaml:2: model.train.data: ../../elsewhere/problems.csv is " in err
    assert "outside the project" in err and "--allow-path DIR" in err
    assert cli.main(["calibrate", "specs/featureprobe_s.yaml"]) == 2
    assert not (elsewhere / "written.json").exists()
    capsys.readouterr()
    assert cli.main(["sweep", "specs/featureprobe_s.yaml", "--allow-path", str(elsewhere)]) == 0


def test_a_cache_folder_that_cannot_be_made_warns_and_the_run_goes_on(fruit):
    (fruit.path / "featureprobe_good.yaml").write_text(GOOD)
    cache = fruit.path / ".pytest_cache" / "d"
    cache.mkdir(parents=True)
    (cache / "featureprobe").write_text("a file where the folder should be")
    result = fruit.runpytest("-rA", "-W", "default")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*PytestCacheWarning: featureprobe: cannot use the cache folder*"])
    assert "Traceback" not in result.stdout.str()


def test_the_report_draws_no_drift_from_a_baseline_outside_the_project(fruit, tmp_path_factory):
    pytest.importorskip("matplotlib")
    from pytest_featureprobe.baseline import Baseline, write_baseline
    from pytest_featureprobe.features import FeatureSpace
    from pytest_featureprobe.models import from_callable

    fruit.makeini("[pytest]\n")
    # A real baseline of the fruit model, but outside the project: it must not be read.
    names = ["red", "green", "round", "long", "sweet", "sour", "shiny"]
    model = from_callable(
        lambda x: __import__("numpy").full((len(x), 3), 1 / 3),
        FeatureSpace(tuple(names), token_column="fruit"),
        ["apple", "banana", "lime"],
    )
    outside = tmp_path_factory.mktemp("report_outside") / "b.json"
    write_baseline(outside, Baseline.from_sweep(model.sweep(order=1)))
    (fruit.path / "featureprobe_r.yaml").write_text(
        GOOD + f"drift:\n  baseline: {outside}\n  max_flips: 0\n"
    )
    result = run(fruit, "--featureprobe-report", "out")
    result.assert_outcomes(passed=1, errors=1)
    page = (fruit.path / "out" / "index.html").read_text(encoding="utf-8")
    assert "no drift figures: " in page and "is outside the project" in page
    assert 'data-kind="drift"' not in page
    assert 'data-kind="heatmap"' in page  # the sweep itself is drawn


# --- a baseline covers what it gates --------------------------------------------------------------

SOUR_MOVED = '''

@pytest.fixture(scope="session")
def sour_moved():
    """The fruit model, except that every probe with 'sour' now predicts apple at 0.9."""

    def predict(x):
        out = fruit(x)
        out[np.asarray(x)[:, 5] == 1] = [0.9, 0.05, 0.05]
        return out

    space = FeatureSpace(tuple(FEATURES), token_column="fruit")
    return from_callable(predict, space, CLASSES)
'''


def test_a_declared_probe_set_is_what_the_baseline_holds_and_the_gates_compare(fruit):
    """drift.probes narrows the gates on purpose: the baseline holds those probes only, a
    change elsewhere passes, and the same change fails a file that gates every probe."""
    with (fruit.path / "conftest.py").open("a") as stream:
        stream.write(SOUR_MOVED)
    gates = "  max_flips: 0\n  max_abs_delta: 0.05\n"
    narrow = GOOD + "drift:\n  probes: [zero, red, [round, shiny]]\n" + gates
    (fruit.path / "featureprobe_n.yaml").write_text(narrow)
    (fruit.path / "featureprobe_all.yaml").write_text(GOOD + "drift:\n  order: 1\n" + gates)
    run(fruit, "--featureprobe-update").assert_outcomes(passed=6)
    stored = json.loads((fruit.path / "__featureprobe__/featureprobe_n.json").read_text())
    assert [r["probe"] for r in stored["probes"]] == ["zero", "red", "round+shiny"]
    for name in ("featureprobe_n.yaml", "featureprobe_all.yaml"):
        path = fruit.path / name
        path.write_text(path.read_text().replace("fruit_model", "sour_moved"))
    result = run(fruit)
    result.assert_outcomes(passed=4, failed=2)
    has_line(result, "FAILED featureprobe_all.yaml::drift-flips")
    has_line(result, "FAILED featureprobe_all.yaml::drift-max_abs_delta")


def test_a_baseline_lacking_declared_probes_fails_its_gates_listing_them(fruit):
    text = GOOD + "drift:\n  probes: [zero, red, green, [round, shiny]]\n  max_flips: 0\n"
    (fruit.path / "featureprobe_n.yaml").write_text(text)
    run(fruit, "--featureprobe-update").assert_outcomes(passed=2)
    path = fruit.path / "__featureprobe__/featureprobe_n.json"
    gone = ('"probe": "red"', '"probe": "round+shiny"')
    kept = [t for t in path.read_text().split("\n") if not any(g in t for g in gone)]
    path.write_text("\n".join(kept).replace('"green"},', '"green"}'))
    before = snapshot(fruit.path)
    result = run(fruit)
    result.assert_outcomes(passed=1, failed=1)
    has_line(
        result,
        "featureprobe: __featureprobe__/featureprobe_n.json: the baseline no longer matches the "
        "model: it lacks 2 of the 4 probes drift.probes declares (red, round+shiny), which would "
        "go unchecked. If this change is intended, accept it with --featureprobe-update",
    )
    assert snapshot(fruit.path) == before


# --- the command: a number option that is not finite ---------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf"])
@pytest.mark.parametrize(
    "command", [["record", "m.keras", "-o", "featureprobe_m.yaml"], ["diff", "a.json", "b.json"]]
)
def test_max_abs_delta_that_is_not_finite_is_a_usage_error_naming_no_temporary_file(
    tmp_path, monkeypatch, capsys, command, value
):
    """--max-abs-delta nan once reached the recorded file's check, whose error named the
    temporary file it was staged in; it is refused as an argument, before anything is made."""
    from pytest_featureprobe import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.keras").write_bytes(b"PK")
    before = snapshot(tmp_path)
    assert cli.main([*command, "--max-abs-delta", value]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        f"featureprobe {command[0]}: error: argument --max-abs-delta: a number from 0 to 1, "
        f"not {value}"
    )
    assert ".tmp" not in err and "Traceback" not in err
    assert snapshot(tmp_path) == before
