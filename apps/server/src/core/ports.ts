import type {
  AgentSettings,
  AgentTurn,
  Conversation,
  ConversationListQuery,
  ConversationState,
  LlmProvider,
  Message,
  MessageUser,
  OperatorRole,
  RunSource,
  RunStatus,
  RunStep,
  RunWait,
  SourceKind,
  TokenScope,
  TurnStatus,
  TurnTrace,
  VariableValue,
  WorkflowGraph,
} from "@hugo/protocol";

/**
 * Storage ports. Each has one contract suite (`*.contract.ts` in db/) run against SQLite and
 * PostgreSQL. Core code depends on these interfaces only, never on a driver.
 */

export interface Website {
  id: string;
  name: string;
  domain: string;
  created_at: number;
}

export interface OperatorRecord {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  created_at: number;
  last_login_at: number | null;
}

export interface Membership {
  website_id: string;
  operator_id: string;
  role: OperatorRole;
}

/** An operator's signed-in session (dashboard); `id` is the SHA-256 of the cookie's secret. */
export interface OperatorSessionRecord {
  id: string;
  operator_id: string;
  website_id: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

export interface TokenRecord {
  id: string;
  website_id: string;
  name: string;
  scopes: TokenScope[];
  secret_hash: string;
  /** The key sealed under the server secret, to show it again; null when it cannot be (older tokens). */
  secret_sealed: string | null;
  hint: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** A conversation event: the log that realtime replays and web hooks read. */
export interface ConversationEvent {
  website_id: string;
  website_seq: number;
  session_id: string | null;
  seq: number | null;
  name: string;
  data: unknown;
  created_at: number;
}

export interface NewMessage {
  type: Message["type"];
  from: Message["from"];
  origin: string;
  content: unknown;
  fingerprint: number;
  timestamp: number;
  user: MessageUser;
  automated: boolean;
  stealth: boolean;
  /** One-line excerpt stored as the conversation's `last_message`. */
  excerpt: string;
}

/** An entry of a conversation's log written in a batch: a message, or an event of Hugo's own. */
export type LogEntry = { message: NewMessage } | { event: string; data: unknown; at: number };

/** Column changes a conversation event carries; counters and `updated_at` are handled by the store. */
export interface ConversationChange {
  inbox_id?: string | null;
  state?: ConversationState;
  is_blocked?: boolean;
  assigned_user_id?: string | null;
  meta?: Partial<Conversation["meta"]>;
  unread_operator?: number;
  unread_visitor?: number;
}

export interface WebsiteStore {
  create(website: Website): Promise<void>;
  find(id: string): Promise<Website | undefined>;
  list(): Promise<Website[]>;
  update(id: string, patch: Partial<Pick<Website, "name" | "domain">>): Promise<Website | undefined>;
  /** The origins the widget API answers (normalised; empty: any); undefined when there is no such website. */
  findWidgetOrigins(id: string): Promise<string[] | undefined>;
  /** False when there is no such website. */
  setWidgetOrigins(id: string, origins: string[]): Promise<boolean>;
}

/** A file a visitor sent from the chat widget (its bytes are in the database: every process serves it). */
export interface WidgetFileRecord {
  /** `file_<uuid>`: unguessable, it is the file's capability. */
  id: string;
  website_id: string;
  session_id: string;
  name: string;
  type: string;
  size: number;
  created_at: number;
}

export interface WidgetFileStore {
  create(file: WidgetFileRecord, data: Uint8Array): Promise<void>;
  find(websiteId: string, id: string): Promise<(WidgetFileRecord & { data: Uint8Array }) | undefined>;
}

export interface OperatorStore {
  create(operator: OperatorRecord): Promise<void>;
  findByEmail(email: string): Promise<OperatorRecord | undefined>;
  findById(id: string): Promise<OperatorRecord | undefined>;
  addMembership(membership: Membership, at: number): Promise<void>;
  findMembership(websiteId: string, operatorId: string): Promise<Membership | undefined>;
  listMembers(websiteId: string): Promise<(OperatorRecord & { role: OperatorRole })[]>;
  setRole(websiteId: string, operatorId: string, role: OperatorRole): Promise<boolean>;
  removeMembership(websiteId: string, operatorId: string): Promise<boolean>;
  countOwners(websiteId: string): Promise<number>;
  update(id: string, patch: { name?: string; last_login_at?: number }): Promise<void>;
  /** The websites an operator belongs to, oldest membership first. */
  listMemberships(operatorId: string): Promise<(Membership & { website_name: string })[]>;
  /** Whether any operator exists at all (first-run setup). */
  anyOperator(): Promise<boolean>;
  createSession(session: OperatorSessionRecord): Promise<void>;
  findSession(id: string): Promise<OperatorSessionRecord | undefined>;
  /** Slides a session: new expiry and last-seen time. */
  touchSession(id: string, lastSeenAt: number, expiresAt: number): Promise<void>;
  /** Opens another website in the same session. */
  setSessionWebsite(id: string, websiteId: string): Promise<void>;
  deleteSession(id: string): Promise<void>;
  /** Drops expired sessions; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>;
}

export interface TokenStore {
  create(token: TokenRecord): Promise<void>;
  /** By id across websites: authentication looks a token up before it knows the website. */
  find(id: string): Promise<TokenRecord | undefined>;
  list(websiteId: string): Promise<TokenRecord[]>;
  revoke(websiteId: string, id: string, at: number): Promise<boolean>;
  touch(id: string, at: number): Promise<void>;
}

/** A message's effect on the conversation's state: in `from`, it moves to `to` (a reply reopens…). */
export interface StateTransition {
  from: ConversationState;
  to: ConversationState;
}

/** Which of a website's conversations a list keeps; absent fields keep all. */
export interface ConversationFilter {
  /** An inbox id, or null for the main inbox. */
  inbox?: string | null;
  states?: ConversationState[];
  notResolved?: boolean;
  unread?: boolean;
  /** An operator's id, or null for unassigned. */
  assigned?: string | null;
  segment?: string;
  /** Words in the name, email, phone, subject or last message. */
  text?: string;
}

export interface ConversationStore {
  create(conversation: Conversation): Promise<ConversationEvent>;
  find(websiteId: string, sessionId: string): Promise<Conversation | undefined>;
  list(websiteId: string, query: ConversationListQuery, page: number): Promise<Conversation[]>;
  /** Newest activity first, after `after` (keyset paging). */
  listPage(
    websiteId: string,
    filter: ConversationFilter,
    after: { updated_at: number; session_id: string } | undefined,
    limit: number,
  ): Promise<Conversation[]>;
  /** Open conversations per inbox, resolved ones, and open unread ones. */
  countInboxes(
    websiteId: string,
  ): Promise<{ automated: number; main: number; resolved: number; unread: number }>;
  /**
   * Inserts a message, bumps counters, appends its event (`message:send` from the visitor,
   * `message:received` otherwise, as in Crisp) and — when the conversation is in `transition.from`
   * — moves it to `transition.to` with a `session:set_state` event, all atomically.
   * Undefined when the conversation is missing; throws `fingerprint_conflict` on a duplicate fingerprint.
   */
  appendMessage(
    websiteId: string,
    sessionId: string,
    message: NewMessage,
    options?: { transition?: StateTransition | undefined },
  ): Promise<{ message: Message; events: ConversationEvent[] } | undefined>;
  /**
   * Messages that change no state and plain events (a workflow batch's), in order, as one write:
   * the same rows, events and counters as appending them one by one. Undefined when the
   * conversation is missing.
   */
  appendLog(
    websiteId: string,
    sessionId: string,
    entries: LogEntry[],
  ): Promise<{ messages: Message[]; events: ConversationEvent[] } | undefined>;
  findMessage(websiteId: string, sessionId: string, fingerprint: number): Promise<Message | undefined>;
  listMessages(
    websiteId: string,
    sessionId: string,
    window: { before?: number | undefined; after?: number | undefined; limit: number },
  ): Promise<Message[]>;
  /** Applies column changes and appends an event, atomically. Undefined when the conversation is missing. */
  change(
    websiteId: string,
    sessionId: string,
    change: ConversationChange,
    event: { name: string; data: unknown },
  ): Promise<{ conversation: Conversation; event: ConversationEvent } | undefined>;
  markRead(
    websiteId: string,
    sessionId: string,
    reader: "operator" | "user",
    fingerprints: number[] | undefined,
  ): Promise<{ fingerprints: number[]; event: ConversationEvent } | undefined>;
  /**
   * Replaces a message's content (marking it edited) and appends `message:updated` with
   * `{ fingerprint, type, from, stealth, content }`, atomically. Undefined when the message is missing.
   */
  updateMessage(
    websiteId: string,
    sessionId: string,
    fingerprint: number,
    content: unknown,
  ): Promise<{ message: Message; event: ConversationEvent } | undefined>;
  /** The data of the conversation's latest event with this name (e.g. the last `session:set_page`). */
  lastEventData(websiteId: string, sessionId: string, name: string): Promise<unknown>;
  /** Deletes the conversation and its messages; the `session:removed` event stays in the log. */
  remove(websiteId: string, sessionId: string): Promise<ConversationEvent | undefined>;
  /** Events after a sequence number, oldest first: per conversation when `sessionId` is given, else per website. */
  readEvents(
    websiteId: string,
    from: { sessionId?: string | undefined; after: number; limit: number },
  ): Promise<ConversationEvent[]>;
  /** Latest sequence number: of the conversation, or of the website. */
  lastSeq(websiteId: string, sessionId?: string): Promise<number | undefined>;
}

export type IdempotencyClaim =
  | { state: "claimed" }
  | { state: "done"; requestHash: string; status: number; response: string }
  | { state: "pending"; requestHash: string };

export interface IdempotencyStore {
  /** Claims a key, or reports the earlier request's outcome. Claims older than `staleBefore` are taken over. */
  claim(
    scope: string,
    key: string,
    requestHash: string,
    now: number,
    staleBefore: number,
  ): Promise<IdempotencyClaim>;
  complete(scope: string, key: string, status: number, response: string): Promise<void>;
  release(scope: string, key: string): Promise<void>;
  purge(before: number): Promise<number>;
}

export interface WebhookRecord {
  id: string;
  website_id: string;
  url: string;
  secret_sealed: string;
  events: string[];
  created_at: number;
  delivered_seq: number;
  last_error: string | null;
  last_attempt_at: number | null;
}

export interface WebhookStore {
  create(hook: WebhookRecord): Promise<void>;
  list(websiteId: string): Promise<WebhookRecord[]>;
  remove(websiteId: string, id: string): Promise<boolean>;
  /** Website ids with at least one web hook, for the periodic delivery sweep. */
  websitesWithHooks(): Promise<string[]>;
  /** Records an attempt: moves the cursor forward (never back) and sets or clears the error. */
  recordAttempt(id: string, deliveredSeq: number, error: string | null, at: number): Promise<void>;
}

export interface KvStore {
  get(key: string): Promise<string | undefined>;
  /** Sets the key only if absent; returns the value that is stored afterwards. */
  setIfAbsent(key: string, value: string): Promise<string>;
}

export interface WorkflowRecord {
  id: string;
  website_id: string;
  name: string;
  description: string;
  draft: WorkflowGraph;
  browser_startable: boolean;
  /** The version production runs use; null until the first deploy. */
  deployed_version: number | null;
  /** The latest version number ever deployed (0 before the first); the next deploy is this + 1. */
  latest_version: number;
  /** The start block's kind in the deployed version (what starts it in production), else null. */
  deployed_start: string | null;
  created_at: number;
  updated_at: number;
}

export interface WorkflowVersionRecord {
  website_id: string;
  workflow_id: string;
  version: number;
  name: string;
  graph: WorkflowGraph;
  deployed_at: number;
}

export interface RunRecord {
  id: string;
  website_id: string;
  workflow_id: string;
  /** The deployed version the run executes; null for a test run (which carries `graph`). */
  version: number | null;
  /** The draft snapshot a test run executes; null for production runs. */
  graph: WorkflowGraph | null;
  session_id: string;
  status: RunStatus;
  test: boolean;
  source: RunSource;
  source_event: string | null;
  block_id: string | null;
  /** Steps taken; also the run's optimistic-concurrency counter (every advance bumps it). */
  step: number;
  wait: RunWait | null;
  variables: Record<string, VariableValue>;
  started_at: number;
  updated_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

export type RunStepRecord = RunStep & { run_id: string; website_id: string };

export type RunPatch = Partial<
  Pick<RunRecord, "status" | "block_id" | "wait" | "variables" | "ended_at" | "end_reason">
> & { updated_at: number };

export interface WorkflowStore {
  create(workflow: WorkflowRecord): Promise<void>;
  find(websiteId: string, id: string): Promise<WorkflowRecord | undefined>;
  list(websiteId: string): Promise<WorkflowRecord[]>;
  update(
    websiteId: string,
    id: string,
    patch: Partial<
      Pick<
        WorkflowRecord,
        | "name"
        | "description"
        | "draft"
        | "browser_startable"
        | "deployed_version"
        | "latest_version"
        | "deployed_start"
      >
    > & { updated_at: number },
  ): Promise<WorkflowRecord | undefined>;
  /** Deletes the workflow and its versions; its runs stay, for the record. */
  remove(websiteId: string, id: string): Promise<boolean>;
  addVersion(version: WorkflowVersionRecord): Promise<void>;
  findVersion(
    websiteId: string,
    workflowId: string,
    version: number,
  ): Promise<WorkflowVersionRecord | undefined>;
  /** Newest first. */
  listVersions(websiteId: string, workflowId: string): Promise<WorkflowVersionRecord[]>;
  /** Deployed workflows whose deployed start block is one of `startKinds`, with their deployed graph. */
  listDeployedByStart(
    websiteId: string,
    startKinds: string[],
  ): Promise<{ workflow: WorkflowRecord; graph: WorkflowGraph }[]>;

  createRun(run: RunRecord): Promise<void>;
  /**
   * `forUpdate` locks the run's row until the transaction ends (PostgreSQL), so whoever advances a
   * run takes its lock before the website's sequence lock: one order everywhere, no deadlock.
   */
  findRun(
    websiteId: string,
    runId: string,
    options?: { forUpdate?: boolean },
  ): Promise<RunRecord | undefined>;
  /** The conversation's running or waiting run, if any (at most one). */
  findActiveRun(websiteId: string, sessionId: string): Promise<RunRecord | undefined>;
  /**
   * Advances a run only if it is still at step `expectedStep` and active (running or waiting):
   * sets `step = expectedStep + steps` and applies the patch. False when another execution got there
   * first, or the run ended — the caller then does nothing.
   */
  advanceRun(
    websiteId: string,
    runId: string,
    expectedStep: number,
    steps: number,
    patch: RunPatch,
  ): Promise<boolean>;
  /** Newest first; by workflow or by conversation. */
  listRuns(
    websiteId: string,
    filter: { workflowId?: string; sessionId?: string; status?: RunStatus; before?: number; limit: number },
  ): Promise<RunRecord[]>;
  /** A batch's steps, in order (consecutive, one run's), written together. */
  appendSteps(steps: RunStepRecord[]): Promise<void>;
  /** Oldest first. */
  listSteps(websiteId: string, runId: string): Promise<RunStepRecord[]>;
  /** Timestamps of the conversation's last message (optionally only the visitor's or an operator's). */
  lastMessageAt(
    websiteId: string,
    sessionId: string,
    from?: "user" | "operator",
  ): Promise<number | undefined>;
  /** Whether an operator (human, bot or agent) wrote a non-note message before `before`. */
  hasOperatorMessageBefore(websiteId: string, sessionId: string, before: number): Promise<boolean>;
  /** The website's position in its event log that the workflow follower has handled; undefined until it is watched. */
  getCursor(websiteId: string): Promise<number | undefined>;
  setCursor(websiteId: string, seq: number): Promise<void>;
  /** Websites whose event log has moved past the follower's cursor and that have deployed event workflows or waiting runs. */
  websitesBehind(): Promise<string[]>;
}

/**
 * Every store. Writes made while `transaction`/`atomically` runs — through any store, at any depth —
 * join one database transaction (the db layer carries it in AsyncLocalStorage).
 */
/** Counts for the dashboard's analytics, per website over a window, cut into buckets from `from`. */
export interface AnalyticsStore {
  /** Conversations created per bucket (index = floor((created_at - from) / bucketMs)). */
  conversationsPerBucket(
    websiteId: string,
    from: number,
    to: number,
    bucketMs: number,
  ): Promise<{ bucket: number; n: number }[]>;
  /** Agent turns per bucket and status (queued turns left out). */
  turnsPerBucket(
    websiteId: string,
    from: number,
    to: number,
    bucketMs: number,
  ): Promise<{ bucket: number; status: string; n: number }[]>;
  /** Production (not test) workflow runs per bucket, workflow and status. */
  runsPerBucket(
    websiteId: string,
    from: number,
    to: number,
    bucketMs: number,
  ): Promise<{ bucket: number; workflow_id: string; status: string; n: number }[]>;
  /** The newest escalated turns' traces (the questions the agent did not answer), up to `limit`. */
  escalatedTurns(
    websiteId: string,
    from: number,
    to: number,
    limit: number,
  ): Promise<{ session_id: string; created_at: number; trace: string | null }[]>;
}

export interface Stores {
  analytics: AnalyticsStore;
  websites: WebsiteStore;
  operators: OperatorStore;
  tokens: TokenStore;
  conversations: ConversationStore;
  idempotency: IdempotencyStore;
  kv: KvStore;
  files: WidgetFileStore;
  webhooks: WebhookStore;
  workflows: WorkflowStore;
  knowledge: KnowledgeStore;
  agent: AgentStore;
  /** Runs `fn` in one transaction (joining the current one if any), passing these stores. */
  transaction<T>(fn: (tx: Stores) => Promise<T>): Promise<T>;
  /** Runs `fn` in one transaction that every store call inside joins. */
  atomically<T>(fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` after the current transaction commits (never if it rolls back); at once outside one. */
  afterCommit(fn: () => void): void;
  /** In the current transaction: a point to roll back to (its writes and after-commit callbacks undone). */
  savepoint(): Promise<{ rollback(): Promise<void> }>;
  /** Opaque handle of the current executor, for ports (the job queue) that must write in the same transaction. */
  readonly executor: unknown;
}

export interface SourceRecord {
  id: string;
  website_id: string;
  kind: SourceKind;
  title: string;
  url: string | null;
  locale: string | null;
  enabled: boolean;
  status: "indexed" | "failed";
  error: string | null;
  passages: number;
  /** What the source was made from (JSON), to index it again. */
  content: string;
  created_at: number;
  updated_at: number;
}

/** A passage as indexed: its text, and the analysed terms of its title (source title and headings) and body. */
export interface PassageInput {
  ord: number;
  heading: string;
  text: string;
  titleTerms: string[];
  bodyTerms: string[];
}

export interface PassageHit {
  /** The passage's own id (unique across websites): how rankings of the same index are fused. */
  passage_id: number;
  source_id: string;
  kind: SourceKind;
  title: string;
  url: string | null;
  heading: string;
  text: string;
  score: number;
}

/**
 * Knowledge sources and a BM25 index of their passages. Only enabled sources' passages are in the
 * index; every method is scoped to one website.
 */
export interface KnowledgeStore {
  /** Creates the source with its passages (none when indexing failed). */
  createSource(source: SourceRecord, passages: PassageInput[]): Promise<void>;
  /** Replaces a source's passages and applies `patch`; false when the source is missing. */
  replacePassages(
    websiteId: string,
    sourceId: string,
    passages: PassageInput[],
    patch: Partial<Pick<SourceRecord, "title" | "status" | "error" | "content" | "updated_at">>,
  ): Promise<boolean>;
  /** Updates fields; enabling or disabling adds the passages to the index or removes them. */
  updateSource(
    websiteId: string,
    sourceId: string,
    patch: Partial<Pick<SourceRecord, "enabled" | "locale" | "status" | "error" | "updated_at">>,
  ): Promise<SourceRecord | undefined>;
  findSource(websiteId: string, sourceId: string): Promise<SourceRecord | undefined>;
  /** The sources of this kind with exactly this URL, oldest first (a crawl updates them in place). */
  findSourcesByUrl(websiteId: string, kind: SourceKind, url: string): Promise<SourceRecord[]>;
  /** Newest first. */
  listSources(
    websiteId: string,
    query: {
      kind?: SourceKind | undefined;
      enabled?: boolean | undefined;
      before?: string | undefined;
      limit: number;
    },
  ): Promise<SourceRecord[]>;
  deleteSource(websiteId: string, sourceId: string): Promise<boolean>;
  /**
   * How many indexed passages there are and how many contain each term — what BM25's idf is made
   * of (on SQLite, over the whole index, as FTS5's own ranking counts).
   */
  termStats(websiteId: string, terms: string[]): Promise<{ passages: number; df: Record<string, number> }>;
  /**
   * The best passages for these (analysed, distinct) terms, best first; BM25, title weighted ×3.
   * `locale` (a language subtag) leaves out sources labelled with another language.
   */
  search(
    websiteId: string,
    terms: string[],
    options: { limit: number; kind?: SourceKind | undefined; locale?: string | undefined },
  ): Promise<PassageHit[]>;
}

export interface TurnRecord {
  id: string;
  website_id: string;
  session_id: string;
  source: AgentTurn["source"];
  instruction: string | null;
  status: TurnStatus;
  fingerprint: number | null;
  trace: TurnTrace | null;
  error: string | null;
  workflow_run_id: string | null;
  created_at: number;
  finished_at: number | null;
}

/** An LLM provider as stored: its key sealed (AES-GCM under the server secret), never in the clear. */
export type StoredProvider = Omit<LlmProvider, "api_key_set"> & { api_key_sealed: string | null };

/** The agent's settings as stored (as the API shows them, but for the provider's sealed key). */
export type StoredAgentSettings = Omit<AgentSettings, "provider"> & { provider: StoredProvider | null };

/** The AI agent's settings and turns, per website. */
export interface AgentStore {
  /** Partial: settings stored before a field existed lack it (the service fills in defaults). */
  getSettings(websiteId: string): Promise<Partial<StoredAgentSettings> | undefined>;
  putSettings(websiteId: string, settings: StoredAgentSettings, at: number): Promise<void>;
  createTurn(turn: TurnRecord): Promise<void>;
  /** Finishes a queued turn; false when it is no longer queued (its job ran already). */
  finishTurn(
    websiteId: string,
    turnId: string,
    patch: Pick<TurnRecord, "status" | "fingerprint" | "trace" | "error" | "finished_at">,
  ): Promise<boolean>;
  findTurn(websiteId: string, turnId: string): Promise<TurnRecord | undefined>;
  /** Newest first. */
  listTurns(websiteId: string, sessionId: string, limit: number): Promise<TurnRecord[]>;
}

/** Receives committed events (and ephemeral compose signals) for realtime delivery. */
export interface EventSink {
  committed(events: ConversationEvent[]): void;
  compose(
    websiteId: string,
    frame: { session_id: string; from: "user" | "operator"; state: "start" | "stop"; excerpt?: string },
  ): void;
}
