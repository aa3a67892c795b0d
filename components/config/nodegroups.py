"""``eks-platform:nodeGroups``: node classes keyed by name, one model per ``kind``.

Every kind shares the fields of a node class (OS, architecture, labels, taints, volume, IMDS,
subnets); each adds what only it can honour, and a field of another kind is refused with
"does not apply to kind ...". The group's name (the map key) is set after validation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from components.config.base import (
    LABEL_KEY_SCHEMA,
    POLICY_ARN,
    AmiId,
    Description,
    LabelKey,
    LabelValue,
    Model,
    Problems,
    checked,
    cidrs,
    integer,
    items,
    label_key_problem,
    matches,
    problem,
    show,
    text,
)
from components.config.instances import INSTANCE_TYPES, architecture, instance_type_problem
from components.config.kube import Namespace, Quantity, quantity

GROUP_LABEL = "eks-platform/node-group"  # the program's own label: every add-on's nodeSelector uses it
# Group names are the value of the eks-platform/node-group label and the name of a Karpenter NodePool and
# EC2NodeClass: a DNS label (1-63). They end AWS names too, which fit their limits whatever their length
# (components/names.py). "managed" and "self-managed" name the shared node roles.
GROUP_NAME = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
RESERVED_GROUP_NAMES = ("managed", "self-managed")
# A kubelet may only set labels in these kubernetes.io / k8s.io namespaces (NodeRestriction admission plugin)...
KUBELET_ALLOWED_LABEL_PREFIXES = ("kubelet.kubernetes.io/", "node.kubernetes.io/")
# ...besides the well-known labels it (or the cloud provider) sets on each node itself (k8s.io/api/core/v1
# well_known_labels.go): a class-wide value would be wrong on every node but one (one hostname for all) or in all
# but one zone, and Karpenter's NodePool refuses kubernetes.io/hostname outright.
PER_NODE_LABELS = (
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/instance-type",
    "beta.kubernetes.io/os",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "kubernetes.io/arch",
    "kubernetes.io/hostname",
    "kubernetes.io/os",
    "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
)
# Karpenter's label domains: its NodePool CRD (v1.14.1, template.metadata.labels rules) refuses them apart from
# a few well-known ones, which the class's own settings already express (capacity.type, instanceFamilies...).
KARPENTER_LABEL_DOMAINS = ("karpenter.sh", "karpenter.k8s.aws")
# EKS API (CreateNodegroup): at most 50 taints; label and taint keys and values at most 63 characters,
# label values at least 1 (UpdateLabelsPayload / Taint "Length Constraints").
EKS_MAX_TAINTS = 50
EKS_MAX_KEY = 63
# gp3 (EBS User Guide, "General Purpose SSD volumes"): 3,000-16,000 IOPS, 125-1,000 MiB/s, at most
# 500 IOPS per GiB and 0.25 MiB/s per provisioned IOPS.
GP3_MAX_IOPS_PER_GIB = 500
GP3_MAX_MIBS_PER_IOPS = 0.25


def _group_name(value: str) -> str:
    if not re.fullmatch(GROUP_NAME, value):
        raise problem(
            f"group names are 1-63 lowercase letters, digits and - (a DNS label: the value of the {GROUP_LABEL} label)"
        )
    if value in RESERVED_GROUP_NAMES:
        raise problem(f"{show(value)} is reserved: it names the shared node role of that kind")
    return value


GroupName = Annotated[str, checked(_group_name, {"type": "string", "pattern": f"^{GROUP_NAME}$"})]


def tag_resource_suffix(kind: str, key: str) -> str:
    """The name suffix of the ``aws.autoscaling.Tag`` that writes one node-template tag onto a managed group's ASG."""
    return f"ca-{kind}-{key.replace('/', '-')}"


def node_label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a label a node of ours may carry, or None."""
    if (message := label_key_problem(key)) is not None:
        return message
    prefix = key.rpartition("/")[0]
    if prefix == GROUP_LABEL.split("/")[0]:
        return (
            f"is in the platform's own label namespace (eks-platform/): every add-on finds its nodes by {GROUP_LABEL}"
        )
    if key in PER_NODE_LABELS:
        return "is set on each node by the kubelet or the cloud provider; a class-wide value would be wrong"
    if prefix.endswith(KARPENTER_LABEL_DOMAINS):
        return "is in Karpenter's label domain (its NodePool refuses it); use the class's own settings"
    if prefix.endswith(("kubernetes.io", "k8s.io")) and not key.startswith(KUBELET_ALLOWED_LABEL_PREFIXES):
        return "is in a kubernetes.io/k8s.io namespace a kubelet may not set (NodeRestriction); use your own prefix"
    return None


def _node_label_key(key: str) -> str:
    if (message := node_label_key_problem(key)) is not None:
        raise problem(message)
    return key


NodeLabelKey = Annotated[str, checked(_node_label_key, LABEL_KEY_SCHEMA)]


class Taint(Model):
    key: LabelKey
    """Taint key (label-key syntax)."""
    value: LabelValue = ""
    """Taint value (may be empty)."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"
    """Kubernetes spelling; mapped to NO_SCHEDULE... for managed groups."""


class IngressRule(Model):
    protocol: Literal["tcp", "udp"] = "tcp"
    from_port: Annotated[int, integer(1, 65535)]
    """First port."""
    to_port: Annotated[int, integer(1, 65535)] | None = None
    """Last port. Default: fromPort."""
    cidrs: Annotated[tuple[str, ...], cidrs("the nodes", min_items=1)]
    """Source networks; 0.0.0.0/0 refused."""
    description: Description
    """Why the rule exists."""

    @property
    def last_port(self) -> int:
        return self.to_port or self.from_port

    @model_validator(mode="after")
    def _ports(self) -> IngressRule:
        if self.to_port is not None and self.to_port < self.from_port:
            found = Problems()
            found.add("toPort", f"{self.to_port} is below fromPort {self.from_port}")
            found.check()
        return self


class RootVolume(Model):
    """The node volume (gp3, always encrypted; Bottlerocket: the data volume)."""

    size_gib: Annotated[int, integer(20, 16384), Field(alias="sizeGiB")] = 50
    """Size in GiB."""
    iops: Annotated[int, integer(3000, 16000)] = 3000
    """gp3 IOPS (at most 500 per GiB)."""
    throughput: Annotated[int, integer(125, 1000)] = 125
    """gp3 throughput in MiB/s (at most 0.25 per provisioned IOPS)."""

    @model_validator(mode="after")
    def _ratios(self) -> RootVolume:
        found = Problems()
        if self.iops > GP3_MAX_IOPS_PER_GIB * self.size_gib:
            found.add(
                "iops",
                f"{self.iops} is more than gp3's {GP3_MAX_IOPS_PER_GIB} IOPS per GiB of a "
                f"{self.size_gib} GiB volume (at most {GP3_MAX_IOPS_PER_GIB * self.size_gib})",
            )
        if self.throughput > GP3_MAX_MIBS_PER_IOPS * self.iops:
            found.add(
                "throughput",
                f"{self.throughput} MiB/s is more than gp3's {GP3_MAX_MIBS_PER_IOPS} MiB/s per "
                f"IOPS at {self.iops} IOPS (at most {int(GP3_MAX_MIBS_PER_IOPS * self.iops)})",
            )
        found.check()
        return self


# kubelet hard-eviction signals (kubelet "Node-pressure eviction"): a quantity or a percentage.
EvictionSignal = Literal[
    "memory.available",
    "nodefs.available",
    "nodefs.inodesFree",
    "imagefs.available",
    "imagefs.inodesFree",
    "pid.available",
]


def _threshold(value: str) -> str:
    if re.fullmatch(r"([0-9]|[1-9][0-9])(\.[0-9]+)?%", value) or quantity(value) is not None:
        return value
    raise problem(f"{show(value)} is not a quantity or a percentage below 100% (500Mi, 10%)")


Threshold = Annotated[str, checked(_threshold, {"type": "string"})]


class Reserved(Model):
    """Resources kept from pods (kubelet kubeReserved / systemReserved)."""

    cpu: Quantity | None = None
    """e.g. 100m."""
    memory: Quantity | None = None
    """e.g. 512Mi."""
    ephemeral_storage: Quantity | None = None
    """e.g. 1Gi."""

    def as_kubelet(self) -> dict[str, str]:
        """kubelet's keys: cpu, memory, ephemeral-storage (sorted)."""
        out = {"cpu": self.cpu, "ephemeral-storage": self.ephemeral_storage, "memory": self.memory}
        return {k: v for k, v in out.items() if v is not None}


class Kubelet(Model):
    """kubelet settings of the class, rendered into nodeadm's NodeConfig, Bottlerocket settings or the
    EC2NodeClass."""

    max_pods: Annotated[int, integer(8, 737)] | None = None
    """Pods per node. Not on managed AL2023 groups: EKS's own NodeConfig part comes after ours and sets maxPods."""
    kube_reserved: Reserved = Reserved()
    """For the kubelet and the container runtime. Default: nodeadm's / Bottlerocket's from the instance type."""
    system_reserved: Reserved = Reserved()
    """For the OS daemons."""
    eviction_hard: dict[EvictionSignal, Threshold] = {}
    """Hard eviction thresholds by signal, e.g. {memory.available: 200Mi, nodefs.available: 10%}."""

    @property
    def configured(self) -> bool:
        return bool(self.max_pods or self.reserves or self.eviction_hard)

    @property
    def reserves(self) -> bool:
        return bool(self.kube_reserved.as_kubelet() or self.system_reserved.as_kubelet())


class Imds(Model):
    """Instance metadata (IMDSv2 is always required)."""

    hop_limit: Annotated[int, integer(1, 2)] = 1
    """1 (the default) keeps pods without host networking away from the node's credentials (EKS Best Practices
    Guide, "Restrict access to the instance profile"); the platform's add-ons get region and VPC explicitly. 2 lets
    every pod of the class reach them: say why in reason."""
    reason: Annotated[str, text(r"[\x20-\x7e]{10,256}", "a reason (10-256 printable characters)")] | None = None
    """Why pods of this class need the node's instance metadata (required with hopLimit: 2)."""

    @model_validator(mode="after")
    def _reasoned(self) -> Imds:
        found = Problems()
        if self.hop_limit > 1 and self.reason is None:
            found.add(
                "reason",
                "is required with hopLimit 2: every pod of the class could then use the node's "
                "role; say which workload needs instance metadata and why",
            )
        if self.hop_limit == 1 and self.reason is not None:
            found.add("reason", "applies to hopLimit 2 only")
        found.check()
        return self


class Scaling(Model):
    """Group size."""

    min: Annotated[int, integer(0, 1000)] = 1
    """Minimum size."""
    max: Annotated[int, integer(1, 1000)] | None = None
    """Maximum size. Default: 3, or min if larger."""
    desired: Annotated[int, integer(0, 1000)] | None = None
    """Only set at creation: cluster-autoscaler owns it afterwards. Default: min."""

    @property
    def max_size(self) -> int:
        return self.max if self.max is not None else max(3, self.min)

    @property
    def desired_size(self) -> int:
        return self.desired if self.desired is not None else self.min

    @model_validator(mode="after")
    def _bounds(self) -> Scaling:
        found = Problems()
        if self.min > self.max_size:
            found.add("min", f"{self.min} is greater than max {self.max_size}")
        elif not self.min <= self.desired_size <= self.max_size:
            found.add("desired", f"{self.desired_size} is not between min {self.min} and max {self.max_size}")
        found.check()
        return self


class NodeIam(Model):
    """Node IAM."""

    dedicated_role: bool = False
    """Its own node role instead of the shared one."""
    extra_policy_arns: Annotated[tuple[str, ...], items(matches(POLICY_ARN, "an IAM policy ARN"), "policy")] = ()
    """More managed policies, only on a dedicated role. Ones that read the account's data (ReadOnlyAccess,
    AmazonSSMManagedInstanceCore, *FullAccess...) fail the guardrail iam-no-broad-managed-policies."""

    @model_validator(mode="after")
    def _dedicated(self) -> NodeIam:
        found = Problems()
        if self.extra_policy_arns and not self.dedicated_role:
            found.add("extraPolicyArns", "needs iam.dedicatedRole: true (the shared node role stays minimal)")
        found.check()
        return self


InstanceTypes = Annotated[
    tuple[str, ...],
    items(instance_type_problem, "instance type", min_items=1, max_items=20, schema={"enum": sorted(INSTANCE_TYPES)}),
]


class Named(Model):
    """A node group: its name is the map key, set after validation (``named``)."""

    _name: str = PrivateAttr("")

    @property
    def name(self) -> str:
        return self._name


class NodeClass(Named):
    """What every kind of node class has."""

    if TYPE_CHECKING:  # each kind declares its own Literal
        kind: str

    os: Literal["al2023", "bottlerocket"] = "al2023"
    """Amazon Linux 2023 (nodeadm) or Bottlerocket."""
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    """CPU architecture (AMI, AMI type, instance types)."""
    labels: dict[NodeLabelKey, LabelValue] = {}
    """Kubernetes labels; eks-platform/node-group=<name> is always added. Refused: labels in kubernetes.io/k8s.io
    namespaces a kubelet may not set, the ones it or the cloud provider sets per node (hostname, zone, arch...), and
    Karpenter's domains (karpenter.sh, karpenter.k8s.aws)."""
    taints: tuple[Taint, ...] = ()
    """Taints, rendered to the node, the autoscaler tags and add-on tolerations."""
    root_volume: RootVolume = RootVolume()
    imds: Imds = Imds()
    subnets: Literal["private", "public"] = "private"
    """Subnet tier of the nodes."""
    kubelet: Kubelet = Kubelet()

    @property
    def max_pods(self) -> int | None:
        return self.kubelet.max_pods

    def check_architecture(self, found: Problems, instance_types: tuple[str, ...]) -> None:
        """Each known instance type must be of the class's architecture."""
        for i, t in enumerate(instance_types):
            if not instance_type_problem(t) and architecture(t) != self.architecture:
                found.add(
                    ("instanceTypes", i),
                    f"{show(t)} is an {architecture(t)} type; the group's architecture is {self.architecture}",
                )

    @field_validator("taints")
    @classmethod
    def _distinct_taints(cls, taints: tuple[Taint, ...]) -> tuple[Taint, ...]:
        seen: set[tuple[str, str]] = set()
        for t in taints:
            if (t.key, t.effect) in seen:
                raise problem(f"{show(t.key)} with effect {t.effect} is listed twice")
            seen.add((t.key, t.effect))
        return tuple(sorted(taints, key=lambda t: (t.key, t.effect)))


class AsgGroup(NodeClass):
    """An EC2 Auto Scaling group of nodes: managed or self-managed."""

    instance_types: InstanceTypes
    """1-20 types; self-managed groups spread over them (mixed instances)."""
    scaling: Scaling = Scaling()
    security_group_ids: Annotated[
        tuple[str, ...], items(matches(r"sg-([0-9a-f]{8}|[0-9a-f]{17})", "a security group id"), "security group")
    ] = ()
    """Existing security groups to add."""
    extra_ingress: tuple[IngressRule, ...] = ()
    """A group-specific security group with these rules (e.g. NodePorts on edge nodes)."""
    iam: NodeIam = NodeIam()
    ssm: bool = False
    """Session Manager on the group's nodes (a shell for whoever may start sessions to them): an inline policy of
    Session Manager's channel actions only (no parameter reads), on the group's dedicated role (iam.dedicatedRole)."""
    max_pods_setting: Annotated[int, integer(8, 737)] | None = Field(None, alias="maxPods")
    """Former spelling of kubelet.maxPods (still read)."""

    if TYPE_CHECKING:  # what both kinds have, each in its own model

        @property
        def managed(self) -> bool: ...

        @property
        def uses_spot(self) -> bool: ...

    @property
    def max_pods(self) -> int | None:
        return self.kubelet.max_pods or self.max_pods_setting

    def check_asg(self, found: Problems) -> None:
        if self.max_pods_setting is not None and self.kubelet.max_pods is not None:
            found.add("maxPods", "and kubelet.maxPods are both set; keep kubelet.maxPods")
        if self.ssm and not self.iam.dedicated_role:
            found.add("ssm", "needs iam.dedicatedRole: true (the shared node role stays minimal)")
        self.check_architecture(found, self.instance_types)
        seen: dict[tuple, int] = {}
        for i, rule in enumerate(self.extra_ingress):
            for cidr in rule.cidrs:
                key = (rule.protocol, rule.from_port, rule.last_port, cidr)
                if key in seen:
                    found.add(
                        ("extraIngress", i),
                        f"repeats {rule.protocol} {rule.from_port}-{rule.last_port} from "
                        f"{cidr} (extraIngress[{seen[key]}])",
                    )
                seen.setdefault(key, i)


class ManagedCapacity(Model):
    """On-demand or spot."""

    type: Literal["onDemand", "spot"] = "onDemand"


class ManagedUpdate(Model):
    """How EKS replaces nodes."""

    max_unavailable: Annotated[int, integer(1, 100)] = 1
    """Nodes replaced at a time."""


class NodeRepair(Model):
    """EKS node auto repair (UpdateNodegroupConfig nodeRepairConfig): EKS replaces or reboots a node whose conditions
    the node monitoring agent (cluster.addons.nodeMonitoringAgent) or the kubelet report unhealthy. Each pair is a
    count or a percentage, not both (the API refuses both)."""

    enabled: bool = True
    """Repair this group's nodes."""
    max_unhealthy_count: Annotated[int, integer(1, 10_000)] | None = None
    """Stop repairing when more nodes than this are unhealthy at once (something larger is wrong). Default: EKS's."""
    max_unhealthy_percentage: Annotated[int, integer(1, 100)] | None = None
    """...or more than this percentage of the group."""
    max_parallel_count: Annotated[int, integer(1, 10_000)] | None = None
    """At most this many nodes repaired at a time. Default: EKS's."""
    max_parallel_percentage: Annotated[int, integer(1, 100)] | None = None
    """...or this percentage of the unhealthy nodes."""

    @model_validator(mode="after")
    def _count_or_percentage(self) -> NodeRepair:
        found = Problems()
        for what in ("Unhealthy", "Parallel"):
            count, pct = (getattr(self, f"max_{what.lower()}_{k}") for k in ("count", "percentage"))
            if count is not None and pct is not None:
                found.add(f"max{what}Percentage", f"and max{what}Count are both set; EKS takes one of them")
        if not self.enabled and any(
            getattr(self, f) is not None
            for f in (
                "max_unhealthy_count",
                "max_unhealthy_percentage",
                "max_parallel_count",
                "max_parallel_percentage",
            )
        ):
            found.add("enabled", "is false: the thresholds apply to repair only")
        found.check()
        return self


class ManagedGroup(AsgGroup):
    """An EKS managed node group (our launch template, EKS's AMI and bootstrap)."""

    kind: Literal["managed"]
    capacity: ManagedCapacity = ManagedCapacity()
    update: ManagedUpdate = ManagedUpdate()
    repair: NodeRepair = NodeRepair()
    """Node auto repair (on by default)."""

    @property
    def managed(self) -> bool:
        return True

    @property
    def uses_spot(self) -> bool:
        return self.capacity.type == "spot"

    @model_validator(mode="after")
    def _eks_limits(self) -> ManagedGroup:
        found = Problems()
        self.check_asg(found)
        if self.max_pods is not None and self.os == "al2023":
            # EKS merges its own NodeConfig part after ours, and a later part wins for the fields both set
            # (nodeadm api.MergeNodeConfigs, mergo WithOverride): EKS's maxPods replaces ours.
            found.add(
                ("kubelet", "maxPods") if self.kubelet.max_pods else "maxPods",
                f"{self.max_pods} cannot be honoured on a managed AL2023 group: EKS's NodeConfig comes after "
                "ours and sets maxPods from the instance type; use a selfManaged group, or Bottlerocket "
                "(whose settings EKS merges under ours)",
            )
        if len(self.taints) > EKS_MAX_TAINTS:
            found.add("taints", f"{len(self.taints)} taints; a managed node group allows at most {EKS_MAX_TAINTS}")
        for i, t in enumerate(self.taints):
            if len(t.key) > EKS_MAX_KEY:
                found.add(
                    ("taints", i, "key"),
                    f"{show(t.key)} is longer than the {EKS_MAX_KEY} characters a managed node group allows",
                )
        for key, value in self.labels.items():
            if len(key) > EKS_MAX_KEY:
                found.add(
                    ("labels", key),
                    f"is longer than the {EKS_MAX_KEY} characters a managed node group "
                    "allows for a label key (prefix included)",
                )
            if value == "":
                found.add(("labels", key), "a managed node group cannot carry an empty label value")
        for kind, keys in (("label", sorted(self.labels)), ("taint", sorted({t.key for t in self.taints}))):
            by_suffix: dict[str, list[str]] = {}
            for key in keys:
                by_suffix.setdefault(tag_resource_suffix(kind, key), []).append(key)
            for clash in (sorted(k) for k in by_suffix.values() if len(k) > 1):
                found.add(
                    f"{kind}s",
                    f"{' and '.join(clash)} would share the resource name of their autoscaler tag "
                    "on this group's ASG; rename one",
                )
        found.check()
        return self


class MixedCapacity(Model):
    """The instances distribution of a self-managed group (spot above a base)."""

    on_demand_base_capacity: Annotated[int, integer(0, 1000)] = 0
    """Instances always on-demand."""
    on_demand_percentage_above_base: Annotated[int, integer(0, 100)] = 100
    """Below 100 means spot above the base (capacity rebalance is turned on)."""
    spot_allocation_strategy: Literal[
        "price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price"
    ] = "price-capacity-optimized"


class SelfManagedUpdate(Model):
    """How instance refresh replaces nodes."""

    min_healthy_percentage: Annotated[int, integer(0, 100)] = 90
    """Instance refresh floor."""


class SelfManagedGroup(AsgGroup):
    """Our own Auto Scaling group and launch template (mixed instances, spot, lifecycle hook)."""

    kind: Literal["selfManaged"]
    capacity: MixedCapacity = MixedCapacity()
    update: SelfManagedUpdate = SelfManagedUpdate()
    ami_id: AmiId | None = None
    """Pin an AMI. Default: the node-image catalog's release for the group's OS and architecture."""

    @property
    def managed(self) -> bool:
        return False

    @property
    def uses_spot(self) -> bool:
        c = self.capacity
        return c.on_demand_percentage_above_base < 100 and self.scaling.max_size > c.on_demand_base_capacity

    @model_validator(mode="after")
    def _mixed(self) -> SelfManagedGroup:
        found = Problems()
        self.check_asg(found)
        found.check()
        return self


# -- Karpenter ----------------------------------------------------------------------------
# Instance categories Karpenter knows (karpenter.k8s.aws/instance-category: the letters before the generation).
INSTANCE_CATEGORIES = (
    "a",
    "c",
    "d",
    "f",
    "g",
    "h",
    "i",
    "im",
    "inf",
    "is",
    "m",
    "p",
    "r",
    "t",
    "trn",
    "u",
    "vt",
    "x",
    "z",
)
# A Go duration as Karpenter's CRDs accept it (NodePool consolidateAfter / expireAfter: ^(([0-9]+(s|m|h))+|Never)$).
DURATION = r"([0-9]+(s|m|h))+"


def _family(value: str) -> str | None:
    from components.config.instances import INSTANCE_TYPES, family

    families = {family(t) for t in INSTANCE_TYPES}
    return None if value in families else "is not an EC2 instance family (m7i, c7g, r6i...)"


def _duration(value: str) -> str:
    if not re.fullmatch(f"{DURATION}|Never", value):
        raise problem(f"{show(value)} is not a duration like 30s, 5m or 720h (or Never)")
    return value


Duration = Annotated[str, checked(_duration, {"type": "string", "pattern": f"^({DURATION}|Never)$"})]


class KarpenterCapacity(Model):
    """Purchase options Karpenter may choose from."""

    type: Literal["spot", "onDemand", "spotAndOnDemand"] = "onDemand"
    """spotAndOnDemand lets Karpenter prefer spot and fall back to on-demand."""


class KarpenterLimits(Model):
    """The most a pool may provision in total (NodePool spec.limits)."""

    cpu: Quantity | None = None
    """e.g. 1000."""
    memory: Quantity | None = None
    """e.g. 1000Gi."""


class Disruption(Model):
    """When Karpenter replaces or removes nodes."""

    consolidation_policy: Literal["WhenEmptyOrUnderutilized", "WhenEmpty"] = "WhenEmptyOrUnderutilized"
    """Consolidate under-used nodes too, or only empty ones."""
    consolidate_after: Duration = "1m"
    """How long a node must be consolidatable first."""
    expire_after: Duration = "720h"
    """Nodes are replaced after this age (new images, patches)."""


class KarpenterGroup(NodeClass):
    """A Karpenter NodePool and its EC2NodeClass: nodes launched per pending pod, no Auto Scaling group."""

    kind: Literal["karpenter"]
    instance_types: Annotated[
        tuple[str, ...],
        items(instance_type_problem, "instance type", max_items=100, schema={"enum": sorted(INSTANCE_TYPES)}),
    ] = ()
    """Exactly these types..."""
    instance_families: Annotated[tuple[str, ...], items(_family, "instance family")] = ()
    """...or any size of these families (m7i, c7g)..."""
    instance_categories: Annotated[
        tuple[str, ...],
        items(
            lambda v: (
                None if v in INSTANCE_CATEGORIES else f"is not an instance category ({', '.join(INSTANCE_CATEGORIES)})"
            ),
            "category",
            schema={"enum": list(INSTANCE_CATEGORIES)},
        ),
    ] = ()
    """...or any type of these categories (c, m, r), from minGeneration on."""
    min_generation: Annotated[int, integer(1, 20)] | None = None
    """With instanceCategories: generations after minGeneration - 1 (e.g. 6: 6th generation and later)."""
    capacity: KarpenterCapacity = KarpenterCapacity()
    limits: KarpenterLimits = KarpenterLimits()
    disruption: Disruption = Disruption()

    @model_validator(mode="after")
    def _selector(self) -> KarpenterGroup:
        found = Problems()
        given = [
            k
            for k, v in (
                ("instanceTypes", self.instance_types),
                ("instanceFamilies", self.instance_families),
                ("instanceCategories", self.instance_categories),
            )
            if v
        ]
        if len(given) != 1:
            found.add(
                "",
                "needs exactly one of instanceTypes, instanceFamilies or instanceCategories"
                + (f" (has {' and '.join(given)})" if given else ""),
            )
        if self.min_generation is not None and not self.instance_categories:
            found.add("minGeneration", "applies to instanceCategories only")
        self.check_architecture(found, self.instance_types)
        self._check_selector_architecture(found)
        if self.subnets != "private":
            found.add("subnets", "Karpenter nodes go to the private subnets (found by the karpenter.sh/discovery tag)")
        found.check()
        return self

    def _check_selector_architecture(self, found: Problems) -> None:
        """Every family and category must hold types of the class's architecture: Karpenter's NodePool requires
        kubernetes.io/arch, so one that cannot would never launch a node (pods stay Pending)."""
        from components.config.instances import category_architectures

        for i, fam in enumerate(self.instance_families):
            if _family(fam) is None and (arch := architecture(f"{fam}.large")) != self.architecture:
                found.add(
                    ("instanceFamilies", i),
                    f"{show(fam)} is an {arch} family; the group's architecture is {self.architecture}",
                )
        since = f" from generation {self.min_generation} on" if self.min_generation is not None else ""
        for i, cat in enumerate(self.instance_categories):
            if cat in INSTANCE_CATEGORIES and self.architecture not in category_architectures(cat, self.min_generation):
                found.add(
                    ("instanceCategories", i),
                    f"{show(cat)} has no {self.architecture} instance type{since}; "
                    f"the group's architecture is {self.architecture}",
                )


# -- Fargate --------------------------------------------------------------------------------
# EKS CreateFargateProfile: at most 5 selectors, 5 labels per selector; 10 profiles per cluster (service quota).
FARGATE_MAX_SELECTORS = 5
FARGATE_MAX_LABELS = 5
FARGATE_MAX_PROFILES = 10


class FargateSelector(Model):
    """Pods that run on Fargate: in this namespace (and with these labels)."""

    namespace: Namespace
    """The pods' namespace."""
    labels: dict[LabelKey, LabelValue] = {}
    """...and only pods carrying all these labels (at most 5)."""

    @model_validator(mode="after")
    def _labels(self) -> FargateSelector:
        if len(self.labels) > FARGATE_MAX_LABELS:
            found = Problems()
            found.add("labels", f"has {len(self.labels)} labels; a Fargate selector allows {FARGATE_MAX_LABELS}")
            found.check()
        return self


class FargateGroup(Named):
    """A Fargate profile: matching pods run on Fargate, one pod per micro-VM (no nodes to manage, no DaemonSets)."""

    kind: Literal["fargate"]
    selectors: tuple[FargateSelector, ...]
    """1-5 selectors; a pod matching any runs on Fargate."""

    @model_validator(mode="after")
    def _count(self) -> FargateGroup:
        found = Problems()
        if not self.selectors:
            found.add("selectors", "needs at least one selector")
        if len(self.selectors) > FARGATE_MAX_SELECTORS:
            found.add(
                "selectors", f"has {len(self.selectors)} selectors; a Fargate profile allows {FARGATE_MAX_SELECTORS}"
            )
        # The provider keeps selectors as a set (terraform-provider-aws eks/fargate_profile.go: TypeSet): a repeat
        # would vanish from the state and show as a change in every preview.
        seen: dict[tuple, int] = {}
        for i, sel in enumerate(self.selectors):
            key = (sel.namespace, tuple(sorted(sel.labels.items())))
            if key in seen:
                found.add(("selectors", i), f"repeats selectors[{seen[key]}]")
            seen.setdefault(key, i)
        found.check()
        return self


NodeGroup = Annotated[ManagedGroup | SelfManagedGroup | KarpenterGroup | FargateGroup, Field(discriminator="kind")]
NodeGroups = dict[GroupName, NodeGroup]


def asg_groups(groups: Mapping[str, object]) -> dict[str, AsgGroup]:
    """The groups backed by an Auto Scaling group (managed and self-managed)."""
    return {k: g for k, g in groups.items() if isinstance(g, AsgGroup)}


def named(groups: dict[str, NodeClass | FargateGroup]) -> dict[str, NodeClass | FargateGroup]:
    """The groups with their map keys as names, sorted by name."""
    for key, group in groups.items():
        group._name = key
    return dict(sorted(groups.items()))
