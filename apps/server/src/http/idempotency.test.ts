import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";

describe.each(["sqlite", "postgres"] as const)("Idempotency-Key on %s", (dialect) => {
  let server: RunningHugo;
  let site: string;
  const post = async (path: string, body: unknown, key?: string) => {
    const res = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${server.seed.token.token}`,
        "content-type": "application/json",
        ...(key ? { "idempotency-key": key } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, replayed: res.headers.get("idempotent-replayed"), text: await res.text() };
  };
  const countConversations = async () =>
    Number(
      (
        await server.hugo.database.db
          .selectFrom("conversations")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    server = await startHugo(dialect);
    site = server.seed.websiteId;
  });
  afterAll(() => server?.stop());

  it("creates once for concurrent duplicates and answers each with the original status and body", async () => {
    const before = await countConversations();
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 12 }, () => post(`/v1/website/${site}/conversation`, {}, key)),
    );
    expect(await countConversations()).toBe(before + 1);
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
    expect(results.filter((r) => r.replayed === "true")).toHaveLength(11);
    // A later retry still replays.
    const again = await post(`/v1/website/${site}/conversation`, {}, key);
    expect(again).toMatchObject({ status: 201, replayed: "true", text: results[0]!.text });
    expect(await countConversations()).toBe(before + 1);
  });

  it("sends a message once per key, and refuses the key with a different body", async () => {
    const path = `/v1/website/${site}/conversation/${server.seed.sessionId}/message`;
    const body = { type: "text", from: "user", origin: "chat", content: "only once" };
    const key = randomUUID();
    const [a, b] = await Promise.all([post(path, body, key), post(path, body, key)]);
    expect(a.text).toBe(b.text);
    const messages = await server.hugo.services.conversations.listMessages(site, server.seed.sessionId, {});
    expect(messages.filter((m) => m.content === "only once")).toHaveLength(1);
    const reused = await post(path, { ...body, content: "something else" }, key);
    expect(reused.status).toBe(422);
    expect(JSON.parse(reused.text)).toMatchObject({
      error: true,
      reason: "idempotency_key_reused",
      data: { field: "Idempotency-Key" },
    });
    const onOtherPath = await post(`/v1/website/${site}/conversation`, {}, key);
    expect(onOtherPath.status).toBe(422);
  });

  it("commits the creation and its stored answer together: if storing the answer fails, nothing was created", async () => {
    const db = server.hugo.database.db;
    // A real trigger makes the database refuse to record the answer, as a crash at that point would.
    if (dialect === "sqlite") {
      await sql`create trigger refuse_answer before update of status on idempotency_keys
        when new.status is not null begin select raise(abort, 'refused by test'); end`.execute(db);
    } else {
      await sql`create function refuse_answer() returns trigger language plpgsql as $$
        begin raise exception 'refused by test'; end $$`.execute(db);
      await sql`create trigger refuse_answer before update on idempotency_keys for each row
        when (new.status is not null) execute function refuse_answer()`.execute(db);
    }
    const before = await countConversations();
    const key = randomUUID();
    try {
      const failed = await post(`/v1/website/${site}/conversation`, {}, key);
      expect(failed.status).toBe(500);
      expect(await countConversations()).toBe(before);
    } finally {
      await sql`drop trigger refuse_answer${sql.raw(dialect === "postgres" ? " on idempotency_keys" : "")}`.execute(
        db,
      );
      if (dialect === "postgres") await sql`drop function refuse_answer()`.execute(db);
    }
    // The failed attempt released its claim: the retry runs, creates exactly once, and is then replayed.
    const retried = await post(`/v1/website/${site}/conversation`, {}, key);
    expect(retried).toMatchObject({ status: 201, replayed: null });
    expect(await countConversations()).toBe(before + 1);
    expect(await post(`/v1/website/${site}/conversation`, {}, key)).toMatchObject({
      status: 201,
      replayed: "true",
      text: retried.text,
    });
  });

  it("does not store client errors as successes, and validates the key", async () => {
    const key = randomUUID();
    const bad = await post(
      `/v1/website/${site}/conversation/${server.seed.sessionId}/message`,
      { type: "text" },
      key,
    );
    expect(bad.status).toBe(400);
    const replay = await post(
      `/v1/website/${site}/conversation/${server.seed.sessionId}/message`,
      { type: "text" },
      key,
    );
    expect(replay.status).toBe(400);
    const tooLong = await post(`/v1/website/${site}/conversation`, {}, "k".repeat(300));
    expect(tooLong.status).toBe(400);
    expect(JSON.parse(tooLong.text)).toMatchObject({
      reason: "invalid_header",
      data: { field: "Idempotency-Key" },
    });
  });

  it("keeps keys per website token scope: the same key elsewhere is a new request", async () => {
    const key = randomUUID();
    const first = await post(`/v1/website/${site}/conversation`, {}, key);
    const other = await server.hugo.services.websites.create({ name: "Other" });
    const token = await server.hugo.services.tokens.create(other.id, { name: "other" });
    const res = await fetch(`${server.url}/v1/website/${other.id}/conversation`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token.token}`,
        "content-type": "application/json",
        "idempotency-key": key,
      },
      body: "{}",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    expect(await res.text()).not.toBe(first.text);
  });
});
