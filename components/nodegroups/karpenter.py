"""Karpenter node classes: the same node-class model rendered as a ``karpenter.k8s.aws/v1`` EC2NodeClass and a
``karpenter.sh/v1`` NodePool per karpenter group, and what the controller needs around them: a node role with an
``EC2_LINUX`` access entry and its own interruption queue.

Facts (aws/karpenter-provider-aws v1.14.1: ``pkg/apis/crds``, the getting-started CloudFormation template):
* EC2NodeClass ``spec``: ``role`` (the node role's *name*), ``amiSelectorTerms`` (an ``alias`` family@version:
  pinned, since ``@latest`` drifts every node on each release), ``subnetSelectorTerms``/``securityGroupSelectorTerms``
  (by tag or id), ``metadataOptions`` (httpTokens required), ``blockDeviceMappings`` (``volumeSize`` as ``<n>Gi``),
  ``kubelet`` (maxPods, kubeReserved, systemReserved, evictionHard), ``tags`` (no ``kubernetes.io/cluster/``,
  ``karpenter.sh/*`` or ``eks:eks-cluster-name`` keys: Karpenter sets those).
* NodePool ``spec.template``: labels, requirements (``karpenter.sh/capacity-type``, ``kubernetes.io/arch``,
  ``karpenter.k8s.aws/instance-{family,category,generation}``, ``node.kubernetes.io/instance-type``), taints,
  ``nodeClassRef {group, kind, name}``, ``expireAfter``; ``spec.limits``; ``spec.disruption``.
* The interruption queue: SSE, 300 s retention, EventBridge rules for AWS Health events, spot interruption warnings,
  rebalance recommendations, instance state changes and capacity-reservation interruption warnings. One consumer per
  queue: the node termination handler keeps its own for self-managed groups (it acts only on instances tagged for it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components import names
from components.config import nodeimages
from components.config.nodegroups import KarpenterGroup
from components.config.nodetags import node_class_tags, node_labels
from components.context import AwsContext
from components.nodegroups.iam import NodeRole, NodeRoleArgs
from components.nodegroups.model import kubelet_config, root_device
from components.nodegroups.termination import TerminationQueue, TerminationQueueArgs

DISCOVERY_TAG = "karpenter.sh/discovery"
NODEPOOL_API = "karpenter.sh/v1"
NODECLASS_API = "karpenter.k8s.aws/v1"
CAPACITY_TYPES = {"spot": ["spot"], "onDemand": ["on-demand"], "spotAndOnDemand": ["on-demand", "spot"]}


def interruption_queue_name(cluster_name: str) -> str:
    return names.explicit(names.QUEUE, f"{cluster_name}-karpenter")


def interruption_patterns() -> dict[str, dict]:
    """EventBridge patterns of the interruption queue, keyed by a short rule suffix."""
    return {
        "health": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
        "spot": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
        "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
        "state": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
        "reservation": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Capacity Reservation Instance Interruption Warning"],
        },
    }


def ami_alias(kubernetes_version: str, os_: str, architecture: str) -> str:
    """The EC2NodeClass AMI alias of the node-image catalog's release: al2023@v<date>, bottlerocket@v<version>."""
    release = nodeimages.release(kubernetes_version, os_, architecture)
    if release is None:
        raise ValueError(f"no {os_} {architecture} image for Kubernetes {kubernetes_version} in the catalog")
    if os_ == "bottlerocket":
        return f"bottlerocket@v{release.split('-')[0]}"
    return f"al2023@v{release.rsplit('-', 1)[1]}"


def requirements(group: KarpenterGroup) -> list[dict[str, Any]]:
    """The NodePool's scheduling requirements: architecture, OS, purchase option and the instance selector."""
    out: list[dict[str, Any]] = [
        {
            "key": "kubernetes.io/arch",
            "operator": "In",
            "values": ["arm64" if group.architecture == "arm64" else "amd64"],
        },
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": CAPACITY_TYPES[group.capacity.type]},
    ]
    if group.instance_types:
        out.append(
            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": sorted(group.instance_types)}
        )
    elif group.instance_families:
        out.append(
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": sorted(group.instance_families)}
        )
    else:
        out.append(
            {
                "key": "karpenter.k8s.aws/instance-category",
                "operator": "In",
                "values": sorted(group.instance_categories),
            }
        )
        if group.min_generation is not None:
            out.append(
                {
                    "key": "karpenter.k8s.aws/instance-generation",
                    "operator": "Gt",
                    "values": [str(group.min_generation - 1)],
                }
            )
    return out


def node_pool(group: KarpenterGroup) -> dict[str, Any]:
    """The NodePool's ``spec`` (its name is the group's)."""
    spec: dict[str, Any] = {
        "template": {
            "metadata": {"labels": node_labels(group)},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": group.name},
                "requirements": requirements(group),
                "expireAfter": group.disruption.expire_after,
            },
        },
        "disruption": {
            "consolidationPolicy": group.disruption.consolidation_policy,
            "consolidateAfter": group.disruption.consolidate_after,
        },
    }
    if group.taints:
        spec["template"]["spec"]["taints"] = [
            {"key": t.key, "effect": t.effect, **({"value": t.value} if t.value else {})} for t in group.taints
        ]
    limits = {k: v for k, v in (("cpu", group.limits.cpu), ("memory", group.limits.memory)) if v is not None}
    if limits:
        spec["limits"] = limits
    return spec


def selector_terms(cluster_name: str, ids: Sequence[str] = ()) -> list[dict[str, Any]]:
    """By the discovery tag, or (a brought VPC, whose subnets the program does not tag) by id."""
    return [{"id": i} for i in ids] if ids else [{"tags": {DISCOVERY_TAG: cluster_name}}]


def ec2_node_class(
    group: KarpenterGroup,
    *,
    cluster_name: str,
    kubernetes_version: str,
    role_name: str,
    tags: Mapping[str, str],
    subnet_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """The EC2NodeClass's ``spec``: image, role, discovery, IMDSv2, an encrypted gp3 volume, kubelet settings."""
    v = group.root_volume
    spec: dict[str, Any] = {
        "role": role_name,
        "amiSelectorTerms": [{"alias": ami_alias(kubernetes_version, group.os, group.architecture)}],
        "subnetSelectorTerms": selector_terms(cluster_name, subnet_ids),
        "securityGroupSelectorTerms": selector_terms(cluster_name),
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": group.imds.hop_limit,
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": root_device(group.os),
                "ebs": {
                    "volumeSize": f"{v.size_gib}Gi",
                    "volumeType": "gp3",
                    "iops": v.iops,
                    "throughput": v.throughput,
                    "encrypted": True,
                    "deleteOnTermination": True,
                },
            }
        ],
        "tags": node_class_tags(tags, group.name),
    }
    if kubelet := kubelet_config(group):
        spec["kubelet"] = kubelet
    return spec


@dataclass(frozen=True)
class KarpenterNodesArgs:
    cluster_name: str
    cluster: pulumi.Input[str]  # the cluster resource's name output
    ctx: AwsContext
    depends_on: Sequence[pulumi.Resource] = ()


class KarpenterNodes(pulumi.ComponentResource):
    """What Karpenter's nodes and interruption handling need in AWS: the node role (EC2_LINUX access entry; Karpenter
    makes the instance profiles itself) and the interruption queue with its EventBridge rules."""

    TYPE = "eks-platform:nodegroups:KarpenterNodes"

    role: NodeRole
    queue: TerminationQueue

    def __init__(self, name: str, args: KarpenterNodesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        c = args.cluster_name
        self.role = NodeRole(
            f"{c}-karpenter-nodes",
            NodeRoleArgs(
                cluster_name=args.cluster,
                ctx=args.ctx,
                self_managed=True,
                instance_profile=False,
                depends_on=list(args.depends_on),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.queue = TerminationQueue(
            f"{c}-karpenter",
            TerminationQueueArgs(
                cluster_name=c,
                asg_names=(),
                ctx=args.ctx,
                queue_name=interruption_queue_name(c),
                patterns=interruption_patterns(),
                consumer="Karpenter",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"nodeRoleArn": self.role.role_arn, "queueUrl": self.queue.queue_url})
