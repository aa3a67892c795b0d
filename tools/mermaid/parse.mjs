// Parse Mermaid files with Mermaid itself and print, one JSON line per file, what its flowchart parser read:
// {"file", "type", "subgraphs": [{"id", "title", "nodes"}], "vertices", "edges": [[from, to], ...]}, or
// {"file", "error"} for a file that does not parse (the exit code is then 1).
// Mermaid's label sanitizer (DOMPurify) needs a DOM: jsdom gives it one before Mermaid loads.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, maxEdges: 100000 });

let failed = false;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  try {
    await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const db = diagram.db;
    const vertices = db.getVertices();
    console.log(JSON.stringify({
      file,
      type: diagram.type,
      subgraphs: db.getSubGraphs().map((s) => ({ id: s.id, title: s.title, nodes: s.nodes })),
      vertices: vertices instanceof Map ? vertices.size : Object.keys(vertices).length,
      edges: db.getEdges().map((e) => [e.start, e.end]),
    }));
  } catch (e) {
    failed = true;
    console.log(JSON.stringify({ file, error: `mermaid: ${String(e.message).split('\n').slice(0, 3).join(' ')}` }));
  }
}
process.exit(failed ? 1 : 0);
