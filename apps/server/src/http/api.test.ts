import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";

/** Hugo's own management API and the error contract, over real HTTP on loopback. */
describe.each(["sqlite", "postgres"] as const)("management API and errors on %s", (dialect) => {
  let server: RunningHugo;
  let auth: Record<string, string>;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...auth, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  };

  beforeAll(async () => {
    server = await startHugo(dialect);
    auth = { authorization: `Bearer ${server.seed.token.token}` };
  });
  afterAll(() => server?.stop());

  it("creates a token shown once, lists it without its secret, and revokes it", async () => {
    const created = await call("POST", "/api/tokens", {
      name: "backend",
      scopes: ["agent:trigger", "workflows:trigger"],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      error: false,
      reason: "added",
      data: { name: "backend", scopes: ["agent:trigger", "workflows:trigger"] },
    });
    const { token, id } = created.body.data;
    expect(token).toMatch(/^hugo_[0-9a-f-]{36}_[0-9a-f]{64}$/);
    const listed = await call("GET", "/api/tokens");
    const row = listed.body.data.find((t: { id: string }) => t.id === id);
    expect(row).toMatchObject({ id, hint: created.body.data.key.slice(0, 6), revoked_at: null });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.data.key);

    // The new token works but only within its scopes.
    const limited = await call("GET", "/api/tokens", undefined, { authorization: `Bearer ${token}` });
    expect(limited).toMatchObject({ status: 403, body: { error: true, reason: "insufficient_scope" } });
    expect(limited.body.data.message).toContain("tokens:manage");

    expect((await call("DELETE", `/api/tokens/${id}`)).status).toBe(200);
    expect((await call("DELETE", `/api/tokens/${id}`)).status).toBe(200);
    const revoked = await call("GET", `/v1/website/${server.seed.websiteId}/conversations/1`, undefined, {
      authorization: `Bearer ${token}`,
    });
    expect(revoked).toMatchObject({ status: 401, body: { reason: "token_revoked" } });
    expect(
      (await call("GET", "/api/tokens")).body.data.find((t: { id: string }) => t.id === id).revoked_at,
    ).toEqual(expect.any(Number));
  });

  it("rejects an expired token", async () => {
    const created = await call("POST", "/api/tokens", { name: "short", expires_in: 60 });
    const { identifier } = created.body.data;
    // Age the token in the database before its first use (so no node has it cached).
    await server.hugo.database.db
      .updateTable("api_tokens")
      .set({ expires_at: Date.now() - 1 })
      .where("id", "=", identifier)
      .execute();
    const res = await call("GET", "/api/website", undefined, {
      authorization: `Bearer ${created.body.data.token}`,
    });
    expect(res).toMatchObject({ status: 401, body: { reason: "token_expired" } });
  });

  it("manages operators with roles and keeps one owner", async () => {
    const created = await call("POST", "/api/operators", {
      email: "Agent@Example.com",
      name: "Agent",
      role: "agent",
      password: "correct horse battery",
    });
    expect(created).toMatchObject({
      status: 201,
      body: { data: { email: "agent@example.com", role: "agent" } },
    });
    expect(JSON.stringify(created.body)).not.toMatch(/password|scrypt/);
    const dup = await call("POST", "/api/operators", {
      email: "agent@example.com",
      name: "Again",
      role: "agent",
      password: "correct horse battery",
    });
    expect(dup).toMatchObject({ status: 409, body: { reason: "operator_exists", data: { field: "email" } } });
    const short = await call("POST", "/api/operators", {
      email: "b@example.com",
      name: "B",
      role: "agent",
      password: "short",
    });
    expect(short).toMatchObject({
      status: 400,
      body: { reason: "invalid_body", data: { field: "password" } },
    });

    const list = (await call("GET", "/api/operators")).body.data;
    const owner = list.find((o: { role: string }) => o.role === "owner");
    const demoted = await call("PATCH", `/api/operators/${owner.id}`, { role: "admin" });
    expect(demoted).toMatchObject({ status: 409, body: { reason: "last_owner" } });
    expect((await call("DELETE", `/api/operators/${owner.id}`)).body.reason).toBe("last_owner");
    const id = created.body.data.id;
    expect(
      (await call("PATCH", `/api/operators/${id}`, { role: "admin", name: "Promoted" })).body.data,
    ).toMatchObject({ role: "admin", name: "Promoted" });
    expect((await call("DELETE", `/api/operators/${id}`)).status).toBe(200);
    expect((await call("GET", `/api/operators/${id}`)).body.reason).toBe("operator_not_found");

    // Password login uses the stored scrypt hash.
    await call("POST", "/api/operators", {
      email: "login@example.com",
      name: "L",
      role: "agent",
      password: "correct horse battery",
    });
    const op = await server.hugo.services.operators.login("LOGIN@example.com ", "correct horse battery");
    expect(op.last_login_at).toEqual(expect.any(Number));
    await expect(
      server.hugo.services.operators.login("login@example.com", "wrong password!"),
    ).rejects.toMatchObject({ reason: "invalid_credentials" });
    await expect(
      server.hugo.services.operators.login("nobody@example.com", "whatever"),
    ).rejects.toMatchObject({ reason: "invalid_credentials" });
    const stored = await server.hugo.database.db
      .selectFrom("operators")
      .select("password_hash")
      .where("email", "=", "login@example.com")
      .executeTakeFirstOrThrow();
    expect(stored.password_hash).toMatch(/^scrypt\$131072\$8\$1\$/);
  });

  it("reads and updates the website's settings", async () => {
    expect((await call("GET", "/api/website")).body.data).toMatchObject({
      id: server.seed.websiteId,
      name: "Demo website",
    });
    expect((await call("PATCH", "/api/website", { name: "Acme" })).body.data.name).toBe("Acme");
    expect((await call("PATCH", "/api/website", { domain: "not a domain" })).body).toMatchObject({
      reason: "invalid_body",
      data: { field: "domain" },
    });
  });

  it("answers every client mistake with a 4xx, a stable reason and the field, and writes nothing", async () => {
    const site = server.seed.websiteId;
    const session = server.seed.sessionId;
    const before = await server.hugo.stores.conversations.find(site, session);
    const msgPath = `/v1/website/${site}/conversation/${session}/message`;
    const cases: [string, Awaited<ReturnType<typeof call>>, number, string, string?][] = [
      ["malformed JSON", await call("POST", msgPath, "{nope"), 400, "invalid_json"],
      [
        "wrong type",
        await call("POST", msgPath, { type: "text", from: "user", origin: "chat", content: 42 }),
        400,
        "invalid_body",
        "content",
      ],
      [
        "unknown field",
        await call("POST", msgPath, { type: "text", from: "user", origin: "chat", content: "x", bogus: 1 }),
        400,
        "invalid_body",
      ],
      [
        "unknown type",
        await call("POST", msgPath, { type: "video", from: "user", origin: "chat", content: "x" }),
        400,
        "invalid_body",
        "type",
      ],
      [
        "bad origin",
        await call("POST", msgPath, { type: "text", from: "user", origin: "fax", content: "x" }),
        400,
        "invalid_body",
        "origin",
      ],
      [
        "not JSON",
        await call("POST", msgPath, "hello", { "content-type": "text/plain" }),
        415,
        "unsupported_media_type",
      ],
      [
        "too large",
        await call("POST", msgPath, {
          type: "text",
          from: "user",
          origin: "chat",
          content: "x".repeat(2_000_000),
        }),
        413,
        "payload_too_large",
      ],
      [
        "malformed session",
        await call("GET", `/v1/website/${site}/conversation/session_nope`),
        400,
        "invalid_params",
        "session_id",
      ],
      [
        "malformed website",
        await call("GET", `/v1/website/nope/conversation/${session}`),
        404,
        "website_not_found",
      ],
      [
        "unknown session",
        await call("GET", `/v1/website/${site}/conversation/session_00000000-0000-4000-8000-000000000000`),
        404,
        "session_not_found",
      ],
      [
        "other website",
        await call("GET", `/v1/website/00000000-0000-4000-8000-000000000000/conversation/${session}`),
        404,
        "website_not_found",
      ],
      [
        "bad query",
        await call("GET", `/v1/website/${site}/conversations/1?per_page=5000`),
        400,
        "invalid_query",
        "per_page",
      ],
      [
        "unknown query",
        await call("GET", `/v1/website/${site}/conversations/1?evil=1`),
        400,
        "invalid_query",
      ],
      [
        "no auth",
        await call("GET", `/v1/website/${site}/conversations/1`, undefined, { authorization: "" }),
        401,
        "unauthorized",
      ],
      [
        "bad bearer",
        await call("GET", "/api/website", undefined, { authorization: "Bearer abc" }),
        401,
        "unauthorized",
      ],
      [
        "bad tier",
        await call("GET", `/v1/website/${site}/conversations/1`, undefined, {
          authorization: `Basic ${Buffer.from(`${server.seed.token.identifier}:${server.seed.token.key}`).toString("base64")}`,
          "x-crisp-tier": "root",
        }),
        400,
        "invalid_header",
      ],
      ["unknown route", await call("GET", "/api/nothing-here"), 404, "route_not_found"],
      [
        "bad state",
        await call("PATCH", `/v1/website/${site}/conversation/${session}/state`, { state: "closed" }),
        400,
        "invalid_body",
        "state",
      ],
      [
        "unknown inbox",
        await call("PATCH", `/v1/website/${site}/conversation/${session}/inbox`, { inbox_id: "sales" }),
        400,
        "invalid_body",
        "inbox_id",
      ],
      [
        "unknown operator",
        await call("PATCH", `/v1/website/${site}/conversation/${session}/routing`, {
          assigned: { user_id: "00000000-0000-4000-8000-000000000000" },
        }),
        404,
        "operator_not_found",
      ],
      [
        "proto pollution",
        await call("PATCH", `/v1/website/${site}/conversation/${session}/meta`, '{"__proto__":{"x":1}}'),
        400,
        "invalid_json",
      ],
    ];
    for (const [name, res, status, reason, field] of cases) {
      expect({ name, status: res.status, reason: res.body.reason, error: res.body.error }).toEqual({
        name,
        status,
        reason,
        error: true,
      });
      expect(typeof res.body.data.message, name).toBe("string");
      if (field) expect(res.body.data.field, name).toBe(field);
    }
    expect(await server.hugo.stores.conversations.find(site, session)).toEqual(before);
  });

  it("accepts paths with and without a trailing slash and serves the OpenAPI document and API page", async () => {
    expect((await call("GET", "/api/website/")).status).toBe(200);
    const doc = await (await fetch(`${server.url}/api/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/website/{website_id}/conversation/{session_id}/message", "/api/tokens"]),
    );
    const page = await fetch(`${server.url}/api/docs`);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain("/v1/website/{website_id}/conversation/{session_id}/message");
    expect(html).toContain("idempotency_key_reused");
  });
});
