"""Shared fixtures: the recording mock cloud, whole-stack runs and small component runs."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hypothesis  # with its strategies, imported before any test starts Pulumi's worker threads: a lazy import
import hypothesis.strategies  # later trips CPython 3.11.7's AST recursion-depth check
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools import stacks  # noqa: E402

if TYPE_CHECKING:
    from tools.mockcloud import Recording

DATA = Path(__file__).resolve().parent / "data"


def _parse_botocore_data_once() -> None:
    """botocore parses its JSON data files (the endpoint list, service models: megabytes) once per session, and moto
    makes a session for each backend it creates, in every test that uses it: seconds of the suite spent parsing the
    same package files again. They never change within a run, so each is parsed once per process; botocore treats
    what it loads as read-only (the sdk extras it merges into a model are the same each time)."""
    from botocore import loaders

    parse = loaders.JSONFileLoader._load_file
    parsed: dict[str, Any] = {}

    def load(self: Any, full_path: str, open_method: Any) -> Any:
        if full_path not in parsed:
            parsed[full_path] = parse(self, full_path, open_method)
        return parsed[full_path]

    loaders.JSONFileLoader._load_file = load


_parse_botocore_data_once()

# Property tests draw the same examples on every run, so CI's verdict does not depend on luck; a failure prints the
# example. HYPOTHESIS_PROFILE=explore draws new ones (run it when changing what they test; it found the policy lines'
# control-character bug).
hypothesis.settings.register_profile("gate", derandomize=True)
hypothesis.settings.register_profile("explore", derandomize=False)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "unit: a pure-function or config test that runs neither the program nor "
        "another process (added at collection: tests/markers.py)",
    )


def pytest_ignore_collect(collection_path, config):
    """With -m unit, a test module without unit tests is not even imported."""
    from tests.markers import unit_tests

    if (
        config.getoption("markexpr") == "unit"
        and collection_path.suffix == ".py"
        and collection_path.name.startswith("test_")
    ):
        return not unit_tests(collection_path)
    return None


def pytest_collection_modifyitems(items):
    from tests.markers import unit_tests

    for item in items:
        function = getattr(item, "originalname", None) or item.name
        if item.path.name.startswith("test_") and function in unit_tests(item.path):
            item.add_marker(pytest.mark.unit)


def pytest_collection_finish(session):
    """What every test process keeps to its end (the modules, and the program's with the SDKs when a selected test
    plans) goes to the collector's permanent generation: each later full collection, of which the plans cause many
    and pytest's unraisable-exception check five at the end, then skips those millions of objects."""
    import gc

    if any(item.get_closest_marker("unit") is None for item in session.items):
        import components.program  # noqa: F401  (the first plan would import it; now, before the freeze)
        import tools.mockcloud  # noqa: F401
    gc.collect()
    gc.freeze()


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


@pytest.fixture(scope="session")
def dev() -> Recording:
    return stack_recording("dev")


@pytest.fixture(scope="session")
def prod() -> Recording:
    return stack_recording("prod")


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
