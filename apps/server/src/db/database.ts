import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import type { DB } from "./schema.ts";

export type Dialect = "sqlite" | "postgres";

export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  /** The raw better-sqlite3 handle (SQLite only), for prepared statements on the hottest paths. */
  sqlite: SQLite.Database | undefined;
  /** The pg pool (PostgreSQL only), shared with the job library and LISTEN/NOTIFY. */
  pool: pg.Pool | undefined;
  close(): Promise<void>;
}

// int8 (counts, ms timestamps) as JS numbers: every value Hugo stores fits in 2^53.
const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as "text");
  },
};

export interface OpenOptions {
  databaseUrl?: string | undefined;
  /** SQLite file; `:memory:` for a private in-memory database. */
  sqliteFile?: string;
  poolSize?: number;
}

export function openDatabase(options: OpenOptions): Database {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      types: pgTypes,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on("error", () => {});
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: "postgres", sqlite: undefined, pool, close: () => db.destroy() };
  }
  const file = options.sqliteFile ?? ":memory:";
  if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: "sqlite", sqlite, pool: undefined, close: () => db.destroy() };
}
