"""aws-node-termination-handler in queue mode: drains self-managed nodes before EC2 takes them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from components.config.charts import ChartSpec, catalog
from components.config.nodetags import NTH_MANAGED_TAG
from components.context import AwsContext
from components.identity import ServiceAccount

KEY = "nodeTerminationHandler"


def policy(ctx: AwsContext, cluster_name: str, queue_arn: str, asg_names: Sequence[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CompleteLifecycleActionsOfOwnGroups",
                "Effect": "Allow",
                "Action": ["autoscaling:CompleteLifecycleAction"],
                "Resource": [
                    ctx.arn("autoscaling", f"autoScalingGroup:*:autoScalingGroupName/{n}") for n in sorted(asg_names)
                ],
            },
            {
                "Sid": "Describe",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeInstances",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ConsumeTerminationQueue",
                "Effect": "Allow",
                "Action": ["sqs:DeleteMessage", "sqs:ReceiveMessage"],
                "Resource": queue_arn,
            },
        ],
    }


def values(spec: ChartSpec, ctx: AddonContext, role_arn: str | None, queue_url: str) -> dict[str, Any]:
    return {
        "enableSqsTerminationDraining": True,
        "queueURL": queue_url,
        "awsRegion": ctx.region,
        "checkTagBeforeDraining": True,
        "managedTag": NTH_MANAGED_TAG,
        "serviceAccount": service_account_values(ServiceAccount(spec.namespace, spec.service_account), role_arn),
        **ctx.placement,
    }


class NodeTerminationHandler(HelmAddon):
    TYPE = "eks-platform:addons:NodeTerminationHandler"


def build(
    name: str, ctx: AddonContext, cfg: PlatformConfig, built: Mapping[str, HelmAddon]
) -> NodeTerminationHandler | None:
    """With the termination queue (self-managed groups) only: managed groups drain themselves."""
    config = cfg.addons.node_termination_handler
    if not config.enabled or ctx.termination_queue_arn is None:
        return None
    spec = catalog()[KEY]
    document = pulumi.Output.from_input(ctx.termination_queue_arn).apply(
        lambda arn: iam_policy_json(policy(ctx.aws, ctx.cluster_name, arn, ctx.self_managed_asg_names))
    )
    return NodeTerminationHandler(
        name,
        HelmAddonArgs(
            spec=spec,
            config=config,
            context=ctx,
            values=lambda resolved: values(spec, ctx, resolved["roleArn"], resolved["queueUrl"]),
            inputs={"queueUrl": ctx.termination_queue_url},
            policies={"termination": document},
        ),
    )
