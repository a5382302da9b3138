import { type IncomingMessage, ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { SESSION_COOKIE } from "@hugo/protocol";
import type { FastifyInstance } from "fastify";
import { type Server, type WebSocket, WebSocketServer } from "ws";
import type { ConversationService } from "../core/conversations.ts";
import { AppError } from "../core/errors.ts";
import type { OperatorSessionService } from "../core/operator-sessions.ts";
import type { ConversationStore } from "../core/ports.ts";
import { type Principal, requireScope, type TokenService } from "../core/tokens.ts";
import { authenticate } from "../http/auth.ts";
import { toErrorResponse } from "../http/errors.ts";
import {
  authenticateHeaders,
  Connection,
  type ConnectionDeps,
  type OperatorPrincipal,
  RealtimeSocket,
} from "./connection.ts";
import type { Hub } from "./hub.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** The `ws` server behind `GET /api/realtime`; `clients` holds the open sockets. */
    websocketServer: Server<typeof RealtimeSocket>;
  }
}

export interface RealtimeDeps {
  hub: Hub;
  store: ConversationStore;
  conversations: ConversationService;
  tokens: TokenService;
  /** Dashboard sessions: `/api/realtime?auth=session` then authenticates with the session cookie. */
  sessions?: OperatorSessionService | undefined;
  /** Signs visitor credentials. */
  secret: string;
  pingIntervalMs: number;
  maxBufferedBytes: number;
  /** How long a socket without an Authorization header has to send its auth frame. */
  authTimeoutMs?: number;
}

const PATH = "/api/realtime";
const MAX_FRAME_BYTES = 64 * 1024;
// On shutdown, peers get this long to answer the close frame before their sockets are cut.
const CLOSE_GRACE_MS = 1_000;

/**
 * `GET /api/realtime` (frames: packages/protocol/src/realtime.ts). The upgrade is taken straight
 * from the HTTP server's `upgrade` event into `ws` (`noServer`), not routed through Fastify: an
 * idle socket then keeps nothing of its handshake (no Fastify request/reply, no `IncomingMessage`,
 * no `ServerResponse`), only the `ws` socket and its Connection. An `Authorization` header on the
 * upgrade is checked first; a bad one is answered with the API's error envelope (401/403/400).
 * Every other upgrade request (another path, another method, or any while the server is closing)
 * is handed to Fastify's router as before, and its socket is closed once answered.
 * `app.websocketServer` stays visible to the composition root and tests.
 */
export async function registerRealtime(app: FastifyInstance, deps: RealtimeDeps): Promise<void> {
  const log = app.log;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
    WebSocket: RealtimeSocket,
  });
  app.decorate("websocketServer", wss);
  // One set of dependencies for every connection, not an object per socket.
  const connectionDeps: ConnectionDeps = {
    hub: deps.hub,
    store: deps.store,
    conversations: deps.conversations,
    tokens: deps.tokens,
    sessions: deps.sessions,
    secret: deps.secret,
    maxBufferedBytes: deps.maxBufferedBytes,
    authTimeoutMs: deps.authTimeoutMs ?? 5_000,
    log,
  };
  // Socket errors (a reset, an oversized frame) are the peer's problem, not the server's.
  function onSocketError(this: WebSocket, err: Error): void {
    log.debug({ err }, "realtime: socket error");
    this.terminate();
  }
  const accept = (principal: OperatorPrincipal | undefined) => (socket: RealtimeSocket) => {
    socket.on("error", onSocketError);
    new Connection(socket, connectionDeps, principal);
  };
  const acceptAnonymous = accept(undefined);

  let closing = false;
  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const authorization = request.headers.authorization;
    // The dashboard asks for its session explicitly: a widget on Hugo's own origin (the demo page)
    // also carries the cookie, and must stay a visitor's anonymous socket.
    const wantsSession =
      !authorization && new URL(request.url ?? "/", "http://hugo").searchParams.get("auth") === "session";
    if (!authorization && !wantsSession) {
      wss.handleUpgrade(request, socket, head, acceptAnonymous);
      return;
    }
    // Operators may authenticate on the upgrade request; a bad credential fails it with an error envelope.
    socket.on("error", destroy);
    let principal: OperatorPrincipal;
    try {
      if (authorization) {
        const token = await authenticateHeaders(deps.tokens, request.headers);
        requireScope(token, "conversations:read");
        principal = {
          kind: "operator",
          websiteId: token.websiteId,
          credentialId: token.tokenId,
          authorization,
        };
      } else {
        principal = await sessionPrincipal(request);
      }
    } catch (err) {
      socket.removeListener("error", destroy);
      rejectUpgrade(socket, err, log);
      return;
    }
    socket.removeListener("error", destroy);
    wss.handleUpgrade(request, socket, head, accept(principal));
  }

  /**
   * A dashboard socket: the session cookie, from a page of Hugo's own origin only — browsers send
   * cookies on cross-site WebSocket upgrades, so the Origin must name this host (no CSWSH).
   */
  async function sessionPrincipal(request: IncomingMessage): Promise<OperatorPrincipal> {
    const origin = request.headers.origin;
    let sameOrigin = false;
    try {
      sameOrigin = origin !== undefined && new URL(origin).host === request.headers.host;
    } catch {
      sameOrigin = false;
    }
    if (!sameOrigin)
      throw new AppError("forbidden", "A session socket must come from a page of Hugo's own origin.", {
        field: "Origin",
      });
    const cookie = request.headers.cookie
      ? app.parseCookie(request.headers.cookie)[SESSION_COOKIE]
      : undefined;
    if (!cookie || !deps.sessions) throw new AppError("unauthorized", "Not signed in.");
    const operator = await deps.sessions.authenticate(cookie);
    requireScope(operator, "conversations:read");
    return { kind: "operator", websiteId: operator.websiteId, credentialId: operator.sessionId, cookie };
  }

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (closing || request.method !== "GET" || !isRealtimePath(request.url)) {
      routeThroughFastify(app, request, socket);
      return;
    }
    upgrade(request, socket, head).catch((err) => {
      log.error({ err }, "realtime: upgrade failed");
      socket.destroy();
    });
  }
  app.server.on("upgrade", onUpgrade);

  // One heartbeat for all sockets; `checks` shares one token verification per token per tick.
  const heartbeat = setInterval(() => {
    const checks = new Map<string, Promise<Principal>>();
    for (const socket of wss.clients) socket.connection?.heartbeat(checks);
  }, deps.pingIntervalMs);
  heartbeat.unref();

  app.addHook("preClose", async () => {
    // From here, upgrade requests get Fastify's answer while closing (503).
    closing = true;
    const open = [...wss.clients];
    const gone = open.map((ws) => new Promise((resolve) => ws.once("close", resolve)));
    for (const ws of open) ws.close(1001, "server shutting down");
    await Promise.race([Promise.all(gone), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS))]);
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  app.addHook("onClose", async () => {
    clearInterval(heartbeat);
    app.server.off("upgrade", onUpgrade);
  });

  // A plain GET (no upgrade) finds nothing here; a bad Authorization header still answers 401/403.
  app.get(
    PATH,
    {
      schema: { hide: true },
      onRequest: async (request) => {
        if (!request.headers.authorization) return;
        requireScope(await authenticate(deps.tokens, request), "conversations:read");
      },
    },
    (_request, reply) => reply.code(404).send(),
  );
}

/** `/api/realtime`, with the trailing slash and query string the router ignores. */
function isRealtimePath(url: string | undefined): boolean {
  if (!url?.startsWith(PATH)) return false;
  const rest = url.slice(PATH.length);
  return rest === "" || rest === "/" || rest[0] === "?" || rest.startsWith("/?");
}

function destroy(this: Duplex): void {
  this.destroy();
}

/** The API's error envelope (as Fastify's error handler sends it) on a socket that was never upgraded. */
function rejectUpgrade(socket: Duplex, error: unknown, log: FastifyInstance["log"]): void {
  const { status, reason, data } = toErrorResponse(error);
  if (status >= 500) log.error({ err: error }, "unhandled error");
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: true, reason, data });
  socket.once("finish", socket.destroy);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      "content-type: application/json; charset=utf-8\r\n" +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `Date: ${new Date().toUTCString()}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}

/**
 * Any other upgrade request gets the answer Fastify gives it (a 404 envelope for an unknown path,
 * a 503 while closing, …) on its raw socket, which is then closed: it is not upgraded.
 */
function routeThroughFastify(app: FastifyInstance, request: IncomingMessage, socket: Duplex): void {
  // Node removes its socket error listener before emitting "upgrade".
  socket.on("error", destroy);
  const response = new ServerResponse(request);
  try {
    response.assignSocket(socket as Socket);
    response.once("finish", () => socket.destroy());
    app.routing(request, response);
  } catch (err) {
    app.log.warn({ err }, "realtime: upgrade request failed");
    socket.destroy();
  }
}
