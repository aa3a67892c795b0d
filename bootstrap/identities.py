"""CI identities as code: the GitHub OIDC provider, per environment a deploy role and a preview role, the catalog
role of the node-image workflow, and Session Manager's logged preferences with who may start a session.

Facts this relies on:
* GitHub's OIDC token (GitHub docs, "About security hardening with OpenID Connect"): ``aud`` is
  ``sts.amazonaws.com`` for configure-aws-credentials; ``sub`` is ``repo:<owner>/<repo>:environment:<env>`` for a
  job that runs in an environment, ``repo:<owner>/<repo>:pull_request`` for a pull request's job, and
  ``repo:<owner>/<repo>:ref:refs/heads/<branch>`` otherwise. IAM compares both claims (StringEquals), so a role
  trusted for ``environment:prod`` is unreachable from a pull request or a branch run without that environment.
* IAM refuses a second OIDC provider for the same URL in an account; GitHub's certificate is validated against
  IAM's own trusted CAs, so no thumbprint is needed (pulumi-aws 7 iam.OpenIdConnectProvider thumbprint_lists).
* Session Manager reads account preferences from the Session document named ``SSM-SessionManagerRunShell``
  (Session Manager user guide, "Create a Session Manager preferences document"); logging applies to shell
  sessions (port forwarding carries no transcript, only CloudTrail's StartSession). ``ssm:StartSession`` takes
  the instance and the document as resources; ``ssm:resourceTag/<key>`` conditions the instance's tags.
* Inline policies of one role: 10,240 characters together; a managed policy: 6,144; ten managed policies per
  role by default; whitespace is not counted (IAM quotas). The deploy policy grows with the cluster's name (up to
  100 characters) and its hosted zones, so it is cut into managed policies by statement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from bootstrap.config import BootstrapConfig, Platform
from components import names
from components.config.charts import policy_document
from components.config.tags import tagged
from components.iamdocs import document
from components.private_access import ACCESS_HOST_TAG
from components.private_access import SSM_DOCUMENT as PORT_FORWARD_DOCUMENT

GITHUB = "token.actions.githubusercontent.com"
PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell"
MAX_INLINE = 10_240
MAX_MANAGED = 6_144
MAX_ATTACHED = 10


# -- who may assume what -------------------------------------------------------------------
def github_trust(provider_arn: str, repository: str, claim: str) -> str:
    """A role only the repository's jobs with exactly this sub claim may assume."""
    return document(
        {
            "Sid": "GitHubActions",
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": f"repo:{repository}:{claim}"}
            },
        }
    )


def deploy_claim(env: str) -> str:
    return f"environment:{env}"


PREVIEW_CLAIM = "pull_request"
CATALOG_CLAIM = "ref:refs/heads/main"


def role_name(project: str, kind: str, env: str | None = None) -> str:
    """``<project>-ci-<kind>[-<env>]``: predictable, so the platform's stack files can list it in their access."""
    return names.explicit(names.ROLE, f"{project}-ci-{kind}" + (f"-{env}" if env else ""))


# -- what they may do ----------------------------------------------------------------------
def _subs(p: Platform, partition: str, account: str) -> dict[str, str]:
    return {"partition": partition, "region": p.region, "account": account, "cluster": p.cluster_name, "stack": p.stack}


def state_statements(cfg: BootstrapConfig, stack: str, partition: str, *, write: bool) -> list[dict[str, Any]]:
    """The S3 backend's objects of one stack (state, history, backups: read, and write when deploying; its lock
    always, since a preview takes it too) and the secrets key (decrypt; encrypt when deploying)."""
    out: list[dict[str, Any]] = []
    if cfg.state.bucket:
        bucket = f"arn:{partition}:s3:::{cfg.state.bucket}"
        # the backend's layout: .pulumi/{stacks,history,backups,locks}/[<org>/]<project>/<stack>...
        objects = [f"{bucket}/.pulumi/*eks-platform/{stack}.json*", f"{bucket}/.pulumi/*eks-platform/{stack}/*"]
        locks = f"{bucket}/.pulumi/locks/*eks-platform/{stack}/*"
        out += [
            {
                "Sid": "StateList",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": bucket,
            },
            {
                "Sid": "StateRead",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"{bucket}/.pulumi/meta.yaml", *objects],
            },
            {
                "Sid": "StateWrite",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": objects if write else [locks],
            },
        ]
    if cfg.state.secrets_key_arn:
        actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"] if write else ["kms:Decrypt"]
        out.append({"Sid": "SecretsKey", "Effect": "Allow", "Action": actions, "Resource": cfg.state.secrets_key_arn})
    return out


def boundary_statements(boundary: str | None) -> list[dict[str, Any]]:
    """With a boundary: the deploy role creates roles only under it and cannot take it off."""
    if not boundary:
        return []
    return [
        {
            "Sid": "DenyRolesWithoutTheBoundary",
            "Effect": "Deny",
            "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": boundary}},
        },
        {"Sid": "KeepTheBoundary", "Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"},
    ]


def deploy_policy(cfg: BootstrapConfig, p: Platform, partition: str, account: str) -> dict[str, Any]:
    doc = policy_document("ci-deploy", _subs(p, partition, account))
    if p.hosted_zone_ids:
        doc["Statement"].append(
            {
                "Sid": "DeployRecords",
                "Effect": "Allow",
                "Action": [
                    "route53:ChangeResourceRecordSets",
                    "route53:ListResourceRecordSets",
                    "route53:GetHostedZone",
                ],
                "Resource": [f"arn:{partition}:route53:::hostedzone/{z}" for z in p.hosted_zone_ids],
            }
        )
        doc["Statement"].append(
            {
                "Sid": "DeployRecordChanges",
                "Effect": "Allow",
                "Action": "route53:GetChange",
                "Resource": f"arn:{partition}:route53:::change/*",
            }
        )
    doc["Statement"] += state_statements(cfg, p.stack, partition, write=True)
    doc["Statement"] += boundary_statements(cfg.iam.permissions_boundary_arn)
    return doc


def preview_policy(cfg: BootstrapConfig, p: Platform, partition: str, account: str) -> dict[str, Any]:
    doc = policy_document("ci-preview", _subs(p, partition, account))
    doc["Statement"] += state_statements(cfg, p.stack, partition, write=False)
    return doc


def session_policy(p: Platform, partition: str, account: str) -> dict[str, Any]:
    """Start a session on the environment's access host only (by its tag), with the port forward or the logged
    shell, and end only one's own sessions."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StartOnTheAccessHost",
                "Effect": "Allow",
                "Action": "ssm:StartSession",
                "Resource": f"arn:{partition}:ec2:{p.region}:{account}:instance/*",
                "Condition": {"StringEquals": {f"ssm:resourceTag/{ACCESS_HOST_TAG}": p.cluster_name}},
            },
            {
                "Sid": "StartWithTheseDocuments",
                "Effect": "Allow",
                "Action": "ssm:StartSession",
                "Resource": [
                    f"arn:{partition}:ssm:{p.region}::document/{PORT_FORWARD_DOCUMENT}",
                    f"arn:{partition}:ssm:{p.region}:{account}:document/{PREFERENCES_DOCUMENT}",
                ],
            },
            {
                "Sid": "OwnSessions",
                "Effect": "Allow",
                "Action": ["ssm:TerminateSession", "ssm:ResumeSession"],
                "Resource": f"arn:{partition}:ssm:{p.region}:{account}:session/${{aws:userid}}-*",
            },
            {
                "Sid": "FindTheHost",
                "Effect": "Allow",
                "Action": "ec2:DescribeInstances",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": p.region}},
            },
        ],
    }


def catalog_policy(partition: str, region: str) -> dict[str, Any]:
    return policy_document("ci-catalog", {"partition": partition, "region": region})


def session_document(cfg: BootstrapConfig, log_group: str | None) -> str:
    """The preferences: every shell session logged, encrypted, and ended when idle."""
    sm = cfg.session_manager
    inputs: dict[str, Any] = {
        "s3BucketName": sm.bucket or "",
        "s3KeyPrefix": sm.prefix if sm.logging == "s3" else "",
        "s3EncryptionEnabled": sm.logging == "s3",
        "cloudWatchLogGroupName": log_group or "",
        "cloudWatchEncryptionEnabled": sm.logging == "cloudWatch",
        "cloudWatchStreamingEnabled": True,
        "idleSessionTimeout": str(sm.idle_timeout_minutes),
        "runAsEnabled": False,
        "runAsDefaultUser": "",
        "shellProfile": {"linux": "", "windows": ""},
    }
    return json.dumps(
        {
            "schemaVersion": "1.0",
            "description": "eks-platform: logged, encrypted sessions",
            "sessionType": "Standard_Stream",
            "inputs": inputs,
        },
        sort_keys=True,
    )


def log_key_policy(partition: str, region: str, account: str, log_group: str) -> str:
    """The session log group's key: the account administers it; CloudWatch Logs uses it for that group only."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Account",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "SessionLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnEquals": {
                            "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account}:log-group:{log_group}"
                        }
                    },
                },
            ],
        },
        sort_keys=True,
    )


def policy_size(doc: Mapping[str, Any] | str) -> int:
    """What IAM counts against the inline-policy quota: the document without whitespace."""
    text = doc if isinstance(doc, str) else json.dumps(doc, sort_keys=True)
    return len(re.sub(r"\s", "", text))


def chunks(doc: Mapping[str, Any], limit: int = MAX_MANAGED) -> list[dict[str, Any]]:
    """A document cut into documents of whole statements, each within ``limit`` (in order, so the cut is stable)."""
    out: list[list[dict[str, Any]]] = [[]]
    for st in doc["Statement"]:
        candidate = {"Version": "2012-10-17", "Statement": [*out[-1], st]}
        if out[-1] and policy_size(candidate) > limit:
            out.append([])
        out[-1].append(st)
    return [{"Version": "2012-10-17", "Statement": sts} for sts in out]


def access_problems(env: str, p: Platform, deploy_arn: str, preview_arn: str) -> list[str]:
    """The platform stack must let its CI roles in (the cluster has access entries only, no creator admin)."""
    out = []
    if deploy_arn not in p.admin_role_arns:
        out.append(
            f"environments.{env}: Pulumi.{env}.yaml: cluster.access.adminRoleArns must list {deploy_arn} "
            "(this account's deploy role for it): its up could not install a single add-on"
        )
    if preview_arn not in p.view_role_arns:
        out.append(
            f"environments.{env}: Pulumi.{env}.yaml: cluster.access.readOnlyRoleArns must list "
            f"{preview_arn} (this account's preview role for it): previews could not read the cluster"
        )
    return out


def plan_problems(
    cfg: BootstrapConfig, platforms: Mapping[str, Platform], partition: str, account: str, project: str
) -> list[str]:
    """Everything to refuse before a resource registers: stacks that would not let their roles in, policies over
    IAM's size quotas."""
    out: list[str] = []
    arns = role_arns(project, sorted(platforms), partition, account)
    for env, p in sorted(platforms.items()):
        out += access_problems(env, p, *arns[env])
        parts = len(chunks(deploy_policy(cfg, p, partition, account)))
        if parts > MAX_ATTACHED:
            out.append(
                f"environments.{env}: the deploy role's permissions need {parts} managed policies; IAM "
                f"attaches {MAX_ATTACHED} to a role (fewer hosted zones, or a shorter cluster name)"
            )
        inline = [preview_policy(cfg, p, partition, account)]
        if p.access_host and cfg.session_manager.enabled:
            inline.append(session_policy(p, partition, account))
        if (size := sum(policy_size(d) for d in inline)) > MAX_INLINE:
            out.append(
                f"environments.{env}: the preview role's inline policies have {size} characters; IAM allows "
                f"{MAX_INLINE} per role"
            )
    return out


# -- the component -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CiIdentitiesArgs:
    config: BootstrapConfig
    platforms: Mapping[str, Platform]
    partition: str
    account: str
    region: str
    tags: Mapping[str, str]


class CiIdentities(pulumi.ComponentResource):
    """Everything CI and people's sessions need in one account, created once before the platform stacks."""

    TYPE = "eks-platform:bootstrap:CiIdentities"

    def __init__(self, name: str, args: CiIdentitiesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self._args, self._base = args, name
        self._child = pulumi.ResourceOptions(parent=self)
        self.provider_arn = self._oidc_provider()
        self.deploy_roles: dict[str, aws.iam.Role] = {}
        self.preview_roles: dict[str, aws.iam.Role] = {}
        for env, platform in sorted(args.platforms.items()):
            self.deploy_roles[env] = self._ci_role(
                f"deploy-{env}",
                role_name(name, "deploy", env),
                deploy_claim(env),
                {},
                platform,
                f"pulumi up of {platform.stack}",
            )
            self._managed(
                f"deploy-{env}",
                self.deploy_roles[env],
                deploy_policy(args.config, platform, args.partition, args.account),
            )
            self.preview_roles[env] = self._ci_role(
                f"preview-{env}",
                role_name(name, "preview", env),
                PREVIEW_CLAIM,
                {"preview": preview_policy(args.config, platform, args.partition, args.account)},
                platform,
                f"pulumi preview of {platform.stack} (pull requests)",
            )
        self.catalog_role = (
            self._ci_role(
                "catalog",
                role_name(name, "catalog"),
                CATALOG_CLAIM,
                {"catalog": catalog_policy(args.partition, args.region)},
                None,
                "the weekly node-image and add-on catalog refresh (main only)",
            )
            if args.config.catalog.enabled
            else None
        )
        self.session_log_group = self._session_preferences() if args.config.session_manager.enabled else None
        self.register_outputs({})

    def _oidc_provider(self) -> pulumi.Output[str]:
        existing = self._args.config.github.oidc_provider_arn
        if existing:
            return pulumi.Output.from_input(existing)
        provider = aws.iam.OpenIdConnectProvider(
            f"{self._base}-github",
            url=f"https://{GITHUB}",
            client_id_lists=["sts.amazonaws.com"],
            tags=tagged(self._args.tags, f"{self._base}-github"),
            # every workflow of every repository in the account trusts it: never lost by accident
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        return provider.arn

    def _ci_role(
        self,
        key: str,
        role: str,
        claim: str,
        policies: Mapping[str, dict[str, Any]],
        platform: Platform | None,
        purpose: str,
    ) -> aws.iam.Role:
        a = self._args
        boundary = (
            {"permissions_boundary": a.config.iam.permissions_boundary_arn}
            if a.config.iam.permissions_boundary_arn
            else {}
        )
        out = aws.iam.Role(
            f"{self._base}-{key}",
            name=role,
            description=f"GitHub Actions of {a.config.github.repository}: {purpose}",
            assume_role_policy=self.provider_arn.apply(
                lambda arn: github_trust(arn, a.config.github.repository, claim)
            ),
            max_session_duration=3600,
            tags=tagged(a.tags, role),
            opts=self._child,
            **boundary,
        )
        docs = dict(policies)
        if platform is not None and platform.access_host and a.config.session_manager.enabled:
            docs["session"] = session_policy(platform, a.partition, a.account)
        for suffix, doc in sorted(docs.items()):
            aws.iam.RolePolicy(
                f"{self._base}-{key}-{suffix}",
                role=out.id,
                **names.autoname(names.ROLE_POLICY, f"{self._base}-{key}-{suffix}"),
                policy=json.dumps(doc, sort_keys=True),
                opts=self._child,
            )
        return out

    def _managed(self, key: str, role: aws.iam.Role, doc: Mapping[str, Any]) -> None:
        """The document as managed policies of whole statements, each attached to the role."""
        for i, part in enumerate(chunks(doc), start=1):
            policy = aws.iam.Policy(
                f"{self._base}-{key}-{i}",
                **names.autoname("aws:iam/policy:Policy", f"{self._base}-{key}-{i}"),
                description=f"Part {i} of the {key} role's permissions",
                policy=json.dumps(part, sort_keys=True),
                tags=tagged(self._args.tags, f"{self._base}-{key}-{i}"),
                opts=self._child,
            )
            aws.iam.RolePolicyAttachment(
                f"{self._base}-{key}-{i}", role=role.name, policy_arn=policy.arn, opts=self._child
            )

    def _session_preferences(self) -> pulumi.Output[str] | None:
        a, sm = self._args, self._args.config.session_manager
        group = None
        if sm.logging == "cloudWatch":
            group = f"/aws/ssm/{self._base}-sessions"
            key_arn = (
                sm.kms_key_arn
                or aws.kms.Key(
                    f"{self._base}-sessions",
                    description="Session Manager session logs",
                    enable_key_rotation=True,
                    deletion_window_in_days=30,
                    policy=log_key_policy(a.partition, a.region, a.account, group),
                    tags=tagged(a.tags, f"{self._base}-sessions"),
                    opts=pulumi.ResourceOptions(parent=self, protect=True),
                ).arn
            )
            aws.cloudwatch.LogGroup(
                f"{self._base}-sessions",
                name=group,
                retention_in_days=sm.retention_days,
                kms_key_id=key_arn,
                tags=tagged(a.tags, f"{self._base}-sessions"),
                opts=self._child,
            )
        aws.ssm.Document(
            f"{self._base}-session-preferences",
            name=PREFERENCES_DOCUMENT,
            document_type="Session",
            document_format="JSON",
            content=session_document(a.config, group),
            tags=tagged(a.tags, f"{self._base}-session-preferences"),
            opts=self._child,
        )
        return pulumi.Output.from_input(group) if group else None


def outputs(component: CiIdentities, cfg: BootstrapConfig) -> dict[str, Any]:
    """What the repository's settings need (docs/operations.md, "CI identities")."""
    out: dict[str, Any] = {
        "githubOidcProviderArn": component.provider_arn,
        "deployRoleArns": {env: r.arn for env, r in component.deploy_roles.items()},
        "previewRoleArns": {env: r.arn for env, r in component.preview_roles.items()},
        "repository": cfg.github.repository,
    }
    if component.catalog_role is not None:
        out["catalogRoleArn"] = component.catalog_role.arn
    if component.session_log_group is not None:
        out["sessionLogGroup"] = component.session_log_group
    return out


def role_arns(project: str, envs: Sequence[str], partition: str, account: str) -> dict[str, tuple[str, str]]:
    """``{env: (deploy role ARN, preview role ARN)}`` as the roles will be named."""
    return {
        env: (
            f"arn:{partition}:iam::{account}:role/{role_name(project, 'deploy', env)}",
            f"arn:{partition}:iam::{account}:role/{role_name(project, 'preview', env)}",
        )
        for env in envs
    }
