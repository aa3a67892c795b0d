"""The upgrade gate (tools/upgrade.py, python -m tools.preflight --upgrade-to) against recorded EKS answers
(botocore's Stubber: the real client, its request validation, no network)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from components.config.cluster import AcknowledgedInsight
from tools import upgrade
from tools.stackconfig import platform_config

ERROR_ID = "6b0f7d1e-2c3a-4b5d-8e9f-0a1b2c3d4e5f"
WARN_ID = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
PASS_ID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"


def summary(id_: str, name: str, status: str, reason: str = "") -> dict:
    return {
        "id": id_,
        "name": name,
        "category": "UPGRADE_READINESS",
        "kubernetesVersion": "1.35",
        "description": name,
        "insightStatus": {"status": status, "reason": reason},
    }


def stubbed(
    pages: list[list[dict]], described: dict[str, str], category: str = "UPGRADE_READINESS", version: str = "1.35"
):
    """An EKS client answering ListInsights with ``pages`` and DescribeInsight with each id's recommendation."""
    eks = boto3.client("eks", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(eks)
    for i, page in enumerate(pages):
        params = {
            "clusterName": "eks-platform-prod",
            "filter": {"categories": [category], "kubernetesVersions": [version]},
        }
        if i:
            params["nextToken"] = f"page-{i}"
        response = {"insights": page, **({"nextToken": f"page-{i + 1}"} if i + 1 < len(pages) else {})}
        stub.add_response("list_insights", response, params)
    for s in (s for page in pages for s in page):  # every page first, then the details of the blocking ones
        if s["insightStatus"]["status"] in upgrade.BLOCKING:
            stub.add_response(
                "describe_insight",
                {"insight": {**s, "recommendation": described[s["id"]]}},
                {"clusterName": "eks-platform-prod", "id": s["id"]},
            )
    stub.activate()
    return eks, stub


INSIGHTS = [
    [summary(ERROR_ID, "Deprecated APIs removed in Kubernetes v1.35", "ERROR", "flowcontrol v1beta3 in use")],
    [
        summary(WARN_ID, "Kubelet version skew", "WARNING", "2 nodes on 1.33"),
        summary(PASS_ID, "Cluster health issues", "PASSING"),
    ],
]
RECOMMENDATIONS = {ERROR_ID: "Update manifests to flowcontrol.apiserver.k8s.io/v1", WARN_ID: "Roll the nodes first"}


@pytest.fixture
def prod():
    return platform_config("prod")


def with_acknowledged(cfg, *ids: str):
    upgrade_cfg = cfg.cluster.upgrade.model_copy(
        update={
            "acknowledged_insights": tuple(
                AcknowledgedInsight(id=i, reason="reviewed with the app teams: the objects are recreated") for i in ids
            )
        }
    )
    return cfg.model_copy(update={"cluster": cfg.cluster.model_copy(update={"upgrade": upgrade_cfg})})


def test_an_unacknowledged_error_stops_the_upgrade(prod, capsys):
    eks, stub = stubbed(INSIGHTS, RECOMMENDATIONS)
    assert upgrade.run(prod, eks, "1.35", "1.34") == 1
    out = capsys.readouterr().out
    assert (
        f"BLOCKING ERROR insight {ERROR_ID}: Deprecated APIs removed in Kubernetes v1.35: flowcontrol v1beta3 in "
        "use (recommendation: Update manifests to flowcontrol.apiserver.k8s.io/v1)"
    ) in out
    assert f"BLOCKING WARNING insight {WARN_ID}" in out and PASS_ID not in out
    assert "0 catalog gaps, 2 unacknowledged insights" in out
    stub.assert_no_pending_responses()


def test_acknowledged_insights_let_it_through_and_the_order_is_printed(prod, capsys):
    eks, stub = stubbed(INSIGHTS, RECOMMENDATIONS)
    assert upgrade.run(with_acknowledged(prod, ERROR_ID, WARN_ID), eks, "1.35", "1.34") == 0
    stub.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert f"acknowledged ERROR insight {ERROR_ID}" in out and "reviewed with the app teams" in out
    assert "may move 1.34 -> 1.35; the order:" in out
    steps = [line.strip() for line in out.splitlines() if line.startswith("  ")]
    assert steps[0] == "1. control plane 1.34 -> 1.35 (cluster.version)"
    assert steps[2].startswith("3. managed node groups") and "system" in steps[2]
    assert any("self-managed groups, by instance refresh: edge, workers" in s for s in steps)


def test_a_catalog_without_the_target_minor_stops_it(prod, capsys):
    eks, _ = stubbed([[]], {})
    eks.list_insights = lambda **_: {"insights": []}  # 1.36: EKS would answer, the catalogs cannot
    assert upgrade.run(prod, eks, "1.36", "1.35") == 1
    out = capsys.readouterr().out
    assert "platform/eks-addons.yaml:" in out and "1.36" in out
    assert "platform/node-images.yaml:" in out


def test_a_rollback_reads_the_rollback_insights_and_prints_the_manual_path(prod, capsys):
    eks, stub = stubbed(
        [
            [
                {
                    **summary(PASS_ID, "Rollback window", "PASSING"),
                    "category": "ROLLBACK_READINESS",
                    "kubernetesVersion": "1.34",
                }
            ]
        ],
        {},
        "ROLLBACK_READINESS",
        "1.34",
    )
    assert upgrade.run(prod, eks, "1.34", "1.35") == 0
    stub.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert "may roll back 1.35 -> 1.34; by hand:" in out
    assert (
        "aws eks update-cluster-version --name eks-platform-prod --kubernetes-version 1.34 "
        "--rollback-config timeoutMinutes=720"
    ) in out


def test_a_rollback_stops_on_an_unacknowledged_rollback_insight(prod, capsys):
    blocked = {**summary(ERROR_ID, "Rollback window", "ERROR", "upgraded 9 days ago"), "category": "ROLLBACK_READINESS"}
    eks, stub = stubbed([[blocked]], {ERROR_ID: "Upgrade forward instead"}, "ROLLBACK_READINESS", "1.34")
    assert upgrade.run(prod, eks, "1.34", "1.35") == 1
    stub.assert_no_pending_responses()
    assert "BLOCKING ERROR insight" in capsys.readouterr().out


@pytest.mark.parametrize(("current", "target"), [("1.35", "1.37"), ("1.35", "1.33")])
def test_more_than_one_minor_either_way_is_bad_input(prod, current, target, capsys):
    assert upgrade.run(prod, None, target, current) == 2  # no EKS call
    assert "upgrade gate:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("current", "target", "problem"),
    [
        ("1.35", "1.37", "1.35 -> 1.37 skips a minor: EKS upgrades one minor at a time (1.35 -> 1.36)"),
        ("1.35", "1.34", "1.35 -> 1.34 is a rollback, not an upgrade"),
        ("1.35", "1.35", "the cluster already runs 1.35"),
    ],
)
def test_one_minor_up_only(current, target, problem):
    assert upgrade.step_problem(current, target).startswith(problem)
    assert upgrade.step_problem("1.34", "1.35") is None


def test_the_command_refuses_what_is_not_a_minor(capsys):
    from tools import preflight

    with pytest.raises(SystemExit) as stop:
        preflight.main(["prod", "--upgrade-to", "2"])
    assert stop.value.code == 2 and "expected a Kubernetes minor such as 1.36" in capsys.readouterr().err


def test_an_acknowledged_insight_needs_its_reason():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        AcknowledgedInsight.model_validate({"id": ERROR_ID}, strict=True)
    with pytest.raises(ValidationError):
        AcknowledgedInsight.model_validate({"id": ERROR_ID, "reason": "ok"}, strict=True)


def test_the_gate_in_ci_passes_an_up_that_keeps_the_version_and_a_first_deployment(monkeypatch, capsys):
    """The workflow's step (tools.preflight STACK --upgrade-gate) against moto's EKS: no cluster yet, then a cluster
    already on the stack file's version: both go on without asking for insights."""
    from moto import mock_aws

    from tools import preflight

    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(key, value)
    with mock_aws():
        assert preflight.main(["prod", "--upgrade-gate"]) == 0
        assert "does not exist yet: a first deployment" in capsys.readouterr().out
        iam = boto3.client("iam", region_name="eu-west-1")
        role = iam.create_role(RoleName="c", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        boto3.client("eks", region_name="eu-west-1").create_cluster(
            name="eks-platform-prod", version="1.35", roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-1"]}
        )
        assert preflight.main(["prod", "--upgrade-gate"]) == 0
        assert "upgrade gate: eks-platform-prod stays on 1.35: nothing to check" in capsys.readouterr().out
