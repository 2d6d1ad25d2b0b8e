"""The package's layers, read from its source: no import cycle (imports inside functions count,
``if TYPE_CHECKING:`` blocks do not), and the core imports neither pytest nor the pytest layer nor
the command line. Also: no module over the size a newcomer can read in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_featureprobe

PACKAGE = Path(pytest_featureprobe.__file__).parent
NAME = "pytest_featureprobe"
UPPER_LAYERS = ("plugin", "cli")  # everything else is the core
MAX_LINES = 420
MAX_FUNCTION_LINES = 65


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
