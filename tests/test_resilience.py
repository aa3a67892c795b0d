"""Nodes that repair themselves and a cluster that can leave a zone (issue 30), as the prod and dev plans hold them."""

import json

from components.addons import karpenter as karpenter_addon
from components.context import AwsContext
from tests.helpers import minimal_config, run_main


def test_prod_repairs_its_nodes_and_can_leave_a_zone(prod):
    cluster = prod.one("aws:eks/cluster:Cluster", "eks-platform-prod-cluster").inputs
    assert cluster["zonalShiftConfig"] == {"enabled": True}
    for group in prod.by_type("aws:eks/nodeGroup:NodeGroup"):
        assert group.inputs["nodeRepairConfig"] == {"enabled": True}  # EKS's thresholds unless the config sets them
    (auto,) = prod.by_type("aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration")
    assert auto.inputs["zonalAutoshiftStatus"] == "ENABLED" and auto.inputs["outcomeAlarms"] == [
        {"alarmIdentifier": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:storefront-5xx", "type": "CLOUDWATCH"}
    ]
    agent = prod.one("aws:eks/addon:Addon", "eks-platform-prod-node-monitoring").inputs
    assert agent["addonName"] == "eks-node-monitoring-agent" and agent["addonVersion"] == "v1.7.0-eksbuild.1"
    assert "configurationValues" not in agent  # its chart tolerates every taint already
    # self-managed groups: the ASG's EC2 health checks replace an impaired instance
    for asg in prod.by_type("aws:autoscaling/group:Group"):
        if asg.name in ("eks-platform-prod-workers", "eks-platform-prod-edge"):
            assert (asg.inputs["healthCheckType"], asg.inputs["healthCheckGracePeriod"]) == ("EC2", 300)


def test_the_agent_comes_after_the_system_group(prod):
    agent = prod.one("aws:eks/addon:Addon", "eks-platform-prod-node-monitoring")
    system = prod.one("aws:eks/nodeGroup:NodeGroup", "eks-platform-prod-system")
    assert system.urn in agent.dependencies  # the component's dependency expands to its children


def test_karpenter_repairs_and_respects_zonal_shifts_with_the_read_it_needs(dev):
    values = dev.one("kubernetes:helm.sh/v3:Release", "eks-platform-dev-karpenter").inputs["values"]["settings"]
    assert values["featureGates"] == {"nodeRepair": True} and values["enableZonalShift"] is True
    policy = json.loads(
        dev.one("aws:iam/rolePolicy:RolePolicy", "eks-platform-dev-karpenter-role-controller").inputs["policy"]
    )
    (zonal,) = [s for s in policy["Statement"] if s["Sid"] == karpenter_addon.ZONAL_SHIFT_SID]
    # the docs' KarpenterControllerZonalShiftPolicy: GetManagedResource, this cluster only
    assert zonal["Action"] == ["arc-zonal-shift:GetManagedResource"]
    assert zonal["Condition"] == {
        "StringEquals": {
            "arc-zonal-shift:ResourceIdentifier": "arn:aws:eks:eu-west-1:111122223333:cluster/eks-platform-dev"
        }
    }


def test_without_zonal_shift_karpenter_gets_neither_the_setting_nor_the_read():
    ctx = AwsContext(partition="aws", region="eu-west-1", account_id="111122223333", tags={})
    doc = karpenter_addon.policy(ctx, "c", "arn:aws:iam::111122223333:role/n", "arn:aws:sqs:eu-west-1:1:q")
    assert karpenter_addon.ZONAL_SHIFT_SID not in {s["Sid"] for s in doc["Statement"]}


def test_thresholds_and_autoshift_reach_the_resources():
    alarm = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:shop-5xx"
    raw = minimal_config()
    raw["cluster"] = {**raw["cluster"], "zonalAutoshift": {"enabled": True, "outcomeAlarmArns": [alarm]}}
    raw["nodeGroups"] = {
        "system": {**raw["nodeGroups"]["system"], "repair": {"maxUnhealthyPercentage": 20, "maxParallelCount": 1}}
    }
    rec = run_main(raw)
    group = rec.by_type("aws:eks/nodeGroup:NodeGroup")[0].inputs
    assert group["nodeRepairConfig"] == {
        "enabled": True,
        "maxParallelNodesRepairedCount": 1,
        "maxUnhealthyNodeThresholdPercentage": 20,
    }
    (auto,) = rec.by_type("aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration")
    assert auto.inputs["zonalAutoshiftStatus"] == "ENABLED"
    assert auto.inputs["outcomeAlarms"] == [{"alarmIdentifier": alarm, "type": "CLOUDWATCH"}]
    cluster = rec.by_type("aws:eks/cluster:Cluster")[0]
    assert cluster.urn in auto.dependencies


def test_a_provisioned_control_plane_tier_reaches_the_cluster_and_unset_sends_nothing(prod):
    assert "controlPlaneScalingConfig" not in prod.one("aws:eks/cluster:Cluster", "eks-platform-prod-cluster").inputs
    raw = minimal_config()
    raw["cluster"] = {**raw["cluster"], "controlPlane": {"scalingTier": "tier-xl"}}
    (cluster,) = run_main(raw).by_type("aws:eks/cluster:Cluster")
    assert cluster.inputs["controlPlaneScalingConfig"] == {"tier": "tier-xl"}
