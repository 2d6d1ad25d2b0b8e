"""The package's layers, read from its source: no import cycle (imports inside functions count,
``if TYPE_CHECKING:`` blocks do not), and the core imports neither pytest nor the pytest layer nor
the command line. Also: no module over the size a newcomer can read in one sitting."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pytest_featureprobe
from pytest_featureprobe.baseline import Baseline, write_baseline
from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

PACKAGE = Path(pytest_featureprobe.__file__).parent
NAME = "pytest_featureprobe"
UPPER_LAYERS = ("plugin", "cli")  # everything else is the core
MAX_LINES = 400
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def _type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(tree: ast.AST):
    """Import statements anywhere (functions included), except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_block(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_names(module: str) -> set[str]:
    """Absolute names of every module ``module`` imports (ours and others')."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if module in PACKAGES else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        found.add(base)
        # ``from . import x`` imports the submodule x when there is one
        found.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES)
    return found


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def graph() -> dict[str, set[str]]:
    """Our modules -> our modules they import. Importing ``a.b.c`` runs ``a`` and ``a.b`` too;
    a module's own enclosing packages are already running when it is imported, so those edges
    are left out."""
    edges: dict[str, set[str]] = {}
    for module in MODULES:
        targets: set[str] = set()
        for name in imported_names(module):
            if name == NAME or name.startswith(NAME + "."):
                targets.update(a for a in _ancestors(name) if a in MODULES)
        own = set(_ancestors(module))
        edges[module] = {t for t in targets - own if t != module}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layer(module: str) -> str:
    """``plugin``, ``cli`` (``python -m pytest_featureprobe`` is the command) or ``core``."""
    parts = module.split(".")
    if parts[1:] == ["__main__"]:
        return "cli"
    return parts[1] if len(parts) > 1 and parts[1] in UPPER_LAYERS else "core"


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_imports_and_skips_type_checking(tmp_path):
    edges = graph()
    # cli modules import the core inside functions, so the lazy edges are there
    assert any(t.startswith(f"{NAME}.") for m, ts in edges.items() if layer(m) == "cli" for t in ts)
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n"
        "def f():\n    import b\n"
    )
    assert sorted(n.names[0].name for n in _imports(tree) if isinstance(n, ast.Import)) == ["b"]


def test_no_import_cycle():
    assert cycles(graph()) == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == "core"))
def test_the_core_imports_neither_pytest_nor_the_upper_layers(module):
    names = imported_names(module)
    assert not {n for n in names if n == "pytest" or n.startswith(("pytest.", "_pytest"))}
    upper = {n for n in names for top in UPPER_LAYERS if n.startswith(f"{NAME}.{top}")}
    assert not upper, f"{module} imports {sorted(upper)}"


def test_the_pytest_layer_does_not_import_the_command_line():
    for module in MODULES:
        if layer(module) == "plugin":
            assert not {n for n in imported_names(module) if n.startswith(f"{NAME}.cli")}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_stay_readable(module):
    source = MODULES[module].read_text(encoding="utf-8")
    assert source.count("\n") <= MAX_LINES, f"{module}: {source.count(chr(10))} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{module}: {', '.join(long)}"


# What each layer costs to import, in a fresh interpreter: pytest loads the plugin in every run
# (so it imports nothing heavy until a file is collected), the command's --help is instant, the
# core below the models never needs Keras, and comparing two baselines never loads pytest.
IMPORT_COSTS = """
import json, sys
heavy = ("tensorflow", "keras", "pandas", "matplotlib", "numpy", "yaml")
loaded = {}
def after(name):
    __import__(name)
    loaded[name] = sorted(m for m in heavy if m in sys.modules)
for name in sys.argv[1:]:
    after(name)
print(json.dumps(loaded))
"""

DIFF_WITHOUT_PYTEST = """
import sys
from pytest_featureprobe.cli import main
status = main(["diff", sys.argv[1], sys.argv[2]])
print(status, sorted(m for m in ("pytest", "_pytest", "tensorflow", "keras") if m in sys.modules))
"""


def _fresh_python(code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.system
def test_what_each_layer_imports():
    modules = [
        "pytest_featureprobe.plugin",
        "pytest_featureprobe.plugin.nodes",
        "pytest_featureprobe.cli",
        "pytest_featureprobe.training",
        "pytest_featureprobe.baseline",
        "pytest_featureprobe.runner",
    ]
    loaded = json.loads(_fresh_python(IMPORT_COSTS, *modules))
    assert loaded["pytest_featureprobe.plugin"] == []
    assert loaded["pytest_featureprobe.plugin.nodes"] == []
    assert loaded["pytest_featureprobe.cli"] == []  # --help imports no library
    for module in modules[3:]:  # the core up to the runner: numpy and pandas, never Keras
        assert "tensorflow" not in loaded[module] and "keras" not in loaded[module], module


@pytest.mark.system
def test_featureprobe_diff_does_not_load_pytest(tmp_path):
    def predict(x):
        p = 0.1 + 0.4 * x[:, 0]
        return np.stack([1 - p, p], axis=1)

    sweep = from_callable(predict, FeatureSpace.from_names(["a", "b"]), ["no", "yes"]).sweep()
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path in paths:
        write_baseline(path, Baseline.from_sweep(sweep))
    assert _fresh_python(DIFF_WITHOUT_PYTEST, *map(str, paths)) == "0 []"


def test_readme_where_things_are_matches_the_tree():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Where things are", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([A-Za-z_]+(?:\.py|/))`", section))
    files = {p.name for p in PACKAGE.rglob("*.py")}
    folders = {f"{p.parent.name}/" for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE}
    assert files - named == set(), "modules README does not name"
    assert folders - named == set(), "subpackages README does not name"
    stale = {n for n in named if n.endswith(".py") and n not in files and not n.startswith("test")}
    assert stale == set(), "README names modules that do not exist"
    listed = {n for n in named if n.endswith("/") and not n.startswith(("tests", NAME))}
    assert listed <= folders
