"""Checks on a ``.keras`` archive before Keras opens it (``check_keras_archive``).

Two things are refused from the archive itself, before Keras inflates or deserializes anything:

- **A zip bomb.** The members must be those of a Keras 3 archive (``config.json``,
  ``metadata.json``, the weights, files under ``assets/``), each declared uncompressed size and
  their total within limits, and the total at most ``MAX_RATIO`` times the file's size. Keras'
  own guard is per member and starts at 256 MiB, so a small file could still fill memory or the
  temporary folder. ``config.json`` is read with a bounded read (Python's ``zipfile`` also stops
  at the declared size and checks the CRC) and parsed here.
- **A config that names code.** Safe mode only refuses Python lambdas: a config may name any
  function Keras exports (``keras.datasets.boston_housing.load_data`` as an activation, which
  fetches from the network when the layer is called). Every object the config names must be one
  of the Keras built-in layers, activations, initializers, regularizers, constraints and dtype
  policies listed below, by its registered name; anything else is refused with the name it gave.

The limits are module constants; ``FEATUREPROBE_MAX_MODEL_BYTES`` and
``FEATUREPROBE_MAX_MODEL_RATIO`` (environment variables, read at each check) replace the total and
the ratio, and the config limit follows the total. Imports neither Keras nor TensorFlow.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError, first_line, preview, quoted
from ..limits import from_environment

CONFIG_MEMBER = "config.json"
METADATA_MEMBER = "metadata.json"
WEIGHTS_MEMBERS = ("model.weights.h5", "model.weights.npz")
ASSETS_FOLDER = "assets"

#: All members together, uncompressed, in bytes (2 GiB); ``FEATUREPROBE_MAX_MODEL_BYTES``
#: replaces it. Keras writes members stored, so this is about the file's own size.
MAX_MODEL_BYTES = 2 << 30
#: ``config.json`` and ``metadata.json`` each at most this fraction of the total limit (32 MiB
#: by default; a model of thousands of layers has a config of a few MB).
CONFIG_FRACTION = 64
#: The members' total uncompressed size at most this many times the file's size (Keras stores
#: members uncompressed: about 1; deflate reaches about 1,000); ``FEATUREPROBE_MAX_MODEL_RATIO``
#: replaces it. Archives under ``RATIO_FLOOR`` bytes uncompressed are not held to it.
MAX_RATIO = 100
RATIO_FLOOR = 16 << 20
#: Members in one archive (``assets/`` can hold several files; a Keras model a handful).
MAX_MEMBERS = 10_000

BYTES_VARIABLE = "FEATUREPROBE_MAX_MODEL_BYTES"
RATIO_VARIABLE = "FEATUREPROBE_MAX_MODEL_RATIO"

#: Keras built-in layers by class name (``module: keras.layers``): the Dense networks this tool
#: trains and its shortcut reads, and layers that only compute on their inputs.
LAYERS = (
    "InputLayer", "Dense", "Dropout", "AlphaDropout", "GaussianDropout", "GaussianNoise",
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "ActivityRegularization",
    "BatchNormalization", "LayerNormalization", "UnitNormalization", "GroupNormalization",
    "Flatten", "Reshape", "Permute", "RepeatVector", "Identity", "Masking", "Rescaling",
    "Embedding", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
    "Concatenate", "Dot",
)  # fmt: skip
#: Models (top level or nested as a layer) -> the modules Keras writes for them.
MODELS = {
    "Sequential": frozenset({"keras", "keras.models", "keras.src.models.sequential"}),
    "Functional": frozenset({"keras", "keras.models", "keras.src.models.functional"}),
}
#: Keras built-in activations by name (``keras.activations``).
ACTIVATIONS = (
    "relu", "softmax", "sigmoid", "tanh", "linear", "gelu", "elu", "selu", "silu", "swish",
    "leaky_relu", "relu6", "softplus", "softsign", "exponential", "hard_sigmoid",
    "log_softmax", "mish", "celu", "hard_silu", "hard_swish", "log_sigmoid", "sparse_sigmoid",
    "hard_tanh", "tanh_shrink", "sparsemax", "squareplus", "sparse_plus", "glu", "soft_shrink",
    "hard_shrink", "threshold",
)  # fmt: skip
INITIALIZERS = (
    "Zeros", "Ones", "Constant", "Identity", "GlorotUniform", "GlorotNormal", "HeUniform",
    "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling",
)  # fmt: skip
REGULARIZERS = ("L1", "L2", "L1L2", "OrthogonalRegularizer")
CONSTRAINTS = ("MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm")
DTYPE_POLICIES = ("DTypePolicy", "FloatDTypePolicy")


@dataclass(frozen=True)
class Kind:
    """What an object in the config may be: class names, the modules they come from."""

    what: str  # "activation", "initializer", ... as messages say it
    names: tuple[str, ...]  # in the order messages list them
    modules: frozenset[str]


KINDS = {
    "layer": Kind("layer", (*LAYERS, *MODELS), frozenset({"keras.layers"})),
    "model": Kind("model", tuple(MODELS), frozenset()),
    "activation": Kind("activation", ACTIVATIONS, frozenset({"keras.activations"})),
    "initializer": Kind("initializer", INITIALIZERS, frozenset({"keras.initializers"})),
    "regularizer": Kind("regularizer", REGULARIZERS, frozenset({"keras.regularizers"})),
    "constraint": Kind("constraint", CONSTRAINTS, frozenset({"keras.constraints"})),
    "dtype": Kind("dtype policy", DTYPE_POLICIES, frozenset({"keras", "keras.dtype_policies"})),
}


def lambda_refusal(shown: str) -> str:
    """What a user is told about a Lambda layer (here from the config, or from Keras)."""
    return (
        f"cannot load {shown} in safe mode: it holds a Lambda layer, whose Python code safe mode "
        "will not run (the code in a model file could do anything). Rebuild the model without "
        "Lambda layers, or, if you trust the file, load it yourself in a conftest fixture and "
        "use model: fixture:"
    )


def check_keras_archive(source: str | Path, shown: str) -> None:
    """Refuse the ``.keras`` file ``source`` (named ``shown`` in messages) unless its members,
    their sizes and its config pass; reads no more than the config limit of it."""
    total_limit, ratio_limit = archive_limits()
    try:
        size = os.stat(source).st_size
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            _check_members(infos, shown)
            _check_sizes(infos, size, shown, total_limit, ratio_limit)
            config = _read_config(archive, shown, total_limit // CONFIG_FRACTION)
    except OSError as exc:  # not the path: it may be a temporary copy's
        raise ModelError(f"cannot read {shown}: {exc.strerror or type(exc).__name__}") from None
    except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError, zlib.error) as exc:
        raise ModelError(
            f"cannot load {shown}: a damaged .keras archive ({first_line(exc)})"
        ) from None
    check_config(config, shown)


def archive_limits() -> tuple[int, int]:
    """The total and ratio limits: the constants, or what the environment variables say."""
    return (
        _limit_from_environment(BYTES_VARIABLE, MAX_MODEL_BYTES),
        _limit_from_environment(RATIO_VARIABLE, MAX_RATIO),
    )


def _limit_from_environment(variable: str, default: int) -> int:
    try:
        return from_environment(variable, default)
    except ValueError as exc:
        raise ModelError(str(exc)) from None


def _check_members(infos: list[zipfile.ZipInfo], shown: str) -> None:
    if len(infos) > MAX_MEMBERS:
        raise ModelError(
            f"cannot load {shown}: it holds {len(infos):,} members (a Keras archive has a few; "
            f"at most {MAX_MEMBERS:,})"
        )
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if name in seen:
            raise ModelError(f"cannot load {shown}: it holds {quoted(name)} twice")
        seen.add(name)
        if not _expected_member(name):
            raise ModelError(
                f"cannot load {shown}: it holds {quoted(name)}, which is not a member of a Keras "
                f"3 archive ({CONFIG_MEMBER}, {METADATA_MEMBER}, {WEIGHTS_MEMBERS[0]} and "
                f"files under {ASSETS_FOLDER}/)"
            )
    if CONFIG_MEMBER not in seen:
        raise ModelError(
            f"cannot load {shown}: it has no {CONFIG_MEMBER}, so it is not a Keras 3 model archive"
        )


def _expected_member(name: str) -> bool:
    """A Keras member name, or a path inside ``assets/`` that stays inside it."""
    if name in (CONFIG_MEMBER, METADATA_MEMBER, *WEIGHTS_MEMBERS):
        return True
    parts = name.split("/")
    if parts[-1] == "":  # a folder entry
        parts.pop()
    return (
        len(parts) >= 1
        and parts[0] == ASSETS_FOLDER
        and all(part not in ("", ".", "..") for part in parts[1:])
        and not any(c in name for c in "\\:\0")
    )


def _check_sizes(
    infos: list[zipfile.ZipInfo], size: int, shown: str, total_limit: int, ratio_limit: int
) -> None:
    """Declared uncompressed sizes against the limits, before anything is inflated."""
    config_limit = total_limit // CONFIG_FRACTION
    way_out = f"if the model is genuine, {BYTES_VARIABLE} raises the limit"
    for info in infos:
        limit = config_limit if info.filename in (CONFIG_MEMBER, METADATA_MEMBER) else total_limit
        if info.file_size > limit:
            raise ModelError(
                f"cannot load {shown}: its {quoted(info.filename)} would inflate to "
                f"{info.file_size:,} bytes (at most {limit:,}); refused as a possible zip bomb "
                f"({way_out})"
            )
    total = sum(info.file_size for info in infos)
    if total > total_limit:
        raise ModelError(
            f"cannot load {shown}: its members would inflate to {total:,} bytes in all (at most "
            f"{total_limit:,}); refused as a possible zip bomb ({way_out})"
        )
    if total > RATIO_FLOOR and total > ratio_limit * max(size, 1):
        raise ModelError(
            f"cannot load {shown}: its members would inflate to {total:,} bytes, "
            f"{total // max(size, 1):,} times the file's {size:,} (at most {ratio_limit:,} "
            f"times); refused as a possible zip bomb (if the model is genuine, {RATIO_VARIABLE} "
            "raises the limit)"
        )


def _read_config(archive: zipfile.ZipFile, shown: str, limit: int) -> Any:
    """``config.json``, read with at most ``limit`` + 1 bytes whatever its header says, parsed
    the way Keras parses it (``json.loads`` of the bytes)."""
    with archive.open(CONFIG_MEMBER) as stream:
        raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise ModelError(
            f"cannot load {shown}: its {CONFIG_MEMBER} inflates to more than {limit:,} bytes; "
            f"refused as a possible zip bomb (if the model is genuine, {BYTES_VARIABLE} raises "
            "the limit)"
        )
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ModelError(
            f"cannot load {shown}: its {CONFIG_MEMBER} is not valid JSON ({first_line(exc)})"
        ) from None


# --- the allow-list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    """A value of the config, the kind of object it may be, and the layer it belongs to."""

    value: Any
    kind: str | None  # a key of KINDS, or None: plain data
    layer: str | None
    top: bool = False


def check_config(config: Any, shown: str) -> None:
    """Refuse a parsed ``config.json`` that names anything but an allowed Keras built-in.

    Every dict with a ``class_name`` is an object Keras would look up: it must be allowed for
    the place it is in (a model's ``layers``, an ``activation``, a ``*_initializer`` ...), from
    its module, with no registered name of another package. Plain data may hold only Keras'
    tensor placeholders (``__keras_tensor__``, in a functional model's ``inbound_nodes``)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelError(f"cannot load {shown}: its {CONFIG_MEMBER} does not describe a model")
    stack = [_Node(config, "model", None, top=True)]
    while stack:
        node = stack.pop()
        value = node.value
        if isinstance(value, list):
            stack.extend(_Node(item, node.kind, node.layer) for item in value)
        elif isinstance(value, str):
            _check_name(node, shown)
        elif isinstance(value, dict) and "class_name" in value:
            stack.extend(_check_object(node, shown))
        elif isinstance(value, dict):
            stack.extend(_Node(v, _kind_of_key(k, None), node.layer) for k, v in value.items())


def _kind_of_key(key: str, owner: str | None) -> str | None:
    """The kind of object the value of ``key`` may be, in the config of an ``owner`` object."""
    if key == "layers" and owner == "model":
        return "layer"
    if key in ("activation", "recurrent_activation"):
        return "activation"
    for suffix, kind in (("_initializer", "initializer"), ("_regularizer", "regularizer")):
        if key.endswith(suffix):
            return kind
    if key.endswith("_constraint"):
        return "constraint"
    if key in ("dtype", "dtype_policy"):
        return "dtype"
    return None


def _check_name(node: _Node, shown: str) -> None:
    """A string where an activation goes must name a built-in one (Keras looks strings up by
    name in its own table only, so other strings are data)."""
    if node.kind == "activation" and node.value not in ACTIVATIONS:
        raise _refusal(shown, node, node.value, "activation")


def _check_object(node: _Node, shown: str) -> Iterator[_Node]:
    """Check one object (a dict with ``class_name``) and yield what is inside it."""
    value, kind = node.value, node.kind
    class_name = value.get("class_name")
    if class_name == "__keras_tensor__" and kind is None:
        yield _Node(value.get("config"), None, node.layer)
        return
    if kind in ("layer", "model") and class_name == "Lambda":
        raise ModelError(lambda_refusal(shown))
    if kind == "activation" and class_name == "function":
        _check_function(node, shown)
        return
    layer = node.layer
    if kind in ("layer", "model") and not node.top:
        inner = value.get("config")
        name = inner.get("name") if isinstance(inner, dict) else None
        layer = name if isinstance(name, str) else layer
    _check_class(_Node(value, kind, layer, node.top), shown)
    if kind in ("layer", "model"):
        kind = "model" if class_name in MODELS else "layer"
    for key, item in value.items():
        if key in ("class_name", "module", "registered_name"):
            continue
        if key == "compile_config" and node.top:
            continue  # Keras sets it to None when loading with compile=False, as we do
        if key == "config" and isinstance(item, dict):
            yield from (_Node(v, _kind_of_key(k, kind), layer) for k, v in item.items())
        else:
            yield _Node(item, None, layer)


def _check_class(node: _Node, shown: str) -> None:
    value = node.value
    class_name, module = value.get("class_name"), value.get("module")
    kind = KINDS.get(node.kind) if node.kind else None
    given = f"{module}.{class_name}" if isinstance(module, str) and module else class_name
    if kind is None:
        raise _refusal(shown, node, given, "object")
    if not isinstance(class_name, str) or not isinstance(module, str):
        raise _refusal(shown, node, given, kind.what)
    modules = MODELS.get(class_name) or kind.modules
    if class_name not in kind.names or module not in modules:
        raise _refusal(shown, node, given, kind.what)
    if value.get("registered_name") not in (None, class_name):
        raise _refusal(shown, node, given, kind.what, value["registered_name"])


def _check_function(node: _Node, shown: str) -> None:
    """An activation written as a function object: a built-in one from ``keras.activations``."""
    value = node.value
    name, module = value.get("config"), value.get("module")
    given = f"{module}.{name}" if isinstance(module, str) and module else name
    if module != "keras.activations" or name not in ACTIVATIONS:
        raise _refusal(shown, node, given, "activation")
    if value.get("registered_name") not in (None, name):
        raise _refusal(shown, node, given, "activation", value["registered_name"])


def _refusal(shown: str, node: _Node, given: Any, what: str, registered: Any = None) -> ModelError:
    owner = f"layer {quoted(node.layer)}" if node.layer is not None else "the model"
    if what == "object":
        return ModelError(
            f"cannot load {shown}: {owner} holds the object {quoted(given)} as data, which is "
            "not one of Keras' built-in layers, activations, initializers, regularizers or "
            "constraints; refused before Keras reads it"
        )
    names = f"is a {what}" if what in ("layer", "model") else f"names the {what}"
    if registered is not None:
        given = f"{quoted(given)} registered as {quoted(registered)}"
        return ModelError(
            f"cannot load {shown}: {owner} {names} {given}: a registered name is another "
            f"package's object, not one of Keras' built-in {what}s"
        )
    return ModelError(
        f"cannot load {shown}: {owner} {names} {quoted(given)}, which is not one of Keras' "
        f"built-in {what}s (allowed: {preview(_kind_named(what).names, width=70)})"
    )


def _kind_named(what: str) -> Kind:
    return next(kind for kind in KINDS.values() if kind.what == what)
