import type { Message, ServerFrame } from "@hugo/protocol";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AgentSite, agentSite } from "../../test/agent-site.ts";
import { type FakeLlm, startFakeLlm } from "../../test/fake-llm.ts";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";
import { turnFingerprint } from "./service.ts";

type Json = Record<string, unknown>;
const KEY = "sk-test-4f9a2c1e8b7d";

/**
 * The agent with an LLM provider: real HTTP and job queue, a real WebSocket operator, and a local
 * server speaking OpenAI's chat completions and Anthropic's messages (SSE streaming, tool calls,
 * errors, 429s, hangs) in place of the provider.
 */
describe.each(["sqlite", "postgres"] as const)("the AI agent with an LLM provider on %s", (dialect) => {
  let server: RunningHugo;
  let llm: FakeLlm;
  let t: AgentSite;
  const openai = (extra: Json = {}) => ({
    kind: "openai-compatible",
    base_url: `${llm.url}/v1`,
    model: "gpt-test",
    api_key: KEY,
    ...extra,
  });
  const useProvider = async (provider: Json | null, extra: Json = {}) => {
    const res = await t.api("PATCH", "/api/agent/settings", { provider, ...extra });
    expect(res.status).toBe(200);
    return res.body.data;
  };
  /** A conversation with the visitor's question, the agent triggered on it; the turn once done. */
  const ask = async (question: string, instruction?: string) => {
    const sessionId = await t.conversation();
    await t.ws.subscribe(sessionId, 0);
    await t.visitorSays(sessionId, question);
    const from = t.ws.frames.length;
    const res = await t.api("POST", "/api/agent/trigger/", {
      session_id: sessionId,
      ...(instruction ? { instruction } : {}),
    });
    expect(res.status).toBe(202);
    const turn = await t.turnDone(res.body.data.turn_id);
    return { sessionId, turn, from, trace: turn.trace as Json };
  };
  const agentMessages = async (sessionId: string) =>
    (await t.messages(sessionId)).filter((m) => m.user?.user_id === "hugo:agent");

  beforeAll(async () => {
    llm = await startFakeLlm({ apiKey: KEY });
    server = await startHugo(dialect, { OUTBOUND_ALLOW_HOSTS: "127.0.0.1" });
    t = await agentSite(server, "Acme");
    await t.api("POST", "/api/knowledge/sources", {
      kind: "helpdesk",
      title: "Refunds",
      format: "markdown",
      url: "https://help.acme.test/refunds",
      body: "# Refunds\n\nWe refund any order within 30 days of delivery. The money reaches your card within five business days.",
    });
  });
  beforeEach(() => {
    llm.requests.length = 0;
  });
  afterAll(async () => {
    t?.ws.ws.close();
    await server?.stop();
    await llm?.close();
  });

  it("keeps the provider's key sealed: never shown, never stored in the clear, dropped when the API changes", async () => {
    const shown = await useProvider(openai({ fallback_model: "gpt-small" }));
    expect(shown.provider).toEqual({
      kind: "openai-compatible",
      base_url: `${llm.url}/v1`,
      model: "gpt-test",
      fallback_model: "gpt-small",
      timeout_ms: 30_000,
      api_key_set: true,
    });
    expect(JSON.stringify((await t.api("GET", "/api/agent/settings")).body)).not.toContain(KEY);
    const { rows } = await sql<{
      settings: string;
    }>`select settings from agent_settings where website_id = ${t.own.websiteId}`.execute(
      server.hugo.database.db,
    );
    expect(rows[0]!.settings).not.toContain(KEY);
    expect(rows[0]!.settings).toContain("api_key_sealed");

    // Another field changes: the key stays. The base URL changes without a key: the key is dropped.
    expect(
      (await useProvider({ ...openai(), api_key: undefined, model: "gpt-2" })).provider.api_key_set,
    ).toBe(true);
    const moved = await useProvider({ ...openai(), api_key: undefined, base_url: `${llm.url}/v2` });
    expect(moved.provider.api_key_set).toBe(false);
  });

  it("checks the provider: each model's reply or error, and a clear refusal without one", async () => {
    await useProvider(null);
    const none = await t.api("POST", "/api/agent/settings/provider/check");
    expect(none).toMatchObject({ status: 409, body: { reason: "provider_not_configured" } });
    await useProvider(openai({ fallback_model: "gpt-small" }));
    llm.script({ text: "OK" }, { status: 404, error: { message: "The model gpt-small does not exist" } });
    const res = await t.api("POST", "/api/agent/settings/provider/check");
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      { model: "gpt-test", ok: true, latency_ms: expect.any(Number), error: null },
      {
        model: "gpt-small",
        ok: false,
        latency_ms: expect.any(Number),
        error: expect.stringMatching(/HTTP 404.*gpt-small/),
      },
    ]);
    expect(llm.requests.map((r) => [r.body.model, r.headers.authorization])).toEqual([
      ["gpt-test", `Bearer ${KEY}`],
      ["gpt-small", `Bearer ${KEY}`],
    ]);
  });

  it("refuses a provider it cannot use, naming the field, and changes nothing", async () => {
    await useProvider(openai());
    const before = (await t.api("GET", "/api/agent/settings")).body.data;
    const cases: [Json, string, string][] = [
      [{ provider: openai({ base_url: "http://10.0.0.7/v1" }) }, "url_not_allowed", "provider.base_url"],
      [{ provider: openai({ base_url: "file:///etc/passwd" }) }, "url_not_allowed", "provider.base_url"],
      [{ provider: { kind: "anthropic", model: "claude-test" } }, "invalid_body", "provider.api_key"],
      [{ provider: { kind: "openai-compatible", model: "m" } }, "invalid_body", "provider.base_url"],
      [{ provider: openai({ timeout_ms: 10 }) }, "invalid_body", "provider.timeout_ms"],
      [{ provider: openai({ kind: "gemini" }) }, "invalid_body", "provider.kind"],
    ];
    for (const [body, reason, field] of cases) {
      const res = await t.api("PATCH", "/api/agent/settings", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body, JSON.stringify(body)).toMatchObject({ error: true, reason });
      expect(JSON.stringify(res.body.data)).toContain(field);
    }
    expect((await t.api("GET", "/api/agent/settings")).body.data).toEqual(before);
  });

  it("streams the model's answer into the conversation: typing, the message growing in place, then final", async () => {
    await useProvider(openai(), { instructions: "Always use a friendly tone." });
    const answer =
      "Refunds reach your card within five business days. [Refunds](https://help.acme.test/refunds)";
    llm.script({ text: answer, paceMs: 20, usage: { input: 321, output: 24 } });
    const { sessionId, turn, from, trace } = await ask(
      "How long until my refund arrives?",
      "The visitor is a VIP customer.",
    );
    expect(turn).toMatchObject({ status: "answered" });
    expect(trace).toMatchObject({
      decision: "answer",
      provider: "openai-compatible",
      model: "gpt-test",
      tokens: { input: 321, output: 24 },
      queries: ["How long until my refund arrives?"],
      passages: [{ title: "Refunds", url: "https://help.acme.test/refunds" }],
    });

    // What the operator's socket saw, in order.
    const ofSession = t.ws.frames
      .slice(from)
      .filter(
        (f): f is ServerFrame => (f.type === "compose" || f.type === "event") && f.session_id === sessionId,
      );
    const kinds = ofSession.map((f) => (f.type === "compose" ? `compose:${f.state}` : (f as Json).name));
    expect(kinds[0]).toBe("compose:start");
    expect(kinds).toContain("message:received");
    expect(kinds.indexOf("compose:start")).toBeLessThan(kinds.indexOf("message:received"));
    const sent = ofSession.find((f) => (f as Json).name === "message:received")!;
    const first = (sent as { data: Message }).data.content as string;
    // Sent with its first words, not whole, then rewritten until it is.
    expect(answer.startsWith(first)).toBe(true);
    expect(first.length).toBeLessThan(answer.length);
    const updates = ofSession
      .filter((f) => (f as Json).name === "message:updated")
      .map((f) => (f as { data: { content: string } }).data.content);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.at(-1)).toBe(answer);
    for (const u of updates) expect(answer.startsWith(u)).toBe(true);
    expect(kinds.at(-1) === "compose:stop" || kinds.includes("compose:stop")).toBe(true);

    const messages = await agentMessages(sessionId);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ content: answer, fingerprint: turn.fingerprint, automated: true });

    // What the model was given: identity, instructions, this conversation's instruction, passages, the conversation.
    const request = llm.requests.at(-1)!;
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.stream).toBe(true);
    expect(request.body.model).toBe("gpt-test");
    const system = request.body.messages[0];
    expect(system.role).toBe("system");
    expect(system.content).toContain("You are Hugo, the customer support agent of Acme");
    expect(system.content).toContain("Always use a friendly tone.");
    expect(system.content).toContain("For this conversation only:\nThe visitor is a VIP customer.");
    expect(system.content).toContain("The money reaches your card within five business days.");
    expect(system.content).toContain("https://help.acme.test/refunds");
    expect(request.body.messages.at(-1)).toEqual({
      role: "user",
      content: "How long until my refund arrives?",
    });
    expect(request.body.tools.map((tool: Json) => (tool.function as Json).name).sort()).toEqual([
      "escalate_to_human",
      "search_knowledge_base",
      "set_contact_data",
    ]);
  });

  it("searches the knowledge base with its tool, and records the visitor's contact details", async () => {
    await useProvider(openai());
    llm.script(
      {
        toolCalls: [
          { name: "search_knowledge_base", arguments: { query: "refund delay card" } },
          { name: "set_contact_data", arguments: { email: "ada@example.com" } },
        ],
      },
      { text: "Five business days after we refund it." },
    );
    const { sessionId, trace } = await ask("I'm ada@example.com — when do I get my money back?");
    expect(trace).toMatchObject({
      decision: "answer",
      queries: ["I'm ada@example.com — when do I get my money back?", "refund delay card"],
      tools: [
        { name: "search_knowledge_base", arguments: { query: "refund delay card" } },
        { name: "set_contact_data", arguments: { email: "ada@example.com" } },
      ],
    });
    // The second call carried the tools' results back to the model.
    const toolResults = llm.requests.at(-1)!.body.messages.filter((m: Json) => m.role === "tool");
    expect(toolResults.map((m: Json) => m.content).join("\n")).toContain("five business days");
    const meta = (await t.api("GET", `${t.site()}/conversation/${sessionId}/meta`)).body.data;
    expect(meta.email).toBe("ada@example.com");
    expect((await agentMessages(sessionId)).map((m) => m.content)).toEqual([
      "Five business days after we refund it.",
    ]);
  });

  it("hands over to a human when the model calls escalate_to_human: main inbox, unresolved, the team's message", async () => {
    await useProvider(openai());
    llm.script({ toolCalls: [{ name: "escalate_to_human", arguments: { reason: "billing dispute" } }] });
    const { sessionId, turn, trace } = await ask("You charged me twice, I want this fixed now");
    expect(turn.status).toBe("escalated");
    expect(trace.reason).toBe("the model handed over: billing dispute");
    expect((await agentMessages(sessionId)).map((m) => m.content)).toEqual([
      "I am handing you over to our team: someone will answer you here shortly.",
    ]);
    expect((await t.api("GET", `${t.site()}/conversation/${sessionId}`)).body.data).toMatchObject({
      inbox_id: null,
      state: "unresolved",
    });
    // Only one model call: an acting tool ends the turn.
    expect(llm.requests).toHaveLength(1);
  });

  it("lets the model judge routing rules", async () => {
    await useProvider(openai(), {
      routing_rules: [
        {
          name: "Cancellation",
          description: "The visitor wants to cancel their subscription",
          action: { kind: "inbox", inbox_id: null },
        },
      ],
    });
    llm.script({ toolCalls: [{ name: "apply_routing_rule", arguments: { name: "Cancellation" } }] });
    // Words the offline similarity would not match: the model's judgement decides.
    const { sessionId, turn, trace } = await ask("I'd like to stop paying for the plan from next month");
    expect(turn.status).toBe("routed");
    expect(trace).toMatchObject({ decision: "route", rule: "Cancellation" });
    const system = llm.requests[0]!.body.messages[0].content as string;
    expect(system).toContain("- Cancellation: The visitor wants to cancel their subscription");
    expect((await t.api("GET", `${t.site()}/conversation/${sessionId}`)).body.data.inbox_id).toBeNull();
    await useProvider(openai(), { routing_rules: [] });
  });

  it("falls back to the fallback model when the model fails, and retries a 429 after its Retry-After", async () => {
    await useProvider(openai({ fallback_model: "gpt-small" }));
    llm.script(
      { status: 500, error: { message: "upstream exploded" } },
      { status: 500, error: { message: "upstream exploded" } },
      { text: "Five business days." },
    );
    const failed = await ask("How long do refunds take?");
    expect(failed.turn.status).toBe("answered");
    expect(failed.trace).toMatchObject({ model: "gpt-small", provider: "openai-compatible" });
    expect((failed.trace.provider_errors as string[])[0]).toMatch(/^gpt-test: .*upstream exploded/);
    expect(llm.requests.map((r) => r.body.model)).toEqual(["gpt-test", "gpt-test", "gpt-small"]);

    llm.requests.length = 0;
    llm.script(
      { status: 429, error: { message: "slow down" }, retryAfterSeconds: 0 },
      { text: "Five days." },
    );
    const limited = await ask("How long do refunds take?");
    expect(limited.trace).toMatchObject({ model: "gpt-test", decision: "answer" });
    expect(limited.trace.provider_errors).toBeUndefined();
    expect(llm.requests).toHaveLength(2);
  });

  it("answers offline when every model fails or hangs past its timeout: the visitor never meets silence", async () => {
    await useProvider(openai({ fallback_model: "gpt-small", timeout_ms: 1000 }));
    llm.script({ hang: true }, { status: 401, error: { message: "bad key" } });
    const { sessionId, turn, trace } = await ask("How long until the refund reaches my card?");
    expect(turn.status).toBe("answered");
    expect(trace).toMatchObject({ provider: "offline", decision: "answer" });
    expect(trace.reason).toContain("the LLM failed");
    const errors = trace.provider_errors as string[];
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^gpt-test: /);
    expect(errors[1]).toMatch(/^gpt-small: HTTP 401/);
    const [message] = await agentMessages(sessionId);
    expect(message!.content).toContain("five business days");
    expect(message!.content).toContain("Source: [Refunds](https://help.acme.test/refunds)");
  });

  it("rewrites the message a crashed attempt had begun instead of sending a second one", async () => {
    await useProvider(openai());
    llm.script({ delayMs: 300, reply: { text: "Refunds take five business days." } });
    const sessionId = await t.conversation();
    await t.visitorSays(sessionId, "Refund delay?");
    const turnId = (await t.api("POST", "/api/agent/trigger/", { session_id: sessionId })).body.data
      .turn_id as string;
    // What an earlier attempt of this turn left before its process died: the first words.
    await server.hugo.services.conversations.sendMessage(t.own.websiteId, sessionId, {
      type: "text",
      from: "operator",
      origin: "chat",
      content: "Refunds ta",
      fingerprint: turnFingerprint(turnId),
      automated: true,
      user: { type: "website", user_id: "hugo:agent", nickname: "Hugo" },
    } as never);
    expect((await t.turnDone(turnId)).status).toBe("answered");
    expect((await agentMessages(sessionId)).map((m) => m.content)).toEqual([
      "Refunds take five business days.",
    ]);
  });

  /** A deployed workflow: a code start, then `blocks` in a chain. */
  const deploy = async (name: string, ...blocks: Json[]) => {
    const all = [{ id: "start", kind: "start.code", options: {} }, ...blocks];
    const graph = {
      blocks: all,
      edges: all.slice(1).map((b, i) => ({ from: all[i]!.id, handle: "next", to: b.id })),
    };
    const id = (await t.api("POST", "/api/workflows", { name, graph })).body.data.workflow_id as string;
    expect((await t.api("POST", `/api/workflows/${id}/deploy`)).body).toMatchObject({ error: false });
    return id;
  };

  it("answers for a workflow's agent block from outside the run's transaction, once even when the block runs again", async () => {
    await useProvider(openai());
    const flow = await deploy(
      "Agent step",
      { id: "agent", kind: "action.agent", options: { instruction: "Mention the 30-day window" } },
      { id: "after", kind: "action.text", options: { text: "Anything else?" } },
    );
    llm.script({
      text: "Refunds are accepted within 30 days; the money arrives in five business days.",
      paceMs: 5,
    });
    const sessionId = await t.conversation();
    await t.visitorSays(sessionId, "Can I still get a refund?");
    const runId = (await t.api("POST", `/api/scenario/${flow}/trigger/`, { session_id: sessionId })).body.data
      .run_id as string;
    const done = await t.poll("the run", async () => {
      const r = (await t.api("GET", `/api/runs/${runId}`)).body.data;
      return r.status === "completed" || r.status === "failed" ? r : undefined;
    });
    expect(done.status).toBe("completed");
    const texts = (await t.messages(sessionId)).filter((m) => m.from === "operator").map((m) => m.content);
    // The agent's answer, then the block after it: in order.
    expect(texts).toEqual([
      "Refunds are accepted within 30 days; the money arrives in five business days.",
      "Anything else?",
    ]);
    expect(llm.requests[0]!.body.messages[0].content).toContain(
      "For this conversation only:\nMention the 30-day window",
    );
    const [turn] = (await t.api("GET", `/api/agent/turns?session_id=${sessionId}`)).body.data;
    expect(turn).toMatchObject({ source: "workflow", workflow_run_id: runId, status: "answered" });

    // The block run again (its process died before the run moved on): the turn it took is found, nothing is re-sent.
    const step = (done.log as { block_id: string; step: number }[]).find((s) => s.block_id === "agent")!.step;
    expect(
      await server.hugo.services.agent.answerInWorkflow(
        t.own.websiteId,
        sessionId,
        { id: runId, step },
        null,
      ),
    ).toMatchObject({ decision: "answer" });
    expect(llm.requests).toHaveLength(1);
    expect(await agentMessages(sessionId)).toHaveLength(1);
  });

  it("starts a deployed workflow when the model asks for it", async () => {
    await useProvider(openai());
    const flow = await deploy("Return label", {
      id: "label",
      kind: "action.text",
      options: { text: "Here is your return label." },
    });
    llm.script({ toolCalls: [{ name: "start_workflow", arguments: { workflow_id: flow } }] });
    const { sessionId, turn, trace } = await ask("I need a return label");
    expect(turn.status).toBe("routed");
    expect(trace.tools).toEqual([{ name: "start_workflow", arguments: { workflow_id: flow } }]);
    const tools = llm.requests[0]!.body.tools.map((x: Json) => x.function as Json);
    expect(JSON.stringify(tools.find((f: Json) => f.name === "start_workflow"))).toContain("Return label");
    await t.poll(
      "the workflow's message",
      async () =>
        (await t.messages(sessionId)).some((m) => m.content === "Here is your return label.") || undefined,
    );
    expect(await agentMessages(sessionId)).toHaveLength(0);
  });

  it("speaks Anthropic's messages API, key in x-api-key", async () => {
    await useProvider({ kind: "anthropic", base_url: `${llm.url}/v1`, model: "claude-test", api_key: KEY });
    llm.script({ text: "Within five business days.", usage: { input: 100, output: 6 } });
    const { sessionId, trace } = await ask("When will I see the refund?");
    expect(trace).toMatchObject({
      provider: "anthropic",
      model: "claude-test",
      tokens: { input: 100, output: 6 },
    });
    const request = llm.requests.at(-1)!;
    expect(request.path).toBe("/v1/messages");
    expect(request.headers["x-api-key"]).toBe(KEY);
    expect(request.body.system).toBeDefined();
    expect(JSON.stringify(request.body.system)).toContain("five business days");
    expect((await agentMessages(sessionId)).map((m) => m.content)).toEqual(["Within five business days."]);
    await useProvider(null);
  });
});
