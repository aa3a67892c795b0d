"""The shape of the code, checked: layers and import cycles, function length, and the committed golden plans.

Read from the source with ``ast`` (nothing imported), so a hidden function-level import counts like any other.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT, stack_names, stack_recording
from tools.render import dump_json

PACKAGES = ("components", "tools", "policies", "bootstrap")
MAX_FUNCTION_LINES = 60
GOLDEN_PLANS = ROOT / "tests" / "golden" / "plans"


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


@functools.cache
def _modules() -> dict[str, Path]:
    """Every module of the program, the tools, the policy pack and bootstrap, by dotted name."""
    out = {"__main__": ROOT / "__main__.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if {"venv", "node_modules"} & set(rel.parts):
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that ``name`` imports anywhere in its source (module level or in a function)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
    return {m for m in found if m in known and m != name}


@functools.cache
def import_graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_loop_through_a_function_level_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_program_the_tools_the_pack_or_bootstrap():
    graph = import_graph()
    assert {"components.program", "tools.plan", "policies.guardrails"} <= set(graph)  # the walk found the code
    assert "components.config.nodetags" in graph["components.config.checks"]  # and reads the imports
    assert cycles(graph) == []


def test_the_config_package_imports_nothing_from_components_outside_it():
    graph = import_graph()
    config = [m for m in graph if m == "components.config" or m.startswith("components.config.")]
    assert len(config) > 10
    outside = {
        (m, dep)
        for m in config
        for dep in graph[m]
        if dep.startswith("components") and dep != "components.config" and not dep.startswith("components.config.")
    }
    assert outside == set()


def _functions(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, (node.end_lineno or node.lineno) - node.lineno + 1


def test_no_function_in_components_or_tools_is_longer_than_sixty_lines():
    long = [
        f"{path.relative_to(ROOT)}:{name} ({lines} lines)"
        for name_, path in _modules().items()
        if name_.startswith(("components", "tools"))
        for name, lines in _functions(path)
        if lines > MAX_FUNCTION_LINES
    ]
    assert long == []


@pytest.mark.parametrize("stack", stack_names())
def test_the_plan_is_the_committed_golden_plan(stack):
    """Every change to what a stack plans shows in the pull request as a change to tests/golden/plans/<stack>.json
    (UPDATE_GOLDEN=1 rewrites them after review); a stack file without one is planned by the other tests."""
    path = GOLDEN_PLANS / f"{stack}.json"
    text = dump_json(stack_recording(stack))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN_PLANS.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if not path.is_file():
        pytest.skip(f"no golden plan for {stack} (UPDATE_GOLDEN=1 pytest tests/test_architecture.py writes it)")
    assert text == path.read_text(), f"the {stack} plan differs from {path.relative_to(ROOT)} (UPDATE_GOLDEN=1)"


def test_every_golden_plan_belongs_to_a_stack_file():
    assert {p.stem for p in GOLDEN_PLANS.glob("*.json")} <= set(stack_names())


def test_every_catalog_entry_names_a_module_whose_build_takes_the_one_signature():
    """A new add-on is its module, its catalog entry and its config section: the program builds whatever the
    catalog lists, in its order, through this one signature (read from the source: nothing imported)."""
    from components.config.charts import catalog

    modules = _modules()
    for key, spec in catalog().items():
        builds = [
            node
            for node in _tree(modules[f"components.addons.{spec.module}"]).body
            if isinstance(node, ast.FunctionDef) and node.name == "build"
        ]
        assert [[a.arg for a in b.args.args] for b in builds] == [["name", "ctx", "cfg", "built"]], key
        assert spec.component_suffix and spec.role_suffix, key
    assert len({s.role_suffix for s in catalog().values()}) == len(catalog())
    assert len({s.component_suffix for s in catalog().values()}) == len(catalog())
