import { EventEmitter } from "node:events";
import {
  Logger as GraphileLogger,
  type Runner,
  run,
  runMigrations,
  type TaskList,
  type WorkerPool,
} from "graphile-worker";
import { type Kysely, sql } from "kysely";
import type pg from "pg";
import {
  checkNewJob,
  DEFAULT_MAX_ATTEMPTS,
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

export interface PgJobQueueOptions {
  /** Jobs run at once by this process. */
  concurrency: number;
  logger?: JobLogger | undefined;
  /** graphile-worker's poll for due retries and `runAt`s; new jobs arrive by LISTEN/NOTIFY at once. */
  pollIntervalMs?: number | undefined;
  /** A worker process whose heartbeat is older than this is presumed dead and its jobs released. */
  leaseMs?: number | undefined;
  /** graphile-worker's schema; default derived from the connection's schema (see `workerSchemaFor`). */
  schema?: string | undefined;
}

/**
 * graphile-worker's schema for a database whose tables live in `currentSchema`: `graphile_worker`
 * beside `public`, else `<schema>_graphile_worker`, so several Hugo instances (and parallel test
 * suites) sharing one PostgreSQL database, one schema each, never run each other's jobs.
 */
export function workerSchemaFor(currentSchema: string | null | undefined): string {
  if (!currentSchema || currentSchema === "public") return "graphile_worker";
  const name = `${currentSchema}_graphile_worker`;
  if (name.length > 63)
    throw new Error(`schema name ${currentSchema} is too long to derive a job schema from`);
  return name;
}

/** Queue-row cleanup runs every 10–20 minutes per worker process. */
const GC_INTERVAL_MS = 10 * 60 * 1000;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Routes graphile-worker's log lines to ours; a failure that will be retried is a warning, not an error. */
function graphileLogger(log: JobLogger): GraphileLogger {
  return new GraphileLogger(() => (level, message, meta) => {
    if (level === "error") {
      const job = meta.job as { attempts?: number; max_attempts?: number } | undefined;
      const retried = meta.failure === true && job && (job.attempts ?? 0) < (job.max_attempts ?? 0);
      (retried ? log.warn : log.error).call(log, { err: meta.error }, `jobs: ${message}`);
    } else if (level === "warning") log.warn({}, `jobs: ${message}`);
    else log.debug({}, `jobs: ${message}`);
  });
}

/**
 * The PostgreSQL queue: graphile-worker, with the job added by `add_job` on the caller's own
 * transaction, `queue_name` for per-key serial execution and `job_key` (mode `unsafe_dedupe`: a
 * true no-op while the first job exists) for dedupe.
 *
 * Crash recovery: graphile-worker alone leaves a killed worker's jobs locked for 4 hours. Each
 * worker process here upserts a heartbeat row every few seconds; every worker process sweeps
 * for pools whose heartbeat is older than the lease and hands them to graphile-worker's
 * `force_unlock_workers`, so a dead process's jobs run again within about `leaseMs` + one sweep.
 */
export class PgJobQueue implements JobQueue {
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #q: string;
  readonly #concurrency: number;
  readonly #log: JobLogger;
  readonly #graphileLog: GraphileLogger;
  readonly #pollIntervalMs: number;
  readonly #wakeAt = new WakeTimer(() => this.#workerPool?.nudge(1));
  readonly #leaseMs: number;

  #state: "idle" | "running" | "stopping" | "stopped" = "idle";
  #handlers: Record<string, JobHandler> = {};
  #runner: Runner | undefined;
  #starting: Promise<void> | undefined;
  #workerPool: WorkerPool | undefined;
  #beatTimer: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #gcTimer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;

  /** Installs (or upgrades) graphile-worker's schema and the heartbeat table, then returns the queue. */
  static async create(pool: pg.Pool, options: PgJobQueueOptions): Promise<PgJobQueue> {
    const log = options.logger ?? silentJobLogger;
    // graphile-worker warns on the console when a shared pool has no per-client error handler;
    // an error on a checked-out client with no listener would also crash the process.
    if (pool.listenerCount("connect") === 0) {
      pool.on("connect", (client) =>
        client.on("error", (err) => log.warn({ err }, "jobs: PostgreSQL client error")),
      );
    }
    let schema = options.schema;
    if (!schema) {
      const { rows } = await pool.query<{ s: string | null }>("select current_schema() as s");
      schema = workerSchemaFor(rows[0]?.s);
    }
    const graphileLog = graphileLogger(log);
    await runMigrations({ pgPool: pool, schema, logger: graphileLog });
    // Concurrent `create table if not exists` can collide on pg_type; serialise the starters.
    await inPgTransaction(pool, async (client) => {
      await client.query("select pg_advisory_xact_lock(hashtext($1))", [`hugo-jobs:${schema}`]);
      await client.query(
        `create table if not exists ${quoteIdent(schema)}.hugo_worker_heartbeats (
          pool_id text primary key,
          heartbeat_at timestamptz not null default now()
        )`,
      );
    });
    return new PgJobQueue(pool, schema, graphileLog, options);
  }

  /** Use `PgJobQueue.create`, which installs the schema first. */
  constructor(pool: pg.Pool, schema: string, graphileLog: GraphileLogger, options: PgJobQueueOptions) {
    this.#pool = pool;
    this.#schema = schema;
    this.#q = quoteIdent(schema);
    this.#concurrency = options.concurrency;
    this.#log = options.logger ?? silentJobLogger;
    this.#graphileLog = graphileLog;
    this.#pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.#leaseMs = options.leaseMs ?? 30_000;
  }

  /** graphile-worker's schema (for operators and tests). */
  get schema(): string {
    return this.#schema;
  }

  async enqueue(tx: Stores, job: NewJob): Promise<void> {
    checkNewJob(job);
    // A default run_at of clock_timestamp() (not now(), the transaction's start) keeps jobs enqueued
    // one after another in one transaction in order: graphile-worker orders a queue by run_at.
    await sql`select ${sql.raw(this.#q)}.add_job(
      identifier => ${job.kind}::text,
      payload => ${JSON.stringify(job.payload ?? null)}::json,
      queue_name => ${job.queueKey ?? null}::text,
      run_at => coalesce(${job.runAt === undefined ? null : new Date(job.runAt).toISOString()}::timestamptz, clock_timestamp()),
      max_attempts => ${job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS}::int,
      job_key => ${job.jobKey ?? null}::text,
      job_key_mode => 'unsafe_dedupe'
    )`.execute(tx.executor as Kysely<DB>);
    // graphile-worker finds a future job at its next poll; wake it when the job falls due (a few ms
    // late, so the database's clock agrees).
    if (job.runAt !== undefined) this.#wakeAt.schedule(job.runAt + 5);
  }

  start(handlers: Record<string, JobHandler>): void {
    if (this.#state !== "idle") throw new Error("the job queue was already started");
    this.#state = "running";
    this.#handlers = { ...handlers };
    // With no handler there is nothing to run (and graphile-worker would log "no tasks" on every poll).
    if (Object.keys(handlers).length === 0) return;
    this.#launch();
    const every = Math.max(100, Math.min(5000, Math.floor(this.#leaseMs / 3)));
    this.#beatTimer = setInterval(() => void this.#beatAndSweep(), every);
    this.#beatTimer.unref();
    const gcEvery = GC_INTERVAL_MS + Math.floor(Math.random() * GC_INTERVAL_MS);
    this.#gcTimer = setInterval(() => {
      this.collectEmptyQueues().catch((error) =>
        this.#log.warn({ err: error }, "jobs: queue cleanup failed"),
      );
    }, gcEvery);
    this.#gcTimer.unref();
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#state = "stopping";
      this.#wakeAt.stop();
      clearTimeout(this.#restartTimer);
      clearInterval(this.#gcTimer);
      await this.#starting;
      const poolId = this.#workerPool?.id;
      // Heartbeats continue until the pool has drained, so no sweeper takes its running jobs.
      const runner = this.#runner;
      if (runner) {
        // runner.stop() does not wait for a graceful shutdown graphile-worker began by itself (see
        // #onRunnerExit); runner.promise settles only once the pool's running jobs have finished.
        await runner.stop().catch((error: unknown) => this.#log.debug({ err: error }, "jobs: runner.stop()"));
        await runner.promise.catch((error: unknown) =>
          this.#log.error({ err: error }, "jobs: worker did not stop cleanly"),
        );
      }
      clearInterval(this.#beatTimer);
      await this.#beating;
      if (poolId) {
        await this.#pool
          .query(`delete from ${this.#q}.hugo_worker_heartbeats where pool_id = $1`, [poolId])
          .catch((error) => this.#log.warn({ err: error }, "jobs: could not remove the heartbeat row"));
      }
      this.#state = "stopped";
    })();
    return this.#stopped;
  }

  async stats(): Promise<JobStats> {
    const { rows } = await this.#pool.query<JobStats>(
      `select
        count(*) filter (where locked_at is null and attempts < max_attempts)::int as pending,
        count(*) filter (where locked_at is not null)::int as running,
        count(*) filter (where locked_at is null and attempts >= max_attempts)::int as failed
      from ${this.#q}.jobs`,
    );
    return rows[0] ?? { pending: 0, running: 0, failed: 0 };
  }

  async listFailed(limit = 100): Promise<FailedJob[]> {
    const { rows } = await this.#pool.query<{
      id: string | number;
      task_identifier: string;
      queue_name: string | null;
      attempts: number;
      last_error: string | null;
    }>(
      `select id, task_identifier, queue_name, attempts, last_error from ${this.#q}.jobs
       where locked_at is null and attempts >= max_attempts order by id limit $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: String(r.id),
      kind: r.task_identifier,
      queueKey: r.queue_name,
      attempts: r.attempts,
      lastError: r.last_error,
    }));
  }

  /**
   * Deletes queue rows with no job left. graphile-worker keeps a row per queue name ever used (one
   * per conversation here) and every fetch scans the unlocked ones — measured: 300 jobs took 0.7 s
   * with no idle queues, 16 s with 100,000. Its own GC_JOB_QUEUES races with `add_job`: it can delete
   * a row that an uncommitted job already points at, stranding the job. This takes a table lock that
   * conflicts with every writer of the table first, so no enqueuing transaction is in flight; with a
   * short lock_timeout it gives up rather than stall enqueues behind a long transaction.
   */
  async collectEmptyQueues(): Promise<number> {
    try {
      return await inPgTransaction(this.#pool, async (client) => {
        await client.query("set local lock_timeout = '1s'");
        await client.query(`lock table ${this.#q}._private_job_queues in share row exclusive mode`);
        const result = await client.query(
          // skip locked: a concurrent fetch holds `for update` on available queue rows and then waits for
          // this table lock; waiting for its rows here would deadlock.
          `delete from ${this.#q}._private_job_queues
           where id in (
             select jq.id from ${this.#q}._private_job_queues as jq
             where jq.locked_at is null
               and not exists (select 1 from ${this.#q}._private_jobs as j where j.job_queue_id = jq.id)
             for update skip locked
           )`,
        );
        return result.rowCount ?? 0;
      });
    } catch (error) {
      if ((error as { code?: string }).code === "55P03") return 0; // lock_timeout: try next time
      throw error;
    }
  }

  #taskList(): TaskList {
    const tasks: TaskList = {};
    for (const [kind, handler] of Object.entries(this.#handlers)) {
      tasks[kind] = async (payload, helpers) => {
        const queueKey = helpers.job.job_queue_id === null ? null : await helpers.getQueueName();
        await handler({ id: String(helpers.job.id), kind, payload, attempt: helpers.job.attempts, queueKey });
      };
    }
    return tasks;
  }

  /** Starts a graphile-worker runner; if it ever exits on its own, starts a new one. */
  #launch(): void {
    const events = new EventEmitter();
    events.on("pool:create", ({ workerPool }: { workerPool: WorkerPool }) => {
      this.#workerPool = workerPool;
      // Sweepers spare a pool with no heartbeat row for a lease after its locks were taken, so
      // this first beat racing the pool's first claims is fine.
      void this.#beatAndSweep();
    });
    this.#starting = (async () => {
      try {
        const runner = await run({
          pgPool: this.#pool,
          schema: this.#schema,
          concurrency: this.#concurrency,
          pollInterval: this.#pollIntervalMs,
          noHandleSignals: true,
          logger: this.#graphileLog,
          events,
          taskList: this.#taskList(),
          parsedCronItems: [],
          // Batchers are flushed on shutdown; unbatched completions are fire-and-forget, so a stop()
          // could return (and the pool close) before a finished job was marked complete.
          // graphile-worker batches these lookups and writes with a delay (getQueueName: 50 ms) that
          // every conversation-lane job would wait for before its handler runs.
          preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0, getQueueNameBatchDelay: 0 } },
        });
        this.#runner = runner;
        runner.promise.then(
          () => this.#onRunnerExit(undefined),
          (error: unknown) => this.#onRunnerExit(error),
        );
      } catch (error) {
        this.#onRunnerExit(error);
      }
    })();
  }

  /**
   * A runner exits on its own after an error, or cleanly when graphile-worker hears of a breaking
   * migration on the database-wide `worker:migrate` channel — also another schema's first install,
   * i.e. another Hugo (or test suite) sharing the database. Either way a new runner starts: it
   * re-checks the schema version and refuses to run against one newer than it understands.
   */
  #onRunnerExit(error: unknown): void {
    if (this.#state !== "running") return;
    const poolId = this.#workerPool?.id;
    this.#runner = undefined;
    this.#workerPool = undefined;
    if (poolId) {
      // Its jobs were released by its graceful shutdown; the row would only wait for a sweep.
      this.#pool
        .query(`delete from ${this.#q}.hugo_worker_heartbeats where pool_id = $1`, [poolId])
        .catch(() => {});
    }
    const delay = error === undefined ? 250 : 5000;
    if (error === undefined) this.#log.warn({}, "jobs: the worker stopped on its own; restarting it");
    else this.#log.error({ err: error }, "jobs: the worker failed; restarting it in 5 s");
    this.#restartTimer = setTimeout(() => {
      if (this.#state === "running") this.#launch();
    }, delay);
    this.#restartTimer.unref();
  }

  #beatAndSweep(): Promise<void> {
    this.#beating ??= (async () => {
      try {
        await this.#beat();
        await this.#sweep();
      } catch (error) {
        this.#log.warn({ err: error }, "jobs: heartbeat or sweep failed");
      } finally {
        this.#beating = undefined;
      }
    })();
    return this.#beating;
  }

  async #beat(): Promise<void> {
    const poolId = this.#workerPool?.id;
    if (!poolId) return;
    await this.#pool.query(
      `insert into ${this.#q}.hugo_worker_heartbeats (pool_id, heartbeat_at) values ($1, now())
       on conflict (pool_id) do update set heartbeat_at = now()`,
      [poolId],
    );
  }

  /**
   * Releases the jobs of every pool presumed dead: its heartbeat is older than the lease, or it has
   * no heartbeat row and its locks are older than the lease (a pool that died before its first beat).
   * All times are the database's, so clock skew between nodes does not matter.
   */
  async #sweep(): Promise<void> {
    const self = this.#workerPool?.id ?? "";
    const lease = this.#leaseMs / 1000;
    const dead = await inPgTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<{ dead: string[] }>(
        `with stale as (
           delete from ${this.#q}.hugo_worker_heartbeats
           where heartbeat_at < now() - make_interval(secs => $1) and pool_id <> $2
           returning pool_id
         ), orphans as (
           select distinct locked_by as pool_id from ${this.#q}.jobs
           where locked_by is not null and locked_by <> $2
             and locked_at < now() - make_interval(secs => $1)
             and locked_by not in (select pool_id from ${this.#q}.hugo_worker_heartbeats)
         )
         select array(select pool_id from stale union select pool_id from orphans) as dead`,
        [lease, self],
      );
      const found = rows[0]?.dead ?? [];
      if (found.length > 0) {
        await client.query(`select ${this.#q}.force_unlock_workers($1::text[])`, [found]);
      }
      return found;
    });
    if (dead.length > 0) {
      this.#log.warn({ pools: dead }, "jobs: released the jobs of worker processes that stopped beating");
      this.#workerPool?.nudge(this.#concurrency);
    }
  }
}

/** Runs `fn` on one pooled client inside BEGIN … COMMIT (ROLLBACK on error), then releases it. */
async function inPgTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
