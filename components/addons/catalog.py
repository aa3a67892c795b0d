"""The add-on catalog (platform/addons.yaml) and static policy templates (platform/iam/), as data."""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PLATFORM = Path(__file__).resolve().parent.parent.parent / "platform"


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

    @property
    def release_name(self) -> str:
        """The Helm release name: the chart's own name (what its docs and dashboards expect)."""
        return self.chart.rsplit("/", 1)[-1]


@functools.cache
def catalog() -> dict[str, ChartSpec]:
    raw = yaml.safe_load((PLATFORM / "addons.yaml").read_text())
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
        )
        for key, entry in raw.items()
    }


@functools.cache
def _policy_template(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((PLATFORM / "iam" / f"{name}.yaml").read_text())["statements"]


def policy_document(name: str, substitutions: Mapping[str, str]) -> dict[str, Any]:
    """A static policy template from platform/iam/ as an IAM document, placeholders filled in."""

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return string.Template(value).substitute(substitutions)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    statements = []
    for st in _policy_template(name):
        out: dict[str, Any] = {"Sid": st["sid"], "Effect": "Allow", "Action": sorted(st["actions"]),
                               "Resource": fill(st["resources"])}
        if st.get("condition"):
            out["Condition"] = fill(st["condition"])
        statements.append(out)
    return {"Version": "2012-10-17", "Statement": statements}
