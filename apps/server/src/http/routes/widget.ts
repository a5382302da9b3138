import cors from "@fastify/cors";
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
  WidgetRead,
  WidgetReadDone,
  WidgetScenarioRun,
  WidgetSession,
  WidgetSessionCreate,
  WidgetUploaded,
  WidgetUploadQuery,
  WidgetVisitorUpdate,
} from "@hugo/protocol";
import type { WidgetAssets } from "@hugo/widget";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod, ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { originAllowed, type VisitorSessionService } from "../../core/visitor-sessions.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";
import { rateLimiters } from "../rate-limit.ts";

const tags = ["Widget (visitor API)"];
const SiteParams = z.strictObject({ website_id: WebsiteId });

/**
 * Per-IP and per-visitor budgets, requests a minute (0: no limit); set by the WIDGET_*_PER_MINUTE
 * variables. The widget opens one session a page view and runs few scenarios.
 */
export interface WidgetRateLimits {
  sessionsPerIpPerMinute: number;
  scenarioRunsPerIpPerMinute: number;
  scenarioRunsPerVisitorPerMinute: number;
  /** Messages, and as many picker/field answers. */
  messagesPerVisitorPerMinute: number;
  /** `PATCH …/visitor` (the `set` rows). */
  updatesPerVisitorPerMinute: number;
  /** Help-desk searches; the widget searches as the visitor types (debounced). */
  helpdeskSearchesPerIpPerMinute: number;
  helpdeskSearchesPerVisitorPerMinute: number;
  uploadsPerVisitorPerMinute: number;
  /** Not a rate: the largest file a visitor may send, in bytes. */
  uploadMaxBytes: number;
}

export const DEFAULT_WIDGET_RATE_LIMITS: WidgetRateLimits = {
  sessionsPerIpPerMinute: 60,
  scenarioRunsPerIpPerMinute: 60,
  scenarioRunsPerVisitorPerMinute: 10,
  messagesPerVisitorPerMinute: 60,
  updatesPerVisitorPerMinute: 120,
  helpdeskSearchesPerIpPerMinute: 300,
  helpdeskSearchesPerVisitorPerMinute: 60,
  uploadsPerVisitorPerMinute: 10,
  uploadMaxBytes: 10 * 1024 * 1024,
};

const visitorOf = (req: FastifyRequest) => {
  const header = req.headers[VISITOR_HEADER];
  return typeof header === "string" ? header : undefined;
};

/** The website id of a widget API path (also of the CORS preflight route, which has no params of ours). */
const websiteOf = (req: FastifyRequest) => /^\/api\/widget\/([^/?]+)/.exec(req.url)?.[1] ?? "";

/**
 * The visitor API under `/api/widget/{website_id}/` (schemas: packages/protocol/src/widget.ts).
 * Public — the widget runs on the customer's origin with no secret — so it answers CORS from any
 * origin, or only from the website's `widget.allowed_origins` when it has some (a request whose
 * `Origin` is another is refused with 403 `origin_not_allowed`, preflights included; requests
 * without an `Origin`, from servers, are not browsers' and pass). The credential travels in the
 * `X-Hugo-Visitor` header, never in a cookie, so no `Access-Control-Allow-Credentials`. Limits are
 * counted per IP and per visitor credential.
 */
export const widgetApiRoutes =
  (
    visitors: VisitorSessionService,
    limits: WidgetRateLimits = DEFAULT_WIDGET_RATE_LIMITS,
  ): FastifyPluginAsyncZod =>
  async (app) => {
    // One read of the website's allow-list per request, shared by the check and the CORS answer.
    const origins = new WeakMap<FastifyRequest, Promise<string[] | undefined>>();
    const allowedOf = (req: FastifyRequest) => {
      let found = origins.get(req);
      if (!found) {
        const id = websiteOf(req);
        found = WebsiteId.safeParse(id).success ? visitors.allowedOrigins(id) : Promise.resolve(undefined);
        origins.set(req, found);
      }
      return found;
    };
    app.addHook("onRequest", async (req) => {
      const origin = req.headers.origin;
      if (origin === undefined) return;
      // An unknown website has no list: its routes answer 404 themselves.
      if (originAllowed((await allowedOf(req)) ?? [], origin)) return;
      throw new AppError(
        "origin_not_allowed",
        `Pages of ${origin.slice(0, 200)} may not use this website's chat widget; add the origin to its widget.allowed_origins.`,
      );
    });
    const corsOptions = {
      methods: ["GET", "POST", "PATCH"],
      allowedHeaders: ["content-type", VISITOR_HEADER, "idempotency-key"],
      exposedHeaders: ["retry-after"],
      maxAge: 600,
    };
    // Any origin ("*") without an allow-list; with one, the (allowed) origin itself, varying on it.
    await app.register(cors, () => (req: FastifyRequest, done: (e: Error | null, o?: object) => void) => {
      allowedOf(req).then(
        (list) =>
          done(null, {
            ...corsOptions,
            origin: list && list.length > 0 ? (req.headers.origin ?? false) : "*",
          }),
        (error: Error) => done(error),
      );
    });
    // Two counters (IP, visitor) on one route, failing with our envelope; 0 turns a limit off.
    const limiter = await rateLimiters(app);
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
    const updateLimit = limiter(limits.updatesPerVisitorPerMinute, byVisitor("update"));
    const uploadLimit = limiter(limits.uploadsPerVisitorPerMinute, byVisitor("upload"));
    const searchLimits = [
      limiter(limits.helpdeskSearchesPerIpPerMinute, byIp("helpdesk")),
      limiter(limits.helpdeskSearchesPerVisitorPerMinute, byVisitor("helpdesk")),
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

    // Files: the body is the file itself, whatever its type (JSON included), so this route has its
    // own parsers and body limit; it keeps the origin check and CORS of the rest.
    await app.register(async (scope) => {
      const files = scope.withTypeProvider<ZodTypeProvider>();
      files.removeAllContentTypeParsers();
      files.addContentTypeParser(
        "*",
        { parseAs: "buffer", bodyLimit: limits.uploadMaxBytes },
        (_req, body, done) => done(null, body),
      );
      files.post(
        "/:website_id/file",
        {
          onRequest: uploadLimit,
          bodyLimit: limits.uploadMaxBytes,
          schema: {
            tags,
            summary: "Send a file",
            description:
              "The request body is the file and its `Content-Type` the file's type; `name` is its name. At most WIDGET_UPLOAD_MAX_BYTES (413 `payload_too_large` beyond). Answers where it is served (`path`, no credential needed: the id is unguessable); the widget then sends a `file` message with that URL. Served inline only for raster images (PNG, JPEG, GIF, WebP, AVIF), as a download (`application/octet-stream`) otherwise, always with `X-Content-Type-Options: nosniff`.",
            params: SiteParams,
            querystring: WidgetUploadQuery,
            response: { 200: Envelope(WidgetUploaded), ...errorResponses },
          },
        },
        async (req) =>
          ok(
            await visitors.upload(visitor(req), {
              name: req.query.name,
              type: req.headers["content-type"],
              data: req.body instanceof Uint8Array ? req.body : undefined,
            }),
            "added",
          ),
      );
    });

    app.get(
      "/:website_id/file/:file_id/:name",
      {
        // A file's URL (as in a `file` message), not an API call: out of the OpenAPI document, like
        // the widget's own files. No credential: the file id is unguessable. Raster images inline
        // with their type; every other file as `application/octet-stream`, `attachment`.
        schema: {
          hide: true,
          params: SiteParams.extend({
            file_id: z.string().regex(/^file_[0-9a-f-]{36}$/, "must be a file id"),
            name: z.string().max(1024),
          }),
        },
      },
      async (req, reply) => {
        const file = await visitors.file(req.params.website_id, req.params.file_id);
        const ascii = file.name.replace(/[^\x20-\x7e]|["\\]/g, "_");
        return reply
          .header("content-type", file.type)
          .header(
            "content-disposition",
            `${file.inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.name)}`,
          )
          .header("x-content-type-options", "nosniff")
          .header("content-security-policy", "default-src 'none'; sandbox")
          .header("cross-origin-resource-policy", "cross-origin")
          .header("cache-control", "private, max-age=31536000, immutable")
          .send(Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength));
      },
    );

    app.post(
      "/:website_id/read",
      {
        onRequest: updateLimit,
        schema: {
          tags,
          summary: "Mark the operator's messages read",
          description:
            "Read receipts: `do message:read`, or the visitor looking at the open chat. The operator's, bot's and agent's messages (these `fingerprints`, or all) become `read`, `unread.visitor` drops, and operators hear `message:acknowledge:read`. Answers the fingerprints that became read.",
          params: SiteParams,
          body: WidgetRead,
          response: { 200: Envelope(WidgetReadDone), ...errorResponses },
        },
      },
      async (req) => ok(await visitors.markRead(visitor(req), req.body), "updated"),
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
        onRequest: updateLimit,
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
