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
SESSION_MANAGER_ACTIONS = ("ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel",
                           "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
                           "ssmmessages:OpenDataChannel")


def session_manager_policy() -> str:
    """An instance role's inline policy for Session Manager sessions (these actions take no resource ARN)."""
    return document({"Sid": "SessionManagerChannel", "Effect": "Allow", "Action": list(SESSION_MANAGER_ACTIONS),
                     "Resource": "*"})


def service_trust(
    principal: str | Sequence[str], actions: str | Sequence[str] = "sts:AssumeRole",
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
