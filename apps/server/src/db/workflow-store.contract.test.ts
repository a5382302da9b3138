import { randomUUID } from "node:crypto";
import type { Conversation, WorkflowGraph } from "@hugo/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS, type TestDatabase } from "../../test/databases.ts";
import { EMPTY_META } from "../core/conversations.ts";
import type { NewMessage, RunRecord, RunStepRecord, Stores, WorkflowRecord } from "../core/ports.ts";
import { createStores } from "./stores.ts";
import { ActiveRunExistsError } from "./workflow-store.ts";

const graph = (start: string, extra = "end"): WorkflowGraph => ({
  blocks: [
    { id: "start", kind: start, options: {} },
    { id: extra, kind: "flow.end", options: {}, position: { x: 1, y: 2 }, label: "The end" },
  ],
  edges: [{ from: "start", handle: "next", to: extra }],
});

/** The WorkflowStore contract, run against SQLite and PostgreSQL. */
describe.each(DIALECTS)("workflow store contract on $dialect", ({ fresh }) => {
  let tdb: TestDatabase;
  let stores: Stores;
  let websiteId: string;
  let otherWebsiteId: string;

  beforeAll(async () => {
    tdb = await fresh();
    stores = createStores(tdb.database.db, tdb.database.sqlite);
    websiteId = await newWebsite();
    otherWebsiteId = await newWebsite();
  });
  afterAll(() => tdb?.drop());

  async function newWebsite(): Promise<string> {
    const id = randomUUID();
    await stores.websites.create({ id, name: "Site", domain: "", created_at: 1 });
    return id;
  }

  const newWorkflow = (site: string, patch: Partial<WorkflowRecord> = {}): WorkflowRecord => ({
    id: `scenario_${randomUUID()}`,
    website_id: site,
    name: "Welcome",
    description: "Greets visitors",
    draft: graph("start.message"),
    browser_startable: false,
    deployed_version: null,
    latest_version: 0,
    deployed_start: null,
    created_at: 1_000,
    updated_at: 1_000,
    ...patch,
  });

  /** Creates a workflow and deploys its draft as version 1. */
  async function deployedWorkflow(site: string, start: string, createdAt = 1_000): Promise<WorkflowRecord> {
    const w = newWorkflow(site, { draft: graph(start), created_at: createdAt });
    await stores.workflows.create(w);
    await stores.workflows.addVersion({
      website_id: site,
      workflow_id: w.id,
      version: 1,
      name: w.name,
      graph: w.draft,
      deployed_at: 2_000,
    });
    return (await stores.workflows.update(site, w.id, {
      deployed_version: 1,
      latest_version: 1,
      deployed_start: start,
      updated_at: 2_000,
    }))!;
  }

  const newRun = (site: string, patch: Partial<RunRecord> = {}): RunRecord => ({
    id: `run_${randomUUID()}`,
    website_id: site,
    workflow_id: `scenario_${randomUUID()}`,
    version: 1,
    graph: null,
    session_id: `session_${randomUUID()}`,
    status: "running",
    test: false,
    source: "api",
    source_event: null,
    block_id: "start",
    step: 0,
    wait: null,
    variables: { name: "Ada", age: 36, vip: true },
    started_at: 5_000,
    updated_at: 5_000,
    ended_at: null,
    end_reason: null,
    ...patch,
  });

  const complete = (run: RunRecord, at = 9_000) =>
    stores.workflows.advanceRun(run.website_id, run.id, run.step, 1, {
      status: "completed",
      block_id: "end",
      ended_at: at,
      end_reason: "end_block",
      updated_at: at,
    });

  const newConversation = (site: string): Conversation => ({
    session_id: `session_${randomUUID()}`,
    website_id: site,
    inbox_id: null,
    state: "pending",
    is_blocked: false,
    assigned: null,
    meta: { ...EMPTY_META },
    created_at: 1,
    updated_at: 1,
    last_message: "",
    unread: { operator: 0, visitor: 0 },
    last_seq: 1,
  });

  const message = (
    from: "user" | "operator",
    timestamp: number,
    type: NewMessage["type"] = "text",
  ): NewMessage => ({
    type,
    from,
    origin: "chat",
    content: "hello",
    fingerprint: Math.floor(Math.random() * 1e12) + 1,
    timestamp,
    user: {},
    automated: false,
    stealth: type === "note",
    excerpt: "hello",
  });

  describe("workflows", () => {
    it("creates, finds and lists a workflow only within its website", async () => {
      const site = await newWebsite();
      const a = newWorkflow(site, { created_at: 1_000, browser_startable: true });
      const b = newWorkflow(site, { created_at: 2_000, name: "Second" });
      await stores.workflows.create(b);
      await stores.workflows.create(a);
      expect(await stores.workflows.find(site, a.id)).toEqual(a);
      expect(await stores.workflows.find(otherWebsiteId, a.id)).toBeUndefined();
      expect(await stores.workflows.find(site, "scenario_missing")).toBeUndefined();
      expect((await stores.workflows.list(site)).map((w) => w.id)).toEqual([a.id, b.id]);
      expect(await stores.workflows.list(otherWebsiteId)).toEqual([]);
    });

    it("updates the given fields and returns the updated workflow", async () => {
      const w = newWorkflow(websiteId);
      await stores.workflows.create(w);
      const draft = graph("start.code", "done");
      const updated = await stores.workflows.update(websiteId, w.id, {
        name: "Renamed",
        draft,
        browser_startable: true,
        updated_at: 3_000,
      });
      const expected = { ...w, name: "Renamed", draft, browser_startable: true, updated_at: 3_000 };
      expect(updated).toEqual(expected);
      expect(await stores.workflows.find(websiteId, w.id)).toEqual(expected);
      const deployed = await stores.workflows.update(websiteId, w.id, {
        deployed_version: 1,
        latest_version: 1,
        deployed_start: "start.code",
        browser_startable: false,
        description: "",
        updated_at: 4_000,
      });
      expect(deployed).toMatchObject({
        deployed_version: 1,
        latest_version: 1,
        deployed_start: "start.code",
        browser_startable: false,
        description: "",
        name: "Renamed",
      });
      const undeployed = await stores.workflows.update(websiteId, w.id, {
        deployed_version: null,
        deployed_start: null,
        updated_at: 5_000,
      });
      expect(undeployed).toMatchObject({ deployed_version: null, deployed_start: null, latest_version: 1 });
    });

    it("does not update a missing workflow or another website's", async () => {
      const w = newWorkflow(websiteId);
      await stores.workflows.create(w);
      expect(
        await stores.workflows.update(otherWebsiteId, w.id, { name: "x", updated_at: 2 }),
      ).toBeUndefined();
      expect(
        await stores.workflows.update(websiteId, "scenario_missing", { name: "x", updated_at: 2 }),
      ).toBeUndefined();
      expect(await stores.workflows.find(websiteId, w.id)).toEqual(w);
    });

    it("removes a workflow only from its own website, and only once", async () => {
      const w = newWorkflow(websiteId);
      await stores.workflows.create(w);
      expect(await stores.workflows.remove(otherWebsiteId, w.id)).toBe(false);
      expect(await stores.workflows.find(websiteId, w.id)).toEqual(w);
      expect(await stores.workflows.remove(websiteId, w.id)).toBe(true);
      expect(await stores.workflows.find(websiteId, w.id)).toBeUndefined();
      expect(await stores.workflows.remove(websiteId, w.id)).toBe(false);
    });
  });

  describe("versions", () => {
    it("adds, finds and lists versions newest first, within the website", async () => {
      const w = newWorkflow(websiteId);
      await stores.workflows.create(w);
      const v1 = {
        website_id: websiteId,
        workflow_id: w.id,
        version: 1,
        name: "Welcome",
        graph: graph("start.message"),
        deployed_at: 10,
      };
      const v2 = {
        ...v1,
        version: 2,
        name: "Welcome back",
        graph: graph("start.code", "bye"),
        deployed_at: 20,
      };
      await stores.workflows.addVersion(v1);
      await stores.workflows.addVersion(v2);
      expect(await stores.workflows.findVersion(websiteId, w.id, 1)).toEqual(v1);
      expect(await stores.workflows.findVersion(websiteId, w.id, 2)).toEqual(v2);
      expect(await stores.workflows.findVersion(websiteId, w.id, 3)).toBeUndefined();
      expect(await stores.workflows.findVersion(otherWebsiteId, w.id, 1)).toBeUndefined();
      expect(await stores.workflows.listVersions(websiteId, w.id)).toEqual([v2, v1]);
      expect(await stores.workflows.listVersions(otherWebsiteId, w.id)).toEqual([]);
    });

    it("refuses a version number the workflow already has", async () => {
      const w = await deployedWorkflow(websiteId, "start.message");
      await expect(
        stores.workflows.addVersion({
          website_id: websiteId,
          workflow_id: w.id,
          version: 1,
          name: "again",
          graph: w.draft,
          deployed_at: 3,
        }),
      ).rejects.toThrow();
    });

    it("deletes the versions with their workflow but keeps its runs and their steps", async () => {
      const w = await deployedWorkflow(websiteId, "start.message");
      const run = newRun(websiteId, { workflow_id: w.id });
      await stores.workflows.createRun(run);
      await stores.workflows.appendSteps([
        {
          run_id: run.id,
          website_id: websiteId,
          step: 0,
          block_id: "start",
          kind: "start.message",
          outcome: "next",
          handle: "next",
          at: 5_000,
          duration_ms: 0.5,
          log: [],
        },
      ]);
      expect(await stores.workflows.remove(websiteId, w.id)).toBe(true);
      expect(await stores.workflows.listVersions(websiteId, w.id)).toEqual([]);
      expect(await stores.workflows.findVersion(websiteId, w.id, 1)).toBeUndefined();
      expect(await stores.workflows.findRun(websiteId, run.id)).toEqual(run);
      expect(await stores.workflows.listSteps(websiteId, run.id)).toHaveLength(1);
    });
  });

  describe("deployed workflows by start", () => {
    it("lists deployed workflows whose deployed start is one of the kinds, with the deployed graph", async () => {
      const site = await newWebsite();
      const onMessage = await deployedWorkflow(site, "start.message", 1);
      const onCode = await deployedWorkflow(site, "start.code", 2);
      const onOpen = await deployedWorkflow(site, "start.chat_opened", 3);
      // A draft edited after deploying: the deployed graph is what counts.
      await stores.workflows.update(site, onMessage.id, { draft: graph("start.code"), updated_at: 4 });
      // Never deployed.
      await stores.workflows.create(newWorkflow(site, { deployed_start: null }));

      const found = await stores.workflows.listDeployedByStart(site, ["start.message", "start.chat_opened"]);
      expect(found.map((f) => f.workflow.id)).toEqual([onMessage.id, onOpen.id]);
      expect(found[0]!.graph).toEqual(graph("start.message"));
      expect(found[0]!.workflow.draft).toEqual(graph("start.code"));
      expect(found[1]).toEqual({ workflow: onOpen, graph: onOpen.draft });
      expect(
        (await stores.workflows.listDeployedByStart(site, ["start.code"])).map((f) => f.workflow.id),
      ).toEqual([onCode.id]);
      expect(await stores.workflows.listDeployedByStart(site, [])).toEqual([]);
      expect(await stores.workflows.listDeployedByStart(otherWebsiteId, ["start.message"])).toEqual([]);
    });

    it("leaves out a workflow whose deployment was withdrawn", async () => {
      const site = await newWebsite();
      const w = await deployedWorkflow(site, "start.message");
      await stores.workflows.update(site, w.id, {
        deployed_version: null,
        deployed_start: null,
        updated_at: 5,
      });
      expect(await stores.workflows.listDeployedByStart(site, ["start.message"])).toEqual([]);
    });
  });

  describe("runs", () => {
    it("creates and finds a run within its website, with its JSON and boolean fields intact", async () => {
      const run = newRun(websiteId, {
        version: null,
        graph: graph("start.code"),
        test: true,
        source: "test",
        status: "waiting",
        wait: { kind: "answer", expect: "picker", id: "color", until: null, attempts: 2 },
      });
      await stores.workflows.createRun(run);
      expect(await stores.workflows.findRun(websiteId, run.id)).toEqual(run);
      expect(await stores.workflows.findRun(otherWebsiteId, run.id)).toBeUndefined();
      expect(await stores.workflows.findRun(websiteId, "run_missing")).toBeUndefined();
    });

    it("finds the conversation's active run and no ended one", async () => {
      const ended = newRun(websiteId, { status: "completed", ended_at: 6_000, end_reason: "end_block" });
      const sessionId = ended.session_id;
      await stores.workflows.createRun(ended);
      expect(await stores.workflows.findActiveRun(websiteId, sessionId)).toBeUndefined();
      const waiting = newRun(websiteId, {
        session_id: sessionId,
        status: "waiting",
        wait: { kind: "timer", until: 60_000 },
      });
      await stores.workflows.createRun(waiting);
      expect(await stores.workflows.findActiveRun(websiteId, sessionId)).toEqual(waiting);
      expect(await stores.workflows.findActiveRun(otherWebsiteId, sessionId)).toBeUndefined();
    });

    it("refuses a second active run in a conversation until the first one ends", async () => {
      const first = newRun(websiteId);
      await stores.workflows.createRun(first);
      const second = newRun(websiteId, { session_id: first.session_id, status: "waiting" });
      const refused = await stores.workflows.createRun(second).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ActiveRunExistsError);
      expect(refused).toMatchObject({ websiteId, sessionId: first.session_id });
      expect(await stores.workflows.findRun(websiteId, second.id)).toBeUndefined();
      // Other conversations, and ended runs in this one, are no obstacle.
      await stores.workflows.createRun(newRun(websiteId));
      await stores.workflows.createRun(
        newRun(websiteId, { session_id: first.session_id, status: "failed", ended_at: 7_000 }),
      );

      expect(await complete(first)).toBe(true);
      await stores.workflows.createRun(second);
      expect(await stores.workflows.findActiveRun(websiteId, first.session_id)).toEqual(second);
    });

    it("lets exactly one of two concurrent starts in a conversation win", async () => {
      const a = newRun(websiteId);
      const b = newRun(websiteId, { session_id: a.session_id });
      const results = await Promise.allSettled([
        stores.workflows.createRun(a),
        stores.workflows.createRun(b),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(ActiveRunExistsError);
    });

    it("keeps the caller's transaction usable after refusing a second active run", async () => {
      const first = newRun(websiteId);
      await stores.workflows.createRun(first);
      const other = newRun(websiteId);
      await stores.atomically(async () => {
        await expect(
          stores.workflows.createRun(newRun(websiteId, { session_id: first.session_id })),
        ).rejects.toBeInstanceOf(ActiveRunExistsError);
        await stores.workflows.createRun(other);
      });
      expect(await stores.workflows.findRun(websiteId, other.id)).toEqual(other);
    });

    it("refuses a run whose id is taken, without calling it an active-run conflict", async () => {
      const run = newRun(websiteId, { status: "completed", ended_at: 6_000 });
      await stores.workflows.createRun(run);
      const again = stores.workflows.createRun({ ...run, session_id: `session_${randomUUID()}` });
      await expect(again).rejects.toThrow(/already exists/);
      await expect(again).rejects.not.toBeInstanceOf(ActiveRunExistsError);
    });

    it("advances a run at the expected step, applying the patch", async () => {
      const run = newRun(websiteId);
      await stores.workflows.createRun(run);
      const wait = { kind: "answer", expect: "field", id: "email", until: 90_000, attempts: 0 } as const;
      expect(
        await stores.workflows.advanceRun(websiteId, run.id, 0, 3, {
          status: "waiting",
          block_id: "ask",
          wait,
          variables: { email: "a@b.test" },
          updated_at: 6_000,
        }),
      ).toBe(true);
      expect(await stores.workflows.findRun(websiteId, run.id)).toEqual({
        ...run,
        status: "waiting",
        block_id: "ask",
        step: 3,
        wait,
        variables: { email: "a@b.test" },
        updated_at: 6_000,
      });
      // Only the given fields change: a patch of just the time keeps the rest, and null clears.
      expect(await stores.workflows.advanceRun(websiteId, run.id, 3, 0, { updated_at: 6_500 })).toBe(true);
      expect(
        await stores.workflows.advanceRun(websiteId, run.id, 3, 1, {
          status: "running",
          wait: null,
          updated_at: 7_000,
        }),
      ).toBe(true);
      expect(await stores.workflows.findRun(websiteId, run.id)).toMatchObject({
        status: "running",
        block_id: "ask",
        step: 4,
        wait: null,
        variables: { email: "a@b.test" },
        updated_at: 7_000,
      });
    });

    it("does not advance a run at another step, of another website, or that has ended", async () => {
      const run = newRun(websiteId, { step: 2 });
      await stores.workflows.createRun(run);
      const patch = { block_id: "x", updated_at: 6_000 };
      expect(await stores.workflows.advanceRun(websiteId, run.id, 1, 1, patch)).toBe(false);
      expect(await stores.workflows.advanceRun(otherWebsiteId, run.id, 2, 1, patch)).toBe(false);
      expect(await stores.workflows.advanceRun(websiteId, "run_missing", 2, 1, patch)).toBe(false);
      expect(await complete(run)).toBe(true);
      expect(await stores.workflows.advanceRun(websiteId, run.id, 3, 1, patch)).toBe(false);
      expect(await stores.workflows.findRun(websiteId, run.id)).toMatchObject({
        status: "completed",
        step: 3,
        block_id: "end",
        ended_at: 9_000,
        end_reason: "end_block",
      });
    });

    it("lets exactly one of two concurrent advances from the same step win", async () => {
      for (let round = 0; round < 5; round++) {
        const run = newRun(websiteId, { status: "waiting" });
        await stores.workflows.createRun(run);
        // Outside any transaction: on PostgreSQL each call runs on its own pooled connection.
        const results = await Promise.all(
          ["a", "b"].map((who) =>
            stores.workflows.advanceRun(websiteId, run.id, 0, 2, {
              status: "running",
              block_id: who,
              updated_at: 6_000,
            }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results[0] ? "a" : "b";
        expect(await stores.workflows.findRun(websiteId, run.id)).toMatchObject({
          step: 2,
          block_id: winner,
        });
      }
    });

    it("lets exactly one of two advances in concurrent transactions win", async () => {
      const run = newRun(websiteId);
      await stores.workflows.createRun(run);
      const results = await Promise.allSettled(
        ["a", "b"].map((who) =>
          stores.atomically(async () => {
            const advanced = await stores.workflows.advanceRun(websiteId, run.id, run.step, 1, {
              block_id: who,
              updated_at: 6_000,
            });
            // Give the other transaction time to reach its own advance before this one commits.
            await new Promise((r) => setTimeout(r, 20));
            return advanced;
          }),
        ),
      );
      const won = results.filter((r) => r.status === "fulfilled" && r.value === true);
      expect(won).toHaveLength(1);
      expect(await stores.workflows.findRun(websiteId, run.id)).toMatchObject({ step: 1 });
    });

    it("lists runs newest first, by workflow, conversation and status, in pages", async () => {
      const site = await newWebsite();
      const workflowId = `scenario_${randomUUID()}`;
      const sessionId = `session_${randomUUID()}`;
      const runs = [
        newRun(site, { workflow_id: workflowId, started_at: 100, status: "completed", ended_at: 150 }),
        newRun(site, { workflow_id: workflowId, started_at: 200, session_id: sessionId, status: "failed" }),
        newRun(site, { started_at: 300, session_id: sessionId, status: "completed" }),
        newRun(site, { workflow_id: workflowId, started_at: 400 }),
        newRun(site, { workflow_id: workflowId, started_at: 400 }),
      ];
      for (const run of runs) await stores.workflows.createRun(run);
      const ids = (list: RunRecord[]) => list.map((r) => r.id);
      const [r100, r200, r300, r400a, r400b] = runs.map((r) => r.id);
      const tied = [r400a!, r400b!].sort().reverse();

      expect(ids(await stores.workflows.listRuns(site, { limit: 10 }))).toEqual([...tied, r300, r200, r100]);
      expect(ids(await stores.workflows.listRuns(site, { workflowId, limit: 10 }))).toEqual([
        ...tied,
        r200,
        r100,
      ]);
      expect(ids(await stores.workflows.listRuns(site, { sessionId, limit: 10 }))).toEqual([r300, r200]);
      expect(ids(await stores.workflows.listRuns(site, { status: "completed", limit: 10 }))).toEqual([
        r300,
        r100,
      ]);
      expect(
        ids(await stores.workflows.listRuns(site, { workflowId, status: "running", limit: 10 })),
      ).toEqual(tied);
      expect(ids(await stores.workflows.listRuns(site, { workflowId, sessionId, limit: 10 }))).toEqual([
        r200,
      ]);

      const page1 = await stores.workflows.listRuns(site, { limit: 3 });
      expect(ids(page1)).toEqual([...tied, r300]);
      const page2 = await stores.workflows.listRuns(site, { before: page1.at(-1)!.started_at, limit: 3 });
      expect(ids(page2)).toEqual([r200, r100]);
      expect(await stores.workflows.listRuns(site, { before: 100, limit: 3 })).toEqual([]);
      expect(await stores.workflows.listRuns(otherWebsiteId, { workflowId, limit: 10 })).toEqual([]);
    });
  });

  describe("steps", () => {
    it("appends steps in bulk and lists them oldest first, within the website", async () => {
      const run = newRun(websiteId);
      await stores.workflows.createRun(run);
      const step = (n: number, patch: Partial<RunStepRecord> = {}): RunStepRecord => ({
        run_id: run.id,
        website_id: websiteId,
        step: n,
        block_id: `b${n}`,
        kind: "message.send",
        outcome: "next",
        handle: "next",
        at: 5_000 + n,
        duration_ms: 1.25,
        log: [`sent message ${n}`, "second line"],
        ...patch,
      });
      const later = [
        step(2, { outcome: "waiting", handle: null, log: [] }),
        step(3, { outcome: "failed", handle: "failure", duration_ms: 0 }),
      ];
      // Batches may be written out of order (they never are, but the log is ordered by step).
      await stores.workflows.appendSteps(later);
      await stores.workflows.appendSteps([step(0, { kind: "start.code" }), step(1)]);
      await stores.workflows.appendSteps([]);
      expect(await stores.workflows.listSteps(websiteId, run.id)).toEqual([
        step(0, { kind: "start.code" }),
        step(1),
        ...later,
      ]);
      expect(await stores.workflows.listSteps(otherWebsiteId, run.id)).toEqual([]);
      // A batch is written once.
      await expect(stores.workflows.appendSteps([step(0)])).rejects.toThrow();
    });
  });

  describe("conversation messages", () => {
    it("gives the time of the last message, of either side or of one, leaving out notes", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      expect(await stores.workflows.lastMessageAt(websiteId, c.session_id)).toBeUndefined();
      await stores.conversations.appendMessage(websiteId, c.session_id, message("user", 1_000));
      expect(await stores.workflows.lastMessageAt(websiteId, c.session_id, "operator")).toBeUndefined();
      await stores.conversations.appendMessage(websiteId, c.session_id, message("operator", 2_000));
      await stores.conversations.appendMessage(websiteId, c.session_id, message("user", 3_000));
      await stores.conversations.appendMessage(websiteId, c.session_id, message("operator", 4_000, "note"));
      expect(await stores.workflows.lastMessageAt(websiteId, c.session_id)).toBe(3_000);
      expect(await stores.workflows.lastMessageAt(websiteId, c.session_id, "user")).toBe(3_000);
      expect(await stores.workflows.lastMessageAt(websiteId, c.session_id, "operator")).toBe(2_000);
      expect(await stores.workflows.lastMessageAt(otherWebsiteId, c.session_id)).toBeUndefined();
      expect(await stores.workflows.lastMessageAt(websiteId, `session_${randomUUID()}`)).toBeUndefined();
    });

    it("tells whether an operator wrote before a time, notes aside", async () => {
      const c = newConversation(websiteId);
      await stores.conversations.create(c);
      await stores.conversations.appendMessage(websiteId, c.session_id, message("user", 1_000));
      await stores.conversations.appendMessage(websiteId, c.session_id, message("operator", 1_500, "note"));
      expect(await stores.workflows.hasOperatorMessageBefore(websiteId, c.session_id, 5_000)).toBe(false);
      await stores.conversations.appendMessage(websiteId, c.session_id, message("operator", 2_000));
      expect(await stores.workflows.hasOperatorMessageBefore(websiteId, c.session_id, 2_000)).toBe(false);
      expect(await stores.workflows.hasOperatorMessageBefore(websiteId, c.session_id, 2_001)).toBe(true);
      expect(await stores.workflows.hasOperatorMessageBefore(otherWebsiteId, c.session_id, 5_000)).toBe(
        false,
      );
    });
  });

  describe("event cursor", () => {
    it("starts at zero and only ever moves forward", async () => {
      const site = await newWebsite();
      expect(await stores.workflows.getCursor(site)).toBeUndefined();
      await stores.workflows.setCursor(site, 5);
      expect(await stores.workflows.getCursor(site)).toBe(5);
      await stores.workflows.setCursor(site, 3);
      expect(await stores.workflows.getCursor(site)).toBe(5);
      await stores.workflows.setCursor(site, 9);
      expect(await stores.workflows.getCursor(site)).toBe(9);
      expect(await stores.workflows.getCursor(otherWebsiteId)).toBeUndefined();
    });

    it("keeps the highest of concurrent moves", async () => {
      const site = await newWebsite();
      await Promise.all([7, 3, 12, 1, 9].map((seq) => stores.workflows.setCursor(site, seq)));
      expect(await stores.workflows.getCursor(site)).toBe(12);
    });
  });

  describe("websites behind", () => {
    /** A website whose event log has `events` events (one conversation creation each). */
    async function websiteWithEvents(events: number): Promise<string> {
      const site = await newWebsite();
      for (let i = 0; i < events; i++) await stores.conversations.create(newConversation(site));
      return site;
    }

    it("lists a website with a deployed event workflow until its cursor catches up", async () => {
      const site = await websiteWithEvents(2);
      await deployedWorkflow(site, "start.message");
      expect(await stores.workflows.websitesBehind()).toContain(site);
      await stores.workflows.setCursor(site, 1);
      expect(await stores.workflows.websitesBehind()).toContain(site);
      await stores.workflows.setCursor(site, 2);
      expect(await stores.workflows.websitesBehind()).not.toContain(site);
      await stores.conversations.create(newConversation(site));
      expect(await stores.workflows.websitesBehind()).toContain(site);
    });

    it("lists a website with a waiting run even without event workflows", async () => {
      const site = await websiteWithEvents(1);
      const run = newRun(site, { status: "running" });
      await stores.workflows.createRun(run);
      expect(await stores.workflows.websitesBehind()).not.toContain(site);
      await stores.workflows.advanceRun(site, run.id, 0, 1, {
        status: "waiting",
        wait: { kind: "answer", expect: "message", id: null, until: null, attempts: 0 },
        updated_at: 6_000,
      });
      expect(await stores.workflows.websitesBehind()).toContain(site);
    });

    it("leaves out websites with nothing to follow: no workflows, code-started or undeployed ones, ended runs", async () => {
      const empty = await websiteWithEvents(1);
      const codeOnly = await websiteWithEvents(1);
      await deployedWorkflow(codeOnly, "start.code");
      const undeployed = await websiteWithEvents(1);
      await stores.workflows.create(newWorkflow(undeployed));
      const endedRuns = await websiteWithEvents(1);
      await stores.workflows.createRun(newRun(endedRuns, { status: "completed", ended_at: 6_000 }));
      const behind = await stores.workflows.websitesBehind();
      for (const site of [empty, codeOnly, undeployed, endedRuns]) expect(behind).not.toContain(site);
    });

    it("leaves out a website whose event log is empty", async () => {
      const site = await newWebsite();
      await deployedWorkflow(site, "start.message");
      expect(await stores.workflows.websitesBehind()).not.toContain(site);
    });
  });
});
