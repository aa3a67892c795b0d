"""Whole program: the dev and prod stack files, the plan's JSON contract, determinism, the graph."""

import json
import runpy
from collections import Counter

import pytest

from tests.helpers import ROOT, stack_names, stack_recording
from tools import plan, render, stackconfig
from tools.stackfile import SECRET_PLACEHOLDER

EXPECTED_OUTPUTS = {
    "availabilityZones",
    "vpcId",
    "vpcCidr",
    "publicSubnetIds",
    "privateSubnetIds",
    "intraSubnetIds",
    "natPublicIps",
    "clusterName",
    "clusterEndpoint",
    "clusterCertificateAuthority",
    "clusterVersion",
    "clusterSecurityGroupId",
    "clusterAdditionalSecurityGroupId",
    "kmsKeyArn",
    "oidcProviderArn",
    "oidcIssuerUrl",
    "kubeconfig",
    "kubeconfigCommand",
    "nodeGroups",
    "terminationQueueUrl",
    "addons",
    "loadBalancers",
    "podSubnetIds",
    "podSecurityGroupIds",
    "workloadIdentities",
    "adminRoleArn",
    "adminKubeconfigCommand",
    "oidcIdentityProvider",
    "namespaces",
}


def count(rec, typ):
    return len(rec.by_type(typ))


def test_dev_network_shape(dev):
    assert count(dev, "aws:ec2/vpc:Vpc") == 1
    subnets = dev.by_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 6
    assert Counter(s.inputs["tags"]["eks-platform/tier"] for s in subnets) == {"public": 2, "private": 2, "intra": 2}
    assert {s.inputs["availabilityZone"] for s in subnets} == {"eu-west-1a", "eu-west-1b"}
    assert count(dev, "aws:ec2/natGateway:NatGateway") == 1
    assert count(dev, "aws:ec2/flowLog:FlowLog") == 0
    assert dev.outputs["availabilityZones"] == ["eu-west-1a", "eu-west-1b"]


def test_prod_network_shape(prod):
    subnets = prod.by_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 9
    assert {s.inputs["availabilityZone"] for s in subnets} == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert count(prod, "aws:ec2/natGateway:NatGateway") == 3
    assert count(prod, "aws:ec2/flowLog:FlowLog") == 1
    assert count(prod, "aws:ec2/vpcEndpoint:VpcEndpoint") == 9  # s3 gateway + 8 interface endpoints
    assert len(prod.outputs["natPublicIps"]) == 3


# Outputs of the optional parts (private access, CI runner), present only when configured.
PRIVATE_ACCESS_OUTPUTS = {"accessHostCommand", "accessKubeconfig", "ciRunner"}
OBSERVABILITY_OUTPUTS = {"observability"}  # with observability.enabled (prod)


def test_outputs_are_exactly_the_documented_set(dev, prod):
    assert set(dev.outputs) == EXPECTED_OUTPUTS
    assert set(prod.outputs) == EXPECTED_OUTPUTS | PRIVATE_ACCESS_OUTPUTS | OBSERVABILITY_OUTPUTS
    assert prod.outputs["accessKubeconfig"] == "[secret]"
    assert set(prod.outputs["observability"]) == {"alarmTopicArn", "prometheusWorkspaceArn"}
    readme = (ROOT / "README.md").read_text()
    for key in EXPECTED_OUTPUTS | PRIVATE_ACCESS_OUTPUTS | OBSERVABILITY_OUTPUTS:
        assert f"`{key}`" in readme, f"output {key} is not documented in README.md"


def test_every_resource_has_a_parent_component(prod):
    components = {r.urn for r in prod.resources if not r.custom}
    for r in prod.resources:
        if r.custom:
            assert r.parent in components, r.name


def test_json_contract(tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert plan.main(["dev", "--json", str(out), "--quiet"]) == 0
    doc = json.loads(out.read_text())
    assert set(doc) == {"project", "stack", "resources", "outputs"}
    assert (doc["project"], doc["stack"]) == ("eks-platform", "dev")
    urns = [r["urn"] for r in doc["resources"]]
    assert len(urns) == len(set(urns))
    seen = set()
    for r in doc["resources"]:
        assert set(r) == {
            "urn",
            "type",
            "name",
            "custom",
            "parent",
            "dependencies",
            "provider",
            "protect",
            "ignoreChanges",
            "inputs",
        }
        assert isinstance(r["custom"], bool) and isinstance(r["protect"], bool)
        assert r["parent"] is None or r["parent"] in seen, "parents are registered before their children"
        assert all(d in urns for d in r["dependencies"])
        assert isinstance(r["ignoreChanges"], list) and isinstance(r["inputs"], dict)
        seen.add(r["urn"])
    assert doc["outputs"]["kubeconfig"] == "[secret]"
    assert "Resources by type (dev):" in capsys.readouterr().out


def test_two_runs_give_byte_identical_json(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert plan.main(["prod", "--json", str(a), "--quiet"]) == 0
    assert plan.main(["prod", "--json", str(b), "--quiet"]) == 0
    assert a.read_bytes() == b.read_bytes()


def test_tree_shows_the_facts_a_reviewer_wants(dev):
    text = render.tree(dev)
    assert "aws:ec2:Vpc eks-platform-dev-vpc  [cidr=10.10.0.0/16]" in text
    assert "[cidr=10.10.0.0/19 az=eu-west-1a]" in text
    assert (
        "aws:eks:Cluster eks-platform-dev-cluster  [version=1.35 private=True public=True publicCidrs=203.0.113.0/24]"
        in text
    )


def test_tree_shows_what_upgrades_and_scoping_depend_on(prod):
    text = render.tree(prod)
    assert "version=1.35 release=1.35.0-20261105" in text  # the managed group follows the control plane
    assert (
        "kubernetes:yaml:ConfigGroup eks-platform-prod-aws-load-balancer-controller-crds  "
        "[tag=v3.5.0 files=crds.yaml,gateway-crds.yaml]" in text
    )
    assert (
        "ClusterSecretStore eks-platform-prod-external-secrets-aws-parameter-store  [service=ParameterStore "
        'namespaces={"namespaceSelector":{"matchLabels":{"eks-platform/external-secrets":"allowed"}}}]'
    ) in text


def test_mermaid_graph(prod, tmp_path):
    graph = plan.mermaid(prod)
    assert graph.startswith("flowchart LR\n")
    assert 'subgraph n0["eks-platform-prod<br/><small>eks-platform:network:Network</small>"]' in graph


def test_secure_values_become_placeholders(tmp_path):
    f = tmp_path / "Pulumi.s.yaml"
    f.write_text("config:\n  aws:region: eu-west-1\n  eks-platform:tags:\n    token:\n      secure: AAABBB\n")
    flat, secrets = stackconfig.stack_config(f, stackconfig.load_project())
    assert json.loads(flat["eks-platform:tags"]) == {"token": SECRET_PLACEHOLDER}
    assert secrets == ["eks-platform:tags"]
    assert flat["eks-platform:network"] == "{}"  # the Pulumi.yaml default


def test_architecture_doc_shows_the_current_graph(prod):
    doc = (ROOT / "docs" / "architecture.md").read_text()
    block = doc.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == plan.mermaid(prod, "component"), (
        "docs/architecture.md is stale: paste `python -m tools.plan prod --graph FILE --graph-level component`"
    )


def test_a_config_file_is_planned_under_the_stack_name_given(tmp_path, capsys):
    copy = tmp_path / "staging-mod.yaml"
    copy.write_text((ROOT / "Pulumi.dev.yaml").read_text())
    out = tmp_path / "plan.json"
    assert plan.main(["--config-file", str(copy), "--quiet", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["stack"] == "staging-mod"  # named after the file
    assert plan.main(["--config-file", str(copy), "--stack", "dev", "--quiet", "--json", str(out)]) == 0
    assert out.read_text() == render.dump_json(stack_recording("dev"))  # the same plan as Pulumi.dev.yaml's
    with pytest.raises(SystemExit):
        plan.main(["prod", "--config-file", str(copy), "--stack", "dev"])
    assert "two stack names" in capsys.readouterr().err


def test_a_misspelled_namespace_at_pulumi_up_is_refused_too():
    """The program reads every key the runtime hands over, so the check holds under `pulumi up` as in the plan."""
    from components.config import ConfigError
    from tests.helpers import flat_config, minimal_config
    from tools.mockcloud import run_program

    config = {**flat_config(minimal_config()), "eks-platfrom:workloads": "{}"}
    with pytest.raises(ConfigError) as err:
        run_program(
            lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
            config=config,
            stack="test",
            region="eu-west-1",
        )
    assert err.value.problems == [
        'eks-platfrom:workloads: unknown namespace "eks-platfrom": nothing reads it (did you '
        'mean "eks-platform:workloads"?)'
    ]


def test_every_stack_in_one_command_with_the_worst_exit(tmp_path):
    """tools.plan --all: the repository's stack files and a broken one, planned in parallel workers,
    one summary line each, the worst exit code, a plan JSON per stack."""
    import shutil
    import subprocess
    import sys

    for name in stack_names():  # every stack file of the repository, and a broken one
        shutil.copy(ROOT / f"Pulumi.{name}.yaml", tmp_path / f"Pulumi.{name}.yaml")
    (tmp_path / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  eks-platform:cluster: {access: {adminRoleArns: "
        "[arn:aws:iam::111122223333:role/a]}}\n  eks-platform:nodeGroups: 3\n"
    )
    out = tmp_path / "plans"
    # the real command, as a user runs it (a fresh process forks its workers)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.plan",
            "--all",
            "--stacks-dir",
            str(tmp_path),
            "--jobs",
            "2",
            "--policies",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    code, lines = proc.returncode, proc.stdout.splitlines()
    assert code == 2  # the broken stack's refused config is the worst of the three
    assert lines[0].split() == ["stack", "resources", "mandatory", "advisory", "exit"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert sorted(rows) == sorted(["broken", *stack_names()])
    assert rows["broken"][1:5] == ["-", "-", "-", "2"] and "nodeGroups" in " ".join(rows["broken"][5:])
    for name in stack_names():
        assert rows[name][4] == "0" and rows[name][2] == "0"
        assert int(rows[name][1]) == len(json.loads((out / f"{name}.json").read_text())["resources"])
    assert not (out / "broken.json").exists()


def test_the_worst_exit_code():
    from tools import fleet

    assert fleet.worst([0, 3, 0]) == 3 and fleet.worst([3, 2]) == 2 and fleet.worst([2, 1, 0]) == 1
    assert fleet.worst([]) == 0


def test_a_fleet_sized_stack_plans(tmp_path):
    """100 node classes (a third of each backend) and 50 load balancers each in its own namespace: everything is
    there once (make bench reports its time per resource; nothing here times it)."""
    import yaml

    from tools import bench, plan

    path = tmp_path / "Pulumi.fleet.yaml"
    path.write_text(yaml.safe_dump(bench.fleet_size(100, 50)))
    rec = plan.run(path, "fleet")
    count = lambda typ: len(rec.by_type(typ))  # noqa: E731
    assert count("aws:eks/nodeGroup:NodeGroup") == 34 and count("aws:autoscaling/group:Group") == 33
    assert count("kubernetes:karpenter.sh/v1:NodePool") == count("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass") == 33
    assert count("aws:lb/loadBalancer:LoadBalancer") == count("aws:lb/listener:Listener") == 50
    assert count("kubernetes:core/v1:Namespace") == 50
    names = [r.urn for r in rec.resources]
    assert len(names) == len(set(names))
