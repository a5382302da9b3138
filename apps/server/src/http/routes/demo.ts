import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

/**
 * A pretend order service the seeded "Refund request" workflow calls with its HTTP block, so the
 * demo works with nothing else running. Orders 1000–9999: an even number is refundable.
 */
export const demoRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/demo/orders/:order",
    {
      schema: {
        tags: ["Demo"],
        summary: "Demo order lookup used by the seeded refund workflow",
        params: z.strictObject({ order: z.string().max(64) }),
      },
    },
    async (req, reply) => {
      const order = Number(req.params.order);
      if (!Number.isInteger(order) || order < 1000 || order > 9999) {
        reply.code(404);
        return { error: true, reason: "order_not_found", data: { message: "Demo orders are 1000–9999." } };
      }
      const refundable = order % 2 === 0;
      return { order, status: refundable ? "delivered" : "shipped over 30 days ago", refundable };
    },
  );
};
