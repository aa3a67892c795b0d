"""Fargate profiles: pods matching a profile's selectors run on Fargate (one pod per micro-VM, in the private
subnets), with a pod execution role the Fargate service assumes to pull images and write logs.

Facts (EKS user guide, "AWS Fargate" and "Pod execution role"; EKS API CreateFargateProfile):
* every field of a profile replaces it; a cluster creates or deletes one profile at a time (a second request
  while one is CREATING/DELETING fails with ResourceInUseException), so the profiles are chained;
* the role trusts ``eks-fargate-pods.amazonaws.com``, pinned with ``aws:SourceArn`` to this cluster's profiles,
  and carries ``AmazonEKSFargatePodExecutionRolePolicy``; EKS creates the role's ``FARGATE_LINUX`` access entry
  itself when a profile names it (as it does for managed node groups), so none is declared here;
* no DaemonSets, no EKS Pod Identity, no privileged pods, no hostNetwork/hostPort on Fargate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import names
from components.config.nodegroups import FargateGroup
from components.config.tags import tagged
from components.context import AwsContext
from components.iamdocs import service_trust

POD_EXECUTION_POLICY = "AmazonEKSFargatePodExecutionRolePolicy"


def pod_execution_trust(ctx: AwsContext, cluster_name: str) -> str:
    """Fargate may assume the role for this cluster's profiles only (confused-deputy condition)."""
    return service_trust(
        ctx.service_principal("eks-fargate-pods"),
        "sts:AssumeRole",
        {"ArnLike": {"aws:SourceArn": ctx.arn("eks", f"fargateprofile/{cluster_name}/*")}},
    )


def selectors(group: FargateGroup) -> list[dict]:
    """The profile's selectors as the API takes them (labels sorted; no labels key when there are none)."""
    return [
        {"namespace": s.namespace, **({"labels": dict(sorted(s.labels.items()))} if s.labels else {})}
        for s in group.selectors
    ]


@dataclass(frozen=True)
class FargateProfilesArgs:
    profiles: Mapping[str, FargateGroup]
    cluster_name: str
    cluster: pulumi.Input[str]  # the cluster resource's name output
    subnet_ids: pulumi.Input[Sequence[str]]  # the private subnets
    ctx: AwsContext
    depends_on: Sequence[pulumi.Resource] = ()  # the private subnets' egress (pods pull images through it)


class FargateProfiles(pulumi.ComponentResource):
    """One pod execution role and a profile per fargate node group, created one after another."""

    TYPE = "eks-platform:nodegroups:FargateProfiles"

    role_arn: pulumi.Output[str]
    profiles: dict[str, aws.eks.FargateProfile]

    def __init__(self, name: str, args: FargateProfilesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            name,
            **names.autoname(names.ROLE, name),
            **ctx.boundary(),
            assume_role_policy=pod_execution_trust(ctx, args.cluster_name),
            description=f"Fargate pod execution in {args.cluster_name}",
            tags=tagged(ctx.tags, name),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-execution",
            role=role.name,
            policy_arn=ctx.managed_policy(POD_EXECUTION_POLICY),
            opts=child,
        )
        self.profiles = {}
        previous: list[pulumi.Resource] = [attachment, *args.depends_on]
        for key, group in sorted(args.profiles.items()):
            profile_name = f"{args.cluster_name}-{key}"
            self.profiles[key] = aws.eks.FargateProfile(
                profile_name,
                # every input replaces a profile: a shortened name hashes them, so a replacement gets a new one
                **names.autoname(
                    names.FARGATE_PROFILE,
                    profile_name,
                    role.arn,
                    args.subnet_ids,
                    json.dumps(selectors(group), sort_keys=True),
                ),
                cluster_name=args.cluster,
                pod_execution_role_arn=role.arn,
                subnet_ids=args.subnet_ids,
                selectors=[aws.eks.FargateProfileSelectorArgs(**s) for s in selectors(group)],
                tags=tagged(ctx.tags, profile_name, **{"eks-platform/node-group": key}),
                # one profile at a time per cluster (ResourceInUseException otherwise)
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
            )
            previous = [self.profiles[key]]
        self.role_arn = role.arn
        self.register_outputs({"podExecutionRoleArn": self.role_arn})
