"""Cluster: the EKS control plane, its IAM, KMS, logs, access entries, OIDC provider,
node-prerequisite managed add-ons, the kubeconfig and a Kubernetes provider.

Ordering contract for the node groups (issue: CoreDNS needs nodes):
* ``cluster.node_prerequisites`` — the VPC CNI's role with its Pod Identity association (aws-node is admitted
  with credentials) and, with custom networking, the ENIConfigs: every node group ``depends_on`` them;
* ``cluster.network_addons`` (VPC CNI, kube-proxy) and ``cluster.pod_identity_agent`` — DaemonSet add-ons created
  next to the node groups rather than before them: with ``bootstrapSelfManagedAddons: false`` they are the only
  aws-node and kube-proxy, created ACTIVE without nodes in about a minute, while the groups' instances take two
  or more to boot and register; their pods start on each node as it joins, and the node turns Ready then. So
  nothing a node group does not need sits between the control plane and it (what needs Pod Identity credentials
  at start-up waits for the agent);
* ``CoreDns`` (below) is created after the system node group, with ``depends_on`` it, because
  its pods need nodes before EKS reports the add-on ACTIVE.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components import names
from components.access import access_entries, add_access_entry
from components.config import ClusterConfig
from components.config.cluster import VpcCni
from components.config.eksaddons import addon_version
from components.config.tags import tagged
from components.context import AwsContext
from components.iamdocs import document, service_trust
from components.identity import (
    OidcProvider,
    OidcProviderArgs,
    ServiceAccount,
    ServiceAccountRole,
    ServiceAccountRoleArgs,
)

# The node label ipamd reads to pick its ENIConfig (well-known label kubelet sets from the instance's zone).
ENI_CONFIG_LABEL = "topology.kubernetes.io/zone"
CONFLICTS_ON_UPDATE = "OVERWRITE"
VPC_CNI_SERVICE_ACCOUNT = ServiceAccount("kube-system", "aws-node")


# ---------------------------------------------------------------------------------------
# pure decisions
# ---------------------------------------------------------------------------------------
def cluster_trust_policy(ctx: AwsContext) -> str:
    return service_trust(
        ctx.service_principal("eks"),
        ["sts:AssumeRole", "sts:TagSession"],
        {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
    )


def cluster_kms_policy(key_arn: str) -> str:
    """What the control plane needs on its secrets key (envelope encryption), nothing else."""
    return document(
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
            "Resource": key_arn,
        }
    )


def vpc_cni_configuration(cni: VpcCni, custom_networking: bool) -> dict:
    """The vpc-cni add-on's configuration values (its describe-addon-configuration schema).

    Everything the platform decides goes through ``configurationValues`` rather than the
    component's boolean options: pulumi-eks merges these *over* its own computed env
    (``mergeConfigurationValues``), so what is written here is what the add-on gets. That matters for
    custom networking: in pulumi-eks 4.x ``customNetworkConfig=True`` alone still ends as
    ``AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG="false"`` (a later assignment of the same variable wins).
    """
    env = {"ENABLE_PREFIX_DELEGATION": _flag(cni.prefix_delegation)}
    values: dict = {"enableNetworkPolicy": _flag(cni.network_policy), "env": env}
    psg = cni.pod_security_groups
    if psg.enabled:
        # EKS user guide, "Security groups for Pods": branch ENIs, the enforcing mode, and TCP early demux off so
        # kubelet probes (from the node's primary ENI) reach pods on branch ENIs.
        env["ENABLE_POD_ENI"] = "true"
        env["POD_SECURITY_GROUP_ENFORCING_MODE"] = psg.enforcing_mode
        values["init"] = {"env": {"DISABLE_TCP_EARLY_DEMUX": "true"}}
    if custom_networking:
        # EKS user guide, "Custom networking": secondary ENIs from the ENIConfig named after the node's zone.
        env["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] = "true"
        env["ENI_CONFIG_LABEL_DEF"] = ENI_CONFIG_LABEL
    return values


def eni_config_spec(subnet_id: pulumi.Input[str], cluster_security_group_id: pulumi.Input[str]) -> dict:
    """An ENIConfig's spec (crd.k8s.amazonaws.com/v1alpha1): pods' ENIs in the pod subnet with the EKS cluster
    security group, the group pods on managed nodes have without custom networking. One group only: the load
    balancer controller edits the one group of a target ENI tagged kubernetes.io/cluster/<name>."""
    return {"subnet": subnet_id, "securityGroups": [cluster_security_group_id]}


def _flag(value: bool) -> str:
    return "true" if value else "false"


def tag_addons(tags: dict[str, str]) -> Callable[[pulumi.ResourceTransformArgs], pulumi.ResourceTransformResult | None]:
    """A transform that tags the ``aws.eks.Addon`` a remote component creates.

    pulumi-eks' Python schema types ``VpcCniAddon(tags=...)`` as a list of maps while the
    component forwards the value to ``aws.eks.Addon`` as its (map) tags, so the argument cannot
    be used; transforms apply to a remote component's children as well (engine property names).
    """

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != "aws:eks/addon:Addon":
            return None
        return pulumi.ResourceTransformResult(props={**args.props, "tags": dict(tags)}, opts=args.opts)

    return transform


def get_token_args(cluster_name: str, region: str, role_arn: str | None) -> list[str]:
    args = ["--region", region, "eks", "get-token", "--cluster-name", cluster_name, "--output", "json"]
    if role_arn:
        args += ["--role-arn", role_arn]
    return args


def kubeconfig(
    cluster_name: str,
    endpoint: str,
    ca_data: str,
    region: str,
    role_arn: str | None,
    profile: str | None,
    tunnel_port: int | None = None,
) -> str:
    """A kubeconfig whose user authenticates with ``aws eks get-token`` (no static credentials).

    With ``tunnel_port`` it talks to ``https://localhost:<port>`` (an SSM port forward to the endpoint)
    and checks the API server's certificate against the endpoint's name (``tls-server-name``).
    """
    user_exec: dict = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": get_token_args(cluster_name, region, role_arn),
        "interactiveMode": "Never",
    }
    if profile:
        user_exec["env"] = [{"name": "AWS_PROFILE", "value": profile}]
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": server_entry(endpoint, ca_data, tunnel_port)}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "preferences": {},
            "users": [{"name": cluster_name, "user": {"exec": user_exec}}],
        },
        sort_keys=True,
    )


def server_entry(endpoint: str, ca_data: str, tunnel_port: int | None) -> dict[str, str]:
    entry = {"server": endpoint, "certificate-authority-data": ca_data}
    if tunnel_port is not None:
        entry["server"] = f"https://localhost:{tunnel_port}"
        entry["tls-server-name"] = endpoint.removeprefix("https://").rstrip("/")
    return entry


def provider_identity(ctx: AwsContext, cluster_name: str) -> str:
    """The Kubernetes provider's ``cluster_identifier``: stable for the life of the cluster.

    pulumi-kubernetes replaces its provider (and every object it manages) when the kubeconfig's
    active cluster entry changes or is unknown at preview, unless a set, unchanged identifier
    says it is the same cluster (provider/pkg/provider/provider.go, DiffConfig). So it must not
    contain anything that moves: not the endpoint, not the tunnel.
    """
    return f"eks:{ctx.partition}:{ctx.region}:{ctx.account_id}:{cluster_name}"


def update_kubeconfig_command(cluster_name: str, region: str, role_arn: str | None, profile: str | None) -> str:
    cmd = f"aws eks update-kubeconfig --region {region} --name {cluster_name}"
    if role_arn:
        cmd += f" --role-arn {role_arn}"
    if profile:
        cmd += f" --profile {profile}"
    return cmd


# ---------------------------------------------------------------------------------------
# component
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterArgs:
    config: ClusterConfig
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    ctx: AwsContext
    # An SSM port forward on localhost:<port> to the private endpoint (EKS_PLATFORM_API_TUNNEL_PORT).
    tunnel_port: int | None = None
    # Custom networking: {key: (zone, pod subnet id)} (Network.pod_subnets).
    pod_subnets: Mapping[str, tuple[pulumi.Input[str], pulumi.Input[str]]] = field(default_factory=dict)


class Cluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    version: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    additional_security_group_id: pulumi.Output[str]
    service_ipv4_cidr: str
    kms_key_arn: pulumi.Output[str]
    oidc: OidcProvider
    kubeconfig: pulumi.Output[str]
    kubeconfig_command: str
    provider: k8s.Provider
    eks_cluster: aws.eks.Cluster
    node_prerequisites: list[pulumi.Resource]
    network_addons: list[pulumi.Resource]  # the VPC CNI and kube-proxy add-ons
    pod_identity_agent: list[pulumi.Resource]  # the agent add-on (none when disabled)
    vpc_cni: pulumi.Resource

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:cluster:Cluster", name, None, opts)
        self._name, self._cfg, self._ctx = name, args.config, args.ctx
        self._pod_subnets = dict(args.pod_subnets)
        cfg = args.config
        role, role_ready = self._control_plane_role()
        key_arn, key_ready = self._secrets_key(role)
        sg = self._security_group(args)
        cluster = self._control_plane(args, role, key_arn, sg, [*role_ready, key_ready, self._log_group()])
        self._access_entries(cluster)
        self._zonal_autoshift(cluster)
        self.oidc = OidcProvider(
            f"{name}-oidc",
            OidcProviderArgs(
                issuer_url=cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer),
                extra_thumbprints=cfg.extra_thumbprints,
                ctx=args.ctx,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.network_addons, cni_role = self._network_addons(cluster)
        self.vpc_cni = self.network_addons[0]

        self.eks_cluster = cluster
        self.name = cluster.name
        self.endpoint = cluster.endpoint
        self.certificate_authority = cluster.certificate_authority.apply(lambda ca: ca.data)
        self.version = cluster.version
        self.cluster_security_group_id = cluster.vpc_config.apply(lambda v: v.cluster_security_group_id)
        self.additional_security_group_id = sg.id
        self.service_ipv4_cidr = cfg.service_ipv4_cidr
        self.kms_key_arn = key_arn
        self.kubeconfig = self._kubeconfig(cluster)
        self.kubeconfig_command = update_kubeconfig_command(
            cfg.name, args.ctx.region, cfg.kubeconfig.role_arn, cfg.kubeconfig.profile
        )
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig if args.tunnel_port is None else self._kubeconfig(cluster, args.tunnel_port),
            cluster_identifier=provider_identity(args.ctx, cfg.name),
            enable_server_side_apply=True,
            delete_unreachable=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self.network_addons, cni_role]),
        )
        # What a node group waits for: the VPC CNI's role and Pod Identity association (aws-node is admitted with
        # credentials), and with custom networking the ENIConfigs (ipamd reads them only when a node starts).
        self.node_prerequisites = [cni_role, *self._eni_configs()]
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "version": self.version,
                "oidcProviderArn": self.oidc.arn,
                "kubeconfig": self.kubeconfig,
            }
        )

    # -- pieces, in the order they are created ---------------------------------------
    def _child(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    def _control_plane_role(self) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        name, cfg, ctx = self._name, self._cfg, self._ctx
        role = aws.iam.Role(
            f"{name}-cluster",
            **names.autoname(names.ROLE, f"{name}-cluster"),
            **ctx.boundary(),
            assume_role_policy=cluster_trust_policy(ctx),
            description=f"EKS control plane of {cfg.name}",
            tags=tagged(ctx.tags, f"{name}-cluster"),
            opts=self._child(),
        )
        policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy",
            role=role.name,
            policy_arn=ctx.managed_policy("AmazonEKSClusterPolicy"),
            opts=self._child(),
        )
        ready: list[pulumi.Resource] = [policy]
        if cfg.addons.vpc_cni.pod_security_groups.enabled:
            # The VPC resource controller (run by EKS) creates the trunk and branch ENIs with the cluster role.
            ready.append(
                aws.iam.RolePolicyAttachment(
                    f"{name}-vpc-resource-controller",
                    role=role.name,
                    policy_arn=ctx.managed_policy("AmazonEKSVPCResourceController"),
                    opts=self._child(),
                )
            )
        return role, ready

    def _secrets_key(self, role: aws.iam.Role) -> tuple[pulumi.Output[str], pulumi.Resource]:
        """The key of envelope encryption (created here unless given) and the role's grant on it."""
        name, cfg, ctx = self._name, self._cfg, self._ctx
        if cfg.encryption.kms_key_arn:
            key_arn: pulumi.Output[str] = pulumi.Output.from_input(cfg.encryption.kms_key_arn)
        else:
            key = aws.kms.Key(
                f"{name}-secrets",
                description=f"Envelope encryption of Kubernetes secrets in EKS cluster {cfg.name}",
                enable_key_rotation=True,
                deletion_window_in_days=cfg.encryption.deletion_window_days,
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                tags=tagged(ctx.tags, f"{name}-secrets"),
                opts=self._child(protect=cfg.protect),
            )
            aws.kms.Alias(f"{name}-secrets", name=f"alias/eks/{cfg.name}", target_key_id=key.key_id, opts=self._child())
            key_arn = key.arn
        grant = aws.iam.RolePolicy(
            f"{name}-cluster-kms",
            role=role.id,
            **names.autoname(names.ROLE_POLICY, f"{name}-cluster-kms"),
            policy=key_arn.apply(cluster_kms_policy),
            opts=self._child(),
        )
        return key_arn, grant

    def _log_group(self) -> aws.cloudwatch.LogGroup:
        """Created before the cluster, so its retention applies from the first log line."""
        name, cfg = self._name, self._cfg
        return aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{cfg.name}/cluster",
            retention_in_days=cfg.logging.retention_days,
            **self._ctx.log_key(),
            tags=tagged(self._ctx.tags, f"{name}-control-plane"),
            opts=self._child(),
        )

    def _security_group(self, args: ClusterArgs) -> aws.ec2.SecurityGroup:
        name, cfg = self._name, self._cfg
        sg = aws.ec2.SecurityGroup(
            f"{name}-cluster",
            **names.autoname(names.SECURITY_GROUP, f"{name}-cluster"),
            vpc_id=args.vpc_id,
            description=f"Additional security group of the EKS control plane of {cfg.name}",
            tags=tagged(self._ctx.tags, f"{name}-cluster"),
            opts=self._child(),
        )
        # The private endpoint from anywhere in the VPC: nodes, the CI runner, the access host.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-cluster-https-from-vpc",
            security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=args.vpc_cidr,
            description="Kubernetes API (private endpoint) from inside the VPC",
            opts=self._child(),
        )
        return sg

    def _control_plane(
        self,
        args: ClusterArgs,
        role: aws.iam.Role,
        key_arn: pulumi.Output[str],
        sg: aws.ec2.SecurityGroup,
        after: list[pulumi.Resource],
    ) -> aws.eks.Cluster:
        cfg = self._cfg
        return aws.eks.Cluster(
            f"{self._name}-cluster",
            name=cfg.name,
            version=cfg.version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                security_group_ids=[sg.id],
                endpoint_private_access=cfg.endpoint.private_access,
                endpoint_public_access=cfg.endpoint.public_access,
                public_access_cidrs=list(cfg.endpoint.public_access_cidrs) if cfg.endpoint.public_access else None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key_arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(cfg.logging.types),
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(
                service_ipv4_cidr=cfg.service_ipv4_cidr,
                ip_family="ipv4",
            ),
            # We install the VPC CNI, kube-proxy and CoreDNS as managed add-ons ourselves.
            bootstrap_self_managed_addons=False,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=cfg.upgrade_policy),
            # ARC zonal shift (EKS user guide, "Learn about Amazon Application Recovery Controller's zonal shift in
            # Amazon EKS"): set either way, since the provider keeps an unset block as whatever EKS has
            zonal_shift_config=aws.eks.ClusterZonalShiftConfigArgs(enabled=cfg.zonal_shift),
            control_plane_scaling_config=aws.eks.ClusterControlPlaneScalingConfigArgs(
                tier=cfg.control_plane.scaling_tier
            )
            if cfg.control_plane.scaling_tier
            else None,
            deletion_protection=cfg.protect,
            tags=tagged(self._ctx.tags, cfg.name),
            opts=self._child(protect=cfg.protect, depends_on=after),
        )

    def _zonal_autoshift(self, cluster: aws.eks.Cluster) -> None:
        """The cluster's ARC zonal autoshift configuration, with the practice runs' alarms (cluster.zonalAutoshift)."""
        auto = self._cfg.zonal_autoshift
        if not auto.enabled:
            return
        aws.arczonalshift.ZonalAutoshiftConfiguration(
            f"{self._name}-zonal-autoshift",
            resource_arn=cluster.arn,
            zonal_autoshift_status="ENABLED",
            outcome_alarms=[
                aws.arczonalshift.ZonalAutoshiftConfigurationOutcomeAlarmArgs(alarm_identifier=arn, type="CLOUDWATCH")
                for arn in auto.outcome_alarm_arns
            ],
            blocking_alarms=[
                aws.arczonalshift.ZonalAutoshiftConfigurationBlockingAlarmArgs(alarm_identifier=arn, type="CLOUDWATCH")
                for arn in auto.blocking_alarm_arns
            ]
            or None,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _access_entries(self, cluster: aws.eks.Cluster) -> None:
        for suffix, spec in access_entries(self._cfg.access).items():
            add_access_entry(f"{self._name}-{suffix}", spec, cluster.name, self._ctx, self)

    def _network_addons(self, cluster: aws.eks.Cluster) -> tuple[list[pulumi.Resource], pulumi.Resource]:
        """([VPC CNI, kube-proxy], the VPC CNI's role), and the Pod Identity agent (``self.pod_identity_agent``)."""
        name, cfg, ctx = self._name, self._cfg, self._ctx
        addons = cfg.addons
        mechanism = addons.vpc_cni.identity or "podIdentity"
        # pulumi-eks' VpcCniAddon takes no pod identity associations: with Pod Identity the role gets a standalone
        # association for kube-system/aws-node (created before any node, so aws-node pods start with credentials).
        cni_role = ServiceAccountRole(
            f"{name}-vpc-cni",
            ServiceAccountRoleArgs(
                service_account=VPC_CNI_SERVICE_ACCOUNT,
                mechanism=mechanism,
                cluster_name=cfg.name,
                cluster=cluster.name,
                oidc_provider_arn=self.oidc.arn,
                oidc_issuer_url=self.oidc.issuer_url,
                ctx=ctx,
                managed_policy_arns={"cni": ctx.managed_policy("AmazonEKS_CNI_Policy")},
                description="VPC CNI (aws-node): ENI and IP address management",
                formerly=f"{name}-vpc-cni",
            ),
            opts=self._child(),
        )
        # pulumi-eks' constructor throws unless addon_version or cluster_version is given
        # (nodejs/eks/addons/cni-addon.ts); we pass both, the version resolved here so the plan shows it.
        vpc_cni = eks.VpcCniAddon(
            f"{name}-vpc-cni",
            cluster_name=cluster.name,
            cluster_version=cfg.version,
            addon_version=addon_version("vpc-cni", addons.vpc_cni.version, cfg.version),
            configuration_values=vpc_cni_configuration(addons.vpc_cni, bool(self._pod_subnets)),
            service_account_role_arn=cni_role.annotation_arn,
            resolve_conflicts_on_create=eks.ResolveConflictsOnCreate.OVERWRITE,
            resolve_conflicts_on_update=eks.ResolveConflictsOnUpdate.OVERWRITE,
            opts=self._child(transforms=[tag_addons(tagged(ctx.tags, f"{name}-vpc-cni"))]),
        )
        self.pod_identity_agent = (
            [self._addon(name, "eks-pod-identity-agent", cluster, addons.pod_identity_agent.version, ctx.tags)]
            if addons.pod_identity_agent.enabled
            else []
        )
        return [vpc_cni, self._addon(name, "kube-proxy", cluster, addons.kube_proxy.version, ctx.tags)], cni_role

    def _eni_configs(self) -> list[pulumi.Resource]:
        """Custom networking: one ENIConfig per zone, named after it (ENI_CONFIG_LABEL_DEF selects by the node's
        zone label); created before any node joins, since ipamd reads it only when a node starts."""
        out: list[pulumi.Resource] = []
        for key, (zone, subnet_id) in sorted(self._pod_subnets.items()):
            out.append(
                k8s.apiextensions.CustomResource(
                    f"{self._name}-eniconfig-{key}",
                    api_version="crd.k8s.amazonaws.com/v1alpha1",
                    kind="ENIConfig",
                    metadata={"name": zone, "labels": {"app.kubernetes.io/managed-by": "eks-platform"}},
                    spec=eni_config_spec(subnet_id, self.cluster_security_group_id),
                    # the CRD comes with the VPC CNI add-on
                    opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[self.vpc_cni]),
                )
            )
        return out

    def _kubeconfig(self, cluster: aws.eks.Cluster, tunnel_port: int | None = None) -> pulumi.Output[str]:
        cfg, region = self._cfg, self._ctx.region
        return pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint, self.certificate_authority).apply(
                lambda v: kubeconfig(
                    v[0], v[1], v[2], region, cfg.kubeconfig.role_arn, cfg.kubeconfig.profile, tunnel_port
                )
            )
        )

    def _addon(
        self, name: str, addon: str, cluster: aws.eks.Cluster, version: str | None, base: Mapping[str, str]
    ) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{name}-{addon}",
            cluster_name=cluster.name,
            addon_name=addon,
            addon_version=addon_version(addon, version, self._cfg.version),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update=CONFLICTS_ON_UPDATE,
            tags=tagged(base, f"{name}-{addon}"),
            opts=pulumi.ResourceOptions(parent=self),
        )


@dataclass(frozen=True)
class NodeAddonArgs:
    cluster_name: pulumi.Input[str]
    version: str | None
    kubernetes_version: str
    ctx: AwsContext
    # The node groups the add-on's pods will run on: it is created after them.
    after: Sequence[pulumi.Resource] = ()
    configuration_values: str | None = None
    service_account_role_arn: pulumi.Input[str] | None = None
    pod_identity_associations: Sequence[aws.eks.AddonPodIdentityAssociationArgs] | None = None


def node_addon(name: str, addon: str, args: NodeAddonArgs, parent: pulumi.Resource) -> aws.eks.Addon:
    """A managed add-on whose pods need nodes: created after the node groups, since EKS reports it ACTIVE (and
    the provider stops waiting) only once its pods run."""
    return aws.eks.Addon(
        name,
        cluster_name=args.cluster_name,
        addon_name=addon,
        addon_version=addon_version(addon, args.version, args.kubernetes_version),
        configuration_values=args.configuration_values,
        service_account_role_arn=args.service_account_role_arn,
        pod_identity_associations=list(args.pod_identity_associations) if args.pod_identity_associations else None,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update=CONFLICTS_ON_UPDATE,
        tags=tagged(args.ctx.tags, name),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(args.after)),
    )


class CoreDns(pulumi.ComponentResource):
    """CoreDNS as a managed add-on, created once nodes exist (it needs them to become ACTIVE)."""

    addon: aws.eks.Addon

    def __init__(self, name: str, args: NodeAddonArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:cluster:CoreDns", name, None, opts)
        self.addon = node_addon(name, "coredns", args, self)
        self.register_outputs({"addonArn": self.addon.arn})


class NodeMonitoringAgent(pulumi.ComponentResource):
    """The EKS node monitoring agent on every node (its own tolerations take every taint): the node conditions that
    node auto repair and Karpenter's node repair act on."""

    addon: aws.eks.Addon

    def __init__(self, name: str, args: NodeAddonArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:cluster:NodeMonitoringAgent", name, None, opts)
        self.addon = node_addon(name, "eks-node-monitoring-agent", args, self)
        self.register_outputs({"addonArn": self.addon.arn})


class MetricsServer(pulumi.ComponentResource):
    """metrics-server, the EKS community add-on, on the system nodes: the Metrics API that HorizontalPodAutoscalers
    and ``kubectl top`` read. Its configuration values are the upstream chart's (kubernetes-sigs/metrics-server
    charts/metrics-server/values.yaml: top-level nodeSelector and tolerations)."""

    addon: aws.eks.Addon

    def __init__(self, name: str, args: NodeAddonArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:cluster:MetricsServer", name, None, opts)
        self.addon = node_addon(name, "metrics-server", args, self)
        self.register_outputs({"addonArn": self.addon.arn})
