import type { IncomingHttpHeaders } from "node:http";
import { ClientFrame, RealtimeCloseCode, type ServerFrame } from "@hugo/protocol";
import type { FastifyRequest } from "fastify";
import { type RawData, WebSocket } from "ws";
import type { ConversationService } from "../core/conversations.ts";
import { AppError } from "../core/errors.ts";
import type { OperatorSessionService } from "../core/operator-sessions.ts";
import type { ConversationStore } from "../core/ports.ts";
import {
  type Principal,
  parseBearer,
  requireScope,
  type TokenPrincipal,
  type TokenService,
} from "../core/tokens.ts";
import { type VisitorPrincipal, verifyVisitorCredential } from "../core/visitor-credentials.ts";
import { authenticate } from "../http/auth.ts";
import { type ComposeSignal, encodeCompose, encodeFrame } from "./frames.ts";
import type { Hub } from "./hub.ts";
import type { RealtimeLog } from "./log.ts";
import { Subscription, type SubscriptionOwner } from "./subscription.ts";

export interface ConnectionDeps {
  hub: Hub;
  store: ConversationStore;
  conversations: ConversationService;
  tokens: TokenService;
  /** Dashboard sessions (operators signed in with the cookie); absent, only API tokens. */
  sessions?: OperatorSessionService | undefined;
  secret: string;
  maxBufferedBytes: number;
  authTimeoutMs: number;
  log: RealtimeLog;
}

/**
 * An operator: an API token, or a dashboard session, of one website; re-checked on every subscribe
 * and compose and at each heartbeat, so a revoked token, a signed-out session or a removed operator
 * loses its sockets.
 */
export type OperatorPrincipal = {
  kind: "operator";
  websiteId: string;
  /** What the heartbeat verifies once for all the sockets sharing it (a token id, a session id). */
  credentialId: string;
} & (
  | /** The credential as an `Authorization` header value (`Bearer …` or `Basic …`). */
  { authorization: string; cookie?: undefined }
  /** The dashboard's session cookie value. */
  | { cookie: string; authorization?: undefined }
);

/**
 * The API's header authentication (`http/auth.ts`, Bearer or Basic with X-Crisp-Tier). It reads
 * only the request's headers, so a socket keeps a header value rather than its upgrade request.
 */
export function authenticateHeaders(
  tokens: TokenService,
  headers: IncomingHttpHeaders,
): Promise<TokenPrincipal> {
  return authenticate(tokens, { headers } as FastifyRequest);
}

/** The operator's credential verified again: its scopes now, or an AppError when it no longer holds. */
function reauthenticate(deps: ConnectionDeps, principal: OperatorPrincipal): Promise<Principal> {
  if (principal.authorization !== undefined)
    return authenticateHeaders(deps.tokens, { authorization: principal.authorization });
  if (!deps.sessions) return Promise.reject(new AppError("unauthorized", "Dashboard sessions are off."));
  return deps.sessions.authenticate(principal.cookie);
}

/**
 * `ws`'s server-side socket with a slot for its Connection, so that the socket's listeners are
 * functions shared by every socket rather than closures allocated per socket.
 */
export class RealtimeSocket extends WebSocket {
  connection: Connection | undefined = undefined;
}

type SocketPrincipal = OperatorPrincipal | VisitorPrincipal;

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
  readonly #socket: RealtimeSocket;
  readonly #deps: ConnectionDeps;
  /**
   * At most MAX_SUBSCRIPTIONS, found by session id (null: the website); an idle socket usually
   * holds one, so a small array rather than a Map. Created on the first subscribe.
   */
  #subs: Subscription[] | undefined;
  #principal: SocketPrincipal | undefined;
  #closed = false;
  /** Created only when a replay waits on it. */
  #gone: PromiseWithResolvers<void> | undefined;
  #authTimer: NodeJS.Timeout | undefined;
  /** Client frames are handled one at a time; the chain exists only while frames are in flight. */
  #queue: Promise<void> | undefined;
  #queued = 0;
  #bucket = BUCKET;
  #bucketAt = Date.now();

  // Shared by every socket: `this` is the socket, which points to its connection.
  static readonly #onMessage = function (this: WebSocket, data: RawData, isBinary: boolean): void {
    (this as RealtimeSocket).connection!.#receive(data, isBinary);
  };
  static readonly #onPong = function (this: WebSocket): void {
    (this as RealtimeSocket).connection!.alive = true;
  };
  static readonly #onClose = function (this: WebSocket): void {
    (this as RealtimeSocket).connection!.#teardown();
  };

  constructor(socket: RealtimeSocket, deps: ConnectionDeps, principal?: OperatorPrincipal) {
    this.#socket = socket;
    this.#deps = deps;
    socket.connection = this;
    socket.on("message", Connection.#onMessage);
    socket.on("pong", Connection.#onPong);
    socket.on("close", Connection.#onClose);
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

  /** Resolves when the connection is gone. */
  get gone(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#gone ??= Promise.withResolvers<void>();
    return this.#gone.promise;
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
    this.#forget(sub);
    this.#error(error, sub.sessionId);
  }

  /**
   * Liveness: a peer that did not answer the previous ping is presumed dead. An operator's token
   * is also checked again, so revoking it ends its sockets within one ping interval; `checks`
   * shares one verification per token among all of a tick's sockets.
   */
  heartbeat(checks: Map<string, Promise<Principal>>): void {
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
      let check = checks.get(principal.credentialId);
      if (!check) {
        check = reauthenticate(this.#deps, principal);
        checks.set(principal.credentialId, check);
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

  #receive(data: RawData, isBinary: boolean): void {
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
    this.#queue = (this.#queue ?? Promise.resolve())
      .then(() => this.#handle(frame))
      .catch((err) => this.#error(err, frame.type === "subscribe" ? (frame.session_id ?? null) : undefined))
      .finally(() => {
        // The last frame in flight done: nothing is chained on the queue, let it go.
        if (--this.#queued === 0) this.#queue = undefined;
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
        const sub = this.#find(sessionId);
        if (sub) {
          sub.cancel();
          this.#forget(sub);
        }
        this.#sendFrame({ type: "unsubscribed", session_id: sessionId });
        return;
      }
      case "compose":
        return this.#compose(principal, frame.session_id, frame.state, frame.excerpt);
    }
  }

  async #authenticate(credential: string): Promise<void> {
    try {
      const bearer = parseBearer(credential);
      if (bearer) {
        const token = await this.#deps.tokens.authenticate(bearer.identifier, bearer.key);
        requireScope(token, "conversations:read");
        this.#ready({
          kind: "operator",
          websiteId: token.websiteId,
          credentialId: token.tokenId,
          authorization: `Bearer ${credential}`,
        });
        return;
      }
      const visitor = verifyVisitorCredential(this.#deps.secret, credential);
      if (!visitor)
        throw new AppError("unauthorized", "Unknown token: send an API token or a visitor credential.");
      this.#ready(visitor);
    } catch (err) {
      this.#error(err);
      this.close(RealtimeCloseCode.unauthorized, "unauthorized");
    }
  }

  #ready(principal: SocketPrincipal): void {
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
    principal: SocketPrincipal,
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
    const existing = this.#find(sessionId);
    if (!existing && (this.#subs?.length ?? 0) >= MAX_SUBSCRIPTIONS)
      throw new AppError("too_many_subscriptions");
    const sub = new Subscription(this.#deps.hub, this.#deps.store, this, principal.websiteId, sessionId);
    if (existing) {
      existing.cancel();
      this.#subs![this.#subs!.indexOf(existing)] = sub;
    } else if (this.#subs) this.#subs.push(sub);
    else this.#subs = [sub];
    // In the background: a long replay must not hold up this socket's other frames.
    void sub.start(after);
  }

  async #compose(
    principal: SocketPrincipal,
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
    let token: Principal;
    try {
      token = await reauthenticate(this.#deps, principal);
    } catch (err) {
      this.#error(err);
      this.close(RealtimeCloseCode.unauthorized, "unauthorized");
      return;
    }
    requireScope(token, scope);
  }

  #find(sessionId: string | null): Subscription | undefined {
    return this.#subs?.find((sub) => sub.sessionId === sessionId);
  }

  #forget(sub: Subscription): void {
    const i = this.#subs?.indexOf(sub) ?? -1;
    if (i >= 0) this.#subs!.splice(i, 1);
  }

  #teardown(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#authTimer);
    const subs = this.#subs;
    this.#subs = undefined;
    for (const sub of subs ?? []) sub.cancel();
    this.#gone?.resolve();
  }
}
