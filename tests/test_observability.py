"""Observability (issue 31): Container Insights, managed Prometheus, alarms and the dashboard, as the plans hold them."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from components import observability as obs
from components.config.observability import Thresholds
from components.context import AwsContext
from policies import guardrails as g
from tests.helpers import minimal_config, run_main

P = "eks-platform-prod"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

# Every metric an alarm may watch, by namespace, with the dimension set it is published with. Sources:
# ContainerInsights - CloudWatch user guide, "Amazon EKS and Kubernetes Container Insights metrics" (the dimension
#   sets as aws/amazon-cloudwatch-agent-test's eks_resources checks them);
# AWS/EKS - EKS user guide, "Monitor cluster data with Amazon CloudWatch" (vended control-plane metrics);
# AWS/SQS - SQS developer guide, "Available CloudWatch metrics for Amazon SQS";
# AWS/NATGateway - VPC user guide, "CloudWatch metrics for your NAT gateway".
DOCUMENTED = {
    ("ContainerInsights", "cluster_failed_node_count"): {"ClusterName"},
    ("ContainerInsights", "node_status_condition_memory_pressure"): {"ClusterName"},
    ("ContainerInsights", "node_status_condition_disk_pressure"): {"ClusterName"},
    ("ContainerInsights", "node_cpu_utilization"): {"ClusterName", "InstanceId", "NodeName"},
    ("ContainerInsights", "pod_number_of_container_restarts"): {"ClusterName", "Namespace", "PodName"},
    ("AWS/EKS", "apiserver_request_total_5XX"): {"ClusterName"},
    ("AWS/EKS", "apiserver_request_total_429"): {"ClusterName"},
    ("AWS/SQS", "ApproximateAgeOfOldestMessage"): {"QueueName"},
    ("AWS/NATGateway", "ErrorPortAllocation"): {"NatGatewayId"},
}

# The add-on's configuration values this program sets, as the chart declares them
# (aws-observability/helm-charts charts/amazon-cloudwatch-observability/values.yaml, chart 6.4.0: containerLogs.enabled
# a boolean, default true; the root tolerations default [{operator: Exists}]). The add-on accepts the chart's values.
ADDON_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "containerLogs": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"enabled": {"type": "boolean"}},
        },
        "tolerations": {"type": "array"},
    },
}


def _metric_of(alarm) -> tuple[str, str, set[str]]:
    """(namespace, metric, dimension keys) of an alarm: its metric, or what its Metrics Insights query selects."""
    if "metricQueries" in alarm.inputs:
        (query,) = alarm.inputs["metricQueries"]
        expr = query["expression"]
        metric = expr.split("(", 2)[1].split(")")[0]
        schema = expr.split("SCHEMA(")[1].split(")")[0].split(", ")
        return schema[0], metric, set(schema[1:])
    return alarm.inputs["namespace"], alarm.inputs["metricName"], set(alarm.inputs["dimensions"])


# -- pure ---------------------------------------------------------------------------------
def test_log_groups_follow_the_container_log_switch():
    assert obs.log_group_names("c", True) == {k: f"/aws/containerinsights/c/{k}" for k in obs.LOG_KINDS}
    assert obs.log_group_names("c", False) == {"performance": "/aws/containerinsights/c/performance"}


def test_configuration_values_only_switch_fluent_bit_and_fit_the_charts_values():
    assert obs.addon_configuration(True) is None  # the chart's defaults: logs on, every taint tolerated
    values = json.loads(obs.addon_configuration(False))
    assert values == {"containerLogs": {"enabled": False}}
    jsonschema.validate(values, ADDON_SCHEMA)


def test_each_alarm_watches_a_documented_metric_with_its_dimensions():
    specs = obs.alarm_specs(
        "c",
        Thresholds(),
        container_insights=True,
        namespaces=["kube-system", "external-dns"],
        queues={"karpenter": "c-karpenter"},
        nat_gateways={"eu-west-1a": "nat-1"},
    )
    assert [s.key for s in specs] == [
        "nodes-failing",
        "node-memory-pressure",
        "node-disk-pressure",
        "node-cpu",
        "pod-restarts-external-dns",
        "pod-restarts-kube-system",
        "api-server-5xx",
        "api-server-throttling",
        "karpenter-queue-age",
        "nat-eu-west-1a-port-allocation",
    ]
    for s in specs:
        if s.query is None:
            assert set(s.dimensions) == DOCUMENTED[(s.namespace, s.metric)], s.key
    # terraform-provider-aws cloudwatch/metric_alarm.go: alarm names 1-255, metric_query expressions 1-1024
    long_cluster = obs.alarm_specs("c" * 100, Thresholds(), container_insights=True, namespaces=["n" * 63],
                                   queues={}, nat_gateways={})  # fmt: skip
    assert all(len(s.query) <= 1024 for s in long_cluster if s.query)
    by_key = {s.key: s for s in specs}
    assert by_key["pod-restarts-kube-system"].query == (
        "SELECT SUM(pod_number_of_container_restarts) FROM SCHEMA(ContainerInsights, ClusterName, Namespace, "
        "PodName) WHERE ClusterName = 'c' AND Namespace = 'kube-system'"
    )
    assert by_key["karpenter-queue-age"].threshold < 300  # the queue drops messages at 300 s
    without = obs.alarm_specs(
        "c", Thresholds(), container_insights=False, namespaces=["kube-system"], queues={}, nat_gateways={}
    )
    assert [s.key for s in without] == ["api-server-5xx", "api-server-throttling"]  # no ContainerInsights data


def test_the_scrape_configuration_is_what_a_managed_scraper_accepts():
    doc = yaml.safe_load(obs.scrape_configuration(30, "c", ["karpenter", "external-dns"]))
    assert set(doc) == {"global", "scrape_configs"}
    assert doc["global"] == {"scrape_interval": "30s", "external_labels": {"cluster": "c"}}
    jobs = {j["job_name"]: j for j in doc["scrape_configs"]}
    assert list(jobs) == [
        "kubernetes-apiservers",
        "kube-scheduler",
        "kube-controller-manager",
        "kubelet",
        "cadvisor",
        "coredns",
        "karpenter",
        "external-dns",
    ]
    allowed = {"job_name", "scheme", "metrics_path", "authorization", "kubernetes_sd_configs", "relabel_configs"}
    for job in jobs.values():
        assert set(job) <= allowed, job["job_name"]  # AMP: global, scrape_config, relabel, kubernetes_sd only
        assert [c["role"] for c in job["kubernetes_sd_configs"]] in (["endpoints"], ["node"], ["pod"])
        if "authorization" in job:  # the only authorization a managed scraper takes
            assert job["authorization"] == {"type": "Bearer", "credentials_file": obs.TOKEN}
    assert jobs["kube-scheduler"]["metrics_path"] == "/apis/metrics.eks.amazonaws.com/v1/ksh/container/metrics"
    assert jobs["cadvisor"]["relabel_configs"][1] == {
        "replacement": "kubernetes.default.svc:443",
        "target_label": "__address__",
    }
    assert jobs["karpenter"]["relabel_configs"][0]["regex"] == "kube-system;karpenter;http-metrics"


def test_the_topic_takes_this_clusters_alarms_only():
    ctx = AwsContext(partition="aws", region="eu-west-1", account_id="111122223333", tags={})
    (statement,) = obs.topic_policy(ctx, "arn:aws:sns:eu-west-1:111122223333:c-alarms", "c")["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:c-*"},
    }
    key = obs.topic_key_policy(ctx)["Statement"][1]
    assert key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert key["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}


# -- the prod plan ------------------------------------------------------------------------
def test_prod_collects_metrics_and_logs_with_the_agents_own_role(prod):
    addon = prod.one("aws:eks/addon:Addon", f"{P}-observability-container-insights")
    assert addon.inputs["addonName"] == "amazon-cloudwatch-observability"
    assert addon.inputs["addonVersion"] == "v6.4.0-eksbuild.1"
    assert "configurationValues" not in addon.inputs
    (assoc,) = addon.inputs["podIdentityAssociations"]
    assert assoc["serviceAccount"] == "cloudwatch-agent"
    role = prod.one("aws:iam/role:Role", f"{P}-observability-agent")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    attachments = [
        r
        for r in prod.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith(f"{P}-observability-agent-")
    ]
    assert {r.inputs["role"] for r in attachments} == {assoc["roleArn"].rsplit("/", 1)[1]}
    attached = {r.inputs["policyArn"] for r in attachments}
    assert attached == {
        "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    }
    groups = {
        r.inputs["name"]: r
        for r in prod.by_type("aws:cloudwatch/logGroup:LogGroup")
        if r.inputs["name"].startswith("/aws/containerinsights/")
    }
    assert set(groups) == {f"/aws/containerinsights/{P}/{k}" for k in obs.LOG_KINDS}
    for group in groups.values():
        assert group.inputs["retentionInDays"] == 365  # prod's cluster.logging.retentionDays
        assert group.urn in addon.dependencies  # created before the agent could create them without retention


def test_prod_alarms_watch_documented_metrics_and_reach_an_encrypted_topic(prod):
    topic = prod.one("aws:sns/topic:Topic", f"{P}-observability-alarms")
    assert topic.inputs["name"] == f"{P}-alarms" and topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:")
    key = prod.one("aws:kms/key:Key", f"{P}-observability-alarms")
    assert key.inputs["enableKeyRotation"] is True
    alarms = prod.by_type(ALARM)
    assert {a.inputs["name"] for a in alarms} == {
        f"{P}-{k}"
        for k in (
            "nodes-failing",
            "node-memory-pressure",
            "node-disk-pressure",
            "node-cpu",
            "pod-restarts-kube-system",
            "pod-restarts-external-dns",
            "pod-restarts-external-secrets",
            "api-server-5xx",
            "api-server-throttling",
            "node-termination-queue-age",
            "nat-eu-west-1a-port-allocation",
            "nat-eu-west-1b-port-allocation",
            "nat-eu-west-1c-port-allocation",
        )
    }
    topic_arn = f"arn:aws:sns:eu-west-1:111122223333:{P}-alarms"
    for alarm in alarms:
        namespace, metric, dims = _metric_of(alarm)
        assert DOCUMENTED[(namespace, metric)] == dims, alarm.name
        assert alarm.inputs["alarmActions"] == [topic_arn] == alarm.inputs["okActions"]
        assert alarm.inputs["treatMissingData"] == "notBreaching"
    queue = prod.one(ALARM, f"{P}-observability-node-termination-queue-age")
    assert queue.inputs["dimensions"] == {"QueueName": f"{P}-node-termination"}


def test_the_dashboard_shows_every_alarm(prod):
    dashboard = prod.one("aws:cloudwatch/dashboard:Dashboard", f"{P}-observability-dashboard")
    assert dashboard.inputs["dashboardName"] == P
    body = json.loads(dashboard.inputs["dashboardBody"])
    states, *graphs = body["widgets"]
    alarms = prod.by_type(ALARM)
    assert len(states["properties"]["alarms"]) == len(alarms) == len(graphs)
    assert all(
        arn.startswith("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:") for arn in states["properties"]["alarms"]
    )
    nat = next(w for w in graphs if w["properties"]["title"] == "nat-eu-west-1a-port-allocation")
    assert nat["properties"]["metrics"][0][:3] == ["AWS/NATGateway", "ErrorPortAllocation", "NatGatewayId"]
    assert nat["properties"]["metrics"][0][3].startswith("nat-")


def test_dev_has_none_and_its_guardrail_only_advises(dev):
    assert not [r for r in dev.resources if "observability" in r.name]
    levels, params = g.config_for("dev")
    found = [v for v in g.evaluate(g_resources(dev), levels, params) if v.policy == "observability-on"]
    assert found and {v.enforcement for v in found} == {g.ADVISORY}


def g_resources(rec) -> list[g.Resource]:
    return [g.Resource(r.type, r.name, r.urn, r.inputs, list(r.dependencies)) for r in rec.resources if r.custom]


# -- Prometheus ---------------------------------------------------------------------------
def _with_prometheus(**prometheus) -> dict:
    raw = minimal_config()
    raw["observability"] = {
        "enabled": True,
        "prometheus": {"enabled": True, **prometheus},
        "alarms": {"topicArn": "arn:aws:sns:eu-west-1:111122223333:ops"},
    }
    return raw


def test_prometheus_scrapes_through_the_clusters_group_and_private_subnets_into_its_workspace():
    rec = run_main(_with_prometheus())
    (workspace,) = rec.by_type("aws:amp/workspace:Workspace")
    (scraper,) = rec.by_type("aws:amp/scraper:Scraper")
    eks = scraper.inputs["source"]["eks"]
    assert eks["clusterArn"] == "arn:aws:eks:eu-west-1:111122223333:cluster/eks-platform-test"
    private = [s for s in rec.by_type("aws:ec2/subnet:Subnet") if "-private-" in s.name]
    assert len(eks["subnetIds"]) == len(private) >= 2
    # the cluster security group EKS creates (managed nodes, the control plane and pods on custom networking share
    # it), as AWS's scraper set-up asks
    assert eks["securityGroupIds"] == [rec.outputs["clusterSecurityGroupId"]]
    assert scraper.inputs["destination"]["amp"]["workspaceArn"].startswith(
        "arn:aws:aps:eu-west-1:111122223333:workspace/ws-"
    )
    assert workspace.inputs["alias"] == "eks-platform-test"
    yaml.safe_load(scraper.inputs["scrapeConfiguration"])
    # API authentication mode: AMP creates the scraper's access entry itself; a second one would be refused
    assert not [e for e in rec.by_type("aws:eks/accessEntry:AccessEntry") if "Prometheus" in e.inputs["principalArn"]]
    # only this topic: nothing created for it
    assert not rec.by_type("aws:sns/topic:Topic")


def test_a_given_workspace_is_written_to_not_created():
    ws = "arn:aws:aps:eu-west-1:111122223333:workspace/ws-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    rec = run_main(_with_prometheus(workspaceArn=ws))
    assert not rec.by_type("aws:amp/workspace:Workspace")
    assert rec.by_type("aws:amp/scraper:Scraper")[0].inputs["destination"]["amp"]["workspaceArn"] == ws


@pytest.mark.parametrize("container_insights", [True, False])
def test_without_container_insights_there_is_no_agent_and_no_container_insights_alarm(container_insights):
    raw = _with_prometheus()
    raw["observability"]["containerInsights"] = {"enabled": container_insights}
    rec = run_main(raw)
    agents = [a for a in rec.by_type("aws:eks/addon:Addon") if a.inputs["addonName"] == obs.ADDON]
    assert len(agents) == int(container_insights)
    namespaces = {_metric_of(a)[0] for a in rec.by_type(ALARM)}
    assert ("ContainerInsights" in namespaces) is container_insights
