"""The Mermaid graph (issue 32, item 4), read back by Mermaid's own parser (tools/mermaid, pinned in npm)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import ROOT
from tools import graph

PARSER = ROOT / "tools" / "mermaid" / "parse.mjs"


BAD = 'flowchart LR\n  subgraph n0["a"\n'


@pytest.fixture(scope="module")
def parsed(tmp_path_factory, prod) -> dict:
    """Mermaid's reading of prod at both levels and of a broken file: one node process for all (its start-up,
    Mermaid and jsdom, is most of the time)."""
    assert (ROOT / "tools" / "mermaid" / "node_modules" / "mermaid").exists(), "run `make venv` (npm ci tools/mermaid)"
    folder = tmp_path_factory.mktemp("graphs")
    texts = {"resource": graph.mermaid(prod), "component": graph.mermaid(prod, "component"), "bad": BAD}
    for key, text in texts.items():
        (folder / f"{key}.mmd").write_text(text)
    proc = subprocess.run(
        ["node", str(PARSER), *(str(folder / f"{k}.mmd") for k in texts)], capture_output=True, text=True, timeout=120
    )
    docs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 1 and len(docs) == 3, proc.stderr  # the broken file fails, and only it
    return {key: {**doc, "text": texts[key]} for key, doc in zip(texts, docs, strict=True)}


def components(rec) -> list:
    return [r for r in rec.resources if not r.custom]


def test_resource_level_one_subgraph_per_component_every_resource_inside(parsed, prod):
    doc = parsed["resource"]
    assert doc["type"] == "flowchart-v2"
    titles = sorted(s["title"].split("<br>")[0] for s in doc["subgraphs"])
    assert titles == sorted(c.name for c in components(prod))
    drawn = [r for r in prod.resources if not r.type.startswith("pulumi:providers:")]
    assert doc["vertices"] == len([r for r in drawn if r.custom])


def test_arrows_point_from_dependency_to_dependent(parsed):
    text = parsed["resource"]["text"]
    ids = {
        line.strip().split("[", 1)[0]: line.split('"', 2)[1].split("<br/>")[0]
        for line in text.splitlines()
        if '["' in line and not line.strip().startswith("subgraph")
    }
    edges = {(ids.get(a), ids.get(b)) for a, b in parsed["resource"]["edges"]}
    # the control plane exists before the system node group waits for it, never the other way round
    cluster, group = "eks-platform-prod-cluster", "eks-platform-prod-system"
    paths = graph.closure(edges)
    assert (cluster, group) in paths and (group, cluster) not in paths


def test_component_level_draws_components_only_and_parses(parsed, prod):
    doc = parsed["component"]
    nested = {c.parent for c in components(prod) if c.parent}
    assert len(doc["subgraphs"]) == len([c for c in components(prod) if c.urn in nested])
    # every other component is a box; an arrow to a group counts the group as a vertex too (Mermaid draws arrows
    # to subgraphs), so the parser's vertices lie between the two
    assert len(components(prod)) - len(doc["subgraphs"]) <= doc["vertices"] <= len(components(prod))


def test_the_reduction_keeps_every_dependency_as_a_path():
    edges = {("a", "b"), ("b", "c"), ("a", "c"), ("c", "d"), ("a", "d")}
    assert graph.reduced(edges) == {("a", "b"), ("b", "c"), ("c", "d")}
    assert graph.closure(graph.reduced(edges)) == graph.closure(edges)


def test_a_file_that_is_not_mermaid_is_refused(parsed):
    assert parsed["bad"]["error"].startswith("mermaid: Parse error")
    assert "error" not in parsed["resource"] and "error" not in parsed["component"]


@pytest.mark.parametrize("level", graph.LEVELS)
def test_the_cli_writes_the_level_asked_for(tmp_path, level):
    from tools import plan

    out = tmp_path / "g.mmd"
    assert plan.main(["dev", "--quiet", "--graph", str(out), "--graph-level", level]) == 0
    assert out.read_text().startswith("flowchart LR\n")
