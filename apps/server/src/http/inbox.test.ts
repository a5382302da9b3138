import { HugoClient, HugoError } from "@hugo/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e as HugoError,
  );

describe.each(["sqlite", "postgres"] as const)("the dashboard's inbox API on %s", (dialect) => {
  let server: RunningHugo;
  let client: HugoClient;
  let websiteId: string;
  let token: string;
  const sessions: string[] = [];
  const v1 = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/v1/website/${websiteId}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return ((await res.json()) as { data: Record<string, unknown> }).data;
  };
  let agentId: string;

  beforeAll(async () => {
    server = await startHugo(dialect);
    const website = await server.hugo.services.websites.create({ name: "Inbox", domain: "inbox.example" });
    websiteId = website.id;
    token = (await server.hugo.services.tokens.create(websiteId, { name: "inbox" })).token;
    client = new HugoClient({ baseUrl: server.url, token });
    agentId = (
      await server.hugo.services.operators.create(websiteId, {
        email: `ann-${dialect}@inbox.example`,
        name: "Ann Operator",
        role: "agent",
        password: "ann's long password",
      })
    ).id;
    // Seven conversations, touched in order: 0 oldest … 6 newest.
    for (let i = 0; i < 7; i++) {
      const { session_id } = (await v1("POST", "/conversation", {})) as { session_id: string };
      sessions.push(session_id);
      await v1("PATCH", `/conversation/${session_id}/meta`, {
        nickname: `Visitor ${i}`,
        email: `visitor${i}@example.com`,
        ...(i % 2 === 0 ? { segments: ["vip"] } : {}),
      });
      // The automated inbox's conversations hear only from an operator here: a visitor's message
      // would have the agent answer (and, with no knowledge, hand over to the main inbox) meanwhile.
      if (i < 3) await v1("PATCH", `/conversation/${session_id}/inbox`, { inbox_id: "automated" });
      await v1("POST", `/conversation/${session_id}/message`, {
        type: "text",
        from: i < 3 ? "operator" : "user",
        origin: "chat",
        content: i === 4 ? "Where is my parcel, please?" : `Hello ${i}`,
      });
    }
    await client.conversations.update(sessions[5]!, { state: "resolved" });
    await client.conversations.update(sessions[6]!, { assigned_user_id: agentId });
    await v1("PATCH", `/conversation/${sessions[6]}/read`, { from: "operator", origin: "chat" });
  });
  afterAll(() => server.stop());

  it("pages through every conversation by cursor, newest activity first, with no gap or repeat", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.conversations.list({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.conversations.map((c) => c.session_id));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(7);
    expect(seen.slice().sort()).toEqual(sessions.slice().sort());
    const all = (await client.conversations.list({ limit: 100 })).conversations;
    const times = all.map((c) => c.updated_at);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all.map((c) => c.session_id)).toEqual(seen);
  });

  it("filters by inbox, state, assignee, segment, text and unread, and counts the badges", async () => {
    const ids = async (q: Parameters<HugoClient["conversations"]["list"]>[0]) =>
      (await client.conversations.list(q)).conversations.map((c) => c.session_id).sort();
    expect(await ids({ inbox: "automated" })).toEqual(sessions.slice(0, 3).sort());
    expect(await ids({ inbox: "main" })).toEqual([sessions[3], sessions[4], sessions[6]].sort());
    expect(await ids({ inbox: "resolved" })).toEqual([sessions[5]]);
    expect(await ids({ state: "resolved" })).toEqual([sessions[5]]);
    expect(await ids({ assigned: agentId })).toEqual([sessions[6]]);
    expect((await ids({ assigned: "none" })).length).toBe(6);
    expect(await ids({ segment: "vip" })).toEqual(
      [sessions[0], sessions[2], sessions[4], sessions[6]].sort(),
    );
    expect(await ids({ q: "PARCEL" })).toEqual([sessions[4]]);
    expect(await ids({ q: "visitor3@" })).toEqual([sessions[3]]);
    expect(await ids({ q: "100%_" })).toEqual([]);
    // Visitors wrote in 3 to 6, and 6 was read by an operator; the badge counts open ones only (5 is resolved).
    expect(await ids({ unread: true })).toEqual([sessions[3], sessions[4], sessions[5]].sort());
    expect(await ids({ unread: true, inbox: "main" })).toEqual([sessions[3], sessions[4]].sort());
    expect(await client.conversations.counts()).toEqual({ automated: 3, main: 3, resolved: 1, unread: 2 });
  });

  it("reads a conversation and its messages, replies as the signed-in operator, and writes notes", async () => {
    const sessionId = sessions[4]!;
    expect((await client.conversations.get(sessionId)).meta.nickname).toBe("Visitor 4");
    // The operator signs in; their replies carry their name.
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: `ann-${dialect}@inbox.example`, password: "ann's long password" }),
    });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const { csrf_token } = ((await login.json()) as { data: { csrf_token: string } }).data;
    const ann = new HugoClient({
      baseUrl: server.url,
      csrfToken: csrf_token,
      fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as object), cookie } }),
    });
    const reply = await ann.conversations.reply(sessionId, { type: "text", content: "I'm on it." });
    expect(reply).toMatchObject({
      from: "operator",
      type: "text",
      user: { user_id: agentId, nickname: "Ann Operator" },
    });
    const note = await ann.conversations.reply(sessionId, {
      type: "note",
      content: "Parcel lost by the carrier",
    });
    expect(note.type).toBe("note");
    const byToken = await client.conversations.reply(sessionId, { type: "text", content: "From the API" });
    expect(byToken.user).toEqual({});

    const messages = await client.conversations.listMessages(sessionId);
    expect(messages.map((m) => m.content)).toEqual([
      "Where is my parcel, please?",
      "I'm on it.",
      "Parcel lost by the carrier",
      "From the API",
    ]);
    const older = await client.conversations.listMessages(sessionId, {
      before: messages[2]!.timestamp,
      limit: 1,
    });
    expect(older.map((m) => m.content)).toEqual(["I'm on it."]);
    // The agent role may reply, but not manage tokens.
    expect(await failure(ann.tokens.list())).toMatchObject({ status: 403, code: "insufficient_scope" });
  });

  it("changes state, inbox and assignee; refuses bad input naming the field and changes nothing", async () => {
    const sessionId = sessions[3]!;
    const moved = await client.conversations.update(sessionId, {
      inbox_id: "automated",
      state: "unresolved",
    });
    expect(moved).toMatchObject({ inbox_id: "automated", state: "unresolved" });
    const unknownOperator = await failure(
      client.conversations.update(sessionId, {
        assigned_user_id: "00000000-0000-4000-8000-000000000000",
        state: "resolved",
      }),
    );
    expect(unknownOperator).toMatchObject({
      status: 404,
      code: "operator_not_found",
      field: "assigned_user_id",
    });
    expect((await client.conversations.get(sessionId)).state).toBe("unresolved");
    expect(await failure(client.conversations.update(sessionId, {}))).toMatchObject({
      status: 400,
      code: "invalid_body",
    });
    expect(await failure(client.conversations.list({ cursor: "bm9wZQ" }))).toMatchObject({
      status: 400,
      code: "invalid_query",
      field: "cursor",
    });
    expect(await failure(client.conversations.list({ limit: 1000 }))).toMatchObject({
      status: 400,
      field: "limit",
    });
    const empty = await failure(client.conversations.reply(sessionId, { type: "text", content: "   " }));
    expect(empty).toMatchObject({ status: 400, field: "content" });
    // Another website's conversation answers like a missing one.
    const foreign = await failure(client.conversations.get(server.seed.sessionId));
    expect(foreign).toMatchObject({ status: 404, code: "session_not_found" });
    expect(foreign).toBeInstanceOf(HugoError);
  });
});
