"""The validated config of one stack: the sections of its file (``Sections``) and what the runtime adds
(``PlatformConfig``), built by ``components.config.load``."""

from __future__ import annotations

from pydantic import Field

from components.config.addons import (
    AddonsConfig,
)
from components.config.base import Model, StackTagKey, TagValue
from components.config.cluster import ClusterConfig
from components.config.delivery import DeliveryConfig
from components.config.identity import IamConfig
from components.config.network import NetworkConfig
from components.config.nodegroups import (
    AsgGroup,
    FargateGroup,
    KarpenterGroup,
    NodeGroups,
    SelfManagedGroup,
)
from components.config.observability import ObservabilityConfig
from components.config.workloads import WorkloadsConfig

PROJECT = "eks-platform"


class Sections(Model):
    """A stack's config: the project keys (``eks-platform:<key>``) of ``Pulumi.<stack>.yaml``."""

    tags: dict[StackTagKey, TagValue] = {}
    """Tags added to every taggable AWS resource, as {key: value}, after eks-platform/project, eks-platform/stack
    and managed-by; keys may not start with aws:, nor be ones the platform, EKS or a controller reads or writes
    (Name, managed-by, eks-platform/, kubernetes.io/, k8s.io/, karpenter.sh/, karpenter.k8s.aws/, eks:)."""
    network: NetworkConfig = NetworkConfig()
    """The VPC: cidr, zones, subnet tiers, NAT, endpoints, flow logs; or existing to bring your own."""
    cluster: ClusterConfig = Field(default_factory=ClusterConfig.model_construct)
    """The EKS control plane: name, version, endpoint access, encryption, logs, access, managed add-ons."""
    node_groups: NodeGroups = {}
    """Node groups keyed by name (the name is the resource-name suffix), one kind each; at least one."""
    addons: AddonsConfig = AddonsConfig()
    """The Helm add-ons (chart versions in platform/addons.yaml), with value overrides."""
    delivery: DeliveryConfig = DeliveryConfig()
    """How CI reaches the stack: an in-VPC runner for private API endpoints."""
    iam: IamConfig = IamConfig()
    """What every IAM role the platform creates carries: an optional permissions boundary."""
    workloads: WorkloadsConfig = WorkloadsConfig()
    """What the platform builds for application teams: load balancers bound to Services."""
    observability: ObservabilityConfig = ObservabilityConfig()
    """Metrics, logs and alarms: Container Insights, optionally Managed Prometheus, CloudWatch alarms and a
    dashboard (off unless the file turns it on)."""


class PlatformConfig(Sections):
    """The validated config of one stack, with what the runtime says about it."""

    project: str
    stack: str
    region: str
    # nodeGroups split by backend (node_groups keeps the Auto Scaling group kinds)
    # the managed and selfManaged kinds of the file's nodeGroups (narrower than the file's: an override mypy cannot
    # accept for an invariant dict)
    node_groups: dict[str, AsgGroup] = {}  # type: ignore[assignment]
    karpenter_pools: dict[str, KarpenterGroup] = {}
    fargate_profiles: dict[str, FargateGroup] = {}

    @property
    def self_managed_groups(self) -> dict[str, SelfManagedGroup]:
        return {k: g for k, g in self.node_groups.items() if isinstance(g, SelfManagedGroup)}
