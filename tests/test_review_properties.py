"""Property-based tests of the review tools (issue 32): whatever the plan holds, the diff's value lines, the
tree's facts and the graph's reduction behave."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from tools import diffvalues, facts, graph

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# strings that look like what the plan holds: JSON documents (policies among them), base64, plain text
STATEMENT = st.fixed_dictionaries(
    {"Effect": st.sampled_from(["Allow", "Deny"]), "Action": st.lists(st.sampled_from(["s3:GetObject", "sqs:*"]))},
    optional={"Sid": st.sampled_from(["A", "B", "C"]), "Resource": st.lists(st.text(max_size=12), max_size=3),
              "Condition": st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2)},
)  # fmt: skip
DOCUMENTS = VALUES.map(json.dumps) | st.lists(STATEMENT, max_size=4).map(lambda s: json.dumps({"Statement": s}))
INPUTS = VALUES | DOCUMENTS | st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode())


@settings(max_examples=25, deadline=None)
@given(old=INPUTS, new=INPUTS)
def test_every_change_reads_as_lines_naming_its_path(old, new):
    lines = diffvalues.lines("a.b", old, new)
    assert lines and lines[0].startswith("a.b:")
    assert all(isinstance(line, str) and "\n" not in line for line in lines)


@settings(max_examples=15, deadline=None)
@given(value=INPUTS)
def test_a_secret_never_shows_what_it_became_or_was(value):
    for old, new in (("[secret]", value), (value, "[secret]")):
        assert diffvalues.lines("token", old, new) == ["token: [secret] (changed)"]


@settings(max_examples=25, deadline=None)
@given(old=st.lists(STATEMENT, max_size=4), new=st.lists(STATEMENT, max_size=4))
def test_a_policy_change_is_shown_statement_by_statement_and_never_for_equal_documents(old, new):
    lines = diffvalues.policy_lines({"Statement": old}, {"Statement": new})
    if old == new:
        assert lines == []
    assert all(line.startswith(("  + ", "  - ", "  ~ ", "    ")) for line in lines)


@settings(max_examples=20, deadline=None)
@given(typ=st.sampled_from(sorted(facts.SHOWN)), inputs=st.dictionaries(st.text(max_size=20), VALUES | DOCUMENTS))
def test_the_tree_summary_of_any_inputs_is_one_line(typ, inputs):
    rec = SimpleNamespace(type=typ, inputs=inputs, protect=False, ignore_changes=[], retain_on_delete=False)
    line = facts.facts(rec)
    assert isinstance(line, str) and "\n" not in line


@settings(max_examples=40, deadline=None)
@given(pairs=st.sets(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=40))
def test_the_reduction_keeps_every_dependency_reachable_and_drops_only_implied_arrows(pairs):
    edges = {(str(a), str(b)) for a, b in pairs if a < b}  # a DAG, as Pulumi's dependencies are
    kept = graph.reduced(edges)
    assert kept <= edges and graph.closure(kept) == graph.closure(edges)
    for a, b in edges - kept:  # each dropped arrow is implied by a longer path
        assert (a, b) in graph.closure(kept - {(a, b)})
