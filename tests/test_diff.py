"""The replacement-aware diff (--diff): what a change replaces, which nodes it rolls, what it refuses."""

from __future__ import annotations

import json

import pytest

from tests.helpers import ROOT, stack_recording
from tools import diff, plan

PROD = (ROOT / "Pulumi.prod.yaml").read_text()


def planned(tmp_path, text: str, name: str = "Pulumi.prod.yaml") -> dict:
    folder = tmp_path / name.replace(".", "-")
    folder.mkdir()
    path = folder / "Pulumi.prod.yaml"  # the stack name decides the URNs: keep "prod"
    path.write_text(text)
    return plan.run(path, "prod").as_json()


def changed(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.fixture(scope="module")
def prod_plan() -> dict:
    return stack_recording("prod").as_json()


def by_name(d: diff.Diff, name: str, typ: str) -> diff.Change:
    (c,) = [c for c in d.changes if c.name == name and c.type == typ]
    return c


def test_no_change_no_diff(prod_plan):
    d = diff.diff(prod_plan, prod_plan)
    assert d.changes == [] and d.errors == []


def test_instance_types_replace_the_managed_group(tmp_path, prod_plan):
    new = planned(
        tmp_path,
        changed(
            PROD,
            "      instanceTypes: [m7i.large]\n      scaling: {min: 3",
            "      instanceTypes: [m7i.xlarge]\n      scaling: {min: 3",
        ),
    )
    d = diff.diff(prod_plan, new)
    group = by_name(d, "eks-platform-prod-system", "aws:eks/nodeGroup:NodeGroup")
    assert (group.op, group.replaced_by) == ("replace", ["instanceTypes"])
    assert group.rolls_nodes
    assert d.errors == []
    assert "+- aws:eks:NodeGroup eks-platform-prod-system  replaced because instanceTypes changed" in diff.render(d)


def test_a_label_on_a_self_managed_group_rolls_its_nodes_through_its_launch_template(tmp_path, prod_plan):
    new = planned(
        tmp_path, changed(PROD, "      labels: {node-role: worker}", "      labels: {node-role: worker, team: core}")
    )
    d = diff.diff(prod_plan, new)
    lt = by_name(d, "eks-platform-prod-workers", "aws:ec2/launchTemplate:LaunchTemplate")
    assert (lt.op, lt.paths) == ("update", ["userData"])
    assert "launch-template version" in lt.rolls_nodes
    asg = by_name(d, "eks-platform-prod-workers", "aws:autoscaling/group:Group")
    assert (asg.op, asg.paths, asg.rolls_nodes) == ("update", ["tags"], None)  # the CA node-template tag
    assert {c.name for c in d.changes if c.rolls_nodes} == {"eks-platform-prod-workers"}


def test_a_stack_wide_tag_rolls_no_node(tmp_path, prod_plan):
    """Prod has no Karpenter pool: no node rolls (with one, spec.tags drifts its class: the Karpenter drift test)."""
    new = planned(tmp_path, changed(PROD, "    cost-center: platform", "    cost-center: payments"))
    d = diff.diff(prod_plan, new)
    assert d.changes and all(c.op == "update" for c in d.changes)
    assert [c.name for c in d.changes if c.rolls_nodes] == []
    # Launch templates change only their own tags (not versioned template data).
    for c in d.changes:
        if c.type == "aws:ec2/launchTemplate:LaunchTemplate":
            assert c.paths == ["tags.cost-center"]
    assert "aws:autoscaling/tag:Tag" in {c.type for c in d.changes}  # managed groups: the ASG propagates it


def test_an_upgrade_moves_the_cluster_its_node_groups_and_add_ons(tmp_path, prod_plan):
    base = planned(tmp_path, changed(PROD, 'version: "1.35"', 'version: "1.34"'), "base")
    d = diff.diff(base, prod_plan)
    assert d.errors == []
    cluster = by_name(d, "eks-platform-prod-cluster", "aws:eks/cluster:Cluster")
    assert (cluster.op, cluster.paths) == ("update", ["version"])
    group = by_name(d, "eks-platform-prod-system", "aws:eks/nodeGroup:NodeGroup")
    assert group.op == "update" and {"version", "releaseVersion"} <= set(group.paths) and group.rolls_nodes
    for addon in ("eks-platform-prod-kube-proxy", "eks-platform-prod-coredns"):
        assert "addonVersion" in by_name(d, addon, "aws:eks/addon:Addon").paths
    for name in ("eks-platform-prod-workers", "eks-platform-prod-edge"):  # a new AMI for the new minor
        lt = by_name(d, name, "aws:ec2/launchTemplate:LaunchTemplate")
        assert "imageId" in lt.paths and lt.rolls_nodes


def test_plans_at_1_34_and_1_35_pin_every_version(tmp_path, prod_plan):
    """Managed groups follow the cluster's minor with a release; every EKS add-on has an explicit version."""
    older = planned(tmp_path, changed(PROD, 'version: "1.35"', 'version: "1.34"'), "older")
    seen = {}
    for doc, minor in ((older, "1.34"), (prod_plan, "1.35")):
        resources = doc["resources"]
        for group in (r for r in resources if r["type"] == "aws:eks/nodeGroup:NodeGroup"):
            assert group["inputs"]["version"] == minor
            assert group["inputs"]["releaseVersion"].startswith(f"{minor}.")
        addons = {
            r["inputs"]["addonName"]: r["inputs"]["addonVersion"]
            for r in resources
            if r["type"] == "aws:eks/addon:Addon"
        }
        assert set(addons) == {
            "vpc-cni",
            "kube-proxy",
            "eks-pod-identity-agent",
            "coredns",
            "aws-ebs-csi-driver",
            "metrics-server",
            "eks-node-monitoring-agent",
            "amazon-cloudwatch-observability",
        }
        assert all(addons.values())
        seen[minor] = addons
    assert seen["1.34"]["kube-proxy"] != seen["1.35"]["kube-proxy"]
    assert seen["1.34"]["coredns"] != seen["1.35"]["coredns"]


def test_skipping_a_minor_is_refused(tmp_path, prod_plan, capsys):
    base_file = tmp_path / "base.yaml"
    base_file.write_text(changed(PROD, 'version: "1.35"', 'version: "1.33"'))
    out = tmp_path / "diff.json"
    code = plan.main(["prod", "--quiet", "--diff", str(base_file), "--diff-json", str(out)])
    assert code == 3
    doc = json.loads(out.read_text())
    assert doc["errors"] == [
        "eks-platform-prod-cluster: Kubernetes 1.33 -> 1.35 skips a minor; EKS upgrades one "
        "minor at a time (1.33 -> 1.34 first)."
    ]
    assert doc["summary"]["update"] > 0
    assert "ERROR eks-platform-prod-cluster: Kubernetes 1.33 -> 1.35 skips a minor" in capsys.readouterr().out


def test_replacing_the_protected_cluster_is_refused(tmp_path, prod_plan):
    new = planned(
        tmp_path,
        changed(PROD, "  eks-platform:cluster:\n", "  eks-platform:cluster:\n    serviceIpv4Cidr: 172.21.0.0/16\n"),
    )
    d = diff.diff(prod_plan, new)
    cluster = by_name(d, "eks-platform-prod-cluster", "aws:eks/cluster:Cluster")
    assert cluster.replaced_by == ["kubernetesNetworkConfig.serviceIpv4Cidr"]
    assert any(
        e.startswith("eks-platform-prod-cluster (aws:eks/cluster:Cluster) is protected and would be replaced")
        for e in d.errors
    )


def test_a_plan_json_is_a_base_too(tmp_path, prod_plan, capsys):
    base = tmp_path / "base.json"
    base.write_text(json.dumps(prod_plan))
    assert plan.main(["prod", "--quiet", "--diff", str(base)]) == 0
    assert "no changes" in capsys.readouterr().out


def test_the_replace_table_covers_every_type_the_program_registers(prod_plan):
    missing = {
        r["type"]
        for r in prod_plan["resources"]
        if r["custom"] and r["type"] not in diff.REPLACE_ON_CHANGE and not r["type"].startswith("kubernetes:")
    }
    assert missing == set()


def test_changed_paths_and_version_jumps():
    assert diff.changed_paths({"a": {"b": 1, "c": [1]}}, {"a": {"b": 2, "c": [1]}, "d": 1}) == ["a.b", "d"]
    assert diff._version_jump("c", "1.34", "1.35") == ([], [])


def test_one_minor_down_is_a_rollback_warning_two_are_refused(prod):
    """1.35 -> 1.34 plans with a warning naming EKS's 7-day window and the manual path; 1.35 -> 1.33 and
    1.34 -> 1.36 are refused (exit 3)."""
    errors, warnings = diff._version_jump("c", "1.35", "1.34")
    assert errors == [] and warnings[0].startswith(
        "c: Kubernetes 1.35 -> 1.34 is a ROLLBACK: EKS rolls a control "
        "plane back one minor only within 7 days of its upgrade"
    )
    assert "aws eks update-cluster-version --name <cluster> --kubernetes-version 1.34" in warnings[0]
    assert diff._version_jump("c", "1.35", "1.33") == (
        [
            "c: Kubernetes 1.35 -> 1.33 goes back more than one minor; EKS rolls back one minor only (1.35 -> 1.34 "
            "first)."
        ],
        [],
    )
    assert diff._version_jump("c", "1.34", "1.36")[0] == [
        "c: Kubernetes 1.34 -> 1.36 skips a minor; EKS upgrades one minor at a time (1.34 -> 1.35 first)."
    ]
    base = prod.as_json()
    rolled = json.loads(json.dumps(base))
    cluster = next(r for r in rolled["resources"] if r["type"] == "aws:eks/cluster:Cluster")
    cluster["inputs"]["version"] = "1.36"  # the base ran 1.36: this plan (1.35) rolls it back
    result = diff.diff(rolled, base, "base")
    assert result.errors == [] and len(result.warnings) == 1
    assert "WARNING eks-platform-prod-cluster: Kubernetes 1.36 -> 1.35 is a ROLLBACK" in diff.render(result)
    assert diff.dump_json(result).count('"warnings"') == 1
    assert diff.replacing("kubernetes:example.com/v1:Thing", True, ["metadata.name", "spec.x"]) == ["metadata.name"]


def test_replace_on_changes_of_the_program_counts_as_a_replacement(prod):
    """The TargetGroupBinding's targetGroupARN is immutable in the controller's webhook: the program asks for a
    replacement (replaceOnChanges), and --diff must say so."""
    base = prod.as_json()
    binding = next(r for r in base["resources"] if r["type"].endswith(":TargetGroupBinding"))
    assert binding["replaceOnChanges"] == ["spec.targetGroupARN", "spec.targetType"]
    changed = json.loads(json.dumps(base))
    for r in changed["resources"]:
        if r["urn"] == binding["urn"]:
            r["inputs"]["spec"]["targetGroupARN"] = "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/1"
    result = diff.diff(base, changed)
    [change] = [c for c in result.changes if c.urn == binding["urn"]]
    assert change.op == "replace" and change.replaced_by == ["spec.targetGroupARN"]


def test_storage_class_parameters_replace_it():
    """pulumi-kubernetes replaces a StorageClass whose parameters or provisioner change (they are immutable)."""
    sc = "kubernetes:storage.k8s.io/v1:StorageClass"
    assert diff.replacing(sc, True, ["parameters.kmsKeyId", "metadata.annotations.x"]) == ["parameters.kmsKeyId"]


def test_the_access_hosts_template_rolls_nothing(tmp_path, prod_plan):
    """Its group has no instance refresh: a new template version reaches the next host it launches only."""
    new = planned(
        tmp_path, changed(PROD, "accessHost: {enabled: true,", "accessHost: {enabled: true, instanceType: t3.small,")
    )
    d = diff.diff(prod_plan, new)
    lt = by_name(d, "eks-platform-prod-access-host", "aws:ec2/launchTemplate:LaunchTemplate")
    assert (lt.op, lt.paths, lt.rolls_nodes) == ("update", ["instanceType"], None)
    assert [c.name for c in d.changes if c.rolls_nodes] == []


DEV = (ROOT / "Pulumi.dev.yaml").read_text()


def test_karpenter_drift_is_marked_behavioural_fields_are_not(tmp_path):
    base = planned(tmp_path, DEV, "base")
    labelled = diff.diff(
        base,
        planned(tmp_path, changed(DEV, "labels: {node-role: batch}", "labels: {node-role: batch, team: ml}"), "labels"),
    )
    pool = by_name(labelled, "eks-platform-prod-karpenter-batch-pool", "kubernetes:karpenter.sh/v1:NodePool")
    assert pool.paths == ["spec.template.metadata.labels.team"] and "Karpenter drift" in pool.rolls_nodes
    calmer = diff.diff(
        base, planned(tmp_path, changed(DEV, "consolidateAfter: 5m", "consolidateAfter: 10m"), "disruption")
    )
    pool = by_name(calmer, "eks-platform-prod-karpenter-batch-pool", "kubernetes:karpenter.sh/v1:NodePool")
    assert pool.paths == ["spec.disruption.consolidateAfter"] and pool.rolls_nodes is None
    bigger = diff.diff(
        base,
        planned(
            tmp_path,
            changed(DEV, "      kind: karpenter\n", "      kind: karpenter\n      rootVolume: {sizeGiB: 80}\n"),
            "volume",
        ),
    )
    cls = by_name(bigger, "eks-platform-prod-karpenter-batch-class", "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
    assert cls.rolls_nodes.startswith("NodeClassDrift: every node of the class")


def test_replacing_a_fargate_profile_restarts_its_pods(tmp_path):
    with_profile = changed(
        DEV,
        "  eks-platform:nodeGroups:\n",
        "  eks-platform:nodeGroups:\n    jobs:\n      kind: fargate\n      selectors: [{namespace: jobs}]\n",
    )
    base = planned(tmp_path, with_profile, "base")
    d = diff.diff(
        base, planned(tmp_path, changed(with_profile, "{namespace: jobs}", "{namespace: batch-jobs}"), "moved")
    )
    (profile,) = [c for c in d.changes if c.type == "aws:eks/fargateProfile:FargateProfile"]
    assert profile.op == "replace" and "deletes the pods" in profile.rolls_nodes


def test_a_tag_edit_on_a_karpenter_class_is_flagged_as_rolling_every_node_of_it(tmp_path):
    """spec.tags is in the EC2NodeClass hash at Karpenter v1.14.1: a stack-tag edit replaces the class's nodes, and
    --diff says so (nothing else rolls)."""
    base = planned(tmp_path, DEV, "base")
    d = diff.diff(base, planned(tmp_path, changed(DEV, "    cost-center: platform", "    cost-center: ml"), "tag"))
    rolling = {c.name: c for c in d.changes if c.rolls_nodes}
    assert list(rolling) == ["eks-platform-prod-karpenter-batch-class"]
    cls = rolling["eks-platform-prod-karpenter-batch-class"]
    assert cls.paths == ["spec.tags.cost-center"]
    assert cls.rolls_nodes.startswith("NodeClassDrift: spec.tags is part of the EC2NodeClass hash")


@pytest.mark.parametrize(
    "paths,expected",
    [
        (["spec.tags.team"], "NodeClassDrift: spec.tags"),
        (["spec.kubelet.maxPods"], "NodeClassDrift: every node"),  # kubelet is hashed at v1.14.1 (hash:"ignore" later)
        (["spec.metadataOptions.httpPutResponseHopLimit"], "NodeClassDrift: every node"),
        (["spec.amiSelectorTerms"], "AMIDrift"),
        (["spec.subnetSelectorTerms"], "SubnetDrift"),
        (["spec.securityGroupSelectorTerms"], "SecurityGroupDrift"),
        (["spec.ipPrefixCount"], None),
        (["metadata.labels.x"], None),
    ],
)
def test_ec2nodeclass_drift_follows_karpenters_hash(paths, expected):
    found = diff.karpenter_class_rolls(paths)
    assert (found is None) if expected is None else found.startswith(expected)
