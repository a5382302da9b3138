import { randomUUID } from "node:crypto";
import type { Conversation } from "@hugo/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS, type TestDatabase } from "../../test/databases.ts";
import { EMPTY_META } from "../core/conversations.ts";
import type { NewMessage, Stores, TokenRecord } from "../core/ports.ts";
import { createStores } from "./stores.ts";

/** One contract per store port, run against SQLite and PostgreSQL. */
describe.each(DIALECTS)("store contracts on $dialect", ({ fresh }) => {
  let tdb: TestDatabase;
  let stores: Stores;
  let websiteId: string;
  let otherWebsiteId: string;

  beforeAll(async () => {
    tdb = await fresh();
    stores = createStores(tdb.database.db, tdb.database.sqlite);
    websiteId = randomUUID();
    otherWebsiteId = randomUUID();
    await stores.websites.create({ id: websiteId, name: "One", domain: "one.test", created_at: 1 });
    await stores.websites.create({ id: otherWebsiteId, name: "Two", domain: "", created_at: 2 });
  });
  afterAll(() => tdb?.drop());

  const newConversation = (site: string, at = Date.now()): Conversation => ({
    session_id: `session_${randomUUID()}`,
    website_id: site,
    inbox_id: null,
    state: "pending",
    is_blocked: false,
    assigned: null,
    meta: { ...EMPTY_META },
    created_at: at,
    updated_at: at,
    last_message: "",
    unread: { operator: 0, visitor: 0 },
    last_seq: 1,
  });
  const text = (
    content: string,
    from: "user" | "operator" = "user",
    fingerprint = Math.floor(Math.random() * 1e12) + 1,
  ): NewMessage => ({
    type: "text",
    from,
    origin: "chat",
    content,
    fingerprint,
    timestamp: Date.now(),
    user: {},
    automated: false,
    stealth: false,
    excerpt: content,
  });

  describe("WebsiteStore", () => {
    it("creates, finds, lists and updates websites", async () => {
      expect(await stores.websites.find(websiteId)).toEqual({
        id: websiteId,
        name: "One",
        domain: "one.test",
        created_at: 1,
      });
      expect((await stores.websites.list()).map((w) => w.id)).toEqual([websiteId, otherWebsiteId]);
      expect(await stores.websites.update(otherWebsiteId, { name: "Deux" })).toMatchObject({
        name: "Deux",
        domain: "",
      });
      expect(await stores.websites.update(randomUUID(), { name: "x" })).toBeUndefined();
      expect(await stores.websites.find(randomUUID())).toBeUndefined();
    });
  });

  describe("KvStore", () => {
    it("sets a key only once, even when raced", async () => {
      const results = await Promise.all(["a", "b", "c"].map((v) => stores.kv.setIfAbsent("race", v)));
      expect(new Set(results).size).toBe(1);
      expect(await stores.kv.get("race")).toBe(results[0]);
      expect(await stores.kv.get("missing")).toBeUndefined();
    });
  });

  describe("OperatorStore", () => {
    it("keeps operators, memberships and roles per website", async () => {
      const id = randomUUID();
      await stores.operators.create({
        id,
        email: `op-${id}@x.test`,
        name: "Op",
        password_hash: "h",
        created_at: 5,
        last_login_at: null,
      });
      await stores.operators.addMembership({ website_id: websiteId, operator_id: id, role: "owner" }, 5);
      expect(await stores.operators.findByEmail(`op-${id}@x.test`)).toMatchObject({ id, name: "Op" });
      expect(await stores.operators.findMembership(websiteId, id)).toEqual({
        website_id: websiteId,
        operator_id: id,
        role: "owner",
      });
      expect(await stores.operators.findMembership(otherWebsiteId, id)).toBeUndefined();
      expect(await stores.operators.countOwners(websiteId)).toBe(1);
      expect(await stores.operators.setRole(websiteId, id, "agent")).toBe(true);
      expect(await stores.operators.countOwners(websiteId)).toBe(0);
      expect((await stores.operators.listMembers(websiteId)).map((m) => [m.id, m.role])).toEqual([
        [id, "agent"],
      ]);
      expect(await stores.operators.listMembers(otherWebsiteId)).toEqual([]);
      await stores.operators.update(id, { last_login_at: 99, name: "Renamed" });
      expect(await stores.operators.findById(id)).toMatchObject({ last_login_at: 99, name: "Renamed" });
      expect(await stores.operators.removeMembership(otherWebsiteId, id)).toBe(false);
      expect(await stores.operators.removeMembership(websiteId, id)).toBe(true);
    });

    it("refuses a second operator with the same email", async () => {
      const email = `dup-${randomUUID()}@x.test`;
      await stores.operators.create({
        id: randomUUID(),
        email,
        name: "A",
        password_hash: "h",
        created_at: 1,
        last_login_at: null,
      });
      await expect(
        stores.operators.create({
          id: randomUUID(),
          email,
          name: "B",
          password_hash: "h",
          created_at: 1,
          last_login_at: null,
        }),
      ).rejects.toThrow();
    });
  });

  describe("TokenStore", () => {
    const token = (site: string): TokenRecord => ({
      id: randomUUID(),
      website_id: site,
      name: "t",
      scopes: ["conversations:read"],
      secret_hash: "abc",
      secret_sealed: "v1.iv.tag.data",
      hint: "abcdef",
      created_at: Date.now(),
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
    });

    it("stores tokens per website, revokes once, and records last use", async () => {
      const t = token(websiteId);
      await stores.tokens.create(t);
      expect(await stores.tokens.find(t.id)).toEqual(t);
      expect((await stores.tokens.list(websiteId)).map((x) => x.id)).toContain(t.id);
      expect((await stores.tokens.list(otherWebsiteId)).map((x) => x.id)).not.toContain(t.id);
      expect(await stores.tokens.revoke(otherWebsiteId, t.id, 10)).toBe(false);
      expect(await stores.tokens.revoke(websiteId, t.id, 10)).toBe(true);
      expect(await stores.tokens.revoke(websiteId, t.id, 11)).toBe(false);
      await stores.tokens.touch(t.id, 20);
      expect(await stores.tokens.find(t.id)).toMatchObject({ revoked_at: 10, last_used_at: 20 });
    });
  });

  describe("ConversationStore", () => {
    it("creates a conversation with its first event and scopes reads to the website", async () => {
      const c = newConversation(websiteId);
      const event = await stores.conversations.create(c);
      expect(event).toMatchObject({ session_id: c.session_id, seq: 1, name: "session:created" });
      expect(await stores.conversations.find(websiteId, c.session_id)).toEqual(c);
      expect(await stores.conversations.find(otherWebsiteId, c.session_id)).toBeUndefined();
      expect(await stores.conversations.lastSeq(websiteId, c.session_id)).toBe(1);
    });

    it("appends messages with increasing per-conversation and per-website sequence numbers", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      const before = (await stores.conversations.lastSeq(websiteId))!;
      const a = await stores.conversations.appendMessage(websiteId, c.session_id, text("one"));
      const b = await stores.conversations.appendMessage(websiteId, c.session_id, text("two", "operator"));
      expect(a?.message.seq).toBe(2);
      expect(b?.message.seq).toBe(3);
      expect(a?.events.map((e) => e.website_seq)).toEqual([before + 1]);
      expect(b?.events.map((e) => e.website_seq)).toEqual([before + 2]);
      expect(
        await stores.conversations.appendMessage(otherWebsiteId, c.session_id, text("x")),
      ).toBeUndefined();
      const found = await stores.conversations.find(websiteId, c.session_id);
      expect(found).toMatchObject({ last_message: "two", unread: { operator: 1, visitor: 1 }, last_seq: 3 });
      const events = await stores.conversations.readEvents(websiteId, {
        sessionId: c.session_id,
        after: 1,
        limit: 10,
      });
      expect(events.map((e) => [e.seq, e.name])).toEqual([
        [2, "message:send"],
        [3, "message:received"],
      ]);
      expect((events[0]!.data as { content: string }).content).toBe("one");
      expect(
        await stores.conversations.readEvents(otherWebsiteId, {
          sessionId: c.session_id,
          after: 0,
          limit: 10,
        }),
      ).toEqual([]);
    });

    it("hands out gap-free sequence numbers under concurrent writers", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      const start = (await stores.conversations.lastSeq(websiteId))!;
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          stores.conversations.appendMessage(websiteId, c.session_id, text(`m${i}`)),
        ),
      );
      const events = await stores.conversations.readEvents(websiteId, { after: start, limit: 100 });
      expect(events.map((e) => e.website_seq)).toEqual(Array.from({ length: 40 }, (_, i) => start + i + 1));
      const mine = await stores.conversations.readEvents(websiteId, {
        sessionId: c.session_id,
        after: 0,
        limit: 100,
      });
      expect(mine.map((e) => e.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    });

    it("refuses a duplicate fingerprint in one conversation and writes nothing", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      await stores.conversations.appendMessage(websiteId, c.session_id, text("one", "user", 42));
      await expect(
        stores.conversations.appendMessage(websiteId, c.session_id, text("again", "user", 42)),
      ).rejects.toMatchObject({ reason: "fingerprint_conflict" });
      expect(await stores.conversations.find(websiteId, c.session_id)).toMatchObject({
        last_seq: 2,
        last_message: "one",
      });
    });

    it("fails only the duplicate when concurrent appends share a batch", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      const results = await Promise.allSettled(
        [1, 2, 3, 2, 4].map((fp) =>
          stores.conversations.appendMessage(websiteId, c.session_id, text(`fp${fp}`, "user", fp)),
        ),
      );
      // Exactly one of the two fingerprint-2 writes loses (which one depends on the dialect's scheduling).
      expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
      const rejected = results.findIndex((r) => r.status === "rejected");
      expect([1, 3]).toContain(rejected);
      expect((results[rejected] as PromiseRejectedResult).reason).toMatchObject({
        reason: "fingerprint_conflict",
      });
      const messages = await stores.conversations.listMessages(websiteId, c.session_id, { limit: 10 });
      expect(messages.map((m) => m.fingerprint).sort()).toEqual([1, 2, 3, 4]);
      expect(messages.map((m) => m.seq)).toEqual([2, 3, 4, 5]);
    });

    it("pages messages newest-first windows in chronological order", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      const t0 = Date.now() + 1000;
      for (let i = 0; i < 5; i++) {
        await stores.conversations.appendMessage(
          websiteId,
          c.session_id,
          { ...text(`m${i}`), timestamp: t0 + i },
          {},
        );
      }
      const last2 = await stores.conversations.listMessages(websiteId, c.session_id, { limit: 2 });
      expect(last2.map((m) => m.content)).toEqual(["m3", "m4"]);
      const before = await stores.conversations.listMessages(websiteId, c.session_id, {
        before: t0 + 3,
        limit: 2,
      });
      expect(before.map((m) => m.content)).toEqual(["m1", "m2"]);
      const after = await stores.conversations.listMessages(websiteId, c.session_id, {
        after: t0 + 1,
        limit: 2,
      });
      expect(after.map((m) => m.content)).toEqual(["m2", "m3"]);
      expect(
        await stores.conversations.findMessage(otherWebsiteId, c.session_id, last2[0]!.fingerprint),
      ).toBeUndefined();
    });

    it("gives messages of one conversation strictly increasing timestamps, so timestamp paging loses none", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      const now = Date.now();
      const stamps: number[] = [];
      for (let i = 0; i < 7; i++) {
        // The fourth (a human operator's reply) also takes the conversation: the state-changing path.
        const transition = i === 3 ? ({ from: "pending", to: "unresolved" } as const) : undefined;
        const r = await stores.conversations.appendMessage(
          websiteId,
          c.session_id,
          { ...text(`same ms ${i}`), timestamp: now },
          { transition },
        );
        expect(r!.events).toHaveLength(i === 3 ? 2 : 1);
        stamps.push(r!.message.timestamp);
        expect(r!.events[0]!.created_at).toBe(r!.message.timestamp);
      }
      expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
      expect(new Set(stamps).size).toBe(stamps.length);
      // Crisp-style paging (the oldest timestamp of a page bounds the next) sees every message once.
      const seen: string[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await stores.conversations.listMessages(websiteId, c.session_id, { before, limit: 3 });
        seen.unshift(...page.map((m) => String(m.content)));
        if (page.length < 3) break;
        before = page[0]!.timestamp;
      }
      expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `same ms ${i}`));
    });

    it("appends messages and events in one write exactly as one by one: numbering, timestamps, counters, events", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      const first = await stores.conversations.appendMessage(websiteId, c.session_id, text("hi"));
      const now = first!.message.timestamp;
      // Same millisecond, and one stamped in the past: still strictly after the previous message.
      const batch = [
        { ...text("one", "operator"), timestamp: now - 50 },
        { ...text("two", "operator"), timestamp: now },
        { ...text("a note", "operator"), type: "note" as const, excerpt: "a note", timestamp: now },
      ];
      const started = { event: "workflow:run:started", data: { run_id: "run_1" }, at: now };
      const ended = { event: "workflow:run:completed", data: { run_id: "run_1" }, at: now };
      const appended = await stores.conversations.appendLog(websiteId, c.session_id, [
        started,
        { message: batch[0]! },
        { message: batch[1]! },
        { message: batch[2]! },
        ended,
      ]);
      expect(appended!.messages.map((m) => [m.content, m.from, m.fingerprint])).toEqual(
        batch.map((m) => [m.content, "operator", m.fingerprint]),
      );
      expect(appended!.events.map((e) => [e.seq, e.name])).toEqual([
        [3, "workflow:run:started"],
        [4, "message:received"],
        [5, "message:received"],
        [6, "message:received"],
        [7, "workflow:run:completed"],
      ]);
      expect(appended!.events[0]!.data).toEqual({ run_id: "run_1" });
      expect(appended!.events.slice(1, 4).map((e) => e.data)).toEqual(appended!.messages);
      const sites = appended!.events.map((e) => e.website_seq);
      expect(sites).toEqual(sites.map((_, i) => sites[0]! + i));
      const stamps = [now, ...appended!.events.map((e) => e.created_at)];
      expect(stamps.every((t, i) => i === 0 || t > stamps[i - 1]!)).toBe(true);
      expect(appended!.messages.map((m) => m.timestamp)).toEqual(stamps.slice(2, 5));
      expect(await stores.conversations.find(websiteId, c.session_id)).toMatchObject({
        last_seq: 7,
        last_message: "two",
        updated_at: stamps[5],
        unread: { visitor: 2, operator: 1 },
      });
      // Readers see what one-by-one appends would have left: the messages in order, with their events.
      const listed = await stores.conversations.listMessages(websiteId, c.session_id, { limit: 10 });
      expect(listed.map((m) => m.content)).toEqual(["hi", "one", "two", "a note"]);
      expect(listed.slice(1)).toEqual(appended!.messages);
      const log = await stores.conversations.readEvents(websiteId, { after: sites[0]! - 1, limit: 10 });
      expect(log).toEqual(appended!.events);
      expect(log.map((e) => [e.name, (e.data as { content?: unknown }).content])).toEqual([
        ["workflow:run:started", undefined],
        ["message:received", "one"],
        ["message:received", "two"],
        ["message:received", "a note"],
        ["workflow:run:completed", undefined],
      ]);
      // A message after the batch goes on from there.
      const next = await stores.conversations.appendMessage(websiteId, c.session_id, text("later"));
      expect(next!.message.timestamp).toBeGreaterThan(stamps[5]!);
      expect(next!.events[0]!.seq).toBe(8);
      // A missing conversation writes nothing; a duplicate fingerprint writes none of the batch.
      const missing = "session_00000000-0000-4000-8000-000000000000";
      expect(
        await stores.conversations.appendLog(websiteId, missing, [{ message: text("x") }]),
      ).toBeUndefined();
      await expect(
        stores.transaction((tx) =>
          tx.conversations.appendLog(websiteId, c.session_id, [
            started,
            { message: text("new") },
            { message: text("dup", "user", batch[0]!.fingerprint) },
          ]),
        ),
      ).rejects.toMatchObject({ reason: "fingerprint_conflict" });
      expect(await stores.conversations.find(websiteId, c.session_id)).toMatchObject({ last_seq: 8 });
      const after = await stores.conversations.readEvents(websiteId, { after: sites[4]!, limit: 10 });
      expect(after.map((e) => e.name)).toEqual(["message:send"]);
    });

    it("changes the state in the message's transaction when asked, with its own event", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      const takeOver = { transition: { from: "pending", to: "unresolved" } } as const;
      const appended = await stores.conversations.appendMessage(
        websiteId,
        c.session_id,
        text("reply", "operator"),
        takeOver,
      );
      expect(appended?.events.map((e) => [e.seq, e.name, e.data])).toEqual([
        [2, "message:received", appended?.message],
        [3, "session:set_state", { state: "unresolved" }],
      ]);
      expect(appended!.events[1]!.website_seq).toBe(appended!.events[0]!.website_seq + 1);
      expect(await stores.conversations.find(websiteId, c.session_id)).toMatchObject({
        state: "unresolved",
        last_seq: 3,
        unread: { visitor: 1 },
      });
      const same = await stores.conversations.appendMessage(
        websiteId,
        c.session_id,
        text("again", "operator"),
        takeOver,
      );
      expect(same?.events).toHaveLength(1);
      expect(same?.events[0]?.seq).toBe(4);
      expect(same?.message.timestamp).toBeGreaterThan(appended!.message.timestamp);
      expect(
        await stores.conversations.appendMessage(
          websiteId,
          "session_00000000-0000-4000-8000-000000000000",
          text("x"),
          takeOver,
        ),
      ).toBeUndefined();
    });

    it("applies changes with an event, and marks messages read", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      await stores.conversations.appendMessage(websiteId, c.session_id, text("hi"));
      await stores.conversations.appendMessage(websiteId, c.session_id, text("hello"));
      const changed = await stores.conversations.change(
        websiteId,
        c.session_id,
        {
          state: "resolved",
          meta: { email: "a@b.test", segments: ["x"], data: { k: 1 } },
          inbox_id: "automated",
        },
        { name: "test:change", data: { why: "test" } },
      );
      expect(changed?.conversation).toMatchObject({
        state: "resolved",
        inbox_id: "automated",
        meta: { email: "a@b.test", segments: ["x"], data: { k: 1 } },
        last_seq: 4,
      });
      expect(changed?.event).toMatchObject({ seq: 4, name: "test:change", data: { why: "test" } });
      expect(
        await stores.conversations.change(
          otherWebsiteId,
          c.session_id,
          { state: "pending" },
          { name: "x", data: {} },
        ),
      ).toBeUndefined();
      const read = await stores.conversations.markRead(websiteId, c.session_id, "operator", undefined);
      expect(read?.fingerprints).toHaveLength(2);
      expect((await stores.conversations.find(websiteId, c.session_id))?.unread.operator).toBe(0);
      expect(
        await stores.conversations.markRead(otherWebsiteId, c.session_id, "operator", undefined),
      ).toBeUndefined();
    });

    it("lists with filters, search and pages, website by website", async () => {
      const site = randomUUID();
      await stores.websites.create({ id: site, name: "List", domain: "", created_at: 1 });
      const made: Conversation[] = [];
      for (let i = 0; i < 5; i++) {
        const c = newConversation(site, 1000 + i);
        await stores.conversations.create(c);
        made.push(c);
      }
      await stores.conversations.change(
        site,
        made[1]!.session_id,
        { state: "resolved", meta: { nickname: "Grace 100%" } },
        { name: "x", data: {} },
      );
      const base = { per_page: 2 } as const;
      const page1 = await stores.conversations.list(site, { ...base, order_date_created: "1" }, 1);
      const page3 = await stores.conversations.list(site, { ...base, order_date_created: "1" }, 3);
      expect(page1.map((c) => c.session_id)).toEqual([made[4]!.session_id, made[3]!.session_id]);
      expect(page3.map((c) => c.session_id)).toEqual([made[0]!.session_id]);
      expect(
        (await stores.conversations.list(site, { per_page: 20, filter_resolved: "1" }, 1)).map(
          (c) => c.session_id,
        ),
      ).toEqual([made[1]!.session_id]);
      expect(
        await stores.conversations.list(site, { per_page: 20, filter_not_resolved: "1" }, 1),
      ).toHaveLength(4);
      expect(
        (await stores.conversations.list(site, { per_page: 20, search_query: "grace 100%" }, 1)).map(
          (c) => c.session_id,
        ),
      ).toEqual([made[1]!.session_id]);
      // LIKE wildcards in the query are literal characters.
      expect(await stores.conversations.list(site, { per_page: 20, search_query: "%" }, 1)).toHaveLength(1);
      expect(
        await stores.conversations.list(otherWebsiteId, { per_page: 20, search_query: "grace" }, 1),
      ).toEqual([]);
    });

    it("removes a conversation and its messages, leaving a removal event", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      await stores.conversations.appendMessage(websiteId, c.session_id, text("bye"));
      expect(await stores.conversations.remove(otherWebsiteId, c.session_id)).toBeUndefined();
      const logStart = (await stores.conversations.lastSeq(websiteId))! - 2;
      const before = await stores.conversations.readEvents(websiteId, { after: logStart, limit: 10 });
      expect(before.map((e) => e.name)).toEqual(["session:created", "message:send"]);
      expect((before[1]!.data as { content: string }).content).toBe("bye");
      const event = await stores.conversations.remove(websiteId, c.session_id);
      expect(event).toMatchObject({ name: "session:removed", session_id: c.session_id, seq: 3 });
      // The website log keeps its sequence without holes, but no longer holds the message.
      const after = await stores.conversations.readEvents(websiteId, { after: logStart, limit: 10 });
      expect(after.map((e) => [e.website_seq, e.name])).toEqual([
        [logStart + 1, "session:created"],
        [logStart + 2, "message:removed"],
        [logStart + 3, "session:removed"],
      ]);
      expect(JSON.stringify(after)).not.toContain("bye");
      expect(await stores.conversations.find(websiteId, c.session_id)).toBeUndefined();
      expect(await stores.conversations.listMessages(websiteId, c.session_id, { limit: 10 })).toEqual([]);
    });

    it("rolls back every write of a failed transaction", async () => {
      const c = newConversation(websiteId);
      await expect(
        stores.transaction(async (tx) => {
          await tx.conversations.create(c);
          await tx.conversations.appendMessage(websiteId, c.session_id, text("lost"));
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(await stores.conversations.find(websiteId, c.session_id)).toBeUndefined();
    });
  });

  describe("IdempotencyStore", () => {
    it("lets exactly one concurrent claim win, then replays the stored answer", async () => {
      const key = randomUUID();
      const now = Date.now();
      const claims = await Promise.all(
        Array.from({ length: 8 }, () => stores.idempotency.claim("s", key, "h1", now, now - 60_000)),
      );
      expect(claims.filter((c) => c.state === "claimed")).toHaveLength(1);
      expect(claims.filter((c) => c.state === "pending")).toHaveLength(7);
      await stores.idempotency.complete("s", key, 201, '{"ok":true}');
      expect(await stores.idempotency.claim("s", key, "h1", now, now - 60_000)).toEqual({
        state: "done",
        requestHash: "h1",
        status: 201,
        response: '{"ok":true}',
      });
      // Keys are per scope.
      expect(await stores.idempotency.claim("other", key, "h1", now, now - 60_000)).toEqual({
        state: "claimed",
      });
    });

    it("lets a stale claim be taken over once, and releases and purges", async () => {
      const key = randomUUID();
      await stores.idempotency.claim("s", key, "h", 1_000, 0);
      const takeovers = await Promise.all([
        stores.idempotency.claim("s", key, "h", 100_000, 50_000),
        stores.idempotency.claim("s", key, "h", 100_000, 50_000),
      ]);
      expect(takeovers.filter((c) => c.state === "claimed")).toHaveLength(1);
      await stores.idempotency.release("s", key);
      expect(await stores.idempotency.claim("s", key, "h2", 200_000, 0)).toEqual({ state: "claimed" });
      expect(await stores.idempotency.purge(300_000)).toBeGreaterThanOrEqual(1);
      expect(await stores.idempotency.claim("s", key, "h3", 400_000, 0)).toEqual({ state: "claimed" });
    });
  });
});
