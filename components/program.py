"""The whole platform, built from a validated config: what ``__main__.py`` runs.

Order of work: every config check that needs the cloud (the region's zones) runs
before the first resource is registered, so a bad config creates nothing.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components import config as cfgmod
from components.access import AdminRoleArgs, OidcSignIn, OidcSignInArgs, PeopleAdminRole
from components.addons.base import AddonContext, HelmAddon, placement
from components.cluster import (
    Cluster,
    ClusterArgs,
    CoreDns,
    MetricsServer,
    NodeAddonArgs,
    NodeMonitoringAgent,
    update_kubeconfig_command,
)
from components.config import AsgGroup, KarpenterGroup, PlatformConfig
from components.config.charts import catalog
from components.config.identity import statements_document
from components.config.nodetags import NodeCapacity, reservation_problems
from components.config.tags import base_tags
from components.context import AwsContext
from components.identity import (
    WORKLOAD_IDENTITY_TAG,
    ServiceAccount,
    ServiceAccountRole,
    ServiceAccountRoleArgs,
    service_account_annotations,
)
from components.loadbalancers import LoadBalancerArgs, PlatformLoadBalancer
from components.namespaces import Namespaces, NamespacesArgs
from components.network import Network, NetworkArgs, subnet_ids_by_tier
from components.nodegroups import (
    ClusterRef,
    ManagedNodeGroup,
    ManagedNodeGroupArgs,
    NodeRole,
    NodeRoleArgs,
    NodeSecurityGroup,
    NodeSecurityGroupArgs,
    SelfManagedNodeGroup,
    SelfManagedNodeGroupArgs,
    TerminationQueue,
    TerminationQueueArgs,
    asg_name,
)
from components.nodegroups.fargate import FargateProfiles, FargateProfilesArgs
from components.nodegroups.karpenter import KarpenterNodes, KarpenterNodesArgs
from components.nodegroups.model import EniCapacity, group_max_pods
from components.observability import Observability, ObservabilityArgs
from components.podsecurity import PodSecurityGroups, PodSecurityGroupsArgs
from components.private_access import (
    AccessHost,
    AccessHostArgs,
    CiRunner,
    CiRunnerArgs,
    port_forward_command,
    runner_label_variable,
)
from components.storage import EbsCsi, EbsCsiArgs
from components.storage import configuration_values as ebs_csi_values


def account_context(cfg: PlatformConfig) -> AwsContext:
    identity = aws.get_caller_identity()
    partition = aws.get_partition()
    return AwsContext(
        account_id=identity.account_id,
        partition=partition.partition,
        region=cfg.region,
        dns_suffix=partition.dns_suffix,
        tags=base_tags(cfg.project, cfg.stack, cfg.tags),
        permissions_boundary=cfg.iam.permissions_boundary_arn,
        logs_kms_key_arn=cfg.cluster.logging.kms_key_arn,
    )


def build(cfg: PlatformConfig, tunnel_port: int | None = None) -> dict[str, Any]:
    """Register every resource of the platform; return the stack outputs.

    ``tunnel_port``: the Kubernetes provider talks to https://localhost:<port> (an SSM port forward to a
    private endpoint) instead of the endpoint itself.
    """
    zones: tuple[str, ...] = ()
    if cfg.network.existing is None:
        offered = aws.get_availability_zones(state="available")
        zones = cfgmod.check_zones(cfg.network, tuple(offered.names), cfg.region, tuple(offered.zone_ids))
    describe = instance_type_lookup()
    capacities = node_capacities(cfg, describe)
    pods = self_managed_max_pods(cfg, describe)
    ctx = account_context(cfg)

    network = build_network(cfg, ctx, zones)
    reach = build_private_access(cfg, ctx, network)
    cluster = build_cluster(cfg, ctx, network, tunnel_port)
    groups, termination, node_sg = build_node_groups(cfg, ctx, network, cluster, capacities, pods)
    fargate = build_fargate(cfg, ctx, network, cluster)
    karpenter_nodes = build_karpenter_nodes(cfg, ctx, cluster)
    build_core_dns(cfg, ctx, cluster, groups)
    build_node_addons(cfg, ctx, cluster, groups)
    addons = build_addons(cfg, ctx, network, cluster, groups, termination, karpenter_nodes)
    namespaces = build_namespaces(cfg, network, cluster)
    balancers = build_load_balancers(cfg, ctx, network, cluster, addons, namespaces)
    pod_groups = build_pod_security_groups(cfg, ctx, network, cluster, node_sg, namespaces)
    identities = build_workload_identities(cfg, ctx, cluster, namespaces)
    people = build_people_access(cfg, ctx, cluster)
    observability = build_observability(cfg, ctx, network, cluster, groups, addons)
    return stack_outputs(
        cfg,
        network,
        cluster,
        reach,
        Built(
            groups=groups,
            fargate=fargate,
            karpenter_nodes=karpenter_nodes,
            termination=termination,
            addons=addons,
            balancers=balancers,
            pod_groups=pod_groups,
            identities=identities,
            namespaces=namespaces,
            people=people,
            observability=observability,
        ),
    )


def build_network(cfg: PlatformConfig, ctx: AwsContext, zones: tuple[str, ...]) -> Network:
    """The VPC (or the brought one)."""
    return Network(
        cfg.cluster.name,
        NetworkArgs(
            config=cfg.network,
            zones=zones,
            cluster_name=cfg.cluster.name,
            ctx=ctx,
            karpenter_discovery=bool(cfg.karpenter_pools),
        ),
    )


def build_cluster(cfg: PlatformConfig, ctx: AwsContext, network: Network, tunnel_port: int | None) -> Cluster:
    """The control plane in the tier cluster.controlPlaneSubnets names."""
    return Cluster(
        cfg.cluster.name,
        ClusterArgs(
            config=cfg.cluster,
            vpc_id=network.vpc_id,
            vpc_cidr=network.vpc_cidr,
            subnet_ids=subnet_ids_by_tier(network)[cfg.cluster.control_plane_subnets],
            ctx=ctx,
            tunnel_port=tunnel_port,
            pod_subnets=network.pod_subnets,
        ),
    )


def node_addon_args(
    cfg: PlatformConfig,
    ctx: AwsContext,
    cluster: Cluster,
    version: str | None,
    after: Sequence[pulumi.Resource],
    configuration_values: str | None = None,
) -> NodeAddonArgs:
    """A managed add-on of this cluster: its pinned version (else the catalog's for the minor), created after
    ``after`` (the nodes its pods need)."""
    return NodeAddonArgs(
        cluster_name=cluster.name,
        version=version,
        kubernetes_version=cfg.cluster.version,
        ctx=ctx,
        after=list(after),
        configuration_values=configuration_values,
    )


def build_core_dns(
    cfg: PlatformConfig, ctx: AwsContext, cluster: Cluster, groups: dict[str, ManagedNodeGroup | SelfManagedNodeGroup]
) -> CoreDns:
    """CoreDNS needs a node to run on, the system group's (it tolerates CriticalAddonsOnly), not every group."""
    return CoreDns(
        f"{cfg.cluster.name}-coredns",
        node_addon_args(cfg, ctx, cluster, cfg.cluster.addons.core_dns.version, system_group(cfg, groups)[1]),
    )


@dataclass(frozen=True)
class Built:
    """What ``build`` made that the stack outputs report."""

    groups: dict[str, Any]
    fargate: Any
    karpenter_nodes: Any
    termination: Any
    addons: dict[str, Any]
    balancers: dict[str, Any]
    pod_groups: Any
    identities: dict[str, Any]
    namespaces: dict[str, Any]
    people: dict[str, Any]
    observability: Any


def stack_outputs(cfg: PlatformConfig, network: Network, cluster: Cluster, reach: Any, b: Built) -> dict[str, Any]:
    """The stack outputs (README.md, "Stack outputs")."""
    return {
        "availabilityZones": list(network.zones),
        "vpcId": network.vpc_id,
        "vpcCidr": network.vpc_cidr,
        "publicSubnetIds": network.public_subnet_ids,
        "privateSubnetIds": network.private_subnet_ids,
        "intraSubnetIds": network.intra_subnet_ids,
        "podSubnetIds": network.pod_subnet_ids,
        "natPublicIps": network.nat_public_ips,
        "clusterName": cluster.name,
        "clusterEndpoint": cluster.endpoint,
        "clusterCertificateAuthority": cluster.certificate_authority,
        "clusterVersion": cluster.version,
        "clusterSecurityGroupId": cluster.cluster_security_group_id,
        "clusterAdditionalSecurityGroupId": cluster.additional_security_group_id,
        "kmsKeyArn": cluster.kms_key_arn,
        "oidcProviderArn": cluster.oidc.arn,
        "oidcIssuerUrl": cluster.oidc.issuer_url,
        "kubeconfig": cluster.kubeconfig,
        "kubeconfigCommand": cluster.kubeconfig_command,
        "nodeGroups": {
            **{name: node_group_outputs(g) for name, g in b.groups.items()},
            **(fargate_outputs(b.fargate) if b.fargate else {}),
            **karpenter_outputs(cfg, b.karpenter_nodes),
        },
        "terminationQueueUrl": b.termination.queue_url if b.termination else None,
        "addons": {key: addon.outputs() for key, addon in b.addons.items()},
        "loadBalancers": {key: lb.outputs() for key, lb in b.balancers.items()},
        "podSecurityGroupIds": b.pod_groups.security_group_ids if b.pod_groups else {},
        "workloadIdentities": {key: identity_outputs(role) for key, role in b.identities.items()},
        "namespaces": sorted(b.namespaces),
        **observability_outputs(b.observability),
        **b.people,
        **private_access_outputs(cfg, cluster, reach),
    }


def build_namespaces(cfg: PlatformConfig, network: Network, cluster: Cluster) -> dict[str, pulumi.Resource]:
    """The namespaces the platform creates (declared, or needed by what it places), before anything goes in them."""
    wanted = cfgmod.platform_namespaces(cfg)
    if not wanted:
        return {}
    return dict(
        Namespaces(
            f"{cfg.cluster.name}-namespaces",
            NamespacesArgs(
                namespaces=wanted,
                kubernetes_version=cfg.cluster.version,
                k8s_provider=cluster.provider,
                load_balancers=cfg.workloads.load_balancers,
                vpc_cidr=network.vpc_cidr,
            ),
        ).namespaces
    )


def build_workload_identities(
    cfg: PlatformConfig, ctx: AwsContext, cluster: Cluster, namespaces: dict[str, pulumi.Resource] | None = None
) -> dict[str, ServiceAccountRole]:
    """A role per workload identity: its managed policies, its inline statements, and its Pod Identity association
    (after its namespace) or IRSA trust."""
    namespaces = namespaces or {}
    out: dict[str, ServiceAccountRole] = {}
    for key, identity in sorted(cfg.workloads.identities.items()):
        name = f"{cfg.cluster.name}-identity-{key}"
        out[key] = ServiceAccountRole(
            name,
            ServiceAccountRoleArgs(
                service_account=ServiceAccount(identity.namespace, identity.service_account),
                mechanism=identity.mechanism,
                cluster_name=cfg.cluster.name,
                cluster=cluster.name,
                ctx=ctx,
                oidc_provider_arn=cluster.oidc.arn,
                oidc_issuer_url=cluster.oidc.issuer_url,
                policies={"inline": statements_document(identity.statements)} if identity.statements else {},
                managed_policy_arns={f"policy-{i}": arn for i, arn in enumerate(identity.policy_arns)},
                description=f"workload identity {key}: {identity.namespace}/{identity.service_account}",
                extra_tags={WORKLOAD_IDENTITY_TAG: key},
                depends_on=[namespaces[identity.namespace]] if identity.namespace in namespaces else [],
            ),
        )
    return out


def identity_outputs(role: ServiceAccountRole) -> dict[str, Any]:
    sa = role.service_account
    return {
        "roleArn": role.role_arn,
        "mechanism": role.mechanism,
        "namespace": sa.namespace,
        "serviceAccount": sa.name,
        "serviceAccountAnnotations": pulumi.Output.from_input(role.annotation_arn).apply(service_account_annotations),
    }


def build_people_access(cfg: PlatformConfig, ctx: AwsContext, cluster: Cluster) -> dict[str, Any]:
    """The admin role people assume and OIDC sign-in; their stack outputs."""
    c, access = cfg.cluster.name, cfg.cluster.access
    out: dict[str, Any] = {"adminRoleArn": None, "adminKubeconfigCommand": None, "oidcIdentityProvider": None}
    if access.admin_role.create:
        admin = PeopleAdminRole(
            f"{c}-people-admin", AdminRoleArgs(config=access.admin_role, cluster_name=c, cluster=cluster.name, ctx=ctx)
        )
        out["adminRoleArn"] = admin.role_arn
        out["adminKubeconfigCommand"] = admin.role_arn.apply(
            lambda arn: update_kubeconfig_command(c, cfg.region, arn, None)
        )
    oidc = cfg.cluster.identity_providers.oidc
    if oidc is not None:
        OidcSignIn(
            f"{c}-sso", OidcSignInArgs(config=oidc, cluster=cluster.name, k8s_provider=cluster.provider, ctx=ctx)
        )
        out["oidcIdentityProvider"] = {"issuerUrl": oidc.issuer_url, "groups": sorted(oidc.group_bindings)}
    return out


def build_private_access(cfg: PlatformConfig, ctx: AwsContext, network: Network) -> dict[str, CiRunner | AccessHost]:
    """The in-VPC CI runner and the SSM access host: after the network only, never after the cluster."""
    private = subnet_ids_by_tier(network)["private"]
    name = cfg.cluster.name
    out: dict[str, CiRunner | AccessHost] = {}
    if cfg.delivery.runner.enabled:
        out["runner"] = CiRunner(
            f"{name}-ci-runner",
            CiRunnerArgs(
                config=cfg.delivery.runner,
                cluster_name=name,
                vpc_id=network.vpc_id,
                subnet_ids=private,
                ctx=ctx,
                depends_on=network.egress_ready,
                log_retention_days=cfg.cluster.logging.retention_days,
            ),
        )
    if cfg.cluster.endpoint.access_host.enabled:
        out["accessHost"] = AccessHost(
            f"{name}-access-host",
            AccessHostArgs(
                config=cfg.cluster.endpoint.access_host,
                cluster_name=name,
                vpc_id=network.vpc_id,
                subnet_ids=private,
                ctx=ctx,
                depends_on=network.egress_ready,
            ),
        )
    return out


def private_access_outputs(
    cfg: PlatformConfig, cluster: Cluster, reach: dict[str, CiRunner | AccessHost]
) -> dict[str, Any]:
    from components.cluster import kubeconfig
    from components.private_access import LOCAL_PORT

    out: dict[str, Any] = {}
    runner = reach.get("runner")
    if isinstance(runner, CiRunner):
        out["ciRunner"] = {"projectName": runner.project_name, "runsOn": runner_label_variable(runner.project_name)}
    host = reach.get("accessHost")
    if isinstance(host, AccessHost):
        region, kc = cfg.region, cfg.cluster.kubeconfig
        out["accessHostCommand"] = pulumi.Output.all(host.asg_name, cluster.endpoint).apply(
            lambda v: port_forward_command(region, v[0], v[1])
        )
        out["accessKubeconfig"] = pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority).apply(
                lambda v: kubeconfig(v[0], v[1], v[2], region, kc.role_arn, kc.profile, LOCAL_PORT)
            )
        )
    return out


def system_group(
    cfg: PlatformConfig, groups: dict[str, ManagedNodeGroup | SelfManagedNodeGroup]
) -> tuple[cfgmod.NodeGroupConfig | None, list[pulumi.Resource]]:
    """The system node group's config (None without one) and the groups a system add-on waits for: that group,
    or every group when there is none."""
    name = cfg.addons.system_node_group
    system = cfg.node_groups.get(name) if name else None
    return system, [groups[system.name]] if system else list(groups.values())


def addon_context(
    cfg: PlatformConfig,
    ctx: AwsContext,
    network: Network,
    cluster: Cluster,
    groups: dict[str, ManagedNodeGroup | SelfManagedNodeGroup],
    termination: TerminationQueue | None,
    karpenter_nodes: KarpenterNodes | None = None,
) -> AddonContext:
    """What every Helm add-on reads of the cluster: where it runs, what it waits for, its identity mechanism."""
    a = cfg.addons
    name = cfg.cluster.name
    system, runs_on = system_group(cfg, groups)
    return AddonContext(
        cluster_name=name,
        kubernetes_version=cfg.cluster.version,
        region=cfg.region,
        vpc_id=network.vpc_id,
        cluster=cluster.name,
        identity=a.identity,
        oidc_provider_arn=cluster.oidc.arn,
        oidc_issuer_url=cluster.oidc.issuer_url,
        k8s_provider=cluster.provider,
        system_group=system,
        aws=ctx,
        depends_on=[*runs_on, *cluster.pod_identity_agent],
        termination_queue_url=termination.queue_url if termination else None,
        termination_queue_arn=termination.queue_arn if termination else None,
        karpenter_nodes=karpenter_nodes,
        self_managed_asg_names=tuple(asg_name(name, g) for g in sorted(cfg.self_managed_groups)),
        # a self-managed group's ASG name is ours (no wait); a managed group's is EKS's, read once the group exists
        spot_asg_names=[
            groups[key].asg_name if g.managed else asg_name(name, key)
            for key, g in sorted(cfg.node_groups.items())
            if g.uses_spot
        ],
    )


class AddonBuilder(Protocol):
    """What every add-on module's ``build`` is (components/addons/<module>.py, named in platform/addons.yaml)."""

    def __call__(
        self, name: str, ctx: AddonContext, cfg: PlatformConfig, built: Mapping[str, HelmAddon]
    ) -> HelmAddon | None: ...


def build_addons(
    cfg: PlatformConfig,
    ctx: AwsContext,
    network: Network,
    cluster: Cluster,
    groups: dict[str, ManagedNodeGroup | SelfManagedNodeGroup],
    termination: TerminationQueue | None,
    karpenter_nodes: KarpenterNodes | None = None,
) -> dict[str, HelmAddon]:
    """The Helm add-ons, in the catalog's order, each on the system node group, none waiting on another unless it
    must. Each add-on's module decides from the config whether it is installed; a new add-on is its module, its
    catalog entry and its config section (docs/architecture.md, "Adding an add-on").

    A release waits for the nodes it runs on and the Pod Identity agent, not for CoreDNS: its pods start with the
    nodes, and one that needs DNS at start-up (to call AWS) is restarted by the kubelet until CoreDNS, created at
    the same moment, answers — well within the atomic release's timeout. So the add-ons start as soon as their
    nodes exist (docs/performance.md, "Critical path of a first `pulumi up`")."""
    actx = addon_context(cfg, ctx, network, cluster, groups, termination, karpenter_nodes)
    out: dict[str, HelmAddon] = {}
    for key, spec in catalog().items():
        builder: AddonBuilder = importlib.import_module(f"components.addons.{spec.module}").build
        addon = builder(f"{cfg.cluster.name}-{spec.component_suffix}", actx, cfg, out)
        if addon is not None:
            out[key] = addon
    return out


def build_node_addons(
    cfg: PlatformConfig, ctx: AwsContext, cluster: Cluster, groups: dict[str, ManagedNodeGroup | SelfManagedNodeGroup]
) -> dict[str, pulumi.ComponentResource]:
    """The managed add-ons whose pods need nodes (besides CoreDNS): the EBS CSI driver and metrics-server, each
    with its controller on the system node group, created once that group exists (EKS reports them ACTIVE when the
    controller runs; the EBS node plugin is a DaemonSet, ready on whatever nodes exist)."""
    m, name = cfg.cluster.addons, cfg.cluster.name
    system, after = system_group(cfg, groups)
    on_system = placement(system) if system else {}
    out: dict[str, pulumi.ComponentResource] = {}
    if m.ebs_csi.enabled:
        out["ebsCsi"] = EbsCsi(
            f"{name}-ebs-csi",
            EbsCsiArgs(
                addon=node_addon_args(
                    cfg,
                    ctx,
                    cluster,
                    m.ebs_csi.version,
                    [*after, *cluster.pod_identity_agent],
                    ebs_csi_values(on_system),
                ),
                kms_key_arn=m.ebs_csi.kms_key_arn,
                mechanism=m.ebs_csi.identity or cfg.addons.identity,
                cluster_name=name,
                oidc_provider_arn=cluster.oidc.arn,
                oidc_issuer_url=cluster.oidc.issuer_url,
                k8s_provider=cluster.provider,
                ctx=ctx,
            ),
        )
    if m.metrics_server.enabled:
        out["metricsServer"] = MetricsServer(
            f"{name}-metrics-server",
            node_addon_args(
                cfg,
                ctx,
                cluster,
                m.metrics_server.version,
                after,
                json.dumps(on_system, sort_keys=True, separators=(",", ":")) if on_system else None,
            ),
        )
    if m.node_monitoring_agent.enabled:
        # a DaemonSet on every node (no placement: it tolerates every taint), ACTIVE once the first nodes run it
        out["nodeMonitoringAgent"] = NodeMonitoringAgent(
            f"{name}-node-monitoring",
            node_addon_args(cfg, ctx, cluster, m.node_monitoring_agent.version, after),
        )
    return out


def build_observability(
    cfg: PlatformConfig,
    ctx: AwsContext,
    network: Network,
    cluster: Cluster,
    groups: dict[str, ManagedNodeGroup | SelfManagedNodeGroup],
    addons: dict[str, HelmAddon],
) -> Observability | None:
    """Container Insights (its agent after the system group, like the other node add-ons), Prometheus, the alarms on
    what the platform runs (its controllers' namespaces, the interruption queues, the NAT gateways) and the
    dashboard."""
    obs, name = cfg.observability, cfg.cluster.name
    if not obs.enabled:
        return None
    from components.nodegroups.karpenter import interruption_queue_name
    from components.nodegroups.termination import default_queue_name

    queues = {}
    if cfg.self_managed_groups:
        queues["node-termination"] = default_queue_name(name)
    if cfg.karpenter_pools:
        queues["karpenter"] = interruption_queue_name(name)
    namespaces = {"kube-system", *(spec.namespace for key, spec in catalog().items() if key in addons)}
    return Observability(
        f"{name}-observability",
        ObservabilityArgs(
            config=obs,
            cluster_name=name,
            cluster_arn=cluster.eks_cluster.arn,
            cluster_security_group_id=cluster.cluster_security_group_id,
            private_subnet_ids=network.private_subnet_ids,
            addon=node_addon_args(
                cfg,
                ctx,
                cluster,
                obs.container_insights.version,
                [*system_group(cfg, groups)[1], *cluster.pod_identity_agent],
            ),
            oidc_provider_arn=cluster.oidc.arn,
            oidc_issuer_url=cluster.oidc.issuer_url,
            retention_days=obs.log_retention_days or cfg.cluster.logging.retention_days,
            kms_key_arn=cfg.cluster.logging.kms_key_arn,
            ctx=ctx,
            namespaces=sorted(namespaces),
            queues=queues,
            nat_gateways=network.nat_gateway_ids,
            controllers=sorted(CONTROLLER_JOBS[k] for k in addons if k in CONTROLLER_JOBS),
        ),
    )


def observability_outputs(obs: Observability | None) -> dict[str, Any]:
    if obs is None:
        return {}
    return {"observability": {"alarmTopicArn": obs.topic_arn, "prometheusWorkspaceArn": obs.workspace_arn}}


# the add-ons (catalog keys) whose metrics the managed scraper collects, by their scrape job
CONTROLLER_JOBS = {
    "karpenter": "karpenter",
    "awsLoadBalancerController": "aws-load-balancer-controller",
    "externalDns": "external-dns",
    "externalSecrets": "external-secrets",
}


def build_load_balancers(
    cfg: PlatformConfig,
    ctx: AwsContext,
    network: Network,
    cluster: Cluster,
    addons: dict[str, HelmAddon],
    namespaces: dict[str, pulumi.Resource] | None = None,
) -> dict[str, PlatformLoadBalancer]:
    """Platform-owned load balancers, each bound to its Service once the controller serves the binding."""
    tiers = subnet_ids_by_tier(network)
    return {
        key: PlatformLoadBalancer(
            f"{cfg.cluster.name}-lb-{key}",
            LoadBalancerArgs(
                key=key,
                config=lb,
                cluster_name=cfg.cluster.name,
                vpc_id=network.vpc_id,
                vpc_cidr=network.vpc_cidr,
                subnet_ids=tiers["public" if lb.scheme == "internet-facing" else "private"],
                deletion_protection=cfg.cluster.protect if lb.deletion_protection is None else lb.deletion_protection,
                k8s_provider=cluster.provider,
                controller=addons["awsLoadBalancerController"],
                ctx=ctx,
                namespace=(namespaces or {}).get(lb.target.namespace),
                pod_cidrs=network.pod_cidrs,
            ),
        )
        for key, lb in sorted(cfg.workloads.load_balancers.items())
    }


def build_pod_security_groups(
    cfg: PlatformConfig,
    ctx: AwsContext,
    network: Network,
    cluster: Cluster,
    node_sg: NodeSecurityGroup | None,
    namespaces: dict[str, pulumi.Resource] | None = None,
) -> PodSecurityGroups | None:
    """Workload security groups and their SecurityGroupPolicies (branch ENIs)."""
    if not cfg.workloads.security_groups:
        return None
    return PodSecurityGroups(
        f"{cfg.cluster.name}-pods",
        PodSecurityGroupsArgs(
            groups=cfg.workloads.security_groups,
            cluster_name=cfg.cluster.name,
            vpc_id=network.vpc_id,
            cluster_security_group_id=cluster.cluster_security_group_id,
            node_security_group_id=node_sg.security_group_id if node_sg else None,
            k8s_provider=cluster.provider,
            ctx=ctx,
            depends_on=(cluster.vpc_cni,),
            namespaces=namespaces or {},
        ),
    )


def build_karpenter_nodes(cfg: PlatformConfig, ctx: AwsContext, cluster: Cluster) -> KarpenterNodes | None:
    """Karpenter's node role (EC2_LINUX access entry) and interruption queue, when karpenter groups exist."""
    if not cfg.karpenter_pools:
        return None
    return KarpenterNodes(
        f"{cfg.cluster.name}-karpenter-nodes",
        KarpenterNodesArgs(cluster_name=cfg.cluster.name, cluster=cluster.name, ctx=ctx),
    )


def karpenter_outputs(cfg: PlatformConfig, nodes: KarpenterNodes | None) -> dict[str, Any]:
    if nodes is None:
        return {}
    return {
        key: {"kind": "karpenter", "nodePool": key, "nodeClass": key, "roleArn": nodes.role.role_arn}
        for key in sorted(cfg.karpenter_pools)
    }


def build_fargate(cfg: PlatformConfig, ctx: AwsContext, network: Network, cluster: Cluster) -> FargateProfiles | None:
    """The fargate node groups: a profile each (private subnets), one pod execution role."""
    if not cfg.fargate_profiles:
        return None
    return FargateProfiles(
        f"{cfg.cluster.name}-fargate",
        FargateProfilesArgs(
            profiles=cfg.fargate_profiles,
            cluster_name=cfg.cluster.name,
            cluster=cluster.name,
            subnet_ids=subnet_ids_by_tier(network)["private"],
            ctx=ctx,
            depends_on=network.egress_ready,
        ),
    )


def fargate_outputs(fargate: FargateProfiles) -> dict[str, Any]:
    return {
        key: {"kind": "fargate", "profileName": p.fargate_profile_name, "podExecutionRoleArn": fargate.role_arn}
        for key, p in fargate.profiles.items()
    }


def node_group_outputs(group: ManagedNodeGroup | SelfManagedNodeGroup) -> dict[str, Any]:
    if isinstance(group, ManagedNodeGroup):
        return {
            "kind": "managed",
            "nodeGroupName": group.node_group_name,
            "asgName": group.asg_name,
            "launchTemplateId": group.launch_template_id,
            "roleArn": group.role_arn,
        }
    return {
        "kind": "selfManaged",
        "asgName": group.asg_name,
        "launchTemplateId": group.launch_template_id,
        "roleArn": group.role_arn,
    }


def instance_type_lookup() -> Callable[[str], Any]:
    """DescribeInstanceTypes (``aws.ec2.get_instance_type``) at plan time, before any resource is registered, once
    per type however many groups list it."""
    seen: dict[str, Any] = {}

    def describe(itype: str) -> Any:
        if itype not in seen:
            seen[itype] = aws.ec2.get_instance_type(instance_type=itype)
        return seen[itype]

    return describe


def self_managed_max_pods(cfg: PlatformConfig, describe: Callable[[str], Any]) -> dict[str, int]:
    """``{group: max pods}`` for self-managed groups under VPC CNI custom networking without a maxPods of their own:
    what the group's smallest type can address with the pods' ENIs only (nodeadm and Bottlerocket compute max pods
    from the instance type alone, counting the primary ENI). One launch template serves every type of the group."""
    if not cfg.network.custom_networking:
        return {}
    out = {}
    for name, g in sorted(cfg.self_managed_groups.items()):
        if g.max_pods is not None:
            continue
        facts = [(t, describe(t)) for t in g.instance_types]
        out[name] = group_max_pods(
            [
                EniCapacity(
                    t,
                    i.maximum_network_interfaces,
                    i.maximum_ipv4_addresses_per_interface,
                    i.default_vcpus,
                    i.hypervisor == "nitro",
                )
                for t, i in facts
            ],
            custom_networking=True,
            prefix_delegation=cfg.cluster.addons.vpc_cni.prefix_delegation,
        )
    return out


def node_capacities(cfg: PlatformConfig, describe: Callable[[str], Any]) -> dict[str, tuple[NodeCapacity, ...]]:
    """``{group: capacities of its types}`` for groups whose kubelet keeps resources back; a ConfigError when the
    reservations leave a type nothing for pods."""
    out: dict[str, tuple[NodeCapacity, ...]] = {}
    problems: list[str] = []
    # karpenter pools that name their instance types are checked too (families and categories are open-ended)
    checked: dict[str, AsgGroup | KarpenterGroup] = {
        **cfg.node_groups,
        **{k: g for k, g in cfg.karpenter_pools.items() if g.instance_types},
    }
    for name, g in sorted(checked.items()):
        if not g.kubelet.reserves and "memory.available" not in g.kubelet.eviction_hard:
            continue
        found = {}
        for itype in g.instance_types:
            info = describe(itype)
            found[itype] = NodeCapacity(vcpus=info.default_vcpus, memory_mib=info.memory_size)
        problems += [f"nodeGroups.{name}.kubelet: {m}" for m in reservation_problems(g, found)]
        out[name] = tuple(found[t] for t in sorted(found))
    if problems:
        raise cfgmod.ConfigError(problems)
    return out


def build_node_groups(
    cfg: PlatformConfig,
    ctx: AwsContext,
    network: Network,
    cluster: Cluster,
    capacities: dict[str, tuple[NodeCapacity, ...]] | None = None,
    max_pods: dict[str, int] | None = None,
) -> tuple[dict[str, ManagedNodeGroup | SelfManagedNodeGroup], TerminationQueue | None, NodeSecurityGroup | None]:
    """Node roles, the self-managed node security group, termination queue and every group."""
    capacities, max_pods = capacities or {}, max_pods or {}
    self_managed = {k: g for k, g in cfg.node_groups.items() if not g.managed}
    node_sg, termination = _node_security(cfg, ctx, network, cluster, self_managed)
    ref = ClusterRef(
        name=cfg.cluster.name,
        version=cfg.cluster.version,
        endpoint=cluster.endpoint,
        certificate_authority=cluster.certificate_authority,
        service_cidr=cfg.cluster.service_ipv4_cidr,
        security_group_id=cluster.cluster_security_group_id,
    )
    roles: dict[str, NodeRole] = {}
    groups: dict[str, ManagedNodeGroup | SelfManagedNodeGroup] = {}
    for key, group in cfg.node_groups.items():
        role = _node_role(roles, cfg, ctx, cluster, group)
        groups[key] = _node_group(
            key, group, cfg, ctx, network, ref, role, node_sg, capacities.get(key, ()), max_pods.get(key),
            after=[*network.egress_ready, *cluster.node_prerequisites, *role.ready],
        )  # fmt: skip
    return groups, termination, node_sg


def _node_security(
    cfg: PlatformConfig, ctx: AwsContext, network: Network, cluster: Cluster, self_managed: dict[str, Any]
) -> tuple[NodeSecurityGroup | None, TerminationQueue | None]:
    """The security group of self-managed and Karpenter nodes, and the termination handler's queue."""
    name = cfg.cluster.name
    node_sg = termination = None
    if self_managed or cfg.karpenter_pools:
        node_sg = NodeSecurityGroup(
            f"{name}-nodes",
            NodeSecurityGroupArgs(
                vpc_id=network.vpc_id,
                cluster_name=name,
                cluster_security_group_id=cluster.cluster_security_group_id,
                ctx=ctx,
                karpenter_discovery=bool(cfg.karpenter_pools),
            ),
        )
    if self_managed:
        termination = TerminationQueue(
            f"{name}-node-termination",
            TerminationQueueArgs(
                cluster_name=name,
                asg_names=tuple(asg_name(name, g) for g in sorted(self_managed)),
                ctx=ctx,
            ),
        )
    return node_sg, termination


def _node_role(
    roles: dict[str, NodeRole], cfg: PlatformConfig, ctx: AwsContext, cluster: Cluster, group: Any
) -> NodeRole:
    """The group's role: its own (iam.dedicatedRole) or the one its kind shares, made when first needed."""
    key = group.name if group.iam.dedicated_role else ("managed" if group.managed else "self-managed")
    if key not in roles:
        roles[key] = NodeRole(
            f"{cfg.cluster.name}-{key}-nodes",
            NodeRoleArgs(
                cluster_name=cluster.name,
                ctx=ctx,
                self_managed=not group.managed,
                extra_policy_arns=group.iam.extra_policy_arns,
                session_manager=group.ssm,
            ),
        )
    return roles[key]


def _node_group(
    key: str,
    group: Any,
    cfg: PlatformConfig,
    ctx: AwsContext,
    network: Network,
    ref: ClusterRef,
    role: NodeRole,
    node_sg: NodeSecurityGroup | None,
    capacities: tuple[NodeCapacity, ...],
    max_pods: int | None,
    after: list[pulumi.Resource],
) -> ManagedNodeGroup | SelfManagedNodeGroup:
    subnets = subnet_ids_by_tier(network)[group.subnets]
    name = f"{cfg.cluster.name}-{key}"
    if group.managed:
        return ManagedNodeGroup(
            name,
            ManagedNodeGroupArgs(
                group=group, cluster=ref, subnet_ids=subnets, vpc_id=network.vpc_id, node_role_arn=role.role_arn,
                ctx=ctx, depends_on=after, capacities=capacities,
            ),
        )  # fmt: skip
    assert node_sg is not None  # made whenever a group is self-managed
    assert role.instance_profile_arn is not None  # a self-managed group's role has its instance profile
    return SelfManagedNodeGroup(
        name,
        SelfManagedNodeGroupArgs(
            group=group, cluster=ref, subnet_ids=subnets, vpc_id=network.vpc_id,
            node_security_group_id=node_sg.security_group_id, instance_profile_arn=role.instance_profile_arn,
            role_arn=role.role_arn, ctx=ctx, depends_on=after, capacities=capacities, max_pods=max_pods,
        ),
    )  # fmt: skip
