"""memo: ``ProbeSession`` trains, loads, reads and sweeps each distinct thing once per session.

Training is the slow part, so the tests share one module-scoped session and tiny specs on the
seed data (examples/problems/problems.csv: five rows over features 1-6, classes A and C).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_featureprobe import memo
from pytest_featureprobe.errors import DataError, ModelError, SpecError
from pytest_featureprobe.features import FeatureSpace, MultiHot
from pytest_featureprobe.memo import ProbeSession
from pytest_featureprobe.models.probe_model import ProbeModel

from ..conftest import SEED_CSV

TINY = {"hidden": [4], "epochs": 2}
SEED_ROWS = [  # the seed data's rows, multi-hot over features 1..6
    [1, 1, 1, 0, 0, 0],
    [1, 1, 0, 1, 0, 0],
    [1, 0, 0, 1, 1, 0],
    [0, 0, 1, 1, 1, 0],
    [1, 0, 0, 0, 1, 1],
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def session(cache_dir: Path) -> ProbeSession:
    return ProbeSession(cache_dir)


@pytest.fixture(scope="module")
def model(session: ProbeSession) -> ProbeModel:
    return session.train(SEED_CSV, "problems", "results", **TINY)


def fruit(x: np.ndarray) -> np.ndarray:
    """Two classes; feature ``b`` moves probability toward ``y``."""
    p = 0.2 + 0.6 * np.asarray(x, dtype=float)[:, 1]
    return np.stack([1 - p, p], axis=1)


@pytest.fixture
def plain() -> ProbeModel:
    return ProbeSession(None).load(fruit, ["a", "b", "c"], ["x", "y"])


# --- train ---------------------------------------------------------------------------------------


def test_train_reads_the_space_and_classes_from_the_data(model):
    assert model.space.features == ("1", "2", "3", "4", "5", "6")
    assert model.classes == ("A", "C")
    assert model.description == "dense classifier on problems.csv (seed 0)"
    assert model.info["source"] == "train"
    assert model.info["data"] == "problems.csv"
    assert model.info["spec"]["hidden"] == [4]
    assert model.info["spec"]["epochs"] == 2
    assert model.info["steps"] == 2  # two epochs of one batch of five rows
    probabilities = model.predict_proba(np.array(SEED_ROWS, dtype=np.float32))
    assert probabilities.shape == (5, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_the_same_data_and_spec_give_the_same_model_object(session, model):
    assert session.train(SEED_CSV, "problems", "results", **TINY) is model
    # The same spec written otherwise, the same file named relative to a folder.
    again = session.train(
        SEED_CSV.name, "problems", "results", base_dir=SEED_CSV.parent, hidden=4, epochs=2, seed=0
    )
    assert again is model


def test_another_seed_or_spec_gives_another_model(session, model):
    other_seed = session.train(SEED_CSV, "problems", "results", **TINY, seed=1)
    assert other_seed is not model
    assert other_seed.description == "dense classifier on problems.csv (seed 1)"
    assert session.train(SEED_CSV, "problems", "results", **TINY, seed=1) is other_seed
    x = np.array(SEED_ROWS, dtype=np.float32)
    assert not np.array_equal(other_seed.predict_proba(x), model.predict_proba(x))


def test_a_data_frame_of_the_same_data_gives_the_same_model(session, model):
    # Models are keyed by the encoded data, not by where it came from.
    frame = pd.read_csv(SEED_CSV, dtype=str)
    assert session.train(frame, "problems", "results", **TINY) is model


def test_a_cache_folder_gives_the_cached_model_to_another_session(model, cache_dir):
    assert model.info["from_cache"] is False
    cached = ProbeSession(cache_dir).train(SEED_CSV, "problems", "results", **TINY)
    assert cached is not model
    assert cached.info["from_cache"] is True
    assert cached.info["cache_key"] == model.info["cache_key"]
    x = np.array(SEED_ROWS, dtype=np.float32)
    assert np.array_equal(cached.predict_proba(x), model.predict_proba(x))


@pytest.mark.parametrize(
    "options, kind, key",
    [
        ({"hiden": [4]}, SpecError, "hiden"),
        ({"hidden": [0]}, SpecError, "hidden"),
        ({"epochs": 0}, SpecError, "epochs"),
    ],
)
def test_a_bad_training_option_is_a_spec_error_at_its_key(session, options, kind, key):
    with pytest.raises(kind) as info:
        session.train(SEED_CSV, "problems", "results", **options)
    assert info.value.key == key


def test_a_misspelt_training_option_suggests_the_right_one(session):
    with pytest.raises(SpecError) as info:
        session.train(SEED_CSV, "problems", "results", hiden=[4])
    assert info.value.message.startswith("unknown training option (did you mean 'hidden'?); ")


def test_a_missing_label_column_is_a_data_error_at_label(session):
    with pytest.raises(DataError) as info:
        session.train(SEED_CSV, "problems", "result", **TINY)
    assert (info.value.key, info.value.message) == (
        "label",
        "no label column 'result' (did you mean 'results'?)",
    )


def test_a_missing_token_column_is_a_data_error_at_that_column(session):
    with pytest.raises(DataError) as info:
        session.train(SEED_CSV, "problem", "results", **TINY)
    assert info.value.key == "problem"
    assert info.value.message.startswith("no column 'problem' in the data (did you mean ")


def test_a_missing_data_file_is_a_data_error(session, tmp_path):
    with pytest.raises(DataError) as info:
        session.train("missing.csv", "problems", "results", base_dir=tmp_path, **TINY)
    assert info.value.message.startswith("data file not found: ")
    assert info.value.message.endswith("missing.csv")


# --- load ----------------------------------------------------------------------------------------


def test_load_adapts_a_callable_with_names_for_its_space(plain):
    assert plain.space.features == ("a", "b", "c")
    assert plain.classes == ("x", "y")
    assert plain.description == "callable fruit"
    probabilities = plain.predict_proba(np.array([[0, 1, 0], [0, 0, 0]], dtype=np.float32))
    assert np.allclose(probabilities, [[0.2, 0.8], [0.8, 0.2]])


def test_load_passes_a_probe_model_through(session, plain):
    assert session.load(plain) is plain


def test_load_of_a_callable_without_a_space_or_classes_is_a_model_error(session):
    with pytest.raises(ModelError, match=r"^give the feature space the model reads$"):
        session.load(fruit)
    with pytest.raises(ModelError, match=r"^give the class names of the model's outputs$"):
        session.load(fruit, ["a", "b", "c"])


def test_load_of_a_model_file_is_memoised_by_its_path(session, model, tmp_path):
    path = model.save(tmp_path / "m.keras")
    loaded = session.load(path)
    assert session.load("m.keras", base_dir=tmp_path) is loaded
    assert loaded.space.features == model.space.features
    assert loaded.classes == ("A", "C")
    x = np.array(SEED_ROWS, dtype=np.float32)
    assert np.allclose(loaded.predict_proba(x), model.predict_proba(x), atol=1e-6)


# --- sweep, sweeps -------------------------------------------------------------------------------


def test_a_sweep_is_computed_once_per_model_order_and_probes(session, model):
    first = session.sweep(model, order=1)
    assert session.sweep(model, order=1) is first
    assert len(first) == 7  # zero and six single features
    second = session.sweep(model, order=2)
    assert second is not first and len(second) == 7 + 15
    with_probes = session.sweep(model, order=1, probes=[["1", "2", "3"], ("4", "5", "6")])
    assert with_probes is not first and len(with_probes) == 9
    # The same probes given in another order and as other sequences are the same request.
    assert session.sweep(model, 1, [("4", "5", "6"), ("1", "2", "3")]) is with_probes


def test_another_model_gets_its_own_sweep(session, model, plain):
    assert session.sweep(plain, order=1) is not session.sweep(model, order=1)
    assert session.sweep(plain, order=1).classes == ("x", "y")


def test_sweeps_lists_the_sweeps_in_order_except_calibration_sweeps(plain):
    session = ProbeSession(None)
    first = session.sweep(plain, order=1)
    band = session.sweep(plain, order=2, calibration=True)
    third = session.sweep(plain, order=1, probes=[("a", "c")])
    assert session.sweeps() == [first, third]
    assert session.sweep(plain, order=2) is band  # memoised like any other
    assert session.sweeps() == [first, band, third]  # asked for in its own right: listed


def test_a_sweep_asked_for_calibration_after_it_was_made_stays_listed(plain):
    # The band's sweep of the spec's own seed is the file's sweep itself.
    session = ProbeSession(None)
    sweep = session.sweep(plain, order=1)
    assert session.sweep(plain, order=1, calibration=True) is sweep
    assert session.sweeps() == [sweep]


# --- frame ---------------------------------------------------------------------------------------


def test_a_data_file_is_read_once_per_session(monkeypatch, tmp_path):
    calls = []
    real = memo.read_table

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(memo, "read_table", counting)
    data = tmp_path / "d.csv"
    data.write_text("t,y\n[1],A\n[2],B\n")
    session = ProbeSession(None)
    frame, name = session.frame("d.csv", tmp_path)
    assert name == "d.csv"
    assert frame.to_dict("records") == [{"t": "[1]", "y": "A"}, {"t": "[2]", "y": "B"}]
    assert session.frame(data, None)[0] is frame
    assert session.frame(tmp_path / "." / "d.csv", "/elsewhere")[0] is frame  # absolute
    assert calls == [data.resolve()]


def test_frame_takes_a_data_frame_as_given():
    frame = pd.DataFrame({"t": ["[1]"]})
    assert ProbeSession(None).frame(frame, None) == (frame, "a DataFrame")


def test_frame_refuses_anything_else():
    with pytest.raises(DataError) as info:
        ProbeSession(None).frame(42, None)
    assert info.value.message == "data must be a file path or a pandas DataFrame, not int"


# --- space ---------------------------------------------------------------------------------------


def test_space_passes_a_feature_space_and_none_through():
    space = FeatureSpace.from_names(["a"])
    assert ProbeSession.space(space, None) is space
    assert ProbeSession.space(None, None) is None


def test_space_from_a_list_of_names():
    assert ProbeSession.space([3, "b", 1.0], None).features == ("3", "b", "1")


def test_space_from_a_json_file_relative_to_a_folder(tmp_path):
    space = FeatureSpace(("1", "2", "x=a"), token_column="t", categorical=("x",))
    (tmp_path / "space.json").write_text(space.to_json())
    assert ProbeSession.space("space.json", tmp_path) == space
    assert ProbeSession.space(tmp_path / "space.json", None) == space


def test_a_missing_space_file_is_a_data_error_at_features(tmp_path):
    with pytest.raises(DataError) as info:
        ProbeSession.space("nope.json", tmp_path)
    assert (info.value.key, info.value.message) == (
        "features",
        "feature space file not found: nope.json",
    )


@pytest.mark.parametrize(
    "content, reason",
    [
        ('{"features": [1,', "feature space is not valid JSON: Expecting value (line 1)"),
        ('{"features": "a"}', "a feature space needs a 'features' list"),
        (b'{"features": ["caf\xe9"]}', "'utf-8' codec can't decode byte 0xe9"),
    ],
)
def test_an_unreadable_space_file_is_a_data_error_naming_it(tmp_path, content, reason):
    path = tmp_path / "space.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataError) as info:
        ProbeSession.space("space.json", tmp_path)
    assert info.value.key == "features"
    assert info.value.message.startswith(f"space.json: {reason}")


# --- rows ----------------------------------------------------------------------------------------


def test_rows_encode_a_data_file_in_the_models_space(session, model):
    rows = session.rows(model, SEED_CSV.name, SEED_CSV.parent)
    assert isinstance(rows, MultiHot)  # each row's positions: no rows x features matrix
    assert np.asarray(rows).tolist() == SEED_ROWS


def test_rows_in_another_order_and_with_missing_cells(session, model, tmp_path):
    (tmp_path / "rows.csv").write_text('problems\n"[6, 5]"\n\n""\n4 1\n')
    assert np.asarray(session.rows(model, "rows.csv", tmp_path)).tolist() == [
        [0, 0, 0, 0, 1, 1],
        [0, 0, 0, 0, 0, 0],
        [1, 0, 0, 1, 0, 0],
    ]


def test_a_row_with_an_unknown_feature_is_a_data_error_naming_the_file(session, model, tmp_path):
    (tmp_path / "rows.csv").write_text('problems\n"[1]"\n"[7]"\n')
    with pytest.raises(DataError) as info:
        session.rows(model, "rows.csv", tmp_path)
    assert info.value.message == (
        "rows.csv: row 2: 'problems' has '7', which is not in the feature space"
    )
    assert info.value.key is None  # placed by the caller, at the key that names the file


def test_rows_without_the_token_column_is_a_data_error(session, model, tmp_path):
    (tmp_path / "rows.csv").write_text("other\nx\n")
    with pytest.raises(DataError, match=r"rows\.csv: no column 'problems' in the data"):
        session.rows(model, "rows.csv", tmp_path)


# --- the training notice (issue 17, item 3: a line while a model trains) ------------------------


def test_a_training_is_told_once_before_and_after_and_a_cache_hit_not(tmp_path):
    told: list[tuple] = []
    session = ProbeSession(tmp_path, notice=lambda *event: told.append(event))
    session.train(SEED_CSV, "problems", "results", **TINY, seed=8)
    what = "dense classifier on problems.csv (seed 8)"
    assert [event[:2] for event in told] == [("started", what), ("finished", what)]
    assert told[0][2] is None and told[1][2] > 0
    told.clear()
    ProbeSession(tmp_path, notice=lambda *event: told.append(event)).train(
        SEED_CSV, "problems", "results", **TINY, seed=8
    )
    assert told == []  # from the disk cache: nothing trains


def test_a_training_stopped_by_ctrl_c_ends_its_line_and_goes_on(tmp_path, monkeypatch):
    import io

    from pytest_featureprobe import training

    def interrupted(data, spec, between_calls):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "_fit", interrupted)
    stream = io.StringIO()
    session = ProbeSession(tmp_path, notice=memo.stream_notice(stream))
    with pytest.raises(KeyboardInterrupt):
        session.train(SEED_CSV, "problems", "results", **TINY, seed=9)
    assert stream.getvalue() == (
        "featureprobe: training dense classifier on problems.csv (seed 9)... stopped\n"
    )
    assert not (tmp_path / "models").exists() or list((tmp_path / "models").iterdir()) == []


def test_the_stream_notice_is_one_line_with_the_seconds():
    import io

    stream = io.StringIO()
    notice = memo.stream_notice(stream)
    notice("started", "dense classifier on a.csv (seed 0)", None)
    assert stream.getvalue() == "featureprobe: training dense classifier on a.csv (seed 0)..."
    notice("finished", "dense classifier on a.csv (seed 0)", 12.34)
    assert stream.getvalue().endswith("... 12.3 s\n")
