/**
 * A worker process for `jobs/crash.test.ts`, killed with SIGKILL mid-flight and restarted.
 *
 *   JOB_CHILD_DATABASE_URL=postgres://… | JOB_CHILD_SQLITE_FILE=/tmp/…  JOB_CHILD_LEASE_MS=2000  node job-worker-child.ts
 *
 * Its `crash.effect` handler does what a real one must: it records each run (`run:<id>:<attempt>`),
 * then applies its visible effect — appending `n` to the `log:<key>` row — in one transaction with an
 * `effect:<id>` marker, so a re-run after a crash finds the marker and changes nothing.
 * Prints "ready" once the worker has started; drains and exits 0 on SIGTERM.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { openDatabase } from "../src/db/database.ts";
import { createJobQueue } from "../src/jobs/create-queue.ts";

const database = openDatabase({
  databaseUrl: process.env.JOB_CHILD_DATABASE_URL || undefined,
  sqliteFile: process.env.JOB_CHILD_SQLITE_FILE ?? ":memory:",
  poolSize: 12,
});
const db = database.db;
const queue = await createJobQueue(database, {
  concurrency: 8,
  leaseMs: Number(process.env.JOB_CHILD_LEASE_MS ?? 2000),
  pollIntervalMs: 100,
  logger: {
    debug() {},
    warn: (obj, msg) => console.error("warn", msg, JSON.stringify(obj)),
    error: (obj, msg) => console.error("error", msg, JSON.stringify(obj)),
  },
});

queue.start({
  "crash.effect": async (job) => {
    const { lane, n } = job.payload as { lane: string; n: number };
    await db
      .insertInto("kv")
      .values({ key: `run:${job.id}:${job.attempt}`, value: "" })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
    await sleep(10 + Math.random() * 40);
    await db.transaction().execute(async (trx) => {
      const marker = await trx
        .insertInto("kv")
        .values({ key: `effect:${job.id}`, value: `${lane}:${n}` })
        .onConflict((oc) => oc.column("key").doNothing())
        .executeTakeFirst();
      if (Number(marker.numInsertedOrUpdatedRows ?? 0) === 0) return;
      await trx
        .insertInto("kv")
        .values({ key: `log:${lane}`, value: String(n) })
        .onConflict((oc) =>
          oc.column("key").doUpdateSet({ value: sql<string>`kv.value || ',' || excluded.value` }),
        )
        .execute();
    });
    // A kill here leaves an applied effect on a job not yet marked complete: the re-run must be a no-op.
    await sleep(Math.random() * 15);
  },
});
// The worker's timers are unref'd (a server's listening socket keeps it alive); this stands in for it.
const keepAlive = setInterval(() => {}, 60_000);
process.on("SIGTERM", () => {
  void (async () => {
    clearInterval(keepAlive);
    await queue.stop();
    await database.close();
    process.exit(0);
  })();
});
console.log("ready");
