"""IAM policy documents as deterministic JSON (sorted keys: previews never churn on order)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


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
