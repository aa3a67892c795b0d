"""Namespaces the platform owns: created before anything the platform places in them, kept on destroy.

A TargetGroupBinding, a SecurityGroupPolicy or a workload identity needs its namespace to exist on the first
`pulumi up` of a new cluster, so the platform creates every namespace it places something in (docs/operations.md,
"Namespaces"). Each gets Pod Security Admission labels (enforce baseline, warn and audit restricted, the version
pinned to the cluster's minor), and optionally a ResourceQuota, a LimitRange and a default-deny NetworkPolicy that
still lets pods resolve names. ``retainOnDelete``: `pulumi destroy` (or removing it from config) leaves the
namespace, and the application workloads in it, in the cluster.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import LoadBalancer
from components.config.kube import PSA_PREFIX, LimitRange, NamespaceConfig

MANAGED_BY = {"app.kubernetes.io/managed-by": "eks-platform"}
PLATFORM_OBJECT = "platform"  # the name of the namespace's ResourceQuota and LimitRange
DEFAULT_DENY = "default-deny"
# CoreDNS in EKS: the kube-dns pods of kube-system (the coredns add-on's Deployment labels)
DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}


def labels(ns: NamespaceConfig, kubernetes_version: str) -> dict[str, str]:
    """The namespace's labels: the user's, the Pod Security Admission levels (version pinned to the cluster's minor,
    so an upgrade is a reviewed label change, not a silent policy change) and the platform's own."""
    out = dict(ns.labels)
    for mode in ("enforce", "warn", "audit"):
        out[f"{PSA_PREFIX}{mode}"] = getattr(ns.pod_security, mode)
        out[f"{PSA_PREFIX}{mode}-version"] = f"v{kubernetes_version}"
    out.update(MANAGED_BY)
    return dict(sorted(out.items()))


def limit_range_spec(limits: LimitRange) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "Container"}
    for key, values in (
        ("default", limits.default),
        ("defaultRequest", limits.default_request),
        ("max", limits.max),
        ("min", limits.min),
    ):
        if values:
            item[key] = dict(sorted(values.items()))
    return {"limits": [item]}


def default_deny_spec() -> dict[str, Any]:
    """Every pod of the namespace: no ingress, egress only to CoreDNS on port 53 (UDP and TCP)."""
    return {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [{"to": [DNS_PEER], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}],
    }


def load_balancer_allow_spec(lb: LoadBalancer, vpc_cidr: str) -> dict[str, Any]:
    """Ingress to the pods' traffic and health-check ports (an ip target group registers the pods themselves) from
    the load balancer's own addresses, in the VPC's CIDR; for UDP also from its clients, since a network load
    balancer keeps the client's address on UDP (ELB user guide, "Client IP preservation")."""
    ports = [{"protocol": "UDP" if proto == "udp" else "TCP", "port": port} for proto, port in lb.target_ports]
    udp = any(proto == "udp" for proto, _ in lb.target_ports)
    sources = [vpc_cidr, *(c for c in lb.allowed_cidrs if udp and c != vpc_cidr)]
    return {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"ipBlock": {"cidr": cidr}} for cidr in sources], "ports": ports}],
    }


@dataclass(frozen=True)
class NamespacesArgs:
    namespaces: Mapping[str, NamespaceConfig]
    kubernetes_version: str
    k8s_provider: k8s.Provider
    # the platform's load balancers, for the allow rules of default-deny namespaces they target
    load_balancers: Mapping[str, LoadBalancer]
    vpc_cidr: pulumi.Input[str]


class Namespaces(pulumi.ComponentResource):
    """Every namespace the platform creates, with its quota, limit range and network policies."""

    TYPE = "eks-platform:workloads:Namespaces"

    namespaces: dict[str, k8s.core.v1.Namespace]

    def __init__(self, name: str, args: NamespacesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self._args = args
        self.namespaces = {}
        for ns_name, ns in sorted(args.namespaces.items()):
            self.namespaces[ns_name] = namespace = self._namespace(name, ns_name, ns)
            self._contents(name, ns_name, ns, namespace)
        self.register_outputs({"names": sorted(self.namespaces)})

    def _opts(self, *after: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.k8s_provider, depends_on=list(after), **extra)

    def _namespace(self, name: str, ns_name: str, ns: NamespaceConfig) -> k8s.core.v1.Namespace:
        metadata: dict[str, Any] = {"name": ns_name, "labels": labels(ns, self._args.kubernetes_version)}
        if ns.annotations:
            metadata["annotations"] = dict(sorted(ns.annotations.items()))
        # retained: deleting it would delete every workload in it
        return k8s.core.v1.Namespace(f"{name}-{ns_name}", metadata=metadata, opts=self._opts(retain_on_delete=True))

    def _contents(self, name: str, ns_name: str, ns: NamespaceConfig, namespace: k8s.core.v1.Namespace) -> None:
        meta = {"name": PLATFORM_OBJECT, "namespace": ns_name, "labels": MANAGED_BY}
        if ns.resource_quota is not None:
            k8s.core.v1.ResourceQuota(
                f"{name}-{ns_name}-quota",
                metadata=meta,
                spec={"hard": dict(sorted(ns.resource_quota.hard.items()))},
                opts=self._opts(namespace),
            )
        if ns.limit_range is not None:
            k8s.core.v1.LimitRange(
                f"{name}-{ns_name}-limits",
                metadata=meta,
                spec=limit_range_spec(ns.limit_range),
                opts=self._opts(namespace),
            )
        if not ns.network_policy.default_deny:
            return
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{ns_name}-{DEFAULT_DENY}",
            metadata={**meta, "name": DEFAULT_DENY},
            spec=default_deny_spec(),
            opts=self._opts(namespace),
        )
        for key, lb in sorted(self._args.load_balancers.items()):
            if lb.target.namespace == ns_name and lb.target.target_type == "ip":
                k8s.networking.v1.NetworkPolicy(
                    f"{name}-{ns_name}-allow-lb-{key}",
                    metadata={**meta, "name": f"allow-load-balancer-{key}"},
                    spec=pulumi.Output.from_input(self._args.vpc_cidr).apply(
                        functools.partial(load_balancer_allow_spec, lb)
                    ),
                    opts=self._opts(namespace),
                )
