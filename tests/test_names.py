"""Physical names: one table of AWS limits, one function that fits every name under them.

Names that fit are what they always were (autonamed, or the natural explicit name); longer ones are cut and end in a
hash of the whole natural name, so any cluster name EKS accepts and any key the schema accepts plans.
"""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from components import names
from tests.helpers import ADMIN, ROOT, SYSTEM_GROUP, minimal_config, run_main, stack_files
from tools import plan, stackconfig
from tools.mockcloud import EngineError

CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/0b1c2d3e-4f5a-4b7c-8d9e-0f1a2b3c4d5e"
LONGEST_KEY = "k" * 63
EVERYTHING = {
    "network": {"flowLogs": {"enabled": True}},
    "cluster": {
        "endpoint": {"accessHost": {"enabled": True}},
        "access": {"adminRoleArns": [ADMIN], "adminRole": {"create": True}},
    },
    "nodeGroups": {
        "system": {**SYSTEM_GROUP, "iam": {"dedicatedRole": True}},
        "workers": {"kind": "selfManaged", "instanceTypes": ["m7i.large"]},
        LONGEST_KEY: {"kind": "selfManaged", "instanceTypes": ["m7i.large"], "iam": {"dedicatedRole": True}},
        "e" * 63: {"kind": "managed", "instanceTypes": ["m7i.large"], "iam": {"dedicatedRole": True}},
        "p" * 63: {"kind": "karpenter", "instanceCategories": ["m"]},
        "j" * 63: {"kind": "fargate", "selectors": [{"namespace": "jobs"}]},
    },
    "workloads": {
        "identities": {
            "i" * 63: {
                "namespace": "app",
                "serviceAccount": "app",
                "policyArns": ["arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"],
            }
        },
        "loadBalancers": {
            "l" * 63: {
                "type": "network",
                "scheme": "internal",
                "listeners": [{"port": 443, "protocol": "TCP"}],
                "target": {"namespace": "shop", "service": "web", "port": 443},
            }
        },
    },
    "addons": {
        "externalSecrets": {"ssmPathPrefix": "/p/"},
        "externalDns": {"domainFilters": ["a.io"], "hostedZoneIds": ["Z1"]},
    },
    "delivery": {
        "runner": {"enabled": True, "repository": "acme/p", "connectionArn": CONNECTION, "allowedActorIds": [1]}
    },
}


# ---------------------------------------------------------------------------------------
# the engine's limits (the mock cloud applies them to every registration)
# ---------------------------------------------------------------------------------------
def test_an_autoname_over_the_limit_is_the_engines_error():
    logical = "x" * 57
    assert names.engine_problem("aws:iam/role:Role", "x" * 56, {}) is None  # 56 + 8 = 64
    assert names.engine_problem("aws:iam/role:Role", logical, {}) == (
        f"could not make instance of 'aws:iam/role:Role': name '{logical}-' plus 7 random chars is longer than "
        "maximum length 64"
    )


def test_explicit_names_and_forbidden_prefixes():
    assert "is 81 characters; at most 80" in names.engine_problem("aws:sqs/queue:Queue", "q", {"name": "q" * 81})
    assert "may not start with 'internal-'" in names.engine_problem(
        "aws:lb/loadBalancer:LoadBalancer", "lb", {"name": "internal-api"}
    )
    assert names.engine_problem("aws:lifecycle/unknown:Type", "x" * 999, {}) is None
    # A lifecycle hook is never autonamed: no name, nothing to check.
    assert names.engine_problem("aws:autoscaling/lifecycleHook:LifecycleHook", "h" * 300, {}) is None


def test_the_mock_fails_the_plan_when_a_program_forgets_to_fit_a_name(monkeypatch):
    """The mock is the safety net: a resource that bypasses names.autoname fails as `pulumi up` would."""
    monkeypatch.setattr(names, "autoname", lambda *a, **k: {})
    raw = minimal_config(cluster={"name": "c" * 45, "access": {"adminRoleArns": [ADMIN]}})
    with pytest.raises(EngineError, match=r"could not make instance of 'aws:iam/role:Role': name 'c{45}-"):
        run_main(raw)


# ---------------------------------------------------------------------------------------
# the one function: fits stay, long ones are cut and hashed
# ---------------------------------------------------------------------------------------
def test_names_that_fit_do_not_change():
    assert names.autoname(names.ROLE, "eks-platform-prod-cluster") == {}
    assert names.autoname(names.ROLE, "r" * 56) == {}  # 56 + "-" + 7 random = 64
    assert names.explicit(names.QUEUE, "eks-platform-prod-karpenter") == "eks-platform-prod-karpenter"
    assert names.explicit(names.QUEUE, "q" * 80) == "q" * 80
    lb = names.hashed(names.LOAD_BALANCER, "eks-platform-prod-web", "application", "internet-facing")
    assert lb == f"eks-platform-prod-web-{names.digest('application', 'internet-facing')}"


def test_a_long_name_keeps_its_start_and_its_role_and_ends_in_a_hash():
    logical = f"{'acme-payments-europe-production-' * 3}karpenter-nodes"
    ((prop, name),) = names.autoname(names.ROLE, logical).items()
    assert prop == "name" and len(name) == 64
    assert name.startswith("acme-payments-europ") and name.endswith(f"-karpenter-nodes-{names.digest(logical)}")
    assert name == names.autoname(names.ROLE, logical)["name"]  # deterministic: previews never churn
    assert names.explicit(names.QUEUE, "q" * 81) == f"{'q' * 24}-{'q' * 48}-{names.digest('q' * 81)}"


def test_the_property_that_holds_the_name_is_the_providers():
    assert set(names.autoname(names.NODE_GROUP, "n" * 60)) == {"node_group_name"}
    assert set(names.autoname(names.FARGATE_PROFILE, "f" * 60)) == {"fargate_profile_name"}


def test_salt_renames_a_replacement_of_a_shortened_name():
    """A node group's replace-on-change inputs are in its shortened name: a replacement does not collide."""
    long = "n" * 70
    a = names.autoname(names.NODE_GROUP, long, ["m7i.large"], "SPOT")["node_group_name"]
    b = names.autoname(names.NODE_GROUP, long, ["m7i.xlarge"], "SPOT")["node_group_name"]
    assert a != b and len(a) == len(b) == 63
    assert names.autoname(names.NODE_GROUP, "short", ["m7i.large"]) == {}  # fits: the provider's autoname


def test_elbv2_names_take_only_alphanumerics_and_hyphens_and_never_start_internal():
    name = names.hashed(names.LOAD_BALANCER, "My_Cluster-web", "network", "internal")
    assert re.fullmatch(r"[A-Za-z0-9-]{1,32}", name) and name.startswith("My-Cluster-web-")
    name = names.hashed(names.LOAD_BALANCER, "internal-tools-web", "network", "internal")
    assert not name.startswith("internal-") and len(name) <= 32


@settings(max_examples=200, deadline=None)
@given(
    natural=st.from_regex(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}(-[a-z0-9]{1,63}){0,3}", fullmatch=True),
    type_=st.sampled_from(sorted(names.LIMITS)),
)
def test_any_name_fits_its_type(natural, type_):
    limit = names.LIMITS[type_]
    name = names.explicit(type_, natural)
    assert 1 <= len(name) <= limit.max_len
    assert not (limit.forbidden_prefix and name.startswith(limit.forbidden_prefix))
    if limit.charset:
        assert re.fullmatch(f"[{limit.charset}]+", name)
    assert names.engine_problem(type_, "x", {limit.prop: name}) is None
    auto = names.autoname(type_, natural)
    if auto:
        assert names.engine_problem(type_, natural, {limit.prop: auto[names._snake(limit.prop)]}) is None
    else:
        assert names.engine_problem(type_, natural, {}) is None


LONG = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=60, max_size=120).map(lambda s: "a" + s)


@settings(max_examples=200, deadline=None)
@given(a=LONG, b=LONG, at=st.integers(0, 120), char=st.sampled_from("abz09-"))
def test_different_long_names_stay_different(a, b, at, char):
    # two unrelated names, and two that differ in one character anywhere (the middle cut hides the middle)
    nearly = a[:at] + char + a[at + 1 :] if at < len(a) else a + char
    for other in (b, nearly):
        if other != a:
            assert names.explicit(names.ROLE, a) != names.explicit(names.ROLE, other)


# ---------------------------------------------------------------------------------------
# the whole program: any cluster name EKS accepts, any key the schema accepts
# ---------------------------------------------------------------------------------------
def _every_name_fits(recording) -> None:
    for r in recording.resources:
        found = names.physical_name(r.type, r.name, r.inputs)
        if found and not found[1]:
            assert len(found[0]) <= names.LIMITS[r.type].max_len, (r.type, found[0])


@pytest.mark.parametrize("length", [60, 100])
@pytest.mark.parametrize("stack_file", stack_files(), ids=lambda p: p.name)
def test_every_stack_plans_with_a_long_cluster_name(stack_file, length, tmp_path):
    doc = yaml.safe_load(stack_file.read_text())
    doc["config"].setdefault("eks-platform:cluster", {})["name"] = (
        "c" + "-long" * ((length - 1) // 5) + "x" * ((length - 1) % 5)
    )
    copy = tmp_path / stack_file.name
    copy.write_text(yaml.safe_dump(doc))
    recording = plan.run(copy, stackconfig.stack_name_of(copy))  # the mock refuses any name over its limit
    _every_name_fits(recording)
    assert len(recording.by_type("aws:eks/cluster:Cluster")[0].inputs["name"]) == length


def test_the_longest_cluster_name_and_keys_plan():
    raw = {**EVERYTHING, "cluster": {**EVERYTHING["cluster"], "name": "n" * 100}}
    recording = run_main(raw, stack="all")
    _every_name_fits(recording)
    roles = [r.inputs["name"] for r in recording.by_type("aws:iam/role:Role")]
    assert len(roles) == len(set(roles)) and all(len(n) == 64 for n in roles)
    (group,) = [r for r in recording.by_type("aws:eks/nodeGroup:NodeGroup") if r.name.endswith("e" * 63)]
    assert len(group.inputs["nodeGroupName"]) == 63


def test_a_32_character_load_balancer_key_plans():
    key = "orders-api-internal-balancer-32c"
    assert len(key) == 32
    raw = minimal_config(
        cluster={"name": "eks-platform-staging", "access": {"adminRoleArns": [ADMIN]}},
        workloads={"loadBalancers": {key: EVERYTHING["workloads"]["loadBalancers"]["l" * 63]}},
    )
    recording = run_main(raw, stack="staging")
    (lb,) = recording.by_type("aws:lb/loadBalancer:LoadBalancer")
    assert len(lb.inputs["name"]) == 32 and lb.inputs["name"].startswith("eks-plat")


def test_the_names_section_exists():
    assert "\n## Names\n" in (ROOT / "docs" / "architecture.md").read_text()
