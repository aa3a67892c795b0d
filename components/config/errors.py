"""ConfigError and the one-line ``key.path: message`` form of every config problem.

pydantic reports each problem with a location (aliases: the keys users write) and a type;
this module turns them into the lines users see: the path with list indexes and map keys
(quoted when they are not plain identifiers, so a line never breaks), the bad value as JSON,
"did you mean" for unknown keys.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from components.config.base import show


class ConfigError(pulumi.RunError):
    """Invalid stack config: one line per problem, each naming its config path (``pulumi up`` shows no traceback)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(dict.fromkeys(problems))
        super().__init__("invalid stack config:\n" + "\n".join(f"  {p}" for p in self.problems))


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_:/.@-]+")


def path(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:  # spaces, newlines, quotes...: JSON-quoted so the line stays one clean line
            out += f"[{show(part)}]"
    return out


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "tuple_type": "a list",
    "list_type": "a list",
}


# ---------------------------------------------------------------------------------------
# walking the model types along an error location
# ---------------------------------------------------------------------------------------
def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _members(tp: Any) -> list[Any]:
    tp = _strip(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [_strip(a) for a in typing.get_args(tp) if a is not type(None)]
    return [tp]


def _field(model: type[BaseModel], alias: str) -> Any:
    for name, info in model.model_fields.items():
        if (info.alias or name) == alias:
            return info.annotation
    return None


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _step(types_: list[Any], part: str | int) -> list[Any]:
    """The types one location step below ``types_``: a model's field, a map's values, a list's items."""
    out = []
    for member in (m for tp in types_ for m in _members(tp)):
        origin = typing.get_origin(member)
        if _is_model(member) and _field(member, str(part)) is not None:
            out.append(_field(member, str(part)))
        elif origin is dict:
            out.append(typing.get_args(member)[1])
        elif origin in (tuple, list):
            out.append(typing.get_args(member)[0])
    return out


def _walk(root: Any, loc: Sequence[str | int]) -> tuple[list[Any], list[str | int]]:
    """The types at ``loc``, and ``loc`` without the tags pydantic inserts after a tagged union (nodeGroups.x.managed)."""
    current, clean, i = [root], [], 0
    while i < len(loc):
        current = _step(current, loc[i])
        clean.append(loc[i])
        tagged = _tagged(current)
        if tagged and i + 1 < len(loc) and any(_tag(m) == loc[i + 1] for m in tagged):
            current = [m for m in tagged if _tag(m) == loc[i + 1]]
            i += 1
        i += 1
    return current, clean


def _tagged(types_: list[Any]) -> list[type[BaseModel]]:
    return [m for tp in types_ for m in _members(tp) if _is_model(m) and _tag(m) is not None]


def _tag(model: type[BaseModel]) -> str | None:
    info = model.model_fields.get("kind")
    args = typing.get_args(info.annotation) if info else ()
    return args[0] if info and typing.get_origin(info.annotation) is typing.Literal and len(args) == 1 else None


def _unknown_key(root: Any, loc: Sequence[str | int], key: str) -> str:
    types_, clean = _walk(root, loc)
    models = [m for tp in types_ for m in _members(tp) if _is_model(m)]
    allowed = sorted({(info.alias or name) for m in models for name, info in m.model_fields.items()})
    if models and _tag(models[0]) is not None:
        # A key another kind has: say so rather than "unknown".
        union = _tagged(_walk(root, clean)[0]) if clean else []
        kinds = sorted(str(_tag(m)) for m in union if _field(m, key) is not None)
        if kinds:
            return f"does not apply to kind {_tag(models[0])} (only to {', '.join(kinds)})"
    hint = difflib.get_close_matches(key, allowed, n=1)
    return f'unknown key (did you mean "{hint[0]}"?)' if hint else f"unknown key (allowed: {', '.join(allowed)})"


# ---------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------
def lines(err: ValidationError, root: Any, prefix: Sequence[str | int] = ()) -> list[str]:
    """One ``path: message`` line per problem in ``err`` (``root``: the type that was validated)."""
    out: list[str] = []
    for e in err.errors(include_url=False):
        raw_loc = tuple(e["loc"])
        key_error = bool(raw_loc) and raw_loc[-1] == "[key]"  # a map key is wrong: the path already names it
        raw_loc = tuple(p for p in raw_loc if p != "[key]")
        loc = _walk(root, raw_loc)[1]
        value, kind, ctx = e.get("input"), e["type"], e.get("ctx") or {}
        if key_error and kind == "config":
            ctx = {**ctx, "message": str(ctx["message"]).removeprefix(f"{show(value)} ")}
        full = (*prefix, *loc)
        if kind == "config_many":
            out += [f"{path((*full, *sub))}: {message}" for sub, message in ctx["problems"]]
            continue
        if kind == "config":
            message = ctx["message"]
        elif kind == "extra_forbidden":
            message = _unknown_key(root, raw_loc[:-1], str(raw_loc[-1]))
        elif kind == "missing":
            message = "is required"
        elif kind in _EXPECTED:
            message = f"expected {_EXPECTED[kind]}, got {kind_of(value)} {show(value)}"
            if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
                # YAML reads an unquoted 1.35 (or 1.30, as 1.3) as a number
                message += f'; YAML reads an unquoted number as a number: quote it ("{value}")'
        elif kind == "literal_error":
            choices = re.findall(r"'((?:[^'\\]|\\.)*)'", str(ctx.get("expected", "")))
            message = f"{show(value)} is not one of {', '.join(choices)}"
        elif kind == "union_tag_not_found":
            full, message = (*full, ctx.get("discriminator", "kind").strip("'")), "is required"
        elif kind == "union_tag_invalid":
            choices = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
            full = (*full, ctx.get("discriminator", "kind").strip("'"))
            message = f"{show(ctx.get('tag'))} is not one of {', '.join(choices)}"
        else:  # anything else pydantic reports: its own words, never a traceback
            message = f"{e['msg']} (got {show(value)})"
        out.append(f"{path(full)}: {message}" if full else message)
    return out
