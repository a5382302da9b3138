import type { ComposeFrame, EventFrame, ServerFrame } from "@hugo/protocol";

export interface RealtimeHandlers {
  /** An event of the conversation; `live` is false for the history replayed on the first connect. */
  event(frame: EventFrame, live: boolean): void;
  compose(frame: ComposeFrame): void;
  /** Connected and caught up (true), or connection lost (false). */
  status(online: boolean): void;
}

const PING_MS = 25_000;
const MAX_BACKOFF_MS = 15_000;

/**
 * The visitor's WebSocket: authenticates with the visitor credential, subscribes to its conversation
 * "after" the last sequence number seen, so a reconnect replays exactly what was missed; reconnects
 * with exponential backoff and jitter.
 */
export class Realtime {
  readonly #url: string;
  readonly #token: string;
  readonly #on: RealtimeHandlers;
  #ws: WebSocket | undefined;
  #lastSeq = 0;
  #caughtUp = false;
  #attempt = 0;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ping: ReturnType<typeof setInterval> | undefined;

  constructor(origin: string, token: string, handlers: RealtimeHandlers) {
    this.#url = `${origin.replace(/^http/, "ws")}/api/realtime`;
    this.#token = token;
    this.#on = handlers;
    this.#connect();
  }

  compose(sessionId: string, state: "start" | "stop", excerpt?: string): void {
    this.#send({ type: "compose", session_id: sessionId, state, ...(excerpt ? { excerpt } : {}) });
  }

  /** Reconnects now (the browser came back online) instead of waiting out the backoff. */
  nudge(): void {
    if (this.#closed || this.#ws) return;
    clearTimeout(this.#timer);
    this.#connect();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#ping);
    this.#ws?.close(1000);
    this.#ws = undefined;
  }

  #send(frame: unknown): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(frame));
  }

  #connect(): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#url);
    } catch {
      this.#retry();
      return;
    }
    this.#ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: this.#token }));
    ws.onmessage = (message) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(message.data)) as ServerFrame;
      } catch {
        return;
      }
      this.#frame(frame);
    };
    ws.onclose = () => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      clearInterval(this.#ping);
      this.#on.status(false);
      this.#retry();
    };
  }

  #frame(frame: ServerFrame): void {
    switch (frame.type) {
      case "ready":
        this.#send({ type: "subscribe", after: this.#lastSeq });
        clearInterval(this.#ping);
        this.#ping = setInterval(() => this.#send({ type: "ping" }), PING_MS);
        return;
      case "subscribed":
        this.#attempt = 0;
        this.#caughtUp = true;
        this.#on.status(true);
        return;
      case "event":
        // Replay then live, no gap and no duplicate; the check guards a replay racing a live frame.
        if (frame.seq !== null) {
          if (frame.seq <= this.#lastSeq) return;
          this.#lastSeq = frame.seq;
        }
        this.#on.event(frame, this.#caughtUp);
        return;
      case "compose":
        this.#on.compose(frame);
        return;
      case "error":
        // A subscription refused (the conversation was removed): the socket stays up, nothing to follow.
        return;
    }
  }

  #retry(): void {
    if (this.#closed) return;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#attempt) * (0.5 + Math.random() / 2);
    this.#attempt = Math.min(this.#attempt + 1, 10);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }
}
