import fs from "node:fs";
import { type Command, runCommand, UsageError, usage } from "./cli/command.ts";
import { kbImport } from "./cli/kb-import.ts";
import { kbReindex } from "./cli/kb-reindex.ts";
import { tokenCreate, tokenList, tokenRevoke } from "./cli/token.ts";
import { triggerAgent, triggerWorkflow } from "./cli/trigger.ts";
import { workflowDeploy, workflowExport, workflowImport, workflowList } from "./cli/workflow.ts";
import { loadConfig } from "./config.ts";
import { DEMO_WEBSITE_KEY } from "./core/seed.ts";
import { openDatabase } from "./db/database.ts";
import { migrateToLatest } from "./db/migrations.ts";

const [major] = process.versions.node.split(".").map(Number);
if ((major ?? 0) < 22) {
  console.error(
    `Hugo needs Node.js 22 or newer (found ${process.version}). Run scripts/node24.sh to fetch Node 24.`,
  );
  process.exit(1);
}

async function startServer() {
  const config = loadConfig(process.env);
  // Loaded here: the server's dependencies are most of the CLI's start-up time.
  const { createHugo } = await import("./server.ts");
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

const serve: Command = {
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

const migrate: Command = {
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

const COMMANDS: Command[] = [
  serve,
  migrate,
  tokenCreate,
  tokenList,
  tokenRevoke,
  kbImport,
  kbReindex,
  workflowList,
  workflowExport,
  workflowImport,
  workflowDeploy,
  triggerAgent,
  triggerWorkflow,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "Usage: hugo <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Every command takes --help, and --json for machine-readable output. Exit codes: 0 done,",
    "1 failed, 2 wrong command line. Commands that talk to a running Hugo read --url/--token, else",
    "$HUGO_URL/$HUGO_TOKEN.",
    "",
  ].join("\n");
}

/** The command named by the longest prefix of `words`, and the rest of the arguments. */
function lookup(words: string[]): { command: Command; rest: string[] } | undefined {
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const name = words.slice(0, n).join(" ");
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: words.slice(n) };
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined) return runCommand(serve, [], process.env);
  if (first === "--help" || first === "-h" || first === "help") {
    const target = argv.length > 1 ? lookup(argv.slice(1)) : undefined;
    process.stdout.write(target ? usage(target.command) : overview());
    return target || argv.length === 1 ? 0 : 2;
  }
  if (first === "--version" || first === "-v") {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    process.stdout.write(`hugo ${pkg.version} (Node ${process.version})\n`);
    return 0;
  }
  const found = lookup(argv);
  if (!found) {
    // A group name alone (`hugo token`) lists its commands.
    const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    const known = group.length > 0 && argv.length === 1;
    const stream = known ? process.stdout : process.stderr;
    if (!known) stream.write(`hugo: unknown command '${argv.join(" ")}'\n\n`);
    stream.write(
      group.length > 0
        ? `${group.map((c) => `  hugo ${c.name.padEnd(16)}${c.summary}`).join("\n")}\n`
        : overview(),
    );
    return known ? 0 : 2;
  }
  return runCommand(found.command, found.rest, process.env);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
