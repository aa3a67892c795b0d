"""Security groups for pods (workloads.securityGroups): a security group per entry, its rules as data, and the
``vpcresources.k8s.aws/v1beta1`` SecurityGroupPolicy that gives the selected pods a branch ENI with it.

EKS user guide, "Security groups for Pods": a pod matched by a SecurityGroupPolicy gets only the policy's groups
(in strict mode even for traffic between pods on one node), so the groups must admit the kubelet's probes from the
nodes and let the pods reach CoreDNS, which runs on nodes with the cluster (managed nodes) or node (self-managed)
security group. Those rules are always added; the rest is what the config says. Rules toward ``cluster`` are
mirrored on the cluster (and self-managed node) security group, whose inbound rules otherwise admit only
themselves; rules between workload groups are not: each group states who may reach it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import names
from components.config.tags import tagged
from components.config.workloads import CLUSTER_PEER, PodRule, PodSecurityGroup
from components.context import AwsContext

# (EC2 ip_protocol, from, to) of "every TCP port" and of DNS.
ALL_TCP = ("tcp", 0, 65535)
DNS = (("udp", 53, 53), ("tcp", 53, 53))
NODES = "nodes"  # the self-managed node security group, when there is one


@dataclass(frozen=True)
class SgRule:
    """One AWS security group rule: on ``target`` (a workload group key, ``cluster`` or ``nodes``), to or from
    ``peer`` (a CIDR, or a group key / ``cluster`` / ``nodes``)."""

    target: str
    direction: str  # ingress | egress
    protocol: str  # tcp | udp | icmp | -1
    from_port: int | None
    to_port: int | None
    peer: str
    peer_is_cidr: bool
    description: str

    @property
    def key(self) -> str:
        """A resource-name suffix that changes only with the rule itself (never with its position)."""
        ports = "all" if self.from_port is None else f"{self.from_port}-{self.to_port}"
        peer = self.peer.replace("/", "-").replace(".", "-") if self.peer_is_cidr else f"sg-{self.peer}"
        return f"{self.target}-{self.direction}-{self.protocol}-{ports}-{peer}"


def _ip_protocol(rule: PodRule) -> str:
    return "-1" if rule.protocol == "all" else rule.protocol


def _ports(rule: PodRule) -> tuple[int | None, int | None]:
    if rule.protocol == "icmp":
        return -1, -1  # every ICMP type and code
    if rule.protocol == "all":
        return None, None
    return rule.from_port, rule.last_port


def rules(key: str, group: PodSecurityGroup, node_groups: tuple[str, ...]) -> list[SgRule]:
    """Every AWS rule of workload group ``key``. ``node_groups``: the security groups nodes have (``cluster``, and
    ``nodes`` when self-managed groups exist)."""
    out: list[SgRule] = []
    probe_ports = [("tcp", p, p) for p in group.probe_ports] or [ALL_TCP]
    for peer in node_groups:
        what = "managed nodes" if peer == CLUSTER_PEER else "self-managed nodes"
        out += [
            SgRule(key, "ingress", proto, lo, hi, peer, False, f"kubelet probes from {what}")
            for proto, lo, hi in probe_ports
        ]
        for proto, lo, hi in DNS:
            out.append(SgRule(key, "egress", proto, lo, hi, peer, False, f"DNS to CoreDNS on {what}"))
            out.append(SgRule(peer, "ingress", proto, lo, hi, key, False, f"DNS from pods of security group {key}"))
    for direction in ("ingress", "egress"):
        for rule in getattr(group, direction):
            first, last = _ports(rule)
            proto = _ip_protocol(rule)
            out += [SgRule(key, direction, proto, first, last, cidr, True, rule.description) for cidr in rule.cidrs]
            for peer in rule.security_groups:
                out.append(SgRule(key, direction, proto, first, last, peer, False, rule.description))
                if direction == "egress" and peer == CLUSTER_PEER:
                    out += [
                        SgRule(
                            n,
                            "ingress",
                            proto,
                            first,
                            last,
                            key,
                            False,
                            f"{rule.description} (from pods of security group {key})",
                        )
                        for n in node_groups
                    ]
    unique = {r.key: r for r in out}
    return [unique[k] for k in sorted(unique)]


def policy(key: str, group: PodSecurityGroup, security_group_id: pulumi.Input[str]) -> dict:
    """The SecurityGroupPolicy (vpcresources.k8s.aws/v1beta1): the pods of the namespace its selectors match get
    a branch ENI with exactly this group."""
    spec: dict = {"securityGroups": {"groupIds": [security_group_id]}}
    if group.pod_selector is not None:
        spec["podSelector"] = group.pod_selector.manifest()
    if group.service_account_selector is not None:
        spec["serviceAccountSelector"] = group.service_account_selector.manifest()
    return {
        "apiVersion": "vpcresources.k8s.aws/v1beta1",
        "kind": "SecurityGroupPolicy",
        "metadata": {
            "name": key,
            "namespace": group.namespace,
            "labels": {"app.kubernetes.io/managed-by": "eks-platform"},
        },
        "spec": spec,
    }


@dataclass(frozen=True)
class PodSecurityGroupsArgs:
    groups: Mapping[str, PodSecurityGroup]
    cluster_name: str
    vpc_id: pulumi.Input[str]
    cluster_security_group_id: pulumi.Input[str]
    # The self-managed node security group (None without self-managed groups).
    node_security_group_id: pulumi.Input[str] | None
    k8s_provider: k8s.Provider
    ctx: AwsContext
    # The VPC CNI with branch ENIs on: policies before it would be applied to no ENI.
    depends_on: tuple[pulumi.Resource, ...] = ()
    # The namespaces the platform creates, by name: each policy waits for its own.
    namespaces: Mapping[str, pulumi.Resource] = field(default_factory=dict)


class PodSecurityGroups(pulumi.ComponentResource):
    """Every workload security group at once (rules may reference each other), then each one's policy."""

    security_group_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: PodSecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:workloads:PodSecurityGroups", name, None, opts)
        self._name, self._args = name, args
        groups = {key: self._security_group(key) for key in sorted(args.groups)}
        ids: dict[str, pulumi.Input[str]] = {
            **{k: sg.id for k, sg in groups.items()},
            CLUSTER_PEER: args.cluster_security_group_id,
        }
        node_groups: tuple[str, ...] = (CLUSTER_PEER,)
        if args.node_security_group_id is not None:
            ids[NODES] = args.node_security_group_id
            node_groups += (NODES,)
        for key, group in sorted(args.groups.items()):
            for rule in rules(key, group, node_groups):
                self._rule(rule, ids)
            manifest = policy(key, group, groups[key].id)
            k8s.apiextensions.CustomResource(
                f"{name}-{key}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=args.k8s_provider,
                    depends_on=[*args.depends_on, *([ns] if (ns := args.namespaces.get(group.namespace)) else [])],
                ),
            )
        self.security_group_ids = {k: sg.id for k, sg in groups.items()}
        self.register_outputs({"securityGroupIds": self.security_group_ids})

    def _security_group(self, key: str) -> aws.ec2.SecurityGroup:
        a = self._args
        return aws.ec2.SecurityGroup(
            f"{self._name}-{key}",
            **names.autoname(names.SECURITY_GROUP, f"{self._name}-{key}", a.vpc_id),
            vpc_id=a.vpc_id,
            # ForceNew: nothing here changes unless the key does.
            description=f"Pods of workload security group {key} (EKS cluster {a.cluster_name})",
            # Rules are separate resources (aws.vpc.*Rule): inline rules would fight them.
            tags=tagged(a.ctx.tags, f"{self._name}-{key}", **{"eks-platform/pod-security-group": key}),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _rule(self, rule: SgRule, ids: Mapping[str, pulumi.Input[str]]) -> None:
        ports = {} if rule.from_port is None else {"from_port": rule.from_port, "to_port": rule.to_port}
        peer = {"cidr_ipv4": rule.peer} if rule.peer_is_cidr else {"referenced_security_group_id": ids[rule.peer]}
        cls = aws.vpc.SecurityGroupIngressRule if rule.direction == "ingress" else aws.vpc.SecurityGroupEgressRule
        cls(
            f"{self._name}-{rule.key}",
            security_group_id=ids[rule.target],
            ip_protocol=rule.protocol,
            description=rule.description,
            opts=pulumi.ResourceOptions(parent=self),
            **ports,
            **peer,
        )
