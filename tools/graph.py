"""The plan as a Mermaid flowchart (``tools.plan <stack> --graph FILE [--graph-level component]``).

Read left to right, from what exists first to what waits for it: every arrow points from a dependency to its
dependent. Each component is a subgraph (nested as the components are), so a reader finds the network, the
cluster, a node group or an add-on as one box. ``resource`` level (the default) draws every resource inside its
component's box; ``component`` level draws the components only, with an arrow where any resource of one waits for
any resource of the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LEVELS = ("resource", "component")


def _label(r: Any) -> str:
    return f'"{r.name}<br/><small>{r.type}</small>"'


def _tree(resources: Sequence[Any]) -> dict[str | None, list[Any]]:
    children: dict[str | None, list[Any]] = {}
    known = {r.urn for r in resources}
    for r in resources:
        children.setdefault(r.parent if r.parent in known else None, []).append(r)
    return children


def _owner(recs: dict[str, Any], urn: str, drawn: set[str]) -> str | None:
    """The nearest drawn node that is ``urn`` or contains it."""
    r = recs.get(urn)
    while r is not None and r.urn not in drawn:
        r = recs.get(r.parent) if r.parent else None
    return r.urn if r else None


def _ancestors(recs: dict[str, Any], urn: str) -> set[str]:
    out, r = set(), recs.get(urn)
    while r is not None and r.parent:
        out.add(r.parent)
        r = recs.get(r.parent)
    return out


def mermaid(recording: Any, level: str = "resource") -> str:
    """The flowchart: components as (nested) subgraphs, arrows from dependency to dependent."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    resources = [r for r in recording.resources if not r.type.startswith("pulumi:providers:")]
    recs = {r.urn: r for r in resources}
    children = _tree(resources)
    ids = {r.urn: f"n{i}" for i, r in enumerate(resources)}
    drawn = {r.urn for r in resources if level == "resource" or not r.custom}
    lines = ["flowchart LR"]

    def emit(r: Any, depth: int) -> None:
        pad = "  " * depth
        inner = [c for c in children.get(r.urn, []) if c.urn in drawn]
        if r.custom:
            lines.append(f"{pad}{ids[r.urn]}[{_label(r)}]")
        elif level == "component" and not [c for c in inner if not c.custom]:
            lines.append(f"{pad}{ids[r.urn]}[{_label(r)}]")  # a leaf component: a box, not an empty group
        else:
            lines.append(f"{pad}subgraph {ids[r.urn]}[{_label(r)}]")
            lines.append(f"{pad}  direction LR")
            for c in inner:
                emit(c, depth + 1)
            lines.append(f"{pad}end")

    for r in children.get(None, []):
        if r.urn in drawn:
            emit(r, 1)
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in sorted(reduced(_edges(resources, recs, drawn)), key=str)]
    return "\n".join(lines) + "\n"


def _edges(resources: Sequence[Any], recs: dict[str, Any], drawn: set[str]) -> set[tuple[str, str]]:
    """(dependency, dependent) between drawn nodes; none between a component and what it contains. At resource
    level an arrow joins resources only: a dependency on a component stands for its resources (as the engine
    waits for them)."""
    resource_level = any(recs[u].custom for u in drawn)
    inside: dict[str, list[str]] = {}
    for r in resources:
        for ancestor in _ancestors(recs, r.urn):
            if r.custom:
                inside.setdefault(ancestor, []).append(r.urn)

    def ends(urn: str) -> list[str]:
        owner = _owner(recs, urn, drawn)
        if owner is None:
            return []
        return inside.get(owner, []) if resource_level and not recs[owner].custom else [owner]

    edges: set[tuple[str, str]] = set()
    for r in resources:
        for dependent in ends(r.urn):
            for dep in r.dependencies:
                for dependency in ends(dep):
                    if (
                        dependency == dependent
                        or dependency in _ancestors(recs, dependent)
                        or dependent in _ancestors(recs, dependency)
                    ):
                        continue
                    edges.add((dependency, dependent))
    return edges


def reduced(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The transitive reduction: an arrow a -> c goes when a -> ... -> c exists another way. Every dependency
    still reads off the graph (as a path), and a 250-resource plan stays under Mermaid's 500-edge limit."""
    after: dict[str, set[str]] = {}
    for a, b in edges:
        after.setdefault(a, set()).add(b)

    def another_way(a: str, b: str) -> bool:
        todo = [n for n in after[a] if n != b]
        seen = set(todo)
        while todo:
            node = todo.pop()
            if node == b:
                return True
            for nxt in after.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    return {(a, b) for a, b in edges if not another_way(a, b)}


def closure(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Every (a, b) with a path from a to b: what the arrows say, however many are drawn."""
    after: dict[str, set[str]] = {}
    for a, b in edges:
        after.setdefault(a, set()).add(b)
    out: set[tuple[str, str]] = set()
    for start in after:
        todo, seen = [start], set()
        while todo:
            for nxt in after.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
                    out.add((start, nxt))
    return out
