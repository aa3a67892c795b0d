"""The security group of self-managed nodes and its rules to and from the cluster.

Managed node groups use the EKS cluster security group (EKS attaches it); self-managed
nodes get this group. The rules let the two talk as one cluster: the control plane
reaches kubelets and webhooks, nodes reach the API, pods resolve DNS wherever CoreDNS
runs, and pods talk to pods across both kinds of node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import names
from components.config import IngressRule
from components.config.tags import tagged
from components.context import AwsContext


@dataclass(frozen=True)
class Rule:
    key: str
    target: str  # "nodes" | "cluster": the group the rule is added to
    peer: str  # "nodes" | "cluster" | "anywhere"
    direction: str  # ingress | egress
    protocol: str  # tcp | udp | -1
    from_port: int
    to_port: int
    description: str


def node_rules() -> list[Rule]:
    """The rules between the self-managed node group SG ("nodes") and the cluster SG ("cluster").

    All traffic both ways, as the cluster security group allows among managed nodes and the control
    plane: pods talk to pods (any port, TCP and UDP) whatever kind of node they run on, the control
    plane reaches kubelets and webhooks, nodes reach the API and CoreDNS wherever it runs.
    """
    return [
        Rule(
            "nodes-from-nodes",
            "nodes",
            "nodes",
            "ingress",
            "-1",
            0,
            0,
            "self-managed node to self-managed node: pods, CoreDNS, kubelet",
        ),
        Rule(
            "nodes-from-cluster",
            "nodes",
            "cluster",
            "ingress",
            "-1",
            0,
            0,
            "control plane and managed nodes to self-managed nodes: kubelet, webhooks, pods",
        ),
        Rule(
            "cluster-from-nodes",
            "cluster",
            "nodes",
            "ingress",
            "-1",
            0,
            0,
            "self-managed nodes to the control plane and managed nodes: API, CoreDNS, pods",
        ),
        Rule(
            "nodes-egress",
            "nodes",
            "anywhere",
            "egress",
            "-1",
            0,
            0,
            "nodes to AWS APIs, registries and the internet (through NAT)",
        ),
    ]


@dataclass(frozen=True)
class NodeSecurityGroupArgs:
    vpc_id: pulumi.Input[str]
    cluster_name: str
    cluster_security_group_id: pulumi.Input[str]
    ctx: AwsContext
    # Karpenter's EC2NodeClasses select it by karpenter.sh/discovery
    karpenter_discovery: bool = False


class NodeSecurityGroup(pulumi.ComponentResource):
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NodeSecurityGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:nodegroups:NodeSecurityGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        sg = aws.ec2.SecurityGroup(
            name,
            **names.autoname(names.SECURITY_GROUP, name, args.vpc_id),
            vpc_id=args.vpc_id,
            description=f"Self-managed nodes of EKS cluster {args.cluster_name}",
            tags=tagged(
                args.ctx.tags,
                name,
                **{f"kubernetes.io/cluster/{args.cluster_name}": "owned"},
                **({"karpenter.sh/discovery": args.cluster_name} if args.karpenter_discovery else {}),
            ),
            opts=child,
        )
        groups = {"nodes": sg.id, "cluster": args.cluster_security_group_id}
        for rule in node_rules():
            ports = {} if rule.protocol == "-1" else {"from_port": rule.from_port, "to_port": rule.to_port}
            if rule.direction == "egress":
                aws.vpc.SecurityGroupEgressRule(
                    f"{name}-{rule.key}",
                    security_group_id=groups[rule.target],
                    ip_protocol=rule.protocol,
                    cidr_ipv4="0.0.0.0/0",
                    description=rule.description,
                    opts=child,
                    **ports,
                )
            else:
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-{rule.key}",
                    security_group_id=groups[rule.target],
                    ip_protocol=rule.protocol,
                    referenced_security_group_id=groups[rule.peer],
                    description=rule.description,
                    opts=child,
                    **ports,
                )
        self.security_group_id = sg.id
        self.register_outputs({"securityGroupId": self.security_group_id})


def extra_security_group(
    name: str,
    parent: pulumi.Resource,
    vpc_id: pulumi.Input[str],
    rules: Sequence[IngressRule],
    ctx: AwsContext,
) -> aws.ec2.SecurityGroup:
    """A group's own security group for its configured extra ingress (edge nodes, NodePorts)."""
    child = pulumi.ResourceOptions(parent=parent)
    sg = aws.ec2.SecurityGroup(
        f"{name}-extra",
        **names.autoname(names.SECURITY_GROUP, f"{name}-extra", vpc_id),
        vpc_id=vpc_id,
        description=f"Extra ingress of node group {name}",
        tags=tagged(ctx.tags, f"{name}-extra"),
        opts=child,
    )
    for rule in rules:
        for cidr in rule.cidrs:
            key = f"{rule.protocol}-{rule.from_port}-{rule.last_port}-{cidr.replace('/', '-')}"
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-extra-{key}",
                security_group_id=sg.id,
                ip_protocol=rule.protocol,
                from_port=rule.from_port,
                to_port=rule.last_port,
                cidr_ipv4=cidr,
                description=rule.description,
                opts=child,
            )
    return sg
