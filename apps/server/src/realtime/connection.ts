import { ClientFrame, RealtimeCloseCode, type ServerFrame } from "@hugo/protocol";
import type { RawData, WebSocket } from "ws";
import type { ConversationService } from "../core/conversations.ts";
import { AppError } from "../core/errors.ts";
import type { ConversationStore } from "../core/ports.ts";
import { parseBearer, requireScope, type TokenPrincipal, type TokenService } from "../core/tokens.ts";
import { type VisitorPrincipal, verifyVisitorCredential } from "../core/visitor-credentials.ts";
import { type ComposeSignal, encodeCompose, encodeFrame } from "./frames.ts";
import type { Hub } from "./hub.ts";
import type { RealtimeLog } from "./log.ts";
import { Subscription, type SubscriptionOwner } from "./subscription.ts";

export interface ConnectionDeps {
  hub: Hub;
  store: ConversationStore;
  conversations: ConversationService;
  tokens: TokenService;
  secret: string;
  maxBufferedBytes: number;
  authTimeoutMs: number;
  log: RealtimeLog;
}

/** An operator: an API token of one website; re-checked on every subscribe and compose, so revocation bites. */
export interface OperatorPrincipal {
  kind: "operator";
  websiteId: string;
  tokenId: string;
  reauthenticate(): Promise<TokenPrincipal>;
}

type Principal = OperatorPrincipal | VisitorPrincipal;

export const MAX_SUBSCRIPTIONS = 50;
// Client frames: a bucket of 60 (a dashboard resubscribing 50 conversations at once fits), refilled
// at 20 a second; frames waiting for earlier ones to finish, at most 64.
const BUCKET = 60;
const REFILL_PER_MS = 20 / 1000;
const MAX_QUEUED = 64;

/**
 * One WebSocket: authentication, client frames, subscriptions, and the send path that keeps the
 * socket's buffer bounded (a peer that stops reading is closed with 4429 rather than buffered for).
 */
export class Connection implements SubscriptionOwner {
  /** Cleared on every ping; a pong or any frame sets it. */
  alive = true;
  readonly gone: Promise<void>;
  readonly #socket: WebSocket;
  readonly #deps: ConnectionDeps;
  readonly #subs = new Map<string, Subscription>();
  #principal: Principal | undefined;
  #closed = false;
  #markGone!: () => void;
  #authTimer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #bucket = BUCKET;
  #bucketAt = Date.now();

  constructor(socket: WebSocket, deps: ConnectionDeps, principal?: OperatorPrincipal) {
    this.#socket = socket;
    this.#deps = deps;
    this.gone = new Promise((resolve) => {
      this.#markGone = resolve;
    });
    socket.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on("pong", () => {
      this.alive = true;
    });
    socket.on("close", () => this.#teardown());
    if (principal) this.#ready(principal);
    else {
      this.#authTimer = setTimeout(() => {
        const within = `${deps.authTimeoutMs / 1000} s`;
        this.#error(new AppError("unauthorized", `No auth frame within ${within}: authenticate first.`));
        this.close(RealtimeCloseCode.unauthorized, "unauthorized");
      }, deps.authTimeoutMs);
    }
  }

  get visitor(): boolean {
    return this.#principal?.kind === "visitor";
  }

  get buffered(): number {
    return this.#socket.bufferedAmount;
  }

  get lowWater(): number {
    return this.#deps.maxBufferedBytes / 4;
  }

  send(frame: string): void {
    this.#write(frame);
  }

  sendTracked(frame: string): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#write(frame, () => resolve())) resolve();
    });
  }

  compose(signal: ComposeSignal): void {
    const frame = encodeCompose(signal, this.visitor);
    if (frame) this.#write(frame);
  }

  failed(sub: Subscription, error: unknown): void {
    // A replay cut short by the socket (or the server) closing is no error worth reporting.
    if (this.#closed) return;
    const key = sub.sessionId ?? "*";
    if (this.#subs.get(key) === sub) this.#subs.delete(key);
    this.#error(error, sub.sessionId);
  }

  /**
   * Liveness: a peer that did not answer the previous ping is presumed dead. An operator's token
   * is also checked again, so revoking it ends its sockets within one ping interval; `checks`
   * shares one verification per token among all of a tick's sockets.
   */
  heartbeat(checks: Map<string, Promise<TokenPrincipal>>): void {
    if (!this.alive) {
      this.#deps.log.debug({}, "realtime: no pong, terminating");
      this.#socket.terminate();
      this.#teardown();
      return;
    }
    this.alive = false;
    this.#socket.ping();
    const principal = this.#principal;
    if (principal?.kind === "operator") {
      let check = checks.get(principal.tokenId);
      if (!check) {
        check = principal.reauthenticate();
        checks.set(principal.tokenId, check);
      }
      check.catch((err) => {
        // Only a verdict on the token ends the socket; a database hiccup does not.
        if (err instanceof AppError && !this.#closed) {
          this.#error(err);
          this.close(RealtimeCloseCode.unauthorized, "unauthorized");
        }
      });
    }
  }

  close(code: number, reason: string): void {
    this.#teardown();
    this.#socket.close(code, reason);
  }

  // --- sending -------------------------------------------------------------------------------

  #write(frame: string, written?: () => void): boolean {
    if (this.#closed || this.#socket.readyState !== this.#socket.OPEN) return false;
    // Checked before the send, so one large frame still goes out on an otherwise empty buffer.
    if (this.#socket.bufferedAmount > this.#deps.maxBufferedBytes) {
      this.#deps.log.info(
        { buffered: this.#socket.bufferedAmount },
        "realtime: slow consumer, closing (it will resubscribe)",
      );
      this.close(RealtimeCloseCode.slowConsumer, "slow consumer: reconnect and resubscribe with after");
      return false;
    }
    this.#socket.send(frame, written && (() => written()));
    return true;
  }

  #sendFrame(frame: ServerFrame): void {
    this.#write(encodeFrame(frame));
  }

  #error(error: unknown, sessionId?: string | null): void {
    let reason: string;
    let message: string;
    if (error instanceof AppError) {
      reason = error.reason;
      message = error.message;
    } else {
      this.#deps.log.error({ err: error }, "realtime: unexpected error");
      reason = "internal_error";
      message = "An internal error occurred.";
    }
    this.#sendFrame({
      type: "error",
      reason,
      message,
      ...(sessionId !== undefined ? { session_id: sessionId } : {}),
    });
  }

  // --- receiving -----------------------------------------------------------------------------

  #onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (this.#closed) return;
    const now = Date.now();
    this.#bucket = Math.min(BUCKET, this.#bucket + (now - this.#bucketAt) * REFILL_PER_MS);
    this.#bucketAt = now;
    if (this.#bucket < 1 || this.#queued >= MAX_QUEUED) {
      this.#error(new AppError("rate_limited", "Too many frames; slow down."));
      return;
    }
    this.#bucket -= 1;
    const frame = this.#parse(data, isBinary);
    if (!frame) return;
    // One frame at a time, so "auth" then "subscribe" sent back to back work in that order.
    this.#queued++;
    this.#queue = this.#queue
      .then(() => this.#handle(frame))
      .catch((err) => this.#error(err, frame.type === "subscribe" ? (frame.session_id ?? null) : undefined))
      .finally(() => {
        this.#queued--;
      });
  }

  #parse(data: RawData, isBinary: boolean): ClientFrame | undefined {
    if (isBinary) {
      this.#error(new AppError("invalid_frame", "Send JSON text frames."));
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(String(data));
    } catch {
      this.#error(new AppError("invalid_frame", "The frame is not valid JSON."));
      return undefined;
    }
    const parsed = ClientFrame.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at "${issue.path.join(".")}"` : "";
      this.#error(
        new AppError("invalid_frame", `Invalid frame${where}: ${issue?.message ?? "unknown shape"}.`),
      );
      return undefined;
    }
    return parsed.data;
  }

  async #handle(frame: ClientFrame): Promise<void> {
    if (this.#closed) return;
    if (frame.type === "ping") {
      this.#sendFrame({ type: "pong" });
      return;
    }
    if (frame.type === "auth") {
      if (this.#principal) throw new AppError("invalid_frame", "This connection is already authenticated.");
      await this.#authenticate(frame.token);
      return;
    }
    const principal = this.#principal;
    if (!principal) {
      this.#error(new AppError("unauthorized", "Send an auth frame first."));
      this.close(RealtimeCloseCode.unauthorized, "unauthorized");
      return;
    }
    switch (frame.type) {
      case "subscribe":
        return this.#subscribe(principal, frame.session_id, frame.after);
      case "unsubscribe": {
        const sessionId = principal.kind === "visitor" ? principal.sessionId : (frame.session_id ?? null);
        this.#subs.get(sessionId ?? "*")?.cancel();
        this.#subs.delete(sessionId ?? "*");
        this.#sendFrame({ type: "unsubscribed", session_id: sessionId });
        return;
      }
      case "compose":
        return this.#compose(principal, frame.session_id, frame.state, frame.excerpt);
    }
  }

  async #authenticate(token: string): Promise<void> {
    try {
      const bearer = parseBearer(token);
      if (bearer) {
        const reauthenticate = () => this.#deps.tokens.authenticate(bearer.identifier, bearer.key);
        const token = await reauthenticate();
        requireScope(token, "conversations:read");
        this.#ready({ kind: "operator", websiteId: token.websiteId, tokenId: token.tokenId, reauthenticate });
        return;
      }
      const visitor = verifyVisitorCredential(this.#deps.secret, token);
      if (!visitor)
        throw new AppError("unauthorized", "Unknown token: send an API token or a visitor credential.");
      this.#ready(visitor);
    } catch (err) {
      this.#error(err);
      this.close(RealtimeCloseCode.unauthorized, "unauthorized");
    }
  }

  #ready(principal: Principal): void {
    clearTimeout(this.#authTimer);
    this.#principal = principal;
    this.#sendFrame({
      type: "ready",
      principal: principal.kind,
      website_id: principal.websiteId,
      ...(principal.kind === "visitor" ? { session_id: principal.sessionId } : {}),
    });
  }

  /** Operators: any conversation of the website or the website; visitors: their conversation only. */
  async #subscribe(
    principal: Principal,
    requested: string | undefined,
    after: number | undefined,
  ): Promise<void> {
    let sessionId: string | null;
    if (principal.kind === "visitor") {
      if (requested !== undefined && requested !== principal.sessionId) {
        throw new AppError("forbidden", "A visitor credential covers one conversation only.");
      }
      sessionId = principal.sessionId;
    } else {
      await this.#recheck(principal, "conversations:read");
      if (this.#closed) return;
      sessionId = requested ?? null;
    }
    const key = sessionId ?? "*";
    const existing = this.#subs.get(key);
    if (!existing && this.#subs.size >= MAX_SUBSCRIPTIONS) throw new AppError("too_many_subscriptions");
    existing?.cancel();
    const sub = new Subscription(this.#deps.hub, this.#deps.store, this, principal.websiteId, sessionId);
    this.#subs.set(key, sub);
    // In the background: a long replay must not hold up this socket's other frames.
    void sub.start(after);
  }

  async #compose(
    principal: Principal,
    sessionId: string,
    state: "start" | "stop",
    excerpt: string | undefined,
  ): Promise<void> {
    if (principal.kind === "visitor") {
      if (sessionId !== principal.sessionId) {
        throw new AppError("forbidden", "A visitor credential covers one conversation only.");
      }
      await this.#deps.conversations.compose(principal.websiteId, sessionId, "user", state, excerpt);
      return;
    }
    await this.#recheck(principal, "conversations:write");
    if (this.#closed) return;
    await this.#deps.conversations.compose(principal.websiteId, sessionId, "operator", state, excerpt);
  }

  /** A revoked or expired token ends the connection; a missing scope only fails the frame. */
  async #recheck(
    principal: OperatorPrincipal,
    scope: "conversations:read" | "conversations:write",
  ): Promise<void> {
    let token: TokenPrincipal;
    try {
      token = await principal.reauthenticate();
    } catch (err) {
      this.#error(err);
      this.close(RealtimeCloseCode.unauthorized, "unauthorized");
      return;
    }
    requireScope(token, scope);
  }

  #teardown(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#authTimer);
    for (const sub of this.#subs.values()) sub.cancel();
    this.#subs.clear();
    this.#markGone();
  }
}
