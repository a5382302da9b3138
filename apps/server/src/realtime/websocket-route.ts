import fastifyWebsocket from "@fastify/websocket";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import type { ConversationService } from "../core/conversations.ts";
import type { ConversationStore } from "../core/ports.ts";
import { requireScope, type TokenPrincipal, type TokenService } from "../core/tokens.ts";
import { authenticate } from "../http/auth.ts";
import { Connection } from "./connection.ts";
import type { Hub } from "./hub.ts";

export interface RealtimeDeps {
  hub: Hub;
  store: ConversationStore;
  conversations: ConversationService;
  tokens: TokenService;
  /** Signs visitor credentials. */
  secret: string;
  pingIntervalMs: number;
  maxBufferedBytes: number;
  /** How long a socket without an Authorization header has to send its auth frame. */
  authTimeoutMs?: number;
}

const MAX_FRAME_BYTES = 64 * 1024;
// On shutdown, peers get this long to answer the close frame before their sockets are cut.
const CLOSE_GRACE_MS = 1_000;

/**
 * Registers `@fastify/websocket` on `app` itself (so `app.websocketServer` is visible to the
 * composition root and tests) and the `GET /api/realtime` route (frames:
 * packages/protocol/src/realtime.ts).
 */
export async function registerRealtime(app: FastifyInstance, deps: RealtimeDeps): Promise<void> {
  await app.register(fastifyWebsocket, {
    options: { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false },
    // Socket errors (a reset, an oversized frame) are the peer's problem, not the server's.
    errorHandler: (err, socket, request) => {
      request.log.debug({ err }, "realtime: socket error");
      socket.terminate();
    },
    preClose: async () => {
      const wss = app.websocketServer;
      const open = [...wss.clients];
      const gone = open.map((ws) => new Promise((resolve) => ws.once("close", resolve)));
      for (const ws of open) ws.close(1001, "server shutting down");
      await Promise.race([Promise.all(gone), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS))]);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  });
  await app.register(realtimeRoutes(deps));
}

const realtimeRoutes =
  (deps: RealtimeDeps): FastifyPluginAsync =>
  async (app) => {
    const connections = new Set<Connection>();
    const heartbeat = setInterval(() => {
      const checks = new Map<string, Promise<TokenPrincipal>>();
      for (const c of connections) c.heartbeat(checks);
    }, deps.pingIntervalMs);
    heartbeat.unref();
    app.addHook("onClose", async () => clearInterval(heartbeat));

    app.get(
      "/api/realtime",
      {
        websocket: true,
        schema: { hide: true },
        // Operators may authenticate on the upgrade request; a bad token fails it with a 401 envelope.
        onRequest: async (request) => {
          if (!request.headers.authorization) return;
          requireScope(await authenticate(deps.tokens, request), "conversations:read");
        },
      },
      (socket, request) => {
        const token = request.principal;
        const connection = new Connection(
          socket,
          {
            hub: deps.hub,
            store: deps.store,
            conversations: deps.conversations,
            tokens: deps.tokens,
            secret: deps.secret,
            maxBufferedBytes: deps.maxBufferedBytes,
            authTimeoutMs: deps.authTimeoutMs ?? 5_000,
            log: request.log,
          },
          token && {
            kind: "operator",
            websiteId: token.websiteId,
            tokenId: token.tokenId,
            reauthenticate: () => authenticate(deps.tokens, request),
          },
        );
        connections.add(connection);
        socket.on("close", () => connections.delete(connection));
      },
    );
  };
