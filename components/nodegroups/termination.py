"""Termination infrastructure: the queue aws-node-termination-handler reads for self-managed groups (and, with
other patterns, Karpenter's interruption queue).

EventBridge sends ASG terminate lifecycle actions (for our ASGs only), spot interruption
warnings, rebalance recommendations, instance state changes and AWS Health scheduled
changes for EC2 to one SSE-encrypted SQS queue. The handler (queue mode) drains the node
and completes the lifecycle hook; without a consumer every scale-in would wait for the
hook's heartbeat timeout.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import names
from components.config.tags import tagged
from components.context import AwsContext
from components.iamdocs import document


def event_patterns(asg_names: Sequence[str]) -> dict[str, dict]:
    """EventBridge patterns keyed by a stable rule suffix."""
    return {
        "asg-terminate": {
            "source": ["aws.autoscaling"],
            "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
            "detail": {"AutoScalingGroupName": sorted(asg_names)},
        },
        "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
        "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
        "state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
        "scheduled-change": {
            "source": ["aws.health"],
            "detail-type": ["AWS Health Event"],
            "detail": {"service": ["EC2"], "eventTypeCategory": ["scheduledChange"]},
        },
    }


RULE_KEYS = tuple(event_patterns(()))


def queue_policy(queue_arn: str, ctx: AwsContext) -> str:
    """EventBridge and SQS may send to the queue; nothing reaches it without TLS. Exactly the Karpenter
    getting-started template's queue policy (v1.14.1 cloudformation.yaml, KarpenterInterruptionQueuePolicy) and the
    node termination handler's: no aws:SourceAccount condition, which AWS does not document for every event source
    these rules forward (AWS Health among them), so a condition could silently drop interruption notices."""
    return document(
        {
            "Sid": "EventsToQueue",
            "Effect": "Allow",
            "Principal": {"Service": [ctx.service_principal("events"), ctx.service_principal("sqs")]},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


@dataclass(frozen=True)
class TerminationQueueArgs:
    cluster_name: str
    asg_names: tuple[str, ...]
    ctx: AwsContext
    queue_name: str | None = None  # default <cluster>-node-termination
    patterns: Mapping[str, dict] | None = None  # default: the node termination handler's (event_patterns)
    consumer: str = "the node termination handler"


def default_queue_name(cluster_name: str) -> str:
    """The node termination handler's queue."""
    return names.explicit(names.QUEUE, f"{cluster_name}-node-termination")


class TerminationQueue(pulumi.ComponentResource):
    queue_url: pulumi.Output[str]
    queue_arn: pulumi.Output[str]

    def __init__(self, name: str, args: TerminationQueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:nodegroups:TerminationQueue", name, None, opts)
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        queue = aws.sqs.Queue(
            name,
            name=args.queue_name or default_queue_name(args.cluster_name),
            sqs_managed_sse_enabled=True,
            message_retention_seconds=300,
            tags=tagged(ctx.tags, name),
            opts=child,
        )
        aws.sqs.QueuePolicy(
            name, queue_url=queue.url, policy=queue.arn.apply(lambda a: queue_policy(a, ctx)), opts=child
        )
        patterns = args.patterns if args.patterns is not None else event_patterns(args.asg_names)
        for key, pattern in patterns.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{key}",
                **names.autoname(names.EVENT_RULE, f"{name}-{key}"),
                description=f"{key} events for {args.consumer} of {args.cluster_name}",
                event_pattern=json.dumps(pattern, sort_keys=True),
                tags=tagged(ctx.tags, f"{name}-{key}"),
                opts=child,
            )
            aws.cloudwatch.EventTarget(f"{name}-{key}", rule=rule.name, arn=queue.arn, opts=child)
        self.queue_url = queue.url
        self.queue_arn = queue.arn
        self.queue_name = queue.name
        self.register_outputs({"queueUrl": self.queue_url, "queueArn": self.queue_arn})
