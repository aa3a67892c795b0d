"""One taint/label model, rendered everywhere it matters (pure functions, golden-file tested).

A node group's labels and taints are declared once (``NodeClass``) and rendered to:

1. the node itself — EKS API labels/taints for managed groups; for self-managed groups
   AL2023 nodeadm ``NodeConfig`` kubelet flags in MIME multipart user data, or
   Bottlerocket TOML ``settings.kubernetes.node-labels`` / ``node-taints``;
2. cluster-autoscaler node-template ASG tags, so groups can scale from zero;
3. (in the add-ons) tolerations and nodeSelectors for workloads that must run there.

Everything is sorted so the same config renders byte-identical output.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from components.config import ManagedGroup, NodeClass, SelfManagedGroup, Taint
from components.config.nodetags import node_labels

MIME_BOUNDARY = "//eks-platform-user-data//"

EKS_TAINT_EFFECT = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


@dataclass(frozen=True)
class NodeCluster:
    """What a node needs to know to join the cluster."""

    name: str
    endpoint: str
    certificate_authority: str  # base64 PEM, as EKS returns it
    service_cidr: str

    @property
    def dns_ip(self) -> str:
        """The cluster DNS service IP: the tenth address of the service CIDR (EKS convention)."""
        return str(ipaddress.IPv4Network(self.service_cidr)[10])


# ---------------------------------------------------------------------------------------
# labels and taints
# ---------------------------------------------------------------------------------------


def taint_string(t: Taint) -> str:
    return f"{t.key}={t.value}:{t.effect}" if t.value else f"{t.key}:{t.effect}"


def kubelet_flags(group: NodeClass) -> list[str]:
    flags = ["--node-labels=" + ",".join(f"{k}={v}" for k, v in node_labels(group).items())]
    if group.taints:
        flags.append("--register-with-taints=" + ",".join(taint_string(t) for t in group.taints))
    return flags


def eks_taints(group: NodeClass) -> list[dict[str, str]]:
    """Taints in the EKS API form (NO_SCHEDULE, …) for managed node groups."""
    return [{"key": t.key, "value": t.value, "effect": EKS_TAINT_EFFECT[t.effect]} for t in group.taints]


# ---------------------------------------------------------------------------------------
# AMIs
# ---------------------------------------------------------------------------------------
def managed_ami_type(os_: str, architecture: str) -> str:
    if os_ == "bottlerocket":
        return "BOTTLEROCKET_ARM_64" if architecture == "arm64" else "BOTTLEROCKET_x86_64"
    return "AL2023_ARM_64_STANDARD" if architecture == "arm64" else "AL2023_x86_64_STANDARD"


def root_device(os_: str) -> str:
    """The volume to size: AL2023's root, or Bottlerocket's data volume (its OS volume stays small)."""
    return "/dev/xvdb" if os_ == "bottlerocket" else "/dev/xvda"


# ---------------------------------------------------------------------------------------
# user data
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EniCapacity:
    """What DescribeInstanceTypes says about an instance type's networking (aws.ec2.get_instance_type)."""

    instance_type: str
    enis: int
    ips_per_eni: int
    vcpus: int
    nitro: bool


# EKS's recommended ceilings (amazon-eks-ami max-pods-calculator.sh): 110 pods up to 30 vCPUs, 250 above.
MAX_PODS_CEILING_LOW_CPU, MAX_PODS_CEILING_HIGH_CPU = 110, 250
IPS_PER_PREFIX = 16  # a /28 IPv4 prefix


def max_pods(capacity: EniCapacity, *, custom_networking: bool, prefix_delegation: bool) -> int:
    """Pods a node can address, as amazon-eks-ami's max-pods-calculator.sh computes it: with custom networking the
    primary ENI carries no pods (ENIs - 1); each ENI gives (IPs - 1) addresses, or (IPs - 1) /28 prefixes of 16 with
    prefix delegation (Nitro only); + 2 for host-network pods; capped at 110 (<= 30 vCPUs) or 250."""
    enis = capacity.enis - 1 if custom_networking else capacity.enis
    per_eni = capacity.ips_per_eni - 1
    if prefix_delegation and capacity.nitro:
        per_eni *= IPS_PER_PREFIX
    ceiling = MAX_PODS_CEILING_HIGH_CPU if capacity.vcpus > 30 else MAX_PODS_CEILING_LOW_CPU
    return min(ceiling, enis * per_eni + 2)


def group_max_pods(capacities: Sequence[EniCapacity], *, custom_networking: bool, prefix_delegation: bool) -> int:
    """One launch template serves every type of a mixed group: the smallest type decides."""
    return min(
        max_pods(c, custom_networking=custom_networking, prefix_delegation=prefix_delegation) for c in capacities
    )


def kubelet_config(group: NodeClass, pods: int | None = None) -> dict:
    """The KubeletConfiguration fields the class sets (nodeadm ``spec.kubelet.config``; the EC2NodeClass ``kubelet``
    block uses the same names): maxPods (the group's, else ``pods``), kubeReserved, systemReserved, evictionHard."""
    k = group.kubelet
    out: dict = {}
    if (limit := group.max_pods or pods) is not None:
        out["maxPods"] = limit
    if reserved := k.kube_reserved.as_kubelet():
        out["kubeReserved"] = reserved
    if reserved := k.system_reserved.as_kubelet():
        out["systemReserved"] = reserved
    if k.eviction_hard:
        out["evictionHard"] = dict(sorted(k.eviction_hard.items()))
    return out


def node_config(cluster: NodeCluster, group: NodeClass, pods: int | None = None) -> dict:
    """The nodeadm NodeConfig (node.eks.aws/v1alpha1) for an AL2023 node of ``group``; ``pods``: the max pods the
    platform computed (custom networking), unless the group sets its own."""
    kubelet: dict = {"flags": kubelet_flags(group)}
    if config := kubelet_config(group, pods):
        kubelet["config"] = config
    return {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {
            "cluster": {
                "name": cluster.name,
                "apiServerEndpoint": cluster.endpoint,
                "certificateAuthority": cluster.certificate_authority,
                "cidr": cluster.service_cidr,
            },
            "kubelet": kubelet,
        },
    }


def al2023_user_data(cluster: NodeCluster, group: NodeClass, pods: int | None = None) -> str:
    """MIME multipart user data with one ``application/node.eks.aws`` part (nodeadm reads it)."""
    return _mime_node_config(node_config(cluster, group, pods))


def _mime_node_config(config: dict) -> str:
    document = yaml.safe_dump(config, sort_keys=True, default_flow_style=False)
    return (
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{MIME_BOUNDARY}"\n'
        "\n"
        f"--{MIME_BOUNDARY}\n"
        "Content-Type: application/node.eks.aws\n"
        "\n"
        "---\n"
        f"{document}"
        "\n"
        f"--{MIME_BOUNDARY}--\n"
    )


def _toml_string(value: str) -> str:
    # A TOML basic string: JSON's escaping of ASCII text is valid TOML.
    return json.dumps(value, ensure_ascii=True)


def _toml_key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() else _toml_string(key)


def bottlerocket_user_data(cluster: NodeCluster, group: NodeClass, pods: int | None = None) -> str:
    """Bottlerocket settings TOML: cluster join, labels, taints, hardened host containers."""
    lines = [
        "[settings.kubernetes]",
        f"api-server = {_toml_string(cluster.endpoint)}",
        f"cluster-certificate = {_toml_string(cluster.certificate_authority)}",
        f"cluster-dns-ip = {_toml_string(cluster.dns_ip)}",
        f"cluster-name = {_toml_string(cluster.name)}",
    ]
    if (limit := group.max_pods or pods) is not None:
        lines.append(f"max-pods = {limit}")
    lines += _bottlerocket_kubelet_tables(group)
    lines += ["", "[settings.kubernetes.node-labels]"]
    lines += [f"{_toml_key(k)} = {_toml_string(v)}" for k, v in node_labels(group).items()]
    if group.taints:
        lines += ["", "[settings.kubernetes.node-taints]"]
        by_key: dict[str, list[str]] = {}
        for t in group.taints:
            by_key.setdefault(t.key, []).append(f"{t.value}:{t.effect}")
        for key in sorted(by_key):
            values = by_key[key]
            rendered = _toml_string(values[0]) if len(values) == 1 else "[" + ", ".join(map(_toml_string, values)) + "]"
            lines.append(f"{_toml_key(key)} = {rendered}")
    lines += [
        "",
        "[settings.host-containers.admin]",
        "enabled = false",
        "",
        "[settings.host-containers.control]",
        "enabled = true",
    ]
    return "\n".join(lines) + "\n"


def _bottlerocket_kubelet_tables(group: NodeClass) -> list[str]:
    """[settings.kubernetes.kube-reserved], system-reserved, eviction-hard (Bottlerocket settings reference)."""
    k = group.kubelet
    lines: list[str] = []
    for table, values in (
        ("kube-reserved", k.kube_reserved.as_kubelet()),
        ("system-reserved", k.system_reserved.as_kubelet()),
        ("eviction-hard", dict(sorted(k.eviction_hard.items()))),
    ):
        if values:
            lines += ["", f"[settings.kubernetes.{table}]"]
            lines += [f"{_toml_key(key)} = {_toml_string(value)}" for key, value in values.items()]
    return lines


def managed_user_data(group: NodeClass) -> str | None:
    """What a managed group's launch template adds to EKS's own user data: the kubelet settings only (EKS joins
    the node, sets labels and taints). AL2023: a NodeConfig part with ``spec.kubelet.config`` (EKS's part comes
    after it and wins for maxPods, which config refuses there); Bottlerocket: TOML that EKS merges under ours.
    None without kubelet settings: the template then carries no user data at all."""
    if not group.kubelet.configured and group.max_pods is None:
        return None
    if group.os == "bottlerocket":
        lines = ["[settings.kubernetes]"]
        if group.max_pods is not None:
            lines.append(f"max-pods = {group.max_pods}")
        return "\n".join(lines + _bottlerocket_kubelet_tables(group)) + "\n"
    return _mime_node_config(
        {
            "apiVersion": "node.eks.aws/v1alpha1",
            "kind": "NodeConfig",
            "spec": {"kubelet": {"config": kubelet_config(group)}},
        }
    )


def user_data(cluster: NodeCluster, group: NodeClass, pods: int | None = None) -> str:
    render = bottlerocket_user_data if group.os == "bottlerocket" else al2023_user_data
    return render(cluster, group, pods)


# ---------------------------------------------------------------------------------------
# self-managed instances distribution
# ---------------------------------------------------------------------------------------
def instances_distribution(group: SelfManagedGroup) -> dict:
    return {
        "on_demand_base_capacity": group.capacity.on_demand_base_capacity,
        "on_demand_percentage_above_base_capacity": group.capacity.on_demand_percentage_above_base,
        "on_demand_allocation_strategy": "prioritized",
        "spot_allocation_strategy": group.capacity.spot_allocation_strategy,
    }


def node_repair(group: ManagedGroup) -> dict[str, Any]:
    """A managed group's nodeRepairConfig (the provider's node_repair_config, pulumi-aws 7.51): enabled, and the
    thresholds the config set (EKS's defaults for the others). A self-managed group has none: its ASG's EC2 health
    checks replace an impaired instance instead."""
    repair = group.repair
    out: dict[str, Any] = {"enabled": repair.enabled}
    for key, value in (
        ("max_unhealthy_node_threshold_count", repair.max_unhealthy_count),
        ("max_unhealthy_node_threshold_percentage", repair.max_unhealthy_percentage),
        ("max_parallel_nodes_repaired_count", repair.max_parallel_count),
        ("max_parallel_nodes_repaired_percentage", repair.max_parallel_percentage),
    ):
        if value is not None:
            out[key] = value
    return out


IMDS_REASON = "eks-platform/imds-hop-limit-reason"  # the guardrail imds-hop-limit reads it


def imds_reason(group: NodeClass) -> dict[str, str]:
    """The marker a node class with hop limit 2 carries (a launch template's tag, an EC2NodeClass's annotation): the
    reason its config gave, so the guardrail tells an opt-in from a regression."""
    return {IMDS_REASON: group.imds.reason} if group.imds.hop_limit > 1 and group.imds.reason else {}
