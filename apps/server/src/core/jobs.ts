import type { Stores } from "./ports.ts";

/**
 * The durable job queue port. Two implementations share one contract suite
 * (`jobs/queue.contract.test.ts`): graphile-worker on PostgreSQL, a small local queue on SQLite.
 * See `jobs/ARCHITECTURE.md` for the invariants and crash-recovery timing.
 */

export interface NewJob {
  /** Which handler runs it (≤ 128 characters). */
  kind: string;
  /** Any JSON value; stored as JSON, so `Date`s and `undefined` do not survive. */
  payload: unknown;
  /**
   * Serial lane, e.g. the conversation's session_id: jobs with the same key never run at the same
   * time, and start in order of `runAt`, then enqueue order. A job waiting for a retry does not hold
   * up the jobs queued behind it. ≤ 128 characters.
   */
  queueKey?: string | undefined;
  /**
   * Dedupe: while a job with this key exists (waiting, running, retrying, or failed for good), enqueuing
   * another one with the same key is a no-op — the first job's payload and schedule stand. Once
   * the job has completed, the key is free again. ≤ 512 characters.
   */
  jobKey?: string | undefined;
  /** Earliest start, in epoch milliseconds; default now. */
  runAt?: number | undefined;
  /** Attempts before the job is marked failed for good (default 25). A crash mid-run uses one up. */
  maxAttempts?: number | undefined;
}

/** What a handler receives. */
export interface JobRun {
  /**
   * Stable for the job's whole life (every retry, every re-run after a crash) and never reused:
   * derive idempotency keys of visible effects from it, e.g. a message fingerprint or an
   * `effect:${id}` marker written in the same transaction as the effect.
   */
  id: string;
  kind: string;
  payload: unknown;
  /** 1 on the first run; a run interrupted by a crash counts as an attempt. */
  attempt: number;
  queueKey: string | null;
}

/**
 * Runs one job. Resolve to complete it; throw to retry it later with exponential backoff.
 *
 * Delivery is AT LEAST ONCE: after a crash (or a worker that stalls past its lease) a job that had
 * already started — or even finished its work but not yet been marked complete — runs again. Every
 * effect a visitor or an external system can see must therefore be idempotent, keyed by `job.id`
 * (or by the `jobKey`): write the effect and an "already done" marker in one transaction, or pass an
 * idempotency key derived from the job id to the external call.
 */
export type JobHandler = (job: JobRun) => Promise<void>;

export interface FailedJob {
  id: string;
  kind: string;
  queueKey: string | null;
  attempts: number;
  lastError: string | null;
}

export interface JobStats {
  /** Waiting to run (including those waiting for a retry or a future `runAt`). */
  pending: number;
  /** Claimed by a worker (running, or held by a crashed worker until its lease expires). */
  running: number;
  /** Gave up after `maxAttempts`; kept with their last error for an operator to inspect. */
  failed: number;
}

export interface JobQueue {
  /**
   * Adds a job through `tx.executor`, so it commits — or rolls back — with the caller's
   * transaction: pass the `tx` of `stores.transaction(...)` that makes the state change the job
   * follows up on. The worker sees the job only once that transaction has committed.
   */
  enqueue(tx: Stores, job: NewJob): Promise<void>;
  /** Starts the in-process worker with one handler per job kind; jobs of other kinds wait. */
  start(handlers: Record<string, JobHandler>): void;
  /** Stops taking jobs and waits for the running ones to finish. Safe to call more than once. */
  stop(): Promise<void>;
  stats(): Promise<JobStats>;
  /** Jobs that gave up, oldest first. */
  listFailed(limit?: number): Promise<FailedJob[]>;
}

/** Logger the queues write to; Fastify's (pino) logger fits. */
export interface JobLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentJobLogger: JobLogger = { debug() {}, warn() {}, error() {} };

export const DEFAULT_MAX_ATTEMPTS = 25;

/** Checks a job against the limits both implementations share; throws on a programming error. */
export function checkNewJob(job: NewJob): void {
  const text = (name: string, value: string | undefined, max: number) => {
    if (value === undefined) return;
    if (typeof value !== "string" || value.length === 0 || value.length > max) {
      throw new RangeError(`job ${name} must be a non-empty string of at most ${max} characters`);
    }
  };
  text("kind", job.kind, 128);
  text("queueKey", job.queueKey, 128);
  text("jobKey", job.jobKey, 512);
  if (job.maxAttempts !== undefined && !(Number.isInteger(job.maxAttempts) && job.maxAttempts >= 1)) {
    throw new RangeError("job maxAttempts must be an integer >= 1");
  }
  if (job.maxAttempts !== undefined && job.maxAttempts > 32_767) {
    throw new RangeError("job maxAttempts must be at most 32767");
  }
  if (job.runAt !== undefined && !Number.isFinite(job.runAt)) {
    throw new RangeError("job runAt must be a finite epoch-milliseconds number");
  }
}

/** A thrown value as the one-line message stored in `last_error`. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
