"""The on-disk cache of trained weights, keyed by everything that can change them.

Weights are stored as a plain ``.npz`` (no pickle) and put into a model rebuilt from the spec, so
a cache hit runs no deserialisation of code or config. Imports the training spec's data types,
provenance and the file lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .features import MultiHot
from .files import file_lock, is_regular_file, staging_folder
from .provenance import cache_platform, library_versions, platform_facts

if TYPE_CHECKING:
    from .data import LabelledData
    from .training import TrainSpec

#: 2: the training data of a ``ProbeSession`` is hashed as each row's positions (its
#: ``MultiHot``), so its keys differ from format 1's, whose entries are not read again.
CACHE_FORMAT = 2


class CacheWarning(UserWarning):
    """The model cache cannot be written: models are trained, but not cached."""


class ModelCache:
    """Trained weights on disk, keyed by a hash of data, spec, seed, library versions and platform.

    Weights are stored as a plain ``.npz`` (no pickle) and put into a model rebuilt from the spec,
    so a cache hit runs no deserialisation of code or config. Entries are written to a temporary
    folder and renamed into place, so a reader never sees half an entry; an entry that cannot be
    read, or holds weights of other shapes than asked for, is a miss and is replaced by the next
    ``store``. Several processes may store the same key at once: one entry wins, the others are
    equivalent and discarded.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.warned = False  # the CacheWarning is given once per cache object (per session)

    def warn_unwritable(self, error: OSError) -> None:
        """One ``CacheWarning`` per cache object: the run goes on, training without caching."""
        if self.warned:
            return
        self.warned = True
        reason = (error.strerror or str(error)).lower()
        warnings.warn(
            f"featureprobe: cannot write the model cache {self.root} ({reason}); models are "
            "trained but not cached",
            CacheWarning,
            stacklevel=3,
        )

    @staticmethod
    def key(data: LabelledData, spec: TrainSpec) -> str:
        header = {
            "cache_format": CACHE_FORMAT,
            "spec": spec.to_dict(),
            "space": data.space.to_dict(),
            "classes": list(data.classes),
            "versions": library_versions(),
            # A cache folder can travel (a CI cache restored on another runner): weights trained
            # on another CPU type or oneDNN setting may differ in their last digits from what
            # training here gives, so a hit must come from the same platform. Only what can
            # change the numbers counts (Python major.minor, oneDNN on/off/default).
            "platform": cache_platform(platform_facts()),
            "shape": list(data.x.shape),
        }
        x = data.x
        sparse = isinstance(x, MultiHot)  # hashed as its positions, never as rows x features
        if sparse:
            header["multi_hot"] = "positions"
        digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
        if sparse:
            digest.update(np.ascontiguousarray(x.indptr, dtype="<i8").tobytes())
            digest.update(np.ascontiguousarray(x.indices, dtype="<i4").tobytes())
        else:
            digest.update(np.ascontiguousarray(x, dtype=np.float32).tobytes())
        digest.update(np.ascontiguousarray(data.y, dtype=np.int32).tobytes())
        return digest.hexdigest()[:32]

    def entry(self, key: str) -> Path:
        return self.root / "models" / key

    def lock(self, key: str):
        """An inter-process lock for one entry (a file beside it)."""
        return file_lock(self.root / "locks" / f"{key}.lock")

    def load(
        self,
        key: str,
        shapes: Sequence[tuple[int, ...]] | None = None,
        spec: Mapping[str, Any] | None = None,
    ) -> tuple[list[np.ndarray], dict[str, Any]] | None:
        """(weights, meta) of a stored entry, or None when it is absent or damaged: unreadable
        files or files that are not regular (a FIFO, a link loop), a folder that is a file, meta
        without accuracy and steps, arrays that are not floating point or, with ``shapes``, not
        of exactly those shapes, or meta recording another training ``spec`` (a dict, as
        ``TrainSpec.to_dict``) than the one given."""
        folder = self.entry(key)
        if not all(is_regular_file(folder / name) for name in ("meta.json", "weights.npz")):
            return None  # a FIFO (a restored cache archive can hold one) would block a read
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            with np.load(folder / "weights.npz", allow_pickle=False) as stored:
                names = set(stored.files)
                if names != {f"w{i}" for i in range(len(names))}:
                    return None
                weights = [stored[f"w{i}"] for i in range(len(names))]
        except Exception:  # any damage (OSError, zip, npy or JSON errors, ...) is a miss
            return None
        if not _valid_meta(meta):
            return None
        if spec is not None and meta.get("spec", spec) != dict(spec):
            return None
        if not all(np.issubdtype(w.dtype, np.floating) for w in weights):
            return None
        if shapes is not None and [w.shape for w in weights] != [tuple(s) for s in shapes]:
            return None
        return weights, meta

    def store(self, key: str, weights: Sequence[np.ndarray], meta: dict[str, Any]) -> None:
        """Write the entry atomically (a staging folder renamed into place). An equivalent entry
        already there (same shapes: another process stored the key first) is kept; a damaged
        one is moved aside and removed. Raises OSError when the cache cannot be written."""
        final = self.entry(key)
        staging = staging_folder(final)
        shapes = [tuple(np.shape(w)) for w in weights]
        spec = meta.get("spec")
        try:
            np.savez(staging / "weights.npz", **{f"w{i}": w for i, w in enumerate(weights)})
            (staging / "meta.json").write_text(
                json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8"
            )
            for _ in range(5):
                try:
                    os.replace(staging, final)
                    return
                except OSError:
                    pass  # something is in the way: an entry, a damaged one, or a file
                if self.load(key, shapes, spec) is not None:
                    return  # stored by another process meanwhile: equivalent, keep it
                self._discard(final)
            raise OSError(f"cannot replace the cache entry {final}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @staticmethod
    def _discard(final: Path) -> None:
        """Move a damaged entry aside (one atomic rename: one process wins) and delete it."""
        broken = final.parent / f".{final.name}-broken-{os.getpid()}-{time.time_ns()}"
        try:
            os.replace(final, broken)
        except OSError:
            return  # gone already (another process moved it), or cannot be moved
        if broken.is_dir() and not broken.is_symlink():
            shutil.rmtree(broken, ignore_errors=True)
        else:
            broken.unlink(missing_ok=True)


def _valid_meta(meta: Any) -> bool:
    if not isinstance(meta, dict):
        return False
    accuracy, steps = meta.get("accuracy"), meta.get("steps")
    return (
        isinstance(accuracy, (int, float))
        and not isinstance(accuracy, bool)
        and 0 <= accuracy <= 1
        and isinstance(steps, int)
        and not isinstance(steps, bool)
        and steps > 0
    )
