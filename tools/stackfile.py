"""Reading ``Pulumi.<stack>.yaml`` without ever crashing, for the offline plan and the tools (``pulumi up`` reads the
file itself and hands the program its values: ``components/config/runtime.py``).

A stack file is read the way the Pulumi CLI reads it (go-yaml v3, YAML 1.2 core schema):
``yes``/``on`` are strings, not booleans; ``010`` is ten; ``<<`` merge keys work. Anything
that is not plain JSON data — unknown tags (``!Ref``), dates, binary, sets, infinities,
non-string or duplicate keys, more than one document, bytes that are not UTF-8 — is a
problem named with its file and line. Aliases are allowed, but their expansion is bounded
(an alias bomb or a self-reference is refused before anything is expanded). Problems are
``ConfigError`` lines, like every other config problem.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from components.config.base import show
from components.config.errors import ConfigError, path
from components.config.runtime import STACK_FILE_KEYS

MAX_NODES = 20_000  # expanded YAML nodes: a real stack file has a few hundred
MAX_DEPTH = 64
SECRET_PLACEHOLDER = "plan-placeholder-secret"

_STR, _INT, _FLOAT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ, _MERGE, _TIMESTAMP = (f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "merge", "timestamp"))


class _Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types (what go-yaml v3 resolves)."""


_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        _FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    (_MERGE, r"^(?:<<)$", ["<"]),
    # Not a YAML 1.2 type: matched only to refuse it (YAML 1.1 tools would read a date here).
    (
        _TIMESTAMP,
        r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
        r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$",
        list("0123456789"),
    ),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def _int(loader: _Loader, node: yaml.ScalarNode) -> int:
    value = node.value
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)  # YAML 1.2: 010 is ten, not eight


_Loader.add_constructor(_INT, _int)


class _Checker:
    """Walks the composed node graph once: types, keys, aliases (bounded), before anything is built."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[str] = []
        self.sizes: dict[int, int] = {}
        self.active: set[int] = set()

    def fail(self, node: yaml.Node, loc: tuple, message: str) -> None:
        at = f"{path(loc)}: " if loc else ""
        self.problems.append(f"{self.where}:{node.start_mark.line + 1}: {at}{message}")

    def walk(self, node: yaml.Node, loc: tuple = (), depth: int = 0) -> int:
        """The expanded size of ``node`` (aliases counted every time they are used)."""
        key = id(node)
        if key in self.active:
            self.fail(node, loc, "an alias refers to a node that contains it (a cycle)")
            return MAX_NODES
        if key in self.sizes:
            return self.sizes[key]
        if depth > MAX_DEPTH:
            self.fail(node, loc, f"nested more than {MAX_DEPTH} levels deep")
            return MAX_NODES
        self.active.add(key)
        size = 1
        if isinstance(node, yaml.ScalarNode):
            self.scalar(node, loc)
        elif isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self.fail(node, loc, f"the tag {node.tag} is not supported (plain lists only)")
            for i, item in enumerate(node.value):
                size += self.walk(item, (*loc, i), depth + 1)
        elif isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                self.fail(node, loc, f"the tag {node.tag} is not supported (plain mappings only)")
            seen: dict[str, int] = {}
            for k, v in node.value:
                if k.tag == _MERGE:
                    size += self.walk(v, loc, depth + 1)
                    continue
                if not isinstance(k, yaml.ScalarNode) or k.tag != _STR:
                    shown = k.value if isinstance(k, yaml.ScalarNode) else "a " + type(k).__name__[:-4].lower()
                    self.fail(k, loc, f"the key {shown} is not a string (quote it)")
                    continue
                if k.value in seen:
                    self.fail(k, (*loc, k.value), f"is defined twice (first on line {seen[k.value]})")
                seen[k.value] = k.start_mark.line + 1
                size += self.walk(v, (*loc, k.value), depth + 1)
        self.active.discard(key)
        self.sizes[key] = size
        return size

    def scalar(self, node: yaml.ScalarNode, loc: tuple) -> None:
        if node.tag == _TIMESTAMP:
            self.fail(
                node,
                loc,
                f"unquoted date {node.value}: YAML 1.1 tools read a date, Pulumi a string; quote it "
                f"({show(node.value)})",
            )
        elif node.tag == _FLOAT and re.search(r"inf|nan", node.value, re.IGNORECASE):
            self.fail(node, loc, f"{node.value} is not a number JSON can carry")
        elif node.tag not in (_STR, _INT, _FLOAT, _BOOL, _NULL):
            self.fail(
                node,
                loc,
                f"the tag {node.tag} is not supported (stack config is plain data: strings, numbers, "
                "booleans, lists and mappings)",
            )


# The characters YAML 1.2 allows in a stream (spec 5.1, c-printable); PyYAML's reader refuses the others.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _unprintable(content: str, where: str) -> list[str]:
    """One line per line of the file holding a character YAML does not allow (NUL, other control characters)."""
    out: list[str] = []
    for n, text in enumerate(content.split("\n"), start=1):
        if m := _NOT_PRINTABLE.search(text):
            char = m.group()
            name = unicodedata.name(char, "") or {"\x00": "NUL", "\x1b": "ESCAPE", "\x7f": "DELETE"}.get(
                char, "a control character" if unicodedata.category(char) == "Cc" else "a noncharacter"
            )
            out.append(
                f"{where}:{n}:{m.start() + 1}: the character U+{ord(char):04X} ({name}) is not allowed in a "
                f"YAML file; delete it (or write it as an escape, \\u{ord(char):04x}, inside double quotes)"
            )
    return out


# PyYAML's words for the mistakes people make, said plainly (the line and column say where).
_PLAIN = (
    (
        re.compile(r"found character '\\t' that cannot start any token|found a tab character"),
        "a tab character: YAML indents with spaces only",
    ),
    (
        re.compile(r"mapping values are not allowed here"),
        'a colon followed by a space inside a value: quote the value ("a: b"), or indent the line under its key',
    ),
    (
        re.compile(r"expected <block end>, but found|did not find expected key|expected <block mapping start>"),
        "bad indentation: this line is not aligned with the keys above it (indent with spaces, the same amount as its "
        "siblings)",
    ),
    (re.compile(r"could not find expected ':'"), "a key without a colon, or a value broken over lines without quotes"),
    (
        re.compile(r"did not find expected '-' indicator|expected <block sequence start>"),
        "bad indentation in a list: every item starts with '- ' at the same column",
    ),
    (
        re.compile(r"found unexpected end of stream|found unexpected ':'"),
        "the file ends inside a quoted value, a [list] or a {mapping}: a closing quote or bracket is missing",
    ),
    (
        re.compile(r"expected ',' or '\]'|expected ',' or '}'"),
        "a [list] or {mapping} written on one line is not closed, or its items lack commas",
    ),
)


def _syntax_problem(err: yaml.MarkedYAMLError, where: str) -> str:
    mark = err.problem_mark or err.context_mark
    at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
    words = " ".join(" ".join(str(x) for x in (err.context, err.problem) if x).split())
    plain = next((text for pattern, text in _PLAIN if pattern.search(words)), None)
    return f"{where}{at}: {plain} (YAML: {words})" if plain else f"{where}{at}: {words}"


def parse_yaml(data: bytes, where: str) -> Any:
    """The one YAML document in ``data`` as plain JSON data; ConfigError naming ``where`` and lines."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ConfigError(
            [f"{where}:{line}: byte 0x{data[err.start]:02x} is not UTF-8 (save the file as UTF-8)"]
        ) from None
    if problems := _unprintable(content, where):
        raise ConfigError(problems)
    loader = _Loader(content)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        checker = _Checker(where)
        size = checker.walk(node)
        if size > MAX_NODES and not checker.problems:
            checker.fail(
                node,
                (),
                f"aliases expand to more than {MAX_NODES} values (an alias bomb?); write the "
                "values out or use fewer aliases",
            )
        if checker.problems:
            raise ConfigError(checker.problems)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        raise ConfigError([_syntax_problem(err, where)]) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"{where}: {' '.join(str(err).split())}"]) from None
    finally:
        loader.dispose()


def _scrub_secure(value: Any) -> tuple[Any, bool]:
    """Replace ``{secure: ...}`` values by a placeholder; report whether any was found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        found = False
        out = {}
        for k, v in value.items():
            out[k], f = _scrub_secure(v)
            found = found or f
        return out, found
    if isinstance(value, list):
        items = [_scrub_secure(v) for v in value]
        return [v for v, _ in items], any(f for _, f in items)
    return value, False


def read_stack_file(file: Path, project: str) -> tuple[dict[str, Any], list[str]]:
    """``{"ns:key": value}`` of a stack file (values as data, ``secure:`` replaced) and the secret keys."""
    where = file.name
    try:
        data = file.read_bytes()
    except OSError as err:
        raise ConfigError([f"{where}: cannot be read ({err.strerror})"]) from None
    doc = parse_yaml(data, where)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError([f"{where}: expected a mapping with a config: key, got {_kind(doc)}"])
    problems = [
        f"{where}: {k}: unknown key (a stack file has {', '.join(STACK_FILE_KEYS)})"
        for k in doc
        if k not in STACK_FILE_KEYS
    ]
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        problems.append(f"{where}: config: expected a mapping of settings, got {_kind(config)}")
        config = {}
    if problems:
        raise ConfigError(problems)
    flat: dict[str, Any] = {}
    secrets: list[str] = []
    for key, value in config.items():
        full = config_key(key)
        if full is None:
            problems.append(
                f"{where}: config[{show(key)}]: is not a configuration key: Pulumi takes "
                f"<namespace>:<name> (e.g. {project}:network)"
            )
            continue
        value, secret = _scrub_secure(value)
        if secret:
            secrets.append(full)
        flat[full] = value
    if problems:
        raise ConfigError(problems)
    return flat, sorted(secrets)


def config_key(key: str) -> str | None:
    """``<namespace>:<name>`` as the Pulumi CLI parses a stack file's key (sdk/go/common/resource/config/key.go
    ParseKey: exactly one colon, or the legacy ``<namespace>:config:<name>``), or None when it refuses it."""
    parts = key.split(":")
    if len(parts) == 2:
        return key
    if len(parts) == 3 and parts[1] == "config" and all(parts):
        return f"{parts[0]}:{parts[2]}"
    return None


def _kind(value: Any) -> str:
    from components.config.errors import kind_of

    return f"{kind_of(value)} {show(value)}"
