import http from "node:http";
import type { AddressInfo } from "node:net";
import { ErrorCatalog } from "@hugo/protocol";
import { afterEach, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  errorFromResponse,
  HugoClient,
  HugoError,
  NotFoundError,
  PermissionError,
  parseRetryAfter,
  RateLimitError,
  type RetryInfo,
  ServerError,
  TimeoutError,
  UnprocessableError,
} from "./index.ts";

/**
 * The client's transport against small HTTP servers on loopback that answer as scripted: a stand-in
 * for a network that rate-limits, fails or hangs. The real Hugo is exercised in
 * apps/server/src/http/client.test.ts.
 */

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | "hang";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Answers requests with `answers` in order (the last one repeats) and records what it saw. */
async function scripted(...answers: Answer[]) {
  const seen: Seen[] = [];
  let arrived: () => void = () => {};
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    arrived();
    const answer = answers[Math.min(seen.length, answers.length) - 1]!;
    if (answer === "hang") return;
    const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? {});
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers }).end(text);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    /** Resolves when the next request has arrived. */
    nextRequest: () => new Promise<void>((resolve) => (arrived = resolve)),
  };
}

const ok = (data: unknown, status = 200) => ({ status, body: { error: false, reason: "resolved", data } });
const fail = (status: number, reason: string, extra: Record<string, unknown> = {}) => ({
  status,
  body: { error: true, reason, data: { message: `${reason}!`, ...extra } },
});
const TRIGGERED = { turn_id: "turn_1", status: "queued" };
const SESSION = "session_00000000-0000-4000-8000-000000000000";

function clientFor(url: string, more: Partial<ConstructorParameters<typeof HugoClient>[0]> = {}) {
  const retries: RetryInfo[] = [];
  const client = new HugoClient({
    baseUrl: url,
    token: "hugo_a_b",
    onRetry: (r) => retries.push(r),
    ...more,
  });
  return { client, retries };
}

describe("HugoClient over HTTP", () => {
  it("sends the body, the Bearer token and an Idempotency-Key, and resolves to data", async () => {
    const server = await scripted(ok(TRIGGERED, 202));
    const { client } = clientFor(server.url, { userAgent: "acme-backend/1.0" });
    const result = await client.agent.trigger({ session_id: SESSION, instruction: "VIP" });
    expect(result).toEqual(TRIGGERED);
    const [req] = server.seen;
    expect(req).toMatchObject({ method: "POST", url: "/api/agent/trigger" });
    expect(JSON.parse(req!.body)).toEqual({ session_id: SESSION, instruction: "VIP" });
    expect(req!.headers).toMatchObject({
      authorization: "Bearer hugo_a_b",
      "content-type": "application/json",
      "user-agent": "acme-backend/1.0",
      "idempotency-key": expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it("puts path parameters in the path and the input of a GET in the query string", async () => {
    const server = await scripted(ok([]));
    const { client } = clientFor(`${server.url}/hugo/`);
    await client.workflows.listRuns("scenario_a/b", { status: "failed", limit: 5 });
    await client.knowledge.listSources({ enabled: false, kind: "answer", before: undefined });
    await client.workflows.getVersion("scenario_x", 3);
    expect(server.seen.map((s) => [s.method, s.url, s.body, s.headers["idempotency-key"]])).toEqual([
      ["GET", "/hugo/api/workflows/scenario_a%2Fb/runs?status=failed&limit=5", "", undefined],
      ["GET", "/hugo/api/knowledge/sources?enabled=false&kind=answer", "", undefined],
      ["GET", "/hugo/api/workflows/scenario_x/versions/3", "", undefined],
    ]);
  });

  it("sends the visitor credential, never the token, to the widget API", async () => {
    const server = await scripted(ok({ fingerprint: 1, timestamp: 2 }));
    const { client } = clientFor(server.url, { visitor: "site.session.default" });
    await client.widget.sendMessage("site", { type: "text", content: "hi" });
    await client.widget.sendMessage(
      "site",
      { type: "text", content: "hi" },
      { visitor: "site.session.mine" },
    );
    await client.widget.openSession("site", {});
    expect(server.seen.map((s) => [s.headers["x-hugo-visitor"], s.headers.authorization])).toEqual([
      ["site.session.default", undefined],
      ["site.session.mine", undefined],
      [undefined, undefined],
    ]);
    expect(server.seen[2]!.body).toBe("{}");
  });

  it("returns the body of a route without an envelope, and data with mode for the search", async () => {
    const file = { format: "hugo.workflow", format_version: 1, name: "x", description: "", graph: {} };
    const server = await scripted(
      { status: 200, body: file },
      { status: 200, body: { error: false, reason: "resolved", data: [], mode: "hybrid" } },
    );
    const { client } = clientFor(server.url);
    expect(await client.workflows.export("scenario_x")).toEqual(file);
    expect(await client.knowledge.search({ q: "refund" })).toEqual({ data: [], mode: "hybrid" });
  });

  it("throws the error class of each status with the server's code, field and issues", async () => {
    const issues = [{ path: "name", message: "too short" }];
    const cases: [Answer, typeof HugoError][] = [
      [fail(400, "invalid_body", { field: "name", issues }), BadRequestError],
      [fail(401, "token_revoked"), AuthenticationError],
      [fail(403, "insufficient_scope"), PermissionError],
      [fail(404, "workflow_not_found"), NotFoundError],
      [fail(409, "workflow_not_deployed"), ConflictError],
      [fail(422, "workflow_invalid", { issues }), UnprocessableError],
      [fail(415, "unsupported_media_type"), HugoError],
    ];
    for (const [answer, Class] of cases) {
      const server = await scripted(answer);
      const { client } = clientFor(server.url);
      const error = await client.workflows.get("scenario_x").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Class);
      expect(error).toBeInstanceOf(HugoError);
      const { status, body } = answer as { status: number; body: { reason: string; data: object } };
      expect(error).toMatchObject({
        status,
        code: body.reason,
        message: `${body.reason}!`,
        name: Class.name,
        ...("field" in body.data ? { field: "name" } : {}),
        ...("issues" in body.data ? { issues } : {}),
      });
    }
  });

  it("gives every reason of the server's catalogue its status's class, the base class for 405, 413 and 415", () => {
    const base: string[] = [];
    for (const [reason, { status }] of Object.entries(ErrorCatalog)) {
      const error = errorFromResponse(status, { error: true, reason, data: { message: "m" } }, new Headers());
      expect(error).toMatchObject({ status, code: reason, message: "m" });
      if (error.constructor === HugoError) base.push(`${status}`);
      if (status === 429) expect(error).toBeInstanceOf(RateLimitError);
      if (status >= 500) expect(error).toBeInstanceOf(ServerError);
    }
    expect([...new Set(base)].sort()).toEqual(["405", "413", "415"]);
  });

  it("keeps the request id of an error when the server sends one", async () => {
    const server = await scripted({ ...fail(404, "run_not_found"), headers: { "x-request-id": "req-7" } });
    const error = await clientFor(server.url)
      .client.runs.get("run_x")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "run_not_found", requestId: "req-7" });
  });
});

describe("retries", () => {
  it("waits Retry-After seconds after a 429 and sends the same Idempotency-Key again", async () => {
    const server = await scripted(
      { ...fail(429, "rate_limited"), headers: { "retry-after": "1" } },
      ok(TRIGGERED, 202),
    );
    const { client, retries } = clientFor(server.url);
    expect(await client.agent.trigger({ session_id: SESSION })).toEqual(TRIGGERED);
    expect(server.seen).toHaveLength(2);
    const [first, second] = server.seen.map((s) => s.headers["idempotency-key"]);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).toBe(first);
    expect(server.seen[1]!.body).toBe(server.seen[0]!.body);
    expect(retries).toEqual([
      { endpoint: "agent.trigger", attempt: 1, delayMs: 1000, error: expect.any(RateLimitError) },
    ]);
    expect(retries[0]!.error).toMatchObject({ status: 429, code: "rate_limited", retryAfter: 1 });
  });

  it("reads Retry-After as an HTTP-date, and throws rather than wait longer than maxRetryAfterMs", async () => {
    const now = Date.parse("Wed, 21 Oct 2026 07:28:00 GMT");
    expect(parseRetryAfter("Wed, 21 Oct 2026 07:28:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 21 Oct 2026 07:27:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(" 2 ", now)).toBe(2000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();

    const later = new Date(Date.now() + 120_000).toUTCString();
    const server = await scripted({ ...fail(429, "rate_limited"), headers: { "retry-after": later } });
    const { client, retries } = clientFor(server.url);
    const error = await client.agent.trigger({ session_id: SESSION }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfter).toBeGreaterThan(100);
    expect(server.seen).toHaveLength(1);
    expect(retries).toEqual([]);
  });

  it("retries a 5xx with backoff, up to `retries` times", async () => {
    const server = await scripted(fail(503, "unavailable"), fail(500, "internal_error"), ok({ id: "w" }));
    const { client, retries } = clientFor(server.url);
    expect(await client.website.get()).toEqual({ id: "w" });
    expect(server.seen).toHaveLength(3);
    expect(retries.map((r) => [r.attempt, r.error.status])).toEqual([
      [1, 503],
      [2, 500],
    ]);
    // Exponential backoff less up to 25 % jitter: 0.5 s, then 1 s.
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(375);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(500);
    expect(retries[1]!.delayMs).toBeGreaterThanOrEqual(750);
    expect(retries[1]!.delayMs).toBeLessThanOrEqual(1000);

    const down = await scripted({ status: 502, body: "<html>Bad gateway</html>" });
    const error = await clientFor(down.url, { retries: 1 })
      .client.website.get()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 502, code: "internal_error" });
    expect(down.seen).toHaveLength(2);
  });

  it("never retries a POST sent without an Idempotency-Key", async () => {
    const server = await scripted(fail(503, "unavailable"), ok(TRIGGERED, 202));
    const { client, retries } = clientFor(server.url);
    const error = await client.agent
      .trigger({ session_id: SESSION }, { idempotencyKey: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]!.headers["idempotency-key"]).toBeUndefined();
    expect(retries).toEqual([]);

    const keyless = await scripted({ ...fail(429, "rate_limited"), headers: { "retry-after": "0" } });
    const noKeys = clientFor(keyless.url, { idempotencyKeys: false });
    await expect(noKeys.client.workflows.deploy("scenario_x")).rejects.toBeInstanceOf(RateLimitError);
    expect(keyless.seen).toHaveLength(1);
  });

  it("retries a POST with the caller's own Idempotency-Key, and a twin still running", async () => {
    const server = await scripted(
      { ...fail(409, "idempotency_in_progress"), headers: { "retry-after": "0" } },
      ok(TRIGGERED, 202),
    );
    const { client } = clientFor(server.url, { idempotencyKeys: false });
    await client.agent.trigger({ session_id: SESSION }, { idempotencyKey: "order-1042-refund" });
    expect(server.seen.map((s) => s.headers["idempotency-key"])).toEqual([
      "order-1042-refund",
      "order-1042-refund",
    ]);
  });

  it("does not retry a PATCH or a 4xx", async () => {
    const server = await scripted(fail(500, "internal_error"), fail(404, "workflow_not_found"));
    const { client } = clientFor(server.url);
    await expect(client.website.update({ name: "x" })).rejects.toBeInstanceOf(ServerError);
    await expect(client.workflows.get("scenario_x")).rejects.toBeInstanceOf(NotFoundError);
    expect(server.seen).toHaveLength(2);
  });
});

describe("connections", () => {
  it("throws ConnectionError when the connection is refused, after retrying a GET", async () => {
    const closed = await scripted(ok({}));
    servers.pop()!.close();
    const { client, retries } = clientFor(closed.url, { retries: 1 });
    const error = await client.website.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ status: 0, code: "connection_error" });
    expect((error as Error).message).toContain(closed.url);
    expect((error as Error).cause).toBeDefined();
    expect(retries).toHaveLength(1);
  });

  it("rejects with the signal's reason when the caller aborts, and does not retry", async () => {
    const server = await scripted("hang");
    const { client, retries } = clientFor(server.url);
    const controller = new AbortController();
    const arrived = server.nextRequest();
    const call = client.agent.trigger({ session_id: SESSION }, { signal: controller.signal });
    await arrived;
    controller.abort(new Error("user left"));
    await expect(call).rejects.toThrow("user left");
    expect(server.seen).toHaveLength(1);
    expect(retries).toEqual([]);

    const aborted = AbortSignal.abort();
    await expect(client.website.get({ signal: aborted })).rejects.toMatchObject({ name: "AbortError" });
    expect(server.seen).toHaveLength(1);
  });

  it("stops waiting for a retry when the caller aborts", async () => {
    const server = await scripted({ ...fail(429, "rate_limited"), headers: { "retry-after": "30" } });
    const controller = new AbortController();
    const client = new HugoClient({
      baseUrl: server.url,
      onRetry: () => controller.abort(new Error("enough")),
    });
    await expect(client.website.get({ signal: controller.signal })).rejects.toThrow("enough");
    expect(server.seen).toHaveLength(1);
  });

  it("throws TimeoutError when no answer comes within timeoutMs", async () => {
    const server = await scripted("hang");
    const { client } = clientFor(server.url, { retries: 0 });
    const error = await client.website.get({ timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ status: 0, code: "timeout" });
  });

  it("sends the dashboard's CSRF token on changes and the credentials mode it is given", async () => {
    const seen: { method: string; csrf: string | null; credentials: RequestCredentials | undefined }[] = [];
    const client = new HugoClient({
      baseUrl: "https://hugo.invalid",
      credentials: "include",
      fetch: async (_input, init) => {
        const csrf = new Headers(init?.headers).get("x-csrf-token");
        seen.push({ method: init!.method!, csrf, credentials: init?.credentials });
        return new Response(JSON.stringify({ error: false, reason: "resolved", data: {} }));
      },
    });
    await client.website.update({ name: "before sign-in" });
    client.csrfToken = "csrf-1";
    await client.website.get();
    await client.website.update({ name: "x" });
    await client.tokens.revoke("t");
    await client.widget.updateVisitor("site", { nickname: "Ada" }, { visitor: "v" });
    expect(seen).toEqual([
      { method: "PATCH", csrf: null, credentials: "include" },
      { method: "GET", csrf: null, credentials: "include" },
      { method: "PATCH", csrf: "csrf-1", credentials: "include" },
      { method: "DELETE", csrf: "csrf-1", credentials: "include" },
      { method: "PATCH", csrf: null, credentials: "include" },
    ]);
  });

  it("uses the fetch it is given", async () => {
    const calls: string[] = [];
    const client = new HugoClient({
      baseUrl: "https://hugo.invalid",
      fetch: async (input) => {
        calls.push(String(input));
        return new Response(JSON.stringify({ error: false, reason: "resolved", data: [] }));
      },
    });
    expect(await client.tokens.list()).toEqual([]);
    expect(calls).toEqual(["https://hugo.invalid/api/tokens"]);
  });
});
