import type { EndpointName, Endpoints } from "@hugo/protocol";

/**
 * How the client calls one endpoint, without its schemas (the browser bundle carries no zod).
 * `input`: where the call's input object goes; `returns`: `"body"` when the answer is not the
 * `{error, reason, data}` envelope, `"envelope"` when fields beside `data` matter (else `data`).
 */
export type Route = {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  readonly path: string;
  readonly auth: "bearer" | "session" | "visitor" | "none";
  readonly input?: "body" | "query";
  readonly returns?: "body" | "envelope";
  /** The body is a file (its raw bytes), passed before the query: `(…path, file, query, options)`. */
  readonly upload?: true;
};

/**
 * Every `/api/` endpoint, grouped by area: `client.<area>.<verb>(…path parameters, input?, options?)`.
 * A type check below keeps it equal to packages/protocol's ENDPOINTS (names, methods, paths, auth).
 */
export const ROUTES = {
  website: {
    /**
     * Get the token's website. Scope `website:manage`.
     * @example const site = await client.website.get();
     */
    get: { method: "GET", path: "/api/website", auth: "bearer" },
    /**
     * Update the website's name or domain. Scope `website:manage`.
     * @example await client.website.update({ name: "Acme support", domain: "acme.example" });
     */
    update: { method: "PATCH", path: "/api/website", auth: "bearer", input: "body" },
  },

  tokens: {
    /**
     * List API tokens (their secrets are never shown again). Scope `tokens:manage`.
     * @example const tokens = await client.tokens.list();
     */
    list: { method: "GET", path: "/api/tokens", auth: "bearer" },
    /**
     * Create an API token; `token` in the answer is its secret, shown this once. Scope `tokens:manage`.
     * @example const { token } = await client.tokens.create({ name: "backend", scopes: ["agent:trigger"] });
     */
    create: { method: "POST", path: "/api/tokens", auth: "bearer", input: "body" },
    /**
     * Revoke an API token (idempotent). Scope `tokens:manage`.
     * @example await client.tokens.revoke(token.id);
     */
    revoke: { method: "DELETE", path: "/api/tokens/{token_id}", auth: "bearer" },
  },

  operators: {
    /**
     * List the website's operators. Scope `operators:manage`.
     * @example const operators = await client.operators.list();
     */
    list: { method: "GET", path: "/api/operators", auth: "bearer" },
    /**
     * Add an operator with a role and a password. Scope `operators:manage`.
     * @example await client.operators.create({ email: "ann@acme.example", name: "Ann", role: "agent", password: "correct horse battery" });
     */
    create: { method: "POST", path: "/api/operators", auth: "bearer", input: "body" },
    /**
     * Get an operator. Scope `operators:manage`.
     * @example const ann = await client.operators.get(operatorId);
     */
    get: { method: "GET", path: "/api/operators/{operator_id}", auth: "bearer" },
    /**
     * Rename an operator or change their role. Scope `operators:manage`.
     * @example await client.operators.update(operatorId, { role: "admin" });
     */
    update: { method: "PATCH", path: "/api/operators/{operator_id}", auth: "bearer", input: "body" },
    /**
     * Remove an operator from the website (a website keeps at least one owner). Scope `operators:manage`.
     * @example await client.operators.delete(operatorId);
     */
    delete: { method: "DELETE", path: "/api/operators/{operator_id}", auth: "bearer" },
  },

  webhooks: {
    /**
     * List web hooks (their secrets are never shown again). Scope `website:manage`.
     * @example const hooks = await client.webhooks.list();
     */
    list: { method: "GET", path: "/api/webhooks", auth: "bearer" },
    /**
     * Add a web hook; events are POSTed with Crisp's envelope and `X-Crisp-Signature`, signed with
     * the `secret` shown this once. Scope `website:manage`.
     * @example const { id, secret } = await client.webhooks.create({ url: "https://acme.example/hugo", events: ["message:send"] });
     */
    create: { method: "POST", path: "/api/webhooks", auth: "bearer", input: "body" },
    /**
     * Remove a web hook. Scope `website:manage`.
     * @example await client.webhooks.delete(hook.id);
     */
    delete: { method: "DELETE", path: "/api/webhooks/{webhook_id}", auth: "bearer" },
  },

  workflows: {
    /**
     * Trigger a deployed workflow in a visitor's conversation (the Workflow API); 202 with the run.
     * The workflow must begin with “Triggered from code”. Scope `workflows:trigger`.
     * @example const run = await client.workflows.trigger("scenario_…", { session_id: "session_…", variables: { plan: "pro" } });
     */
    trigger: { method: "POST", path: "/api/scenario/{workflow_id}/trigger", auth: "bearer", input: "body" },
    /**
     * The block catalogue: each block kind's options form (JSON Schema) and outputs. Scope `workflows:read`.
     * @example const kinds = (await client.workflows.blocks()).map((b) => b.kind);
     */
    blocks: { method: "GET", path: "/api/workflows/blocks", auth: "bearer" },
    /**
     * List workflows. Scope `workflows:read`.
     * @example const workflows = await client.workflows.list();
     */
    list: { method: "GET", path: "/api/workflows", auth: "bearer" },
    /**
     * Create a workflow (a draft: deploy it to run it). Scope `workflows:write`.
     * @example const wf = await client.workflows.create({ name: "Refund", graph: { blocks, edges } });
     */
    create: { method: "POST", path: "/api/workflows", auth: "bearer", input: "body" },
    /**
     * Import an exported workflow file as a new workflow. Scope `workflows:write`.
     * @example const copy = await client.workflows.import(await client.workflows.export(workflowId));
     */
    import: { method: "POST", path: "/api/workflows/import", auth: "bearer", input: "body" },
    /**
     * Get a workflow with its draft and the draft's validation. Scope `workflows:read`.
     * @example const { draft, validation } = await client.workflows.get(workflowId);
     */
    get: { method: "GET", path: "/api/workflows/{workflow_id}", auth: "bearer" },
    /**
     * Save the draft (production keeps running the deployed version). Scope `workflows:write`.
     * @example await client.workflows.update(workflowId, { name: "Refund request", graph });
     */
    update: { method: "PATCH", path: "/api/workflows/{workflow_id}", auth: "bearer", input: "body" },
    /**
     * Delete a workflow; its active runs are cancelled. Scope `workflows:write`.
     * @example await client.workflows.delete(workflowId);
     */
    delete: { method: "DELETE", path: "/api/workflows/{workflow_id}", auth: "bearer" },
    /**
     * Copy a workflow's draft into a new workflow. Scope `workflows:write`.
     * @example const copy = await client.workflows.duplicate(workflowId);
     */
    duplicate: { method: "POST", path: "/api/workflows/{workflow_id}/duplicate", auth: "bearer" },
    /**
     * Deploy the draft as a new immutable version (`workflow_invalid`, 422, lists the problems). Scope `workflows:write`.
     * @example const { version } = await client.workflows.deploy(workflowId);
     */
    deploy: { method: "POST", path: "/api/workflows/{workflow_id}/deploy", auth: "bearer" },
    /**
     * List deployed versions, newest first. Scope `workflows:read`.
     * @example const versions = await client.workflows.listVersions(workflowId);
     */
    listVersions: { method: "GET", path: "/api/workflows/{workflow_id}/versions", auth: "bearer" },
    /**
     * Get a deployed version. Scope `workflows:read`.
     * @example const v2 = await client.workflows.getVersion(workflowId, 2);
     */
    getVersion: { method: "GET", path: "/api/workflows/{workflow_id}/versions/{version}", auth: "bearer" },
    /**
     * Make an earlier version the one production runs (roll back). Scope `workflows:write`.
     * @example await client.workflows.activateVersion(workflowId, 1);
     */
    activateVersion: {
      method: "POST",
      path: "/api/workflows/{workflow_id}/versions/{version}/activate",
      auth: "bearer",
    },
    /**
     * Export the draft as a workflow file (the body itself, not an envelope). Scope `workflows:read`.
     * @example const file = await client.workflows.export(workflowId);
     */
    export: { method: "GET", path: "/api/workflows/{workflow_id}/export", auth: "bearer", returns: "body" },
    /**
     * Test-run the draft, in a conversation or a new test one. Scope `workflows:write`.
     * @example const run = await client.workflows.test(workflowId, { variables: { order: "1042" } });
     */
    test: { method: "POST", path: "/api/workflows/{workflow_id}/test", auth: "bearer", input: "body" },
    /**
     * List a workflow's runs, newest first. Scope `workflows:read`.
     * @example const failed = await client.workflows.listRuns(workflowId, { status: "failed", limit: 20 });
     */
    listRuns: { method: "GET", path: "/api/workflows/{workflow_id}/runs", auth: "bearer", input: "query" },
    /**
     * Ready-to-run snippets that start the workflow (Web SDK, HTML button, cURL, Node, Python, PHP, Ruby).
     * With `token_id` (scope `tokens:manage`) that token is written in. Scope `workflows:read`.
     * @example const { snippets } = await client.workflows.snippets(workflowId, { session_id, token_id });
     */
    snippets: { method: "GET", path: "/api/scenario/{workflow_id}/snippets", auth: "bearer", input: "query" },
  },

  runs: {
    /**
     * Get a run with its log: the steps taken, their outputs and messages. Scope `workflows:read`.
     * @example const { status, log } = await client.runs.get(run.run_id);
     */
    get: { method: "GET", path: "/api/runs/{run_id}", auth: "bearer" },
    /**
     * Cancel an active run (`run_not_active`, 409, once it has ended). Scope `workflows:write`.
     * @example await client.runs.cancel(run.run_id);
     */
    cancel: { method: "POST", path: "/api/runs/{run_id}/cancel", auth: "bearer" },
  },

  conversations: {
    /**
     * The inbox: conversations, newest activity first, by inbox, state, assignee, segment or text;
     * pass `next_cursor` back as `cursor` for the next page. Scope `conversations:read`.
     * @example const { conversations, next_cursor } = await client.conversations.list({ inbox: "main", unread: true });
     */
    list: { method: "GET", path: "/api/conversations", auth: "bearer", input: "query" },
    /**
     * The inbox's badges: open conversations per inbox, resolved ones, unread ones. Scope `conversations:read`.
     * @example const { automated, main, unread } = await client.conversations.counts();
     */
    counts: { method: "GET", path: "/api/conversations/counts", auth: "bearer" },
    /**
     * A conversation with the visitor's meta. Scope `conversations:read`.
     * @example const conversation = await client.conversations.get("session_…");
     */
    get: { method: "GET", path: "/api/conversations/{session_id}", auth: "bearer" },
    /**
     * Change a conversation's state, inbox or assignee. Scope `conversations:write`.
     * @example await client.conversations.update("session_…", { state: "resolved" });
     */
    update: { method: "PATCH", path: "/api/conversations/{session_id}", auth: "bearer", input: "body" },
    /**
     * A conversation's messages, oldest first: the newest `limit` before `before`. Scope `conversations:read`.
     * @example const messages = await client.conversations.listMessages("session_…", { limit: 50 });
     */
    listMessages: {
      method: "GET",
      path: "/api/conversations/{session_id}/messages",
      auth: "bearer",
      input: "query",
    },
    /**
     * Reply as the operator (the agent then stays out), or write a private note. Scope `conversations:write`.
     * @example await client.conversations.reply("session_…", { type: "text", content: "Hi, I'm Ann." });
     */
    reply: {
      method: "POST",
      path: "/api/conversations/{session_id}/messages",
      auth: "bearer",
      input: "body",
    },
    /**
     * List a conversation's workflow runs, newest first. Scope `workflows:read`.
     * @example const runs = await client.conversations.listRuns("session_…", { limit: 10 });
     */
    listRuns: { method: "GET", path: "/api/conversations/{session_id}/runs", auth: "bearer", input: "query" },
    /**
     * Push a custom session event (workflows starting on “Custom session event” react). Scope `conversations:write`.
     * @example await client.conversations.pushEvent("session_…", { name: "signed_up", data: { plan: "pro" } });
     */
    pushEvent: {
      method: "POST",
      path: "/api/conversations/{session_id}/events",
      auth: "bearer",
      input: "body",
    },
    /**
     * Record the page the visitor is on (workflows starting on “Page URL changed” react). Scope `conversations:write`.
     * @example await client.conversations.visitPage("session_…", { url: "https://acme.example/pricing" });
     */
    visitPage: {
      method: "POST",
      path: "/api/conversations/{session_id}/page",
      auth: "bearer",
      input: "body",
    },
  },

  knowledge: {
    /**
     * Add a knowledge source (web page, help-desk article, answer or document) and index it. Scope `knowledge:write`.
     * @example await client.knowledge.createSource({ kind: "answer", question: "Do you ship abroad?", answer: "Yes, to 40 countries." });
     */
    createSource: { method: "POST", path: "/api/knowledge/sources", auth: "bearer", input: "body" },
    /**
     * List knowledge sources, newest first (page with `before`). Scope `knowledge:read`.
     * @example const articles = await client.knowledge.listSources({ kind: "helpdesk", enabled: true });
     */
    listSources: { method: "GET", path: "/api/knowledge/sources", auth: "bearer", input: "query" },
    /**
     * Get a knowledge source. Scope `knowledge:read`.
     * @example const source = await client.knowledge.getSource("source_…");
     */
    getSource: { method: "GET", path: "/api/knowledge/sources/{source_id}", auth: "bearer" },
    /**
     * Enable, disable or rename a knowledge source (a disabled one is never searched). Scope `knowledge:write`.
     * @example await client.knowledge.updateSource("source_…", { enabled: false });
     */
    updateSource: {
      method: "PATCH",
      path: "/api/knowledge/sources/{source_id}",
      auth: "bearer",
      input: "body",
    },
    /**
     * Delete a knowledge source and its passages. Scope `knowledge:write`.
     * @example await client.knowledge.deleteSource("source_…");
     */
    deleteSource: { method: "DELETE", path: "/api/knowledge/sources/{source_id}", auth: "bearer" },
    /**
     * Read and index a source again (a web page is fetched again). Scope `knowledge:write`.
     * @example const { status } = await client.knowledge.reindexSource("source_…");
     */
    reindexSource: { method: "POST", path: "/api/knowledge/sources/{source_id}/reindex", auth: "bearer" },
    /**
     * Add up to 500 sources at once; those that cannot be read are listed in `failed`. Scope `knowledge:write`.
     * @example const { created, failed } = await client.knowledge.importSources({ sources });
     */
    importSources: { method: "POST", path: "/api/knowledge/import", auth: "bearer", input: "body" },
    /**
     * Crawl a sitemap into web page sources. Scope `knowledge:write`.
     * @example await client.knowledge.crawl({ sitemap: "https://acme.example/sitemap.xml", include: "/help/" }, { timeoutMs: 300_000 });
     */
    crawl: { method: "POST", path: "/api/knowledge/crawl", auth: "bearer", input: "body" },
    /**
     * Search the knowledge base as the agent does: `data` is the hits, best first; `mode` says
     * whether the ranking was BM25 alone or hybrid. Scope `knowledge:read`.
     * @example const { data: hits, mode } = await client.knowledge.search({ q: "refund policy", limit: 3 });
     */
    search: {
      method: "GET",
      path: "/api/knowledge/search",
      auth: "bearer",
      input: "query",
      returns: "envelope",
    },
    /**
     * Get the knowledge base's settings (the embedding provider, and how many passages it embedded). Scope `website:manage`.
     * @example const { embedded, passages } = await client.knowledge.getSettings();
     */
    getSettings: { method: "GET", path: "/api/knowledge/settings", auth: "bearer" },
    /**
     * Set or remove the embedding provider for hybrid search. Scope `website:manage`.
     * @example await client.knowledge.updateSettings({ embeddings: null });
     */
    updateSettings: { method: "PATCH", path: "/api/knowledge/settings", auth: "bearer", input: "body" },
  },

  agent: {
    /**
     * Trigger the AI agent in a conversation (the seed's API); 202 with the turn. `instruction`
     * (at most 2000 characters) applies to this conversation only. Scope `agent:trigger`.
     * @example const { turn_id } = await client.agent.trigger({ session_id: "session_…", instruction: "VIP customer: premium support." });
     */
    trigger: { method: "POST", path: "/api/agent/trigger", auth: "bearer", input: "body" },
    /**
     * Get an agent turn with its guardrails trace. Scope `conversations:read`.
     * @example const { status, trace } = await client.agent.getTurn(turn_id);
     */
    getTurn: { method: "GET", path: "/api/agent/turns/{turn_id}", auth: "bearer" },
    /**
     * List a conversation's agent turns, newest first. Scope `conversations:read`.
     * @example const turns = await client.agent.listTurns({ session_id: "session_…", limit: 5 });
     */
    listTurns: { method: "GET", path: "/api/agent/turns", auth: "bearer", input: "query" },
    /**
     * Get the agent's settings. Scope `website:manage`.
     * @example const settings = await client.agent.getSettings();
     */
    getSettings: { method: "GET", path: "/api/agent/settings", auth: "bearer" },
    /**
     * Change the agent's settings. Scope `website:manage`.
     * @example await client.agent.updateSettings({ guidance: "cautious" });
     */
    updateSettings: { method: "PATCH", path: "/api/agent/settings", auth: "bearer", input: "body" },
    /**
     * Ask the configured model (and fallback) for a one-word reply: does the provider work? Scope `website:manage`.
     * @example const checks = await client.agent.checkProvider();
     */
    checkProvider: { method: "POST", path: "/api/agent/settings/provider/check", auth: "bearer" },
    /**
     * Ready-to-run snippets that trigger the agent (cURL, Node, Python, PHP, Ruby). Scope `agent:trigger`.
     * @example const { snippets } = await client.agent.snippets({ instruction: "VIP customer" });
     */
    snippets: { method: "GET", path: "/api/agent/snippets", auth: "bearer", input: "query" },
  },

  widget: {
    /**
     * Create or resume a visitor session (no credential needed): the conversation and the visitor
     * credential that the other widget calls send as `X-Hugo-Visitor`.
     * @example const { session_id, token } = await client.widget.openSession(websiteId, { token_id: "user-42" });
     */
    openSession: { method: "POST", path: "/api/widget/{website_id}/session", auth: "none", input: "body" },
    /**
     * Send a message as the visitor (`do message:send`). Needs the visitor credential.
     * @example await client.widget.sendMessage(websiteId, { type: "text", content: "Hello" }, { visitor: token });
     */
    sendMessage: { method: "POST", path: "/api/widget/{website_id}/message", auth: "visitor", input: "body" },
    /**
     * Answer a picker (its choice's value) or fill a field, as the visitor.
     * @example await client.widget.answer(websiteId, fingerprint, { value: "yes" }, { visitor: token });
     */
    answer: {
      method: "POST",
      path: "/api/widget/{website_id}/message/{fingerprint}/answer",
      auth: "visitor",
      input: "body",
    },
    /**
     * Search the help desk's articles and answers as the visitor (`do helpdesk:query`).
     * @example const { results } = await client.widget.searchHelpdesk(websiteId, { q: "refund" }, { visitor: token });
     */
    searchHelpdesk: {
      method: "GET",
      path: "/api/widget/{website_id}/helpdesk/search",
      auth: "visitor",
      input: "query",
    },
    /**
     * Set visitor data: the `$crisp` `set` rows (email, nickname, data, segments, events).
     * @example await client.widget.updateVisitor(websiteId, { email: "ann@acme.example" }, { visitor: token });
     */
    updateVisitor: {
      method: "PATCH",
      path: "/api/widget/{website_id}/visitor",
      auth: "visitor",
      input: "body",
    },
    /**
     * Mark the operator's messages read (read receipts): these fingerprints, or all.
     * @example await client.widget.markRead(websiteId, {}, { visitor: token });
     */
    markRead: { method: "POST", path: "/api/widget/{website_id}/read", auth: "visitor", input: "body" },
    /**
     * Upload a file from the visitor (its bytes; the Blob's type or `contentType` is sent as Content-Type).
     * Answers where it is served; send a `file` message with that URL.
     * @example const { path } = await client.widget.uploadFile(websiteId, blob, { name: "receipt.png" }, { visitor: token });
     */
    uploadFile: {
      method: "POST",
      path: "/api/widget/{website_id}/file",
      auth: "visitor",
      input: "query",
      upload: true,
    },
    /**
     * Run a browser-startable workflow in the visitor's conversation (`do bot:scenario:run`).
     * @example await client.widget.runScenario(websiteId, "scenario_…", { variables: { plan: "pro" } }, { visitor: token });
     */
    runScenario: {
      method: "POST",
      path: "/api/widget/{website_id}/scenario/{workflow_id}/run",
      auth: "visitor",
      input: "body",
    },
  },

  analytics: {
    /**
     * Conversations, the agent's outcomes, workflow runs and unanswered questions over a window (UTC days or weeks). Scope `conversations:read`.
     * @example const { totals, series, unanswered } = await client.analytics.get({ interval: "week" });
     */
    get: { method: "GET", path: "/api/analytics", auth: "bearer", input: "query" },
  },

  auth: {
    /**
     * Whether this Hugo still needs its first owner (no operator exists).
     * @example const { needed } = await client.auth.setupStatus();
     */
    setupStatus: { method: "GET", path: "/api/auth/setup", auth: "none" },
    /**
     * First run: creates the owner and their website, and signs in (sets the session cookie).
     * @example const session = await client.auth.setup({ email, name, password, website_name: "Acme" });
     */
    setup: { method: "POST", path: "/api/auth/setup", auth: "none", input: "body" },
    /**
     * Signs an operator in: sets the `hugo_session` cookie; pass `csrf_token` to the client as `csrfToken`.
     * @example const { csrf_token } = await client.auth.login({ email, password });
     */
    login: { method: "POST", path: "/api/auth/login", auth: "none", input: "body" },
    /**
     * The signed-in operator: role, websites, CSRF token (401 when signed out).
     * @example const me = await client.auth.session();
     */
    session: { method: "GET", path: "/api/auth/session", auth: "session" },
    /**
     * Opens another website the operator belongs to, in the same session.
     * @example await client.auth.switchWebsite({ website_id: other.id });
     */
    switchWebsite: { method: "POST", path: "/api/auth/website", auth: "session", input: "body" },
    /**
     * Signs out: ends the session and clears its cookie.
     * @example await client.auth.logout();
     */
    logout: { method: "POST", path: "/api/auth/logout", auth: "none" },
  },

  demo: {
    /**
     * The demo order service the seeded refund workflow calls (orders 1000–9999; even ones are refundable).
     * @example const order = await client.demo.getOrder("1042");
     */
    getOrder: { method: "GET", path: "/api/demo/orders/{order}", auth: "none", returns: "body" },
    /**
     * The demo page's backend: asks the agent into a conversation of the seeded demo website (no token).
     * @example await client.demo.triggerAgent({ session_id: "session_…" });
     */
    triggerAgent: { method: "POST", path: "/api/demo/agent", auth: "none", input: "body" },
  },
} as const satisfies Record<string, Record<string, Route>>;

export type Routes = typeof ROUTES;
type Area = keyof Routes & string;
/** `area.verb` of every route of the table above. */
export type RouteName = { [A in Area]: `${A}.${keyof Routes[A] & string}` }[Area];
export type RouteOf<N extends string> = N extends `${infer A extends Area}.${infer V}`
  ? V extends keyof Routes[A]
    ? Routes[A][V]
    : never
  : never;

// Compile-time proof that this table is packages/protocol's: a route added, removed or moved there
// (or here) names itself in a type error on the check below.
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type FromProtocol<D> = {
  method: D extends { method: infer M } ? M : never;
  path: D extends { path: infer P } ? P : never;
  auth: D extends { auth: infer A } ? A : never;
  input: D extends { body: object } ? "body" : D extends { query: object } ? "query" : undefined;
  returns: D extends { envelope: false } ? "body" : D extends { extra: object } ? "envelope" : undefined;
  upload: D extends { upload: true } ? true : undefined;
};
type FromRoute<R> = {
  method: R extends { method: infer M } ? M : never;
  path: R extends { path: infer P } ? P : never;
  auth: R extends { auth: infer A } ? A : never;
  input: R extends { input: infer I } ? I : undefined;
  returns: R extends { returns: infer O } ? O : undefined;
  upload: R extends { upload: infer U } ? U : undefined;
};
type Mismatched = {
  [N in EndpointName]: Equal<FromProtocol<Endpoints[N]>, FromRoute<RouteOf<N>>> extends true ? never : N;
}[EndpointName];
type AssertNone<T extends never> = T;
/** Never anything: a name here is a route whose table entry differs from the protocol's. */
export type RouteTableDrift = AssertNone<
  Mismatched | Exclude<RouteName, EndpointName> | Exclude<EndpointName, RouteName>
>;
