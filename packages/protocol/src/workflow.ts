import { z } from "zod";
import { ScenarioId, SessionId, UUID_RE, WebsiteId } from "./ids.ts";

/**
 * Workflows (Crisp "bot scenarios"): a graph of blocks joined by edges. A block's `kind` names its
 * definition in the catalogue (workflow-blocks.ts); its `options` are checked against that
 * definition's schema when the workflow is saved and deployed (workflow validation reports every
 * problem with the block and the field), not by this shape.
 */

export const RUN_ID_RE = new RegExp(`^run_${UUID_RE.source.slice(1, -1)}$`);
export const RunId = z.string().regex(RUN_ID_RE, "must be run_<uuid>");

export const BlockId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1–64 letters, digits, _ or -");

export const WorkflowBlock = z.strictObject({
  id: BlockId,
  kind: z.string().min(1).max(64),
  options: z.record(z.string(), z.unknown()).default({}),
  /** Canvas position, for the editor. */
  position: z.strictObject({ x: z.number(), y: z.number() }).optional(),
  /** A name the author gives the block; shown in the editor and the run log. */
  label: z.string().max(200).optional(),
});
export type WorkflowBlock = z.infer<typeof WorkflowBlock>;

export const WorkflowEdge = z.strictObject({
  from: BlockId,
  /** Which output of the source block: `next`, `true`/`false`, `success`/`failure`, a choice… */
  handle: z.string().min(1).max(128).default("next"),
  to: BlockId,
});
export type WorkflowEdge = z.infer<typeof WorkflowEdge>;

export const WorkflowGraph = z.strictObject({
  blocks: z.array(WorkflowBlock).max(500),
  edges: z.array(WorkflowEdge).max(2000),
});
export type WorkflowGraph = z.infer<typeof WorkflowGraph>;

export const EMPTY_GRAPH: WorkflowGraph = { blocks: [], edges: [] };

/** Variable names: what `{{ name }}` templates refer to. */
export const VariableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "must start with a letter or _ and hold letters, digits, _");
export const VariableValue = z.union([z.string().max(2000), z.number(), z.boolean()]);
export type VariableValue = z.infer<typeof VariableValue>;
/** Variables passed to a trigger (REST or widget): at most 50, each a string, number or boolean. */
export const Variables = z
  .record(VariableName, VariableValue)
  .refine((v) => Object.keys(v).length <= 50, "at most 50 variables");
export type Variables = z.infer<typeof Variables>;

/** One problem validation found: which block (null for the whole graph), which field, what. */
export const ValidationIssue = z.object({
  block_id: z.string().nullable(),
  field: z.string().nullable(),
  code: z.enum([
    "no_start",
    "several_starts",
    "duplicate_block",
    "unknown_kind",
    "invalid_option",
    "dangling_edge",
    "unknown_handle",
    "duplicate_edge",
    "edge_into_start",
    "unreachable",
    "loop_without_wait",
    "code_start_waits",
    "unknown_workflow",
  ]),
  message: z.string(),
});
export type ValidationIssue = z.infer<typeof ValidationIssue>;

export const Validation = z.object({ valid: z.boolean(), issues: z.array(ValidationIssue) });
export type Validation = z.infer<typeof Validation>;

const Name = z.string().trim().min(1).max(120);
const Description = z.string().max(2000);

export const WorkflowCreate = z.strictObject({
  name: Name,
  description: Description.optional(),
  graph: WorkflowGraph.optional(),
  /** May the browser start it (`$crisp.push(["do","bot:scenario:run",[id]])`)? Off by default. */
  browser_startable: z.boolean().optional(),
});
export type WorkflowCreate = z.infer<typeof WorkflowCreate>;

/** Saves the draft: only deploying makes it run in production. */
export const WorkflowUpdate = z.strictObject({
  name: Name.optional(),
  description: Description.optional(),
  graph: WorkflowGraph.optional(),
  browser_startable: z.boolean().optional(),
});
export type WorkflowUpdate = z.infer<typeof WorkflowUpdate>;

export const WorkflowSummary = z.object({
  workflow_id: ScenarioId,
  website_id: WebsiteId,
  name: z.string(),
  description: z.string(),
  browser_startable: z.boolean(),
  /** The version production runs use; null until the first deploy. */
  deployed_version: z.number().int().nullable(),
  /** The draft differs from the deployed version. */
  has_undeployed_changes: z.boolean(),
  /** The start block's kind, e.g. `start.code` or `start.message`; null when the draft has none. */
  start: z.string().nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
});
export type WorkflowSummary = z.infer<typeof WorkflowSummary>;

export const Workflow = WorkflowSummary.extend({
  draft: WorkflowGraph,
  /** Problems of the draft; deploying refuses while `valid` is false. */
  validation: Validation,
});
export type Workflow = z.infer<typeof Workflow>;

export const WorkflowVersion = z.object({
  workflow_id: ScenarioId,
  version: z.number().int().positive(),
  name: z.string(),
  graph: WorkflowGraph,
  deployed_at: z.number().int(),
});
export type WorkflowVersion = z.infer<typeof WorkflowVersion>;

/** The JSON file of export/import. */
export const WorkflowExport = z.strictObject({
  format: z.literal("hugo.workflow"),
  format_version: z.literal(1),
  name: Name,
  description: Description.default(""),
  graph: WorkflowGraph,
  exported_at: z.number().int().optional(),
  workflow_id: ScenarioId.optional(),
});
export type WorkflowExport = z.infer<typeof WorkflowExport>;

/** Body of `POST /api/scenario/{workflow_id}/trigger/` (contract §1; `variables` is Hugo's extension). */
export const WorkflowTrigger = z.strictObject({
  session_id: SessionId,
  variables: Variables.optional(),
});
export type WorkflowTrigger = z.infer<typeof WorkflowTrigger>;

/** Body of a test run of the draft: in the given conversation, or a new one. */
export const WorkflowTestRun = z.strictObject({
  session_id: SessionId.optional(),
  variables: Variables.optional(),
});

export const RunStatus = z.enum(["running", "waiting", "completed", "failed", "cancelled"]);
export type RunStatus = z.infer<typeof RunStatus>;
export const ACTIVE_RUN_STATUSES = ["running", "waiting"] as const;

/** What a waiting run waits for. */
export const RunWait = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("timer"), until: z.number().int() }),
  z.object({
    kind: z.literal("answer"),
    /** Which answer: any visitor message, a click on picker `id`, or a value for field `id`. */
    expect: z.enum(["message", "picker", "field"]),
    id: z.string().nullable(),
    /** When the timeout branch is taken; null waits for ever. */
    until: z.number().int().nullable(),
    /** Invalid answers so far (fields). */
    attempts: z.number().int(),
  }),
]);
export type RunWait = z.infer<typeof RunWait>;

export const RunSource = z.enum(["api", "widget", "event", "test", "workflow", "agent"]);
export type RunSource = z.infer<typeof RunSource>;

export const Run = z.object({
  run_id: RunId,
  website_id: WebsiteId,
  workflow_id: ScenarioId,
  /** The deployed version it runs; null for a test run of the draft. */
  version: z.number().int().nullable(),
  session_id: SessionId,
  status: RunStatus,
  test: z.boolean(),
  source: RunSource,
  /** For event-started runs, the event that started it (e.g. `message:send`). */
  source_event: z.string().nullable(),
  /** The block it is at (running or waiting), or ended on. */
  block_id: z.string().nullable(),
  /** Steps taken so far. */
  steps: z.number().int(),
  wait: RunWait.nullable(),
  variables: z.record(z.string(), VariableValue),
  started_at: z.number().int(),
  updated_at: z.number().int(),
  ended_at: z.number().int().nullable(),
  /** Why it ended: `end_block`, `no_next_block`, `cancelled`, `superseded`, a block's failure… */
  end_reason: z.string().nullable(),
});
export type Run = z.infer<typeof Run>;

export const RunStepOutcome = z.enum(["next", "waiting", "resumed", "completed", "failed", "retry"]);

/** One entry of a run's log: a block executed (or resumed), what came out, and what it logged. */
export const RunStep = z.object({
  step: z.number().int(),
  block_id: z.string(),
  kind: z.string(),
  outcome: RunStepOutcome,
  /** The output taken (`next`, `true`, `failure`, `choice:…`), when one was. */
  handle: z.string().nullable(),
  at: z.number().int(),
  duration_ms: z.number(),
  log: z.array(z.string()),
});
export type RunStep = z.infer<typeof RunStep>;

export const RunDetail = Run.extend({ log: z.array(RunStep) });
export type RunDetail = z.infer<typeof RunDetail>;

export const RunListQuery = z.strictObject({
  status: RunStatus.optional(),
  /** Runs started before this time (ms), for paging; newest first. */
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type RunListQuery = z.infer<typeof RunListQuery>;

/** `data` of a successful trigger (202). */
export const TriggerResult = z.object({
  run_id: RunId,
  status: RunStatus,
  workflow_id: ScenarioId,
  session_id: SessionId,
  version: z.number().int().nullable(),
});
export type TriggerResult = z.infer<typeof TriggerResult>;
