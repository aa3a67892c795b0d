"""eks-platform-bootstrap: read the stack config once, check it against the platform stacks it serves, create the
account's CI identities, export what the repository's settings need.

Run from this directory (`pulumi up -C bootstrap -s <account stack>`), before any platform stack of the account.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: components/, bootstrap/, tools/

import pulumi
import pulumi_aws as aws

from bootstrap import config, identities
from components.config import raw_from_runtime, region_problem
from components.config.errors import ConfigError
from components.config.tags import base_tags

raw, region = raw_from_runtime(config.PROJECT)
if (problem := region_problem(region)) is not None:
    raise ConfigError([problem])
settings, platforms = config.load(raw)
account = aws.get_caller_identity().account_id
partition = aws.get_partition().partition
problems = identities.plan_problems(settings, platforms, partition, account, config.PLATFORM_NAME)
if problems:
    raise ConfigError(problems)
ci = identities.CiIdentities(
    config.PLATFORM_NAME,
    identities.CiIdentitiesArgs(
        config=settings,
        platforms=platforms,
        partition=partition,
        account=account,
        region=region,
        tags=base_tags(config.PROJECT, pulumi.get_stack(), {}),
    ),
)
for key, value in sorted(identities.outputs(ci, settings).items()):
    pulumi.export(key, value)
