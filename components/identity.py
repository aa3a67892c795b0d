"""Workload identity: the cluster's IAM OIDC provider and IRSA roles.

An ``IrsaRole`` is made for exactly one ``ServiceAccount``; the same object feeds the
role's trust policy and (in the add-ons) the Helm values that create the service
account, so the two cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from components.context import AwsContext
from components.tags import tagged

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
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer}:aud": STS_AUDIENCE,
                    f"{issuer}:sub": sa.subject,
                },
            },
        }],
    }, sort_keys=True)


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


@dataclass(frozen=True)
class IrsaRoleArgs:
    service_account: ServiceAccount
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer_url: pulumi.Input[str]
    ctx: AwsContext
    # Inline policy documents (JSON strings or Outputs of them), keyed by a stable short name.
    policies: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    managed_policy_arns: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


class IrsaRole(pulumi.ComponentResource):
    """An IAM role that exactly one Kubernetes service account may assume through IRSA."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    service_account: ServiceAccount

    def __init__(self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:identity:IrsaRole", name, None, opts)
        sa = args.service_account
        trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer_url).apply(
            lambda v: irsa_trust_policy(v[0], v[1], sa)
        )
        role = aws.iam.Role(
            name,
            assume_role_policy=trust,
            description=args.description or f"IRSA role for {sa.namespace}/{sa.name}",
            max_session_duration=3600,
            tags=tagged(args.ctx.tags, name, **{"eks-platform/service-account": f"{sa.namespace}.{sa.name}"}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for key in sorted(args.policies):
            aws.iam.RolePolicy(
                f"{name}-{key}", role=role.id, policy=args.policies[key], opts=pulumi.ResourceOptions(parent=self)
            )
        for key in sorted(args.managed_policy_arns):
            aws.iam.RolePolicyAttachment(
                f"{name}-{key}", role=role.name, policy_arn=args.managed_policy_arns[key],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.service_account = sa
        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"roleArn": self.role_arn})
