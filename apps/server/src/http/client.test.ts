import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  HugoClient,
  NotFoundError,
  PermissionError,
  UnprocessableError,
} from "@hugo/client";
import type { WorkflowGraph } from "@hugo/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pickerFieldGraph } from "../../test/graphs.ts";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";

const UNKNOWN_SESSION = "session_00000000-0000-4000-8000-000000000000";
const UNKNOWN_WORKFLOW = "scenario_00000000-0000-4000-8000-000000000000";

const greeting: WorkflowGraph = {
  blocks: [
    { id: "start", kind: "start.code", options: {} },
    { id: "hello", kind: "action.text", options: { text: "Hello, {{ plan }} customer!" } },
  ],
  edges: [{ from: "start", handle: "next", to: "hello" }],
};

/** A rejection, for asserting on its class and fields. */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable("expected the call to fail"),
    (error: unknown) => error,
  );

/** @hugo/client against a real Hugo on loopback: every area's happy path, and the server's errors as typed errors. */
describe.each(["sqlite", "postgres"] as const)("the typed client against Hugo on %s", (dialect) => {
  let server: RunningHugo;
  let client: HugoClient;
  let site: string;
  beforeAll(async () => {
    server = await startHugo(dialect, { OUTBOUND_ALLOW_HOSTS: "127.0.0.1" });
    client = new HugoClient({ baseUrl: server.url, token: server.seed.token.token });
    site = server.seed.websiteId;
  });
  afterAll(() => server?.stop());

  it("creates a workflow, deploys it, triggers it and follows the run", async () => {
    const created = await client.workflows.create({ name: "Greeting", graph: greeting });
    expect(created).toMatchObject({ name: "Greeting", deployed_version: null });
    const id = created.workflow_id;

    const undeployed = await failure(client.workflows.trigger(id, { session_id: server.seed.sessionId }));
    expect(undeployed).toBeInstanceOf(ConflictError);
    expect(undeployed).toMatchObject({ status: 409, code: "workflow_not_deployed" });

    const version = await client.workflows.deploy(id);
    expect(version).toMatchObject({ workflow_id: id, version: 1 });
    const run = await client.workflows.trigger(id, {
      session_id: server.seed.sessionId,
      variables: { plan: "pro" },
    });
    expect(run).toMatchObject({ workflow_id: id, session_id: server.seed.sessionId, version: 1 });
    expect((await client.runs.get(run.run_id)).run_id).toBe(run.run_id);
    expect((await client.workflows.listRuns(id, { limit: 5 })).map((r) => r.run_id)).toContain(run.run_id);
    expect((await client.conversations.listRuns(server.seed.sessionId)).map((r) => r.run_id)).toContain(
      run.run_id,
    );

    expect((await client.workflows.list()).map((w) => w.workflow_id)).toContain(id);
    expect((await client.workflows.get(id)).validation.valid).toBe(true);
    await client.workflows.update(id, { name: "Greeting v2" });
    expect((await client.workflows.deploy(id)).version).toBe(2);
    expect((await client.workflows.listVersions(id)).map((v) => v.version)).toEqual([2, 1]);
    expect((await client.workflows.getVersion(id, 1)).name).toBe("Greeting");
    expect((await client.workflows.activateVersion(id, 1)).deployed_version).toBe(1);

    const file = await client.workflows.export(id);
    expect(file).toMatchObject({ format: "hugo.workflow", name: "Greeting v2" });
    const imported = await client.workflows.import(file);
    const copy = await client.workflows.duplicate(id);
    expect(new Set([id, imported.workflow_id, copy.workflow_id]).size).toBe(3);
    const test = await client.workflows.test(copy.workflow_id, { variables: { plan: "test" } });
    expect(test).toMatchObject({ workflow_id: copy.workflow_id, version: null });
    expect((await client.workflows.blocks()).map((b) => b.kind)).toContain("start.code");

    await client.workflows.delete(copy.workflow_id);
    const gone = await failure(client.workflows.get(copy.workflow_id));
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone).toMatchObject({ status: 404, code: "workflow_not_found" });
  });

  it("cancels an active run, then says it has ended", async () => {
    const waiting = await client.workflows.create({
      name: "Waits for a click",
      graph: pickerFieldGraph({ question: "Continue?", yes: "Yes", thanks: "Thanks" }),
    });
    await client.workflows.deploy(waiting.workflow_id);
    const run = await client.workflows.trigger(waiting.workflow_id, { session_id: server.seed.sessionId });
    expect((await client.runs.cancel(run.run_id)).status).toBe("cancelled");
    const again = await failure(client.runs.cancel(run.run_id));
    expect(again).toMatchObject({ status: 409, code: "run_not_active" });
  });

  it("refuses to deploy an invalid draft, listing its problems", async () => {
    const broken = await client.workflows.create({
      name: "Broken",
      graph: { blocks: [{ id: "hello", kind: "action.text", options: { text: "" } }], edges: [] },
    });
    const error = await failure(client.workflows.deploy(broken.workflow_id));
    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error).toMatchObject({ status: 422, code: "workflow_invalid" });
    expect((error as UnprocessableError).issues?.length).toBeGreaterThan(0);
  });

  it("triggers the agent, and names the code and field of what it refuses", async () => {
    const turn = await client.agent.trigger({
      session_id: server.seed.sessionId,
      instruction: "VIP customer: premium support.",
    });
    expect(turn).toMatchObject({ turn_id: expect.stringMatching(/^turn_/), status: "queued" });
    expect((await client.agent.getTurn(turn.turn_id)).turn_id).toBe(turn.turn_id);
    const turns = await client.agent.listTurns({ session_id: server.seed.sessionId, limit: 5 });
    expect(turns.map((t) => t.turn_id)).toContain(turn.turn_id);

    const long = await failure(
      client.agent.trigger({ session_id: server.seed.sessionId, instruction: "x".repeat(2001) }),
    );
    expect(long).toBeInstanceOf(BadRequestError);
    expect(long).toMatchObject({
      status: 400,
      code: "instruction_too_long",
      field: "instruction",
      data: { limit: 2000 },
    });
    const malformed = await failure(client.agent.trigger({ session_id: "session_nope" }));
    expect(malformed).toMatchObject({ status: 400, code: "invalid_body", field: "session_id" });
    expect((malformed as BadRequestError).issues?.[0]?.path).toBe("session_id");
    const unknown = await failure(client.agent.trigger({ session_id: UNKNOWN_SESSION }));
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown).toMatchObject({ code: "session_not_found" });
    const missingTurn = await failure(client.agent.getTurn("turn_00000000-0000-4000-8000-000000000000"));
    expect(missingTurn).toMatchObject({ status: 404, code: "turn_not_found" });

    const settings = await client.agent.getSettings();
    expect((await client.agent.updateSettings({ guidance: "cautious" })).guidance).toBe("cautious");
    await client.agent.updateSettings({ guidance: settings.guidance });
    const noProvider = await failure(client.agent.checkProvider());
    expect(noProvider).toMatchObject({ status: 409, code: "provider_not_configured" });
  });

  it("adds knowledge sources and finds them", async () => {
    const source = await client.knowledge.createSource({
      kind: "answer",
      question: "Do you ship parcels abroad?",
      answer: "Yes: we ship parcels to forty countries, in five working days.",
    });
    expect(source).toMatchObject({ kind: "answer", status: "indexed" });
    const { data: hits, mode } = await client.knowledge.search({ q: "ship parcels abroad", limit: 3 });
    expect(mode).toBe("bm25");
    expect(hits[0]?.source_id).toBe(source.source_id);

    const imported = await client.knowledge.importSources({
      sources: [{ kind: "answer", question: "Can I pay by card?", answer: "Yes, every major card." }],
    });
    expect(imported).toMatchObject({ failed: [], created: [{ kind: "answer" }] });
    expect((await client.knowledge.getSource(source.source_id)).title).toBe("Do you ship parcels abroad?");
    await client.knowledge.updateSource(source.source_id, { enabled: false });
    const enabled = await client.knowledge.listSources({ enabled: true, kind: "answer" });
    expect(enabled.map((s) => s.source_id)).not.toContain(source.source_id);
    expect((await client.knowledge.reindexSource(source.source_id)).status).toBe("indexed");
    expect(await client.knowledge.deleteSource(source.source_id)).toBeNull();
    const deleted = await failure(client.knowledge.getSource(source.source_id));
    expect(deleted).toMatchObject({ status: 404, code: "source_not_found" });
    expect(await client.knowledge.getSettings()).toMatchObject({ embeddings: null });
    expect(await client.knowledge.updateSettings({ embeddings: null })).toMatchObject({ embeddings: null });
    const crawl = await failure(client.knowledge.crawl({ sitemap: "http://10.0.0.5/sitemap.xml" }));
    expect(crawl).toMatchObject({ status: 400, code: "url_not_allowed", field: "sitemap" });
  });

  it("creates, lists and revokes API tokens; a revoked or narrow token fails typed", async () => {
    const created = await client.tokens.create({ name: "backend", scopes: ["workflows:read"] });
    expect(created.token).toMatch(/^hugo_/);
    const listed = await client.tokens.list();
    expect(listed.find((t) => t.id === created.id)).toMatchObject({ name: "backend", revoked_at: null });

    const narrow = new HugoClient({ baseUrl: server.url, token: created.token });
    expect(Array.isArray(await narrow.workflows.list())).toBe(true);
    const scope = await failure(narrow.tokens.list());
    expect(scope).toBeInstanceOf(PermissionError);
    expect(scope).toMatchObject({ status: 403, code: "insufficient_scope" });

    expect(await client.tokens.revoke(created.id)).toEqual({});
    const revoked = await failure(narrow.workflows.list());
    expect(revoked).toBeInstanceOf(AuthenticationError);
    expect(revoked).toMatchObject({ status: 401, code: "token_revoked" });
    const anonymous = await failure(new HugoClient({ baseUrl: server.url }).workflows.list());
    expect(anonymous).toMatchObject({ status: 401, code: "unauthorized" });

    const empty = await failure(client.tokens.create({ name: "" }));
    expect(empty).toMatchObject({ status: 400, code: "invalid_body", field: "name" });
  });

  it("replays a POST sent again with the same Idempotency-Key, and refuses the key for another request", async () => {
    const first = await client.tokens.create({ name: "once" }, { idempotencyKey: "create-once" });
    const again = await client.tokens.create({ name: "once" }, { idempotencyKey: "create-once" });
    expect(again.id).toBe(first.id);
    const reused = await failure(client.tokens.create({ name: "twice" }, { idempotencyKey: "create-once" }));
    expect(reused).toMatchObject({ status: 422, code: "idempotency_key_reused", field: "Idempotency-Key" });
  });

  it("manages the website, operators and web hooks", async () => {
    expect((await client.website.get()).id).toBe(site);
    expect((await client.website.update({ name: "Acme" })).name).toBe("Acme");

    const ann = await client.operators.create({
      email: "ann@acme.example",
      name: "Ann",
      role: "agent",
      password: "correct horse battery",
    });
    expect((await client.operators.get(ann.id)).email).toBe("ann@acme.example");
    expect((await client.operators.update(ann.id, { role: "admin" })).role).toBe("admin");
    expect((await client.operators.list()).map((o) => o.id)).toContain(ann.id);
    const twin = await failure(
      client.operators.create({
        email: "ann@acme.example",
        name: "A",
        role: "agent",
        password: "x".repeat(12),
      }),
    );
    expect(twin).toMatchObject({ status: 409, code: "operator_exists" });
    await client.operators.delete(ann.id);

    const hook = await client.webhooks.create({ url: "http://127.0.0.1:9/hook", events: ["message:send"] });
    expect(hook.secret).toMatch(/^[0-9a-f]{64}$/);
    expect((await client.webhooks.list()).map((h) => h.id)).toContain(hook.id);
    await client.webhooks.delete(hook.id);
    const inside = await failure(client.webhooks.create({ url: "http://10.0.0.5/hook" }));
    expect(inside).toMatchObject({ status: 400, code: "url_not_allowed", field: "url" });
  });

  it("pushes conversation events and page views", async () => {
    const session = server.seed.sessionId;
    expect(
      await client.conversations.pushEvent(session, { name: "signed_up", data: { plan: "pro" } }),
    ).toEqual({});
    expect(await client.conversations.visitPage(session, { url: "https://acme.example/pricing" })).toEqual(
      {},
    );
    const unknown = await failure(
      client.conversations.visitPage(UNKNOWN_SESSION, { url: "https://a.example" }),
    );
    expect(unknown).toMatchObject({ status: 404, code: "session_not_found" });
  });

  it("speaks the widget's visitor API with the visitor credential", async () => {
    const widget = new HugoClient({ baseUrl: server.url });
    const visitor = await widget.widget.openSession(site, { token_id: `user-${dialect}` });
    expect(visitor).toMatchObject({ website_id: site, resumed: false });
    const options = { visitor: visitor.token };
    const sent = await widget.widget.sendMessage(site, { type: "text", content: "Hello there" }, options);
    expect(sent.fingerprint).toEqual(expect.any(Number));
    await widget.widget.updateVisitor(site, { email: "ada@example.com", data: { plan: "pro" } }, options);
    const found = await widget.widget.searchHelpdesk(site, { q: "refund" }, options);
    expect(found.query).toBe("refund");
    const onboarding = server.seed.workflows.find((w) => w.name === "Onboarding tour")!.workflow_id;
    const run = await widget.widget.runScenario(site, onboarding, {}, options);
    expect(run).toMatchObject({ workflow_id: onboarding, session_id: visitor.session_id });
    const notStartable = await failure(widget.widget.runScenario(site, UNKNOWN_WORKFLOW, {}, options));
    expect(notStartable).toMatchObject({ status: 404, code: "workflow_not_found" });
    const noPicker = await failure(widget.widget.answer(site, sent.fingerprint, { value: "yes" }, options));
    expect(noPicker).toBeInstanceOf(BadRequestError);

    // A file's raw bytes (a Blob with its type, or bytes with `contentType`), then its download.
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const uploaded = await widget.widget.uploadFile(
      site,
      new Blob([png], { type: "image/png" }),
      { name: "receipt.png" },
      options,
    );
    expect(uploaded).toMatchObject({ name: "receipt.png", type: "image/png", size: png.length });
    const served = await fetch(`${server.url}${uploaded.path}`);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(png);
    const raw = await widget.widget.uploadFile(
      site,
      new TextEncoder().encode("a,b\n"),
      { name: "rows.csv" },
      {
        ...options,
        contentType: "text/csv",
      },
    );
    expect(raw).toMatchObject({ type: "text/csv", size: 4 });
    const read = await widget.widget.markRead(site, {}, options);
    expect(read).toEqual(expect.any(Object));

    const anonymous = await failure(widget.widget.sendMessage(site, { type: "text", content: "hi" }));
    expect(anonymous).toBeInstanceOf(AuthenticationError);
    expect(anonymous).toMatchObject({ code: "unauthorized" });

    expect(await widget.demo.getOrder("1042")).toEqual({
      order: 1042,
      status: "delivered",
      refundable: true,
    });
    const noOrder = await failure(widget.demo.getOrder("12"));
    expect(noOrder).toMatchObject({ status: 404, code: "order_not_found" });
    const demoTurn = await widget.demo.triggerAgent({ session_id: visitor.session_id });
    expect(demoTurn.turn_id).toMatch(/^turn_/);
  });
});
