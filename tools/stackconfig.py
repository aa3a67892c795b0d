"""A stack's config as the Pulumi CLI hands it to the program: ``Pulumi.yaml`` defaults overlaid by
``Pulumi.<stack>.yaml`` (read by ``tools/stackfile.py``), flattened, ``secure:`` values replaced by placeholders; and
the validated PlatformConfig of a stack, for the tools that need it without planning (preflight, teardown, bootstrap).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.config import PlatformConfig

ROOT = Path(__file__).resolve().parent.parent


def _encode(value: Any) -> str:
    """A config value as the Pulumi CLI hands it to the program: text, objects and lists as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def load_project(root: Path = ROOT) -> dict[str, Any]:
    from components.config import datafiles

    return datafiles.load(root / "Pulumi.yaml")


def stack_config(stack_file: Path, project: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Flat config ``{"ns:key": str}`` and the secret keys, as the Pulumi CLI would pass them.

    Pulumi.yaml defaults first, overlaid by the stack file, read by the strict reader
    (tools/stackfile.py): a YAML or shape problem is a ConfigError naming the file and line.
    """
    from tools.stackfile import read_stack_file

    name = project["name"]
    flat: dict[str, str] = {}
    for key, decl in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(decl, dict) and ("default" in decl or "value" in decl):
            flat[full] = _encode(decl.get("default", decl.get("value")))
        elif not isinstance(decl, dict):
            flat[full] = _encode(decl)
    values, secrets = read_stack_file(stack_file, name)
    flat.update({k: _encode(v) for k, v in values.items()})
    return flat, secrets


def platform_config(stack: str, root: Path = ROOT) -> PlatformConfig:
    """The validated config of ``Pulumi.<stack>.yaml`` as the program would read it (raises ConfigError).

    For the tools that act on a deployed stack (preflight, teardown): the same defaults, reader and models.
    """
    from components.config import load
    from components.config.runtime import flatten_runtime

    project = load_project(root)
    flat, _ = stack_config(root / f"Pulumi.{stack}.yaml", project)
    raw = flatten_runtime(flat, project["name"])
    return load(raw, stack=stack, region=flat.get("aws:region"), project=project["name"])


def platform_config_or_report(stack: str, root: Path = ROOT) -> PlatformConfig | None:
    """``platform_config``, or None after printing its problems to stderr (the tools then exit 2)."""
    from components.config import ConfigError

    try:
        return platform_config(stack, root)
    except ConfigError as err:
        print("\n".join(err.problems), file=sys.stderr)
        return None


def stack_name_of(path: Path) -> str:
    m = re.match(r"^Pulumi\.(.+)\.ya?ml$", path.name)
    return m.group(1) if m else path.stem
