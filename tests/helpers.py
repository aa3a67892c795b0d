"""What the tests share besides fixtures: the repository's stacks and their plans (computed once per process), the
program run on a config given as Python objects, small config builders. conftest.py keeps the hooks and fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools import stacks

if TYPE_CHECKING:
    from tools.mockcloud import Recording

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def flat_config(raw: Mapping[str, Any], region: str = "eu-west-1") -> dict[str, str]:
    """Project config objects -> the flat JSON-string form the Pulumi CLI passes to programs."""
    flat = {f"eks-platform:{k}": json.dumps(v) for k, v in raw.items()}
    flat["aws:region"] = region
    return flat


def run_main(raw: Mapping[str, Any], stack: str = "test", region: str = "eu-west-1") -> Recording:
    """Run the real __main__.py with a config given as Python objects."""
    import runpy

    from tools.mockcloud import run_program  # the program's modules load with the first test that runs one

    return run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        config=flat_config(raw, region),
        stack=stack,
        region=region,
    )


def run_components(build: Callable[[], Any], stack: str = "test", region: str = "eu-west-1") -> Recording:
    """Run a small program (a function that constructs components) under the mock cloud."""
    from tools.mockcloud import run_program

    return run_program(build, config={"aws:region": region}, stack=stack, region=region)


_STACKS: dict[str, Recording] = {}


def stack_names() -> list[str]:
    """Every stack of the repository: one per Pulumi.<stack>.yaml (a new file is tested like dev and prod)."""
    return stacks.discover(ROOT)


def stack_files() -> list[Path]:
    return [stacks.stack_file(s, ROOT) for s in stack_names()]


def stack_recording(stack: str) -> Recording:
    """The plan of a checked-in stack file, computed once per test session."""
    if stack not in _STACKS:
        from tools import plan

        _STACKS[stack] = plan.run(stacks.stack_file(stack, ROOT), stack)
    return _STACKS[stack]


# Edits of Pulumi.prod.yaml the review tests diff against prod (tests/test_diffvalues.py, tests/test_report.py)
SYSTEM_LABEL = ("      labels: {node-role: system}", "      labels: {node-role: system, team: core}")
SYSTEM_TYPE = (
    "      instanceTypes: [m7i.large]\n      scaling: {min: 3",
    "      instanceTypes: [m7i.xlarge]\n      scaling: {min: 3",
)
DNS_ZONE = ("hostedZoneIds: [Z0PROD123456789]", "hostedZoneIds: [Z0PROD123456789, Z0PROD987654321]")
_EDITED: dict[tuple, dict] = {}


def edited_prod(*edits: tuple[str, str]) -> dict:
    """The plan (JSON) of prod's stack file with these (old, new) text edits, once per test process."""
    if edits not in _EDITED:
        import tempfile

        from tools import plan

        text = (ROOT / "Pulumi.prod.yaml").read_text()
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "Pulumi.prod.yaml"  # the stack name decides the URNs: keep "prod"
            path.write_text(text)
            _EDITED[edits] = plan.run(path, "prod").as_json()
    return _EDITED[edits]


ADMIN = "arn:aws:iam::111122223333:role/platform-admin"
SYSTEM_GROUP = {
    "kind": "managed",
    "instanceTypes": ["m7i.large"],
    "scaling": {"min": 2, "max": 3},
    "labels": {"node-role": "system"},
    "taints": [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}],
}


def node_group(name: str, **raw: Any):
    """A node group as a stack file would declare it (camelCase keys), validated, with its name."""
    from pydantic import TypeAdapter

    from components.config.nodegroups import NodeGroup

    group = TypeAdapter(NodeGroup).validate_json(json.dumps(raw), strict=True)
    group._name = name
    return group


def config_model(cls: type, **raw: Any):
    """A config model from camelCase keys, validated as the stack file would be."""
    return cls.model_validate_json(json.dumps(raw), strict=True)


def minimal_config(**overrides: Any) -> dict[str, Any]:
    """The smallest valid config; overrides replace whole top-level keys."""
    raw: dict[str, Any] = {"cluster": {"access": {"adminRoleArns": [ADMIN]}}, "nodeGroups": {"system": SYSTEM_GROUP}}
    raw.update(overrides)
    return raw
