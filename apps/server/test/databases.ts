import { randomBytes } from "node:crypto";
import pg from "pg";
import { type Database, openDatabase } from "../src/db/database.ts";
import { migrateToLatest } from "../src/db/migrations.ts";

/** PostgreSQL for tests: TEST_DATABASE_URL, or the machine's server (CI always has one). */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestDatabase {
  database: Database;
  /** A DATABASE_URL pointing at this database (PostgreSQL only; SQLite uses `file`). */
  url: string | undefined;
  file: string | undefined;
  drop(): Promise<void>;
}

/** A fresh PostgreSQL schema: every suite gets its own, so suites run in parallel on one server. */
export async function freshPostgres(migrateTo?: string): Promise<TestDatabase> {
  const schema = `hugo_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = `${TEST_PG_URL}${TEST_PG_URL.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const database = openDatabase({ databaseUrl: url, poolSize: 5 });
  await migrateToLatest(database.db, database.dialect, migrateTo);
  return {
    database,
    url,
    file: undefined,
    async drop() {
      await database.close().catch(() => {});
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      // graphile-worker (the PostgreSQL job queue) keeps its tables in a sibling schema.
      await c.query(`drop schema if exists ${schema}_graphile_worker cascade`);
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

export async function freshSqlite(file = ":memory:", migrateTo?: string): Promise<TestDatabase> {
  const database = openDatabase({ sqliteFile: file });
  await migrateToLatest(database.db, database.dialect, migrateTo);
  return { database, url: undefined, file, drop: () => database.close() };
}

/** Both dialects, for `describe.each`: every store contract runs on SQLite and on PostgreSQL. */
export const DIALECTS = [
  { dialect: "sqlite", fresh: (migrateTo?: string) => freshSqlite(":memory:", migrateTo) },
  { dialect: "postgres", fresh: (migrateTo?: string) => freshPostgres(migrateTo) },
] as const;
