import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../src/config.ts";
import type { DemoSeed } from "../src/core/seed.ts";
import { createHugo, type Hugo } from "../src/server.ts";
import { freshPostgres, type TestDatabase } from "./databases.ts";

export interface RunningHugo {
  hugo: Hugo;
  url: string;
  seed: DemoSeed;
  dataDir: string;
  /** The server's DATABASE_URL (PostgreSQL), for another process to reach the same database. */
  databaseUrl: string | undefined;
  stop(): Promise<void>;
}

/** A real Hugo listening on loopback, on SQLite (a temp file) or a fresh PostgreSQL schema. */
export async function startHugo(
  dialect: "sqlite" | "postgres" = "sqlite",
  env: Record<string, string> = {},
): Promise<RunningHugo> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-test-"));
  let pgdb: TestDatabase | undefined;
  if (dialect === "postgres") pgdb = await freshPostgres();
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    ...(pgdb?.url ? { DATABASE_URL: pgdb.url } : {}),
    ...env,
  });
  // Migration already ran on the schema; the pool here is only for the schema helper.
  if (pgdb) await pgdb.database.close();
  const hugo = await createHugo(config);
  const address = await hugo.listen();
  if (!hugo.seed) throw new Error("expected a demo seed on a fresh database");
  return {
    hugo,
    url: address.replace("0.0.0.0", "127.0.0.1"),
    seed: hugo.seed,
    dataDir,
    databaseUrl: pgdb?.url,
    async stop() {
      await hugo.close();
      if (pgdb) await pgdb.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A free loopback port (closed again at once). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Hugo whose PUBLIC_URL is its real address, for what it hands out to call it (snippets). */
export async function startOnPublicUrl(dialect: "sqlite" | "postgres" = "sqlite"): Promise<RunningHugo> {
  const port = await freePort();
  return startHugo(dialect, { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
}
