"""Typed, validated stack config: pydantic models, read once by ``__main__.py``.

``raw_from_runtime`` reads the project's keys from the Pulumi runtime (objects arrive as JSON
text); ``load`` validates them section by section — so a problem in one section never hides
another's — then runs the checks that span sections, and returns a frozen ``PlatformConfig``.
Every problem is one ``key.path: message`` line; all of them are raised together as one
``ConfigError`` (a ``pulumi.RunError``: no traceback) before any resource is registered.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError

from components.config.addons import (
    AddonConfig,
    AddonsConfig,
    ExternalDnsConfig,
    ExternalSecretsConfig,
    HelmAddonConfig,
    NodeTerminationHandlerConfig,
)
from components.config.base import show
from components.config.checks import (
    CLOUDWATCH_ADDON,
    CLOUDWATCH_SERVICE_ACCOUNT,
    addon_namespaces,
    cross_checks,
    platform_namespaces,
    service_account_roles,
)
from components.config.cluster import SUPPORTED_KUBERNETES_VERSIONS, AccessHostConfig, ClusterConfig
from components.config.delivery import DeliveryConfig, RunnerConfig
from components.config.errors import ConfigError, lines
from components.config.network import ExistingVpc, NetworkConfig
from components.config.nodegroups import (
    GROUP_LABEL,
    AsgGroup,
    FargateGroup,
    IngressRule,
    KarpenterGroup,
    ManagedGroup,
    NodeClass,
    SelfManagedGroup,
    Taint,
    asg_groups,
    named,
)
from components.config.observability import ObservabilityConfig
from components.config.platform import PROJECT, PlatformConfig, Sections
from components.config.runtime import flatten_runtime
from components.config.workloads import LoadBalancer, WorkloadsConfig

NodeGroupConfig = AsgGroup  # what the components take: a managed or self-managed group

__all__ = [
    "CLOUDWATCH_ADDON",
    "CLOUDWATCH_SERVICE_ACCOUNT",
    "GROUP_LABEL",
    "PROJECT",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "AccessHostConfig",
    "AddonConfig",
    "AddonsConfig",
    "AsgGroup",
    "ClusterConfig",
    "ConfigError",
    "DeliveryConfig",
    "ExistingVpc",
    "ExternalDnsConfig",
    "ExternalSecretsConfig",
    "HelmAddonConfig",
    "IngressRule",
    "KarpenterGroup",
    "LoadBalancer",
    "ManagedGroup",
    "NetworkConfig",
    "NodeClass",
    "NodeGroupConfig",
    "NodeTerminationHandlerConfig",
    "ObservabilityConfig",
    "PlatformConfig",
    "RunnerConfig",
    "Sections",
    "SelfManagedGroup",
    "Taint",
    "WorkloadsConfig",
    "addon_namespaces",
    "check_zones",
    "cross_checks",
    "load",
    "platform_namespaces",
    "raw_from_runtime",
    "region_problem",
    "service_account_roles",
]


_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(cast(Any, info.annotation)) for name, info in Sections.model_fields.items()
}
_ALIASES = {info.alias or name: name for name, info in Sections.model_fields.items()}


# ---------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------
def raw_from_runtime(project: str = PROJECT) -> tuple[dict[str, Any], str | None]:
    """All ``<project>:*`` keys, read strictly from the JSON Pulumi hands over, and ``aws:region``."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    # every key, so that a misspelled namespace is refused rather than silently left out
    values = {k: runtime_config.get_config(k) for k in sorted(keys)}
    return flatten_runtime(values, project), runtime_config.get_config("aws:region")


def region_problem(region: str | None) -> str | None:
    if not region:
        return "aws:region: is required (pulumi config set aws:region eu-west-1)"
    from pulumi_aws import Region

    known = [r.value for r in Region]
    if region not in known:
        hint = difflib.get_close_matches(region, known, n=1)
        return f"aws:region: {show(region)} is not a region pulumi-aws knows" + (
            f' (did you mean "{hint[0]}"?)' if hint else ""
        )
    return None


def load(raw: Mapping[str, Any], *, stack: str, region: str | None, project: str = PROJECT) -> PlatformConfig:
    """Validate the whole stack config; raise ConfigError with every problem."""
    problems: list[str] = []
    if (message := region_problem(region)) is not None:
        problems.append(message)
    for key in sorted(set(raw) - set(_ALIASES)):
        hint = difflib.get_close_matches(key, sorted(_ALIASES), n=1)
        problems.append(
            f"{key}: unknown key"
            + (f' (did you mean "{hint[0]}"?)' if hint else f" (allowed: {', '.join(sorted(_ALIASES))})")
        )
    values: dict[str, Any] = {}
    for alias, name in _ALIASES.items():
        value = {} if raw.get(alias) is None else raw[alias]
        if alias == "cluster" and isinstance(value, dict) and "name" not in value:
            value = {**value, "name": f"{project}-{stack}"}
        try:
            values[name] = _ADAPTERS[name].validate_json(json.dumps(value), strict=True)
        except ValidationError as err:
            problems += lines(err, Sections.model_fields[name].annotation, (alias,))
    problems += cross_checks(values, project, stack, region or "", lambda: _assemble(values, project, stack, ""))
    if problems:
        raise ConfigError(problems)
    return _assemble(values, project, stack, region or "")


def _assemble(values: Mapping[str, Any], project: str, stack: str, region: str) -> PlatformConfig:
    """The config from its validated sections (not validated again): node groups named and split by backend,
    defaults that depend on other sections resolved. Cross-section checks assemble it before every section is
    valid: a section that failed is None then, and those checks do not read it."""
    groups = named(dict(values["node_groups"]))
    addons = _resolved_addons(values["addons"], groups)
    fields: dict[str, Any] = {
        "project": project,
        "stack": stack,
        "region": region,
        "tags": dict(sorted((values.get("tags") or {}).items())),
        "network": values.get("network"),
        "cluster": _resolved_cluster(values["cluster"], addons.identity),
        "node_groups": asg_groups(groups),
        "addons": addons,
        "delivery": values.get("delivery"),
        "iam": values.get("iam"),
        "workloads": values.get("workloads"),
        "observability": _resolved_observability(values.get("observability"), addons.identity),
        "karpenter_pools": {k: g for k, g in groups.items() if isinstance(g, KarpenterGroup)},
        "fargate_profiles": {k: g for k, g in groups.items() if isinstance(g, FargateGroup)},
    }
    return PlatformConfig.model_construct(**fields)


def _resolved_addons(addons: AddonsConfig, groups: Mapping[str, NodeClass | FargateGroup]) -> AddonsConfig:
    """Defaults that depend on the node groups, and each add-on's identity mechanism (addons.identity unless it
    sets its own)."""
    has_self_managed = any(isinstance(g, SelfManagedGroup) for g in groups.values())
    karpenter = addons.karpenter.enabled_setting
    update: dict[str, Any] = {
        field: getattr(addons, field).model_copy(
            update={"identity": getattr(addons, field).identity or addons.identity}
        )
        for field in AddonsConfig.model_fields
        if isinstance(getattr(addons, field), HelmAddonConfig)
    }
    update["node_termination_handler"] = update["node_termination_handler"].model_copy(
        update={"enabled": has_self_managed}
    )
    update["karpenter"] = update["karpenter"].model_copy(
        update={
            "enabled_setting": karpenter
            if karpenter is not None
            else any(isinstance(g, KarpenterGroup) for g in groups.values())
        }
    )
    system = addons.system_node_group or ("system" if "system" in groups else None)
    return addons.model_copy(update={"system_node_group": system, **update})


def _resolved_observability(obs: ObservabilityConfig | None, default: str) -> ObservabilityConfig | None:
    """The agent's identity follows addons.identity unless it sets its own."""
    if obs is None:
        return None
    insights = obs.container_insights
    return obs.model_copy(
        update={"container_insights": insights.model_copy(update={"identity": insights.identity or default})}
    )


def _resolved_cluster(cluster: ClusterConfig, default: str) -> ClusterConfig:
    """The EKS managed add-ons with a role follow addons.identity unless they set their own."""
    managed = cluster.addons
    resolved = managed.model_copy(
        update={
            key: getattr(managed, key).model_copy(update={"identity": getattr(managed, key).identity or default})
            for key in ("vpc_cni", "ebs_csi")
        }
    )
    return cluster.model_copy(update={"addons": resolved})


# ---------------------------------------------------------------------------------------
# zones (the one check that needs the cloud: runs before any resource is registered)
# ---------------------------------------------------------------------------------------
# Zones where EKS cannot place control-plane ENIs (EKS user guide: UnsupportedAvailabilityZoneException).
EKS_UNSUPPORTED_ZONE_IDS = frozenset({"use1-az3", "usw1-az2", "cac1-az3"})


def check_zones(
    network: NetworkConfig, offered: tuple[str, ...], region: str, zone_ids: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The zones to use, given the zones the region offers (and their ids); ConfigError when they don't fit."""
    if network.existing is not None:
        return ()
    ids = dict(zip(offered, zone_ids, strict=False))
    unsupported = {z for z in offered if ids.get(z) in EKS_UNSUPPORTED_ZONE_IDS}
    usable = tuple(z for z in offered if z not in unsupported)
    if network.zone_names:
        unknown = [z for z in network.zone_names if z not in offered]
        if unknown:
            raise ConfigError([f"network.zoneNames: {show(unknown)} not offered in {region} ({', '.join(offered)})"])
        refused = [z for z in network.zone_names if z in unsupported]
        if refused:
            raise ConfigError(
                [
                    f"network.zoneNames: {show(refused)} ({', '.join(ids[z] for z in refused)}) cannot "
                    f"host EKS control planes; use {', '.join(usable)}"
                ]
            )
        return tuple(network.zone_names)
    if network.zone_count > len(usable):
        skipped = f" (EKS cannot use {', '.join(sorted(unsupported))})" if unsupported else ""
        raise ConfigError(
            [
                f"network.availabilityZones: {network.zone_count} is more than the "
                f"{len(usable)} zones {region} offers{skipped} ({', '.join(usable)})"
            ]
        )
    return usable[: network.zone_count]


def tunnel_port(value: str | None) -> int | None:
    """EKS_PLATFORM_API_TUNNEL_PORT: a local port (1024-65535), or unset."""
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or not 1024 <= int(value) <= 65535:
        raise ConfigError([f"EKS_PLATFORM_API_TUNNEL_PORT: {show(value)} is not a local port (1024-65535)"])
    return int(value)


def dumps(value: Any) -> str:
    """JSON as the engine would pass it (tests and tools use it to build flat config)."""
    return json.dumps(value, sort_keys=True)
