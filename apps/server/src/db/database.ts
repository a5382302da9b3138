import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect } from "kysely";
import pg from "pg";
import type { DB } from "./schema.ts";
import { startWalCheckpointer, type WalCheckpointer } from "./wal-checkpointer.ts";

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
  // Under write load, checkpoints move off the main thread (see wal-checkpointer.ts). An idle or
  // lightly used server never starts the worker and keeps SQLite's own checkpoint.
  const walWatch = watchWal(sqlite, file);
  return {
    db,
    dialect: "sqlite",
    sqlite,
    pool: undefined,
    close: async () => {
      await walWatch.close();
      await db.destroy();
    },
  };
}

// A WAL past this size means sustained writes: worth a checkpoint thread (~4 MB at 4 KiB pages).
const WAL_BUSY_BYTES = 4 * 1024 * 1024;

function watchWal(sqlite: SQLite.Database, file: string): { close(): Promise<void> } {
  let checkpointer: WalCheckpointer | undefined;
  const timer = setInterval(() => {
    let size = 0;
    try {
      size = fs.statSync(`${file}-wal`).size;
    } catch {
      return;
    }
    if (size < WAL_BUSY_BYTES) return;
    clearInterval(timer);
    checkpointer = startWalCheckpointer(file);
    // The main connection's own checkpoint stays as a safety net, should the worker stop.
    sqlite.pragma("wal_autocheckpoint = 10000");
  }, 1000);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await checkpointer?.close();
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
