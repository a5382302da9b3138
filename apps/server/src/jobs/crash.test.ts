import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { freshPostgres, freshSqlite, TEST_PG_URL, type TestDatabase } from "../../test/databases.ts";
import type { JobQueue } from "../core/jobs.ts";
import { createStores } from "../db/stores.ts";
import { createJobQueue } from "./create-queue.ts";
import { PgJobQueue } from "./pg-queue.ts";

const CHILD = fileURLToPath(new URL("../../test/job-worker-child.ts", import.meta.url));
/**
 * PostgreSQL recovers a dead process's jobs when its heartbeat is a lease old; SQLite at start-up,
 * so its lease is left long there: the test would time out if recovery waited for it.
 */
const LEASE_MS = { sqlite: 60_000, postgres: 2000 };
const LANES = ["a", "b", "c", "d", "e"];
const PER_LANE = 34;
/** Plus PER_LANE jobs without a queue key ("free"): 204 jobs in all. */
const TOTAL = (LANES.length + 1) * PER_LANE;

interface Worker {
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function waitFor(check: () => Promise<boolean>, what: string, output: string[], timeoutMs = 25_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output.join("")}`);
    await sleep(10);
  }
}

describe.each(["sqlite", "postgres"] as const)("a worker killed with SIGKILL on %s", (dialect) => {
  let tdb: TestDatabase | undefined;
  let queue: JobQueue | undefined;
  let dir: string | undefined;
  const workers: Worker[] = [];

  afterEach(async () => {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    workers.length = 0;
    await queue?.stop();
    await tdb?.drop();
    if (queue instanceof PgJobQueue) {
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      await client.query(`drop schema if exists "${queue.schema}" cascade`);
      await client.end();
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("loses no job and repeats no visible effect when killed mid-flight twice and restarted", async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-jobs-crash-"));
    const file = path.join(dir, "hugo.sqlite");
    tdb = dialect === "sqlite" ? await freshSqlite(file) : await freshPostgres();
    const db = tdb.database.db;
    const stores = createStores(db);
    queue = await createJobQueue(tdb.database, { concurrency: 1 });
    const jobQueue = queue;

    const output: string[] = [];
    const spawnWorker = async (): Promise<Worker> => {
      const child = spawn(process.execPath, [CHILD], {
        env: {
          ...process.env,
          JOB_CHILD_LEASE_MS: String(LEASE_MS[dialect]),
          ...(tdb?.url ? { JOB_CHILD_DATABASE_URL: tdb.url } : { JOB_CHILD_SQLITE_FILE: file }),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const worker: Worker = {
        child,
        output,
        exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
      };
      workers.push(worker);
      let ready = false;
      child.stdout?.on("data", (d: Buffer) => {
        output.push(d.toString());
        if (d.toString().includes("ready")) ready = true;
      });
      child.stderr?.on("data", (d: Buffer) => output.push(d.toString()));
      await waitFor(async () => ready || child.exitCode !== null, "the worker to start", output);
      expect(child.exitCode).toBeNull();
      return worker;
    };
    const effects = async () => {
      const row = await db
        .selectFrom("kv")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("key", "like", "effect:%")
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    const killAfter = async (worker: Worker, atLeast: number) => {
      await waitFor(async () => (await effects()) >= atLeast, `${atLeast} effects`, output);
      await sleep(Math.random() * 30);
      worker.child.kill("SIGKILL");
      expect((await worker.exited).signal).toBe("SIGKILL");
    };
    const enqueue = (from: number, to: number) =>
      stores.transaction(async (tx) => {
        for (let n = from; n < to; n++) {
          for (const lane of LANES) {
            await jobQueue.enqueue(tx, {
              kind: "crash.effect",
              payload: { lane, n },
              queueKey: `lane-${lane}`,
            });
          }
          await jobQueue.enqueue(tx, { kind: "crash.effect", payload: { lane: "free", n } });
        }
      });

    // Half the jobs before the first worker starts, half while it runs.
    await enqueue(0, PER_LANE / 2);
    const first = await spawnWorker();
    await enqueue(PER_LANE / 2, PER_LANE);
    const firstKillAt = 20 + Math.floor(Math.random() * 40);
    await killAfter(first, firstKillAt);

    const second = await spawnWorker();
    const reached = await effects();
    await killAfter(second, reached + 20 + Math.floor(Math.random() * 40));

    const third = await spawnWorker();
    await waitFor(
      async () => {
        const { pending, running } = await jobQueue.stats();
        return (await effects()) === TOTAL && pending + running === 0;
      },
      "every job to complete",
      output,
    );
    third.child.kill("SIGTERM");
    expect(await third.exited).toEqual({ code: 0, signal: null });

    const rows = await db.selectFrom("kv").select(["key", "value"]).execute();
    const effectValues = rows.filter((r) => r.key.startsWith("effect:")).map((r) => r.value);
    const expected = [
      ...LANES.flatMap((lane) => Array.from({ length: PER_LANE }, (_, n) => `${lane}:${n}`)),
      ...Array.from({ length: PER_LANE }, (_, n) => `free:${n}`),
    ];
    // One effect per job, none missing, none from a duplicated job.
    expect(effectValues.sort()).toEqual(expected.sort());
    // Each lane's visible log has every step exactly once, in enqueue order, across both crashes.
    const log = new Map(rows.filter((r) => r.key.startsWith("log:")).map((r) => [r.key.slice(4), r.value]));
    for (const lane of LANES) {
      expect(log.get(lane)).toBe(Array.from({ length: PER_LANE }, (_, n) => n).join(","));
    }
    const free = (log.get("free") ?? "").split(",").map(Number);
    expect(free.sort((x, y) => x - y)).toEqual(Array.from({ length: PER_LANE }, (_, n) => n));
    // The kills did interrupt running jobs: some job ran again with a later attempt number.
    const rerun = rows.filter((r) => r.key.startsWith("run:") && Number(r.key.split(":")[2]) >= 2);
    expect(rerun.length).toBeGreaterThan(0);
    expect(await jobQueue.stats()).toEqual({ pending: 0, running: 0, failed: 0 });
  });
});
