import type { KvStore, Website, WebsiteStore } from "../core/ports.ts";
import { SqlStore } from "./sql-store.ts";

const columns = ["id", "name", "domain", "created_at"] as const;

export class SqlWebsiteStore extends SqlStore implements WebsiteStore {
  async create(w: Website): Promise<void> {
    await this.db
      .insertInto("websites")
      .values({ ...w, last_seq: 0 })
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
