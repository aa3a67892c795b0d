"""AWS credentials for the operator tools (preflight, teardown, node_images): found, or one line saying how to give
them, never a botocore traceback."""

from __future__ import annotations

import sys
from typing import Any

NO_CREDENTIALS = (
    "error: no AWS credentials found: set AWS_PROFILE to a profile that has them (`aws configure sso`, then "
    "`aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role provides them (an "
    'instance profile, or OIDC in CI: docs/operations.md, "CI identities")'
)
EXIT = 2  # the tools' "cannot run as asked" (like invalid config)


def session(region: str | None) -> Any:
    """A boto3 session whose credentials resolve, or None after printing why not (the caller exits ``EXIT``)."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        found = boto3.Session(region_name=region)
        credentials = found.get_credentials()
    except BotoCoreError as err:  # a broken profile, an SSO token that expired...
        print(f"error: AWS credentials could not be loaded: {err}", file=sys.stderr)
        return None
    if credentials is None:
        print(NO_CREDENTIALS, file=sys.stderr)
        return None
    return found
