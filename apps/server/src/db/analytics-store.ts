import { sql } from "kysely";
import type { AnalyticsStore } from "../core/ports.ts";
import { SqlStore } from "./sql-store.ts";

/**
 * Aggregates for the dashboard's analytics. Each is one grouped scan of an index on
 * (website_id, time) — migration 0012 — with the bucket computed in SQL: integer division of the
 * offset from the window's start, the same on SQLite and PostgreSQL (bigint / bigint).
 */
export class SqlAnalyticsStore extends SqlStore implements AnalyticsStore {
  async conversationsPerBucket(websiteId: string, from: number, to: number, bucketMs: number) {
    const rows = await this.db
      .selectFrom("conversations")
      .select([
        sql<number>`(created_at - ${sql.lit(from)}) / ${sql.lit(bucketMs)}`.as("bucket"),
        (eb) => eb.fn.countAll<number>().as("n"),
      ])
      .where("website_id", "=", websiteId)
      .where("created_at", ">=", from)
      .where("created_at", "<", to)
      .groupBy("bucket")
      .execute();
    return rows.map((r) => ({ bucket: Number(r.bucket), n: Number(r.n) }));
  }

  async turnsPerBucket(websiteId: string, from: number, to: number, bucketMs: number) {
    const rows = await this.db
      .selectFrom("agent_turns")
      .select([
        sql<number>`(created_at - ${sql.lit(from)}) / ${sql.lit(bucketMs)}`.as("bucket"),
        "status",
        (eb) => eb.fn.countAll<number>().as("n"),
      ])
      .where("website_id", "=", websiteId)
      .where("created_at", ">=", from)
      .where("created_at", "<", to)
      .where("status", "!=", "queued")
      .groupBy(["bucket", "status"])
      .execute();
    return rows.map((r) => ({ bucket: Number(r.bucket), status: r.status, n: Number(r.n) }));
  }

  async runsPerBucket(websiteId: string, from: number, to: number, bucketMs: number) {
    const rows = await this.db
      .selectFrom("workflow_runs")
      .select([
        sql<number>`(started_at - ${sql.lit(from)}) / ${sql.lit(bucketMs)}`.as("bucket"),
        "workflow_id",
        "status",
        (eb) => eb.fn.countAll<number>().as("n"),
      ])
      .where("website_id", "=", websiteId)
      .where("started_at", ">=", from)
      .where("started_at", "<", to)
      .where("test", "=", 0)
      .groupBy(["bucket", "workflow_id", "status"])
      .execute();
    return rows.map((r) => ({
      bucket: Number(r.bucket),
      workflow_id: r.workflow_id,
      status: r.status,
      n: Number(r.n),
    }));
  }

  async escalatedTurns(websiteId: string, from: number, to: number, limit: number) {
    const rows = await this.db
      .selectFrom("agent_turns")
      .select(["session_id", "created_at", "trace"])
      .where("website_id", "=", websiteId)
      .where("created_at", ">=", from)
      .where("created_at", "<", to)
      .where("status", "=", "escalated")
      .orderBy("created_at", "desc")
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, created_at: Number(r.created_at) }));
  }
}
