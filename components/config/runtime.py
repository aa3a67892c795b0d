"""What ``pulumi up`` hands the program: the stack's config as flat ``namespace:key`` values, objects as JSON text.

``parse_runtime_value`` reads them with the same rules as a stack file (duplicate keys, NaN and Infinity refused);
``flatten_runtime`` keeps the project's keys and refuses near-misses of its namespace. The stack file itself is read
by ``tools/stackfile.py`` (offline plan) or by the Pulumi CLI.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from components.config.base import show
from components.config.errors import ConfigError

# The top-level keys of a Pulumi.<stack>.yaml (the schema describes them for editors).
STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the key {show(k)} appears twice")
        out[k] = v
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON can carry")


def parse_runtime_value(key: str, value: Any) -> Any:
    """A config value as the Pulumi runtime hands it over (objects as JSON text), read strictly."""
    if not isinstance(value, str):
        return value
    stripped = value.strip()
    if not stripped or stripped[0] not in "[{":
        try:  # numbers and booleans arrive as text too
            return json.loads(stripped, parse_constant=_no_constants)
        except ValueError:
            return value
    try:
        return json.loads(value, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except RecursionError:
        raise ConfigError([f"{key}: nested too deeply"]) from None
    except ValueError as err:
        raise ConfigError([f"{key}: {' '.join(str(err).split())}"]) from None


# Namespaces a stack file of this project has reason to use: the project's own, the providers it configures and
# Pulumi's (pulumi:tags, pulumi:autonaming...).
KNOWN_NAMESPACES = ("aws", "pulumi", "kubernetes")


def namespace_problems(keys: Iterable[str], project: str) -> list[str]:
    """A misspelled project namespace (``eks-platfrom:workloads``) is read by no one: Pulumi passes it on and the
    whole section would silently be left out. Namespaces close to the project's (and not a known one) are refused;
    other namespaces (another provider's, an ESC environment's) are left alone."""
    out = []
    for key in sorted(keys):
        namespace, _, name = key.partition(":")
        if namespace in (project, *KNOWN_NAMESPACES) or not name:
            continue
        if namespace.lower() == project.lower() or difflib.get_close_matches(namespace, [project], cutoff=0.75):
            out.append(
                f'{key}: unknown namespace {show(namespace)}: nothing reads it (did you mean "{project}:{name}"?)'
            )
    return out


def flatten_runtime(values: Mapping[str, Any], project: str) -> dict[str, Any]:
    """``{name: value}`` for the project's keys of a flat runtime config (refusing near-misses of its namespace)."""
    out: dict[str, Any] = {}
    problems: list[str] = namespace_problems(values, project)
    for full in sorted(values):
        namespace, _, name = full.partition(":")
        if namespace != project:
            continue
        try:
            out[name] = parse_runtime_value(name, values[full])
        except ConfigError as err:
            problems += err.problems
    if problems:
        raise ConfigError(problems)
    return out
