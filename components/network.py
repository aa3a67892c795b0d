"""Network: the VPC, per-AZ subnet tiers, IGW/NAT, routes, endpoints and flow logs — or a brought VPC.

Decisions (subnet carving, NAT placement, tags) are pure functions; the component only
registers resources. Child names are ``<name>-<what>-<zone>``: stable across config
changes that do not touch that zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import names
from components.config import NetworkConfig, subnets
from components.config.network import ExistingVpc
from components.config.tags import tagged
from components.context import AwsContext
from components.iamdocs import document, service_trust


# ---------------------------------------------------------------------------------------
# pure decisions
# ---------------------------------------------------------------------------------------
def subnet_tags(tier: str, cluster_name: str, karpenter: bool = False) -> dict[str, str]:
    """Discovery tags EKS and the AWS Load Balancer Controller rely on (and Karpenter's, on the private subnets its
    EC2NodeClasses select)."""
    tags = {"eks-platform/tier": tier, f"kubernetes.io/cluster/{cluster_name}": "shared"}
    if tier == "public":
        tags["kubernetes.io/role/elb"] = "1"
    elif tier == "private":
        tags["kubernetes.io/role/internal-elb"] = "1"
        if karpenter:
            tags["karpenter.sh/discovery"] = cluster_name
    # pod subnets carry no load-balancer role: the controllers must never place a load balancer there
    return tags


def nat_placement(mode: str, zones: Sequence[str]) -> dict[str, str]:
    """For each zone, the zone whose NAT gateway its private subnet routes through."""
    if mode == "none" or not zones:
        return {}
    if mode == "single":
        return dict.fromkeys(zones, zones[0])
    return {z: z for z in zones}


def flow_log_trust_policy(ctx: AwsContext) -> str:
    """Only the VPC Flow Logs service, acting for this account, may assume the delivery role."""
    return service_trust(
        ctx.service_principal("vpc-flow-logs"),
        condition={
            "StringEquals": {"aws:SourceAccount": ctx.account_id},
            "ArnLike": {"aws:SourceArn": ctx.arn("ec2", "vpc-flow-log/*")},
        },
    )


def flow_log_policy(log_group_arn: str) -> str:
    """Write access to the one log group (and its streams) the flow log delivers to."""
    return document(
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"],
        }
    )


# ---------------------------------------------------------------------------------------
# component
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NetworkArgs:
    config: NetworkConfig
    zones: tuple[str, ...]
    cluster_name: str
    ctx: AwsContext
    karpenter_discovery: bool = False


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    zones: tuple[str, ...]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    intra_subnet_ids: pulumi.Output[list[str]]
    nat_public_ips: pulumi.Output[list[str]]
    # Custom networking: {key: (zone, pod subnet id)}, keyed by zone (a brought VPC: by subnet id, its zone looked up).
    pod_subnets: dict[str, tuple[pulumi.Input[str], pulumi.Input[str]]]
    pod_subnet_ids: pulumi.Output[list[str]]
    # Custom networking: the CIDRs pods take their addresses from (network.podCidr, or the brought pod subnets').
    pod_cidrs: list[pulumi.Input[str]]
    # What nodes need before they boot: their subnets' routes out (NAT) and the endpoints.
    egress_ready: list[pulumi.Resource]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:network:Network", name, None, opts)
        self._name = name
        self._args = args
        if args.config.existing is not None:
            self._adopt(args.config.existing)
        else:
            self._create()
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": self.vpc_cidr,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "intraSubnetIds": self.intra_subnet_ids,
                "podSubnetIds": self.pod_subnet_ids,
            }
        )

    def _child(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    # -- bring your own VPC ---------------------------------------------------------
    def _adopt(self, existing: ExistingVpc) -> None:
        self.zones = ()
        self.vpc_id = pulumi.Output.from_input(existing.vpc_id)
        self.vpc_cidr = aws.ec2.get_vpc_output(
            id=existing.vpc_id, opts=pulumi.InvokeOutputOptions(parent=self)
        ).cidr_block
        self.public_subnet_ids = pulumi.Output.from_input(list(existing.public_subnet_ids))
        self.private_subnet_ids = pulumi.Output.from_input(list(existing.private_subnet_ids))
        self.intra_subnet_ids = pulumi.Output.from_input(list(existing.intra_subnet_ids))
        self.nat_public_ips = pulumi.Output.from_input([])
        self.nat_gateway_ids: dict[str, pulumi.Output[str]] = {}
        self.egress_ready = []
        found = {
            sid: aws.ec2.get_subnet_output(id=sid, opts=pulumi.InvokeOutputOptions(parent=self))
            for sid in existing.pod_subnet_ids
        }
        self.pod_subnets = {sid: (subnet.availability_zone, sid) for sid, subnet in found.items()}
        self.pod_subnet_ids = pulumi.Output.from_input(list(existing.pod_subnet_ids))
        self.pod_cidrs = [subnet.cidr_block for subnet in found.values()]

    # -- a new VPC ------------------------------------------------------------------
    def _create(self) -> None:
        cfg, zones = self._args.config, self._args.zones
        layout = subnets.carve(cfg.cidr, zones, cfg.max_azs, cfg.subnet_prefix_lengths.overrides())
        self.zones = zones
        vpc, igw = self._vpc(layout.vpc_cidr)
        subnet_ids: dict[str, dict[str, pulumi.Output[str]]] = {t: {} for t in subnets.TIERS}
        for spec in layout.subnets:
            subnet_ids[spec.tier][spec.zone] = self._subnet(vpc, spec).id
        nat_ids, nat_ips = self._nat_gateways(subnet_ids["public"], igw)
        route_tables, private_route_tables, ready = self._route_tables(vpc, igw, subnet_ids, nat_ids)
        self.pod_subnets = self._pod_subnets(vpc, private_route_tables, ready)
        self.pod_subnet_ids = pulumi.Output.all(*[sid for _, sid in self.pod_subnets.values()])
        self.pod_cidrs = [cfg.pod_cidr] if cfg.pod_cidr else []
        ready += self._endpoints(vpc, layout.vpc_cidr, [subnet_ids["private"][z] for z in zones], route_tables)
        if cfg.flow_logs.enabled:
            self._flow_logs(vpc)

        self.vpc_id = vpc.id
        self.vpc_cidr = pulumi.Output.from_input(layout.vpc_cidr)
        self.public_subnet_ids = pulumi.Output.all(*[subnet_ids["public"][z] for z in zones])
        self.private_subnet_ids = pulumi.Output.all(*[subnet_ids["private"][z] for z in zones])
        self.intra_subnet_ids = pulumi.Output.all(*[subnet_ids["intra"][z] for z in zones])
        self.nat_public_ips = pulumi.Output.all(*nat_ips)
        self.nat_gateway_ids = nat_ids  # {zone: id}: the alarms watch each one
        self.egress_ready = ready

    def _vpc(self, cidr: str) -> tuple[aws.ec2.Vpc, aws.ec2.InternetGateway]:
        name, base = self._name, self._args.ctx.tags
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=tagged(base, f"{name}-vpc"),
            opts=self._child(),
        )
        # No rules: the default security group must not allow anything (CIS AWS 5.4).
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags=tagged(base, f"{name}-default-sg"),
            opts=self._child(),
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=tagged(base, f"{name}-igw"), opts=self._child()
        )
        return vpc, igw

    def _nat_gateways(
        self, public_subnet_ids: dict[str, pulumi.Output[str]], igw: aws.ec2.InternetGateway
    ) -> tuple[dict[str, pulumi.Output[str]], list[pulumi.Output[str]]]:
        """A NAT gateway (and its Elastic IP) in each zone that hosts one: ``({zone: id}, [public IPs])``."""
        name, base, zones = self._name, self._args.ctx.tags, self._args.zones
        nat_ids: dict[str, pulumi.Output[str]] = {}
        nat_ips: list[pulumi.Output[str]] = []
        for zone in sorted(set(nat_placement(self._args.config.nat_gateways, zones).values()), key=zones.index):
            eip = aws.ec2.Eip(
                f"{name}-nat-{zone}", domain="vpc", tags=tagged(base, f"{name}-nat-{zone}"), opts=self._child()
            )
            nat = aws.ec2.NatGateway(
                f"{name}-nat-{zone}",
                allocation_id=eip.id,
                subnet_id=public_subnet_ids[zone],
                connectivity_type="public",
                tags=tagged(base, f"{name}-nat-{zone}"),
                opts=self._child(depends_on=[igw]),
            )
            nat_ids[zone] = nat.id
            nat_ips.append(eip.public_ip)
        return nat_ids, nat_ips

    def _route_tables(
        self,
        vpc: aws.ec2.Vpc,
        igw: aws.ec2.InternetGateway,
        subnet_ids: dict[str, dict[str, pulumi.Output[str]]],
        nat_ids: dict[str, pulumi.Output[str]],
    ) -> tuple[dict[str, list[pulumi.Output[str]]], dict[str, aws.ec2.RouteTable], list[pulumi.Resource]]:
        """A route table per tier and zone: ``({tier: [ids]}, {zone: private table}, what egress waits for)``."""
        name, base, zones = self._name, self._args.ctx.tags, self._args.zones
        route_tables: dict[str, list[pulumi.Output[str]]] = {t: [] for t in subnets.TIERS}
        ready: list[pulumi.Resource] = []
        placement = nat_placement(self._args.config.nat_gateways, zones)
        private_route_tables: dict[str, aws.ec2.RouteTable] = {}
        for zone in zones:
            for tier in subnets.TIERS:
                rt = aws.ec2.RouteTable(
                    f"{name}-{tier}-{zone}",
                    vpc_id=vpc.id,
                    tags=tagged(base, f"{name}-{tier}-{zone}", **{"eks-platform/tier": tier}),
                    opts=self._child(),
                )
                if tier == "private":
                    private_route_tables[zone] = rt
                route_tables[tier].append(rt.id)
                ready.append(
                    aws.ec2.RouteTableAssociation(
                        f"{name}-{tier}-{zone}",
                        route_table_id=rt.id,
                        subnet_id=subnet_ids[tier][zone],
                        opts=self._child(),
                    )
                )
                if tier == "public":
                    aws.ec2.Route(
                        f"{name}-{tier}-{zone}-default",
                        route_table_id=rt.id,
                        destination_cidr_block="0.0.0.0/0",
                        gateway_id=igw.id,
                        opts=self._child(),
                    )
                elif tier == "private" and zone in placement:
                    ready.append(
                        aws.ec2.Route(
                            f"{name}-{tier}-{zone}-default",
                            route_table_id=rt.id,
                            destination_cidr_block="0.0.0.0/0",
                            nat_gateway_id=nat_ids[placement[zone]],
                            opts=self._child(),
                        )
                    )
                # intra: no route out of the VPC on purpose.
        return route_tables, private_route_tables, ready

    def _endpoints(
        self,
        vpc: aws.ec2.Vpc,
        vpc_cidr: str,
        private_ids: list[pulumi.Output[str]],
        route_tables: dict[str, list[pulumi.Output[str]]],
    ) -> list[pulumi.Resource]:
        """The S3 gateway endpoint and the interface endpoints (one security group: HTTPS from the VPC)."""
        cfg, ctx, name, base = self._args.config, self._args.ctx, self._name, self._args.ctx.tags
        out: list[pulumi.Resource] = []
        if cfg.endpoints.s3_gateway:
            out.append(
                aws.ec2.VpcEndpoint(
                    f"{name}-s3",
                    vpc_id=vpc.id,
                    service_name=ctx.endpoint_service("s3"),
                    vpc_endpoint_type="Gateway",
                    route_table_ids=route_tables["private"] + route_tables["intra"],
                    tags=tagged(base, f"{name}-s3"),
                    opts=self._child(),
                )
            )
        if not cfg.endpoints.interface:
            return out
        sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            **names.autoname(names.SECURITY_GROUP, f"{name}-endpoints", vpc.id),
            vpc_id=vpc.id,
            description="HTTPS from inside the VPC to its interface endpoints",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=[vpc_cidr],
                    description="HTTPS from the VPC",
                )
            ],
            egress=[],
            tags=tagged(base, f"{name}-endpoints"),
            opts=self._child(),
        )
        for service in sorted(cfg.endpoints.interface):
            out.append(
                aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}",
                    vpc_id=vpc.id,
                    service_name=ctx.endpoint_service(service),
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=private_ids,
                    security_group_ids=[sg.id],
                    tags=tagged(base, f"{name}-{service}"),
                    opts=self._child(),
                )
            )
        return out

    def _subnet(self, vpc: aws.ec2.Vpc, spec: subnets.SubnetSpec, **opts: Any) -> aws.ec2.Subnet:
        """One subnet of a tier in a zone, with the tier's discovery tags."""
        name = f"{self._name}-{spec.tier}-{spec.zone}"
        return aws.ec2.Subnet(
            name,
            vpc_id=vpc.id,
            cidr_block=spec.cidr,
            availability_zone=spec.zone,
            map_public_ip_on_launch=False,
            tags=tagged(
                self._args.ctx.tags,
                name,
                **subnet_tags(spec.tier, self._args.cluster_name, self._args.karpenter_discovery),
            ),
            opts=self._child(**opts),
        )

    def _pod_subnets(
        self, vpc: aws.ec2.Vpc, route_tables: Mapping[str, aws.ec2.RouteTable], ready: list[pulumi.Resource]
    ) -> dict[str, tuple[pulumi.Input[str], pulumi.Input[str]]]:
        """Custom networking: the pod CIDR associated to the VPC, one pod subnet per zone, each routed through its
        zone's private route table (same NAT and S3 endpoint as the nodes)."""
        cfg, name = self._args.config, self._name
        if cfg.pod_cidr is None:
            return {}
        association = aws.ec2.VpcIpv4CidrBlockAssociation(
            f"{name}-pod-cidr",
            vpc_id=vpc.id,
            cidr_block=cfg.pod_cidr,
            opts=self._child(),
        )
        out: dict[str, tuple[pulumi.Input[str], pulumi.Input[str]]] = {}
        for spec in subnets.pod_subnets(cfg.pod_cidr, self.zones, cfg.max_azs):
            # A subnet can only be carved from a CIDR once it is associated (depends_on: vpc_id alone does not wait).
            sn = self._subnet(vpc, spec, depends_on=[association])
            ready.append(
                aws.ec2.RouteTableAssociation(
                    f"{name}-pod-{spec.zone}",
                    route_table_id=route_tables[spec.zone].id,
                    subnet_id=sn.id,
                    opts=self._child(),
                )
            )
            out[spec.zone] = (spec.zone, sn.id)
        return out

    def _flow_logs(self, vpc: aws.ec2.Vpc) -> None:
        cfg, ctx, name = self._args.config.flow_logs, self._args.ctx, self._name
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/aws/vpc/{self._args.cluster_name}/flow-logs",
            retention_in_days=cfg.retention_days,
            **ctx.log_key(),
            tags=tagged(ctx.tags, f"{name}-flow-logs"),
            opts=self._child(),
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            **names.autoname(names.ROLE, f"{name}-flow-logs"),
            **ctx.boundary(),
            assume_role_policy=flow_log_trust_policy(ctx),
            description="VPC Flow Logs delivery to CloudWatch Logs",
            tags=tagged(ctx.tags, f"{name}-flow-logs"),
            opts=self._child(),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            **names.autoname(names.ROLE_POLICY, f"{name}-flow-logs"),
            role=role.id,
            policy=group.arn.apply(flow_log_policy),
            opts=self._child(),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type=cfg.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=tagged(ctx.tags, f"{name}-flow-logs"),
            opts=self._child(),
        )


def subnet_ids_by_tier(network: Network) -> Mapping[str, pulumi.Output[list[str]]]:
    return {
        "public": network.public_subnet_ids,
        "private": network.private_subnet_ids,
        "intra": network.intra_subnet_ids,
        "pod": network.pod_subnet_ids,
    }
