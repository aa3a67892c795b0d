"""``eks-platform:observability``: metrics, logs and alarms owned by the stack (issue 31).

Container Insights through the ``amazon-cloudwatch-observability`` EKS add-on, optionally Amazon Managed Service for
Prometheus with EKS's managed (agentless) scraper, and CloudWatch alarms with one dashboard. Off unless the stack
file turns it on (the prod file does).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import model_validator

from components.config.base import (
    ACCOUNT,
    PARTITION,
    AddonVersion,
    Model,
    Problems,
    RetentionDays,
    integer,
    text,
)
from components.config.identity import Mechanism

REGION = r"[a-z]{2}(-[a-z]+)+-[0-9]"
# SNS topic ARNs: arn:<partition>:sns:<region>:<account>:<name> (1-256 letters, digits, - and _; .fifo for FIFO
# topics, which CloudWatch alarms cannot publish to: refused).
TOPIC_ARN = rf"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:[A-Za-z0-9_-]{{1,256}}"
# Amazon Managed Service for Prometheus workspace ARNs: arn:<partition>:aps:<region>:<account>:workspace/ws-<uuid>
WORKSPACE_ARN = rf"arn:{PARTITION}:aps:{REGION}:{ACCOUNT}:workspace/ws-[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}"
TopicArn = Annotated[str, text(TOPIC_ARN, "an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>, not a FIFO topic)")]
WorkspaceArn = Annotated[
    str,
    text(
        WORKSPACE_ARN,
        "an Amazon Managed Service for Prometheus workspace ARN (arn:aws:aps:<region>:<account>:workspace/ws-<id>)",
    ),
]


class ContainerInsights(Model):
    """Container Insights with enhanced observability: the amazon-cloudwatch-observability add-on (the CloudWatch
    agent and Fluent Bit on every node: its chart tolerates every taint)."""

    enabled: bool = True
    """Install the add-on (its version from platform/eks-addons.yaml)."""
    version: AddonVersion | None = None
    """Pin the add-on version (one the catalog knows for the cluster's minor)."""
    container_logs: bool = True
    """Ship container, data-plane and host logs with Fluent Bit (to /aws/containerinsights/<cluster>/application,
    /dataplane and /host); false keeps metrics and performance logs only."""
    identity: Mechanism | None = None
    """How the agent gets its role (CloudWatchAgentServerPolicy, AWSXrayWriteOnlyAccess): podIdentity or irsa.
    Default: addons.identity."""


class Prometheus(Model):
    """Amazon Managed Service for Prometheus with EKS's managed scraper (no agent in the cluster)."""

    enabled: bool = False
    """Create the scraper (and a workspace unless workspaceArn is given)."""
    workspace_arn: WorkspaceArn | None = None
    """Write to this workspace (in the stack's region) instead of one the stack creates."""
    scrape_interval_seconds: Annotated[int, integer(30, 300)] = 30
    """How often the scraper collects (a managed scraper scrapes every 30 s at the most)."""


class Thresholds(Model):
    """When an alarm fires (each over its documented window: docs/operations.md, "Observability")."""

    node_cpu_percent: Annotated[int, integer(1, 100)] = 90
    """The busiest node's CPU utilization, 15 minutes on end."""
    pod_restarts: Annotated[int, integer(1, 1000)] = 5
    """Container restarts in one platform namespace within 15 minutes."""
    api_server_5xx: Annotated[int, integer(1, 100_000)] = 10
    """API server 5xx responses in 5 minutes, twice in a row."""
    api_server_throttled: Annotated[int, integer(1, 100_000)] = 50
    """API server 429 (throttled) responses in 5 minutes, twice in a row."""
    queue_age_seconds: Annotated[int, integer(30, 299)] = 120
    """Age of the oldest interruption message (the queues keep messages 300 s)."""


class Alarms(Model):
    """CloudWatch alarms on the cluster, its nodes, the platform's controllers, queues and NAT gateways."""

    enabled: bool = True
    """Create the alarms (needs topicArn or createTopic)."""
    topic_arn: TopicArn | None = None
    """Send alarms and recoveries to this SNS topic (in the stack's region; its access policy must let
    cloudwatch.amazonaws.com publish, and its key, if any, let CloudWatch use it)..."""
    create_topic: bool = False
    """...or to a topic the stack creates, encrypted with its own key (subscribe to it after the first up)."""
    thresholds: Thresholds = Thresholds()


class ObservabilityConfig(Model):
    """Metrics, logs and alarms from day 1 (off unless the stack file turns it on)."""

    enabled: bool = False
    """Turn observability on."""
    container_insights: ContainerInsights = ContainerInsights()
    prometheus: Prometheus = Prometheus()
    alarms: Alarms = Alarms()
    dashboard: bool = True
    """One CloudWatch dashboard for the cluster (named after it)."""
    log_retention_days: RetentionDays | None = None
    """Retention of the Container Insights log groups, which the platform creates before the add-on (so the agent
    never creates them without one). Default: cluster.logging.retentionDays. They use cluster.logging.kmsKeyArn."""

    @model_validator(mode="after")
    def _consistent(self) -> ObservabilityConfig:
        found = Problems()
        if self.enabled:
            if not self.container_insights.enabled and not self.prometheus.enabled:
                found.add(
                    "containerInsights.enabled",
                    "false with prometheus off: observability would collect "
                    "nothing (turn one on, or observability.enabled: false)",
                )
            if self.alarms.enabled and not self.alarms.topic_arn and not self.alarms.create_topic:
                found.add(
                    "alarms",
                    "alarms need somewhere to go: set alarms.topicArn, or alarms.createTopic: true "
                    "(or alarms.enabled: false)",
                )
        if self.alarms.topic_arn and self.alarms.create_topic:
            found.add("alarms.createTopic", "true with alarms.topicArn: one topic, given or created")
        if self.prometheus.workspace_arn and not self.prometheus.enabled:
            found.add("prometheus.workspaceArn", "is set but prometheus.enabled is false")
        found.check()
        return self

    @property
    def container_insights_on(self) -> bool:
        return self.enabled and self.container_insights.enabled

    @property
    def prometheus_on(self) -> bool:
        return self.enabled and self.prometheus.enabled

    @property
    def alarms_on(self) -> bool:
        return self.enabled and self.alarms.enabled
