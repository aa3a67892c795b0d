"""Mutation testing of the stack files: whatever a stack file contains, the plan exits 0 or 2, cleanly.

hypothesis mutates Pulumi.dev.yaml and Pulumi.prod.yaml the ways that once crashed, hung or
slipped through (see the bad-config corpus, where each distinct failure found is a case):
values replaced by anything JSON can hold (control characters, Unicode, huge numbers, wrong
types), keys dropped, renamed or added, and raw text edits — dates, unknown tags, non-string
keys, aliases and alias bombs, broken indentation, bytes that are not UTF-8. A second strategy keeps each
value's type (near-miss numbers and strings, list items dropped or repeated), so most of its variants pass
validation and exercise the program itself: an accepted config must plan (or fail a guardrail), never crash.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import ROOT, stack_files
from tests.test_bad_config import LINE
from tools import plan
from tools.stackfile import parse_yaml

# every stack file of the repository, and one with what dev and prod leave out (identities, access entries, OIDC, Fargate, IRSA...)
FULL = ROOT / "tests/data/stacks/Pulumi.full.yaml"
STACK_FILES = (*stack_files(), FULL)
BASES = {path.name: parse_yaml(path.read_bytes(), path.name) for path in STACK_FILES}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "m7i.large\n",
            "café",
            "١٢٣",
            "10.0.0.0/255.255.0.0",
            "\x00",
            "yes",
            "1.35",
            "eks-platform/node-group",
            "a" * 300,
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)
TEXT_EDITS = [
    "  eks-platform:tags:\n    created: 2024-01-01\n",
    "  eks-platform:tags: !Ref Tags\n",
    "  eks-platform:tags:\n    1: one\n",
    "  eks-platform:tags: &t {a: *t}\n",
    "  eks-platform:tags: {a: &a0 [x], b: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0], "
    "c: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1], d: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, "
    "*a2, *a2], e: [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]}\n",
    "\t broken: [\n",
    "  eks-platform:network:\n    cidr: 10.0.0.0/16\n",
]


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


def replace(node: Any, path: tuple, value: Any, how: str) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(node) if isinstance(node, dict) else list(node)
    if not rest and how == "delete":
        del copy[head]
        return copy
    if not rest and how == "rename" and isinstance(copy, dict):
        copy[str(head)[:-1] or "x"] = copy.pop(head)
        return copy
    copy[head] = replace(copy[head], rest, value, how)
    return copy


@st.composite
def mutated(draw, name: str) -> bytes:
    doc = BASES[name]
    for _ in range(draw(st.integers(1, 3))):
        if not paths(doc)[1:]:
            break
        path = draw(st.sampled_from(paths(doc)[1:]))
        how = draw(st.sampled_from(["value", "value", "delete", "rename"]))
        doc = replace(doc, path, draw(values), how)
    text = yaml.safe_dump(doc, allow_unicode=draw(st.booleans()), sort_keys=False).encode()
    if draw(st.booleans()):
        edit = draw(st.sampled_from([*TEXT_EDITS, "BYTE", "CONTROL"]))
        lines = text.split(b"\n")
        at = draw(st.integers(1, max(1, len(lines) - 1)))
        if edit == "CONTROL":  # a non-printable byte anywhere in the text: NUL, ESC, DEL, C1...
            pos = draw(st.integers(0, len(text)))
            byte = draw(
                st.sampled_from(
                    [
                        b"\x00",
                        b"\x01",
                        b"\x08",
                        b"\x0b",
                        b"\x0c",
                        b"\x1b",
                        b"\x7f",
                        "\x85".encode(),
                        "\x9b".encode(),
                        "\ufffe".encode(),
                    ]
                )
            )
            return text[:pos] + byte + text[pos:]
        insert = b"  x: caf\xe9" if edit == "BYTE" else edit.encode().rstrip(b"\n")
        text = b"\n".join([*lines[:at], insert, *lines[at:]])
    return text


def near(old: Any) -> st.SearchStrategy:
    """A value of the same type as ``old``, near it: what a typo or a careless edit makes."""
    if isinstance(old, bool):
        return st.just(not old)
    if isinstance(old, int):
        return st.one_of(st.integers(-2, 70_000), st.sampled_from([0, 1, old - 1, old + 1, old * 10, 2**31]))
    if isinstance(old, str):
        return st.sampled_from(
            [
                old[:-1],
                old + old,
                old.upper(),
                old + "-x",
                "",
                old[:1],
                old.replace("-", "_"),
                old + "/",
                "*",
                old.split(".")[0],
            ]
        )
    return st.just(old)


def at(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def edited(draw, name: str) -> bytes:
    doc = BASES[name]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from([p for p in paths(doc) if len(p) > 1]))
        old = at(doc, path)
        if isinstance(path[-1], int) and draw(st.booleans()):  # repeat a list item
            parent = list(at(doc, path[:-1]))
            doc = replace(doc, path[:-1], [*parent[: path[-1] + 1], *parent[path[-1] :]], "value")
        elif isinstance(old, dict | list) or draw(st.integers(0, 3)) == 0:
            doc = replace(doc, path, None, "delete")
        else:
            doc = replace(doc, path, draw(near(old)), "value")
        if not doc.get("config"):
            break
    return yaml.safe_dump(doc, sort_keys=False).encode()


def plans_or_is_refused_cleanly(tmp_path_factory, content: bytes, codes: tuple[int, ...]) -> None:
    path = Path(tmp_path_factory.mktemp("m")) / "Pulumi.mutant.yaml"
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = plan.main(["--config-file", str(path), "--quiet", *(["--policies"] if 3 in codes else [])])
    assert code in codes, err.getvalue()
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert out.getvalue() == ""
        lines = err.getvalue().splitlines()
        assert lines
        for line in lines:
            assert LINE.match(line), f"not a clean 'key: message' line: {line!r}"


# One test per stack file (a new file gets its own), so pytest-xdist spreads the campaign over the cores.
@pytest.mark.parametrize("base", sorted(BASES))
@settings(
    max_examples=24,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_stack_file_plans_or_is_refused_cleanly(tmp_path_factory, base, data):
    plans_or_is_refused_cleanly(tmp_path_factory, data.draw(mutated(base)), (0, 2))


@pytest.mark.parametrize("base", sorted(BASES))
@settings(
    max_examples=17,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_near_miss_edit_plans_fails_a_guardrail_or_is_refused_cleanly(tmp_path_factory, base, data):
    plans_or_is_refused_cleanly(tmp_path_factory, data.draw(edited(base)), (0, 2, 3))


def test_the_full_stack_file_plans_and_passes_the_guardrails():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = plan.main(["--config-file", str(FULL), "--quiet", "--policies"])
    assert code == 0, err.getvalue() + out.getvalue()
