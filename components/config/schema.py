"""The JSON Schema of a whole stack file, generated from the config models.

One schema, three uses: editors validate and complete ``Pulumi.<stack>.yaml`` with it (the
stack files name it in a ``yaml-language-server`` modeline), docs/configuration.md is
rendered from it (tools/configdoc.py), and the tests check that Pulumi.yaml declares the
same top-level keys. Both files are generated and committed; a test fails when they drift.
"""

from __future__ import annotations

import copy
import functools
import typing
from typing import Any

from pulumi_aws import Region
from pydantic import BaseModel

from components.config import PROJECT, Sections
from components.config.runtime import STACK_FILE_KEYS

SCHEMA_ID = "https://github.com/eks-platform/eks-platform/docs/stack.schema.json"


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every subclass of ``root``, each after the models its fields use (so one rebuild pass sees them all)."""
    found: list[type[BaseModel]] = []
    for sub in root.__subclasses__():
        found += [sub, *_models(sub)]
    ordered: dict[type[BaseModel], None] = {}

    def visit(model: type[BaseModel]) -> None:
        if model in ordered:
            return
        for field in model.__pydantic_fields__.values():
            for used in _used(field.annotation, root):
                if used is not model:
                    visit(used)
        ordered[model] = None

    for model in dict.fromkeys(found):
        visit(model)
    return list(ordered)


def _used(annotation: Any, root: type[BaseModel]) -> list[type[BaseModel]]:
    """The ``root`` models an annotation mentions (in unions, containers, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, root):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _used(arg, root)]


@functools.cache
def documented() -> None:
    """Give every model's fields their docstring as description (pydantic's own use_attribute_docstrings
    extraction), then rebuild the models, the ones used first, so the JSON Schema carries them. Only the schema
    needs the descriptions; the program never reads them."""
    from pydantic._internal._docs_extraction import extract_docstrings_from_cls

    from components.config.base import Model

    models = _models(Model)
    for model in models:
        docs: dict[str, str] = {}
        for klass in reversed(model.__mro__):  # a field a model inherits keeps its base's docstring
            if isinstance(klass, type) and issubclass(klass, Model):
                docs.update(extract_docstrings_from_cls(klass, use_inspect=True))
        for name, field in model.__pydantic_fields__.items():
            if field.description is None and name in docs:
                field.description = docs[name]
    # a model's schema embeds the schemas of the models it uses as they were built: the used ones first
    for model in models:
        model.model_rebuild(force=True)


def sections_schema() -> dict[str, Any]:
    """The schema of the project's keys: one property per section, definitions in $defs."""
    documented()
    return Sections.model_json_schema(by_alias=True, mode="validation", ref_template="#/$defs/{model}")


def stack_schema(project: str = PROJECT) -> dict[str, Any]:
    sections = sections_schema()
    defs = sections.pop("$defs", {})
    props: dict[str, Any] = {
        "aws:region": {
            "description": "The AWS region of the stack (a region the pinned pulumi-aws knows).",
            "enum": sorted(r.value for r in Region),
        }
    }
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
