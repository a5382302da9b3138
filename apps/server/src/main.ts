import { kbImport } from "./cli/kb-import.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { DEMO_WEBSITE_KEY } from "./core/seed.ts";
import { openDatabase } from "./db/database.ts";
import { migrateToLatest } from "./db/migrations.ts";
import { createHugo } from "./server.ts";

const [major] = process.versions.node.split(".").map(Number);
if ((major ?? 0) < 22) {
  console.error(
    `Hugo needs Node.js 22 or newer (found ${process.version}). Run scripts/node24.sh to fetch Node 24.`,
  );
  process.exit(1);
}

async function serve() {
  const config = loadConfig(process.env);
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
  const lines = [`Hugo is running at ${base}  (database: ${db})`, `  API reference: ${base}/api/docs`];
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

async function migrate() {
  const config = loadConfig(process.env);
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    sqliteFile: config.sqliteFile,
  });
  const applied = await migrateToLatest(database.db, database.dialect);
  console.log(applied.length ? `Applied: ${applied.join(", ")}` : "Schema is up to date.");
  await database.close();
}

/** `hugo kb import …`: the knowledge base's commands. */
async function kb() {
  const [sub, ...rest] = process.argv.slice(3);
  if (sub !== "import") {
    console.error(`Usage: hugo kb import <folder|file.jsonl> [options]   (hugo kb import --help)`);
    process.exit(sub === undefined || sub === "--help" || sub === "-h" ? 0 : 2);
  }
  process.exit(await kbImport(rest, process.env));
}

const commands: Record<string, () => Promise<void>> = { serve, migrate, kb };
const name = process.argv[2] ?? "serve";
const command = commands[name];
if (!command || name === "--help" || name === "-h") {
  console.log(
    "Usage: hugo <command>\n\n  serve      start the server (default)\n  migrate    apply database migrations and exit\n  kb import  add a folder's documents or a JSON Lines file to a running Hugo's knowledge base",
  );
  process.exit(command || name === "--help" || name === "-h" ? 0 : 1);
}
command().catch((error) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
