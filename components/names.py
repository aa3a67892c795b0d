"""Physical names: the AWS limit of every resource type the program names, and the one function that fits a name
under it.

One table, two uses:

* every physical name the program gives or lets the provider make up goes through ``explicit``, ``autoname`` or
  ``hashed`` here: a name that fits its limit is used as it is, a longer one is cut and ends in a short hash of the
  whole name, so any cluster name EKS accepts (1-100 characters) and any key the schema accepts plans, and names
  stay unique and stable (docs/architecture.md, "Names");
* the mock cloud (tools/mockcloud.py) checks every registration against the same table, explicit names and
  autonames alike, and fails the plan with the error the deployment would hit.

Autonames: when a name property is not set, the provider names the resource ``<logical name>-``
plus 7 random characters, never truncated; a longer result fails with "name '<logical>-' plus 7
random chars is longer than maximum length N" (pulumi-terraform-bridge / pulumi sdk
``NewUniqueHex``). So an autonamed resource's name is its logical name plus ``AUTONAME_SUFFIX``.
Names that fit keep that behaviour (no change for stacks that plan today); a logical name too long for it gets an
explicit name instead.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pulumi

AUTONAME_SUFFIX = 8  # "-" + 7 random characters
RANDOM_CHARS = 7
HASH_CHARS = 6  # the hash that ends a shortened name: 16.7 million values per truncated prefix
ELB_CHARS = "A-Za-z0-9-"  # ELBv2 load balancer and target group names: alphanumerics and hyphens


@dataclass(frozen=True)
class Limit:
    prop: str  # the engine property that holds the physical name
    max_len: int
    source: str
    autonamed: bool = True  # the provider autonames it when ``prop`` is not set
    forbidden_prefix: str | None = None
    charset: str | None = None  # the characters AWS takes, when narrower than a cluster name's (a-z, 0-9, -, _)


ROLE, ROLE_POLICY, GROUP_POLICY = (
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
IAM_GROUP, INSTANCE_PROFILE = "aws:iam/group:Group", "aws:iam/instanceProfile:InstanceProfile"
EVENT_RULE, QUEUE, LOG_GROUP = (
    "aws:cloudwatch/eventRule:EventRule",
    "aws:sqs/queue:Queue",
    "aws:cloudwatch/logGroup:LogGroup",
)
LAUNCH_TEMPLATE, SECURITY_GROUP = "aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/securityGroup:SecurityGroup"
NODE_GROUP, FARGATE_PROFILE = "aws:eks/nodeGroup:NodeGroup", "aws:eks/fargateProfile:FargateProfile"
ASG, CODEBUILD_PROJECT = "aws:autoscaling/group:Group", "aws:codebuild/project:Project"
LOAD_BALANCER, TARGET_GROUP = "aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup"

# type token -> limit. Sources: the AWS API references (length constraints of the name parameter)
# and terraform-provider-aws validators, which pulumi-aws applies.
LIMITS: dict[str, Limit] = {
    "aws:iam/role:Role": Limit("name", 64, "IAM CreateRole RoleName: 1-64 (IAM quotas)"),
    "aws:iam/policy:Policy": Limit("name", 128, "IAM CreatePolicy PolicyName: 1-128"),
    "aws:iam/group:Group": Limit("name", 128, "IAM CreateGroup GroupName: 1-128", autonamed=False),
    "aws:iam/rolePolicy:RolePolicy": Limit("name", 128, "IAM PutRolePolicy PolicyName: 1-128"),
    "aws:iam/groupPolicy:GroupPolicy": Limit("name", 128, "IAM PutGroupPolicy PolicyName: 1-128"),
    "aws:iam/instanceProfile:InstanceProfile": Limit("name", 128, "IAM CreateInstanceProfile: 1-128"),
    "aws:cloudwatch/eventRule:EventRule": Limit("name", 64, "EventBridge PutRule Name: 1-64"),
    "aws:sqs/queue:Queue": Limit("name", 80, "SQS CreateQueue QueueName: 1-80"),
    "aws:lb/loadBalancer:LoadBalancer": Limit(
        "name",
        32,
        "ELBv2 CreateLoadBalancer Name: 1-32 alphanumerics and hyphens, not internal-*",
        forbidden_prefix="internal-",
        charset=ELB_CHARS,
    ),
    "aws:lb/targetGroup:TargetGroup": Limit(
        "name", 32, "ELBv2 CreateTargetGroup Name: 1-32 alphanumerics and hyphens", charset=ELB_CHARS
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": Limit(
        "name", 125, "terraform-provider-aws launch_template name validator: 125 (EC2 allows 128)"
    ),
    "aws:eks/nodeGroup:NodeGroup": Limit(
        "nodeGroupName", 63, "EKS CreateNodegroup nodegroupName: 1-63 (node_group_name_prefix <= 37)"
    ),
    "aws:eks/fargateProfile:FargateProfile": Limit(
        "fargateProfileName", 63, "EKS CreateFargateProfile fargateProfileName (tfprovider: 63)"
    ),
    "aws:eks/cluster:Cluster": Limit("name", 100, "EKS CreateCluster name: 1-100"),
    "aws:cloudwatch/logGroup:LogGroup": Limit("name", 512, "CloudWatch Logs CreateLogGroup logGroupName: 1-512"),
    "aws:ec2/securityGroup:SecurityGroup": Limit(
        "name", 255, "EC2 CreateSecurityGroup GroupName: 1-255, not sg-*", forbidden_prefix="sg-"
    ),
    "aws:kms/alias:Alias": Limit("name", 256, "KMS CreateAlias AliasName: 1-256 with alias/"),
    "aws:autoscaling/group:Group": Limit("name", 255, "Auto Scaling CreateAutoScalingGroup: 1-255"),
    "aws:autoscaling/lifecycleHook:LifecycleHook": Limit(
        "name", 255, "Auto Scaling PutLifecycleHook: 1-255", autonamed=False
    ),
    "aws:codebuild/project:Project": Limit("name", 150, "CodeBuild CreateProject name: 2-150"),
    "aws:sns/topic:Topic": Limit("name", 256, "SNS CreateTopic Name: 1-256 letters, digits, - and _"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Limit(
        "name", 255, "CloudWatch PutMetricAlarm AlarmName: 1-255", autonamed=False
    ),
    "aws:cloudwatch/dashboard:Dashboard": Limit(
        "dashboardName", 255, "CloudWatch PutDashboard DashboardName: 1-255 letters, digits, - and _", autonamed=False
    ),
    "aws:amp/workspace:Workspace": Limit("alias", 100, "AMP CreateWorkspace alias: 1-100", autonamed=False),
    "aws:amp/scraper:Scraper": Limit("alias", 100, "AMP CreateScraper alias: 1-100", autonamed=False),
}


def physical_name(type_: str, logical: str, inputs: dict[str, Any]) -> tuple[str, bool] | None:
    """(the resource's physical name, whether the provider makes it up), or None when it has none we check."""
    limit = LIMITS.get(type_)
    if limit is None:
        return None
    explicit = inputs.get(limit.prop)
    if isinstance(explicit, str):
        return explicit, False
    if limit.autonamed and explicit is None:
        return f"{logical}-{'x' * RANDOM_CHARS}", True
    return None


def engine_problem(type_: str, logical: str, inputs: dict[str, Any]) -> str | None:
    """The error a deployment of this registration would stop with, if its name is out of bounds."""
    found = physical_name(type_, logical, inputs)
    if found is None:
        return None
    name, auto = found
    limit = LIMITS[type_]
    if auto and len(name) > limit.max_len:
        return (
            f"could not make instance of '{type_}': name '{logical}-' plus {RANDOM_CHARS} random chars is longer "
            f"than maximum length {limit.max_len}"
        )
    if len(name) > limit.max_len:
        return (
            f"{type_} '{logical}': {limit.prop} {name!r} is {len(name)} characters; at most {limit.max_len} "
            f"({limit.source})"
        )
    if limit.forbidden_prefix and name.startswith(limit.forbidden_prefix):
        return (
            f"{type_} '{logical}': {limit.prop} {name!r} may not start with {limit.forbidden_prefix!r} ({limit.source})"
        )
    return None


# ---------------------------------------------------------------------------------------
# fitting names under their limits
# ---------------------------------------------------------------------------------------
def digest(*parts: Any) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:HASH_CHARS]


def _cut(name: str, max_len: int, *salt: Any, whole: str | None = None) -> str:
    """``name`` cut to leave room for ``-<hash>``, the hash taken over the whole natural name and ``salt``.

    The middle goes: a third of the room keeps the start (the cluster name's beginning), the rest keeps the end,
    where the key and the resource's role are (``...-karpenter-nodes``), so a shortened name still says what it is.
    """
    room = max_len - HASH_CHARS - 1
    if len(name) > room:
        head = room // 3
        name = f"{name[:head].rstrip('-_.')}-{name[len(name) - (room - head - 1) :].lstrip('-_.')}"
    return f"{name.rstrip('-_.')}-{digest(whole if whole is not None else name, *salt)}"


def _valid(limit: Limit, name: str) -> str:
    """``name`` in the characters the type takes: others become ``-`` and a forbidden prefix is dropped."""
    if limit.charset:
        name = re.sub(f"[^{limit.charset}]", "-", name).strip("-")
    if limit.forbidden_prefix and name.startswith(limit.forbidden_prefix):
        name = name[len(limit.forbidden_prefix) :]
    return name or "x"


def explicit(type_: str, natural: str, *salt: Any) -> str:
    """The name to give a resource whose natural name is ``natural``: itself when AWS takes it, else a name that
    fits (cut, then ``-`` and a hash of the natural name and ``salt``)."""
    limit = LIMITS[type_]
    valid = _valid(limit, natural)
    if valid == natural and len(natural) <= limit.max_len:
        return natural
    return _cut(valid, limit.max_len, *salt, whole=natural)


def autoname(type_: str, logical: str, *salt: Any) -> dict[str, Any]:
    """Keyword arguments that name an autonamed resource: none when ``<logical>-<7 random>`` fits (the provider names
    it, as it always has), else its name property set to ``logical`` cut to the limit and ending in a hash of the
    logical name and ``salt``.

    ``salt``: for types whose replace-on-change inputs do not include the name (an EKS node group's instance types,
    a Fargate profile's selectors), those inputs, so a replacement gets a new name instead of colliding with the old
    resource's (create-before-delete). Outputs among them (subnet ids, a role ARN) make the name an Output."""
    limit = LIMITS[type_]
    if len(logical) + AUTONAME_SUFFIX <= limit.max_len and _valid(limit, logical) == logical:
        return {}
    valid, prop = _valid(limit, logical), _snake(limit.prop)
    if any(isinstance(s, pulumi.Output) for s in salt):
        return {prop: pulumi.Output.all(*salt).apply(lambda v: _cut(valid, limit.max_len, *v, whole=logical))}
    return {prop: _cut(valid, limit.max_len, *salt, whole=logical)}


def hashed(type_: str, base: str, *immutable: Any) -> str:
    """``<base>-<6 hex>`` from the inputs that replace the resource: a replacement gets a new name, so the new one is
    created before the old one is deleted (the AWS Load Balancer Controller names its own load balancers and target
    groups the same way, pkg/service/model_build_target_group.go buildTargetGroupName). A base too long for the
    type is cut, and the hash then covers it too."""
    limit = LIMITS[type_]
    if _valid(limit, base) == base and len(base) + HASH_CHARS + 1 <= limit.max_len:
        return f"{base}-{digest(*immutable)}"
    return _cut(_valid(limit, base), limit.max_len, *immutable, whole=base)


def _snake(prop: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", prop).lower()


def load_balancer_names(cluster: str, key: str, lb: Any) -> tuple[str, str]:
    """(load balancer name, target group name) of a platform-owned load balancer (both at most 32 characters)."""
    base = f"{cluster}-{key}"
    return (
        hashed(LOAD_BALANCER, base, lb.type, lb.scheme),
        hashed(TARGET_GROUP, base, lb.target.traffic_port, lb.target_protocol, lb.target.target_type),
    )
