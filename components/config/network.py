"""``eks-platform:network``: the VPC, or a brought one."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import model_validator

from components.config import subnets
from components.config.base import (
    SUBNET_ID,
    SUBNET_ID_WHAT,
    Cidr,
    Model,
    Problems,
    RetentionDays,
    VpcId,
    integer,
    items,
    matches,
    show,
)

_SUBNET_SCHEMA = {"type": "string", "pattern": f"^{SUBNET_ID}$"}
SubnetIds = Annotated[tuple[str, ...], items(matches(SUBNET_ID, SUBNET_ID_WHAT), "subnet", schema=_SUBNET_SCHEMA)]

# Interface endpoints an EKS platform commonly needs (private nodes without NAT, SSM access, IRSA).
INTERFACE_ENDPOINTS = (
    "autoscaling",
    "ec2",
    "ec2messages",
    "ecr.api",
    "ecr.dkr",
    "eks",
    "eks-auth",
    "elasticloadbalancing",
    "events",
    "kms",
    "logs",
    "secretsmanager",
    "sqs",
    "ssm",
    "ssmmessages",
    "sts",
)
# What Session Manager needs when nodes or the access host have no route out (AWS Systems Manager
# User Guide, "Use VPC endpoints": ssm, ssmmessages, ec2messages).
SSM_ENDPOINTS = ("ec2messages", "ssm", "ssmmessages")


class SubnetPrefixLengths(Model):
    """Subnet sizes per tier (prefix lengths)."""

    private: Annotated[int, integer(16, 28)] | None = None
    """Nodes, pods, internal load balancers. Default: zone block + 1 (/19 in a /16)."""
    public: Annotated[int, integer(16, 28)] | None = None
    """Internet-facing load balancers, NAT gateways. Default: zone block + 4 (/22 in a /16)."""
    intra: Annotated[int, integer(16, 28)] | None = None
    """No internet route; control-plane ENIs. Default: zone block + 6 (/24 in a /16)."""

    def overrides(self) -> dict[str, int | None]:
        return {"private": self.private, "public": self.public, "intra": self.intra}


class Endpoints(Model):
    """VPC endpoints."""

    s3_gateway: bool = True
    """S3 gateway endpoint on the private and intra route tables."""
    interface: Annotated[
        tuple[str, ...],
        items(
            lambda v: (
                None if v in INTERFACE_ENDPOINTS else f"is not a supported endpoint ({', '.join(INTERFACE_ENDPOINTS)})"
            ),
            "endpoint",
            schema={"enum": list(INTERFACE_ENDPOINTS)},
        ),
    ] = ()
    """Interface endpoints (private DNS, in the private subnets)."""


class FlowLogs(Model):
    """VPC flow logs to CloudWatch Logs."""

    enabled: bool = False
    """Turn flow logs on (the guardrails require them outside dev)."""
    retention_days: RetentionDays = 30
    """A CloudWatch Logs retention in days."""
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"
    """Which traffic to log."""


class ExistingVpc(Model):
    """Bring your own VPC: nothing is created and the same outputs are returned."""

    vpc_id: VpcId
    """The VPC id."""
    private_subnet_ids: Annotated[
        tuple[str, ...],
        items(
            matches(SUBNET_ID, SUBNET_ID_WHAT),
            "subnet",
            schema=_SUBNET_SCHEMA,
            min_items=2,
            too_few="EKS needs subnets in at least two availability zones",
        ),
    ]
    """Private subnets, at least two zones."""
    public_subnet_ids: SubnetIds = ()
    """Public subnets (for internet-facing load balancers, public node groups)."""
    intra_subnet_ids: SubnetIds = ()
    """Intra subnets; required when cluster.controlPlaneSubnets is intra."""
    pod_subnet_ids: SubnetIds = ()
    """Pod subnets (custom networking: pods take their addresses here, not in the nodes' subnets), one per zone of
    the private subnets, in a secondary CIDR of the VPC; an ENIConfig named after each subnet's zone is created."""

    @model_validator(mode="after")
    def _tiers(self) -> ExistingVpc:
        found = Problems()
        if self.pod_subnet_ids and len(self.pod_subnet_ids) != len(self.private_subnet_ids):
            found.add(
                "podSubnetIds",
                f"{len(self.pod_subnet_ids)} subnets for {len(self.private_subnet_ids)} zones "
                "(privateSubnetIds): custom networking needs one pod subnet per zone",
            )
        seen: dict[str, str] = {}
        for key in ("privateSubnetIds", "publicSubnetIds", "intraSubnetIds", "podSubnetIds"):
            for sid in getattr(self, _snake(key)):
                if sid in seen and seen[sid] != key:
                    found.add(key, f"{show(sid)} is also listed in network.existing.{seen[sid]}")
                seen.setdefault(sid, key)
        found.check()
        return self


def _snake(alias: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in alias)


class NetworkConfig(Model):
    """The VPC: created here (subnet tiers per zone, NAT, endpoints, flow logs) or brought with `existing`."""

    cidr: Cidr = "10.0.0.0/16"
    """VPC CIDR, /16-/28, inside 10/8, 172.16/12, 192.168/16 or 100.64/10."""
    availability_zones: Annotated[int, integer(2, 6)] | None = None
    """How many zones: the first N the region offers that EKS can use. Default: 2, or the number of zoneNames."""
    zone_names: Annotated[tuple[str, ...], items(lambda v: None, "zone")] = ()
    """Explicit availability zones: at least two, offered by the region, and not one EKS cannot use (zone ids
    use1-az3, usw1-az2, cac1-az3)."""
    max_availability_zones: Annotated[int, integer(2, 16)] | None = None
    """The VPC is split into this many per-zone blocks (rounded up to a power of two); unused blocks are room to
    add zones later. Default: 4, or availabilityZones if larger."""
    subnet_prefix_lengths: SubnetPrefixLengths = SubnetPrefixLengths()
    nat_gateways: Literal["single", "perAz", "none"] = "single"
    """One NAT gateway for all zones (cheap), one per zone (no cross-zone dependency), or none."""
    endpoints: Endpoints = Endpoints()
    flow_logs: FlowLogs = FlowLogs()
    pod_cidr: Cidr | None = None
    """Custom networking: a secondary VPC CIDR (from 100.64.0.0/10, 198.19.0.0/16 or the primary CIDR's RFC 1918
    range) split into one pod subnet per zone, routed like the private tier; pods take their addresses there and
    nodes keep theirs in the private subnets (e.g. 100.64.0.0/16)."""
    existing: ExistingVpc | None = None

    @property
    def custom_networking(self) -> bool:
        return self.pod_cidr is not None or bool(self.existing and self.existing.pod_subnet_ids)

    @property
    def zone_count(self) -> int:
        return self.availability_zones or len(self.zone_names) or 2

    @property
    def max_azs(self) -> int:
        return self.max_availability_zones or max(4, self.zone_count)

    @model_validator(mode="after")
    def _layout(self) -> NetworkConfig:
        found = Problems()
        given = {_ALIASES[f] for f in self.model_fields_set}
        if self.existing is not None:
            for key in sorted(given - {"existing"}):
                found.add(key, "cannot be combined with network.existing (a brought VPC is used as it is)")
            found.check()
            return self
        if 0 < len(self.zone_names) < 2:
            found.add("zoneNames", f"{show(list(self.zone_names))}: EKS needs at least two availability zones")
        if self.zone_names and self.availability_zones and self.availability_zones != len(self.zone_names):
            found.add(
                "availabilityZones",
                f"{self.availability_zones} does not match the {len(self.zone_names)} zones in network.zoneNames",
            )
        layout = subnets.layout_problems(
            self.cidr, self.zone_count, self.max_azs, self.subnet_prefix_lengths.overrides()
        )
        for key, message in layout:
            found.add(tuple(key.split(".")), message)
        if self.pod_cidr is not None and not layout:
            for message in subnets.pod_cidr_problems(self.pod_cidr, self.cidr, self.max_azs):
                found.add("podCidr", message)
        found.check()
        return self


_ALIASES = {name: info.alias or name for name, info in NetworkConfig.model_fields.items()}
