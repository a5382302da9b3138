import type { Kysely } from "kysely";
import type { DB } from "./schema.ts";
import { executor } from "./tx-context.ts";

/** Base of every store: queries run in the caller's transaction when there is one (tx-context.ts). */
export abstract class SqlStore {
  readonly #root: Kysely<DB>;
  constructor(db: Kysely<DB>) {
    this.#root = db;
  }
  protected get db(): Kysely<DB> {
    return executor(this.#root);
  }
}
