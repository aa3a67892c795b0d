"""AWS name limits: one table, applied to what the program registers and to the cluster name in config."""

from __future__ import annotations

import pytest

from components import names
from tests.conftest import ADMIN, SYSTEM_GROUP, minimal_config, run_main, stack_recording
from tools.mockcloud import EngineError

CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/0b1c2d3e-4f5a-4b7c-8d9e-0f1a2b3c4d5e"
EVERYTHING = {
    "network": {"flowLogs": {"enabled": True}},
    "cluster": {"endpoint": {"accessHost": {"enabled": True}},
                "access": {"adminRoleArns": [ADMIN], "adminRole": {"create": True}}},
    "nodeGroups": {"system": {**SYSTEM_GROUP, "iam": {"dedicatedRole": True}},
                   "workers": {"kind": "selfManaged", "instanceTypes": ["m7i.large"]},
                   "batch": {"kind": "selfManaged", "instanceTypes": ["m7i.large"], "iam": {"dedicatedRole": True}},
                   "edge": {"kind": "managed", "instanceTypes": ["m7i.large"]},
                   "pool": {"kind": "karpenter", "instanceCategories": ["m"]},
                   "jobs": {"kind": "fargate", "selectors": [{"namespace": "jobs"}]}},
    "workloads": {"identities": {"app": {"namespace": "app", "serviceAccount": "app",
                                         "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}}},
    "addons": {"externalSecrets": {"ssmPathPrefix": "/p/"},
               "externalDns": {"domainFilters": ["a.io"], "hostedZoneIds": ["Z1"]}},
    "delivery": {"runner": {"enabled": True, "repository": "acme/p", "connectionArn": CONNECTION}},
}


def test_an_autoname_over_the_limit_is_the_engines_error():
    logical = "x" * 57
    assert names.engine_problem("aws:iam/role:Role", "x" * 56, {}) is None  # 56 + 8 = 64
    assert names.engine_problem("aws:iam/role:Role", logical, {}) == (
        f"could not make instance of 'aws:iam/role:Role': name '{logical}-' plus 7 random chars is longer than "
        "maximum length 64")


def test_explicit_names_and_forbidden_prefixes():
    assert "is 81 characters; at most 80" in names.engine_problem("aws:sqs/queue:Queue", "q", {"name": "q" * 81})
    assert "may not start with 'internal-'" in names.engine_problem(
        "aws:lb/loadBalancer:LoadBalancer", "lb", {"name": "internal-api"})
    assert names.engine_problem("aws:lifecycle/unknown:Type", "x" * 999, {}) is None
    # A lifecycle hook is never autonamed: no name, nothing to check.
    assert names.engine_problem("aws:autoscaling/lifecycleHook:LifecycleHook", "h" * 300, {}) is None


def test_the_default_cluster_name_of_a_long_stack_name_gets_a_config_message():
    from components.config import ConfigError, load

    raw = minimal_config(nodeGroups={"system": SYSTEM_GROUP,
                                     "workers": {"kind": "selfManaged", "instanceTypes": ["m7i.large"]}})
    with pytest.raises(ConfigError) as err:
        load(raw, stack="production", region="eu-west-1")
    (line,) = err.value.problems
    assert line.startswith('cluster.name: "eks-platform-production" is 23 characters')
    assert line.endswith("the cluster name can have at most 21 characters")
    load(raw, stack="prod", region="eu-west-1")  # 17 characters fit


def test_the_mock_fails_the_plan_when_a_name_would_not_fit(monkeypatch):
    monkeypatch.setattr(names, "cluster_name_problem", lambda cfg: None)
    raw = minimal_config(cluster={"name": "c" * 45, "access": {"adminRoleArns": [ADMIN]}},
                         nodeGroups={"system": SYSTEM_GROUP})
    with pytest.raises(EngineError, match=r"could not make instance of 'aws:iam/role:Role': name '"
                                          r"c{45}-managed-nodes-' plus 7 random chars"):
        run_main(raw)


@pytest.mark.parametrize("where", ["dev", "prod", "everything"])
def test_derived_names_are_exactly_the_tight_names_the_program_registers(where):
    """The config check knows every name it must: what it predicts is what the plan registers."""
    from components.config import load

    if where == "everything":
        raw, stack = EVERYTHING, "all"
        rec = run_main(raw, stack=stack)
        cfg = load(raw, stack=stack, region="eu-west-1")
    else:
        from components.config.stackfile import read_stack_file
        from tests.conftest import ROOT

        values, _ = read_stack_file(ROOT / f"Pulumi.{where}.yaml", "eks-platform")
        rec = stack_recording(where)
        cfg = load({k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("eks-platform:")},
                   stack=where, region=values["aws:region"])
    registered = set()
    for r in rec.resources:
        found = names.physical_name(r.type, r.name, r.inputs)
        if found and names.LIMITS[r.type].max_len <= names.TIGHT:
            registered.add((r.type, found[0]))
    predicted = {(d.type, d.name) for d in names.derived(cfg)}
    assert predicted == registered
