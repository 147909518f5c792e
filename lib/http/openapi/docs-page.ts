type Doc = ReturnType<typeof import('./document').buildDocument>;
type Operation = {
  summary: string;
  tags: string[];
  security: Record<string, unknown>[];
  parameters: { name: string; in: string }[];
  requestBody?: { content: { 'application/json': { schema: unknown } } };
  responses: Record<string, { description: string }>;
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pretty = (v: unknown) => `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;

/**
 * A self-contained, readable reference page rendered from the OpenAPI document: no script, no
 * third-party assets, so it works offline and under a strict Content-Security-Policy.
 */
export function renderDocsPage(doc: Doc): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(methods)) {
      const op = raw as Operation;
      const auth = op.security.length ? Object.keys(op.security[0]!)[0] : 'none';
      const params = op.parameters.map((p) => `<code>${esc(p.name)}</code> (${esc(p.in)})`).join(', ');
      const responses = Object.entries(op.responses)
        .map(([status, r]) => `<li><b>${esc(status)}</b> ${esc(r.description)}</li>`)
        .join('');
      const html = `<section><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary)} <small>auth: ${esc(String(auth))}</small></p>
${params ? `<p>Parameters: ${params}</p>` : ''}
${op.requestBody ? `<details><summary>Request body</summary>${pretty(op.requestBody.content['application/json'].schema)}</details>` : ''}
<ul>${responses}</ul></section>`;
      const tag = op.tags[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const toc = [...byTag.keys()].map((t) => `<a href="#${esc(t)}">${esc(t)}</a>`).join(' · ');
  const body = [...byTag.entries()].map(([t, ops]) => `<h2 id="${esc(t)}">${esc(t)}</h2>${ops.join('\n')}`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)} API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.5rem 0}pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:12px}
.m{font:bold 12px monospace;padding:2px 6px;border-radius:3px;color:#fff;background:#555}.get{background:#2a7}.post{background:#27c}
.patch,.put{background:#c82}.delete{background:#c33}small{color:#777;margin-left:.5rem}</style></head>
<body><h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1><p>${esc(doc.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p><nav>${toc}</nav>${body}</body></html>`;
}
