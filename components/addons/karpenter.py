"""Karpenter: the controller (on the system node group, never on nodes it manages) and, after its release, an
EC2NodeClass and a NodePool per karpenter node group."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
from components.config import PlatformConfig
from components.config.charts import ChartSpec, catalog, policy_document
from components.config.nodegroups import KarpenterGroup
from components.config.nodetags import GROUP_LABEL
from components.context import AwsContext
from components.identity import ServiceAccount
from components.nodegroups import karpenter as model
from components.nodegroups.model import imds_reason

KEY = "karpenter"
POLICY = "karpenter"


ZONAL_SHIFT_SID = "ZonalShiftStatus"


def policy(
    ctx: AwsContext, cluster_name: str, node_role_arn: str, queue_arn: str, zonal_shift: bool = False
) -> dict[str, Any]:
    """The catalog's policy template, pinned to this partition, region, account, cluster, node role and queue; the
    zonal-shift read only when the controller respects zonal shifts."""
    doc = policy_document(
        POLICY,
        {
            "partition": ctx.partition,
            "region": ctx.region,
            "account": ctx.account_id,
            "cluster": cluster_name,
            "nodeRoleArn": node_role_arn,
            "queueArn": queue_arn,
        },
    )
    if not zonal_shift:
        doc["Statement"] = [s for s in doc["Statement"] if s["Sid"] != ZONAL_SHIFT_SID]
    return doc


def values(
    spec: ChartSpec,
    ctx: AddonContext,
    role_arn: str | None,
    queue_name: str,
    custom_networking: bool = False,
    node_repair: bool = False,
    zonal_shift: bool = False,
) -> dict[str, Any]:
    """Chart values (charts/karpenter/values.yaml at 1.14.1): settings.clusterName and settings.interruptionQueue
    (the queue's name), the service account, the system group's placement. The chart's own affinity
    (karpenter.sh/nodepool DoesNotExist) stays: the controller never runs on a node it manages. With VPC CNI custom
    networking the primary ENI carries no pods: settings.reservedENIs "1" keeps Karpenter's max-pods and
    kube-reserved right (the chart's comment on reservedENIs). settings.featureGates.nodeRepair (alpha, off by
    default in the chart) and settings.enableZonalShift (the controller then skips zones ARC has shifted away
    from; its read is the policy's ZonalShiftStatus statement) follow the config."""
    place = ctx.placement
    settings: dict[str, Any] = {"clusterName": ctx.cluster_name, "interruptionQueue": queue_name}
    if custom_networking:
        settings["reservedENIs"] = "1"
    if node_repair:
        settings["featureGates"] = {"nodeRepair": True}
    if zonal_shift:
        settings["enableZonalShift"] = True
    return {
        "settings": settings,
        # The controller asks IMDS for the region only when the SDK has none (pkg/operator/operator.go, v1.14.1):
        # on nodes with a hop limit of 1 it could not, so the chart's controller.env gives it.
        "controller": {"env": [{"name": "AWS_REGION", "value": ctx.region}]},
        "serviceAccount": service_account_values(ServiceAccount(spec.namespace, spec.service_account), role_arn),
        "nodeSelector": {"kubernetes.io/os": "linux", **place["nodeSelector"]},
        "tolerations": place["tolerations"],
    }


@dataclass(frozen=True)
class KarpenterArgs(HelmAddonArgs):
    pools: Mapping[str, KarpenterGroup] = field(default_factory=dict)
    node_role_name: pulumi.Input[str] = ""
    # a brought VPC: the EC2NodeClass selects its private subnets by id (the program does not tag them)
    subnet_ids: pulumi.Input[Sequence[str]] = ()


class Karpenter(HelmAddon):
    TYPE = "eks-platform:addons:Karpenter"

    @staticmethod
    def _node_class_spec(ctx: AddonContext, group: KarpenterGroup, resolved: list[Any]) -> dict[str, Any]:
        """The EC2NodeClass spec once the node role's name and the subnet ids are known."""
        role_name, subnet_ids = resolved
        return model.ec2_node_class(
            group,
            cluster_name=ctx.cluster_name,
            kubernetes_version=ctx.kubernetes_version,
            role_name=role_name,
            tags=ctx.aws.tags,
            subnet_ids=list(subnet_ids or ()),
        )

    def extras(self, name: str, args: HelmAddonArgs) -> None:
        assert isinstance(args, KarpenterArgs)
        ctx = args.context
        opts = pulumi.ResourceOptions(parent=self, provider=ctx.k8s_provider, depends_on=[self.release])
        self.node_classes: dict[str, k8s.apiextensions.CustomResource] = {}
        self.node_pools: dict[str, k8s.apiextensions.CustomResource] = {}
        labels = {"app.kubernetes.io/managed-by": "eks-platform"}
        for key, group in sorted(args.pools.items()):
            spec = pulumi.Output.all(args.node_role_name, args.subnet_ids).apply(
                functools.partial(self._node_class_spec, ctx, group)
            )
            self.node_classes[key] = k8s.apiextensions.CustomResource(
                f"{name}-{key}-class",
                api_version=model.NODECLASS_API,
                kind="EC2NodeClass",
                metadata={
                    "name": key,
                    "labels": {**labels, GROUP_LABEL: key},
                    **({"annotations": r} if (r := imds_reason(group)) else {}),
                },
                spec=spec,
                opts=opts,
            )
            self.node_pools[key] = k8s.apiextensions.CustomResource(
                f"{name}-{key}-pool",
                api_version=model.NODEPOOL_API,
                kind="NodePool",
                metadata={"name": key, "labels": {**labels, GROUP_LABEL: key}},
                spec=model.node_pool(group),
                opts=pulumi.ResourceOptions.merge(
                    opts, pulumi.ResourceOptions(depends_on=[self.release, self.node_classes[key]])
                ),
            )


def build(name: str, ctx: AddonContext, cfg: PlatformConfig, built: Mapping[str, HelmAddon]) -> Karpenter | None:
    """With the node pools' role and interruption queue (``ctx.karpenter_nodes``) only."""
    config, nodes = cfg.addons.karpenter, ctx.karpenter_nodes
    if not config.enabled or nodes is None:
        return None
    pools = cfg.karpenter_pools
    subnet_ids = list(cfg.network.existing.private_subnet_ids) if cfg.network.existing else []
    custom_networking, zonal_shift = cfg.network.custom_networking, cfg.cluster.zonal_shift
    spec = catalog()[KEY]
    queue_name = model.interruption_queue_name(ctx.cluster_name)
    document = pulumi.Output.all(nodes.role.role_arn, nodes.queue.queue_arn).apply(
        lambda v: iam_policy_json(policy(ctx.aws, ctx.cluster_name, v[0], v[1], zonal_shift))
    )
    return Karpenter(
        name,
        KarpenterArgs(
            spec=spec,
            config=config,
            context=ctx,
            values=lambda resolved: values(
                spec, ctx, resolved["roleArn"], queue_name, custom_networking, config.node_repair, zonal_shift
            ),
            policies={"controller": document},
            # the queue and node role (with its access entry) exist before the controller starts
            depends_on=[nodes],
            pools=dict(pools),
            node_role_name=nodes.role.role_name,
            subnet_ids=subnet_ids,
        ),
    )
