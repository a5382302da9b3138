import pg from "pg";
import { randomHex } from "../core/crypto.ts";
import type { ComposeSignal } from "./frames.ts";
import type { Notifier, NotifyHandler } from "./hub.ts";
import type { RealtimeLog } from "./log.ts";

const HEALTH_CHECK_MS = 30_000;
const MAX_BACKOFF_MS = 5_000;
const MAX_QUEUED_COMPOSE = 1_000;

/** One channel per schema, so deployments sharing a database (or test suites) do not hear each other. */
export function channelFor(schema: string): string {
  return `hugo_rt_${schema.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63);
}

/**
 * Cross-process nudges over PostgreSQL LISTEN/NOTIFY. Publishing is coalesced per tick (one
 * `pg_notify` round trip, the highest `website_seq` per website); listening uses a dedicated
 * connection that reconnects with backoff and then asks the hub to resync, because notifications
 * sent while it was away are gone. Payloads: `{"w":website,"s":website_seq}` or
 * `{"w":website,"c":compose signal,"o":origin process}`.
 */
export class PgNotifier implements Notifier {
  readonly #connectionString: string;
  readonly #pool: pg.Pool;
  readonly #origin = randomHex(8);
  #channel = "";
  #handler: NotifyHandler | undefined;
  #log: RealtimeLog | undefined;
  #client: pg.Client | undefined;
  #stopped = false;
  #backoff = 100;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  #events = new Map<string, number>();
  #compose: string[] = [];
  #flushing: Promise<void> | undefined;
  #flushScheduled = false;

  constructor(options: { connectionString: string; pool: pg.Pool }) {
    this.#connectionString = options.connectionString;
    this.#pool = options.pool;
  }

  async start(handler: NotifyHandler, log: RealtimeLog): Promise<void> {
    this.#handler = handler;
    this.#log = log;
    const { rows } = await this.#pool.query<{ schema: string }>("select current_schema() as schema");
    this.#channel = channelFor(rows[0]?.schema ?? "public");
    await this.#connect();
    this.#healthTimer = setInterval(() => void this.#checkHealth(), HEALTH_CHECK_MS);
    this.#healthTimer.unref();
  }

  publishEvents(websiteId: string, websiteSeq: number): void {
    if (this.#stopped) return;
    if ((this.#events.get(websiteId) ?? 0) < websiteSeq) this.#events.set(websiteId, websiteSeq);
    this.#schedule();
  }

  publishCompose(websiteId: string, signal: ComposeSignal): void {
    // Typing indicators are best effort: under a flood the newest are dropped, never buffered.
    if (this.#stopped || this.#compose.length >= MAX_QUEUED_COMPOSE) return;
    this.#compose.push(JSON.stringify({ w: websiteId, c: signal, o: this.#origin }));
    this.#schedule();
  }

  async close(): Promise<void> {
    if (this.#stopped) return;
    await this.#flush();
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#healthTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #schedule(): void {
    // Before start() there is no channel yet; other processes catch up at their next resync.
    if (this.#flushScheduled || !this.#channel) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    // One round trip at a time; what arrives meanwhile goes in the next.
    while (this.#flushing) await this.#flushing;
    const payloads = [...[...this.#events].map(([w, s]) => JSON.stringify({ w, s })), ...this.#compose];
    this.#events = new Map();
    this.#compose = [];
    if (payloads.length === 0) return;
    this.#flushing = this.#pool
      .query("select pg_notify($1, p) from unnest($2::text[]) as p", [this.#channel, payloads])
      .then(
        () => {},
        (err) => this.#log?.warn({ err }, "realtime: NOTIFY failed (other processes catch up on resync)"),
      )
      .finally(() => {
        this.#flushing = undefined;
      });
    await this.#flushing;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#connectionString, keepAlive: true });
    client.on("error", (err) => this.#lost(client, err));
    client.on("end", () => this.#lost(client));
    client.on("notification", (msg) => {
      if (msg.channel === this.#channel && msg.payload) this.#receive(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`listen "${this.#channel}"`);
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    if (this.#stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
  }

  #lost(client: pg.Client, err?: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    if (this.#stopped) return;
    this.#log?.warn({ err }, "realtime: LISTEN connection lost; reconnecting");
    this.#reconnect();
  }

  #reconnect(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(async () => {
      try {
        await this.#connect();
        this.#backoff = 100;
        this.#handler?.resync();
      } catch (err) {
        this.#log?.warn({ err }, "realtime: LISTEN reconnect failed");
        this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
        if (!this.#stopped) this.#reconnect();
      }
    }, this.#backoff);
    this.#reconnectTimer.unref();
  }

  /** A connection can die without an error (a silent network drop); a query proves it is alive. */
  async #checkHealth(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.query("select 1"),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("LISTEN connection health check timed out")), 10_000);
        }),
      ]);
    } catch (err) {
      this.#lost(client, err as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  #receive(payload: string): void {
    let m: { w?: unknown; s?: unknown; c?: unknown; o?: unknown };
    try {
      m = JSON.parse(payload);
    } catch {
      return;
    }
    if (typeof m?.w !== "string") return;
    if (typeof m.s === "number") {
      this.#handler?.events(m.w, m.s);
      return;
    }
    if (m.o === this.#origin) return;
    const c = m.c as Partial<ComposeSignal> | undefined;
    if (
      typeof c?.session_id !== "string" ||
      (c.from !== "user" && c.from !== "operator") ||
      (c.state !== "start" && c.state !== "stop")
    ) {
      return;
    }
    this.#handler?.compose(m.w, {
      session_id: c.session_id,
      from: c.from,
      state: c.state,
      ...(typeof c.excerpt === "string" ? { excerpt: c.excerpt } : {}),
    });
  }
}
