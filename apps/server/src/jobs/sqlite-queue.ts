import { randomBytes } from "node:crypto";
import os from "node:os";
import { type Kysely, sql } from "kysely";
import {
  checkNewJob,
  DEFAULT_MAX_ATTEMPTS,
  errorMessage,
  type FailedJob,
  type JobHandler,
  type JobLogger,
  type JobQueue,
  type JobStats,
  type NewJob,
  silentJobLogger,
} from "../core/jobs.ts";
import type { Stores } from "../core/ports.ts";
import type { DB } from "../db/schema.ts";
import { WakeTimer } from "./wake-timer.ts";

export interface SqliteJobQueueOptions {
  /** Jobs run at once. */
  concurrency: number;
  logger?: JobLogger | undefined;
  /** How often the worker looks for due jobs (retries, `runAt`, expired leases); enqueues nudge it at once. */
  pollIntervalMs?: number | undefined;
  /** A claimed job is this process's for this long; renewed while it runs. */
  leaseMs?: number | undefined;
  /** First retry waits 0.5–1 × this; each further failure doubles it, up to `retryMaxMs`. */
  retryBaseMs?: number | undefined;
  retryMaxMs?: number | undefined;
}

interface ClaimedRow {
  id: number;
  kind: string;
  payload: string;
  queue_key: string | null;
  run_at: number;
  attempts: number;
  max_attempts: number;
}

const INTERRUPTED = "interrupted: the worker stopped before the job finished (crash or expired lease)";

/**
 * The local queue for SQLite deployments: the `jobs` table, a polling worker nudged by enqueues,
 * leases renewed while a job runs, exponential backoff with jitter, one running job per queue key.
 * One process per SQLite file (the house rule), so at start-up every lock left in the file belongs
 * to a dead process and is released at once.
 *
 * Every query goes through Kysely, never the raw better-sqlite3 handle: Kysely serialises use of the
 * single connection, so the worker's statements never land inside a caller's open transaction, and a
 * nudge's claim runs only after the enqueuing transaction has committed.
 */
export class SqliteJobQueue implements JobQueue {
  readonly #db: Kysely<DB>;
  readonly #concurrency: number;
  readonly #log: JobLogger;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  /** Lock owner written into `locked_by`: host, pid and a per-instance nonce, for operators reading the table. */
  readonly #me = `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;

  #handlers: Record<string, JobHandler> = {};
  #state: "idle" | "running" | "stopping" | "stopped" = "idle";
  #ready: Promise<void> = Promise.resolve();
  readonly #running = new Map<number, { queueKey: string | null; done: Promise<void> }>();
  #pumping: Promise<void> | undefined;
  #pumpAgain = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  #stopped: Promise<void> | undefined;
  readonly #wakeAt = new WakeTimer(() => {
    if (this.#state === "running") this.#pump();
  });

  constructor(db: Kysely<DB>, options: SqliteJobQueueOptions) {
    this.#db = db;
    this.#concurrency = options.concurrency;
    this.#log = options.logger ?? silentJobLogger;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#retryBaseMs = options.retryBaseMs ?? 1000;
    this.#retryMaxMs = options.retryMaxMs ?? 60 * 60 * 1000;
  }

  async enqueue(tx: Stores, job: NewJob): Promise<void> {
    checkNewJob(job);
    const db = tx.executor as Kysely<DB>;
    const now = Date.now();
    await db
      .insertInto("jobs")
      .values({
        kind: job.kind,
        payload: JSON.stringify(job.payload ?? null),
        queue_key: job.queueKey ?? null,
        job_key: job.jobKey ?? null,
        run_at: job.runAt ?? now,
        attempts: 0,
        max_attempts: job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        locked_by: null,
        locked_until: null,
        last_error: null,
        created_at: now,
      })
      .onConflict((oc) => oc.column("job_key").doNothing())
      .execute();
    // Inside a transaction this claim queues behind it on the connection, so it sees the commit.
    if (this.#state === "running") setImmediate(() => this.#pump());
    if (job.runAt !== undefined) this.#wakeAt.schedule(job.runAt);
  }

  start(handlers: Record<string, JobHandler>): void {
    if (this.#state !== "idle") throw new Error("the job queue was already started");
    this.#state = "running";
    this.#handlers = { ...handlers };
    this.#ready = this.#releaseDeadLocks().catch((error) =>
      this.#log.error({ err: error }, "jobs: could not release the locks of a previous process"),
    );
    void this.#ready.then(() => {
      if (this.#state !== "running") return;
      this.#pollTimer = setInterval(() => this.#pump(), this.#pollIntervalMs);
      this.#pollTimer.unref();
      this.#pump();
    });
    const renewEvery = Math.max(50, Math.min(5000, Math.floor(this.#leaseMs / 3)));
    this.#leaseTimer = setInterval(() => void this.#renewLeases(), renewEvery);
    this.#leaseTimer.unref();
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      const wasRunning = this.#state === "running";
      this.#state = "stopping";
      clearInterval(this.#pollTimer);
      this.#wakeAt.stop();
      if (wasRunning) {
        await this.#ready;
        await this.#pumping;
        // Leases keep being renewed until the last running job has finished.
        await Promise.allSettled([...this.#running.values()].map((r) => r.done));
      }
      clearInterval(this.#leaseTimer);
      this.#state = "stopped";
    })();
    return this.#stopped;
  }

  async stats(): Promise<JobStats> {
    const row = await sql<{ pending: number; running: number; failed: number }>`
      select
        coalesce(sum(case when locked_until is null and attempts < max_attempts then 1 else 0 end), 0) as pending,
        coalesce(sum(case when locked_until is not null then 1 else 0 end), 0) as running,
        coalesce(sum(case when locked_until is null and attempts >= max_attempts then 1 else 0 end), 0) as failed
      from jobs`.execute(this.#db);
    const r = row.rows[0];
    return {
      pending: Number(r?.pending ?? 0),
      running: Number(r?.running ?? 0),
      failed: Number(r?.failed ?? 0),
    };
  }

  async listFailed(limit = 100): Promise<FailedJob[]> {
    const rows = await this.#db
      .selectFrom("jobs")
      .select(["id", "kind", "queue_key", "attempts", "last_error"])
      .where("locked_until", "is", null)
      .whereRef("attempts", ">=", "max_attempts")
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: String(r.id),
      kind: r.kind,
      queueKey: r.queue_key,
      attempts: r.attempts,
      lastError: r.last_error,
    }));
  }

  /** Single process per file: whatever is still locked was locked by a process that is gone. */
  async #releaseDeadLocks(): Promise<void> {
    const result = await this.#db
      .updateTable("jobs")
      .set({ locked_by: null, locked_until: null, last_error: INTERRUPTED })
      .where("locked_by", "is not", null)
      .executeTakeFirst();
    const released = Number(result.numUpdatedRows);
    if (released > 0) this.#log.warn({ released }, "jobs: released jobs a previous process left running");
  }

  /** Claims and launches due jobs until the concurrency limit is reached or none is due. */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    // `.finally` runs as a later microtask, so it cannot clear the field before it is set; a wake-up
    // that arrived after the loop's last check is not lost.
    this.#pumping = this.#pumpLoop().finally(() => {
      this.#pumping = undefined;
      if (this.#pumpAgain && this.#state === "running") this.#pump();
    });
  }

  async #pumpLoop(): Promise<void> {
    try {
      do {
        this.#pumpAgain = false;
        const free = this.#concurrency - this.#running.size;
        if (this.#state !== "running" || free <= 0) break;
        const rows = await this.#claim(free);
        for (const row of rows) this.#launch(row);
        if (rows.length === free) this.#pumpAgain = true;
      } while (this.#pumpAgain && this.#state === "running");
    } catch (error) {
      this.#log.error({ err: error }, "jobs: polling failed; retrying on the next tick");
    }
  }

  async #claim(limit: number): Promise<ClaimedRow[]> {
    const kinds = Object.keys(this.#handlers);
    if (kinds.length === 0) return [];
    const now = Date.now();
    const runningIds = [...this.#running.keys()];
    const runningKeys = [...this.#running.values()].flatMap((r) => (r.queueKey === null ? [] : [r.queueKey]));
    // One statement, so the claim is atomic. A lane is a queue key (or the job alone when it has
    // none); only the first due job of a lane that nobody holds is taken. The in-process lists guard
    // a job whose lease lapsed while this process was stalled but which is still running here.
    const { rows } = await sql<ClaimedRow>`
      update jobs
      set attempts = attempts + 1, locked_by = ${this.#me}, locked_until = ${now + this.#leaseMs}
      where id in (
        select id from (
          select j.id, j.run_at,
            row_number() over (partition by coalesce(j.queue_key, '#' || j.id) order by j.run_at, j.id) as lane_rank
          from jobs j
          where j.attempts < j.max_attempts
            and j.run_at <= ${now}
            and (j.locked_until is null or j.locked_until < ${now})
            and j.kind in (select value from json_each(${JSON.stringify(kinds)}))
            and j.id not in (select value from json_each(${JSON.stringify(runningIds)}))
            and (j.queue_key is null or (
              j.queue_key not in (select value from json_each(${JSON.stringify(runningKeys)}))
              and not exists (
                select 1 from jobs k where k.queue_key = j.queue_key and k.locked_until >= ${now}
              )
            ))
        )
        where lane_rank = 1
        order by run_at, id
        limit ${limit}
      )
      returning id, kind, payload, queue_key, run_at, attempts, max_attempts`.execute(this.#db);
    return rows.sort((a, b) => a.run_at - b.run_at || a.id - b.id);
  }

  #launch(row: ClaimedRow): void {
    const done = this.#execute(row).finally(() => {
      this.#running.delete(row.id);
      this.#pump();
    });
    this.#running.set(row.id, { queueKey: row.queue_key, done });
  }

  async #execute(row: ClaimedRow): Promise<void> {
    const handler = this.#handlers[row.kind];
    try {
      if (!handler) throw new Error(`no handler for job kind ${row.kind}`);
      await handler({
        id: String(row.id),
        kind: row.kind,
        payload: JSON.parse(row.payload),
        attempt: row.attempts,
        queueKey: row.queue_key,
      });
    } catch (error) {
      await this.#fail(row, error);
      return;
    }
    try {
      await this.#db.deleteFrom("jobs").where("id", "=", row.id).where("locked_by", "=", this.#me).execute();
    } catch (error) {
      // The lease will lapse and the job run again: at-least-once, as documented.
      this.#log.error({ err: error, jobId: row.id }, "jobs: could not mark a job complete");
    }
  }

  async #fail(row: ClaimedRow, error: unknown): Promise<void> {
    const message = errorMessage(error);
    const final = row.attempts >= row.max_attempts;
    const context = { err: error, jobId: String(row.id), kind: row.kind, attempt: row.attempts };
    try {
      await this.#db
        .updateTable("jobs")
        .set({
          last_error: message,
          locked_by: null,
          locked_until: null,
          ...(final ? {} : { run_at: Date.now() + this.#retryDelay(row.attempts) }),
        })
        .where("id", "=", row.id)
        .where("locked_by", "=", this.#me)
        .execute();
    } catch (writeError) {
      this.#log.error({ ...context, writeError }, "jobs: could not record a job failure");
      return;
    }
    if (final) this.#log.error(context, `jobs: ${row.kind} failed for good after ${row.attempts} attempts`);
    else this.#log.warn(context, `jobs: ${row.kind} failed; will retry`);
  }

  /** Exponential backoff with "equal jitter": half the step is fixed, half random. */
  #retryDelay(attempts: number): number {
    const step = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(step / 2 + (Math.random() * step) / 2);
  }

  async #renewLeases(): Promise<void> {
    const ids = [...this.#running.keys()];
    if (ids.length === 0) return;
    try {
      await this.#db
        .updateTable("jobs")
        .set({ locked_until: Date.now() + this.#leaseMs })
        .where("locked_by", "=", this.#me)
        .where("id", "in", ids)
        .execute();
    } catch (error) {
      this.#log.warn({ err: error }, "jobs: could not renew leases");
    }
  }
}
