import { z } from "zod";
import {
  AgentSettings,
  AgentSettingsUpdate,
  AgentTrigger,
  AgentTriggerResult,
  AgentTurn,
  AgentTurnListQuery,
  ProviderCheck,
} from "./agent.ts";
import { Analytics, AnalyticsQuery } from "./analytics.ts";
import { AuthSession, OwnerSetup, SetupStatus, SignIn, WebsiteSwitch } from "./auth.ts";
import { Conversation, HttpUrl, Message } from "./conversation.ts";
import {
  Fingerprint,
  OperatorId,
  ScenarioId,
  SessionId,
  SourceId,
  TokenId,
  TurnId,
  WebsiteId,
} from "./ids.ts";
import {
  ConversationUpdate,
  InboxCounts,
  InboxMessages,
  InboxMessagesQuery,
  InboxPage,
  InboxQuery,
  OperatorReply,
} from "./inbox.ts";
import {
  KnowledgeCrawl,
  KnowledgeCrawlResult,
  KnowledgeSearchQuery,
  KnowledgeSettings,
  KnowledgeSettingsUpdate,
  SearchHit,
  SearchMode,
  Source,
  SourceCreate,
  SourceImport,
  SourceImportResult,
  SourceListQuery,
  SourceUpdate,
} from "./knowledge.ts";
import {
  CreatedToken,
  CreatedWebhook,
  Operator,
  OperatorCreate,
  OperatorUpdate,
  Token,
  TokenCreate,
  type TokenScope,
  Webhook,
  WebhookCreate,
  WebsiteSettings,
  WebsiteUpdate,
} from "./management.ts";
import { AgentSnippetsQuery, SnippetSet, WorkflowSnippetsQuery } from "./snippets.ts";
import {
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
} from "./widget.ts";
import {
  Run,
  RunDetail,
  RunId,
  RunListQuery,
  TriggerResult,
  Workflow,
  WorkflowCreate,
  WorkflowExport,
  WorkflowSummary,
  WorkflowTestRun,
  WorkflowTrigger,
  WorkflowUpdate,
  WorkflowVersion,
} from "./workflow.ts";
import { BlockCatalogEntry } from "./workflow-blocks.ts";

/**
 * Who may call an endpoint: an API token (`Authorization: Bearer hugo_…`; the dashboard's operator
 * session works there too), only a signed-in operator's session cookie, a widget visitor
 * (`X-Hugo-Visitor`), or anyone.
 */
export type EndpointAuth = "bearer" | "session" | "visitor" | "none";
export type EndpointMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** One `/api/` endpoint: where it lives, who may call it, and the schemas of what goes in and out. */
export type Endpoint = {
  method: EndpointMethod;
  /** The path template, parameters in braces as in the OpenAPI document: `/api/runs/{run_id}`. */
  path: `/api/${string}`;
  /** The success status. */
  status: 200 | 201 | 202;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The response envelope's `data`; with `envelope: false`, the whole response body. Absent: undeclared. */
  data?: z.ZodType;
  /** `false`: the body is not the `{error, reason, data}` envelope (a file download, the demo order service). */
  envelope?: false;
  /** Fields the envelope carries beside `data` (the search's `mode`). */
  extra?: Record<string, z.ZodType>;
  /** The request body is a file's raw bytes with its own Content-Type (the query names it), not JSON. */
  upload?: true;
} & ({ auth: "bearer"; scope: TokenScope } | { auth: "session" | "visitor" | "none"; scope?: undefined });

// Path parameters: the routes take them from here; endpoints.test.ts proves table and routes agree.
const Empty = z.object({});
export const WorkflowParams = z.strictObject({ workflow_id: ScenarioId });
export const VersionParams = WorkflowParams.extend({ version: z.coerce.number().int().positive() });
export const SessionParams = z.strictObject({ session_id: SessionId });
export const RunParams = z.strictObject({ run_id: RunId });
export const SourceParams = z.strictObject({ source_id: SourceId });
export const SiteParams = z.strictObject({ website_id: WebsiteId });
export const TurnParams = z.strictObject({ turn_id: TurnId });
export const TokenParams = z.strictObject({ token_id: TokenId });
export const OperatorParams = z.strictObject({ operator_id: OperatorId });
export const WebhookParams = z.strictObject({ webhook_id: z.string().uuid() });
export const OrderParams = z.strictObject({ order: z.string().max(64) });

/** Body of `POST /api/conversations/{session_id}/events`: a custom session event. */
export const ConversationEventPush = z.strictObject({
  name: z.string().trim().min(1).max(100),
  data: z
    .record(z.string().min(1).max(100), z.union([z.string().max(2000), z.number(), z.boolean()]))
    .refine((d) => Object.keys(d).length <= 40, "at most 40 keys")
    .optional(),
});
export type ConversationEventPush = z.infer<typeof ConversationEventPush>;

/** Body of `POST /api/conversations/{session_id}/page`: the page the visitor is on. */
export const ConversationPageVisit = z.strictObject({
  url: HttpUrl,
  title: z.string().max(500).optional(),
});
export type ConversationPageVisit = z.infer<typeof ConversationPageVisit>;

/** Body of `POST /api/demo/agent`, the demo page's pretend backend. */
export const DemoAgentCall = z.strictObject({ session_id: SessionId });
export type DemoAgentCall = z.infer<typeof DemoAgentCall>;

/**
 * Every `/api/` endpoint, by the name the client gives its method (`area.verb`). The schemas are the
 * objects the routes use, or equal to them (a server test compares each with the OpenAPI document and
 * fails when a route has no entry here), so `@hugo/client` is typed from the server's own contract.
 */
export const ENDPOINTS = {
  "website.get": {
    method: "GET",
    path: "/api/website",
    auth: "bearer",
    scope: "website:manage",
    status: 200,
    data: WebsiteSettings,
  },
  "website.update": {
    method: "PATCH",
    path: "/api/website",
    auth: "bearer",
    scope: "website:manage",
    status: 200,
    body: WebsiteUpdate,
    data: WebsiteSettings,
  },

  "tokens.list": {
    method: "GET",
    path: "/api/tokens",
    auth: "bearer",
    scope: "tokens:manage",
    status: 200,
    data: z.array(Token),
  },
  "tokens.create": {
    method: "POST",
    path: "/api/tokens",
    auth: "bearer",
    scope: "tokens:manage",
    status: 201,
    body: TokenCreate,
    data: CreatedToken,
  },
  "tokens.revoke": {
    method: "DELETE",
    path: "/api/tokens/{token_id}",
    auth: "bearer",
    scope: "tokens:manage",
    status: 200,
    params: TokenParams,
    data: Empty,
  },

  "operators.list": {
    method: "GET",
    path: "/api/operators",
    auth: "bearer",
    scope: "operators:manage",
    status: 200,
    data: z.array(Operator),
  },
  "operators.create": {
    method: "POST",
    path: "/api/operators",
    auth: "bearer",
    scope: "operators:manage",
    status: 201,
    body: OperatorCreate,
    data: Operator,
  },
  "operators.get": {
    method: "GET",
    path: "/api/operators/{operator_id}",
    auth: "bearer",
    scope: "operators:manage",
    status: 200,
    params: OperatorParams,
    data: Operator,
  },
  "operators.update": {
    method: "PATCH",
    path: "/api/operators/{operator_id}",
    auth: "bearer",
    scope: "operators:manage",
    status: 200,
    params: OperatorParams,
    body: OperatorUpdate,
    data: Operator,
  },
  "operators.delete": {
    method: "DELETE",
    path: "/api/operators/{operator_id}",
    auth: "bearer",
    scope: "operators:manage",
    status: 200,
    params: OperatorParams,
    data: Empty,
  },

  "webhooks.list": {
    method: "GET",
    path: "/api/webhooks",
    auth: "bearer",
    scope: "website:manage",
    status: 200,
    data: z.array(Webhook),
  },
  "webhooks.create": {
    method: "POST",
    path: "/api/webhooks",
    auth: "bearer",
    scope: "website:manage",
    status: 201,
    body: WebhookCreate,
    data: CreatedWebhook,
  },
  "webhooks.delete": {
    method: "DELETE",
    path: "/api/webhooks/{webhook_id}",
    auth: "bearer",
    scope: "website:manage",
    status: 200,
    params: WebhookParams,
    data: Empty,
  },

  "workflows.trigger": {
    method: "POST",
    path: "/api/scenario/{workflow_id}/trigger",
    auth: "bearer",
    scope: "workflows:trigger",
    status: 202,
    params: WorkflowParams,
    body: WorkflowTrigger,
    data: TriggerResult,
  },
  "workflows.blocks": {
    method: "GET",
    path: "/api/workflows/blocks",
    auth: "bearer",
    scope: "workflows:read",
    status: 200,
    data: z.array(BlockCatalogEntry),
  },
  "workflows.list": {
    method: "GET",
    path: "/api/workflows",
    auth: "bearer",
    scope: "workflows:read",
    status: 200,
    data: z.array(WorkflowSummary),
  },
  "workflows.create": {
    method: "POST",
    path: "/api/workflows",
    auth: "bearer",
    scope: "workflows:write",
    status: 201,
    body: WorkflowCreate,
    data: Workflow,
  },
  "workflows.import": {
    method: "POST",
    path: "/api/workflows/import",
    auth: "bearer",
    scope: "workflows:write",
    status: 201,
    body: WorkflowExport,
    data: Workflow,
  },
  "workflows.get": {
    method: "GET",
    path: "/api/workflows/{workflow_id}",
    auth: "bearer",
    scope: "workflows:read",
    status: 200,
    params: WorkflowParams,
    data: Workflow,
  },
  "workflows.update": {
    method: "PATCH",
    path: "/api/workflows/{workflow_id}",
    auth: "bearer",
    scope: "workflows:write",
    status: 200,
    params: WorkflowParams,
    body: WorkflowUpdate,
    data: Workflow,
  },
  "workflows.delete": {
    method: "DELETE",
    path: "/api/workflows/{workflow_id}",
    auth: "bearer",
    scope: "workflows:write",
    status: 200,
    params: WorkflowParams,
    data: Empty,
  },
  "workflows.duplicate": {
    method: "POST",
    path: "/api/workflows/{workflow_id}/duplicate",
    auth: "bearer",
    scope: "workflows:write",
    status: 201,
    params: WorkflowParams,
    data: Workflow,
  },
  "workflows.deploy": {
    method: "POST",
    path: "/api/workflows/{workflow_id}/deploy",
    auth: "bearer",
    scope: "workflows:write",
    status: 201,
    params: WorkflowParams,
    data: WorkflowVersion,
  },
  "workflows.listVersions": {
    method: "GET",
    path: "/api/workflows/{workflow_id}/versions",
    auth: "bearer",
    scope: "workflows:read",
    status: 200,
    params: WorkflowParams,
    data: z.array(WorkflowVersion),
  },
  "workflows.getVersion": {
    method: "GET",
    path: "/api/workflows/{workflow_id}/versions/{version}",
    auth: "bearer",
    scope: "workflows:read",
    status: 200,
    params: VersionParams,
    data: WorkflowVersion,
  },
  "workflows.activateVersion": {
    method: "POST",
    path: "/api/workflows/{workflow_id}/versions/{version}/activate",
    auth: "bearer",
    scope: "workflows:write",
    status: 200,
    params: VersionParams,
    data: Workflow,
  },
  "workflows.export": {
    method: "GET",
    path: "/api/workflows/{workflow_id}/export",
    auth: "bearer",
    scope: "workflows:read",
    status: 200,
    params: WorkflowParams,
    data: WorkflowExport,
    envelope: false,
  },
  "workflows.test": {
    method: "POST",
    path: "/api/workflows/{workflow_id}/test",
    auth: "bearer",
    scope: "workflows:write",
    status: 202,
    params: WorkflowParams,
    body: WorkflowTestRun,
    data: TriggerResult,
  },
  "workflows.listRuns": {
    method: "GET",
    path: "/api/workflows/{workflow_id}/runs",
    auth: "bearer",
    scope: "workflows:read",
    status: 200,
    params: WorkflowParams,
    query: RunListQuery,
    data: z.array(Run),
  },

  "runs.get": {
    method: "GET",
    path: "/api/runs/{run_id}",
    auth: "bearer",
    scope: "workflows:read",
    status: 200,
    params: RunParams,
    data: RunDetail,
  },
  "runs.cancel": {
    method: "POST",
    path: "/api/runs/{run_id}/cancel",
    auth: "bearer",
    scope: "workflows:write",
    status: 200,
    params: RunParams,
    data: Run,
  },

  "conversations.list": {
    method: "GET",
    path: "/api/conversations",
    auth: "bearer",
    scope: "conversations:read",
    status: 200,
    query: InboxQuery,
    data: InboxPage,
  },
  "conversations.counts": {
    method: "GET",
    path: "/api/conversations/counts",
    auth: "bearer",
    scope: "conversations:read",
    status: 200,
    data: InboxCounts,
  },
  "conversations.get": {
    method: "GET",
    path: "/api/conversations/{session_id}",
    auth: "bearer",
    scope: "conversations:read",
    status: 200,
    params: SessionParams,
    data: Conversation,
  },
  "conversations.update": {
    method: "PATCH",
    path: "/api/conversations/{session_id}",
    auth: "bearer",
    scope: "conversations:write",
    status: 200,
    params: SessionParams,
    body: ConversationUpdate,
    data: Conversation,
  },
  "conversations.listMessages": {
    method: "GET",
    path: "/api/conversations/{session_id}/messages",
    auth: "bearer",
    scope: "conversations:read",
    status: 200,
    params: SessionParams,
    query: InboxMessagesQuery,
    data: InboxMessages,
  },
  "conversations.reply": {
    method: "POST",
    path: "/api/conversations/{session_id}/messages",
    auth: "bearer",
    scope: "conversations:write",
    status: 201,
    params: SessionParams,
    body: OperatorReply,
    data: Message,
  },
  "conversations.listRuns": {
    method: "GET",
    path: "/api/conversations/{session_id}/runs",
    auth: "bearer",
    scope: "workflows:read",
    status: 200,
    params: SessionParams,
    query: RunListQuery,
    data: z.array(Run),
  },
  "conversations.pushEvent": {
    method: "POST",
    path: "/api/conversations/{session_id}/events",
    auth: "bearer",
    scope: "conversations:write",
    status: 202,
    params: SessionParams,
    body: ConversationEventPush,
    data: Empty,
  },
  "conversations.visitPage": {
    method: "POST",
    path: "/api/conversations/{session_id}/page",
    auth: "bearer",
    scope: "conversations:write",
    status: 202,
    params: SessionParams,
    body: ConversationPageVisit,
    data: Empty,
  },

  "knowledge.createSource": {
    method: "POST",
    path: "/api/knowledge/sources",
    auth: "bearer",
    scope: "knowledge:write",
    status: 201,
    body: SourceCreate,
    data: Source,
  },
  "knowledge.listSources": {
    method: "GET",
    path: "/api/knowledge/sources",
    auth: "bearer",
    scope: "knowledge:read",
    status: 200,
    query: SourceListQuery,
    data: z.array(Source),
  },
  "knowledge.getSource": {
    method: "GET",
    path: "/api/knowledge/sources/{source_id}",
    auth: "bearer",
    scope: "knowledge:read",
    status: 200,
    params: SourceParams,
    data: Source,
  },
  "knowledge.updateSource": {
    method: "PATCH",
    path: "/api/knowledge/sources/{source_id}",
    auth: "bearer",
    scope: "knowledge:write",
    status: 200,
    params: SourceParams,
    body: SourceUpdate,
    data: Source,
  },
  "knowledge.deleteSource": {
    method: "DELETE",
    path: "/api/knowledge/sources/{source_id}",
    auth: "bearer",
    scope: "knowledge:write",
    status: 200,
    params: SourceParams,
    data: z.null(),
  },
  "knowledge.reindexSource": {
    method: "POST",
    path: "/api/knowledge/sources/{source_id}/reindex",
    auth: "bearer",
    scope: "knowledge:write",
    status: 200,
    params: SourceParams,
    data: Source,
  },
  "knowledge.importSources": {
    method: "POST",
    path: "/api/knowledge/import",
    auth: "bearer",
    scope: "knowledge:write",
    status: 200,
    body: SourceImport,
    data: SourceImportResult,
  },
  "knowledge.crawl": {
    method: "POST",
    path: "/api/knowledge/crawl",
    auth: "bearer",
    scope: "knowledge:write",
    status: 200,
    body: KnowledgeCrawl,
    data: KnowledgeCrawlResult,
  },
  "knowledge.search": {
    method: "GET",
    path: "/api/knowledge/search",
    auth: "bearer",
    scope: "knowledge:read",
    status: 200,
    query: KnowledgeSearchQuery,
    data: z.array(SearchHit),
    extra: { mode: SearchMode.describe("The ranking used: BM25 alone, or hybrid.") },
  },
  "knowledge.getSettings": {
    method: "GET",
    path: "/api/knowledge/settings",
    auth: "bearer",
    scope: "website:manage",
    status: 200,
    data: KnowledgeSettings,
  },
  "knowledge.updateSettings": {
    method: "PATCH",
    path: "/api/knowledge/settings",
    auth: "bearer",
    scope: "website:manage",
    status: 200,
    body: KnowledgeSettingsUpdate,
    data: KnowledgeSettings,
  },

  "agent.trigger": {
    method: "POST",
    path: "/api/agent/trigger",
    auth: "bearer",
    scope: "agent:trigger",
    status: 202,
    body: AgentTrigger,
    data: AgentTriggerResult,
  },
  "agent.getTurn": {
    method: "GET",
    path: "/api/agent/turns/{turn_id}",
    auth: "bearer",
    scope: "conversations:read",
    status: 200,
    params: TurnParams,
    data: AgentTurn,
  },
  "agent.listTurns": {
    method: "GET",
    path: "/api/agent/turns",
    auth: "bearer",
    scope: "conversations:read",
    status: 200,
    query: AgentTurnListQuery,
    data: z.array(AgentTurn),
  },
  "agent.getSettings": {
    method: "GET",
    path: "/api/agent/settings",
    auth: "bearer",
    scope: "website:manage",
    status: 200,
    data: AgentSettings,
  },
  "agent.updateSettings": {
    method: "PATCH",
    path: "/api/agent/settings",
    auth: "bearer",
    scope: "website:manage",
    status: 200,
    body: AgentSettingsUpdate,
    data: AgentSettings,
  },
  "agent.checkProvider": {
    method: "POST",
    path: "/api/agent/settings/provider/check",
    auth: "bearer",
    scope: "website:manage",
    status: 200,
    data: ProviderCheck,
  },

  "widget.openSession": {
    method: "POST",
    path: "/api/widget/{website_id}/session",
    auth: "none",
    status: 200,
    params: SiteParams,
    body: WidgetSessionCreate,
    data: WidgetSession,
  },
  "widget.sendMessage": {
    method: "POST",
    path: "/api/widget/{website_id}/message",
    auth: "visitor",
    status: 200,
    params: SiteParams,
    body: WidgetMessageSend,
    data: WidgetMessageSent,
  },
  "widget.answer": {
    method: "POST",
    path: "/api/widget/{website_id}/message/{fingerprint}/answer",
    auth: "visitor",
    status: 200,
    params: SiteParams.extend({ fingerprint: Fingerprint }),
    body: WidgetAnswer,
    data: WidgetAnswered,
  },
  "widget.searchHelpdesk": {
    method: "GET",
    path: "/api/widget/{website_id}/helpdesk/search",
    auth: "visitor",
    status: 200,
    params: SiteParams,
    query: WidgetHelpdeskQuery,
    data: WidgetHelpdeskResults,
  },
  "widget.updateVisitor": {
    method: "PATCH",
    path: "/api/widget/{website_id}/visitor",
    auth: "visitor",
    status: 200,
    params: SiteParams,
    body: WidgetVisitorUpdate,
    data: Empty,
  },
  "widget.markRead": {
    method: "POST",
    path: "/api/widget/{website_id}/read",
    auth: "visitor",
    status: 200,
    params: SiteParams,
    body: WidgetRead,
    data: WidgetReadDone,
  },
  "widget.uploadFile": {
    method: "POST",
    path: "/api/widget/{website_id}/file",
    auth: "visitor",
    status: 200,
    params: SiteParams,
    query: WidgetUploadQuery,
    upload: true,
    data: WidgetUploaded,
  },
  "widget.runScenario": {
    method: "POST",
    path: "/api/widget/{website_id}/scenario/{workflow_id}/run",
    auth: "visitor",
    status: 202,
    params: SiteParams.extend({ workflow_id: ScenarioId }),
    body: WidgetScenarioRun,
    data: TriggerResult,
  },

  "workflows.snippets": {
    method: "GET",
    path: "/api/scenario/{workflow_id}/snippets",
    auth: "bearer",
    scope: "workflows:read",
    status: 200,
    params: WorkflowParams,
    query: WorkflowSnippetsQuery,
    data: SnippetSet,
  },
  "agent.snippets": {
    method: "GET",
    path: "/api/agent/snippets",
    auth: "bearer",
    scope: "agent:trigger",
    status: 200,
    query: AgentSnippetsQuery,
    data: SnippetSet,
  },

  "analytics.get": {
    method: "GET",
    path: "/api/analytics",
    auth: "bearer",
    scope: "conversations:read",
    status: 200,
    query: AnalyticsQuery,
    data: Analytics,
  },

  "auth.setupStatus": {
    method: "GET",
    path: "/api/auth/setup",
    auth: "none",
    status: 200,
    data: SetupStatus,
  },
  "auth.setup": {
    method: "POST",
    path: "/api/auth/setup",
    auth: "none",
    status: 201,
    body: OwnerSetup,
    data: AuthSession,
  },
  "auth.login": {
    method: "POST",
    path: "/api/auth/login",
    auth: "none",
    status: 200,
    body: SignIn,
    data: AuthSession,
  },
  "auth.session": {
    method: "GET",
    path: "/api/auth/session",
    auth: "session",
    status: 200,
    data: AuthSession,
  },
  "auth.switchWebsite": {
    method: "POST",
    path: "/api/auth/website",
    auth: "session",
    status: 200,
    body: WebsiteSwitch,
    data: AuthSession,
  },
  "auth.logout": {
    method: "POST",
    path: "/api/auth/logout",
    auth: "none",
    status: 200,
    data: z.null(),
  },

  "demo.getOrder": {
    method: "GET",
    path: "/api/demo/orders/{order}",
    auth: "none",
    status: 200,
    params: OrderParams,
    envelope: false,
  },
  "demo.triggerAgent": {
    method: "POST",
    path: "/api/demo/agent",
    auth: "none",
    status: 202,
    body: DemoAgentCall,
    data: z.object({ turn_id: z.string(), status: z.string() }),
  },
} as const satisfies Record<string, Endpoint>;

export type Endpoints = typeof ENDPOINTS;
/** `area.verb`: the client's method `client.area.verb(…)`. */
export type EndpointName = keyof Endpoints;
