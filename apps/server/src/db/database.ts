import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect } from "kysely";
import pg from "pg";
import type { DB } from "./schema.ts";
import { startWalCheckpointer } from "./wal-checkpointer.ts";

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
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
  if (file === ":memory:")
    return { db, dialect: "sqlite", sqlite, pool: undefined, close: () => db.destroy() };
  // Checkpoints run off the main thread; the main connection's own automatic checkpoint stays as a
  // safety net (should the worker stop) at 10,000 pages instead of 1,000.
  sqlite.pragma("wal_autocheckpoint = 10000");
  const checkpointer = startWalCheckpointer(file);
  return {
    db,
    dialect: "sqlite",
    sqlite,
    pool: undefined,
    close: async () => {
      await checkpointer.close();
      await db.destroy();
    },
  };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query afresh. Preparing costs tens of microseconds, and
 * better-sqlite3 statements hold native memory the GC is slow to reclaim (measured: ~9 KB each,
 * none collected after 15k prepares). Hugo's queries come from a fixed set of builders, so an LRU
 * of prepared statements keyed by SQL text serves nearly every query. Safe because better-sqlite3
 * runs one statement at a time on one connection and Hugo never streams (iterates) a statement.
 */
function cachingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}
