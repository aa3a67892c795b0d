"""Physical-name limits of every AWS resource type the program names, and the names it derives.

One table, two uses:

* the mock cloud (tools/mockcloud.py) checks every registration against it, explicit names and
  autonames alike, and fails the plan with the error the deployment would hit;
* config validation computes, from ``derived(config)``, the names the program will create and
  refuses a ``cluster.name`` that would push one over its limit — so users get a
  ``cluster.name: ...`` message instead of a failed ``pulumi up``.

Autonames: when a name property is not set, the provider names the resource ``<logical name>-``
plus 7 random characters, never truncated; a longer result fails with "name '<logical>-' plus 7
random chars is longer than maximum length N" (pulumi-terraform-bridge / pulumi sdk
``NewUniqueHex``). So an autonamed resource's name is its logical name plus ``AUTONAME_SUFFIX``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic.alias_generators import to_snake

AUTONAME_SUFFIX = 8  # "-" + 7 random characters
RANDOM_CHARS = 7


@dataclass(frozen=True)
class Limit:
    prop: str  # the engine property that holds the physical name
    max_len: int
    source: str
    autonamed: bool = True  # the provider autonames it when ``prop`` is not set
    forbidden_prefix: str | None = None


# type token -> limit. Sources: the AWS API references (length constraints of the name parameter)
# and terraform-provider-aws validators, which pulumi-aws applies.
LIMITS: dict[str, Limit] = {
    "aws:iam/role:Role": Limit("name", 64, "IAM CreateRole RoleName: 1-64 (IAM quotas)"),
    "aws:iam/policy:Policy": Limit("name", 128, "IAM CreatePolicy PolicyName: 1-128"),
    "aws:iam/group:Group": Limit("name", 128, "IAM CreateGroup GroupName: 1-128", autonamed=False),
    "aws:iam/rolePolicy:RolePolicy": Limit("name", 128, "IAM PutRolePolicy PolicyName: 1-128"),
    "aws:iam/instanceProfile:InstanceProfile": Limit("name", 128, "IAM CreateInstanceProfile: 1-128"),
    "aws:cloudwatch/eventRule:EventRule": Limit("name", 64, "EventBridge PutRule Name: 1-64"),
    "aws:sqs/queue:Queue": Limit("name", 80, "SQS CreateQueue QueueName: 1-80"),
    "aws:lb/loadBalancer:LoadBalancer": Limit("name", 32, "ELBv2 CreateLoadBalancer Name: 1-32, not internal-*",
                                              forbidden_prefix="internal-"),
    "aws:lb/targetGroup:TargetGroup": Limit("name", 32, "ELBv2 CreateTargetGroup Name: 1-32"),
    "aws:ec2/launchTemplate:LaunchTemplate": Limit("name", 125, "terraform-provider-aws launch_template name "
                                                                "validator: 125 (EC2 allows 128)"),
    "aws:eks/nodeGroup:NodeGroup": Limit("nodeGroupName", 63, "EKS CreateNodegroup nodegroupName: 1-63 "
                                                             "(node_group_name_prefix <= 37)"),
    "aws:eks/fargateProfile:FargateProfile": Limit("fargateProfileName", 63,
                                                   "EKS CreateFargateProfile fargateProfileName (tfprovider: 63)"),
    "aws:eks/cluster:Cluster": Limit("name", 100, "EKS CreateCluster name: 1-100"),
    "aws:cloudwatch/logGroup:LogGroup": Limit("name", 512, "CloudWatch Logs CreateLogGroup logGroupName: 1-512"),
    "aws:ec2/securityGroup:SecurityGroup": Limit("name", 255, "EC2 CreateSecurityGroup GroupName: 1-255, not sg-*",
                                                 forbidden_prefix="sg-"),
    "aws:kms/alias:Alias": Limit("name", 256, "KMS CreateAlias AliasName: 1-256 with alias/"),
    "aws:autoscaling/group:Group": Limit("name", 255, "Auto Scaling CreateAutoScalingGroup: 1-255"),
    "aws:autoscaling/lifecycleHook:LifecycleHook": Limit("name", 255, "Auto Scaling PutLifecycleHook: 1-255",
                                                         autonamed=False),
    "aws:codebuild/project:Project": Limit("name", 150, "CodeBuild CreateProject name: 2-150"),
}
# Limits a name built from the cluster name can reach (the cluster name itself may have 100 characters).
# Looser ones (instance profiles, inline policies, launch templates, 125-128) always come with a role or
# node group named like them whose limit binds first.
TIGHT = 100


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
        return (f"could not make instance of '{type_}': name '{logical}-' plus {RANDOM_CHARS} random chars is longer "
                f"than maximum length {limit.max_len}")
    if len(name) > limit.max_len:
        return (f"{type_} '{logical}': {limit.prop} {name!r} is {len(name)} characters; at most {limit.max_len} "
                f"({limit.source})")
    if limit.forbidden_prefix and name.startswith(limit.forbidden_prefix):
        return f"{type_} '{logical}': {limit.prop} {name!r} may not start with {limit.forbidden_prefix!r} ({limit.source})"
    return None


# ---------------------------------------------------------------------------------------
# the names the program derives from a config (kept equal to what it registers by a test)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Derived:
    type: str
    name: str  # the physical name (an autoname is the logical name + the suffix)
    what: str  # what it is, for the message
    path: str | None = None  # the config key that names it too (reported there, not on cluster.name)


def hashed(base: str, *immutable: Any) -> str:
    """``<base>-<6 hex>`` from the inputs that replace the resource: a replacement gets a new name, so the new
    one is created before the old one is deleted (the AWS Load Balancer Controller names its own load balancers
    and target groups the same way, pkg/service/model_build_target_group.go buildTargetGroupName)."""
    digest = hashlib.sha256("|".join(map(str, immutable)).encode()).hexdigest()
    return f"{base}-{digest[:HASH_CHARS]}"


HASH_CHARS = 6


def load_balancer_names(cluster: str, key: str, lb: Any) -> tuple[str, str]:
    """(load balancer name, target group name) of a platform-owned load balancer (both at most 32 characters)."""
    base = f"{cluster}-{key}"
    return (hashed(base, lb.type, lb.scheme),
            hashed(base, lb.target.traffic_port, lb.target_protocol, lb.target.target_type))


def _auto(type_: str, logical: str, what: str) -> Derived:
    return Derived(type_, f"{logical}-{'x' * RANDOM_CHARS}", what)


def derived(cfg: Any) -> list[Derived]:
    """Every name with a limit of ``TIGHT`` or less the program builds from ``cfg`` (a PlatformConfig-shaped
    object). A test keeps this equal to what the program registers."""
    from components.access import admin_role_name
    from components.addons.catalog import COMPONENT_SUFFIXES, ROLE_SUFFIXES
    from components.nodegroups.termination import RULE_KEYS

    c = cfg.cluster.name
    role, queue, rule = "aws:iam/role:Role", "aws:sqs/queue:Queue", "aws:cloudwatch/eventRule:EventRule"
    out = [Derived("aws:eks/cluster:Cluster", c, "the cluster"),
           _auto(role, f"{c}-cluster", "the control-plane role"),
           _auto(role, f"{c}-vpc-cni", "the VPC CNI's role")]
    if cfg.network.existing is None and cfg.network.flow_logs.enabled:
        out.append(_auto(role, f"{c}-flow-logs", "the flow-log delivery role"))
    groups = dict(cfg.node_groups)
    keys = {g: (g if groups[g].iam.dedicated_role else ("managed" if groups[g].managed else "self-managed"))
            for g in groups}
    out += [_auto(role, f"{c}-{k}-nodes", f"the node role {k}") for k in sorted(set(keys.values()))]
    out += [_auto("aws:eks/nodeGroup:NodeGroup", f"{c}-{name}", f"the node group {name}")
            for name in sorted(groups) if groups[name].managed]
    if any(not g.managed for g in groups.values()):
        out.append(Derived(queue, f"{c}-node-termination", "the node termination queue"))
        out += [_auto(rule, f"{c}-node-termination-{key}", f"the EventBridge rule {key}") for key in RULE_KEYS]
    addons = {key: getattr(cfg.addons, to_snake(key)) for key in ROLE_SUFFIXES}
    out += [_auto(role, f"{c}-{ROLE_SUFFIXES[key]}", f"the role of add-on {COMPONENT_SUFFIXES[key]}")
            for key, addon in addons.items() if addon.enabled and addon.has_role]
    if cfg.cluster.addons.ebs_csi.enabled:
        out.append(_auto(role, f"{c}-ebs-csi", "the EBS CSI driver's role"))
    if cfg.delivery.runner.enabled:
        out.append(_auto(role, f"{c}-ci-runner", "the CI runner's role"))
    if cfg.cluster.endpoint.access_host.enabled:
        out.append(_auto(role, f"{c}-access-host", "the access host's role"))
    if cfg.karpenter_pools:
        from components.nodegroups.karpenter import interruption_patterns, interruption_queue_name

        out.append(_auto(role, f"{c}-karpenter-nodes", "the Karpenter node role"))
        out.append(Derived(queue, interruption_queue_name(c), "Karpenter's interruption queue"))
        out += [_auto(rule, f"{c}-karpenter-{key}", f"the EventBridge rule karpenter-{key}")
                for key in interruption_patterns()]
    fargate = cfg.fargate_profiles
    if fargate:
        out.append(_auto(role, f"{c}-fargate", "the Fargate pod execution role"))
    out += [Derived("aws:eks/fargateProfile:FargateProfile", f"{c}-{key}-{'x' * RANDOM_CHARS}",
                    f"the Fargate profile {key}", f"nodeGroups.{key}") for key in sorted(fargate)]
    access = cfg.cluster.access
    if access.admin_role.create:
        out.append(Derived(role, admin_role_name(c), "the people's admin role"))
    for key in sorted(cfg.workloads.identities):
        out.append(Derived(role, f"{c}-identity-{key}-{'x' * RANDOM_CHARS}", f"the role of identity {key}",
                           f"workloads.identities.{key}"))
    for key, lb in sorted(cfg.workloads.load_balancers.items()):
        lb_name, tg_name = load_balancer_names(c, key, lb)
        path = f"workloads.loadBalancers.{key}"
        out += [Derived("aws:lb/loadBalancer:LoadBalancer", lb_name, f"the load balancer {key}", path),
                Derived("aws:lb/targetGroup:TargetGroup", tg_name, f"the target group of {key}", path)]
    return out


def name_problems(cfg: Any) -> list[str]:
    """``key.path: message`` lines for names built from the config that exceed their AWS limits: one for
    cluster.name, one per other key that names resources (its first name over the limit)."""
    out = [p] if (p := cluster_name_problem(cfg)) else []
    reported: set[str] = set()
    for d in derived(cfg):
        limit = LIMITS[d.type]
        if d.path and d.path not in reported and len(d.name) > limit.max_len:
            reported.add(d.path)
            out.append(f"{d.path}: {d.what} would be named {json.dumps(d.name)}, {len(d.name)} characters; "
                       f"at most {limit.max_len} ({limit.source}): shorten the key or cluster.name")
    return out


def cluster_name_problem(cfg: Any) -> str | None:
    """A ``cluster.name: ...`` message when a name built from it would exceed its AWS limit, else None."""
    c = cfg.cluster.name
    worst: tuple[int, Derived] | None = None
    for d in derived(cfg):
        if d.path:
            continue  # reported at its own key
        limit = LIMITS[d.type].max_len
        room = limit - (len(d.name) - len(c))  # the longest cluster name this one allows
        if worst is None or room < worst[0]:
            worst = (room, d)
    if worst is None or len(c) <= worst[0]:
        return None
    room, d = worst
    return (f"cluster.name: {json.dumps(c)} is {len(c)} characters; names built from it must fit AWS limits and {d.what} "
            f"would be {len(d.name)} characters (at most {LIMITS[d.type].max_len}): with this "
            f"config the cluster name can have at most {max(room, 0)} characters")
