"""Keras models as ProbeModels: in memory (``from_keras``) or from a ``.keras`` file loaded in safe
mode (``load_keras_model``), optionally pinned to a SHA-256 digest, after ``keras_archive`` has
checked the archive's members, sizes and config."""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError, first_line, plural
from ..features import FeatureSpace
from ..files import unreadable
from ..keras_runtime import load_keras
from .dense import dense_shortcut, verify_shortcut
from .keras_archive import check_keras_archive, lambda_refusal
from .probe_model import ProbeModel
from .sidecar import SIDECAR_SUFFIX, read_sidecar, sidecar_space


def weights_fingerprint(weights: Sequence[np.ndarray]) -> str:
    """A short hash of a model's weights: equal weights, equal fingerprint."""
    digest = hashlib.sha256()
    for array in weights:
        array = np.ascontiguousarray(array)
        digest.update(str(array.shape).encode() + str(array.dtype).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def from_keras(
    model: Any,
    space: FeatureSpace,
    classes: Sequence[Any],
    *,
    outputs: str = "probabilities",
    description: str | None = None,
    info: dict[str, Any] | None = None,
    use_shortcut: bool = True,
) -> ProbeModel:
    """Adapt an in-memory Keras model; the input width must equal the feature space size."""
    width = _keras_input_width(model)
    if width is not None and width != len(space):
        raise ModelError(
            f"the model takes {plural(width, 'input')} but the feature space has "
            f"{plural(len(space), 'feature')}"
        )

    def forward(x: np.ndarray) -> np.ndarray:
        return np.asarray(model(x, training=False))

    probe_model = ProbeModel(
        forward,
        space,
        classes,
        outputs=outputs,
        fingerprint=weights_fingerprint(model.get_weights()),
        description=description or f"Keras model {model.name!r}",
        info=info,
        keras_model=model,
    )
    if use_shortcut:
        shortcut = dense_shortcut(model, len(space))
        if shortcut is not None and verify_shortcut(probe_model, shortcut):
            probe_model.shortcut = shortcut
    return probe_model


def _keras_input_width(model: Any) -> int | None:
    try:
        shape = model.inputs[0].shape
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    return int(shape[-1]) if shape and shape[-1] is not None else None


def load_keras_model(
    path: str | Path,
    space: FeatureSpace | None = None,
    classes: Sequence[Any] | None = None,
    *,
    outputs: str | None = None,
    sha256: str | None = None,
) -> ProbeModel:
    """Load a ``.keras`` file in safe mode, without compiling.

    The feature space and classes come from the arguments or else from the sidecar file
    ``<path>.featureprobe.json`` that ``ProbeModel.save`` writes. With ``sha256``, the file is
    read once into a private temporary folder while its digest is taken; the digest must match
    before Keras reads anything, and Keras loads that copy, so the file cannot be swapped between
    the check and the load. (The sidecar is not covered by the pin.)
    """
    path = Path(path)
    problem = unreadable(path, "model file", path)
    if problem is not None:
        raise ModelError(problem)
    if sha256 is None:
        return _load_keras_file(path, path, space, classes, outputs)
    try:
        scratch_folder = tempfile.TemporaryDirectory(
            prefix="featureprobe-", ignore_cleanup_errors=True
        )
    except OSError as exc:
        raise ModelError(
            f"cannot make a temporary folder to load the pinned {path.name} from: "
            f"{exc.strerror or exc}"
        ) from None
    with scratch_folder as scratch:
        copy = Path(scratch) / path.name
        actual = _copy_and_hash(path, copy)
        if actual != sha256.lower():
            raise ModelError(
                f"{path.name} does not match its pin: its sha256 is {actual}, the pin is "
                f"{sha256.lower()}; if the file was replaced on purpose, update the pin",
                key="sha256",
            )
        return _load_keras_file(path, copy, space, classes, outputs)


def _copy_and_hash(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` (reading it once) and return the SHA-256 of what was read."""
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as stream, open(target, "xb") as out:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
    except OSError as exc:
        raise ModelError(
            f"cannot copy {source.name} to a temporary folder to load it: {exc.strerror or exc}"
        ) from None
    return digest.hexdigest()


def _load_keras_file(
    path: Path,
    source: Path,
    space: FeatureSpace | None,
    classes: Sequence[Any] | None,
    outputs: str | None,
) -> ProbeModel:
    """Load ``source``, the bytes of the model file ``path`` (itself, or a checked copy of it
    with the same name); messages and the sidecar go by ``path``."""
    if path.suffix != ".keras":
        raise ModelError(
            f"{path.name}: only the .keras format is loaded (it supports safe mode); "
            "re-save legacy models with model.save('model.keras')"
        )
    sidecar = read_sidecar(path)
    if (space is None and "space" not in sidecar) or (classes is None and "classes" not in sidecar):
        raise ModelError(_names_missing(path, sidecar, space is None, classes is None))
    if space is None:
        space = sidecar_space(path, sidecar)
    if classes is None:
        classes = sidecar["classes"]
    if not zipfile.is_zipfile(source):
        # Keras reports such a file as "File not found", which misleads.
        raise ModelError(
            f"cannot load {path.name}: not a .keras (zip) archive; is it corrupt or truncated?"
        )
    # Members, sizes and the config's allow-list, before Keras inflates or deserializes anything
    # (safe mode is no sandbox: a config may name any function Keras exports).
    check_keras_archive(source, path.name)
    keras = load_keras()
    try:
        model = keras.saving.load_model(source, compile=False, safe_mode=True)
    except Exception as exc:  # corrupt, unsafe or foreign files all end here
        detail = first_line(exc).replace(str(source), str(path))  # not the temporary copy
        if "Lambda" in detail:
            raise ModelError(lambda_refusal(path.name)) from None
        raise ModelError(f"cannot load {path.name} in safe mode: {detail}") from None
    return from_keras(
        model,
        space,
        classes,
        outputs=outputs or sidecar.get("outputs", "probabilities"),
        description=f"Keras model {path.name}",
    )


def _names_missing(
    path: Path, sidecar: dict[str, Any], need_space: bool, need_classes: bool
) -> str:
    """What a model file lacks to be probed, the sidecar looked for, and the flags that give it
    (``features=`` / ``classes=`` in Python, ``model.features`` / ``model.classes`` in YAML)."""
    from ..errors import display_path

    found = display_path(f"{path}{SIDECAR_SUFFIX}")
    looked = f"{found} holds none" if sidecar else f"no sidecar {found}"
    wanted, flags = [], []
    if need_space and "space" not in sidecar:
        wanted, flags = ["feature names"], ["--feature-names A,B,C"]
    if need_classes and "classes" not in sidecar:
        wanted, flags = [*wanted, "class names"], [*flags, "--classes X,Y"]
    return (
        f"{path.name}: no {' or '.join(wanted)} ({looked}): give {' and '.join(flags)}, or "
        "save the model with featureprobe train or ProbeModel.save"
    )


def file_sha256(path: str | Path) -> str:
    """The SHA-256 hex digest of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
