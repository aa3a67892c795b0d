"""Namespaces the platform owns: created before what it places in them, retained on destroy, PSA-labelled."""

from __future__ import annotations

import pytest

from components import namespaces as nsmod
from components.config.kube import LimitRange, NamespaceConfig
from components.config.workloads import LoadBalancer
from tests.helpers import config_model, minimal_config, run_main

NS = "kubernetes:core/v1:Namespace"
NLB = {
    "type": "network",
    "scheme": "internal",
    "listeners": [{"port": 443, "protocol": "TCP"}],
    "target": {"namespace": "shop", "service": "web", "port": 443, "targetPort": 8443},
}


# ---------------------------------------------------------------------------------------
# decisions
# ---------------------------------------------------------------------------------------
def test_labels_carry_pod_security_pinned_to_the_clusters_minor():
    ns = config_model(NamespaceConfig, labels={"team": "shop"}, podSecurity={"enforce": "restricted"})
    assert nsmod.labels(ns, "1.35") == {
        "app.kubernetes.io/managed-by": "eks-platform",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "v1.35",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "v1.35",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "v1.35",
        "team": "shop",
    }
    assert nsmod.labels(NamespaceConfig(), "1.34")["pod-security.kubernetes.io/enforce"] == "baseline"


def test_default_deny_still_allows_dns_to_coredns():
    assert nsmod.default_deny_spec() == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }
        ],
    }


def test_a_load_balancer_is_allowed_in_on_its_pod_and_health_check_ports():
    lb = config_model(LoadBalancer, **{**NLB, "healthCheck": {"port": 9000}})
    assert nsmod.load_balancer_allow_spec(lb, "10.0.0.0/16") == {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [{"ipBlock": {"cidr": "10.0.0.0/16"}}],
                "ports": [{"protocol": "TCP", "port": 8443}, {"protocol": "TCP", "port": 9000}],
            }
        ],
    }
    udp = config_model(
        LoadBalancer, **{**NLB, "listeners": [{"port": 53, "protocol": "UDP"}], "allowedCidrs": ["10.9.0.0/16"]}
    )
    assert nsmod.load_balancer_allow_spec(udp, "10.0.0.0/16")["ingress"][0]["from"] == [
        {"ipBlock": {"cidr": "10.0.0.0/16"}},
        {"ipBlock": {"cidr": "10.9.0.0/16"}},
    ]  # UDP keeps the client's address


def test_limit_range_is_one_container_item():
    limits = config_model(
        LimitRange,
        defaultRequest={"cpu": "100m", "memory": "128Mi"},
        default={"memory": "512Mi"},
        max={"memory": "2Gi"},
    )
    assert nsmod.limit_range_spec(limits) == {
        "limits": [
            {
                "type": "Container",
                "default": {"memory": "512Mi"},
                "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                "max": {"memory": "2Gi"},
            }
        ]
    }


# ---------------------------------------------------------------------------------------
# the plan
# ---------------------------------------------------------------------------------------
def depends_on(rec, urn: str, target: str) -> bool:
    """Whether ``urn`` waits for ``target``, directly or through what it waits for."""
    by_urn = {r.urn: r for r in rec.resources}
    seen, todo = set(), [urn]
    while todo:
        current = todo.pop()
        if current == target:
            return True
        if current in seen or current not in by_urn:
            continue
        seen.add(current)
        todo += by_urn[current].dependencies
    return False


def test_prod_creates_storefront_and_ledger_before_their_bindings(prod):
    namespaces = {r.inputs["metadata"]["name"]: r for r in prod.by_type(NS)}
    assert set(namespaces) == {"ledger", "storefront", "external-secrets", "external-dns"}  # the add-ons' own too
    for name, ns in namespaces.items():
        assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
        # workload namespaces are kept on destroy; an add-on's goes with the add-on
        assert ns.retain_on_delete == (name in ("ledger", "storefront"))
    for binding in prod.by_type("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"):
        assert namespaces[binding.inputs["metadata"]["namespace"]].urn in binding.dependencies


def test_every_namespaced_object_the_platform_creates_waits_for_its_namespace(prod, dev):
    for rec in (prod, dev):
        created = {r.inputs["metadata"]["name"]: r.urn for r in rec.by_type(NS)}
        for r in rec.resources:
            namespace = (r.inputs.get("metadata") or {}).get("namespace") if r.type.startswith("kubernetes:") else None
            if not namespace or namespace == "kube-system":
                continue
            if namespace in created:
                assert depends_on(rec, r.urn, created[namespace]), (r.name, namespace)
            else:
                raise AssertionError(f"{r.name} is in {namespace}, which the platform does not create")
        for rel in rec.by_type("kubernetes:helm.sh/v3:Release"):
            assert rel.inputs["createNamespace"] is False
            if rel.inputs["namespace"] != "kube-system":
                assert depends_on(rec, rel.urn, created[rel.inputs["namespace"]]), rel.name


def test_declared_namespace_with_quota_limits_and_default_deny():
    raw = minimal_config(
        workloads={
            "namespaces": {
                "shop": {
                    "labels": {"eks-platform/external-secrets": "allowed"},
                    "annotations": {"owner": "shop-team"},
                    "resourceQuota": {"hard": {"requests.cpu": "20", "pods": "100"}},
                    "limitRange": {"defaultRequest": {"cpu": "100m"}, "default": {"cpu": "500m"}},
                    "networkPolicy": {"defaultDeny": True},
                }
            },
            "loadBalancers": {"web": NLB},
        }
    )
    rec = run_main(raw)
    (ns,) = rec.by_type(NS)
    assert ns.inputs["metadata"]["annotations"] == {"owner": "shop-team"}
    assert ns.inputs["metadata"]["labels"]["eks-platform/external-secrets"] == "allowed"
    (quota,) = rec.by_type("kubernetes:core/v1:ResourceQuota")
    assert quota.inputs["metadata"] == {
        "name": "platform",
        "namespace": "shop",
        "labels": {"app.kubernetes.io/managed-by": "eks-platform"},
    }
    assert quota.inputs["spec"] == {"hard": {"pods": "100", "requests.cpu": "20"}}
    (limits,) = rec.by_type("kubernetes:core/v1:LimitRange")
    assert limits.inputs["spec"]["limits"][0]["default"] == {"cpu": "500m"}
    policies = {p.inputs["metadata"]["name"]: p for p in rec.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert set(policies) == {"default-deny", "allow-load-balancer-web"}
    assert policies["allow-load-balancer-web"].inputs["spec"]["ingress"][0]["from"] == [
        {"ipBlock": {"cidr": rec.outputs["vpcCidr"]}}
    ]
    for r in (quota, limits, *policies.values()):
        assert ns.urn in r.dependencies


@pytest.mark.parametrize("mechanism", ["podIdentity", "irsa"])
def test_a_workload_identitys_namespace_is_created_first(mechanism):
    raw = minimal_config(
        workloads={
            "identities": {
                "app": {
                    "namespace": "orders",
                    "serviceAccount": "api",
                    "mechanism": mechanism,
                    "policyArns": ["arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"],
                }
            }
        }
    )
    rec = run_main(raw)
    (ns,) = rec.by_type(NS)
    assert ns.inputs["metadata"]["name"] == "orders"
    associations = rec.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    mine = [a for a in associations if a.inputs["namespace"] == "orders"]
    assert len(mine) == (1 if mechanism == "podIdentity" else 0)
    assert all(ns.urn in a.dependencies for a in mine)


def test_a_namespace_made_elsewhere_is_not_created():
    raw = minimal_config(
        workloads={
            "namespaces": {"shop": {"create": False, "createdBy": "Argo CD app shop"}},
            "loadBalancers": {"web": NLB},
        }
    )
    rec = run_main(raw)
    assert rec.by_type(NS) == []
    (binding,) = rec.by_type("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
    assert binding.inputs["metadata"]["namespace"] == "shop"
