"""The add-on catalog (platform/addons.yaml) and static policy templates (platform/iam/), as data."""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components import datafiles
from components.datafiles import PLATFORM


@dataclass(frozen=True)
class ChartSpec:
    key: str
    chart: str
    repository: str | None
    version: str
    namespace: str
    service_account: str
    timeout_seconds: int
    values: Mapping[str, Any] = field(default_factory=dict)
    image_tags: Mapping[str, str] = field(default_factory=dict)
    # The chart's CRD manifests at exactly this version (applied by the program, not by Helm: Helm installs
    # a chart's crds/ once and never upgrades them).
    crds: tuple[str, ...] = ()

    @property
    def release_name(self) -> str:
        """The Helm release name: the chart's own name (what its docs and dashboards expect)."""
        return self.chart.rsplit("/", 1)[-1]


# The name suffix of each add-on's component (and so of its children, its role among them).
COMPONENT_SUFFIXES = {
    "clusterAutoscaler": "cluster-autoscaler",
    "awsLoadBalancerController": "aws-load-balancer-controller",
    "externalSecrets": "external-secrets",
    "externalDns": "external-dns",
    "nodeTerminationHandler": "node-termination-handler",
    "karpenter": "karpenter",
}


# The logical name of each add-on's role after the cluster name (<cluster>-<suffix>): short, so the autonamed IAM
# role (64 characters with its 8-character random suffix) leaves room for a long cluster name.
ROLE_SUFFIXES = {
    "clusterAutoscaler": "ca-role",
    "awsLoadBalancerController": "lbc-role",
    "externalSecrets": "secrets-role",
    "externalDns": "dns-role",
    "nodeTerminationHandler": "nth-role",
    "karpenter": "karpenter-role",
}


@functools.cache
def catalog() -> dict[str, ChartSpec]:
    raw = datafiles.load(PLATFORM / "addons.yaml")
    return {
        key: ChartSpec(
            key=key,
            chart=entry["chart"],
            repository=entry.get("repository"),
            version=str(entry["version"]),
            namespace=entry["namespace"],
            service_account=entry["serviceAccount"],
            timeout_seconds=int(entry.get("timeoutSeconds", 300)),
            values=entry.get("values") or {},
            image_tags={str(k): str(v) for k, v in (entry.get("imageTags") or {}).items()},
            crds=tuple(str(url).format(version=entry["version"]) for url in entry.get("crds") or ()),
        )
        for key, entry in raw.items()
    }


@functools.cache
def _policy_template(name: str) -> list[dict[str, Any]]:
    return datafiles.load(PLATFORM / "iam" / f"{name}.yaml")["statements"]


def policy_document(name: str, substitutions: Mapping[str, str]) -> dict[str, Any]:
    """A static policy template from platform/iam/ as an IAM document, placeholders filled in."""

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return string.Template(value).substitute(substitutions)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {fill(k): fill(v) for k, v in value.items()}
        return value

    statements = []
    for st in _policy_template(name):
        out: dict[str, Any] = {"Sid": st["sid"], "Effect": "Allow", "Action": sorted(st["actions"]),
                               "Resource": fill(st["resources"])}
        if st.get("condition"):
            out["Condition"] = fill(st["condition"])
        statements.append(out)
    return {"Version": "2012-10-17", "Statement": statements}
