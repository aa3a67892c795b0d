"""The add-on catalog (platform/addons.yaml) and static policy templates (platform/iam/), as data."""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config import datafiles
from components.config.datafiles import PLATFORM


@dataclass(frozen=True)
class ChartSpec:
    key: str
    # components/addons/<module>.py builds it; the names of its component and its role after the cluster's
    module: str
    component_suffix: str
    role_suffix: str
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
    # The Kubernetes versions the chart supports: its Chart.yaml kubeVersion (a Helm semver range), or, where the
    # chart declares none, the project's documented compatibility (cited in platform/addons.yaml).
    kube_version: str | None = None

    def kube_version_problem(self, minor: str) -> str | None:
        """Why the chart cannot run on Kubernetes ``minor``, or None."""
        if self.image_tags and minor not in self.image_tags:
            return (
                f"{self.chart} {self.version} has no image for Kubernetes {minor} in platform/addons.yaml "
                f"(imageTags: {', '.join(sorted(self.image_tags))}); its minor must match the cluster's"
            )
        if self.kube_version and not kube_version_allows(self.kube_version, minor):
            return (
                f"{self.chart} {self.version} supports Kubernetes {self.kube_version}, not {minor} "
                "(platform/addons.yaml kubeVersion); bump the chart or stay on a supported minor"
            )
        return None

    @property
    def release_name(self) -> str:
        """The Helm release name: the chart's own name (what its docs and dashboards expect)."""
        return self.chart.rsplit("/", 1)[-1]


@functools.cache
def catalog() -> dict[str, ChartSpec]:
    raw = datafiles.load(PLATFORM / "addons.yaml")
    return {
        key: ChartSpec(
            key=key,
            module=entry["module"],
            component_suffix=entry["componentSuffix"],
            role_suffix=entry["roleSuffix"],
            chart=entry["chart"],
            repository=entry.get("repository"),
            version=str(entry["version"]),
            namespace=entry["namespace"],
            service_account=entry["serviceAccount"],
            timeout_seconds=int(entry.get("timeoutSeconds", 300)),
            values=entry.get("values") or {},
            image_tags={str(k): str(v) for k, v in (entry.get("imageTags") or {}).items()},
            crds=tuple(str(url).format(version=entry["version"]) for url in entry.get("crds") or ()),
            kube_version=entry.get("kubeVersion"),
        )
        for key, entry in raw.items()
    }


def kube_version_allows(constraint: str, minor: str) -> bool:
    """Whether Kubernetes ``minor`` (``1.35``, as ``1.35.0``) satisfies a Helm ``kubeVersion`` range: comparators
    joined by spaces or commas (all must hold), alternatives by ``||``; partial versions are padded (``1.16-0`` is
    ``1.16.0-0``, which admits 1.16's pre-releases, as EKS's ``v1.35.0-eks-...`` versions are)."""
    import semver

    version = semver.Version.parse(f"{minor}.0")
    for alternative in constraint.split("||"):
        comparators = re.findall(r"(>=|<=|!=|==|>|<|=)?\s*v?([0-9]+(?:\.[0-9]+){0,2}(?:-[0-9A-Za-z.]+)?)", alternative)
        if comparators and all(version.match(f"{'==' if op in ('', '=') else op}{_pad(v)}") for op, v in comparators):
            return True
    return False


def _pad(version: str) -> str:
    core, dash, pre = version.partition("-")
    parts = core.split(".")
    return ".".join([*parts, *["0"] * (3 - len(parts))]) + (dash + pre if dash else "")


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
        out: dict[str, Any] = {
            "Sid": st["sid"],
            "Effect": "Allow",
            "Action": sorted(st["actions"]),
            "Resource": fill(st["resources"]),
        }
        if st.get("condition"):
            out["Condition"] = fill(st["condition"])
        statements.append(out)
    return {"Version": "2012-10-17", "Statement": statements}
