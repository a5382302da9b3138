import { sql } from "kysely";
import type { WebhookRecord, WebhookStore } from "../core/ports.ts";
import type { WebhooksTable } from "./schema.ts";
import { SqlStore } from "./sql-store.ts";

const toHook = (r: WebhooksTable): WebhookRecord => ({ ...r, events: JSON.parse(r.events) });

export class SqlWebhookStore extends SqlStore implements WebhookStore {
  async create(hook: WebhookRecord): Promise<void> {
    await this.db
      .insertInto("webhooks")
      .values({ ...hook, events: JSON.stringify(hook.events) })
      .execute();
  }
  async list(websiteId: string): Promise<WebhookRecord[]> {
    const rows = await this.db
      .selectFrom("webhooks")
      .selectAll()
      .where("website_id", "=", websiteId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toHook);
  }
  async remove(websiteId: string, id: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom("webhooks")
      .where("website_id", "=", websiteId)
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
  async websitesWithHooks(): Promise<string[]> {
    const rows = await this.db.selectFrom("webhooks").select("website_id").distinct().execute();
    return rows.map((r) => r.website_id);
  }
  async recordAttempt(id: string, deliveredSeq: number, error: string | null, at: number): Promise<void> {
    await this.db
      .updateTable("webhooks")
      .set({
        delivered_seq: sql<number>`case when delivered_seq > ${deliveredSeq} then delivered_seq else ${deliveredSeq} end`,
        last_error: error,
        last_attempt_at: at,
      })
      .where("id", "=", id)
      .execute();
  }
}
