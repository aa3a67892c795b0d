"""See inside the platform (``eks-platform:observability``): Container Insights, Managed Prometheus, alarms, dashboard.

* **Container Insights** with enhanced observability: the ``amazon-cloudwatch-observability`` EKS add-on (the
  CloudWatch agent and Fluent Bit as DaemonSets; the chart's root ``tolerations`` is ``[{operator: Exists}]``, so
  they run on every node class, tainted ones included: aws-observability/helm-charts
  charts/amazon-cloudwatch-observability/values.yaml). Its service account ``amazon-cloudwatch/cloudwatch-agent``
  (the chart's ``cloudwatch-agent.serviceAccountName``, used by the agent and Fluent Bit) gets a role with
  CloudWatchAgentServerPolicy and AWSXrayWriteOnlyAccess (CloudWatch user guide, "Install the CloudWatch agent with
  the Amazon CloudWatch Observability EKS add-on": the two policies it documents, the second for Application
  Signals). The log groups it writes (Fluent Bit's ``/aws/containerinsights/<cluster>/application``, ``/dataplane``,
  ``/host``; the agent's ``/performance``) are created first, with the stack's retention and key.
* **Prometheus**: an AMP workspace (or a given one) and EKS's managed scraper in the private subnets with the
  cluster security group (AMP user guide, "Using an AWS managed collector": the cluster's security group and
  subnets, two zones at least). The cluster's authentication mode is API, so AMP creates the scraper's access entry
  and its permissions itself (same guide, "Configuring your Amazon EKS cluster"): the platform creates neither, since
  a second entry for the scraper's role would be refused.
* **Alarms** to an SNS topic (given, or created with its own key) and **one dashboard**.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml

from components import names
from components.cluster import NodeAddonArgs, node_addon
from components.config.observability import ObservabilityConfig, Thresholds
from components.config.tags import tagged
from components.context import AwsContext
from components.identity import ServiceAccount, ServiceAccountRole, ServiceAccountRoleArgs

ADDON = "amazon-cloudwatch-observability"
SERVICE_ACCOUNT = ServiceAccount("amazon-cloudwatch", "cloudwatch-agent")
MANAGED_POLICIES = {"agent": "CloudWatchAgentServerPolicy", "xray": "AWSXrayWriteOnlyAccess"}
# Fluent Bit's three log groups (the chart's fluent-bit config, log_group_name) and the agent's performance logs
LOG_KINDS = ("application", "dataplane", "host", "performance")
FLUENT_BIT_KINDS = ("application", "dataplane", "host")

DASHBOARD, ALARM = "aws:cloudwatch/dashboard:Dashboard", "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC, WORKSPACE, SCRAPER = "aws:sns/topic:Topic", "aws:amp/workspace:Workspace", "aws:amp/scraper:Scraper"
KMS_ALIAS = "aws:kms/alias:Alias"


# ---------------------------------------------------------------------------------------
# decisions (pure)
# ---------------------------------------------------------------------------------------
def log_group_names(cluster: str, container_logs: bool) -> dict[str, str]:
    """``{kind: log group}`` the add-on writes: the performance logs always, Fluent Bit's with container logs."""
    kinds = LOG_KINDS if container_logs else ("performance",)
    return {kind: f"/aws/containerinsights/{cluster}/{kind}" for kind in kinds}


def addon_configuration(container_logs: bool) -> str | None:
    """The add-on's configuration values: nothing but the switch for Fluent Bit (the chart's
    ``containerLogs.enabled``, default true); tolerations stay the chart's (every taint)."""
    if container_logs:
        return None
    return json.dumps({"containerLogs": {"enabled": False}}, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: a metric (namespace, name, dimensions, statistic) or a Metrics Insights query, and when it fires."""

    key: str
    description: str
    threshold: float
    period: int = 300
    evaluation_periods: int = 1
    namespace: str | None = None
    metric: str | None = None
    dimensions: Mapping[str, Any] = field(default_factory=dict)
    statistic: str = "Maximum"
    query: str | None = None
    comparison: str = "GreaterThanThreshold"


def _insights_query(function: str, metric: str, schema: Sequence[str], where: Mapping[str, str]) -> str:
    """A CloudWatch Metrics Insights query (CloudWatch user guide, "Metrics Insights query components and syntax":
    SELECT FUNCTION(metric) FROM SCHEMA(namespace, keys...) WHERE key = 'value' AND ...)."""
    conditions = " AND ".join(f"{k} = '{v}'" for k, v in where.items())
    return f"SELECT {function}({metric}) FROM SCHEMA({', '.join(schema)}) WHERE {conditions}"


def alarm_specs(
    cluster: str,
    t: Thresholds,
    *,
    container_insights: bool,
    namespaces: Sequence[str],
    queues: Mapping[str, str],
    nat_gateways: Mapping[str, Any],
) -> list[AlarmSpec]:
    """The alarms, each on a metric of its cited namespace and dimensions.

    ContainerInsights metrics and dimension sets: CloudWatch user guide, "Amazon EKS and Kubernetes Container
    Insights metrics" (as aws/amazon-cloudwatch-agent-test checks them: ``cluster_failed_node_count``,
    ``node_status_condition_*`` by ClusterName; ``node_cpu_utilization`` by ClusterName, InstanceId, NodeName;
    ``pod_number_of_container_restarts`` by ClusterName, Namespace, PodName). AWS/EKS: EKS user guide, "Monitor
    cluster data with Amazon CloudWatch" (vended control-plane metrics, ClusterName). AWS/SQS
    ApproximateAgeOfOldestMessage by QueueName; AWS/NATGateway ErrorPortAllocation by NatGatewayId."""
    by_cluster = {"ClusterName": cluster}
    return [
        *(_node_alarms(by_cluster, t, namespaces) if container_insights else []),
        *_control_plane_alarms(by_cluster, t),
        *(_queue_alarm(key, queue, t) for key, queue in sorted(queues.items())),
        *(_nat_alarm(zone, nat) for zone, nat in sorted(nat_gateways.items())),
    ]


def _node_alarms(by_cluster: Mapping[str, str], t: Thresholds, namespaces: Sequence[str]) -> list[AlarmSpec]:
    """Nodes and pods, from Container Insights (no data without it)."""
    ci = "ContainerInsights"
    conditions = [
        ("nodes-failing", "A node has a failing condition (NotReady, pressure) for 10 minutes", 2,
         "cluster_failed_node_count"),
        ("node-memory-pressure", "A node reports MemoryPressure (the kubelet evicts pods)", 1,
         "node_status_condition_memory_pressure"),
        ("node-disk-pressure", "A node reports DiskPressure (images and pods are evicted)", 1,
         "node_status_condition_disk_pressure"),
    ]  # fmt: skip
    out = [
        AlarmSpec(key, what, 0, evaluation_periods=n, namespace=ci, metric=metric, dimensions=by_cluster)
        for key, what, n, metric in conditions
    ]
    node_schema = (ci, "ClusterName", "InstanceId", "NodeName")
    out.append(
        AlarmSpec(
            "node-cpu",
            f"The busiest node's CPU above {t.node_cpu_percent}% for 15 minutes",
            t.node_cpu_percent,
            evaluation_periods=3,
            query=_insights_query("MAX", "node_cpu_utilization", node_schema, by_cluster),
        )
    )
    pod_schema = (ci, "ClusterName", "Namespace", "PodName")
    out += [
        AlarmSpec(
            f"pod-restarts-{ns}",
            f"More than {t.pod_restarts} container restarts in {ns} in 15 minutes (a platform controller "
            "crash-looping)",
            t.pod_restarts,
            period=900,
            query=_insights_query(
                "SUM", "pod_number_of_container_restarts", pod_schema, {**by_cluster, "Namespace": ns}
            ),
        )
        for ns in sorted(set(namespaces))
    ]
    return out


def _control_plane_alarms(by_cluster: Mapping[str, str], t: Thresholds) -> list[AlarmSpec]:
    """The API server's errors and throttling, from the metrics EKS vends (free, 1.28+)."""
    return [
        AlarmSpec(key, what, threshold, evaluation_periods=2, namespace="AWS/EKS", metric=metric,
                  dimensions=by_cluster, statistic="Sum")
        for key, what, threshold, metric in (
            ("api-server-5xx", f"More than {t.api_server_5xx} API server 5xx responses in 5 minutes, twice",
             t.api_server_5xx, "apiserver_request_total_5XX"),
            ("api-server-throttling", f"More than {t.api_server_throttled} throttled (429) API requests in 5 "
             "minutes, twice", t.api_server_throttled, "apiserver_request_total_429"),
        )
    ]  # fmt: skip


def _queue_alarm(key: str, queue: str, t: Thresholds) -> AlarmSpec:
    return AlarmSpec(
        f"{key}-queue-age",
        f"{key}: interruption messages wait over {t.queue_age_seconds} s (the consumer is down; the queue drops "
        "them at 300 s)",
        t.queue_age_seconds,
        period=60,
        evaluation_periods=5,
        namespace="AWS/SQS",
        metric="ApproximateAgeOfOldestMessage",
        dimensions={"QueueName": queue},
    )


def _nat_alarm(zone: str, nat: Any) -> AlarmSpec:
    return AlarmSpec(
        f"nat-{zone}-port-allocation",
        f"The NAT gateway of {zone} cannot allocate source ports (connections from the private subnets fail)",
        0,
        namespace="AWS/NATGateway",
        metric="ErrorPortAllocation",
        dimensions={"NatGatewayId": nat},
        statistic="Sum",
    )


def topic_key_policy(ctx: AwsContext) -> dict[str, Any]:
    """The alarm topic's key: the account administers it; CloudWatch may use it to publish encrypted alarms, for
    this account's alarms only (SNS developer guide, "Enable compatibility between event sources and encrypted
    topics": cloudwatch.amazonaws.com needs kms:Decrypt and kms:GenerateDataKey*)."""
    root = f"arn:{ctx.partition}:iam::{ctx.account_id}:root"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchPublishes",
                "Effect": "Allow",
                "Principal": {"Service": ctx.service_principal("cloudwatch")},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
            },
        ],
    }


def topic_policy(ctx: AwsContext, topic_arn: str, cluster: str) -> dict[str, Any]:
    """Only this account's CloudWatch alarms of this cluster publish to the topic."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ClusterAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": ctx.service_principal("cloudwatch")},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ctx.account_id},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{ctx.partition}:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:"
                        f"{cluster}-*"
                    },
                },
            },
        ],
    }


def dashboard_body(cluster: str, region: str, specs: Sequence[AlarmSpec], alarm_arns: Sequence[str]) -> str:
    """One dashboard: the alarms' states on top, then one graph per alarm's metric (or query)."""
    widgets: list[dict[str, Any]] = [
        {
            "type": "alarm",
            "x": 0,
            "y": 0,
            "width": 24,
            "height": 4,
            "properties": {
                "title": f"{cluster}: alarms",
                "alarms": list(alarm_arns),
                "sortBy": "stateUpdatedTimestamp",
            },
        }
    ]
    for i, spec in enumerate(specs):
        if spec.query is not None:
            metrics: list[Any] = [[{"expression": spec.query, "label": spec.key, "id": "q1"}]]
        else:
            dims = [part for k, v in sorted(spec.dimensions.items()) for part in (k, v)]
            metrics = [[spec.namespace, spec.metric, *dims, {"stat": spec.statistic}]]
        widgets.append(
            {
                "type": "metric",
                "x": (i % 3) * 8,
                "y": 4 + (i // 3) * 6,
                "width": 8,
                "height": 6,
                "properties": {
                    "title": spec.key,
                    "region": region,
                    "metrics": metrics,
                    "period": spec.period,
                    "view": "timeSeries",
                    "annotations": {"horizontal": [{"value": spec.threshold}]},
                },
            }
        )
    return json.dumps({"widgets": widgets}, sort_keys=True, separators=(",", ":"))


# The platform's controllers: (job, namespace, app.kubernetes.io/name, container port name) of each chart's
# metrics port at the versions in platform/addons.yaml.
CONTROLLER_TARGETS: tuple[tuple[str, str, str, str], ...] = (
    ("karpenter", "kube-system", "karpenter", "http-metrics"),
    ("aws-load-balancer-controller", "kube-system", "aws-load-balancer-controller", "metrics-server"),
    ("external-dns", "external-dns", "external-dns", "http"),
    ("external-secrets", "external-secrets", "external-secrets", "metrics"),
)
TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def _through_api_server(job: str, path: str) -> dict[str, Any]:
    """A per-node job through the API server's node proxy (the only name a managed scraper resolves is
    kubernetes.default.svc)."""
    return {
        "job_name": job,
        "scheme": "https",
        "authorization": {"type": "Bearer", "credentials_file": TOKEN},
        "kubernetes_sd_configs": [{"role": "node"}],
        "relabel_configs": [
            {"action": "labelmap", "regex": "__meta_kubernetes_node_label_(.+)"},
            {"replacement": "kubernetes.default.svc:443", "target_label": "__address__"},
            {
                "source_labels": ["__meta_kubernetes_node_name"],
                "regex": "(.+)",
                "target_label": "__metrics_path__",
                "replacement": f"/api/v1/nodes/$1/proxy/{path}",
            },
        ],
    }


def _control_plane(job: str, path: str) -> dict[str, Any]:
    return {
        "job_name": job,
        "scheme": "https",
        "metrics_path": path,
        "authorization": {"type": "Bearer", "credentials_file": TOKEN},
        "kubernetes_sd_configs": [{"role": "endpoints"}],
        "relabel_configs": [
            {
                "action": "keep",
                "regex": "default;kubernetes;https",
                "source_labels": [
                    "__meta_kubernetes_namespace",
                    "__meta_kubernetes_service_name",
                    "__meta_kubernetes_endpoint_port_name",
                ],
            }
        ],
    }


def _pods(job: str, namespace: str, name_label: str, name: str, port: str) -> dict[str, Any]:
    return {
        "job_name": job,
        "kubernetes_sd_configs": [{"role": "pod"}],
        "relabel_configs": [
            {
                "action": "keep",
                "source_labels": [
                    "__meta_kubernetes_namespace",
                    name_label,
                    "__meta_kubernetes_pod_container_port_name",
                ],
                "regex": f"{namespace};{name};{port}",
            },
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        ],
    }


def scrape_configuration(interval_seconds: int, cluster: str, controllers: Sequence[str]) -> str:
    """The scraper's Prometheus configuration (AMP user guide, "Scraper configuration": global, scrape_config,
    relabel_config and kubernetes_sd_config only; bearer authorization from the service account token file; at
    least 30 s): the API server, the scheduler and controller manager (EKS's metrics.eks.amazonaws.com paths),
    kubelets and cAdvisor through the API server's node proxy, CoreDNS, and the platform's controllers that run."""
    jobs = [
        _control_plane("kubernetes-apiservers", "/metrics"),
        _control_plane("kube-scheduler", "/apis/metrics.eks.amazonaws.com/v1/ksh/container/metrics"),
        _control_plane("kube-controller-manager", "/apis/metrics.eks.amazonaws.com/v1/kcm/container/metrics"),
        _through_api_server("kubelet", "metrics"),
        _through_api_server("cadvisor", "metrics/cadvisor"),
        _pods("coredns", "kube-system", "__meta_kubernetes_pod_label_k8s_app", "kube-dns", "metrics"),
    ]
    jobs += [
        _pods(job, ns, "__meta_kubernetes_pod_label_app_kubernetes_io_name", name, port)
        for job, ns, name, port in CONTROLLER_TARGETS
        if job in controllers
    ]
    doc = {
        "global": {"scrape_interval": f"{interval_seconds}s", "external_labels": {"cluster": cluster}},
        "scrape_configs": jobs,
    }
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


# ---------------------------------------------------------------------------------------
# the component
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObservabilityArgs:
    config: ObservabilityConfig
    cluster_name: str
    cluster_arn: pulumi.Input[str]
    cluster_security_group_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[Sequence[str]]
    addon: NodeAddonArgs
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer_url: pulumi.Input[str]
    retention_days: int
    kms_key_arn: str | None
    ctx: AwsContext
    namespaces: Sequence[str] = ()
    queues: Mapping[str, str] = field(default_factory=dict)
    nat_gateways: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    controllers: Sequence[str] = ()


class Observability(pulumi.ComponentResource):
    TYPE = "eks-platform:observability:Observability"

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self._name, self._args, cfg = name, args, args.config
        self.addon: aws.eks.Addon | None = None
        self.workspace_arn: pulumi.Output[str] | None = None
        self.topic_arn: pulumi.Output[str] | None = None
        if cfg.container_insights.enabled:
            self.addon = self._container_insights(self._log_groups())
        if cfg.prometheus.enabled:
            self.workspace_arn = self._prometheus()
        alarms: list[aws.cloudwatch.MetricAlarm] = []
        if cfg.alarms.enabled:
            self.topic_arn = self._topic()
            alarms = self._alarms(self.topic_arn)
        if cfg.dashboard:
            self._dashboard(alarms)
        self.register_outputs({"topicArn": self.topic_arn, "workspaceArn": self.workspace_arn})

    def _child(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    def _log_groups(self) -> list[aws.cloudwatch.LogGroup]:
        a = self._args
        return [
            aws.cloudwatch.LogGroup(
                f"{self._name}-{kind}",
                name=group,
                retention_in_days=a.retention_days,
                kms_key_id=a.kms_key_arn,
                tags=tagged(a.ctx.tags, group),
                opts=self._child(),
            )
            for kind, group in log_group_names(a.cluster_name, a.config.container_insights.container_logs).items()
        ]

    def _container_insights(self, log_groups: Sequence[pulumi.Resource]) -> aws.eks.Addon:
        a, insights = self._args, self._args.config.container_insights
        role = ServiceAccountRole(
            f"{self._name}-agent",
            ServiceAccountRoleArgs(
                service_account=SERVICE_ACCOUNT,
                mechanism=insights.identity or "podIdentity",
                cluster_name=a.cluster_name,
                ctx=a.ctx,
                oidc_provider_arn=a.oidc_provider_arn,
                oidc_issuer_url=a.oidc_issuer_url,
                managed_policy_arns={k: a.ctx.managed_policy(p) for k, p in MANAGED_POLICIES.items()},
                description="CloudWatch agent and Fluent Bit: Container Insights metrics, logs, Application Signals",
                associate=False,  # the add-on owns its association (pod_identity_associations)
            ),
            opts=self._child(),
        )
        # as the EBS CSI driver does (components/storage.py): the program's add-on args, plus its role and groups
        addon_args = replace(
            a.addon,
            after=[*a.addon.after, role, *log_groups],
            configuration_values=addon_configuration(insights.container_logs),
            **role.addon_identity(),
        )
        return node_addon(f"{self._name}-container-insights", ADDON, addon_args, self)

    def _prometheus(self) -> pulumi.Output[str]:
        a, prom = self._args, self._args.config.prometheus
        if prom.workspace_arn:
            workspace_arn: pulumi.Output[str] = pulumi.Output.from_input(prom.workspace_arn)
        else:
            # AMP's own encryption: a customer key (kms_key_arn, replaces the workspace on change) would need a key
            # policy for aps.amazonaws.com that cluster.logging.kmsKeyArn does not promise
            workspace = aws.amp.Workspace(
                f"{self._name}-prometheus",
                alias=names.explicit(WORKSPACE, a.cluster_name),
                tags=tagged(a.ctx.tags, a.cluster_name),
                opts=self._child(),
            )
            workspace_arn = workspace.arn
        aws.amp.Scraper(
            f"{self._name}-scraper",
            alias=names.explicit(SCRAPER, a.cluster_name),
            source=aws.amp.ScraperSourceArgs(
                eks=aws.amp.ScraperSourceEksArgs(
                    cluster_arn=a.cluster_arn,
                    subnet_ids=a.private_subnet_ids,
                    security_group_ids=[a.cluster_security_group_id],
                )
            ),
            destination=aws.amp.ScraperDestinationArgs(
                amp=aws.amp.ScraperDestinationAmpArgs(workspace_arn=workspace_arn)
            ),
            scrape_configuration=scrape_configuration(prom.scrape_interval_seconds, a.cluster_name, a.controllers),
            tags=tagged(a.ctx.tags, f"{a.cluster_name}-scraper"),
            # the scraper tags its workspace AMPAgentlessScraper (pulumi-aws amp.Scraper docs): the stack's
            # workspace must not fight it
            opts=self._child(),
        )
        return workspace_arn

    def _topic(self) -> pulumi.Output[str]:
        a = self._args
        if a.config.alarms.topic_arn:
            return pulumi.Output.from_input(a.config.alarms.topic_arn)
        topic_name = names.explicit(TOPIC, f"{a.cluster_name}-alarms")
        key = aws.kms.Key(
            f"{self._name}-alarms",
            description=f"{a.cluster_name}: the alarm topic's messages",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(topic_key_policy(a.ctx), sort_keys=True),
            tags=tagged(a.ctx.tags, topic_name),
            opts=self._child(),
        )
        aws.kms.Alias(
            f"{self._name}-alarms",
            name=names.explicit(KMS_ALIAS, f"alias/{topic_name}"),
            target_key_id=key.key_id,
            opts=self._child(),
        )
        topic = aws.sns.Topic(
            f"{self._name}-alarms",
            name=topic_name,
            kms_master_key_id=key.arn,
            tags=tagged(a.ctx.tags, topic_name),
            opts=self._child(),
        )
        aws.sns.TopicPolicy(
            f"{self._name}-alarms",
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: json.dumps(topic_policy(a.ctx, arn, a.cluster_name), sort_keys=True)),
            opts=self._child(),
        )
        return topic.arn

    def _specs(self, nat_gateways: Mapping[str, Any] | None = None) -> list[AlarmSpec]:
        a = self._args
        return alarm_specs(
            a.cluster_name,
            a.config.alarms.thresholds,
            container_insights=a.config.container_insights.enabled,
            namespaces=a.namespaces,
            queues=a.queues,
            nat_gateways=a.nat_gateways if nat_gateways is None else nat_gateways,
        )

    def _alarms(self, topic_arn: pulumi.Output[str]) -> list[aws.cloudwatch.MetricAlarm]:
        a = self._args
        out = []
        for spec in self._specs():
            alarm_name = names.explicit(ALARM, f"{a.cluster_name}-{spec.key}")
            metric: dict[str, Any] = (
                {
                    "metric_queries": [
                        aws.cloudwatch.MetricAlarmMetricQueryArgs(
                            id="q1", expression=spec.query, period=spec.period, label=spec.key, return_data=True
                        )
                    ]
                }
                if spec.query is not None
                else {
                    "namespace": spec.namespace,
                    "metric_name": spec.metric,
                    "dimensions": dict(spec.dimensions),
                    "statistic": spec.statistic,
                    "period": spec.period,
                }
            )
            out.append(
                aws.cloudwatch.MetricAlarm(
                    f"{self._name}-{spec.key}",
                    name=alarm_name,
                    alarm_description=spec.description,
                    comparison_operator=spec.comparison,
                    threshold=spec.threshold,
                    evaluation_periods=spec.evaluation_periods,
                    treat_missing_data="notBreaching",
                    alarm_actions=[topic_arn],
                    ok_actions=[topic_arn],
                    tags=tagged(a.ctx.tags, alarm_name),
                    opts=self._child(),
                    **metric,
                )
            )
        return out

    def _dashboard(self, alarms: Sequence[aws.cloudwatch.MetricAlarm]) -> None:
        a = self._args
        zones = sorted(a.nat_gateways)

        def body(values: list[Any]) -> str:  # the alarms' ARNs, then the NAT gateways' ids
            arns, ids = values[: len(alarms)], dict(zip(zones, values[len(alarms) :], strict=True))
            return dashboard_body(a.cluster_name, a.ctx.region, self._specs(ids), arns)

        aws.cloudwatch.Dashboard(
            f"{self._name}-dashboard",
            dashboard_name=names.explicit(DASHBOARD, a.cluster_name),
            dashboard_body=pulumi.Output.all(*[x.arn for x in alarms], *[a.nat_gateways[z] for z in zones]).apply(body),
            opts=self._child(),
        )
