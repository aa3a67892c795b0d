"""external-dns: DNS records for Services and Ingresses, in Route 53 (default) or Cloudflare."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import names
from components.addons.base import (
    AddonContext,
    HelmAddon,
    HelmAddonArgs,
    iam_policy_json,
    service_account_values,
)
from components.addons.external_secrets import API_VERSION, dns_token_reader_name, namespace_store_manifest
from components.config import ExternalDnsConfig, PlatformConfig
from components.config.charts import ChartSpec, catalog
from components.config.tags import tagged
from components.context import AwsContext
from components.iamdocs import document
from components.identity import ServiceAccount

KEY = "externalDns"
CLOUDFLARE_SECRET = "cloudflare-api-token"
CLOUDFLARE_SECRET_KEY = "apiToken"
CLOUDFLARE_STORE = "external-dns-cloudflare"  # the ClusterSecretStore only external-dns's namespace may use


def token_reader_trust(eso_role_arn: str, namespace: str) -> str:
    """Only external-secrets' controller may assume it, only through its store and only for an ExternalSecret of
    ``namespace``: the session tags the store's sessionTagsPolicy Simple adds (external-secrets v2.9.0,
    providers/v1/aws/provider.go buildSessionTags: esoNamespace, esoStoreName, esoStoreKind)."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": eso_role_arn},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/esoNamespace": namespace,
                    "aws:RequestTag/esoStoreName": CLOUDFLARE_STORE,
                    "aws:RequestTag/esoStoreKind": "ClusterSecretStore",
                }
            },
        }
    )


def token_reader_policy(ctx: AwsContext, parameter: str, kms_key_arns: tuple[str, ...] = ()) -> str:
    """Exactly the token's parameter (and its key through SSM)."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadTheToken",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter"],
            "Resource": ctx.arn("ssm", f"parameter{parameter}"),
        }
    ]
    if kms_key_arns:
        statements.append(
            {
                "Sid": "DecryptThroughSsm",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": list(kms_key_arns),
                "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{ctx.region}.amazonaws.com"}},
            }
        )
    return document(*statements)


def record_name_patterns(domains: tuple[str, ...]) -> list[str]:
    """Names external-dns may change: each filtered domain and anything below it."""
    out: list[str] = []
    for d in domains:
        d = d.removeprefix("*.")
        out += [d, f"*.{d}"]
    return sorted(set(out))


def policy(ctx: AwsContext, cfg: ExternalDnsConfig) -> dict[str, Any]:
    """Changes only in the configured zones, only to names under the domain filters, and
    with upsert-only no DELETE at all."""
    actions = ["CREATE", "UPSERT"] + (["DELETE"] if cfg.policy == "sync" else [])
    zones = [f"arn:{ctx.partition}:route53:::hostedzone/{z}" for z in cfg.hosted_zone_ids]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ChangeRecordsInOwnZones",
                "Effect": "Allow",
                "Action": ["route53:ChangeResourceRecordSets"],
                "Resource": zones,
                "Condition": {
                    "ForAllValues:StringLike": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": record_name_patterns(
                            cfg.domain_filters
                        ),
                    },
                    "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsActions": actions},
                },
            },
            {
                "Sid": "ReadOwnZones",
                "Effect": "Allow",
                "Action": [
                    "route53:ListResourceRecordSets",
                    "route53:ListTagsForResource",
                    "route53:ListTagsForResources",
                ],
                "Resource": zones,
            },
            {"Sid": "ListZones", "Effect": "Allow", "Action": ["route53:ListHostedZones"], "Resource": "*"},
        ],
    }


def values(spec: ChartSpec, ctx: AddonContext, cfg: ExternalDnsConfig, role_arn: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "policy": cfg.policy,
        "registry": "txt",
        "txtOwnerId": ctx.cluster_name,
        "domainFilters": list(cfg.domain_filters),
        "serviceAccount": service_account_values(ServiceAccount(spec.namespace, spec.service_account), role_arn),
        **ctx.placement,
    }
    if cfg.provider == "aws":
        out["provider"] = {"name": "aws"}
        out["extraArgs"] = [f"--zone-id-filter={z}" for z in cfg.hosted_zone_ids]
        out["env"] = [{"name": "AWS_DEFAULT_REGION", "value": ctx.region}]
    else:
        out["provider"] = {"name": "cloudflare"}
        out["env"] = [
            {
                "name": "CF_API_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": CLOUDFLARE_SECRET, "key": CLOUDFLARE_SECRET_KEY}},
            }
        ]
    return out


def cloudflare_token_secret(parameter: str, namespace: str) -> dict[str, Any]:
    """ExternalSecret spec: the Cloudflare API token, synced from Parameter Store (never via Pulumi) through the store
    only external-dns's namespace may use."""
    return {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": CLOUDFLARE_STORE},
        "target": {"name": CLOUDFLARE_SECRET, "creationPolicy": "Owner"},
        "data": [{"secretKey": CLOUDFLARE_SECRET_KEY, "remoteRef": {"key": parameter}}],
    }


class ExternalDns(HelmAddon):
    TYPE = "eks-platform:addons:ExternalDns"

    def prerequisites(self, name: str, args: HelmAddonArgs) -> list[pulumi.Resource]:
        cfg: ExternalDnsConfig = args.config  # type: ignore[assignment]
        if cfg.provider != "cloudflare":
            return []
        assert isinstance(args, ExternalDnsArgs) and args.external_secrets is not None
        ctx, provider, eso = args.context, args.context.k8s_provider, args.external_secrets
        assert eso.role_arn is not None  # external-secrets always has its role (it reads Parameter Store)
        parameter = cfg.cloudflare.api_token_parameter or ""
        child = pulumi.ResourceOptions(parent=self)
        reader = aws.iam.Role(
            f"{name}-token-reader",
            name=dns_token_reader_name(ctx.cluster_name),
            **ctx.aws.boundary(),
            assume_role_policy=pulumi.Output.from_input(eso.role_arn).apply(
                lambda arn: token_reader_trust(arn, args.spec.namespace)
            ),
            description=f"external-dns's Cloudflare token in {ctx.cluster_name}, for its namespace only",
            tags=tagged(ctx.aws.tags, f"{name}-token-reader"),
            opts=child,
        )
        grant = aws.iam.RolePolicy(
            f"{name}-token-reader",
            **names.autoname(names.ROLE_POLICY, f"{name}-token-reader"),
            role=reader.id,
            policy=token_reader_policy(ctx.aws, parameter, args.kms_key_arns),
            opts=child,
        )
        store = k8s.apiextensions.CustomResource(
            f"{name}-{CLOUDFLARE_STORE}",
            api_version=API_VERSION,
            kind="ClusterSecretStore",
            metadata={"name": CLOUDFLARE_STORE, "labels": {"app.kubernetes.io/managed-by": "pulumi"}},
            spec=reader.arn.apply(
                lambda arn: namespace_store_manifest(
                    args.spec.namespace, ctx.region, arn, eso.service_account, eso.mechanism
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[eso.release, grant]),
        )
        ns = self.namespace_resource
        secret = k8s.apiextensions.CustomResource(
            f"{name}-{CLOUDFLARE_SECRET}",
            api_version=API_VERSION,
            kind="ExternalSecret",
            metadata={"name": CLOUDFLARE_SECRET, "namespace": args.spec.namespace},
            spec=cloudflare_token_secret(parameter, args.spec.namespace),
            opts=pulumi.ResourceOptions(
                parent=self, provider=provider, depends_on=[*([ns] if ns else []), store, *args.depends_on]
            ),
        )
        return [secret]


@dataclass(frozen=True)
class ExternalDnsArgs(HelmAddonArgs):
    # with Cloudflare: the external-secrets add-on, whose controller syncs the token through a store of its own
    external_secrets: HelmAddon | None = None
    kms_key_arns: tuple[str, ...] = ()  # keys of the token's parameter (addons.externalSecrets.kmsKeyArns)


def build(name: str, ctx: AddonContext, cfg: PlatformConfig, built: Mapping[str, HelmAddon]) -> ExternalDns | None:
    """With Cloudflare, external-secrets (built before it) syncs the token, through a store only external-dns's
    namespace may use, reading as a role of its own."""
    config = cfg.addons.external_dns
    if not config.enabled:
        return None
    external_secrets = built.get("externalSecrets")
    kms_key_arns = cfg.addons.external_secrets.kms_key_arns
    spec = catalog()[KEY]
    policies = {"route53": iam_policy_json(policy(ctx.aws, config))} if config.has_role else {}
    cloudflare = config.provider == "cloudflare"
    return ExternalDns(
        name,
        ExternalDnsArgs(
            spec=spec,
            config=config,
            context=ctx,
            values=lambda resolved: values(spec, ctx, config, resolved["roleArn"]),
            policies=policies,
            depends_on=[external_secrets] if cloudflare and external_secrets else [],
            external_secrets=external_secrets if cloudflare else None,
            kms_key_arns=kms_key_arns,
        ),
    )
