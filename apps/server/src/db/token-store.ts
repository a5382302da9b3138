import type { TokenRecord, TokenStore } from "../core/ports.ts";
import { toToken } from "./rows.ts";
import { SqlStore } from "./sql-store.ts";

export class SqlTokenStore extends SqlStore implements TokenStore {
  async create(t: TokenRecord): Promise<void> {
    await this.db
      .insertInto("api_tokens")
      .values({ ...t, scopes: JSON.stringify(t.scopes) })
      .execute();
  }
  async find(id: string): Promise<TokenRecord | undefined> {
    const row = await this.db.selectFrom("api_tokens").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toToken(row);
  }
  async list(websiteId: string): Promise<TokenRecord[]> {
    const rows = await this.db
      .selectFrom("api_tokens")
      .selectAll()
      .where("website_id", "=", websiteId)
      .orderBy("created_at", "desc")
      .orderBy("id")
      .execute();
    return rows.map(toToken);
  }
  async revoke(websiteId: string, id: string, at: number): Promise<boolean> {
    const res = await this.db
      .updateTable("api_tokens")
      .set({ revoked_at: at })
      .where("website_id", "=", websiteId)
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
  async touch(id: string, at: number): Promise<void> {
    await this.db.updateTable("api_tokens").set({ last_used_at: at }).where("id", "=", id).execute();
  }
}
