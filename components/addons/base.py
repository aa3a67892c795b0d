"""HelmAddon: one Helm release with its role, values merged from catalog, cluster and stack.

values = catalog defaults  <-  values computed from the cluster context  <-  stack overrides
(deep merge, right wins). The service account written into the values is the one the role's
trust policy (and, with EKS Pod Identity, its association) names: all come from one
``ServiceAccount`` object.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import HelmAddonConfig, NodeGroupConfig
from components.config.charts import ChartSpec
from components.config.kube import SYSTEM_NAMESPACES, NamespaceConfig
from components.config.nodetags import GROUP_LABEL
from components.context import AwsContext
from components.identity import (
    ServiceAccount,
    ServiceAccountRole,
    ServiceAccountRoleArgs,
    service_account_annotations,
)
from components.namespaces import labels as namespace_labels
from components.nodegroups.karpenter import KarpenterNodes


# ---------------------------------------------------------------------------------------
# pure helpers
# ---------------------------------------------------------------------------------------
def deep_merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Merge mappings left to right; nested mappings merge, anything else is replaced."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = deep_merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
    return out


def node_selector(group: NodeGroupConfig | None) -> dict[str, str]:
    return {GROUP_LABEL: group.name} if group else {}


def tolerations(group: NodeGroupConfig | None) -> list[dict[str, str]]:
    """Tolerations for exactly the group's taints (same objects as the node's taints)."""
    if group is None:
        return []
    out = []
    for t in group.taints:
        if t.value:
            out.append({"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect})
        else:
            out.append({"key": t.key, "operator": "Exists", "effect": t.effect})
    return out


def placement(group: NodeGroupConfig | None) -> dict[str, Any]:
    """nodeSelector + tolerations that put a chart's pods on the system node group."""
    return {"nodeSelector": node_selector(group), "tolerations": tolerations(group)}


def service_account_values(sa: ServiceAccount, role_arn: str | None) -> dict[str, Any]:
    """The chart's serviceAccount block: ``role_arn`` is the IRSA role (None with Pod Identity: no annotation)."""
    return {"create": True, "name": sa.name, "annotations": service_account_annotations(role_arn)}


def iam_policy_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------------------------------
# context and component
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AddonContext:
    """Everything an add-on may need from the platform, passed as one object."""

    cluster_name: str
    kubernetes_version: str
    region: str
    vpc_id: pulumi.Input[str]
    # The cluster resource's name (an Output: what waits for the cluster) and the default identity mechanism.
    cluster: pulumi.Input[str]
    identity: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer_url: pulumi.Input[str]
    k8s_provider: k8s.Provider
    system_group: NodeGroupConfig | None
    aws: AwsContext
    # What every release waits for: the system node group and CoreDNS.
    depends_on: Sequence[pulumi.Resource] = ()
    termination_queue_url: pulumi.Input[str] | None = None
    termination_queue_arn: pulumi.Input[str] | None = None
    self_managed_asg_names: tuple[str, ...] = ()
    # the Auto Scaling groups of the groups that run on spot (cluster-autoscaler tries them first)
    spot_asg_names: Sequence[pulumi.Input[str]] = ()
    # Karpenter's node role and interruption queue (a stack with Karpenter pools only)
    karpenter_nodes: KarpenterNodes | None = None

    @property
    def placement(self) -> dict[str, Any]:
        return placement(self.system_group)


@dataclass(frozen=True)
class HelmAddonArgs:
    spec: ChartSpec
    config: HelmAddonConfig
    context: AddonContext
    # values computed from the context: called with the resolved ``inputs`` plus "roleArn"
    # (the IRSA role's ARN for the service account annotation, or None), so Outputs never leak into the values.
    values: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    inputs: Mapping[str, pulumi.Input[Any]] = field(default_factory=dict)
    # IAM policy documents (JSON strings or Outputs of them) keyed by a short name; none -> no role
    policies: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()


CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def take_over_crds(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """CRDs that Helm installed (a cluster made before the program applied them) change managers.

    ``pulumi.com/patchForce`` makes the server-side apply take the fields Helm's client-side create
    owns, instead of failing on the conflict (pulumi-kubernetes, "Server-side apply": patchForce).
    """
    if args.type_ != CRD_TYPE:
        return None
    props: dict[str, Any] = dict(args.props)
    metadata = dict(props.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), "pulumi.com/patchForce": "true"}
    return pulumi.ResourceTransformResult(props={**args.props, "metadata": metadata}, opts=args.opts)


class HelmAddon(pulumi.ComponentResource):
    """A Helm release (``kubernetes.helm.v3.Release``) and the role its service account uses (EKS Pod Identity or
    IRSA, ``config.identity``)."""

    TYPE = "eks-platform:addons:HelmAddon"

    release: k8s.helm.v3.Release
    release_name: str
    namespace: str
    chart_version: str
    role: ServiceAccountRole | None
    role_arn: pulumi.Output[str] | None
    service_account: ServiceAccount
    mechanism: str

    def __init__(self, name: str, args: HelmAddonArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        spec, ctx = args.spec, args.context
        self.service_account = ServiceAccount(spec.namespace, spec.service_account)
        self.mechanism = getattr(args.config, "identity", None) or ctx.identity
        self.role = self._role(name, args)
        self.namespace_resource = self._namespace(name, spec, ctx)
        # The association exists before the pods: the Pod Identity webhook injects credentials at admission.
        before = [
            *([self.role] if self.role else []),
            *([self.namespace_resource] if self.namespace_resource else []),
            *self.prerequisites(name, args),
        ]
        self.crds = self._crds(name, spec, ctx)
        if self.crds is not None:
            before.append(self.crds)
        self.release = self._release(name, args, self.role.annotation_arn if self.role else None, before)
        self.release_name = spec.release_name
        self.namespace = spec.namespace
        self.chart_version = spec.version
        self.role_arn = self.role.role_arn if self.role else None
        self.extras(name, args)
        self.register_outputs(self.outputs())

    def _role(self, name: str, args: HelmAddonArgs) -> ServiceAccountRole | None:
        """The add-on's AWS role, when it calls AWS APIs (``args.policies``)."""
        if not args.policies:
            return None
        spec, ctx = args.spec, args.context
        return ServiceAccountRole(
            f"{ctx.cluster_name}-{spec.role_suffix}",
            ServiceAccountRoleArgs(
                service_account=self.service_account,
                mechanism=self.mechanism,
                cluster_name=ctx.cluster_name,
                cluster=ctx.cluster,
                ctx=ctx.aws,
                oidc_provider_arn=ctx.oidc_provider_arn,
                oidc_issuer_url=ctx.oidc_issuer_url,
                policies=args.policies,
                description=f"{spec.release_name} in {ctx.cluster_name}",
                formerly=f"{name}-irsa",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _namespace(self, name: str, spec: ChartSpec, ctx: AddonContext) -> k8s.core.v1.Namespace | None:
        """The add-on's own namespace (not kube-system), with the platform's Pod Security labels: created by the
        program rather than by Helm (``create_namespace``), which would make it bare."""
        if spec.namespace in SYSTEM_NAMESPACES:
            return None
        return k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": spec.namespace, "labels": namespace_labels(NamespaceConfig(), ctx.kubernetes_version)},
            opts=pulumi.ResourceOptions(parent=self, provider=ctx.k8s_provider),
        )

    def _release(
        self, name: str, args: HelmAddonArgs, role_arn: pulumi.Input[str] | None, before: list[pulumi.Resource]
    ) -> k8s.helm.v3.Release:
        """The release: the catalog's values, the add-on's own (given the resolved inputs), the stack's overrides."""
        spec, ctx = args.spec, args.context
        values = pulumi.Output.all(roleArn=role_arn, **args.inputs).apply(
            lambda resolved: deep_merge(spec.values, args.values(resolved), args.config.values)
        )
        return k8s.helm.v3.Release(
            name,
            name=spec.release_name,
            chart=spec.chart,
            version=spec.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=spec.repository) if spec.repository else None,
            namespace=spec.namespace,
            create_namespace=False,  # the namespace is ours (_namespace), or kube-system
            atomic=True,
            cleanup_on_fail=True,
            timeout=spec.timeout_seconds,
            max_history=10,
            skip_crds=bool(spec.crds),  # the program applies them (self.crds), at the chart's version
            values=values,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=ctx.k8s_provider,
                depends_on=[*ctx.depends_on, *args.depends_on, *before],
            ),
        )

    def _crds(self, name: str, spec: ChartSpec, ctx: AddonContext) -> k8s.yaml.v2.ConfigGroup | None:
        """The chart's CRDs at its version, so a chart bump upgrades them (Helm never upgrades crds/)."""
        if not spec.crds:
            return None
        return k8s.yaml.v2.ConfigGroup(
            f"{name}-crds",
            files=list(spec.crds),
            opts=pulumi.ResourceOptions(
                parent=self, provider=ctx.k8s_provider, depends_on=list(ctx.depends_on), transforms=[take_over_crds]
            ),
        )

    def prerequisites(self, name: str, args: HelmAddonArgs) -> list[pulumi.Resource]:
        """Resources the release needs first (e.g. a secret its pods mount)."""
        return []

    def extras(self, name: str, args: HelmAddonArgs) -> None:
        """Resources an add-on adds after its release (custom resources of its CRDs)."""

    def outputs(self) -> dict[str, Any]:
        return {
            "releaseName": self.release_name,
            "namespace": self.namespace,
            "chartVersion": self.chart_version,
            "roleArn": self.role_arn,
            "identity": self.mechanism if self.role else None,
        }
