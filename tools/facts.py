"""What the plan's tree shows next to each resource: per type, the inputs a reviewer checks (one table, ``SHOWN``).

Each entry reads a resource's inputs (camelCase, as the engine sees them) and returns ``(label, value)`` pairs;
empty values are left out. Resource options (protect, retainOnDelete, ignoreChanges) follow on every line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Pairs = list[tuple[str, Any]]


def _join(values: Iterable[Any]) -> str:
    return ",".join(str(v) for v in values)


def _scaling(i: Mapping[str, Any]) -> Pairs:
    sc = i.get("scalingConfig") or {}
    return [
        ("instances", i.get("instanceTypes")),
        ("capacity", i.get("capacityType")),
        ("size", f"{sc.get('minSize')}..{sc.get('maxSize')}" if sc else None),
        ("version", i.get("version")),
        ("release", i.get("releaseVersion")),
        ("repair", "on" if (i.get("nodeRepairConfig") or {}).get("enabled") else None),
    ]


def _asg(i: Mapping[str, Any]) -> Pairs:
    overrides = ((i.get("mixedInstancesPolicy") or {}).get("launchTemplate") or {}).get("overrides") or []
    return [
        ("size", f"{i.get('minSize')}..{i.get('maxSize')}"),
        ("instances", [o.get("instanceType") for o in overrides]),
        ("health", i.get("healthCheckType")),
    ]


def _launch_template(i: Mapping[str, Any]) -> Pairs:
    md = i.get("metadataOptions") or {}
    return [
        ("ami", i.get("imageId")),
        ("imds", f"{md.get('httpTokens')}/hop{md.get('httpPutResponseHopLimit')}" if md else None),
    ]


def _ca_tag(i: Mapping[str, Any]) -> Pairs:
    tag = i.get("tag") or {}
    return [(str(tag.get("key", "")).removeprefix("k8s.io/cluster-autoscaler/node-template/"), tag.get("value"))]


def _config_group(i: Mapping[str, Any]) -> Pairs:
    files = [str(f) for f in i.get("files") or []]
    return [
        ("tag", ",".join(sorted({m.group(1) for f in files if (m := re.search(r"/(v\d+\.\d+\.\d+)/", f))}))),
        ("files", [f.rsplit("/", 1)[-1] for f in files]),
    ]


def _secret_store(i: Mapping[str, Any]) -> Pairs:
    spec = i.get("spec") or {}
    return [
        ("service", ((spec.get("provider") or {}).get("aws") or {}).get("service")),
        ("namespaces", [json.dumps(c, sort_keys=True, separators=(",", ":")) for c in spec.get("conditions") or []]),
    ]


def _rule(i: Mapping[str, Any]) -> Pairs:
    """A security-group rule: protocol and ports, and the peer (CIDR, group or prefix list)."""
    proto = i.get("ipProtocol")
    ports = (
        "all"
        if proto == "-1"
        else (
            f"{i.get('fromPort')}" if i.get("fromPort") == i.get("toPort") else f"{i.get('fromPort')}-{i.get('toPort')}"
        )
    )
    peer = i.get("cidrIpv4") or i.get("cidrIpv6") or i.get("referencedSecurityGroupId") or i.get("prefixListId")
    return [("proto", "all" if proto == "-1" else proto), ("ports", ports), ("peer", peer)]


def short_action_set(actions: Sequence[str]) -> str:
    """``ec2:Describe*,ec2:CreateTags`` -> ``ec2:{CreateTags,Describe*}``: actions grouped by service."""
    by_service: dict[str, list[str]] = {}
    for action in actions:
        service, _, name = action.partition(":")
        by_service.setdefault(service, []).append(name or "*")
    return " ".join(
        f"{s}:{names[0]}" if len(names) == 1 else f"{s}:{{{','.join(sorted(names))}}}"
        for s, names in sorted(by_service.items())
    )


def _resource_pattern(arn: str) -> str:
    """An ARN in short form: service and resource part (``sqs:eks-platform-prod-*``)."""
    parts = arn.split(":", 5)
    return arn if len(parts) < 6 else f"{parts[2]}:{parts[5]}"


def _listed(value: Any) -> list[str]:
    return [] if value is None else [str(v) for v in (value if isinstance(value, list) else [value])]


def _policy(i: Mapping[str, Any], field: str = "policy") -> Pairs:
    """An IAM policy in short form: a small one statement by statement (effect, actions by service, resource
    patterns, ``+cond`` where a condition scopes it); a large one as actions per service, the first resource patterns
    and how many statements carry conditions."""
    try:
        doc = json.loads(i.get(field) or "{}")
    except (TypeError, ValueError):
        return []
    statements = [s for s in doc.get("Statement") or [] if isinstance(s, Mapping)]
    actions = [a for s in statements for a in _listed(s.get("Action"))]
    if len(statements) <= SMALL_POLICY[0] and len(actions) <= SMALL_POLICY[1]:
        return [
            (
                s.get("Effect", "?").lower(),
                f"{short_action_set(_listed(s.get('Action')))} on "
                f"{_join(sorted({_resource_pattern(r) for r in _listed(s.get('Resource'))})) or '-'}"
                f"{'+cond' if s.get('Condition') else ''}",
            )
            for s in statements
        ]
    out: Pairs = []
    for effect in ("Allow", "Deny"):
        chosen = [s for s in statements if s.get("Effect") == effect]
        if not chosen:
            continue
        counts: dict[str, int] = {}
        for action in sorted({a for s in chosen for a in _listed(s.get("Action"))}):
            counts[action.partition(":")[0]] = counts.get(action.partition(":")[0], 0) + 1
        patterns = sorted({_resource_pattern(r) for s in chosen for r in _listed(s.get("Resource"))})
        shown = _join(patterns[:3]) + (f",+{len(patterns) - 3}" if len(patterns) > 3 else "")
        out += [
            (effect.lower(), " ".join(f"{svc}:{n}" for svc, n in sorted(counts.items()))),
            ("on", shown),
            ("cond", f"{sum(1 for s in chosen if s.get('Condition'))}/{len(chosen)}"),
        ]
    return out


SMALL_POLICY = (3, 8)  # statements, actions: up to this a policy is shown statement by statement


def _trust(i: Mapping[str, Any]) -> Pairs:
    try:
        doc = json.loads(i.get("assumeRolePolicy") or "{}")
    except (TypeError, ValueError):
        return []
    out: Pairs = []
    for s in doc.get("Statement") or []:
        principal = s.get("Principal") or {}
        who = (
            [p for kind in sorted(principal) for p in _listed(principal[kind])]
            if isinstance(principal, dict)
            else _listed(principal)
        )
        out.append(("trusts", _join(who) + ("+cond" if s.get("Condition") else "")))
    return out


def _access_scope(i: Mapping[str, Any]) -> Pairs:
    scope = i.get("accessScope") or {}
    where = scope.get("type")
    if where == "namespace":
        where = f"namespaces:{_join(scope.get('namespaces') or [])}"
    return [("policy", str(i.get("policyArn", "")).rsplit("/", 1)[-1]), ("scope", where)]


def _node_pool(i: Mapping[str, Any]) -> Pairs:
    spec = i.get("spec") or {}
    reqs = ((spec.get("template") or {}).get("spec") or {}).get("requirements") or []
    ops = {"In": "in", "NotIn": "not-in", "Exists": "exists", "DoesNotExist": "absent", "Gt": ">", "Lt": "<"}
    shown = [
        " ".join(
            x
            for x in (
                str(r.get("key", "")).rsplit("/", 1)[-1],
                ops.get(r.get("operator"), "?"),
                _join(r.get("values") or []),
            )
            if x
        )
        for r in reqs
    ]
    limits = spec.get("limits") or {}
    return [("requires", "; ".join(shown)), ("limits", _join(f"{k}={v}" for k, v in sorted(limits.items())))]


def _fargate(i: Mapping[str, Any]) -> Pairs:
    selectors = [
        s.get("namespace", "")
        + (f"{{{_join(f'{k}={v}' for k, v in sorted(s['labels'].items()))}}}" if s.get("labels") else "")
        for s in i.get("selectors") or []
    ]
    return [("selectors", selectors)]


def _load_balancer(i: Mapping[str, Any]) -> Pairs:
    return [
        ("type", i.get("loadBalancerType")),
        ("scheme", "internal" if i.get("internal") else "internet-facing"),
        ("deletionProtection", i.get("enableDeletionProtection")),
    ]


def _listener(i: Mapping[str, Any]) -> Pairs:
    cert = str(i.get("certificateArn") or "").rsplit("/", 1)[-1] or None
    actions = [a.get("type") for a in i.get("defaultActions") or []]
    return [
        ("listen", f"{i.get('protocol')}:{i.get('port')}"),
        ("tls", i.get("sslPolicy")),
        ("cert", cert),
        ("action", actions),
    ]


def _alarm(i: Mapping[str, Any]) -> Pairs:
    queries = i.get("metricQueries") or []
    metric = (
        f"{i.get('namespace')}/{i.get('metricName')}"
        if i.get("metricName")
        else "insights:" + str((queries[0] if queries else {}).get("expression", "")).split(" FROM")[0]
    )
    return [("metric", metric), ("when", f"{i.get('comparisonOperator')} {i.get('threshold')}")]


SHOWN: dict[str, Callable[[Mapping[str, Any]], Pairs]] = {
    "aws:ec2/vpc:Vpc": lambda i: [("cidr", i.get("cidrBlock"))],
    "aws:ec2/subnet:Subnet": lambda i: [("cidr", i.get("cidrBlock")), ("az", i.get("availabilityZone"))],
    "aws:ec2/route:Route": lambda i: [
        ("to", i.get("destinationCidrBlock")),
        ("via", "igw" if i.get("gatewayId") else "nat" if i.get("natGatewayId") else None),
    ],
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda i: [
        ("service", i.get("serviceName")),
        ("type", i.get("vpcEndpointType")),
    ],
    "aws:cloudwatch/logGroup:LogGroup": lambda i: [("name", i.get("name")), ("retention", i.get("retentionInDays"))],
    "aws:ec2/flowLog:FlowLog": lambda i: [("traffic", i.get("trafficType"))],
    "aws:eks/cluster:Cluster": lambda i: [
        ("version", i.get("version")),
        ("private", (i.get("vpcConfig") or {}).get("endpointPrivateAccess")),
        ("public", (i.get("vpcConfig") or {}).get("endpointPublicAccess")),
        (
            "publicCidrs",
            (i.get("vpcConfig") or {}).get("publicAccessCidrs")
            if (i.get("vpcConfig") or {}).get("endpointPublicAccess")
            else None,
        ),
    ],
    "aws:eks/nodeGroup:NodeGroup": _scaling,
    "aws:autoscaling/group:Group": _asg,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:autoscaling/tag:Tag": _ca_tag,
    "aws:sqs/queue:Queue": lambda i: [("name", i.get("name"))],
    "aws:eks/addon:Addon": lambda i: [("addon", i.get("addonName")), ("version", i.get("addonVersion"))],
    "kubernetes:helm.sh/v3:Release": lambda i: [
        ("chart", f"{i.get('chart')}@{i.get('version')}"),
        ("namespace", i.get("namespace")),
    ],
    "kubernetes:yaml/v2:ConfigGroup": _config_group,
    "kubernetes:external-secrets.io/v1:ClusterSecretStore": _secret_store,
    "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy": lambda i: [
        ("namespace", (i.get("metadata") or {}).get("namespace"))
    ],
    "kubernetes:crd.k8s.amazonaws.com/v1alpha1:ENIConfig": lambda i: [("zone", (i.get("metadata") or {}).get("name"))],
    "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation": lambda i: [("cidr", i.get("cidrBlock"))],
    "aws:kms/key:Key": lambda i: [("rotation", i.get("enableKeyRotation"))],
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _access_scope,
    "kubernetes:core/v1:Namespace": lambda i: [
        ("enforce", ((i.get("metadata") or {}).get("labels") or {}).get("pod-security.kubernetes.io/enforce"))
    ],
    # what a reviewer checks beyond the shape: scheduling, exposure, permissions
    "kubernetes:karpenter.sh/v1:NodePool": _node_pool,
    "aws:eks/fargateProfile:FargateProfile": _fargate,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/listener:Listener": _listener,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _rule,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _rule,
    "aws:iam/rolePolicy:RolePolicy": _policy,
    "aws:iam/policy:Policy": _policy,
    "aws:iam/role:Role": _trust,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda i: [
        ("policy", str(i.get("policyArn", "")).rsplit("/", 1)[-1])
    ],
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:sns/topic:Topic": lambda i: [("encrypted", bool(i.get("kmsMasterKeyId")))],
}


def facts(rec: Any) -> str:
    """The few inputs a reviewer wants to see next to a resource (``SHOWN``), and its resource options."""
    out: list[str] = []
    for label, value in SHOWN.get(rec.type, lambda i: [])(rec.inputs):
        if value not in (None, "", [], {}):
            out.append(f"{label}={_join(value) if isinstance(value, list) else value}")
    if rec.protect:
        out.append("protect")
    if getattr(rec, "retain_on_delete", False):
        out.append("retainOnDelete")
    if rec.ignore_changes:
        out.append("ignoreChanges=" + ",".join(rec.ignore_changes))
    return ("  [" + " ".join(out) + "]") if out else ""
