"""ManagedNodeGroup and SelfManagedNodeGroup, sharing one launch-template builder."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import names
from components.config import ManagedGroup, NodeGroupConfig, SelfManagedGroup, nodeimages, nodetags
from components.config.nodegroups import tag_resource_suffix
from components.config.tags import tagged
from components.context import AwsContext
from components.nodegroups import model
from components.nodegroups.security import extra_security_group


@dataclass(frozen=True)
class ClusterRef:
    """The cluster facts node groups need (plain where known, Outputs where computed)."""

    name: str
    version: str
    endpoint: pulumi.Input[str]
    certificate_authority: pulumi.Input[str]
    service_cidr: str
    security_group_id: pulumi.Input[str]  # the EKS cluster (primary) security group


def node_security_groups(
    name: str,
    parent: pulumi.Resource,
    group: NodeGroupConfig,
    base: pulumi.Input[str],
    vpc_id: pulumi.Input[str],
    ctx: AwsContext,
) -> list[pulumi.Input[str]]:
    """The nodes' security groups: the base group, configured ones, and the group's own extra-ingress SG."""
    ids: list[pulumi.Input[str]] = [base, *group.security_group_ids]
    if group.extra_ingress:
        ids.append(extra_security_group(name, parent, vpc_id, group.extra_ingress, ctx).id)
    return ids


def launch_template(
    name: str,
    parent: pulumi.Resource,
    group: NodeGroupConfig,
    ctx: AwsContext,
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
    image_id: pulumi.Input[str] | None = None,
    user_data: pulumi.Input[str] | None = None,
    instance_profile_arn: pulumi.Input[str] | None = None,
) -> aws.ec2.LaunchTemplate:
    """IMDSv2-only, encrypted gp3 volume, tagged instances/volumes/ENIs."""
    instance_tags = nodetags.identity_tags(ctx.tags, name, group)
    return aws.ec2.LaunchTemplate(
        name,
        **names.autoname(names.LAUNCH_TEMPLATE, name),
        description=f"Nodes of group {group.name}",
        image_id=image_id,
        user_data=user_data,
        iam_instance_profile=(
            aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=instance_profile_arn) if instance_profile_arn else None
        ),
        vpc_security_group_ids=security_group_ids,
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=group.imds.hop_limit,
            instance_metadata_tags="disabled",
        ),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=model.root_device(group.os),
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=group.root_volume.size_gib,
                    volume_type="gp3",
                    iops=group.root_volume.iops,
                    throughput=group.root_volume.throughput,
                    encrypted="true",
                    delete_on_termination="true",
                ),
            )
        ],
        monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=rt, tags=instance_tags)
            for rt in ("instance", "volume", "network-interface")
        ],
        update_default_version=True,
        tags=tagged(ctx.tags, name, **model.imds_reason(group)),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def tag_suffix(key: str) -> str:
    """A resource-name suffix for a tag key: readable, and unique whatever characters the key has."""
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in key)[:32]
    return f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:6]}"


# ---------------------------------------------------------------------------------------
# managed
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ManagedNodeGroupArgs:
    group: ManagedGroup
    cluster: ClusterRef
    subnet_ids: pulumi.Input[Sequence[str]]
    vpc_id: pulumi.Input[str]
    node_role_arn: pulumi.Input[str]
    ctx: AwsContext
    depends_on: Sequence[pulumi.Resource] = ()
    # DescribeInstanceTypes of the group's types (with kubelet reservations): the node template's cpu/memory
    capacities: tuple[nodetags.NodeCapacity, ...] = ()


class ManagedNodeGroup(pulumi.ComponentResource):
    node_group: aws.eks.NodeGroup
    node_group_name: pulumi.Output[str]
    asg_name: pulumi.Output[str]
    launch_template_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ManagedNodeGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:nodegroups:ManagedNodeGroup", name, None, opts)
        g = args.group
        # A launch template that sets security groups replaces the ones EKS would attach:
        # list the cluster security group explicitly so nodes keep it.
        sg_ids = node_security_groups(name, self, g, args.cluster.security_group_id, args.vpc_id, args.ctx)
        extra = model.managed_user_data(g)
        lt = launch_template(
            name,
            self,
            g,
            args.ctx,
            security_group_ids=sg_ids,
            user_data=base64.b64encode(extra.encode()).decode() if extra else None,
        )
        ng = self._node_group(name, args, lt)
        asg_name = ng.resources.apply(lambda rs: rs[0].autoscaling_groups[0].name)
        self._asg_tags(name, args, asg_name)
        self.node_group = ng
        self.node_group_name = ng.node_group_name
        self.asg_name = asg_name
        self.launch_template_id = lt.id
        self.role_arn = pulumi.Output.from_input(args.node_role_arn)
        self.register_outputs({"nodeGroupName": self.node_group_name, "asgName": self.asg_name})

    def _node_group(self, name: str, args: ManagedNodeGroupArgs, lt: aws.ec2.LaunchTemplate) -> aws.eks.NodeGroup:
        g = args.group
        return aws.eks.NodeGroup(
            name,
            cluster_name=args.cluster.name,
            # Follows the control plane: version and releaseVersion are Optional+Computed in the provider,
            # so leaving them unset would mean "never change" (terraform-provider-aws eks/node_group.go).
            version=args.cluster.version,
            release_version=nodeimages.release(args.cluster.version, g.os, g.architecture),
            # Autonamed (<component>-<7 random>): a change that forces replacement creates the new group
            # before the old one goes, which a fixed name would make fail with "already exists". The
            # provider keeps the name a group already has (autonames are only made on create). A name too long
            # for that ends in a hash of its replace-on-change inputs instead, so a replacement is renamed too.
            **names.autoname(
                names.NODE_GROUP,
                name,
                args.node_role_arn,
                args.subnet_ids,
                sorted(g.instance_types),
                g.uses_spot,
                model.managed_ami_type(g.os, g.architecture),
            ),
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            instance_types=list(g.instance_types),
            capacity_type="SPOT" if g.uses_spot else "ON_DEMAND",
            ami_type=model.managed_ami_type(g.os, g.architecture),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=g.scaling.min,
                desired_size=g.scaling.desired_size,
                max_size=g.scaling.max_size,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=g.update.max_unavailable),
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(**model.node_repair(g)),
            labels=nodetags.node_labels(g),
            taints=[aws.eks.NodeGroupTaintArgs(**t) for t in model.eks_taints(g)],
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=lt.id, version=lt.latest_version.apply(str)),
            tags=tagged(args.ctx.tags, name),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.depends_on),
                # cluster-autoscaler owns the desired size once the group exists.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )

    def _asg_tags(self, name: str, args: ManagedNodeGroupArgs, asg_name: pulumi.Output[str]) -> None:
        """Tags on the Auto Scaling group EKS creates (it copies neither of these kinds itself)."""
        # Node-template hints, so cluster-autoscaler can scale this group from zero with the right labels/taints.
        for key, value in nodetags.node_template_tags(args.group, args.capacities).items():
            kind, _, label = key.removeprefix(f"{nodetags.CA_PREFIX}/node-template/").partition("/")
            aws.autoscaling.Tag(
                f"{name}-{tag_resource_suffix(kind, label)}",
                autoscaling_group_name=asg_name,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                opts=pulumi.ResourceOptions(parent=self),
            )
        # Stack-wide tags reach the instances through the ASG (propagated at launch), not through the launch
        # template, so editing them rolls no node.
        for key, value in nodetags.propagated_stack_tags(args.ctx.tags).items():
            aws.autoscaling.Tag(
                f"{name}-tag-{tag_suffix(key)}",
                autoscaling_group_name=asg_name,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=True),
                opts=pulumi.ResourceOptions(parent=self),
            )


# ---------------------------------------------------------------------------------------
# self-managed
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SelfManagedNodeGroupArgs:
    group: SelfManagedGroup
    cluster: ClusterRef
    subnet_ids: pulumi.Input[Sequence[str]]
    vpc_id: pulumi.Input[str]
    node_security_group_id: pulumi.Input[str]
    instance_profile_arn: pulumi.Input[str]
    role_arn: pulumi.Input[str]
    ctx: AwsContext
    depends_on: Sequence[pulumi.Resource] = ()
    # DescribeInstanceTypes of the group's types (with kubelet reservations): the node template's cpu/memory
    capacities: tuple[nodetags.NodeCapacity, ...] = ()
    # Max pods the platform computed (VPC CNI custom networking: program.self_managed_max_pods), unless the group
    # sets its own; None: nodeadm's or Bottlerocket's default from the instance type.
    max_pods: int | None = None


def asg_name(cluster_name: str, group: str) -> str:
    return names.explicit(names.ASG, f"{cluster_name}-{group}")


class SelfManagedNodeGroup(pulumi.ComponentResource):
    group: aws.autoscaling.Group
    asg_name: pulumi.Output[str]
    launch_template_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    user_data: pulumi.Output[str]

    def __init__(self, name: str, args: SelfManagedNodeGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:nodegroups:SelfManagedNodeGroup", name, None, opts)
        g, c = args.group, args.cluster
        user_data = pulumi.Output.all(c.endpoint, c.certificate_authority).apply(
            lambda v: model.user_data(model.NodeCluster(c.name, v[0], v[1], c.service_cidr), g, args.max_pods)
        )
        sg_ids = node_security_groups(name, self, g, args.node_security_group_id, args.vpc_id, args.ctx)
        lt = launch_template(
            name,
            self,
            g,
            args.ctx,
            security_group_ids=sg_ids,
            image_id=self._image_id(args),
            user_data=user_data.apply(lambda u: base64.b64encode(u.encode()).decode()),
            instance_profile_arn=args.instance_profile_arn,
        )
        group = self._group(name, args, lt)
        # Give the termination handler time to cordon and drain before EC2 terminates.
        aws.autoscaling.LifecycleHook(
            f"{name}-terminating",
            name="node-termination-handler",
            autoscaling_group_name=group.name,
            lifecycle_transition="autoscaling:EC2_INSTANCE_TERMINATING",
            default_result="CONTINUE",
            heartbeat_timeout=300,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.group = group
        self.asg_name = group.name
        self.launch_template_id = lt.id
        self.role_arn = pulumi.Output.from_input(args.role_arn)
        self.user_data = user_data
        self.register_outputs({"asgName": self.asg_name, "launchTemplateId": self.launch_template_id})

    def _image_id(self, args: SelfManagedNodeGroupArgs) -> pulumi.Input[str]:
        g, version = args.group, args.cluster.version
        if g.ami_id:
            return g.ami_id
        # Exactly the catalog's release, never the moving "recommended" parameter: nodes roll when
        # platform/node-images.yaml changes, not when AWS publishes an image.
        release = nodeimages.release(version, g.os, g.architecture)
        if release is None:  # the config refuses a class the catalog has no release for
            raise ValueError(nodeimages.missing_problem(version, g.os, g.architecture))
        return aws.ssm.get_parameter_output(
            name=nodeimages.image_parameter(version, g.os, g.architecture, release),
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).value

    def _group(self, name: str, args: SelfManagedNodeGroupArgs, lt: aws.ec2.LaunchTemplate) -> aws.autoscaling.Group:
        g, c = args.group, args.cluster
        dist = model.instances_distribution(g)
        return aws.autoscaling.Group(
            name,
            name=asg_name(c.name, g.name),
            vpc_zone_identifiers=args.subnet_ids,
            min_size=g.scaling.min,
            max_size=g.scaling.max_size,
            desired_capacity=g.scaling.desired_size,
            capacity_rebalance=g.uses_spot,
            mixed_instances_policy=aws.autoscaling.GroupMixedInstancesPolicyArgs(
                instances_distribution=aws.autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs(**dist),
                launch_template=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateArgs(
                    launch_template_specification=(
                        aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecificationArgs(
                            launch_template_id=lt.id,
                            version=lt.latest_version.apply(str),
                        )
                    ),
                    overrides=[
                        aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArgs(instance_type=t)
                        for t in g.instance_types
                    ],
                ),
            ),
            # A new launch-template version (AMI, user data) rolls the nodes.
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=g.update.min_healthy_percentage,
                    skip_matching=True,
                ),
            ),
            health_check_type="EC2",
            health_check_grace_period=300,
            termination_policies=["OldestLaunchTemplate", "OldestInstance"],
            tags=[
                aws.autoscaling.GroupTagArgs(**t)
                for t in nodetags.asg_tags(g, c.name, args.ctx.tags, name, args.capacities)
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.depends_on),
                # cluster-autoscaler owns the desired capacity once the group exists.
                ignore_changes=["desiredCapacity"],
            ),
        )
