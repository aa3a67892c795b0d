// Parse a Mermaid file with Mermaid itself and print what its flowchart parser read, as JSON:
// {"type", "subgraphs": [{"id", "title", "nodes"}], "vertices", "edges": [[from, to], ...]}.
// Exit 1 with the parser's message when the file does not parse.
// Mermaid's label sanitizer (DOMPurify) needs a DOM: jsdom gives it one before Mermaid loads.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, maxEdges: 100000 });

const text = readFileSync(process.argv[2], 'utf8');
try {
  await mermaid.parse(text);
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  const db = diagram.db;
  const vertices = db.getVertices();
  console.log(JSON.stringify({
    type: diagram.type,
    subgraphs: db.getSubGraphs().map((s) => ({ id: s.id, title: s.title, nodes: s.nodes })),
    vertices: vertices instanceof Map ? vertices.size : Object.keys(vertices).length,
    edges: db.getEdges().map((e) => [e.start, e.end]),
  }));
} catch (e) {
  console.error(`mermaid: ${String(e.message).split('\n').slice(0, 3).join(' ')}`);
  process.exit(1);
}
