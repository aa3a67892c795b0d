"""Kubernetes objects users write in config: label selectors, quantities, and the namespaces the platform owns
(Pod Security Admission levels, quotas, limit ranges, a default-deny network policy)."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import model_validator

from components.config.base import (
    DNS_LABEL,
    LABEL_KEY_SCHEMA,
    LabelKey,
    LabelValue,
    Model,
    Problems,
    checked,
    label_key_problem,
    problem,
    raising,
    show,
    text,
)

# Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity), parsed with the kubernetes client's
# parse_quantity; the pattern is for the JSON Schema.
QUANTITY = r"[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)?"


def quantity(value: str) -> Decimal | None:
    """The value of a Kubernetes quantity, or None when it is not one."""
    from kubernetes.utils import parse_quantity

    if not re.fullmatch(QUANTITY, value):
        return None
    try:
        return Decimal(parse_quantity(value))
    except (ValueError, ArithmeticError):
        return None


def quantity_value(value: str) -> Decimal:
    """The value of a quantity the config has already checked (a ValueError if it is not one)."""
    parsed = quantity(value)
    if parsed is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    return parsed


def _quantity(value: str) -> str:
    if quantity(value) is None:
        raise problem(f"{show(value)} is not a Kubernetes quantity (100m, 1, 512Mi, 2Gi)")
    return value


Quantity = Annotated[str, checked(_quantity, {"type": "string", "pattern": f"^{QUANTITY}$"})]

# Namespaces are RFC 1123 labels (k8s.io/apimachinery/pkg/util/validation IsDNS1123Label).
Namespace = Annotated[
    str, text(DNS_LABEL, "a namespace name (RFC 1123 label: 1-63 lowercase letters, digits, -)", max_len=63)
]


class SelectorRequirement(Model):
    key: LabelKey
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[LabelValue, ...] = ()

    @model_validator(mode="after")
    def _values(self) -> SelectorRequirement:
        # metav1.LabelSelectorRequirement: In/NotIn need values, Exists/DoesNotExist take none.
        found = Problems()
        if self.operator in ("In", "NotIn") and not self.values:
            found.add("values", f"is required with operator {self.operator}")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            found.add("values", f"must be empty with operator {self.operator}")
        found.check()
        return self


class LabelSelector(Model):
    """A Kubernetes label selector (metav1.LabelSelector)."""

    match_labels: dict[LabelKey, LabelValue] = {}
    match_expressions: tuple[SelectorRequirement, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> LabelSelector:
        if not self.match_labels and not self.match_expressions:
            found = Problems()
            found.add("", "selects everything: give matchLabels or matchExpressions")
            found.check()
        return self

    def manifest(self) -> dict:
        out: dict = {}
        if self.match_labels:
            out["matchLabels"] = dict(sorted(self.match_labels.items()))
        if self.match_expressions:
            out["matchExpressions"] = [
                {"key": e.key, "operator": e.operator, **({"values": sorted(e.values)} if e.values else {})}
                for e in self.match_expressions
            ]
        return out


# -- namespaces the platform owns ----------------------------------------------------------
# Namespaces Kubernetes itself makes: never declared, never created by the platform.
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
# Pod Security Admission (kubernetes.io/docs/concepts/security/pod-security-admission): a level per mode, set by
# namespace labels pod-security.kubernetes.io/<mode> and <mode>-version.
PSA_PREFIX = "pod-security.kubernetes.io/"
PsaLevel = Literal["privileged", "baseline", "restricted"]
PSA_ORDER = {"privileged": 0, "baseline": 1, "restricted": 2}
AnnotationValue = Annotated[
    str,
    text(
        r"[\x20-\x7e]{0,4096}",
        "an annotation value (printable ASCII, at most 4096 characters)",
        max_len=4096,
        min_len=0,
    ),
]
LimitResource = Literal["cpu", "memory", "ephemeral-storage"]


class PodSecurity(Model):
    """Pod Security Admission levels of the namespace (labels pod-security.kubernetes.io/<mode>, with the version
    pinned to the cluster's minor)."""

    enforce: PsaLevel = "baseline"
    """Pods that break this level are refused."""
    warn: PsaLevel = "restricted"
    """Pods that break this level are admitted with a warning to the client."""
    audit: PsaLevel = "restricted"
    """Pods that break this level are admitted with an audit-log annotation."""


def _quota_resource(value: str) -> str | None:
    """Why ``value`` is not a ResourceQuota key: a qualified resource name (pods, requests.cpu,
    count/deployments.apps, <class>.storageclass.storage.k8s.io/requests.storage), or None."""
    if label_key_problem(value) is not None:
        return "is not a resource name (pods, requests.cpu, limits.memory, count/deployments.apps)"
    return None


QuotaResource = Annotated[str, checked(raising(_quota_resource), LABEL_KEY_SCHEMA)]


class ResourceQuota(Model):
    """A ResourceQuota named ``platform`` in the namespace."""

    hard: dict[QuotaResource, Quantity] = {}
    """Hard limits per resource name (requests.cpu: "20", limits.memory: 64Gi, pods: "100", count/services: "20")."""

    @model_validator(mode="after")
    def _not_empty(self) -> ResourceQuota:
        if not self.hard:
            found = Problems()
            found.add("hard", "is empty: a quota limits at least one resource")
            found.check()
        return self


class LimitRange(Model):
    """A LimitRange named ``platform``: per-container defaults and bounds (type Container)."""

    default: dict[LimitResource, Quantity] = {}
    """Limits a container gets when it sets none."""
    default_request: dict[LimitResource, Quantity] = {}
    """Requests a container gets when it sets none."""
    max: dict[LimitResource, Quantity] = {}
    """The most a container may set as its limit."""
    min: dict[LimitResource, Quantity] = {}
    """The least a container may request."""

    @model_validator(mode="after")
    def _ordered(self) -> LimitRange:
        # the API server's LimitRange validation (pkg/apis/core/validation ValidateLimitRange): min <= defaultRequest
        # <= default <= max, per resource
        found = Problems()
        if not (self.default or self.default_request or self.max or self.min):
            found.add("", "is empty: set default, defaultRequest, max or min")
        chain = (
            ("min", self.min),
            ("defaultRequest", self.default_request),
            ("default", self.default),
            ("max", self.max),
        )
        for resource in ("cpu", "memory", "ephemeral-storage"):
            present = [(key, values[resource]) for key, values in chain if resource in values]
            for (low_key, low), (high_key, high) in itertools.pairwise(present):
                if (quantity(low) or 0) > (quantity(high) or 0):
                    found.add(
                        (high_key, resource),
                        f"{show(high)} is below {low_key} {show(low)}; Kubernetes refuses "
                        f"a LimitRange whose {low_key} exceeds its {high_key}",
                    )
        found.check()
        return self


class NetworkPolicy(Model):
    """Network policies the platform puts in the namespace (enforced by the VPC CNI's network policy agent)."""

    default_deny: bool = False
    """A NetworkPolicy named default-deny selecting every pod, for ingress and egress, except DNS to CoreDNS; the
    platform's load balancers that target the namespace get their own allow rule."""


class NamespaceConfig(Model):
    """A namespace the platform owns: created before anything the platform places in it, kept on destroy
    (retainOnDelete), so a `pulumi destroy` never deletes an application's workloads."""

    create: bool = True
    """Create it. false: it is made elsewhere (createdBy says by what); the platform only places objects in it."""
    created_by: Annotated[str, text(r"[\x20-\x7e]{1,256}", "a short statement (printable ASCII)")] | None = None
    """With create: false, what creates it before the platform's first `pulumi up` (an Argo CD application, a
    team's pipeline): required when the platform places anything in it."""
    labels: dict[LabelKey, LabelValue] = {}
    """Labels (e.g. eks-platform/external-secrets: allowed, to read through the ClusterSecretStores)."""
    annotations: dict[LabelKey, AnnotationValue] = {}
    """Annotations."""
    pod_security: PodSecurity = PodSecurity()
    """Pod Security Admission levels: enforce baseline, warn and audit restricted unless set."""
    resource_quota: ResourceQuota | None = None
    """A ResourceQuota."""
    limit_range: LimitRange | None = None
    """Container defaults and bounds."""
    network_policy: NetworkPolicy = NetworkPolicy()
    """A default-deny NetworkPolicy (DNS still allowed)."""

    @model_validator(mode="after")
    def _shape(self) -> NamespaceConfig:
        found = Problems()
        for key in sorted(self.labels):
            if key.startswith(PSA_PREFIX):
                found.add(("labels", key), "is set by podSecurity")
            elif key == "kubernetes.io/metadata.name":
                found.add(("labels", key), "is set by Kubernetes to the namespace's name")
        if self.create and self.created_by is not None:
            found.add("createdBy", "applies with create: false only")
        if not self.create:
            managed = {
                "labels": self.labels,
                "annotations": self.annotations,
                "resourceQuota": self.resource_quota,
                "limitRange": self.limit_range,
                "networkPolicy": self.network_policy != NetworkPolicy() or None,
                "podSecurity": self.pod_security != PodSecurity() or None,
            }
            for key, value in managed.items():
                if value:
                    found.add(key, "applies only to a namespace the platform creates (create is false)")
        found.check()
        return self
