import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EventFrame } from "@hugo/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";
import { Client, waitFor } from "../../test/ws-client.ts";
import { loadConfig } from "../config.ts";
import { mintVisitorCredential } from "../core/visitor-credentials.ts";
import { createHugo } from "../server.ts";

/** REST calls through the Crisp-compatible API, as an integrator would make them. */
function rest(server: RunningHugo) {
  const base = `${server.url}/v1/website/${server.seed.websiteId}`;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${server.seed.token.token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as { error: boolean; reason: string; data: Record<string, unknown> };
    if (json.error) throw new Error(`${method} ${url}: ${json.reason}`);
    return json.data;
  };
  return {
    async conversation(): Promise<string> {
      return (await call("POST", `${base}/conversation`, {})).session_id as string;
    },
    async message(
      sessionId: string,
      content: string,
      extra: { from?: "user" | "operator"; type?: "text" | "note"; stealth?: boolean } = {},
    ): Promise<number> {
      const data = await call("POST", `${base}/conversation/${sessionId}/message`, {
        type: extra.type ?? "text",
        from: extra.from ?? "user",
        origin: "chat",
        content,
        ...(extra.stealth ? { stealth: true } : {}),
      });
      return data.fingerprint as number;
    },
    async compose(sessionId: string, from: "user" | "operator", state: "start" | "stop", excerpt?: string) {
      await call("PATCH", `${base}/conversation/${sessionId}/compose`, {
        type: state,
        from,
        ...(excerpt ? { excerpt } : {}),
      });
    },
  };
}

const texts = (events: EventFrame[]) =>
  events
    .filter((e) => e.name.startsWith("message:") && e.name !== "message:acknowledge:read")
    .map((e) => (e.data as { content: string }).content);

describe.each(["sqlite", "postgres"] as const)("realtime over WebSocket on %s", (dialect) => {
  let server: RunningHugo;
  let api: ReturnType<typeof rest>;
  const clients: Client[] = [];
  const track = (c: Client) => {
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startHugo(dialect);
    api = rest(server);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.stop();
  });

  it("delivers a conversation's messages posted over REST to an operator, in order", async () => {
    const sessionId = await api.conversation();
    const op = track(await Client.connect(server.url, { bearer: server.seed.token.token }));
    await op.next((f) => f.type === "ready" && f.principal === "operator");
    const upTo = await op.subscribe(sessionId);
    expect(upTo).toBe(1);
    for (let i = 0; i < 5; i++) await api.message(sessionId, `m${i}`);
    await waitFor("5 messages", () => op.events(sessionId).length >= 5);
    const events = op.events(sessionId);
    expect(texts(events)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(events.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6]);
    expect(events.every((e) => e.name === "message:send" && e.session_id === sessionId)).toBe(true);
  });

  it("follows the whole website in website_seq order after an auth frame", async () => {
    const op = track(await Client.auth(server.url, server.seed.token.token));
    const upTo = await op.subscribe(null);
    const a = await api.conversation();
    const b = await api.conversation();
    await api.message(a, "to a");
    await api.message(b, "to b");
    await api.message(a, "to a again");
    await waitFor("3 messages", () => texts(op.events(null)).length >= 3);
    const events = op.events(null);
    expect(texts(events)).toEqual(["to a", "to b", "to a again"]);
    expect(events.map((e) => e.website_seq)).toEqual(events.map((_, i) => upTo + 1 + i));
    expect(events.map((e) => e.name)).toEqual([
      "session:created",
      "session:created",
      "message:send",
      "message:send",
      "message:send",
    ]);
  });

  it("replays from a sequence number, then goes live", async () => {
    const sessionId = await api.conversation();
    for (let i = 0; i < 5; i++) await api.message(sessionId, `old${i}`);
    const op = track(await Client.auth(server.url, server.seed.token.token));
    const upTo = await op.subscribe(sessionId, 3);
    expect(upTo).toBe(6);
    // The replay comes before "subscribed", the live event after it.
    const subscribedAt = op.frames.findIndex((f) => f.type === "subscribed");
    expect(op.events(sessionId).map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(texts(op.events(sessionId))).toEqual(["old2", "old3", "old4"]);
    await api.message(sessionId, "new");
    await waitFor("the live message", () => op.events(sessionId).length === 4);
    expect(op.frames.indexOf(op.events(sessionId)[3]!)).toBeGreaterThan(subscribedAt);
    expect(op.events(sessionId)[3]).toMatchObject({ seq: 7, data: { content: "new" } });

    const full = track(await Client.auth(server.url, server.seed.token.token));
    await full.subscribe(sessionId, 0);
    expect(full.events(sessionId).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(full.events(sessionId)[0]!.name).toBe("session:created");
  });

  it.each([
    ["a conversation", "conversation"],
    ["the website", "website"],
  ] as const)(
    "loses nothing and repeats nothing when %s subscriber reconnects mid-stream",
    async (_, scope) => {
      const websiteHead = (await server.hugo.stores.conversations.lastSeq(server.seed.websiteId))!;
      const sessionId = await api.conversation();
      const total = 60;
      const posted: string[] = [];
      const posting = (async () => {
        for (let i = 0; i < total; i++) {
          await api.message(sessionId, `r${i}`);
          posted.push(`r${i}`);
        }
      })();

      const target = scope === "conversation" ? sessionId : null;
      const key = (e: EventFrame) => (scope === "conversation" ? e.seq! : e.website_seq!);
      const complete = (events: EventFrame[]) => posted.length === total && texts(events).length === total;
      const received: EventFrame[] = [];
      let after = scope === "conversation" ? 0 : websiteHead;
      for (let round = 0; !complete(received); round++) {
        if (round > 100) throw new Error("no progress");
        const client = track(await Client.auth(server.url, server.seed.token.token));
        client.send({ type: "subscribe", ...(target ? { session_id: target } : {}), after });
        // The first rounds read a few events and drop the connection without a goodbye (frames in
        // flight are lost); the last one reads to the end.
        const enough = round < 4 ? 8 : Number.POSITIVE_INFINITY;
        await waitFor("progress", () => {
          const mine = client.events(target);
          return mine.length >= enough || complete([...received, ...mine]);
        });
        const mine = client.events(target);
        client.close();
        received.push(...mine);
        const last = received.at(-1);
        if (last) after = key(last);
      }
      await posting;

      const keys = received.map(key);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys).toEqual([...keys].sort((a, b) => a - b));
      // Contiguous from the first: the log as the subscriber saw it has no hole.
      expect(keys).toEqual(keys.map((_, i) => (scope === "conversation" ? 1 : websiteHead + 1) + i));
      expect(texts(received)).toEqual(posted);
    },
  );

  it("lets a visitor follow only its own conversation, without notes or stealth messages", async () => {
    const sessionId = await api.conversation();
    const other = await api.conversation();
    const credential = mintVisitorCredential(server.hugo.secret, server.seed.websiteId, sessionId);
    const visitor = track(await Client.auth(server.url, credential));
    expect(visitor.frames[0]).toEqual({
      type: "ready",
      principal: "visitor",
      website_id: server.seed.websiteId,
      session_id: sessionId,
    });

    visitor.send({ type: "subscribe", session_id: other, after: 0 });
    const denied = await visitor.next((f) => f.type === "error");
    expect(denied).toMatchObject({ type: "error", reason: "forbidden" });

    await visitor.subscribe(null, 0);
    await api.message(other, "not for you");
    await api.message(sessionId, "hello", { from: "user" });
    await api.message(sessionId, "internal", { from: "operator", type: "note" });
    await api.message(sessionId, "hidden", { from: "operator", stealth: true });
    await api.message(sessionId, "hi there", { from: "operator" });
    await api.message(sessionId, "thanks", { from: "user" });
    await waitFor("the visible messages", () => texts(visitor.events()).length >= 3);
    // A last marker proves nothing else was coming before it.
    await api.message(sessionId, "end", { from: "user" });
    await waitFor("the marker", () => texts(visitor.events()).includes("end"));
    const events = visitor.events();
    expect(texts(events)).toEqual(["hello", "hi there", "thanks", "end"]);
    expect(events.every((e) => e.session_id === sessionId && e.website_seq === null)).toBe(true);
    // Operator-only events (session:created carries meta) are filtered, state changes are not.
    expect(events.map((e) => e.name)).not.toContain("session:created");
    expect(events.map((e) => e.name)).toContain("session:set_state");

    const forged = track(await Client.connect(server.url));
    forged.send({ type: "auth", token: credential.replace(/.$/, (c) => (c === "0" ? "1" : "0")) });
    expect(await forged.next((f) => f.type === "error")).toMatchObject({ reason: "unauthorized" });
    expect((await forged.closed).code).toBe(4401);
  });

  it("relays typing both ways, ephemeral and never echoed to the visitor", async () => {
    const sessionId = await api.conversation();
    const op = track(await Client.connect(server.url, { bearer: server.seed.token.token }));
    await op.subscribe(sessionId);
    const visitor = track(
      await Client.auth(
        server.url,
        mintVisitorCredential(server.hugo.secret, server.seed.websiteId, sessionId),
      ),
    );
    await visitor.subscribe(sessionId);

    visitor.send({ type: "compose", session_id: sessionId, state: "start", excerpt: "I need hel" });
    expect(await op.next((f) => f.type === "compose")).toEqual({
      type: "compose",
      session_id: sessionId,
      from: "user",
      state: "start",
      excerpt: "I need hel",
    });

    op.send({ type: "compose", session_id: sessionId, state: "start", excerpt: "draft reply" });
    expect(await visitor.next((f) => f.type === "compose")).toEqual({
      type: "compose",
      session_id: sessionId,
      from: "operator",
      state: "start",
    });

    await api.compose(sessionId, "operator", "stop");
    await waitFor("the REST stop", () => visitor.frames.filter((f) => f.type === "compose").length === 2);
    expect(
      visitor.frames
        .filter((f) => f.type === "compose")
        .every((f) => f.type === "compose" && f.from === "operator"),
    ).toBe(true);
    // Typing is never stored: a replay from 0 holds no compose event.
    const later = track(await Client.auth(server.url, server.seed.token.token));
    await later.subscribe(sessionId, 0);
    expect(later.events().map((e) => e.name)).toEqual(["session:created"]);
  });

  it("answers bad frames with stable reasons and keeps serving", async () => {
    const op = track(await Client.auth(server.url, server.seed.token.token));
    op.ws.send("not json");
    expect(await op.next((f) => f.type === "error")).toMatchObject({ reason: "invalid_frame" });
    op.send({ type: "subscribe", session_id: "nope" });
    expect(await op.next((f) => f.type === "error", 2)).toMatchObject({ reason: "invalid_frame" });
    op.send({ type: "launch" });
    expect(await op.next((f) => f.type === "error", 3)).toMatchObject({ reason: "invalid_frame" });
    op.send({ type: "subscribe", session_id: "session_00000000-0000-4000-8000-000000000000" });
    expect(await op.next((f) => f.type === "error", 4)).toMatchObject({
      reason: "session_not_found",
      session_id: "session_00000000-0000-4000-8000-000000000000",
    });
    op.send({ type: "ping" });
    expect(await op.next((f) => f.type === "pong")).toEqual({ type: "pong" });
    const sessionId = await api.conversation();
    await op.subscribe(sessionId);

    const anonymous = track(await Client.connect(server.url));
    anonymous.send({ type: "subscribe" });
    expect(await anonymous.next((f) => f.type === "error")).toMatchObject({ reason: "unauthorized" });
    expect((await anonymous.closed).code).toBe(4401);

    const rejected = new Client(server.url, {
      bearer: `hugo_${"0".repeat(8)}-0000-4000-8000-${"0".repeat(12)}_${"0".repeat(64)}`,
    });
    await expect(rejected.opened).rejects.toThrow(/401/);
  });

  it("caps subscriptions per socket", async () => {
    const op = track(await Client.auth(server.url, server.seed.token.token));
    const sessions = await Promise.all(Array.from({ length: 51 }, () => api.conversation()));
    for (const s of sessions.slice(0, 50)) op.send({ type: "subscribe", session_id: s });
    await waitFor("50 subscriptions", () => op.frames.filter((f) => f.type === "subscribed").length === 50);
    op.send({ type: "subscribe", session_id: sessions[50] });
    expect(await op.next((f) => f.type === "error")).toMatchObject({ reason: "too_many_subscriptions" });
    op.send({ type: "unsubscribe", session_id: sessions[0] });
    await op.next((f) => f.type === "unsubscribed");
    await op.subscribe(sessions[50]!);
  });

  it("closes a socket that does not authenticate in time", async () => {
    const silent = track(await Client.connect(server.url));
    expect((await silent.closed).code).toBe(4401);
    expect(silent.frames).toEqual([expect.objectContaining({ type: "error", reason: "unauthorized" })]);
  });

  it("closes an operator socket once its token is revoked", async () => {
    const quick = await startHugo(dialect, { WS_PING_INTERVAL_MS: "1000" });
    try {
      const headers = {
        authorization: `Bearer ${quick.seed.token.token}`,
        "content-type": "application/json",
      };
      const res = await fetch(`${quick.url}/api/tokens`, {
        method: "POST",
        headers,
        body: JSON.stringify({ name: "dashboard", scopes: ["conversations:read"] }),
      });
      const created = ((await res.json()) as { data: { id: string; token: string } }).data;
      const op = await Client.auth(quick.url, created.token);
      await op.subscribe(null);
      // Read-only: typing needs conversations:write, and is refused without closing the socket.
      op.send({ type: "compose", session_id: quick.seed.sessionId, state: "start" });
      expect(await op.next((f) => f.type === "error")).toMatchObject({ reason: "insufficient_scope" });
      const revoked = await fetch(`${quick.url}/api/tokens/${created.id}`, {
        method: "DELETE",
        headers: { authorization: headers.authorization },
      });
      expect(revoked.status).toBe(200);
      expect((await op.closed).code).toBe(4401);
      expect(op.frames.at(-1)).toMatchObject({ type: "error", reason: "token_revoked" });
    } finally {
      await quick.stop();
    }
  });

  it("terminates a peer that stops answering pings", async () => {
    const quick = await startHugo(dialect, { WS_PING_INTERVAL_MS: "200" });
    try {
      const dead = new Client(quick.url, { bearer: quick.seed.token.token, autoPong: false });
      await dead.opened;
      await dead.subscribe(quick.seed.sessionId);
      const closed = await dead.closed;
      expect(closed.code).toBe(1006);
      await waitFor("no subscriptions left", () => quick.hugo.hub.stats().subscriptions === 0);
    } finally {
      await quick.stop();
    }
  });

  it("disconnects a consumer that stops reading, with bounded server buffers", async () => {
    const limit = 64 * 1024;
    const slow = await startHugo(dialect, { WS_MAX_BUFFERED_BYTES: String(limit) });
    try {
      const client = await Client.connect(slow.url, { bearer: slow.seed.token.token });
      const sessionId = slow.seed.sessionId;
      await client.subscribe(sessionId);
      client.socket.pause();

      const text = "x".repeat(10_000);
      let peak = 0;
      let batches = 0;
      while (slow.hugo.hub.stats().subscriptions > 0) {
        if (++batches > 500) throw new Error("the slow consumer was never disconnected");
        await Promise.all(
          Array.from({ length: 20 }, () =>
            slow.hugo.services.conversations.sendMessage(slow.seed.websiteId, sessionId, {
              type: "text",
              from: "user",
              origin: "chat",
              content: text,
            }),
          ),
        );
        for (const ws of slow.hugo.app.websocketServer.clients) peak = Math.max(peak, ws.bufferedAmount);
      }
      // At most one frame over the limit: the server never buffers for a reader that is not reading.
      expect(peak).toBeLessThanOrEqual(limit + 16 * 1024);
      client.socket.resume();
      const closed = await client.closed;
      expect(closed.code).toBe(4429);
      expect(closed.reason).toMatch(/slow consumer/);
    } finally {
      await slow.stop();
    }
  });
});

describe("realtime across processes on postgres", () => {
  let a: RunningHugo;
  let b: Awaited<ReturnType<typeof createHugo>>;
  let bUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    a = await startHugo("postgres");
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-test-b-"));
    b = await createHugo(
      loadConfig({
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: dataDir,
        LOG_LEVEL: "silent",
        SEED_DEMO: "false",
        DATABASE_URL: a.hugo.config.databaseUrl,
      }),
    );
    bUrl = await b.listen();
  });
  afterAll(async () => {
    await b?.close();
    await a?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("delivers to a client of instance A what was posted through instance B", async () => {
    const viaB = rest({ ...a, url: bUrl });
    const sessionId = await viaB.conversation();
    const conversation = await Client.connect(a.url, { bearer: a.seed.token.token });
    const website = await Client.connect(a.url, { bearer: a.seed.token.token });
    try {
      await conversation.subscribe(sessionId);
      const upTo = await website.subscribe(null);
      for (let i = 0; i < 5; i++) await viaB.message(sessionId, `from b ${i}`);
      await waitFor("the messages on A", () => texts(conversation.events()).length === 5);
      expect(texts(conversation.events())).toEqual([
        "from b 0",
        "from b 1",
        "from b 2",
        "from b 3",
        "from b 4",
      ]);
      await waitFor("the website stream on A", () => texts(website.events()).length === 5);
      expect(website.events().map((e) => e.website_seq)).toEqual([1, 2, 3, 4, 5].map((i) => upTo + i));

      await viaB.compose(sessionId, "user", "start", "typing on B");
      expect(await conversation.next((f) => f.type === "compose")).toMatchObject({
        from: "user",
        excerpt: "typing on B",
      });
      // Compose frames reach each socket once, even with two subscriptions covering the conversation.
      await website.next((f) => f.type === "compose");
    } finally {
      conversation.close();
      website.close();
    }
  });

  it("recovers when its LISTEN connection is killed, missing nothing", async () => {
    const viaB = rest({ ...a, url: bUrl });
    const sessionId = await viaB.conversation();
    const client = await Client.connect(a.url, { bearer: a.seed.token.token });
    try {
      await client.subscribe(sessionId);
      await viaB.message(sessionId, "before");
      await waitFor("the first message", () => texts(client.events()).length === 1);
      // Both instances listen on the schema's channel; killing every listener forces reconnects,
      // and whatever was notified meanwhile is recovered by the resync that follows.
      const pool = a.hugo.database.pool!;
      const killed = await pool.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where query like 'listen %' and query like '%' || current_schema() || '%'",
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      await viaB.message(sessionId, "during");
      await viaB.message(sessionId, "after");
      await waitFor("the later messages", () => texts(client.events()).length === 3);
      expect(texts(client.events())).toEqual(["before", "during", "after"]);
    } finally {
      client.close();
    }
  });
});
