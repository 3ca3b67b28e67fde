"""No import cycle among the modules of tutor/ and graders/ (issue 15).

The graph is read from the source with `ast`, so an import inside a function counts as much as a
top-level one: a function-level import only postpones a cycle to run time, it does not remove it.
Imports under `if TYPE_CHECKING:` are left out: they never run, and a screen naming the app's type
(screens/base.py `tapp`) is a back-reference for the type checker, not a load-order dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("tutor", "graders")


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The deepest module of ours that `name` names (`a.b.func` -> `a.b`), or None if not ours."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in `node`, at any depth, except in `if TYPE_CHECKING:` bodies."""
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        for other in node.orelse:
            yield from _imports(other)
        return
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    for child in ast.iter_child_nodes(node):
        yield from _imports(child)


def import_graph(root: Path = REPO, packages: tuple[str, ...] = PACKAGES) -> nx.DiGraph:
    """module -> module it imports, for every run-time import anywhere in the module's body.

    `from pkg import sub` points at `pkg.sub` when that is a module, else at `pkg` (the name
    comes from the package's `__init__`). The implicit import of a parent package is left out:
    Python runs it first, whatever the child does, so it cannot close a cycle by itself.
    """
    modules = {_module_name(root, p): p for pkg in packages
               for p in sorted((root / pkg).rglob("*.py"))}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: anchor at the module's package
                    anchor = name.split(".")
                    if path.name != "__init__.py":
                        anchor = anchor[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                found = _target(target, modules)
                if found is not None and found != name:
                    graph.add_edge(name, found)
    return graph


def _cycles(graph: nx.DiGraph) -> list[list[str]]:
    return sorted(sorted(c) for c in nx.simple_cycles(graph))


def test_graph_sees_the_packages() -> None:
    graph = import_graph()
    # guards against a walker that silently finds nothing (and so no cycle)
    assert graph.has_edge("tutor.cli.labs", "tutor.cli.lab_handlers")  # function-level
    assert graph.has_edge("tutor.curriculum.loader", "tutor.curriculum.models")  # top-level
    assert graph.has_edge("graders.rubric.report", "graders.rubric.formula")
    assert graph.number_of_edges() > 200


def test_walker_finds_hidden_cycles(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("from .. import c\n")
    (pkg / "c.py").write_text("import pkg.a.f\n")
    (pkg / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from pkg import e\nelse:\n    from pkg import a\n")
    (pkg / "e.py").write_text("from pkg.d import x\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert _cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    assert graph.has_edge("pkg.d", "pkg.a") and not graph.has_edge("pkg.d", "pkg.e")


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package: str) -> None:
    cycles = [c for c in _cycles(import_graph()) if any(m.split(".")[0] == package for m in c)]
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join([*c, c[0]]) for c in cycles)
