"""The JSON Schema of a whole stack file, generated from the config models.

One schema, three uses: editors validate and complete ``Pulumi.<stack>.yaml`` with it (the
stack files name it in a ``yaml-language-server`` modeline), docs/configuration.md is
rendered from it (tools/configdoc.py), and the tests check that Pulumi.yaml declares the
same top-level keys. Both files are generated and committed; a test fails when they drift.
"""

from __future__ import annotations

import copy
from typing import Any

from pulumi_aws import Region

from components.config import PROJECT, Sections
from components.config.stackfile import STACK_FILE_KEYS

SCHEMA_ID = "https://github.com/eks-platform/eks-platform/docs/stack.schema.json"


def sections_schema() -> dict[str, Any]:
    """The schema of the project's keys: one property per section, definitions in $defs."""
    return Sections.model_json_schema(by_alias=True, mode="validation", ref_template="#/$defs/{model}")


def stack_schema(project: str = PROJECT) -> dict[str, Any]:
    sections = sections_schema()
    defs = sections.pop("$defs", {})
    props: dict[str, Any] = {"aws:region": {
        "description": "The AWS region of the stack (a region the pinned pulumi-aws knows).",
        "enum": sorted(r.value for r in Region),
    }}
    for key, schema in sections["properties"].items():
        schema = copy.deepcopy(schema)
        schema.pop("title", None)
        props[f"{project}:{key}"] = schema
    config = {
        "type": "object",
        "description": "Stack settings: the project's keys and any other provider's namespace.",
        "properties": props,
        # Other namespaces (aws:profile, kubernetes:..., pulumi:tags) are the providers' business.
        "patternProperties": {f"^(?!{project}:)[A-Za-z0-9_.-]+:.+$": {}},
        "additionalProperties": False,
        "required": ["aws:region"],
    }
    top: dict[str, Any] = {"config": config}
    for key in STACK_FILE_KEYS:
        if key != "config":
            top[key] = {"type": "string"} if key != "environment" else {}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"{project} stack file (Pulumi.<stack>.yaml)",
        "description": "Generated from components/config by `python -m tools.configdoc`; do not edit.",
        "type": "object",
        "properties": top,
        "additionalProperties": False,
        "$defs": dict(sorted(defs.items())),
    }
