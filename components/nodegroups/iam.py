"""Node IAM: roles for EC2 nodes, their instance profile and (self-managed) EKS access entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import names
from components.config.tags import tagged
from components.context import AwsContext
from components.iamdocs import service_trust, session_manager_policy

# What every node needs: join the cluster and pull images. The VPC CNI's permissions are not here: the CNI has its
# own role (components.cluster). Session Manager is opt-in per group (nodeGroups.<n>.ssm), with its channel actions
# only (iamdocs.session_manager_policy), never AmazonSSMManagedInstanceCore.
NODE_MANAGED_POLICIES = {
    "worker": "AmazonEKSWorkerNodePolicy",
    "ecr-pull": "AmazonEC2ContainerRegistryPullOnly",
}


def node_trust_policy(ctx: AwsContext) -> str:
    return service_trust(ctx.service_principal("ec2"))


def policy_key(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class NodeRoleArgs:
    cluster_name: pulumi.Input[str]
    ctx: AwsContext
    # Self-managed nodes need an instance profile and an EC2_LINUX access entry; EKS makes
    # both itself for managed node groups.
    self_managed: bool
    extra_policy_arns: Sequence[str] = ()
    # Karpenter makes the instance profiles of its nodes itself (from the EC2NodeClass role)
    instance_profile: bool = True
    depends_on: Sequence[pulumi.Resource] = ()
    # Session Manager on the nodes (nodeGroups.<n>.ssm): an inline policy of its channel actions only
    session_manager: bool = False


class NodeRole(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    instance_profile_arn: pulumi.Output[str] | None
    access_entry: aws.eks.AccessEntry | None
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: NodeRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:nodegroups:NodeRole", name, None, opts)
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            name,
            **names.autoname(names.ROLE, name),
            **ctx.boundary(),
            assume_role_policy=node_trust_policy(ctx),
            description="EKS worker nodes",
            tags=tagged(ctx.tags, name),
            opts=child,
        )
        attachments: list[pulumi.Resource] = []
        policies = {k: ctx.managed_policy(v) for k, v in NODE_MANAGED_POLICIES.items()}
        policies.update({policy_key(arn): arn for arn in args.extra_policy_arns})
        for key in sorted(policies):
            attachments.append(
                aws.iam.RolePolicyAttachment(
                    f"{name}-{key}",
                    role=role.name,
                    policy_arn=policies[key],
                    opts=child,
                )
            )
        if args.session_manager:
            attachments.append(
                aws.iam.RolePolicy(
                    f"{name}-session-manager",
                    **names.autoname(names.ROLE_POLICY, f"{name}-session-manager"),
                    role=role.id,
                    policy=session_manager_policy(),
                    opts=child,
                )
            )
        self.instance_profile_arn = None
        self.access_entry = None
        if args.self_managed:
            if args.instance_profile:
                profile = aws.iam.InstanceProfile(
                    name,
                    role=role.name,
                    tags=tagged(ctx.tags, name),
                    opts=child,
                    **names.autoname(names.INSTANCE_PROFILE, name),
                )
                self.instance_profile_arn = profile.arn
            self.access_entry = aws.eks.AccessEntry(
                name,
                cluster_name=args.cluster_name,
                principal_arn=role.arn,
                type="EC2_LINUX",
                tags=tagged(ctx.tags, name),
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
            )
            attachments.append(self.access_entry)
        self.role_arn = role.arn
        self.role_name = role.name
        self.ready = attachments
        self.register_outputs({"roleArn": self.role_arn})
