"""The bootstrap's stack config (``eks-platform-bootstrap:*``): pydantic models, read once by ``__main__.py``.

One bootstrap stack per AWS account: the GitHub repository, the platform stacks (GitHub environments) that deploy
into the account, where their state and secrets live, Session Manager's logging, and the permissions boundary.
Everything about an environment's cluster (name, region, the roles its access entries list, its hosted zones) is
read from the platform's own stack file, ``../Pulumi.<environment>.yaml``: a stack is a file, never listed twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import TypeAdapter, ValidationError, model_validator

from components.config.base import (
    KMS_KEY_ARN,
    KMS_KEY_ARN_WHAT,
    PARTITION,
    POLICY_ARN,
    BucketName,
    LogPrefix,
    Model,
    Problems,
    RetentionDays,
    integer,
    items,
    matches,
    text,
)
from components.config.delivery import Repository
from components.config.errors import ConfigError, lines

PROJECT = "eks-platform-bootstrap"
PLATFORM_NAME = "eks-platform"  # the platform project: its name starts the CI roles' names
PLATFORM_ROOT = Path(__file__).resolve().parent.parent  # the platform project whose stacks are the environments

OidcProviderArn = Annotated[
    str,
    text(
        rf"arn:{PARTITION}:iam::[0-9]{{12}}:oidc-provider/token\.actions\.githubusercontent\.com",
        "the ARN of the account's GitHub OIDC provider (arn:aws:iam::<account>:oidc-provider/"
        "token.actions.githubusercontent.com)",
    ),
]
# A GitHub environment is named after its platform stack (pulumi-stack.yml: environment: <stack>).
ENVIRONMENT = r"[A-Za-z0-9_.-]{1,100}"


class GitHub(Model):
    """The repository whose workflows assume the roles."""

    repository: Repository
    """owner/name: the only repository the roles trust (the token's sub claim starts with repo:<owner>/<name>:)."""
    oidc_provider_arn: OidcProviderArn | None = None
    """The account's GitHub OIDC provider when it exists already (IAM allows one per URL and account). Default:
    create it."""


class State(Model):
    """Where the platform stacks keep their state and encrypt their secrets."""

    bucket: BucketName | None = None
    """The S3 bucket of an s3:// backend (previews take the stack lock, deploys write the state). Default: Pulumi
    Cloud (no AWS permission needed)."""
    secrets_key_arn: Annotated[str, text(KMS_KEY_ARN, KMS_KEY_ARN_WHAT)] | None = None
    """The KMS key of an awskms:// secrets provider (deploys encrypt and decrypt, previews decrypt only)."""


class SessionManager(Model):
    """Session Manager's account preferences (the SSM-SessionManagerRunShell document) and who may start one."""

    enabled: bool = True
    """Create the preferences document and the access hosts' session policies."""
    logging: Literal["cloudWatch", "s3"] = "cloudWatch"
    """Where shell sessions are logged, encrypted: a log group this stack creates (KMS-encrypted), or an existing
    S3 bucket (SSE required)."""
    retention_days: RetentionDays = 365
    """Retention of the session log group."""
    kms_key_arn: Annotated[str, text(KMS_KEY_ARN, KMS_KEY_ARN_WHAT)] | None = None
    """A key of yours for the log group (its policy must let logs.<region>.amazonaws.com use it). Default: a key
    this stack creates, rotated yearly."""
    bucket: BucketName | None = None
    """The bucket of logging: s3 (required then)."""
    prefix: LogPrefix = "session-manager"
    """The key prefix in that bucket."""
    idle_timeout_minutes: Annotated[int, integer(1, 60)] = 20
    """Sessions end after this many idle minutes."""

    @model_validator(mode="after")
    def _bucket(self) -> SessionManager:
        found = Problems()
        if self.logging == "s3" and self.bucket is None:
            found.add("bucket", "is required with logging: s3")
        if self.logging == "cloudWatch" and self.bucket is not None:
            found.add("bucket", "applies to logging: s3 only")
        found.check()
        return self


class Catalog(Model):
    """The role of the weekly node-image workflow."""

    enabled: bool = True
    """Create it (trusted for scheduled runs on main only)."""


class Iam(Model):
    permissions_boundary_arn: Annotated[str, text(POLICY_ARN, "an IAM policy ARN")] | None = None
    """A permissions boundary on every role this stack creates (and required on every role the deploy roles
    create)."""


class BootstrapConfig(Model):
    github: GitHub
    """The repository whose workflows assume the roles."""
    environments: Annotated[
        tuple[str, ...],
        items(
            matches(ENVIRONMENT, "a stack name (letters, digits, _, ., -)"),
            "environment",
            min_items=1,
            too_few="needs at least one platform stack",
        ),
    ]
    """The platform stacks (Pulumi.<name>.yaml next to bootstrap/) that deploy into this account, each a GitHub
    environment of the same name with its own deploy and preview role."""
    state: State = State()
    session_manager: SessionManager = SessionManager()
    catalog: Catalog = Catalog()
    iam: Iam = Iam()


@dataclass(frozen=True)
class Platform:
    """What the bootstrap needs of one environment's platform stack (read from its stack file)."""

    stack: str
    cluster_name: str
    region: str
    admin_role_arns: tuple[str, ...]
    view_role_arns: tuple[str, ...]
    hosted_zone_ids: tuple[str, ...]
    access_host: bool


def platform_of(stack: str, root: Path = PLATFORM_ROOT) -> Platform:
    """The environment's cluster as its own stack file configures it (raises ConfigError naming that file)."""
    from tools.stackconfig import platform_config

    cfg = platform_config(stack, root)
    access = cfg.cluster.access
    admins = [
        *access.admin_role_arns,
        *(e.principal_arn for e in access.entries.values() if e.policy == "clusterAdmin"),
    ]
    viewers = [*access.read_only_role_arns, *(e.principal_arn for e in access.entries.values() if e.policy == "view")]
    zones = sorted({lb.dns.zone_id for lb in cfg.workloads.load_balancers.values() if lb.dns is not None})
    return Platform(
        stack,
        cfg.cluster.name,
        cfg.region,
        tuple(admins),
        tuple(viewers),
        tuple(zones),
        cfg.cluster.endpoint.access_host.enabled,
    )


def load(raw: Mapping[str, Any], root: Path = PLATFORM_ROOT) -> tuple[BootstrapConfig, dict[str, Platform]]:
    """The validated config and each environment's platform; every problem at once (one ConfigError)."""
    try:
        cfg = TypeAdapter(BootstrapConfig).validate_json(json.dumps(dict(raw)), strict=True)
    except ValidationError as err:
        raise ConfigError(lines(err, BootstrapConfig)) from None
    problems: list[str] = []
    platforms: dict[str, Platform] = {}
    for env in sorted(cfg.environments):
        if not (root / f"Pulumi.{env}.yaml").is_file():
            known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
            problems.append(
                f"environments.{env}: no platform stack file Pulumi.{env}.yaml (stacks: {', '.join(known)})"
            )
            continue
        try:
            platforms[env] = platform_of(env, root)
        except ConfigError as err:
            problems += [f"environments.{env}: Pulumi.{env}.yaml: {p}" for p in err.problems]
    if problems:
        raise ConfigError(problems)
    return cfg, platforms
