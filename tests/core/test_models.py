"""Model adapters: validation errors are ModelErrors with clear messages; safe .keras loading."""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pytest_featureprobe import models
from pytest_featureprobe.errors import ModelError
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import (
    SIDECAR_SUFFIX,
    as_probe_model,
    from_callable,
    from_keras,
    load_keras_model,
)

SPACE = FeatureSpace.from_names(range(1, 6))
CLASSES = ("A", "B", "C")
WEIGHTS = np.random.default_rng(3).normal(size=(5, 3))


def logits(x):
    return np.asarray(x, dtype=np.float64) @ WEIGHTS + np.array([0.5, -0.25, 0.0])


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def probabilities(x):
    return softmax(logits(x))


@pytest.fixture(scope="module")
def keras():
    from pytest_featureprobe.keras_runtime import load_keras

    return load_keras()


@pytest.fixture(scope="module")
def dense_model(keras):
    return keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(
                8,
                activation="tanh",
                kernel_initializer=keras.initializers.GlorotUniform(seed=1),
                bias_initializer=keras.initializers.RandomNormal(seed=2),
            ),
            keras.layers.Dense(
                3, activation="softmax", kernel_initializer=keras.initializers.GlorotUniform(seed=3)
            ),
        ]
    )


# --- callables ------------------------------------------------------------------------------


def test_callable_probabilities_pass_through():
    model = from_callable(probabilities, SPACE, CLASSES)
    x = SPACE.encode_sets([[], [1], [2, 5]])
    np.testing.assert_allclose(model.predict_proba(x), probabilities(x))
    assert model.classes == CLASSES
    assert "probabilities" in model.description


def test_callable_returning_nan_is_refused():
    def nan_model(x):
        out = probabilities(x)
        out[:, 0] = np.nan
        return out

    with pytest.raises(ModelError, match="NaN or infinite"):
        from_callable(nan_model, SPACE, CLASSES)


def test_nan_on_some_probes_is_refused_at_sweep_time():
    def sometimes_nan(x):
        out = probabilities(x)
        out[x[:, 2] == 1] = np.inf
        return out

    model = from_callable(sometimes_nan, SPACE, CLASSES)  # the zero row is fine
    with pytest.raises(ModelError, match="NaN or infinite"):
        model.sweep(order=1)


def test_non_probabilities_are_refused_with_a_hint():
    with pytest.raises(ModelError) as info:
        from_callable(logits, SPACE, CLASSES)
    message = str(info.value)
    assert "does not return probabilities" in message
    assert "outputs='logits'" in message


def test_rows_not_summing_to_one_are_refused():
    def halves(x):
        return probabilities(x) * 0.5

    with pytest.raises(ModelError, match=r"a row sums to 0\.5"):
        from_callable(halves, SPACE, CLASSES)


def test_negative_values_are_refused_even_when_rows_sum_to_one():
    def signed(x):
        out = np.zeros((len(x), 3))
        out[:, 0] = 1.5
        out[:, 1] = -0.5
        return out

    with pytest.raises(ModelError, match="does not return probabilities"):
        from_callable(signed, SPACE, CLASSES)


def test_same_callable_accepted_as_logits():
    model = from_callable(logits, SPACE, CLASSES, outputs="logits")
    x = SPACE.encode_sets([[], [3], [1, 4], [1, 2, 3, 4, 5]])
    probs = model.predict_proba(x)
    np.testing.assert_allclose(probs, probabilities(x), rtol=0, atol=1e-12)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    sweep = model.sweep(order=1)
    assert sweep.predicted("zero") == CLASSES[int(np.argmax(logits(np.zeros((1, 5)))))]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
def test_outputs_of_any_real_dtype_come_back_float64_and_not_shared(dtype):
    # Checks run in float32/float64 as returned (others as float64), the result is a copy.
    held = {}

    def one_hot(x):
        out = np.zeros((len(x), 3), dtype=dtype)
        out[:, 1] = 1
        held["out"] = out
        return out

    model = from_callable(one_hot, SPACE, CLASSES)
    probs = model.predict_proba(SPACE.encode_sets([[1], [2]]))
    assert probs.dtype == np.float64
    assert probs.tolist() == [[0.0, 1.0, 0.0]] * 2
    assert not np.shares_memory(probs, held["out"])


def test_float32_rows_just_outside_the_tolerance_are_refused():
    def over(x):
        out = np.full((len(x), 3), np.float32(1.0021 / 3), dtype=np.float32)
        return out

    with pytest.raises(ModelError, match=r"a row sums to 1\.002"):
        from_callable(over, SPACE, CLASSES)


def test_float32_logits_whose_sum_overflows_are_not_called_infinite():
    # Finite float32 logits near the type's limit: their batch sum is inf, the row check is not.
    def huge(x):
        out = np.full((len(x), 3), np.float32(3e38), dtype=np.float32)
        out[:, 2] = 0
        return out

    model = from_callable(huge, SPACE, CLASSES, outputs="logits")
    probs = model.predict_proba(SPACE.encode_sets([[1]]))
    np.testing.assert_allclose(probs, [[0.5, 0.5, 0.0]])


def test_unknown_output_kind():
    with pytest.raises(ModelError, match="outputs must be one of"):
        from_callable(probabilities, SPACE, CLASSES, outputs="scores")


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda x: probabilities(x)[:, :2], id="too-few-columns"),
        pytest.param(lambda x: np.hstack([probabilities(x), np.zeros((len(x), 1))]), id="extra"),
        pytest.param(lambda x: probabilities(x)[:, 0], id="one-dimensional"),
        pytest.param(lambda x: np.vstack([probabilities(x)] * 2), id="too-many-rows"),
        pytest.param(lambda x: probabilities(x)[None], id="three-dimensional"),
    ],
)
def test_wrong_output_shape(bad):
    with pytest.raises(ModelError) as info:
        from_callable(bad, SPACE, CLASSES)
    message = str(info.value)
    assert "returned shape" in message
    assert "expected (1, 3)" in message
    assert "A, B, C" in message


def test_callable_that_raises_is_reported():
    def broken(x):
        raise RuntimeError("matrix size mismatch\nsecond line")

    with pytest.raises(ModelError) as info:
        from_callable(broken, SPACE, CLASSES)
    message = str(info.value)
    assert "all-zero row of width 5" in message
    assert "RuntimeError: matrix size mismatch" in message
    assert "second line" not in message


@pytest.mark.parametrize(
    ("classes", "fragment"),
    [(["A"], "at least two classes"), (["A", "B", "A"], "class names repeat")],
)
def test_bad_class_lists(classes, fragment):
    with pytest.raises(ModelError, match=fragment):
        from_callable(lambda x: np.full((len(x), len(classes)), 1 / len(classes)), SPACE, classes)


def test_predict_proba_checks_input_width():
    model = from_callable(probabilities, SPACE, CLASSES)
    with pytest.raises(ModelError, match=r"shape \(rows, 5\)"):
        model.predict_proba(np.zeros((2, 4)))


# --- predict_proba objects ------------------------------------------------------------------


class TinyClassifier:
    """The scikit-learn protocol without scikit-learn: predict_proba and classes_."""

    classes_ = np.array(["no", "yes"])

    def __init__(self):
        self.seen_shapes = []

    def predict_proba(self, x):
        self.seen_shapes.append(np.shape(x))
        p = 1 / (1 + np.exp(-(np.asarray(x) @ np.arange(1.0, 6.0) - 2.5)))
        return np.stack([1 - p, p], axis=1)


def test_predict_proba_object():
    estimator = TinyClassifier()
    model = as_probe_model(estimator, SPACE)
    assert model.classes == ("no", "yes")
    assert "TinyClassifier.predict_proba" in model.description
    sweep = model.sweep(order=2)
    assert sweep.predicted("zero") == "no"
    assert sweep.predicted([5]) == "yes"
    assert sweep.predicted([1]) == "no"
    assert sweep.probabilities([1, 2])["yes"] == pytest.approx(1 / (1 + np.exp(-0.5)))
    assert (5,) not in estimator.seen_shapes and all(s[1] == 5 for s in estimator.seen_shapes)


def test_predict_proba_object_without_classes():
    class NoClasses:
        def predict_proba(self, x):
            return np.full((len(x), 2), 0.5)

    with pytest.raises(ModelError, match="no classes_"):
        as_probe_model(NoClasses(), SPACE)
    model = as_probe_model(NoClasses(), SPACE, ["a", "b"])
    assert model.classes == ("a", "b")


def test_as_probe_model_dispatch():
    assert as_probe_model(from_callable(probabilities, SPACE, CLASSES)).classes == CLASSES
    with pytest.raises(ModelError, match="feature space"):
        as_probe_model(probabilities)
    with pytest.raises(ModelError, match="class names"):
        as_probe_model(probabilities, SPACE)
    with pytest.raises(ModelError, match="cannot probe a int"):
        as_probe_model(42, SPACE, CLASSES)
    assert as_probe_model(logits, SPACE, CLASSES, outputs="logits").outputs == "logits"


# --- Keras models in memory -----------------------------------------------------------------


def test_keras_model_input_width_must_match_the_space(dense_model):
    wider = FeatureSpace.from_names(range(7))
    with pytest.raises(ModelError) as info:
        from_keras(dense_model, wider, CLASSES)
    assert "takes 5 inputs" in str(info.value)
    assert "7 features" in str(info.value)
    with pytest.raises(ModelError, match="takes 5 inputs"):
        as_probe_model(dense_model, wider, CLASSES)


def test_keras_model_output_count_must_match_the_classes(dense_model):
    with pytest.raises(ModelError, match=r"expected \(1, 2\)"):
        from_keras(dense_model, SPACE, ["A", "B"])


def test_keras_model_adapts(dense_model):
    model = as_probe_model(dense_model, SPACE, CLASSES)
    assert model.keras_model is dense_model
    assert model.shortcut is not None
    assert model.fingerprint == models.weights_fingerprint(dense_model.get_weights())
    x = SPACE.encode_sets([[], [2], [1, 3, 5]])
    np.testing.assert_allclose(
        model.predict_proba(x), np.asarray(dense_model(x, training=False)), rtol=0, atol=1e-7
    )


def test_fingerprint_tracks_weights():
    a = [np.zeros((2, 2), np.float32), np.ones(2, np.float32)]
    b = [np.zeros((2, 2), np.float32), np.array([1, 2], np.float32)]
    assert models.weights_fingerprint(a) == models.weights_fingerprint([w.copy() for w in a])
    assert models.weights_fingerprint(a) != models.weights_fingerprint(b)


# --- .keras files ---------------------------------------------------------------------------


def test_save_and_load_with_sidecar(dense_model, tmp_path):
    probe_model = from_keras(dense_model, SPACE, CLASSES)
    path = probe_model.save(tmp_path / "model.keras")
    sidecar = json.loads((tmp_path / ("model.keras" + SIDECAR_SUFFIX)).read_text())
    assert sidecar["classes"] == list(CLASSES)
    assert sidecar["space"]["features"] == list(SPACE.features)
    loaded = load_keras_model(path)
    assert loaded.space == SPACE
    assert loaded.classes == CLASSES
    assert loaded.outputs == "probabilities"
    assert loaded.fingerprint == probe_model.fingerprint
    assert loaded.shortcut is not None
    assert "model.keras" in loaded.description
    a = probe_model.sweep(order=2).table
    b = loaded.sweep(order=2).table
    np.testing.assert_allclose(
        a[[f"P({c})" for c in CLASSES]], b[[f"P({c})" for c in CLASSES]], rtol=0, atol=1e-7
    )
    # A path given to as_probe_model goes the same way.
    assert as_probe_model(str(path)).fingerprint == probe_model.fingerprint


def test_load_uses_explicit_space_and_classes_over_the_sidecar(dense_model, tmp_path):
    path = from_keras(dense_model, SPACE, CLASSES).save(tmp_path / "m.keras")
    other = FeatureSpace.from_names(["a", "b", "c", "d", "e"])
    loaded = load_keras_model(path, other, ["x", "y", "z"])
    assert loaded.space == other
    assert loaded.classes == ("x", "y", "z")
    with pytest.raises(ModelError, match="takes 5 inputs but the feature space has 6"):
        load_keras_model(path, FeatureSpace.from_names(range(6)))


def test_logits_model_round_trip(keras, tmp_path):
    raw = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    with pytest.raises(ModelError, match="outputs='logits'"):
        from_keras(raw, SPACE, CLASSES)
    probe_model = from_keras(raw, SPACE, CLASSES, outputs="logits")
    loaded = load_keras_model(probe_model.save(tmp_path / "logits.keras"))
    assert loaded.outputs == "logits"
    x = SPACE.encode_sets([[1], [4, 5]])
    np.testing.assert_allclose(loaded.predict_proba(x), probe_model.predict_proba(x), atol=1e-7)


def test_load_without_sidecar_needs_space_and_classes(dense_model, tmp_path):
    path = tmp_path / "bare.keras"
    dense_model.save(path)
    with pytest.raises(ModelError, match="no feature names or class names") as raised:
        load_keras_model(path)
    assert "--feature-names A,B,C and --classes X,Y" in str(raised.value)
    assert f"(no sidecar {path}.featureprobe.json)" in str(raised.value)
    with pytest.raises(ModelError, match=r"bare.keras: no class names \(no sidecar ") as raised:
        load_keras_model(path, SPACE)
    assert "give --classes X,Y, or save the model with featureprobe train" in str(raised.value)
    assert load_keras_model(path, SPACE, CLASSES).classes == CLASSES


def test_lambda_layer_is_refused_in_safe_mode(keras, tmp_path):
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Lambda(lambda x: x * 2.0),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    probe_model = from_keras(model, SPACE, CLASSES)
    assert probe_model.shortcut is None
    path = probe_model.save(tmp_path / "lambda.keras")
    with pytest.raises(ModelError) as info:
        load_keras_model(path)
    message = str(info.value)
    assert "lambda.keras" in message
    assert "safe mode" in message
    assert "Lambda" in message
    assert "\n" not in message


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty-zip", "bad-config"])
def test_corrupt_keras_file_is_a_model_error(dense_model, tmp_path, damage):
    good = from_keras(dense_model, SPACE, CLASSES).save(tmp_path / "good.keras")
    path = tmp_path / "bad.keras"
    if damage == "garbage":
        path.write_bytes(b"this is not a keras file")
    elif damage == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif damage == "empty-zip":
        with zipfile.ZipFile(path, "w"):
            pass
    else:
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
            for item in source.infolist():
                data = source.read(item)
                target.writestr(item, b"{ not json" if item.filename == "config.json" else data)
    with pytest.raises(ModelError) as info:
        load_keras_model(path, SPACE, CLASSES)
    message = str(info.value)
    assert "bad.keras" in message
    assert "File not found" not in message
    assert "\n" not in message


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        load_keras_model(tmp_path / "absent.keras", SPACE, CLASSES)
    legacy = tmp_path / "model.h5"
    legacy.write_bytes(b"\x89HDF")
    with pytest.raises(ModelError, match=r"only the \.keras format"):
        load_keras_model(legacy, SPACE, CLASSES)


def test_bad_sidecar(dense_model, tmp_path):
    path = from_keras(dense_model, SPACE, CLASSES).save(tmp_path / "m.keras")
    sidecar = tmp_path / ("m.keras" + SIDECAR_SUFFIX)
    sidecar.write_text("{oops")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_keras_model(path)
    sidecar.write_text("[1, 2]")
    with pytest.raises(ModelError, match="JSON object"):
        load_keras_model(path)


GOOD_SIDECAR = {"space": SPACE.to_dict(), "classes": list(CLASSES)}


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b'{"space":\n\xff}', "not UTF-8 text (byte 0xff on line 2); save it as UTF-8"),
        (b"\xef\xbb\xbf{}", "not valid JSON"),  # a byte-order mark: not what save writes
        ("[" * 100_000, "not valid JSON"),  # nesting too deep
        ('{"classes": ' + "1" * 5000 + "}", "not valid JSON"),  # an integer too long
        ({"classes": 5}, "classes: must be a list of class names, not 5"),
        ({"classes": {"A": 0}}, "classes: must be a list of class names, not an object"),
        ({"classes": "ABC"}, "classes: must be a list of class names, not 'ABC'"),
        ({"classes": ["A"]}, "classes: must name at least two classes, not 1"),
        ({"classes": ["A", ["B"], "C"]}, "classes: item 2 is a list; class names are"),
        ({"classes": ["A", "B", None]}, "classes: item 3 is null; class names are"),
        ({"classes": ["A", {}, "C"]}, "classes: item 2 is an object; class names are"),
        ({"classes": ["1", 1.0, "C"]}, "classes: '1' appears twice"),
        ({"space": [1, 2]}, "space: must be an object (a feature space), not a list"),
        ({"space": {"features": "ab"}}, "space: a feature space needs a 'features' list"),
        (
            {"space": {"features": ["a"], "token_column": [5]}},
            "space.token_column: must be a column name or null",
        ),
        ({"outputs": "softmax"}, "outputs: must be probabilities or logits, not 'softmax'"),
        ({"outputs": None}, "outputs: must be probabilities or logits, not null"),
    ],
    ids=[
        "not-utf8",
        "byte-order-mark",
        "nesting-too-deep",
        "integer-too-long",
        "classes-a-number",
        "classes-an-object",
        "classes-a-string",
        "one-class",
        "class-a-list",
        "class-null",
        "class-an-object",
        "classes-repeat",
        "space-a-list",
        "space-without-features",
        "space-bad-token-column",
        "outputs-unknown",
        "outputs-null",
    ],
)
def test_damaged_sidecar_is_one_line_naming_the_file_and_key(
    dense_model, tmp_path, content, fragment
):
    path = from_keras(dense_model, SPACE, CLASSES).save(tmp_path / "m.keras")
    sidecar = tmp_path / ("m.keras" + SIDECAR_SUFFIX)
    if isinstance(content, dict):
        content = json.dumps({**GOOD_SIDECAR, **content})
    if isinstance(content, str):
        content = content.encode()
    sidecar.write_bytes(content)
    for load in (load_keras_model, models.read_sidecar):
        with pytest.raises(ModelError) as info:
            load(path)
        message = str(info.value)
        assert message.startswith(f"m.keras{SIDECAR_SUFFIX}"), message
        assert fragment in message, message
        assert "\n" not in message and len(message) < 300, message


def test_a_sidecar_with_what_save_writes_is_accepted(dense_model, tmp_path):
    path = from_keras(dense_model, SPACE, CLASSES).save(tmp_path / "m.keras")
    sidecar = tmp_path / ("m.keras" + SIDECAR_SUFFIX)
    assert models.read_sidecar(path) == {**GOOD_SIDECAR, "outputs": "probabilities"}
    # Numbers and booleans are class names too (a label column of 0 and 1); other keys are
    # left alone (a later version may add some).
    sidecar.write_text(json.dumps({**GOOD_SIDECAR, "classes": [0, 1.5, True], "note": [None]}))
    assert load_keras_model(path).classes == ("0", "1.5", "true")


def test_a_pinned_load_gives_the_same_model_and_sweep(dense_model, tmp_path):
    path = from_keras(dense_model, SPACE, CLASSES).save(tmp_path / "m.keras")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    plain = load_keras_model(path)
    pinned = load_keras_model(path, sha256=digest.upper())
    assert pinned.fingerprint == plain.fingerprint
    assert pinned.description == plain.description == "Keras model m.keras"
    assert pinned.space == SPACE and pinned.classes == CLASSES
    assert pinned.shortcut is not None
    a, b = plain.sweep(order=2).table, pinned.sweep(order=2).table
    assert a.equals(b)
    with pytest.raises(ModelError, match=r"m\.keras does not match its pin") as info:
        load_keras_model(path, sha256="0" * 64)
    assert info.value.key == "sha256"


def test_a_pinned_load_loads_the_bytes_it_checked(keras, dense_model, tmp_path, monkeypatch):
    """The file is replaced right after its digest is taken: what loads is what was checked."""
    path = from_keras(dense_model, SPACE, CLASSES).save(tmp_path / "m.keras")
    checked = from_keras(dense_model, SPACE, CLASSES).fingerprint
    other = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(3, activation="softmax", bias_initializer="ones"),
        ]
    )
    replacement = from_keras(other, SPACE, CLASSES).save(tmp_path / "other.keras").read_bytes()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    real_sha256 = hashlib.sha256
    swapped = []

    class SwapAfterHashing:
        def __init__(self, *data):
            self.inner = real_sha256(*data)

        def update(self, data):
            self.inner.update(data)

        def hexdigest(self):
            if not swapped:
                path.write_bytes(replacement)
                swapped.append(path)
            return self.inner.hexdigest()

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    loaded_from = []
    real_load_model = keras.saving.load_model

    def load_model(source, *args, **kwargs):
        loaded_from.append(Path(source))
        return real_load_model(source, *args, **kwargs)

    monkeypatch.setattr(keras.saving, "load_model", load_model)
    monkeypatch.setattr(hashlib, "sha256", SwapAfterHashing)
    loaded = load_keras_model(path, sha256=digest)
    monkeypatch.undo()
    assert swapped == [path]  # the file was replaced after its digest was taken
    assert loaded.fingerprint == checked
    assert loaded.description == "Keras model m.keras"
    # A private copy under the same name, in a temporary folder that is gone afterwards.
    [source] = loaded_from
    assert source.name == "m.keras" and source.parent.parent == scratch
    assert list(scratch.iterdir()) == []


def test_save_refuses_what_it_cannot_write(dense_model, tmp_path):
    with pytest.raises(ModelError, match="only Keras-backed"):
        from_callable(probabilities, SPACE, CLASSES).save(tmp_path / "m.keras")
    with pytest.raises(ModelError, match=r"save to a \.keras file"):
        from_keras(dense_model, SPACE, CLASSES).save(tmp_path / "m.h5")
    assert list(tmp_path.iterdir()) == []


def test_save_writes_the_model_and_its_sidecar_together_or_neither(
    dense_model, tmp_path, monkeypatch
):
    """The sidecar's rename fails: the model file is put back as it was, nothing else is left."""
    import os

    from pytest_featureprobe import files

    probe_model = from_keras(dense_model, SPACE, CLASSES)
    path = probe_model.save(tmp_path / "m.keras")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["m.keras", "m.keras" + SIDECAR_SUFFIX]
    real_replace = os.replace

    def replace(source, target):
        if str(target).endswith(SIDECAR_SUFFIX):
            raise OSError(28, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(files.os, "replace", replace)
    other = from_keras(dense_model, SPACE, ("x", "y", "z"))  # another sidecar
    with pytest.raises(OSError, match="No space left"):
        other.save(path)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    ("returns", "message"),
    [
        (lambda x: np.array([["x", "y"]] * len(x)), "returned values of dtype <U1, not numbers"),
        (
            lambda x: np.array([[object()] * 2] * len(x)),
            "returned values of dtype object, not numbers",
        ),
        (lambda x: (row for row in x), "returned a generator, not an array of numbers"),
        (lambda x: np.full((len(x), 2), 0.5 + 0j), "returned complex numbers, not probabilities"),
        (lambda x: "yes", "returned a str, not an array of numbers"),
    ],
    ids=["strings", "objects", "generator", "complex", "text"],
)
def test_outputs_that_are_not_numbers_are_refused_naming_the_model(returns, message):
    """Refused in one line, not cast (a complex 0.5+0j is not the probability 0.5)."""
    space = FeatureSpace.from_names(["a", "b"])
    with pytest.raises(ModelError) as info:
        from_callable(returns, space, ["no", "yes"]).predict_proba(np.zeros((1, 2)))
    assert info.value.message == f"callable <lambda> {message}"


def test_a_sidecar_nan_is_located_by_its_token_not_a_nan_inside_a_string(tmp_path):
    model = tmp_path / "m.keras"
    sidecar = tmp_path / "m.keras.featureprobe.json"
    sidecar.write_text('{\n  "classes": ["NaN bread", "b"],\n  "outputs": "probabilities",\n'
                       '  "x": [1, NaN]\n}\n')  # fmt: skip
    with pytest.raises(ModelError) as info:
        models.read_sidecar(model)
    assert str(info.value) == (
        "m.keras.featureprobe.json: NaN on line 4 is not a finite number (a sidecar's class "
        "names and features are text or finite numbers)"
    )
