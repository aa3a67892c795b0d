"""The tags and labels a node class carries, and how many: cluster-autoscaler's discovery and node-template tags,
the group label, the tags an Auto Scaling group or a Karpenter instance ends up with.

Config checks the tag budgets (AWS allows 50 per resource) with the same functions the node groups render their
tags with, so the count the check makes is the count AWS will see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from components.config.kube import quantity_value
from components.config.nodegroups import AsgGroup, NodeClass
from components.config.tags import PLATFORM_TAGS, identity

# EKS tags the Auto Scaling group of a managed node group itself: eks:cluster-name, eks:nodegroup-name,
# k8s.io/cluster-autoscaler/enabled, k8s.io/cluster-autoscaler/<cluster>, kubernetes.io/cluster/<cluster>
# (EKS User Guide, "Managed node groups": "tagged for auto-discovery by the Cluster Autoscaler").
EKS_MANAGED_ASG_TAGS = 5


GROUP_LABEL = "eks-platform/node-group"


CA_PREFIX = "k8s.io/cluster-autoscaler"


NTH_MANAGED_TAG = "aws-node-termination-handler/managed"


def node_labels(group: NodeClass) -> dict[str, str]:
    """The group's labels plus ``eks-platform/node-group=<name>``, sorted."""
    labels = {GROUP_LABEL: group.name, **group.labels}
    return dict(sorted(labels.items()))


@dataclass(frozen=True)
class NodeCapacity:
    """What DescribeInstanceTypes says a node of one type has (aws.ec2.get_instance_type)."""

    vcpus: int
    memory_mib: int


MIB = 1 << 20


def _memory_eviction_mib(group: NodeClass, memory_mib: int) -> int:
    threshold = group.kubelet.eviction_hard.get("memory.available")
    if threshold is None:
        return 0
    if threshold.endswith("%"):
        return int(memory_mib * float(threshold[:-1]) / 100)
    return int(quantity_value(threshold) / MIB)


def withheld(group: NodeClass, memory_mib: int) -> tuple[int, int]:
    """(millicores, MiB) the kubelet keeps from pods on a node with ``memory_mib``: kube + system reserved, and the
    memory eviction threshold (allocatable = capacity - reserved - hard eviction, kubelet "Reserve Compute
    Resources")."""
    k = group.kubelet
    cpu = sum(int(quantity_value(r.cpu) * 1000) for r in (k.kube_reserved, k.system_reserved) if r.cpu)
    memory = sum(int(quantity_value(r.memory) / MIB) for r in (k.kube_reserved, k.system_reserved) if r.memory)
    return cpu, memory + _memory_eviction_mib(group, memory_mib)


def allocatable(group: NodeClass, capacities: Sequence[NodeCapacity]) -> dict[str, str]:
    """cpu and memory a node of the group offers pods, for cluster-autoscaler's node template: the smallest type
    decides (over-reporting would scale up nodes the pod does not fit on)."""
    cpu = min(c.vcpus * 1000 - withheld(group, c.memory_mib)[0] for c in capacities)
    memory = min(c.memory_mib - withheld(group, c.memory_mib)[1] for c in capacities)
    return {"cpu": f"{cpu}m", "memory": f"{memory}Mi"}


def reservation_problems(group: NodeClass, capacities: Mapping[str, NodeCapacity]) -> list[str]:
    """Why the reservations leave a type of the group nothing for pods (a message per type), or []."""
    out = []
    for itype, c in sorted(capacities.items()):
        cpu, memory = withheld(group, c.memory_mib)
        if cpu >= c.vcpus * 1000:
            out.append(f"kubelet reservations keep {cpu}m CPU; {itype} has {c.vcpus * 1000}m")
        if memory >= c.memory_mib:
            out.append(f"kubelet reservations and memory eviction keep {memory}Mi; {itype} has {c.memory_mib}Mi")
    return out


def autoscaler_tags(group: NodeClass, cluster_name: str, capacities: Sequence[NodeCapacity] = ()) -> dict[str, str]:
    """Discovery and node-template tags so cluster-autoscaler can find the group and scale it from zero.

    Taint values carry the ``:<Effect>`` suffix cluster-autoscaler requires; without it the
    template taint is ignored and pods that do not tolerate it get scheduled on paper. With kubelet
    reservations (and the capacities of the group's types) the node template's cpu and memory are what pods
    get (``node-template/resources/<name>``, cluster-autoscaler's AWS provider README).
    """
    tags = {f"{CA_PREFIX}/enabled": "true", f"{CA_PREFIX}/{cluster_name}": "owned"}
    for key, value in node_labels(group).items():
        tags[f"{CA_PREFIX}/node-template/label/{key}"] = value
    for t in group.taints:
        tags[f"{CA_PREFIX}/node-template/taint/{t.key}"] = f"{t.value}:{t.effect}"
    if capacities and group.kubelet.reserves:
        for resource, value in allocatable(group, capacities).items():
            tags[f"{CA_PREFIX}/node-template/resources/{resource}"] = value
    return dict(sorted(tags.items()))


def resource_tag_count(group: NodeClass) -> int:
    """How many node-template resource tags the group gets (cpu and memory, with reservations)."""
    return 2 if group.kubelet.reserves else 0


def node_template_tags(group: NodeClass, capacities: Sequence[NodeCapacity] = ()) -> dict[str, str]:
    """Only the node-template part (what managed groups need written onto their ASG)."""
    return {k: v for k, v in autoscaler_tags(group, "", capacities).items() if "/node-template/" in k}


def identity_tags(base: Mapping[str, str], name: str, group: NodeClass) -> dict[str, str]:
    """The tags a launch template writes on instances, volumes and ENIs: only ones that never change.

    Launch-template data is versioned: a new tag there is a new version, which rolls every node of
    the group. Stack-wide tags (environment, cost-center...) reach instances through the Auto
    Scaling group instead (propagated at launch), so editing them rolls nothing.
    """
    return identity(base, name, **{GROUP_LABEL: group.name})


def asg_tags(
    group: NodeClass,
    cluster_name: str,
    base: Mapping[str, str],
    name: str,
    capacities: Sequence[NodeCapacity] = (),
) -> list[dict]:
    """Every tag of a self-managed ASG with whether it propagates to instances.

    Propagated: Name, the cluster ownership tag, the termination handler's managed tag (it
    only drains instances carrying it) and the user's tags. Not propagated: the
    cluster-autoscaler tags, which only the ASG needs.
    """
    propagated = dict(base)
    propagated.update({"Name": name, f"kubernetes.io/cluster/{cluster_name}": "owned", NTH_MANAGED_TAG: "true"})
    tags = [{"key": k, "value": v, "propagate_at_launch": True} for k, v in sorted(propagated.items())]
    tags += [
        {"key": k, "value": v, "propagate_at_launch": False}
        for k, v in autoscaler_tags(group, cluster_name, capacities).items()
    ]
    return sorted(tags, key=lambda t: t["key"])


def tag_count(group: AsgGroup, cluster_name: str, base: Mapping[str, str]) -> int:
    """How many tags the group's Auto Scaling group carries (AWS allows 50)."""
    if group.managed:
        return (
            EKS_MANAGED_ASG_TAGS
            + len(node_template_tags(group))
            + resource_tag_count(group)
            + len(propagated_stack_tags(base))
        )
    return len(asg_tags(group, cluster_name, base, f"{cluster_name}-{group.name}")) + resource_tag_count(group)


def propagated_stack_tags(base: Mapping[str, str]) -> dict[str, str]:
    """Stack-wide tags a managed group's ASG propagates to its instances (the launch template has only identity)."""
    return {k: v for k, v in base.items() if k not in PLATFORM_TAGS}


# Tags Karpenter itself puts on every instance it launches, besides the EC2NodeClass's spec.tags (v1.14.1):
# kubernetes.io/cluster/<cluster>, karpenter.sh/nodepool, eks:eks-cluster-name and karpenter.k8s.aws/ec2nodeclass
# at launch (pkg/utils/utils.go GetTags), Name and karpenter.sh/nodeclaim once the node registers
# (pkg/controllers/nodeclaim/tagging). EC2 allows 50 per instance: past that the launch itself fails.
KARPENTER_INSTANCE_TAGS = 6


def node_class_tags(tags: Mapping[str, str], group_name: str) -> dict[str, str]:
    """The EC2NodeClass's spec.tags: the stack's tags and the node-group tag. Karpenter refuses kubernetes.io/cluster/*,
    karpenter.sh/* and eks:* keys here (it sets them itself; the config refuses them as stack tags)."""
    return {**dict(sorted(tags.items())), GROUP_LABEL: group_name}


def instance_tag_count(tags: Mapping[str, str]) -> int:
    """How many tags an instance of a pool carries, given the stack's tags: the node class's and Karpenter's own."""
    return len(node_class_tags(tags, "")) + KARPENTER_INSTANCE_TAGS
