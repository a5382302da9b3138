import type net from "node:net";
import type { EventFrame, ServerFrame } from "@hugo/protocol";
import { WebSocket } from "ws";

const WAIT_MS = 20_000;

/** Polls until `check` returns a value other than undefined/false (no timing assertions, only a generous cap). */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface ClientOptions {
  bearer?: string;
  autoPong?: boolean;
  /** More upgrade headers (a browser's Cookie and Origin). */
  headers?: Record<string, string>;
  /** A query string for the endpoint, e.g. `?auth=session`. */
  query?: string;
}

/** A real `ws` client that records every frame. */
export class Client {
  readonly ws: WebSocket;
  readonly frames: ServerFrame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(baseUrl: string, options: ClientOptions = {}) {
    const headers = {
      ...options.headers,
      ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
    };
    this.ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/api/realtime${options.query ?? ""}`, {
      headers,
      autoPong: options.autoPong ?? true,
    });
    this.ws.on("message", (data) => this.frames.push(JSON.parse(String(data)) as ServerFrame));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once("close", (code, reason) => resolve({ code, reason: String(reason) }));
    });
    // Errors after opening surface as "close"; an unhandled "error" would fail the run.
    this.ws.on("error", () => {});
  }

  static async connect(baseUrl: string, options: ClientOptions = {}) {
    const client = new Client(baseUrl, options);
    await client.opened;
    return client;
  }

  /** Opens a socket and authenticates with a first frame (what browsers do). */
  static async auth(baseUrl: string, token: string): Promise<Client> {
    const client = await Client.connect(baseUrl);
    client.send({ type: "auth", token });
    await client.next((f) => f.type === "ready" || f.type === "error");
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** The first frame (from `from` on) matching `match`. */
  async next<F extends ServerFrame>(match: (f: ServerFrame) => boolean, from = 0): Promise<F> {
    return waitFor("a frame", () => this.frames.slice(from).find(match) as F | undefined);
  }

  events(subscription?: string | null): EventFrame[] {
    return this.frames.filter(
      (f): f is EventFrame =>
        f.type === "event" && (subscription === undefined || f.subscription === subscription),
    );
  }

  async subscribe(sessionId: string | null, after?: number): Promise<number> {
    const from = this.frames.length;
    this.send({
      type: "subscribe",
      ...(sessionId ? { session_id: sessionId } : {}),
      ...(after !== undefined ? { after } : {}),
    });
    const reply = await this.next<Extract<ServerFrame, { type: "subscribed" | "error" }>>(
      (f) => f.type === "subscribed" || f.type === "error",
      from,
    );
    if (reply.type === "error") throw new Error(`subscribe failed: ${reply.reason}: ${reply.message}`);
    return reply.up_to;
  }

  get socket(): net.Socket {
    return (this.ws as unknown as { _socket: net.Socket })._socket;
  }

  close(): void {
    this.ws.terminate();
  }
}
