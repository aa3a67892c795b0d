"""``eks-platform:cluster``: the EKS control plane and what comes with it."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from components.config.base import (
    ACCOUNT,
    PARTITION,
    ROLE_ARN,
    ROLE_ARN_WHAT,
    AddonVersion,
    BucketName,
    Cidr,
    KmsKeyArn,
    LogPrefix,
    Model,
    Problems,
    RetentionDays,
    RoleArn,
    SessionLogGroup,
    Thumbprint,
    checked,
    cidrs,
    integer,
    items,
    matches,
    problem,
    show,
    text,
)
from components.config.identity import AccessEntry, AdminRole, IdentityProviders, Key, Mechanism
from components.config.instances import InstanceType

# EKS Kubernetes versions this program supports (bump with platform/addons.yaml and platform/node-images.yaml).
SUPPORTED_KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34", "1.35")
CLUSTER_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# EKS CreateCluster: name 1-100 characters, [0-9A-Za-z][A-Za-z0-9\-_]*. The names the platform derives from it
# (IAM roles, queues...) are cut to their own limits when they must be (components/names.py).
CLUSTER_NAME = r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}"


def _version(value: str) -> str:
    if value in SUPPORTED_KUBERNETES_VERSIONS:
        return value
    fmt = "is not supported" if re.fullmatch(r"1\.[0-9]+", value) else 'is not a Kubernetes minor version like "1.35"'
    raise problem(f"{show(value)} {fmt} (supported: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)})")


def _cluster_name(value: str) -> str:
    if not re.fullmatch(CLUSTER_NAME, value):
        raise problem(
            f"{show(value)} must be 1-100 characters: letters, digits, - and _, starting with a letter or digit"
        )
    return value


def _service_cidr(value: str) -> str:
    net = ipaddress.IPv4Network(value)
    private = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    if not 12 <= net.prefixlen <= 24 or not any(net.subnet_of(ipaddress.IPv4Network(r)) for r in private):
        # EKS CreateCluster kubernetesNetworkConfig.serviceIpv4Cidr.
        raise problem(f"{show(value)} must be a /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    return value


KubernetesVersion = Annotated[str, checked(_version, {"enum": list(SUPPORTED_KUBERNETES_VERSIONS)})]
ClusterName = Annotated[
    str, checked(_cluster_name, {"type": "string", "pattern": f"^{CLUSTER_NAME}$", "maxLength": 100})
]
ServiceCidr = Annotated[Cidr, checked(_service_cidr)]
Profile = Annotated[str, text(r"[A-Za-z0-9_.+-]{1,64}", "an AWS CLI profile name")]


class AccessHostConfig(Model):
    """A small instance for people to reach a private API endpoint through an SSM port forward."""

    enabled: bool = False
    """Create it (an Auto Scaling group of one, private subnet, no inbound rule, only SSM)."""
    instance_type: InstanceType = "t3.micro"
    """Its instance type (x86_64 or Graviton: the AL2023 image follows)."""
    session_log_group: SessionLogGroup | None = None
    """The log group the account's Session Manager preferences log shell sessions to (the bootstrap's
    sessionLogGroup output): the host may write it."""
    session_log_bucket: BucketName | None = None
    """...or the S3 bucket they log to (bootstrap sessionManager.logging: s3), under sessionLogPrefix."""
    session_log_prefix: LogPrefix = "session-manager"
    """The key prefix in that bucket."""

    @model_validator(mode="after")
    def _one_log(self) -> AccessHostConfig:
        found = Problems()
        if self.session_log_group and self.session_log_bucket:
            found.add("sessionLogBucket", "and sessionLogGroup both set: the preferences log to one of them")
        found.check()
        return self


class Endpoint(Model):
    """API server endpoint access."""

    private_access: bool = True
    """API reachable from inside the VPC."""
    public_access: bool = False
    """API reachable from the internet..."""
    # EKS refuses private ranges here (EKS user guide, "Cluster API server endpoint": the CIDR blocks of the
    # public endpoint "can't" be private): the private endpoint serves the VPC.
    public_access_cidrs: Annotated[tuple[str, ...], cidrs("the endpoint", public=True)] = ()
    """...only from these public networks; required with publicAccess; 0.0.0.0/0 and private ranges refused (the
    VPC reaches the private endpoint)."""
    access_host: AccessHostConfig = AccessHostConfig()

    @model_validator(mode="after")
    def _reachable(self) -> Endpoint:
        found = Problems()
        if not self.private_access and not self.public_access:
            found.add("privateAccess", "and publicAccess are both false: nothing could reach the API server")
        if self.public_access and not self.public_access_cidrs:
            found.add(
                "publicAccessCidrs",
                "is required when publicAccess is true (EKS would otherwise open the endpoint to 0.0.0.0/0)",
            )
        if not self.public_access and self.public_access_cidrs:
            found.add("publicAccessCidrs", "is set but publicAccess is false")
        if self.access_host.enabled and not self.private_access:
            found.add(("accessHost", "enabled"), "needs privateAccess: true (the host reaches the private endpoint)")
        found.check()
        return self


class Encryption(Model):
    """Envelope encryption of Kubernetes secrets."""

    kms_key_arn: KmsKeyArn | None = None
    """Use this key instead of creating one."""
    deletion_window_days: Annotated[int, integer(7, 30)] = 30
    """Deletion window of the key created here (rotation is always on)."""


class Logging(Model):
    """Control-plane logs."""

    types: Annotated[
        tuple[str, ...],
        items(
            lambda v: (
                None if v in CLUSTER_LOG_TYPES else f"is not a control-plane log type ({', '.join(CLUSTER_LOG_TYPES)})"
            ),
            "log type",
            schema={"enum": list(CLUSTER_LOG_TYPES)},
        ),
    ] = ("api", "audit", "authenticator")
    """Of api, audit, authenticator, controllerManager, scheduler."""
    retention_days: RetentionDays = 90
    """Retention of /aws/eks/<name>/cluster (created before the cluster) and of the CI runner's build logs."""
    kms_key_arn: KmsKeyArn | None = None
    """A customer-managed KMS key that encrypts every log group the platform creates (the control plane's, the flow
    logs', the CI runner's); its key policy must let logs.<region>.amazonaws.com use it. Default: CloudWatch Logs'
    own encryption."""


RoleArns = Annotated[
    tuple[str, ...],
    items(matches(ROLE_ARN, ROLE_ARN_WHAT), "role", schema={"type": "string", "pattern": f"^(?:{ROLE_ARN})$"}),
]


class Access(Model):
    """Access entries (authentication mode API; the creator gets no implicit admin)."""

    admin_role_arns: RoleArns = ()
    """IAM roles given AmazonEKSClusterAdminPolicy (shorthand for entries with policy clusterAdmin)."""
    read_only_role_arns: RoleArns = ()
    """IAM roles given AmazonEKSViewPolicy (shorthand for entries with policy view)."""
    entries: dict[Key, AccessEntry] = {}
    """Access entries keyed by name (the resource names derive from the key): a principal, a policy cluster-wide
    or in namespaces, Kubernetes groups."""
    admin_role: AdminRole = AdminRole()

    @model_validator(mode="after")
    def _someone_administers(self) -> Access:
        found = Problems()
        cluster_admins = [e for e in self.entries.values() if e.policy == "clusterAdmin"]
        if not self.admin_role_arns and not cluster_admins and not self.admin_role.create:
            found.add(
                "adminRoleArns",
                "needs at least one role (or an entry with policy clusterAdmin, or "
                "adminRole.create): the cluster creator gets no admin access, so nobody "
                "could use the cluster",
            )
        for arn in sorted(set(self.admin_role_arns) & set(self.read_only_role_arns)):
            found.add("readOnlyRoleArns", f"{show(arn)} is also an admin role")
        # EKS CreateAccessEntry: one entry per principal ARN.
        seen = dict.fromkeys(self.admin_role_arns, "adminRoleArns")
        seen.update({arn: "readOnlyRoleArns" for arn in self.read_only_role_arns if arn not in seen})
        for key, entry in sorted(self.entries.items()):
            if entry.principal_arn in seen:
                found.add(
                    ("entries", key, "principalArn"),
                    f"{show(entry.principal_arn)} already has an access "
                    f"entry ({seen[entry.principal_arn]}); EKS allows one "
                    "per principal",
                )
            else:
                seen[entry.principal_arn] = f"entries.{key}"
        found.check()
        return self


class AddonPin(Model):
    version: AddonVersion | None = None
    """Pin the add-on version (else: the newest for the cluster's minor at each `pulumi up`)."""


class PodSecurityGroups(Model):
    """Security groups for pods: pods matched by a SecurityGroupPolicy (workloads.securityGroups) get a branch ENI
    with their own security groups instead of the node's."""

    enabled: bool = False
    """Configure the VPC CNI for branch ENIs (ENABLE_POD_ENI) and give the cluster role the
    AmazonEKSVPCResourceController policy. Every node group must then use instance types with branch ENIs (Nitro,
    not the t family)."""
    enforcing_mode: Literal["strict", "standard"] = "strict"
    """strict: only the pod's own groups apply, even to traffic between pods on one node; standard: the node's
    groups also apply to that traffic (needed with NodeLocal DNSCache or Services with externalTrafficPolicy:
    Local)."""


class VpcCni(AddonPin):
    """The VPC CNI (with its own role)."""

    identity: Mechanism | None = None
    """How aws-node gets its role: podIdentity or irsa. Default: addons.identity."""
    prefix_delegation: bool = True
    """/28 prefixes per ENI slot: far more pods per node."""
    network_policy: bool = True
    """The VPC CNI's network policy agent enforces Kubernetes NetworkPolicies (on by default: a namespace without
    policies stays open, so the platform's own namespaces work unchanged). false: NetworkPolicies are accepted by the
    API and silently not enforced."""
    pod_security_groups: PodSecurityGroups = PodSecurityGroups()


class PodIdentityAgent(AddonPin):
    """The EKS Pod Identity agent."""

    enabled: bool = True
    """Install it."""


class EbsCsi(AddonPin):
    """The Amazon EBS CSI driver (managed add-on, its own IRSA role) and a default encrypted gp3 StorageClass."""

    enabled: bool = True
    """Install it (without a CSI driver no PersistentVolumeClaim binds)."""
    identity: Mechanism | None = None
    """How the controller gets its role: podIdentity or irsa. Default: addons.identity."""
    kms_key_arn: KmsKeyArn | None = None
    """Encrypt volumes with this customer key (its key policy must let the driver's role use it); default: the
    account's aws/ebs key."""


class MetricsServer(AddonPin):
    """metrics-server (the EKS community add-on): the resource metrics HorizontalPodAutoscalers and kubectl top
    read."""

    enabled: bool = True
    """Install it."""


class NodeMonitoringAgent(AddonPin):
    """The EKS node monitoring agent (the eks-node-monitoring-agent add-on): a DaemonSet on every node — its chart
    tolerates every taint (aws/eks-node-monitoring-agent charts/.../values.yaml, nodeAgent.tolerations: Exists) —
    that reports kernel, networking, storage, container-runtime and accelerator problems as node conditions, which
    managed node groups' auto repair and Karpenter's node repair act on."""

    enabled: bool = True
    """Install it."""


class ManagedAddons(Model):
    """EKS managed add-ons (each gets an explicit version)."""

    vpc_cni: VpcCni = VpcCni()
    core_dns: AddonPin = AddonPin()
    """CoreDNS (installed after the node groups)."""
    kube_proxy: AddonPin = AddonPin()
    """kube-proxy."""
    pod_identity_agent: PodIdentityAgent = PodIdentityAgent()
    ebs_csi: EbsCsi = EbsCsi()
    metrics_server: MetricsServer = MetricsServer()
    node_monitoring_agent: NodeMonitoringAgent = NodeMonitoringAgent()


ALARM_ARN = rf"arn:{PARTITION}:cloudwatch:[a-z]{{2}}(-[a-z]+)+-[0-9]:{ACCOUNT}:alarm:[^:]{{1,255}}"


class ZonalAutoshift(Model):
    """ARC zonal autoshift for the cluster: AWS shifts traffic away from a zone it sees impaired, and runs weekly
    practice shifts checked by your alarms (ARC developer guide, "Zonal autoshift")."""

    enabled: bool = False
    """Register the cluster for zonal autoshift (needs zonalShift)."""
    outcome_alarm_arns: Annotated[tuple[str, ...], items(matches(ALARM_ARN, "a CloudWatch alarm ARN"), "alarm")] = ()
    """Alarms that tell whether a practice shift hurt the application (required when enabled: a practice run
    needs at least one)."""
    blocking_alarm_arns: Annotated[tuple[str, ...], items(matches(ALARM_ARN, "a CloudWatch alarm ARN"), "alarm")] = ()
    """Alarms that, when in alarm, keep a practice run from starting."""

    @model_validator(mode="after")
    def _practice(self) -> ZonalAutoshift:
        found = Problems()
        if self.enabled and not self.outcome_alarm_arns:
            found.add(
                "outcomeAlarmArns",
                "needs at least one alarm: zonal autoshift's practice runs are judged by their outcome alarms",
            )
        found.check()
        return self


InsightId = Annotated[
    str,
    text(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "an EKS insight id (a UUID: aws eks list-insights)",
    ),
]


class AcknowledgedInsight(Model):
    """An upgrade-readiness insight the team has looked at and accepts for the next upgrade."""

    id: InsightId
    """The insight's id (aws eks list-insights --cluster-name <name>)."""
    reason: Annotated[str, text(r"[\x20-\x7e]{10,512}", "a reason (10-512 printable characters)")]
    """Why the upgrade may go ahead despite it."""


class Upgrade(Model):
    """The upgrade gate (python -m tools.preflight <stack> --upgrade-to <minor>)."""

    acknowledged_insights: tuple[AcknowledgedInsight, ...] = ()
    """Insights of status ERROR or WARNING that do not stop an upgrade, each with its reason."""


class ControlPlane(Model):
    """The control plane's capacity (EKS Provisioned Control Plane)."""

    # pulumi-aws 7.51 (terraform-provider-aws control_plane_scaling_config, Optional+Computed): updated in place by
    # UpdateClusterConfig; unset leaves whatever tier the cluster has (standard at creation)
    scaling_tier: Literal["standard", "tier-xl", "tier-2xl", "tier-4xl", "tier-8xl"] | None = None
    """A provisioned tier (tier-xl and up: more API server and etcd capacity, billed per tier hour) or standard.
    Unset: the cluster keeps its tier."""


class Kubeconfig(Model):
    """How the exported kubeconfig authenticates (aws eks get-token)."""

    role_arn: RoleArn | None = None
    """Role that get-token assumes."""
    profile: Profile | None = None
    """AWS CLI profile (AWS_PROFILE) for get-token."""


class Oidc(Model):
    """The IAM OIDC provider."""

    extra_thumbprints: tuple[Thumbprint, ...] = ()
    """Extra SHA-1 thumbprints (TLS-intercepting proxies) after the issuer root's."""


class ClusterConfig(Model):
    """The EKS control plane."""

    name: ClusterName = Field("", json_schema_extra={"default": "eks-platform-<stack>"})
    """The cluster name (1-100 characters, as EKS allows). Default: <project>-<stack>. Names derived from it that
    would exceed their AWS limit are shortened (docs/architecture.md, "Names")."""
    version: KubernetesVersion = "1.35"
    """Kubernetes minor version (EKS upgrades one minor at a time)."""
    upgrade_policy: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """STANDARD: EKS upgrades the control plane automatically when standard support ends. EXTENDED: the minor
    stays for up to 12 more months at the extended-support price (per cluster hour)."""
    service_ipv4_cidr: ServiceCidr = "172.20.0.0/16"
    """Kubernetes service range; /12-/24, private, must not overlap the VPC."""
    control_plane_subnets: Literal["private", "intra"] = "intra"
    """Where EKS places the control-plane ENIs."""
    endpoint: Endpoint = Endpoint()
    encryption: Encryption = Encryption()
    logging: Logging = Logging()
    # Validated even when absent (default_factory + validate_default), and on its own: "no admin" is reported
    # alongside any other problem of the cluster section.
    access: Access = Field(default_factory=dict, validate_default=True)
    addons: ManagedAddons = ManagedAddons()
    kubeconfig: Kubeconfig = Kubeconfig()
    oidc: Oidc = Oidc()
    identity_providers: IdentityProviders = IdentityProviders()
    protect: bool = False
    """Pulumi protect + EKS deletion protection on the cluster, protect on the KMS key."""
    zonal_shift: bool = True
    """Let ARC zonal shift move the cluster's traffic away from an impaired zone (the cluster's zonalShiftConfig; a
    shift is started by you, or by AWS with zonalAutoshift). Karpenter, when installed, then stops launching into a
    shifted zone (settings.enableZonalShift)."""
    zonal_autoshift: ZonalAutoshift = ZonalAutoshift()
    upgrade: Upgrade = Upgrade()
    control_plane: ControlPlane = ControlPlane()

    @model_validator(mode="after")
    def _autoshift_needs_shift(self) -> ClusterConfig:
        found = Problems()
        if self.zonal_autoshift.enabled and not self.zonal_shift:
            found.add(("zonalAutoshift", "enabled"), "needs zonalShift: true (autoshift starts zonal shifts)")
        found.check()
        return self

    @property
    def extra_thumbprints(self) -> tuple[str, ...]:
        return tuple(t.lower() for t in self.oidc.extra_thumbprints)
