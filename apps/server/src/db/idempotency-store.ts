import type { IdempotencyClaim, IdempotencyStore } from "../core/ports.ts";
import { isUniqueViolation } from "./sql-errors.ts";
import { SqlStore } from "./sql-store.ts";

export class SqlIdempotencyStore extends SqlStore implements IdempotencyStore {
  async claim(
    scope: string,
    key: string,
    requestHash: string,
    now: number,
    staleBefore: number,
  ): Promise<IdempotencyClaim> {
    try {
      // The primary key makes exactly one of several concurrent claims win.
      await this.db
        .insertInto("idempotency_keys")
        .values({ scope, key, request_hash: requestHash, status: null, response: null, created_at: now })
        .execute();
      return { state: "claimed" };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    const row = await this.db
      .selectFrom("idempotency_keys")
      .selectAll()
      .where("scope", "=", scope)
      .where("key", "=", key)
      .executeTakeFirst();
    if (!row) return this.claim(scope, key, requestHash, now, staleBefore);
    if (row.status !== null && row.response !== null) {
      return { state: "done", requestHash: row.request_hash, status: row.status, response: row.response };
    }
    if (row.created_at < staleBefore && row.request_hash === requestHash) {
      // The process that claimed it died before answering: take the claim over (compare-and-set on created_at).
      const res = await this.db
        .updateTable("idempotency_keys")
        .set({ created_at: now })
        .where("scope", "=", scope)
        .where("key", "=", key)
        .where("created_at", "=", row.created_at)
        .where("status", "is", null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) return { state: "claimed" };
    }
    return { state: "pending", requestHash: row.request_hash };
  }

  async complete(scope: string, key: string, status: number, response: string): Promise<void> {
    await this.db
      .updateTable("idempotency_keys")
      .set({ status, response })
      .where("scope", "=", scope)
      .where("key", "=", key)
      .execute();
  }

  async release(scope: string, key: string): Promise<void> {
    await this.db
      .deleteFrom("idempotency_keys")
      .where("scope", "=", scope)
      .where("key", "=", key)
      .where("status", "is", null)
      .execute();
  }

  async purge(before: number): Promise<number> {
    const res = await this.db
      .deleteFrom("idempotency_keys")
      .where("created_at", "<", before)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
