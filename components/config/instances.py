"""EC2 instance types: the pulumi-aws SDK's own enum, and what a type's name says about it.

The SDK's ``ec2.InstanceType`` enum is the list the provider knows at the pinned version, so
``m7i.huge`` or a typo is refused before AWS sees it (bump pulumi-aws for new families). It is read from
platform/ec2-instance-types.yaml, generated from the enum (``python -m tools.instance_types``; a test keeps them
equal), so loading the config does not execute the SDK's ``ec2`` package.
The architecture follows AWS's naming convention (EC2 User Guide, "Instance type naming
conventions"): after the generation digit, ``g`` means an AWS Graviton (arm64) processor
(m7g, c7gn, r8gd, g5g, im4gn); ``a1`` is the first Graviton family, ``mac2*`` Apple silicon.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated

from components.config import datafiles
from components.config.base import checked, raising

INSTANCE_TYPES: frozenset[str] = frozenset(datafiles.load(datafiles.PLATFORM / "ec2-instance-types.yaml"))


def family(instance_type: str) -> str:
    """``m7i.large`` -> ``m7i``; ``c7i-flex.large`` -> ``c7i-flex``."""
    return instance_type.split(".", 1)[0]


@functools.cache
def architecture(instance_type: str) -> str:
    fam = family(instance_type)
    if fam == "a1" or fam.startswith("mac2") or re.fullmatch(r"[a-z]+[0-9]+g[a-z-]*", fam):
        return "arm64"
    return "x86_64"


# Karpenter's instance-category and instance-generation labels (aws/karpenter-provider-aws v1.14.1,
# pkg/providers/instancetype/types.go instanceTypeScheme: ``(^[a-z]+)(\-[0-9]+tb)?([0-9]+).*\.``).
_SCHEME = re.compile(r"([a-z]+)(-[0-9]+tb)?([0-9]+)")


def category_and_generation(instance_type: str) -> tuple[str, int] | None:
    """``m7i.large`` -> ("m", 7); ``u-6tb1.metal`` -> ("u", 1): the labels Karpenter gives the type."""
    m = _SCHEME.match(family(instance_type))
    return (m.group(1), int(m.group(3))) if m else None


@functools.cache
def category_architectures(category: str, min_generation: int | None = None) -> frozenset[str]:
    """The architectures of the known types of a Karpenter instance category (from a generation on)."""
    out = set()
    for t in INSTANCE_TYPES:
        found = category_and_generation(t)
        if found and found[0] == category and (min_generation is None or found[1] >= min_generation):
            out.add(architecture(t))
    return frozenset(out)


def burstable(instance_type: str) -> bool:
    """The t family (t3, t3a, t4g...): no branch ENIs, so no security groups for pods."""
    return re.fullmatch(r"t[0-9][a-z]*", family(instance_type)) is not None


# Families on the Xen hypervisor (EC2 User Guide, "Instances built on the AWS Nitro System": every family not listed
# there). Branch ENIs (security groups for pods) need a Nitro instance outside the t family (EKS user guide,
# "Security groups for Pods"; the VPC resource controller marks only those types trunking-compatible).
XEN_FAMILIES = frozenset(
    {
        "c1",
        "c3",
        "c4",
        "d2",
        "f1",
        "g2",
        "g3",
        "g3s",
        "h1",
        "i2",
        "i3",
        "m1",
        "m2",
        "m3",
        "m4",
        "p2",
        "p3",
        "r3",
        "r4",
        "t1",
        "t2",
        "x1",
        "x1e",
    }
)


def branch_eni_problem(instance_type: str) -> str | None:
    """Why nodes of ``instance_type`` cannot give pods their own security groups, or None."""
    if burstable(instance_type):
        return "is a burstable (t family) type, which has no branch ENIs for pods with security groups"
    if family(instance_type) in XEN_FAMILIES and not instance_type.endswith(".metal"):
        return "runs on the Xen hypervisor, which has no branch ENIs for pods with security groups (use a Nitro type)"
    return None


# Branch ENIs per node (pods with their own security groups) of the general-purpose, compute and memory families of
# generations 5-8 (m/c/r, any suffix but the high-frequency "z" ones) up to 4xlarge: uniform there in the VPC resource
# controller's limits (aws/amazon-vpc-resource-controller-k8s pkg/aws/vpc/limits.go, BranchInterface). Larger sizes
# and other families vary: None, and the plan says so.
_BRANCH_ENIS_BY_SIZE = {"medium": 4, "large": 9, "xlarge": 18, "2xlarge": 38, "4xlarge": 54}


def branch_enis(instance_type: str) -> int | None:
    fam, _, size = instance_type.partition(".")
    if re.fullmatch(r"[mcr][5-8][a-y-]*", fam) and "z" not in fam:
        return _BRANCH_ENIS_BY_SIZE.get(size)
    return None


def instance_type_problem(value: str) -> str | None:
    if value not in INSTANCE_TYPES:
        return "is not an EC2 instance type known to pulumi-aws (e.g. m7i.large)"
    return None


InstanceType = Annotated[str, checked(raising(instance_type_problem), {"enum": sorted(INSTANCE_TYPES)})]
