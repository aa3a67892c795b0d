"""Workload identity: the cluster's IAM OIDC provider and roles for service accounts (EKS Pod Identity or IRSA).

A ``ServiceAccountRole`` is made for exactly one ``ServiceAccount``; the same object feeds the role's trust
policy, the Pod Identity association and (in the add-ons) the Helm values that create the service account, so
they cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from components import names
from components.config.tags import tagged
from components.context import AwsContext

STS_AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True)
class ServiceAccount:
    namespace: str
    name: str

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"


def issuer_host_path(issuer_url: str) -> str:
    """The issuer as IAM condition keys use it: without the https:// scheme."""
    return issuer_url.removeprefix("https://")


def irsa_trust_policy(provider_arn: str, issuer_url: str, sa: ServiceAccount) -> str:
    """Only ``sa``, presenting a token for STS, may assume the role (exact sub AND aud)."""
    issuer = issuer_host_path(issuer_url)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:aud": STS_AUDIENCE,
                            f"{issuer}:sub": sa.subject,
                        },
                    },
                }
            ],
        },
        sort_keys=True,
    )


def thumbprints(root_sha1: str, extra: Sequence[str]) -> list[str]:
    """The issuer chain's root first, then any configured extras (proxies), without repeats."""
    out = [root_sha1.lower()]
    for t in extra:
        if t.lower() not in out:
            out.append(t.lower())
    return out


@dataclass(frozen=True)
class OidcProviderArgs:
    issuer_url: pulumi.Input[str]
    extra_thumbprints: tuple[str, ...] = ()
    ctx: AwsContext | None = None


class OidcProvider(pulumi.ComponentResource):
    """The IAM OIDC provider for a cluster issuer; thumbprint from the live TLS chain (pulumi-tls)."""

    arn: pulumi.Output[str]
    issuer_url: pulumi.Output[str]
    thumbprint: pulumi.Output[str]

    def __init__(self, name: str, args: OidcProviderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:identity:OidcProvider", name, None, opts)
        issuer = pulumi.Output.from_input(args.issuer_url)
        chain = tls.get_certificate_output(url=issuer, opts=pulumi.InvokeOutputOptions(parent=self))
        # pulumi-tls lists the chain root first; the root is what IAM pins (as terraform-aws-eks does).
        root = chain.certificates.apply(lambda certs: certs[0].sha1_fingerprint)
        provider = aws.iam.OpenIdConnectProvider(
            name,
            url=issuer,
            client_id_lists=[STS_AUDIENCE],
            thumbprint_lists=root.apply(lambda r: thumbprints(r, args.extra_thumbprints)),
            tags=tagged(args.ctx.tags if args.ctx else {}, name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = provider.arn
        self.issuer_url = issuer
        self.thumbprint = root
        self.register_outputs({"arn": self.arn, "issuerUrl": self.issuer_url})


POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
# The session tags EKS Pod Identity sets on every AssumeRole (EKS user guide, "Create IAM role with trust policy
# required by EKS Pod Identity"): the trust pins the role to one cluster, namespace and service account.
POD_IDENTITY_TAGS = ("eks-cluster-name", "kubernetes-namespace", "kubernetes-service-account")
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
WORKLOAD_IDENTITY_TAG = "eks-platform/workload-identity"  # on the roles of workloads.identities (guardrails)


def pod_identity_trust_policy(cluster_name: str, sa: ServiceAccount) -> str:
    """The EKS Auth service may assume the role (and tag the session) for ``sa`` in ``cluster_name`` only."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PodIdentity",
                    "Effect": "Allow",
                    "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Condition": {
                        "StringEquals": dict(
                            zip(
                                (f"aws:RequestTag/{t}" for t in POD_IDENTITY_TAGS),
                                (cluster_name, sa.namespace, sa.name),
                                strict=True,
                            )
                        )
                    },
                }
            ],
        },
        sort_keys=True,
    )


def service_account_annotations(irsa_role_arn: str | None) -> dict[str, str]:
    """What the service account carries: the role annotation with IRSA, nothing with Pod Identity (None)."""
    return {IRSA_ANNOTATION: irsa_role_arn} if irsa_role_arn else {}


@dataclass(frozen=True)
class ServiceAccountRoleArgs:
    service_account: ServiceAccount
    mechanism: str  # "podIdentity" | "irsa"
    cluster_name: str
    ctx: AwsContext
    # The cluster resource's name output: the association waits for the cluster.
    cluster: pulumi.Input[str] | None = None
    oidc_provider_arn: pulumi.Input[str] | None = None
    oidc_issuer_url: pulumi.Input[str] | None = None
    # Inline policy documents (JSON strings or Outputs of them), keyed by a stable short name.
    policies: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    managed_policy_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    description: str = ""
    # False for EKS managed add-ons: the add-on owns its association (pod_identity_associations).
    associate: bool = True
    # The logical name this role had as an IrsaRole component (so existing roles are kept, not replaced).
    formerly: str | None = None
    extra_tags: Mapping[str, str] = field(default_factory=dict)
    # What the association waits for (the service account's namespace, when the platform creates it).
    depends_on: Sequence[pulumi.Resource] = ()


class ServiceAccountRole(pulumi.ComponentResource):
    """An IAM role that exactly one Kubernetes service account may use: through EKS Pod Identity (trust in
    pods.eks.amazonaws.com pinned by session tags, plus the association) or IRSA (trust in the cluster's OIDC
    provider pinned by sub and aud)."""

    TYPE = "eks-platform:identity:ServiceAccountRole"

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    service_account: ServiceAccount
    mechanism: str
    association: aws.eks.PodIdentityAssociation | None

    def __init__(self, name: str, args: ServiceAccountRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if args.formerly:
            aliases = [pulumi.Alias(name=args.formerly, type_="eks-platform:identity:IrsaRole")]
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases))
        super().__init__(self.TYPE, name, None, opts)
        sa, self.mechanism, self.service_account = args.service_account, args.mechanism, args.service_account
        role = aws.iam.Role(
            name,
            **names.autoname(names.ROLE, name),
            **args.ctx.boundary(),
            assume_role_policy=self._trust(args),
            description=args.description or f"{sa.namespace}/{sa.name} in {args.cluster_name}",
            max_session_duration=3600,
            tags=tagged(
                args.ctx.tags, name, **{"eks-platform/service-account": f"{sa.namespace}.{sa.name}"}, **args.extra_tags
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for key in sorted(args.policies):
            aws.iam.RolePolicy(
                f"{name}-{key}",
                role=role.id,
                policy=args.policies[key],
                opts=pulumi.ResourceOptions(parent=self),
                **names.autoname(names.ROLE_POLICY, f"{name}-{key}"),
            )
        for key in sorted(args.managed_policy_arns):
            aws.iam.RolePolicyAttachment(
                f"{name}-{key}",
                role=role.name,
                policy_arn=args.managed_policy_arns[key],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.association = None
        if args.mechanism == "podIdentity" and args.associate:
            self.association = aws.eks.PodIdentityAssociation(
                name,
                cluster_name=args.cluster if args.cluster is not None else args.cluster_name,
                namespace=sa.namespace,
                service_account=sa.name,
                role_arn=role.arn,
                tags=tagged(args.ctx.tags, name),
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
            )
        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"roleArn": self.role_arn})

    @staticmethod
    def _trust(args: ServiceAccountRoleArgs) -> pulumi.Input[str]:
        sa = args.service_account
        if args.mechanism == "podIdentity":
            return pod_identity_trust_policy(args.cluster_name, sa)
        return pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer_url).apply(
            lambda v: irsa_trust_policy(v[0], v[1], sa)
        )

    @property
    def annotation_arn(self) -> pulumi.Output[str] | None:
        """The ARN for the service account's IRSA annotation (None with Pod Identity)."""
        return self.role_arn if self.mechanism == "irsa" else None

    def addon_identity(self) -> dict:
        """The ``aws.eks.Addon`` inputs that give an EKS managed add-on this role: its own Pod Identity association
        (made with ``associate=False``), or the IRSA role ARN."""
        if self.mechanism == "podIdentity":
            return {
                "pod_identity_associations": [
                    aws.eks.AddonPodIdentityAssociationArgs(
                        role_arn=self.role_arn, service_account=self.service_account.name
                    )
                ]
            }
        return {"service_account_role_arn": self.role_arn}
