import fs from "node:fs";
import type { VariableValue } from "@hugo/protocol";
import {
  CliError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  type Command,
  type Context,
  optionList,
  UsageError,
} from "./command.ts";
import { remote } from "./remote.ts";

/**
 * `hugo trigger agent|workflow`: the seed's two calls (contract §1) from a terminal or a script.
 * `--wait` follows the turn or run until it settles and prints its outcome.
 */

const WAIT_HELP: [string, string] = [
  "--wait",
  "wait until it settles (up to --timeout seconds, default 60) and print the outcome",
];
const WAIT_OPTIONS = { wait: { type: "boolean" }, timeout: { type: "string" } } as const;

function timeoutMs(ctx: Context): number {
  const raw = ctx.string("timeout");
  const seconds = Number(raw ?? 60);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600)
    throw new UsageError(`--timeout must be a number of seconds from 1 to 3600 (got ${raw})`);
  return seconds * 1000;
}

/** Polls `read` until `settled`, or fails after the timeout. */
async function follow<T>(
  read: () => Promise<T>,
  settled: (value: T) => boolean,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    const value = await read();
    if (settled(value)) return value;
    if (Date.now() + delay > deadline)
      throw new CliError(`${what} has not settled after ${ms / 1000} s`, "timeout");
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function session(ctx: Context): string {
  const id = ctx.string("session");
  if (!id) throw new UsageError("--session is required: the conversation's session_<uuid> id");
  return id;
}

export const triggerAgent: Command = {
  name: "trigger agent",
  summary: "Ask the AI agent to step into a conversation (POST /api/agent/trigger/).",
  synopsis: "--session <session_id> [--instruction <text> | --instruction-file <file|->] [options]",
  help: optionList([
    ["--session <id>", "the conversation (session_<uuid>)"],
    ["--instruction <text>", "guidance for this conversation only, up to 2000 characters"],
    ["--instruction-file <file>", "read the instruction from a file (- for stdin)"],
    WAIT_HELP,
    ...CONNECTION_HELP,
  ]),
  options: {
    ...CONNECTION_OPTIONS,
    ...WAIT_OPTIONS,
    session: { type: "string" },
    instruction: { type: "string" },
    "instruction-file": { type: "string" },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const sessionId = session(ctx);
    const file = ctx.string("instruction-file");
    if (file !== undefined && ctx.string("instruction") !== undefined)
      throw new UsageError("give --instruction or --instruction-file, not both");
    let instruction = ctx.string("instruction");
    if (file !== undefined) {
      try {
        instruction = fs.readFileSync(file === "-" ? 0 : file, "utf8").replace(/\r?\n$/, "");
      } catch (error) {
        throw new CliError(
          `cannot read ${file}: ${(error as Error).message}`,
          "read_failed",
          "instruction-file",
        );
      }
    }
    const wait = ctx.flag("wait") ? timeoutMs(ctx) : 0;
    const client = remote(ctx);
    const result = await client.agent.trigger({
      session_id: sessionId,
      ...(instruction !== undefined ? { instruction } : {}),
    });
    if (!wait) {
      ctx.print(result, (r) => `Agent turn ${r.turn_id} ${r.status} in ${sessionId}.`);
      return 0;
    }
    const turn = await follow(
      () => client.agent.getTurn(result.turn_id),
      (t) => t.status !== "queued",
      wait,
      `agent turn ${result.turn_id}`,
    );
    ctx.print(turn, (t) => [
      `Agent turn ${t.turn_id}: ${t.status}${t.error ? ` (${t.error})` : ""}.`,
      ...(t.trace
        ? [
            `Decision: ${t.trace.decision}${t.trace.rule ? ` (rule ${t.trace.rule})` : ""} — ${t.trace.reason}`,
          ]
        : []),
    ]);
    return turn.status === "failed" ? 1 : 0;
  },
};

export const VARIABLE_HELP: [string, string][] = [
  ["--var <name=value>", "a variable for the run (a string); repeat for several"],
  ["--vars <json>", 'variables as a JSON object, for numbers and booleans: {"seats": 3}'],
];
export const VARIABLE_OPTIONS = {
  var: { type: "string", multiple: true },
  vars: { type: "string" },
} as const;

/** `--var name=value` (a string) and `--vars '{"n": 3}'` (JSON, for numbers and booleans). */
export function variables(ctx: Context): Record<string, VariableValue> | undefined {
  const out: Record<string, VariableValue> = {};
  const json = ctx.string("vars");
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new UsageError(`--vars is not JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new UsageError('--vars must be a JSON object, e.g. {"plan": "pro", "seats": 3}');
    Object.assign(out, parsed);
  }
  for (const pair of ctx.strings("var")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--var takes name=value (got ${pair})`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export const triggerWorkflow: Command = {
  name: "trigger workflow",
  summary: "Start a deployed workflow in a conversation (POST /api/scenario/{id}/trigger/).",
  synopsis: "<workflow_id> --session <session_id> [--var name=value]... [options]",
  help: optionList([
    ["--session <id>", "the conversation (session_<uuid>)"],
    ...VARIABLE_HELP,
    WAIT_HELP,
    ...CONNECTION_HELP,
  ]),
  options: {
    ...CONNECTION_OPTIONS,
    ...WAIT_OPTIONS,
    session: { type: "string" },
    ...VARIABLE_OPTIONS,
  },
  async run(ctx) {
    const [id, ...extra] = ctx.positionals;
    if (!id) throw new UsageError("name the workflow to start (its scenario_… id)");
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    const sessionId = session(ctx);
    const vars = variables(ctx);
    const wait = ctx.flag("wait") ? timeoutMs(ctx) : 0;
    const client = remote(ctx);
    const result = await client.workflows.trigger(id, {
      session_id: sessionId,
      ...(vars ? { variables: vars } : {}),
    });
    if (!wait) {
      ctx.print(
        result,
        (r) => `Run ${r.run_id} ${r.status} (workflow ${r.workflow_id} v${r.version}) in ${sessionId}.`,
      );
      return 0;
    }
    // A run waiting for the visitor has done all it can until they answer: that counts as settled.
    const run = await follow(
      () => client.runs.get(result.run_id),
      (r) => r.status !== "running",
      wait,
      `run ${result.run_id}`,
    );
    ctx.print(run, (r) => [
      `Run ${r.run_id}: ${r.status} after ${r.log.length} steps.`,
      ...r.log.map(
        (s) => `  ${String(s.step).padStart(3)}. ${s.kind} ${s.outcome}${s.handle ? ` → ${s.handle}` : ""}`,
      ),
    ]);
    return run.status === "failed" ? 1 : 0;
  },
};
