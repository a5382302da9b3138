import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../core/errors.ts";

/**
 * Per-route counters over a one-minute window (@fastify/rate-limit's `createRateLimit`), failing
 * with Hugo's envelope (`rate_limited`, 429, Retry-After). Several may guard one route (per IP,
 * per account); each is a hook. A `max` of 0 turns that limit off. Counters are per process.
 */
export async function rateLimiters(app: FastifyInstance) {
  await app.register(rateLimit, { global: false });
  return (max: number, key: (req: FastifyRequest) => string) => {
    if (max === 0) return async () => {};
    const check = app.createRateLimit({ max, timeWindow: 60_000, keyGenerator: key });
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const result = await check(req);
      if (!result.isAllowed && result.isExceeded) {
        reply.header("retry-after", result.ttlInSeconds);
        throw new AppError("rate_limited", `Too many requests; retry in ${result.ttlInSeconds} s.`);
      }
    };
  };
}
