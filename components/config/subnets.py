"""Deterministic subnet carving: a pure function from the VPC CIDR to per-AZ tiers.

Layout (the seed layouts' "each AZ gets its own block"):

* the VPC CIDR is split into ``max_azs`` rounded up to a power of two equal blocks;
  AZ *i* owns block *i*, blocks past the AZ count stay free so an AZ can be added later
  without renumbering anything;
* inside its block an AZ gets one subnet per tier, largest first (so every subnet is
  aligned on its own size), in the fixed tier order private, public, intra; the rest of
  the block is spare room for growth.

With a /16 VPC and the defaults: AZ blocks /18, private /19 (8,187 usable addresses for
nodes and pods), public /22, intra /24, and a /19-sized remainder per AZ left free.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TIERS: tuple[str, ...] = ("private", "public", "intra")
# Default size of each tier, in extra prefix bits relative to the AZ block.
DEFAULT_NEW_BITS: Mapping[str, int] = {"private": 1, "public": 4, "intra": 6}
# AWS limits: a VPC/subnet CIDR is between /16 and /28.
AWS_MIN_PREFIX = 16
AWS_MAX_PREFIX = 28

PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


@dataclass(frozen=True)
class SubnetSpec:
    tier: str
    zone: str
    zone_index: int
    cidr: str


@dataclass(frozen=True)
class SubnetLayout:
    vpc_cidr: str
    block_prefix: int
    prefixes: Mapping[str, int]
    blocks: tuple[str, ...]
    subnets: tuple[SubnetSpec, ...]

    def tier(self, tier: str) -> tuple[SubnetSpec, ...]:
        return tuple(s for s in self.subnets if s.tier == tier)


def block_prefix(vpc_prefix: int, max_azs: int) -> int:
    """Prefix length of one AZ block when the VPC is shared by up to ``max_azs`` AZs."""
    return vpc_prefix + max(0, math.ceil(math.log2(max(1, max_azs))))


def tier_prefixes(vpc_prefix: int, max_azs: int, overrides: Mapping[str, int | None]) -> dict[str, int]:
    """The prefix length of each tier: the override, or the default relative to the AZ block."""
    base = block_prefix(vpc_prefix, max_azs)
    out = {}
    for tier in TIERS:
        given = overrides.get(tier)
        out[tier] = given if given is not None else min(AWS_MAX_PREFIX, base + DEFAULT_NEW_BITS[tier])
    return out


def is_private(network: ipaddress.IPv4Network) -> bool:
    return any(network.subnet_of(r) for r in PRIVATE_RANGES)


def _vpc_network(vpc_cidr: str) -> ipaddress.IPv4Network | str:
    """The VPC's network, or why ``vpc_cidr`` is not one."""
    try:
        return ipaddress.IPv4Network(vpc_cidr, strict=True)
    except ValueError:
        try:
            loose = ipaddress.IPv4Network(vpc_cidr, strict=False)
        except ValueError:
            return f'"{vpc_cidr}" is not a valid IPv4 network'
        return f'"{vpc_cidr}" has host bits set (did you mean "{loose}"?)'


def layout_problems(
    vpc_cidr: str, zone_count: int, max_azs: int, overrides: Mapping[str, int | None]
) -> list[tuple[str, str]]:
    """Why the layout cannot be carved, as (config key relative to network, message) pairs."""
    vpc = _vpc_network(vpc_cidr)
    if isinstance(vpc, str):
        return [("cidr", vpc)]
    problems: list[tuple[str, str]] = []
    if not is_private(vpc):
        problems.append(
            (
                "cidr",
                f'"{vpc_cidr}" is not private address space (use 10.0.0.0/8, 172.16.0.0/12, '
                "192.168.0.0/16 or 100.64.0.0/10)",
            )
        )
    if not AWS_MIN_PREFIX <= vpc.prefixlen <= AWS_MAX_PREFIX:
        problems.append(("cidr", f'"{vpc_cidr}" must have a prefix between /16 and /28 (an AWS VPC limit)'))
        return problems
    if max_azs < zone_count:
        problems.append(
            ("maxAvailabilityZones", f"{max_azs} is smaller than the {zone_count} availability zones in use")
        )
        return problems
    base = block_prefix(vpc.prefixlen, max_azs)
    if base > AWS_MAX_PREFIX:
        problems.append(("cidr", f'"{vpc_cidr}" is too small to split into {max_azs} availability-zone blocks'))
        return problems
    return problems + _tier_problems(vpc_cidr, vpc.prefixlen, base, tier_prefixes(vpc.prefixlen, max_azs, overrides))


def _tier_problems(vpc_cidr: str, vpc_prefix: int, base: int, prefixes: Mapping[str, int]) -> list[tuple[str, str]]:
    """Why the tiers' prefixes do not fit one availability zone's /``base`` block of ``vpc_cidr``."""
    problems: list[tuple[str, str]] = []
    for tier in TIERS:
        p = prefixes[tier]
        if p < base or p > AWS_MAX_PREFIX:
            problems.append(
                (
                    f"subnetPrefixLengths.{tier}",
                    f"/{p} must be between /{base} (one availability-zone block of {vpc_cidr}) and /{AWS_MAX_PREFIX}",
                )
            )
    if problems:
        return problems
    need = sum(2 ** (32 - prefixes[t]) for t in TIERS)
    have = 2 ** (32 - base)
    if need > have:
        sizes = ", ".join(f"{t} /{prefixes[t]}" for t in TIERS)
        problems.append(
            (
                "subnetPrefixLengths",
                f"the tiers ({sizes}) need {need} addresses per availability zone but each zone's block "
                f"of {vpc_cidr} split {2 ** (base - vpc_prefix)} ways is a /{base} ({have} addresses)",
            )
        )
    return problems


# Ranges a secondary VPC CIDR for pods may come from (EKS user guide, "Custom networking": 100.64.0.0/10 and
# 198.19.0.0/16 are the ranges meant for it). The VPC guide's association restrictions ("VPC CIDR blocks",
# "IPv4 CIDR block association restrictions") also decide: a VPC whose primary CIDR is in an RFC 1918 range may add
# more of that range (never another RFC 1918 range) and 198.19.0.0/16; one whose primary is in 100.64.0.0/10 may add
# neither RFC 1918 nor 198.19.0.0/16.
SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
BENCHMARK_RANGE = ipaddress.IPv4Network("198.19.0.0/16")
RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def pod_ranges(vpc_cidr: str) -> tuple[ipaddress.IPv4Network, ...]:
    """The ranges a pod CIDR may be taken from, given the VPC's primary CIDR."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    same = tuple(r for r in RFC1918 if vpc.subnet_of(r))
    benchmark = () if vpc.subnet_of(SHARED_ADDRESS_SPACE) else (BENCHMARK_RANGE,)
    return (SHARED_ADDRESS_SPACE, *benchmark, *same)


def pod_cidr_problems(pod_cidr: str, vpc_cidr: str, max_azs: int) -> list[str]:
    """Why ``pod_cidr`` cannot be the pod CIDR of a VPC whose primary CIDR is ``vpc_cidr`` (valid CIDRs both)."""
    pod, vpc = ipaddress.IPv4Network(pod_cidr), ipaddress.IPv4Network(vpc_cidr)
    if not AWS_MIN_PREFIX <= pod.prefixlen <= AWS_MAX_PREFIX:
        return [f'"{pod_cidr}" must have a prefix between /16 and /28 (an AWS VPC CIDR block limit)']
    ranges = pod_ranges(vpc_cidr)
    if not any(pod.subnet_of(r) for r in ranges):
        return [
            f'"{pod_cidr}" is not in {" or ".join(map(str, ranges))} (the ranges a VPC with primary CIDR '
            f"{vpc_cidr} may add for pods)"
        ]
    if pod.overlaps(vpc):
        return [f'"{pod_cidr}" overlaps network.cidr "{vpc_cidr}"']
    if block_prefix(pod.prefixlen, max_azs) > AWS_MAX_PREFIX:
        return [
            f'"{pod_cidr}" is too small to split into {max_azs} availability-zone blocks of at least /{AWS_MAX_PREFIX}'
        ]
    return []


def pod_subnets(pod_cidr: str, zones: Sequence[str], max_azs: int) -> tuple[SubnetSpec, ...]:
    """Zone *i* gets block *i* of the pod CIDR whole, as the VPC's own blocks are laid out (free blocks stay room
    for zones added later)."""
    pod = ipaddress.IPv4Network(pod_cidr)
    blocks = list(pod.subnets(new_prefix=block_prefix(pod.prefixlen, max_azs)))
    return tuple(SubnetSpec("pod", zone, i, str(blocks[i])) for i, zone in enumerate(zones))


def carve(
    vpc_cidr: str, zones: Sequence[str], max_azs: int, overrides: Mapping[str, int | None] | None = None
) -> SubnetLayout:
    """Carve the layout; call ``layout_problems`` first (this raises ValueError on bad input)."""
    overrides = overrides or {}
    problems = layout_problems(vpc_cidr, len(zones), max_azs, overrides)
    if problems:
        raise ValueError("; ".join(f"{k}: {m}" for k, m in problems))
    vpc = ipaddress.IPv4Network(vpc_cidr)
    base = block_prefix(vpc.prefixlen, max_azs)
    prefixes = tier_prefixes(vpc.prefixlen, max_azs, overrides)
    blocks = list(vpc.subnets(new_prefix=base))
    # Largest first keeps every subnet aligned on its own size; ties keep the tier order.
    order = sorted(TIERS, key=lambda t: (prefixes[t], TIERS.index(t)))
    subnets: list[SubnetSpec] = []
    for index, zone in enumerate(zones):
        block = blocks[index]
        offset = 0
        placed: dict[str, str] = {}
        for tier in order:
            net = ipaddress.IPv4Network((int(block.network_address) + offset, prefixes[tier]))
            placed[tier] = str(net)
            offset += net.num_addresses
        subnets.extend(SubnetSpec(t, zone, index, placed[t]) for t in TIERS)
    return SubnetLayout(
        vpc_cidr=str(vpc),
        block_prefix=base,
        prefixes=dict(prefixes),
        blocks=tuple(str(b) for b in blocks[: len(zones)]),
        subnets=tuple(subnets),
    )
