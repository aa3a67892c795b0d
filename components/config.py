"""Typed, validated stack config.

``__main__.py`` reads the raw Pulumi config once (``raw_from_runtime``) and turns it into
frozen dataclasses with ``load``. Validation collects every problem, each naming its
config path and the bad value, and raises one ``ConfigError`` before any resource is
registered. ``ConfigError`` is a ``pulumi.RunError``, so ``pulumi up`` prints the
messages without a Python traceback; ``tools.plan`` exits 2 with them.

Config keys live in the project namespace (``eks-platform:<key>``) and are declared,
typed and described in ``Pulumi.yaml``; field defaults live here (Pulumi replaces an
object default wholesale rather than merging it, so the program owns the defaults).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import subnets
from components.configreader import MISSING as _MISSING_SENTINEL
from components.configreader import Obj, Problems, show

PROJECT = "eks-platform"
TOP_LEVEL_KEYS = ("tags", "network", "cluster", "nodeGroups", "addons")

# EKS Kubernetes versions this program supports (bump with the add-on catalog).
SUPPORTED_KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34", "1.35")
CLUSTER_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# Values CloudWatch Logs accepts for retentionInDays (0, "never expire", is refused on purpose).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)
NAT_MODES = ("single", "perAz", "none")
# Interface endpoints an EKS platform commonly needs (private nodes without NAT, SSM access, IRSA).
INTERFACE_ENDPOINTS = (
    "autoscaling", "ec2", "ec2messages", "ecr.api", "ecr.dkr", "eks", "eks-auth", "elasticloadbalancing",
    "events", "kms", "logs", "secretsmanager", "sqs", "ssm", "ssmmessages", "sts",
)
FLOW_LOG_TRAFFIC = ("ALL", "ACCEPT", "REJECT")

_ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_KMS_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
_THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")
_AWS_PROFILE = re.compile(r"^[\w.+-]{1,64}$")
_GROUP_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_AMI_ID = re.compile(r"^ami-[0-9a-f]{8}([0-9a-f]{9})?$")
_SG_ID = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$")
_POLICY_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$")
# Kubernetes label / taint syntax: an optional DNS-subdomain prefix and a name of up to 63 characters.
_K8S_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_K8S_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
# A kubelet may only set labels in these kubernetes.io / k8s.io namespaces (NodeRestriction admission).
_KUBELET_ALLOWED_LABEL_PREFIXES = ("kubelet.kubernetes.io/", "node.kubernetes.io/")
_KUBELET_ALLOWED_LABELS = (
    "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type", "beta.kubernetes.io/os",
    "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
    "kubernetes.io/arch", "kubernetes.io/hostname", "kubernetes.io/os", "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
)
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NODE_GROUP_KINDS = ("managed", "selfManaged")
NODE_OS = ("al2023", "bottlerocket")
ARCHITECTURES = ("x86_64", "arm64")
SPOT_STRATEGIES = ("price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price")


class ConfigError(pulumi.RunError):
    """Invalid stack config: one line per problem, each naming its config path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid stack config:\n" + "\n".join(f"  {p}" for p in self.problems))


# ---------------------------------------------------------------------------------------
# dataclasses
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExistingVpc:
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    public_subnet_ids: tuple[str, ...] = ()
    intra_subnet_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowLogsConfig:
    enabled: bool = False
    retention_days: int = 30
    traffic_type: str = "ALL"


@dataclass(frozen=True)
class NetworkConfig:
    cidr: str = "10.0.0.0/16"
    availability_zones: int = 2
    zone_names: tuple[str, ...] = ()
    max_availability_zones: int = 4
    subnet_prefix_lengths: Mapping[str, int | None] = field(default_factory=dict)
    nat_gateways: str = "single"
    s3_gateway_endpoint: bool = True
    interface_endpoints: tuple[str, ...] = ()
    flow_logs: FlowLogsConfig = FlowLogsConfig()
    existing: ExistingVpc | None = None


@dataclass(frozen=True)
class EndpointConfig:
    private_access: bool = True
    public_access: bool = False
    public_access_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManagedAddonsConfig:
    vpc_cni_version: str | None = None
    prefix_delegation: bool = True
    network_policy: bool = False
    coredns_version: str | None = None
    kube_proxy_version: str | None = None
    pod_identity_agent: bool = True
    pod_identity_agent_version: str | None = None


@dataclass(frozen=True)
class ClusterConfig:
    name: str
    version: str = "1.35"
    service_ipv4_cidr: str = "172.20.0.0/16"
    control_plane_subnets: str = "intra"
    endpoint: EndpointConfig = EndpointConfig()
    kms_key_arn: str | None = None
    kms_deletion_window_days: int = 30
    log_types: tuple[str, ...] = ("api", "audit", "authenticator")
    log_retention_days: int = 90
    admin_role_arns: tuple[str, ...] = ()
    read_only_role_arns: tuple[str, ...] = ()
    addons: ManagedAddonsConfig = ManagedAddonsConfig()
    kubeconfig_role_arn: str | None = None
    kubeconfig_profile: str | None = None
    extra_thumbprints: tuple[str, ...] = ()
    protect: bool = False


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str  # Kubernetes spelling: NoSchedule | PreferNoSchedule | NoExecute


@dataclass(frozen=True)
class IngressRule:
    protocol: str
    from_port: int
    to_port: int
    cidrs: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class NodeGroupConfig:
    name: str
    kind: str
    os: str = "al2023"
    architecture: str = "x86_64"
    instance_types: tuple[str, ...] = ()
    # managed: ON_DEMAND/SPOT; self-managed: the instances distribution below
    spot: bool = False
    on_demand_base_capacity: int = 0
    on_demand_percentage_above_base: int = 100
    spot_allocation_strategy: str = "price-capacity-optimized"
    min_size: int = 1
    desired_size: int = 1
    max_size: int = 3
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    root_volume_gib: int = 50
    root_volume_iops: int = 3000
    root_volume_throughput: int = 125
    imds_hop_limit: int = 2
    subnets: str = "private"
    security_group_ids: tuple[str, ...] = ()
    extra_ingress: tuple[IngressRule, ...] = ()
    dedicated_role: bool = False
    extra_policy_arns: tuple[str, ...] = ()
    max_unavailable: int = 1
    min_healthy_percentage: int = 90
    max_pods: int | None = None
    ami_id: str | None = None

    @property
    def managed(self) -> bool:
        return self.kind == "managed"

    @property
    def uses_spot(self) -> bool:
        if self.managed:
            return self.spot
        return self.on_demand_percentage_above_base < 100 and self.max_size > self.on_demand_base_capacity


@dataclass(frozen=True)
class AddonConfig:
    enabled: bool = True
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExternalSecretsConfig(AddonConfig):
    ssm_path_prefix: str | None = None
    secrets_manager_prefix: str | None = None
    kms_key_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExternalDnsConfig(AddonConfig):
    provider: str = "aws"
    domain_filters: tuple[str, ...] = ()
    hosted_zone_ids: tuple[str, ...] = ()
    policy: str = "upsert-only"
    cloudflare_token_parameter: str | None = None


@dataclass(frozen=True)
class AddonsConfig:
    system_node_group: str | None = None
    cluster_autoscaler: AddonConfig = AddonConfig()
    load_balancer_controller: AddonConfig = AddonConfig()
    external_secrets: ExternalSecretsConfig = ExternalSecretsConfig(enabled=False)
    external_dns: ExternalDnsConfig = ExternalDnsConfig(enabled=False)
    node_termination_handler: AddonConfig = AddonConfig(enabled=False)


@dataclass(frozen=True)
class PlatformConfig:
    project: str
    stack: str
    region: str
    tags: Mapping[str, str]
    network: NetworkConfig
    cluster: ClusterConfig
    node_groups: Mapping[str, NodeGroupConfig] = field(default_factory=dict)
    addons: AddonsConfig = AddonsConfig()

    @property
    def self_managed_groups(self) -> dict[str, NodeGroupConfig]:
        return {k: g for k, g in self.node_groups.items() if not g.managed}


# ---------------------------------------------------------------------------------------
# raw config from the Pulumi runtime (the only place that touches pulumi config)
# ---------------------------------------------------------------------------------------
def raw_from_runtime(project: str = PROJECT) -> tuple[dict[str, Any], str | None]:
    """All ``<project>:*`` keys (JSON-decoded) and ``aws:region``, read once."""
    import contextlib
    import json

    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw: dict[str, Any] = {}
    for full in sorted(keys):
        namespace, _, name = full.partition(":")
        if namespace != project:
            continue
        value = runtime_config.get_config(full)
        if isinstance(value, str):
            # Objects arrive as JSON; a plain string stays a string and the reader reports its type.
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        raw[name] = value
    return raw, runtime_config.get_config("aws:region")


# ---------------------------------------------------------------------------------------
# parsing + validation
# ---------------------------------------------------------------------------------------
def load(raw: Mapping[str, Any], *, stack: str, region: str | None, project: str = PROJECT) -> PlatformConfig:
    """Parse and validate the whole stack config; raise ConfigError with every problem."""
    problems = Problems()
    root = Obj(dict(raw), "", problems)
    if not region:
        problems.add("aws:region", "is required (pulumi config set aws:region eu-west-1)")
    tags = _tags(root, problems)
    network = _network(root.obj("network"))
    cluster = _cluster(root.obj("cluster"), default_name=f"{project}-{stack}")
    node_groups = _node_groups(root, network)
    addons = _addons(root.obj("addons"), node_groups)
    _cross_checks(network, cluster, problems)
    root.done()
    if problems:
        raise ConfigError(problems.items)
    return PlatformConfig(
        project=project, stack=stack, region=region or "", tags=tags, network=network, cluster=cluster,
        node_groups=node_groups, addons=addons,
    )


def _tags(root: Obj, problems: Problems) -> dict[str, str]:
    tags = root.string_map("tags")
    for key, value in tags.items():
        if key.lower().startswith("aws:") or not _TAG_KEY.match(key):
            problems.add(f"tags.{key}", "is not a valid AWS tag key (1-128 characters, no aws: prefix)")
        if not _TAG_VALUE.match(value):
            problems.add(f"tags.{key}", f"{show(value)} is not a valid AWS tag value (0-256 characters)")
    if len(tags) > 40:
        problems.add("tags", f"{len(tags)} tags leave too little room under the AWS limit of 50 per resource")
    return tags


def _network(o: Obj) -> NetworkConfig:
    existing_obj = o.obj("existing") if o.has("existing") else None
    if existing_obj is not None:
        for key in ("cidr", "availabilityZones", "zoneNames", "maxAvailabilityZones",
                    "subnetPrefixLengths", "natGateways", "endpoints", "flowLogs"):
            if o.has(key):
                o.raw(key)
                o.bad(key, "cannot be combined with network.existing (a brought VPC is used as it is)")
        existing = _existing(existing_obj)
        o.done()
        return NetworkConfig(existing=existing)

    cidr = o.string("cidr", NetworkConfig.cidr)
    zone_names = o.strings("zoneNames")
    if 0 < len(zone_names) < 2:
        o.bad("zoneNames", f"{show(list(zone_names))}: EKS needs at least two availability zones")
    if len(set(zone_names)) != len(zone_names):
        o.bad("zoneNames", f"{show(list(zone_names))} lists a zone twice")
    default_count = len(zone_names) or NetworkConfig.availability_zones
    count = o.integer("availabilityZones", default_count, lo=2, hi=6)
    if zone_names and o.has("availabilityZones") and count != len(zone_names):
        o.bad("availabilityZones", f"{count} does not match the {len(zone_names)} zones in network.zoneNames")
    max_azs = o.integer("maxAvailabilityZones", max(NetworkConfig.max_availability_zones, count), lo=2, hi=16)
    pl = o.obj("subnetPrefixLengths")
    prefixes = {t: pl.integer(t, None, lo=16, hi=28) for t in subnets.TIERS}
    pl.done()
    nat = o.string("natGateways", NetworkConfig.nat_gateways, choices=NAT_MODES)

    ep = o.obj("endpoints")
    s3 = ep.boolean("s3Gateway", True)
    interface = ep.strings("interface")
    for i, name in enumerate(interface):
        if name not in INTERFACE_ENDPOINTS:
            o.problems.add(f"network.endpoints.interface[{i}]",
                           f"{show(name)} is not a supported endpoint ({', '.join(INTERFACE_ENDPOINTS)})")
    if len(set(interface)) != len(interface):
        ep.bad("interface", f"{show(list(interface))} lists an endpoint twice")
    ep.done()

    fl = o.obj("flowLogs")
    flow = FlowLogsConfig(
        enabled=fl.boolean("enabled", False),
        retention_days=_retention(fl, "retentionDays", FlowLogsConfig.retention_days),
        traffic_type=fl.string("trafficType", "ALL", choices=FLOW_LOG_TRAFFIC),
    )
    fl.done()
    o.done()

    if cidr is not None and count is not None and max_azs is not None:
        for key, message in subnets.layout_problems(cidr, count, max_azs, prefixes):
            o.problems.add(f"network.{key}", message)
    return NetworkConfig(
        cidr=cidr,
        availability_zones=count,
        zone_names=tuple(zone_names),
        max_availability_zones=max_azs,
        subnet_prefix_lengths=prefixes,
        nat_gateways=nat,
        s3_gateway_endpoint=s3,
        interface_endpoints=tuple(sorted(set(interface))),
        flow_logs=flow,
    )


def _existing(o: Obj) -> ExistingVpc:
    vpc_id = o.string("vpcId", "", required=True)
    if vpc_id and not _VPC_ID.match(vpc_id):
        o.bad("vpcId", f"{show(vpc_id)} is not a VPC id (vpc-0123456789abcdef0)")
    tiers = {}
    for key in ("privateSubnetIds", "publicSubnetIds", "intraSubnetIds"):
        ids = o.strings(key, required=key == "privateSubnetIds")
        for i, sid in enumerate(ids):
            if not _SUBNET_ID.match(sid):
                o.problems.add(f"{o.at(key)}[{i}]", f"{show(sid)} is not a subnet id (subnet-0123456789abcdef0)")
        if len(set(ids)) != len(ids):
            o.bad(key, f"{show(list(ids))} lists a subnet twice")
        tiers[key] = ids
    if o.has("privateSubnetIds") and len(tiers["privateSubnetIds"]) < 2:
        o.bad("privateSubnetIds", "EKS needs subnets in at least two availability zones")
    seen: dict[str, str] = {}
    for key, ids in tiers.items():
        for sid in ids:
            if sid in seen and seen[sid] != key:
                o.bad(key, f"{show(sid)} is also listed in network.existing.{seen[sid]}")
            seen.setdefault(sid, key)
    o.done()
    return ExistingVpc(
        vpc_id=vpc_id or "",
        private_subnet_ids=tiers["privateSubnetIds"],
        public_subnet_ids=tiers["publicSubnetIds"],
        intra_subnet_ids=tiers["intraSubnetIds"],
    )


def _retention(o: Obj, key: str, default: int) -> int:
    value = o.integer(key, default)
    if value not in LOG_RETENTION_DAYS:
        o.bad(key, f"{show(value)} is not a CloudWatch Logs retention ({', '.join(map(str, LOG_RETENTION_DAYS))})")
        return default
    return value


def _role_arns(o: Obj, key: str) -> tuple[str, ...]:
    arns = o.strings(key)
    for i, arn in enumerate(arns):
        if not _ROLE_ARN.match(arn):
            o.problems.add(f"{o.at(key)}[{i}]", f"{show(arn)} is not an IAM role ARN (arn:aws:iam::111122223333:role/name)")
    if len(set(arns)) != len(arns):
        o.bad(key, f"{show(list(arns))} lists a role twice")
    return tuple(arns)


def _cidr_list(o: Obj, key: str) -> tuple[str, ...]:
    cidrs = o.strings(key)
    out = []
    for i, c in enumerate(cidrs):
        try:
            net = ipaddress.IPv4Network(c, strict=True)
        except ValueError:
            o.problems.add(f"{o.at(key)}[{i}]", f"{show(c)} is not a valid IPv4 network")
            continue
        if net.prefixlen == 0:
            o.problems.add(f"{o.at(key)}[{i}]", f"{show(c)} opens the endpoint to the whole internet; list the networks that need the API")
            continue
        out.append(str(net))
    return tuple(out)


def _cluster(o: Obj, default_name: str) -> ClusterConfig:
    name = o.string("name", default_name)
    if name and not _CLUSTER_NAME.match(name):
        o.bad("name", f"{show(name)} must be 1-100 characters: letters, digits, - and _, starting with a letter or digit")
    version = o.string("version", ClusterConfig.version)
    if version is not None and version not in SUPPORTED_KUBERNETES_VERSIONS:
        fmt = "is not a Kubernetes minor version like \"1.35\"" if not re.match(r"^1\.\d+$", version) else "is not supported"
        o.bad("version", f"{show(version)} {fmt} (supported: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)})")
    svc = o.string("serviceIpv4Cidr", ClusterConfig.service_ipv4_cidr)
    try:
        svc_net = ipaddress.IPv4Network(svc, strict=True)
        if not (12 <= svc_net.prefixlen <= 24) or not any(
            svc_net.subnet_of(ipaddress.IPv4Network(r)) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
        ):
            o.bad("serviceIpv4Cidr", f"{show(svc)} must be a /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    except ValueError:
        o.bad("serviceIpv4Cidr", f"{show(svc)} is not a valid IPv4 network")
    cp_subnets = o.string("controlPlaneSubnets", ClusterConfig.control_plane_subnets, choices=("private", "intra"))

    ep = o.obj("endpoint")
    endpoint = EndpointConfig(
        private_access=ep.boolean("privateAccess", True),
        public_access=ep.boolean("publicAccess", False),
        public_access_cidrs=_cidr_list(ep, "publicAccessCidrs"),
    )
    if not endpoint.private_access and not endpoint.public_access:
        ep.bad("privateAccess", "and publicAccess are both false: nothing could reach the API server")
    if endpoint.public_access and not endpoint.public_access_cidrs and not ep.has("publicAccessCidrs"):
        ep.bad("publicAccessCidrs", "is required when publicAccess is true (EKS would otherwise open the endpoint to 0.0.0.0/0)")
    if not endpoint.public_access and endpoint.public_access_cidrs:
        ep.bad("publicAccessCidrs", "is set but publicAccess is false")
    ep.done()

    enc = o.obj("encryption")
    kms_arn = enc.string("kmsKeyArn")
    if kms_arn is not None and not _KMS_ARN.match(kms_arn):
        enc.bad("kmsKeyArn", f"{show(kms_arn)} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<uuid>)")
    window = enc.integer("deletionWindowDays", ClusterConfig.kms_deletion_window_days, lo=7, hi=30)
    enc.done()

    lg = o.obj("logging")
    log_types = lg.strings("types", ClusterConfig.log_types)
    for i, t in enumerate(log_types):
        if t not in CLUSTER_LOG_TYPES:
            o.problems.add(f"{lg.at('types')}[{i}]", f"{show(t)} is not a control-plane log type ({', '.join(CLUSTER_LOG_TYPES)})")
    if len(set(log_types)) != len(log_types):
        lg.bad("types", f"{show(list(log_types))} lists a log type twice")
    retention = _retention(lg, "retentionDays", ClusterConfig.log_retention_days)
    lg.done()

    ac = o.obj("access")
    admins = _role_arns(ac, "adminRoleArns")
    readers = _role_arns(ac, "readOnlyRoleArns")
    if not ac.value.get("adminRoleArns"):
        ac.bad("adminRoleArns", "needs at least one role: the cluster creator gets no admin access, so nobody could use the cluster")
    for arn in sorted(set(admins) & set(readers)):
        ac.bad("readOnlyRoleArns", f"{show(arn)} is also an admin role")
    ac.done()

    ad = o.obj("addons")
    cni = ad.obj("vpcCni")
    coredns = ad.obj("coreDns")
    kproxy = ad.obj("kubeProxy")
    pia = ad.obj("podIdentityAgent")
    addons = ManagedAddonsConfig(
        vpc_cni_version=_addon_version(cni),
        prefix_delegation=cni.boolean("prefixDelegation", True),
        network_policy=cni.boolean("networkPolicy", False),
        coredns_version=_addon_version(coredns),
        kube_proxy_version=_addon_version(kproxy),
        pod_identity_agent=pia.boolean("enabled", True),
        pod_identity_agent_version=_addon_version(pia),
    )
    for sub in (cni, coredns, kproxy, pia):
        sub.done()
    ad.done()

    kc = o.obj("kubeconfig")
    kc_role = kc.string("roleArn")
    if kc_role is not None and not _ROLE_ARN.match(kc_role):
        kc.bad("roleArn", f"{show(kc_role)} is not an IAM role ARN (arn:aws:iam::111122223333:role/name)")
    kc_profile = kc.string("profile")
    if kc_profile is not None and not _AWS_PROFILE.match(kc_profile):
        kc.bad("profile", f"{show(kc_profile)} is not an AWS CLI profile name")
    kc.done()

    oidc = o.obj("oidc")
    thumbs = oidc.strings("extraThumbprints")
    for i, t in enumerate(thumbs):
        if not _THUMBPRINT.match(t):
            o.problems.add(f"{oidc.at('extraThumbprints')}[{i}]", f"{show(t)} is not a SHA-1 thumbprint (40 hex characters)")
    oidc.done()
    protect = o.boolean("protect", False)
    o.done()
    return ClusterConfig(
        name=name or default_name,
        version=version,
        service_ipv4_cidr=svc,
        control_plane_subnets=cp_subnets,
        endpoint=endpoint,
        kms_key_arn=kms_arn,
        kms_deletion_window_days=window,
        log_types=tuple(log_types),
        log_retention_days=retention,
        admin_role_arns=admins,
        read_only_role_arns=readers,
        addons=addons,
        kubeconfig_role_arn=kc_role,
        kubeconfig_profile=kc_profile,
        extra_thumbprints=tuple(t.lower() for t in thumbs),
        protect=protect,
    )


def _addon_version(o: Obj) -> str | None:
    version = o.string("version")
    if version is not None and not _ADDON_VERSION.match(version):
        o.bad("version", f"{show(version)} is not an EKS add-on version (v1.19.0-eksbuild.1)")
        return None
    return version


def _cross_checks(network: NetworkConfig, cluster: ClusterConfig, problems: Problems) -> None:
    if network.existing is None:
        try:
            vpc = ipaddress.IPv4Network(network.cidr)
            svc = ipaddress.IPv4Network(cluster.service_ipv4_cidr)
        except ValueError:
            return
        if vpc.overlaps(svc):
            problems.add("cluster.serviceIpv4Cidr",
                         f"{show(cluster.service_ipv4_cidr)} overlaps network.cidr {show(network.cidr)}")
    elif cluster.control_plane_subnets == "intra" and not network.existing.intra_subnet_ids:
        problems.add("cluster.controlPlaneSubnets",
                     '"intra" needs network.existing.intraSubnetIds (or set it to "private")')


# Zones where EKS cannot place control-plane ENIs (EKS user guide: UnsupportedAvailabilityZoneException).
EKS_UNSUPPORTED_ZONE_IDS = frozenset({"use1-az3", "usw1-az2", "cac1-az3"})


def check_zones(
    network: NetworkConfig, offered: tuple[str, ...], region: str, zone_ids: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The zones to use, given the zones the region offers (and their ids); ConfigError when they don't fit.

    Zones whose id EKS does not support are never picked automatically and are refused when named.
    """
    if network.existing is not None:
        return ()
    ids = dict(zip(offered, zone_ids, strict=False))
    unsupported = {z for z in offered if ids.get(z) in EKS_UNSUPPORTED_ZONE_IDS}
    usable = tuple(z for z in offered if z not in unsupported)
    if network.zone_names:
        unknown = [z for z in network.zone_names if z not in offered]
        if unknown:
            raise ConfigError([f"network.zoneNames: {show(unknown)} not offered in {region} ({', '.join(offered)})"])
        refused = [z for z in network.zone_names if z in unsupported]
        if refused:
            raise ConfigError([f"network.zoneNames: {show(refused)} ({', '.join(ids[z] for z in refused)}) cannot "
                               f"host EKS control planes; use {', '.join(usable)}"])
        return network.zone_names
    if network.availability_zones > len(usable):
        skipped = f" (EKS cannot use {', '.join(sorted(unsupported))})" if unsupported else ""
        raise ConfigError([
            f"network.availabilityZones: {network.availability_zones} is more than the "
            f"{len(usable)} zones {region} offers{skipped} ({', '.join(usable)})"
        ])
    return usable[: network.availability_zones]


# ---------------------------------------------------------------------------------------
# node groups
# ---------------------------------------------------------------------------------------
def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a label/taint key a node may carry, or None."""
    prefix, _, name = key.rpartition("/")
    if not _K8S_NAME.match(name):
        return "is not a valid Kubernetes label key (name part: 1-63 letters, digits, -, _, .)"
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "has a prefix that is not a DNS subdomain"
    reserved = prefix.endswith(("kubernetes.io", "k8s.io"))
    if reserved and key not in _KUBELET_ALLOWED_LABELS and not key.startswith(_KUBELET_ALLOWED_LABEL_PREFIXES):
        return ("is in a kubernetes.io/k8s.io namespace a kubelet may not set (NodeRestriction); "
                    "use your own prefix")
    return None


def _labels(o: Obj) -> dict[str, str]:
    labels = o.string_map("labels")
    for key, value in labels.items():
        problem = label_key_problem(key)
        if problem:
            o.problems.add(f"{o.at('labels')}.{key}", problem)
        if not _K8S_VALUE.match(value):
            o.problems.add(f"{o.at('labels')}.{key}", f"{show(value)} is not a valid label value (0-63 letters, digits, -, _, .)")
    return labels


def _taints(o: Obj) -> tuple[Taint, ...]:
    taints: list[Taint] = []
    for t in o.object_list("taints", "{key, value, effect}"):
        key = t.string("key", "", required=True)
        value = t.string("value", "")
        effect = t.string("effect", "NoSchedule", choices=TAINT_EFFECTS)
        t.done()
        if key:
            problem = label_key_problem(key)
            if problem:
                t.bad("key", f"{show(key)} {problem}")
        if value and not _K8S_VALUE.match(value):
            t.bad("value", f"{show(value)} is not a valid taint value (0-63 letters, digits, -, _, .)")
        taints.append(Taint(key or "", value or "", effect or "NoSchedule"))
    seen: set[tuple[str, str]] = set()
    for taint in taints:
        if (taint.key, taint.effect) in seen:
            o.bad("taints", f"{show(taint.key)} with effect {taint.effect} is listed twice")
        seen.add((taint.key, taint.effect))
    return tuple(sorted(taints, key=lambda t: (t.key, t.effect)))


def _ingress(o: Obj) -> tuple[IngressRule, ...]:
    rules = []
    for r in o.object_list("extraIngress", "rules"):
        proto = r.string("protocol", "tcp", choices=("tcp", "udp"))
        lo = r.integer("fromPort", None, lo=1, hi=65535)
        hi = r.integer("toPort", lo, lo=1, hi=65535)
        cidrs = r.strings("cidrs", required=True)
        for j, c in enumerate(cidrs):
            try:
                net = ipaddress.IPv4Network(c, strict=True)
                if net.prefixlen == 0:
                    r.problems.add(f"{r.at('cidrs')}[{j}]", f"{show(c)} opens the nodes to the whole internet")
            except ValueError:
                r.problems.add(f"{r.at('cidrs')}[{j}]", f"{show(c)} is not a valid IPv4 network")
        desc = r.string("description", "", required=True)
        r.done()
        if lo is None:
            r.bad("fromPort", "is required")
            continue
        if hi is not None and hi < lo:
            r.bad("toPort", f"{hi} is below fromPort {lo}")
        rules.append(IngressRule(proto or "tcp", lo, hi or lo, cidrs, desc or ""))
    return tuple(rules)


def _node_groups(root: Obj, network: NetworkConfig) -> dict[str, NodeGroupConfig]:
    groups = root.objects("nodeGroups")
    if not groups:
        root.bad("nodeGroups", "define at least one node group (CoreDNS and the add-ons need nodes)")
    out: dict[str, NodeGroupConfig] = {}
    for name, o in groups.items():
        if not _GROUP_NAME.match(name):
            o.problems.add(o.path, "group names are 1-32 lowercase letters, digits and -, used in resource names")
        out[name] = _node_group(name, o, network)
    return out


def _node_group(name: str, o: Obj, network: NetworkConfig) -> NodeGroupConfig:
    d = NodeGroupConfig
    kind = o.string("kind", None, required=True, choices=NODE_GROUP_KINDS)
    managed = kind == "managed"
    os_ = o.string("os", d.os, choices=NODE_OS)
    arch = o.string("architecture", d.architecture, choices=ARCHITECTURES)
    types = o.strings("instanceTypes", required=True)
    if o.has("instanceTypes") and not types and isinstance(o.value.get("instanceTypes"), list):
        o.bad("instanceTypes", "needs at least one instance type")
    for i, t in enumerate(types):
        if not _INSTANCE_TYPE.match(t):
            o.problems.add(f"{o.at('instanceTypes')}[{i}]", f"{show(t)} is not an EC2 instance type (m7i.large)")
    if len(set(types)) != len(types):
        o.bad("instanceTypes", f"{show(list(types))} lists a type twice")
    if len(types) > 20:
        o.bad("instanceTypes", "at most 20 instance types (an EC2 Auto Scaling limit)")

    cap = o.obj("capacity")
    spot = False
    base, pct, strategy = d.on_demand_base_capacity, d.on_demand_percentage_above_base, d.spot_allocation_strategy
    if managed:
        spot = cap.string("type", "onDemand", choices=("onDemand", "spot")) == "spot"
    else:
        base = cap.integer("onDemandBaseCapacity", d.on_demand_base_capacity, lo=0, hi=1000)
        pct = cap.integer("onDemandPercentageAboveBase", d.on_demand_percentage_above_base, lo=0, hi=100)
        strategy = cap.string("spotAllocationStrategy", d.spot_allocation_strategy, choices=SPOT_STRATEGIES)
    cap.done()

    sc = o.obj("scaling")
    lo = sc.integer("min", d.min_size, lo=0, hi=1000)
    hi = sc.integer("max", max(d.max_size, lo or 0), lo=1, hi=1000)
    desired = sc.integer("desired", lo, lo=0, hi=1000)
    if lo is not None and hi is not None and lo > hi:
        sc.bad("min", f"{lo} is greater than max {hi}")
    elif lo is not None and hi is not None and desired is not None and not lo <= desired <= hi:
        sc.bad("desired", f"{desired} is not between min {lo} and max {hi}")
    sc.done()

    labels = _labels(o)
    taints = _taints(o)

    rv = o.obj("rootVolume")
    size = rv.integer("sizeGiB", d.root_volume_gib, lo=20, hi=16384)
    iops = rv.integer("iops", d.root_volume_iops, lo=3000, hi=16000)
    throughput = rv.integer("throughput", d.root_volume_throughput, lo=125, hi=1000)
    rv.done()

    imds = o.obj("imds")
    hop = imds.integer("hopLimit", d.imds_hop_limit, lo=1, hi=2)
    imds.done()

    tier = o.string("subnets", d.subnets, choices=("private", "public"))
    if tier == "public" and network.existing is not None and not network.existing.public_subnet_ids:
        o.bad("subnets", '"public" needs network.existing.publicSubnetIds')
    sg_ids = o.strings("securityGroupIds")
    for i, sg in enumerate(sg_ids):
        if not _SG_ID.match(sg):
            o.problems.add(f"{o.at('securityGroupIds')}[{i}]", f"{show(sg)} is not a security group id")
    ingress = _ingress(o)

    iam = o.obj("iam")
    dedicated = iam.boolean("dedicatedRole", False)
    policies = iam.strings("extraPolicyArns")
    for i, arn in enumerate(policies):
        if not _POLICY_ARN.match(arn):
            iam.problems.add(f"{iam.at('extraPolicyArns')}[{i}]", f"{show(arn)} is not an IAM policy ARN")
    if policies and not dedicated:
        iam.bad("extraPolicyArns", "needs iam.dedicatedRole: true (the shared node role stays minimal)")
    iam.done()

    up = o.obj("update")
    max_unavailable = up.integer("maxUnavailable", d.max_unavailable, lo=1, hi=100) if managed else d.max_unavailable
    min_healthy = up.integer("minHealthyPercentage", d.min_healthy_percentage, lo=0, hi=100) if not managed else d.min_healthy_percentage
    up.done()

    max_pods = o.integer("maxPods", None, lo=8, hi=737)
    ami = o.string("amiId")
    if ami is not None and not _AMI_ID.match(ami):
        o.bad("amiId", f"{show(ami)} is not an AMI id (ami-0123456789abcdef0)")
    if ami is not None and managed:
        o.bad("amiId", "is only for selfManaged groups (managed groups use the EKS-optimized AMI of their os)")
    o.done()
    return NodeGroupConfig(
        name=name, kind=kind or "managed", os=os_, architecture=arch, instance_types=types, spot=spot,
        on_demand_base_capacity=base, on_demand_percentage_above_base=pct, spot_allocation_strategy=strategy,
        min_size=lo, desired_size=desired, max_size=hi, labels=labels, taints=taints, root_volume_gib=size,
        root_volume_iops=iops, root_volume_throughput=throughput, imds_hop_limit=hop, subnets=tier,
        security_group_ids=sg_ids, extra_ingress=ingress, dedicated_role=dedicated, extra_policy_arns=policies,
        max_unavailable=max_unavailable, min_healthy_percentage=min_healthy, max_pods=max_pods, ami_id=ami,
    )


# ---------------------------------------------------------------------------------------
# add-ons
# ---------------------------------------------------------------------------------------
_HOSTED_ZONE = re.compile(r"^Z[A-Z0-9]{1,31}$")
_DOMAIN = re.compile(r"^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z][-a-z0-9]{0,61}[a-z0-9]$")
_SSM_PATH = re.compile(r"^(/[A-Za-z0-9_.-]+)+/$")
_SM_PREFIX = re.compile(r"^[A-Za-z0-9/_+=.@-]+$")
DNS_POLICIES = ("upsert-only", "sync")
DNS_PROVIDERS = ("aws", "cloudflare")


def _values(o: Obj) -> dict[str, Any]:
    o.record("values", "object (Helm values)", {})
    value = o.raw("values")
    if value is _MISSING_SENTINEL or value is None:
        return {}
    if not isinstance(value, dict):
        o.bad("values", f"expected an object of Helm values, got {show(value)}")
        return {}
    return value


def _addons(o: Obj, groups: Mapping[str, NodeGroupConfig]) -> AddonsConfig:
    default_system = "system" if "system" in groups else None
    system = o.string("systemNodeGroup", default_system)
    if system is not None and groups and system not in groups:
        o.bad("systemNodeGroup", f"{show(system)} is not a node group ({', '.join(sorted(groups))})")
    has_self_managed = any(not g.managed for g in groups.values())

    ca = o.obj("clusterAutoscaler")
    cluster_autoscaler = AddonConfig(enabled=ca.boolean("enabled", True), values=_values(ca))
    ca.done()

    lb = o.obj("awsLoadBalancerController")
    lbc = AddonConfig(enabled=lb.boolean("enabled", True), values=_values(lb))
    lb.done()

    es = o.obj("externalSecrets")
    es_enabled = es.boolean("enabled", es.has("ssmPathPrefix") or es.has("secretsManagerPrefix"))
    ssm_prefix = es.string("ssmPathPrefix")
    if ssm_prefix is not None and not _SSM_PATH.match(ssm_prefix):
        es.bad("ssmPathPrefix", f"{show(ssm_prefix)} must be a Parameter Store path like \"/prod/\" (not \"/\" alone)")
    sm_prefix = es.string("secretsManagerPrefix")
    if sm_prefix is not None and (not _SM_PREFIX.match(sm_prefix) or sm_prefix in ("/",)):
        es.bad("secretsManagerPrefix", f"{show(sm_prefix)} must be a secret name prefix like \"prod/\" (no wildcards)")
    kms_arns = es.strings("kmsKeyArns")
    for i, arn in enumerate(kms_arns):
        if not _KMS_ARN.match(arn):
            es.problems.add(f"{es.at('kmsKeyArns')}[{i}]", f"{show(arn)} is not a KMS key ARN")
    if es_enabled and ssm_prefix is None and sm_prefix is None:
        es.bad("enabled", "needs ssmPathPrefix and/or secretsManagerPrefix: external-secrets is never given access to every secret")
    external_secrets = ExternalSecretsConfig(
        enabled=es_enabled, values=_values(es), ssm_path_prefix=ssm_prefix, secrets_manager_prefix=sm_prefix,
        kms_key_arns=kms_arns,
    )
    es.done()

    ed = o.obj("externalDns")
    ed_enabled = ed.boolean("enabled", ed.has("domainFilters") or ed.has("hostedZoneIds"))
    provider = ed.string("provider", "aws", choices=DNS_PROVIDERS)
    domains = tuple(d.lower() for d in ed.strings("domainFilters"))
    for i, d in enumerate(domains):
        if not _DOMAIN.match(d):
            ed.problems.add(f"{ed.at('domainFilters')}[{i}]", f"{show(d)} is not a DNS domain")
    zones = ed.strings("hostedZoneIds")
    for i, z in enumerate(zones):
        if not _HOSTED_ZONE.match(z):
            ed.problems.add(f"{ed.at('hostedZoneIds')}[{i}]", f"{show(z)} is not a Route 53 hosted zone id (Z0123456789ABC)")
    policy = ed.string("policy", "upsert-only", choices=DNS_POLICIES)
    cf = ed.obj("cloudflare")
    token_param = cf.string("apiTokenParameter")
    cf.done()
    if ed_enabled:
        if not domains:
            ed.bad("domainFilters", "is required when external-dns is enabled (it must not manage every zone)")
        if provider == "aws" and not zones:
            ed.bad("hostedZoneIds", "is required with provider aws: the IAM policy is scoped to these zones")
        if provider == "cloudflare":
            if token_param is None:
                cf.bad("apiTokenParameter", "is required with provider cloudflare (a Parameter Store name)")
            elif not external_secrets.enabled or not external_secrets.ssm_path_prefix:
                cf.bad("apiTokenParameter", "needs addons.externalSecrets with an ssmPathPrefix to sync the token")
            elif not token_param.startswith(external_secrets.ssm_path_prefix):
                cf.bad("apiTokenParameter", f"{show(token_param)} is outside addons.externalSecrets.ssmPathPrefix "
                                            f"{show(external_secrets.ssm_path_prefix)}, so external-secrets cannot read it")
            if zones:
                ed.bad("hostedZoneIds", "is for provider aws (Route 53)")
    external_dns = ExternalDnsConfig(
        enabled=ed_enabled, values=_values(ed), provider=provider or "aws", domain_filters=domains,
        hosted_zone_ids=zones, policy=policy or "upsert-only", cloudflare_token_parameter=token_param,
    )
    ed.done()

    nt = o.obj("nodeTerminationHandler")
    nth_enabled = nt.boolean("enabled", has_self_managed)
    if nth_enabled and not has_self_managed and nt.has("enabled"):
        nt.bad("enabled", "there is no selfManaged node group for the termination handler to serve")
    if not nth_enabled and has_self_managed and nt.has("enabled"):
        nt.bad("enabled", "self-managed groups have a terminating lifecycle hook: without the handler every "
                          "scale-in waits for its heartbeat timeout")
    nth = AddonConfig(enabled=nth_enabled and has_self_managed, values=_values(nt))
    nt.done()
    o.done()
    return AddonsConfig(
        system_node_group=system, cluster_autoscaler=cluster_autoscaler, load_balancer_controller=lbc,
        external_secrets=external_secrets, external_dns=external_dns, node_termination_handler=nth,
    )
