"""Run by tests/test_policies.py with policies/venv's Python (which has pulumi_policy).

Builds the real pack from policies/__main__.py with PolicyPack replaced by a recorder (the
real one starts a gRPC server and blocks), then validates the resources of a plan JSON
through pulumi_policy's own argument types and prints the violations as JSON.
"""

import json
import runpy
import sys
from pathlib import Path

import pulumi_policy
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

captured = {}


class RecordingPack:
    def __init__(self, name, policies, **_kwargs):
        captured["name"] = name
        captured["policies"] = policies


pulumi_policy.PolicyPack = RecordingPack
pack_dir = Path(sys.argv[1])
runpy.run_path(str(pack_dir / "__main__.py"), run_name="__main__")
plan = json.loads(Path(sys.argv[2]).read_text())


def opts(r):
    return PolicyResourceOptions(
        r["protect"], r["ignoreChanges"], None, [], PolicyCustomTimeouts(0, 0, 0), [], r["parent"]
    )


resources = {}
for r in plan["resources"]:
    resources[r["urn"]] = PolicyResource(r["type"], r["inputs"], r["urn"], r["name"], opts(r), None, None, [], {})
for r in plan["resources"]:
    resources[r["urn"]].dependencies = [resources[d] for d in r["dependencies"] if d in resources]

violations = []
for policy in captured["policies"]:

    def report(message, urn=None, _p=policy, _u=None):
        violations.append(
            {"policy": _p.name, "enforcement": _p.enforcement_level.value, "urn": urn or _u, "message": message}
        )

    if isinstance(policy, ResourceValidationPolicy):
        for r in plan["resources"]:
            args = ResourceValidationArgs(r["type"], r["inputs"], r["urn"], r["name"], opts(r), None)
            policy.validate(
                args,
                lambda m, urn=None, _p=policy, _r=r: violations.append(
                    {"policy": _p.name, "enforcement": _p.enforcement_level.value, "urn": _r["urn"], "message": m}
                ),
            )
    else:
        policy.validate(StackValidationArgs(list(resources.values())), report)
print(
    json.dumps(
        {"pack": captured["name"], "policies": [p.name for p in captured["policies"]], "violations": violations},
        sort_keys=True,
    )
)
