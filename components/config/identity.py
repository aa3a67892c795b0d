"""Identity config: AWS roles for workloads (EKS Pod Identity or IRSA), scoped access entries, the admin role
for people, and OIDC sign-in for people.

Facts that decide the limits below:
* IAM policy grammar (IAM User Guide, "IAM JSON policy element reference"): actions are ``service:Action`` with
  ``*``/``?`` wildcards, resources ``*`` or ARNs, condition operators from the fixed list of "Condition
  operators"; an inline policy of a role counts toward 10,240 characters per role ("IAM and AWS STS quotas"),
  10 managed policies per role by default.
* EKS access entries (CreateAccessEntry / AssociateAccessPolicy): one entry per principal ARN, IAM role or user
  (not an STS session); Kubernetes groups may not start with ``system:``; a namespace scope lists namespaces,
  optionally ending in ``*``.
* EKS OIDC identity providers (AssociateIdentityProviderConfig): ``issuerUrl`` https; username and groups
  prefixes may not contain ``system:``; up to 10 required claims, keys up to 63 and values up to 253 characters;
  one OIDC provider per cluster.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from pydantic import model_validator

from components.config.base import (
    ACCOUNT,
    DNS_LABEL,
    PARTITION,
    POLICY_ARN,
    PRINCIPAL_ARN,
    Model,
    Problems,
    items,
    matches,
    show,
    text,
)
from components.config.kube import Namespace

Mechanism = Literal["podIdentity", "irsa"]

# Keys that name resources (<cluster>-identity-<key>, <cluster>-access-<key>) and tag values: like node-group names,
# a DNS label; the AWS names built from them fit their limits whatever their length (components/names.py).
Key = Annotated[
    str,
    text(
        r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
        "a key of 1-63 lowercase letters, digits and - (not first or last)",
        max_len=63,
    ),
]
# ServiceAccount names are DNS subdomains (k8s.io/apimachinery IsDNS1123Subdomain: at most 253).
ServiceAccountName = Annotated[
    str,
    text(
        rf"{DNS_LABEL}(\.{DNS_LABEL})*",
        "a service account name (DNS subdomain: lowercase letters, digits, - and .)",
        max_len=253,
    ),
]

# -- IAM policy statements --------------------------------------------------------------
ACTION = r"[a-z0-9-]+:[A-Za-z0-9*?]+"
RESOURCE = rf"\*|arn:({PARTITION}|\*):[a-z0-9*?-]+:[a-z0-9*?-]*:({ACCOUNT}|\*|aws)?:[\x21-\x7e]+"
CONDITION_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
)
_OPERATOR = rf"(ForAllValues:|ForAnyValue:)?({'|'.join(CONDITION_OPERATORS)})(IfExists)?"
ConditionOperator = Annotated[
    str, text(_OPERATOR, "an IAM condition operator (StringEquals, ArnLike, Bool, ...)", max_len=64)
]
ConditionKey = Annotated[
    str, text(r"[A-Za-z0-9]+:[\x21-\x7e]{1,256}", "an IAM condition key (aws:SourceVpc, s3:prefix, ...)")
]
ConditionValue = Annotated[
    str, text(r"[\x20-\x7e]{0,1024}", "a condition value (printable ASCII)", max_len=1024, min_len=0)
]
# Action names that only read (IAM "access level" List/Read by naming convention); everything else, including
# an action starting with a wildcard, counts as a write.
READ_PREFIXES = ("Get", "List", "Describe", "Head", "BatchGet", "Query", "Scan", "Search", "Lookup")
MAX_INLINE_POLICY = 10240  # characters per role, all inline policies together, whitespace excluded
MAX_MANAGED_POLICIES = 10  # per role (default quota)
# Broad AWS managed policies a workload never needs: refused (the guardrail iam-no-admin-policies too).
REFUSED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def is_read(action: str) -> bool:
    name = action.split(":", 1)[1]
    return name.startswith(READ_PREFIXES)


def star_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


class Statement(Model):
    """One IAM policy statement (the role's inline policy)."""

    sid: Annotated[str, text(r"[A-Za-z0-9]{1,128}", "a statement id (letters and digits)")] | None = None
    """Statement id."""
    effect: Literal["Allow", "Deny"] = "Allow"
    """Allow or Deny."""
    actions: Annotated[
        tuple[str, ...],
        items(
            lambda v: (
                None
                if v != "*" and re.fullmatch(ACTION, v)
                else "is not an IAM action (service:Action; * alone is refused)"
            ),
            "action",
            min_items=1,
        ),
    ]
    """Actions as service:Action; wildcards inside the name only (s3:Get*); * and service:* are refused."""
    resources: Annotated[tuple[str, ...], items(matches(RESOURCE, "a resource ARN or *"), "resource", min_items=1)]
    """Resource ARNs. * with a write action needs a condition that scopes it."""
    condition: dict[ConditionOperator, dict[ConditionKey, ConditionValue | tuple[ConditionValue, ...] | bool]] = {}
    """IAM conditions: {operator: {key: value or [values]}}."""

    @model_validator(mode="after")
    def _least_privilege(self) -> Statement:
        found = Problems()
        if self.effect == "Allow":
            for i, action in enumerate(self.actions):
                if star_action(action):
                    found.add(
                        ("actions", i),
                        f"{show(action)} allows every action of the service; list the actions the workload calls",
                    )
            writes = [a for a in self.actions if not is_read(a)]
            if "*" in self.resources and writes and not self.condition:
                found.add(
                    "resources",
                    f'"*" with write actions ({", ".join(writes[:3])}'
                    f"{', ...' if len(writes) > 3 else ''}) reaches every resource of the account; "
                    "name the resources or add a condition that scopes them",
                )
        found.check()
        return self

    def document(self) -> dict:
        out: dict = {"Effect": self.effect, "Action": sorted(self.actions), "Resource": sorted(self.resources)}
        if self.sid:
            out["Sid"] = self.sid
        if self.condition:
            out["Condition"] = {
                op: {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(keys.items())}
                for op, keys in sorted(self.condition.items())
            }
        return out


def statements_document(statements: tuple[Statement, ...]) -> str:
    """The inline policy of a workload role: deterministic JSON (sorted keys)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [s.document() for s in statements]}, sort_keys=True)


def _policy_arn(value: str) -> str | None:
    if not re.fullmatch(POLICY_ARN, value):
        return "is not an IAM policy ARN (arn:aws:iam::aws:policy/ReadOnlyAccess)"
    if value.rsplit("/", 1)[-1] in REFUSED_POLICIES and ":iam::aws:policy/" in value:
        return "grants far more than a workload needs; write statements instead"
    return None


class WorkloadIdentity(Model):
    """An AWS role for one Kubernetes service account."""

    namespace: Namespace
    """The service account's namespace."""
    service_account: ServiceAccountName
    """The service account (the workload creates it; with irsa it carries the annotation in the outputs)."""
    mechanism: Mechanism = "podIdentity"
    """podIdentity: an EKS Pod Identity association, nothing on the service account; irsa: the role trusts the
    cluster's OIDC provider and the service account must carry eks.amazonaws.com/role-arn."""
    policy_arns: Annotated[tuple[str, ...], items(_policy_arn, "policy", max_items=MAX_MANAGED_POLICIES)] = ()
    """Managed policies attached to the role (AdministratorAccess, PowerUserAccess, IAMFullAccess refused; ones
    that read the account's data, such as ReadOnlyAccess or *FullAccess, fail the guardrail
    iam-no-broad-managed-policies)."""
    statements: tuple[Statement, ...] = ()
    """The role's inline policy."""

    @model_validator(mode="after")
    def _permissions(self) -> WorkloadIdentity:
        found = Problems()
        if not self.policy_arns and not self.statements:
            found.add("", "needs policyArns or statements: a role without permissions")
        if self.statements:
            size = len(re.sub(r"\s", "", statements_document(self.statements)))
            if size > MAX_INLINE_POLICY:
                found.add(
                    "statements",
                    f"render to {size} characters; a role's inline policies may have "
                    f"{MAX_INLINE_POLICY} (IAM quotas): use a managed policy",
                )
        found.check()
        return self


# -- access entries ----------------------------------------------------------------------
AccessPolicy = Literal["clusterAdmin", "admin", "edit", "view"]
# EKS access policies (EKS user guide, "Access policy permissions").
ACCESS_POLICIES = {
    "clusterAdmin": "AmazonEKSClusterAdminPolicy",
    "admin": "AmazonEKSAdminPolicy",
    "edit": "AmazonEKSEditPolicy",
    "view": "AmazonEKSViewPolicy",
}
# The Kubernetes ClusterRoles the same words mean for RBAC bindings of OIDC groups.
CLUSTER_ROLES = {"clusterAdmin": "cluster-admin", "admin": "admin", "edit": "edit", "view": "view"}
PRINCIPAL_WHAT = "an IAM role or user ARN (arn:aws:iam::111122223333:role/name)"


def _group(value: str) -> str | None:
    if value.startswith("system:"):
        return "starts with system:, which EKS reserves"
    if not re.fullmatch(r"[\x21-\x7e]{1,255}", value):
        return "is not a Kubernetes group name (1-255 printable characters, no spaces)"
    return None


class AccessEntry(Model):
    """An access entry: an IAM principal, an EKS access policy (cluster-wide or in namespaces) and/or Kubernetes
    groups for your own RBAC."""

    principal_arn: Annotated[str, text(PRINCIPAL_ARN, PRINCIPAL_WHAT, max_len=2048)]
    """The IAM role or user (one entry per principal)."""
    policy: AccessPolicy | None = None
    """clusterAdmin, admin, edit or view (AmazonEKS<...>Policy)."""
    namespaces: Annotated[
        tuple[str, ...],
        items(
            lambda v: (
                None
                if re.fullmatch(rf"({DNS_LABEL}|[a-z0-9-]{{0,62}}\*)", v)
                else "is not a namespace (or a prefix ending in *)"
            ),
            "namespace",
        ),
    ] = ()
    """Limit the policy to these namespaces (dev-* matches a prefix). Not with clusterAdmin."""
    kubernetes_groups: Annotated[tuple[str, ...], items(_group, "group")] = ()
    """Kubernetes groups the principal is put in (bind them with your own RoleBindings)."""

    @model_validator(mode="after")
    def _scope(self) -> AccessEntry:
        found = Problems()
        if self.policy is None and not self.kubernetes_groups:
            found.add("", "needs a policy or kubernetesGroups: the entry would grant nothing")
        if self.policy == "clusterAdmin" and self.namespaces:
            found.add("namespaces", "cannot scope clusterAdmin (cluster-admin is cluster-wide); use admin or edit")
        if self.policy is None and self.namespaces:
            found.add("namespaces", "scope a policy; there is none")
        found.check()
        return self


def _trusted(value: str) -> str | None:
    if re.fullmatch(rf"arn:{PARTITION}:iam::{ACCOUNT}:root", value) or re.fullmatch(PRINCIPAL_ARN, value):
        return None
    return "is not an account root, IAM role or IAM user ARN (arn:aws:iam::111122223333:root)"


class AdminRole(Model):
    """A cluster-admin role for people: a select group may assume it (instead of the cluster creator)."""

    create: bool = False
    """Create the role, an IAM group allowed to assume it, and a clusterAdmin access entry."""
    trusted_principal_arns: Annotated[tuple[str, ...], items(_trusted, "principal")] = ()
    """Who the role trusts. Default: this account's root (the account decides through IAM policies; the group's
    policy lets its members assume the role)."""
    require_mfa: bool = True
    """Only sessions signed in with MFA may assume it (aws:MultiFactorAuthPresent)."""
    group_name: (
        Annotated[
            str, text(r"[A-Za-z0-9+=,.@_-]{1,128}", "an IAM group name (1-128 letters, digits, +=,.@_-)", max_len=128)
        ]
        | None
    ) = None
    """The IAM group. Default: <cluster>-cluster-admins."""

    @model_validator(mode="after")
    def _mfa(self) -> AdminRole:
        found = Problems()
        roles = [a for a in self.trusted_principal_arns if ":role/" in a]
        if self.require_mfa and roles:
            # IAM: aws:MultiFactorAuthPresent is absent from sessions of roles (SSO, federation, chaining).
            found.add(
                "requireMfa",
                f"role sessions carry no MFA context, so {show(roles[0])} could never assume it; "
                "set requireMfa: false (and enforce MFA where that role is signed in)",
            )
        if not self.create and (self.trusted_principal_arns or self.group_name):
            found.add("create", "is false but the role is configured")
        found.check()
        return self


# -- OIDC sign-in ------------------------------------------------------------------------
def _issuer(value: str) -> str | None:
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@-]*)*", value):
        return "is not an https issuer URL without query or fragment (https://login.example.com/oauth2)"
    return None


def _prefix(value: str) -> str | None:
    if "system:" in value:
        return "contains system:, which EKS refuses (the API server reserves it)"
    return None if re.fullmatch(r"[\x21-\x7e]{1,255}", value) else "is not a prefix (1-255 printable characters)"


Claim = Annotated[str, text(r"[A-Za-z0-9_:./-]{1,63}", "a claim name (1-63 letters, digits, _:./-)", max_len=63)]


class OidcProvider(Model):
    """Sign-in for people through your identity provider (aws.eks.IdentityProviderConfig)."""

    issuer_url: Annotated[str, text(r"https://[\x21-\x7e]{1,2040}", "an https URL", max_len=2048)]
    """The issuer (its /.well-known/openid-configuration must be public)."""
    client_id: Annotated[str, text(r"[\x21-\x7e]{1,255}", "a client id (printable, no spaces)", max_len=255)]
    """The client id tokens are issued for (their aud)."""
    username_claim: Claim = "sub"
    """The claim that names the user."""
    username_prefix: Annotated[str, text(r"[\x21-\x7e]{1,255}", "a prefix")] | None = None
    """Prefix of user names (EKS default: the issuer URL and #, unless the claim is email)."""
    groups_claim: Claim | None = None
    """The claim with the user's groups (needed for groupBindings)."""
    groups_prefix: Annotated[str, text(r"[\x21-\x7e]{1,255}", "a prefix")] | None = None
    """Prefix of group names, e.g. oidc: (what RBAC subjects then carry)."""
    required_claims: dict[
        Claim, Annotated[str, text(r"[\x20-\x7e]{1,253}", "a claim value (1-253 printable characters)", max_len=253)]
    ] = {}
    """Claims every token must carry with exactly these values (at most 10)."""
    group_bindings: dict[
        Annotated[str, text(r"[\x21-\x7e]{1,255}", "a group name (printable, no spaces)")], AccessPolicy
    ] = {}
    """{group: view | edit | admin | clusterAdmin}: a ClusterRoleBinding per group to that ClusterRole."""

    @model_validator(mode="after")
    def _claims(self) -> OidcProvider:
        found = Problems()
        if (message := _issuer(self.issuer_url)) is not None:
            found.add("issuerUrl", f"{show(self.issuer_url)} {message}")
        for key in ("username_prefix", "groups_prefix"):
            value = getattr(self, key)
            if value is not None and (message := _prefix(value)) is not None:
                found.add("usernamePrefix" if key == "username_prefix" else "groupsPrefix", f"{show(value)} {message}")
        if len(self.required_claims) > 10:
            found.add("requiredClaims", f"has {len(self.required_claims)} claims; EKS allows 10")
        if self.group_bindings and self.groups_claim is None:
            found.add("groupBindings", "needs groupsClaim: without it the API server sees no groups")
        for group in sorted(self.group_bindings):
            if group.startswith("system:") and not self.groups_prefix:
                found.add(("groupBindings", group), "starts with system:, which Kubernetes reserves")
        found.check()
        return self


class IdentityProviders(Model):
    """Identity providers for people."""

    oidc: OidcProvider | None = None


PolicyArn = Annotated[str, text(POLICY_ARN, "an IAM policy ARN (arn:aws:iam::111122223333:policy/name)", max_len=2048)]


class IamConfig(Model):
    """What every IAM role the platform creates carries."""

    permissions_boundary_arn: PolicyArn | None = None
    """A permissions boundary set on every role the platform creates (nodes, add-ons, workload identities, the
    cluster, the CI runner...): what the roles may do can then never exceed it, whatever their policies say."""
