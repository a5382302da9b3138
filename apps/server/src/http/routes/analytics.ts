import { Analytics, AnalyticsQuery } from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { AnalyticsService } from "../../core/analytics.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

/** The dashboard's analytics (`GET /api/analytics`). */
export const analyticsRoutes =
  (analytics: AnalyticsService): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/analytics",
      {
        config: { scope: "conversations:read" },
        schema: {
          tags: ["Analytics"],
          summary:
            "Conversations, the agent's outcomes, workflow runs and unanswered questions over a window",
          description:
            "Buckets are UTC days or weeks from `from` (default: the last 30 days from a UTC midnight). Unanswered questions are what visitors asked in the turns the agent escalated, grouped regardless of case and final punctuation.",
          querystring: AnalyticsQuery,
          response: { 200: Envelope(Analytics), ...errorResponses },
        },
      },
      async (req) => ok(await analytics.overview(req.principal!.websiteId, req.query)),
    );
  };
