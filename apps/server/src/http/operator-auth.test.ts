import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";
import { loadConfig } from "../config.ts";
import { createHugo } from "../server.ts";

/** A browser's view of one operator: the cookie jar and the CSRF token sign-in returned. */
class Operator {
  cookie = "";
  csrf = "";
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  async call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${this.base}${url}`, {
      method,
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const setCookie = res.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0]!.endsWith("=") ? "" : setCookie.split(";")[0]!;
    const json = (await res.json()) as { error: boolean; reason: string; data: Record<string, unknown> };
    return { status: res.status, setCookie, headers: res.headers, ...json };
  }
  /** A change, with the CSRF header the dashboard sends. */
  change(method: string, url: string, body?: unknown) {
    return this.call(method, url, body, { "x-csrf-token": this.csrf });
  }
  async signIn(email: string, password: string, websiteId?: string) {
    const res = await this.call("POST", "/api/auth/login", {
      email,
      password,
      ...(websiteId ? { website_id: websiteId } : {}),
    });
    if (res.status === 200) this.csrf = String(res.data.csrf_token);
    return res;
  }
}

describe.each(["sqlite", "postgres"] as const)("operator sign-in on %s", (dialect) => {
  let server: RunningHugo;
  const owner = () => new Operator(server.url);

  beforeAll(async () => {
    server = await startHugo(dialect);
  });
  afterAll(() => server.stop());

  it("signs the owner in with an HttpOnly SameSite cookie and lets the cookie use the API, changes only with CSRF", async () => {
    const op = owner();
    const res = await op.signIn(server.seed.ownerEmail, server.seed.ownerPassword);
    expect(res.status).toBe(200);
    expect(res.setCookie).toMatch(/^hugo_session=[0-9a-f]{64};/);
    expect(res.setCookie).toMatch(/HttpOnly/i);
    expect(res.setCookie).toMatch(/SameSite=Lax/i);
    expect(res.setCookie).toMatch(/Path=\//);
    expect(res.setCookie).not.toMatch(/Secure/i); // PUBLIC_URL is http here
    expect(res.data).toMatchObject({
      website_id: server.seed.websiteId,
      role: "owner",
      operator: { email: server.seed.ownerEmail },
      websites: [{ id: server.seed.websiteId, role: "owner" }],
    });
    expect(res.data.scopes).toContain("tokens:manage");

    const session = await op.call("GET", "/api/auth/session");
    expect(session.status).toBe(200);
    expect(session.data.csrf_token).toBe(op.csrf);

    expect((await op.call("GET", "/api/workflows")).status).toBe(200);
    const before = (await op.call("GET", "/api/workflows")).data as unknown as unknown[];

    const graph = { blocks: [], edges: [] };
    const noCsrf = await op.call("POST", "/api/workflows", { name: "From the dashboard", graph });
    expect(noCsrf).toMatchObject({ status: 403, reason: "csrf_failed" });
    const wrongCsrf = await op.call(
      "POST",
      "/api/workflows",
      { name: "x", graph },
      { "x-csrf-token": "0".repeat(64) },
    );
    expect(wrongCsrf).toMatchObject({ status: 403, reason: "csrf_failed" });
    expect(((await op.call("GET", "/api/workflows")).data as unknown as unknown[]).length).toBe(
      before.length,
    );

    const created = await op.change("POST", "/api/workflows", { name: "From the dashboard", graph });
    expect(created.status).toBe(201);
  });

  it("refuses wrong credentials alike for a wrong password and an unknown email, and bad bodies by field", async () => {
    const wrong = await owner().signIn(server.seed.ownerEmail, "not the password");
    expect(wrong).toMatchObject({ status: 401, reason: "invalid_credentials" });
    expect(wrong.setCookie).toBeNull();
    const unknown = await owner().signIn("nobody@example.com", "whatever12345");
    expect(unknown).toMatchObject({ status: 401, reason: "invalid_credentials" });
    expect(unknown.data.message).toBe(wrong.data.message);

    const bad = await owner().call("POST", "/api/auth/login", { email: "a@b.c" });
    expect(bad).toMatchObject({ status: 400, reason: "invalid_body" });
    expect(bad.data.field).toBe("password");

    const anonymous = await owner().call("GET", "/api/auth/session");
    expect(anonymous).toMatchObject({ status: 401, reason: "unauthorized" });
    const forged = await owner().call("GET", "/api/workflows", undefined, {
      cookie: `hugo_session=${"a".repeat(64)}`,
    });
    expect(forged).toMatchObject({ status: 401, reason: "unauthorized" });
  });

  it("enforces roles in the API: an agent works conversations but cannot manage tokens or write workflows; changes take effect at once", async () => {
    const op = owner();
    await op.signIn(server.seed.ownerEmail, server.seed.ownerPassword);
    const added = await op.change("POST", "/api/operators", {
      email: `agent-${dialect}@example.com`,
      name: "Support agent",
      role: "agent",
      password: "agent password 1",
    });
    expect(added.status).toBe(201);

    const agent = new Operator(server.url);
    const signedIn = await agent.signIn(`agent-${dialect}@example.com`, "agent password 1");
    expect(signedIn.data.role).toBe("agent");
    expect(await agent.call("GET", "/api/tokens")).toMatchObject({
      status: 403,
      reason: "insufficient_scope",
    });
    expect((await agent.change("POST", "/api/tokens", { name: "sneaky" })).status).toBe(403);
    expect((await agent.call("GET", "/api/workflows")).status).toBe(200);
    expect(
      await agent.change("POST", "/api/workflows", { name: "x", graph: { blocks: [], edges: [] } }),
    ).toMatchObject({ status: 403, reason: "insufficient_scope" });

    // Promoted: the same session gains the rights on its next request.
    expect((await op.change("PATCH", `/api/operators/${added.data.id}`, { role: "admin" })).status).toBe(200);
    expect((await agent.call("GET", "/api/tokens")).status).toBe(200);
    // Removed: the session no longer signs anyone in.
    expect((await op.change("DELETE", `/api/operators/${added.data.id}`)).status).toBe(200);
    expect(await agent.call("GET", "/api/workflows")).toMatchObject({ status: 401, reason: "unauthorized" });
  });

  it("switches between the operator's websites and signs out for good", async () => {
    const second = await server.hugo.services.websites.create({ name: `Second ${dialect}`, domain: "" });
    const ownerRecord = await server.hugo.stores.operators.findByEmail(server.seed.ownerEmail);
    await server.hugo.stores.operators.addMembership(
      { website_id: second.id, operator_id: ownerRecord!.id, role: "agent" },
      Date.now(),
    );
    const op = owner();
    await op.signIn(server.seed.ownerEmail, server.seed.ownerPassword);
    const switched = await op.change("POST", "/api/auth/website", { website_id: second.id });
    expect(switched.status).toBe(200);
    expect(switched.data).toMatchObject({ website_id: second.id, role: "agent" });
    // Now acting on the second website as an agent.
    expect((await op.call("GET", "/api/tokens")).status).toBe(403);
    const notMine = await op.change("POST", "/api/auth/website", {
      website_id: "00000000-0000-4000-8000-000000000000",
    });
    expect(notMine).toMatchObject({ status: 404, reason: "website_not_found" });

    const direct = await owner().signIn(server.seed.ownerEmail, server.seed.ownerPassword, second.id);
    expect(direct.data).toMatchObject({ website_id: second.id, role: "agent" });

    const cookie = op.cookie;
    expect((await op.call("POST", "/api/auth/logout")).reason).toBe("csrf_failed");
    const out = await op.change("POST", "/api/auth/logout");
    expect(out.status).toBe(200);
    expect(out.setCookie).toMatch(/^hugo_session=;/);
    expect((await op.call("GET", "/api/workflows", undefined, { cookie })).status).toBe(401);
  });

  it("never replays a sign-in from the idempotency store: each one sets its own cookie", async () => {
    const body = { email: server.seed.ownerEmail, password: server.seed.ownerPassword };
    const first = await owner().call("POST", "/api/auth/login", body, {
      "idempotency-key": `login-${dialect}`,
    });
    const second = await owner().call("POST", "/api/auth/login", body, {
      "idempotency-key": `login-${dialect}`,
    });
    expect(second.headers.get("idempotent-replayed")).toBeNull();
    expect(second.setCookie).toMatch(/^hugo_session=[0-9a-f]{64}/);
    expect(second.setCookie).not.toBe(first.setCookie);
    expect(second.data.csrf_token).not.toBe(first.data.csrf_token);
  });

  it("an API token in the Authorization header wins over a cookie, and needs no CSRF header", async () => {
    const res = await fetch(`${server.url}/api/workflows`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${server.seed.token.token}`,
        cookie: `hugo_session=${"b".repeat(64)}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ name: "By token", graph: { blocks: [], edges: [] } }),
    });
    expect(res.status).toBe(201);
  });

  it("limits sign-in attempts per account", async () => {
    const email = `limited-${dialect}@example.com`;
    let last: Awaited<ReturnType<Operator["signIn"]>> | undefined;
    for (let i = 0; i < 11; i++) last = await owner().signIn(email, "wrong password");
    expect(last).toMatchObject({ status: 429, reason: "rate_limited" });
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("first-run setup is closed once an owner exists", async () => {
    expect((await owner().call("GET", "/api/auth/setup")).data).toEqual({ needed: false });
    const setup = await owner().call("POST", "/api/auth/setup", {
      email: "late@example.com",
      name: "Late",
      password: "a long password",
      website_name: "Nope",
    });
    expect(setup).toMatchObject({ status: 409, reason: "setup_done" });
  });
});

describe("first-run setup without the demo", () => {
  it("creates the owner and their website once, signed in; a second setup is refused", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-setup-"));
    const hugo = await createHugo(
      loadConfig({
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: dataDir,
        LOG_LEVEL: "silent",
        SEED_DEMO: "false",
      }),
    );
    try {
      const base = (await hugo.listen()).replace("0.0.0.0", "127.0.0.1");
      const op = new Operator(base);
      expect((await op.call("GET", "/api/auth/setup")).data).toEqual({ needed: true });
      const weak = await op.call("POST", "/api/auth/setup", {
        email: "me@acme.test",
        name: "Me",
        password: "short",
        website_name: "Acme",
      });
      expect(weak).toMatchObject({ status: 400, reason: "invalid_body" });
      expect(weak.data.field).toBe("password");

      const done = await op.call("POST", "/api/auth/setup", {
        email: "Me@Acme.test",
        name: "Me",
        password: "a long password",
        website_name: "Acme",
      });
      expect(done.status).toBe(201);
      expect(done.data).toMatchObject({ role: "owner", operator: { email: "me@acme.test" } });
      expect(done.setCookie).toMatch(/^hugo_session=/);
      op.csrf = String(done.data.csrf_token);
      expect((await op.call("GET", "/api/tokens")).status).toBe(200);
      expect((await op.call("GET", "/api/auth/setup")).data).toEqual({ needed: false });

      const again = await new Operator(base).call("POST", "/api/auth/setup", {
        email: "other@acme.test",
        name: "Other",
        password: "a long password",
        website_name: "Other",
      });
      expect(again).toMatchObject({ status: 409, reason: "setup_done" });
      const signIn = await new Operator(base).signIn("me@acme.test", "a long password");
      expect(signIn.status).toBe(200);
    } finally {
      await hugo.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
