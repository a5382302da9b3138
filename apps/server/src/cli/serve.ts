import { loadConfig } from "../config.ts";
import { DEMO_WEBSITE_KEY } from "../core/seed.ts";
import { openDatabase } from "../db/database.ts";
import { migrateToLatest } from "../db/migrations.ts";
import { dashboardBuilt } from "../http/routes/dashboard.ts";
import { type Command, UsageError } from "./command.ts";

async function startServer() {
  const config = loadConfig(process.env);
  // Loaded here: the server's dependencies are most of the CLI's start-up time.
  const { createHugo } = await import("../server.ts");
  const hugo = await createHugo(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    hugo.app.log.info(`${signal}: draining requests and jobs`);
    const timer = setTimeout(() => {
      console.error(
        `Shutdown took longer than ${config.shutdownTimeoutMs} ms (still ${hugo.closingStep}); exiting.`,
      );
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    await hugo.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  const address = await hugo.listen();
  // With PORT=0 the OS picks the port: print the real one.
  const base = config.port === 0 ? address.replace("0.0.0.0", "127.0.0.1") : config.publicUrl;
  const db = config.databaseUrl ? "PostgreSQL" : `SQLite (${config.sqliteFile})`;
  const dashboard = !dashboardBuilt()
    ? "  (not built: npm run build -w @hugo/dashboard)"
    : hugo.seed
      ? "  (sign in with the owner login below)"
      : (await hugo.services.sessions.setupNeeded())
        ? "  (first run: create the owner account there)"
        : "";
  const lines = [
    `Hugo is running at ${base}  (database: ${db})`,
    `  Dashboard:     ${base}/app/${dashboard}`,
    `  API reference: ${base}/api/docs`,
  ];
  if (hugo.seed || (await hugo.stores.kv.get(DEMO_WEBSITE_KEY)))
    lines.push(
      `  Demo page:     ${base}/demo  (chat widget, a workflow button, the agent trigger from a backend)`,
    );
  if (hugo.seed) {
    const s = hugo.seed;
    lines.push(
      "",
      "First start: a demo website was created. These secrets are shown ONCE — copy them now.",
      `  Website id:      ${s.websiteId}`,
      `  Owner login:     ${s.ownerEmail} / ${s.ownerPassword}`,
      `  API token:       ${s.token.token}`,
      `  (Crisp REST v1:  identifier ${s.token.identifier}, key ${s.token.key})`,
      `  Demo session:    ${s.sessionId}`,
      "",
      "Try it:",
      `  curl -s ${base}/v1/website/${s.websiteId}/conversation/${s.sessionId}/messages -H 'Authorization: Bearer ${s.token.token}'`,
      `  curl -s ${base}/v1/website/${s.websiteId}/conversation/${s.sessionId}/message -H 'Authorization: Bearer ${s.token.token}' \\`,
      `       -H 'Content-Type: application/json' -d '{"type":"text","from":"operator","origin":"chat","content":"Hello from the API"}'`,
      "",
      "The AI agent answers the demo visitor's question from the demo knowledge base at once (list the",
      "messages above). Ask it to step in from your backend — the seed's other call:",
      `  curl -s ${base}/api/agent/trigger/ -H 'Authorization: Bearer ${s.token.token}' \\`,
      `       -H 'Content-Type: application/json' -d '{"session_id":"${s.sessionId}","instruction":"VIP customer, premium support"}'`,
      "",
      "Demo workflows (deployed):",
      ...s.workflows.map((w) => `  ${w.name.padEnd(17)}${w.workflow_id}`),
      "Trigger one in the demo conversation (the seed's call):",
      `  curl -s ${base}/api/scenario/${s.workflows[0]?.workflow_id}/trigger/ -H 'Authorization: Bearer ${s.token.token}' \\`,
      `       -H 'Content-Type: application/json' -d '{"session_id":"${s.sessionId}"}'`,
    );
  }
  console.log(lines.join("\n"));
}

export const serve: Command = {
  name: "serve",
  summary: "Start Hugo: the API, the widget, realtime and the job worker (the default command).",
  synopsis: "[options]",
  help: `  Configured by environment variables (PORT, DATABASE_URL, DATA_DIR, PUBLIC_URL, …): see
  docs/CONFIGURATION.md. Stops gracefully on SIGTERM and SIGINT.
`,
  options: {},
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    await startServer();
    // Keeps running until a signal stops it.
    return new Promise<number>(() => {});
  },
};

export const migrate: Command = {
  name: "migrate",
  summary: "Apply the database migrations and exit.",
  synopsis: "[options]",
  help: "  Uses the same configuration as `hugo serve` (DATABASE_URL, else DATA_DIR's SQLite file).\n",
  options: {},
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const config = loadConfig(ctx.env);
    const database = openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: config.sqliteFile });
    try {
      const applied = await migrateToLatest(database.db, database.dialect);
      ctx.print({ applied }, ({ applied }) =>
        applied.length ? `Applied: ${applied.join(", ")}` : "Schema is up to date.",
      );
    } finally {
      await database.close();
    }
    return 0;
  },
};
