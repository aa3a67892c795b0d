"""Builds the CrossGuard pack from guardrails.py (constructing PolicyPack starts the policy server).

pulumi preview --policy-pack policies [--policy-pack-config policies/config.dev.json]
"""

import sys
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import guardrails


def _resource(args) -> guardrails.Resource:
    deps = tuple(d.urn for d in getattr(args, "dependencies", None) or ())
    return guardrails.Resource(args.resource_type, args.name, args.urn, dict(args.props or {}), deps)


def _schema(policy: guardrails.Policy) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in policy.params.items()}) if policy.params else None


def _params(policy: guardrails.Policy, args) -> tuple:
    """The policy's parameters (the stack's --policy-pack-config values over the schema's defaults), if it has any."""
    return (guardrails.policy_params(policy, args.get_config()),) if policy.params else ()


def _resource_policy(policy: guardrails.Policy) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in policy.types:
            return
        for message in policy.check(_resource(args), *_params(policy, args)):
            report_violation(message)

    return ResourceValidationPolicy(
        name=policy.name,
        description=policy.description,
        enforcement_level=EnforcementLevel(policy.enforcement),
        validate=validate,
        config_schema=_schema(policy),
    )


def _stack_policy(policy: guardrails.Policy) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [_resource(r) for r in args.resources]
        for urn, message in policy.stack_check(resources, *_params(policy, args)):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=policy.name,
        description=policy.description,
        enforcement_level=EnforcementLevel(policy.enforcement),
        validate=validate,
        config_schema=_schema(policy),
    )


PolicyPack(
    name="eks-platform-guardrails",
    policies=[_stack_policy(p) if p.stack_check else _resource_policy(p) for p in guardrails.POLICIES],
)
