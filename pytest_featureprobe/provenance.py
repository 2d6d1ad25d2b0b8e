"""Provenance: what besides the data and the spec can change a model's numbers.

Library versions and platform facts, read without importing TensorFlow; the part of them the model
cache keys on; and the note a failing drift check adds when its baseline was recorded with other
versions or elsewhere. Imports nothing of ours.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from importlib import metadata


def library_versions() -> dict[str, str]:
    """Versions that change numerics or file formats; read from metadata, without importing."""
    versions = {}
    for dist in ("pytest-featureprobe", "tensorflow", "keras", "numpy"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "absent"
    return versions


def platform_facts() -> dict[str, str]:
    """What besides the library versions can change a trained model's numbers: the CPU
    architecture, the operating system, the Python version and whether TensorFlow's oneDNN
    kernels are on (``TF_ENABLE_ONEDNN_OPTS`` as set, else ``default``). Read without importing
    TensorFlow. Turning oneDNN off changed the seed example's probabilities in the last float32
    digits (README, "Determinism")."""
    return {
        "cpu": platform.machine() or "unknown",
        "os": platform.system() or "unknown",
        "python": platform.python_version(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
    }


def onednn_setting(value: str | None) -> str:
    """What TensorFlow makes of ``TF_ENABLE_ONEDNN_OPTS``: ``on`` for ``1`` or ``true``, ``off``
    for ``0`` or ``false`` (in any case), else ``default``. TensorFlow reads only those four
    words; unset, or set to anything else (``yes``, ``on``, `` 1``), it warns and keeps its
    default, which depends on the machine (on Linux: on for CPUs with AVX512-VNNI, AVX512-BF16,
    AVX-VNNI or AMX, off for others)."""
    word = (value or "").lower()
    if word in ("1", "true"):
        return "on"
    if word in ("0", "false"):
        return "off"
    return "default"


def cache_platform(facts: Mapping[str, str] | None = None) -> dict[str, str]:
    """The platform facts (default ``platform_facts()``) as the model cache key uses them: only
    what can change trained weights. The Python version is cut to major.minor (a patch release
    does not change TensorFlow's kernels) and the oneDNN setting to what TensorFlow makes of it
    (``onednn_setting``), so ``1`` and ``true`` share entries. The CPU is told apart by
    architecture only: two x86-64 machines with other instruction sets share a key."""
    facts = dict(platform_facts() if facts is None else facts)
    python = str(facts.get("python", "unknown"))
    facts["python"] = ".".join(python.split(".")[:2])
    onednn = facts.get("onednn", "default")
    facts["onednn"] = onednn_setting(None if onednn == "default" else onednn)
    return facts


# Recorded facts that can change numbers, as a note names them: libraries first, then the platform.
_NOTED_LIBRARIES = ("tensorflow", "keras", "numpy", "pytest-featureprobe")


def recorded_elsewhere(
    recorded_versions: Mapping[str, str],
    recorded: Mapping[str, str],
    versions: Mapping[str, str] | None = None,
    platform: Mapping[str, str] | None = None,
) -> str | None:
    """A note when a baseline was recorded (``recorded_versions``, platform ``recorded``) with
    other library versions or on another platform than today's (``versions``, ``platform``:
    default this process's), naming only what differs and only what the baseline recorded (old
    baselines have no platform); else None."""
    versions = library_versions() if versions is None else versions
    platform = platform_facts() if platform is None else platform
    then: list[str] = []  # what differs, as recorded and as now
    now: list[str] = []
    for name in _NOTED_LIBRARIES:
        old, new = recorded_versions.get(name), versions.get(name)
        if old is not None and new is not None and old != new:
            then.append(f"{name} {old}")
            now.append(f"{name} {new}")
    differs = [k for k in ("python", "onednn", "cpu", "os") if k in recorded and k in platform]
    # Compared as the cache key sees them: a Python patch release or oneDNN "1" vs "true"
    # cannot change a sweep, so they are not worth a note.
    then_key, now_key = cache_platform(recorded), cache_platform(platform)
    differs = [k for k in differs if str(then_key[k]) != str(now_key[k])]
    if "python" in differs:
        then.append(f"Python {recorded['python']}")
        now.append(f"Python {platform['python']}")
    if "onednn" in differs:
        then.append(_onednn(recorded["onednn"]))
        now.append(_onednn(platform["onednn"]))
    where = [k for k in ("cpu", "os") if k in differs]
    if not then and not where:
        return None

    def phrase(facts: list[str], place: Mapping[str, str], recorded_with: bool) -> str:
        text = ("with " if recorded_with and facts else "") + ", ".join(facts)
        if where:
            text += (" on " if text else "on ") + " ".join(str(place[k]) for k in where)
        return text

    return (
        f"note: the baseline was recorded {phrase(then, recorded, True)}; now "
        f"{phrase(now, platform, False)}: numeric differences may come from that"
    )


def _onednn(setting: str) -> str:
    return "oneDNN default" if setting == "default" else f"TF_ENABLE_ONEDNN_OPTS={setting}"
