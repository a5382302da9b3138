import type { ComposeFrame, EventFrame, ServerFrame } from "@hugo/protocol";

export interface RealtimeHandlers {
  /** An event of the conversation; `live` is false for the history replayed on the first connect. */
  event(frame: EventFrame, live: boolean): void;
  compose(frame: ComposeFrame): void;
  /** Connected and caught up (true), or connection lost (false). */
  status(online: boolean): void;
}

const PING_MS = 25_000;
/** A socket that has not answered a ping within this is presumed dead (a NAT forgot it, the laptop slept). */
const PONG_MS = 10_000;
/** After the page wakes, the check is quicker: the visitor is looking. */
const WAKE_PONG_MS = 3_000;
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
  #deadline: ReturnType<typeof setTimeout> | undefined;
  /** A frame arrived since the last ping. */
  #heard = true;

  constructor(origin: string, token: string, handlers: RealtimeHandlers) {
    this.#url = `${origin.replace(/^http/, "ws")}/api/realtime`;
    this.#token = token;
    this.#on = handlers;
    this.#connect();
  }

  compose(sessionId: string, state: "start" | "stop", excerpt?: string): void {
    this.#send({ type: "compose", session_id: sessionId, state, ...(excerpt ? { excerpt } : {}) });
  }

  /**
   * The page woke up (resumed from frozen, became visible, came back online): reconnects now instead
   * of waiting out the backoff, and does not trust an open socket that may have died silently while
   * the page slept — it must answer a ping quickly or it is replaced (the new one replays the gap).
   */
  check(): void {
    if (this.#closed) return;
    if (!this.#ws) {
      clearTimeout(this.#timer);
      this.#attempt = 0;
      this.#connect();
    } else if (this.#ws.readyState === WebSocket.OPEN) this.#probe(WAKE_PONG_MS);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
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
      this.#heard = true;
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
      clearTimeout(this.#deadline);
      this.#on.status(false);
      this.#retry();
    };
  }

  /** Pings; no frame at all before the deadline and the socket is abandoned for a new one. */
  #probe(ms: number): void {
    const ws = this.#ws;
    if (!ws) return;
    clearTimeout(this.#deadline);
    this.#heard = false;
    this.#send({ type: "ping" });
    this.#deadline = setTimeout(() => {
      if (this.#heard || this.#ws !== ws) return;
      // Its close handshake would wait on the dead connection: forget it and connect anew at once.
      this.#ws = undefined;
      ws.onclose = ws.onmessage = null;
      ws.close();
      clearInterval(this.#ping);
      this.#on.status(false);
      this.#attempt = 0;
      this.#connect();
    }, ms);
  }

  #frame(frame: ServerFrame): void {
    switch (frame.type) {
      case "ready":
        this.#send({ type: "subscribe", after: this.#lastSeq });
        clearInterval(this.#ping);
        this.#ping = setInterval(() => this.#probe(PONG_MS), PING_MS);
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
      case "pong":
        // Only proves the socket alive (any frame does).
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
