import { randomUUID } from "node:crypto";
import {
  BLOCKS,
  type BlockDefinition,
  type Conversation,
  type RunSource,
  type VariableValue,
  type WorkflowBlock,
  type WorkflowGraph,
} from "@hugo/protocol";
import type { ConversationService } from "../core/conversations.ts";
import { AppError } from "../core/errors.ts";
import type { JobQueue } from "../core/jobs.ts";
import type { RunRecord, RunStepRecord, Stores } from "../core/ports.ts";
import { ActiveRunExistsError } from "../db/workflow-store.ts";
import { RUNNERS } from "./blocks/index.ts";
import { type ContextDeps, Outbox, RunContext } from "./context.ts";
import { startMatches, type WorkflowEventInput } from "./events.ts";
import { BlockError, type BlockRunner, type Outcome, type ResumeInput } from "./runner.ts";

export const WORKFLOW_STEP = "workflow.step";
export const WORKFLOW_RESUME = "workflow.resume";
export const WORKFLOW_EVENT = "workflow.event";

/** Every job of a conversation's runs shares one serial lane: steps, resumes and visitor input run in order. */
export const sessionLane = (sessionId: string): string => `wf:${sessionId}`;

// A transaction holds the website's log lock on PostgreSQL: keep batches of steps short. Steps cost
// microseconds (a batch's messages are written together at its end), so time is the real limit.
const MAX_STEPS_PER_TX = 256;
const TX_BUDGET_MS = 4;
// A run that takes this many steps is stuck in a loop the validator could not see (waits that resolve at once).
const MAX_RUN_STEPS = 10_000;

interface CompiledBlock {
  block: WorkflowBlock;
  definition: BlockDefinition;
  runner: BlockRunner;
  /** Parsed options with defaults; undefined when they do not parse (a test run of a broken draft). */
  options: unknown;
  problem: string | undefined;
}

interface CompiledGraph {
  start: string | undefined;
  blocks: Map<string, CompiledBlock>;
  next(from: string, handle: string): string | undefined;
}

export function compileGraph(graph: WorkflowGraph): CompiledGraph {
  const blocks = new Map<string, CompiledBlock>();
  let start: string | undefined;
  for (const block of graph.blocks) {
    const definition = BLOCKS[block.kind];
    const runner = RUNNERS[block.kind];
    if (!definition || !runner) {
      blocks.set(block.id, {
        block,
        definition: BLOCKS["action.end"] as BlockDefinition,
        runner: { run: async () => ({ end: "failed", reason: `unknown block kind ${block.kind}` }) },
        options: undefined,
        problem: `Unknown block kind ${block.kind}.`,
      });
      continue;
    }
    if (definition.category === "start" && start === undefined) start = block.id;
    const parsed = definition.options.safeParse(block.options);
    blocks.set(block.id, {
      block,
      definition,
      runner,
      options: parsed.success ? parsed.data : undefined,
      problem: parsed.success
        ? undefined
        : `Invalid options: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    });
  }
  const edges = new Map<string, string>();
  for (const edge of graph.edges) edges.set(`${edge.from}\u0000${edge.handle}`, edge.to);
  return { start, blocks, next: (from, handle) => edges.get(`${from}\u0000${handle}`) };
}

export interface EngineDeps extends ContextDeps {
  conversations: ConversationService;
  jobs: JobQueue;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export interface StartRun {
  websiteId: string;
  sessionId: string;
  workflowId: string;
  /** The deployed version, or null with `graph` for a test run of the draft. */
  version: number | null;
  /** The draft of a test run; a deployed version's graph is loaded (once, then cached) when absent. */
  graph?: WorkflowGraph;
  source: RunSource;
  sourceEvent?: string | null;
  variables?: Record<string, VariableValue>;
  test?: boolean;
  /** The conversation as the caller just read it in this transaction (spares the first batch a read). */
  conversation?: Conversation;
}

type BatchResult =
  /** `run`: the run as the batch left it, when it advanced it. */
  | { kind: "stop"; run?: RunRecord }
  | { kind: "continue"; step: number; run: RunRecord }
  | {
      kind: "external";
      step: number;
      run: RunRecord;
      compiled: CompiledBlock;
      conversation: ContextInitConversation;
    };

type ContextInitConversation = NonNullable<Awaited<ReturnType<Stores["conversations"]["find"]>>>;

/** The result of an external block, computed outside the transaction and committed by the next batch. */
interface ExternalResult {
  outcome: Outcome | { failed: string };
  variables: Record<string, VariableValue>;
  lines: string[];
  at: number;
  durationMs: number;
}

class StaleRun extends Error {}

/** A block threw something that is not a BlockError (a bug or a database error): the batch rolls back. */
class StepCrash extends Error {
  readonly blockId: string;
  readonly kind: string;
  constructor(blockId: string, kind: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.blockId = blockId;
    this.kind = kind;
  }
}

/** The `workflow:run:started` event of a run. */
function startedEvent(run: RunRecord): { event: string; data: unknown } {
  return {
    event: "workflow:run:started",
    data: {
      run_id: run.id,
      workflow_id: run.workflow_id,
      version: run.version,
      source: run.source,
      test: run.test,
    },
  };
}

/**
 * The workflow engine. A run advances in transactions: each executes blocks from the run's position
 * until one waits, ends the run or needs the network, and commits their effects together with the
 * run's new position and log — guarded by the run's step counter, so a job that runs twice (at-least-
 * once delivery after a crash) finds the run moved on and does nothing. See ARCHITECTURE.md.
 */
export class WorkflowEngine {
  readonly #deps: EngineDeps;
  readonly #graphs = new Map<string, CompiledGraph>();

  constructor(deps: EngineDeps) {
    this.#deps = deps;
  }

  get #stores(): Stores {
    return this.#deps.stores;
  }

  /**
   * Starts a run, ending the conversation's active run if there is one (documented: a new trigger
   * supersedes). Joins the caller's transaction. Where the first steps run:
   * - `inline`: the caller executes the run (it already holds the conversation's lane);
   * - `firstBatch` (triggers): the first batch runs in this transaction — the trigger commits with
   *   the run's first messages — and a job continues the run if it goes on (or needs the network);
   * - otherwise a job runs it from step 0.
   */
  async start(input: StartRun, options: { inline?: boolean; firstBatch?: boolean } = {}): Promise<RunRecord> {
    const compiled =
      input.test || input.version === null
        ? input.graph && compileGraph(input.graph)
        : await this.#deployed(input.websiteId, input.workflowId, input.version, input.graph);
    if (!compiled)
      throw new AppError("workflow_not_deployed", `Workflow ${input.workflowId} has no such version.`);
    if (!compiled.start) throw new AppError("workflow_invalid", "The workflow has no start block.");
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#stores.atomically(async () => {
          const now = Date.now();
          const run: RunRecord = {
            id: `run_${randomUUID()}`,
            website_id: input.websiteId,
            workflow_id: input.workflowId,
            version: input.version,
            graph: input.test ? (input.graph ?? null) : null,
            session_id: input.sessionId,
            status: "running",
            test: input.test ?? false,
            source: input.source,
            source_event: input.sourceEvent ?? null,
            block_id: compiled.start ?? null,
            step: 0,
            wait: null,
            variables: { ...input.variables },
            started_at: now,
            updated_at: now,
            ended_at: null,
            end_reason: null,
          };
          // Optimistically: most conversations have no active run to supersede.
          let superseded = false;
          try {
            await this.#stores.workflows.createRun(run);
          } catch (error) {
            if (!(error instanceof ActiveRunExistsError)) throw error;
            superseded = await this.#supersede(input.websiteId, input.sessionId, now);
            await this.#stores.workflows.createRun(run);
          }
          // The first batch writes the event with its messages, last; otherwise it goes after the
          // writes that need no lock: appending to the log takes the website's sequence lock until
          // commit (PostgreSQL).
          if (options.firstBatch)
            return await this.#firstBatch(run, superseded ? undefined : input.conversation);
          if (!options.inline) await this.#enqueueStep(run, 0);
          const started = startedEvent(run);
          await this.#deps.conversations.recordEvent(
            run.website_id,
            run.session_id,
            started.event,
            started.data,
          );
          return run;
        });
      } catch (error) {
        // Another process started a run in this conversation at the same moment: supersede it too.
        if (!(error instanceof ActiveRunExistsError) || attempt >= 3) throw error;
      }
    }
  }

  #enqueueStep(run: RunRecord, step: number): Promise<void> {
    return this.#deps.jobs.enqueue(this.#stores, {
      kind: WORKFLOW_STEP,
      payload: { website_id: run.website_id, run_id: run.id, step },
      queueKey: sessionLane(run.session_id),
    });
  }

  /**
   * Runs a new run's first batch in the starting transaction (under a savepoint) and returns the
   * run as it then is. If the run goes on — more steps, or an external block next — a job continues
   * it. If the batch throws (a block's bug, a database error), its writes are rolled back to the
   * savepoint and a job runs the run from step 0 instead, which records the failure as usual.
   */
  async #firstBatch(run: RunRecord, conversation: Conversation | undefined): Promise<RunRecord> {
    const savepoint = await this.#stores.savepoint();
    let result: BatchResult;
    try {
      result = await this.#batch(run.website_id, run.id, 0, undefined, undefined, false, {
        run,
        conversation,
      });
    } catch (error) {
      if (!(error instanceof StepCrash) && !(error instanceof StaleRun)) {
        this.#deps.log.warn({ err: error, runId: run.id }, "first batch failed; a job runs the run");
      }
      await savepoint.rollback();
      await this.#enqueueStep(run, 0);
      const started = startedEvent(run);
      await this.#deps.conversations.recordEvent(run.website_id, run.session_id, started.event, started.data);
      return run;
    }
    if (result.kind === "continue" || result.kind === "external") await this.#enqueueStep(run, result.step);
    return (result.kind === "external" ? undefined : result.run) ?? run;
  }

  /** Starts a deployed workflow for the AI agent (a routing rule's action); false when it is not deployed. */
  async startForAgent(websiteId: string, sessionId: string, workflowId: string): Promise<boolean> {
    const workflow = await this.#stores.workflows.find(websiteId, workflowId);
    if (!workflow || workflow.deployed_version === null) return false;
    await this.start({
      websiteId,
      sessionId,
      workflowId,
      version: workflow.deployed_version,
      source: "agent",
    });
    return true;
  }

  /** Cancels an active run. */
  async cancel(websiteId: string, runId: string, reason = "cancelled"): Promise<RunRecord> {
    return this.#stores.atomically(async () => {
      const run = await this.#stores.workflows.findRun(websiteId, runId, { forUpdate: true });
      if (!run) throw new AppError("run_not_found", `No run ${runId} in this website.`);
      if (run.status !== "running" && run.status !== "waiting") {
        throw new AppError("run_not_active", `Run ${runId} has already ${run.status}.`);
      }
      const now = Date.now();
      const ok = await this.#stores.workflows.advanceRun(websiteId, runId, run.step, 0, {
        status: "cancelled",
        ended_at: now,
        end_reason: reason,
        wait: null,
        updated_at: now,
      });
      if (!ok) throw new AppError("run_not_active", `Run ${runId} has just moved on; try again.`);
      await this.#ended(run, "cancelled", reason);
      return { ...run, status: "cancelled", ended_at: now, end_reason: reason, wait: null, updated_at: now };
    });
  }

  /** Runs a run from step `step` (a job, a resume, or inline after a start) until it waits or ends. */
  async execute(websiteId: string, runId: string, step: number, input?: ResumeInput): Promise<void> {
    let expected = step;
    let resume = input;
    let external: ExternalResult | undefined;
    let first = true;
    for (;;) {
      let result: BatchResult;
      try {
        const adopt = first;
        first = false;
        result = await this.#stores.atomically(() =>
          this.#batch(websiteId, runId, expected, resume, external, adopt),
        );
      } catch (error) {
        if (error instanceof StaleRun) return;
        if (error instanceof StepCrash) {
          this.#deps.log.error({ err: error.cause, runId, blockId: error.blockId }, "workflow block crashed");
          await this.#failAfterCrash(websiteId, runId, expected, error);
          return;
        }
        throw error;
      }
      resume = undefined;
      external = undefined;
      if (result.kind === "stop") return;
      expected = result.step;
      if (result.kind === "external") external = await this.#runExternal(result);
    }
  }

  /** A visitor's action or a conversation event, in the conversation's lane: resume the waiting run, or start one. */
  async handleEvent(websiteId: string, sessionId: string, event: WorkflowEventInput): Promise<void> {
    const store = this.#stores.workflows;
    const active = await store.findActiveRun(websiteId, sessionId);
    if (active) {
      const input = resumeInput(event);
      if (input && active.status === "waiting" && active.wait?.kind === "answer") {
        await this.execute(websiteId, active.id, active.step, input);
      }
      return;
    }
    // Events a run caused (its messages, the contact it set) never start another run: no ping-pong;
    // and a visitor's answer to a run that has just ended is that run's, not a question for the agent.
    const [last] = await store.listRuns(websiteId, { sessionId, limit: 1 });
    if (last && (last.ended_at === null || last.ended_at >= event.created_at)) return;
    const candidates = await store.listDeployedByStart(websiteId, startKindsFor(event.name));
    if (candidates.length === 0) return this.#agentAnswers(websiteId, sessionId, event);
    const conversation = await this.#stores.conversations.find(websiteId, sessionId);
    if (!conversation) return;
    for (const { workflow, graph } of candidates) {
      const compiled = this.#compiled(workflow.id, workflow.deployed_version, graph);
      const start = compiled.start ? compiled.blocks.get(compiled.start) : undefined;
      if (!start || start.options === undefined) continue;
      const variables = await startMatches(start.block.kind, start.options, event, {
        stores: this.#stores,
        websiteId,
        sessionId,
      });
      if (!variables) continue;
      const run = await this.start(
        {
          websiteId,
          sessionId,
          workflowId: workflow.id,
          version: workflow.deployed_version,
          graph,
          source: "event",
          sourceEvent: event.name,
          variables,
        },
        { inline: true },
      );
      await this.execute(websiteId, run.id, 0);
      return;
    }
    await this.#agentAnswers(websiteId, sessionId, event);
  }

  /** No workflow took the visitor's message: the AI agent answers it, if the conversation is its. */
  async #agentAnswers(websiteId: string, sessionId: string, event: WorkflowEventInput): Promise<void> {
    if (event.name !== "message:send") return;
    await this.#deps.agent.answerMessage(websiteId, sessionId, event.website_seq);
  }

  #compiled(workflowId: string, version: number | null, graph: WorkflowGraph): CompiledGraph {
    const key = `${workflowId}@${version}`;
    let compiled = this.#graphs.get(key);
    if (!compiled) {
      compiled = compileGraph(graph);
      if (this.#graphs.size > 1000) this.#graphs.clear();
      this.#graphs.set(key, compiled);
    }
    return compiled;
  }

  async #graphOf(run: RunRecord): Promise<CompiledGraph | undefined> {
    if (run.graph) return compileGraph(run.graph);
    if (run.version === null) return undefined;
    return this.#deployed(run.website_id, run.workflow_id, run.version);
  }

  /** A deployed version's compiled graph: versions are immutable, so each is read once. */
  async #deployed(
    websiteId: string,
    workflowId: string,
    version: number,
    graph?: WorkflowGraph,
  ): Promise<CompiledGraph | undefined> {
    if (graph) return this.#compiled(workflowId, version, graph);
    const cached = this.#graphs.get(`${workflowId}@${version}`);
    if (cached) return cached;
    const found = await this.#stores.workflows.findVersion(websiteId, workflowId, version);
    return found ? this.#compiled(workflowId, version, found.graph) : undefined;
  }

  /** Cancels the conversation's active run; true when there was one. */
  async #supersede(websiteId: string, sessionId: string, now: number): Promise<boolean> {
    const store = this.#stores.workflows;
    for (let attempt = 0; attempt < 5; attempt++) {
      const active = await store.findActiveRun(websiteId, sessionId);
      if (!active) return false;
      const ok = await store.advanceRun(websiteId, active.id, active.step, 0, {
        status: "cancelled",
        ended_at: now,
        end_reason: "superseded",
        wait: null,
        updated_at: now,
      });
      if (ok) {
        await this.#ended(active, "cancelled", "superseded");
        return true;
      }
    }
    throw new AppError("unavailable", "The conversation's workflow run is busy; retry.");
  }

  /** Records that a run ended — in the batch's outbox when there is one. */
  async #ended(
    run: RunRecord,
    status: "completed" | "failed" | "cancelled",
    reason: string | null,
    outbox?: Outbox,
  ): Promise<void> {
    const name = `workflow:run:${status}`;
    const data = {
      run_id: run.id,
      workflow_id: run.workflow_id,
      version: run.version,
      reason,
      test: run.test,
    };
    if (outbox) outbox.event(name, data);
    else await this.#deps.conversations.recordEvent(run.website_id, run.session_id, name, data);
  }

  async #batch(
    websiteId: string,
    runId: string,
    expected: number,
    resume: ResumeInput | undefined,
    external: ExternalResult | undefined,
    adopt: boolean,
    created?: { run: RunRecord; conversation: Conversation | undefined },
  ): Promise<BatchResult> {
    const store = this.#stores.workflows;
    // The run's lock first, then (through the messages written) the website's: one lock order.
    // A run created in this transaction is known, and no one else can see it yet.
    const run = created?.run ?? (await store.findRun(websiteId, runId, { forUpdate: true }));
    if (!run) return { kind: "stop" };
    if (run.step !== expected) {
      // A job that went on past its own step in-process (batch after batch) and whose process died:
      // run again, it finds the run still `running` further on. Nothing else can be driving it (one
      // job at a time per conversation lane), so it takes over from there; any other mismatch is a
      // stale job.
      if (!adopt || run.status !== "running" || run.step < expected) return { kind: "stop" };
      expected = run.step;
      resume = undefined;
    }
    if (run.status !== (resume ? "waiting" : "running")) return { kind: "stop" };
    const outbox = new Outbox(this.#deps, websiteId, run.session_id);
    if (created) {
      const started = startedEvent(run);
      outbox.event(started.event, started.data);
    }
    const graph = await this.#graphOf(run);
    const found = created?.conversation ?? (await this.#stores.conversations.find(websiteId, run.session_id));
    const now = Date.now();
    if (!graph || !found || run.block_id === null) {
      const reason = !found ? "conversation_removed" : "version_missing";
      if (
        !(await store.advanceRun(websiteId, runId, expected, 0, {
          status: "failed",
          ended_at: now,
          end_reason: reason,
          updated_at: now,
        }))
      )
        throw new StaleRun();
      if (found) {
        await this.#ended(run, "failed", reason, outbox);
        await outbox.flush();
      }
      return { kind: "stop" };
    }
    let conversation: Conversation = found;

    const variables = { ...run.variables };
    const steps: RunStepRecord[] = [];
    let blockId: string = run.block_id;
    let status: RunRecord["status"] = "running";
    let wait: RunRecord["wait"] = null;
    let endReason: string | null = null;
    let handoff: string | undefined;
    let stopBeforeExternal = false;
    const began = performance.now();

    for (let n = 0; ; n++) {
      const compiled = graph.blocks.get(blockId);
      const stepNo = run.step + n;
      if (!compiled) {
        status = "failed";
        endReason = `block ${blockId} is missing`;
        break;
      }
      if (stepNo >= MAX_RUN_STEPS) {
        status = "failed";
        endReason = `step limit (${MAX_RUN_STEPS}) reached`;
        break;
      }
      const { block, runner, definition } = compiled;
      let outcome: Outcome | { failed: string };
      let lines: string[] = [];
      let at = Date.now();
      let durationMs = 0;
      if (external && n === 0) {
        ({ outcome, lines, at, durationMs } = external);
        Object.assign(variables, external.variables);
      } else if (runner.external && !(resume && n === 0)) {
        if (n === 0) {
          await outbox.flush();
          return { kind: "external", step: expected, run: { ...run, variables }, compiled, conversation };
        }
        stopBeforeExternal = true;
        break;
      } else {
        const ctx: RunContext = new RunContext(this.#deps, {
          websiteId,
          sessionId: run.session_id,
          runId,
          workflowId: run.workflow_id,
          step: stepNo,
          blockId,
          test: run.test,
          startedAt: run.started_at,
          conversation,
          variables,
          wait: n === 0 && resume ? run.wait : null,
          external: false,
          outbox,
        });
        const t0 = performance.now();
        try {
          if (compiled.problem !== undefined) throw new BlockError(compiled.problem);
          const input = n === 0 ? resume : undefined;
          if (input) {
            if (!runner.resume) throw new BlockError(`${block.kind} cannot resume.`);
            outcome = await runner.resume(ctx, compiled.options, input);
          } else {
            outcome = await runner.run(ctx, compiled.options);
          }
        } catch (error) {
          if (!(error instanceof BlockError)) throw new StepCrash(blockId, block.kind, error);
          outcome = { failed: error.message };
        }
        durationMs = performance.now() - t0;
        lines = ctx.lines;
        conversation = ctx.conversation;
        handoff = ctx.handoff;
      }

      const resumed = n === 0 && resume !== undefined;
      let handle: string | null = null;
      let stepOutcome: RunStepRecord["outcome"];
      if ("failed" in outcome) {
        lines = [...lines, outcome.failed];
        const target = definition.handles(compiled.options as never).includes("failure")
          ? graph.next(blockId, "failure")
          : undefined;
        stepOutcome = "failed";
        if (target) {
          handle = "failure";
          blockId = target;
        } else {
          status = "failed";
          endReason = `${block.label || block.id}: ${outcome.failed}`;
        }
      } else if ("next" in outcome) {
        handle = outcome.next;
        stepOutcome = resumed ? "resumed" : "next";
        const target = graph.next(blockId, handle);
        if (target) blockId = target;
        else {
          status = "completed";
          endReason = handle === "next" ? "no_next_block" : `no block after ${handle}`;
        }
      } else if ("wait" in outcome || "retry" in outcome) {
        status = "waiting";
        wait = "wait" in outcome ? outcome.wait : outcome.retry;
        stepOutcome = "wait" in outcome ? "waiting" : "retry";
      } else {
        status = outcome.end;
        endReason = outcome.reason;
        stepOutcome = outcome.end;
      }
      steps.push({
        run_id: runId,
        website_id: websiteId,
        step: stepNo,
        block_id: block.id,
        kind: block.kind,
        outcome: stepOutcome,
        handle,
        at,
        duration_ms: Math.round(durationMs * 1000) / 1000,
        log: lines,
      });
      if (status !== "running") break;
      if (n + 1 >= MAX_STEPS_PER_TX || performance.now() - began > TX_BUDGET_MS) break;
    }

    const taken = steps.length;
    const ended = status === "completed" || status === "failed";
    const at = Date.now();
    const patch = {
      status,
      block_id: blockId,
      wait,
      variables,
      updated_at: at,
      ...(ended ? { ended_at: at, end_reason: endReason } : {}),
    };
    const moved = await store.advanceRun(websiteId, runId, expected, taken, patch);
    if (!moved) throw new StaleRun();
    const after: RunRecord = { ...run, ...patch, step: expected + taken };
    if (steps.length) await store.appendSteps(steps);
    const next = expected + taken;
    if (wait && wait.until !== null) {
      await this.#deps.jobs.enqueue(this.#stores, {
        kind: WORKFLOW_RESUME,
        payload: {
          website_id: websiteId,
          run_id: runId,
          step: next,
          input: { kind: wait.kind === "timer" ? "timer" : "timeout" },
        },
        queueKey: sessionLane(run.session_id),
        runAt: wait.until,
      });
    }
    if (ended) await this.#ended(run, status as "completed" | "failed", endReason, outbox);
    // The log last, right before the commit (see Outbox). Entries that cannot be written (a database
    // error) crash the batch at its last block, as the block's own write would have: rolled back,
    // then the run is failed there.
    try {
      await outbox.flush();
    } catch (error) {
      const last = steps.at(-1);
      if (!last) throw error;
      throw new StepCrash(last.block_id, last.kind, error);
    }
    if (ended) {
      if (handoff && status === "completed") await this.#handoff(run, handoff, variables);
      return { kind: "stop", run: after };
    }
    if (status === "running" && (stopBeforeExternal || taken > 0)) {
      return { kind: "continue", step: next, run: after };
    }
    return { kind: "stop", run: after };
  }

  async #handoff(
    run: RunRecord,
    workflowId: string,
    variables: Record<string, VariableValue>,
  ): Promise<void> {
    const workflow = await this.#stores.workflows.find(run.website_id, workflowId);
    if (!workflow || workflow.deployed_version === null) return;
    if (!(await this.#deployed(run.website_id, workflowId, workflow.deployed_version))) return;
    await this.start({
      websiteId: run.website_id,
      sessionId: run.session_id,
      workflowId,
      version: workflow.deployed_version,
      source: "workflow",
      sourceEvent: run.id,
      variables,
    });
  }

  /** Runs an external block (network I/O) outside any transaction; the next batch commits its result. */
  async #runExternal(pending: Extract<BatchResult, { kind: "external" }>): Promise<ExternalResult> {
    const { run, compiled, conversation } = pending;
    const variables = { ...run.variables };
    const ctx = new RunContext(this.#deps, {
      websiteId: run.website_id,
      sessionId: run.session_id,
      runId: run.id,
      workflowId: run.workflow_id,
      step: run.step,
      blockId: compiled.block.id,
      test: run.test,
      startedAt: run.started_at,
      conversation,
      variables,
      wait: null,
      external: true,
    });
    const at = Date.now();
    const t0 = performance.now();
    let outcome: Outcome | { failed: string };
    try {
      if (compiled.problem !== undefined) throw new BlockError(compiled.problem);
      outcome = await compiled.runner.run(ctx, compiled.options);
    } catch (error) {
      if (!(error instanceof BlockError)) {
        this.#deps.log.error(
          { err: error, runId: run.id, blockId: compiled.block.id },
          "workflow block crashed",
        );
      }
      outcome = { failed: error instanceof Error ? error.message : String(error) };
    }
    const changed: Record<string, VariableValue> = {};
    for (const [k, v] of Object.entries(ctx.variables)) if (run.variables[k] !== v) changed[k] = v;
    return { outcome, variables: changed, lines: ctx.lines, at, durationMs: performance.now() - t0 };
  }

  /** The batch rolled back on an unexpected error: record the failing block and end the run. */
  async #failAfterCrash(websiteId: string, runId: string, expected: number, crash: StepCrash): Promise<void> {
    await this.#stores.atomically(async () => {
      const run = await this.#stores.workflows.findRun(websiteId, runId, { forUpdate: true });
      if (!run || run.step !== expected) return;
      const now = Date.now();
      const reason = `${crash.blockId}: internal error`;
      if (
        !(await this.#stores.workflows.advanceRun(websiteId, runId, expected, 1, {
          status: "failed",
          ended_at: now,
          end_reason: reason,
          wait: null,
          updated_at: now,
        }))
      )
        return;
      await this.#stores.workflows.appendSteps([
        {
          run_id: runId,
          website_id: websiteId,
          step: expected,
          block_id: crash.blockId,
          kind: crash.kind,
          outcome: "failed",
          handle: null,
          at: now,
          duration_ms: 0,
          log: ["The block failed with an internal error; the run was stopped."],
        },
      ]);
      await this.#ended(run, "failed", reason);
    });
  }
}

/** Which start blocks an event can fire. */
export function startKindsFor(eventName: string): string[] {
  switch (eventName) {
    case "message:send":
      return ["start.message", "start.message_matches"];
    case "message:updated":
      return ["start.answer"];
    case "session:set_state":
      return ["start.state_changed"];
    case "session:set_page":
      return ["start.url_changed"];
    case "session:event":
      return ["start.event"];
    case "session:set_email":
    case "session:set_nickname":
    case "session:set_phone":
    case "session:set_data":
    case "session:set_segments":
      return ["start.meta_updated"];
    default:
      return [];
  }
}

/** What a waiting run resumes on, for an event from the visitor; undefined for other events. */
export function resumeInput(event: WorkflowEventInput): ResumeInput | undefined {
  const data = event.data as Record<string, unknown> | null;
  if (!data) return undefined;
  if (event.name === "message:send" && data.from === "user" && data.type !== "note") {
    return { kind: "message", message: data as never };
  }
  if (event.name === "message:updated" && data.from === "operator") {
    const content = data.content as Record<string, unknown> | undefined;
    if (!content || typeof content.id !== "string") return undefined;
    if (data.type === "picker" && Array.isArray(content.choices)) {
      const choice = (content.choices as { value: string; label: string; selected?: boolean }[]).find(
        (c) => c.selected,
      );
      if (choice) return { kind: "picker", id: content.id, value: choice.value, label: choice.label };
    }
    if (data.type === "field" && typeof content.value === "string") {
      return { kind: "field", id: content.id, value: content.value };
    }
  }
  return undefined;
}
