"""Old -> new values of a changed input, as a reviewer reads them (``--diff``, ``--diff-json``, the PR comment).

* scalars inline: ``path: "m7i.large" -> "m7i.xlarge"``;
* lists as element changes (``+ x`` / ``- y``), maps key by key (the diff's paths already reach every key);
* IAM policy documents statement by statement: statements matched by ``Sid`` (else by position), and per statement
  the actions, resources and principals added or removed and the conditions changed;
* other long strings and JSON documents as a unified diff (JSON pretty-printed with sorted keys; base64 user data
  decoded first, since that is what a node runs);
* secrets stay masked: the plan holds them as ``[secret]`` and nothing here can see more.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

SECRET = "[secret]"
INLINE = 80  # strings up to this long without a newline print inline
ARROW = "->"


def at(doc: Any, path: str) -> Any:
    """The value at a dotted path of ``changed_paths`` (None where it does not exist)."""
    if path == "(all)":
        return doc
    value = doc
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def values(old_inputs: Mapping[str, Any], new_inputs: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """``{path: {"old": ..., "new": ..., "lines": [...]}}`` of the changed paths (``--diff-json``): the values, and
    how the text diff reads them (statement by statement for a policy)."""
    out = {}
    for p in paths:
        old, new = at(old_inputs, p), at(new_inputs, p)
        out[p] = {"old": old, "new": new, "lines": lines(p, old, new)}
    return out


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if value == SECRET:
        return SECRET
    return json.dumps(value, sort_keys=True)


def _document(value: Any) -> Any:
    """A JSON document held in a string (IAM policies, dashboards, configuration values), else None."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _decoded(value: Any) -> str | None:
    """Base64 text (launch templates' userData) decoded, else None."""
    if not isinstance(value, str) or len(value) < 16 or " " in value or "\n" in value:
        return None
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text if text.isprintable() or "\n" in text else None


def _is_policy(doc: Any) -> bool:
    return isinstance(doc, Mapping) and isinstance(doc.get("Statement"), list)


def _plain(value: Any) -> str:
    """A policy element as one line: printable text as it is, anything else (control characters too) as JSON."""
    return value if isinstance(value, str) and value.isprintable() else json.dumps(value, sort_keys=True)


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [_plain(i) for i in items]


def _principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        return [f"{_plain(kind)}:{p}" for kind, ps in sorted(principal.items()) for p in _listed(ps)]
    return _listed(principal)


def _added_removed(label: str, old: list[str], new: list[str]) -> list[str]:
    return [f"    + {label} {x}" for x in new if x not in old] + [f"    - {label} {x}" for x in old if x not in new]


def _statement_key(statement: Any, index: int) -> str:
    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
    return f"Sid {_plain(sid)}" if sid else f"statement {index}"


def policy_lines(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """An IAM policy document's change, statement by statement."""
    before = {_statement_key(s, i): s for i, s in enumerate(old.get("Statement", []))}
    after = {_statement_key(s, i): s for i, s in enumerate(new.get("Statement", []))}
    out: list[str] = []
    for key in [k for k in after if k not in before]:
        s = after[key]
        out.append(
            f"  + {key}: {_plain(s.get('Effect', '?'))} {', '.join(_listed(s.get('Action') or s.get('NotAction')))} "
            f"on {', '.join(_listed(s.get('Resource') or s.get('NotResource')) or _principals(s))}"
        )
    for key in [k for k in before if k not in after]:
        s = before[key]
        out.append(
            f"  - {key}: {_plain(s.get('Effect', '?'))} {', '.join(_listed(s.get('Action') or s.get('NotAction')))}"
        )
    for key in [k for k in after if k in before and before[k] != after[k]]:
        o, n = before[key], after[key]
        out.append(f"  ~ {key}")
        if o.get("Effect") != n.get("Effect"):
            out.append(f"    effect {_plain(o.get('Effect'))} {ARROW} {_plain(n.get('Effect'))}")
        for label, field in (
            ("action", "Action"),
            ("not-action", "NotAction"),
            ("resource", "Resource"),
            ("not-resource", "NotResource"),
        ):
            out += _added_removed(label, _listed(o.get(field)), _listed(n.get(field)))
        out += _added_removed("principal", _principals(o), _principals(n))
        if o.get("Condition") != n.get("Condition"):
            out.append(f"    condition {_show(o.get('Condition'))} {ARROW} {_show(n.get('Condition'))}")
    return out


def _unified(old_text: str, new_text: str) -> list[str]:
    lines = difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), "old", "new", n=2, lineterm="")
    return ["  " + line for line in list(lines)[2:]]  # without the ---/+++ header


def lines(path: str, old: Any, new: Any) -> list[str]:
    """How one changed input reads: one line, or a header and its element/statement/line changes."""
    if SECRET in (old, new):
        return [f"{path}: {SECRET} (changed)"]
    old_doc, new_doc = _document(old), _document(new)
    if _is_policy(old_doc) and _is_policy(new_doc):
        return [f"{path}: policy statements", *policy_lines(old_doc, new_doc)]
    if old_doc is not None and new_doc is not None:
        return [
            f"{path}: document",
            *_unified(json.dumps(old_doc, indent=2, sort_keys=True), json.dumps(new_doc, indent=2, sort_keys=True)),
        ]
    old_text, new_text = _decoded(old), _decoded(new)
    if old_text is not None and new_text is not None:
        return [f"{path}: (base64, decoded)", *_unified(old_text, new_text)]
    if isinstance(old, list) and isinstance(new, list):
        o, n = _listed(old), _listed(new)
        changes = [f"  + {x}" for x in n if x not in o] + [f"  - {x}" for x in o if x not in n]
        return [f"{path}: list", *(changes or ["  (same elements, new order)"])]
    if any(isinstance(v, str) and (len(v) > INLINE or "\n" in v) for v in (old, new)) and all(
        isinstance(v, str) for v in (old, new)
    ):
        return [f"{path}: text", *_unified(old, new)]
    return [f"{path}: {_show(old)} {ARROW} {_show(new)}"]


def render(vals: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [line for path, v in vals.items() for line in (v.get("lines") or lines(path, v["old"], v["new"]))]
