"""The checks that span sections: a table of the sections each reads, each run only when those sections are valid
(so a problem in one section never hides another's, and no check reads a section that failed).

``cross_checks`` is called by ``components.config.load`` with the sections it validated; the checks that read the
whole assembled config get it from ``assembled``.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from pydantic.alias_generators import to_snake

from components.config import charts, eksaddons, nodeimages, nodetags
from components.config import tags as tagging
from components.config.addons import (
    AddonsConfig,
)
from components.config.base import show
from components.config.cluster import ClusterConfig
from components.config.delivery import DeliveryConfig
from components.config.kube import SYSTEM_NAMESPACES, NamespaceConfig
from components.config.network import SSM_ENDPOINTS, NetworkConfig
from components.config.nodegroups import (
    FARGATE_MAX_PROFILES,
    FargateGroup,
    KarpenterGroup,
    NodeClass,
    SelfManagedGroup,
    asg_groups,
)
from components.config.observability import ObservabilityConfig
from components.config.platform import PlatformConfig
from components.config.workloads import WorkloadsConfig


def service_account_roles(cfg: PlatformConfig) -> dict[tuple[str, str], tuple[str, str | None]]:
    """``{(namespace, service account): (config path, mechanism)}`` of every service account of the platform (add-ons,
    EKS managed add-ons) of an assembled config, enabled ones only; mechanism None where it has no AWS role."""

    managed = cfg.cluster.addons
    out: dict[tuple[str, str], tuple[str, str | None]] = {
        ("kube-system", "aws-node"): ("cluster.addons.vpcCni", managed.vpc_cni.identity)
    }
    if managed.ebs_csi.enabled:
        out[("kube-system", "ebs-csi-controller-sa")] = ("cluster.addons.ebsCsi", managed.ebs_csi.identity)
    if cfg.observability is not None and cfg.observability.container_insights_on:  # None: that section is invalid
        out[CLOUDWATCH_SERVICE_ACCOUNT] = (
            "observability.containerInsights",
            cfg.observability.container_insights.identity,
        )
    for key, spec in charts.catalog().items():
        addon = getattr(cfg.addons, to_snake(key))
        if addon.enabled:  # its service account, with or without a role (external-dns with Cloudflare has none)
            out[(spec.namespace, spec.service_account)] = (f"addons.{key}", addon.identity if addon.has_role else None)
    return out


# ---------------------------------------------------------------------------------------
# checks that span sections (each runs only when the sections it reads are valid)
# ---------------------------------------------------------------------------------------
def cross_checks(
    v: Mapping[str, Any], project: str, stack: str, region: str, assemble: Callable[[], PlatformConfig]
) -> list[str]:
    """Each check runs when the sections it reads (by field name) are valid; ``assemble`` gives the whole config to
    the checks that read it (built once, when one of them runs)."""
    assembled = functools.cache(assemble)

    checks: tuple[tuple[tuple[str, ...], Callable[..., list[str]]], ...] = (
        (("network", "cluster"), _network_and_cluster),
        (("node_groups",), _groups),
        (("node_groups", "network"), _public_groups),
        (("addons", "node_groups"), _addons_and_groups),
        (("node_groups", "cluster"), lambda groups, cluster: _node_images(groups, cluster.version)),
        (("node_groups", "network", "cluster", "addons"), _zone_spread),
        (("delivery", "network"), _runner_route),
        (
            ("tags", "node_groups", "cluster"),
            lambda tags, groups, cluster: _tag_limits(tags, groups, cluster.name, project, stack),
        ),
        (("cluster",), _addon_versions),
        (("cluster", "addons", "node_groups"), lambda *_: _chart_versions(assembled())),
        (("cluster", "addons", "workloads", "node_groups"), lambda *_: _identities(assembled())),
        (("node_groups", "workloads"), _fargate_and_pod_identity),
        (
            ("workloads", "network", "cluster", "addons"),
            lambda w, network, cluster, addons: _load_balancers(w, network, cluster, addons, region),
        ),
        (("workloads", "cluster", "node_groups"), _pod_security_groups),
        (("workloads", "addons"), _namespaces),
        (("workloads", "cluster"), _network_policies),
        (("observability", "cluster"), lambda obs, cluster: _observability(obs, cluster, region)),
        (("observability", "workloads"), _observability_namespace),
    )
    out: list[str] = []
    for needs, check in checks:
        if all(v.get(k) is not None for k in needs):
            out += check(*(v[k] for k in needs))
    return out


def _groups(groups: Mapping[str, Any]) -> list[str]:
    out = []
    if not asg_groups(dict(groups)):
        out.append(
            "nodeGroups: define at least one managed or selfManaged node group (CoreDNS, the add-ons and "
            "the Karpenter controller need nodes that exist before them)"
        )
    if len([g for g in groups.values() if isinstance(g, FargateGroup)]) > FARGATE_MAX_PROFILES:
        out.append(
            f"nodeGroups: more than {FARGATE_MAX_PROFILES} fargate groups; EKS allows "
            f"{FARGATE_MAX_PROFILES} Fargate profiles per cluster"
        )
    return out


def _public_groups(groups: Mapping[str, Any], network: NetworkConfig) -> list[str]:
    if network.existing is None or network.existing.public_subnet_ids:
        return []
    return [
        f'nodeGroups.{k}.subnets: "public" needs network.existing.publicSubnetIds'
        for k, g in sorted(asg_groups(dict(groups)).items())
        if g.subnets == "public"
    ]


def _zone_spread(
    groups: Mapping[str, Any], network: NetworkConfig, cluster: ClusterConfig, addons: AddonsConfig
) -> list[str]:
    """In a protected stack a class that keeps nodes spans two zones and the system class spans every zone of the
    private tier (the guardrail node-class-zones holds the plan to the same). The created VPC gives every tier all
    its zones; a brought VPC's public tier may have fewer: one subnet per zone is assumed (the program cannot read
    the subnets' zones offline; tools.preflight can)."""
    existing = network.existing
    if not cluster.protect or existing is None or not existing.public_subnet_ids:
        return []
    public, private = len(existing.public_subnet_ids), len(existing.private_subnet_ids)
    out = []
    for key, g in sorted(asg_groups(dict(groups)).items()):
        if g.subnets != "public":
            continue
        if g.scaling.min > 0 and public < 2:
            out.append(
                f"nodeGroups.{key}.subnets: keeps {g.scaling.min} node(s) in the one zone of "
                "network.existing.publicSubnetIds; a protected stack's classes span at least two zones "
                "(list a public subnet per zone, or scaling.min: 0)"
            )
        elif key == addons.system_node_group and public < private:
            out.append(
                f"nodeGroups.{key}.subnets: the system class would run in {public} of the {private} zones "
                "(network.existing.publicSubnetIds against privateSubnetIds); it must span them all"
            )
    return out


def _runner_route(delivery: DeliveryConfig, network: NetworkConfig) -> list[str]:
    if delivery.runner.enabled and network.existing is None and network.nat_gateways == "none":
        return [
            "delivery.runner.enabled: the runner needs a route to GitHub from the private subnets; "
            "network.natGateways is none"
        ]
    return []


def _load_balancers(
    w: WorkloadsConfig, network: NetworkConfig, cluster: ClusterConfig, addons: AddonsConfig, region: str = ""
) -> list[str]:
    out: list[str] = []
    for key, lb in sorted(w.load_balancers.items()):
        at = f"workloads.loadBalancers.{key}"
        for i, listener in enumerate(lb.listeners):
            arn = listener.certificate_arn or ""
            # ELBv2 takes ACM certificates of its own region only (IAM server certificates are global)
            if region and arn.split(":")[2:3] == ["acm"] and (where := arn.split(":")[3]) != region:
                out.append(
                    f"{at}.listeners[{i}].certificateArn: the certificate is in {where}; a load balancer in "
                    f"{region} can only use an ACM certificate of {region} (request or import it there)"
                )
        if not addons.aws_load_balancer_controller.enabled:
            out.append(
                f"{at}: its TargetGroupBinding needs the AWS Load Balancer Controller "
                "(addons.awsLoadBalancerController.enabled is false)"
            )
        if lb.scheme == "internet-facing" and network.existing is not None and not network.existing.public_subnet_ids:
            out.append(f'{at}.scheme: "internet-facing" needs public subnets (network.existing.publicSubnetIds)')
        if cluster.protect and lb.deletion_protection is False:
            out.append(f"{at}.deletionProtection: false is refused in a protected stack (cluster.protect is true)")
    return out


def addon_namespaces(addons: AddonsConfig) -> dict[str, str]:
    """``{namespace: config path}`` of the Helm add-ons that are on: their releases create those namespaces."""

    return {
        spec.namespace: f"addons.{key}"
        for key, spec in sorted(charts.catalog().items())
        if getattr(addons, to_snake(key)).enabled is not False and spec.namespace not in SYSTEM_NAMESPACES
    }


def _namespaces(w: WorkloadsConfig, addons: AddonsConfig) -> list[str]:
    """Declared namespaces are the platform's alone; one it places objects in but does not create must be made by
    something else, and say so."""
    out: list[str] = []
    owned = addon_namespaces(addons)
    for name in sorted(w.namespaces):
        if name in owned:
            out.append(f"workloads.namespaces.{name}: is the namespace of {owned[name]} (its Helm release creates it)")
    for name, paths in sorted(w.placed_namespaces().items()):
        ns = w.namespaces.get(name)
        if ns is not None and not ns.create and ns.created_by is None:
            out.append(
                f"workloads.namespaces.{name}.createdBy: is required: create is false, and {', '.join(paths)} "
                f"place{'s' if len(paths) == 1 else ''} objects in {show(name)}; say what creates it before "
                "the platform's first `pulumi up` (or let the platform create it)"
            )
    for key, lb in sorted(w.load_balancers.items()):
        ns = w.namespaces.get(lb.target.namespace)
        if ns is not None and ns.network_policy.default_deny and lb.target.target_type == "instance":
            out.append(
                f'workloads.loadBalancers.{key}.target.targetType: "instance" into {show(lb.target.namespace)}, '
                "whose networkPolicy.defaultDeny is on: traffic reaches the pods on the Service's targetPort, "
                "which the platform does not know, so it cannot open it; use ip targets (the platform opens "
                "their port) or turn defaultDeny off and bring your own policy"
            )
    return out


def _observability(obs: ObservabilityConfig, cluster: ClusterConfig, region: str) -> list[str]:
    """What AWS would refuse at `pulumi up`: a topic or workspace of another region (alarms publish, and scrapers
    write, in their own region), a scraper without the private endpoint it scrapes through (Amazon Managed Service
    for Prometheus user guide, "Using an AWS managed collector": the cluster endpoint must include private
    access), a pinned add-on version the catalog does not know for the minor."""

    out: list[str] = []
    for path, arn, on in (
        ("observability.alarms.topicArn", obs.alarms.topic_arn, obs.alarms_on),
        ("observability.prometheus.workspaceArn", obs.prometheus.workspace_arn, obs.prometheus_on),
    ):
        if on and arn and region and (where := arn.split(":")[3]) != region:
            out.append(f"{path}: {show(arn)} is in {where}; the stack is in {region}: use one in {region}")
    if obs.prometheus_on and not cluster.endpoint.private_access:
        out.append(
            "observability.prometheus.enabled: the managed scraper reaches the API through the cluster's "
            "private endpoint; cluster.endpoint.privateAccess is false"
        )
    pin = obs.container_insights.version
    if (
        obs.container_insights_on
        and pin
        and (message := eksaddons.version_problem(CLOUDWATCH_ADDON, pin, cluster.version))
    ):
        out.append(f"observability.containerInsights.version: {message}")
    elif (
        obs.container_insights_on
        and not pin
        and (message := eksaddons.missing_problem(CLOUDWATCH_ADDON, cluster.version))
    ):
        out.append(f"cluster.version: {message}")
    return out


def _observability_namespace(obs: ObservabilityConfig, w: WorkloadsConfig) -> list[str]:
    """The add-on creates and owns amazon-cloudwatch: a declared namespace of that name would be two owners."""
    ns = CLOUDWATCH_SERVICE_ACCOUNT[0]
    if obs.container_insights_on and ns in w.namespaces:
        return [
            f"workloads.namespaces.{ns}: is the namespace of observability.containerInsights (the "
            f"{CLOUDWATCH_ADDON} add-on creates it)"
        ]
    return []


CLOUDWATCH_ADDON = "amazon-cloudwatch-observability"
CLOUDWATCH_SERVICE_ACCOUNT = ("amazon-cloudwatch", "cloudwatch-agent")


def _network_policies(w: WorkloadsConfig, cluster: ClusterConfig) -> list[str]:
    if cluster.addons.vpc_cni.network_policy:
        return []
    return [
        f"workloads.namespaces.{name}.networkPolicy.defaultDeny: would not be enforced: "
        "cluster.addons.vpcCni.networkPolicy is false (the API accepts NetworkPolicies that nothing enforces)"
        for name, ns in sorted(w.namespaces.items())
        if ns.network_policy.default_deny
    ]


def platform_namespaces(cfg: PlatformConfig) -> dict[str, NamespaceConfig]:
    """The namespaces the platform creates: the declared ones, and, with the defaults, every other one it places an
    object or identity in (not Kubernetes' own, not an add-on's, which its release creates)."""
    declared = {name: ns for name, ns in cfg.workloads.namespaces.items() if ns.create}
    skip = set(SYSTEM_NAMESPACES) | set(addon_namespaces(cfg.addons)) | set(cfg.workloads.namespaces)
    implicit = {name: NamespaceConfig() for name in cfg.workloads.placed_namespaces() if name not in skip}
    return dict(sorted({**declared, **implicit}.items()))


def _pod_security_groups(w: WorkloadsConfig, cluster: ClusterConfig, groups: Mapping[str, NodeClass]) -> list[str]:
    from components.config.instances import branch_eni_problem

    out: list[str] = []
    enabled = cluster.addons.vpc_cni.pod_security_groups.enabled
    if w.security_groups and not enabled:
        out.append(
            "workloads.securityGroups: pods get their own security groups only through branch ENIs; set "
            "cluster.addons.vpcCni.podSecurityGroups.enabled: true"
        )
    if enabled:
        # Any group may run a selected pod (a SecurityGroupPolicy does not pick nodes), so every group needs them.
        for name, group in sorted(groups.items()):
            for i, itype in enumerate(getattr(group, "instance_types", ())):
                if (message := branch_eni_problem(itype)) is not None:
                    out.append(
                        f"nodeGroups.{name}.instanceTypes[{i}]: {show(itype)} {message} "
                        "(cluster.addons.vpcCni.podSecurityGroups.enabled is true)"
                    )
            if isinstance(group, KarpenterGroup):
                # Karpenter picks the type: the selector itself must rule out types without branch ENIs
                for i, fam in enumerate(group.instance_families):
                    if (message := branch_eni_problem(f"{fam}.large")) is not None:
                        out.append(
                            f"nodeGroups.{name}.instanceFamilies[{i}]: {show(fam)} {message} "
                            "(cluster.addons.vpcCni.podSecurityGroups.enabled is true)"
                        )
                for i, cat in enumerate(group.instance_categories):
                    if cat == "t":
                        out.append(
                            f'nodeGroups.{name}.instanceCategories[{i}]: "t" is the burstable category, which '
                            "has no branch ENIs for pods with security groups (cluster.addons.vpcCni."
                            "podSecurityGroups.enabled is true)"
                        )
    return out


def _fargate_and_pod_identity(groups: Mapping[str, Any], w: WorkloadsConfig) -> list[str]:
    """What Fargate cannot run: pods of an identity using EKS Pod Identity (unsupported there), and the platform's
    own namespaces taken whole (DaemonSets never run on Fargate; add-ons are pinned to the system group)."""

    platform = {"kube-system"} | {spec.namespace for spec in charts.catalog().values()}
    out: list[str] = []
    whole: dict[str, str] = {}
    for name, g in sorted(groups.items()):
        if not isinstance(g, FargateGroup):
            continue
        for i, sel in enumerate(g.selectors):
            if sel.labels:
                continue
            whole.setdefault(sel.namespace, name)
            if sel.namespace in platform:
                out.append(
                    f"nodeGroups.{name}.selectors[{i}].namespace: {show(sel.namespace)} holds the platform's "
                    "add-ons (placed on the system group; DaemonSets never run on Fargate); select pods there "
                    "by labels"
                )
    out += [
        f"workloads.identities.{key}.mechanism: podIdentity does not work on Fargate, and "
        f"nodeGroups.{whole[i.namespace]} runs every pod of namespace {show(i.namespace)} there; use irsa"
        for key, i in sorted(w.identities.items())
        if i.mechanism == "podIdentity" and i.namespace in whole
    ]
    return out


def _identities(cfg: PlatformConfig) -> list[str]:
    """One role per service account across the platform and the workloads; Pod Identity needs its agent."""
    out: list[str] = []
    w, platform = cfg.workloads, service_account_roles(cfg)
    for key, identity in sorted(w.identities.items()):
        owner = platform.get((identity.namespace, identity.service_account))
        if owner is not None:
            out.append(
                f"workloads.identities.{key}.serviceAccount: "
                f"{show(identity.namespace + '/' + identity.service_account)} is {owner[0]}'s service "
                "account; give the workload its own"
            )
    users = [path for path, mechanism in sorted(platform.values()) if mechanism == "podIdentity"]
    users += [f"workloads.identities.{k}" for k, i in sorted(w.identities.items()) if i.mechanism == "podIdentity"]
    if users and not cfg.cluster.addons.pod_identity_agent.enabled:
        shown = ", ".join(users[:3]) + (", ..." if len(users) > 3 else "")
        out.append(
            f"cluster.addons.podIdentityAgent.enabled: false, but {shown} use EKS Pod Identity, which needs "
            "the agent on every node; enable it or set addons.identity: irsa"
        )
    return out


def _network_and_cluster(network: NetworkConfig, cluster: ClusterConfig) -> list[str]:
    out: list[str] = []
    if network.existing is None:
        service = ipaddress.IPv4Network(cluster.service_ipv4_cidr)
        if ipaddress.IPv4Network(network.cidr).overlaps(service):
            out.append(
                f"cluster.serviceIpv4Cidr: {show(cluster.service_ipv4_cidr)} overlaps network.cidr {show(network.cidr)}"
            )
        if network.pod_cidr is not None and ipaddress.IPv4Network(network.pod_cidr).overlaps(service):
            out.append(
                f"network.podCidr: {show(network.pod_cidr)} overlaps cluster.serviceIpv4Cidr "
                f"{show(cluster.service_ipv4_cidr)}"
            )
        missing = [e for e in SSM_ENDPOINTS if e not in network.endpoints.interface]
        if cluster.endpoint.access_host.enabled and network.nat_gateways == "none" and missing:
            out.append(
                f"cluster.endpoint.accessHost.enabled: with network.natGateways none the host reaches Session "
                f"Manager only through interface endpoints; add {', '.join(missing)} to "
                "network.endpoints.interface"
            )
    elif cluster.control_plane_subnets == "intra" and not network.existing.intra_subnet_ids:
        out.append(
            'cluster.controlPlaneSubnets: "intra" needs network.existing.intraSubnetIds (or set it to "private")'
        )
    return out


def _addons_and_groups(addons: AddonsConfig, groups: Mapping[str, NodeClass]) -> list[str]:
    out: list[str] = []
    asg = asg_groups(dict(groups))
    system = addons.system_node_group
    if system is not None and groups and system not in groups:
        out.append(f"addons.systemNodeGroup: {show(system)} is not a node group ({', '.join(sorted(groups))})")
    elif system is not None and system in groups and system not in asg:
        out.append(
            f"addons.systemNodeGroup: {show(system)} is a {groups[system].kind} group; the add-ons (and the "
            "Karpenter controller) need a managed or selfManaged group that exists before them"
        )
    karpenter = addons.karpenter.enabled_setting
    has_pools = any(isinstance(g, KarpenterGroup) for g in groups.values())
    if karpenter is True and not has_pools:
        out.append("addons.karpenter.enabled: there is no karpenter node group for it to provision")
    if karpenter is False and has_pools:
        out.append("addons.karpenter.enabled: karpenter node groups need the Karpenter controller")
    if (karpenter or has_pools) and (system or ("system" if "system" in asg else None)) not in asg:
        out.append(
            "addons.karpenter: the controller must run on a managed or selfManaged system node group (never "
            "on nodes it manages): add a group named system or set addons.systemNodeGroup"
        )
    has_self_managed = any(isinstance(g, SelfManagedGroup) for g in groups.values())
    enabled = addons.node_termination_handler.enabled
    if enabled is True and not has_self_managed:
        out.append(
            "addons.nodeTerminationHandler.enabled: there is no selfManaged node group for the termination "
            "handler to serve"
        )
    if enabled is False and has_self_managed:
        out.append(
            "addons.nodeTerminationHandler.enabled: self-managed groups have a terminating lifecycle hook: "
            "without the handler every scale-in waits for its heartbeat timeout"
        )
    return out


def _node_images(groups: Mapping[str, NodeClass], kubernetes_version: str) -> list[str]:
    """Every group's image comes from platform/node-images.yaml (a self-managed group may pin amiId instead)."""

    out = []
    for name, g in sorted(groups.items()):
        if isinstance(g, FargateGroup) or (isinstance(g, SelfManagedGroup) and g.ami_id):
            continue
        if (message := nodeimages.missing_problem(kubernetes_version, g.os, g.architecture)) is not None:
            out.append(f"nodeGroups.{name}: {message}")
    return out


def _tag_limits(
    user: Mapping[str, str],
    all_groups: Mapping[str, NodeClass | FargateGroup],
    cluster_name: str,
    project: str,
    stack: str,
) -> list[str]:
    """AWS allows 50 tags per resource; the platform adds its own, most of them on node-group ASGs, and Karpenter its
    own on the instances it launches."""
    groups = asg_groups(dict(all_groups))

    out: list[str] = []
    base = tagging.base_tags(project, stack, user)
    if len(base) + tagging.MOST_TAGS_ADDED > tagging.MAX_TAGS:
        out.append(
            f"tags: {len(user)} tags plus the platform's own ({len(base) - len(user)} on every resource, up to "
            f"{tagging.MOST_TAGS_ADDED} more on some) exceed the {tagging.MAX_TAGS} tags AWS allows per resource"
        )
    for name, group in sorted(groups.items()):
        group._name = name
        counted = nodetags.tag_count(group, cluster_name, base)
        if counted > tagging.MAX_TAGS:
            out.append(
                f"nodeGroups.{name}: its Auto Scaling group would carry {counted} tags (stack tags, discovery "
                f"and node-template tags from its labels and taints); AWS allows {tagging.MAX_TAGS}"
            )
        for key in nodetags.node_template_tags(group):
            if len(key) > 128:
                out.append(
                    f"nodeGroups.{name}: the cluster-autoscaler tag {show(key)} is longer than the 128 "
                    "characters AWS allows for a tag key; shorten the label or taint key"
                )
    pools = sorted(k for k, g in all_groups.items() if isinstance(g, KarpenterGroup))
    if pools and (counted := nodetags.instance_tag_count(base)) > tagging.MAX_TAGS:
        out += [
            f"nodeGroups.{name}: its instances would carry {counted} tags (stack tags, the node-group tag and "
            f"the {nodetags.KARPENTER_INSTANCE_TAGS} Karpenter adds); AWS allows {tagging.MAX_TAGS}, so no node could launch"
            for name in pools
        ]
    return out


def _chart_versions(cfg: PlatformConfig) -> list[str]:
    """Every Helm add-on the stack installs supports the cluster's Kubernetes minor (platform/addons.yaml)."""

    out = []
    for key, spec in sorted(charts.catalog().items()):
        if getattr(cfg.addons, to_snake(key)).enabled and (message := spec.kube_version_problem(cfg.cluster.version)):
            out.append(f"addons.{key}: {message}")
    return out


def _addon_versions(cluster: ClusterConfig) -> list[str]:
    """Every managed add-on the cluster gets has a version for its minor: the config's pin (known for that minor,
    when the catalog knows it) or the catalog's."""

    pins = {
        "vpcCni": ("vpc-cni", cluster.addons.vpc_cni),
        "coreDns": ("coredns", cluster.addons.core_dns),
        "kubeProxy": ("kube-proxy", cluster.addons.kube_proxy),
        "podIdentityAgent": ("eks-pod-identity-agent", cluster.addons.pod_identity_agent),
        "ebsCsi": ("aws-ebs-csi-driver", cluster.addons.ebs_csi),
        "metricsServer": ("metrics-server", cluster.addons.metrics_server),
        "nodeMonitoringAgent": ("eks-node-monitoring-agent", cluster.addons.node_monitoring_agent),
    }
    out: list[str] = []
    for key, (addon, pin) in pins.items():
        if getattr(pin, "enabled", True) is False:
            continue
        if pin.version and (message := eksaddons.version_problem(addon, pin.version, cluster.version)):
            out.append(f"cluster.addons.{key}.version: {message}")
        elif not pin.version and (message := eksaddons.missing_problem(addon, cluster.version)):
            out.append(f"cluster.version: {message}")
    return out
