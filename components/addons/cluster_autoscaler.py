"""cluster-autoscaler: scales node groups with pending pods, spot groups first."""

from __future__ import annotations

import re
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
from components.context import AwsContext
from components.identity import ServiceAccount

KEY = "clusterAutoscaler"
SPOT_PRIORITY = 50
DEFAULT_PRIORITY = 10


def policy(ctx: AwsContext, cluster_name: str) -> dict[str, Any]:
    """Read what it must on *, but change only ASGs tagged as this cluster's (owned)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Discover",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                "Resource": "*",
            },
            {
                "Sid": "DescribeOwnNodegroups",
                "Effect": "Allow",
                "Action": ["eks:DescribeNodegroup"],
                "Resource": ctx.arn("eks", f"nodegroup/{cluster_name}/*/*"),
            },
            {
                "Sid": "ScaleOwnedGroups",
                "Effect": "Allow",
                "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                "Resource": ctx.arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/*"),
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"},
                },
            },
        ],
    }


_REGEX_SPECIAL = re.compile(r"([^A-Za-z0-9_-])")  # escaped in a pattern (Go's RE2 takes \. for a literal dot)


def spot_patterns(asg_names: Sequence[str]) -> tuple[str, ...]:
    """Regexes matching exactly the Auto Scaling groups of the groups that run on spot (the priority expander matches
    ASG names). A managed group's ASG is named by EKS (``eks-<node group name>-<uuid>``, formerly ``eks-<uuid>``), so
    its name comes from the node group's ``resources`` output rather than from a guess."""
    return tuple(sorted("^" + _REGEX_SPECIAL.sub(r"\\\1", name) + "$" for name in asg_names))


def expander_priorities(patterns: Sequence[str]) -> dict[str, list[str]]:
    """Spot groups first, then everything else (the seeds' spot-first priority config)."""
    priorities = {str(DEFAULT_PRIORITY): [".*"]}
    if patterns:
        priorities[str(SPOT_PRIORITY)] = list(patterns)
    return priorities


def image_tag(spec: ChartSpec, kubernetes_version: str) -> str:
    try:
        return spec.image_tags[kubernetes_version]
    except KeyError:
        raise ValueError(
            f"platform/addons.yaml has no cluster-autoscaler image for Kubernetes {kubernetes_version}"
        ) from None


def values(
    spec: ChartSpec, ctx: AddonContext, role_arn: str | None, spot_asg_names: Sequence[str] = ()
) -> dict[str, Any]:
    return {
        "cloudProvider": "aws",
        "awsRegion": ctx.region,
        "autoDiscovery": {"clusterName": ctx.cluster_name},
        "image": {"tag": image_tag(spec, ctx.kubernetes_version)},
        "rbac": {
            "serviceAccount": service_account_values(ServiceAccount(spec.namespace, spec.service_account), role_arn)
        },
        "extraArgs": {
            "balance-similar-node-groups": True,
            "expander": "priority,least-waste",
            "skip-nodes-with-local-storage": False,
            "skip-nodes-with-system-pods": True,
        },
        "expanderPriorities": expander_priorities(spot_patterns(spot_asg_names)),
        **ctx.placement,
    }


class ClusterAutoscaler(HelmAddon):
    TYPE = "eks-platform:addons:ClusterAutoscaler"


def build(
    name: str, ctx: AddonContext, cfg: PlatformConfig, built: Mapping[str, HelmAddon]
) -> ClusterAutoscaler | None:
    config = cfg.addons.cluster_autoscaler
    if not config.enabled:
        return None
    spec = catalog()[KEY]
    return ClusterAutoscaler(
        name,
        HelmAddonArgs(
            spec=spec,
            config=config,
            context=ctx,
            values=lambda resolved: values(spec, ctx, resolved["roleArn"], resolved["spotAsgNames"]),
            inputs={"spotAsgNames": pulumi.Output.all(*ctx.spot_asg_names)},
            policies={"autoscaling": iam_policy_json(policy(ctx.aws, ctx.cluster_name))},
        ),
    )
