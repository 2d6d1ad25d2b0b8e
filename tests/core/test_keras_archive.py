""".keras archives checked before Keras opens them: members, declared sizes (zip bombs), the
bounded read of config.json, and the allow-list of Keras built-ins in the config."""

from __future__ import annotations

import copy
import json
import os
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pytest_featureprobe.errors import ModelError
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import keras_archive, keras_files
from pytest_featureprobe.models.keras_archive import (
    BYTES_VARIABLE,
    RATIO_VARIABLE,
    check_config,
    check_keras_archive,
)

BOSTON = {
    "module": "keras.datasets.boston_housing",
    "class_name": "function",
    "config": "load_data",
    "registered_name": "load_data",
}
POLICY = {
    "module": "keras",
    "class_name": "DTypePolicy",
    "config": {"name": "float32"},
    "registered_name": None,
}


def initializer(name: str = "GlorotUniform") -> dict:
    return {
        "module": "keras.initializers",
        "class_name": name,
        "config": {},
        "registered_name": None,
    }


def dense(name: str = "dense", activation: object = "softmax", **extra: object) -> dict:
    """A Dense layer as Keras 3 writes it in config.json."""
    config = {
        "name": name,
        "trainable": True,
        "dtype": dict(POLICY),
        "units": 3,
        "activation": activation,
        "use_bias": True,
        "kernel_initializer": initializer(),
        "bias_initializer": initializer("Zeros"),
        "kernel_regularizer": None,
        "kernel_constraint": None,
        **extra,
    }
    return {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": config,
        "registered_name": None,
        "build_config": {"input_shape": [None, 2]},
    }


def sequential(*layers: dict) -> dict:
    """A Sequential model's config.json, as Keras 3.15 writes it (trimmed)."""
    inputs = {
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {"batch_shape": [None, 2], "dtype": "float32", "name": "input_layer"},
        "registered_name": None,
    }
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "dtype": dict(POLICY), "layers": [inputs, *layers]},
        "registered_name": None,
        "build_config": {"input_shape": [None, 2]},
        "compile_config": {},
    }


def write_archive(path: Path, members: dict[str, bytes | str], **options) -> Path:
    with zipfile.ZipFile(path, "w", **options) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def keras_like(path: Path, config: object, **members: bytes) -> Path:
    return write_archive(
        path,
        {"metadata.json": '{"keras_version": "3.15.1"}', "config.json": json.dumps(config)}
        | {name.replace("_", "."): data for name, data in members.items()},
    )


def refusal(path: Path) -> str:
    with pytest.raises(ModelError) as info:
        check_keras_archive(path, path.name)
    message = str(info.value)
    assert "\n" not in message and str(path.parent) not in message
    return message


@pytest.fixture(autouse=True)
def default_limits(monkeypatch):
    monkeypatch.delenv(BYTES_VARIABLE, raising=False)
    monkeypatch.delenv(RATIO_VARIABLE, raising=False)


# --- members ----------------------------------------------------------------------------------


def test_a_keras_shaped_archive_passes(tmp_path):
    path = keras_like(tmp_path / "m.keras", sequential(dense()), model_weights_h5=b"\x89HDF")
    check_keras_archive(path, "m.keras")
    write_archive(
        path,
        {"config.json": json.dumps(sequential(dense())), "assets/": b"", "assets/vocab.txt": "a"},
    )
    check_keras_archive(path, "m.keras")


@pytest.mark.parametrize(
    "name",
    ["notes.txt", "assets/../../escape.txt", "/etc/passwd", "assets\\..\\x", "assets//x", "x/y"],
)
def test_a_member_keras_does_not_write_is_refused(tmp_path, name):
    path = write_archive(tmp_path / "m.keras", {"config.json": "{}", name: "x"})
    assert refusal(path) == (
        f"cannot load m.keras: it holds {name!r}, which is not a member of a Keras 3 archive "
        "(config.json, metadata.json, model.weights.h5 and files under assets/)"
    )


def test_a_member_twice_and_no_config_are_refused(tmp_path):
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("config.json", json.dumps(sequential(dense())))
        archive.writestr("config.json", json.dumps(sequential(dense(activation=BOSTON))))
    assert refusal(path) == "cannot load m.keras: it holds 'config.json' twice"
    write_archive(path, {"metadata.json": "{}"})
    assert refusal(path) == (
        "cannot load m.keras: it has no config.json, so it is not a Keras 3 model archive"
    )


def test_a_damaged_archive_or_config_is_one_line(tmp_path):
    path = keras_like(tmp_path / "m.keras", {})
    assert refusal(path) == "cannot load m.keras: its config.json does not describe a model"
    write_archive(path, {"config.json": "{ not json"})
    assert refusal(path).startswith("cannot load m.keras: its config.json is not valid JSON (")
    write_archive(path, {"config.json": "[" * 200_000 + "]" * 200_000}, compression=8)
    assert "is not valid JSON (RecursionError" in refusal(path)
    write_archive(path, {"config.json": b"\xff\xfe{"})
    assert "is not valid JSON" in refusal(path)


# --- sizes ------------------------------------------------------------------------------------


def test_a_config_bomb_is_refused_from_its_header_without_inflating(tmp_path):
    """40 MiB of spaces deflate to about 40 KB; the limit for config.json is 32 MiB."""
    path = tmp_path / "bomb.keras"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("config.json", "w", force_zip64=True) as member,
    ):
        for _ in range(40):
            member.write(b" " * (1 << 20))
    assert path.stat().st_size < 200_000
    started = time.perf_counter()
    message = refusal(path)
    assert time.perf_counter() - started < 0.5
    assert message == (
        "cannot load bomb.keras: its 'config.json' would inflate to 41,943,040 bytes (at most "
        "33,554,432); refused as a possible zip bomb (if the model is genuine, "
        "FEATUREPROBE_MAX_MODEL_BYTES raises the limit)"
    )


def test_many_members_that_inflate_far_beyond_the_file_are_refused(tmp_path, monkeypatch):
    """Each member within its own limit, the whole 1,000 times the file: Keras' per-member guard
    would let it fill the temporary folder."""
    path = write_archive(
        tmp_path / "m.keras",
        {
            "config.json": json.dumps(sequential(dense())),
            "model.weights.h5": bytes(10 << 20),
            "assets/a.bin": bytes(10 << 20),
        },
        compression=zipfile.ZIP_DEFLATED,
    )
    message = refusal(path)
    assert message.startswith(
        "cannot load m.keras: its members would inflate to 20,97"
    ) and message.endswith(
        " (at most 100 times); refused as a possible zip bomb (if the model is genuine, "
        "FEATUREPROBE_MAX_MODEL_RATIO raises the limit)"
    )
    monkeypatch.setenv(RATIO_VARIABLE, "100000")
    check_keras_archive(path, "m.keras")


def test_the_total_limit_counts_every_member_and_can_be_lowered_or_raised(tmp_path, monkeypatch):
    rows = {"model.weights.h5": os.urandom(60_000), "assets/a.bin": os.urandom(60_000)}
    rows["config.json"] = json.dumps(sequential(dense()))  # over 1,000 bytes
    path = write_archive(tmp_path / "m.keras", rows)
    check_keras_archive(path, "m.keras")
    monkeypatch.setenv(BYTES_VARIABLE, "100000")
    assert refusal(path).startswith(
        f"cannot load m.keras: its members would inflate to {sum(map(len, rows.values())):,} "
        "bytes in all (at most 100,000); refused as a possible zip bomb"
    )
    monkeypatch.setenv(BYTES_VARIABLE, "50000")  # one member is over it on its own
    assert refusal(path).startswith(
        "cannot load m.keras: its 'model.weights.h5' would inflate to 60,000 bytes (at most 50,000)"
    )
    monkeypatch.setenv(BYTES_VARIABLE, "64000")  # the config limit follows: 1,000 bytes
    assert refusal(path).startswith(
        "cannot load m.keras: its 'config.json' would inflate to "
    ) and "(at most 1,000)" in refusal(path)
    monkeypatch.setenv(BYTES_VARIABLE, str(10 << 30))
    check_keras_archive(path, "m.keras")


@pytest.mark.parametrize("value", ["many", "-5", "0", "1e9", "2.5"])
def test_a_limit_that_is_not_a_whole_number_is_refused(tmp_path, monkeypatch, value):
    path = keras_like(tmp_path / "m.keras", sequential(dense()))
    monkeypatch.setenv(BYTES_VARIABLE, value)
    assert refusal(path) == (
        f"FEATUREPROBE_MAX_MODEL_BYTES must be a whole number above 0, not {value!r}"
    )


def test_a_header_that_understates_the_config_is_a_damaged_archive(tmp_path):
    """The declared size is what zipfile reads up to; the rest fails the CRC check."""
    path = keras_like(tmp_path / "m.keras", sequential(dense()))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("config.json")
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 57] != b"config.json":
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, info.header_offset + 22, 10)
    struct.pack_into("<I", data, central + 24, 10)
    path.write_bytes(bytes(data))
    assert refusal(path).startswith("cannot load m.keras: a damaged .keras archive (BadZipFile: ")


def test_config_json_is_read_with_a_bounded_read(tmp_path):
    """Whatever the header says, no more than the limit and one byte is read."""
    path = keras_like(tmp_path / "m.keras", sequential(dense()))
    with zipfile.ZipFile(path) as archive, pytest.raises(ModelError) as info:
        keras_archive._read_config(archive, "m.keras", 100)
    assert str(info.value).startswith(
        "cannot load m.keras: its config.json inflates to more than 100 bytes"
    )


# --- the allow-list -----------------------------------------------------------------------------


def layer(class_name: str, module: str = "keras.layers", **config: object) -> dict:
    return {"module": module, "class_name": class_name, "config": {"name": "odd", **config}}


@pytest.mark.parametrize(
    "config, message",
    [
        (
            sequential(dense(activation=BOSTON)),
            "layer 'dense' names the activation 'keras.datasets.boston_housing.load_data', which "
            "is not one of Keras' built-in activations (allowed: relu, softmax, sigmoid, tanh, ",
        ),
        (
            sequential(dense(activation="keras.datasets.boston_housing.load_data")),
            "layer 'dense' names the activation 'keras.datasets.boston_housing.load_data'",
        ),
        (
            sequential(dense(activation=BOSTON | {"module": "keras.activations"})),
            "layer 'dense' names the activation 'keras.activations.load_data'",
        ),
        (
            sequential(
                dense(activation=BOSTON | {"module": "keras.activations", "config": "relu"})
            ),
            "layer 'dense' names the activation 'keras.activations.relu' registered as 'load_data'",
        ),
        (
            sequential(layer("TextVectorization")),
            "layer 'odd' is a layer 'keras.layers.TextVectorization', which is not one of "
            "Keras' built-in layers (allowed: InputLayer, Dense, Dropout, ",
        ),
        (
            sequential(layer("Dense", "keras.datasets.boston_housing")),
            "layer 'odd' is a layer 'keras.datasets.boston_housing.Dense'",
        ),
        (
            sequential(dense() | {"registered_name": "evil_package>Dense"}),
            "layer 'dense' is a layer 'keras.layers.Dense' registered as 'evil_package>Dense'",
        ),
        (
            sequential(dense(kernel_initializer=initializer() | {"module": "keras.src.utils"})),
            "layer 'dense' names the initializer 'keras.src.utils.GlorotUniform'",
        ),
        (
            sequential(dense(kernel_regularizer=layer("MyPenalty", "keras.regularizers"))),
            "layer 'dense' names the regularizer 'keras.regularizers.MyPenalty'",
        ),
        (
            sequential(dense(kernel_constraint=BOSTON)),
            "layer 'dense' names the constraint 'keras.datasets.boston_housing.function'",
        ),
        (
            sequential(dense(dtype=POLICY | {"class_name": "QuantizedDTypePolicy"})),
            "layer 'dense' names the dtype policy 'keras.QuantizedDTypePolicy'",
        ),
        (
            sequential(dense(hidden_here={"payload": [BOSTON]})),
            "layer 'dense' holds the object 'keras.datasets.boston_housing.function' as data, "
            "which is not one of Keras' built-in layers",
        ),
        (
            sequential(dense() | {"build_config": {"input_shape": BOSTON}}),
            "layer 'dense' holds the object 'keras.datasets.boston_housing.function' as data",
        ),
        (
            layer("MyModel", "my_package.models"),
            "the model is a model 'my_package.models.MyModel', which is not one of Keras' "
            "built-in models (allowed: Sequential, Functional)",
        ),
        (
            sequential(sequential(dense(name="inner", activation=BOSTON))),
            "layer 'inner' names the activation 'keras.datasets.boston_housing.load_data'",
        ),
    ],
    ids=[
        "boston-housing-function",
        "boston-housing-string",
        "non-activation-from-keras-activations",
        "activation-registered-elsewhere",
        "layer-not-allowed",
        "layer-from-another-module",
        "registered-name-with-a-package",
        "initializer-module",
        "regularizer-class",
        "function-as-constraint",
        "quantized-policy",
        "object-hidden-in-data",
        "object-in-build-config",
        "custom-model",
        "nested-model",
    ],
)
def test_a_config_naming_anything_but_a_keras_built_in_is_refused(config, message):
    with pytest.raises(ModelError) as info:
        check_config(config, "m.keras")
    assert str(info.value).startswith(f"cannot load m.keras: {message}")
    assert "\n" not in str(info.value) and len(str(info.value)) <= 300


@pytest.mark.parametrize(
    "config",
    [
        {"class_name": ["Sequential"], "config": {}},
        {"class_name": "Sequential", "module": ["keras"], "config": {}},
        sequential({"class_name": {"a": 1}, "module": "keras.layers", "config": {"name": 1}}),
        sequential(dense(activation={"class_name": "function", "config": {"x": 1}})),
        sequential(dense(activation={"class_name": "function", "module": None, "config": 3})),
        sequential(dense(dtype={"class_name": "DTypePolicy", "module": 7})),
        sequential({"class_name": "Dense", "module": "keras.layers", "config": [BOSTON]}),
    ],
)
def test_odd_json_in_a_config_is_a_model_error_not_a_crash(config):
    with pytest.raises(ModelError, match=r"^cannot load m\.keras: "):
        check_config(config, "m.keras")


def test_a_lambda_layer_is_refused_with_its_own_message():
    lam = layer("Lambda", function={"class_name": "__lambda__", "config": {"value": "e30="}})
    with pytest.raises(ModelError) as info:
        check_config(sequential(lam), "m.keras")
    assert str(info.value).startswith(
        "cannot load m.keras in safe mode: it holds a Lambda layer, whose Python code safe mode "
        "will not run"
    )


def test_what_keras_writes_for_allowed_objects_passes():
    config = sequential(
        dense(
            activation={"module": "keras.activations", "class_name": "function", "config": "gelu"},
            kernel_regularizer=layer("L2", "keras.regularizers", l2=0.01),
            kernel_constraint=layer("MaxNorm", "keras.constraints", max_value=2),
            kernel_initializer="glorot_uniform",
        ),
        layer("BatchNormalization", gamma_initializer=initializer("Ones")),
        sequential(dense(name="inner")),
    )
    config["compile_config"] = {"optimizer": layer("Adam", "keras.optimizers"), "loss": "mse"}
    check_config(config, "m.keras")  # the top compile_config is not read (compile=False)


# --- with Keras: genuine files pass, the boston_housing file never reaches Keras ----------------


@pytest.fixture(scope="module")
def keras():
    from pytest_featureprobe.keras_runtime import load_keras

    return load_keras()


def test_every_allowed_name_is_a_keras_built_in(keras):
    assert all(isinstance(getattr(keras.layers, name), type) for name in keras_archive.LAYERS)
    assert all(callable(keras.activations.get(name)) for name in keras_archive.ACTIVATIONS)
    for module, names in [
        (keras.initializers, keras_archive.INITIALIZERS),
        (keras.regularizers, keras_archive.REGULARIZERS),
        (keras.constraints, keras_archive.CONSTRAINTS),
        (keras.dtype_policies, keras_archive.DTYPE_POLICIES),
    ]:
        assert all(isinstance(getattr(module, name), type) for name in names)


def genuine_models(keras):
    from pytest_featureprobe.training import TrainSpec, build_classifier

    trained_kind = build_classifier(3, 2, TrainSpec(hidden=(4,), activation="gelu"))
    trained_kind.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    inputs = keras.Input((3,), name="x")
    hidden = keras.layers.Dense(
        4,
        activation="relu",
        kernel_regularizer=keras.regularizers.L2(0.01),
        kernel_constraint=keras.constraints.MaxNorm(2.0),
    )(inputs)
    hidden = keras.layers.Dropout(0.1)(keras.layers.BatchNormalization()(hidden))
    outputs = keras.layers.Dense(2, activation="softmax")(
        keras.layers.Concatenate()([hidden, inputs])
    )
    return {"sequential": trained_kind, "functional": keras.Model(inputs, outputs)}


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_a_model_saved_by_keras_passes_and_loads(keras, tmp_path, kind):
    model = genuine_models(keras)[kind]
    space = FeatureSpace.from_names(["a", "b", "c"])
    path = keras_files.from_keras(model, space, ["no", "yes"], use_shortcut=False).save(
        tmp_path / f"{kind}.keras"
    )
    check_keras_archive(path, path.name)
    loaded = keras_files.load_keras_model(path)
    row = np.array([[1.0, 0.0, 1.0]], dtype=np.float32)
    np.testing.assert_allclose(loaded.predict_proba(row), np.asarray(model(row)), atol=1e-6)


def test_the_boston_housing_activation_never_reaches_keras(keras, tmp_path, monkeypatch):
    """The config names a function that downloads a data set; it is refused from the config,
    before Keras is asked to read the file (so nothing it names can run)."""
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(2, activation="softmax", name="dense")]
    )
    good = keras_files.from_keras(
        model, FeatureSpace.from_names(["a", "b"]), ["x", "y"], use_shortcut=False
    ).save(tmp_path / "good.keras")
    config = json.loads(zipfile.ZipFile(good).read("config.json"))
    evil = copy.deepcopy(config)
    evil["config"]["layers"][1]["config"]["activation"] = BOSTON
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, json.dumps(evil) if info.filename == "config.json" else data)
    (tmp_path / "m.keras.featureprobe.json").write_bytes(
        (tmp_path / "good.keras.featureprobe.json").read_bytes()
    )

    called = []
    monkeypatch.setattr(keras_files, "load_keras", lambda: called.append("keras") or keras)
    monkeypatch.setattr(keras.datasets.boston_housing, "load_data", lambda *a: called.append(a))
    with pytest.raises(ModelError) as info:
        keras_files.load_keras_model(path)
    assert str(info.value).startswith(
        "cannot load m.keras: layer 'dense' names the activation "
        "'keras.datasets.boston_housing.load_data', which is not one of Keras' built-in "
        "activations"
    )
    assert called == []
    keras_files.load_keras_model(good)  # the same file with its own activation loads
    assert called == ["keras"]
