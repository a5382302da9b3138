import type { WidgetFileRecord, WidgetFileStore } from "../core/ports.ts";
import { SqlStore } from "./sql-store.ts";

const columns = ["id", "website_id", "session_id", "name", "type", "size", "created_at"] as const;

export class SqlWidgetFileStore extends SqlStore implements WidgetFileStore {
  async create(file: WidgetFileRecord, data: Uint8Array): Promise<void> {
    await this.db
      .insertInto("widget_files")
      .values({ ...file, data })
      .execute();
  }

  async find(websiteId: string, id: string): Promise<(WidgetFileRecord & { data: Uint8Array }) | undefined> {
    const row = await this.db
      .selectFrom("widget_files")
      .select([...columns, "data"])
      .where("website_id", "=", websiteId)
      .where("id", "=", id)
      .executeTakeFirst();
    return row && { ...row, size: Number(row.size), created_at: Number(row.created_at) };
  }
}
