"""Critical path of a first `pulumi up`, estimated from the recorded dependency graph.

Pulumi creates a resource as soon as everything it depends on exists, and creates
independent resources in parallel, so the wall time of a first `pulumi up` is about the
longest chain of dependencies weighted by each resource's creation time. The typical
creation times below are estimates from AWS documentation and common experience (sources
in docs/performance.md); they are not measured by this project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.mockcloud import Record

# Typical seconds to create one resource of a type (default: DEFAULT_SECONDS).
TYPICAL_SECONDS: Mapping[str, int] = {
    "aws:eks/cluster:Cluster": 570,  # "about 10 minutes" (EKS user guide); 9-10 min typical
    "aws:eks/nodeGroup:NodeGroup": 210,  # managed node group to ACTIVE: 3-4 min
    "aws:ec2/natGateway:NatGateway": 100,  # pending -> available: 1-2 min
    "aws:eks/addon:Addon": 60,  # ACTIVE in ~1 min (CoreDNS once nodes are Ready)
    "eks:index:VpcCniAddon": 60,
    "kubernetes:helm.sh/v3:Release": 90,  # atomic install: pull images, pods Ready
    "aws:autoscaling/group:Group": 150,  # waits for min-size instances InService
    "aws:ec2/vpcEndpoint:VpcEndpoint": 90,  # interface endpoints: ENIs + private DNS
    "aws:sqs/queue:Queue": 30,  # the provider waits for attribute propagation
    "aws:iam/role:Role": 5,
    "aws:kms/key:Key": 10,
    "aws:ec2/flowLog:FlowLog": 10,
    "aws:eks/accessEntry:AccessEntry": 5,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": 5,
    # AMP does not document how long a scraper takes to become ACTIVE (its ENIs, its service-linked role, its
    # access entry); the provider waits up to 30 minutes (amp/scraper.go). An estimate, not a measurement.
    "aws:amp/scraper:Scraper": 900,
    "aws:amp/workspace:Workspace": 30,  # CREATING -> ACTIVE (the provider waits up to 5 min)
}
DEFAULT_SECONDS = 3
EMPTY_ASG_SECONDS = 10
GATEWAY_ENDPOINT_SECONDS = 10


def seconds(rec: Record) -> int:
    """Estimated creation time of one recorded resource (components take none of their own)."""
    if not rec.custom or rec.type.startswith("pulumi:providers:"):
        return 0
    if rec.type == "aws:autoscaling/group:Group" and not rec.inputs.get("minSize"):
        return EMPTY_ASG_SECONDS
    if rec.type == "aws:ec2/vpcEndpoint:VpcEndpoint" and rec.inputs.get("vpcEndpointType") == "Gateway":
        return GATEWAY_ENDPOINT_SECONDS
    return TYPICAL_SECONDS.get(rec.type, DEFAULT_SECONDS)


@dataclass(frozen=True)
class Step:
    urn: str
    type: str
    name: str
    seconds: int
    finish: int


def finish_times(
    resources: Iterable[Record], cost: Callable[[Record], int] = seconds
) -> tuple[dict[str, int], dict[str, str | None]]:
    """Earliest finish of every resource and the dependency that held it back the longest."""
    recs = {r.urn: r for r in resources}
    finish: dict[str, int] = {}
    via: dict[str, str | None] = {}

    def visit(urn: str, stack: tuple[str, ...] = ()) -> int:
        if urn in finish:
            return finish[urn]
        if urn in stack:
            raise ValueError(f"dependency cycle through {urn}")
        r = recs[urn]
        best, best_dep = 0, None
        for dep in sorted(d for d in r.dependencies if d in recs):
            f = visit(dep, (*stack, urn))
            if f > best:
                best, best_dep = f, dep
        finish[urn] = best + cost(r)
        via[urn] = best_dep
        return finish[urn]

    for urn in sorted(recs):
        visit(urn)
    return finish, via


def critical_path(resources: Iterable[Record], cost: Callable[[Record], int] = seconds) -> list[Step]:
    """The longest chain, first resource first."""
    recs = {r.urn: r for r in resources}
    if not recs:
        return []
    finish, via = finish_times(recs.values(), cost)
    end = max(sorted(finish), key=lambda u: finish[u])
    chain: list[Step] = []
    urn: str | None = end
    while urn is not None:
        r = recs[urn]
        chain.append(Step(urn, r.type, r.name, cost(r), finish[urn]))
        urn = via[urn]
    chain.reverse()
    return [s for s in chain if s.seconds > 0] or chain


def minutes(s: int) -> str:
    return f"{s // 60}m{s % 60:02d}s"


def report(resources: list) -> str:
    chain = critical_path(resources)
    total = chain[-1].finish if chain else 0
    lines = ["Critical path of a first `pulumi up` (typical creation times, tools/critical_path.py):"]
    for step in chain:
        lines.append(f"  {minutes(step.finish):>7}  +{minutes(step.seconds):>6}  {step.type} {step.name}")
    lines.append(
        f"Estimated wall time: {minutes(total)} ({total} s) over {len(chain)} steps; {len(resources)} resources in all."
    )
    return "\n".join(lines)
