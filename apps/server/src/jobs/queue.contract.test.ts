import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DIALECTS, TEST_PG_URL, type TestDatabase } from "../../test/databases.ts";
import type { JobLogger, JobQueue, JobRun } from "../core/jobs.ts";
import type { Stores } from "../core/ports.ts";
import { createStores } from "../db/stores.ts";
import { createJobQueue } from "./create-queue.ts";
import { PgJobQueue } from "./pg-queue.ts";

/** Polls until `check` holds; generous, because a loaded 2-core machine is slow, never wrong. */
async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const idle = { pending: 0, running: 0, failed: 0 };

/**
 * Shortest wait between a failure and the next attempt: SQLite uses `retryBaseMs` 200 with equal
 * jitter (100–200 ms, then 200–400 ms); graphile-worker waits e^attempt seconds (2.7 s, then 7.4 s).
 */
const MIN_RETRY_GAP_MS = { sqlite: [100, 200], postgres: [2500, 7000] } as const;

describe.each(DIALECTS)("job queue contract on $dialect", ({ dialect, fresh }) => {
  // One database per dialect, emptied between tests: a fresh PostgreSQL schema per test would also
  // install graphile-worker's schema each time, and that DDL races other suites' catalog reads.
  let tdb: TestDatabase;
  let stores: Stores;
  let queue: JobQueue;
  let errors: string[];

  beforeAll(async () => {
    tdb = await fresh();
    stores = createStores(tdb.database.db);
  });

  afterAll(async () => {
    await tdb?.drop();
    if (queue instanceof PgJobQueue) {
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      await client.query(`drop schema if exists "${queue.schema}" cascade`);
      await client.end();
    }
  });

  beforeEach(async () => {
    errors = [];
    const logger: JobLogger = {
      debug() {},
      warn() {},
      error: (obj, msg) => void errors.push(`${msg} ${String((obj as { err?: unknown }).err ?? "")}`.trim()),
    };
    queue = await createJobQueue(tdb.database, {
      concurrency: 4,
      logger,
      pollIntervalMs: 100,
      retryBaseMs: 200,
    });
  });

  afterEach(async () => {
    await queue.stop();
    // What a test leaves behind (a job nobody handles, a failed job) must not reach the next one.
    if (queue instanceof PgJobQueue) {
      await tdb.database.pool!.query(
        `delete from "${queue.schema}"._private_jobs; delete from "${queue.schema}"._private_job_queues;`,
      );
    } else {
      await tdb.database.db.deleteFrom("jobs").execute();
    }
  });

  it("never runs a job whose enqueuing transaction rolled back", async () => {
    const seen: unknown[] = [];
    queue.start({ note: async (job) => void seen.push(job.payload) });
    await expect(
      stores.transaction(async (tx) => {
        await queue.enqueue(tx, { kind: "note", payload: "rolled back", queueKey: "k" });
        throw new Error("rollback");
      }),
    ).rejects.toThrow("rollback");
    await stores.transaction((tx) =>
      queue.enqueue(tx, { kind: "note", payload: "committed", queueKey: "k" }),
    );

    await waitFor(async () => seen.length === 1 && equal(await queue.stats(), idle), "the committed job");
    expect(seen).toEqual(["committed"]);
  });

  it("runs a committed job once with its kind, payload, attempt 1, queue key and a stable string id", async () => {
    const runs: JobRun[] = [];
    queue.start({ greet: async (job) => void runs.push(job) });
    const payload = { text: "héllo ✓", nested: { list: [1, 2, null] } };
    await stores.transaction((tx) => queue.enqueue(tx, { kind: "greet", payload, queueKey: "session_1" }));
    await queue.enqueue(stores, { kind: "greet", payload: null });

    await waitFor(async () => runs.length === 2 && equal(await queue.stats(), idle), "both jobs");
    const byKey = new Map(runs.map((r) => [r.queueKey, r]));
    expect(byKey.get("session_1")).toMatchObject({
      kind: "greet",
      payload,
      attempt: 1,
      queueKey: "session_1",
    });
    expect(byKey.get(null)).toMatchObject({ kind: "greet", payload: null, attempt: 1, queueKey: null });
    expect(runs.every((r) => typeof r.id === "string" && r.id.length > 0)).toBe(true);
    expect(new Set(runs.map((r) => r.id)).size).toBe(2);
    expect(errors).toEqual([]);
  });

  it("treats a second enqueue with a queued jobKey as a no-op, and frees the key once the job completed", async () => {
    await queue.enqueue(stores, { kind: "once", payload: 1, jobKey: "welcome:s1" });
    await stores.transaction((tx) => queue.enqueue(tx, { kind: "once", payload: 2, jobKey: "welcome:s1" }));
    expect(await queue.stats()).toEqual({ ...idle, pending: 1 });

    const seen: unknown[] = [];
    queue.start({ once: async (job) => void seen.push(job.payload) });
    await waitFor(async () => seen.length === 1 && equal(await queue.stats(), idle), "the deduped job");
    expect(seen).toEqual([1]);

    await queue.enqueue(stores, { kind: "once", payload: 3, jobKey: "welcome:s1" });
    await waitFor(
      async () => seen.length === 2 && equal(await queue.stats(), idle),
      "the job after completion",
    );
    expect(seen).toEqual([1, 3]);
  });

  it("retries a failing job with backoff until it succeeds", async () => {
    const starts: number[] = [];
    const failures: number[] = [];
    const attempts: number[] = [];
    queue.start({
      flaky: async (job) => {
        starts.push(Date.now());
        attempts.push(job.attempt);
        if (job.attempt < 3) {
          failures.push(Date.now());
          throw new Error(`flaky ${job.attempt}`);
        }
      },
    });
    await queue.enqueue(stores, { kind: "flaky", payload: {}, queueKey: "k" });

    await waitFor(async () => attempts.length === 3 && equal(await queue.stats(), idle), "the third attempt");
    expect(attempts).toEqual([1, 2, 3]);
    const [gap1, gap2] = [starts[1]! - failures[0]!, starts[2]! - failures[1]!];
    expect(gap1).toBeGreaterThanOrEqual(MIN_RETRY_GAP_MS[dialect][0]);
    expect(gap2).toBeGreaterThanOrEqual(MIN_RETRY_GAP_MS[dialect][1]);
    expect(await queue.listFailed()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("gives up after maxAttempts and keeps the job with its last error", async () => {
    let calls = 0;
    queue.start({
      doomed: async (job) => {
        calls++;
        throw new Error(`boom ${job.attempt}`);
      },
    });
    await queue.enqueue(stores, { kind: "doomed", payload: { a: 1 }, queueKey: "k", maxAttempts: 2 });

    await waitFor(async () => (await queue.stats()).failed === 1, "the job to fail for good");
    expect(await queue.stats()).toEqual({ ...idle, failed: 1 });
    expect(calls).toBe(2);
    const failed = await queue.listFailed();
    expect(failed).toEqual([
      { id: expect.any(String), kind: "doomed", queueKey: "k", attempts: 2, lastError: "boom 2" },
    ]);
    expect(errors.length).toBeGreaterThan(0);
  });

  it("runs the jobs of one queueKey one at a time in enqueue order, and different keys in parallel", async () => {
    const spans: { key: string; queueKey: string | null; n: number; start: number; end: number }[] = [];
    queue.start({
      step: async (job) => {
        const { key, n } = job.payload as { key: string; n: number };
        const start = performance.now();
        await sleep(150);
        spans.push({ key, queueKey: job.queueKey, n, start, end: performance.now() });
      },
    });
    const keys = ["a", "b", "c"];
    // Interleaved and all in one transaction: order must come from enqueue order, not commit order.
    await stores.transaction(async (tx) => {
      for (let n = 0; n < 4; n++) {
        for (const key of keys) await queue.enqueue(tx, { kind: "step", payload: { key, n }, queueKey: key });
      }
    });

    await waitFor(async () => spans.length === 12 && equal(await queue.stats(), idle), "all twelve jobs");
    expect(spans.every((s) => s.queueKey === s.key)).toBe(true);
    for (const key of keys) {
      const lane = spans.filter((s) => s.key === key).sort((x, y) => x.start - y.start);
      expect(lane.map((s) => s.n)).toEqual([0, 1, 2, 3]);
      for (let i = 1; i < lane.length; i++) expect(lane[i]!.start).toBeGreaterThanOrEqual(lane[i - 1]!.end);
    }
    const overlapping = spans.some((x) =>
      spans.some((y) => x.key !== y.key && x.start < y.end && y.start < x.end),
    );
    expect(overlapping).toBe(true);
    expect(errors).toEqual([]);
  });

  it("does not start a job before its runAt", async () => {
    const started = new Map<string, number>();
    queue.start({ later: async (job) => void started.set(job.payload as string, Date.now()) });
    const runAt = Date.now() + 1500;
    await queue.enqueue(stores, { kind: "later", payload: "delayed", runAt });
    await queue.enqueue(stores, { kind: "later", payload: "now" });

    await waitFor(async () => started.size === 2 && equal(await queue.stats(), idle), "both jobs");
    expect(started.get("delayed")).toBeGreaterThanOrEqual(runAt - 5);
    expect(started.get("now")).toBeLessThan(started.get("delayed")!);
  });

  it("runs a job scheduled for later when it falls due, not at the next poll", async () => {
    // A poll a minute apart: only the wake-up at runAt can run the job within the wait below.
    await queue.stop();
    queue = await createJobQueue(tdb.database, { concurrency: 2, pollIntervalMs: 60_000 });
    let ranAt: number | undefined;
    queue.start({
      later: async () => {
        ranAt = Date.now();
      },
    });
    // Let graphile-worker's first fetch (at start) pass, so the job is not found by it.
    await sleep(300);
    const runAt = Date.now() + 400;
    await stores.transaction((tx) => queue.enqueue(tx, { kind: "later", payload: null, runAt }));
    await waitFor(() => ranAt !== undefined, "the delayed job", 20_000);
    expect(ranAt).toBeGreaterThanOrEqual(runAt - 5);
  });

  it("leaves jobs of a kind without a handler waiting", async () => {
    const seen: string[] = [];
    queue.start({ known: async () => void seen.push("known") });
    await queue.enqueue(stores, { kind: "unknown", payload: {} });
    await queue.enqueue(stores, { kind: "known", payload: {} });

    await waitFor(async () => seen.length === 1 && (await queue.stats()).running === 0, "the known job");
    await sleep(300);
    expect(await queue.stats()).toEqual({ ...idle, pending: 1 });
  });

  it("stop() waits for the running job to finish, and the job is not left behind", async () => {
    let started = false;
    let finished = false;
    queue.start({
      slow: async () => {
        started = true;
        await sleep(500);
        finished = true;
      },
    });
    await queue.enqueue(stores, { kind: "slow", payload: {} });
    await waitFor(() => started, "the job to start");

    const stopping = queue.stop();
    expect(finished).toBe(false);
    await stopping;
    expect(finished).toBe(true);
    expect(await queue.stats()).toEqual(idle);
    await queue.stop();
  });

  it("runs a job that outlives its lease once, however many workers poll", async () => {
    // SQLite: one process per file, whose lease renewal must keep the job. PostgreSQL: a second
    // worker (as another process would) must see the first one's heartbeat and leave the job alone.
    await queue.stop();
    const workers = await Promise.all(
      Array.from({ length: dialect === "postgres" ? 2 : 1 }, () =>
        createJobQueue(tdb.database, { concurrency: 2, leaseMs: 600, pollIntervalMs: 50 }),
      ),
    );
    const starts: number[] = [];
    try {
      const long = async (job: JobRun) => {
        starts.push(job.attempt);
        await sleep(2500);
      };
      for (const w of workers) w.start({ long });
      await queue.enqueue(stores, { kind: "long", payload: {} });
      await waitFor(async () => starts.length === 1 && equal(await queue.stats(), idle), "the long job");
      await sleep(300);
      expect(starts).toEqual([1]);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });

  it("rejects a job that breaks the shared limits", async () => {
    await expect(queue.enqueue(stores, { kind: "", payload: {} })).rejects.toThrow(/kind/);
    await expect(
      queue.enqueue(stores, { kind: "k", payload: {}, queueKey: "q".repeat(129) }),
    ).rejects.toThrow(/queueKey/);
    await expect(queue.enqueue(stores, { kind: "k", payload: {}, maxAttempts: 0 })).rejects.toThrow(
      /maxAttempts/,
    );
    expect(await queue.stats()).toEqual(idle);
  });
});

function equal(a: object, b: object): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
