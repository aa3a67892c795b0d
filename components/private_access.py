"""Reaching a private API endpoint: a CI runner inside the VPC, and an SSM access host for people.

* ``CiRunner``: an AWS CodeBuild project that hosts GitHub Actions runners (a webhook on
  ``WORKFLOW_JOB_QUEUED``), in the private subnets with an egress-only security group. Its
  service role can write its own log group and create the network interfaces CodeBuild needs
  in those subnets; jobs on it assume the deploy role by GitHub OIDC exactly as elsewhere.
* ``AccessHost``: one small AL2023 instance, in an Auto Scaling group of one so it heals
  itself, in a private subnet, with only ``AmazonSSMManagedInstanceCore``, no inbound rule,
  IMDSv2 and an encrypted volume. People (and CI without a runner) open an SSM port forward
  through it to the API endpoint.

Neither depends on the cluster or on any Kubernetes resource, so a new private stack can be
bootstrapped: ``pulumi up --target`` the network and these first, then the rest from inside.
The cluster's additional security group admits 443 from the VPC CIDR, which covers both.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import names
from components.config import AccessHostConfig, RunnerConfig
from components.config.instances import architecture
from components.config.tags import identity, tagged
from components.context import AwsContext
from components.iamdocs import document, service_trust, session_manager_policy

LOCAL_PORT = 8443
SSM_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
# The latest AL2023 image, per architecture (Amazon Linux 2023 User Guide, "AL2023 on EC2": public SSM
# parameters). The access host runs no workload: following the newest image is what we want.
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"


def access_host_image(instance_type: str) -> str:
    """The launch template's image: the parameter itself, resolved by EC2 at each launch ("resolve:ssm:", EC2 Auto
    Scaling User Guide, "Use AWS Systems Manager parameters instead of AMI IDs in launch templates";
    terraform-provider-aws documents it for aws_launch_template.image_id). Resolving it at plan time instead made
    every AL2023 release a launch-template change in `pulumi preview` although no instance follows it (the group
    has no instance refresh): the template now stays the same, and a replaced host boots the newest image."""
    arch = "arm64" if architecture(instance_type) == "arm64" else "x86_64"
    return f"resolve:ssm:{AL2023_PARAMETER.format(arch=arch)}"


# ---------------------------------------------------------------------------------------
# pure decisions
# ---------------------------------------------------------------------------------------
def runner_project_name(cluster_name: str) -> str:
    """The CodeBuild project name, which the runner label names (codebuild-<project>-<run id>-<attempt>)."""
    return names.explicit(names.CODEBUILD_PROJECT, f"{cluster_name}-gh-runner")


def codebuild_trust(ctx: AwsContext, project_arn: str) -> str:
    """Only CodeBuild, building this project in this account, may assume the role (confused deputy)."""
    return service_trust(
        ctx.service_principal("codebuild"),
        condition={
            "StringEquals": {"aws:SourceAccount": ctx.account_id},
            "ArnLike": {"aws:SourceArn": project_arn},
        },
    )


def runner_policy(ctx: AwsContext, log_group_arn: str, subnet_arns: Sequence[str], connection_arn: str) -> str:
    """Logs to its own group, the VPC network interfaces CodeBuild needs in its subnets, its GitHub connection.

    CodeBuild User Guide, "Use CodeBuild with Amazon VPC": the Describe*/Create/DeleteNetworkInterface
    actions have no resource-level scoping; CreateNetworkInterfacePermission does, on the subnets and the
    CodeBuild service.
    """
    return document(
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"],
        },
        {
            "Sid": "VpcNetworkInterfaces",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
            ],
            "Resource": "*",
        },
        {
            "Sid": "NetworkInterfacePermissionInOwnSubnets",
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterfacePermission"],
            "Resource": ctx.arn("ec2", "network-interface/*"),
            "Condition": {
                "StringEquals": {
                    "ec2:Subnet": sorted(subnet_arns),
                    "ec2:AuthorizedService": ctx.service_principal("codebuild"),
                }
            },
        },
        {
            "Sid": "GitHubConnection",
            "Effect": "Allow",
            "Action": [
                "codeconnections:GetConnection",
                "codeconnections:GetConnectionToken",
                "codestar-connections:GetConnection",
                "codestar-connections:GetConnectionToken",
                "codestar-connections:UseConnection",
            ],
            "Resource": connection_arn,
        },
    )


def port_forward_command(region: str, asg_name: str, endpoint: str, port: int = LOCAL_PORT) -> str:
    """The shell command that forwards localhost:<port> to the API endpoint through the access host."""
    host = endpoint.removeprefix("https://").rstrip("/")
    find = (
        f"aws ec2 describe-instances --region {region} --filters "
        f"Name=tag:aws:autoscaling:groupName,Values={asg_name} Name=instance-state-name,Values=running "
        "--query 'Reservations[0].Instances[0].InstanceId' --output text"
    )
    parameters = json.dumps({"host": [host], "portNumber": ["443"], "localPortNumber": [str(port)]})
    return (
        f'aws ssm start-session --region {region} --target "$({find})" --document-name {SSM_DOCUMENT} '
        f"--parameters {shlex.quote(parameters)}"
    )


def runner_label_variable(project: str) -> str:
    """What to put in the repository variable RUNNER_<STACK> for jobs to run on this project."""
    return f"codebuild-{project}"


# ---------------------------------------------------------------------------------------
# components
# ---------------------------------------------------------------------------------------
def https_out_only(
    name: str, vpc_id: pulumi.Input[str], description: str, egress: str, ctx: AwsContext, opts: pulumi.ResourceOptions
) -> aws.ec2.SecurityGroup:
    """A security group with no inbound rule and HTTPS out (both the runner and the access host only dial out)."""
    return aws.ec2.SecurityGroup(
        name,
        **names.autoname(names.SECURITY_GROUP, name, vpc_id, description),
        vpc_id=vpc_id,
        description=description,
        ingress=[],
        egress=[
            aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_blocks=["0.0.0.0/0"],
                description=egress,
            )
        ],
        tags=tagged(ctx.tags, name),
        opts=opts,
    )


def webhook_filters(config: RunnerConfig) -> list[dict[str, str]]:
    """One filter group: queued workflow jobs, of the listed GitHub users only (CodeBuild user guide, "GitHub webhook
    events": ACTOR_ACCOUNT_ID matches the payload's sender.id, the user whose push or pull request queued the job).
    A fork's pull request is queued by its author, so it never builds here unless that user is listed."""
    ids = "|".join(str(i) for i in config.allowed_actor_ids)
    return [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}, {"type": "ACTOR_ACCOUNT_ID", "pattern": f"^({ids})$"}]


@dataclass(frozen=True)
class CiRunnerArgs:
    config: RunnerConfig
    cluster_name: str
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    ctx: AwsContext
    depends_on: Sequence[pulumi.Resource] = ()
    log_retention_days: int = 30  # cluster.logging.retentionDays: the stack's one log retention


class CiRunner(pulumi.ComponentResource):
    project_name: str
    security_group_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CiRunnerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:delivery:CiRunner", name, None, opts)
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        project = runner_project_name(args.cluster_name)
        project_arn = ctx.arn("codebuild", f"project/{project}")
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/codebuild/{project}",
            retention_in_days=args.log_retention_days,
            **ctx.log_key(),
            tags=tagged(ctx.tags, f"{name}-logs"),
            opts=child,
        )
        sg = https_out_only(
            name,
            args.vpc_id,
            f"GitHub Actions runner of {args.cluster_name}: egress only",
            "HTTPS to GitHub, AWS APIs, registries and the Kubernetes API",
            ctx,
            child,
        )
        role, policy = self._role(name, args, project_arn, logs)
        codebuild = self._project(name, args, project, role, sg, logs, policy)
        aws.codebuild.Webhook(
            name,
            project_name=codebuild.name,
            build_type="BUILD",
            filter_groups=[
                aws.codebuild.WebhookFilterGroupArgs(
                    filters=[aws.codebuild.WebhookFilterGroupFilterArgs(**f) for f in webhook_filters(args.config)]
                )
            ],
            opts=child,
        )
        self.project_name = project
        self.security_group_id = sg.id
        self.role_arn = role.arn
        self.register_outputs({"projectName": project, "roleArn": self.role_arn})

    def _role(
        self, name: str, args: CiRunnerArgs, project_arn: str, logs: aws.cloudwatch.LogGroup
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """The CodeBuild service role: trusted by this project only; logs, VPC networking, the connection."""
        ctx, child = args.ctx, pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            name,
            **names.autoname(names.ROLE, name),
            **ctx.boundary(),
            assume_role_policy=codebuild_trust(ctx, project_arn),
            description=f"CodeBuild service role of the GitHub runner of {args.cluster_name}",
            tags=tagged(ctx.tags, name),
            opts=child,
        )
        subnet_arns = pulumi.Output.from_input(args.subnet_ids).apply(
            lambda ids: [ctx.arn("ec2", f"subnet/{i}") for i in ids]
        )
        policy = aws.iam.RolePolicy(
            name,
            **names.autoname(names.ROLE_POLICY, name),
            role=role.id,
            policy=pulumi.Output.all(logs.arn, subnet_arns).apply(
                lambda v: runner_policy(ctx, v[0], v[1], args.config.connection_arn or "")
            ),
            opts=child,
        )
        return role, policy

    def _project(
        self,
        name: str,
        args: CiRunnerArgs,
        project: str,
        role: aws.iam.Role,
        sg: aws.ec2.SecurityGroup,
        logs: aws.cloudwatch.LogGroup,
        policy: aws.iam.RolePolicy,
    ) -> aws.codebuild.Project:
        cfg = args.config
        return aws.codebuild.Project(
            name,
            name=project,
            description=f"GitHub Actions runners for {cfg.repository} inside the VPC of {args.cluster_name}",
            service_role=role.arn,
            source=aws.codebuild.ProjectSourceArgs(
                type="GITHUB",
                location=f"https://github.com/{cfg.repository}.git",
                auth=aws.codebuild.ProjectSourceAuthArgs(type="CODECONNECTIONS", resource=cfg.connection_arn),
            ),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                compute_type=cfg.compute_type,
                image=cfg.image,
                type="ARM_CONTAINER" if "aarch64" in cfg.image else "LINUX_CONTAINER",
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
            ),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=args.vpc_id,
                subnets=args.subnet_ids,
                security_group_ids=[sg.id],
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    group_name=logs.name, status="ENABLED"
                ),
            ),
            build_timeout=180,  # a first `pulumi up` of a stack takes ~20 minutes; an upgrade can take hours
            queued_timeout=60,
            tags=tagged(args.ctx.tags, project),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, *args.depends_on]),
        )


ACCESS_HOST_TAG = "eks-platform/access-host"  # value: the cluster's name


def session_log_arns(cfg: AccessHostConfig, ctx: AwsContext) -> tuple[str | None, str | None]:
    """(log group ARN, objects ARN) the host writes session transcripts to, as the account's preferences say."""
    group = ctx.arn("logs", f"log-group:{cfg.session_log_group}") if cfg.session_log_group else None
    objects = (
        f"arn:{ctx.partition}:s3:::{cfg.session_log_bucket}/{cfg.session_log_prefix}/*"
        if cfg.session_log_bucket
        else None
    )
    return group, objects


@dataclass(frozen=True)
class AccessHostArgs:
    config: AccessHostConfig
    cluster_name: str
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    ctx: AwsContext
    depends_on: Sequence[pulumi.Resource] = ()


class AccessHost(pulumi.ComponentResource):
    asg_name: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: AccessHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:delivery:AccessHost", name, None, opts)
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        profile, ssm = self._identity(name, args)
        sg = https_out_only(
            name,
            args.vpc_id,
            f"SSM access host of {args.cluster_name}: no inbound",
            "HTTPS to Session Manager and the Kubernetes API",
            ctx,
            child,
        )
        lt = self._launch_template(name, args, profile, sg)
        group = aws.autoscaling.Group(
            name,
            **names.autoname(names.ASG, name),
            vpc_zone_identifiers=args.subnet_ids,
            min_size=1,
            max_size=1,
            desired_capacity=1,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(id=lt.id, version=lt.latest_version.apply(str)),
            health_check_type="EC2",
            tags=[
                aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=True)
                for k, v in tagged(ctx.tags, name).items()
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ssm, *args.depends_on]),
        )
        self.asg_name = group.name
        self.security_group_id = sg.id
        self.register_outputs({"asgName": self.asg_name})

    def _identity(self, name: str, args: AccessHostArgs) -> tuple[aws.iam.InstanceProfile, aws.iam.RolePolicy]:
        """The host's role (Session Manager's channel only) and its instance profile."""
        cfg, ctx = args.config, args.ctx
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            name,
            **names.autoname(names.ROLE, name),
            **ctx.boundary(),
            assume_role_policy=service_trust(ctx.service_principal("ec2")),
            description=f"SSM access host of {args.cluster_name}: Session Manager only",
            tags=tagged(ctx.tags, name),
            opts=child,
        )
        # Session Manager's channel only (not AmazonSSMManagedInstanceCore, which also reads every parameter)
        ssm = aws.iam.RolePolicy(
            f"{name}-session-manager",
            **names.autoname(names.ROLE_POLICY, f"{name}-session-manager"),
            role=role.id,
            policy=session_manager_policy(*session_log_arns(cfg, ctx)),
            opts=child,
        )
        profile = aws.iam.InstanceProfile(
            name,
            **names.autoname(names.INSTANCE_PROFILE, name),
            role=role.name,
            tags=tagged(ctx.tags, name),
            opts=child,
        )
        return profile, ssm

    def _launch_template(
        self, name: str, args: AccessHostArgs, profile: aws.iam.InstanceProfile, sg: aws.ec2.SecurityGroup
    ) -> aws.ec2.LaunchTemplate:
        """IMDSv2 with hop limit 1, an encrypted volume, identity tags only."""
        cfg, ctx = args.config, args.ctx
        child = pulumi.ResourceOptions(parent=self)
        return aws.ec2.LaunchTemplate(
            name,
            **names.autoname(names.LAUNCH_TEMPLATE, name),
            description=f"SSM access host of {args.cluster_name}",
            image_id=access_host_image(cfg.instance_type),
            instance_type=cfg.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            vpc_security_group_ids=[sg.id],
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=8,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            # Identity tags only (a tag here is template data): the ASG propagates the stack's tags. The access-host
            # tag is what ssm:StartSession is scoped by (bootstrap/identities.py session_policy).
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=rt, tags=identity(ctx.tags, name, **{ACCESS_HOST_TAG: args.cluster_name})
                )
                for rt in ("instance", "volume", "network-interface")
            ],
            update_default_version=True,
            tags=tagged(ctx.tags, name),
            opts=child,
        )
