"""How a plan reads in a terminal: the resource tree with each resource's facts, the count per type, the JSON
document, the pod density of security groups for pods, and the guardrails' report."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

from tools.facts import facts

if TYPE_CHECKING:
    from tools.mockcloud import Recording


def short_type(typ: str) -> str:
    """aws:ec2/subnet:Subnet -> aws:ec2:Subnet; component types stay as they are."""
    parts = typ.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}"
    return typ


def pod_density(recording: Recording) -> str | None:
    """With security groups for pods: how many pods with their own group a node of each instance type takes."""
    from components.config.instances import branch_enis

    cni = next((r for r in recording.by_type("aws:eks/addon:Addon") if r.inputs.get("addonName") == "vpc-cni"), None)
    values = cni.inputs.get("configurationValues") if cni else None
    if not isinstance(values, str) or json.loads(values).get("env", {}).get("ENABLE_POD_ENI") != "true":
        return None
    types = {t for r in recording.by_type("aws:eks/nodeGroup:NodeGroup") for t in r.inputs.get("instanceTypes") or []}
    for r in recording.by_type("aws:autoscaling/group:Group"):
        overrides = ((r.inputs.get("mixedInstancesPolicy") or {}).get("launchTemplate") or {}).get("overrides") or []
        types |= {o["instanceType"] for o in overrides if isinstance(o.get("instanceType"), str)}
    lines = ["Pods with their own security groups per node (branch ENIs; other pods are counted as before):"]
    for t in sorted(types):
        n = branch_enis(t)
        lines.append(
            f"  {t:<22} {n if n is not None else 'not in the platform table: see the VPC resource controller'}"
        )
    return "\n".join(lines)


def tree(recording: Recording) -> str:
    by_parent: dict[str | None, list] = {}
    for r in recording.resources:
        by_parent.setdefault(r.parent, []).append(r)
    lines = [f"Stack {recording.project}-{recording.stack}"]

    def walk(parent: str | None, depth: int) -> None:
        for r in by_parent.get(parent, []):
            lines.append(f"{'  ' * depth}{'+' if r.custom else '#'} {short_type(r.type)} {r.name}{facts(r)}")
            walk(r.urn, depth + 1)

    walk(None, 1)
    return "\n".join(lines)


def counts(recording: Recording) -> str:
    c = Counter(short_type(r.type) for r in recording.resources)
    width = max((len(k) for k in c), default=0)
    lines = [f"  {k.ljust(width)}  {c[k]}" for k in sorted(c)]
    lines.append(f"  {'total'.ljust(width)}  {sum(c.values())}")
    return "\n".join(lines)


def dump_json(recording: Recording) -> str:
    return json.dumps(recording.as_json(), indent=2, sort_keys=True) + "\n"


def policy_report(recording: Recording, stack: str, levels: dict[str, str] | None = None) -> tuple[str, int]:
    """The guardrails over the recorded resources: (report, number of mandatory violations)."""
    from policies import guardrails

    resources = [
        guardrails.Resource(r.type, r.name, r.urn, r.inputs, tuple(r.dependencies)) for r in recording.resources
    ]
    levels = guardrails.levels_for(stack) if levels is None else levels
    violations = guardrails.evaluate(resources, levels, guardrails.params_for(stack))
    active = [p for p in guardrails.POLICIES if levels.get(p.name, p.enforcement) != guardrails.DISABLED]
    mandatory = [v for v in violations if v.enforcement == guardrails.MANDATORY]
    used = guardrails.config_path(stack)
    lines = [
        f"Policies ({len(active)} run, policies/guardrails.py, levels from "
        f"{'policies/' + used.name if used.is_file() else 'the pack defaults'}): "
        f"{len(mandatory)} mandatory, {len(violations) - len(mandatory)} advisory violations"
    ]
    for p in active:
        count = sum(1 for v in violations if v.policy == p.name)
        level = levels.get(p.name, p.enforcement)
        lines.append(f"  {'ok  ' if not count else 'FAIL'} {p.name} ({level}){f': {count}' if count else ''}")
    for v in violations:
        lines.append(f"  [{v.enforcement}] {v.policy}: {v.message}")
    return "\n".join(lines), len(mandatory)
