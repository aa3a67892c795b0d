"""Facts about the AWS account a stack deploys into, looked up once and passed down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AwsContext:
    account_id: str
    partition: str
    region: str
    dns_suffix: str = "amazonaws.com"
    tags: Mapping[str, str] = field(default_factory=dict)
    # iam.permissionsBoundaryArn: the boundary every role the platform creates carries
    permissions_boundary: str | None = None
    # cluster.logging.kmsKeyArn: the key of every log group the platform creates
    logs_kms_key_arn: str | None = None

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return ":".join(
            (
                "arn",
                self.partition,
                service,
                self.region if region else "",
                self.account_id if account else "",
                resource,
            )
        )

    def boundary(self) -> dict[str, str]:
        """Keyword arguments of ``aws.iam.Role``: the stack's permissions boundary, when it has one."""
        return {"permissions_boundary": self.permissions_boundary} if self.permissions_boundary else {}

    def log_key(self) -> dict[str, str]:
        """Keyword arguments of ``aws.cloudwatch.LogGroup``: the stack's log key, when it has one."""
        return {"kms_key_id": self.logs_kms_key_arn} if self.logs_kms_key_arn else {}

    def managed_policy(self, name: str) -> str:
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    def service_principal(self, service: str) -> str:
        # Service principals are <service>.amazonaws.com in every partition AWS documents for these services.
        return f"{service}.amazonaws.com"

    def endpoint_service(self, service: str) -> str:
        return f"com.amazonaws.{self.region}.{service}"
