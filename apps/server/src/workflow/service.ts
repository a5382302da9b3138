import { randomUUID } from "node:crypto";
import type {
  Run,
  RunDetail,
  RunListQuery,
  RunSource,
  TriggerResult,
  ValidationIssue,
  Variables,
  Workflow,
  WorkflowCreate,
  WorkflowExport,
  WorkflowGraph,
  WorkflowSummary,
  WorkflowUpdate,
  WorkflowVersion,
} from "@hugo/protocol";
import type { ConversationService } from "../core/conversations.ts";
import { AppError } from "../core/errors.ts";
import type { RunRecord, Stores, WorkflowRecord, WorkflowVersionRecord } from "../core/ports.ts";
import type { WorkflowEngine } from "./engine.ts";
import type { WorkflowFollower } from "./follower.ts";
import { findStart, validateGraph } from "./validate.ts";

const toVersion = (v: WorkflowVersionRecord): WorkflowVersion => ({
  workflow_id: v.workflow_id,
  version: v.version,
  name: v.name,
  graph: v.graph,
  deployed_at: v.deployed_at,
});

export const toRun = (r: RunRecord): Run => ({
  run_id: r.id,
  website_id: r.website_id,
  workflow_id: r.workflow_id,
  version: r.version,
  session_id: r.session_id,
  status: r.status,
  test: r.test,
  source: r.source,
  source_event: r.source_event,
  block_id: r.block_id,
  steps: r.step,
  wait: r.wait,
  variables: r.variables,
  started_at: r.started_at,
  updated_at: r.updated_at,
  ended_at: r.ended_at,
  end_reason: r.end_reason,
});

const sameGraph = (a: WorkflowGraph, b: WorkflowGraph) => JSON.stringify(a) === JSON.stringify(b);

/** Authoring (drafts, deploys, versions, export/import), triggers and the runs API. */
export class WorkflowService {
  readonly #stores: Stores;
  readonly #engine: WorkflowEngine;
  readonly #follower: WorkflowFollower;
  readonly #conversations: ConversationService;

  constructor(deps: {
    stores: Stores;
    engine: WorkflowEngine;
    follower: WorkflowFollower;
    conversations: ConversationService;
  }) {
    this.#stores = deps.stores;
    this.#engine = deps.engine;
    this.#follower = deps.follower;
    this.#conversations = deps.conversations;
  }

  async list(websiteId: string): Promise<WorkflowSummary[]> {
    const records = await this.#stores.workflows.list(websiteId);
    return Promise.all(records.map((r) => this.#summary(r)));
  }

  async get(websiteId: string, workflowId: string): Promise<Workflow> {
    return this.#full(await this.#find(websiteId, workflowId));
  }

  async create(websiteId: string, input: WorkflowCreate): Promise<Workflow> {
    const now = Date.now();
    const record: WorkflowRecord = {
      id: `scenario_${randomUUID()}`,
      website_id: websiteId,
      name: input.name,
      description: input.description ?? "",
      draft: input.graph ?? starterGraph(),
      browser_startable: input.browser_startable ?? false,
      deployed_version: null,
      latest_version: 0,
      deployed_start: null,
      created_at: now,
      updated_at: now,
    };
    await this.#stores.workflows.create(record);
    return this.#full(record);
  }

  /** Saves the draft (and name, description, browser switch); production keeps the deployed version. */
  async update(websiteId: string, workflowId: string, patch: WorkflowUpdate): Promise<Workflow> {
    const updated = await this.#stores.workflows.update(websiteId, workflowId, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.graph !== undefined ? { draft: patch.graph } : {}),
      ...(patch.browser_startable !== undefined ? { browser_startable: patch.browser_startable } : {}),
      updated_at: Date.now(),
    });
    if (!updated) throw notFound(workflowId);
    return this.#full(updated);
  }

  /** Deletes the workflow and its versions; its active runs are cancelled, past runs stay listed. */
  async remove(websiteId: string, workflowId: string): Promise<void> {
    await this.#stores.atomically(async () => {
      await this.#find(websiteId, workflowId);
      for (const status of ["running", "waiting"] as const) {
        const runs = await this.#stores.workflows.listRuns(websiteId, { workflowId, status, limit: 1000 });
        for (const run of runs) await this.#engine.cancel(websiteId, run.id, "workflow_deleted");
      }
      await this.#stores.workflows.remove(websiteId, workflowId);
    });
  }

  async duplicate(websiteId: string, workflowId: string): Promise<Workflow> {
    const source = await this.#find(websiteId, workflowId);
    return this.create(websiteId, {
      name: `${source.name} (copy)`.slice(0, 120),
      description: source.description,
      graph: source.draft,
      browser_startable: false,
    });
  }

  /** Freezes the draft as a new immutable version and makes it the one production runs. */
  async deploy(websiteId: string, workflowId: string): Promise<WorkflowVersion> {
    return this.#stores.atomically(async () => {
      const workflow = await this.#find(websiteId, workflowId);
      await this.#assertValid(websiteId, workflow.draft);
      const version: WorkflowVersionRecord = {
        website_id: websiteId,
        workflow_id: workflowId,
        version: workflow.latest_version + 1,
        name: workflow.name,
        graph: workflow.draft,
        deployed_at: Date.now(),
      };
      await this.#stores.workflows.addVersion(version);
      await this.#stores.workflows.update(websiteId, workflowId, {
        deployed_version: version.version,
        latest_version: version.version,
        deployed_start: findStart(workflow.draft)?.kind ?? null,
        updated_at: version.deployed_at,
      });
      await this.#follower.watch(websiteId);
      return toVersion(version);
    });
  }

  /** Production goes back to (or forward to) an earlier version; the draft is left alone. */
  async activate(websiteId: string, workflowId: string, versionNumber: number): Promise<Workflow> {
    const version = await this.getVersion(websiteId, workflowId, versionNumber);
    const updated = await this.#stores.workflows.update(websiteId, workflowId, {
      deployed_version: version.version,
      deployed_start: findStart(version.graph)?.kind ?? null,
      updated_at: Date.now(),
    });
    if (!updated) throw notFound(workflowId);
    return this.#full(updated);
  }

  async listVersions(websiteId: string, workflowId: string): Promise<WorkflowVersion[]> {
    await this.#find(websiteId, workflowId);
    return (await this.#stores.workflows.listVersions(websiteId, workflowId)).map(toVersion);
  }

  async getVersion(websiteId: string, workflowId: string, version: number): Promise<WorkflowVersion> {
    await this.#find(websiteId, workflowId);
    const found = await this.#stores.workflows.findVersion(websiteId, workflowId, version);
    if (!found) throw new AppError("version_not_found", `Workflow ${workflowId} has no version ${version}.`);
    return toVersion(found);
  }

  async export(websiteId: string, workflowId: string): Promise<WorkflowExport> {
    const workflow = await this.#find(websiteId, workflowId);
    return {
      format: "hugo.workflow",
      format_version: 1,
      name: workflow.name,
      description: workflow.description,
      graph: workflow.draft,
      exported_at: Date.now(),
      workflow_id: workflow.id,
    };
  }

  /** Imports an exported file as a new workflow (a new id; not deployed). */
  import(websiteId: string, file: WorkflowExport): Promise<Workflow> {
    return this.create(websiteId, { name: file.name, description: file.description, graph: file.graph });
  }

  /**
   * `POST /api/scenario/{id}/trigger/` and the widget's `bot:scenario:run`: starts the deployed
   * version in the conversation, ending the run already active there.
   */
  async trigger(
    websiteId: string,
    workflowId: string,
    input: { session_id: string; variables?: Variables | undefined },
    source: RunSource,
  ): Promise<TriggerResult> {
    return this.#stores.atomically(async () => {
      const workflow = await this.#find(websiteId, workflowId);
      const conversation = await this.#conversations.get(websiteId, input.session_id);
      if (workflow.deployed_version === null) {
        throw new AppError(
          "workflow_not_deployed",
          `Workflow ${workflowId} is saved but not deployed; deploy it first.`,
        );
      }
      if (source === "widget" && !workflow.browser_startable) {
        throw new AppError("workflow_not_browser_startable");
      }
      if (workflow.deployed_start !== "start.code") {
        throw new AppError(
          "workflow_not_startable",
          `Workflow ${workflowId} starts on "${workflow.deployed_start}", not "Triggered from code".`,
        );
      }
      const run = await this.#engine.start(
        {
          websiteId,
          sessionId: input.session_id,
          workflowId,
          version: workflow.deployed_version,
          source,
          variables: input.variables ?? {},
          conversation,
        },
        { firstBatch: true },
      );
      return this.#triggered(run);
    });
  }

  /** Runs the draft (whatever its start block) in a conversation — a new test one when none is given. */
  async testRun(
    websiteId: string,
    workflowId: string,
    input: { session_id?: string | undefined; variables?: Variables | undefined },
  ): Promise<TriggerResult> {
    return this.#stores.atomically(async () => {
      const workflow = await this.#find(websiteId, workflowId);
      await this.#assertValid(websiteId, workflow.draft);
      const sessionId = input.session_id
        ? (await this.#conversations.get(websiteId, input.session_id)).session_id
        : (
            await this.#conversations.create(websiteId, {
              meta: { nickname: "Test visitor", segments: ["test"] },
            })
          ).session_id;
      await this.#follower.watch(websiteId);
      const run = await this.#engine.start(
        {
          websiteId,
          sessionId,
          workflowId,
          version: null,
          graph: workflow.draft,
          source: "test",
          variables: input.variables ?? {},
          test: true,
        },
        { firstBatch: true },
      );
      return this.#triggered(run);
    });
  }

  async listRuns(
    websiteId: string,
    filter: { workflowId?: string; sessionId?: string },
    query: RunListQuery,
  ): Promise<Run[]> {
    if (filter.workflowId) await this.#find(websiteId, filter.workflowId);
    if (filter.sessionId) await this.#conversations.get(websiteId, filter.sessionId);
    const runs = await this.#stores.workflows.listRuns(websiteId, {
      ...filter,
      ...(query.status ? { status: query.status } : {}),
      ...(query.before ? { before: query.before } : {}),
      limit: query.limit,
    });
    return runs.map(toRun);
  }

  async getRun(websiteId: string, runId: string): Promise<RunDetail> {
    const run = await this.#stores.workflows.findRun(websiteId, runId);
    if (!run) throw new AppError("run_not_found", `No run ${runId} in this website.`);
    const steps = await this.#stores.workflows.listSteps(websiteId, runId);
    return {
      ...toRun(run),
      log: steps.map(({ run_id: _r, website_id: _w, ...step }) => step),
    };
  }

  async cancelRun(websiteId: string, runId: string): Promise<Run> {
    return toRun(await this.#engine.cancel(websiteId, runId));
  }

  /** Deploys and test runs refuse a draft with problems, listing them all in `data.issues`. */
  async #assertValid(websiteId: string, graph: WorkflowGraph): Promise<void> {
    const issues = await this.#validate(websiteId, graph);
    if (issues.length === 0) return;
    throw new AppError(
      "workflow_invalid",
      `The workflow has ${issues.length} problem(s): ${issues[0]?.message}`,
      {
        field: issues[0]?.field ?? "graph",
        extra: { issues },
      },
    );
  }

  /** Graph checks plus what needs the database: workflows a block starts must exist here. */
  async #validate(websiteId: string, graph: WorkflowGraph): Promise<ValidationIssue[]> {
    const issues = validateGraph(graph);
    for (const block of graph.blocks) {
      if (block.kind !== "action.start_workflow") continue;
      const target = (block.options as { workflow_id?: unknown }).workflow_id;
      if (typeof target !== "string" || !(await this.#stores.workflows.find(websiteId, target))) {
        if (typeof target === "string" && issues.some((i) => i.block_id === block.id)) continue;
        issues.push({
          block_id: block.id,
          field: "workflow_id",
          code: "unknown_workflow",
          message: `Block "${block.label || block.id}": workflow ${String(target)} does not exist in this website.`,
        });
      }
    }
    return issues;
  }

  async #find(websiteId: string, workflowId: string): Promise<WorkflowRecord> {
    const workflow = await this.#stores.workflows.find(websiteId, workflowId);
    if (!workflow) throw notFound(workflowId);
    return workflow;
  }

  async #summary(r: WorkflowRecord): Promise<WorkflowSummary> {
    let changed = true;
    if (r.deployed_version !== null) {
      const deployed = await this.#stores.workflows.findVersion(r.website_id, r.id, r.deployed_version);
      changed = !deployed || !sameGraph(deployed.graph, r.draft);
    }
    return {
      workflow_id: r.id,
      website_id: r.website_id,
      name: r.name,
      description: r.description,
      browser_startable: r.browser_startable,
      deployed_version: r.deployed_version,
      has_undeployed_changes: changed,
      start: findStart(r.draft)?.kind ?? null,
      created_at: r.created_at,
      updated_at: r.updated_at,
    };
  }

  async #full(r: WorkflowRecord): Promise<Workflow> {
    const issues = await this.#validate(r.website_id, r.draft);
    return {
      ...(await this.#summary(r)),
      draft: r.draft,
      validation: { valid: issues.length === 0, issues },
    };
  }

  #triggered(run: RunRecord): TriggerResult {
    return {
      run_id: run.id,
      status: run.status,
      workflow_id: run.workflow_id,
      session_id: run.session_id,
      version: run.version,
    };
  }
}

const notFound = (workflowId: string) =>
  new AppError("workflow_not_found", `No workflow ${workflowId} in this website.`);

/** A new workflow starts from a code trigger and a greeting, ready to edit. */
function starterGraph(): WorkflowGraph {
  return {
    blocks: [
      { id: "start", kind: "start.code", options: {}, position: { x: 0, y: 0 } },
      {
        id: "hello",
        kind: "action.text",
        options: { text: "Hi {{ visitor.nickname }}! How can I help?" },
        position: { x: 0, y: 120 },
      },
    ],
    edges: [{ from: "start", handle: "next", to: "hello" }],
  };
}
