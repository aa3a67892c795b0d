"""The plan as one self-contained HTML page (``tools.plan <stack> [--diff BASE] --html FILE``).

Opened from disk, it asks the network for nothing: Mermaid (from the pinned npm package in tools/mermaid, inlined
when the page is written) draws the component graph; the page's own small stylesheet and script do the rest. It
holds the component graph (components grouped as the program nests them, left to right from dependency to
dependent) beside a collapsible tree of the components and their resources, a search by name or type over both and
over the resource table (every resource, its decisive inputs and all its inputs), the diff against a base (with
--diff: coloured by action, with the nodes it rolls, refusals and each changed input old -> new), the guardrail
results, and the critical path of a first ``pulumi up`` as a timeline.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools import diffvalues
from tools.diff import Diff, short_type
from tools.facts import facts
from tools.graph import mermaid

MERMAID_JS = Path(__file__).resolve().parent / "mermaid" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
MARKS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#16324f;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.85}main{padding:16px 24px}section{background:#fff;border:1px solid #d9dde3;
border-radius:6px;margin:0 0 16px;padding:12px 16px}h2{font-size:16px;margin:4px 0 10px}
#search{width:100%;max-width:480px;padding:7px 10px;font-size:14px;border:1px solid #9aa5b1;border-radius:4px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eef0f3;
vertical-align:top}th{background:#f0f2f5}td code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;margin:4px 0}.hidden{display:none}.graph{overflow:auto;max-height:720px}
details.component{margin-left:14px}details.component>summary{cursor:pointer}.type{color:#5b6775}
ul.resources{margin:2px 0 6px 18px;padding:0}.op-create td.op{color:#1a7f37}.op-update td.op{color:#9a6700}
.op-replace td.op{color:#cf222e;font-weight:600}.op-delete td.op{color:#cf222e}.op-replace{background:#fff5f5}
.rolls{color:#cf222e;font-weight:600}.refused{color:#cf222e;font-weight:700}.warning{color:#9a6700}
.ok{color:#1a7f37}.fail{color:#cf222e;font-weight:600}.bar{background:#2f6fb0;height:14px;border-radius:2px}
.step{display:grid;grid-template-columns:380px 1fr 70px;gap:8px;align-items:center;margin:2px 0}
.track{background:#eef0f3;height:14px;position:relative}.mark{background:#fff59d}
"""

SCRIPT = """
(function () {
  mermaid.initialize({startOnLoad: false, securityLevel: 'strict', maxEdges: 20000, maxTextSize: 5000000,
                      flowchart: {htmlLabels: true}});
  mermaid.run({nodes: document.querySelectorAll('pre.mermaid')});
  var search = document.getElementById('search');
  function apply() {
    var q = search.value.trim().toLowerCase();
    document.querySelectorAll('[data-search]').forEach(function (el) {
      var hit = !q || el.getAttribute('data-search').indexOf(q) >= 0;
      el.classList.toggle('hidden', !hit && el.tagName !== 'DETAILS');
      if (el.tagName === 'DETAILS') {
        var inner = el.querySelectorAll('li[data-search]:not(.hidden), details[data-search]');
        var any = hit || Array.prototype.some.call(inner, function (c) {
          return !c.classList.contains('hidden') && (!q || c.getAttribute('data-search').indexOf(q) >= 0); });
        el.classList.toggle('hidden', !any);
        if (q && any) { el.open = true; }
      }
    });
    document.querySelectorAll('svg g.node, svg g.cluster').forEach(function (g) {
      var text = (g.textContent || '').toLowerCase();
      g.classList.toggle('mark', !!q && text.indexOf(q) >= 0);
    });
  }
  search.addEventListener('input', apply);
})();
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _search_key(*parts: str) -> str:
    return _e(" ".join(parts).lower())


def _tree(recording: Any) -> str:
    """Collapsible components, nested as the program nests them, with their resources."""
    recs = [r for r in recording.resources if not r.type.startswith("pulumi:providers:")]
    children: dict[str | None, list[Any]] = {}
    known = {r.urn for r in recs}
    for r in recs:
        children.setdefault(r.parent if r.parent in known else None, []).append(r)

    def component(c: Any) -> str:
        inner = children.get(c.urn, [])
        items = "".join(
            f'<li data-search="{_search_key(r.name, r.type)}"><code>{_e(short_type(r.type))}</code> '
            f'{_e(r.name)}<span class="type">{_e(facts(r))}</span></li>'
            for r in inner
            if r.custom
        )
        nested = "".join(component(n) for n in inner if not n.custom)
        return (
            f'<details class="component" data-search="{_search_key(c.name, c.type)}" '
            f'data-urn="{_e(c.urn)}"><summary><b>{_e(c.name)}</b> <span class="type">{_e(c.type)}</span>'
            f'</summary><ul class="resources">{items}</ul>{nested}</details>'
        )

    return "".join(component(c) for c in children.get(None, []) if not c.custom)


def _resource_table(recording: Any) -> str:
    by_urn = {r.urn: r for r in recording.resources}
    rows = []
    for r in recording.resources:
        owner = by_urn[r.parent].name if r.parent in by_urn else ""
        inputs = json.dumps(r.inputs, indent=2, sort_keys=True)
        rows.append(
            f'<tr data-search="{_search_key(r.name, r.type)}" data-urn="{_e(r.urn)}"><td><code>'
            f"{_e(short_type(r.type))}</code></td><td>{_e(r.name)}</td><td>{_e(owner)}</td>"
            f"<td><code>{_e(facts(r).strip())}</code></td><td><details><summary>inputs</summary><pre>"
            f"{_e(inputs)}</pre></details></td></tr>"
        )
    return (
        '<table id="resource-table"><thead><tr><th>type</th><th>name</th><th>component</th><th>decisive '
        "inputs</th><th>all inputs</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _diff_section(d: Diff) -> str:
    s = d.summary()
    head = (
        f"<p>Against <code>{_e(d.base)}</code>: {s['create']} to create, {s['update']} to update, "
        f"{s['replace']} to replace, {s['delete']} to delete.</p>"
    )
    notes = "".join(f'<p class="refused">REFUSED: {_e(e)}</p>' for e in d.errors)
    notes += "".join(f'<p class="warning">WARNING: {_e(w)}</p>' for w in d.warnings)
    rows = []
    for op in ("replace", "update", "create", "delete"):
        for c in (c for c in d.changes if c.op == op):
            why = f"replaced because {', '.join(c.replaced_by)} changed" if c.op == "replace" else ""
            rolls = f'<div class="rolls">ROLLS NODES: {_e(c.rolls_nodes)}</div>' if c.rolls_nodes else ""
            values = "\n".join(diffvalues.render(c.values))
            rows.append(
                f'<tr class="op-{op}" data-op="{op}" data-search="{_search_key(c.name, c.type)}">'
                f'<td class="op">{MARKS[op]} {op}</td><td><code>{_e(short_type(c.type))}</code></td>'
                f"<td>{_e(c.name)}</td><td>{_e(why)}{rolls}"
                f"{f'<pre>{_e(values)}</pre>' if values else ''}</td></tr>"
            )
    table = (
        (
            '<table id="diff-table"><thead><tr><th>action</th><th>type</th><th>name</th><th>what and why</th>'
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )
        if rows
        else "<p>No changes.</p>"
    )
    return head + notes + table


def _guardrails(results: Sequence[tuple[str, str, list[str]]]) -> str:
    rows = "".join(
        f'<tr><td><code>{_e(name)}</code></td><td>{_e(level)}</td><td class="{"fail" if msgs else "ok"}">'
        f"{'FAIL' if msgs else 'ok'}</td><td>{'<br>'.join(_e(m) for m in msgs)}</td></tr>"
        for name, level, msgs in results
    )
    return (
        '<table id="guardrails"><thead><tr><th>policy</th><th>level</th><th>result</th><th>violations</th></tr>'
        "</thead><tbody>" + rows + "</tbody></table>"
    )


def _timeline(steps: Sequence[Any]) -> str:
    total = max((s.finish for s in steps), default=0) or 1
    rows = "".join(
        f'<div class="step" data-search="{_search_key(s.name, s.type)}"><span><code>{_e(short_type(s.type))}</code> '
        f'{_e(s.name)}</span><span class="track"><span class="bar" style="position:absolute;'
        f'left:{100 * (s.finish - s.seconds) / total:.2f}%;width:{max(100 * s.seconds / total, 0.4):.2f}%">'
        f"</span></span><span>{s.finish // 60}m{s.finish % 60:02d}s</span></div>"
        for s in steps
    )
    return f"<p>Estimated wall time of a first <code>pulumi up</code>: {total // 60}m{total % 60:02d}s.</p>{rows}"


def guardrail_results(recording: Any, stack: str) -> list[tuple[str, str, list[str]]]:
    """(policy, level, violation messages) of every active guardrail over the plan."""
    from policies import guardrails

    resources = [
        guardrails.Resource(r.type, r.name, r.urn, r.inputs, tuple(r.dependencies)) for r in recording.resources
    ]
    levels, params = guardrails.levels_for(stack), guardrails.params_for(stack)
    found = guardrails.evaluate(resources, levels, params)
    return [
        (p.name, levels.get(p.name, p.enforcement), [v.message for v in found if v.policy == p.name])
        for p in guardrails.POLICIES
        if levels.get(p.name, p.enforcement) != guardrails.DISABLED
    ]


def page(recording: Any, *, diff: Diff | None = None) -> str:
    """The whole page (raises FileNotFoundError without tools/mermaid installed: `make venv`)."""
    from tools.critical_path import critical_path

    script = MERMAID_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")
    customs = sum(1 for r in recording.resources if r.custom)
    sections = [
        (
            "graph",
            "Component graph",
            f'<div class="graph"><pre class="mermaid">{_e(mermaid(recording, "component"))}'
            f"</pre></div><h2>Components</h2>{_tree(recording)}",
        ),
        *([("diff", "Diff", _diff_section(diff))] if diff is not None else []),
        ("guardrails-section", "Guardrails", _guardrails(guardrail_results(recording, recording.stack))),
        ("timeline", "Critical path of a first pulumi up", _timeline(critical_path(recording.resources))),
        ("resources", "Resources", _resource_table(recording)),
    ]
    body = "".join(f'<section id="{sid}"><h2>{_e(title)}</h2>{content}</section>' for sid, title, content in sections)
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>eks-platform plan: '
        f'{_e(recording.stack)}</title><meta name="viewport" content="width=device-width">'
        f"<style>{STYLE}</style></head><body><header><h1>eks-platform plan: {_e(recording.stack)}</h1>"
        f"<p>{customs} resources in {len(recording.resources) - customs} components"
        f"{', diff against ' + _e(diff.base) if diff is not None else ''}. Offline plan (mock cloud), "
        'no credentials.</p></header><main><input id="search" type="search" placeholder="Search by name '
        f'or type" aria-label="search">{body}</main><script>{script}</script><script>{SCRIPT}</script>'
        "</body></html>\n"
    )
