import path from "node:path";
import { parseArgs } from "node:util";
import { HUGO_MAIN } from "./hugo.ts";
import { REPO_DIR } from "./procs.ts";

export const PHASES = [
  "throughput",
  "rate",
  "delivery",
  "memory",
  "idle",
  "workflows",
  "knowledge",
  "llm",
  "widget",
  "dashboard",
  "inbox",
] as const;
export type Phase = (typeof PHASES)[number];
export const DIALECTS = ["sqlite", "postgres"] as const;
export type Dialect = (typeof DIALECTS)[number];

export interface BenchOptions {
  quick: boolean;
  /** Measured seconds per load phase. */
  durationS: number;
  /** Unmeasured seconds of the same load before each measured phase (JIT, caches, WAL). */
  warmupS: number;
  /** B2 and Hugo closed loops alternate in this many rounds (the duration is split between them). */
  rounds: number;
  /** Closed-loop and fixed-rate connections. */
  connections: number;
  /** Conversations the load is spread over (and delivery subscribers, one each). */
  conversations: number;
  /** Idle subscribed sockets for the memory measurement. */
  subscribers: number;
  /** Messages per second for the delivery measurement. */
  deliveryRate: number;
  /** Pause before memory readings, ms. */
  settleMs: number;
  /** Fixed rate for the latency comparison; default half of B2's measured maximum. */
  rate: number | undefined;
  only: Set<Phase>;
  /** Databases the workflow, knowledge and llm phases run Hugo on. */
  dialects: Dialect[];
  /** PostgreSQL server for the postgres dialect (each run gets a schema of its own, dropped after). */
  pgUrl: string;
  /** Workflow triggers per second for the trigger → first message measurement. */
  triggerRate: number;
  /** Send-text steps in the chain workflow, and how many runs of it are measured. */
  chainSteps: number;
  chainRuns: number;
  /** Knowledge passages to ingest (a synthetic help centre), searches, and AI agent answer turns. */
  kbPassages: number;
  kbQueries: number;
  agentTurns: number;
  /** AI agent answer turns through a (fake) LLM provider, and AI SDK calls for its baseline. */
  llmTurns: number;
  /** Page loads in Chromium for the widget's loader → session:loaded timing (fresh context each). */
  widgetLoads: number;
  /** Conversations the inbox phase creates before paging through them. */
  inboxConversations: number;
  /** Also profile Hugo's send-message under load (`--cpu-prof`) and summarise self time. */
  profile: boolean;
  /** Hugo's entry point (`main.ts`); another checkout's can be benched against this harness. */
  hugoMain: string;
  /** Where results.json (and profiles) go. */
  outDir: string;
  log: (line: string) => void;
}

export const USAGE = `Usage: npm run bench -- [options]

  --quick                 ~30 s smoke run (2 s phases, 1,000 sockets)
  --duration <s>          measured seconds per load phase        (BENCH_DURATION, default 10; quick 2)
  --warmup <s>            warm-up seconds before each phase      (BENCH_WARMUP, default 2; quick 1)
  --rounds <n>            B2/Hugo closed-loop alternations       (BENCH_ROUNDS, default 2)
  --connections <n>       HTTP connections                      (BENCH_CONNECTIONS, default 50)
  --conversations <n>     conversations the load is spread over (BENCH_CONVERSATIONS, default 50)
  --subscribers <n>       idle WebSocket subscribers             (BENCH_SUBSCRIBERS, default 5000; quick 1000)
  --delivery-rate <n>     messages/s for the delivery test       (BENCH_DELIVERY_RATE, default 500)
  --settle <ms>           pause before memory readings           (BENCH_SETTLE, default 3000; quick 1000)
  --rate <n>              fixed rate for the p99 comparison      (BENCH_RATE, default ½ × B2's max)
  --trigger-rate <n>      workflow triggers/s                    (BENCH_TRIGGER_RATE, default 200)
  --chain-steps <n>       send-text steps in the chain workflow  (BENCH_CHAIN_STEPS, default 100)
  --chain-runs <n>        measured runs of the chain             (BENCH_CHAIN_RUNS, default 20; quick 5)
  --kb-passages <n>       knowledge passages to ingest           (BENCH_KB_PASSAGES, default 20000; quick 2000)
  --kb-queries <n>        knowledge searches, one after another  (BENCH_KB_QUERIES, default 500; quick 100)
  --agent-turns <n>       AI agent answer turns, one at a time   (BENCH_AGENT_TURNS, default 200; quick 20)
  --llm-turns <n>         LLM answer turns and AI SDK calls      (BENCH_LLM_TURNS, default 100; quick 20)
  --widget-loads <n>      widget page loads in Chromium          (BENCH_WIDGET_LOADS, default 40; quick 10; at most 50)
  --inbox-conversations <n> conversations for the inbox phase  (BENCH_INBOX_CONVERSATIONS, default 10000; quick 1000)
  --dialects <list>       databases for workflows/knowledge/llm/inbox (BENCH_DIALECTS, default sqlite,postgres)
  --pg-url <url>          PostgreSQL server                      (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test)
  --only <list>           comma list of ${PHASES.join(", ")}   (BENCH_ONLY)
  --profile               also CPU-profile Hugo's send-message (BENCH_PROFILE=1)
  --out <dir>             results folder                        (BENCH_OUT, default .bench)
  --hugo <main.ts>        Hugo entry point to bench             (BENCH_HUGO_MAIN, default apps/server/src/main.ts)
  -h, --help
`;

export class UsageError extends Error {}

function num(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min)
    throw new UsageError(`--${name} must be a number ≥ ${min} (got ${raw})`);
  return v;
}

/** A comma list of allowed values (all of them when absent). */
function list<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] {
  if (raw === undefined) return [...allowed];
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((v) => {
      if (!(allowed as readonly string[]).includes(v))
        throw new UsageError(`--${name}: unknown value "${v}" (${allowed.join(", ")})`);
      return v as T;
    });
}

/** Hugo allows 60 new widget sessions a minute per IP; the phase opens 4 more than it measures. */
function widgetLoads(n: number): number {
  if (n > 50)
    throw new UsageError(`--widget-loads is at most 50 (Hugo's 60 widget sessions/min per IP); got ${n}`);
  return n;
}

export function parseOptions(
  argv: string[],
  env: Record<string, string | undefined>,
  log: (line: string) => void = () => {},
): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: "boolean" },
      duration: { type: "string" },
      warmup: { type: "string" },
      rounds: { type: "string" },
      connections: { type: "string" },
      conversations: { type: "string" },
      subscribers: { type: "string" },
      "delivery-rate": { type: "string" },
      settle: { type: "string" },
      rate: { type: "string" },
      only: { type: "string" },
      "trigger-rate": { type: "string" },
      "chain-steps": { type: "string" },
      "chain-runs": { type: "string" },
      "kb-passages": { type: "string" },
      "kb-queries": { type: "string" },
      "agent-turns": { type: "string" },
      "llm-turns": { type: "string" },
      "widget-loads": { type: "string" },
      "inbox-conversations": { type: "string" },
      dialects: { type: "string" },
      "pg-url": { type: "string" },
      profile: { type: "boolean" },
      out: { type: "string" },
      hugo: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const flag = (v: string | undefined) => v === "1" || v === "true";
  const quick = values.quick ?? flag(env.BENCH_QUICK);
  const pick = (
    name: string,
    cli: string | undefined,
    envName: string,
    min: number,
    full: number,
    q: number,
  ) => num(name, cli, min) ?? num(envName, env[envName], min) ?? (quick ? q : full);
  const only = new Set(list("only", values.only ?? env.BENCH_ONLY, PHASES));
  const dialects = [...new Set(list("dialects", values.dialects ?? env.BENCH_DIALECTS, DIALECTS))];
  return {
    quick,
    durationS: pick("duration", values.duration, "BENCH_DURATION", 0.5, 10, 2),
    warmupS: pick("warmup", values.warmup, "BENCH_WARMUP", 0, 2, 1),
    rounds: Math.round(pick("rounds", values.rounds, "BENCH_ROUNDS", 1, 2, 2)),
    connections: Math.round(pick("connections", values.connections, "BENCH_CONNECTIONS", 1, 50, 50)),
    conversations: Math.round(pick("conversations", values.conversations, "BENCH_CONVERSATIONS", 1, 50, 50)),
    subscribers: Math.round(pick("subscribers", values.subscribers, "BENCH_SUBSCRIBERS", 1, 5000, 1000)),
    deliveryRate: pick("delivery-rate", values["delivery-rate"], "BENCH_DELIVERY_RATE", 1, 500, 500),
    settleMs: pick("settle", values.settle, "BENCH_SETTLE", 0, 3000, 1000),
    rate: num("rate", values.rate, 1) ?? num("BENCH_RATE", env.BENCH_RATE, 1),
    only,
    dialects,
    pgUrl: values["pg-url"] ?? env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    triggerRate: pick("trigger-rate", values["trigger-rate"], "BENCH_TRIGGER_RATE", 1, 200, 200),
    chainSteps: Math.round(pick("chain-steps", values["chain-steps"], "BENCH_CHAIN_STEPS", 1, 100, 100)),
    chainRuns: Math.round(pick("chain-runs", values["chain-runs"], "BENCH_CHAIN_RUNS", 1, 20, 5)),
    kbPassages: Math.round(pick("kb-passages", values["kb-passages"], "BENCH_KB_PASSAGES", 1, 20_000, 2_000)),
    kbQueries: Math.round(pick("kb-queries", values["kb-queries"], "BENCH_KB_QUERIES", 1, 500, 100)),
    agentTurns: Math.round(pick("agent-turns", values["agent-turns"], "BENCH_AGENT_TURNS", 1, 200, 20)),
    llmTurns: Math.round(pick("llm-turns", values["llm-turns"], "BENCH_LLM_TURNS", 1, 100, 20)),
    widgetLoads: widgetLoads(
      Math.round(pick("widget-loads", values["widget-loads"], "BENCH_WIDGET_LOADS", 1, 40, 10)),
    ),
    inboxConversations: Math.round(
      pick(
        "inbox-conversations",
        values["inbox-conversations"],
        "BENCH_INBOX_CONVERSATIONS",
        1,
        10_000,
        1_000,
      ),
    ),
    profile: values.profile ?? flag(env.BENCH_PROFILE),
    hugoMain: path.resolve(values.hugo ?? env.BENCH_HUGO_MAIN ?? HUGO_MAIN),
    outDir: path.resolve(REPO_DIR, values.out ?? env.BENCH_OUT ?? ".bench"),
    log,
  };
}
