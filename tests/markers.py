"""Which tests are unit tests, read from the test modules' source (no import): ``pytest -m unit``.

A test is a unit test unless it — or a module-level helper or fixture it uses, transitively — runs the program or
another process: the whole-stack plans (``run_main``, ``stack_recording``, ``plan.run``...), a subprocess, moto.
The ``unit`` marker is added at collection, so nobody keeps a list by hand, and ``-m unit`` does not even import
the modules that have none.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

# What runs the program or another process, by the name a test calls.
HEAVY_CALLS = {
    "run_main",
    "run_components",
    "stack_recording",
    "bootstrap_plan",
    "run_program",
    "plan.run",
    "plan.main",
    "plan.base_plan",
    "subprocess.run",
    "subprocess.Popen",
    "subprocess.check_output",
    "run_step",
    "mock_aws",
    "configdoc.main",
}
# Modules that drive tools against fakes of AWS and Kubernetes, sockets and timeouts, or regenerate the docs:
# integration, whatever they call.
INTEGRATION = {"test_teardown.py", "test_private_access.py", "test_workflows.py", "test_configdoc.py"}
# conftest's fixtures that plan a whole stack
HEAVY_FIXTURES = {"dev", "prod"}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _name(node.value)) is not None:
        return f"{base}.{node.attr}"
    return None


def _uses(fn: ast.FunctionDef) -> set[str]:
    """Every name a function calls or decorates with, and its parameters (fixtures)."""
    out = {n for node in ast.walk(fn) for n in [_name(node.func) if isinstance(node, ast.Call) else None] if n}
    out |= {n for d in fn.decorator_list for n in [_name(d.func if isinstance(d, ast.Call) else d)] if n}
    out |= {f"fixture:{a.arg}" for a in fn.args.args}
    return out


@functools.cache
def unit_tests(path: Path) -> frozenset[str]:
    """The names of the module's unit tests."""
    if path.name in INTEGRATION:
        return frozenset()
    tree = ast.parse(path.read_text(), str(path))
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    uses = {name: _uses(f) for name, f in functions.items()}
    heavy = {name for name, u in uses.items() if u & HEAVY_CALLS or {f"fixture:{x}" for x in HEAVY_FIXTURES} & u}
    changed = True
    while changed:  # a helper or fixture that uses a heavy one is heavy
        grown = {
            name for name, u in uses.items() if name not in heavy and (u & heavy or {f"fixture:{h}" for h in heavy} & u)
        }
        heavy |= grown
        changed = bool(grown)
    return frozenset(n for n in functions if n.startswith("test_") and n not in heavy)
