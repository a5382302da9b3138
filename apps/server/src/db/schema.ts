import type { Generated } from "kysely";

/**
 * Table shapes, identical on SQLite and PostgreSQL: JSON is stored as text, booleans as 0/1
 * integers and times as integer milliseconds, so one store implementation serves both dialects
 * (see docs/adr/0002-one-schema-two-dialects.md).
 */
export interface DB {
  websites: WebsitesTable;
  operators: OperatorsTable;
  website_operators: WebsiteOperatorsTable;
  operator_sessions: OperatorSessionsTable;
  api_tokens: ApiTokensTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  events: EventsTable;
  idempotency_keys: IdempotencyKeysTable;
  jobs: JobsTable;
  kv: KvTable;
  widget_files: WidgetFilesTable;
  webhooks: WebhooksTable;
  workflows: WorkflowsTable;
  workflow_versions: WorkflowVersionsTable;
  workflow_runs: WorkflowRunsTable;
  workflow_run_batches: WorkflowRunBatchesTable;
  workflow_cursors: WorkflowCursorsTable;
  knowledge_sources: KnowledgeSourcesTable;
  knowledge_passages: KnowledgePassagesTable;
  agent_settings: AgentSettingsTable;
  agent_turns: AgentTurnsTable;
  knowledge_settings: KnowledgeSettingsTable;
  knowledge_embeddings: KnowledgeEmbeddingsTable;
}

export interface WebsitesTable {
  id: string;
  name: string;
  domain: string;
  created_at: number;
  /** JSON array of origins the widget API answers (empty: any). */
  widget_allowed_origins: string;
  /** Last per-website event sequence number handed out. */
  last_seq: number;
}

export interface OperatorsTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  created_at: number;
  last_login_at: number | null;
}

export interface WidgetFilesTable {
  id: string;
  website_id: string;
  session_id: string;
  name: string;
  type: string;
  size: number;
  data: Uint8Array;
  created_at: number;
}

export interface WebsiteOperatorsTable {
  website_id: string;
  operator_id: string;
  role: string;
  created_at: number;
}

export interface OperatorSessionsTable {
  id: string;
  operator_id: string;
  website_id: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

export interface ApiTokensTable {
  id: string;
  website_id: string;
  name: string;
  scopes: string;
  secret_hash: string;
  /** The key sealed under the server secret (purpose "api-token"); null for tokens older than 0009. */
  secret_sealed: string | null;
  hint: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface ConversationsTable {
  session_id: string;
  website_id: string;
  inbox_id: string | null;
  state: string;
  is_blocked: number;
  assigned_user_id: string | null;
  nickname: string;
  email: string;
  phone: string;
  avatar: string;
  ip: string;
  subject: string;
  origin: string;
  segments: string;
  data: string;
  /** The visitor's language tag, "" when unknown. */
  locale: string;
  created_at: number;
  updated_at: number;
  last_message: string;
  unread_operator: number;
  unread_visitor: number;
  /** Last per-conversation event sequence number handed out. */
  last_seq: number;
}

export interface MessagesTable {
  session_id: string;
  fingerprint: number;
  website_id: string;
  seq: number;
  type: string;
  sender: string;
  origin: string;
  content: string;
  user: string;
  automated: number;
  stealth: number;
  read: number;
  delivered: number;
  edited: number;
  timestamp: number;
  /** The website_seq of the message's event (messages are the data of their events). */
  website_seq: number;
}

export interface EventsTable {
  website_id: string;
  website_seq: number;
  session_id: string | null;
  seq: number | null;
  name: string;
  data: string;
  created_at: number;
  /** 1 when the event is a message's: its data is the `messages` row with the same website_seq. */
  is_message: number;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  status: number | null;
  response: string | null;
  created_at: number;
}

export interface JobsTable {
  id: Generated<number>;
  kind: string;
  payload: string;
  queue_key: string | null;
  job_key: string | null;
  run_at: number;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
}

export interface KvTable {
  key: string;
  value: string;
}

export interface WebhooksTable {
  id: string;
  website_id: string;
  url: string;
  secret_sealed: string;
  events: string;
  created_at: number;
  delivered_seq: number;
  last_error: string | null;
  last_attempt_at: number | null;
}

export interface WorkflowsTable {
  id: string;
  website_id: string;
  name: string;
  description: string;
  /** WorkflowGraph as JSON. */
  draft: string;
  browser_startable: number;
  deployed_version: number | null;
  latest_version: number;
  /** The deployed start block's kind. */
  deployed_start: string | null;
  created_at: number;
  updated_at: number;
}

export interface WorkflowVersionsTable {
  website_id: string;
  workflow_id: string;
  version: number;
  name: string;
  /** WorkflowGraph as JSON. */
  graph: string;
  deployed_at: number;
}

export interface WorkflowRunsTable {
  id: string;
  website_id: string;
  workflow_id: string;
  version: number | null;
  /** WorkflowGraph as JSON (test runs of a draft). */
  graph: string | null;
  session_id: string;
  status: string;
  test: number;
  source: string;
  source_event: string | null;
  block_id: string | null;
  step: number;
  /** RunWait as JSON. */
  wait: string | null;
  /** Variables as a JSON object. */
  variables: string;
  started_at: number;
  updated_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

/** A run's log, one row per batch of steps. */
export interface WorkflowRunBatchesTable {
  run_id: string;
  website_id: string;
  first_step: number;
  /** The batch's steps as a JSON array of RunStep. */
  steps: string;
}

export interface WorkflowCursorsTable {
  website_id: string;
  /** Every event of the website up to this website_seq was handled. */
  seq: number;
}

export interface KnowledgeSourcesTable {
  id: string;
  website_id: string;
  kind: string;
  title: string;
  url: string | null;
  locale: string | null;
  enabled: number;
  status: string;
  error: string | null;
  passages: number;
  content: string;
  created_at: number;
  updated_at: number;
}

export interface KnowledgePassagesTable {
  id: Generated<number>;
  website_id: string;
  source_id: string;
  ord: number;
  heading: string;
  text: string;
  title_terms: string;
  body_terms: string;
}

export interface KnowledgeSettingsTable {
  website_id: string;
  /** The embedding provider as JSON (its key sealed), or null. */
  embeddings: string | null;
  updated_at: number;
}

/** One vector per passage and model: float32s, little-endian, normalised to length 1. */
export interface KnowledgeEmbeddingsTable {
  id: Generated<number>;
  website_id: string;
  passage_id: number;
  /** Which provider, model and dimensions made the vector (a hash of them). */
  model: string;
  vector: Uint8Array;
}

export interface AgentSettingsTable {
  website_id: string;
  /** AgentSettings as JSON. */
  settings: string;
  updated_at: number;
}

export interface AgentTurnsTable {
  id: string;
  website_id: string;
  session_id: string;
  source: string;
  instruction: string | null;
  status: string;
  fingerprint: number | null;
  /** TurnTrace as JSON. */
  trace: string | null;
  error: string | null;
  workflow_run_id: string | null;
  created_at: number;
  finished_at: number | null;
}
