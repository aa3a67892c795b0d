"""external-dns: DNS records for Services and Ingresses, in Route 53 (default) or Cloudflare."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.addons.base import (
    AddonContext,
    HelmAddon,
    HelmAddonArgs,
    iam_policy_json,
    service_account_values,
)
from components.addons.catalog import ChartSpec, catalog
from components.addons.external_secrets import API_VERSION, PARAMETER_STORE
from components.config import ExternalDnsConfig
from components.context import AwsContext
from components.identity import ServiceAccount

KEY = "externalDns"
CLOUDFLARE_SECRET = "cloudflare-api-token"
CLOUDFLARE_SECRET_KEY = "apiToken"


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
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": record_name_patterns(cfg.domain_filters),
                    },
                    "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsActions": actions},
                },
            },
            {
                "Sid": "ReadOwnZones",
                "Effect": "Allow",
                "Action": ["route53:ListResourceRecordSets", "route53:ListTagsForResource",
                           "route53:ListTagsForResources"],
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
        out["env"] = [{"name": "CF_API_TOKEN", "valueFrom": {
            "secretKeyRef": {"name": CLOUDFLARE_SECRET, "key": CLOUDFLARE_SECRET_KEY}}}]
    return out


def cloudflare_token_secret(parameter: str, namespace: str) -> dict[str, Any]:
    """ExternalSecret spec: the Cloudflare API token, synced from Parameter Store (never via Pulumi)."""
    return {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": PARAMETER_STORE},
        "target": {"name": CLOUDFLARE_SECRET, "creationPolicy": "Owner"},
        "data": [{"secretKey": CLOUDFLARE_SECRET_KEY, "remoteRef": {"key": parameter}}],
    }


class ExternalDns(HelmAddon):
    TYPE = "eks-platform:addons:ExternalDns"

    def prerequisites(self, name: str, args: HelmAddonArgs) -> list[pulumi.Resource]:
        cfg: ExternalDnsConfig = args.config  # type: ignore[assignment]
        if cfg.provider != "cloudflare":
            return []
        provider = args.context.k8s_provider
        ns = self.namespace_resource
        secret = k8s.apiextensions.CustomResource(
            f"{name}-{CLOUDFLARE_SECRET}",
            api_version=API_VERSION,
            kind="ExternalSecret",
            metadata={"name": CLOUDFLARE_SECRET, "namespace": args.spec.namespace},
            spec=cloudflare_token_secret(cfg.cloudflare.api_token_parameter or "", args.spec.namespace),
            opts=pulumi.ResourceOptions(parent=self, provider=provider,
                                        depends_on=[*([ns] if ns else []), *args.depends_on]),
        )
        return [secret]


def build(name: str, ctx: AddonContext, config: ExternalDnsConfig, after: list[pulumi.Resource]) -> ExternalDns:
    """``after``: with Cloudflare, the external-secrets add-on (its ClusterSecretStore syncs the token)."""
    spec = catalog()[KEY]
    policies = {"route53": iam_policy_json(policy(ctx.aws, config))} if config.has_role else {}
    return ExternalDns(name, HelmAddonArgs(
        spec=spec, config=config, context=ctx,
        values=lambda resolved: values(spec, ctx, config, resolved["roleArn"]),
        policies=policies,
        depends_on=after if config.provider == "cloudflare" else [],
    ))
