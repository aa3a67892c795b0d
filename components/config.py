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
from components.configreader import Obj, Problems, show

PROJECT = "eks-platform"
TOP_LEVEL_KEYS = ("tags", "network", "cluster")

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
class PlatformConfig:
    project: str
    stack: str
    region: str
    tags: Mapping[str, str]
    network: NetworkConfig
    cluster: ClusterConfig


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
    _cross_checks(network, cluster, problems)
    root.done()
    if problems:
        raise ConfigError(problems.items)
    return PlatformConfig(
        project=project, stack=stack, region=region or "", tags=tags, network=network, cluster=cluster
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


def check_zones(network: NetworkConfig, offered: tuple[str, ...], region: str) -> tuple[str, ...]:
    """The zones to use, given the zones the region offers; ConfigError when they don't fit."""
    if network.existing is not None:
        return ()
    if network.zone_names:
        unknown = [z for z in network.zone_names if z not in offered]
        if unknown:
            raise ConfigError([f"network.zoneNames: {show(unknown)} not offered in {region} ({', '.join(offered)})"])
        return network.zone_names
    if network.availability_zones > len(offered):
        raise ConfigError([
            f"network.availabilityZones: {network.availability_zones} is more than the "
            f"{len(offered)} zones {region} offers ({', '.join(offered)})"
        ])
    return tuple(offered[: network.availability_zones])
