"""external-secrets: syncs Parameter Store and Secrets Manager into Kubernetes Secrets.

Read access is scoped to the stack's parameter path prefix and secret name prefix; secret
values never pass through Pulumi config or Helm values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import names
from components.addons.base import (
    AddonContext,
    HelmAddon,
    HelmAddonArgs,
    iam_policy_json,
    service_account_values,
)
from components.config import ExternalSecretsConfig, PlatformConfig
from components.config.charts import ChartSpec, catalog
from components.context import AwsContext
from components.identity import ServiceAccount

KEY = "externalSecrets"
API_VERSION = "external-secrets.io/v1"
PARAMETER_STORE = "aws-parameter-store"
SECRETS_MANAGER = "aws-secrets-manager"
# A condition no namespace meets: every namespace carries kubernetes.io/metadata.name (set by the API
# server since Kubernetes 1.21). Needed because a store with no conditions serves every namespace
# (external-secrets pkg/controllers/secretstore/client_manager.go, shouldProcessSecret).
NO_NAMESPACE = {
    "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "DoesNotExist"}]}
}


def parameter_arns(ctx: AwsContext, path_prefix: str) -> list[str]:
    """The path itself (GetParametersByPath) and everything under it."""
    path = path_prefix.rstrip("/")
    return [ctx.arn("ssm", f"parameter{path}"), ctx.arn("ssm", f"parameter{path}/*")]


def policy(ctx: AwsContext, cfg: ExternalSecretsConfig, reader_role_arns: Sequence[str] = ()) -> dict[str, Any]:
    """``reader_role_arns``: roles the controller assumes for one namespace's own store (external-dns's Cloudflare
    token), with the ExternalSecret's namespace as a session tag (store sessionTagsPolicy: Simple)."""
    statements: list[dict[str, Any]] = []
    listing: list[str] = []
    if reader_role_arns:
        statements.append(
            {
                "Sid": "AssumeNamespaceReaders",
                "Effect": "Allow",
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Resource": sorted(reader_role_arns),
            }
        )
    if cfg.ssm_path_prefix:
        statements.append(
            {
                "Sid": "ReadParametersUnderPrefix",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                "Resource": parameter_arns(ctx, cfg.ssm_path_prefix),
            }
        )
        listing.append("ssm:DescribeParameters")
    if cfg.secrets_manager_prefix:
        statements.append(
            {
                "Sid": "ReadSecretsUnderPrefix",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetResourcePolicy",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:ListSecretVersionIds",
                ],
                "Resource": ctx.arn("secretsmanager", f"secret:{cfg.secrets_manager_prefix}*"),
            }
        )
        # BatchGetSecretValue still needs GetSecretValue on each secret, so it reads nothing more.
        listing += ["secretsmanager:BatchGetSecretValue", "secretsmanager:ListSecrets"]
    statements.append({"Sid": "ListMetadata", "Effect": "Allow", "Action": sorted(listing), "Resource": "*"})
    if cfg.kms_key_arns:
        services = []
        if cfg.ssm_path_prefix:
            services.append(f"ssm.{ctx.region}.amazonaws.com")
        if cfg.secrets_manager_prefix:
            services.append(f"secretsmanager.{ctx.region}.amazonaws.com")
        statements.append(
            {
                "Sid": "DecryptThroughTheSecretServices",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": list(cfg.kms_key_arns),
                "Condition": {"StringEquals": {"kms:ViaService": services}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def store_manifest(
    service: str, region: str, sa: ServiceAccount, allowed: Sequence[Mapping[str, Any]], mechanism: str = "podIdentity"
) -> dict[str, Any]:
    """The spec of a ClusterSecretStore that reads as the controller's role.

    With IRSA the store authenticates with a token of the controller's service account (``auth.jwt``); with EKS
    Pod Identity it has no ``auth`` block and uses the controller pod's own credentials (external-secrets AWS
    provider docs: without auth the SDK's default chain, where Pod Identity's container credentials are).
    """
    aws: dict[str, Any] = {"service": service, "region": region}
    if mechanism == "irsa":
        aws["auth"] = {"jwt": {"serviceAccountRef": {"name": sa.name, "namespace": sa.namespace}}}
    return {"conditions": [dict(c) for c in allowed], "provider": {"aws": aws}}


def namespace_store_manifest(
    namespace: str, region: str, role_arn: str, sa: ServiceAccount, mechanism: str = "podIdentity"
) -> dict[str, Any]:
    """The spec of a ClusterSecretStore only ``namespace`` may use, reading Parameter Store through a role of its own:
    the controller assumes it with the ExternalSecret's namespace as the session tag ``esoNamespace``
    (sessionTagsPolicy Simple, external-secrets v2.9.0 apis/externalsecrets/v1/secretstore_aws_types.go), and the
    role's trust requires that tag, so even a store misconfigured for another namespace reads nothing."""
    spec = store_manifest("ParameterStore", region, sa, [{"namespaces": [namespace]}], mechanism)
    spec["provider"]["aws"].update({"role": role_arn, "sessionTagsPolicy": "Simple"})
    return spec


def stores(cfg: ExternalSecretsConfig) -> dict[str, str]:
    """ClusterSecretStore name -> AWS service, for the sources this stack allows."""
    out = {}
    if cfg.ssm_path_prefix:
        out[PARAMETER_STORE] = "ParameterStore"
    if cfg.secrets_manager_prefix:
        out[SECRETS_MANAGER] = "SecretsManager"
    return out


def conditions(cfg: ExternalSecretsConfig) -> list[dict[str, Any]]:
    """The shared ClusterSecretStores' ``spec.conditions``: which namespaces' ExternalSecrets they serve.

    external-secrets serves a namespace when any condition matches it (a listed name or the label
    selector), so the named namespaces and the selector are two conditions. With neither, a condition nothing
    matches: secrets stay unreadable until a namespace is allowed on purpose. (The platform's own secrets, such as
    external-dns's Cloudflare token, have stores of their own: ``namespace_store_manifest``.)
    """
    out: list[dict[str, Any]] = []
    if names := sorted(set(cfg.namespaces)):
        out.append({"namespaces": names})
    if cfg.namespace_selector is not None:
        out.append({"namespaceSelector": cfg.namespace_selector.manifest()})
    return out or [NO_NAMESPACE]


def values(spec: ChartSpec, ctx: AddonContext, role_arn: str | None) -> dict[str, Any]:
    place = ctx.placement
    return {
        "installCRDs": True,
        "serviceAccount": service_account_values(ServiceAccount(spec.namespace, spec.service_account), role_arn),
        **place,
        "webhook": dict(place),
        "certController": dict(place),
    }


class ExternalSecrets(HelmAddon):
    TYPE = "eks-platform:addons:ExternalSecrets"

    def extras(self, name: str, args: HelmAddonArgs) -> None:
        cfg: ExternalSecretsConfig = args.config  # type: ignore[assignment]
        self.allowed = conditions(cfg)
        self.stores: dict[str, k8s.apiextensions.CustomResource] = {}
        for store, service in stores(cfg).items():
            self.stores[store] = k8s.apiextensions.CustomResource(
                f"{name}-{store}",
                api_version=API_VERSION,
                kind="ClusterSecretStore",
                metadata={"name": store, "labels": {"app.kubernetes.io/managed-by": "pulumi"}},
                spec=store_manifest(service, args.context.region, self.service_account, self.allowed, self.mechanism),
                # The CRDs come with the release: the stores can only exist after it.
                opts=pulumi.ResourceOptions(parent=self, provider=args.context.k8s_provider, depends_on=[self.release]),
            )


def dns_token_reader_name(cluster_name: str) -> str:
    """The role external-dns's Cloudflare token's store assumes (a fixed name: this add-on's policy names it)."""
    return names.explicit(names.ROLE, f"{cluster_name}-dns-token-reader")


def build(name: str, ctx: AddonContext, cfg: PlatformConfig, built: Mapping[str, HelmAddon]) -> ExternalSecrets | None:
    """It may assume the roles of namespace-only stores: external-dns's Cloudflare token's, read through a role only
    external-dns's namespace's store assumes."""
    config = cfg.addons.external_secrets
    if not config.enabled:
        return None
    dns = cfg.addons.external_dns
    cloudflare = dns.enabled and dns.provider == "cloudflare"
    reader_role_arns = (
        [ctx.aws.arn("iam", f"role/{dns_token_reader_name(ctx.cluster_name)}", region=False)] if cloudflare else []
    )
    spec = catalog()[KEY]
    return ExternalSecrets(
        name,
        HelmAddonArgs(
            spec=spec,
            config=config,
            context=ctx,
            values=lambda resolved: values(spec, ctx, resolved["roleArn"]),
            policies={"read-secrets": iam_policy_json(policy(ctx.aws, config, reader_role_arns))},
        ),
    )
