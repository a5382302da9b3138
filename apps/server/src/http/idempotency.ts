import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sha256Hex } from "../core/crypto.ts";
import { AppError } from "../core/errors.ts";
import type { Stores } from "../core/ports.ts";

declare module "fastify" {
  interface FastifyRequest {
    idempotency?: { scope: string; key: string };
  }
  interface FastifyContextConfig {
    /** `false`: the route ignores Idempotency-Key (sign-in: a replay cannot set the cookie again). */
    idempotent?: boolean;
  }
}

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
// A claim with no stored answer after this long belongs to a request that died; a retry may take it over.
const STALE_CLAIM_MS = 60_000;
const WAIT_FOR_TWIN_MS = 10_000;
const KEY_RE = /^[\x21-\x7e]{1,255}$/;

/**
 * `Idempotency-Key` on POST: the first request with a key runs; later ones with the same key and
 * the same request get the stored status and body (`Idempotent-Replayed: true`), even when they
 * arrive while the first is still running; the same key on a different request is a 422.
 */
export function registerIdempotency(app: FastifyInstance, stores: Stores): void {
  const store = stores.idempotency;
  // A POST with a key runs in one transaction with the write of its stored answer: a crash leaves
  // either both (a retry replays) or neither (a retry runs it afresh) — never a second creation.
  // Handlers must therefore return their payload (not reply.send it) so it is stored before commit.
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes("POST") || route.config?.idempotent === false) return;
    const handler = route.handler;
    route.handler = async function idempotent(this: FastifyInstance, request, reply) {
      const idem = request.idempotency;
      if (!idem) return handler.call(this, request, reply);
      return stores.atomically(async () => {
        const payload = await handler.call(this, request, reply);
        if (reply.sent || payload === undefined) {
          throw new Error(
            `POST ${route.url} sent its reply itself; idempotent routes must return the payload`,
          );
        }
        await store.complete(idem.scope, idem.key, reply.statusCode, JSON.stringify(payload));
        request.idempotency = undefined;
        return payload;
      });
    };
  });

  app.addHook("preHandler", async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== "POST" || request.routeOptions.config?.idempotent === false) return;
    const raw = request.headers["idempotency-key"];
    if (raw === undefined) return;
    if (typeof raw !== "string" || !KEY_RE.test(raw)) {
      throw new AppError("invalid_header", "Idempotency-Key must be 1–255 printable ASCII characters.", {
        field: "Idempotency-Key",
      });
    }
    const scope = request.principal ? `token-website:${request.principal.websiteId}` : `ip:${request.ip}`;
    const hash = sha256Hex(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`);
    const deadline = Date.now() + WAIT_FOR_TWIN_MS;
    for (;;) {
      const now = Date.now();
      const claim = await store.claim(scope, raw, hash, now, now - STALE_CLAIM_MS);
      if (claim.state === "claimed") {
        request.idempotency = { scope, key: raw };
        return;
      }
      if (claim.requestHash !== hash) {
        throw new AppError("idempotency_key_reused", undefined, { field: "Idempotency-Key" });
      }
      if (claim.state === "done") {
        return reply
          .code(claim.status)
          .header("idempotent-replayed", "true")
          .type("application/json")
          .send(claim.response);
      }
      if (now > deadline)
        throw new AppError("idempotency_in_progress", undefined, { field: "Idempotency-Key" });
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  app.addHook("onSend", async (request, reply, payload) => {
    const idem = request.idempotency;
    if (!idem) return payload;
    request.idempotency = undefined;
    if (reply.statusCode >= 500 || typeof payload !== "string") await store.release(idem.scope, idem.key);
    else await store.complete(idem.scope, idem.key, reply.statusCode, payload);
    return payload;
  });
}
