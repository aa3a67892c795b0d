"""Access for people: access entries with scope, the cluster-admin role a group of people may assume, and OIDC
sign-in through the company's identity provider with RBAC bindings for its groups.

Facts (EKS API reference and user guide):
* CreateAccessEntry: one entry per principal ARN (IAM role or user); AssociateAccessPolicy takes a scope of
  ``cluster`` or ``namespace`` with namespaces. The access policies are ``arn:<partition>:eks::aws:
  cluster-access-policy/AmazonEKS{ClusterAdmin,Admin,Edit,View}Policy``.
* AssociateIdentityProviderConfig: one OIDC provider per cluster, every field fixed once associated (the
  provider replaces the association on any change, so the old one must go first: ``delete_before_replace``).
  The API server sees groups as ``groupsPrefix + group``: RBAC subjects must carry the prefix.
* ``aws eks update-kubeconfig`` calls ``eks:DescribeCluster``; the token itself (``aws eks get-token``) is a
  presigned ``sts:GetCallerIdentity`` and needs no permission.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import names
from components.config.cluster import Access
from components.config.identity import ACCESS_POLICIES, CLUSTER_ROLES, AdminRole, OidcProvider
from components.config.tags import tagged
from components.context import AwsContext
from components.iamdocs import document

IDENTITY_PROVIDER_NAME = "oidc"  # one OIDC provider per cluster


@dataclass(frozen=True)
class EntrySpec:
    principal_arn: pulumi.Input[str]
    policy: str | None  # a key of ACCESS_POLICIES
    namespaces: tuple[str, ...] = ()
    kubernetes_groups: tuple[str, ...] = ()


def policy_arn(partition: str, policy: str) -> str:
    return f"arn:{partition}:eks::aws:cluster-access-policy/{ACCESS_POLICIES[policy]}"


def role_key(arn: str) -> str:
    """A readable resource-name suffix for a role ARN: its path and name (not unique across accounts)."""
    return arn.split(":role/", 1)[1].replace("/", "-")


def entry_suffixes(kinds_and_arns: list[tuple[str, str]]) -> dict[str, str]:
    """``{principal ARN: resource-name suffix}`` of the shorthand lists: ``<kind>-<role path and name>``, plus a
    digest of the full ARN where two principals would otherwise share a suffix (same role name in another account
    or path)."""
    plain = {arn: f"{kind}-{role_key(arn)}" for kind, arn in kinds_and_arns}
    counts: dict[str, int] = {}
    for suffix in plain.values():
        counts[suffix] = counts.get(suffix, 0) + 1
    return {
        arn: suffix if counts[suffix] == 1 else f"{suffix}-{hashlib.sha256(arn.encode()).hexdigest()[:8]}"
        for arn, suffix in plain.items()
    }


def access_entries(access: Access) -> dict[str, EntrySpec]:
    """``{resource-name suffix: entry}``: the shorthands (``admin-<role>``, ``view-<role>``, names kept from
    before entries existed) and the entries (``access-<key>``: from the map key, so never colliding)."""
    principals = [("admin", arn) for arn in access.admin_role_arns]
    principals += [("view", arn) for arn in access.read_only_role_arns]
    names = entry_suffixes(principals)
    out = {names[arn]: EntrySpec(arn, "clusterAdmin" if kind == "admin" else "view") for kind, arn in principals}
    for key, e in access.entries.items():
        out[f"access-{key}"] = EntrySpec(
            e.principal_arn, e.policy, tuple(sorted(e.namespaces)), tuple(sorted(e.kubernetes_groups))
        )
    return dict(sorted(out.items()))


# What the config asked for, on the entry (and the people's admin role): the guardrail access-policy-as-declared
# compares the associated policy with it.
ACCESS_POLICY_TAG = "eks-platform/access-policy"
ACCESS_SCOPE_TAG = "eks-platform/access-scope"


def entry_tags(spec: EntrySpec) -> dict[str, str]:
    return {ACCESS_POLICY_TAG: spec.policy or "none", ACCESS_SCOPE_TAG: "namespace" if spec.namespaces else "cluster"}


def access_scope(spec: EntrySpec) -> dict:
    return {"type": "namespace", "namespaces": list(spec.namespaces)} if spec.namespaces else {"type": "cluster"}


def add_access_entry(
    name: str, spec: EntrySpec, cluster_name: pulumi.Input[str], ctx: AwsContext, parent: pulumi.Resource
) -> aws.eks.AccessEntry:
    """An access entry and (with a policy) its policy association."""
    entry = aws.eks.AccessEntry(
        name,
        cluster_name=cluster_name,
        principal_arn=spec.principal_arn,
        type="STANDARD",
        kubernetes_groups=list(spec.kubernetes_groups) or None,
        tags=tagged(ctx.tags, name, **entry_tags(spec)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    if spec.policy is not None:
        aws.eks.AccessPolicyAssociation(
            name,
            cluster_name=cluster_name,
            principal_arn=entry.principal_arn,
            policy_arn=policy_arn(ctx.partition, spec.policy),
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(**access_scope(spec)),
            # keyed by (principal, policy): a replacement created first would be undone by the old one's delete
            # (DisassociateAccessPolicy), so the old goes first
            opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True),
        )
    return entry


# -- the admin role for people -------------------------------------------------------------
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def admin_trust_policy(principals: Iterable[str], require_mfa: bool) -> str:
    """Who may assume the people's admin role: the given principals (account roots delegate to IAM policies),
    only with MFA when asked."""
    statement: dict = {
        "Sid": "People",
        "Effect": "Allow",
        "Principal": {"AWS": sorted(set(principals))},
        "Action": "sts:AssumeRole",
    }
    if require_mfa:
        statement["Condition"] = MFA
    return document(statement)


def assume_admin_policy(role_arn: str, require_mfa: bool) -> str:
    """The IAM group's policy: its members may assume the role (and nothing else)."""
    statement: dict = {"Sid": "AssumeClusterAdmin", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}
    if require_mfa:
        statement["Condition"] = MFA
    return document(statement)


def admin_role_name(cluster_name: str) -> str:
    return names.explicit(names.ROLE, f"{cluster_name}-cluster-admin")


@dataclass(frozen=True)
class AdminRoleArgs:
    config: AdminRole
    cluster_name: str
    cluster: pulumi.Input[str]  # the cluster resource's name output
    ctx: AwsContext


class PeopleAdminRole(pulumi.ComponentResource):
    """A named role people assume to administer the cluster, the IAM group allowed to assume it, and the role's
    clusterAdmin access entry."""

    TYPE = "eks-platform:access:AdminRole"

    role_arn: pulumi.Output[str]
    group_name: pulumi.Output[str]

    def __init__(self, name: str, args: AdminRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        cfg, ctx, c = args.config, args.ctx, args.cluster_name
        trusted = cfg.trusted_principal_arns or (f"arn:{ctx.partition}:iam::{ctx.account_id}:root",)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            name,
            name=admin_role_name(c),
            assume_role_policy=admin_trust_policy(trusted, cfg.require_mfa),
            description=f"Administrators of the EKS cluster {c} (access entry: AmazonEKSClusterAdminPolicy)",
            max_session_duration=3600,
            tags=tagged(ctx.tags, name, **{ACCESS_POLICY_TAG: "clusterAdmin"}),
            opts=child,
            **ctx.boundary(),
        )
        aws.iam.RolePolicy(
            f"{name}-describe-cluster",
            role=role.id,
            **names.autoname(names.ROLE_POLICY, f"{name}-describe-cluster"),
            policy=document(
                {
                    "Effect": "Allow",
                    "Action": "eks:DescribeCluster",
                    "Resource": f"arn:{ctx.partition}:eks:{ctx.region}:{ctx.account_id}:cluster/{c}",
                }
            ),
            opts=child,
        )
        group = aws.iam.Group(
            name, name=cfg.group_name or names.explicit(names.IAM_GROUP, f"{c}-cluster-admins"), path="/", opts=child
        )
        aws.iam.GroupPolicy(
            f"{name}-assume",
            group=group.name,
            **names.autoname(names.GROUP_POLICY, f"{name}-assume"),
            policy=role.arn.apply(lambda arn: assume_admin_policy(arn, cfg.require_mfa)),
            opts=child,
        )
        add_access_entry(f"{name}-access", EntrySpec(role.arn, "clusterAdmin"), args.cluster, ctx, self)
        self.role_arn = role.arn
        self.group_name = group.name
        self.register_outputs({"roleArn": self.role_arn, "groupName": self.group_name})


# -- OIDC sign-in ---------------------------------------------------------------------------
def binding_name(group: str, role: str) -> str:
    """The ClusterRoleBinding's name: readable, a valid object name (no / or %), unique per group (a digest where
    the group had to change or is long)."""
    safe = re.sub(r"[^A-Za-z0-9._:-]", "-", group)
    base = f"eks-platform:oidc:{CLUSTER_ROLES[role]}:{safe[:180]}"
    if safe != group or len(safe) > 180:
        base += "-" + hashlib.sha256(group.encode()).hexdigest()[:8]
    return base


def group_bindings(oidc: OidcProvider) -> dict[str, dict]:
    """``{group: ClusterRoleBinding}``: each mapped group, as the API server sees it (with groupsPrefix), bound to
    the ClusterRole of its access level."""
    prefix = oidc.groups_prefix or ""
    return {
        group: {
            "metadata": {"name": binding_name(group, role), "labels": {"app.kubernetes.io/managed-by": "eks-platform"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CLUSTER_ROLES[role]},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": prefix + group}],
        }
        for group, role in sorted(oidc.group_bindings.items())
    }


def oidc_config(oidc: OidcProvider) -> dict:
    """The IdentityProviderConfig's oidc block (unset optional fields left out: EKS defaults apply)."""
    out = {
        "identity_provider_config_name": IDENTITY_PROVIDER_NAME,
        "issuer_url": oidc.issuer_url,
        "client_id": oidc.client_id,
        "username_claim": oidc.username_claim,
        "username_prefix": oidc.username_prefix,
        "groups_claim": oidc.groups_claim,
        "groups_prefix": oidc.groups_prefix,
        "required_claims": dict(sorted(oidc.required_claims.items())) or None,
    }
    return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class OidcSignInArgs:
    config: OidcProvider
    cluster: pulumi.Input[str]
    k8s_provider: k8s.Provider
    ctx: AwsContext


class OidcSignIn(pulumi.ComponentResource):
    """The cluster's OIDC identity provider for people, and RBAC bindings for the mapped groups."""

    TYPE = "eks-platform:access:OidcSignIn"

    def __init__(self, name: str, args: OidcSignInArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self.provider_config = aws.eks.IdentityProviderConfig(
            name,
            cluster_name=args.cluster,
            oidc=aws.eks.IdentityProviderConfigOidcArgs(**oidc_config(args.config)),
            tags=tagged(args.ctx.tags, name),
            # one OIDC provider per cluster: a changed one must replace the old, not sit beside it
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.bindings: Mapping[str, k8s.rbac.v1.ClusterRoleBinding] = {
            group: k8s.rbac.v1.ClusterRoleBinding(
                f"{name}-{hashlib.sha256(group.encode()).hexdigest()[:10]}",
                metadata=b["metadata"],
                role_ref=b["roleRef"],
                subjects=b["subjects"],
                opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider),
            )
            for group, b in group_bindings(args.config).items()
        }
        self.register_outputs({"identityProviderConfig": IDENTITY_PROVIDER_NAME, "groups": sorted(self.bindings)})
