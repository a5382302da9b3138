import WebSocket from "ws";

export interface SubscribeOptions {
  url: string;
  headers: Record<string, string>;
  /** Subscriber i follows sessions[i % sessions.length]. */
  sessions: string[];
  count: number;
  /** Handshakes in flight at once (a burst of thousands overflows the listen backlog). */
  concurrency?: number;
  onFrame?: (
    frame: { type?: string; name?: string; session_id?: string; data?: unknown },
    raw: string,
  ) => void;
}

export interface Subscribers {
  sockets: WebSocket[];
  ok: number;
  failed: number;
  firstError: string | undefined;
  ms: number;
  close(): Promise<void>;
}

/** Opens one socket: upgrade with the Bearer header, subscribe, wait for `subscribed`. */
function subscribeOne(options: SubscribeOptions, session: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url, { headers: options.headers, perMessageDeflate: false });
    let subscribed = false;
    const timer = setTimeout(() => fail(new Error("no `subscribed` within 30 s")), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      ws.terminate();
      reject(error);
    };
    ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", session_id: session })));
    ws.on("message", (data) => {
      const raw = String(data);
      let frame: {
        type?: string;
        name?: string;
        session_id?: string;
        data?: unknown;
        reason?: string;
        message?: string;
      };
      try {
        frame = JSON.parse(raw);
      } catch {
        return;
      }
      if (!subscribed) {
        if (frame.type === "subscribed") {
          subscribed = true;
          clearTimeout(timer);
          resolve(ws);
        } else if (frame.type === "error")
          fail(new Error(`error frame: ${frame.reason} ${frame.message ?? ""}`));
        return;
      }
      options.onFrame?.(frame, raw);
    });
    ws.on("unexpected-response", (_req, res) => fail(new Error(`upgrade answered HTTP ${res.statusCode}`)));
    ws.on("error", (error) => fail(error));
    ws.on("close", (code, reason) => {
      if (!subscribed) fail(new Error(`closed ${code} ${String(reason)}`));
    });
  });
}

export async function openSubscribers(options: SubscribeOptions): Promise<Subscribers> {
  const started = performance.now();
  const sockets: WebSocket[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < options.count) {
      const i = nextIndex++;
      try {
        sockets.push(await subscribeOne(options, options.sessions[i % options.sessions.length]!));
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 100, options.count) }, worker));
  return {
    sockets,
    ok: sockets.length,
    failed,
    firstError,
    ms: performance.now() - started,
    async close() {
      await Promise.all(
        sockets.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              ws.once("close", () => resolve());
              ws.close();
              setTimeout(() => {
                ws.terminate();
                resolve();
              }, 2_000).unref();
            }),
        ),
      );
    },
  };
}
