/**
 * Workflow phases (issue 3), on SQLite and on PostgreSQL:
 *
 * - trigger → first message: deployed `start.code → send text`, triggered through
 *   `POST /api/scenario/{id}/trigger/` at a fixed rate round-robin over conversations that each have a
 *   subscribed WebSocket; ms from the trigger request written to the bot's message frame received.
 * - chain: deployed `start.code → 100 × send text`, triggered runs one after another in a
 *   conversation with a subscriber; ms from the trigger written to the last step's message received,
 *   as steps/s, next to B3 (a raw better-sqlite3 insert loop of the same-sized row) in the same run.
 */
import { performance } from "node:perf_hooks";
import type { Skipped } from "./bench.ts";
import { type DeliveryResult, measureDelivery } from "./delivery.ts";
import { createConversations, type RunningHugo, realtimeUrl, withHugoOn } from "./hugo.ts";
import type { BenchOptions, Dialect } from "./options.ts";
import { type InsertLoopResult, runInsertLoop } from "./procs.ts";
import { type LatencySummary, summarize } from "./stats.ts";
import { openSubscribers } from "./subscribers.ts";

export interface ChainResult {
  steps: number;
  runs: number;
  /** Trigger written → last step's message received, ms per run. */
  duration: LatencySummary;
  /** steps / median duration. */
  stepsPerS: number;
  /** Messages missing or received twice over all runs (must be 0). */
  missing: number;
  duplicates: number;
}

export interface WorkflowDialectResult {
  trigger: DeliveryResult;
  chain: ChainResult;
}

export interface WorkflowResults {
  b3?: InsertLoopResult;
  sqlite?: WorkflowDialectResult | Skipped;
  postgres?: WorkflowDialectResult | Skipped;
}

type Json = Record<string, unknown>;

async function api(hugo: RunningHugo, method: string, path: string, body?: unknown): Promise<Json> {
  const { host, port } = hugo.proc.target;
  const res = await fetch(`http://${host}:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${hugo.seed.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Json;
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** `start.code` followed by send-text blocks, one per template; returns the deployed workflow's id. */
async function deployChain(hugo: RunningHugo, name: string, texts: string[]): Promise<string> {
  const blocks = [
    { id: "start", kind: "start.code", options: {} },
    ...texts.map((text, i) => ({ id: `t${i + 1}`, kind: "action.text", options: { text } })),
  ];
  const edges = blocks.slice(1).map((b, i) => ({ from: blocks[i]!.id, handle: "next", to: b.id }));
  const created = (await api(hugo, "POST", "/api/workflows", { name, graph: { blocks, edges } })) as {
    data: { workflow_id: string };
  };
  const id = created.data.workflow_id;
  await api(hugo, "POST", `/api/workflows/${id}/deploy`, {});
  return id;
}

const triggerPath = (workflowId: string) => `/api/scenario/${workflowId}/trigger/`;

/** Runs the chain workflow `runs` times in one conversation, one after another. */
async function measureChain(
  hugo: RunningHugo,
  workflowId: string,
  session: string,
  steps: number,
  runs: number,
): Promise<ChainResult> {
  const seen = new Map<number, { count: number; last: number }>();
  let duplicates = 0;
  let waiting: { run: number; resolve: () => void } | undefined;
  const subs = await openSubscribers({
    url: realtimeUrl(hugo.proc),
    headers: { authorization: `Bearer ${hugo.seed.token}` },
    sessions: [session],
    count: 1,
    onFrame(frame) {
      if (frame.type !== "event" || frame.name !== "message:received") return;
      const content = (frame.data as { content?: unknown } | undefined)?.content;
      if (typeof content !== "string" || !content.startsWith("chain:")) return;
      const [, r, s] = content.split(":");
      const run = Number(r);
      const entry = seen.get(run) ?? { count: 0, last: 0 };
      seen.set(run, entry);
      entry.count++;
      if (entry.count > steps) duplicates++;
      if (Number(s) === steps) {
        entry.last = performance.now();
        if (waiting?.run === run) waiting.resolve();
      }
    },
  });
  if (subs.ok !== 1) throw new Error(`the chain subscriber did not connect: ${subs.firstError}`);
  const durations: number[] = [];
  try {
    // Two unmeasured runs first (JIT, statement caches).
    for (let run = -2; run < runs; run++) {
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`chain run ${run} did not finish in 60 s`)), 60_000);
        waiting = {
          run,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
      const started = performance.now();
      await api(hugo, "POST", triggerPath(workflowId), { session_id: session, variables: { r: run } });
      await done;
      if (run >= 0) durations.push(seen.get(run)!.last - started);
    }
    // Let late duplicates show.
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    await subs.close();
  }
  let missing = 0;
  for (let run = 0; run < runs; run++) missing += Math.max(0, steps - (seen.get(run)?.count ?? 0));
  const duration = summarize(durations);
  return { steps, runs, duration, stepsPerS: steps / (duration.p50 / 1000), missing, duplicates };
}

async function benchDialect(
  dialect: Dialect,
  options: BenchOptions,
): Promise<WorkflowDialectResult | Skipped> {
  const log = options.log;
  return withHugoOn(dialect, options, async (hugo) => {
    const sessions = await createConversations(hugo, options.conversations + 1);
    const chainSession = sessions.pop()!;
    const first = await deployChain(hugo, "bench: trigger → first message", ["{{ m }}"]);
    const steps = options.chainSteps;
    const chain = await deployChain(
      hugo,
      `bench: ${steps} send-text steps`,
      Array.from({ length: steps }, (_, i) => `chain:{{ r }}:${i + 1}`),
    );

    log(
      `Hugo on ${dialect}: trigger → first workflow message, ${options.triggerRate} triggers/s over ` +
        `${sessions.length} subscribed conversations, ${options.durationS} s`,
    );
    const trigger = await measureDelivery(
      hugo.proc,
      realtimeUrl(hugo.proc),
      { authorization: `Bearer ${hugo.seed.token}` },
      sessions,
      (session, content) => ({
        path: triggerPath(first),
        body: JSON.stringify({ session_id: session, variables: { m: content } }),
      }),
      options.triggerRate,
      options,
    );
    log(`    p50 ${trigger.latency.p50.toFixed(2)} ms, p99 ${trigger.latency.p99.toFixed(2)} ms`);

    log(`Hugo on ${dialect}: ${options.chainRuns} runs of ${steps} send-text steps, one after another`);
    const result = await measureChain(hugo, chain, chainSession, steps, options.chainRuns);
    log(`    ${result.stepsPerS.toFixed(0)} steps/s (median run ${result.duration.p50.toFixed(1)} ms)`);
    return { trigger, chain: result };
  });
}

export async function runWorkflowBench(options: BenchOptions): Promise<WorkflowResults> {
  const results: WorkflowResults = {};
  const rows = options.quick ? 5_000 : 20_000;
  options.log(`B3  raw SQLite insert loop: 3 rounds of ${rows.toLocaleString("en-US")} autocommitted rows`);
  results.b3 = await runInsertLoop(rows, 3, { BENCH_CONTENT: "chain:12:34" });
  options.log(`    ${results.b3.rowsPerS.toFixed(0)} rows/s`);
  for (const dialect of options.dialects) results[dialect] = await benchDialect(dialect, options);
  return results;
}
