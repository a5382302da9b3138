#!/usr/bin/env node
/**
 * `npm run eval -- <set|all> [options]`: loads a public evaluation set, drives a target over it, prints
 * the report and writes <out>/eval-report/<set>.json + .md. Exits 0 whether targets pass or miss,
 * 2 on a usage error or an unavailable target, 1 when the harness itself fails.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ANTHROPIC_BASE_URL } from "@hugo/protocol";
import type { LlmConfig } from "../../apps/server/src/agent/llm-answerer.ts";
import { createBm25Target } from "./bm25-target.ts";
import { isSetName, loadSet, SET_NAMES } from "./datasets.ts";
import { evaluateSet, type SetReport } from "./evaluate.ts";
import { defaultDataFolder, REPO_ROOT } from "./paths.ts";
import { formatReport, formatSummary } from "./report.ts";
import type { EvalTarget } from "./target.ts";

const USAGE = `Usage: npm run eval -- <set|all> [options]

  sets: ${SET_NAMES.join(", ")}

  --data <folder>        the set's folder (default ../shared/evaldata/<set> from the repo root;
                         with "all": the folder holding every set)
  --target bm25|hugo     system under test (default bm25)
  --k <n>                cutoff for Hit@k and Recall@k (default 10; search depth max(k, 10))
  --limit <n>            only n queries, a deterministic spread (smoke runs)
  --out <dir>            reports go to <dir>/eval-report/ (default .eval at the repo root)
  --concurrency <n>      queries in flight at once (default 1)
  --max-false-escalation <x>  budget for the best-threshold operating point (default 0.2)
  --no-decide            retrieval only, even if the target can decide
  -h, --help

  With --target hugo, the agent's answer-or-escalate decision can be an LLM's (the answer path a
  website with a provider uses; the offline answerer decides when the model fails):
  --llm openai-compatible|anthropic
  --llm-base-url <url>   e.g. https://api.openai.com/v1, http://127.0.0.1:11434/v1 (Ollama)
  --llm-model <name>     --llm-fallback-model <name>   --llm-timeout-ms <n> (default 30000)
  --llm-key-env <NAME>   the environment variable holding the key (default OPENAI_API_KEY or
                         ANTHROPIC_API_KEY; a key never goes on the command line)
`;

class UsageError extends Error {}

interface CliOptions {
  sets: string[];
  data: string | undefined;
  target: "bm25" | "hugo";
  k: number;
  limit: number | undefined;
  out: string;
  concurrency: number;
  maxFalseEscalation: number;
  decide: boolean;
  llm: LlmConfig | undefined;
}

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a whole number ≥ 1 (got ${raw})`);
  return n;
}

function parseCli(argv: string[]): CliOptions | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    allowNegative: true,
    options: {
      data: { type: "string" },
      target: { type: "string", default: "bm25" },
      k: { type: "string" },
      limit: { type: "string" },
      out: { type: "string" },
      concurrency: { type: "string" },
      "max-false-escalation": { type: "string" },
      decide: { type: "boolean", default: true },
      llm: { type: "string" },
      "llm-base-url": { type: "string" },
      "llm-model": { type: "string" },
      "llm-fallback-model": { type: "string" },
      "llm-timeout-ms": { type: "string" },
      "llm-key-env": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (positionals.length !== 1) throw new UsageError("name exactly one set, or all");
  const name = positionals[0]!;
  if (name !== "all" && !isSetName(name)) throw new UsageError(`unknown set "${name}"`);
  if (values.target !== "bm25" && values.target !== "hugo")
    throw new UsageError(`--target must be bm25 or hugo (got ${values.target})`);
  const budget = Number(values["max-false-escalation"] ?? 0.2);
  if (!(budget >= 0 && budget <= 1)) throw new UsageError("--max-false-escalation must be in [0, 1]");
  return {
    llm: llmOptions(values, values.target),
    sets: name === "all" ? [...SET_NAMES] : [name],
    data: values.data,
    target: values.target,
    k: positiveInt("k", values.k) ?? 10,
    limit: positiveInt("limit", values.limit),
    out: path.resolve(values.out ?? path.join(REPO_ROOT, ".eval")),
    concurrency: positiveInt("concurrency", values.concurrency) ?? 1,
    maxFalseEscalation: budget,
    decide: values.decide,
  };
}

/** The LLM the Hugo target's agent decides with, from the --llm options (undefined without --llm). */
function llmOptions(
  values: Record<string, string | boolean | undefined>,
  target: string,
): LlmConfig | undefined {
  const str = (name: string) => values[name] as string | undefined;
  const kind = str("llm");
  if (kind === undefined) {
    const stray = ["llm-base-url", "llm-model", "llm-fallback-model", "llm-timeout-ms", "llm-key-env"].find(
      (n) => values[n] !== undefined,
    );
    if (stray) throw new UsageError(`--${stray} needs --llm`);
    return undefined;
  }
  if (target !== "hugo") throw new UsageError("--llm needs --target hugo");
  if (kind !== "openai-compatible" && kind !== "anthropic")
    throw new UsageError(`--llm must be openai-compatible or anthropic (got ${kind})`);
  const model = str("llm-model");
  if (!model) throw new UsageError("--llm needs --llm-model");
  const baseUrl = str("llm-base-url") ?? (kind === "anthropic" ? ANTHROPIC_BASE_URL : undefined);
  if (!baseUrl) throw new UsageError("--llm openai-compatible needs --llm-base-url");
  const keyEnv = str("llm-key-env") ?? (kind === "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
  const apiKey = process.env[keyEnv] || null;
  if (kind === "anthropic" && !apiKey) throw new UsageError(`--llm anthropic needs a key in $${keyEnv}`);
  return {
    kind,
    baseUrl,
    apiKey,
    model,
    fallbackModel: str("llm-fallback-model") ?? null,
    timeoutMs: positiveInt("llm-timeout-ms", str("llm-timeout-ms")) ?? 30_000,
  };
}

/** Exit code 2 with this message when the other engineer's adapter is not there (or does not load). */
class TargetUnavailable extends Error {}

async function createTarget(kind: "bm25" | "hugo", llm: LlmConfig | undefined): Promise<EvalTarget> {
  if (kind === "bm25") return createBm25Target();
  // A variable specifier keeps tsc from requiring a file that does not exist yet.
  const specifier = "./hugo-target.ts";
  let mod: { createHugoTarget?: (settings: object, llm?: LlmConfig) => Promise<EvalTarget> };
  try {
    mod = await import(specifier);
  } catch (error) {
    const file = new URL(specifier, import.meta.url);
    const detail = fs.existsSync(file)
      ? `\n${(error as Error).stack ?? error}`
      : ` (${file.pathname} is missing)`;
    throw new TargetUnavailable(`the Hugo target is not available yet${detail}`);
  }
  if (typeof mod.createHugoTarget !== "function")
    throw new TargetUnavailable(
      "the Hugo target is not available yet (hugo-target.ts has no createHugoTarget())",
    );
  return mod.createHugoTarget({}, llm);
}

function writeReport(outDir: string, report: SetReport, markdown: string): string {
  const dir = path.join(outDir, "eval-report");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${report.set}.json`), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, `${report.set}.md`), markdown);
  return dir;
}

async function main(): Promise<number> {
  let options: CliOptions | "help";
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  const folders = options.sets.map((set) => ({
    set,
    folder:
      options.data === undefined
        ? defaultDataFolder(set)
        : path.resolve(options.sets.length > 1 ? path.join(options.data, set) : options.data),
  }));
  const missing = folders.filter((f) => !fs.existsSync(f.folder));
  if (missing.length > 0) {
    console.error(`data folder not found: ${missing.map((f) => f.folder).join(", ")} (pass --data <folder>)`);
    return 2;
  }

  const log = (line: string) => console.error(`· ${line}`);
  const reports: SetReport[] = [];
  const failures: string[] = [];
  for (const { set, folder } of folders) {
    let target: EvalTarget;
    try {
      // A fresh target per set: nothing from one set's KB can leak into the next.
      target = await createTarget(options.target, options.llm);
    } catch (error) {
      if (error instanceof TargetUnavailable) {
        console.error(error.message);
        return 2;
      }
      throw error;
    }
    try {
      log(`${set}: loading ${path.relative(process.cwd(), folder) || folder}`);
      const data = await loadSet(set, folder);
      const report = await evaluateSet(data, target, { ...options, dataFolder: folder, log });
      const markdown = formatReport(report);
      const dir = writeReport(options.out, report, markdown);
      console.log(`\n${markdown}`);
      console.log(`Report: ${path.join(dir, `${set}.json`)} (+ .md)`);
      reports.push(report);
    } catch (error) {
      if (options.sets.length === 1) throw error;
      // With "all", one broken set should not hide the others' figures.
      console.error(`${set} failed:`, error);
      failures.push(set);
    } finally {
      await target.close();
    }
  }
  if (options.sets.length > 1) {
    const summary = formatSummary(reports);
    const dir = path.join(options.out, "eval-report");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "all.md"), summary);
    console.log(`\n${summary}`);
    if (failures.length > 0) console.error(`failed sets: ${failures.join(", ")}`);
  }
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error("eval failed:", error);
    process.exit(1);
  },
);
