"""The import graph of ``graph/`` and ``cli.py``, read from the source with ``ast``: one way, no cycle.

The pipeline, the server and the exports reach graphs through :class:`newsgraph.store.Graph` only:
they import neither backend module and never touch a backend's engine (``.store``).
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SOURCES = {p.stem: p for p in sorted((ROOT / "graph").glob("*.py"))} | {"cli": ROOT / "cli.py"}
# The extraction stage imports its own modules inside functions both ways, left to the issue that generalises it.
EXTRACTION = {"extract", "arguments", "frames", "mentions", "resolve", "depmatch", "modality", "nlp"}
BACKENDS = {"embedded", "remote"}
STORAGE = {"results", "layout", "embedded", "remote", "store", "query"}
INTERFACE_USERS = ("pipeline", "serve", "pool", "jobs", "export", "nxgraph", "cli")


def _runs_later(node: ast.AST) -> bool:
    """Whether ``node`` is code Python does not run as it imports the module: a function, or a TYPE_CHECKING block."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return True
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _nodes(tree: ast.AST, everywhere: bool):
    """The nodes of ``tree``; unless ``everywhere``, only those Python runs when it imports the module."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        todo += [child for child in ast.iter_child_nodes(node) if everywhere or not _runs_later(child)]


def imports(path: Path, everywhere: bool = True) -> set[str]:
    """The newsgraph modules ``path`` imports (``from .x import``, ``from . import x``, ``newsgraph.x``)."""
    found: set[str] = set()
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8")), everywhere):
        if isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            if node.level == 1:
                found |= {parts[0]} if node.module else {a.name for a in node.names}
            elif node.level == 0 and parts[0] == "newsgraph":
                found |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("newsgraph.")}
    return found & set(SOURCES)


def import_graph(everywhere: bool = True) -> dict[str, set[str]]:
    return {name: imports(path, everywhere) for name, path in SOURCES.items()}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` (its first module repeated at the end), or None if it has none."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once all it reaches is explored
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for other in sorted(graph.get(module, ())):
            if state.get(other) == "open":
                return path[path.index(other):] + [other]
            if other not in state and (found := visit(other)):
                return found
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"a"}}, ["a", "a"]),
    ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None),
])
def test_the_cycle_finder_finds_cycles_and_only_those(graph, expected):
    assert cycle(graph) == expected


def test_the_reader_sees_every_kind_of_import(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("from typing import TYPE_CHECKING\nfrom . import store\nfrom .query import run\nimport newsgraph.remote\n"
                    "if TYPE_CHECKING:\n    from .results import Result\n"
                    "def f():\n    from newsgraph.layout import MERGED\n", encoding="utf-8")
    assert imports(path) == {"store", "query", "remote", "results", "layout"}
    assert imports(path, everywhere=False) == {"store", "query", "remote"}


def test_no_module_imports_one_that_imports_it_back():
    found = cycle(import_graph(everywhere=False))
    assert found is None, " → ".join(found)


def test_no_cycle_even_through_imports_inside_functions_outside_the_extraction_stage():
    graph = {m: deps - EXTRACTION for m, deps in import_graph().items() if m not in EXTRACTION}
    found = cycle(graph)
    assert found is None, " → ".join(found)


def test_the_store_layers_point_one_way():
    graph = import_graph()
    assert "store" not in graph["remote"] | graph["embedded"] | graph["layout"] | graph["results"]
    assert not graph["results"] & STORAGE  # the bottom: every backend makes results
    assert graph["query"] & STORAGE == {"results", "store"}


@pytest.mark.parametrize("user", INTERFACE_USERS)
def test_the_pipeline_the_server_and_the_exports_use_only_the_interface(user):
    path = SOURCES[user]
    assert not imports(path) & BACKENDS, f"{user} imports a backend module"
    engine = [node.lineno for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
              if isinstance(node, ast.Attribute) and node.attr == "store"]
    assert not engine, f"{user} reaches into a backend's engine (.store) at lines {engine}"


@pytest.mark.parametrize("module", sorted(STORAGE))
def test_each_store_module_imports_alone(module):
    done = subprocess.run([sys.executable, "-c", f"import newsgraph.{module}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
