import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { sleep } from "./stats.ts";

export const BENCH_DIR = path.resolve(import.meta.dirname, "..");
export const REPO_DIR = path.resolve(BENCH_DIR, "..");
const AGENT = pathToFileURL(path.join(import.meta.dirname, "agent.ts")).href;

/** VmRSS of a process in bytes, from /proc/<pid>/status; NaN once it is gone. */
export function readRss(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface MemSnapshot {
  /** VmRSS from /proc, bytes. */
  rss: number;
  heapUsed: number;
  /** V8 heap reserved (used + free), bytes: what the heap contributes to RSS. */
  heapTotal: number;
  /** Memory outside the V8 heap held by JS objects (Buffers…), bytes. */
  external: number;
  gcAvailable: boolean;
}

/** A server under test in its own process, with the bench agent preloaded. */
export class ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly host = "127.0.0.1";
  port = 0;
  readonly #log: string[] = [];
  #memId = 0;
  readonly #cleanup: (() => void)[] = [];
  /** Resolves with how the process ended: "code 0", "SIGTERM"… */
  readonly exited: Promise<string>;

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.#log.push(chunk.toString());
      if (this.#log.length > 200) this.#log.splice(0, this.#log.length - 200);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => resolve(signal ?? `code ${code}`)),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get target() {
    return { host: this.host, port: this.port };
  }

  output(): string {
    return this.#log.join("").slice(-4000);
  }

  rss(): number {
    return readRss(this.pid);
  }

  onStop(fn: () => void): void {
    this.#cleanup.push(fn);
  }

  /** Optionally forces a GC in the server (through the agent), then reads its RSS. */
  async mem(gc: boolean): Promise<MemSnapshot> {
    const id = ++this.#memId;
    type Reply = Omit<MemSnapshot, "rss">;
    const reply = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no memory answer`)), 10_000);
      const onMessage = (raw: unknown) => {
        const msg = raw as Reply & { bench?: string; id?: number };
        if (msg?.bench !== "mem" || msg.id !== id) return;
        clearTimeout(timer);
        this.child.off("message", onMessage);
        resolve(msg);
      };
      this.child.on("message", onMessage);
      this.child.send({ bench: "mem", id, gc });
    });
    const { heapUsed, heapTotal, external, gcAvailable } = reply;
    return { rss: this.rss(), heapUsed, heapTotal, external, gcAvailable };
  }

  /** SIGTERM (Hugo drains and exits; a CPU profile is written then), SIGKILL after a grace period. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    for (const fn of this.#cleanup.splice(0)) fn();
  }
}

export function spawnNode(
  name: string,
  script: string,
  options: { args?: string[]; env?: Record<string, string>; nodeArgs?: string[]; cwd?: string } = {},
): ServerProcess {
  const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: "production", ...options.env };
  delete env.NODE_OPTIONS;
  const child = spawn(
    process.execPath,
    [
      "--expose-gc",
      "--disable-warning=ExperimentalWarning",
      `--import=${AGENT}`,
      ...(options.nodeArgs ?? []),
      script,
      ...(options.args ?? []),
    ],
    { cwd: options.cwd ?? REPO_DIR, env, stdio: ["ignore", "pipe", "pipe", "ipc"] },
  );
  return new ServerProcess(name, child);
}

/** Resolves with the first IPC message satisfying `match`; rejects if the process exits first. */
export function waitForMessage<T>(
  proc: ServerProcess,
  match: (msg: unknown) => msg is T,
  timeoutMs = 30_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${proc.name}: timed out waiting for it to start\n${proc.output()}`));
    }, timeoutMs);
    const onMessage = (msg: unknown) => {
      if (!match(msg)) return;
      cleanup();
      resolve(msg);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(
        new Error(`${proc.name} exited (${signal ?? `code ${code}`}) before it was ready\n${proc.output()}`),
      );
    };
    const cleanup = () => {
      clearTimeout(timer);
      proc.child.off("message", onMessage);
      proc.child.off("exit", onExit);
    };
    proc.child.on("message", onMessage);
    proc.child.once("exit", onExit);
  });
}

export type BaselineKind = "b0" | "b2" | "b4";

const BASELINE_SCRIPTS: Record<BaselineKind, string> = {
  b0: "b0-http.ts",
  b2: "b2-sqlite.ts",
  b4: "b4-ws.ts",
};

interface Ready {
  bench: "ready";
  port: number;
  rowBytes?: number;
}
const isReady = (m: unknown): m is Ready => (m as Ready | null)?.bench === "ready";

/** A temp folder for a baseline's SQLite file (BENCH_DB), removed when the process stops. */
function withTempDb(kind: string, env: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hugo-bench-${kind}-`));
  return {
    env: { ...env, BENCH_DB: path.join(dir, `${kind}.sqlite`) },
    attach: (proc: ServerProcess) => proc.onStop(() => fs.rmSync(dir, { recursive: true, force: true })),
  };
}

export async function startBaseline(
  kind: BaselineKind,
  env: Record<string, string> = {},
): Promise<{ proc: ServerProcess; info: Ready }> {
  const db = kind === "b2" ? withTempDb(kind, env) : undefined;
  const proc = spawnNode(
    kind.toUpperCase(),
    path.join(import.meta.dirname, "servers", BASELINE_SCRIPTS[kind]),
    { env: db?.env ?? env },
  );
  db?.attach(proc);
  try {
    const info = await waitForMessage(proc, isReady);
    proc.port = info.port;
    return { proc, info };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

export interface InsertLoopResult {
  rows: number;
  /** Each round's rows/s. */
  perSecond: number[];
  /** The median round. */
  rowsPerS: number;
}

/** B3: `rounds` × `rows` autocommitted inserts of a message row in a child process (no HTTP). */
export async function runInsertLoop(
  rows: number,
  rounds: number,
  env: Record<string, string> = {},
): Promise<InsertLoopResult> {
  const db = withTempDb("b3", {
    ...env,
    BENCH_B3_ROWS: String(rows),
    BENCH_B3_ROUNDS: String(rounds),
  });
  const proc = spawnNode("B3", path.join(import.meta.dirname, "servers", "b3-sqlite-loop.ts"), {
    env: db.env,
  });
  db.attach(proc);
  try {
    const done = await waitForMessage(
      proc,
      (m): m is { bench: "b3"; rows: number; perSecond: number[] } =>
        (m as { bench?: string } | null)?.bench === "b3",
      120_000,
    );
    const sorted = [...done.perSecond].sort((a, b) => a - b);
    return { rows: done.rows, perSecond: done.perSecond, rowsPerS: sorted[Math.floor(sorted.length / 2)]! };
  } finally {
    await proc.stop();
  }
}

/** A port free right now on loopback (Hugo's main.ts wants a fixed PORT). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Samples a process's RSS every `everyMs` until stopped. */
export function sampleRss(pid: number, everyMs = 200): () => { peak: number; last: number } {
  let peak = readRss(pid);
  let last = peak;
  const timer = setInterval(() => {
    const v = readRss(pid);
    if (Number.isFinite(v)) {
      last = v;
      if (v > peak) peak = v;
    }
  }, everyMs);
  return () => {
    clearInterval(timer);
    const v = readRss(pid);
    if (Number.isFinite(v)) {
      last = v;
      if (v > peak) peak = v;
    }
    return { peak, last };
  };
}

export async function settle(ms: number): Promise<void> {
  if (ms > 0) await sleep(ms);
}
