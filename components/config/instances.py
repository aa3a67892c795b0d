"""EC2 instance types: the pulumi-aws SDK's own enum, and what a type's name says about it.

The SDK's ``ec2.InstanceType`` enum is the list the provider knows at the pinned version, so
``m7i.huge`` or a typo is refused before AWS sees it (bump pulumi-aws for new families).
The architecture follows AWS's naming convention (EC2 User Guide, "Instance type naming
conventions"): after the generation digit, ``g`` means an AWS Graviton (arm64) processor
(m7g, c7gn, r8gd, g5g, im4gn); ``a1`` is the first Graviton family, ``mac2*`` Apple silicon.
"""

from __future__ import annotations

import functools
import re

from pulumi_aws.ec2 import InstanceType as _SdkInstanceType

from components.config.base import checked, raising

INSTANCE_TYPES: frozenset[str] = frozenset(t.value for t in _SdkInstanceType)


def family(instance_type: str) -> str:
    """``m7i.large`` -> ``m7i``; ``c7i-flex.large`` -> ``c7i-flex``."""
    return instance_type.split(".", 1)[0]


@functools.cache
def architecture(instance_type: str) -> str:
    fam = family(instance_type)
    if fam == "a1" or fam.startswith("mac2") or re.fullmatch(r"[a-z]+[0-9]+g[a-z-]*", fam):
        return "arm64"
    return "x86_64"


def burstable(instance_type: str) -> bool:
    """The t family (t3, t3a, t4g...): no branch ENIs, so no security groups for pods."""
    return re.fullmatch(r"t[0-9][a-z]*", family(instance_type)) is not None


def instance_type_problem(value: str) -> str | None:
    if value not in INSTANCE_TYPES:
        return "is not an EC2 instance type known to pulumi-aws (e.g. m7i.large)"
    return None


InstanceType = checked(str, raising(instance_type_problem), {"enum": sorted(INSTANCE_TYPES)})
