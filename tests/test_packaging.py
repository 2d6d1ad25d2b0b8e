"""The wheel and the sdist as a user gets them: built from a copy of the source tree (never the
checkout itself, whose build/ and egg-info other processes may be using) and read back. The wheel
holds the package, its JSON schema, ``py.typed``, the license and both entry points, and nothing of
tests/, benchmarks/ or examples/; the sdist holds the license too."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pytest_featureprobe"
# The whole tree a build could see, so that a package finder that picks up too much is caught.
COPIED = ("pyproject.toml", "README.md", "LICENSE", "pytest_featureprobe", "tests", "benchmarks")
LEFT_BEHIND = shutil.ignore_patterns(
    "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache", ".hypothesis"
)

pytestmark = pytest.mark.system  # pip and the build backend run in fresh interpreters


def build(arguments: list[str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, *arguments], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The wheel and the sdist of a copy of the source tree."""
    setuptools = pytest.importorskip(
        "setuptools", reason="the build backend: pip install setuptools"
    )
    if tuple(int(n) for n in re.findall(r"\d+", setuptools.__version__)[:2]) < (70, 1):
        pytest.importorskip("wheel", reason="setuptools before 70.1 builds wheels with wheel")
    source = tmp_path_factory.mktemp("source")
    out = tmp_path_factory.mktemp("dist")
    for name in COPIED:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=LEFT_BEHIND)
        else:
            shutil.copy2(path, source / name)
    # The backend installed beside pytest builds both, with no download.
    build(["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), "."], source)
    build(
        ["-c", "import sys, setuptools.build_meta as b; b.build_sdist(sys.argv[1])", str(out)],
        source,
    )
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


@pytest.fixture(scope="module")
def wheel_names(built) -> list[str]:
    with zipfile.ZipFile(built[0]) as archive:
        return archive.namelist()


def read(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(name).decode()


def dist_info(wheel_names: list[str]) -> str:
    (folder,) = {n.split("/")[0] for n in wheel_names if n.split("/")[0].endswith(".dist-info")}
    return folder


def test_the_wheel_holds_every_module_and_the_schema(wheel_names):
    modules = {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py")}
    assert modules - set(wheel_names) == set()
    schemas = {p.relative_to(ROOT).as_posix() for p in PACKAGE.glob("*.json")}
    assert "pytest_featureprobe/schema.json" in schemas  # what spec/schema.py reads
    assert schemas <= set(wheel_names)


def test_the_wheel_is_typed_and_licensed(built, wheel_names):
    assert "pytest_featureprobe/py.typed" in wheel_names
    folder = dist_info(wheel_names)
    # setuptools before 77 writes dist-info/LICENSE, later ones dist-info/licenses/LICENSE
    licenses = {f"{folder}/LICENSE", f"{folder}/licenses/LICENSE"} & set(wheel_names)
    assert len(licenses) == 1, wheel_names
    text = read(built[0], licenses.pop())
    assert text.startswith("MIT License")
    assert text == (ROOT / "LICENSE").read_text()
    assert "License: MIT" in read(built[0], f"{folder}/METADATA").splitlines()


def test_the_wheel_declares_the_plugin_and_the_command(wheel_names, built):
    entry_points = configparser.ConfigParser()
    entry_points.read_string(read(built[0], f"{dist_info(wheel_names)}/entry_points.txt"))
    assert dict(entry_points["pytest11"]) == {"featureprobe": "pytest_featureprobe.plugin"}
    assert dict(entry_points["console_scripts"]) == {"featureprobe": "pytest_featureprobe.cli:main"}


def test_the_wheel_holds_nothing_but_the_package(wheel_names):
    tops = {name.split("/")[0] for name in wheel_names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"pytest_featureprobe"}
    assert not [n for n in wheel_names if n.startswith(("tests/", "benchmarks/", "examples/"))]
    assert not [n for n in wheel_names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_sdist_holds_the_license_and_the_typing_marker(built):
    with tarfile.open(built[1]) as archive:
        names = {name.split("/", 1)[-1] for name in archive.getnames()}
    assert {"LICENSE", "pyproject.toml", "README.md"} <= names
    assert {"pytest_featureprobe/py.typed", "pytest_featureprobe/schema.json"} <= names
