import fastifyCookie from "@fastify/cookie";
import fastifySwagger from "@fastify/swagger";
import type { TokenScope } from "@hugo/protocol";
import { buildWidgetAssets, type WidgetAssets } from "@hugo/widget";
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { KnowledgeService } from "../agent/knowledge/service.ts";
import type { AgentService } from "../agent/service.ts";
import type { AnalyticsService } from "../core/analytics.ts";
import type { ConversationService } from "../core/conversations.ts";
import type { InboxService } from "../core/inbox.ts";
import type { OperatorSessionService } from "../core/operator-sessions.ts";
import type { OperatorService } from "../core/operators.ts";
import type { Stores } from "../core/ports.ts";
import type { TokenService } from "../core/tokens.ts";
import type { VisitorSessionService } from "../core/visitor-sessions.ts";
import type { WebhookService } from "../core/webhooks.ts";
import type { WebsiteService } from "../core/websites.ts";
import { type RealtimeDeps, registerRealtime } from "../realtime/websocket-route.ts";
import type { WorkflowService } from "../workflow/service.ts";
import { authorize } from "./auth.ts";
import { apiDocsPage } from "./docs-page.ts";
import { registerErrorHandling } from "./errors.ts";
import { registerIdempotency } from "./idempotency.ts";
import { agentRoutes } from "./routes/agent.ts";
import { analyticsRoutes } from "./routes/analytics.ts";
import { conversationSignalRoutes } from "./routes/api-conversations.ts";
import { managementRoutes } from "./routes/api-management.ts";
import { authRoutes } from "./routes/auth.ts";
import { crispConversationRoutes } from "./routes/crisp-conversations.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { demoPageRoutes, demoRoutes } from "./routes/demo.ts";
import { inboxRoutes } from "./routes/inbox.ts";
import { knowledgeRoutes } from "./routes/knowledge.ts";
import { snippetRoutes } from "./routes/snippets.ts";
import { type WidgetRateLimits, widgetApiRoutes, widgetAssetRoutes } from "./routes/widget.ts";
import { workflowRoutes } from "./routes/workflows.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The API-token scope a route needs; routes without one are public. */
    scope?: TokenScope;
  }
}

export interface HttpDeps {
  stores: Stores;
  tokens: TokenService;
  conversations: ConversationService;
  operators: OperatorService;
  analytics: AnalyticsService;
  inbox: InboxService;
  /** Operators' dashboard sessions; omitted, `/api/` takes API tokens only. */
  sessions?: OperatorSessionService;
  websites: WebsiteService;
  webhooks: WebhookService;
  workflows: WorkflowService;
  knowledge: KnowledgeService;
  agent: AgentService;
  /** The widget's visitor API (`/api/widget/…`). */
  visitors: VisitorSessionService;
  widgetRateLimits?: WidgetRateLimits;
  bodyLimit: number;
  logger: FastifyServerOptions["logger"];
  publicUrl: string;
  /** The WebSocket endpoint `/api/realtime`; omitted, the app serves HTTP only. */
  realtime?: Pick<RealtimeDeps, "hub" | "secret" | "pingIntervalMs" | "maxBufferedBytes">;
}

/** Builds the Fastify app. Routes stay thin: parse with the schema, call the core, wrap the result. */
export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger,
    bodyLimit: deps.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // Per-request access logs would dominate the log at chat volumes; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();

  // JSON only: a text/plain body is a 415, not a string that fails validation later.
  app.removeContentTypeParser("text/plain");
  app.setValidatorCompiler(validatorCompiler);
  // Responses are built from typed core values; serialising them through zod again would only cost time.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerErrorHandling(app);

  // Cookies are read only for the dashboard's session (never signed: the value is a random secret).
  await app.register(fastifyCookie);
  // Authentication runs before body parsing and validation: an anonymous caller learns nothing about the schema.
  app.addHook("onRequest", async (request) => {
    const scope = request.routeOptions.config?.scope;
    if (!scope) return;
    const websiteId = (request.params as { website_id?: string } | undefined)?.website_id;
    await authorize(deps.tokens, request, scope, websiteId, deps.sessions);
  });
  registerIdempotency(app, deps.stores);
  registerDrain(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Hugo API",
        version: "1.0.0",
        description:
          "Hugo's HTTP API. Every response is the Crisp envelope `{ error, reason, data }`; `reason` is a stable code on errors (docs/ERRORS.md). " +
          "`/api/` takes `Authorization: Bearer hugo_<identifier>_<key>`; the Crisp-compatible `/v1/` also takes `Basic base64(identifier:key)` with `X-Crisp-Tier`. " +
          "Every POST honours `Idempotency-Key` for 24 hours.",
      },
      servers: [{ url: deps.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          basic: { type: "http", scheme: "basic" },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
    transform: jsonSchemaTransform,
  });

  app.get("/health", { schema: { hide: true } }, async () => ({
    error: false,
    reason: "ok",
    data: { status: "ok" },
  }));
  await app.register(crispConversationRoutes(deps.conversations), { prefix: "/v1" });
  if (deps.sessions)
    await app.register(authRoutes({ sessions: deps.sessions, publicUrl: deps.publicUrl }), {
      prefix: "/api",
    });
  await app.register(managementRoutes(deps), { prefix: "/api" });
  await app.register(workflowRoutes(deps.workflows), { prefix: "/api" });
  await app.register(knowledgeRoutes(deps.knowledge), { prefix: "/api" });
  await app.register(agentRoutes(deps.agent), { prefix: "/api" });
  await app.register(analyticsRoutes(deps.analytics), { prefix: "/api" });
  await app.register(inboxRoutes(deps.inbox), { prefix: "/api" });
  await app.register(snippetRoutes(deps), { prefix: "/api" });
  await app.register(conversationSignalRoutes(deps.conversations), { prefix: "/api" });
  await app.register(demoRoutes(deps), { prefix: "/api" });
  await app.register(demoPageRoutes(deps));
  await app.register(dashboardRoutes());
  await app.register(widgetApiRoutes(deps.visitors, deps.widgetRateLimits), { prefix: "/api/widget" });
  // Built on first request (~100 ms, once): processes that never serve a page pay nothing.
  let assets: Promise<WidgetAssets> | undefined;
  const widgetAssets = () => {
    assets ??= buildWidgetAssets().catch((err) => {
      assets = undefined;
      throw err;
    });
    return assets;
  };
  await app.register(widgetAssetRoutes(widgetAssets));
  if (deps.realtime) {
    await registerRealtime(app, {
      ...deps.realtime,
      store: deps.stores.conversations,
      conversations: deps.conversations,
      tokens: deps.tokens,
      sessions: deps.sessions,
    });
  }

  app.get("/api/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  app.get("/api/docs", { schema: { hide: true } }, async (_req, reply) =>
    reply
      .type("text/html; charset=utf-8")
      .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
      .send(apiDocsPage(app.swagger() as OpenApiDoc)),
  );
  return app;
}

export type OpenApiDoc = {
  info: { title: string; description?: string };
  paths?: Record<
    string,
    Record<
      string,
      {
        summary?: string;
        tags?: string[];
        requestBody?: unknown;
        parameters?: unknown[];
        responses?: Record<string, unknown>;
      }
    >
  >;
};

/**
 * Graceful drain. `server.close()` closes the keep-alive connections that are idle at that moment;
 * a connection whose request is still running becomes idle afterwards and would then hold the close
 * open until the keep-alive timeout. While closing, every response says `Connection: close`, and
 * connections that turned idle are closed as they appear.
 */
function registerDrain(app: FastifyInstance): void {
  let draining: NodeJS.Timeout | undefined;
  app.addHook("preClose", async () => {
    draining = setInterval(() => app.server.closeIdleConnections(), 50);
    draining.unref();
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    if (draining) reply.header("connection", "close");
    return payload;
  });
  app.addHook("onClose", async () => clearInterval(draining));
}
