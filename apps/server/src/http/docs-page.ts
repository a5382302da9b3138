import { ERROR_REASONS, ErrorCatalog } from "@hugo/protocol";
import type { OpenApiDoc } from "./app.ts";

const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/**
 * A readable API page rendered from the same OpenAPI document as /api/openapi.json: no script,
 * no CDN, every value escaped.
 */
export function apiDocsPage(doc: OpenApiDoc): string {
  const groups = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? "Other";
      const body = op.requestBody
        ? `<details><summary>Request body schema</summary><pre>${esc(JSON.stringify((op.requestBody as { content?: Record<string, { schema?: unknown }> }).content?.["application/json"]?.schema, null, 2))}</pre></details>`
        : "";
      const ok = Object.entries(op.responses ?? {}).find(([code]) => code.startsWith("2"));
      const response = ok
        ? `<details><summary>${esc(ok[0])} response schema</summary><pre>${esc(JSON.stringify((ok[1] as { content?: Record<string, { schema?: unknown }> }).content?.["application/json"]?.schema, null, 2))}</pre></details>`
        : "";
      const row = `<section class="op"><h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3><p>${esc(op.summary ?? "")}</p>${body}${response}</section>`;
      groups.set(tag, [...(groups.get(tag) ?? []), row]);
    }
  }
  const sections = [...groups].map(([tag, rows]) => `<h2>${esc(tag)}</h2>${rows.join("")}`).join("");
  const errors = ERROR_REASONS.map(
    (r) =>
      `<tr><td><code>${esc(r)}</code></td><td>${ErrorCatalog[r].status}</td><td>${esc(ErrorCatalog[r].message)}</td></tr>`,
  ).join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.info.title)}</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1f2937}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f3f4f6;padding:.75rem;overflow:auto;border-radius:6px}
.op{border:1px solid #e5e7eb;border-radius:8px;padding:.25rem 1rem;margin:.75rem 0}.op h3{font-size:15px;margin:.5rem 0}
.m{display:inline-block;min-width:4.5em;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 6px}
.get{background:#2563eb}.post{background:#16a34a}.patch{background:#d97706}.delete{background:#dc2626}.put{background:#7c3aed}
table{border-collapse:collapse}td{border-top:1px solid #e5e7eb;padding:4px 8px;vertical-align:top}
</style></head><body><h1>${esc(doc.info.title)}</h1><p>${esc(doc.info.description ?? "")}</p>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a></p>${sections}
<h2>Error reasons</h2><table><tr><th>reason</th><th>status</th><th>meaning</th></tr>${errors}</table></body></html>`;
}
