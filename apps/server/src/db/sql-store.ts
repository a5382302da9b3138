import { type Kysely, PostgresAdapter } from "kysely";
import type { DB } from "./schema.ts";
import { executor } from "./tx-context.ts";

/** Whether `db` talks to PostgreSQL (row locks, data-modifying CTEs) rather than SQLite. */
export const isPostgres = (db: Kysely<DB>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

/** Base of every store: queries run in the caller's transaction when there is one (tx-context.ts). */
export abstract class SqlStore {
  readonly #root: Kysely<DB>;
  constructor(db: Kysely<DB>) {
    this.#root = db;
  }
  protected get db(): Kysely<DB> {
    return executor(this.#root);
  }
  /** Row locks (`for update`) exist on PostgreSQL; SQLite has one writer and no such syntax. */
  protected get rowLocks(): boolean {
    return isPostgres(this.#root);
  }
}
