"""``eks-platform:addons``: the Helm add-ons (chart versions live in platform/addons.yaml)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import (
    DNS_LABEL,
    DOMAIN,
    HOSTED_ZONE_ID,
    HOSTED_ZONE_ID_WHAT,
    KMS_KEY_ARN,
    KMS_KEY_ARN_WHAT,
    Model,
    Problems,
    checked,
    items,
    matches,
    problem,
    show,
)
from components.config.identity import Mechanism
from components.config.kube import LabelSelector
from components.config.nodegroups import GroupName

# Parameter Store names: letters, digits and .-_/ (SSM PutParameter), a path ends with "/".
_SSM_PATH = r"(/[A-Za-z0-9_.-]+)+/"
# Secrets Manager names: letters, digits and /_+=.@- (CreateSecret); no wildcards.
_SM_PREFIX = r"[A-Za-z0-9/_+=.@-]+"


def _ssm_path(value: str) -> str:
    if not re.fullmatch(_SSM_PATH, value):
        raise problem(f'{show(value)} must be a Parameter Store path like "/prod/" (not "/" alone)')
    return value


def _sm_prefix(value: str) -> str:
    if not re.fullmatch(_SM_PREFIX, value) or value == "/":
        raise problem(f'{show(value)} must be a secret name prefix like "prod/" (no wildcards)')
    return value


class HelmAddonConfig(Model):
    """What every Helm add-on has: its identity mechanism and value overrides."""

    @property
    def has_role(self) -> bool:
        """Whether the add-on calls AWS APIs, so gets an AWS role for its service account."""
        return True

    identity: Mechanism | None = None
    """How its service account gets the add-on's role: podIdentity or irsa. Default: addons.identity."""
    values: dict[str, Any] = {}
    """Helm value overrides, deep-merged last."""


class AddonConfig(HelmAddonConfig):
    enabled: bool = True
    """Install it."""


class ExternalSecretsConfig(HelmAddonConfig):
    """external-secrets: Parameter Store and Secrets Manager into Kubernetes Secrets."""

    enabled_setting: bool | None = Field(None, alias="enabled")
    """Install it (needs a prefix: never access to every secret). Default: true when a prefix is set."""
    ssm_path_prefix: Annotated[str, checked(_ssm_path)] | None = None
    """e.g. /prod/: read access under it and an aws-parameter-store ClusterSecretStore."""
    secrets_manager_prefix: Annotated[str, checked(_sm_prefix)] | None = None
    """e.g. prod/: read access to secrets so named and an aws-secrets-manager ClusterSecretStore."""
    kms_key_arns: Annotated[tuple[str, ...], items(matches(KMS_KEY_ARN, KMS_KEY_ARN_WHAT), "key")] = ()
    """Customer-managed keys of those secrets (kms:Decrypt via the services only)."""
    namespaces: Annotated[tuple[str, ...], items(matches(DNS_LABEL, "a namespace name (DNS label)"), "namespace")] = ()
    """Namespaces whose ExternalSecrets may use the stores (the ClusterSecretStores' conditions)."""
    namespace_selector: LabelSelector | None = None
    """...and/or namespaces carrying these labels. With neither, no namespace may read (except the platform's own)."""

    @property
    def enabled(self) -> bool:
        if self.enabled_setting is not None:
            return self.enabled_setting
        return self.ssm_path_prefix is not None or self.secrets_manager_prefix is not None

    @model_validator(mode="after")
    def _scoped(self) -> ExternalSecretsConfig:
        if self.enabled and self.ssm_path_prefix is None and self.secrets_manager_prefix is None:
            found = Problems()
            found.add(
                "enabled",
                "needs ssmPathPrefix and/or secretsManagerPrefix: external-secrets is never given "
                "access to every secret",
            )
            found.check()
        return self


def _parameter_name(value: str) -> str:
    if not re.fullmatch(r"(/[A-Za-z0-9_.-]+)+", value):
        raise problem(f"{show(value)} is not a Parameter Store name (/path/to/parameter)")
    return value


class CloudflareConfig(Model):
    """Cloudflare settings."""

    api_token_parameter: Annotated[str, checked(_parameter_name)] | None = None
    """Parameter Store name of the API token, under externalSecrets.ssmPathPrefix; synced by an ExternalSecret."""


class ExternalDnsConfig(HelmAddonConfig):
    """external-dns: DNS records for Services and Ingresses."""

    enabled_setting: bool | None = Field(None, alias="enabled")
    """Install it. Default: true when domains or zones are set."""
    provider: Literal["aws", "cloudflare"] = "aws"
    """Route 53 or Cloudflare."""
    domain_filters: Annotated[
        tuple[str, ...], items(lambda v: None if re.fullmatch(DOMAIN, v.lower()) else "is not a DNS domain", "domain")
    ] = ()
    """Record changes are limited to these domains (IAM condition too); required when enabled."""
    hosted_zone_ids: Annotated[tuple[str, ...], items(matches(HOSTED_ZONE_ID, HOSTED_ZONE_ID_WHAT), "zone")] = ()
    """IAM is scoped to these zones (required with aws)."""
    policy: Literal["upsert-only", "sync"] = "upsert-only"
    """sync also deletes records (and only then gets DELETE)."""
    cloudflare: CloudflareConfig = CloudflareConfig()

    @property
    def enabled(self) -> bool:
        if self.enabled_setting is not None:
            return self.enabled_setting
        return bool(self.domain_filters or self.hosted_zone_ids)

    @property
    def has_role(self) -> bool:
        """Route 53 only: Cloudflare is reached with an API token, not AWS credentials."""
        return self.provider == "aws"

    @field_validator("domain_filters")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.lower() for v in value)

    @model_validator(mode="after")
    def _provider(self) -> ExternalDnsConfig:
        found = Problems()
        if self.enabled and not self.domain_filters:
            found.add("domainFilters", "is required when external-dns is enabled (it must not manage every zone)")
        if self.enabled and self.provider == "aws" and not self.hosted_zone_ids:
            found.add("hostedZoneIds", "is required with provider aws: the IAM policy is scoped to these zones")
        if self.enabled and self.provider == "cloudflare":
            if self.cloudflare.api_token_parameter is None:
                found.add(
                    ("cloudflare", "apiTokenParameter"), "is required with provider cloudflare (a Parameter Store name)"
                )
            if self.hosted_zone_ids:
                found.add("hostedZoneIds", "is for provider aws (Route 53)")
        found.check()
        return self


class NodeTerminationHandlerConfig(HelmAddonConfig):
    """aws-node-termination-handler (queue mode)."""

    enabled: bool | None = None
    """Cannot be off while self-managed groups (with their lifecycle hook) exist. Default: true with self-managed
    groups."""


class KarpenterConfig(HelmAddonConfig):
    """The Karpenter controller (provisions the karpenter node groups)."""

    enabled_setting: bool | None = Field(None, alias="enabled")
    """Install it. Default: true when a karpenter node group exists."""
    node_repair: bool = True
    """Karpenter's node repair (settings.featureGates.nodeRepair, alpha in v1.14.1): it replaces a node whose
    conditions stay unhealthy, as the node monitoring agent reports them (cluster.addons.nodeMonitoringAgent)."""

    @property
    def enabled(self) -> bool:
        return bool(self.enabled_setting)


class AddonsConfig(Model):
    """Helm add-ons, each on the system node group."""

    identity: Mechanism = "podIdentity"
    """How add-ons (Helm and EKS managed) get their AWS roles. podIdentity: the role trusts pods.eks.amazonaws.com
    and an EKS Pod Identity association names the service account (needs cluster.addons.podIdentityAgent); irsa:
    the role trusts the cluster's OIDC provider and the service account carries eks.amazonaws.com/role-arn. Each
    add-on may override it (its identity key)."""
    system_node_group: GroupName | None = None
    """The group whose label and taints place every add-on. Default: `system` if that group exists."""
    cluster_autoscaler: AddonConfig = AddonConfig()
    """cluster-autoscaler."""
    aws_load_balancer_controller: AddonConfig = AddonConfig()
    """AWS Load Balancer Controller."""
    external_secrets: ExternalSecretsConfig = ExternalSecretsConfig()
    external_dns: ExternalDnsConfig = ExternalDnsConfig()
    node_termination_handler: NodeTerminationHandlerConfig = NodeTerminationHandlerConfig()
    karpenter: KarpenterConfig = KarpenterConfig()

    @property
    def load_balancer_controller(self) -> AddonConfig:
        return self.aws_load_balancer_controller

    @model_validator(mode="after")
    def _cloudflare_token(self) -> AddonsConfig:
        es, ed = self.external_secrets, self.external_dns
        token = ed.cloudflare.api_token_parameter
        if not (ed.enabled and ed.provider == "cloudflare" and token):
            return self
        found = Problems()
        where = ("externalDns", "cloudflare", "apiTokenParameter")
        if not es.enabled:
            found.add(where, "needs addons.externalSecrets to sync the token")
        elif es.ssm_path_prefix and token.startswith(es.ssm_path_prefix):
            found.add(
                where,
                f"{show(token)} is under addons.externalSecrets.ssmPathPrefix {show(es.ssm_path_prefix)}, "
                "which every namespace the shared stores serve can read; keep it outside (external-dns's "
                "namespace reads it through a store and role of its own)",
            )
        found.check()
        return self
