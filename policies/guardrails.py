"""EKS guardrails: one implementation, run by the CrossGuard pack (``policies/__main__.py``)
in `pulumi preview`/`up` and by the offline plan (``python -m tools.plan --policies``).

Plain Python on purpose: the offline plan's environment cannot import ``pulumi_policy``
(it pins an older protobuf than the program's SDKs), so the pack adapts these functions.
Each check receives a ``Resource`` (inputs in the engine's camelCase) and yields messages
that name the resource and the fix. Values unknown at preview time (``None`` or not of the
expected type) are skipped rather than guessed.
"""

from __future__ import annotations

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
    stack_check: Callable[[Sequence[Resource]], Iterable[tuple[str, str]]] | None = None


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
    """0.0.0.0/0, or a range so wide (shorter than /8) it is the internet for practical purposes."""
    try:
        return ipaddress.IPv4Network(str(cidr), strict=False).prefixlen < 8
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------
# EKS
# ---------------------------------------------------------------------------------------
def eks_secrets_encryption(r: Resource) -> Iterable[str]:
    enc = r.props.get("encryptionConfig")
    if enc is None:
        yield f"{r.name}: Kubernetes secrets are not envelope-encrypted. Fix: set encryptionConfig with a KMS key."
        return
    if isinstance(enc, dict) and "secrets" not in _list(enc.get("resources")):
        yield f"{r.name}: encryptionConfig does not cover \"secrets\". Fix: resources: [secrets]."


def eks_audit_logs(r: Resource) -> Iterable[str]:
    types = r.props.get("enabledClusterLogTypes")
    if types is not None and not isinstance(types, list):
        return
    missing = sorted({"audit", "authenticator"} - set(_list(types)))
    if missing:
        yield (f"{r.name}: control-plane log types {', '.join(missing)} are off. "
               "Fix: cluster.logging.types must include audit and authenticator.")


def eks_public_endpoint(r: Resource) -> Iterable[str]:
    vpc = r.props.get("vpcConfig")
    if not isinstance(vpc, dict) or vpc.get("endpointPublicAccess") is not True:
        return
    cidrs = vpc.get("publicAccessCidrs")
    if cidrs is None or cidrs == []:
        yield (f"{r.name}: public API endpoint without publicAccessCidrs is open to 0.0.0.0/0. "
               "Fix: list the networks in cluster.endpoint.publicAccessCidrs or turn publicAccess off.")
        return
    wide = [c for c in _list(cidrs) if _is_world(c)]
    if wide:
        yield (f"{r.name}: public API endpoint open to {', '.join(map(str, wide))}. "
               "Fix: narrow cluster.endpoint.publicAccessCidrs.")


def eks_authentication_mode(r: Resource) -> Iterable[str]:
    access = r.props.get("accessConfig")
    mode = access.get("authenticationMode") if isinstance(access, dict) else None
    if mode != "API":
        yield (f"{r.name}: authenticationMode is {mode!r}, so the aws-auth ConfigMap can grant access. "
               "Fix: accessConfig.authenticationMode: API (access entries only).")


def eks_creator_admin(r: Resource) -> Iterable[str]:
    access = r.props.get("accessConfig")
    if not isinstance(access, dict) or access.get("bootstrapClusterCreatorAdminPermissions") is not False:
        yield (f"{r.name}: whoever creates the cluster silently becomes cluster-admin. "
               "Fix: bootstrapClusterCreatorAdminPermissions: false and admin access entries.")


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
        yield f"{r.name}: EC2NodeClass without blockDeviceMappings: the volume's encryption is left to defaults. " \
              "Fix: an encrypted gp3 volume."
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
        return [(x.get("protocol"), x.get("fromPort"), x.get("toPort"), _list(x.get("cidrBlocks")))
                for x in _list(p.get("ingress")) if isinstance(x, dict)]
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
        yield (f"{r.name}: cluster-autoscaler cannot discover this node group (missing {', '.join(missing)}). "
               "Fix: add the discovery tags.")
    if NTH_TAG not in propagated:
        yield (f"{r.name}: instances lack the {NTH_TAG} tag, so the termination handler will not drain them. "
               "Fix: tag the ASG with it, propagated at launch.")


def ca_taint_effect(r: Resource) -> Iterable[str]:
    if r.type == "aws:autoscaling/tag:Tag":
        tag = r.props.get("tag")
        items = [(tag.get("key"), tag.get("value"))] if isinstance(tag, dict) else []
    else:
        items = list(_tags(r.props).items())
    for key, value in items:
        is_taint = isinstance(key, str) and "/node-template/taint/" in key and isinstance(value, str)
        if is_taint and (":" not in value or value.rsplit(":", 1)[-1] not in EFFECTS):
            yield (f"{r.name}: node-template taint {key}={value!r} has no :Effect suffix, so cluster-autoscaler "
                   "ignores it. Fix: value:NoSchedule (or PreferNoSchedule/NoExecute).")


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
            yield (f"{r.name}: a web-identity trust without StringEquals on both :sub and :aud lets other service "
                   "accounts assume the role. Fix: StringEquals <issuer>:sub and <issuer>:aud = sts.amazonaws.com.")


POD_IDENTITY = "pods.eks.amazonaws.com"


def pod_identity_trust(r: Resource) -> Iterable[str]:
    doc = _doc(r.props.get("assumeRolePolicy"))
    for st in _statements(doc):
        principal = st.get("Principal") if isinstance(st.get("Principal"), dict) else {}
        if st.get("Effect") != "Allow" or POD_IDENTITY not in _list(principal.get("Service")):
            continue
        equals = (st.get("Condition") or {}).get("StringEquals") or {}
        missing = [k for k in ("aws:RequestTag/kubernetes-namespace", "aws:RequestTag/kubernetes-service-account")
                   if not isinstance(equals.get(k), str)]
        if missing:
            yield (f"{r.name}: a Pod Identity trust without StringEquals on {' and '.join(missing)} lets any service "
                   "account with an association assume the role. Fix: pin the namespace and service account.")


def _wildcard_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and any("*" in _list(v) for v in principal.values())


def no_wildcard_trust(r: Resource) -> Iterable[str]:
    for st in _statements(_doc(r.props.get("assumeRolePolicy"))):
        if st.get("Effect") == "Allow" and (_wildcard_principal(st.get("Principal")) or "NotPrincipal" in st):
            yield f"{r.name}: the trust policy lets any principal assume the role. Fix: name the principals."


# AWS managed policies no platform or workload role needs.
BROAD_POLICIES = re.compile(r"^arn:[^:]+:iam::aws:policy/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$")


def no_admin_policies(r: Resource) -> Iterable[str]:
    arn = r.props.get("policyArn")
    if isinstance(arn, str) and BROAD_POLICIES.match(arn):
        yield f"{r.name}: attaches {arn}. Fix: a policy with the actions the role calls."


# Action names that only read (by IAM naming convention); anything else counts as a write.
READ_PREFIXES = ("Get", "List", "Describe", "Head", "BatchGet", "Query", "Scan", "Search", "Lookup")
WORKLOAD_IDENTITY_TAG = "eks-platform/workload-identity"


def workload_role_scoped_writes(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """Inline policies of workload roles (tagged eks-platform/workload-identity): no write on * without a
    condition (the policy names its role through its dependencies)."""
    workload_roles = {r.urn for r in resources if r.type == "aws:iam/role:Role" and WORKLOAD_IDENTITY_TAG in _tags(r.props)}
    for r in resources:
        if r.type != "aws:iam/rolePolicy:RolePolicy" or not workload_roles & set(r.dependencies):
            continue
        for st in _statements(_doc(r.props.get("policy"))):
            writes = [a for a in _list(st.get("Action")) if isinstance(a, str) and ":" in a
                      and not a.split(":", 1)[1].startswith(READ_PREFIXES)]
            if st.get("Effect") == "Allow" and "*" in _list(st.get("Resource")) and writes and not st.get("Condition"):
                yield (r.urn, f"{r.name}: {', '.join(writes[:3])} on * without a condition. Fix: name the resources "
                              "or scope them with a condition.")


def _policy_docs(r: Resource) -> list[dict]:
    if r.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/groupPolicy:GroupPolicy"):
        return [d for d in [_doc(r.props.get("policy"))] if d]
    if r.type == "aws:iam/role:Role":
        return [d for p in _list(r.props.get("inlinePolicies")) if isinstance(p, dict)
                for d in [_doc(p.get("policy"))] if d]
    return []


def no_star_actions(r: Resource) -> Iterable[str]:
    for doc in _policy_docs(r):
        for st in _statements(doc):
            if st.get("Effect") != "Allow":
                continue
            stars = [a for a in _list(st.get("Action")) if isinstance(a, str) and (a == "*" or a.endswith(":*"))]
            if stars or "NotAction" in st:
                yield (f"{r.name}: allows {', '.join(stars) or 'NotAction'}. "
                       "Fix: list the exact actions the workload calls.")


_SCOPED_READS = {
    "route53:ChangeResourceRecordSets": re.compile(r"^(\*|arn:[^:]+:route53:::hostedzone/\*)$"),
    "secretsmanager:GetSecretValue": re.compile(r"^(\*|arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:\*)$"),
    "ssm:GetParameter": re.compile(r"^(\*|arn:[^:]+:ssm:[^:]*:[^:]*:parameter/?\*)$"),
    "ssm:GetParameters": re.compile(r"^(\*|arn:[^:]+:ssm:[^:]*:[^:]*:parameter/?\*)$"),
    "ssm:GetParametersByPath": re.compile(r"^(\*|arn:[^:]+:ssm:[^:]*:[^:]*:parameter/?\*)$"),
}


def no_unscoped_dns_or_secret_reads(r: Resource) -> Iterable[str]:
    for doc in _policy_docs(r):
        for st in _statements(doc):
            if st.get("Effect") != "Allow":
                continue
            for action in _list(st.get("Action")):
                pattern = _SCOPED_READS.get(action)
                wide = [res for res in _list(st.get("Resource")) if pattern and isinstance(res, str)
                        and pattern.match(res)]
                if wide:
                    yield (f"{r.name}: {action} on {', '.join(wide)} reaches every zone/secret/parameter in the "
                           "account. Fix: scope it to the stack's hosted zones or name prefix.")


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
        yield (f"{r.name}: private subnet without kubernetes.io/role/internal-elb=1: internal LBs cannot use it. "
               "Fix: tag it.")
    elif tier is None and in_cluster and not ({"kubernetes.io/role/elb", "kubernetes.io/role/internal-elb"} & set(tags)):
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
SG_INGRESS = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:ec2/securityGroupRule:SecurityGroupRule")


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
        if actions and all(isinstance(a, dict) and a.get("type") == "redirect"
                           and (a.get("redirect") or {}).get("protocol") == "HTTPS" for a in actions):
            continue
        yield r.urn, (f"{r.name}: {r.props.get('protocol')} listener on internet-facing {lb.name}. Fix: HTTPS/TLS "
                      "with a certificate, or a redirect to HTTPS.")


def lb_internal_not_world(resources: Sequence[Resource]) -> Iterable[tuple[str, str]]:
    """No 0.0.0.0/0 into the security groups of an internal load balancer."""
    internal_sgs = {d for r in resources if r.type == LB and r.props.get("internal") is True for d in r.dependencies}
    for r in resources:
        ours = r.urn in internal_sgs if r.type == "aws:ec2/securityGroup:SecurityGroup" else (
            r.type in SG_INGRESS and bool(set(r.dependencies) & internal_sgs))
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
    pod_sgs = {r.urn for r in resources
               if r.type == "aws:ec2/securityGroup:SecurityGroup" and POD_SG_TAG in _tags(r.props)}
    for r in resources:
        ours = r.urn in pod_sgs if r.type == "aws:ec2/securityGroup:SecurityGroup" else (
            r.type in SG_INGRESS and bool(set(r.dependencies) & pod_sgs))
        if ours and any(_is_world(c) for _, _, _, cidrs in _ingress_rules(r) for c in cidrs):
            yield r.urn, f"{r.name}: pods open to the internet. Fix: a load balancer in front, or the client networks."


def storage_class_encrypted(r: Resource) -> Iterable[str]:
    """EBS volumes provisioned through a StorageClass are encrypted (ebs.csi.aws.com parameters.encrypted)."""
    encrypted = str((r.props.get("parameters") or {}).get("encrypted", "")).lower() == "true"
    if r.props.get("provisioner") in ("ebs.csi.aws.com", "kubernetes.io/aws-ebs") and not encrypted:
        yield f"{r.name}: EBS StorageClass without encryption. Fix: parameters.encrypted: \"true\"."


PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


def namespace_pod_security(r: Resource) -> Iterable[str]:
    """Pod Security Admission enforces at least baseline (no privileged pods, host namespaces or host paths)."""
    labels = (r.props.get("metadata") or {}).get("labels") or {}
    level = labels.get(PSA_ENFORCE) if isinstance(labels, dict) else None
    if level not in ("baseline", "restricted"):
        name = (r.props.get("metadata") or {}).get("name") or r.name
        yield (f"{r.name}: namespace {name} enforces Pod Security {level or 'nothing'} (privileged pods, host "
               f"networking and host paths admitted). Fix: workloads.namespaces.{name}.podSecurity.enforce: baseline "
               "or restricted.")


# ---------------------------------------------------------------------------------------
# logs and CI
# ---------------------------------------------------------------------------------------
def log_group_retention(r: Resource) -> Iterable[str]:
    days = r.props.get("retentionInDays")
    if days is None or days == 0:
        yield (f"{r.name}: log group {r.props.get('name') or ''} keeps its events forever (cost, and logs that "
               "outlive their purpose). Fix: set retentionInDays.")


def codebuild_unprivileged(r: Resource) -> Iterable[str]:
    env = r.props.get("environment")
    if isinstance(env, dict) and env.get("privilegedMode") is True:
        yield (f"{r.name}: the build container runs privileged (root on the build host; a CI runner that "
               "deploys the platform must not). Fix: privilegedMode: false.")


# ---------------------------------------------------------------------------------------
# Helm
# ---------------------------------------------------------------------------------------
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")


def helm_pinned_version(r: Resource) -> Iterable[str]:
    version = r.props.get("version")
    if not isinstance(version, str) or not _EXACT_VERSION.match(version):
        yield (f"{r.name}: chart {r.props.get('chart')} is not pinned to an exact version ({version!r}). "
               "Fix: pin it in platform/addons.yaml.")


def helm_atomic(r: Resource) -> Iterable[str]:
    if r.props.get("atomic") is not True:
        yield f"{r.name}: a failed install would be left half-applied. Fix: atomic: true."


_PINNED_SOURCE = re.compile(r"^https://[^/]+/.*/v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?/")


def manifests_pinned(r: Resource) -> Iterable[str]:
    """Manifests applied from the network come over https from a released tag, never a branch."""
    for source in _list(r.props.get("files")):
        if isinstance(source, str) and "://" in source and not _PINNED_SOURCE.match(source):
            yield (f"{r.name}: {source} is not an https URL of a released tag (a branch moves under the "
                   "program). Fix: pin it to the chart's tag in platform/addons.yaml.")


# ---------------------------------------------------------------------------------------
# the pack
# ---------------------------------------------------------------------------------------
CLUSTER = ("aws:eks/cluster:Cluster",)
LAUNCH_TEMPLATE = ("aws:ec2/launchTemplate:LaunchTemplate",)
RELEASE = ("kubernetes:helm.sh/v3:Release",)
IAM_DOCS = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/role:Role",
            "aws:iam/groupPolicy:GroupPolicy")

POLICIES: tuple[Policy, ...] = (
    Policy("eks-secrets-encryption", "EKS secrets are envelope-encrypted with KMS", MANDATORY, CLUSTER,
           eks_secrets_encryption),
    Policy("eks-audit-logs", "EKS audit and authenticator logs are on", MANDATORY, CLUSTER, eks_audit_logs),
    Policy("eks-no-public-endpoint-to-world", "The public API endpoint is not open to 0.0.0.0/0", MANDATORY,
           CLUSTER, eks_public_endpoint),
    Policy("eks-authentication-mode-api", "Cluster access through access entries only", MANDATORY, CLUSTER,
           eks_authentication_mode),
    Policy("eks-no-creator-admin", "The cluster creator gets no implicit admin", MANDATORY, CLUSTER,
           eks_creator_admin),
    Policy("launch-template-imdsv2", "Nodes require IMDSv2", MANDATORY, LAUNCH_TEMPLATE, launch_template_imdsv2),
    Policy("launch-template-encrypted-volumes", "Node volumes are encrypted", MANDATORY, LAUNCH_TEMPLATE,
           launch_template_encrypted_volumes),
    Policy("karpenter-node-class-imdsv2-encrypted", "Karpenter nodes require IMDSv2 and encrypt their volumes",
           MANDATORY, ("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",), karpenter_node_class),
    Policy("no-ssh-from-world", "No SSH from the internet", MANDATORY,
           ("aws:ec2/securityGroup:SecurityGroup", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws:ec2/securityGroupRule:SecurityGroupRule"), no_ssh_from_world),
    Policy("self-managed-asg-tags", "Self-managed node ASGs carry autoscaler and termination-handler tags", MANDATORY,
           ("aws:autoscaling/group:Group",), self_managed_asg_tags),
    Policy("ca-taint-effect", "Autoscaler node-template taints carry their :Effect", ADVISORY,
           ("aws:autoscaling/group:Group", "aws:autoscaling/tag:Tag"), ca_taint_effect),
    Policy("irsa-trust-sub-and-aud", "Web-identity trusts pin both sub and aud", MANDATORY, ("aws:iam/role:Role",),
           irsa_trust),
    Policy("pod-identity-trust-pinned", "Pod Identity trusts pin namespace and service account", MANDATORY,
           ("aws:iam/role:Role",), pod_identity_trust),
    Policy("iam-no-wildcard-trust", "No role trusts every principal", MANDATORY, ("aws:iam/role:Role",),
           no_wildcard_trust),
    Policy("iam-no-admin-policies", "No AdministratorAccess, PowerUserAccess or IAMFullAccess", MANDATORY,
           ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"),
           no_admin_policies),
    Policy("workload-role-scoped-writes", "Workload roles write only to named or conditioned resources", MANDATORY,
           stack_check=workload_role_scoped_writes),
    Policy("iam-no-star-actions", "No Allow of * actions", MANDATORY, IAM_DOCS, no_star_actions),
    Policy("iam-scoped-dns-and-secret-reads", "Route 53 changes and secret reads are scoped", MANDATORY, IAM_DOCS,
           no_unscoped_dns_or_secret_reads),
    Policy("subnet-lb-discovery-tags", "Subnets carry the load-balancer discovery tags", MANDATORY,
           ("aws:ec2/subnet:Subnet",), subnet_discovery_tags),
    Policy("vpc-flow-logs", "VPCs have flow logs (advisory in dev: policies/config.dev.json)", MANDATORY,
           stack_check=vpc_flow_logs),
    Policy("log-group-retention", "Log groups expire their events", MANDATORY,
           ("aws:cloudwatch/logGroup:LogGroup",), log_group_retention),
    Policy("codebuild-unprivileged", "CodeBuild (CI runner) containers are not privileged", MANDATORY,
           ("aws:codebuild/project:Project",), codebuild_unprivileged),
    Policy("helm-pinned-version", "Helm charts are pinned to an exact version", MANDATORY, RELEASE,
           helm_pinned_version),
    Policy("helm-atomic", "Helm releases are atomic", MANDATORY, RELEASE, helm_atomic),
    Policy("lb-internet-facing-tls", "Internet-facing listeners use TLS or redirect to HTTPS", MANDATORY,
           stack_check=lb_internet_facing_tls),
    Policy("lb-internal-not-world", "Internal load balancers admit no 0.0.0.0/0", MANDATORY,
           stack_check=lb_internal_not_world),
    Policy("lb-deletion-protection", "Load balancers of a protected stack have deletion protection", MANDATORY,
           stack_check=lb_deletion_protection),
    Policy("pod-sg-not-world", "Pod security groups admit no 0.0.0.0/0", MANDATORY, stack_check=pod_sg_not_world),
    Policy("namespace-pod-security", "Platform namespaces enforce Pod Security baseline or restricted "
           "(advisory in dev: policies/config.dev.json)", MANDATORY, ("kubernetes:core/v1:Namespace",),
           namespace_pod_security),
    Policy("storage-class-encrypted", "EBS StorageClasses encrypt their volumes", MANDATORY,
           ("kubernetes:storage.k8s.io/v1:StorageClass",), storage_class_encrypted),
    Policy("manifests-pinned", "Manifests (CRDs) applied from the network are pinned to a released tag", MANDATORY,
           ("kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile"), manifests_pinned),
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


def parse_levels(raw: Any, where: str) -> dict[str, str]:
    """Enforcement levels from a policy config document (``{"all": level, "<policy>": level | {...}}``)."""
    if not isinstance(raw, dict):
        raise PolicyConfigError([f"{where}: expected an object of policy names, got {type(raw).__name__}"])
    known = {p.name for p in POLICIES}
    out: dict[str, str] = {}
    problems: list[str] = []
    for name, value in raw.items():
        level = value.get("enforcementLevel", MANDATORY) if isinstance(value, dict) else value
        if name != "all" and name not in known:
            problems.append(f"{where}: {name}: is not a policy of this pack ({', '.join(sorted(known))})")
        elif level not in LEVELS:
            problems.append(f"{where}: {name}: {json.dumps(level)} is not a CrossGuard enforcement level "
                            f"({', '.join(LEVELS)})")
        else:
            out[name] = level
    if problems:
        raise PolicyConfigError(problems)
    if "all" in out:
        default = out.pop("all")
        out = {p.name: out.get(p.name, default) for p in POLICIES}
    return out


def levels_for(stack: str | None) -> dict[str, str]:
    """Per-stack enforcement levels: the same file the workflow passes as policyPackConfigs."""
    if not stack or not config_path(stack).is_file():
        return {}
    path = config_path(stack)
    where = f"policies/{path.name}"
    try:
        raw = json.loads(path.read_text())
    except ValueError as err:
        raise PolicyConfigError([f"{where}: not JSON ({err})"]) from None
    return parse_levels(raw, where)


def evaluate(resources: Sequence[Resource], levels: Mapping[str, str] | None = None) -> list[Violation]:
    levels = levels or {}
    out: list[Violation] = []
    for policy in POLICIES:
        level = levels.get(policy.name, policy.enforcement)
        if level == DISABLED:
            continue
        # The pack has no remediations: a remediate level enforces like mandatory.
        level = MANDATORY if level == "remediate" else level
        if policy.stack_check is not None:
            out += [Violation(policy.name, level, urn, msg) for urn, msg in policy.stack_check(resources)]
            continue
        for r in resources:
            if r.type in policy.types and policy.check is not None:
                out += [Violation(policy.name, level, r.urn, msg) for msg in policy.check(r)]
    return out
