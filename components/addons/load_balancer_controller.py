"""AWS Load Balancer Controller: ALBs for Ingresses, NLBs for Services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.addons.base import (
    AddonContext,
    HelmAddon,
    HelmAddonArgs,
    iam_policy_json,
    service_account_values,
)
from components.config import PlatformConfig
from components.config.charts import ChartSpec, catalog, policy_document
from components.context import AwsContext
from components.identity import ServiceAccount

KEY = "awsLoadBalancerController"
POLICY = "aws-load-balancer-controller"


def policy(ctx: AwsContext, vpc_id: str) -> dict[str, Any]:
    """The catalog's policy template, pinned to this partition, region, account and VPC."""
    return policy_document(
        POLICY,
        {
            "partition": ctx.partition,
            "region": ctx.region,
            "account": ctx.account_id,
            "vpcArn": ctx.arn("ec2", f"vpc/{vpc_id}"),
        },
    )


def values(spec: ChartSpec, ctx: AddonContext, role_arn: str | None, vpc_id: str) -> dict[str, Any]:
    # region and vpcId are always explicit: with an IMDS hop limit of 1 the controller
    # cannot discover them from instance metadata, and explicit is stable anyway.
    return {
        "clusterName": ctx.cluster_name,
        "region": ctx.region,
        "vpcId": vpc_id,
        "replicaCount": 2,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "serviceAccount": service_account_values(ServiceAccount(spec.namespace, spec.service_account), role_arn),
        "defaultTags": {"eks-platform/cluster": ctx.cluster_name},
        **ctx.placement,
    }


class LoadBalancerController(HelmAddon):
    TYPE = "eks-platform:addons:LoadBalancerController"


def build(
    name: str, ctx: AddonContext, cfg: PlatformConfig, built: Mapping[str, HelmAddon]
) -> LoadBalancerController | None:
    config = cfg.addons.load_balancer_controller
    if not config.enabled:
        return None
    spec = catalog()[KEY]
    document = pulumi.Output.from_input(ctx.vpc_id).apply(lambda v: iam_policy_json(policy(ctx.aws, v)))
    return LoadBalancerController(
        name,
        HelmAddonArgs(
            spec=spec,
            config=config,
            context=ctx,
            values=lambda resolved: values(spec, ctx, resolved["roleArn"], resolved["vpcId"]),
            inputs={"vpcId": ctx.vpc_id},
            policies={"load-balancing": document},
        ),
    )
