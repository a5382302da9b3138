import type { Message } from "@hugo/protocol";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentSite, agentSite } from "../../test/agent-site.ts";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";

type Json = Record<string, unknown>;

/** POST /api/agent/trigger/ end to end: real HTTP, the real job queue, a real WebSocket subscriber. */
describe.each(["sqlite", "postgres"] as const)("the AI agent trigger on %s", (dialect) => {
  let server: RunningHugo;
  let t: AgentSite;

  beforeAll(async () => {
    server = await startHugo(dialect);
    t = await agentSite(server, "Agent tests");
    await t.api("POST", "/api/knowledge/sources", {
      kind: "helpdesk",
      title: "Refunds",
      format: "markdown",
      url: "https://help.acme.test/refunds",
      body: "# Refunds\n\nWe refund any order within 30 days of delivery. The money reaches your card within five business days.\n\n# Shipping\n\nParcels ship within two business days from our Lyon warehouse.",
    });
  });
  afterAll(async () => {
    t?.ws.ws.close();
    await server?.stop();
  });

  it("answers the visitor from the knowledge base, live, and records the turn with its trace", async () => {
    const sessionId = await t.conversation();
    await t.ws.subscribe(sessionId, 0);
    await t.visitorSays(sessionId, "Hi! How long does a refund take to reach my card?");
    const { inbox_id, state } = (await t.api("GET", `${t.site()}/conversation/${sessionId}`)).body.data;
    const before = { inbox_id, state };
    const from = t.ws.frames.length;
    const res = await t.api("POST", "/api/agent/trigger/", {
      session_id: sessionId,
      instruction: "VIP customer, premium support",
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ error: false, reason: "dispatched", data: { status: "queued" } });
    const turnId = res.body.data.turn_id as string;
    expect(turnId).toMatch(/^turn_[0-9a-f-]{36}$/);

    const frame = await t.agentMessage(sessionId, from);
    const message = frame.data as Message;
    expect(message).toMatchObject({
      from: "operator",
      automated: true,
      type: "text",
      user: { nickname: "Hugo" },
    });
    expect(message.content).toContain("five business days");
    expect(message.content).toContain("Source: [Refunds](https://help.acme.test/refunds)");
    const turn = await t.turnDone(turnId);
    expect(turn).toMatchObject({
      turn_id: turnId,
      session_id: sessionId,
      source: "api",
      instruction: "VIP customer, premium support",
      status: "answered",
      fingerprint: message.fingerprint,
      trace: {
        decision: "answer",
        provider: "offline",
        queries: ["How long does a refund take to reach my card?"],
      },
    });
    expect((turn.trace as { passages: Json[] }).passages[0]).toMatchObject({
      title: "Refunds",
      heading: "",
      url: "https://help.acme.test/refunds",
      score: expect.any(Number),
    });
    expect((turn.trace as { confidence: number }).confidence).toBeGreaterThan(0.35);
    expect((turn.trace as { latency_ms: number }).latency_ms).toBeGreaterThanOrEqual(0);
    // An answer moves nothing: the conversation stays where it was.
    const after = (await t.api("GET", `${t.site()}/conversation/${sessionId}`)).body.data;
    expect({ inbox_id: after.inbox_id, state: after.state }).toEqual(before);
  });

  it("answers the demo conversation's question from the seeded knowledge base", async () => {
    const sessionId = server.seed.sessionId;
    const demo = server.seed.token.token;
    // The seeded question was answered on its own at start: the conversation is in the automated inbox.
    expect(await t.lastTurnDone(sessionId, demo)).toMatchObject({ source: "message", status: "answered" });
    expect(
      (await t.api("GET", `/api/agent/turns?session_id=${sessionId}`, undefined, demo)).body.data,
    ).toHaveLength(1);
    const turnId = (await t.api("POST", "/api/agent/trigger/", { session_id: sessionId }, demo)).body.data
      .turn_id;
    const turn = await t.turnDone(turnId, demo);
    expect(turn).toMatchObject({ status: "answered", trace: { decision: "answer" } });
    const demoSite = `/v1/website/${server.seed.websiteId}`;
    const messages = (await t.api("GET", `${demoSite}/conversation/${sessionId}/messages`, undefined, demo))
      .body.data as Message[];
    const reply = messages.at(-1)!;
    expect(reply.content).toContain("/api/scenario/{workflow_id}/trigger/");
    expect(reply.content).toContain("Source: [Trigger a workflow from your backend]");
  });

  it("hands over to a human when asked, or when the knowledge base has no answer", async () => {
    for (const question of ["I want to talk to a human please", "Can I pay in seashells?"]) {
      const sessionId = await t.conversation();
      await t.ws.subscribe(sessionId, 0);
      await t.visitorSays(sessionId, question);
      const from = t.ws.frames.length;
      const turnId = (await t.api("POST", "/api/agent/trigger", { session_id: sessionId })).body.data.turn_id;
      expect(((await t.agentMessage(sessionId, from)).data as Message).content).toMatch(
        /handing you over to our team/,
      );
      const turn = await t.turnDone(turnId);
      expect(turn).toMatchObject({ status: "escalated", trace: { decision: "escalate" } });
      expect((await t.api("GET", `${t.site()}/conversation/${sessionId}`)).body.data).toMatchObject({
        inbox_id: null,
        state: "unresolved",
      });
    }
  });

  it("answers once per trigger, even when the request is retried with the same Idempotency-Key", async () => {
    const sessionId = await t.conversation();
    await t.visitorSays(sessionId, "When do parcels ship?");
    const send = () =>
      fetch(`${server.url}/api/agent/trigger`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${t.own.token}`,
          "content-type": "application/json",
          "idempotency-key": `agent-${sessionId}`,
        },
        body: JSON.stringify({ session_id: sessionId }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));
    const first = await send();
    const again = await send();
    expect(again).toEqual(first);
    const finished = await t.turnDone((first.body.data as { turn_id: string }).turn_id);
    const turns = (await t.api("GET", `/api/agent/turns?session_id=${sessionId}`)).body.data;
    expect(turns).toHaveLength(1);
    // The job running again (at-least-once delivery, a crash before it was marked done) adds nothing.
    await server.hugo.services.agent.runTurn(t.own.websiteId, turns[0].turn_id);
    const messages = (await t.api("GET", `${t.site()}/conversation/${sessionId}/messages`)).body
      .data as Message[];
    expect(finished.status).toBe("answered");
    expect(messages.filter((m) => m.user?.user_id === "hugo:agent")).toHaveLength(1);
  });

  it("reads a follow-up question with the conversation before it: the subject named earlier decides", async () => {
    for (const [hotel, parking] of [
      ["Harbour Hotel", "Parking at the Harbour Hotel is free for guests, in the underground garage."],
      ["Meadow Lodge", "Parking at the Meadow Lodge costs 12 euros a night, in the open-air lot."],
    ]) {
      await t.api("POST", "/api/knowledge/sources", {
        kind: "answer",
        question: `${hotel}: is there parking?`,
        answer: parking,
      });
    }
    for (const hotel of ["Meadow Lodge", "Harbour Hotel"]) {
      const sessionId = await t.conversation();
      await t.visitorSays(sessionId, `We booked two nights at the ${hotel}.`);
      await t.api("POST", `${t.site()}/conversation/${sessionId}/message`, {
        type: "text",
        from: "operator",
        origin: "chat",
        content: "Lovely! What would you like to know?",
      });
      await t.visitorSays(sessionId, "is there parking?");
      const turnId = (await t.api("POST", "/api/agent/trigger/", { session_id: sessionId })).body.data
        .turn_id;
      const turn = await t.turnDone(turnId);
      expect(turn.status).toBe("answered");
      const [answer] = (await t.messages(sessionId)).filter((m) => m.user?.user_id === "hugo:agent");
      expect(answer!.content).toContain(`Parking at the ${hotel}`);
      // Two rankings fused: the question alone, and the question with the messages before it.
      expect((turn.trace as { queries: string[] }).queries).toEqual([
        "is there parking?",
        expect.stringContaining(hotel),
      ]);
    }
  });

  it("answers each visitor message in the automated inbox until a human operator takes over", async () => {
    const sessionId = await t.automatedConversation();
    let from = t.ws.frames.length;
    await t.visitorSays(sessionId, "When do parcels ship?");
    expect(((await t.agentMessage(sessionId, from)).data as Message).content).toContain("two business days");
    const turns = (await t.api("GET", `/api/agent/turns?session_id=${sessionId}`)).body.data;
    expect(turns).toMatchObject([{ source: "message", status: "answered" }]);

    // A human operator replies: from now on the agent stays silent.
    await t.api("POST", `${t.site()}/conversation/${sessionId}/message`, {
      type: "text",
      from: "operator",
      origin: "chat",
      content: "Hi, Alice from the team here — let me check your order.",
    });
    from = t.ws.frames.length;
    await t.visitorSays(sessionId, "Thanks! And how long does a refund take?");
    await t.visitorSays(sessionId, "Hello?");
    // The next thing the agent would have said never comes: the visitor's own frames arrive, the turn list stays put.
    await t.ws.next(
      (f) => f.type === "event" && f.name === "message:send" && (f.data as Message).content === "Hello?",
      from,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(
      t.ws.frames
        .slice(from)
        .filter((f) => f.type === "event" && (f.data as Message).user?.user_id === "hugo:agent"),
    ).toEqual([]);
    expect((await t.api("GET", `/api/agent/turns?session_id=${sessionId}`)).body.data).toHaveLength(1);
  });

  /** Moves a conversation's messages `days` into the past. */
  const age = (sessionId: string, days: number) =>
    sql`update messages set timestamp = timestamp - ${days * 86_400_000} where session_id = ${sessionId}`.execute(
      server.hugo.database.db,
    );

  it("resolves a conversation it handles once the visitor has been silent for the configured days", async () => {
    const agent = server.hugo.services.agent;
    const sessionId = await t.automatedConversation();
    const from = t.ws.frames.length;
    await t.visitorSays(sessionId, "When do parcels ship?");
    await t.agentMessage(sessionId, from);
    // Too early: nothing changes.
    expect(await agent.autoResolve(t.own.websiteId, sessionId)).toBe(false);
    await age(sessionId, 4);
    expect(await agent.autoResolve(t.own.websiteId, sessionId)).toBe(false);
    await t.api("PATCH", "/api/agent/settings", { auto_resolve_days: 3 });
    expect(await agent.autoResolve(t.own.websiteId, sessionId)).toBe(true);
    expect((await t.api("GET", `${t.site()}/conversation/${sessionId}`)).body.data.state).toBe("resolved");
    expect(await agent.autoResolve(t.own.websiteId, sessionId)).toBe(false);
    await t.api("PATCH", "/api/agent/settings", { auto_resolve_days: 5 });

    // The visitor comes back within 5 days: the agent answers again.
    const back = t.ws.frames.length;
    await t.visitorSays(sessionId, "Sorry, when do parcels ship again?");
    expect(((await t.agentMessage(sessionId, back)).data as Message).content).toContain("two business days");
    expect((await t.api("GET", `${t.site()}/conversation/${sessionId}`)).body.data.state).toBe("unresolved");
  });

  it("hands a conversation to the humans when its visitor comes back after more than 5 days", async () => {
    const sessionId = await t.automatedConversation();
    const from = t.ws.frames.length;
    await t.visitorSays(sessionId, "When do parcels ship?");
    await t.agentMessage(sessionId, from);
    await t.api("PATCH", `${t.site()}/conversation/${sessionId}/state`, { state: "resolved" });
    await age(sessionId, 6);
    const back = t.ws.frames.length;
    await t.visitorSays(sessionId, "How long does a refund take?");
    await t.ws.next((f) => f.type === "event" && f.name === "session:set_inbox", back);
    expect((await t.api("GET", `${t.site()}/conversation/${sessionId}`)).body.data).toMatchObject({
      inbox_id: null,
      state: "unresolved",
    });
    expect(
      t.ws.frames
        .slice(back)
        .filter((f) => f.type === "event" && (f.data as Message).user?.user_id === "hugo:agent"),
    ).toEqual([]);
  });

  it("leaves conversations of the main inbox to the humans", async () => {
    const sessionId = await t.conversation();
    await t.ws.subscribe(sessionId, 0);
    const from = t.ws.frames.length;
    await t.visitorSays(sessionId, "When do parcels ship?");
    await t.ws.next((f) => f.type === "event" && f.name === "message:send", from);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      t.ws.frames
        .slice(from)
        .filter((f) => f.type === "event" && (f.data as Message).user?.user_id === "hugo:agent"),
    ).toEqual([]);
    expect((await t.api("GET", `/api/agent/turns?session_id=${sessionId}`)).body.data).toEqual([]);
  });

  it("reads and changes its settings, which shape the next turns", async () => {
    const defaults = (await t.api("GET", "/api/agent/settings")).body.data;
    expect(defaults).toMatchObject({
      name: "Hugo",
      activation: "answer",
      guidance: "balanced",
      locale: "auto",
    });
    const changed = await t.api("PATCH", "/api/agent/settings", {
      name: "Ada",
      escalation_message: "A colleague of mine will take it from here.",
      guidance: "cautious",
    });
    expect(changed.body.data).toMatchObject({ name: "Ada", guidance: "cautious", locale: "auto" });
    expect((await t.api("GET", "/api/agent/settings")).body.data).toEqual(changed.body.data);

    const sessionId = await t.conversation();
    await t.ws.subscribe(sessionId, 0);
    await t.visitorSays(sessionId, "Do you sell umbrellas?");
    const from = t.ws.frames.length;
    await t.api("POST", "/api/agent/trigger", { session_id: sessionId });
    const reply = (await t.agentMessage(sessionId, from)).data as Message;
    expect(reply).toMatchObject({
      content: "A colleague of mine will take it from here.",
      user: { nickname: "Ada" },
    });

    for (const [body, field] of [
      [{ guidance: "reckless" }, "guidance"],
      [{ name: "" }, "name"],
      [{ locale: "not a locale!" }, "locale"],
      [{ auto_resolve_days: 0 }, "auto_resolve_days"],
      [{}, ""],
      [{ unknown: 1 }, ""],
    ] as const) {
      const res = await t.api("PATCH", "/api/agent/settings", body);
      expect([res.status, res.body.reason]).toEqual([400, "invalid_body"]);
      expect(JSON.stringify(res.body.data)).toContain(field);
    }
    expect((await t.api("GET", "/api/agent/settings")).body.data).toEqual(changed.body.data);
    await t.api("PATCH", "/api/agent/settings", {
      name: "Hugo",
      guidance: "balanced",
      escalation_message: defaults.escalation_message,
    });
  });

  it("follows a routing rule whose situation the visitor's message describes", async () => {
    const created = await t.api("POST", "/api/workflows", {
      name: "Cancellation",
      graph: {
        blocks: [
          { id: "start", kind: "start.code", options: {} },
          {
            id: "say",
            kind: "action.text",
            options: { text: "Sorry to see you go: here is how to cancel." },
          },
        ],
        edges: [{ from: "start", handle: "next", to: "say" }],
      },
    });
    const workflowId = created.body.data.workflow_id as string;
    await t.api("POST", `/api/workflows/${workflowId}/deploy`);
    const rules = [
      {
        name: "Cancellation",
        description: "wants to cancel their subscription",
        action: { kind: "workflow", workflow_id: workflowId },
      },
      { name: "Legal", description: "threatens legal action with a lawyer", action: { kind: "escalate" } },
      {
        name: "Sales",
        description: "asks for an enterprise plan quote",
        action: { kind: "inbox", inbox_id: null },
      },
    ];
    expect((await t.api("PATCH", "/api/agent/settings", { routing_rules: rules })).status).toBe(200);
    const ask = async (text: string) => {
      const sessionId = await t.automatedConversation();
      const from = t.ws.frames.length;
      await t.visitorSays(sessionId, text);
      return { sessionId, from, turn: await t.lastTurnDone(sessionId) };
    };
    try {
      const cancel = await ask("Hello, I would like to cancel my subscription please");
      expect(cancel.turn).toMatchObject({
        status: "routed",
        fingerprint: null,
        trace: { decision: "route", rule: "Cancellation" },
      });
      const said = await t.ws.next(
        (f) =>
          f.type === "event" && (f.data as Message).content === "Sorry to see you go: here is how to cancel.",
        cancel.from,
      );
      expect(((said as { data: unknown }).data as Message).user).toMatchObject({ user_id: "hugo:workflow" });

      const legal = await ask("If this is not fixed my lawyer will take legal action");
      expect(legal.turn).toMatchObject({ status: "routed", trace: { rule: "Legal" } });
      expect(((await t.agentMessage(legal.sessionId, legal.from)).data as Message).content).toMatch(
        /handing you over/,
      );
      expect((await t.api("GET", `${t.site()}/conversation/${legal.sessionId}`)).body.data.inbox_id).toBe(
        null,
      );

      const sales = await ask("Could you send me a quote for the enterprise plan?");
      expect(sales.turn).toMatchObject({ status: "routed", fingerprint: null, trace: { rule: "Sales" } });
      expect((await t.api("GET", `${t.site()}/conversation/${sales.sessionId}`)).body.data.inbox_id).toBe(
        null,
      );

      // A message no rule describes is answered as usual.
      const plain = await ask("When do parcels ship?");
      expect(plain.turn).toMatchObject({ status: "answered" });
      const bad = await t.api("PATCH", "/api/agent/settings", {
        routing_rules: [
          { name: "x", description: "y y y", action: { kind: "workflow", workflow_id: "nope" } },
        ],
      });
      expect([bad.status, bad.body.reason]).toEqual([400, "invalid_body"]);
      expect(JSON.stringify(bad.body.data)).toContain("workflow_id");
    } finally {
      await t.api("PATCH", "/api/agent/settings", { routing_rules: [] });
    }
  });

  it("refuses bad triggers with the contract's errors and records nothing", async () => {
    const sessionId = await t.conversation();
    const long = await t.api("POST", "/api/agent/trigger/", {
      session_id: sessionId,
      instruction: "x".repeat(2001),
    });
    expect(long).toMatchObject({ status: 400, body: { error: true, reason: "instruction_too_long" } });
    expect(long.body.data.message).toContain("2000");
    expect(JSON.stringify(long.body.data)).toContain("instruction");
    const atLimit = await t.api("POST", "/api/agent/trigger/", {
      session_id: sessionId,
      instruction: "y".repeat(2000),
    });
    expect(atLimit.status).toBe(202);
    const cases: [unknown, number, string][] = [
      [{ session_id: "nope" }, 400, "invalid_body"],
      [{}, 400, "invalid_body"],
      [{ session_id: sessionId, instruction: 42 }, 400, "invalid_body"],
      [{ session_id: sessionId, extra: true }, 400, "invalid_body"],
      [{ session_id: "session_00000000-0000-4000-8000-000000000000" }, 404, "session_not_found"],
      ["{not json", 400, "invalid_json"],
    ];
    for (const [body, status, reason] of cases) {
      const res = await t.api("POST", "/api/agent/trigger", body);
      expect({ body, status: res.status, reason: res.body.reason }).toEqual({ body, status, reason });
    }
    // Another website's conversation is unknown here; a token without the scope is refused.
    const otherSession = await server.hugo.services.conversations.create(server.seed.websiteId);
    const leak = await t.api("POST", "/api/agent/trigger", { session_id: otherSession.session_id });
    expect([leak.status, leak.body.reason]).toEqual([404, "session_not_found"]);
    const reader = (await t.api("POST", "/api/tokens", { name: "reader", scopes: ["conversations:read"] }))
      .body.data;
    const denied = await t.api("POST", "/api/agent/trigger", { session_id: sessionId }, reader.token);
    expect([denied.status, denied.body.reason]).toEqual([403, "insufficient_scope"]);
    // Only the trigger at the limit was recorded.
    expect((await t.api("GET", `/api/agent/turns?session_id=${sessionId}`)).body.data).toHaveLength(1);
  });
});
