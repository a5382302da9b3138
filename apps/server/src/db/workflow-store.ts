import type { RunSource, RunStatus, RunStep, WorkflowGraph } from "@hugo/protocol";
import { type SqlBool, sql, type Updateable } from "kysely";
import type {
  RunPatch,
  RunRecord,
  RunStepRecord,
  WorkflowRecord,
  WorkflowStore,
  WorkflowVersionRecord,
} from "../core/ports.ts";
import type { WorkflowRunsTable, WorkflowsTable, WorkflowVersionsTable } from "./schema.ts";
import { SqlStore } from "./sql-store.ts";

/** A conversation already has a running or waiting run: `createRun` refused to start another. */
export class ActiveRunExistsError extends Error {
  readonly websiteId: string;
  readonly sessionId: string;
  constructor(websiteId: string, sessionId: string) {
    super(`conversation ${sessionId} already has an active workflow run`);
    this.name = "ActiveRunExistsError";
    this.websiteId = websiteId;
    this.sessionId = sessionId;
  }
}

/**
 * "The run is active" — the predicate of the partial unique index `workflow_runs_one_active`,
 * written with literal values (not parameters) so that SQLite, which matches a partial index's
 * predicate against the query's terms literally, can use that index.
 */
const active = (status: "status" | "r.status" = "status") =>
  sql<SqlBool>`${sql.ref(status)} in ('running', 'waiting')`;

const toWorkflow = (r: WorkflowsTable): WorkflowRecord => ({
  id: r.id,
  website_id: r.website_id,
  name: r.name,
  description: r.description,
  draft: JSON.parse(r.draft),
  browser_startable: r.browser_startable === 1,
  deployed_version: r.deployed_version,
  latest_version: r.latest_version,
  deployed_start: r.deployed_start,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

const toVersion = (r: WorkflowVersionsTable): WorkflowVersionRecord => ({
  website_id: r.website_id,
  workflow_id: r.workflow_id,
  version: r.version,
  name: r.name,
  graph: JSON.parse(r.graph),
  deployed_at: r.deployed_at,
});

const toRun = (r: WorkflowRunsTable): RunRecord => ({
  id: r.id,
  website_id: r.website_id,
  workflow_id: r.workflow_id,
  version: r.version,
  graph: r.graph === null ? null : JSON.parse(r.graph),
  session_id: r.session_id,
  status: r.status as RunStatus,
  test: r.test === 1,
  source: r.source as RunSource,
  source_event: r.source_event,
  block_id: r.block_id,
  step: r.step,
  wait: r.wait === null ? null : JSON.parse(r.wait),
  variables: JSON.parse(r.variables),
  started_at: r.started_at,
  updated_at: r.updated_at,
  ended_at: r.ended_at,
  end_reason: r.end_reason,
});

const fromRun = (r: RunRecord): WorkflowRunsTable => ({
  ...r,
  graph: r.graph === null ? null : JSON.stringify(r.graph),
  test: r.test ? 1 : 0,
  wait: r.wait === null ? null : JSON.stringify(r.wait),
  variables: JSON.stringify(r.variables),
});

export class SqlWorkflowStore extends SqlStore implements WorkflowStore {
  async create(workflow: WorkflowRecord): Promise<void> {
    await this.db
      .insertInto("workflows")
      .values({
        ...workflow,
        draft: JSON.stringify(workflow.draft),
        browser_startable: workflow.browser_startable ? 1 : 0,
      })
      .execute();
  }

  async find(websiteId: string, id: string): Promise<WorkflowRecord | undefined> {
    const row = await this.db
      .selectFrom("workflows")
      .selectAll()
      .where("website_id", "=", websiteId)
      .where("id", "=", id)
      .executeTakeFirst();
    return row && toWorkflow(row);
  }

  /** Oldest first. */
  async list(websiteId: string): Promise<WorkflowRecord[]> {
    const rows = await this.db
      .selectFrom("workflows")
      .selectAll()
      .where("website_id", "=", websiteId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toWorkflow);
  }

  async update(
    websiteId: string,
    id: string,
    patch: Parameters<WorkflowStore["update"]>[2],
  ): Promise<WorkflowRecord | undefined> {
    const set: Updateable<WorkflowsTable> = { updated_at: patch.updated_at };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.draft !== undefined) set.draft = JSON.stringify(patch.draft);
    if (patch.browser_startable !== undefined) set.browser_startable = patch.browser_startable ? 1 : 0;
    if (patch.deployed_version !== undefined) set.deployed_version = patch.deployed_version;
    if (patch.latest_version !== undefined) set.latest_version = patch.latest_version;
    if (patch.deployed_start !== undefined) set.deployed_start = patch.deployed_start;
    const row = await this.db
      .updateTable("workflows")
      .set(set)
      .where("website_id", "=", websiteId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    return row && toWorkflow(row);
  }

  /** Its versions go with it (foreign key, on delete cascade); its runs stay. */
  async remove(websiteId: string, id: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom("workflows")
      .where("website_id", "=", websiteId)
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async addVersion(version: WorkflowVersionRecord): Promise<void> {
    await this.db
      .insertInto("workflow_versions")
      .values({ ...version, graph: JSON.stringify(version.graph) })
      .execute();
  }

  async findVersion(
    websiteId: string,
    workflowId: string,
    version: number,
  ): Promise<WorkflowVersionRecord | undefined> {
    const row = await this.db
      .selectFrom("workflow_versions")
      .selectAll()
      .where("workflow_id", "=", workflowId)
      .where("version", "=", version)
      .where("website_id", "=", websiteId)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async listVersions(websiteId: string, workflowId: string): Promise<WorkflowVersionRecord[]> {
    const rows = await this.db
      .selectFrom("workflow_versions")
      .selectAll()
      .where("workflow_id", "=", workflowId)
      .where("website_id", "=", websiteId)
      .orderBy("version", "desc")
      .execute();
    return rows.map(toVersion);
  }

  async listDeployedByStart(
    websiteId: string,
    startKinds: string[],
  ): Promise<{ workflow: WorkflowRecord; graph: WorkflowGraph }[]> {
    if (startKinds.length === 0) return [];
    const rows = await this.db
      .selectFrom("workflows as w")
      .innerJoin("workflow_versions as v", (join) =>
        join.onRef("v.workflow_id", "=", "w.id").onRef("v.version", "=", "w.deployed_version"),
      )
      .selectAll("w")
      .select("v.graph as deployed_graph")
      .where("w.website_id", "=", websiteId)
      .where("w.deployed_version", "is not", null)
      .where("w.deployed_start", "in", startKinds)
      .orderBy("w.created_at")
      .orderBy("w.id")
      .execute();
    return rows.map(({ deployed_graph, ...workflow }) => ({
      workflow: toWorkflow(workflow),
      graph: JSON.parse(deployed_graph),
    }));
  }

  /**
   * Throws ActiveRunExistsError when the conversation already has an active run. The insert skips
   * a conflicting row rather than failing, so a caller's PostgreSQL transaction stays usable.
   */
  async createRun(run: RunRecord): Promise<void> {
    const res = await this.db
      .insertInto("workflow_runs")
      .values(fromRun(run))
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0) === 1) return;
    const same = await this.db
      .selectFrom("workflow_runs")
      .select("id")
      .where("id", "=", run.id)
      .executeTakeFirst();
    if (same) throw new Error(`workflow run ${run.id} already exists`);
    throw new ActiveRunExistsError(run.website_id, run.session_id);
  }

  async findRun(
    websiteId: string,
    runId: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<RunRecord | undefined> {
    const row = await this.db
      .selectFrom("workflow_runs")
      .selectAll()
      .where("id", "=", runId)
      .where("website_id", "=", websiteId)
      .$if(Boolean(options.forUpdate) && this.rowLocks, (q) => q.forUpdate())
      .executeTakeFirst();
    return row && toRun(row);
  }

  /** Served by the partial unique index `workflow_runs_one_active`. */
  async findActiveRun(websiteId: string, sessionId: string): Promise<RunRecord | undefined> {
    const row = await this.db
      .selectFrom("workflow_runs")
      .selectAll()
      .where("website_id", "=", websiteId)
      .where("session_id", "=", sessionId)
      .where(active())
      .executeTakeFirst();
    return row && toRun(row);
  }

  async advanceRun(
    websiteId: string,
    runId: string,
    expectedStep: number,
    steps: number,
    patch: RunPatch,
  ): Promise<boolean> {
    const set: Updateable<WorkflowRunsTable> = { step: expectedStep + steps, updated_at: patch.updated_at };
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.block_id !== undefined) set.block_id = patch.block_id;
    if (patch.wait !== undefined) set.wait = patch.wait === null ? null : JSON.stringify(patch.wait);
    if (patch.variables !== undefined) set.variables = JSON.stringify(patch.variables);
    if (patch.ended_at !== undefined) set.ended_at = patch.ended_at;
    if (patch.end_reason !== undefined) set.end_reason = patch.end_reason;
    // One conditional statement: on PostgreSQL a concurrent advance waits for the row lock, then
    // re-checks `step` against the committed row and changes nothing.
    const res = await this.db
      .updateTable("workflow_runs")
      .set(set)
      .where("id", "=", runId)
      .where("website_id", "=", websiteId)
      .where("step", "=", expectedStep)
      .where(active())
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async listRuns(
    websiteId: string,
    filter: { workflowId?: string; sessionId?: string; status?: RunStatus; before?: number; limit: number },
  ): Promise<RunRecord[]> {
    let query = this.db.selectFrom("workflow_runs").selectAll().where("website_id", "=", websiteId);
    if (filter.workflowId !== undefined) query = query.where("workflow_id", "=", filter.workflowId);
    if (filter.sessionId !== undefined) query = query.where("session_id", "=", filter.sessionId);
    if (filter.status !== undefined) query = query.where("status", "=", filter.status);
    if (filter.before !== undefined) query = query.where("started_at", "<", filter.before);
    const rows = await query
      .orderBy("started_at", "desc")
      .orderBy("id", "desc")
      .limit(filter.limit)
      .execute();
    return rows.map(toRun);
  }

  async appendSteps(steps: RunStepRecord[]): Promise<void> {
    const [first] = steps;
    if (!first) return;
    await this.db
      .insertInto("workflow_run_batches")
      .values({
        run_id: first.run_id,
        website_id: first.website_id,
        first_step: first.step,
        steps: JSON.stringify(steps.map(({ run_id: _r, website_id: _w, ...step }) => step)),
      })
      .execute();
  }

  async listSteps(websiteId: string, runId: string): Promise<RunStepRecord[]> {
    const rows = await this.db
      .selectFrom("workflow_run_batches")
      .selectAll()
      .where("run_id", "=", runId)
      .where("website_id", "=", websiteId)
      .orderBy("first_step")
      .execute();
    return rows.flatMap((r) =>
      (JSON.parse(r.steps) as RunStep[]).map((step) => ({
        ...step,
        run_id: r.run_id,
        website_id: r.website_id,
      })),
    );
  }

  /**
   * Messages are scoped to the website through their conversation: with `session_id` as the only
   * condition on `messages`, both planners walk the conversation's messages by primary key
   * (session_id, fingerprint) instead of the website's whole log by `messages_website_seq`.
   */
  #conversationMessages(websiteId: string, sessionId: string) {
    return this.db
      .selectFrom("messages")
      .where("session_id", "=", (eb) =>
        eb
          .selectFrom("conversations")
          .select("session_id")
          .where("session_id", "=", sessionId)
          .where("website_id", "=", websiteId),
      )
      .where("type", "!=", "note");
  }

  /** Notes don't count. */
  async lastMessageAt(
    websiteId: string,
    sessionId: string,
    from?: "user" | "operator",
  ): Promise<number | undefined> {
    let query = this.#conversationMessages(websiteId, sessionId).select((eb) =>
      eb.fn.max("timestamp").as("at"),
    );
    if (from !== undefined) query = query.where("sender", "=", from);
    const row = await query.executeTakeFirst();
    return row?.at ?? undefined;
  }

  async hasOperatorMessageBefore(websiteId: string, sessionId: string, before: number): Promise<boolean> {
    const row = await this.#conversationMessages(websiteId, sessionId)
      .select("fingerprint")
      .where("sender", "=", "operator")
      .where("timestamp", "<", before)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async getCursor(websiteId: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom("workflow_cursors")
      .select("seq")
      .where("website_id", "=", websiteId)
      .executeTakeFirst();
    return row?.seq;
  }

  /** Moves the cursor forward, never back. */
  async setCursor(websiteId: string, seq: number): Promise<void> {
    await this.db
      .insertInto("workflow_cursors")
      .values({ website_id: websiteId, seq })
      .onConflict((oc) =>
        oc
          .column("website_id")
          .doUpdateSet({ seq: (eb) => eb.ref("excluded.seq") })
          .whereRef("workflow_cursors.seq", "<", "excluded.seq"),
      )
      .execute();
  }

  /**
   * Websites whose event log is past the follower's cursor and that have something to follow it
   * for: a deployed workflow started by events (any start but `start.code`), or a waiting run.
   */
  async websitesBehind(): Promise<string[]> {
    const rows = await this.db
      .selectFrom("websites as w")
      .leftJoin("workflow_cursors as c", "c.website_id", "w.id")
      .select("w.id")
      .where(sql<SqlBool>`w.last_seq > coalesce(c.seq, 0)`)
      .where((eb) =>
        eb.or([
          eb.exists(
            eb
              .selectFrom("workflows as f")
              .select("f.id")
              .whereRef("f.website_id", "=", "w.id")
              .where("f.deployed_start", "is not", null)
              .where("f.deployed_start", "!=", "start.code"),
          ),
          eb.exists(
            eb
              .selectFrom("workflow_runs as r")
              .select("r.id")
              .whereRef("r.website_id", "=", "w.id")
              // The active-run predicate lets the partial index serve the search.
              .where(active("r.status"))
              .where("r.status", "=", "waiting"),
          ),
        ]),
      )
      .orderBy("w.id")
      .execute();
    return rows.map((r) => r.id);
  }
}
