import type { VariableValue } from "@hugo/protocol";
import { BlockError, type BlockRunner } from "../runner.ts";
import { readPath } from "../values.ts";

interface HttpOptions {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers: { name: string; value: string }[];
  body: string;
  response: { path: string; variable: string }[];
  status_variable?: string | undefined;
  timeout_ms: number;
}

/**
 * Calls a URL (through the SSRF guard) and maps JSON response fields to variables: `success` on a
 * 2xx, `failure` otherwise (network errors and timeouts included). It runs outside the step's
 * transaction; after a crash it may run again, so it sends an `Idempotency-Key` derived from the run
 * and the step for the receiving service to dedupe on.
 */
export const http: BlockRunner<HttpOptions> = {
  external: true,
  async run(ctx, o) {
    const url = ctx.render(o.url, "url").trim();
    const headers: Record<string, string> = {};
    for (const h of o.headers) headers[h.name.toLowerCase()] = ctx.render(h.value).replace(/[\r\n]+/g, " ");
    headers["idempotency-key"] ??= `${ctx.runId}:${ctx.step}`;
    headers["user-agent"] ??= "Hugo-Workflow/1.0";
    let body: string | undefined;
    if (o.method !== "GET" && o.body.trim() !== "") {
      const trimmed = o.body.trim();
      const looksJson = trimmed.startsWith("{") || trimmed.startsWith("[");
      body = ctx.render(o.body, looksJson ? "json" : "none");
      if (looksJson) {
        try {
          JSON.parse(body);
        } catch {
          throw new BlockError("The request body is not valid JSON after filling its variables.");
        }
        headers["content-type"] ??= "application/json";
      }
    }
    ctx.log(`${o.method} ${url}`);
    let response: { status: number; body: string };
    try {
      response = await ctx.request(url, {
        method: o.method,
        headers,
        timeoutMs: o.timeout_ms,
        ...(body !== undefined ? { body } : {}),
      });
    } catch (error) {
      throw new BlockError(`Request failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    ctx.log(`→ ${response.status}`);
    if (o.status_variable) ctx.setVariable(o.status_variable, response.status);
    let parsed: unknown;
    try {
      parsed = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      parsed = undefined;
    }
    for (const m of o.response) {
      const value: VariableValue | undefined = parsed === undefined ? undefined : readPath(parsed, m.path);
      if (value === undefined) ctx.log(`${m.path} not in the response`);
      else ctx.setVariable(m.variable, value);
    }
    if (response.status < 200 || response.status > 299) {
      throw new BlockError(`The server answered ${response.status}.`);
    }
    return { next: "success" };
  },
};
