"""The critical-path estimate: on a small synthetic graph, and on the real prod plan."""

from dataclasses import dataclass, field

import pytest

from tools import critical_path as cp
from tools import plan


@dataclass
class R:
    urn: str
    type: str = "t"
    custom: bool = True
    dependencies: list = field(default_factory=list)
    inputs: dict = field(default_factory=dict)

    @property
    def name(self):
        return self.urn


def cost(table):
    return lambda r: table[r.urn]


def test_longest_weighted_chain_wins():
    # a(1) -> b(10) -> d(1);  a -> c(2) -> d;  e(5) alone
    graph = [R("a"), R("b", dependencies=["a"]), R("c", dependencies=["a"]), R("d", dependencies=["b", "c"]), R("e")]
    times = {"a": 1, "b": 10, "c": 2, "d": 1, "e": 5}
    chain = cp.critical_path(graph, cost(times))
    assert [s.urn for s in chain] == ["a", "b", "d"]
    assert [s.finish for s in chain] == [1, 11, 12]
    finish, _ = cp.finish_times(graph, cost(times))
    assert finish == {"a": 1, "b": 11, "c": 3, "d": 12, "e": 5}


def test_parallel_branches_do_not_add_up():
    graph = [R("root"), *[R(f"x{i}", dependencies=["root"]) for i in range(5)]]
    times = {"root": 10, **{f"x{i}": 7 for i in range(5)}}
    assert cp.critical_path(graph, cost(times))[-1].finish == 17


def test_ties_are_broken_deterministically():
    graph = [R("a"), R("b"), R("c", dependencies=["b", "a"])]
    times = {"a": 5, "b": 5, "c": 1}
    assert [s.urn for s in cp.critical_path(graph, cost(times))] == ["a", "c"]


def test_cycles_are_reported():
    with pytest.raises(ValueError, match="cycle"):
        cp.finish_times([R("a", dependencies=["b"]), R("b", dependencies=["a"])], cost({"a": 1, "b": 1}))


def test_typical_times():
    assert cp.seconds(R("x", type="aws:eks/cluster:Cluster")) == 570
    assert cp.seconds(R("x", type="aws:autoscaling/group:Group", inputs={"minSize": 0})) == cp.EMPTY_ASG_SECONDS
    assert cp.seconds(R("x", type="aws:ec2/vpcEndpoint:VpcEndpoint", inputs={"vpcEndpointType": "Gateway"})) == 10
    assert cp.seconds(R("x", type="eks-platform:x:Y", custom=False)) == 0


def test_prod_estimate_runs_through_the_control_plane(prod):
    chain = cp.critical_path(prod.resources)
    types = [s.type for s in chain]
    assert "aws:eks/cluster:Cluster" in types
    assert "aws:eks/nodeGroup:NodeGroup" in types
    assert types[-1].startswith("kubernetes:")
    assert 12 * 60 < chain[-1].finish < 25 * 60
    assert "Estimated wall time: " in cp.report(prod.resources)


def test_addon_releases_install_in_parallel(prod):
    finish, _ = cp.finish_times(prod.resources)
    releases = [r for r in prod.resources if r.type == "kubernetes:helm.sh/v3:Release"]
    assert len(releases) == 5
    starts = {r.name: finish[r.urn] - cp.seconds(r) for r in releases}
    # Every release can start the moment the system nodes are there (with their CA tags): same start, as CoreDNS.
    assert len(set(starts.values())) == 1, starts
    coredns = prod.one("aws:eks/addon:Addon", "eks-platform-prod-coredns")
    assert set(starts.values()) == {finish[coredns.urn] - cp.seconds(coredns)}


def test_the_first_up_of_every_stack_is_estimated_under_15_minutes():
    from tests.helpers import stack_names, stack_recording

    for stack in stack_names():
        finish, _ = cp.finish_times(stack_recording(stack).resources)
        assert max(finish.values()) <= 15 * 60, (stack, max(finish.values()))


def test_cli_flag(capsys):
    assert plan.main(["dev", "--quiet", "--critical-path"]) == 0
    out = capsys.readouterr().out
    assert "Critical path of a first `pulumi up`" in out and "Estimated wall time:" in out
