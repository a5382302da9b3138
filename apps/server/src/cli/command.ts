import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { ConfigError } from "../config.ts";
import { AppError } from "../core/errors.ts";

/**
 * The `hugo` command line's conventions, shared by every command: `--help` on each, `--json` for
 * machine-readable output (errors too, on stderr), exit code 0 on success, 1 when the work failed,
 * 2 when the command line itself is wrong, and a progress line on a terminal for long work.
 */

/** The command line is wrong (unknown option, missing argument): exit 2 with the command's usage. */
export class UsageError extends Error {}

/** The work failed for a reason the user can act on: exit 1 with this message (no stack trace). */
export class CliError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(message: string, code = "failed", field?: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

type Value = string | boolean | (string | boolean)[] | undefined;

export interface Context {
  readonly positionals: string[];
  readonly env: NodeJS.ProcessEnv;
  /** `--json` was given: print one JSON document on stdout, nothing else. */
  readonly json: boolean;
  /** A string option, or undefined. */
  string(name: string): string | undefined;
  /** A repeatable string option (empty when absent). */
  strings(name: string): string[];
  flag(name: string): boolean;
  /** Prints `result`: as JSON with `--json`, else through `human` (a string or lines). */
  print<T>(result: T, human: (result: T) => string | string[]): void;
  /** A progress line on stderr (only on a terminal and without `--json`): counts, rate, a bar. */
  progress(total: number, unit: string): Progress;
}

export interface Progress {
  advance(by?: number): void;
  done(): void;
}

export interface Command {
  /** Words after `hugo`, e.g. "token create". */
  name: string;
  summary: string;
  /** What follows the name in the synopsis, e.g. "<workflow_id> [options]". */
  synopsis: string;
  /** Longer description and option list, shown by `--help`. */
  help: string;
  options: ParseArgsOptionsConfig;
  /** Resolves to the exit code (0 when omitted). */
  run(ctx: Context): Promise<number | undefined>;
}

const COMMON: ParseArgsOptionsConfig = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/** An aligned option list: `[flag, description]` rows, descriptions wrapped at 100 columns. */
export function optionList(rows: [string, string][]): string {
  const width = Math.max(24, ...rows.map(([flag]) => flag.length + 2));
  return rows
    .map(([flag, text]) => {
      const lines: string[] = [];
      let line = "";
      for (const word of text.split(" ")) {
        if (line && line.length + word.length + 1 > 100 - width - 2) {
          lines.push(line);
          line = word;
        } else line = line ? `${line} ${word}` : word;
      }
      lines.push(line);
      return lines.map((l, i) => `  ${(i === 0 ? flag : "").padEnd(width)}${l}`).join("\n");
    })
    .join("\n");
}

export function usage(command: Command): string {
  const common = optionList([
    ["--json", "print the result as JSON (errors too, on stderr)"],
    ["-h, --help", "show this help"],
  ]);
  return `Usage: hugo ${command.name} ${command.synopsis}\n\n${command.summary}\n\n${command.help.trimEnd()}\n${common}\n`;
}

/** Runs one command with its arguments; resolves to the process's exit code. */
export async function runCommand(
  command: Command,
  argv: string[],
  env: NodeJS.ProcessEnv,
  stream: { out: NodeJS.WritableStream; err: NodeJS.WritableStream & { isTTY?: boolean } } = {
    out: process.stdout,
    err: process.stderr,
  },
): Promise<number> {
  let values: Record<string, Value>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { ...command.options, ...COMMON },
    }));
  } catch (error) {
    return fail(stream.err, false, new UsageError((error as Error).message), command);
  }
  if (values.help) {
    stream.out.write(usage(command));
    return 0;
  }
  const json = values.json === true;
  const ctx: Context = {
    positionals,
    env,
    json,
    string: (name) => {
      const v = values[name];
      return typeof v === "string" ? v : undefined;
    },
    strings: (name) => {
      const v = values[name];
      return Array.isArray(v) ? v.map(String) : typeof v === "string" ? [v] : [];
    },
    flag: (name) => values[name] === true,
    print: (result, human) => {
      if (json) stream.out.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        const text = human(result);
        stream.out.write(`${Array.isArray(text) ? text.join("\n") : text}\n`);
      }
    },
    progress: (total, unit) => progressLine(stream.err, total, unit, !json && stream.err.isTTY === true),
  };
  try {
    return (await command.run(ctx)) ?? 0;
  } catch (error) {
    return fail(stream.err, json, error, command);
  }
}

/** Reports an error the way the conventions say and returns the exit code. */
function fail(err: NodeJS.WritableStream, json: boolean, error: unknown, command: Command): number {
  const described = describe(error);
  if (!described) throw error;
  const exitCode = error instanceof UsageError ? 2 : 1;
  if (json) err.write(`${JSON.stringify({ error: described })}\n`);
  else {
    const where = described.field ? ` (${described.field})` : "";
    const code = described.code === "usage" || described.code === "failed" ? "" : ` [${described.code}]`;
    err.write(`hugo ${command.name}: ${described.message}${where}${code}\n`);
    for (const issue of described.issues ?? []) err.write(`  - ${issueLine(issue)}\n`);
    if (exitCode === 2) err.write(`Run 'hugo ${command.name} --help' for its usage.\n`);
  }
  return exitCode;
}

interface Described {
  code: string;
  message: string;
  field?: string;
  /** The server's list of problems (a body's fields, a workflow's blocks). */
  issues?: unknown[];
}

/** One problem from a server's list: `{path, message}` or a workflow's `{block_id, field, message}`. */
function issueLine(issue: unknown): string {
  if (typeof issue !== "object" || issue === null) return String(issue);
  const i = issue as { path?: string; block_id?: string | null; field?: string | null; message?: string };
  const where = [i.path, i.block_id && `block ${i.block_id}`, i.field].filter(Boolean).join(", ");
  return where ? `${where}: ${i.message ?? ""}` : (i.message ?? JSON.stringify(issue));
}

/** An error as `{code, message, field?, issues?}`; undefined for a bug (rethrown with its stack). */
function describe(error: unknown): Described | undefined {
  if (error instanceof UsageError) return { code: "usage", message: error.message };
  const withField = (code: string, message: string, field: string | undefined, issues?: unknown) => ({
    code,
    message,
    ...(field ? { field } : {}),
    ...(Array.isArray(issues) && issues.length > 0 ? { issues } : {}),
  });
  if (error instanceof CliError) return withField(error.code, error.message, error.field);
  if (error instanceof AppError)
    return withField(error.reason, error.message, error.field, error.extra?.issues);
  // The typed client's errors (HugoError and subclasses) carry the server's code, field and issues.
  if (error instanceof Error && "code" in error && "status" in error) {
    const e = error as Error & { code: string; field?: string; issues?: unknown };
    return withField(String(e.code), e.message, e.field, e.issues);
  }
  if (error instanceof ConfigError) return { code: "config", message: error.message };
  return undefined;
}

function progressLine(err: NodeJS.WritableStream, total: number, unit: string, enabled: boolean): Progress {
  const started = performance.now();
  let done = 0;
  let lastDraw = 0;
  const draw = (final: boolean) => {
    const now = performance.now();
    if (!final && now - lastDraw < 100) return;
    lastDraw = now;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const width = 24;
    const full = Math.round(fraction * width);
    const eta = rate > 0 && done < total ? `, ${Math.ceil((total - done) / rate)} s left` : "";
    err.write(
      `\r[${"#".repeat(full)}${"-".repeat(width - full)}] ${done}/${total} ${unit}, ${rate.toFixed(1)}/s${eta}\x1b[K`,
    );
  };
  return {
    advance(by = 1) {
      done += by;
      if (enabled) draw(false);
    },
    done() {
      if (enabled) {
        draw(true);
        err.write("\n");
      }
    },
  };
}

/** Where a running Hugo is and how to authenticate: `--url`/`--token`, else $HUGO_URL/$HUGO_TOKEN. */
export const CONNECTION_OPTIONS: ParseArgsOptionsConfig = {
  url: { type: "string" },
  token: { type: "string" },
};

export const CONNECTION_HELP: [string, string][] = [
  ["--url <url>", "Hugo's base URL (default $HUGO_URL, else http://127.0.0.1:$PORT or :8080)"],
  ["--token <token>", "an API token (default $HUGO_TOKEN)"],
];

export function connection(ctx: Context): { url: string; token: string } {
  const token = ctx.string("token") ?? ctx.env.HUGO_TOKEN;
  if (!token) throw new UsageError("an API token is needed: --token, or $HUGO_TOKEN");
  const url = (ctx.string("url") ?? ctx.env.HUGO_URL ?? `http://127.0.0.1:${ctx.env.PORT ?? "8080"}`).replace(
    /\/+$/,
    "",
  );
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http(s) URL (got ${url})`);
  return { url, token };
}
