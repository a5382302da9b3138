import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { type DashboardResults, runDashboardBench } from "./dashboard.ts";
import { type DeliveryResult, measureDelivery, postMessage } from "./delivery.ts";
import {
  createConversations,
  messagePath,
  probeRealtime,
  type RunningHugo,
  realtimeUrl,
  startHugo,
} from "./hugo.ts";
import { type InboxResults, runInboxBench } from "./inbox.ts";
import { type KnowledgeResults, runKnowledgeBench } from "./knowledge.ts";
import { type LlmResults, runLlmBench } from "./llm.ts";
import { buildPost, type ClosedLoopResult, closedLoop, type OpenLoopResult, openLoop } from "./load.ts";
import type { BenchOptions } from "./options.ts";
import { type ServerProcess, sampleRss, settle, spawnNode, startBaseline, waitForMessage } from "./procs.ts";
import { type ProfileSummary, summarizeProfile } from "./profile.ts";
import { evaluateTargets, type TargetResult } from "./report.ts";
import { runWidgetBench, type WidgetResults } from "./widget.ts";
import { runWorkflowBench, type WorkflowResults } from "./workflows.ts";

/** The chat message every load phase posts (~300 bytes once stored with its metadata). */
export const MESSAGE_CONTENT =
  "Hi! I ordered the blue jacket last Tuesday and the tracking page still says pending. Any news?";
export const MESSAGE_BODY = JSON.stringify({
  type: "text",
  from: "user",
  origin: "chat",
  content: MESSAGE_CONTENT,
});

export interface RssInfo {
  /** Before the phase, bytes. */
  before: number;
  /** Highest sample during the measured window, bytes. */
  peak: number;
}

export type ThroughputResult = ClosedLoopResult & { rss: RssInfo; rounds?: ClosedLoopResult[] };
export type RateResult = OpenLoopResult & { rss: RssInfo };

export interface IdleSocketsResult {
  requested: number;
  connected: number;
  failed: number;
  firstError: string | undefined;
  openMs: number;
  rssBefore: number;
  rssAfter: number;
  heapBefore: number;
  heapAfter: number;
  /** (RSS after − RSS before) / connected, bytes. */
  perConnection: number;
  /** V8 heap used / reserved / external (Buffers) growth per connection, bytes. */
  heapPerConnection: number;
  heapTotalPerConnection: number;
  externalPerConnection: number;
}

export interface Skipped {
  skipped: string;
}

export interface IdleResult {
  startMs: number;
  /** After the settle period, before any GC. */
  rssBeforeGc: number;
  /** After the settle period and a full GC: the number the target uses. */
  rss: number;
  heapUsed: number;
  gcAvailable: boolean;
}

export interface BenchResults {
  meta: {
    date: string;
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    loadavgStart: number[];
    loadavgEnd: number[];
    totalMs: number;
    options: Omit<BenchOptions, "log" | "only"> & { only: string[] };
  };
  messageRowBytes?: number;
  throughput: { b0?: ThroughputResult; b2?: ThroughputResult; hugo?: ThroughputResult };
  rate: { rate?: number; b2?: RateResult; hugo?: RateResult };
  delivery: { b4?: DeliveryResult; hugo?: DeliveryResult | Skipped };
  workflows: WorkflowResults;
  knowledge: KnowledgeResults;
  llm: LlmResults;
  widget: WidgetResults;
  dashboard: DashboardResults;
  inbox: InboxResults;
  memory: { b4?: IdleSocketsResult; hugo?: IdleSocketsResult | Skipped };
  idle: { hugo?: IdleResult; b0?: IdleResult };
  profile?: ProfileSummary | Skipped;
  targets: TargetResult[];
}

const authHeaders = (token: string) => ({ authorization: `Bearer ${token}` });

async function measureClosed(
  proc: ServerProcess,
  paths: string[],
  headers: Record<string, string>,
  options: BenchOptions,
): Promise<ThroughputResult> {
  const spec = { paths, headers, body: MESSAGE_BODY };
  if (options.warmupS > 0)
    await closedLoop(proc.target, spec, { connections: options.connections, durationS: options.warmupS });
  const before = proc.rss();
  const stop = sampleRss(proc.pid);
  const result = await closedLoop(proc.target, spec, {
    connections: options.connections,
    durationS: options.durationS,
  });
  return { ...result, rss: { before, peak: stop().peak } };
}

interface Loaded {
  proc: ServerProcess;
  paths: string[];
  headers: Record<string, string>;
}

/** Rounds of one closed loop summed: req/s over all rounds, request-weighted p50/p90/mean, worst p99/max. */
export function combineRounds(rounds: ClosedLoopResult[]): ClosedLoopResult & { rounds: ClosedLoopResult[] } {
  const sum = (f: (r: ClosedLoopResult) => number) => rounds.reduce((n, r) => n + f(r), 0);
  const ok = sum((r) => r.ok);
  const durationS = sum((r) => r.durationS);
  const weighted = (f: (r: ClosedLoopResult) => number) => (ok ? sum((r) => f(r) * r.ok) / ok : Number.NaN);
  return {
    rps: ok / durationS,
    ok,
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    durationS,
    latency: {
      p50: weighted((r) => r.latency.p50),
      p90: weighted((r) => r.latency.p90),
      p99: Math.max(...rounds.map((r) => r.latency.p99)),
      max: Math.max(...rounds.map((r) => r.latency.max)),
      mean: weighted((r) => r.latency.mean),
    },
    rounds,
  };
}

/**
 * Closed loops on several servers that are all up at once, alternating in `options.rounds` rounds
 * (A B A B…), so a burst of load from elsewhere on the machine hits every server rather than one.
 */
async function measureClosedAlternating(
  servers: Loaded[],
  options: BenchOptions,
): Promise<ThroughputResult[]> {
  const conns = { connections: options.connections };
  const specs = servers.map((s) => ({ paths: s.paths, headers: s.headers, body: MESSAGE_BODY }));
  if (options.warmupS > 0)
    for (const [i, s] of servers.entries())
      await closedLoop(s.proc.target, specs[i]!, { ...conns, durationS: options.warmupS });
  const before = servers.map((s) => s.proc.rss());
  const peaks = servers.map(() => 0);
  const rounds: ClosedLoopResult[][] = servers.map(() => []);
  const roundS = options.durationS / options.rounds;
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, s] of servers.entries()) {
      const stop = sampleRss(s.proc.pid);
      rounds[i]!.push(await closedLoop(s.proc.target, specs[i]!, { ...conns, durationS: roundS }));
      peaks[i] = Math.max(peaks[i]!, stop().peak);
    }
  }
  return servers.map((_, i) => ({
    ...combineRounds(rounds[i]!),
    rss: { before: before[i]!, peak: peaks[i]! },
  }));
}

async function measureRate(
  proc: ServerProcess,
  paths: string[],
  headers: Record<string, string>,
  rate: number,
  options: BenchOptions,
): Promise<RateResult> {
  const requests = paths.map((p) => buildPost(proc.target, p, headers, MESSAGE_BODY));
  const build = (i: number) => requests[i % requests.length]!;
  if (options.warmupS > 0)
    await openLoop(proc.target, {
      connections: options.connections,
      rate,
      durationS: Math.min(options.warmupS, 2),
      build,
    });
  const before = proc.rss();
  const stop = sampleRss(proc.pid);
  const result = await openLoop(proc.target, {
    connections: options.connections,
    rate,
    durationS: options.durationS,
    build,
  });
  return { ...result, rss: { before, peak: stop().peak } };
}

/** RSS of the server before and after `count` idle subscribed sockets (held by a child process). */
async function measureIdleSockets(
  proc: ServerProcess,
  wsUrl: string,
  headers: Record<string, string>,
  sessions: string[],
  options: BenchOptions,
): Promise<IdleSocketsResult> {
  await settle(options.settleMs);
  const before = await proc.mem(true);
  const holder = spawnNode("subscribers", path.join(import.meta.dirname, "subscriber-child.ts"));
  try {
    await waitForMessage(holder, (m): m is unknown => (m as { bench?: string })?.bench === "ready");
    holder.child.send({ url: wsUrl, headers, sessions, count: options.subscribers, concurrency: 100 });
    const opened = await waitForMessage(
      holder,
      (m): m is { ok: number; failed: number; firstError?: string; ms: number } =>
        (m as { bench?: string })?.bench === "subscribed",
      180_000,
    );
    await settle(options.settleMs);
    const after = await proc.mem(true);
    holder.child.send({ bench: "close" });
    await waitForMessage(
      holder,
      (m): m is unknown => (m as { bench?: string })?.bench === "closed",
      30_000,
    ).catch(() => undefined);
    const n = Math.max(opened.ok, 1);
    return {
      requested: options.subscribers,
      connected: opened.ok,
      failed: opened.failed,
      firstError: opened.firstError,
      openMs: opened.ms,
      rssBefore: before.rss,
      rssAfter: after.rss,
      heapBefore: before.heapUsed,
      heapAfter: after.heapUsed,
      perConnection: (after.rss - before.rss) / n,
      heapPerConnection: (after.heapUsed - before.heapUsed) / n,
      heapTotalPerConnection: (after.heapTotal - before.heapTotal) / n,
      externalPerConnection: (after.external - before.external) / n,
    };
  } finally {
    await holder.stop();
  }
}

async function withProcess<T extends { proc: ServerProcess }, R>(
  start: Promise<T>,
  use: (p: T) => Promise<R>,
): Promise<R> {
  const running = await start;
  try {
    return await use(running);
  } finally {
    await running.proc.stop();
  }
}

async function hugoRealtime(hugo: RunningHugo): Promise<{ url: string } | Skipped> {
  const url = realtimeUrl(hugo.proc);
  const probe = await probeRealtime(url, hugo.seed.token);
  if (probe === "ok") return { url };
  return {
    skipped: probe === "missing" ? "realtime endpoint missing" : `realtime endpoint failed: ${probe}`,
  };
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const started = performance.now();
  const log = options.log;
  const only = options.only;
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      loadavgStart: os.loadavg(),
      loadavgEnd: [],
      totalMs: 0,
      options: { ...options, log: undefined, only: [...only] } as BenchResults["meta"]["options"],
    },
    throughput: {},
    rate: {},
    delivery: {},
    memory: {},
    idle: {},
    workflows: {},
    knowledge: {},
    llm: {},
    widget: {},
    dashboard: {},
    inbox: {},
    targets: [],
  };
  delete (results.meta.options as { log?: unknown }).log;

  const baselinePaths = (n: number) =>
    Array.from(
      { length: n },
      (_, i) =>
        `/v1/website/00000000-0000-4000-8000-000000000000/conversation/session_00000000-0000-4000-8000-${String(i).padStart(12, "0")}/message`,
    );
  const fakeAuth = { authorization: `Bearer hugo_00000000-0000-4000-8000-000000000000_${"0".repeat(64)}` };
  const cl = `${options.connections} connections`;

  // B0: raw node:http.
  if (only.has("throughput")) {
    log(`B0  raw node:http: closed loop, ${cl}, ${options.durationS} s`);
    results.throughput.b0 = await withProcess(startBaseline("b0"), ({ proc }) =>
      measureClosed(proc, baselinePaths(options.conversations), fakeAuth, options),
    );
    log(`    ${results.throughput.b0.rps.toFixed(0)} req/s`);
  }

  // B2 (raw node:http + one better-sqlite3 insert per request) and Hugo, both up: alternating
  // closed-loop rounds, then B2's maximum halved as the fixed rate for both.
  if (only.has("throughput") || only.has("rate")) {
    await withProcess(startBaseline("b2", { BENCH_CONTENT: MESSAGE_CONTENT }), async (b2) => {
      results.messageRowBytes = b2.info.rowBytes;
      await withProcess(startHugo({ main: options.hugoMain }), async (hugo) => {
        const sessions = await createConversations(hugo, options.conversations);
        const servers = {
          b2: { proc: b2.proc, paths: baselinePaths(options.conversations), headers: fakeAuth },
          hugo: {
            proc: hugo.proc,
            paths: sessions.map((s) => messagePath(hugo.seed.websiteId, s)),
            headers: authHeaders(hugo.seed.token),
          },
        };
        if (only.has("throughput") || options.rate === undefined) {
          const withHugo = only.has("throughput");
          log(
            `B2${withHugo ? " and Hugo send-message" : ""}: closed loop, ${cl} over ${options.conversations} conversations, ` +
              `${options.durationS} s each in ${options.rounds} alternating round(s)`,
          );
          const [rb2, rhugo] = await measureClosedAlternating(
            withHugo ? [servers.b2, servers.hugo] : [servers.b2],
            options,
          );
          results.throughput.b2 = rb2;
          if (withHugo) results.throughput.hugo = rhugo;
          log(`    B2 ${rb2!.rps.toFixed(0)} req/s${rhugo ? `, Hugo ${rhugo.rps.toFixed(0)} req/s` : ""}`);
        }
        if (only.has("rate")) {
          const rate = Math.max(1, Math.round(options.rate ?? results.throughput.b2!.rps / 2));
          results.rate.rate = rate;
          log(`B2  fixed rate ${rate} req/s (open loop), ${options.durationS} s`);
          results.rate.b2 = await measureRate(servers.b2.proc, servers.b2.paths, fakeAuth, rate, options);
          log(`    p99 ${results.rate.b2.latency.p99.toFixed(2)} ms`);
          log(`Hugo fixed rate ${rate} req/s (open loop), ${options.durationS} s`);
          results.rate.hugo = await measureRate(
            hugo.proc,
            servers.hugo.paths,
            servers.hugo.headers,
            rate,
            options,
          );
          log(`    p99 ${results.rate.hugo.latency.p99.toFixed(2)} ms`);
        }
      });
    });
  }

  // Hugo delivery to subscribed sockets, on a fresh process (the fixed-rate phase may have overloaded
  // the previous one).
  if (only.has("delivery")) {
    await withProcess(startHugo({ main: options.hugoMain }), async (hugo) => {
      const { proc, seed } = hugo;
      const sessions = await createConversations(hugo, options.conversations);
      const rt = await hugoRealtime(hugo);
      if ("skipped" in rt) {
        results.delivery.hugo = rt;
        log(`Hugo delivery: not measured (${rt.skipped})`);
        return;
      }
      log(
        `Hugo delivery: ${options.deliveryRate} msg/s to ${sessions.length} subscribed sockets, ${options.durationS} s`,
      );
      results.delivery.hugo = await measureDelivery(
        proc,
        rt.url,
        authHeaders(seed.token),
        sessions,
        postMessage((s) => messagePath(seed.websiteId, s)),
        options.deliveryRate,
        options,
      );
      log(`    p99 ${results.delivery.hugo.latency.p99.toFixed(2)} ms`);
    });
  }

  const b4Sessions = Array.from(
    { length: options.conversations },
    (_, i) => `session_00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  );

  // B4: bare ws, the same delivery measurement (context for Hugo's number).
  if (only.has("delivery")) {
    log(
      `B4  bare ws delivery: ${options.deliveryRate} msg/s to ${b4Sessions.length} sockets, ${options.durationS} s`,
    );
    results.delivery.b4 = await withProcess(startBaseline("b4"), ({ proc }) =>
      measureDelivery(
        proc,
        `ws://${proc.host}:${proc.port}/api/realtime`,
        {},
        b4Sessions,
        postMessage((s) => `/publish/${s}`),
        options.deliveryRate,
        options,
      ),
    );
    log(`    p99 ${results.delivery.b4.latency.p99.toFixed(2)} ms`);
  }

  // B4: idle subscribed sockets.
  if (only.has("memory")) {
    log(`B4  bare ws: ${options.subscribers} idle subscribed sockets`);
    results.memory.b4 = await withProcess(startBaseline("b4"), ({ proc }) =>
      measureIdleSockets(proc, `ws://${proc.host}:${proc.port}/api/realtime`, {}, b4Sessions, options),
    );
    log(`    ${(results.memory.b4.perConnection / 1024).toFixed(1)} KB per socket`);
  }

  // Hugo idle (fresh, demo data only), then idle subscribed sockets on the same process. B0 idle
  // alongside: the floor of node + TypeScript stripping + the bench agent.
  if (only.has("idle") || only.has("memory")) {
    await withProcess(startHugo({ main: options.hugoMain }), async (hugo) => {
      const { proc, seed } = hugo;
      if (only.has("idle")) {
        log(`Hugo idle RSS: settle ${options.settleMs} ms, GC (B0 idle alongside)`);
        const b0Start = performance.now();
        const b0 = await startBaseline("b0");
        const b0StartMs = performance.now() - b0Start;
        try {
          await settle(options.settleMs);
          const idle = async (p: ServerProcess, startMs: number): Promise<IdleResult> => {
            const rssBeforeGc = p.rss();
            const m = await p.mem(true);
            return { startMs, rssBeforeGc, rss: m.rss, heapUsed: m.heapUsed, gcAvailable: m.gcAvailable };
          };
          results.idle.hugo = await idle(proc, hugo.startMs);
          results.idle.b0 = await idle(b0.proc, b0StartMs);
        } finally {
          await b0.proc.stop();
        }
        log(`    ${mb(results.idle.hugo.rss)} (B0 ${mb(results.idle.b0.rss)})`);
      }
      if (only.has("memory")) {
        const rt = await hugoRealtime(hugo);
        if ("skipped" in rt) {
          results.memory.hugo = rt;
          log(`Hugo idle sockets: not measured (${rt.skipped})`);
        } else {
          const sessions = await createConversations(hugo, options.conversations);
          log(`Hugo: ${options.subscribers} idle subscribed sockets`);
          results.memory.hugo = await measureIdleSockets(
            proc,
            rt.url,
            authHeaders(seed.token),
            sessions,
            options,
          );
          log(`    ${(results.memory.hugo.perConnection / 1024).toFixed(1)} KB per socket`);
        }
      }
    });
  }

  // Workflows: B3, then trigger → first message and a 100-step chain on each database.
  if (only.has("workflows")) results.workflows = await runWorkflowBench(options);

  // Knowledge: ingestion, search and AI agent answer turns on each database.
  if (only.has("knowledge")) results.knowledge = await runKnowledgeBench(options);

  // LLM answers: the AI SDK alone against a fake model, then Hugo answering through it, per database.
  if (only.has("llm")) results.llm = await runLlmBench(options);

  // The widget: loader and bundle sizes as served, and loader start → session:loaded in Chromium.
  if (only.has("widget")) results.widget = await runWidgetBench(options);

  // The dashboard: the gzipped JS of the inbox route (what /app/ loads) and of each lazy route.
  if (only.has("dashboard")) results.dashboard = await runDashboardBench(options);
  // The inbox API at 10,000 conversations: the first page, every page by cursor, search, badges.
  if (only.has("inbox")) results.inbox = await runInboxBench(options);

  // Optional: where Hugo's send-message time goes (a separate run, so profiling cost skews nothing above).
  if (options.profile) {
    const dir = path.join(options.outDir, "profiles");
    fs.mkdirSync(dir, { recursive: true });
    const name = `hugo-send-message-${Date.now()}.cpuprofile`;
    log(`Hugo send-message under --cpu-prof: closed loop, ${cl}, ${options.durationS} s`);
    await withProcess(
      startHugo({
        main: options.hugoMain,
        nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`],
      }),
      async (hugo) => {
        const sessions = await createConversations(hugo, options.conversations);
        await measureClosed(
          hugo.proc,
          sessions.map((s) => messagePath(hugo.seed.websiteId, s)),
          authHeaders(hugo.seed.token),
          options,
        );
      },
    );
    const file = path.join(dir, name);
    results.profile = fs.existsSync(file) ? summarizeProfile(file) : { skipped: "no profile was written" };
  }

  results.meta.loadavgEnd = os.loadavg();
  results.meta.totalMs = performance.now() - started;
  results.targets = evaluateTargets(results, options);
  return results;
}
