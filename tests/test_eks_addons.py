"""The EKS add-on catalog: the program reads it (never the newest build at `pulumi up`), and tools/eks_addons.py
refreshes it from DescribeAddonVersions (recorded responses through botocore's Stubber)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from components.config import ConfigError, eksaddons
from tests.helpers import ROOT, minimal_config
from tools import eks_addons

CATALOG = """# header
vpc-cni:
  "1.35": {install: v1.20.1-eksbuild.3, known: [v1.20.4-eksbuild.2, v1.20.1-eksbuild.3]}
coredns:
  "1.35": {install: v1.13.1-eksbuild.1, known: [v1.13.1-eksbuild.1]}
"""


def version(v: str, minor: str, default: bool) -> dict:
    return {
        "addonVersion": v,
        "architecture": ["amd64", "arm64"],
        "compatibilities": [{"clusterVersion": minor, "platformVersions": ["*"], "defaultVersion": default}],
    }


@pytest.fixture
def eks(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("eks", region_name="eu-west-1")
    with Stubber(client) as stub:
        yield client, stub


def answer(stub, addon: str, minor: str, *versions: dict) -> None:
    stub.add_response(
        "describe_addon_versions",
        {"addons": [{"addonName": addon, "type": "networking", "addonVersions": list(versions)}]},
        {"addonName": addon, "kubernetesVersion": minor},
    )


def test_refresh_installs_ekss_default_and_keeps_the_offered_versions(eks, tmp_path, capsys):
    client, stub = eks
    path = tmp_path / "eks-addons.yaml"
    path.write_text(CATALOG)
    answer(
        stub,
        "vpc-cni",
        "1.35",
        version("v1.21.0-eksbuild.1", "1.35", False),
        version("v1.20.4-eksbuild.2", "1.35", True),
        version("v1.20.1-eksbuild.3", "1.35", False),
    )
    answer(stub, "coredns", "1.35", version("v1.13.1-eksbuild.1", "1.35", True))
    assert eks_addons.main(["--refresh"], eks=client, path=path) == 0
    stub.assert_no_pending_responses()
    new = eksaddons.parse(path.read_text())
    # the default, not the newest build
    assert new["vpc-cni"]["1.35"] == eksaddons.Versions(
        "v1.20.4-eksbuild.2", ("v1.21.0-eksbuild.1", "v1.20.4-eksbuild.2", "v1.20.1-eksbuild.3")
    )
    assert new["coredns"]["1.35"].install == "v1.13.1-eksbuild.1"
    assert path.read_text().startswith("# header\nvpc-cni:\n")
    assert 'vpc-cni."1.35": install v1.20.1-eksbuild.3 -> v1.20.4-eksbuild.2' in capsys.readouterr().out


def test_a_minor_eks_does_not_offer_is_a_problem_and_nothing_is_written(eks, tmp_path, capsys):
    client, stub = eks
    path = tmp_path / "eks-addons.yaml"
    path.write_text(CATALOG)
    answer(stub, "vpc-cni", "1.35", version("v1.20.4-eksbuild.2", "1.34", True))  # only for another minor
    answer(stub, "coredns", "1.35", version("v1.13.1-eksbuild.1", "1.35", True))
    assert eks_addons.main(["--refresh"], eks=client, path=path) == 1
    assert path.read_text() == CATALOG
    assert 'vpc-cni."1.35": EKS offers no version for Kubernetes 1.35' in capsys.readouterr().err


def test_the_catalog_file_round_trips():
    text = eksaddons.TABLE.read_text()
    assert eksaddons.render(eksaddons.parse(text), eks_addons.header_of(text)) == text


def test_every_managed_add_on_version_in_the_plan_comes_from_the_catalog(prod, dev):
    for rec in (prod, dev):
        minor = rec.by_type("aws:eks/cluster:Cluster")[0].inputs["version"]
        found = {r.inputs["addonName"]: r.inputs["addonVersion"] for r in rec.by_type("aws:eks/addon:Addon")}
        found["vpc-cni"] = rec.by_type("eks:index:VpcCniAddon")[0].inputs["addonVersion"]
        observed = {"amazon-cloudwatch-observability"} if rec is prod else set()  # observability: prod only
        assert set(found) == {
            "vpc-cni",
            "kube-proxy",
            "coredns",
            "eks-pod-identity-agent",
            "aws-ebs-csi-driver",
            "metrics-server",
            "eks-node-monitoring-agent",
            *observed,
        }
        for addon, v in found.items():
            assert v == eksaddons.install_version(addon, minor), addon


def test_nothing_is_resolved_at_up():
    for path in (ROOT / "components").rglob("*.py"):
        assert "get_addon_version" not in path.read_text().replace("``get_addon_version(most_recent=True)``", ""), path


def test_a_catalog_without_the_clusters_minor_is_a_config_problem(monkeypatch):
    from components.config import load

    table = eksaddons.table()
    monkeypatch.setattr(eksaddons, "table", lambda: {**table, "coredns": {}})
    with pytest.raises(ConfigError) as err:
        load(minimal_config(), stack="t", region="eu-west-1")
    assert err.value.problems == [
        'cluster.version: platform/eks-addons.yaml has no coredns version for Kubernetes 1.35 (key coredns."1.35"); '
        "add it or run `python -m tools.eks_addons --refresh`"
    ]


def test_a_chart_whose_kube_version_excludes_the_clusters_minor_is_refused(monkeypatch):
    import dataclasses

    from components.config import charts as cat
    from components.config import load

    real = cat.catalog()
    narrowed = {
        **real,
        "awsLoadBalancerController": dataclasses.replace(real["awsLoadBalancerController"], kube_version=">=1.36.0-0"),
    }
    monkeypatch.setattr(cat, "catalog", lambda: narrowed)
    with pytest.raises(ConfigError) as err:
        load(minimal_config(), stack="t", region="eu-west-1")
    assert err.value.problems == [
        "addons.awsLoadBalancerController: aws-load-balancer-controller 3.5.0 supports Kubernetes >=1.36.0-0, not "
        "1.35 (platform/addons.yaml kubeVersion); bump the chart or stay on a supported minor"
    ]


@pytest.mark.parametrize("minor", ["1.32", "1.33", "1.34", "1.35"])
def test_every_chart_supports_every_minor_the_platform_supports(minor):
    from components.config.charts import catalog

    assert {key: spec.kube_version_problem(minor) for key, spec in catalog().items()} == dict.fromkeys(catalog())
