"""The bootstrap program (bootstrap/): planned offline like the platform, one deploy role per environment trusted
for exactly that environment, permissions that cover what every platform stack creates and nothing read-all."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bootstrap import config as bconfig
from bootstrap import identities as ids
from components.config import ConfigError
from policies import guardrails as g
from tests.helpers import DATA, ROOT, stack_names, stack_recording
from tools import plan, stackconfig, stacks

BOOT = ROOT / "bootstrap"
ACCOUNT, PARTITION = "111122223333", "aws"


def bootstrap_stacks() -> list[str]:
    return stacks.discover(BOOT)


_PLANS: dict[str, Any] = {}


def bootstrap_plan(stack: str):
    if stack not in _PLANS:
        _PLANS[stack] = plan.run(BOOT / f"Pulumi.{stack}.yaml", stack, BOOT)
    return _PLANS[stack]


def raw_config(stack: str) -> dict[str, Any]:
    from components.config.runtime import flatten_runtime

    flat, _ = stackconfig.stack_config(BOOT / f"Pulumi.{stack}.yaml", stackconfig.load_project(BOOT))
    return flatten_runtime(flat, bconfig.PROJECT)


def trust_sub(role) -> str:
    doc = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = doc["Statement"]
    return statement["Condition"]["StringEquals"][f"{ids.GITHUB}:sub"]


@pytest.mark.parametrize("stack", bootstrap_stacks())
def test_one_deploy_role_per_environment_trusted_for_exactly_it(stack):
    cfg, _ = bconfig.load(raw_config(stack))
    rec = bootstrap_plan(stack)
    repo = cfg.github.repository
    roles = {r.inputs["name"]: r for r in rec.by_type("aws:iam/role:Role")}
    deploy = {n: r for n, r in roles.items() if "-ci-deploy-" in n}
    assert sorted(deploy) == sorted(f"eks-platform-ci-deploy-{env}" for env in cfg.environments)
    for env in cfg.environments:
        assert trust_sub(deploy[f"eks-platform-ci-deploy-{env}"]) == f"repo:{repo}:environment:{env}"
        assert trust_sub(roles[f"eks-platform-ci-preview-{env}"]) == f"repo:{repo}:pull_request"
    assert trust_sub(roles["eks-platform-ci-catalog"]) == f"repo:{repo}:ref:refs/heads/main"
    # every trust pins the audience too, and the principal is the GitHub provider
    for role in roles.values():
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Condition"]["StringEquals"][f"{ids.GITHUB}:aud"] == "sts.amazonaws.com"
        assert statement["Principal"]["Federated"].endswith(f":oidc-provider/{ids.GITHUB}")


@pytest.mark.parametrize("stack", bootstrap_stacks())
def test_no_aws_managed_policy_and_the_guardrails_pass(stack, capsys):
    rec = bootstrap_plan(stack)
    attached = [r.inputs["policyArn"] for r in rec.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
    assert attached and not [a for a in attached if ":iam::aws:policy/" in a]  # ReadOnlyAccess & co: never
    assert plan.main(["--project", str(BOOT), stack, "--quiet", "--policies"]) == 0
    assert ": 0 mandatory" in capsys.readouterr().out


@pytest.mark.parametrize("stack", bootstrap_stacks())
def test_the_platform_stacks_let_their_roles_in(stack):
    """The outputs are the ARNs each environment's stack file lists in its access (checked before any resource)."""
    out = bootstrap_plan(stack).outputs
    for env in bconfig.load(raw_config(stack))[0].environments:
        platform = bconfig.platform_of(env)
        assert out["deployRoleArns"][env] in platform.admin_role_arns
        assert out["previewRoleArns"][env] in platform.view_role_arns


def test_preview_reads_nothing_of_the_account():
    """An explicit read list: no parameter, secret, object or log read; the secrets key decrypt only."""
    cfg, platforms = bconfig.load(raw_config("platform"))
    doc = ids.preview_policy(cfg, platforms["prod"], PARTITION, ACCOUNT)
    actions = {a for s in doc["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert not [a for a in actions if "*" in a]
    assert not [a for a in actions if re.match(r"(secretsmanager|logs):", a) or a in ("ssm:GetParametersByPath",)]
    kms = [s for s in doc["Statement"] if s["Sid"] == "SecretsKey"]
    assert kms == [
        {"Sid": "SecretsKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": cfg.state.secrets_key_arn}
    ]
    ssm = [s for s in doc["Statement"] if any(a.startswith("ssm:") for a in s["Action"])]
    assert all(":parameter/aws/service/" in r for s in ssm for r in s["Resource"])  # AWS's public parameters only


# -- the deploy role covers every kind of resource the platform creates --------------------------------------
def _glob(pattern: str) -> re.Pattern:
    return g._glob(pattern)


def allows(doc: dict, action: str, resource: str, region: str) -> bool:
    """IAM's answer for one request, enough for these policies: an Allow whose action and resource match and whose
    region condition (if any) is the request's, and no Deny that matches."""

    def hits(s: dict) -> bool:
        acts = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        res = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        region_ok = s.get("Condition", {}).get("StringEquals", {}).get("aws:RequestedRegion", region) == region
        return (
            any(_glob(a).fullmatch(action) for a in acts)
            and any(_glob(r).fullmatch(resource) for r in res)
            and region_ok
        )

    statements = doc["Statement"]
    return any(hits(s) for s in statements if s["Effect"] == "Allow") and not any(
        hits(s) for s in statements if s["Effect"] == "Deny" and not s.get("Condition")
    )


def request(r, p: bconfig.Platform) -> tuple[str, str]:
    """(the action that creates the resource, the ARN IAM authorizes it on)."""
    i, reg, a, c = r.inputs, p.region, ACCOUNT, p.cluster_name
    name = i.get("name") or f"{r.name}-abcdefg"  # autonamed: <logical>-<7 random>
    arn = lambda svc, res: f"arn:aws:{svc}:{reg}:{a}:{res}"  # noqa: E731
    iam = lambda res: f"arn:aws:iam::{a}:{res}"  # noqa: E731
    asg = lambda n: arn("autoscaling", f"autoScalingGroup:uuid:autoScalingGroupName/{n}")  # noqa: E731
    cluster = arn("eks", f"cluster/{c}")
    ec2 = {
        "vpc": "CreateVpc",
        "subnet": "CreateSubnet",
        "internetGateway": "CreateInternetGateway",
        "natGateway": "CreateNatGateway",
        "eip": "AllocateAddress",
        "routeTable": "CreateRouteTable",
        "route": "CreateRoute",
        "routeTableAssociation": "AssociateRouteTable",
        "securityGroup": "CreateSecurityGroup",
        "defaultSecurityGroup": "RevokeSecurityGroupIngress",
        "vpcEndpoint": "CreateVpcEndpoint",
        "launchTemplate": "CreateLaunchTemplate",
        "flowLog": "CreateFlowLogs",
        "vpcIpv4CidrBlockAssociation": "AssociateVpcCidrBlock",
        "securityGroupIngressRule": "AuthorizeSecurityGroupIngress",
        "securityGroupEgressRule": "AuthorizeSecurityGroupEgress",
    }
    kind = r.type.split("/")[1].split(":")[0]
    if r.type.startswith(("aws:ec2/", "aws:vpc/")):
        return f"ec2:{ec2[kind]}", "*"
    table: dict[str, Any] = {  # lazily: each entry reads its own inputs
        "aws:autoscaling/group:Group": lambda: ("autoscaling:CreateAutoScalingGroup", asg(name)),
        "aws:autoscaling/lifecycleHook:LifecycleHook": lambda: (
            "autoscaling:PutLifecycleHook",
            asg(i.get("autoscalingGroupName")),
        ),
        "aws:autoscaling/tag:Tag": lambda: ("autoscaling:CreateOrUpdateTags", asg(i.get("autoscalingGroupName"))),
        "aws:cloudwatch/eventRule:EventRule": lambda: ("events:PutRule", arn("events", f"rule/{name}")),
        "aws:cloudwatch/eventTarget:EventTarget": lambda: ("events:PutTargets", arn("events", f"rule/{i.get('rule')}")),
        "aws:cloudwatch/logGroup:LogGroup": lambda: ("logs:CreateLogGroup", arn("logs", f"log-group:{name}")),
        "aws:codebuild/project:Project": lambda: ("codebuild:CreateProject", arn("codebuild", f"project/{name}")),
        "aws:codebuild/webhook:Webhook": lambda: (
            "codebuild:CreateWebhook",
            arn("codebuild", f"project/{i.get('projectName')}"),
        ),
        "aws:eks/cluster:Cluster": lambda: ("eks:CreateCluster", cluster),
        "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration": lambda: (
            "arc-zonal-shift:CreatePracticeRunConfiguration",
            cluster,
        ),
        "aws:eks/accessEntry:AccessEntry": lambda: ("eks:CreateAccessEntry", cluster),
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": lambda: (
            "eks:AssociateAccessPolicy",
            arn("eks", f"access-entry/{c}/role/x/y/z"),
        ),
        "aws:eks/addon:Addon": lambda: ("eks:CreateAddon", cluster),
        "aws:eks/fargateProfile:FargateProfile": lambda: ("eks:CreateFargateProfile", cluster),
        "aws:eks/identityProviderConfig:IdentityProviderConfig": lambda: (
            "eks:AssociateIdentityProviderConfig",
            cluster,
        ),
        "aws:eks/nodeGroup:NodeGroup": lambda: ("eks:CreateNodegroup", cluster),
        "aws:eks/podIdentityAssociation:PodIdentityAssociation": lambda: ("eks:CreatePodIdentityAssociation", cluster),
        "aws:iam/group:Group": lambda: ("iam:CreateGroup", iam(f"group/{name}")),
        "aws:iam/groupPolicy:GroupPolicy": lambda: ("iam:PutGroupPolicy", iam(f"group/{i.get('group')}")),
        "aws:iam/instanceProfile:InstanceProfile": lambda: (
            "iam:CreateInstanceProfile",
            iam(f"instance-profile/{name}"),
        ),
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda: (
            "iam:CreateOpenIDConnectProvider",
            iam(f"oidc-provider/{i['url'].removeprefix('https://')}"),
        ),
        "aws:iam/role:Role": lambda: ("iam:CreateRole", iam(f"role/{name}")),
        "aws:iam/rolePolicy:RolePolicy": lambda: ("iam:PutRolePolicy", iam(f"role/{i.get('role')}")),
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda: (
            "iam:AttachRolePolicy",
            iam(f"role/{i.get('role')}"),
        ),
        "aws:kms/key:Key": lambda: ("kms:CreateKey", "*"),
        "aws:kms/alias:Alias": lambda: ("kms:CreateAlias", arn("kms", name)),
        "aws:lb/loadBalancer:LoadBalancer": lambda: ("elasticloadbalancing:CreateLoadBalancer", "*"),
        "aws:lb/listener:Listener": lambda: ("elasticloadbalancing:CreateListener", "*"),
        "aws:lb/targetGroup:TargetGroup": lambda: ("elasticloadbalancing:CreateTargetGroup", "*"),
        "aws:route53/record:Record": lambda: (
            "route53:ChangeResourceRecordSets",
            f"arn:aws:route53:::hostedzone/{i.get('zoneId')}",
        ),
        "aws:sqs/queue:Queue": lambda: ("sqs:CreateQueue", arn("sqs", name)),
        "aws:sns/topic:Topic": lambda: ("sns:CreateTopic", arn("sns", name)),
        "aws:sns/topicPolicy:TopicPolicy": lambda: ("sns:SetTopicAttributes", i["arn"]),
        "aws:cloudwatch/metricAlarm:MetricAlarm": lambda: (
            "cloudwatch:PutMetricAlarm",
            arn("cloudwatch", f"alarm:{name}"),
        ),
        "aws:cloudwatch/dashboard:Dashboard": lambda: (
            "cloudwatch:PutDashboard",
            f"arn:aws:cloudwatch::{a}:dashboard/{i['dashboardName']}",
        ),
        "aws:amp/workspace:Workspace": lambda: ("aps:CreateWorkspace", arn("aps", "workspace/*")),
        "aws:amp/scraper:Scraper": lambda: ("aps:CreateScraper", arn("aps", "scraper/*")),
        "aws:sqs/queuePolicy:QueuePolicy": lambda: (
            "sqs:SetQueueAttributes",
            arn("sqs", i["queueUrl"].rsplit("/", 1)[1]),
        ),
    }
    return table[r.type]()


def platform_stacks(tmp: Path) -> list[tuple[str, Path]]:
    """Every stack file of the repository, and the full example (copied beside the project file it needs)."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp / "Pulumi.yaml")
    shutil.copy(DATA / "stacks" / "Pulumi.full.yaml", tmp / "Pulumi.full.yaml")
    return [*((s, ROOT) for s in stack_names()), ("full", tmp)]


def test_the_deploy_role_may_create_everything_every_stack_plans(tmp_path):
    cfg, _ = bconfig.load(raw_config("platform"))
    missing = []
    for stack, root in platform_stacks(tmp_path):
        platform = bconfig.platform_of(stack, root)
        doc = ids.deploy_policy(cfg, platform, PARTITION, ACCOUNT)
        rec = stack_recording(stack) if root == ROOT else plan.run(root / f"Pulumi.{stack}.yaml", stack)
        for r in rec.resources:
            if not r.type.startswith("aws:"):
                continue
            action, resource = request(r, platform)  # a KeyError: a new kind of resource, add it to ci-deploy.yaml
            if not allows(doc, action, resource, platform.region):
                missing.append(f"{stack}: {r.type} {r.name}: {action} on {resource}")
    assert missing == []


def test_the_deploy_role_cannot_touch_another_environments_cluster():
    cfg, platforms = bconfig.load(raw_config("platform"))
    dev = ids.deploy_policy(cfg, platforms["dev"], PARTITION, ACCOUNT)
    prod = platforms["prod"]
    for action, resource in (
        ("eks:DeleteCluster", f"arn:aws:eks:{prod.region}:{ACCOUNT}:cluster/{prod.cluster_name}"),
        ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/{prod.cluster_name}-cluster-1a2b3c4"),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/{prod.cluster_name}-nodes-1a2b3c4"),
        ("logs:DeleteLogGroup", f"arn:aws:logs:{prod.region}:{ACCOUNT}:log-group:/aws/eks/{prod.cluster_name}/cluster"),
    ):
        assert not allows(dev, action, resource, prod.region), action


def test_with_a_boundary_every_role_carries_it_and_deploys_create_only_bounded_roles(tmp_path):
    raw = raw_config("platform")
    boundary = "arn:aws:iam::111122223333:policy/platform-boundary"
    raw["iam"] = {"permissionsBoundaryArn": boundary}
    cfg, platforms = bconfig.load(raw)
    doc = ids.deploy_policy(cfg, platforms["prod"], PARTITION, ACCOUNT)
    deny = [s for s in doc["Statement"] if s["Effect"] == "Deny"]
    assert {s["Sid"] for s in deny} == {"DenyRolesWithoutTheBoundary", "KeepTheBoundary"}
    assert deny[0]["Condition"] == {"StringNotEquals": {"iam:PermissionsBoundary": boundary}}
    stack = tmp_path / "Pulumi.boundary.yaml"
    stack.write_text(
        (BOOT / "Pulumi.platform.yaml").read_text()
        + f"  eks-platform-bootstrap:iam:\n    permissionsBoundaryArn: {boundary}\n"
    )
    rec = plan.run(stack, "boundary", BOOT)
    assert {r.inputs.get("permissionsBoundary") for r in rec.by_type("aws:iam/role:Role")} == {boundary}


def test_an_existing_github_provider_is_used_not_created(tmp_path):
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    stack = tmp_path / "Pulumi.existing.yaml"
    stack.write_text(
        (BOOT / "Pulumi.platform.yaml")
        .read_text()
        .replace(
            "    repository: acme/eks-platform\n", f"    repository: acme/eks-platform\n    oidcProviderArn: {arn}\n"
        )
    )
    rec = plan.run(stack, "existing", BOOT)
    assert rec.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert {
        json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["Federated"]
        for r in rec.by_type("aws:iam/role:Role")
    } == {arn}


def test_sessions_are_logged_encrypted_and_started_only_on_the_access_host():
    rec = bootstrap_plan("platform")
    (doc,) = rec.by_type("aws:ssm/document:Document")
    content = json.loads(doc.inputs["content"])
    assert doc.inputs["name"] == "SSM-SessionManagerRunShell" and doc.inputs["documentType"] == "Session"
    assert content["inputs"]["cloudWatchEncryptionEnabled"] is True
    (group,) = rec.by_type("aws:cloudwatch/logGroup:LogGroup")
    assert content["inputs"]["cloudWatchLogGroupName"] == group.inputs["name"] and group.inputs["kmsKeyId"]
    (key,) = rec.by_type("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True and key.protect
    _, platforms = bconfig.load(raw_config("platform"))
    policy = ids.session_policy(platforms["prod"], PARTITION, ACCOUNT)
    start = policy["Statement"][0]
    assert start["Condition"] == {"StringEquals": {"ssm:resourceTag/eks-platform/access-host": "eks-platform-prod"}}
    # the platform's access host carries that tag and may write that log group
    from tests.helpers import stack_recording

    prod = stack_recording("prod")
    lt = prod.one("aws:ec2/launchTemplate:LaunchTemplate", "eks-platform-prod-access-host").inputs
    assert all(s["tags"]["eks-platform/access-host"] == "eks-platform-prod" for s in lt["tagSpecifications"])
    host = json.loads(
        prod.one("aws:iam/rolePolicy:RolePolicy", "eks-platform-prod-access-host-session-manager").inputs["policy"]
    )
    assert {
        "Sid": "SessionLogStreams",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        "Resource": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:{group.inputs['name']}:*",
    } in host["Statement"]


@given(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=30))
def test_chunks_keep_every_statement_in_order_within_the_limit(sizes):
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": f"S{i}", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "x" * n}
            for i, n in enumerate(sizes)
        ],
    }
    parts = ids.chunks(doc, limit=3200)
    assert [s for p in parts for s in p["Statement"]] == doc["Statement"]
    assert all(ids.policy_size(p) <= 3200 or len(p["Statement"]) == 1 for p in parts)


@pytest.mark.parametrize(
    "raw,problem",
    [
        ({"environments": ["dev"]}, "github: is required"),
        (
            {"github": {"repository": "acme/eks-platform"}, "environments": []},
            "environments: needs at least one platform stack",
        ),
        (
            {"github": {"repository": "acme/eks-platform"}, "environments": ["staging"]},
            "environments.staging: no platform stack file Pulumi.staging.yaml (stacks: dev, prod)",
        ),
        (
            {"github": {"repository": "https://github.com/acme/x"}, "environments": ["dev"]},
            'github.repository: "https://github.com/acme/x" is not a GitHub repository (owner/name)',
        ),
        (
            {"github": {"repository": "acme/x"}, "environments": ["dev"], "sessionManager": {"logging": "s3"}},
            "sessionManager.bucket: is required with logging: s3",
        ),
        (
            {"github": {"repository": "acme/x"}, "environments": ["dev"], "enviroments": ["prod"]},
            "enviroments: unknown key",
        ),
    ],
)
def test_bad_bootstrap_config_is_one_line_per_problem(raw, problem):
    with pytest.raises(ConfigError) as err:
        bconfig.load(raw)
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_a_stack_that_does_not_list_its_roles_is_refused():
    platform = bconfig.Platform("dev", "eks-platform-dev", "eu-west-1", ("arn:aws:iam::1:role/x",), (), (), False)
    problems = ids.access_problems("dev", platform, "arn:deploy", "arn:preview")
    assert problems == [
        "environments.dev: Pulumi.dev.yaml: cluster.access.adminRoleArns must list arn:deploy (this account's deploy "
        "role for it): its up could not install a single add-on",
        "environments.dev: Pulumi.dev.yaml: cluster.access.readOnlyRoleArns must list arn:preview (this account's "
        "preview role for it): previews could not read the cluster",
    ]
