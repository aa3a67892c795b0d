"""The whole platform, built from a validated config: what ``__main__.py`` runs.

Order of work: every config check that needs the cloud (the region's zones) runs
before the first resource is registered, so a bad config creates nothing.
"""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws

from components import config as cfgmod
from components.cluster import Cluster, ClusterArgs, CoreDns, CoreDnsArgs
from components.config import PlatformConfig
from components.context import AwsContext
from components.network import Network, NetworkArgs
from components.tags import base_tags


def account_context(cfg: PlatformConfig) -> AwsContext:
    identity = aws.get_caller_identity()
    partition = aws.get_partition()
    return AwsContext(
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.region,
        dns_suffix=partition.dns_suffix,
        tags=base_tags(cfg.project, cfg.stack, cfg.tags),
    )


def build(cfg: PlatformConfig) -> dict[str, Any]:
    """Register every resource of the platform; return the stack outputs."""
    zones: tuple[str, ...] = ()
    if cfg.network.existing is None:
        offered = tuple(aws.get_availability_zones(state="available").names)
        zones = cfgmod.check_zones(cfg.network, offered, cfg.region)
    ctx = account_context(cfg)

    network = Network(
        cfg.cluster.name,
        NetworkArgs(config=cfg.network, zones=zones, cluster_name=cfg.cluster.name, ctx=ctx),
    )
    control_plane_subnets = (
        network.intra_subnet_ids if cfg.cluster.control_plane_subnets == "intra" else network.private_subnet_ids
    )
    cluster = Cluster(
        cfg.cluster.name,
        ClusterArgs(
            config=cfg.cluster, vpc_id=network.vpc_id, vpc_cidr=network.vpc_cidr,
            subnet_ids=control_plane_subnets, ctx=ctx,
        ),
    )
    node_groups: list = []
    CoreDns(
        f"{cfg.cluster.name}-coredns",
        CoreDnsArgs(cluster_name=cluster.name, version=cfg.cluster.addons.coredns_version, ctx=ctx, after=node_groups),
    )
    return {
        "availabilityZones": list(network.zones),
        "vpcId": network.vpc_id,
        "vpcCidr": network.vpc_cidr,
        "publicSubnetIds": network.public_subnet_ids,
        "privateSubnetIds": network.private_subnet_ids,
        "intraSubnetIds": network.intra_subnet_ids,
        "natPublicIps": network.nat_public_ips,
        "clusterName": cluster.name,
        "clusterEndpoint": cluster.endpoint,
        "clusterCertificateAuthority": cluster.certificate_authority,
        "clusterVersion": cluster.version,
        "clusterSecurityGroupId": cluster.cluster_security_group_id,
        "clusterAdditionalSecurityGroupId": cluster.additional_security_group_id,
        "kmsKeyArn": cluster.kms_key_arn,
        "oidcProviderArn": cluster.oidc.arn,
        "oidcIssuerUrl": cluster.oidc.issuer_url,
        "kubeconfig": cluster.kubeconfig,
        "kubeconfigCommand": cluster.kubeconfig_command,
    }
