import type { KvStore, Website, WebsiteStore } from "../core/ports.ts";
import { SqlStore } from "./sql-store.ts";

const columns = ["id", "name", "domain", "created_at"] as const;

export class SqlWebsiteStore extends SqlStore implements WebsiteStore {
  async create(w: Website): Promise<void> {
    await this.db
      .insertInto("websites")
      .values({ ...w, last_seq: 0, widget_allowed_origins: "[]" })
      .execute();
  }
  find(id: string): Promise<Website | undefined> {
    return this.db.selectFrom("websites").select(columns).where("id", "=", id).executeTakeFirst();
  }
  list(): Promise<Website[]> {
    return this.db.selectFrom("websites").select(columns).orderBy("created_at").execute();
  }
  async update(id: string, patch: Partial<Pick<Website, "name" | "domain">>): Promise<Website | undefined> {
    if (Object.keys(patch).length === 0) return this.find(id);
    return this.db
      .updateTable("websites")
      .set(patch)
      .where("id", "=", id)
      .returning(columns)
      .executeTakeFirst();
  }
  async findWidgetOrigins(id: string): Promise<string[] | undefined> {
    const row = await this.db
      .selectFrom("websites")
      .select("widget_allowed_origins")
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? (JSON.parse(row.widget_allowed_origins) as string[]) : undefined;
  }
  async setWidgetOrigins(id: string, origins: string[]): Promise<boolean> {
    const result = await this.db
      .updateTable("websites")
      .set({ widget_allowed_origins: JSON.stringify(origins) })
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

export class SqlKvStore extends SqlStore implements KvStore {
  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom("kv").select("value").where("key", "=", key).executeTakeFirst();
    return row?.value;
  }
  async setIfAbsent(key: string, value: string): Promise<string> {
    await this.db
      .insertInto("kv")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
    return (await this.get(key)) as string;
  }
}
