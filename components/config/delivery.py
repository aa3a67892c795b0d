"""``eks-platform:delivery``: how CI reaches the stack (a runner inside the VPC for private endpoints)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import model_validator

from components.config.base import PARTITION, Model, Problems, integer, text

# GitHub: owner 1-39 letters, digits, -; repository 1-100 letters, digits, ., _, -.
Repository = Annotated[
    str, text(r"[A-Za-z0-9]([A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}", "a GitHub repository (owner/name)")
]
# AWS CodeConnections (formerly CodeStar Connections) connection ARNs.
ConnectionArn = Annotated[
    str,
    text(
        rf"arn:{PARTITION}:(codeconnections|codestar-connections):[a-z]{{2}}(-[a-z]+)+-[0-9]:[0-9]{{12}}:"
        r"connection/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}",
        "an AWS CodeConnections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<id>)",
    ),
]
# A CodeBuild image: a curated image name or an ECR/registry reference.
Image = Annotated[
    str,
    text(
        r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?", "a container image reference", max_len=255
    ),
]


class RunnerConfig(Model):
    """An AWS CodeBuild project hosting GitHub Actions runners inside the VPC (private API endpoints)."""

    enabled: bool = False
    """Create it."""
    repository: Repository | None = None
    """The GitHub repository whose workflow jobs it runs (owner/name)."""
    connection_arn: ConnectionArn | None = None
    """An AWS CodeConnections GitHub connection, already authorised in the console."""
    compute_type: Literal[
        "BUILD_GENERAL1_SMALL",
        "BUILD_GENERAL1_MEDIUM",
        "BUILD_GENERAL1_LARGE",
        "BUILD_GENERAL1_XLARGE",
        "BUILD_GENERAL1_2XLARGE",
    ] = "BUILD_GENERAL1_MEDIUM"
    """CodeBuild EC2 compute (Lambda compute cannot run in a VPC); MEDIUM: 4 vCPU, 7 GB."""
    image: Image = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
    """The build image (Amazon Linux 2023 standard image by default)."""
    allowed_actor_ids: tuple[Annotated[int, integer(1, 2**53 - 1)], ...] = ()
    """The GitHub user ids (numbers: `gh api users/<login> --jq .id`) whose workflow jobs the runner takes; a job
    queued by anyone else (a fork's author, an outside collaborator) never builds inside the VPC. Required when
    enabled."""

    @model_validator(mode="after")
    def _complete(self) -> RunnerConfig:
        found = Problems()
        if self.enabled:
            for key, value in (("repository", self.repository), ("connectionArn", self.connection_arn)):
                if value is None:
                    found.add(key, "is required when the runner is enabled")
            if not self.allowed_actor_ids:
                found.add(
                    "allowedActorIds",
                    "is required when the runner is enabled: without it any GitHub user "
                    "whose job targets the runner's label (a fork's pull request) would run "
                    "inside the VPC",
                )
        for dup in sorted({i for i in self.allowed_actor_ids if self.allowed_actor_ids.count(i) > 1}):
            found.add("allowedActorIds", f"{dup} is listed twice")
        found.check()
        return self


class DeliveryConfig(Model):
    """How CI reaches the stack."""

    runner: RunnerConfig = RunnerConfig()
    """An AWS CodeBuild project hosting GitHub Actions runners inside the VPC (private API endpoints)."""
    deploy_order: Annotated[int, integer(0, 1000)] | None = None
    """Where this stack deploys among the repository's stacks (lower first, then by name); the deploy workflow runs
    one stack at a time and stops at the first failure. Default: 0, or 1 when cluster.protect is true, so
    protected stacks deploy after the others."""
