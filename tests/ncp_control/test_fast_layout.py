"""The layout of ``ncp_control.fast``: no import cycle among its modules (imports inside
functions included), no private name imported from another of its modules, and no private
attribute of a cell or sequence model read (the cells expose what the compiled path needs).

Static checks over the source (``ast``): numba need not be installed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import ncp_control

PACKAGE = Path(ncp_control.__file__).parent
FAST = PACKAGE / "fast"
#: private names the compiled path once read from cells and models, whether or not they exist now
FORMER_PRIVATE_READS = {"_slices", "_id_order", "_unroll_reference"}

#: the cycle finder fixture of tests/conftest.py
CycleFinder = Callable[[dict[str, set[str]]], "list[str] | None"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _fast_modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(FAST.rglob("*.py"))}


def _imports(name: str, tree: ast.Module, modules: set[str]) -> list[tuple[str, str | None]]:
    """``(imported module, imported name or None)`` of every import in ``tree``, at any depth,
    that names a module of ``modules`` (``from package import submodule`` gives the submodule)."""
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name in modules]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    found.append((submodule, None))
                elif base in modules:
                    found.append((base, alias.name))
    return found


def _is_package(name: str) -> bool:
    return (PACKAGE.parent / Path(*name.split(".")) / "__init__.py").exists()


def test_no_import_cycle_inside_fast(find_cycle: CycleFinder) -> None:
    trees = _fast_modules()
    modules = set(trees)
    assert {"ncp_control.fast.cfc", "ncp_control.fast.ltc", "ncp_control.fast.ctrnn"} <= modules
    graph = {name: {m for m, _ in _imports(name, tree, modules) if m != name} for name, tree in trees.items()}
    assert any(graph.values()), "no intra-package import found: the walk is broken"
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_cycle_finder_sees_a_cycle(find_cycle: CycleFinder) -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_private_name_imported_between_fast_modules() -> None:
    trees = _fast_modules()
    modules = set(trees)
    private = []
    for name, tree in trees.items():
        for source, imported in _imports(name, tree, modules):
            if source != name and any(_private(part) for part in [*source.split("."), imported or ""]):
                private.append(f"{name} imports {source}" + (f".{imported}" if imported else ""))
    assert not private, private


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_attributes_of_cells() -> set[str]:
    """Private attributes and methods defined by the cells and sequence models."""
    sources = [*sorted((PACKAGE / "cells").glob("*.py"))]
    sources += [PACKAGE / f"{name}.py" for name in ("cfc", "ltc", "ctrnn", "sequence")]
    names: set[str] = set()
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id == "self":
                    names.add(node.attr)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
    return {n for n in names if _private(n)}


def test_fast_reads_no_private_attribute_of_a_cell() -> None:
    private = _private_attributes_of_cells() | FORMER_PRIVATE_READS
    assert "_slices" in private and "_id_order" in private
    reads = [
        f"{name}:{node.lineno} reads .{node.attr}"
        for name, tree in _fast_modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in private
    ]
    assert not reads, reads
