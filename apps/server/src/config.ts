import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { randomHex } from "./core/crypto.ts";
import type { WidgetRateLimits } from "./http/routes/widget.ts";

/**
 * Every environment variable Hugo reads, parsed once at boot. README's configuration table is
 * checked against this list by a test. Only apps read process.env; everything else gets `Config`.
 */
export const ENV_VARS = {
  PORT: { default: "8080", doc: "TCP port the HTTP and WebSocket server listens on." },
  HOST: { default: "0.0.0.0", doc: "Interface to bind." },
  DATA_DIR: { default: "./data", doc: "Folder for the SQLite database file and the server secret." },
  DATABASE_URL: {
    default: "(unset)",
    doc: "`postgres://…` to run on PostgreSQL instead of the embedded SQLite file.",
  },
  PUBLIC_URL: {
    default: "http://localhost:$PORT",
    doc: "Base URL printed in links and snippets (what browsers and backends use to reach Hugo).",
  },
  HUGO_SECRET: {
    default: "(generated into DATA_DIR/secret)",
    doc: "Server secret (≥ 32 chars) signing visitor credentials; set it when several processes share a database.",
  },
  BODY_LIMIT: { default: "1048576", doc: "Largest accepted request body, in bytes." },
  SEED_DEMO: { default: "true", doc: "Seed a demo website, owner and API token on the first start." },
  LOG_LEVEL: { default: "info", doc: "fatal, error, warn, info, debug, trace or silent." },
  JOB_CONCURRENCY: {
    default: "4",
    doc: "Jobs the in-process worker runs at once. An agent turn with an LLM provider holds one for its whole answer (seconds): raise it when many conversations are answered by an LLM at once.",
  },
  WORKER: { default: "true", doc: "Run the job worker in this process." },
  JOB_LEASE_MS: {
    default: "30000",
    doc: "PostgreSQL: how long a crashed process's running jobs stay claimed before another process (or its restart) runs them again. SQLite releases them at the next start.",
  },
  WS_PING_INTERVAL_MS: {
    default: "30000",
    doc: "WebSocket ping interval; a peer missing one pong is closed.",
  },
  WS_MAX_BUFFERED_BYTES: {
    default: "1048576",
    doc: "A WebSocket whose unsent buffer exceeds this is closed (it reconnects and replays).",
  },
  SHUTDOWN_TIMEOUT_MS: { default: "15000", doc: "How long SIGTERM waits for requests and jobs to drain." },
  OUTBOUND_ALLOW_HOSTS: {
    default: "(empty)",
    doc: "Comma-separated hosts that outbound requests (web hooks) may reach even though they resolve to private or loopback addresses; everything else private is refused (SSRF guard).",
  },
  WEBHOOK_TIMEOUT_MS: { default: "10000", doc: "Timeout of one web hook delivery." },
  BOT_NAME: { default: "Hugo", doc: "The name workflow messages are sent under." },
  WIDGET_SESSIONS_PER_IP_PER_MINUTE: {
    default: "60",
    doc: "Chat widget: new or resumed visitor sessions a minute from one IP address (one per page view). Widget limits are counted in each process; `0` turns a limit off.",
  },
  WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE: {
    default: "60",
    doc: "Chat widget: messages a minute from one visitor, and as many picker and field answers.",
  },
  WIDGET_UPDATES_PER_VISITOR_PER_MINUTE: {
    default: "120",
    doc: "Chat widget: visitor data changes (`set user:*`, `session:data`, `session:segments`, `session:event`) a minute from one visitor.",
  },
  WIDGET_SCENARIO_RUNS_PER_IP_PER_MINUTE: {
    default: "60",
    doc: "Chat widget: `bot:scenario:run` calls a minute from one IP address.",
  },
  WIDGET_SCENARIO_RUNS_PER_VISITOR_PER_MINUTE: {
    default: "10",
    doc: "Chat widget: `bot:scenario:run` calls a minute from one visitor.",
  },
  WIDGET_SEARCHES_PER_IP_PER_MINUTE: {
    default: "300",
    doc: "Chat widget: help-desk searches a minute from one IP address (the widget searches as the visitor types).",
  },
  WIDGET_SEARCHES_PER_VISITOR_PER_MINUTE: {
    default: "60",
    doc: "Chat widget: help-desk searches a minute from one visitor.",
  },
  WIDGET_UPLOADS_PER_VISITOR_PER_MINUTE: {
    default: "10",
    doc: "Chat widget: files a minute one visitor may send.",
  },
  WIDGET_UPLOAD_MAX_BYTES: {
    default: "10485760",
    doc: "Chat widget: the largest file a visitor may send, in bytes (files are kept in the database).",
  },
} as const;

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A rate limit: requests a minute, 0 for none. */
const perMinute = (fallback: number) => int(0, 1_000_000).default(fallback);

const EnvSchema = z.object({
  PORT: int(0, 65_535).default(8080),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must start with postgres:// (unset it to use SQLite)")
    .optional(),
  PUBLIC_URL: z.string().url().optional(),
  HUGO_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  BODY_LIMIT: int(1024, 100 * 1024 * 1024).default(1_048_576),
  SEED_DEMO: bool.default(true),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  JOB_CONCURRENCY: int(1, 256).default(4),
  WORKER: bool.default(true),
  JOB_LEASE_MS: int(1_000, 3_600_000).default(30_000),
  WS_PING_INTERVAL_MS: int(100, 600_000).default(30_000),
  WS_MAX_BUFFERED_BYTES: int(16 * 1024, 1024 * 1024 * 1024).default(1_048_576),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(15_000),
  OUTBOUND_ALLOW_HOSTS: z
    .string()
    .regex(
      /^[a-zA-Z0-9.:[\]_-]*(,[a-zA-Z0-9.:[\]_-]+)*$/,
      "must be a comma-separated list of host names or IPs",
    )
    .default(""),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  BOT_NAME: z.string().trim().min(1).max(100).default("Hugo"),
  WIDGET_SESSIONS_PER_IP_PER_MINUTE: perMinute(60),
  WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE: perMinute(60),
  WIDGET_UPDATES_PER_VISITOR_PER_MINUTE: perMinute(120),
  WIDGET_SCENARIO_RUNS_PER_IP_PER_MINUTE: perMinute(60),
  WIDGET_SCENARIO_RUNS_PER_VISITOR_PER_MINUTE: perMinute(10),
  WIDGET_SEARCHES_PER_IP_PER_MINUTE: perMinute(300),
  WIDGET_SEARCHES_PER_VISITOR_PER_MINUTE: perMinute(60),
  WIDGET_UPLOADS_PER_VISITOR_PER_MINUTE: perMinute(10),
  WIDGET_UPLOAD_MAX_BYTES: int(1024, 100 * 1024 * 1024).default(10 * 1024 * 1024),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** The embedded database file, used when `databaseUrl` is unset. */
  sqliteFile: string;
  databaseUrl: string | undefined;
  publicUrl: string;
  secret: string | undefined;
  bodyLimit: number;
  seedDemo: boolean;
  logLevel: string;
  jobConcurrency: number;
  /** PostgreSQL: a crashed process's running jobs are claimed again after this long. */
  jobLeaseMs: number;
  worker: boolean;
  wsPingIntervalMs: number;
  wsMaxBufferedBytes: number;
  shutdownTimeoutMs: number;
  outboundAllowHosts: string[];
  webhookTimeoutMs: number;
  botName: string;
  /** The chat widget's visitor API limits (requests a minute; 0: none). */
  widgetRateLimits: WidgetRateLimits;
}

export class ConfigError extends Error {}

/** Parses the environment; a bad value fails with a message naming the variable. */
export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<Config> = {}): Config {
  const known = Object.fromEntries(Object.keys(ENV_VARS).map((k) => [k, env[k] === "" ? undefined : env[k]]));
  const parsed = EnvSchema.safeParse(known);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    sqliteFile: path.join(path.resolve(e.DATA_DIR), "hugo.sqlite"),
    databaseUrl: e.DATABASE_URL,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    secret: e.HUGO_SECRET,
    bodyLimit: e.BODY_LIMIT,
    seedDemo: e.SEED_DEMO,
    logLevel: e.LOG_LEVEL,
    jobConcurrency: e.JOB_CONCURRENCY,
    worker: e.WORKER,
    jobLeaseMs: e.JOB_LEASE_MS,
    wsPingIntervalMs: e.WS_PING_INTERVAL_MS,
    wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    outboundAllowHosts: e.OUTBOUND_ALLOW_HOSTS.split(",")
      .map((h) =>
        h
          .trim()
          .toLowerCase()
          .replace(/^\[|\]$/g, ""),
      )
      .filter(Boolean),
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    botName: e.BOT_NAME,
    widgetRateLimits: Object.freeze({
      sessionsPerIpPerMinute: e.WIDGET_SESSIONS_PER_IP_PER_MINUTE,
      messagesPerVisitorPerMinute: e.WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE,
      updatesPerVisitorPerMinute: e.WIDGET_UPDATES_PER_VISITOR_PER_MINUTE,
      scenarioRunsPerIpPerMinute: e.WIDGET_SCENARIO_RUNS_PER_IP_PER_MINUTE,
      scenarioRunsPerVisitorPerMinute: e.WIDGET_SCENARIO_RUNS_PER_VISITOR_PER_MINUTE,
      helpdeskSearchesPerIpPerMinute: e.WIDGET_SEARCHES_PER_IP_PER_MINUTE,
      helpdeskSearchesPerVisitorPerMinute: e.WIDGET_SEARCHES_PER_VISITOR_PER_MINUTE,
      uploadsPerVisitorPerMinute: e.WIDGET_UPLOADS_PER_VISITOR_PER_MINUTE,
      uploadMaxBytes: e.WIDGET_UPLOAD_MAX_BYTES,
    }),
    ...overrides,
  });
}

/** The server secret: HUGO_SECRET, else a random one kept in DATA_DIR/secret (mode 0600). */
export function loadSecret(config: Config): string {
  if (config.secret) return config.secret;
  const file = path.join(config.dataDir, "secret");
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    const secret = randomHex(32);
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return fs.readFileSync(file, "utf8").trim();
  }
}
