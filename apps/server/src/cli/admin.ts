import { loadConfig, loadSecret } from "../config.ts";
import { TokenService } from "../core/tokens.ts";
import { WebsiteService } from "../core/websites.ts";
import { openDatabase } from "../db/database.ts";
import { migrateToLatest } from "../db/migrations.ts";
import { createStores } from "../db/stores.ts";
import { CliError } from "./command.ts";

/**
 * Direct access to Hugo's database for administrative commands that must work before any API
 * token exists (creating the first one): the same configuration as `hugo serve` (DATABASE_URL or
 * DATA_DIR's SQLite file), the same stores and services, no HTTP server.
 */
export async function openAdmin(env: NodeJS.ProcessEnv) {
  const config = loadConfig(env);
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    sqliteFile: config.sqliteFile,
    poolSize: 2,
  });
  try {
    await migrateToLatest(database.db, database.dialect);
  } catch (error) {
    await database.close();
    throw new CliError(`cannot open the database: ${(error as Error).message}`, "database");
  }
  const stores = createStores(database.db, database.sqlite);
  return {
    stores,
    // With the server secret, a token made here is sealed like one made by the API (shown again in the dashboard).
    tokens: new TokenService(stores, loadSecret(config)),
    websites: new WebsiteService(stores),
    /** The website a command acts on: `--website`, else the only one there is. */
    async website(id: string | undefined): Promise<string> {
      if (id) return (await this.websites.get(id)).id;
      const all = await stores.websites.list();
      if (all.length === 1) return all[0]!.id;
      if (all.length === 0)
        throw new CliError(
          "there is no website yet: start Hugo once (`hugo serve`) to create one",
          "no_website",
        );
      throw new CliError(
        `there are ${all.length} websites; name one with --website:\n${all.map((w) => `  ${w.id}  ${w.name}`).join("\n")}`,
        "website_ambiguous",
        "website",
      );
    },
    close: () => database.close(),
  };
}

export type Admin = Awaited<ReturnType<typeof openAdmin>>;

/** Opens the database, runs `work`, always closes it. */
export async function withAdmin<T>(env: NodeJS.ProcessEnv, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = await openAdmin(env);
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}
