"""The house rules of ``ncp_control.agents``: its modules import each other without cycles.

The import graph is built from the source with :mod:`ast`: every ``import`` and
``from ... import`` anywhere in a module (module level, inside functions, under
``TYPE_CHECKING``), resolved to a module of the package:

- ``from package.module import name`` is an edge to ``package.module``;
- ``from package import name`` is an edge to the submodule ``package.name`` if there is one,
  else to the module that ``package/__init__.py`` re-exports ``name`` from (followed through
  nested packages), else to ``package`` itself;
- a package's ``__init__`` importing its own descendants only re-exports them: those edges
  are left out, so that a module importing its package's public name is not a cycle back
  through the ``__init__`` (the name still resolves to the module that defines it, above).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import ncp_control.agents

ROOT = "ncp_control.agents"

#: the cycle finder fixture of tests/conftest.py
CycleFinder = Callable[[dict[str, set[str]]], "list[str] | None"]


def _modules() -> dict[str, Path]:
    """:return: dotted module name -> source file, for every module of the package."""
    base = Path(ncp_control.agents.__file__).parent
    modules = {}
    for path in sorted(base.rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join([ROOT, *parts])] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if _is_package(path) else module.rsplit(".", 1)[0]
    for _ in range(node.level - 1):
        package = package.rsplit(".", 1)[0]
    return f"{package}.{node.module}" if node.module else package


def _reexports(modules: dict[str, Path]) -> dict[str, dict[str, str]]:
    """:return: package -> name -> the module its ``__init__`` imports the name from."""
    table: dict[str, dict[str, str]] = {}
    for module, path in modules.items():
        if not _is_package(path):
            continue
        names = table.setdefault(module, {})
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom):
                source = _absolute(module, path, node)
                for alias in node.names:
                    names[alias.asname or alias.name] = source
    return table


def _target(source: str, name: str | None, modules: dict[str, Path], reexports: dict[str, dict[str, str]]) -> str | None:
    """The module that ``from source import name`` (or ``import source``) depends on."""
    seen = set()
    while source in modules and name is not None and (source, name) not in seen:
        seen.add((source, name))
        if f"{source}.{name}" in modules:
            return f"{source}.{name}"
        origin = reexports.get(source, {}).get(name)
        if origin is None:
            break
        source = origin
    while source and source not in modules:  # ``import a.b.c`` of a name inside a module
        source = source.rpartition(".")[0]
    return source or None


def import_graph() -> dict[str, set[str]]:
    """:return: module -> the modules of ``ncp_control.agents`` it imports (see the module docstring)."""
    modules = _modules()
    reexports = _reexports(modules)
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [_target(alias.name, None, modules, reexports) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module, path, node)
                targets = [_target(source, alias.name, modules, reexports) for alias in node.names]
            for target in targets:
                if target is None or target == module:
                    continue
                if _is_package(path) and target.startswith(module + "."):
                    continue  # a package re-exporting its own children
                graph[module].add(target)
    return graph


def test_graph_sees_imports() -> None:
    graph = import_graph()
    assert "ncp_control.agents.ppo" in graph["ncp_control.agents.zoo"]  # module level
    assert "ncp_control.agents.runs.train" in graph["ncp_control.agents.sweep.jobs"]  # inside a function, re-exported
    modules = _modules()
    # a name re-exported by a package resolves to the module that defines it
    assert _target(ROOT, "LiquidPPO", modules, _reexports(modules)) == "ncp_control.agents.ppo"
    assert _target(ROOT, "sweep", modules, _reexports(modules)) == "ncp_control.agents.sweep"
    # the package's own re-exports are no edges
    assert graph[ROOT] == set()


def test_find_cycle(find_cycle: CycleFinder) -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_between_modules(find_cycle: CycleFinder) -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
