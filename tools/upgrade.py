"""The upgrade gate: may this stack move to the next Kubernetes minor? (``python -m tools.preflight STACK
--upgrade-to 1.36``, run by CI before an ``up`` that changes ``cluster.version``).

What decides, in order:
1. **One minor up, or one down.** EKS upgrades the control plane one minor at a time; a rollback goes one minor
   down, within seven days of the upgrade (docs/operations.md, "Upgrading Kubernetes"): its gate reads the
   ROLLBACK_READINESS insights instead and prints the manual path. Any other jump is bad input (exit 2).
2. **The catalogs cover the target**: every managed add-on the stack installs has a version for it in
   platform/eks-addons.yaml, every node class's OS and architecture a release in platform/node-images.yaml, and
   every Helm add-on's chart admits it (its kubeVersion range).
3. **EKS's own readiness insights** for the target (ListInsights, category UPGRADE_READINESS; for a rollback
   ROLLBACK_READINESS, in botocore's EKS model since 1.44): every
   insight in status ERROR or WARNING stops the upgrade unless ``cluster.upgrade.acknowledgedInsights`` lists its
   id with a reason. UNKNOWN insights are shown, not counted (EKS could not evaluate them).
Then it prints the upgrade order. Exit 0: go; 1: a blocking finding; 2: bad input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BLOCKING = ("ERROR", "WARNING")


def minor(version: str) -> tuple[int, int]:
    major, _, rest = version.partition(".")
    return int(major), int(rest.split(".")[0])


def is_rollback(current: str, target: str) -> bool:
    (cmaj, cmin), (tmaj, tmin) = minor(current), minor(target)
    return tmaj == cmaj and tmin == cmin - 1


def step_problem(current: str, target: str) -> str | None:
    """Why going from ``current`` to ``target`` is not an upgrade this gate checks (None when it is one)."""
    (cmaj, cmin), (tmaj, tmin) = minor(current), minor(target)
    if (tmaj, tmin) == (cmaj, cmin):
        return f"the cluster already runs {current}"
    if tmaj != cmaj or tmin > cmin + 1:
        return f"{current} -> {target} skips a minor: EKS upgrades one minor at a time ({current} -> {cmaj}.{cmin + 1})"
    if tmin < cmin - 1:
        return f"{current} -> {target} goes back more than one minor: EKS rolls back one minor only"
    if tmin < cmin:
        return (
            f"{current} -> {target} is a rollback, not an upgrade: EKS rolls back one minor within 7 days of the "
            'upgrade (docs/operations.md, "Upgrading Kubernetes")'
        )
    return None


def catalog_problems(cfg: Any, target: str) -> list[str]:
    """What the platform's own catalogs lack for ``target`` (the plan of the new minor would be refused)."""
    from components.config import ManagedGroup, SelfManagedGroup, nodeimages
    from components.config.charts import catalog
    from components.config.eksaddons import missing_problem

    out: list[str] = []
    addons = cfg.cluster.addons
    managed = {
        "vpc-cni": True,
        "kube-proxy": True,
        "coredns": True,
        "eks-pod-identity-agent": addons.pod_identity_agent.enabled,
        "aws-ebs-csi-driver": addons.ebs_csi.enabled,
        "metrics-server": addons.metrics_server.enabled,
        "eks-node-monitoring-agent": addons.node_monitoring_agent.enabled,
        "amazon-cloudwatch-observability": cfg.observability.container_insights_on,
    }
    out += [
        f"platform/eks-addons.yaml: {m}" for name, on in managed.items() if on and (m := missing_problem(name, target))
    ]
    classes = {
        (g.os, g.architecture) for g in cfg.node_groups.values() if isinstance(g, ManagedGroup | SelfManagedGroup)
    }
    classes |= {(g.os, g.architecture) for g in cfg.karpenter_pools.values()}
    out += [
        f"platform/node-images.yaml: {m}"
        for os_, arch in sorted(classes)
        if (m := nodeimages.missing_problem(target, os_, arch))
    ]
    for key, spec in sorted(catalog().items()):
        addon = getattr(cfg.addons, _snake(key), None)
        if addon is not None and addon.enabled and (m := spec.kube_version_problem(target)):
            out.append(f"platform/addons.yaml: {key}: {m}")
    return out


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


@dataclass(frozen=True)
class Insight:
    id: str
    name: str
    status: str
    reason: str
    recommendation: str = ""


def insights(eks: Any, cluster: str, target: str, category: str = "UPGRADE_READINESS") -> list[Insight]:
    """EKS's readiness insights of the cluster for ``target`` (every page), with their recommendations."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "clusterName": cluster,
            "filter": {"categories": [category], "kubernetesVersions": [target]},
        }
        if token:
            kwargs["nextToken"] = token
        page = eks.list_insights(**kwargs)
        found += page.get("insights", [])
        token = page.get("nextToken")
        if not token:
            break
    out = []
    for summary in found:
        status = summary.get("insightStatus") or {}
        detail: Mapping[str, Any] = {}
        if status.get("status") in BLOCKING:
            detail = eks.describe_insight(clusterName=cluster, id=summary["id"]).get("insight", {})
        out.append(
            Insight(
                summary["id"],
                summary.get("name", ""),
                status.get("status", "UNKNOWN"),
                status.get("reason", ""),
                detail.get("recommendation", ""),
            )
        )
    return sorted(out, key=lambda i: (i.status, i.name, i.id))


def gate(found: Iterable[Insight], acknowledged: Mapping[str, str]) -> tuple[list[Insight], list[Insight]]:
    """(blocking, acknowledged) insights: ERROR and WARNING ones, split by whether the config acknowledges them."""
    relevant = [i for i in found if i.status in BLOCKING]
    return [i for i in relevant if i.id not in acknowledged], [i for i in relevant if i.id in acknowledged]


def order(cfg: Any, current: str, target: str) -> list[str]:
    """The order an upgrade takes (and the plan enforces): what moves, one step after the other."""
    from components.config import ManagedGroup, SelfManagedGroup

    groups = cfg.node_groups
    managed = sorted(k for k, g in groups.items() if isinstance(g, ManagedGroup))
    self_managed = sorted(k for k, g in groups.items() if isinstance(g, SelfManagedGroup))
    steps = [
        f"control plane {current} -> {target} (cluster.version)",
        "managed add-ons to the catalog's versions for the target (vpc-cni, kube-proxy, coredns, ...)",
    ]
    if managed:
        steps.append(f"managed node groups, rolling to the target's release: {', '.join(managed)}")
    if self_managed:
        steps.append(f"self-managed groups, by instance refresh: {', '.join(self_managed)}")
    if cfg.karpenter_pools:
        steps.append(f"Karpenter pools, by drift to the target's image: {', '.join(sorted(cfg.karpenter_pools))}")
    steps.append("Helm add-ons stay on their pinned charts (their kubeVersion ranges admit the target)")
    return steps


def report(
    blocking: Sequence[Insight], accepted: Sequence[Insight], unknown: Sequence[Insight], reasons: Mapping[str, str]
) -> list[str]:
    lines = [
        f"BLOCKING {i.status} insight {i.id}: {i.name}: {i.reason}"
        + (f" (recommendation: {i.recommendation})" if i.recommendation else "")
        + " -- fix it, or list it in cluster.upgrade.acknowledgedInsights with a reason"
        for i in blocking
    ]
    lines += [f"acknowledged {i.status} insight {i.id}: {i.name} -- {reasons[i.id]}" for i in accepted]
    lines += [f"not evaluated by EKS (UNKNOWN) insight {i.id}: {i.name}: {i.reason}" for i in unknown]
    return lines


def rollback_steps(cluster: str, target: str) -> list[str]:
    """The manual rollback path: pulumi-aws 7.51 sends a lower cluster.version as a plain UpdateClusterVersion
    without EKS's rollbackConfig (terraform-provider-aws#48751), so the control plane is rolled back by hand."""
    return [
        f"aws eks update-cluster-version --name {cluster} --kubernetes-version {target} "
        "--rollback-config timeoutMinutes=720   (EKS: within 7 days of the upgrade)",
        f'set cluster.version: "{target}" in the stack file, then `pulumi refresh` (the control plane) and '
        "`pulumi up` (add-ons and node groups back to the catalogs' entries for the minor)",
    ]


def run(cfg: Any, eks: Any, target: str, current: str) -> int:
    """The whole gate against a cluster that runs ``current``; prints what it found. 0 go, 1 stop, 2 bad input."""
    rollback = is_rollback(current, target)
    if not rollback and (problem := step_problem(current, target)) is not None:
        print(f"upgrade gate: {problem}")
        return 0 if minor(target) == minor(current) else 2
    problems = catalog_problems(cfg, target)
    found = insights(eks, cfg.cluster.name, target, "ROLLBACK_READINESS" if rollback else "UPGRADE_READINESS")
    reasons = {a.id: a.reason for a in cfg.cluster.upgrade.acknowledged_insights}
    blocking, accepted = gate(found, reasons)
    for line in [*problems, *report(blocking, accepted, [i for i in found if i.status == "UNKNOWN"], reasons)]:
        print(line)
    if problems or blocking:
        print(
            f"upgrade gate: {cfg.cluster.name} may not move to {target} "
            f"({len(problems)} catalog gaps, {len(blocking)} unacknowledged insights)"
        )
        return 1
    if rollback:
        print(f"upgrade gate: {cfg.cluster.name} may roll back {current} -> {target}; by hand:")
        for i, step in enumerate(rollback_steps(cfg.cluster.name, target), start=1):
            print(f"  {i}. {step}")
        return 0
    print(f"upgrade gate: {cfg.cluster.name} may move {current} -> {target}; the order:")
    for i, step in enumerate(order(cfg, current, target), start=1):
        print(f"  {i}. {step}")
    return 0
