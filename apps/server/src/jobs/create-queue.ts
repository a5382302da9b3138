import type { JobLogger, JobQueue } from "../core/jobs.ts";
import type { Database } from "../db/database.ts";
import { PgJobQueue } from "./pg-queue.ts";
import { SqliteJobQueue } from "./sqlite-queue.ts";

export interface JobQueueOptions {
  /** Jobs this process runs at once. */
  concurrency: number;
  logger?: JobLogger | undefined;
  /** How often due retries and `runAt`s are looked for (new jobs are picked up at once). */
  pollIntervalMs?: number | undefined;
  /** How long a crashed worker's jobs stay claimed before another worker takes them (default 30 s). */
  leaseMs?: number | undefined;
  /** SQLite only: the first retry's delay (doubling after each failure). graphile-worker waits e^attempt s. */
  retryBaseMs?: number | undefined;
}

/**
 * The job queue for this database: graphile-worker on PostgreSQL (installing its schema), the local
 * queue on SQLite. Call after the database's own migrations.
 */
export async function createJobQueue(database: Database, options: JobQueueOptions): Promise<JobQueue> {
  if (database.dialect === "postgres") {
    if (!database.pool) throw new Error("a PostgreSQL database without a pool");
    return PgJobQueue.create(database.pool, options);
  }
  return new SqliteJobQueue(database.db, options);
}
