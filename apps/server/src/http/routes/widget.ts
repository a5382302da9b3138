import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import {
  Fingerprint,
  ScenarioId,
  TriggerResult,
  VISITOR_HEADER,
  WebsiteId,
  WidgetAnswer,
  WidgetAnswered,
  WidgetHelpdeskQuery,
  WidgetHelpdeskResults,
  WidgetMessageSend,
  WidgetMessageSent,
  WidgetScenarioRun,
  WidgetSession,
  WidgetSessionCreate,
  WidgetVisitorUpdate,
} from "@hugo/protocol";
import type { WidgetAssets } from "@hugo/widget";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import type { VisitorSessionService } from "../../core/visitor-sessions.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

const tags = ["Widget (visitor API)"];
const SiteParams = z.strictObject({ website_id: WebsiteId });

/** Per-IP and per-visitor budgets; the widget opens one session a page view and runs few scenarios. */
export interface WidgetRateLimits {
  sessionsPerIpPerMinute: number;
  scenarioRunsPerIpPerMinute: number;
  scenarioRunsPerVisitorPerMinute: number;
  messagesPerVisitorPerMinute: number;
  /** Help-desk searches; the widget searches as the visitor types (debounced). */
  helpdeskSearchesPerIpPerMinute?: number;
  helpdeskSearchesPerVisitorPerMinute?: number;
}

export const DEFAULT_WIDGET_RATE_LIMITS: WidgetRateLimits = {
  sessionsPerIpPerMinute: 60,
  scenarioRunsPerIpPerMinute: 60,
  scenarioRunsPerVisitorPerMinute: 10,
  messagesPerVisitorPerMinute: 60,
  helpdeskSearchesPerIpPerMinute: 300,
  helpdeskSearchesPerVisitorPerMinute: 60,
};

const visitorOf = (req: FastifyRequest) => {
  const header = req.headers[VISITOR_HEADER];
  return typeof header === "string" ? header : undefined;
};

/**
 * The visitor API under `/api/widget/{website_id}/` (schemas: packages/protocol/src/widget.ts).
 * Public — the widget runs on the customer's origin with no secret — so it answers CORS from any
 * origin; the credential travels in the `X-Hugo-Visitor` header, never in a cookie, so no
 * `Access-Control-Allow-Credentials`. Limits are counted per IP and per visitor credential.
 */
export const widgetApiRoutes =
  (
    visitors: VisitorSessionService,
    limits: WidgetRateLimits = DEFAULT_WIDGET_RATE_LIMITS,
  ): FastifyPluginAsyncZod =>
  async (app) => {
    await app.register(cors, {
      origin: "*",
      methods: ["GET", "POST", "PATCH"],
      allowedHeaders: ["content-type", VISITOR_HEADER, "idempotency-key"],
      exposedHeaders: ["retry-after"],
      maxAge: 600,
    });
    // Only its `createRateLimit` is used: two counters (IP, visitor) on one route, failing with our envelope.
    await app.register(rateLimit, { global: false });
    const limiter = (max: number, key: (req: FastifyRequest) => string) => {
      const check = app.createRateLimit({ max, timeWindow: 60_000, keyGenerator: key });
      return async (req: FastifyRequest, reply: FastifyReply) => {
        const result = await check(req);
        if (!result.isAllowed && result.isExceeded) {
          reply.header("retry-after", result.ttlInSeconds);
          throw new AppError("rate_limited", `Too many requests; retry in ${result.ttlInSeconds} s.`);
        }
      };
    };
    const byIp = (what: string) => (req: FastifyRequest) => `${what}:ip:${req.ip}`;
    // Keyed by the credential's session part; a forged credential fails authentication right after.
    const byVisitor = (what: string) => (req: FastifyRequest) =>
      `${what}:visitor:${visitorOf(req)?.split(".")[1] ?? "none"}`;
    const sessionLimit = limiter(limits.sessionsPerIpPerMinute, byIp("session"));
    const runLimits = [
      limiter(limits.scenarioRunsPerIpPerMinute, byIp("run")),
      limiter(limits.scenarioRunsPerVisitorPerMinute, byVisitor("run")),
    ];
    const messageLimit = limiter(limits.messagesPerVisitorPerMinute, byVisitor("message"));
    const answerLimit = limiter(limits.messagesPerVisitorPerMinute, byVisitor("answer"));
    const searchLimits = [
      limiter(limits.helpdeskSearchesPerIpPerMinute ?? 300, byIp("helpdesk")),
      limiter(limits.helpdeskSearchesPerVisitorPerMinute ?? 60, byVisitor("helpdesk")),
    ];
    const visitor = (req: FastifyRequest) =>
      visitors.authenticate((req.params as { website_id: string }).website_id, visitorOf(req));

    app.post(
      "/:website_id/session",
      {
        onRequest: sessionLimit,
        schema: {
          tags,
          summary: "Create or resume a visitor session",
          description:
            "Returns the conversation (`session_id`) and a visitor credential for the other widget calls and the WebSocket. A valid stored `token` keeps its conversation; `token_id` (CRISP_TOKEN_ID) returns the same conversation for the same id on any device. A new conversation lands in the automated inbox when the agent answers new conversations.",
          params: SiteParams,
          body: WidgetSessionCreate,
          response: { 200: Envelope(WidgetSession), ...errorResponses },
        },
      },
      async (req) => ok(await visitors.open(req.params.website_id, req.body)),
    );

    app.post(
      "/:website_id/message",
      {
        onRequest: messageLimit,
        schema: {
          tags,
          summary: "Send a visitor message",
          description:
            "`do message:send`. The widget chooses `fingerprint`; resending the same message with it returns the stored one.",
          params: SiteParams,
          body: WidgetMessageSend,
          response: { 200: Envelope(WidgetMessageSent), ...errorResponses },
        },
      },
      async (req) => ok(await visitors.sendMessage(visitor(req), req.body), "added"),
    );

    app.post(
      "/:website_id/message/:fingerprint/answer",
      {
        onRequest: answerLimit,
        schema: {
          tags,
          summary: "Answer a picker or fill a field",
          description:
            "The visitor clicks a picker's choice (`value` is the choice's value) or submits a field (`value` is the text), in a picker or field message sent to them. Only the selection or the value changes; a workflow waiting for this answer resumes. A picker is answered once; a field from a workflow is checked against its type (email, phone, number, date, url).",
          params: SiteParams.extend({ fingerprint: Fingerprint }),
          body: WidgetAnswer,
          response: { 200: Envelope(WidgetAnswered), ...errorResponses },
        },
      },
      async (req) =>
        ok(await visitors.answer(visitor(req), req.params.fingerprint, req.body.value), "updated"),
    );

    app.get(
      "/:website_id/helpdesk/search",
      {
        onRequest: searchLimits,
        schema: {
          tags,
          summary: "Search the help desk",
          description:
            "`do helpdesk:search` / `do helpdesk:query [query]`: the knowledge base's search (the agent's own ranking) over the website's help articles and answers only — never web pages, uploaded documents or disabled sources. Up to 8 results, best first, one per source (its best passage), with a plain-text snippet of at most 240 characters. `locale` keeps passages in that locale.",
          params: SiteParams,
          querystring: WidgetHelpdeskQuery,
          response: { 200: Envelope(WidgetHelpdeskResults), ...errorResponses },
        },
      },
      async (req) => ok(await visitors.searchHelpdesk(visitor(req), req.query)),
    );

    app.patch(
      "/:website_id/visitor",
      {
        schema: {
          tags,
          summary: "Set visitor data",
          description:
            "The `set` rows: `user:email|nickname|phone|avatar`, `session:data`, `session:segments`, `session:event`.",
          params: SiteParams,
          body: WidgetVisitorUpdate,
          response: { 200: Envelope(z.object({})), ...errorResponses },
        },
      },
      async (req) => {
        await visitors.update(visitor(req), req.body);
        return ok({}, "updated");
      },
    );

    app.post(
      "/:website_id/scenario/:workflow_id/run",
      {
        onRequest: runLimits,
        schema: {
          tags,
          summary: "Run a browser-startable workflow",
          description:
            "`do bot:scenario:run [scenario_id, variables?]`: the same engine path as `POST /api/scenario/{id}/trigger/`, in the visitor's own conversation. The workflow must be deployed, begin with “Triggered from code” and have its browser switch on.",
          params: SiteParams.extend({ workflow_id: ScenarioId }),
          body: WidgetScenarioRun,
          response: { 202: Envelope(TriggerResult), ...errorResponses },
        },
      },
      async (req, reply) => {
        const result = await visitors.runScenario(visitor(req), req.params.workflow_id, req.body.variables);
        reply.code(202);
        return ok(result, "dispatched");
      },
    );
  };

/**
 * The browser files: `/l.js` (the Crisp snippet's script, only its URL changed), `/l/{website_id}.js`
 * and the widget bundle. Built once, in memory, on first request; revalidated with ETags.
 */
export const widgetAssetRoutes =
  (assets: () => Promise<WidgetAssets>): FastifyPluginAsyncZod =>
  async (app) => {
    const send = (req: FastifyRequest, reply: FastifyReply, body: string, etag: string, cache: string) => {
      reply
        .header("content-type", "text/javascript; charset=utf-8")
        .header("cache-control", cache)
        .header("etag", etag)
        .header("access-control-allow-origin", "*")
        .header("x-content-type-options", "nosniff");
      if (req.headers["if-none-match"] === etag) return reply.code(304).send();
      return reply.send(body);
    };
    // The loader is short-lived in caches so a Hugo upgrade reaches pages within minutes.
    const loaderCache = "public, max-age=300, stale-while-revalidate=3600";
    app.get("/l.js", { schema: { hide: true } }, async (req, reply) => {
      const { loader } = await assets();
      return send(req, reply, loader.body, loader.etag, loaderCache);
    });
    app.get(
      "/l/:file",
      { schema: { hide: true, params: z.strictObject({ file: z.string().max(64) }) } },
      async (req, reply) => {
        const id = req.params.file.endsWith(".js") ? req.params.file.slice(0, -3) : "";
        if (!WebsiteId.safeParse(id).success)
          throw new AppError("route_not_found", "Use /l/{website_id}.js.");
        const loader = (await assets()).loaderFor(id);
        return send(req, reply, loader.body, loader.etag, loaderCache);
      },
    );
    app.get(
      "/widget/:file",
      { schema: { hide: true, params: z.strictObject({ file: z.string().max(64) }) } },
      async (req, reply) => {
        const built = await assets();
        // The path names the content; an older name (a cached loader) still gets the current bundle.
        const current = req.url.split("?")[0] === built.widgetPath;
        if (!/^[A-Za-z0-9_-]+\.js$/.test(req.params.file))
          throw new AppError("route_not_found", "No such widget file.");
        return send(
          req,
          reply,
          built.widget.body,
          built.widget.etag,
          current ? "public, max-age=31536000, immutable" : "public, max-age=300",
        );
      },
    );
  };
