"""EKS guardrails: one implementation, run by the CrossGuard pack (``policies/__main__.py``)
in `pulumi preview`/`up` and by the offline plan (``python -m tools.plan --policies``).

Plain Python on purpose: the offline plan's environment cannot import ``pulumi_policy``
(it pins an older protobuf than the program's SDKs), so the pack adapts these functions.
Each check receives a ``Resource`` (inputs in the engine's camelCase) and yields messages
that name the resource and the fix. Values unknown at preview time (``None`` or not of the
expected type) are skipped rather than guessed.
"""

from __future__ import annotations

import collections
import functools
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANDATORY = "mandatory"
ADVISORY = "advisory"
DISABLED = "disabled"
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
CA_PREFIX = "k8s.io/cluster-autoscaler"
NTH_TAG = "aws-node-termination-handler/managed"
CONFIG_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    enforcement: str
    types: tuple[str, ...] = ()
    check: Callable[[Resource], Iterable[str]] | None = None
    # A stack policy sees every resource at once and yields (urn, message).
    stack_check: Callable[..., Iterable[tuple[str, str]]] | None = None
    # Parameters a stack's policy config may set (CrossGuard config schema properties, each with its default); a
    # policy with parameters gets them as a second argument.
    params: Mapping[str, Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement: str
    urn: str
    message: str


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def _list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _doc(value: Any) -> dict | None:
    """An IAM policy document from a JSON string (None when unknown or not JSON)."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return None
    try:
        doc = json.loads(value)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _statements(doc: dict | None) -> list[dict]:
    return [s for s in _list((doc or {}).get("Statement")) if isinstance(s, dict)]


def _tags(props: Mapping[str, Any]) -> dict[str, str]:
    tags = props.get("tags")
    if isinstance(tags, dict):
        return {k: v for k, v in tags.items() if isinstance(v, str)}
    if isinstance(tags, list):  # ASG tags: [{key, value, propagateAtLaunch}]
        return {t["key"]: t.get("value", "") for t in tags if isinstance(t, dict) and isinstance(t.get("key"), str)}
    return {}


def _is_world(cidr: Any) -> bool:
    """0.0.0.0/0 or ::/0, or a range so wide (shorter than /8) it is the internet for practical purposes."""
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen < 8
    except ValueError:
        return False


@functools.cache  # a plan's policies check tens of thousands of (pattern, action) pairs over a few hundred patterns
def _glob(pattern: str) -> re.Pattern:
    """An IAM wildcard (* any run, ? one character; case-insensitive as IAM compares actions) as a regex."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.I)


def _grants(patterns: Iterable[Any], action: str) -> bool:
    """Whether a statement's Action list grants ``action`` (wildcards included: ssm:Get* grants ssm:GetParameter)."""
    return any(isinstance(p, str) and _glob(p).fullmatch(action) for p in patterns)


def _conditions(st: Mapping[str, Any]) -> dict[str, dict]:
    cond = st.get("Condition")
    return {op: keys for op, keys in cond.items() if isinstance(keys, dict)} if isinstance(cond, dict) else {}


def _condition_keys(st: Mapping[str, Any]) -> set[str]:
    return {k.lower() for keys in _conditions(st).values() for k in keys}


# ---------------------------------------------------------------------------------------
# EKS
# ---------------------------------------------------------------------------------------
def eks_secrets_encryption(r: Resource) -> Iterable[str]:
    enc = r.props.get("encryptionConfig")
    if enc is None:
        yield f"{r.name}: Kubernetes secrets are not envelope-encrypted. Fix: set encryptionConfig with a KMS key."
        return
    if isinstance(enc, dict) and "secrets" not in _list(enc.get("resources")):
        yield f'{r.name}: encryptionConfig does not cover "secrets". Fix: resources: [secrets].'


def eks_audit_logs(r: Resource) -> Iterable[str]:
    types = r.props.get("enabledClusterLogTypes")
    if types is not None and not isinstance(types, list):
        return
    missing = sorted({"audit", "authenticator"} - set(_list(types)))
    if missing:
        yield (
            f"{r.name}: control-plane log types {', '.join(missing)} are off. "
            "Fix: cluster.logging.types must include audit and authenticator."
        )


def eks_public_endpoint(r: Resource) -> Iterable[str]:
    vpc = r.props.get("vpcConfig")
    if not isinstance(vpc, dict) or vpc.get("endpointPublicAccess") is not True:
        return
    cidrs = vpc.get("publicAccessCidrs")
    if cidrs is None or cidrs == []:
        yield (
            f"{r.name}: public API endpoint without publicAccessCidrs is open to 0.0.0.0/0. "
            "Fix: list the networks in cluster.endpoint.publicAccessCidrs or turn publicAccess off."
        )
        return
    wide = [c for c in _list(cidrs) if _is_world(c)]
    if wide:
        yield (
            f"{r.name}: public API endpoint open to {', '.join(map(str, wide))}. "
            "Fix: narrow cluster.endpoint.publicAccessCidrs."
        )


def eks_authentication_mode(r: Resource) -> Iterable[str]:
    access = r.props.get("accessConfig")
    mode = access.get("authenticationMode") if isinstance(access, dict) else None
    if mode != "API":
        yield (
            f"{r.name}: authenticationMode is {mode!r}, so the aws-auth ConfigMap can grant access. "
            "Fix: accessConfig.authenticationMode: API (access entries only)."
        )


def eks_creator_admin(r: Resource) -> Iterable[str]:
    access = r.props.get("accessConfig")
    if not isinstance(access, dict) or access.get("bootstrapClusterCreatorAdminPermissions") is not False:
        yield (
            f"{r.name}: whoever creates the cluster silently becomes cluster-admin. "
            "Fix: bootstrapClusterCreatorAdminPermissions: false and admin access entries."
        )


# ---------------------------------------------------------------------------------------
# nodes
# ---------------------------------------------------------------------------------------
def launch_template_imdsv2(r: Resource) -> Iterable[str]:
    md = r.props.get("metadataOptions")
    if not isinstance(md, dict) or md.get("httpTokens") != "required":
        yield f"{r.name}: IMDSv1 is allowed. Fix: metadataOptions.httpTokens: required."


def launch_template_encrypted_volumes(r: Resource) -> Iterable[str]:
    for bdm in _list(r.props.get("blockDeviceMappings")):
        ebs = bdm.get("ebs") if isinstance(bdm, dict) else None
        if isinstance(ebs, dict) and str(ebs.get("encrypted")).lower() != "true":
            yield f"{r.name}: volume {bdm.get('deviceName')} is not encrypted. Fix: ebs.encrypted: true."


def karpenter_node_class(r: Resource) -> Iterable[str]:
    """An EC2NodeClass launches nodes too: IMDSv2 and encrypted volumes, like a launch template."""
    spec = r.props.get("spec")
    if not isinstance(spec, dict):
        return
    tokens = (spec.get("metadataOptions") or {}).get("httpTokens")
    if tokens not in (None, "required") or "metadataOptions" not in spec:
        yield f"{r.name}: EC2NodeClass without metadataOptions.httpTokens: required. Fix: require IMDSv2."
    mappings = spec.get("blockDeviceMappings")
    if not isinstance(mappings, list) or not mappings:
        yield (
            f"{r.name}: EC2NodeClass without blockDeviceMappings: the volume's encryption is left to defaults. "
            "Fix: an encrypted gp3 volume."
        )
        return
    for m in mappings:
        if isinstance(m, dict) and (m.get("ebs") or {}).get("encrypted") is not True:
            yield f"{r.name}: EC2NodeClass volume {m.get('deviceName')} is not encrypted. Fix: ebs.encrypted: true."


def _opens_ssh(protocol: Any, from_port: Any, to_port: Any) -> bool:
    if str(protocol) in ("-1", "all"):
        return True
    if str(protocol) not in ("tcp", "6"):
        return False
    try:
        return int(from_port) <= 22 <= int(to_port)
    except (TypeError, ValueError):
        return False


def _ingress_rules(r: Resource) -> list[tuple[Any, Any, Any, list]]:
    """(protocol, from port, to port, CIDRs) of every ingress rule a resource declares."""
    p = r.props
    if r.type == "aws:ec2/securityGroup:SecurityGroup":
        return [
            (x.get("protocol"), x.get("fromPort"), x.get("toPort"), _list(x.get("cidrBlocks")))
            for x in _list(p.get("ingress"))
            if isinstance(x, dict)
        ]
    if r.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        return [(p.get("ipProtocol"), p.get("fromPort"), p.get("toPort"), _list(p.get("cidrIpv4")))]
    if r.type == "aws:ec2/securityGroupRule:SecurityGroupRule" and p.get("type") == "ingress":
        return [(p.get("protocol"), p.get("fromPort"), p.get("toPort"), _list(p.get("cidrBlocks")))]
    return []


def no_ssh_from_world(r: Resource) -> Iterable[str]:
    for protocol, lo, hi, cidrs in _ingress_rules(r):
        if any(_is_world(c) for c in cidrs) and _opens_ssh(protocol, lo, hi):
            yield f"{r.name}: SSH (22) is open to the internet. Fix: use SSM Session Manager, drop the rule."


def self_managed_asg_tags(r: Resource) -> Iterable[str]:
    tags = _tags(r.props)
    clusters = [k.split("/", 2)[2] for k in tags if k.startswith("kubernetes.io/cluster/")]
    if not clusters:
        return  # not an EKS node group
    raw = r.props.get("tags")
    propagated = {t.get("key") for t in _list(raw) if isinstance(t, dict) and t.get("propagateAtLaunch") is True}
    needed = [f"{CA_PREFIX}/enabled", *(f"{CA_PREFIX}/{c}" for c in clusters)]
    missing = [k for k in needed if k not in tags]
    if missing:
        yield (
            f"{r.name}: cluster-autoscaler cannot discover this node group (missing {', '.join(missing)}). "
            "Fix: add the discovery tags."
        )
    if NTH_TAG not in propagated:
        yield (
            f"{r.name}: instances lack the {NTH_TAG} tag, so the termination handler will not drain them. "
            "Fix: tag the ASG with it, propagated at launch."
        )


def ca_taint_effect(r: Resource) -> Iterable[str]:
    if r.type == "aws:autoscaling/tag:Tag":
        tag = r.props.get("tag")
        items = [(tag.get("key"), tag.get("value"))] if isinstance(tag, dict) else []
    else:
        items = list(_tags(r.props).items())
    for key, value in items:
        if not (isinstance(key, str) and "/node-template/taint/" in key and isinstance(value, str)):
            continue
        if ":" not in value or value.rsplit(":", 1)[-1] not in EFFECTS:
            yield (
                f"{r.name}: node-template taint {key}={value!r} has no :Effect suffix, so cluster-autoscaler "
                "ignores it. Fix: value:NoSchedule (or PreferNoSchedule/NoExecute)."
            )


# ---------------------------------------------------------------------------------------
# IAM
# ---------------------------------------------------------------------------------------
def irsa_trust(r: Resource) -> Iterable[str]:
    doc = _doc(r.props.get("assumeRolePolicy"))
    for st in _statements(doc):
        if "sts:AssumeRoleWithWebIdentity" not in _list(st.get("Action")) or st.get("Effect") != "Allow":
            continue
        equals = (st.get("Condition") or {}).get("StringEquals") or {}
        has_sub = any(k.endswith(":sub") for k in equals)
        aud = [v for k, v in equals.items() if k.endswith(":aud")]
        if not has_sub or aud != ["sts.amazonaws.com"]:
            yield (
                f"{r.name}: a web-identity trust without StringEquals on both :sub and :aud lets other service "
                "accounts assume the role. Fix: StringEquals <issuer>:sub and <issuer>:aud = sts.amazonaws.com."
            )


POD_IDENTITY = "pods.eks.amazonaws.com"


def pod_identity_trust(r: Resource) -> Iterable[str]:
    doc = _doc(r.props.get("assumeRolePolicy"))
    for st in _statements(doc):
        principal = _object(st.get("Principal"))
        if st.get("Effect") != "Allow" or POD_IDENTITY not in _list(principal.get("Service")):
            continue
        equals = (st.get("Condition") or {}).get("StringEquals") or {}
        missing = [
            k
            for k in ("aws:RequestTag/kubernetes-namespace", "aws:RequestTag/kubernetes-service-account")
            if not isinstance(equals.get(k), str)
        ]
        # the session tags EKS Pod Identity sets (EKS user guide, "Grant Pods access to AWS resources based on
        # tags"): eks-cluster-name and eks-cluster-arn name the cluster whose agent asks
        if not any(isinstance(equals.get(f"aws:RequestTag/{k}"), str) for k in ("eks-cluster-name", "eks-cluster-arn")):
            missing.append("aws:RequestTag/eks-cluster-name")
        if missing:
            yield (
                f"{r.name}: a Pod Identity trust without StringEquals on {' and '.join(missing)} lets a service "
                "account of another namespace or cluster with an association assume the role. Fix: pin the "
                "cluster, the namespace and the service account."
            )


def _wildcard_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and any("*" in _list(v) for v in principal.values())


def no_wildcard_trust(r: Resource) -> Iterable[str]:
    for st in _statements(_doc(r.props.get("assumeRolePolicy"))):
        if st.get("Effect") == "Allow" and (_wildcard_principal(st.get("Principal")) or "NotPrincipal" in st):
            yield f"{r.name}: the trust policy lets any principal assume the role. Fix: name the principals."


# AWS managed policies no platform or workload role needs.
ADMIN_POLICIES = re.compile(r"^arn:[^:]+:iam::aws:policy/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$")
# ... and ones that read the account's data (every parameter, secret or object), or manage a whole service:
# ReadOnlyAccess has ssm:Get* and s3:Get* on *; AmazonSSMManagedInstanceCore and AmazonEC2RoleforSSM have
# ssm:GetParameter(s) on * (what a pod reaching a node's credentials would read).
BROAD_MANAGED_POLICIES = re.compile(
    r"^arn:[^:]+:iam::aws:policy/(.+/)?(ReadOnlyAccess|AmazonSSMManagedInstanceCore|AmazonEC2RoleforSSM|"
    r"AmazonSSMReadOnlyAccess|SecretsManagerReadWrite|AmazonS3ReadOnlyAccess|[A-Za-z0-9]*FullAccess)$"
)
ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/role:Role",
)


def _attached(r: Resource) -> list[str]:
    """The managed policy ARNs a resource attaches (an attachment's policyArn, a role's managedPolicyArns)."""
    arns = _list(r.props.get("managedPolicyArns")) if r.type == "aws:iam/role:Role" else [r.props.get("policyArn")]
    return [a for a in arns if isinstance(a, str)]


def no_admin_policies(r: Resource) -> Iterable[str]:
    for arn in _attached(r):
        if ADMIN_POLICIES.match(arn):
            yield f"{r.name}: attaches {arn}. Fix: a policy with the actions the role calls."


def no_broad_managed_policies(r: Resource) -> Iterable[str]:
    for arn in _attached(r):
        if BROAD_MANAGED_POLICIES.match(arn):
            yield (
                f"{r.name}: attaches {arn}, which reads every parameter, secret or object of the account (or "
                "manages a whole service). Fix: an inline policy with the actions and resources the role needs "
                "(nodes: nodeGroups.<n>.ssm for Session Manager)."
            )


# Action names that only read (by IAM naming convention); anything else counts as a write.
READ_PREFIXES = ("Get", "List", "Describe", "Head", "BatchGet", "Query", "Scan", "Search", "Lookup")
WORKLOAD_IDENTITY_TAG = "eks-platform/workload-identity"


def workload_role_scoped_writes(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """Inline policies of workload roles (tagged eks-platform/workload-identity): no write on * without a
    condition (the policy names its role through its dependencies)."""
    workload_roles = {
        r.urn for r in resources if r.type == "aws:iam/role:Role" and WORKLOAD_IDENTITY_TAG in _tags(r.props)
    }
    for r in resources:
        if r.type != "aws:iam/rolePolicy:RolePolicy" or not workload_roles & set(r.dependencies):
            continue
        for st in _statements(_doc(r.props.get("policy"))):
            writes = [
                a
                for a in _list(st.get("Action"))
                if isinstance(a, str) and ":" in a and not a.split(":", 1)[1].startswith(READ_PREFIXES)
            ]
            if st.get("Effect") == "Allow" and "*" in _list(st.get("Resource")) and writes and not st.get("Condition"):
                yield (
                    r.urn,
                    f"{r.name}: {', '.join(writes[:3])} on * without a condition. Fix: name the resources "
                    "or scope them with a condition.",
                )


def _policy_docs(r: Resource) -> list[dict]:
    if r.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/groupPolicy:GroupPolicy"):
        return [d for d in [_doc(r.props.get("policy"))] if d]
    if r.type == "aws:iam/role:Role":
        return [
            d for p in _list(r.props.get("inlinePolicies")) if isinstance(p, dict) for d in [_doc(p.get("policy"))] if d
        ]
    return []


def no_star_actions(r: Resource) -> Iterable[str]:
    for doc in _policy_docs(r):
        for st in _statements(doc):
            if st.get("Effect") != "Allow":
                continue
            stars = [a for a in _list(st.get("Action")) if isinstance(a, str) and (a == "*" or a.endswith(":*"))]
            if stars or "NotAction" in st:
                yield (
                    f"{r.name}: allows {', '.join(stars) or 'NotAction'}. "
                    "Fix: list the exact actions the workload calls."
                )


# Actions that must name their resources, with a resource of the kind nobody's policy would name on purpose: a
# statement whose Resource matches it (*, parameter/*, arn:aws:ssm:*:*:*, ...) reaches them all.
_SCOPED_ACTIONS = {
    "route53:ChangeResourceRecordSets": ("route53", "hostedzone/ZGUARDRAILPROBE"),
    "secretsmanager:GetSecretValue": ("secretsmanager", "secret:guardrail-probe/x-AbCdEf"),
    "ssm:GetParameter": ("ssm", "parameter/guardrail-probe/x"),
    "ssm:GetParameters": ("ssm", "parameter/guardrail-probe/x"),
    "ssm:GetParametersByPath": ("ssm", "parameter/guardrail-probe/x"),
    "ssm:GetParameterHistory": ("ssm", "parameter/guardrail-probe/x"),
}


_KINDS = {"ssm": "parameter", "secretsmanager": "secret", "route53": "hosted zone"}


def _reaches_any(resource: str, service: str, probe: str) -> bool:
    """Whether a Resource pattern matches a made-up resource of the kind in its own partition, region and account
    (Route 53 ARNs have neither)."""
    parts = resource.split(":", 5) if resource.startswith("arn:") else []

    def concrete(i: int, default: str) -> str:
        return parts[i] if len(parts) == 6 and "*" not in parts[i] and "?" not in parts[i] else default

    region, account = ("", "") if service == "route53" else (concrete(3, "eu-west-1"), concrete(4, "111122223333"))
    probe_arn = f"arn:{concrete(1, 'aws')}:{service}:{region}:{account}:{probe}"
    return bool(_glob(resource).fullmatch(probe_arn))


def no_unscoped_dns_or_secret_reads(r: Resource) -> Iterable[str]:
    for doc in _policy_docs(r):
        for st in _statements(doc):
            if st.get("Effect") != "Allow":
                continue
            actions = _list(st.get("Action"))
            reached: dict[str, list[str]] = {}
            for action, (service, probe) in _SCOPED_ACTIONS.items():
                if _grants(actions, action):
                    wide = (
                        ["NotResource"]
                        if "NotResource" in st
                        else [
                            res
                            for res in _list(st.get("Resource"))
                            if isinstance(res, str) and _reaches_any(res, service, probe)
                        ]
                    )
                    if wide:
                        reached[action] = wide
            if reached:
                granted = sorted({a for a in actions if isinstance(a, str) and any(_grants([a], x) for x in reached)})
                wide = sorted({w for ws in reached.values() for w in ws})
                kinds = sorted({_KINDS[_SCOPED_ACTIONS[a][0]] for a in reached})
                yield (
                    f"{r.name}: {', '.join(granted)} on {', '.join(wide)} reaches every {' and '.join(kinds)} "
                    f"of the account ({', '.join(reached)}). Fix: scope it to the stack's hosted zones or name "
                    "prefix."
                )


# ---------------------------------------------------------------------------------------
# network
# ---------------------------------------------------------------------------------------
def subnet_discovery_tags(r: Resource) -> Iterable[str]:
    tags = _tags(r.props)
    tier = tags.get("eks-platform/tier")
    in_cluster = any(k.startswith("kubernetes.io/cluster/") for k in tags)
    if tier == "public" and tags.get("kubernetes.io/role/elb") != "1":
        yield f"{r.name}: public subnet without kubernetes.io/role/elb=1: internet-facing LBs cannot use it. Fix: tag it."
    elif tier == "private" and tags.get("kubernetes.io/role/internal-elb") != "1":
        yield (
            f"{r.name}: private subnet without kubernetes.io/role/internal-elb=1: internal LBs cannot use it. "
            "Fix: tag it."
        )
    elif (
        tier is None and in_cluster and not ({"kubernetes.io/role/elb", "kubernetes.io/role/internal-elb"} & set(tags))
    ):
        yield f"{r.name}: cluster subnet without a load-balancer role tag. Fix: tag it elb or internal-elb."


def vpc_flow_logs(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    logged = {d for r in resources if r.type == "aws:ec2/flowLog:FlowLog" for d in r.dependencies}
    for r in resources:
        if r.type == "aws:ec2/vpc:Vpc" and r.urn not in logged:
            yield r.urn, f"{r.name}: no VPC flow logs. Fix: network.flowLogs.enabled: true."


# ---------------------------------------------------------------------------------------
# load balancers (the platform's own, workloads.loadBalancers)
# ---------------------------------------------------------------------------------------
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
SG_INGRESS = (
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
)


def _by_urn(resources: Sequence[Resource]) -> dict[str, Resource]:
    return {r.urn: r for r in resources}


def _load_balancer_of(r: Resource, by_urn: Mapping[str, Resource]) -> Resource | None:
    return next((by_urn[d] for d in r.dependencies if d in by_urn and by_urn[d].type == LB), None)


def lb_internet_facing_tls(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """A listener of an internet-facing load balancer speaks TLS (HTTPS/TLS) or only redirects to HTTPS."""
    by_urn = _by_urn(resources)
    for r in resources:
        if r.type != LISTENER or (lb := _load_balancer_of(r, by_urn)) is None or lb.props.get("internal") is not False:
            continue
        if r.props.get("protocol") in ("HTTPS", "TLS"):
            continue
        actions = _list(r.props.get("defaultActions"))
        if actions and all(
            isinstance(a, dict) and a.get("type") == "redirect" and (a.get("redirect") or {}).get("protocol") == "HTTPS"
            for a in actions
        ):
            continue
        yield (
            r.urn,
            (
                f"{r.name}: {r.props.get('protocol')} listener on internet-facing {lb.name}. Fix: HTTPS/TLS "
                "with a certificate, or a redirect to HTTPS."
            ),
        )


def lb_internal_not_world(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """No 0.0.0.0/0 into the security groups of an internal load balancer."""
    internal_sgs = {d for r in resources if r.type == LB and r.props.get("internal") is True for d in r.dependencies}
    for r in resources:
        ours = (
            r.urn in internal_sgs
            if r.type == "aws:ec2/securityGroup:SecurityGroup"
            else (r.type in SG_INGRESS and bool(set(r.dependencies) & internal_sgs))
        )
        if ours and any(_is_world(c) for _, _, _, cidrs in _ingress_rules(r) for c in cidrs):
            yield r.urn, f"{r.name}: an internal load balancer open to the internet. Fix: list the client networks."


def lb_deletion_protection(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """In a protected stack (the EKS cluster has deletion protection), load balancers have it too."""
    if not any(r.type == "aws:eks/cluster:Cluster" and r.props.get("deletionProtection") is True for r in resources):
        return
    for r in resources:
        if r.type == LB and r.props.get("enableDeletionProtection") is not True:
            yield r.urn, f"{r.name}: no deletion protection in a protected stack. Fix: leave deletionProtection unset."


POD_SG_TAG = "eks-platform/pod-security-group"


def pod_sg_not_world(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """No 0.0.0.0/0 into the security groups of pods (security groups for pods): pods are reached through load
    balancers, whose own groups face the clients."""
    pod_sgs = {
        r.urn for r in resources if r.type == "aws:ec2/securityGroup:SecurityGroup" and POD_SG_TAG in _tags(r.props)
    }
    for r in resources:
        ours = (
            r.urn in pod_sgs
            if r.type == "aws:ec2/securityGroup:SecurityGroup"
            else (r.type in SG_INGRESS and bool(set(r.dependencies) & pod_sgs))
        )
        if ours and any(_is_world(c) for _, _, _, cidrs in _ingress_rules(r) for c in cidrs):
            yield r.urn, f"{r.name}: pods open to the internet. Fix: a load balancer in front, or the client networks."


def storage_class_encrypted(r: Resource) -> Iterable[str]:
    """EBS volumes provisioned through a StorageClass are encrypted (ebs.csi.aws.com parameters.encrypted)."""
    encrypted = str((r.props.get("parameters") or {}).get("encrypted", "")).lower() == "true"
    if r.props.get("provisioner") in ("ebs.csi.aws.com", "kubernetes.io/aws-ebs") and not encrypted:
        yield f'{r.name}: EBS StorageClass without encryption. Fix: parameters.encrypted: "true".'


PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


def namespace_pod_security(r: Resource) -> Iterable[str]:
    """Pod Security Admission enforces at least baseline (no privileged pods, host namespaces or host paths)."""
    labels = (r.props.get("metadata") or {}).get("labels") or {}
    level = labels.get(PSA_ENFORCE) if isinstance(labels, dict) else None
    if level not in ("baseline", "restricted"):
        name = (r.props.get("metadata") or {}).get("name") or r.name
        yield (
            f"{r.name}: namespace {name} enforces Pod Security {level or 'nothing'} (privileged pods, host "
            f"networking and host paths admitted). Fix: workloads.namespaces.{name}.podSecurity.enforce: baseline "
            "or restricted."
        )


# ---------------------------------------------------------------------------------------
# logs and CI
# ---------------------------------------------------------------------------------------
def codebuild_unprivileged(r: Resource) -> Iterable[str]:
    env = r.props.get("environment")
    if isinstance(env, dict) and env.get("privilegedMode") is True:
        yield (
            f"{r.name}: the build container runs privileged (root on the build host; a CI runner that "
            "deploys the platform must not). Fix: privilegedMode: false."
        )


# ---------------------------------------------------------------------------------------
# Helm
# ---------------------------------------------------------------------------------------
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")


def helm_pinned_version(r: Resource) -> Iterable[str]:
    version = r.props.get("version")
    if not isinstance(version, str) or not _EXACT_VERSION.match(version):
        yield (
            f"{r.name}: chart {r.props.get('chart')} is not pinned to an exact version ({version!r}). "
            "Fix: pin it in platform/addons.yaml."
        )


def helm_atomic(r: Resource) -> Iterable[str]:
    if r.props.get("atomic") is not True:
        yield f"{r.name}: a failed install would be left half-applied. Fix: atomic: true."


_PINNED_SOURCE = re.compile(r"^https://[^/]+/.*/v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?/")


def manifests_pinned(r: Resource) -> Iterable[str]:
    """Manifests applied from the network come over https from a released tag, never a branch."""
    for source in _list(r.props.get("files")):
        if isinstance(source, str) and "://" in source and not _PINNED_SOURCE.match(source):
            yield (
                f"{r.name}: {source} is not an https URL of a released tag (a branch moves under the "
                "program). Fix: pin it to the chart's tag in platform/addons.yaml."
            )


# ---------------------------------------------------------------------------------------
# regressions a security review looks for (issue 27): each compared with what the program's own config or
# catalog asked for, so an opt-in passes and a regression does not
# ---------------------------------------------------------------------------------------
IMDS_REASON = "eks-platform/imds-hop-limit-reason"  # components/nodegroups/model.py IMDS_REASON
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


def imds_hop_limit(r: Resource) -> Iterable[str]:
    """Hop limit 1 (pods without host networking cannot reach the node's credentials) unless the node class's config
    gave a reason (imds.reason: a launch template's tag, an EC2NodeClass's annotation)."""
    if r.type == NODE_CLASS:
        spec = _object(r.props.get("spec"))
        md = spec.get("metadataOptions")
        annotations = (r.props.get("metadata") or {}).get("annotations") or {}
        reason = annotations.get(IMDS_REASON) if isinstance(annotations, dict) else None
        hop = md.get("httpPutResponseHopLimit", 1) if isinstance(md, dict) else 1  # Karpenter's default: 1
    else:
        md = r.props.get("metadataOptions")
        reason = _tags(r.props).get(IMDS_REASON)
        # unset: the AMI's own default decides (AL2023 and Bottlerocket images register hop limit 2)
        hop = md.get("httpPutResponseHopLimit") if isinstance(md, dict) else None
    if hop is None or (isinstance(hop, int) and hop > 1 and not reason):
        yield (
            f"{r.name}: instance metadata hop limit {hop if hop is not None else 'unset (the AMI default, 2)'}: "
            "every pod of the class can take the node role's credentials. Fix: httpPutResponseHopLimit 1, or "
            "imds.hopLimit 2 with imds.reason in the node group's config."
        )


# Service principals whose role trusts carry no confused-deputy condition by design: EC2 (instance profiles), the
# EKS cluster role, and Pod Identity (pinned by session tags: pod-identity-trust-pinned).
UNCONDITIONED_SERVICES = ("ec2", "eks", "pods.eks")


def _service_name(principal: str) -> str:
    return re.sub(r"\.amazonaws\.com(\.cn)?$", "", principal)


def service_trust_source(r: Resource) -> Iterable[str]:
    """A role a service assumes on someone's behalf pins whose (aws:SourceArn or aws:SourceAccount: the IAM user
    guide's "The confused deputy problem")."""
    for st in _statements(_doc(r.props.get("assumeRolePolicy"))):
        principal = _object(st.get("Principal"))
        services = [
            s
            for s in _list(principal.get("Service"))
            if isinstance(s, str) and _service_name(s) not in UNCONDITIONED_SERVICES
        ]
        if (
            st.get("Effect") == "Allow"
            and services
            and not {"aws:sourcearn", "aws:sourceaccount"} & _condition_keys(st)
        ):
            yield (
                f"{r.name}: {', '.join(services)} may assume the role on behalf of any account. Fix: a condition "
                "on aws:SourceArn (the resource that acts) or aws:SourceAccount."
            )


# -- controller policies against the program's own catalog (platform/iam/*.yaml) ------------
IAM_CATALOG_DIR = CONFIG_DIR.parent / "platform" / "iam"
_PLACEHOLDER = re.compile(r"\$\{[A-Za-z]+\}")


@dataclass(frozen=True)
class CatalogStatement:
    sid: str
    actions: tuple[str, ...]
    conditions: tuple[tuple[str, str], ...]  # (operator, key pattern with placeholders)
    resources: tuple[str, ...] = ()  # patterns with placeholders


def _key_matches(pattern: str, key: str) -> bool:
    parts = _PLACEHOLDER.split(pattern)
    return bool(re.fullmatch(".+".join(re.escape(p) for p in parts), key))


@functools.cache  # the files are the program's own: read once per process, not once per evaluation
def iam_catalogs(directory: Path = IAM_CATALOG_DIR) -> Mapping[str, tuple[CatalogStatement, ...]]:
    """``{controller: statements}`` of the program's controller policies (the files the add-ons render)."""
    import yaml  # the pack's environment has it (policies/requirements.txt)

    out: dict[str, tuple[CatalogStatement, ...]] = {}
    for path in sorted(directory.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text()) or {}
        out[path.stem] = tuple(
            CatalogStatement(
                s["sid"],
                tuple(_list(s.get("actions"))),
                tuple((op, key) for op, keys in sorted((s.get("condition") or {}).items()) for key in sorted(keys)),
                tuple(_list(s.get("resources"))),
            )
            for s in raw.get("statements", [])
        )
    return out


def _role_statements(resources: Sequence[Resource]) -> dict[str, list[tuple[str, dict]]]:
    """``{role urn: [(urn of the resource that grants it, statement)]}`` of every role's inline policies."""
    roles = {r.urn for r in resources if r.type == "aws:iam/role:Role"}
    out: dict[str, list[tuple[str, dict]]] = {}
    for r in resources:
        owner = r.urn if r.type == "aws:iam/role:Role" else next((d for d in r.dependencies if d in roles), r.urn)
        for doc in _policy_docs(r):
            out.setdefault(owner, []).extend((r.urn, st) for st in _statements(doc) if st.get("Effect") == "Allow")
    return out


def _catalog_problems(
    catalog: Sequence[CatalogStatement], statements: list[tuple[str, dict]]
) -> Iterable[tuple[str, str]]:
    by_sid = {st.get("Sid"): (urn, st) for urn, st in statements}
    conditioned = [c for c in catalog if c.conditions]
    free = {a for c in catalog if not c.conditions for a in c.actions}
    # action -> the resources the catalog grants it on only under a condition
    only_conditioned: dict[str, set[str]] = {}
    for c in conditioned:
        for a in set(c.actions) - free:
            only_conditioned.setdefault(a, set()).update(c.resources)
    for c in conditioned:
        if c.sid not in by_sid:
            continue  # a statement the stack does not use (or renamed: the action check below still applies)
        urn, st = by_sid[c.sid]
        have = _conditions(st)
        lost = [
            f"{op} {key}" for op, key in c.conditions if not any(_key_matches(key, k) for k in (have.get(op) or {}))
        ]
        if lost:
            yield urn, f"statement {c.sid} lost its condition {', '.join(lost)}"
    for urn, st in statements:
        resources = [r for r in _list(st.get("Resource")) if isinstance(r, str)]
        granted = sorted(
            a
            for a, where in only_conditioned.items()
            if _grants(_list(st.get("Action")), a)
            and any(r == "*" or any(_key_matches(w, r) for w in where) for r in resources)
        )
        if granted and not _conditions(st):
            yield urn, f"statement {st.get('Sid') or '(no Sid)'} grants {', '.join(granted[:4])} without a condition"


def controller_policy_conditions(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """A role whose inline policies carry a controller's statements (by Sid) keeps every condition the program's
    catalog gives them, and grants the catalog's condition-only actions under a condition."""
    catalogs = iam_catalogs()
    for statements in _role_statements(resources).values():
        sids = {st.get("Sid") for _, st in statements}
        # the controller whose statements the role carries most of (two catalogs may share a Sid)
        shared, controller = max(
            ((len(sids & {c.sid for c in catalog}), name) for name, catalog in catalogs.items()), default=(0, "")
        )
        if not shared:
            continue
        for urn, problem in _catalog_problems(catalogs[controller], statements):
            yield (
                urn,
                (
                    f"{urn.rsplit('::', 1)[-1]}: the {controller} policy's {problem} (platform/iam/"
                    f"{controller}.yaml has it). Fix: keep the catalog's conditions."
                ),
            )


# -- world ingress ------------------------------------------------------------------------
SG = "aws:ec2/securityGroup:SecurityGroup"
_LISTENER_PROTOCOLS = {
    "HTTP": ("tcp",),
    "HTTPS": ("tcp",),
    "TCP": ("tcp",),
    "TLS": ("tcp",),
    "UDP": ("udp",),
    "TCP_UDP": ("tcp", "udp"),
}


def _public_listener_ports(resources: Sequence[Resource]) -> dict[str, set[tuple[str, int]]]:
    """``{security group urn: {(protocol, port)}}``: the listeners of the internet-facing load balancers each
    group fronts."""
    by_urn = _by_urn(resources)
    out: dict[str, set[tuple[str, int]]] = {}
    for r in resources:
        lb = _load_balancer_of(r, by_urn) if r.type == LISTENER else None
        if lb is None or lb.props.get("internal") is not False or not isinstance(r.props.get("port"), int):
            continue
        for sg in (d for d in lb.dependencies if d in by_urn and by_urn[d].type == SG):
            out.setdefault(sg, set()).update(
                (p, r.props["port"]) for p in _LISTENER_PROTOCOLS.get(str(r.props.get("protocol")), ())
            )
    return out


def _group_of(r: Resource, groups: set[str]) -> str | None:
    return r.urn if r.type == SG else next((d for d in r.dependencies if d in groups), None)


def world_ingress_listeners_only(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """The internet reaches the platform only on the listener ports of its internet-facing load balancers."""
    groups = {r.urn for r in resources if r.type == SG}
    allowed = _public_listener_ports(resources)
    for r in resources:
        if r.type not in (SG, *SG_INGRESS):
            continue
        ports = allowed.get(_group_of(r, groups) or "", set())
        for protocol, lo, hi, cidrs in _ingress_rules(r):
            if not any(_is_world(c) for c in cidrs) and not _is_world(r.props.get("cidrIpv6")):
                continue
            proto = {"6": "tcp", "17": "udp"}.get(str(protocol), str(protocol))
            try:
                wanted = {(proto, port) for port in range(int(lo), int(hi) + 1)} if proto in ("tcp", "udp") else None
            except (TypeError, ValueError):
                continue  # unknown at preview
            if wanted is None or not wanted <= ports:
                yield (
                    r.urn,
                    (
                        f"{r.name}: {proto} {lo}-{hi} open to the internet, which no internet-facing load "
                        "balancer listens on. Fix: list the client networks, or put the port behind a "
                        "public load balancer's listener."
                    ),
                )


# -- queues, TLS, keys, logs ----------------------------------------------------------------
def sqs_encrypted(r: Resource) -> Iterable[str]:
    if r.props.get("sqsManagedSseEnabled") is not True and not r.props.get("kmsMasterKeyId"):
        yield (
            f"{r.name}: queue {r.props.get('name') or ''} without server-side encryption. Fix: "
            "sqsManagedSseEnabled: true (or kmsMasterKeyId)."
        )


def sns_encrypted(r: Resource) -> Iterable[str]:
    if not r.props.get("kmsMasterKeyId"):
        yield (
            f"{r.name}: topic {r.props.get('name') or ''} without server-side encryption. Fix: kmsMasterKeyId "
            "(a customer key whose policy lets CloudWatch publish: observability.alarms.createTopic makes one)."
        )


CLOUDWATCH_ADDON = "amazon-cloudwatch-observability"


def observability_on(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """The cluster is watched: Container Insights (the amazon-cloudwatch-observability add-on) or a managed
    Prometheus scraper."""
    cluster = next((r for r in resources if r.type == "aws:eks/cluster:Cluster"), None)
    watched = any(
        (r.type == "aws:eks/addon:Addon" and r.props.get("addonName") == CLOUDWATCH_ADDON)
        or r.type == "aws:amp/scraper:Scraper"
        for r in resources
    )
    if cluster is not None and not watched:
        yield (
            cluster.urn,
            (
                f"{cluster.name}: nobody sees a NotReady node, a crash-looping controller or a throttled "
                "API server until users do. Fix: observability.enabled: true (Container Insights, or "
                "observability.prometheus)."
            ),
        )


# TLS 1.2+ policies with forward secrecy and no CBC suites (Elastic Load Balancing, "Security policies for your
# Application Load Balancer": TLS13-*, their Res/FIPS/PQ variants, FS-1-2-Res-*); the Ext* and TLS-1-x policies
# keep suites for old clients. components/config/workloads.py SslPolicy accepts the same names.
TLS_POLICY = re.compile(r"ELBSecurityPolicy-(TLS13-1-[23](-Res)?(-FIPS)?(-PQ)?|FS-1-2-Res)-20\d\d-\d\d")


def listener_tls_policy(r: Resource) -> Iterable[str]:
    if r.props.get("protocol") not in ("HTTPS", "TLS"):
        return
    policy = r.props.get("sslPolicy")
    if not isinstance(policy, str) or not TLS_POLICY.fullmatch(policy):
        shown = policy if policy is not None else "unset (the API's default, ELBSecurityPolicy-2016-08)"
        yield (
            f"{r.name}: TLS policy {shown} admits old protocols or CBC suites. Fix: "
            "ELBSecurityPolicy-TLS13-1-2-2021-06 (or another TLS13-*/FS-1-2-Res-* policy)."
        )


def alb_drops_invalid_headers(r: Resource) -> Iterable[str]:
    if (
        r.props.get("loadBalancerType", "application") == "application"
        and r.props.get("dropInvalidHeaderFields") is not True
    ):
        yield (
            f"{r.name}: an application load balancer passes malformed HTTP headers to its targets (request "
            "smuggling). Fix: dropInvalidHeaderFields: true."
        )


def kms_key_rotation(r: Resource) -> Iterable[str]:
    spec = r.props.get("customerMasterKeySpec") or r.props.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec == "SYMMETRIC_DEFAULT" and r.props.get("enableKeyRotation") is not True:
        yield f"{r.name}: a symmetric key without automatic rotation. Fix: enableKeyRotation: true."


def log_group_retention(r: Resource, params: Mapping[str, Any] | None = None) -> Iterable[str]:
    days = r.props.get("retentionInDays")
    minimum = int((params or {}).get("minimumRetentionDays", 1))
    if days is None or days == 0:
        yield (
            f"{r.name}: log group {r.props.get('name') or ''} keeps its events forever (cost, and logs that "
            "outlive their purpose). Fix: set retentionInDays."
        )
    elif isinstance(days, int) and days < minimum:
        yield (
            f"{r.name}: log group {r.props.get('name') or ''} keeps its events {days} days, under the stack's "
            f"minimum of {minimum} (minimumRetentionDays in its policy config). Fix: a retention of {minimum} "
            "days or more (cluster.logging.retentionDays, network.flowLogs.retentionDays)."
        )


# -- access -----------------------------------------------------------------------------------
ACCESS_POLICY_TAG = "eks-platform/access-policy"  # components/access.py: what the config asked for
ACCESS_SCOPE_TAG = "eks-platform/access-scope"
# EKS access policies from the narrowest; one not listed counts as the broadest.
ACCESS_RANKS = {
    "AmazonEKSViewPolicy": 1,
    "AmazonEKSAdminViewPolicy": 1,
    "AmazonEKSEditPolicy": 2,
    "AmazonEKSAdminPolicy": 3,
    "AmazonEKSClusterAdminPolicy": 4,
}
DECLARED_RANKS = {"none": 0, "view": 1, "edit": 2, "admin": 3, "clusterAdmin": 4}
ENTRY = "aws:eks/accessEntry:AccessEntry"


def access_policy_as_declared(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """Each access policy association grants no more than its entry's config asked for (tagged on the entry)."""
    by_urn = _by_urn(resources)
    for r in resources:
        if r.type != "aws:eks/accessPolicyAssociation:AccessPolicyAssociation":
            continue
        arn = r.props.get("policyArn")
        entry = next((by_urn[d] for d in r.dependencies if d in by_urn and by_urn[d].type == ENTRY), None)
        if not isinstance(arn, str) or entry is None:
            continue
        tags = _tags(entry.props)
        declared = tags.get(ACCESS_POLICY_TAG)
        policy = arn.rsplit("/", 1)[-1]
        if DECLARED_RANKS.get(str(declared), -1) < ACCESS_RANKS.get(policy, 5):
            yield (
                r.urn,
                (
                    f"{r.name}: associates {policy} with an entry whose config asked for "
                    f"{declared or 'nothing it declared'} ({ACCESS_POLICY_TAG}). Fix: the policy of the entry's "
                    "config (cluster.access)."
                ),
            )
        scope = (r.props.get("accessScope") or {}).get("type")
        if tags.get(ACCESS_SCOPE_TAG) == "namespace" and scope == "cluster":
            yield r.urn, f"{r.name}: cluster-wide, though its entry is limited to namespaces. Fix: scope it."


def _own_accounts(resources: Sequence[Resource]) -> set[str]:
    """The stack's account, as its own trusts pin it (aws:SourceAccount) and its roles' access entries name it."""
    out = {
        v
        for r in resources
        if r.type == "aws:iam/role:Role"
        for st in _statements(_doc(r.props.get("assumeRolePolicy")))
        for keys in _conditions(st).values()
        for k, v in keys.items()
        if k.lower() == "aws:sourceaccount" and isinstance(v, str)
    }
    roles = {r.urn for r in resources if r.type == "aws:iam/role:Role"}
    out |= {
        m.group(1)
        for r in resources
        if r.type == ENTRY and set(r.dependencies) & roles
        for m in [re.match(r"arn:[^:]+:iam::(\d{12}):", str(r.props.get("principalArn")))]
        if m
    }
    return out


def admin_role_mfa_same_account(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """The people's cluster-admin role is assumed with MFA and only from the stack's own account."""
    accounts = _own_accounts(resources)
    for r in resources:
        if r.type != "aws:iam/role:Role" or _tags(r.props).get(ACCESS_POLICY_TAG) != "clusterAdmin":
            continue
        for st in _statements(_doc(r.props.get("assumeRolePolicy"))):
            principal = _object(st.get("Principal"))
            trusted = [p for p in _list(principal.get("AWS")) if isinstance(p, str)]
            if st.get("Effect") != "Allow" or not trusted:
                continue
            mfa = (_conditions(st).get("Bool") or {}).get("aws:MultiFactorAuthPresent") in ("true", True)
            if not mfa and "aws:multifactorauthage" not in _condition_keys(st):
                yield (
                    r.urn,
                    (
                        f"{r.name}: the cluster-admin role is assumed without MFA. Fix: "
                        "cluster.access.adminRole.requireMfa: true."
                    ),
                )
            other = sorted(
                p
                for p in trusted
                if (m := re.match(r"arn:[^:]+:iam::(\d{12}):", p)) and accounts and m.group(1) not in accounts
            )
            if other:
                yield (
                    r.urn,
                    (
                        f"{r.name}: the cluster-admin role trusts another account ({', '.join(other)}). Fix: "
                        "trust this account's principals; people of another account assume a role of theirs."
                    ),
                )


# -- nodes that repair themselves, a cluster that can leave a zone (issue 30) -------------------
MONITORING_AGENT = "eks-node-monitoring-agent"


def node_auto_repair(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """Every managed node group repairs its nodes, Karpenter repairs its own, and the node monitoring agent that
    reports the conditions they act on is installed."""
    groups = [r for r in resources if r.type == "aws:eks/nodeGroup:NodeGroup"]
    karpenter = [
        r
        for r in resources
        if r.type == RELEASE[0] and str(r.props.get("chart", "")).rstrip("/").rsplit("/", 1)[-1] == "karpenter"
    ]  # a name or oci://
    for r in groups:
        repair = r.props.get("nodeRepairConfig")
        if not isinstance(repair, dict) or repair.get("enabled") is not True:
            yield (
                r.urn,
                (
                    f"{r.name}: a broken node stays in the group until someone notices. Fix: "
                    "nodeGroups.<n>.repair.enabled: true (EKS node auto repair)."
                ),
            )
    for r in karpenter:
        values = _object(r.props.get("values"))
        gates = (values.get("settings") or {}).get("featureGates") or {}
        if gates.get("nodeRepair") is not True:
            yield (
                r.urn,
                (
                    f"{r.name}: Karpenter leaves unhealthy nodes in place. Fix: addons.karpenter.nodeRepair: "
                    "true (settings.featureGates.nodeRepair)."
                ),
            )
    agents = [r for r in resources if r.type == "aws:eks/addon:Addon" and r.props.get("addonName") == MONITORING_AGENT]
    cluster = next((r for r in resources if r.type == "aws:eks/cluster:Cluster"), None)
    if (groups or karpenter) and not agents and cluster is not None:
        yield (
            cluster.urn,
            (
                f"{cluster.name}: no node monitoring agent, so node repair sees only the kubelet's own "
                "conditions. Fix: cluster.addons.nodeMonitoringAgent.enabled: true."
            ),
        )


def eks_zonal_shift(r: Resource) -> Iterable[str]:
    shift = r.props.get("zonalShiftConfig")
    if not isinstance(shift, dict) or shift.get("enabled") is not True:
        yield (
            f"{r.name}: traffic cannot be moved away from an impaired zone (ARC zonal shift is off). Fix: "
            "cluster.zonalShift: true."
        )


NODE_GROUP_LABEL = "eks-platform/node-group"
_CA_LABEL_TAG = f"k8s.io/cluster-autoscaler/node-template/label/{NODE_GROUP_LABEL}"


def _node_classes(resources: Sequence[Resource]) -> dict[str, tuple[Resource, int, list]]:
    """``{class key: (resource, minimum size, subnets)}`` of the managed and self-managed groups: the key is the
    eks-platform/node-group label (on a managed group) or the cluster-autoscaler template tag (on an ASG)."""
    out: dict[str, tuple[Resource, int, list]] = {}
    for r in resources:
        if r.type == "aws:eks/nodeGroup:NodeGroup":
            key = (r.props.get("labels") or {}).get(NODE_GROUP_LABEL)
            size = (r.props.get("scalingConfig") or {}).get("minSize")
            subnets = r.props.get("subnetIds")
        elif r.type == "aws:autoscaling/group:Group":
            key = next(
                (
                    t.get("value")
                    for t in r.props.get("tags") or []
                    if isinstance(t, dict) and t.get("key") == _CA_LABEL_TAG
                ),
                None,
            )
            size, subnets = r.props.get("minSize"), r.props.get("vpcZoneIdentifiers")
        else:
            continue
        if isinstance(key, str) and isinstance(subnets, list) and isinstance(size, int):  # unknown at preview: skip
            out[key] = (r, size, subnets)
    return out


def node_class_zones(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """A class that must keep nodes (min > 0) spans at least two zones, and the class the platform's controllers
    run on (the node selector of the Helm releases) spans every zone the cluster's node subnets cover: a zone
    failure must not take a class, or the controllers that recover the rest, down with it. A group's subnets are
    one per zone (the program never gives a group two subnets of one zone)."""
    classes = _node_classes(resources)
    widest = max((len(set(map(str, s))) for _, _, s in classes.values()), default=0)
    # the node tiers' subnets the stack creates (one per zone); a brought VPC plans none: the widest class counts
    tiers = collections.Counter(
        _tags(r.props).get("eks-platform/tier") for r in resources if r.type == "aws:ec2/subnet:Subnet"
    )
    zones = max(widest, tiers["private"], tiers["public"])
    system = {
        ((r.props.get("values") or {}).get("nodeSelector") or {}).get(NODE_GROUP_LABEL)
        for r in resources
        if r.type == RELEASE[0] and isinstance(r.props.get("values"), dict)
    }
    for key, (r, size, subnets) in sorted(classes.items()):
        span = len(set(map(str, subnets)))
        if size > 0 and span < 2:
            yield (
                r.urn,
                (
                    f"{r.name}: keeps {size} node(s) in one zone, so a zone failure takes the class down. Fix: "
                    "give the class subnets in at least two zones (network.existing.publicSubnetIds for a "
                    "public class)."
                ),
            )
        elif key in system and span < zones:
            yield (
                r.urn,
                (
                    f"{r.name}: the platform's controllers run here, in {span} of the cluster's {zones} zones. "
                    "Fix: the system class spans every zone of its tier."
                ),
            )


# ---------------------------------------------------------------------------------------
# the pack
# ---------------------------------------------------------------------------------------
CLUSTER = ("aws:eks/cluster:Cluster",)
LAUNCH_TEMPLATE = ("aws:ec2/launchTemplate:LaunchTemplate",)
RELEASE = ("kubernetes:helm.sh/v3:Release",)
IAM_DOCS = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/role:Role",
    "aws:iam/groupPolicy:GroupPolicy",
)

POLICIES: tuple[Policy, ...] = (
    Policy(
        "eks-secrets-encryption",
        "EKS secrets are envelope-encrypted with KMS",
        MANDATORY,
        CLUSTER,
        eks_secrets_encryption,
    ),
    Policy("eks-audit-logs", "EKS audit and authenticator logs are on", MANDATORY, CLUSTER, eks_audit_logs),
    Policy(
        "eks-no-public-endpoint-to-world",
        "The public API endpoint is not open to 0.0.0.0/0",
        MANDATORY,
        CLUSTER,
        eks_public_endpoint,
    ),
    Policy(
        "eks-authentication-mode-api",
        "Cluster access through access entries only",
        MANDATORY,
        CLUSTER,
        eks_authentication_mode,
    ),
    Policy("eks-no-creator-admin", "The cluster creator gets no implicit admin", MANDATORY, CLUSTER, eks_creator_admin),
    Policy(
        "eks-zonal-shift", "The cluster can be shifted away from an impaired zone", MANDATORY, CLUSTER, eks_zonal_shift
    ),
    Policy(
        "node-auto-repair",
        "Nodes repair themselves: managed groups, Karpenter, and the monitoring agent",
        MANDATORY,
        stack_check=node_auto_repair,
    ),
    Policy(
        "node-class-zones",
        "Node classes that keep nodes span two zones; the system class spans all",
        MANDATORY,
        stack_check=node_class_zones,
    ),
    Policy("launch-template-imdsv2", "Nodes require IMDSv2", MANDATORY, LAUNCH_TEMPLATE, launch_template_imdsv2),
    Policy(
        "launch-template-encrypted-volumes",
        "Node volumes are encrypted",
        MANDATORY,
        LAUNCH_TEMPLATE,
        launch_template_encrypted_volumes,
    ),
    Policy(
        "karpenter-node-class-imdsv2-encrypted",
        "Karpenter nodes require IMDSv2 and encrypt their volumes",
        MANDATORY,
        ("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",),
        karpenter_node_class,
    ),
    Policy(
        "no-ssh-from-world",
        "No SSH from the internet",
        MANDATORY,
        (
            "aws:ec2/securityGroup:SecurityGroup",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws:ec2/securityGroupRule:SecurityGroupRule",
        ),
        no_ssh_from_world,
    ),
    Policy(
        "self-managed-asg-tags",
        "Self-managed node ASGs carry autoscaler and termination-handler tags",
        MANDATORY,
        ("aws:autoscaling/group:Group",),
        self_managed_asg_tags,
    ),
    Policy(
        "ca-taint-effect",
        "Autoscaler node-template taints carry their :Effect",
        ADVISORY,
        ("aws:autoscaling/group:Group", "aws:autoscaling/tag:Tag"),
        ca_taint_effect,
    ),
    Policy(
        "irsa-trust-sub-and-aud",
        "Web-identity trusts pin both sub and aud",
        MANDATORY,
        ("aws:iam/role:Role",),
        irsa_trust,
    ),
    Policy(
        "pod-identity-trust-pinned",
        "Pod Identity trusts pin namespace and service account",
        MANDATORY,
        ("aws:iam/role:Role",),
        pod_identity_trust,
    ),
    Policy(
        "iam-no-wildcard-trust", "No role trusts every principal", MANDATORY, ("aws:iam/role:Role",), no_wildcard_trust
    ),
    Policy(
        "iam-no-admin-policies",
        "No AdministratorAccess, PowerUserAccess or IAMFullAccess",
        MANDATORY,
        ATTACHMENTS,
        no_admin_policies,
    ),
    Policy(
        "iam-no-broad-managed-policies",
        "No managed policy that reads the account's data or runs a whole service "
        "(ReadOnlyAccess, AmazonSSMManagedInstanceCore, *FullAccess...)",
        MANDATORY,
        ATTACHMENTS,
        no_broad_managed_policies,
    ),
    Policy(
        "iam-service-trust-source",
        "Service-principal trusts pin aws:SourceArn or aws:SourceAccount",
        MANDATORY,
        ("aws:iam/role:Role",),
        service_trust_source,
    ),
    Policy(
        "controller-policy-conditions",
        "Controller policies keep the conditions of the program's catalog (platform/iam)",
        MANDATORY,
        stack_check=controller_policy_conditions,
    ),
    Policy(
        "imds-hop-limit",
        "Node classes keep instance metadata at hop limit 1 unless their config says why",
        MANDATORY,
        (*LAUNCH_TEMPLATE, NODE_CLASS),
        imds_hop_limit,
    ),
    Policy(
        "world-ingress-listeners-only",
        "The internet reaches only public load balancers' listener ports",
        MANDATORY,
        stack_check=world_ingress_listeners_only,
    ),
    Policy("sqs-encrypted", "Queues are encrypted at rest", MANDATORY, ("aws:sqs/queue:Queue",), sqs_encrypted),
    Policy("sns-encrypted", "Topics are encrypted at rest", MANDATORY, ("aws:sns/topic:Topic",), sns_encrypted),
    Policy(
        "observability-on",
        "The cluster is watched: Container Insights or managed Prometheus",
        MANDATORY,
        stack_check=observability_on,
    ),
    Policy(
        "lb-tls-policy",
        "HTTPS/TLS listeners use a TLS 1.2+ forward-secret policy",
        MANDATORY,
        (LISTENER,),
        listener_tls_policy,
    ),
    Policy(
        "alb-drop-invalid-headers",
        "Application load balancers drop invalid header fields",
        MANDATORY,
        (LB,),
        alb_drops_invalid_headers,
    ),
    Policy("kms-key-rotation", "Symmetric KMS keys rotate", MANDATORY, ("aws:kms/key:Key",), kms_key_rotation),
    Policy(
        "access-policy-as-declared",
        "Access policies grant no more than the entry's config asked for",
        MANDATORY,
        stack_check=access_policy_as_declared,
    ),
    Policy(
        "admin-role-mfa-same-account",
        "The people's cluster-admin role needs MFA and trusts only its account",
        MANDATORY,
        stack_check=admin_role_mfa_same_account,
    ),
    Policy(
        "workload-role-scoped-writes",
        "Workload roles write only to named or conditioned resources",
        MANDATORY,
        stack_check=workload_role_scoped_writes,
    ),
    Policy("iam-no-star-actions", "No Allow of * actions", MANDATORY, IAM_DOCS, no_star_actions),
    Policy(
        "iam-scoped-dns-and-secret-reads",
        "Route 53 changes and secret reads are scoped",
        MANDATORY,
        IAM_DOCS,
        no_unscoped_dns_or_secret_reads,
    ),
    Policy(
        "subnet-lb-discovery-tags",
        "Subnets carry the load-balancer discovery tags",
        MANDATORY,
        ("aws:ec2/subnet:Subnet",),
        subnet_discovery_tags,
    ),
    Policy(
        "vpc-flow-logs",
        "VPCs have flow logs (advisory in dev: policies/config.dev.json)",
        MANDATORY,
        stack_check=vpc_flow_logs,
    ),
    Policy(
        "log-group-retention",
        "Log groups expire their events, after the stack's minimum",
        MANDATORY,
        ("aws:cloudwatch/logGroup:LogGroup",),
        log_group_retention,
        params={
            "minimumRetentionDays": {
                "type": "integer",
                "minimum": 1,
                "default": 30,
                "description": "The shortest retention a log group may have",
            }
        },
    ),
    Policy(
        "codebuild-unprivileged",
        "CodeBuild (CI runner) containers are not privileged",
        MANDATORY,
        ("aws:codebuild/project:Project",),
        codebuild_unprivileged,
    ),
    Policy(
        "helm-pinned-version", "Helm charts are pinned to an exact version", MANDATORY, RELEASE, helm_pinned_version
    ),
    Policy("helm-atomic", "Helm releases are atomic", MANDATORY, RELEASE, helm_atomic),
    Policy(
        "lb-internet-facing-tls",
        "Internet-facing listeners use TLS or redirect to HTTPS",
        MANDATORY,
        stack_check=lb_internet_facing_tls,
    ),
    Policy(
        "lb-internal-not-world",
        "Internal load balancers admit no 0.0.0.0/0",
        MANDATORY,
        stack_check=lb_internal_not_world,
    ),
    Policy(
        "lb-deletion-protection",
        "Load balancers of a protected stack have deletion protection",
        MANDATORY,
        stack_check=lb_deletion_protection,
    ),
    Policy("pod-sg-not-world", "Pod security groups admit no 0.0.0.0/0", MANDATORY, stack_check=pod_sg_not_world),
    Policy(
        "namespace-pod-security",
        "Platform namespaces enforce Pod Security baseline or restricted (advisory in dev: policies/config.dev.json)",
        MANDATORY,
        ("kubernetes:core/v1:Namespace",),
        namespace_pod_security,
    ),
    Policy(
        "storage-class-encrypted",
        "EBS StorageClasses encrypt their volumes",
        MANDATORY,
        ("kubernetes:storage.k8s.io/v1:StorageClass",),
        storage_class_encrypted,
    ),
    Policy(
        "manifests-pinned",
        "Manifests (CRDs) applied from the network are pinned to a released tag",
        MANDATORY,
        ("kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile"),
        manifests_pinned,
    ),
)


LEVELS = ("advisory", "mandatory", "remediate", "disabled")  # CrossGuard's EnforcementLevel values


class PolicyConfigError(Exception):
    """A policy config file that `pulumi preview --policy-pack-config` would refuse: one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def config_path(stack: str) -> Path:
    """The stack's own policy config, ``config.<stack>.json``, or ``config.default.json`` (every guardrail
    mandatory) for a stack that brings none; the workflows pick the same file (tools/stacks.py)."""
    own = CONFIG_DIR / f"config.{stack}.json"
    return own if own.is_file() else CONFIG_DIR / DEFAULT_CONFIG


DEFAULT_CONFIG = "config.default.json"


def _param_problems(policy: Policy | None, name: str, value: Mapping[str, Any], where: str) -> list[str]:
    """What CrossGuard's config schema check would refuse in a policy's object: unknown keys, wrong types."""
    schema = (policy.params if policy else None) or {}
    problems = []
    for key, given in value.items():
        if key == "enforcementLevel":
            continue
        spec = schema.get(key)
        if spec is None:
            problems.append(
                f"{where}: {name}.{key}: is not a parameter of this policy "
                f"({', '.join(sorted(schema)) or 'it has none'})"
            )
        elif spec.get("type") == "integer" and (
            isinstance(given, bool) or not isinstance(given, int) or given < spec.get("minimum", given)
        ):
            problems.append(
                f"{where}: {name}.{key}: {json.dumps(given)} is not an integer of at least {spec.get('minimum')}"
            )
    return problems


def parse_config(raw: Any, where: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Enforcement levels and parameters from a policy config document (``{"all": level, "<policy>": level |
    {"enforcementLevel": level, <parameter>: value}}``)."""
    if not isinstance(raw, dict):
        raise PolicyConfigError([f"{where}: expected an object of policy names, got {type(raw).__name__}"])
    by_name = {p.name: p for p in POLICIES}
    out: dict[str, str] = {}
    params: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for name, value in raw.items():
        level = value.get("enforcementLevel", MANDATORY) if isinstance(value, dict) else value
        if name != "all" and name not in by_name:
            problems.append(f"{where}: {name}: is not a policy of this pack ({', '.join(sorted(by_name))})")
        elif level not in LEVELS:
            problems.append(
                f"{where}: {name}: {json.dumps(level)} is not a CrossGuard enforcement level ({', '.join(LEVELS)})"
            )
        else:
            out[name] = level
            if isinstance(value, dict):
                problems += _param_problems(by_name.get(name), name, value, where)
                params[name] = {k: v for k, v in value.items() if k != "enforcementLevel"}
    if problems:
        raise PolicyConfigError(problems)
    return _spread(out), params


def parse_levels(raw: Any, where: str) -> dict[str, str]:
    """Enforcement levels from a policy config document."""
    return parse_config(raw, where)[0]


def _spread(out: dict[str, str]) -> dict[str, str]:
    if "all" in out:
        default = out.pop("all")
        out = {p.name: out.get(p.name, default) for p in POLICIES}
    return out


def config_for(stack: str | None) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Per-stack enforcement levels and parameters: the same file the workflow passes as policyPackConfigs."""
    if not stack or not config_path(stack).is_file():
        return {}, {}
    path = config_path(stack)
    where = f"policies/{path.name}"
    try:
        raw = json.loads(path.read_text())
    except ValueError as err:
        raise PolicyConfigError([f"{where}: not JSON ({err})"]) from None
    return parse_config(raw, where)


def levels_for(stack: str | None) -> dict[str, str]:
    return config_for(stack)[0]


def params_for(stack: str | None) -> dict[str, dict[str, Any]]:
    return config_for(stack)[1]


def policy_params(policy: Policy, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """A policy's parameters: the schema's defaults overlaid with the stack's values (CrossGuard's get_config)."""
    return {**{k: v.get("default") for k, v in (policy.params or {}).items()}, **(given or {})}


def _run(policy: Policy, resources: Sequence[Resource], given: Mapping[str, Any] | None) -> Iterable[tuple[str, str]]:
    extra = (policy_params(policy, given),) if policy.params else ()
    if policy.stack_check is not None:
        yield from policy.stack_check(resources, *extra)
        return
    for r in resources:
        if r.type in policy.types and policy.check is not None:
            yield from ((r.urn, msg) for msg in policy.check(r, *extra))


def evaluate(
    resources: Sequence[Resource],
    levels: Mapping[str, str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Violation]:
    levels, params = levels or {}, params or {}
    out: list[Violation] = []
    for policy in POLICIES:
        level = levels.get(policy.name, policy.enforcement)
        if level == DISABLED:
            continue
        # The pack has no remediations: a remediate level enforces like mandatory.
        level = MANDATORY if level == "remediate" else level
        out += [
            Violation(policy.name, level, urn, msg) for urn, msg in _run(policy, resources, params.get(policy.name))
        ]
    return out
