"""provenance: library versions and platform facts, the part the model cache keys on, and the
note a drift failure adds when its baseline was recorded with other versions or elsewhere."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata

import numpy
import pytest

from pytest_featureprobe import __version__, provenance
from pytest_featureprobe.provenance import (
    cache_platform,
    library_versions,
    onednn_setting,
    platform_facts,
    recorded_elsewhere,
)

VERSIONS = {
    "pytest-featureprobe": "0.1.0",
    "tensorflow": "2.16.1",
    "keras": "3.3.3",
    "numpy": "1.26.4",
}
PLATFORM = {"cpu": "x86_64", "os": "Linux", "python": "3.11.9", "onednn": "default"}
TAIL = ": numeric differences may come from that"


# --- library versions and platform facts ---------------------------------------------------------


def test_library_versions_names_the_four_libraries_that_change_numbers():
    versions = library_versions()
    assert set(versions) == {"pytest-featureprobe", "tensorflow", "keras", "numpy"}
    assert versions["numpy"] == numpy.__version__
    assert versions["pytest-featureprobe"] == __version__


def test_a_library_that_is_not_installed_is_absent(monkeypatch):
    real = metadata.version

    def version(dist: str) -> str:
        if dist == "keras":
            raise metadata.PackageNotFoundError(dist)
        return real(dist)

    monkeypatch.setattr(provenance.metadata, "version", version)
    versions = library_versions()
    assert versions["keras"] == "absent"
    assert versions["numpy"] == numpy.__version__


def test_versions_and_facts_are_read_without_importing_tensorflow_or_numpy():
    code = (
        "import sys\n"
        "from pytest_featureprobe.provenance import library_versions, platform_facts\n"
        "library_versions(), platform_facts()\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_platform_facts_name_cpu_os_python_and_onednn(monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    facts = platform_facts()
    assert set(facts) == {"cpu", "os", "python", "onednn"}
    assert facts["python"] == platform.python_version()
    assert facts["cpu"] == (platform.machine() or "unknown")
    assert facts["os"] == (platform.system() or "unknown")
    assert facts["onednn"] == "1"  # as set, not interpreted


def test_platform_facts_say_default_when_onednn_is_not_set(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    assert platform_facts()["onednn"] == "default"


# --- what TensorFlow makes of TF_ENABLE_ONEDNN_OPTS ----------------------------------------------


@pytest.mark.parametrize(
    "value, setting",
    [
        ("1", "on"),
        ("true", "on"),
        ("TRUE", "on"),
        ("True", "on"),
        ("0", "off"),
        ("false", "off"),
        ("FALSE", "off"),
        ("yes", "default"),
        ("on", "default"),
        (" 1", "default"),
        ("", "default"),
        (None, "default"),
    ],
)
def test_onednn_setting(value, setting):
    assert onednn_setting(value) == setting


# --- the cache key's platform --------------------------------------------------------------------


def test_cache_platform_cuts_python_to_major_minor_and_reads_onednn():
    facts = {"cpu": "x86_64", "os": "Linux", "python": "3.11.9", "onednn": "true"}
    assert cache_platform(facts) == {
        "cpu": "x86_64",
        "os": "Linux",
        "python": "3.11",
        "onednn": "on",
    }
    assert facts["python"] == "3.11.9"  # the caller's mapping is left alone


@pytest.mark.parametrize(
    "onednn, setting", [("1", "on"), ("0", "off"), ("false", "off"), ("default", "default")]
)
def test_cache_platform_maps_onednn(onednn, setting):
    assert cache_platform({**PLATFORM, "onednn": onednn})["onednn"] == setting


def test_one_and_true_share_a_cache_key():
    assert cache_platform({**PLATFORM, "onednn": "1"}) == cache_platform(
        {**PLATFORM, "onednn": "TRUE"}
    )


def test_cache_platform_defaults_to_this_process(monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    facts = cache_platform()
    major, minor = sys.version_info[:2]
    assert facts["python"] == f"{major}.{minor}"
    assert facts["onednn"] == "off"


def test_cache_platform_of_facts_without_python_or_onednn():
    assert cache_platform({"cpu": "arm64"}) == {
        "cpu": "arm64",
        "python": "unknown",
        "onednn": "default",
    }


# --- recorded elsewhere --------------------------------------------------------------------------


def note(recorded_versions=VERSIONS, recorded=PLATFORM, versions=VERSIONS, now=PLATFORM):
    return recorded_elsewhere(recorded_versions, recorded, versions, now)


def test_nothing_differs_gives_no_note():
    assert note() is None


def test_the_current_process_compared_with_itself_gives_no_note():
    assert recorded_elsewhere(library_versions(), platform_facts()) is None


def test_a_library_version_that_differs_is_named_as_then_and_now():
    assert note(recorded_versions={**VERSIONS, "tensorflow": "2.15.0"}) == (
        "note: the baseline was recorded with tensorflow 2.15.0; now tensorflow 2.16.1" + TAIL
    )


def test_libraries_are_named_in_a_fixed_order_then_python():
    then = {**VERSIONS, "numpy": "1.24.0", "pytest-featureprobe": "0.0.9", "tensorflow": "2.15.0"}
    assert note(recorded_versions=then, recorded={**PLATFORM, "python": "3.10.4"}) == (
        "note: the baseline was recorded with tensorflow 2.15.0, numpy 1.24.0, "
        "pytest-featureprobe 0.0.9, Python 3.10.4; now tensorflow 2.16.1, numpy 1.26.4, "
        "pytest-featureprobe 0.1.0, Python 3.11.9" + TAIL
    )


def test_a_python_patch_release_is_not_worth_a_note():
    assert note(recorded={**PLATFORM, "python": "3.11.2"}) is None


def test_onednn_one_and_true_are_the_same_setting():
    assert note(recorded={**PLATFORM, "onednn": "1"}, now={**PLATFORM, "onednn": "true"}) is None


def test_a_onednn_setting_that_differs_is_named():
    assert note(recorded={**PLATFORM, "onednn": "0"}) == (
        "note: the baseline was recorded with TF_ENABLE_ONEDNN_OPTS=0; now oneDNN default" + TAIL
    )


def test_another_machine_is_named_by_cpu_and_os():
    assert note(recorded={**PLATFORM, "cpu": "arm64"}) == (
        "note: the baseline was recorded on arm64; now on x86_64" + TAIL
    )
    assert note(recorded={**PLATFORM, "cpu": "arm64", "os": "Darwin"}) == (
        "note: the baseline was recorded on arm64 Darwin; now on x86_64 Linux" + TAIL
    )


def test_versions_and_machine_together():
    assert note(
        recorded_versions={**VERSIONS, "keras": "3.0.0"}, recorded={**PLATFORM, "os": "Darwin"}
    ) == (
        "note: the baseline was recorded with keras 3.0.0 on Darwin; now keras 3.3.3 on Linux"
        + TAIL
    )


def test_only_what_the_baseline_recorded_is_compared():
    # An old baseline recorded no platform and not every library.
    assert note(recorded_versions={"numpy": "1.26.4"}, recorded={}) is None
    assert note(recorded_versions={"numpy": "1.20.0"}, recorded={}) == (
        "note: the baseline was recorded with numpy 1.20.0; now numpy 1.26.4" + TAIL
    )
    # A library not known today is not compared either.
    assert note(versions={"numpy": "1.26.4"}, recorded_versions={**VERSIONS, "keras": "2"}) is None
