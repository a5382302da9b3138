import http from "node:http";
import type { AddressInfo } from "node:net";
import type { EventFrame, Message, RunDetail, WorkflowGraph } from "@hugo/protocol";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";
import { Client, waitFor } from "../../test/ws-client.ts";

/**
 * Workflows end to end: the real HTTP API, the real job queue and a real WebSocket subscriber, on
 * SQLite and PostgreSQL. Visitor answers go through the Crisp REST routes a widget would use.
 */

type Json = Record<string, unknown>;

/** A local service the HTTP request block calls (the only outbound host the guard lets through). */
async function startOrderService() {
  const calls: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      calls.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      if (req.url?.startsWith("/orders/42")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ order: { status: "shipped", total: 19.5 }, refundable: true }));
      } else {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "boom" }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((r) => server.close(r)) };
}

/** A straight chain of blocks: start.code → b1 → b2 … (each `next`). */
function chain(...blocks: { id: string; kind: string; options?: Json }[]): WorkflowGraph {
  const all = [{ id: "start", kind: "start.code", options: {} }, ...blocks].map((b) => ({
    options: {},
    ...b,
  }));
  return {
    blocks: all,
    edges: all.slice(1).map((b, i) => ({ from: all[i]!.id, handle: "next", to: b.id })),
  };
}

describe.each(["sqlite", "postgres"] as const)("workflows on %s", (dialect) => {
  let server: RunningHugo;
  let orders: Awaited<ReturnType<typeof startOrderService>>;
  let ws: Client;

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.seed.token.token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field in each test
    return { status: res.status, body: (await res.json()) as { error: boolean; reason: string; data: any } };
  };
  const site = () => `/v1/website/${server.seed.websiteId}`;

  const conversation = async (meta: Json = {}) => {
    const res = await api("POST", `${site()}/conversation`, {});
    const sessionId = res.body.data.session_id as string;
    if (Object.keys(meta).length) await api("PATCH", `${site()}/conversation/${sessionId}/meta`, meta);
    return sessionId;
  };
  const visitorSays = (sessionId: string, text: string) =>
    api("POST", `${site()}/conversation/${sessionId}/message`, {
      type: "text",
      from: "user",
      origin: "chat",
      content: text,
    });
  const messages = async (sessionId: string): Promise<Message[]> =>
    (await api("GET", `${site()}/conversation/${sessionId}/messages`)).body.data;
  const botMessages = async (sessionId: string) =>
    (await messages(sessionId)).filter((m) => m.from === "operator" && m.automated);

  /** Creates and deploys a workflow; returns its id. */
  const deployed = async (graph: WorkflowGraph, name = "test workflow") => {
    const created = await api("POST", "/api/workflows", { name, graph });
    expect(created.status).toBe(201);
    const id = created.body.data.workflow_id as string;
    const deploy = await api("POST", `/api/workflows/${id}/deploy`);
    expect(deploy.body, JSON.stringify(deploy.body)).toMatchObject({ error: false });
    return id;
  };
  const trigger = async (workflowId: string, sessionId: string, variables?: Json) => {
    const res = await api("POST", `/api/scenario/${workflowId}/trigger/`, {
      session_id: sessionId,
      ...(variables ? { variables } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.data.run_id as string;
  };
  const run = async (runId: string): Promise<RunDetail> => (await api("GET", `/api/runs/${runId}`)).body.data;
  const settled = async (runId: string, status: string | string[] = ["completed", "failed", "cancelled"]) => {
    const wanted = Array.isArray(status) ? status : [status];
    let last: RunDetail | undefined;
    await waitFor(`run ${runId} to be ${wanted.join("/")}`, async () => {
      last = await run(runId);
      return wanted.includes(last.status);
    });
    return last!;
  };
  // waitFor takes a sync check; these poll an async one.
  const poll = async <T>(what: string, check: () => Promise<T | undefined | false>): Promise<T> => {
    const until = Date.now() + 20_000;
    for (;;) {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 15));
    }
  };
  const waitRun = async (runId: string, status: string | string[]) => {
    const wanted = Array.isArray(status) ? status : [status];
    return poll(`run ${runId} to be ${wanted.join("/")}`, async () => {
      const r = await run(runId);
      return wanted.includes(r.status) ? r : undefined;
    });
  };
  void settled;
  const waitingFor = (runId: string, expect: string, steps?: number) =>
    poll(`run ${runId} to wait for ${expect}`, async () => {
      const r = await run(runId);
      return r.status === "waiting" &&
        r.wait?.kind === "answer" &&
        r.wait.expect === expect &&
        (steps === undefined || r.steps >= steps)
        ? r
        : undefined;
    });

  beforeAll(async () => {
    orders = await startOrderService();
    server = await startHugo(dialect, { OUTBOUND_ALLOW_HOSTS: "127.0.0.1" });
    ws = await Client.connect(server.url, { bearer: server.seed.token.token });
  });
  afterAll(async () => {
    ws?.close();
    await server?.stop();
    await orders?.close();
  });

  it("sends every kind of message and changes the conversation, delivered live over the WebSocket", async () => {
    const owner = (await api("GET", "/api/operators")).body.data[0].id as string;
    const id = await deployed(
      chain(
        { id: "typing", kind: "action.typing", options: { duration_ms: 150 } },
        {
          id: "hello",
          kind: "action.text",
          options: { text: "Hello {{ name }}{{ missing }}! Plan: {{ data.plan }}" },
        },
        {
          id: "file",
          kind: "action.file",
          options: {
            name: "guide-{{ name }}.pdf",
            url: "https://example.com/g.pdf",
            type: "application/pdf",
          },
        },
        { id: "gif", kind: "action.animation", options: { url: "https://example.com/a.gif" } },
        {
          id: "cards",
          kind: "action.carousel",
          options: {
            text: "Pick one",
            targets: [
              {
                title: "Basic for {{ name }}",
                description: "cheap",
                actions: [{ label: "See", url: "https://example.com/b" }],
              },
            ],
          },
        },
        { id: "note", kind: "action.note", options: { text: "VIP: {{ name }}" } },
        {
          id: "email",
          kind: "action.set_contact",
          options: { field: "email", value: "{{ name }}@Example.com" },
        },
        { id: "data", kind: "action.set_data", options: { key: "tier", value: "gold" } },
        { id: "seg", kind: "action.segments", options: { segments: ["vip", "lead"] } },
        { id: "unseg", kind: "action.segments", options: { operation: "remove", segments: ["lead"] } },
        {
          id: "event",
          kind: "action.push_event",
          options: { name: "upgraded", data: [{ key: "who", value: "{{ name }}" }] },
        },
        { id: "assign", kind: "action.assign", options: { operator_id: owner } },
        { id: "state", kind: "action.set_state", options: { state: "resolved" } },
        { id: "escalate", kind: "action.escalate", options: { text: "A human will take over, {{ name }}." } },
        { id: "end", kind: "action.end" },
      ),
    );
    const sessionId = await conversation({ data: { plan: "pro" } });
    await ws.subscribe(sessionId, 0);
    const runId = await trigger(id, sessionId, { name: "ada" });
    const done = await waitRun(runId, ["completed", "failed"]);
    expect(done.status, JSON.stringify(done.log)).toBe("completed");
    expect(done.end_reason).toBe("end_block");
    expect(done.log.map((s) => s.block_id)).toEqual([
      "start",
      "typing",
      "typing",
      "hello",
      "file",
      "gif",
      "cards",
      "note",
      "email",
      "data",
      "seg",
      "unseg",
      "event",
      "assign",
      "state",
      "escalate",
      "end",
    ]);

    const sent = await botMessages(sessionId);
    expect(sent.map((m) => m.type)).toEqual(["text", "file", "animation", "carousel", "note", "text"]);
    expect(sent[0]!.content).toBe("Hello ada! Plan: pro");
    expect(sent[1]!.content).toMatchObject({ name: "guide-ada.pdf" });
    expect(sent[3]!.content).toMatchObject({ targets: [{ title: "Basic for ada" }] });
    expect(sent[4]!.content).toBe("VIP: ada");
    expect(sent[5]!.content).toBe("A human will take over, ada.");
    expect(sent.every((m) => m.user.nickname === "Hugo")).toBe(true);

    const conv = (await api("GET", `${site()}/conversation/${sessionId}`)).body.data;
    expect(conv.meta.email).toBe("ada@example.com");
    expect(conv.meta.data).toMatchObject({ plan: "pro", tier: "gold" });
    expect(conv.meta.segments).toEqual(["vip"]);
    expect(conv.assigned).toEqual({ user_id: owner });
    expect(conv.inbox_id).toBeNull();
    expect(conv.state).toBe("unresolved");

    // The subscriber saw the typing indicator, then each message, live and in order.
    await waitFor("the last message on the socket", () =>
      ws
        .events(sessionId)
        .some((e) => (e.data as Message | undefined)?.content === "A human will take over, ada."),
    );
    const typing = ws.frames.findIndex(
      (f) => f.type === "compose" && (f as { session_id?: string }).session_id === sessionId,
    );
    const firstText = ws.frames.findIndex(
      (f) =>
        f.type === "event" &&
        (f as EventFrame).name === "message:received" &&
        (f as EventFrame).session_id === sessionId,
    );
    expect(typing).toBeGreaterThanOrEqual(0);
    expect(typing).toBeLessThan(firstText);
    const names = ws.events(sessionId).map((e) => e.name);
    expect(names).toContain("workflow:run:started");
    expect(names).toContain("workflow:run:completed");
    expect(names).toContain("session:event");
  });

  it("resumes on a button click, a field value (asking again when invalid), a typed answer and a rating", async () => {
    const graph: WorkflowGraph = {
      blocks: [
        { id: "start", kind: "start.code", options: {} },
        {
          id: "ask",
          kind: "action.picker",
          options: {
            text: "Refund?",
            variable: "choice",
            choices: [
              { value: "yes", label: "Yes" },
              { value: "no", label: "No" },
            ],
          },
        },
        { id: "bye", kind: "action.text", options: { text: "OK, bye" } },
        {
          id: "email",
          kind: "action.field",
          options: {
            text: "Your email?",
            type: "email",
            variable: "email",
            retry_text: "Not an email: try again",
          },
        },
        { id: "why", kind: "action.wait_answer", options: { variable: "why" } },
        { id: "rate", kind: "action.rating", options: {} },
        {
          id: "thanks",
          kind: "action.text",
          options: { text: "Thanks {{ email }} ({{ choice }}, {{ why }}, {{ rating }}/5)" },
        },
      ],
      edges: [
        { from: "start", handle: "next", to: "ask" },
        { from: "ask", handle: "choice:no", to: "bye" },
        { from: "ask", handle: "choice:yes", to: "email" },
        { from: "email", handle: "next", to: "why" },
        { from: "why", handle: "next", to: "rate" },
        { from: "rate", handle: "next", to: "thanks" },
      ],
    };
    const id = await deployed(graph);
    const sessionId = await conversation();
    const runId = await trigger(id, sessionId);
    await waitingFor(runId, "picker");

    // The widget records the click by updating the picker message.
    const picker = (await botMessages(sessionId)).find((m) => m.type === "picker")!;
    const content = picker.content as {
      id: string;
      text: string;
      choices: { value: string; label: string; selected: boolean }[];
    };
    const clicked = await api("PATCH", `${site()}/conversation/${sessionId}/message/${picker.fingerprint}`, {
      content: { ...content, choices: content.choices.map((c) => ({ ...c, selected: c.value === "yes" })) },
    });
    expect(clicked.status).toBe(200);
    await waitingFor(runId, "field");

    // An invalid typed answer gets the retry message; a valid field value moves on.
    await visitorSays(sessionId, "not an email");
    await poll("the retry message", async () =>
      (await botMessages(sessionId)).some((m) => m.content === "Not an email: try again"),
    );
    const field = (await botMessages(sessionId)).find((m) => m.type === "field")!;
    const fieldContent = field.content as Json;
    await api("PATCH", `${site()}/conversation/${sessionId}/message/${field.fingerprint}`, {
      content: { ...fieldContent, value: "Ada@Example.COM" },
    });
    await waitingFor(runId, "message");
    await visitorSays(sessionId, "it broke");
    await waitingFor(runId, "picker", 8);
    await visitorSays(sessionId, "4");
    const done = await waitRun(runId, ["completed", "failed"]);
    expect(done.status, JSON.stringify(done.log)).toBe("completed");
    expect(done.variables).toMatchObject({
      choice: "yes",
      email: "ada@example.com",
      why: "it broke",
      rating: 4,
    });
    const last = (await botMessages(sessionId)).at(-1)!;
    expect(last.content).toBe("Thanks ada@example.com (yes, it broke, 4/5)");
    expect(done.log.filter((s) => s.outcome === "retry").length).toBe(1);
  });

  it("takes the timeout branch when the visitor does not answer in time", async () => {
    const created = await api("POST", "/api/workflows", {
      name: "waits first",
      graph: {
        blocks: [
          { id: "start", kind: "start.code", options: {} },
          { id: "wait", kind: "action.wait_answer", options: { timeout_ms: 1000 } },
          { id: "late", kind: "action.text", options: { text: "Still there?" } },
        ],
        edges: [
          { from: "start", handle: "next", to: "wait" },
          { from: "wait", handle: "timeout", to: "late" },
        ],
      },
    });
    const id = created.body.data.workflow_id as string;
    // A code-triggered workflow may not begin by waiting, so this one is test-run from the editor.
    const validation = (await api("GET", `/api/workflows/${id}`)).body.data.validation;
    expect(validation.issues.map((i: Json) => i.code)).toEqual(["code_start_waits"]);
    void id;
    const ok = await deployed(
      chain(
        { id: "hi", kind: "action.text", options: { text: "Hi" } },
        { id: "wait", kind: "action.wait_answer", options: { timeout_ms: 1000 } },
      ),
    );
    const draft = (await api("GET", `/api/workflows/${ok}`)).body.data.draft as WorkflowGraph;
    draft.blocks.push({ id: "late", kind: "action.text", options: { text: "Still there?" } });
    draft.edges.push({ from: "wait", handle: "timeout", to: "late" });
    await api("PATCH", `/api/workflows/${ok}`, { graph: draft });
    await api("POST", `/api/workflows/${ok}/deploy`);
    const sessionId = await conversation();
    const runId = await trigger(ok, sessionId);
    const done = await waitRun(runId, ["completed", "failed"]);
    expect(done.log.find((s) => s.block_id === "wait" && s.outcome === "resumed")?.handle).toBe("timeout");
    expect((await botMessages(sessionId)).map((m) => m.content)).toEqual(["Hi", "Still there?"]);
  });

  it("branches on every condition kind", async () => {
    const cond = (id: string, kind: string, options: Json, next: string) =>
      [
        { id, kind, options },
        { id: `${id}_t`, kind: "action.text", options: { text: `${id}:T` } },
        { id: `${id}_f`, kind: "action.text", options: { text: `${id}:F` } },
        next,
      ] as const;
    const conds = [
      cond("new", "condition.is_new", {}, "cmp"),
      cond("cmp", "condition.compare", { left: "{{ amount }}", operator: "gt", right: "100" }, "rx"),
      cond("rx", "condition.compare", { left: "{{ data.plan }}", operator: "regex", right: "^pr" }, "set"),
      cond("set", "condition.compare", { left: "{{ nothing }}", operator: "is_set" }, "seg"),
      cond("seg", "condition.segments", { mode: "all", segments: ["vip"] }, "mail"),
      cond("mail", "condition.email_known", {}, "url"),
      cond("url", "condition.page_url", { mode: "contains", value: "/pricing" }, "hours"),
      cond(
        "hours",
        "condition.business_hours",
        { timezone: "Europe/Paris", hours: [{ days: [0, 1, 2, 3, 4, 5, 6], from: "00:00", to: "23:59" }] },
        "since",
      ),
      cond(
        "since",
        "condition.time_since",
        { of: "visitor", operator: "less_than", duration_ms: 3_600_000 },
        "ab",
      ),
    ];
    const blocks: WorkflowGraph["blocks"] = [{ id: "start", kind: "start.code", options: {} }];
    const edges: WorkflowGraph["edges"] = [{ from: "start", handle: "next", to: "new" }];
    for (const [c, t, f, next] of conds) {
      blocks.push(c, t, f);
      edges.push({ from: c.id, handle: "true", to: t.id }, { from: c.id, handle: "false", to: f.id });
      edges.push({ from: t.id, handle: "next", to: next }, { from: f.id, handle: "next", to: next });
    }
    blocks.push(
      {
        id: "ab",
        kind: "condition.ab_split",
        options: {
          branches: [
            { name: "a", weight: 0 },
            { name: "b", weight: 5 },
          ],
        },
      },
      { id: "ab_b", kind: "action.text", options: { text: "ab:b" } },
    );
    edges.push({ from: "ab", handle: "b", to: "ab_b" });
    const id = await deployed({ blocks, edges });
    const sessionId = await conversation({
      email: "x@example.com",
      segments: ["vip"],
      data: { plan: "premium" },
    });
    await visitorSays(sessionId, "hello");
    await api("POST", `/api/conversations/${sessionId}/page`, {
      url: "https://shop.example.com/pricing?x=1",
    });
    const runId = await trigger(id, sessionId, { amount: 250 });
    const done = await waitRun(runId, ["completed", "failed"]);
    expect(done.status, JSON.stringify(done.log)).toBe("completed");
    expect((await botMessages(sessionId)).map((m) => m.content)).toEqual([
      "new:T",
      "cmp:T",
      "rx:T",
      "set:F",
      "seg:T",
      "mail:T",
      "url:T",
      "hours:T",
      "since:T",
      "ab:b",
    ]);
    // A second run: the bot has written now, so the conversation is no longer new.
    const again = await trigger(id, sessionId, { amount: 3 });
    await waitRun(again, "completed");
    const texts = (await botMessages(sessionId)).map((m) => m.content).slice(10);
    expect(texts.slice(0, 2)).toEqual(["new:F", "cmp:F"]);
  });

  it("calls an HTTP service, maps its answer to variables and takes the failure branch on errors and refused addresses", async () => {
    const graph = (url: string): WorkflowGraph => ({
      blocks: [
        { id: "start", kind: "start.code", options: {} },
        {
          id: "call",
          kind: "action.http",
          options: {
            method: "POST",
            url,
            headers: [{ name: "X-Order", value: "{{ order }}" }],
            body: '{"order":"{{ order }}","note":"{{ note }}"}',
            response: [
              { path: "order.status", variable: "status" },
              { path: "order.total", variable: "total" },
            ],
            status_variable: "code",
          },
        },
        {
          id: "ok",
          kind: "action.text",
          options: { text: "Order {{ order }} is {{ status }} ({{ total }}, HTTP {{ code }})" },
        },
        {
          id: "ko",
          kind: "action.text",
          options: { text: "Could not check order {{ order }} (HTTP {{ code }})" },
        },
      ],
      edges: [
        { from: "start", handle: "next", to: "call" },
        { from: "call", handle: "success", to: "ok" },
        { from: "call", handle: "failure", to: "ko" },
      ],
    });
    const good = await deployed(graph(`${orders.url}/orders/{{ order }}`));
    const sessionId = await conversation();
    const note = 'quote " backslash \\ newline \n emoji 🎉';
    const runId = await trigger(good, sessionId, { order: "42", note });
    const done = await waitRun(runId, ["completed", "failed"]);
    expect(done.status, JSON.stringify(done.log)).toBe("completed");
    expect((await botMessages(sessionId)).at(-1)?.content).toBe("Order 42 is shipped (19.5, HTTP 200)");
    const call = orders.calls.at(-1)!;
    expect(call.url).toBe("/orders/42");
    expect(JSON.parse(call.body)).toEqual({ order: "42", note });
    expect(call.headers["x-order"]).toBe("42");
    expect(call.headers["idempotency-key"]).toBe(`${runId}:1`);

    const failing = await trigger(good, sessionId, { order: "7" });
    await waitRun(failing, "completed");
    expect((await botMessages(sessionId)).at(-1)?.content).toBe("Could not check order 7 (HTTP 500)");
    const failedStep = (await run(failing)).log.find((s) => s.block_id === "call")!;
    expect(failedStep.outcome).toBe("failed");
    expect(failedStep.log.join(" ")).toContain("500");

    // The SSRF guard refuses a private address the allow-list does not name.
    const guarded = await deployed(graph("http://169.254.169.254/latest/meta-data"));
    const refused = await trigger(guarded, sessionId, { order: "9" });
    await waitRun(refused, "completed");
    expect((await run(refused)).log.find((s) => s.block_id === "call")?.log.join(" ")).toMatch(
      /not a public address/,
    );
  });

  it("lets the AI agent answer from the knowledge base, or hand over to a human when it cannot", async () => {
    const source = await api("POST", "/api/knowledge/sources", {
      kind: "answer",
      question: "How long is the warranty on a bike frame?",
      answer: "Every bike frame carries a lifetime warranty against manufacturing defects.",
    });
    expect(source.status).toBe(201);
    const agentFlow = await deployed(
      chain({ id: "agent", kind: "action.agent", options: { instruction: "Be brief" } }),
    );

    const answered = await conversation();
    await visitorSays(answered, "what warranty do bike frames have?");
    const done = await waitRun(await trigger(agentFlow, answered), ["failed", "completed"]);
    expect(done.status).toBe("completed");
    expect(done.log.find((s) => s.block_id === "agent")?.log.join(" ")).toMatch(/the agent answered/);
    const reply = (await botMessages(answered)).at(-1)!;
    expect(reply.content).toContain("lifetime warranty");
    expect(reply.content).toContain("Source: How long is the warranty on a bike frame?");
    expect(reply.user).toMatchObject({ user_id: "hugo:agent", nickname: "Hugo" });
    const turns = (await api("GET", `/api/agent/turns?session_id=${answered}`)).body.data;
    expect(turns[0]).toMatchObject({
      source: "workflow",
      workflow_run_id: done.run_id,
      instruction: "Be brief",
      status: "answered",
      fingerprint: reply.fingerprint,
      trace: { decision: "answer", provider: "offline", queries: ["what warranty do bike frames have?"] },
    });
    expect(turns[0].trace.passages[0]).toMatchObject({ source_id: source.body.data.source_id });

    const unknown = await conversation();
    await visitorSays(unknown, "What is the boiling point of mercury?");
    const handed = await waitRun(await trigger(agentFlow, unknown), ["failed", "completed"]);
    expect(handed.log.find((s) => s.block_id === "agent")?.log.join(" ")).toMatch(/the agent escalated/);
    expect((await botMessages(unknown)).at(-1)?.content).toMatch(/handing you over/);
    const moved = (await api("GET", `${site()}/conversation/${unknown}`)).body.data;
    expect(moved).toMatchObject({ inbox_id: null, state: "unresolved" });
  });

  it("starts event workflows when their event happens, and hands over to another workflow", async () => {
    const followUp = await deployed(
      chain({ id: "t", kind: "action.text", options: { text: "Follow-up for {{ message }}" } }),
      "follow-up",
    );
    const onRefund = await deployed({
      blocks: [
        { id: "start", kind: "start.message_matches", options: { mode: "any_word", value: "refund, money" } },
        { id: "t", kind: "action.text", options: { text: "About your refund: {{ message }}" } },
        { id: "go", kind: "action.start_workflow", options: { workflow_id: followUp } },
      ],
      edges: [
        { from: "start", handle: "next", to: "t" },
        { from: "t", handle: "next", to: "go" },
      ],
    });
    const onEvent = await deployed({
      blocks: [
        { id: "start", kind: "start.event", options: { name: "signup" } },
        { id: "t", kind: "action.text", options: { text: "Welcome on the {{ plan }} plan" } },
      ],
      edges: [{ from: "start", handle: "next", to: "t" }],
    });
    const onPage = await deployed({
      blocks: [
        { id: "start", kind: "start.url_changed", options: { mode: "contains", value: "/checkout" } },
        { id: "t", kind: "action.text", options: { text: "Need help paying? ({{ page_url }})" } },
      ],
      edges: [{ from: "start", handle: "next", to: "t" }],
    });
    const onState = await deployed({
      blocks: [
        { id: "start", kind: "start.state_changed", options: { state: "resolved" } },
        { id: "t", kind: "action.rating", options: { timeout_ms: 1000 } },
      ],
      edges: [{ from: "start", handle: "next", to: "t" }],
    });
    const onEmail = await deployed({
      blocks: [
        { id: "start", kind: "start.meta_updated", options: { field: "email" } },
        { id: "t", kind: "action.text", options: { text: "Got your email {{ email }}" } },
      ],
      edges: [{ from: "start", handle: "next", to: "t" }],
    });
    void onRefund;
    void onEvent;
    void onPage;
    void onState;
    void onEmail;

    const sessionId = await conversation();
    await visitorSays(sessionId, "I want my Refund please");
    await poll("the follow-up", async () =>
      (await botMessages(sessionId)).some((m) => m.content === "Follow-up for I want my Refund please"),
    );
    const runs = (await api("GET", `/api/conversations/${sessionId}/runs`)).body.data as {
      source: string;
      workflow_id: string;
    }[];
    expect(runs.map((r) => r.source)).toEqual(["workflow", "event"]);
    expect(runs[0]!.workflow_id).toBe(followUp);

    await api("POST", `/api/conversations/${sessionId}/events`, { name: "signup", data: { plan: "pro" } });
    await poll("the signup message", async () =>
      (await botMessages(sessionId)).some((m) => m.content === "Welcome on the pro plan"),
    );
    await api("POST", `/api/conversations/${sessionId}/page`, { url: "https://shop.example.com/checkout" });
    await poll("the checkout message", async () =>
      (await botMessages(sessionId)).some(
        (m) => m.content === "Need help paying? (https://shop.example.com/checkout)",
      ),
    );
    await api("PATCH", `${site()}/conversation/${sessionId}/meta`, { email: "bob@example.com" });
    await poll("the email message", async () =>
      (await botMessages(sessionId)).some((m) => m.content === "Got your email bob@example.com"),
    );
    await api("PATCH", `${site()}/conversation/${sessionId}/state`, { state: "resolved" });
    await poll("the rating request", async () =>
      (await botMessages(sessionId)).some((m) => m.type === "picker"),
    );
    // A message that matches nothing starts nothing (the rating run is waiting for its answer anyway).
    const before = (await api("GET", `/api/conversations/${sessionId}/runs`)).body.data.length;
    await visitorSays(sessionId, "5");
    await poll("the rating run to finish", async () => {
      const latest = (await api("GET", `/api/conversations/${sessionId}/runs`)).body.data[0];
      return latest.status === "completed" && latest.variables.rating === 5;
    });
    expect((await api("GET", `/api/conversations/${sessionId}/runs`)).body.data.length).toBe(before);
  });

  it("keeps a run on the version it started with, and a new trigger supersedes the active run", async () => {
    const id = await deployed(
      chain({
        id: "q",
        kind: "action.picker",
        options: { text: "v1?", choices: [{ value: "go", label: "Go" }] },
      }),
    );
    const graphV1 = (await api("GET", `/api/workflows/${id}`)).body.data.draft as WorkflowGraph;
    graphV1.blocks.push({ id: "after", kind: "action.text", options: { text: "after v1" } });
    graphV1.edges.push({ from: "q", handle: "choice:go", to: "after" });
    await api("PATCH", `/api/workflows/${id}`, { graph: graphV1 });
    expect((await api("POST", `/api/workflows/${id}/deploy`)).body.data.version).toBe(2);

    const sessionId = await conversation();
    const first = await trigger(id, sessionId);
    await waitingFor(first, "picker");
    // Version 3 changes the text; the waiting run stays on version 2.
    const v3 = structuredClone(graphV1);
    (v3.blocks.find((b) => b.id === "after")!.options as Json).text = "after v3";
    await api("PATCH", `/api/workflows/${id}`, { graph: v3 });
    expect((await api("POST", `/api/workflows/${id}/deploy`)).body.data.version).toBe(3);
    await visitorSays(sessionId, "go");
    await waitRun(first, "completed");
    expect((await botMessages(sessionId)).at(-1)?.content).toBe("after v1");
    expect((await run(first)).version).toBe(2);

    const second = await trigger(id, sessionId);
    await waitingFor(second, "picker");
    const third = await trigger(id, sessionId);
    const superseded = await run(second);
    expect(superseded.status).toBe("cancelled");
    expect(superseded.end_reason).toBe("superseded");
    await waitingFor(third, "picker");
    const cancelled = await api("POST", `/api/runs/${third}/cancel`);
    expect(cancelled.body.data.status).toBe("cancelled");
    expect((await api("POST", `/api/runs/${third}/cancel`)).body.reason).toBe("run_not_active");
    const versions = (await api("GET", `/api/workflows/${id}/versions`)).body.data as { version: number }[];
    expect(versions.map((v) => v.version)).toEqual([3, 2, 1]);
  });

  it("answers every trigger mistake with its status and code, and replays an idempotent trigger", async () => {
    const sessionId = await conversation();
    const draftOnly = (await api("POST", "/api/workflows", { name: "draft" })).body.data
      .workflow_id as string;
    const eventOnly = await deployed({
      blocks: [
        { id: "start", kind: "start.message", options: {} },
        { id: "t", kind: "action.text", options: { text: "hi" } },
      ],
      edges: [{ from: "start", handle: "next", to: "t" }],
    });
    const good = await deployed(chain({ id: "t", kind: "action.text", options: { text: "once" } }));
    const unknown = "scenario_00000000-0000-4000-8000-000000000000";
    const cases: [string, unknown, number, string][] = [
      ["/api/scenario/nope/trigger", { session_id: sessionId }, 400, "invalid_params"],
      [`/api/scenario/${good}/trigger`, { session_id: "nope" }, 400, "invalid_body"],
      [`/api/scenario/${good}/trigger`, {}, 400, "invalid_body"],
      [
        `/api/scenario/${good}/trigger`,
        { session_id: sessionId, variables: { nested: { a: 1 } } },
        400,
        "invalid_body",
      ],
      [
        `/api/scenario/${good}/trigger`,
        { session_id: sessionId, variables: { "bad key": 1 } },
        400,
        "invalid_body",
      ],
      [`/api/scenario/${unknown}/trigger`, { session_id: sessionId }, 404, "workflow_not_found"],
      [
        `/api/scenario/${good}/trigger`,
        { session_id: "session_00000000-0000-4000-8000-000000000000" },
        404,
        "session_not_found",
      ],
      [`/api/scenario/${draftOnly}/trigger`, { session_id: sessionId }, 409, "workflow_not_deployed"],
      [`/api/scenario/${eventOnly}/trigger`, { session_id: sessionId }, 409, "workflow_not_startable"],
    ];
    for (const [path, body, status, reason] of cases) {
      const res = await api("POST", path, body);
      expect([path, res.status, res.body.reason]).toEqual([path, status, reason]);
    }
    // Another website's conversation is unknown here, never "forbidden".
    const other = await server.hugo.services.websites.create({ name: "Other", domain: "other.example" });
    const otherSession = await server.hugo.services.conversations.create(other.id);
    const leak = await api("POST", `/api/scenario/${good}/trigger`, { session_id: otherSession.session_id });
    expect([leak.status, leak.body.reason]).toEqual([404, "session_not_found"]);
    const otherToken = await server.hugo.services.tokens.create(other.id, { name: "other" });
    const cross = await fetch(`${server.url}/api/scenario/${good}/trigger`, {
      method: "POST",
      headers: { authorization: `Bearer ${otherToken.token}`, "content-type": "application/json" },
      body: JSON.stringify({ session_id: otherSession.session_id }),
    });
    expect([cross.status, ((await cross.json()) as Json).reason]).toEqual([404, "workflow_not_found"]);
    const anonymous = await fetch(`${server.url}/api/scenario/${good}/trigger`, { method: "POST" });
    expect(anonymous.status).toBe(401);

    // With and without the trailing slash; the same Idempotency-Key starts one run.
    const key = { "idempotency-key": `trigger-${dialect}-${Date.now()}` };
    const a = await api("POST", `/api/scenario/${good}/trigger/`, { session_id: sessionId }, key);
    const b = await api("POST", `/api/scenario/${good}/trigger/`, { session_id: sessionId }, key);

    expect(a.status).toBe(202);
    expect(b.body.data.run_id).toBe(a.body.data.run_id);
    await waitRun(a.body.data.run_id, "completed");
    expect((await api("POST", `/api/scenario/${good}/trigger`, { session_id: sessionId })).status).toBe(202);
    await poll(
      "the second run",
      async () => (await botMessages(sessionId)).filter((m) => m.content === "once").length === 2,
    );
    expect((await botMessages(sessionId)).filter((m) => m.content === "once")).toHaveLength(2);
  });

  it("runs a trigger's first steps in its transaction, and leaves a first batch that fails to the job", async () => {
    const sessionId = await conversation();
    await ws.subscribe(sessionId, 0);
    const texts = async () =>
      (await botMessages(sessionId)).map((m) => (typeof m.content === "string" ? m.content : m.type));

    // Committed with the trigger: the answer already reports where the run stands.
    const straight = await deployed(
      chain(
        { id: "a", kind: "action.text", options: { text: "one" } },
        { id: "b", kind: "action.text", options: { text: "two" } },
      ),
    );
    const done = await api("POST", `/api/scenario/${straight}/trigger/`, { session_id: sessionId });
    expect(done.status).toBe(202);
    expect(done.body.data.status).toBe("completed");
    expect(await texts()).toEqual(["one", "two"]);
    const asks = await deployed(
      chain({
        id: "ask",
        kind: "action.picker",
        options: { text: "Pick", choices: [{ value: "x", label: "X" }] },
      }),
    );
    const parked = await api("POST", `/api/scenario/${asks}/trigger/`, { session_id: sessionId });
    expect(parked.body.data.status).toBe("waiting");
    // An HTTP block first: nothing runs in the trigger; a job makes the call.
    const calls = orders.calls.length;
    const remote = await deployed(
      chain({ id: "call", kind: "action.http", options: { method: "GET", url: `${orders.url}/orders/42` } }),
    );
    const later = await api("POST", `/api/scenario/${remote}/trigger/`, { session_id: sessionId });
    expect(later.body.data.status).toBe("running");
    await waitRun(later.body.data.run_id, "completed");
    expect(orders.calls.length).toBe(calls + 1);

    // The database refuses the second message (as a failing disk or a bug would): the first batch
    // rolls back to its savepoint — its first message too, and that message's realtime event — the
    // trigger still answers 202, and the job runs the run again, which fails it at that block.
    const db = server.hugo.database.db;
    if (dialect === "sqlite") {
      await sql`create trigger refuse_message before insert on messages when new.content like '%refused%'
        begin select raise(abort, 'refused by test'); end`.execute(db);
    } else {
      await sql`create function refuse_message() returns trigger language plpgsql as $$
        begin
          if new.content like '%refused%' then raise exception 'refused by test'; end if;
          return new;
        end $$`.execute(db);
      await sql`create trigger refuse_message before insert on messages for each row
        execute function refuse_message()`.execute(db);
    }
    const flaky = await deployed(
      chain(
        { id: "a", kind: "action.text", options: { text: "before the refusal" } },
        { id: "b", kind: "action.text", options: { text: "refused" } },
      ),
    );
    try {
      const res = await api("POST", `/api/scenario/${flaky}/trigger/`, { session_id: sessionId });
      expect([res.status, res.body.data.status]).toEqual([202, "running"]);
      const failed = await waitRun(res.body.data.run_id, "failed");
      expect(failed.end_reason).toBe("b: internal error");
      expect(failed.log.map((l) => [l.block_id, l.outcome])).toEqual([["b", "failed"]]);
    } finally {
      await sql`drop trigger refuse_message${sql.raw(dialect === "postgres" ? " on messages" : "")}`.execute(
        db,
      );
      if (dialect === "postgres") await sql`drop function refuse_message()`.execute(db);
    }
    const retried = await api("POST", `/api/scenario/${flaky}/trigger/`, { session_id: sessionId });
    expect(retried.body.data.status).toBe("completed");
    const sent = ["one", "two", "picker", "before the refusal", "refused"];
    expect(await texts()).toEqual(sent);
    await waitFor("the last message on the socket", () =>
      ws.events(sessionId).some((e) => (e.data as Message | undefined)?.content === "refused"),
    );
    const live = ws
      .events(sessionId)
      .filter((e) => e.name === "message:received")
      .map((e) => (e.data as Message).content);
    expect(live.map((c) => (typeof c === "string" ? c : "picker"))).toEqual(sent);
  });

  it("validates graphs on save and refuses to deploy one with problems, naming the block and field", async () => {
    const graph: WorkflowGraph = {
      blocks: [
        { id: "start", kind: "start.code", options: {} },
        { id: "ask", kind: "action.picker", options: { text: "", choices: [] } },
        { id: "orphan", kind: "action.text", options: { text: "never reached" } },
        { id: "loop1", kind: "action.text", options: { text: "a" } },
        { id: "loop2", kind: "action.text", options: { text: "b" } },
        { id: "weird", kind: "action.teleport", options: {} },
      ],
      edges: [
        { from: "start", handle: "next", to: "loop1" },
        { from: "loop1", handle: "next", to: "loop2" },
        { from: "loop2", handle: "next", to: "loop1" },
        { from: "start", handle: "next", to: "ghost" },
      ],
    };
    const created = await api("POST", "/api/workflows", { name: "broken", graph });
    expect(created.status).toBe(201);
    const issues = created.body.data.validation.issues as {
      block_id: string | null;
      field: string | null;
      code: string;
    }[];
    expect(created.body.data.validation.valid).toBe(false);
    const codes = new Set(issues.map((i) => i.code));
    for (const code of [
      "invalid_option",
      "unreachable",
      "loop_without_wait",
      "unknown_kind",
      "dangling_edge",
      "duplicate_edge",
    ]) {
      expect(codes, code).toContain(code);
    }
    expect(issues.find((i) => i.code === "invalid_option" && i.block_id === "ask")?.field).toBeTruthy();
    const deploy = await api("POST", `/api/workflows/${created.body.data.workflow_id}/deploy`);
    expect([deploy.status, deploy.body.reason]).toEqual([422, "workflow_invalid"]);
    expect(deploy.body.data.issues.length).toBe(issues.length);
  });

  it("exports, imports, duplicates, lists and deletes workflows", async () => {
    const id = await deployed(
      chain({ id: "t", kind: "action.text", options: { text: "exported" } }),
      "Exported one",
    );
    const exported = await fetch(`${server.url}/api/workflows/${id}/export`, {
      headers: { authorization: `Bearer ${server.seed.token.token}` },
    });
    expect(exported.headers.get("content-disposition")).toContain("Exported-one.hugo-workflow.json");
    const file = (await exported.json()) as Json;
    expect(file).toMatchObject({ format: "hugo.workflow", format_version: 1, name: "Exported one" });
    const imported = await api("POST", "/api/workflows/import", file);
    expect(imported.status).toBe(201);
    expect(imported.body.data.workflow_id).not.toBe(id);
    expect(imported.body.data.draft).toEqual(file.graph);
    expect(imported.body.data.deployed_version).toBeNull();
    const copy = await api("POST", `/api/workflows/${id}/duplicate`);
    expect(copy.body.data.name).toBe("Exported one (copy)");
    const list = (await api("GET", "/api/workflows")).body.data as {
      workflow_id: string;
      has_undeployed_changes: boolean;
    }[];
    expect(list.find((w) => w.workflow_id === id)?.has_undeployed_changes).toBe(false);
    const blocks = (await api("GET", "/api/workflows/blocks")).body.data as { kind: string; options: Json }[];
    expect(blocks.length).toBeGreaterThanOrEqual(38);
    expect(blocks.find((b) => b.kind === "action.field")?.options).toMatchObject({ type: "object" });
    expect((await api("DELETE", `/api/workflows/${id}`)).status).toBe(200);
    expect((await api("GET", `/api/workflows/${id}`)).body.reason).toBe("workflow_not_found");
    expect((await api("POST", "/api/workflows/import", { ...file, format: "other" })).status).toBe(400);
  });
});
