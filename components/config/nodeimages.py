"""Node images chosen on purpose: the catalog (platform/node-images.yaml) and the SSM parameters of a release.

A release is pinned per Kubernetes minor x OS x architecture. Managed groups take it as their
``releaseVersion``; self-managed groups read the AMI id of *that* release from its versioned public
SSM parameter, never the moving "recommended"/"latest" one, so an unrelated `pulumi up` rolls no node.
"""

from __future__ import annotations

import functools
import re

from components.config import datafiles
from components.config.datafiles import PLATFORM

CATALOG = PLATFORM / "node-images.yaml"
CATALOG_NAME = "platform/node-images.yaml"
OPERATING_SYSTEMS = ("al2023", "bottlerocket")
ARCHITECTURES = ("x86_64", "arm64")


@functools.cache
def catalog() -> dict[str, dict[str, dict[str, str]]]:
    return parse(CATALOG.read_text())


def parse(text: str) -> dict[str, dict[str, dict[str, str]]]:
    """minor -> os -> architecture -> release, every key and value a string."""
    raw = datafiles.loads(text) or {}
    return {
        str(minor): {os_: {arch: str(v) for arch, v in by_arch.items()} for os_, by_arch in by_os.items()}
        for minor, by_os in raw.items()
    }


def release(kubernetes_version: str, os_: str, architecture: str) -> str | None:
    return catalog().get(kubernetes_version, {}).get(os_, {}).get(architecture)


def missing_problem(kubernetes_version: str, os_: str, architecture: str) -> str | None:
    if release(kubernetes_version, os_, architecture) is None:
        return (
            f"{CATALOG_NAME} has no {os_} {architecture} image for Kubernetes {kubernetes_version} "
            f'(key "{kubernetes_version}".{os_}.{architecture}); add it or run `python -m tools.node_images '
            "--refresh`"
        )
    return None


def image_parameter(kubernetes_version: str, os_: str, architecture: str, version: str) -> str:
    """The public SSM parameter holding the AMI id of exactly this release."""
    if os_ == "bottlerocket":
        return f"/aws/service/bottlerocket/aws-k8s-{kubernetes_version}/{architecture}/{version}/image_id"
    date = re.fullmatch(r"[0-9.]+-([0-9]{8})", version)
    if not date:
        raise ValueError(f"{version!r} is not an AL2023 EKS AMI release (<kubernetes patch>-<YYYYMMDD>)")
    image = f"amazon-eks-node-al2023-{architecture}-standard-{kubernetes_version}-v{date.group(1)}"
    return f"/aws/service/eks/optimized-ami/{kubernetes_version}/amazon-linux-2023/{architecture}/standard/{image}/image_id"


def recommended_parameter(kubernetes_version: str, os_: str, architecture: str) -> str:
    """Where AWS publishes the current release (read by tools/node_images.py --refresh)."""
    if os_ == "bottlerocket":
        return f"/aws/service/bottlerocket/aws-k8s-{kubernetes_version}/{architecture}/latest/image_version"
    return (
        f"/aws/service/eks/optimized-ami/{kubernetes_version}/amazon-linux-2023/{architecture}/standard/"
        "recommended/release_version"
    )
