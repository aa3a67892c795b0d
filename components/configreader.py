"""A small, strict reader for structured stack config.

Every read names its config path, so a problem reads like
``network.cidr: "10.0.0.0/33" is not a valid IPv4 network``. Problems are collected,
never raised one at a time, and unknown keys are problems too (typos must not be
silently ignored). Values arrive as JSON-decoded Python values (Pulumi hands object
config to the program as JSON).
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_MISSING = object()
MISSING = _MISSING  # what Obj.raw returns for an absent key

# When set, every typed read records its field (template path -> type, default, allowed values):
# tools/configdoc.py generates docs/configuration.md from it.
_RECORDER: contextvars.ContextVar[dict[str, dict[str, Any]] | None] = contextvars.ContextVar("recorder", default=None)


@contextlib.contextmanager
def recording() -> Iterator[dict[str, dict[str, Any]]]:
    fields: dict[str, dict[str, Any]] = {}
    token = _RECORDER.set(fields)
    try:
        yield fields
    finally:
        _RECORDER.reset(token)


def show(value: Any) -> str:
    """How a bad value is quoted in a message: JSON, so strings keep their quotes."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


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
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class Problems:
    """Collects ``path: message`` lines in the order they were found."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        line = f"{path}: {message}"
        if line not in self.items:
            self.items.append(line)

    def __bool__(self) -> bool:
        return bool(self.items)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Obj:
    """A view of one config object at ``path`` that remembers which keys were read."""

    def __init__(self, value: Any, path: str, problems: Problems, template: str | None = None) -> None:
        self.path = path
        # The path with map keys and list indexes generalised (nodeGroups.<name>.taints[]).
        self.template = path if template is None else template
        self.problems = problems
        self.seen: set[str] = set()
        if value is None:
            value = {}
        if not isinstance(value, dict):
            problems.add(path, f"expected an object, got {kind_of(value)} {show(value)}")
            value = {}
        self.value: dict[str, Any] = value

    # -- plumbing -----------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self.value

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.value.get(key, _MISSING)

    def at(self, key: str) -> str:
        return join(self.path, key)

    def record(self, key: str, kind: str, default: Any = None, allowed: str | None = None) -> None:
        fields = _RECORDER.get()
        if fields is not None:
            fields.setdefault(join(self.template, key), {"type": kind, "default": default, "allowed": allowed})

    def child(self, value: Any, suffix: str, template_suffix: str) -> Obj:
        """An object nested in a list or map of this one (its template generalises the suffix)."""
        return Obj(value, self.path + suffix, self.problems, self.template + template_suffix)

    def bad(self, key: str, message: str) -> None:
        self.problems.add(self.at(key), message)

    def done(self) -> None:
        """Report every key that no reader asked for."""
        allowed = sorted(self.seen)
        for key in sorted(set(self.value) - self.seen):
            hint = difflib.get_close_matches(key, allowed, n=1)
            suffix = f' (did you mean "{hint[0]}"?)' if hint else f" (allowed: {', '.join(allowed)})"
            self.problems.add(self.at(key), f"unknown key{suffix}")

    # -- typed reads ----------------------------------------------------------------
    def _typed(self, key: str, default: Any, ok: Callable[[Any], bool], expected: str, required: bool) -> Any:
        value = self.raw(key)
        if value is _MISSING or value is None:
            if required:
                self.bad(key, "is required")
            return default
        if not ok(value):
            self.bad(key, f"expected {expected}, got {kind_of(value)} {show(value)}")
            return default
        return value

    def string(
        self,
        key: str,
        default: str | None = None,
        *,
        required: bool = False,
        choices: Iterable[str] | None = None,
    ) -> Any:
        self.record(key, "string", "(required)" if required else default,
                    " \\| ".join(choices) if choices is not None else None)
        value = self._typed(key, default, lambda v: isinstance(v, str), "a string", required)
        if choices is not None and value is not None:
            options = tuple(choices)
            if value not in options:
                self.bad(key, f"{show(value)} is not one of {', '.join(options)}")
                return default
        return value

    def integer(
        self, key: str, default: int | None = None, *, lo: int | None = None, hi: int | None = None
    ) -> Any:
        bounds = None if lo is None and hi is None else f"{'' if lo is None else lo}..{'' if hi is None else hi}"
        self.record(key, "integer", default, bounds)
        value = self._typed(
            key, default, lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer", False
        )
        if value is None or value is default:
            return value
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = f"between {lo} and {hi}" if lo is not None and hi is not None else (
                f"at least {lo}" if lo is not None else f"at most {hi}"
            )
            self.bad(key, f"{show(value)} must be {bounds}")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        self.record(key, "boolean", default)
        return self._typed(key, default, lambda v: isinstance(v, bool), "true or false", False)

    def strings(self, key: str, default: Iterable[str] = (), *, required: bool = False) -> tuple[str, ...]:
        self.record(key, "list of strings", "(required)" if required else list(default))
        value = self._typed(key, None, lambda v: isinstance(v, list), "a list of strings", required)
        if value is None:
            return tuple(default)
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.problems.add(f"{self.at(key)}[{i}]", f"expected a string, got {kind_of(item)} {show(item)}")
        return tuple(out)

    def string_map(self, key: str) -> dict[str, str]:
        self.record(key, "map of strings", {})
        value = self._typed(key, None, lambda v: isinstance(v, dict), "an object of strings", False)
        if value is None:
            return {}
        out: dict[str, str] = {}
        for k in sorted(value):
            v = value[k]
            if isinstance(v, str):
                out[k] = v
            else:
                self.problems.add(join(self.at(key), k), f"expected a string, got {kind_of(v)} {show(v)}")
        return out

    def obj(self, key: str) -> Obj:
        self.record(key, "object", {})
        value = self.raw(key)
        return Obj(None if value is _MISSING else value, self.at(key), self.problems, join(self.template, key))

    def object_list(self, key: str, what: str) -> list[Obj]:
        """A list of objects (taints, rules): one child per item, its template indexed by []."""
        self.record(key, "list of objects", [])
        value = self.raw(key)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            self.bad(key, f"expected a list of {what}, got {show(value)}")
            return []
        return [self.child(item, f".{key}[{i}]", f".{key}[]") for i, item in enumerate(value)]

    def objects(self, key: str) -> dict[str, Obj]:
        """A map of name -> object (node groups, add-ons), sorted by name."""
        self.record(key, "map of objects", {})
        value = self.raw(key)
        if value is _MISSING or value is None:
            return {}
        if not isinstance(value, dict):
            self.bad(key, f"expected an object, got {kind_of(value)} {show(value)}")
            return {}
        return {
            name: Obj(value[name], self.at(key) + "." + name, self.problems, join(self.template, key) + ".<name>")
            for name in sorted(value)
        }
