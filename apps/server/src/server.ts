import type { FieldType } from "@hugo/protocol";
import type { FastifyInstance } from "fastify";
import { Embeddings } from "./agent/knowledge/embeddings.ts";
import { pageFetcher } from "./agent/knowledge/fetch-page.ts";
import { KnowledgeService } from "./agent/knowledge/service.ts";
import { OfflineAnswerer } from "./agent/offline-answerer.ts";
import { AgentService } from "./agent/service.ts";
import { type Config, loadSecret } from "./config.ts";
import { AnalyticsService } from "./core/analytics.ts";
import { ConversationService } from "./core/conversations.ts";
import { AppError } from "./core/errors.ts";
import { InboxService } from "./core/inbox.ts";
import { type JobLogger, type JobQueue, silentJobLogger } from "./core/jobs.ts";
import { OperatorSessionService } from "./core/operator-sessions.ts";
import { OperatorService } from "./core/operators.ts";
import type { EventSink, Stores } from "./core/ports.ts";
import { type DemoSeed, seedDemo } from "./core/seed.ts";
import { TokenService } from "./core/tokens.ts";
import { VisitorSessionService } from "./core/visitor-sessions.ts";
import { WebhookTrigger } from "./core/webhook-trigger.ts";
import { WebhookService } from "./core/webhooks.ts";
import { WebsiteService } from "./core/websites.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { SqlEmbeddingStore } from "./db/embedding-store.ts";
import { migrateToLatest } from "./db/migrations.ts";
import { createStores } from "./db/stores.ts";
import { buildHttpApp } from "./http/app.ts";
import { IDEMPOTENCY_TTL_MS } from "./http/idempotency.ts";
import { createJobQueue } from "./jobs/create-queue.ts";
import { createJobHandlers } from "./jobs/handlers.ts";
import {
  assertPublicUrl,
  guardedFetch,
  guardedRequest,
  OutboundError,
  type OutboundPolicy,
} from "./outbound/guarded-request.ts";
import { Hub } from "./realtime/hub.ts";
import { PgNotifier } from "./realtime/pg-notifier.ts";
import { WorkflowEngine } from "./workflow/engine.ts";
import { WorkflowFollower } from "./workflow/follower.ts";
import { WorkflowService } from "./workflow/service.ts";
import { validateFieldValue } from "./workflow/values.ts";

export interface Hugo {
  config: Config;
  database: Database;
  stores: Stores;
  hub: Hub;
  /** The durable job queue; its worker runs in this process when `config.worker`. */
  jobs: JobQueue;
  app: FastifyInstance;
  services: {
    conversations: ConversationService;
    tokens: TokenService;
    operators: OperatorService;
    websites: WebsiteService;
    /** Operators' dashboard sessions (sign-in, cookie, CSRF). */
    sessions: OperatorSessionService;
    analytics: AnalyticsService;
    inbox: InboxService;
    webhooks: WebhookService;
    workflows: WorkflowService;
    knowledge: KnowledgeService;
    agent: AgentService;
    visitors: VisitorSessionService;
  };
  /** The workflow engine (runs advance on the job queue). */
  engine: WorkflowEngine;
  secret: string;
  /** Set when this start seeded the demo (first start only). */
  seed: DemoSeed | undefined;
  listen(): Promise<string>;
  /** Stops accepting work, drains in-flight requests and jobs, closes the database. */
  close(): Promise<void>;
  /** What close() is waiting for (for the shutdown-timeout message). */
  readonly closingStep: string;
}

/**
 * Outbound HTTP for the workflow "HTTP request" block: through the SSRF guard, except for Hugo's
 * own demo endpoints under PUBLIC_URL/api/demo/ (the seeded refund workflow calls one).
 */
function workflowRequest(config: Config, policy: OutboundPolicy) {
  const own = new URL(config.publicUrl);
  const ownPolicy: OutboundPolicy = { allowHosts: [...policy.allowHosts, own.hostname.toLowerCase()] };
  return async (
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
  ) => {
    let target: URL | undefined;
    try {
      target = new URL(url);
    } catch {
      target = undefined;
    }
    const isOwnDemo = target?.origin === own.origin && target.pathname.startsWith("/api/demo/");
    const response = await guardedRequest(isOwnDemo ? ownPolicy : policy, url, {
      ...init,
      maxBytes: 256 * 1024,
    });
    return { status: response.status, body: response.body };
  };
}

/** Composition root: opens the database, migrates, wires the core, the HTTP app, realtime and jobs. */
export async function createHugo(config: Config): Promise<Hugo> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: config.sqliteFile });
  await migrateToLatest(database.db, database.dialect);
  const stores = createStores(database.db, database.sqlite);
  // The queue exists before the app (state changes enqueue through it); it logs to the app's logger.
  let jobLog: JobLogger = silentJobLogger;
  const jobs = await createJobQueue(database, {
    concurrency: config.jobConcurrency,
    leaseMs: config.jobLeaseMs,
    logger: {
      debug: (obj, msg) => jobLog.debug(obj, msg),
      warn: (obj, msg) => jobLog.warn(obj, msg),
      error: (obj, msg) => jobLog.error(obj, msg),
    },
  });
  // Realtime follows the event log; on PostgreSQL other processes are nudged with LISTEN/NOTIFY.
  const hub = new Hub({
    store: stores.conversations,
    notifier:
      database.pool && config.databaseUrl
        ? new PgNotifier({ connectionString: config.databaseUrl, pool: database.pool })
        : undefined,
  });
  const secret = loadSecret(config);
  const policy: OutboundPolicy = { allowHosts: config.outboundAllowHosts };
  const webhooks = new WebhookService(
    stores,
    {
      async check(url) {
        try {
          await assertPublicUrl(url, policy);
        } catch (error) {
          if (error instanceof OutboundError)
            throw new AppError("url_not_allowed", error.message, { field: "url" });
          throw error;
        }
      },
      post: (url, headers, body) =>
        guardedRequest(policy, url, {
          method: "POST",
          headers,
          body,
          timeoutMs: config.webhookTimeoutMs,
          maxBytes: 64 * 1024,
        }),
    },
    secret,
    () => {
      webhookTrigger.refresh().catch(() => {});
    },
  );
  const webhookTrigger: WebhookTrigger = new WebhookTrigger(jobs, stores, () => webhooks.websitesWithHooks());
  const follower = new WorkflowFollower(jobs, stores);
  // Committed events go to realtime and wake web hook delivery and the workflow follower.
  const sink: EventSink = {
    committed: (events) => {
      hub.committed(events);
      webhookTrigger.committed(events);
      follower.committed(events);
    },
    compose: (websiteId, signal) => hub.compose(websiteId, signal),
  };
  const conversations = new ConversationService(stores, sink);
  const knowledge = new KnowledgeService(
    stores,
    pageFetcher(policy, {
      timeoutMs: 15_000,
      maxBytes: 5 * 1024 * 1024,
      userAgent: "Hugo knowledge crawler",
    }),
    new Embeddings({
      stores,
      store: new SqlEmbeddingStore(database.db),
      jobs,
      secret,
      policy,
      fetch: guardedFetch(policy, { maxBytes: 64 * 1024 * 1024 }),
      log: (err, what) => jobLog.warn({ err }, what),
    }),
  );
  const agent = new AgentService({
    stores,
    conversations,
    knowledge,
    jobs,
    answerer: new OfflineAnswerer(),
    secret,
    policy,
    llmFetch: guardedFetch(policy, { maxBytes: 10 * 1024 * 1024 }),
    log: (err, what) => jobLog.warn({ err }, what),
  });
  const engine = new WorkflowEngine({
    stores,
    conversations,
    agent,
    jobs,
    botName: config.botName,
    compose: (websiteId, frame) => hub.compose(websiteId, frame),
    request: workflowRequest(config, policy),
    log: {
      warn: (obj, msg) => jobLog.warn(obj, msg),
      error: (obj, msg) => jobLog.error(obj, msg),
    },
  });
  agent.useWorkflows(engine);
  const workflows = new WorkflowService({ stores, engine, follower, conversations });
  const operators = new OperatorService(stores);
  const websites = new WebsiteService(stores);
  const services = {
    webhooks,
    conversations,
    tokens: new TokenService(stores, secret),
    operators,
    websites,
    sessions: new OperatorSessionService(stores, secret, operators, websites),
    analytics: new AnalyticsService(stores),
    inbox: new InboxService(stores, conversations),
    workflows,
    knowledge,
    agent,
    visitors: new VisitorSessionService({
      stores,
      conversations,
      secret,
      activation: async (websiteId) => (await agent.settings(websiteId)).activation,
      startWorkflow: (websiteId, workflowId, input) =>
        workflows.trigger(websiteId, workflowId, input, "widget"),
      searchKnowledge: (websiteId, query) => knowledge.search(websiteId, query),
      // A field block's question id is `<run_id>:<block_id>:<step>`: its type is in the run's graph.
      fieldTypeOf: async (websiteId, fieldId) => {
        const [runId, blockId] = fieldId.split(":");
        if (!runId?.startsWith("run_")) return undefined;
        try {
          const run = await workflows.getRun(websiteId, runId);
          const graph =
            run.version === null
              ? (await workflows.get(websiteId, run.workflow_id)).draft
              : (await workflows.getVersion(websiteId, run.workflow_id, run.version)).graph;
          const block = graph.blocks.find((b) => b.id === blockId && b.kind === "action.field");
          return block ? ((block.options.type as FieldType | undefined) ?? "text") : undefined;
        } catch {
          return undefined; // the run or its workflow is gone: only the value's length is checked
        }
      },
      validateField: validateFieldValue,
    }),
  };
  const seed = config.seedDemo
    ? await seedDemo({ stores, ...services, publicUrl: config.publicUrl })
    : undefined;
  const app = await buildHttpApp({
    stores,
    ...services,
    bodyLimit: config.bodyLimit,
    publicUrl: config.publicUrl,
    widgetRateLimits: config.widgetRateLimits,
    logger: config.logLevel === "silent" ? false : { level: config.logLevel },
    realtime: {
      hub,
      secret,
      pingIntervalMs: config.wsPingIntervalMs,
      maxBufferedBytes: config.wsMaxBufferedBytes,
    },
  });
  await hub.start(app.log);
  jobLog = app.log;
  if (config.worker) jobs.start(createJobHandlers({ stores, webhooks, engine, follower, agent, knowledge }));
  await webhookTrigger.start(app.log);
  await follower.start(app.log);

  const purge = setInterval(
    () => {
      stores.idempotency
        .purge(Date.now() - IDEMPOTENCY_TTL_MS)
        .catch((err) => app.log.warn({ err }, "idempotency purge failed"));
    },
    60 * 60 * 1000,
  );
  purge.unref();

  let closing: Promise<void> | undefined;
  let closingStep = "running";
  return {
    config,
    database,
    stores,
    hub,
    jobs,
    app,
    services,
    engine,
    secret,
    seed,
    async listen() {
      return app.listen({ port: config.port, host: config.host });
    },
    get closingStep() {
      return closingStep;
    },
    close() {
      closing ??= (async () => {
        clearInterval(purge);
        webhookTrigger.stop();
        follower.stop();
        closingStep = "draining HTTP requests";
        await app.close();
        // After requests have drained (they may enqueue), before the database closes; the hub stays
        // up meanwhile, since running jobs may still publish events.
        closingStep = "draining jobs";
        await jobs.stop();
        closingStep = "closing realtime";
        await hub.close();
        closingStep = "closing the database";
        await database.close();
        closingStep = "closed";
      })();
      return closing;
    },
  };
}
