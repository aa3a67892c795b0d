"""IAM policy documents as deterministic JSON (sorted keys: previews never churn on order)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


# Session Manager's own channel, and nothing else: the minimal instance permissions of the AWS Systems Manager User
# Guide ("Step 2: Verify or add instance permissions for Session Manager", custom policy). Unlike the managed
# AmazonSSMManagedInstanceCore it grants no ssm:GetParameter(s) on "*": a pod that reached the node's credentials
# could read every parameter of the account with that one.
SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)


def session_manager_policy(log_group_arn: str | None = None, log_objects_arn: str | None = None) -> str:
    """An instance role's inline policy for Session Manager sessions (the channel actions take no resource ARN), and
    the writes of the account's session logging when its preferences log to CloudWatch or S3 (Systems Manager User
    Guide, "Step 2", custom policy with logging: the agent checks the group or bucket is encrypted, then writes)."""
    statements: list[dict[str, Any]] = [
        {"Sid": "SessionManagerChannel", "Effect": "Allow", "Action": list(SESSION_MANAGER_ACTIONS), "Resource": "*"}
    ]
    if log_group_arn:
        statements += [
            {
                "Sid": "SessionLogStreams",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": f"{log_group_arn}:*",
            },
            {"Sid": "SessionLogGroupEncrypted", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        ]
    if log_objects_arn:
        bucket = log_objects_arn.split("/", 1)[0]
        statements += [
            {"Sid": "SessionLogObjects", "Effect": "Allow", "Action": "s3:PutObject", "Resource": log_objects_arn},
            {
                "Sid": "SessionLogBucketEncrypted",
                "Effect": "Allow",
                "Action": "s3:GetEncryptionConfiguration",
                "Resource": bucket,
            },
        ]
    return document(*statements)


def service_trust(
    principal: str | Sequence[str],
    actions: str | Sequence[str] = "sts:AssumeRole",
    condition: Mapping[str, Any] | None = None,
) -> str:
    """A trust policy letting an AWS service principal assume the role (optionally conditioned)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": principal if isinstance(principal, str) else list(principal)},
        "Action": actions if isinstance(actions, str) else list(actions),
    }
    if condition:
        statement["Condition"] = dict(condition)
    return document(statement)
