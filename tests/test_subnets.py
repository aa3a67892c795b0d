"""Subnet carving: exact layouts, invariants over many inputs, and the reasons a layout can't fit."""

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.config import subnets


def test_default_layout_of_a_16_with_three_zones():
    layout = subnets.carve("10.0.0.0/16", ("a", "b", "c"), 4)
    assert layout.block_prefix == 18
    assert layout.prefixes == {"private": 19, "public": 22, "intra": 24}
    assert [(s.tier, s.zone, s.cidr) for s in layout.subnets] == [
        ("private", "a", "10.0.0.0/19"),
        ("public", "a", "10.0.32.0/22"),
        ("intra", "a", "10.0.36.0/24"),
        ("private", "b", "10.0.64.0/19"),
        ("public", "b", "10.0.96.0/22"),
        ("intra", "b", "10.0.100.0/24"),
        ("private", "c", "10.0.128.0/19"),
        ("public", "c", "10.0.160.0/22"),
        ("intra", "c", "10.0.164.0/24"),
    ]
    # The fourth block (10.0.192.0/18) is left for a future zone.
    assert layout.blocks == ("10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18")


def test_adding_a_zone_does_not_move_existing_subnets():
    two = subnets.carve("10.0.0.0/16", ("a", "b"), 4)
    three = subnets.carve("10.0.0.0/16", ("a", "b", "c"), 4)
    assert set(two.subnets) <= set(three.subnets)


def test_explicit_prefixes_are_placed_largest_first():
    layout = subnets.carve("172.16.0.0/20", ("a", "b"), 2, {"private": 22, "public": 24, "intra": 23})
    assert [(s.tier, s.cidr) for s in layout.tier("intra")] == [("intra", "172.16.4.0/23"), ("intra", "172.16.12.0/23")]
    assert [s.cidr for s in layout.tier("public")] == ["172.16.6.0/24", "172.16.14.0/24"]


@pytest.mark.parametrize(
    ("cidr", "zones", "max_azs", "prefixes", "key", "fragment"),
    [
        ("10.0.0.0/33", 2, 4, {}, "cidr", "is not a valid IPv4 network"),
        ("10.0.0.1/16", 2, 4, {}, "cidr", 'did you mean "10.0.0.0/16"'),
        ("8.8.0.0/16", 2, 4, {}, "cidr", "is not private address space"),
        ("10.0.0.0/12", 2, 4, {}, "cidr", "between /16 and /28"),
        ("10.0.0.0/16", 5, 4, {}, "maxAvailabilityZones", "smaller than the 5"),
        ("10.0.0.0/27", 2, 4, {}, "cidr", "too small to split into 4"),
        ("10.0.0.0/16", 2, 4, {"private": 17}, "subnetPrefixLengths.private", "must be between /18"),
        (
            "10.0.0.0/16",
            2,
            4,
            {"private": 19, "public": 19, "intra": 19},
            "subnetPrefixLengths",
            "need 24576 addresses",
        ),
        ("100.64.0.0/16", 2, 4, {}, None, None),
    ],
)
def test_layout_problems(cidr, zones, max_azs, prefixes, key, fragment):
    problems = subnets.layout_problems(cidr, zones, max_azs, prefixes)
    if key is None:
        assert problems == []
    else:
        assert any(k == key and fragment in m for k, m in problems), problems


def test_carve_refuses_a_layout_that_does_not_fit():
    with pytest.raises(ValueError, match="maxAvailabilityZones"):
        subnets.carve("10.0.0.0/16", ("a", "b", "c"), 2)


@st.composite
def layouts(draw):
    base = draw(st.sampled_from(["10.0.0.0", "172.16.0.0", "192.168.0.0", "100.64.0.0"]))
    prefix = draw(st.integers(16, 24))
    zones = draw(st.integers(2, 6))
    max_azs = draw(st.integers(zones, 8))
    overrides = {t: draw(st.one_of(st.none(), st.integers(prefix, 28))) for t in subnets.TIERS}
    return f"{base}/{prefix}", [f"z{i}" for i in range(zones)], max_azs, overrides


@settings(max_examples=300, deadline=None)
@given(layouts())
def test_carved_subnets_never_overlap_and_stay_in_their_blocks(case):
    cidr, zones, max_azs, overrides = case
    if subnets.layout_problems(cidr, len(zones), max_azs, overrides):
        with pytest.raises(ValueError):
            subnets.carve(cidr, zones, max_azs, overrides)
        return
    layout = subnets.carve(cidr, zones, max_azs, overrides)
    vpc = ipaddress.IPv4Network(cidr)
    nets = [ipaddress.IPv4Network(s.cidr) for s in layout.subnets]
    assert len(nets) == 3 * len(zones)
    for i, a in enumerate(nets):
        assert a.subnet_of(vpc)
        assert 16 <= a.prefixlen <= 28
        for b in nets[i + 1 :]:
            assert not a.overlaps(b)
    for s in layout.subnets:
        assert ipaddress.IPv4Network(s.cidr).subnet_of(ipaddress.IPv4Network(layout.blocks[s.zone_index]))
    # Same input, same output: no hidden state.
    assert subnets.carve(cidr, zones, max_azs, overrides) == layout
