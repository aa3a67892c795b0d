"""Security defaults and switches (issue 27): permissions boundary on every role, customer-managed keys on every log
group, network policy enforcement, no instance credentials for pods."""

from __future__ import annotations

from tests.helpers import run_main
from tests.test_names import EVERYTHING

BOUNDARY = "arn:aws:iam::111122223333:policy/platform-boundary"
LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/0b6c1f7e-3d2a-4e5f-9a8b-7c6d5e4f3a2b"


def test_every_role_carries_the_boundary_and_every_log_group_the_key():
    raw = {
        **EVERYTHING,
        "iam": {"permissionsBoundaryArn": BOUNDARY},
        "cluster": {**EVERYTHING["cluster"], "logging": {"kmsKeyArn": LOG_KEY}},
    }
    rec = run_main(raw, stack="sec")
    roles = rec.by_type("aws:iam/role:Role")
    assert len(roles) > 10
    assert [r.name for r in roles if r.inputs.get("permissionsBoundary") != BOUNDARY] == []
    groups = rec.by_type("aws:cloudwatch/logGroup:LogGroup")
    assert len(groups) == 3  # the control plane's, the flow logs', the CI runner's
    assert [g.name for g in groups if g.inputs.get("kmsKeyId") != LOG_KEY] == []


def test_without_them_nothing_is_set(dev):
    assert not [r for r in dev.by_type("aws:iam/role:Role") if "permissionsBoundary" in r.inputs]
    assert not [g for g in dev.by_type("aws:cloudwatch/logGroup:LogGroup") if "kmsKeyId" in g.inputs]
