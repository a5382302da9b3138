import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";

/**
 * Thousands of malformed requests: wrong types, missing and unknown fields, garbage JSON, bad ids,
 * bad credentials. Every answer must be a 4xx envelope, the server must stay up, and nothing may change.
 */
describe.each(["sqlite", "postgres"] as const)("malformed-request fuzzing on %s", (dialect) => {
  let server: RunningHugo;
  beforeAll(async () => {
    server = await startHugo(dialect, { BODY_LIMIT: "65536" });
  });
  afterAll(() => server?.stop());

  async function snapshot() {
    const db = server.hugo.database.db;
    const count = async (table: "conversations" | "messages" | "events" | "api_tokens" | "operators") =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      conversations: await count("conversations"),
      messages: await count("messages"),
      events: await count("events"),
      tokens: await count("api_tokens"),
      operators: await count("operators"),
      conversation: await server.hugo.stores.conversations.find(server.seed.websiteId, server.seed.sessionId),
      website: await server.hugo.stores.websites.find(server.seed.websiteId),
    };
  }

  it("answers a few thousand malformed requests with 4xx and changes nothing", async () => {
    const site = server.seed.websiteId;
    const session = server.seed.sessionId;
    const good = `Bearer ${server.seed.token.token}`;
    const before = await snapshot();

    // Each writing route with a valid body and, per field, what it accepts: mutations below always break it.
    type Kind = "string" | "object" | "enum";
    const templates: {
      method: string;
      url: string;
      body: Record<string, unknown>;
      fields: Record<string, Kind>;
      required: string[];
    }[] = [
      {
        method: "POST",
        url: `/v1/website/${site}/conversation/${session}/message`,
        body: { type: "text", from: "user", origin: "chat", content: "hi" },
        fields: { type: "enum", from: "enum", origin: "enum", content: "string" },
        required: ["type", "from", "origin", "content"],
      },
      {
        method: "PATCH",
        url: `/v1/website/${site}/conversation/${session}/meta`,
        body: { nickname: "x", data: { a: 1 } },
        fields: { nickname: "string", data: "object" },
        required: [],
      },
      {
        method: "PATCH",
        url: `/v1/website/${site}/conversation/${session}/state`,
        body: { state: "resolved" },
        fields: { state: "enum" },
        required: ["state"],
      },
      {
        method: "PATCH",
        url: `/v1/website/${site}/conversation/${session}/inbox`,
        body: { inbox_id: "automated" },
        fields: { inbox_id: "enum" },
        required: ["inbox_id"],
      },
      {
        method: "PATCH",
        url: `/v1/website/${site}/conversation/${session}/read`,
        body: { from: "operator", origin: "chat" },
        fields: { from: "enum", origin: "enum" },
        required: ["from", "origin"],
      },
      {
        method: "POST",
        url: "/api/tokens",
        body: { name: "t" },
        fields: { name: "string" },
        required: ["name"],
      },
      {
        method: "POST",
        url: "/api/operators",
        body: { email: "a@b.co", name: "n", role: "agent", password: "0123456789ab" },
        fields: { email: "enum", name: "string", role: "enum", password: "string" },
        required: ["email", "name", "role", "password"],
      },
      { method: "PATCH", url: "/api/website", body: { name: "n" }, fields: { name: "string" }, required: [] },
    ];
    const notAString = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.jsonValue(), { maxLength: 3 }),
      fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
    );
    const wrongFor: Record<Kind, fc.Arbitrary<unknown>> = {
      string: notAString,
      object: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.jsonValue(), { maxLength: 3 })),
      // Random text is never one of the few accepted values (they are checked exactly or by format).
      enum: fc.oneof(
        notAString.filter((v) => v !== null),
        fc.string({ maxLength: 30 }).map((x) => `~${x}`),
      ),
    };
    const brokenBody = (t: (typeof templates)[number]) =>
      fc.oneof(
        fc
          .constantFrom(...Object.keys(t.fields))
          .chain((field) =>
            wrongFor[t.fields[field]!].map((value) => JSON.stringify({ ...t.body, [field]: value })),
          ),
        ...(t.required.length
          ? [
              fc.constantFrom(...t.required).map((k) => {
                const { [k]: _, ...rest } = t.body;
                return JSON.stringify(rest);
              }),
            ]
          : []),
        fc
          .string({ minLength: 1, maxLength: 12 })
          .filter((k) => !(k in t.body) && k !== "__proto__")
          .map((k) => JSON.stringify({ ...t.body, [k]: 1 })),
        fc.string({ maxLength: 50 }).filter((x) => {
          try {
            JSON.parse(x);
            return false;
          } catch {
            return true;
          }
        }),
        fc.string({ minLength: 70_000, maxLength: 70_100 }).map((x) => JSON.stringify({ ...t.body, pad: x })),
      );
    const badId = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.uuid().map((u) => `session_${u}`),
      fc.constant("session_"),
      fc.constant("../../etc/passwd"),
    );
    const request = fc.oneof(
      // Mutated bodies on every writing route, with a valid token.
      fc.constantFrom(...templates).chain((t) =>
        brokenBody(t).map((payload) => ({
          method: t.method,
          url: t.url,
          payload,
          headers: { authorization: good, "content-type": "application/json" },
        })),
      ),
      // Garbage ids in paths (reads and writes).
      fc
        .tuple(
          badId,
          fc.constantFrom("GET", "PATCH", "POST", "DELETE"),
          fc.constantFrom("", "/messages", "/meta", "/state", "/message"),
        )
        .map(([id, method, tail]) => ({
          method,
          url: `/v1/website/${site}/conversation/${encodeURIComponent(id)}${tail}`,
          payload: method === "GET" || method === "DELETE" ? undefined : '{"x":',
          headers: { authorization: good, "content-type": "application/json" },
        })),
      // Bad or missing credentials on valid requests.
      fc
        .tuple(
          fc.constantFrom(...templates),
          fc.oneof(
            fc.constant(""),
            fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`),
            fc.string({ maxLength: 40 }).map((s) => `Basic ${Buffer.from(s).toString("base64")}`),
            fc.constant(`Bearer hugo_${server.seed.token.identifier}_${"0".repeat(64)}`),
          ),
        )
        .map(([t, auth]) => ({
          method: t.method,
          url: t.url,
          payload: JSON.stringify(t.body),
          headers: { authorization: auth, "content-type": "application/json" },
        })),
      // Wrong content types and random query strings.
      fc
        .tuple(
          fc.constantFrom(...templates),
          fc.constantFrom(
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
          ),
        )
        .map(([t, type]) => ({
          method: t.method,
          url: t.url,
          payload: "a=1",
          headers: { authorization: good, "content-type": type },
        })),
      fc
        .dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 20 }), {
          minKeys: 1,
          maxKeys: 3,
        })
        .map((q) => ({
          method: "GET",
          url: `/v1/website/${site}/conversations/${fc.sample(fc.oneof(fc.constant("0"), fc.constant("-1"), fc.constant("x"), fc.constant("99999999")), 1)[0]}?${new URLSearchParams(q)}`,
          payload: undefined,
          headers: { authorization: good },
        })),
    );

    let count = 0;
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        count++;
        const res = await server.hugo.app.inject({
          method: req.method as "GET",
          url: req.url,
          payload: req.payload,
          headers: req.headers,
        });
        const body = res.json();
        if (
          res.statusCode < 400 ||
          res.statusCode >= 500 ||
          body.error !== true ||
          typeof body.reason !== "string"
        ) {
          throw new Error(
            `${req.method} ${req.url} ${String(req.payload).slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`,
          );
        }
      }),
      { numRuns: 3000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    expect(count).toBe(3000);
    expect(await snapshot()).toEqual(before);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });
});
