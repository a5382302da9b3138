import { Crisp } from "crisp-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";

/** The official `crisp-api` client, pointed at Hugo with setRestHost(), drives conversations unchanged. */
// crisp-api's typings mark every response field optional; these tests read responses untyped and assert on them.
// biome-ignore lint/suspicious/noExplicitAny: see above
type LooseClient = { website: { [K in keyof Crisp["website"]]: (...args: any[]) => Promise<any> } };

describe.each(["sqlite", "postgres"] as const)("crisp-api client against Hugo on %s", (dialect) => {
  let server: RunningHugo;
  let client: LooseClient;
  let websiteId: string;

  beforeAll(async () => {
    server = await startHugo(dialect);
    const crisp = new Crisp();
    crisp.setRestHost(server.url);
    crisp.authenticateTier("plugin", server.seed.token.identifier, server.seed.token.key);
    client = crisp as unknown as LooseClient;
    websiteId = server.seed.websiteId;
  });
  afterAll(() => server?.stop());

  it("creates a conversation and reads it back", async () => {
    const { session_id } = await client.website.createNewConversation(websiteId);
    expect(session_id).toMatch(/^session_[0-9a-f-]{36}$/);
    const conversation = await client.website.getConversation(websiteId, session_id);
    expect(conversation).toMatchObject({
      session_id,
      website_id: websiteId,
      state: "pending",
      inbox_id: null,
    });
  });

  it("sends messages of every type and lists them in order with sequence numbers", async () => {
    const { session_id } = await client.website.createNewConversation(websiteId);
    const sent = [
      { type: "text", from: "user", origin: "chat", content: "Hello, I need help" },
      { type: "text", from: "operator", origin: "chat", content: "Sure!" },
      { type: "note", from: "operator", origin: "chat", content: "VIP customer" },
      {
        type: "file",
        from: "user",
        origin: "chat",
        content: { name: "a.png", url: "https://example.com/a.png", type: "image/png" },
      },
      {
        type: "animation",
        from: "operator",
        origin: "chat",
        content: { url: "https://example.com/a.gif", type: "image/gif" },
      },
      {
        type: "audio",
        from: "user",
        origin: "chat",
        content: { url: "https://example.com/a.ogg", type: "audio/ogg", duration: 3 },
      },
      {
        type: "picker",
        from: "operator",
        origin: "urn:hugo:workflow",
        content: { id: "p1", text: "Pick one", choices: [{ value: "a", label: "A", selected: false }] },
      },
      {
        type: "field",
        from: "operator",
        origin: "chat",
        content: { id: "f1", text: "Your email?", explain: "Email" },
      },
      {
        type: "carousel",
        from: "operator",
        origin: "chat",
        content: {
          text: "Plans",
          targets: [
            { title: "Pro", description: "Best", actions: [{ label: "Buy", url: "https://example.com" }] },
          ],
        },
      },
      { type: "event", from: "operator", origin: "chat", content: { namespace: "state:resolved" } },
    ];
    const fingerprints: number[] = [];
    for (const m of sent) {
      const { fingerprint } = await client.website.sendMessageInConversation(websiteId, session_id, m);
      expect(Number.isInteger(fingerprint)).toBe(true);
      fingerprints.push(fingerprint);
    }
    const messages = await client.website.getMessagesInConversation(websiteId, session_id);
    expect(messages.map((m: { type: string }) => m.type)).toEqual(sent.map((m) => m.type));
    expect(messages.map((m: { fingerprint: number }) => m.fingerprint)).toEqual(fingerprints);
    const seqs = messages.map((m: { seq: number }) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(messages[0]).toMatchObject({
      from: "user",
      automated: false,
      read: false,
      content: "Hello, I need help",
    });
    const one = await client.website.getMessageInConversation(websiteId, session_id, fingerprints[3]!);
    expect(one.content).toEqual(sent[3]!.content);
    const conversation = await client.website.getConversation(websiteId, session_id);
    // The operator's reply moved the pending conversation to unresolved; the note did not count as unread.
    expect(conversation.state).toBe("unresolved");
    expect(conversation.unread).toEqual({ operator: 3, visitor: 6 });
  });

  it("reads and updates meta, merging data and replacing segments", async () => {
    const { session_id } = await client.website.createNewConversation(websiteId);
    await client.website.updateConversationMetas(websiteId, session_id, {
      nickname: "Ada",
      email: "ada@example.com",
      segments: ["vip", "vip", "beta"],
      data: { plan: "pro", seats: 3 },
    });
    // Each field changed is its own Crisp-named event, in order, in the conversation's log.
    const events = await server.hugo.stores.conversations.readEvents(websiteId, {
      sessionId: session_id,
      after: 1,
      limit: 10,
    });
    expect(events.map((e) => [e.name, e.data])).toEqual([
      ["session:set_nickname", { nickname: "Ada" }],
      ["session:set_email", { email: "ada@example.com" }],
      ["session:set_segments", { segments: ["vip", "beta"] }],
      ["session:set_data", { data: { plan: "pro", seats: 3 } }],
    ]);
    await client.website.updateConversationMetas(websiteId, session_id, { data: { seats: 5, trial: true } });
    const meta = await client.website.getConversationMetas(websiteId, session_id);
    expect(meta).toMatchObject({
      nickname: "Ada",
      email: "ada@example.com",
      segments: ["vip", "beta"],
      data: { plan: "pro", seats: 5, trial: true },
    });
  });

  it("changes state, routing, inbox, compose and read markers", async () => {
    const { session_id } = await client.website.createNewConversation(websiteId);
    await client.website.changeConversationState(websiteId, session_id, "resolved");
    expect(await client.website.getConversationState(websiteId, session_id)).toEqual({ state: "resolved" });

    const [owner] = await listOperators(server);
    await client.website.assignConversationRouting(websiteId, session_id, {
      assigned: { user_id: owner!.id },
    });
    expect(await client.website.getConversationRoutingAssign(websiteId, session_id)).toEqual({
      assigned: { user_id: owner!.id },
    });

    await client.website.updateConversationInbox(websiteId, session_id, "automated");
    expect((await client.website.getConversation(websiteId, session_id)).inbox_id).toBe("automated");
    await client.website.updateConversationInbox(websiteId, session_id, null as unknown as string);
    expect((await client.website.getConversation(websiteId, session_id)).inbox_id).toBeNull();

    await client.website.composeMessageInConversation(websiteId, session_id, {
      type: "start",
      from: "operator",
      excerpt: "Typing…",
    });

    await client.website.sendMessageInConversation(websiteId, session_id, {
      type: "text",
      from: "user",
      origin: "chat",
      content: "back again",
    });
    // A visitor writing in a resolved conversation reopens it.
    expect((await client.website.getConversation(websiteId, session_id)).state).toBe("unresolved");
    expect((await client.website.getConversation(websiteId, session_id)).unread.operator).toBe(1);
    await client.website.markMessagesReadInConversation(websiteId, session_id, {
      from: "operator",
      origin: "chat",
    });
    expect((await client.website.getConversation(websiteId, session_id)).unread.operator).toBe(0);
    const [message] = await client.website.getMessagesInConversation(websiteId, session_id);
    expect(message.read).toBe(true);
  });

  it("lists conversations by page with filters and search", async () => {
    const { session_id } = await client.website.createNewConversation(websiteId);
    await client.website.updateConversationMetas(websiteId, session_id, {
      nickname: "Zebra O'Neil_%",
      segments: ["findme"],
    });
    await client.website.changeConversationState(websiteId, session_id, "resolved");
    const page = await client.website.listConversations(websiteId, 1);
    expect(page.length).toBeGreaterThan(1);
    expect(page[0].session_id).toBe(session_id);
    const resolved = await client.website.listConversations(websiteId, 1, { filter_resolved: "1" } as never);
    expect(resolved.every((c: { state: string }) => c.state === "resolved")).toBe(true);
    const found = await client.website.listConversations(websiteId, 1, {
      search_query: "zebra o'neil_%",
    } as never);
    expect(found.map((c: { session_id: string }) => c.session_id)).toEqual([session_id]);
    const bySegment = await client.website.listConversations(websiteId, 1, {
      search_query: "findme",
      search_type: "segment",
    } as never);
    expect(bySegment.map((c: { session_id: string }) => c.session_id)).toEqual([session_id]);
    expect(await client.website.listConversations(websiteId, 500)).toEqual([]);
  });

  it("removes a conversation", async () => {
    const { session_id } = await client.website.createNewConversation(websiteId);
    await client.website.removeConversation(websiteId, session_id);
    await expect(client.website.getConversation(websiteId, session_id)).rejects.toMatchObject({
      code: 404,
      message: "session_not_found",
    });
  });

  it("surfaces Hugo's stable reasons as crisp-api errors", async () => {
    const missing = "session_00000000-0000-4000-8000-000000000000";
    await expect(client.website.getConversation(websiteId, missing)).rejects.toMatchObject({
      code: 404,
      message: "session_not_found",
    });
    await expect(
      client.website.sendMessageInConversation(websiteId, missing, {
        type: "text",
        from: "user",
        origin: "chat",
        content: "x",
      }),
    ).rejects.toMatchObject({ code: 404, message: "session_not_found" });
    const other = "11111111-1111-4111-8111-111111111111";
    await expect(client.website.createNewConversation(other)).rejects.toMatchObject({
      code: 404,
      message: "website_not_found",
    });
    const stranger = new Crisp();
    stranger.setRestHost(server.url);
    stranger.authenticateTier("plugin", server.seed.token.identifier, "0".repeat(64));
    await expect(
      (stranger as unknown as LooseClient).website.createNewConversation(websiteId),
    ).rejects.toMatchObject({
      code: 401,
      message: "unauthorized",
    });
  });
});

async function listOperators(server: RunningHugo): Promise<{ id: string }[]> {
  const res = await fetch(`${server.url}/api/operators`, {
    headers: { authorization: `Bearer ${server.seed.token.token}` },
  });
  return (await res.json()).data;
}
