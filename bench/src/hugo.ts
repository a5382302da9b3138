import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import WebSocket from "ws";
import type { Skipped } from "./bench.ts";
import type { BenchOptions, Dialect } from "./options.ts";
import { freePort, REPO_DIR, type ServerProcess, spawnNode } from "./procs.ts";

export const HUGO_MAIN = path.join(REPO_DIR, "apps/server/src/main.ts");

export interface HugoSeed {
  websiteId: string;
  token: string;
  sessionId: string;
}

export interface RunningHugo {
  proc: ServerProcess;
  seed: HugoSeed;
  dataDir: string;
  /** Startup (spawn → seed printed and listening), ms. */
  startMs: number;
  /** PostgreSQL: the database URL Hugo runs on (its own schema), for maintenance between phases. */
  databaseUrl?: string;
}

/** Pulls the first-start banner's secrets out of `main.ts serve`'s stdout. */
export function parseBanner(text: string): (HugoSeed & { url: string }) | undefined {
  const url = /Hugo is running at (\S+)/.exec(text)?.[1];
  const websiteId = /Website id:\s+(\S+)/.exec(text)?.[1];
  const token = /API token:\s+(\S+)/.exec(text)?.[1];
  const sessionId = /Demo session:\s+(\S+)/.exec(text)?.[1];
  return url && websiteId && token && sessionId ? { url, websiteId, token, sessionId } : undefined;
}

/**
 * Starts Hugo as in production: `node apps/server/src/main.ts serve` with PORT, a fresh DATA_DIR
 * and LOG_LEVEL=warn, and reads the seeded website, token and demo session from its banner.
 */
export async function startHugo(
  options: { main?: string; nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<RunningHugo> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-bench-"));
  const port = await freePort();
  const started = performance.now();
  const proc = spawnNode("Hugo", options.main ?? HUGO_MAIN, {
    args: ["serve"],
    nodeArgs: options.nodeArgs ?? [],
    env: { PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "warn", ...options.env },
  });
  proc.port = port;
  proc.onStop(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  try {
    const seed = await new Promise<HugoSeed>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(
        () => reject(new Error(`Hugo did not start in 60 s\n${proc.output()}`)),
        60_000,
      );
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const banner = parseBanner(out);
        if (!banner) return;
        clearTimeout(timer);
        proc.child.stdout?.off("data", onData);
        resolve(banner);
      };
      proc.child.stdout?.on("data", onData);
      proc.exited.then((how) => {
        clearTimeout(timer);
        reject(new Error(`Hugo exited (${how}) during startup\n${proc.output()}`));
      });
    });
    return { proc, seed, dataDir, startMs: performance.now() - started };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

export function messagePath(websiteId: string, sessionId: string): string {
  return `/v1/website/${websiteId}/conversation/${sessionId}/message`;
}

/** Creates `count` conversations through the API (the demo one is reused as the first). */
export async function createConversations(hugo: RunningHugo, count: number): Promise<string[]> {
  const { host, port } = hugo.proc.target;
  const sessions = [hugo.seed.sessionId];
  while (sessions.length < count) {
    const res = await fetch(`http://${host}:${port}/v1/website/${hugo.seed.websiteId}/conversation`, {
      method: "POST",
      headers: { authorization: `Bearer ${hugo.seed.token}`, "content-type": "application/json" },
      body: "{}",
    });
    const body = (await res.json()) as { data?: { session_id?: string } };
    if (res.status !== 201 || !body.data?.session_id)
      throw new Error(`creating a conversation answered ${res.status}: ${JSON.stringify(body)}`);
    sessions.push(body.data.session_id);
  }
  return sessions;
}

/**
 * Whether `GET /api/realtime` upgrades for this token: "ok", "missing" (404 — the endpoint is not
 * built yet) or another failure description.
 */
export function probeRealtime(url: string, token: string): Promise<"ok" | "missing" | string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const timer = setTimeout(() => {
      ws.terminate();
      resolve("timeout");
    }, 5_000);
    ws.once("open", () => {
      clearTimeout(timer);
      ws.close();
      resolve("ok");
    });
    ws.once("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      ws.terminate();
      resolve(res.statusCode === 404 ? "missing" : `HTTP ${res.statusCode}`);
    });
    ws.on("error", (error) => {
      clearTimeout(timer);
      resolve(error.message);
    });
  });
}

export function realtimeUrl(proc: ServerProcess): string {
  return `ws://${proc.host}:${proc.port}/api/realtime`;
}

/**
 * A PostgreSQL schema of its own for one Hugo process (search_path in the URL, as the tests do);
 * `{skipped}` when the server cannot be reached, with the reason.
 */
export async function freshSchema(
  baseUrl: string,
): Promise<{ url: string; drop: () => Promise<void> } | { skipped: string }> {
  const schema = `hugo_bench_${randomBytes(6).toString("hex")}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  try {
    await run(`create schema ${schema}`);
  } catch (error) {
    return { skipped: `PostgreSQL at ${baseUrl} unavailable: ${(error as Error).message}` };
  }
  const url = `${baseUrl}${baseUrl.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    url,
    async drop() {
      // graphile-worker (the PostgreSQL job queue) keeps its tables in a sibling schema.
      await run(`drop schema if exists ${schema}_graphile_worker cascade`);
      await run(`drop schema if exists ${schema} cascade`);
    },
  };
}

/**
 * Runs `fn` against a Hugo process of its own on `dialect` (PostgreSQL: in a fresh schema, dropped
 * afterwards), with `env` added to its environment; skipped, with the reason, when PostgreSQL cannot
 * be reached.
 */
export async function withHugoOn<T>(
  dialect: Dialect,
  options: Pick<BenchOptions, "pgUrl" | "hugoMain"> & { env?: Record<string, string> },
  fn: (hugo: RunningHugo) => Promise<T>,
): Promise<T | Skipped> {
  let env: Record<string, string> = { ...options.env };
  let drop = async () => {};
  if (dialect === "postgres") {
    const schema = await freshSchema(options.pgUrl);
    if ("skipped" in schema) return schema;
    env = { ...env, DATABASE_URL: schema.url };
    drop = schema.drop;
  }
  try {
    const hugo = await startHugo({ main: options.hugoMain, env });
    if (env.DATABASE_URL) hugo.databaseUrl = env.DATABASE_URL;
    try {
      return await fn(hugo);
    } finally {
      await hugo.proc.stop();
    }
  } finally {
    await drop();
  }
}
