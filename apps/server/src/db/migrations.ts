import { type Kysely, sql } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import type { Dialect } from "./database.ts";

/**
 * Migrations live in code (not files read at run time) so a build or bundle carries them.
 * Each migration receives the dialect for the few places SQLite and PostgreSQL differ.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  const big = dialect === "postgres" ? "bigint" : "integer";
  return {
    "0001_core": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("websites")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("domain", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("last_seq", big, (c) => c.notNull().defaultTo(0))
          .execute();

        await db.schema
          .createTable("operators")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("email", "text", (c) => c.notNull().unique())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("password_hash", "text", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("last_login_at", big)
          .execute();

        await db.schema
          .createTable("website_operators")
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("operator_id", "text", (c) => c.notNull().references("operators.id").onDelete("cascade"))
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          .addPrimaryKeyConstraint("website_operators_pk", ["website_id", "operator_id"])
          .execute();

        await db.schema
          .createTable("api_tokens")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("scopes", "text", (c) => c.notNull())
          .addColumn("secret_hash", "text", (c) => c.notNull())
          .addColumn("hint", "text", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("expires_at", big)
          .addColumn("last_used_at", big)
          .addColumn("revoked_at", big)
          .execute();
        await db.schema
          .createIndex("api_tokens_website")
          .on("api_tokens")
          .columns(["website_id", "created_at"])
          .execute();

        await db.schema
          .createTable("conversations")
          .addColumn("session_id", "text", (c) => c.primaryKey())
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("inbox_id", "text")
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("is_blocked", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("assigned_user_id", "text")
          .addColumn("nickname", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("email", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("phone", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("avatar", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("ip", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("subject", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("origin", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("segments", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("data", "text", (c) => c.notNull().defaultTo("{}"))
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("updated_at", big, (c) => c.notNull())
          .addColumn("last_message", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("unread_operator", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("unread_visitor", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("last_seq", big, (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex("conversations_website_updated")
          .on("conversations")
          .columns(["website_id", "updated_at"])
          .execute();

        await db.schema
          .createTable("messages")
          .addColumn("session_id", "text", (c) =>
            c.notNull().references("conversations.session_id").onDelete("cascade"),
          )
          .addColumn("fingerprint", big, (c) => c.notNull())
          .addColumn("website_id", "text", (c) => c.notNull())
          .addColumn("seq", big, (c) => c.notNull())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("sender", "text", (c) => c.notNull())
          .addColumn("origin", "text", (c) => c.notNull())
          .addColumn("content", "text", (c) => c.notNull())
          .addColumn("user", "text", (c) => c.notNull())
          .addColumn("automated", "integer", (c) => c.notNull())
          .addColumn("stealth", "integer", (c) => c.notNull())
          .addColumn("read", "integer", (c) => c.notNull())
          .addColumn("delivered", "integer", (c) => c.notNull())
          .addColumn("edited", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("timestamp", big, (c) => c.notNull())
          .addColumn("website_seq", big, (c) => c.notNull())
          .addPrimaryKeyConstraint("messages_pk", ["session_id", "fingerprint"])
          .execute();
        // Per-conversation index pages are what a message write costs (every conversation's tail is
        // a different page): messages keep only their primary key per conversation. Their place in
        // the website log is an append-only index; see docs/adr/0004-message-log-layout.md.
        await db.schema
          .createIndex("messages_website_seq")
          .on("messages")
          .columns(["website_id", "website_seq"])
          .execute();

        await db.schema
          .createTable("events")
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("website_seq", big, (c) => c.notNull())
          .addColumn("session_id", "text")
          .addColumn("seq", big)
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("data", "text", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          // 1: the event of a message row, whose data lives in `messages` (read back by website_seq).
          .addColumn("is_message", "integer", (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint("events_pk", ["website_id", "website_seq"])
          .execute();
        // Other conversation events by conversation; message events are found through `messages`.
        await db.schema
          .createIndex("events_session_seq")
          .on("events")
          .columns(["session_id", "seq"])
          .where(sql.ref("is_message"), "=", 0)
          .execute();

        await db.schema
          .createTable("idempotency_keys")
          .addColumn("scope", "text", (c) => c.notNull())
          .addColumn("key", "text", (c) => c.notNull())
          .addColumn("request_hash", "text", (c) => c.notNull())
          .addColumn("status", "integer")
          .addColumn("response", "text")
          .addColumn("created_at", big, (c) => c.notNull())
          .addPrimaryKeyConstraint("idempotency_keys_pk", ["scope", "key"])
          .execute();
        await db.schema
          .createIndex("idempotency_keys_created")
          .on("idempotency_keys")
          .column("created_at")
          .execute();

        await db.schema
          .createTable("kv")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("value", "text", (c) => c.notNull())
          .execute();

        // The local job queue backs SQLite deployments; on PostgreSQL graphile-worker owns its own schema.
        // A job is failed for good once `attempts >= max_attempts` while unlocked (as in graphile-worker);
        // completed jobs are deleted, so `job_key` dedupes only against jobs that still exist.
        if (dialect === "sqlite") {
          await sql`create table jobs (
            id integer primary key autoincrement,
            kind text not null,
            payload text not null,
            queue_key text,
            job_key text unique,
            run_at integer not null,
            attempts integer not null default 0,
            max_attempts integer not null default 25,
            locked_by text,
            locked_until integer,
            last_error text,
            created_at integer not null
          )`.execute(db);
          await sql`create index jobs_ready on jobs (run_at, id) where attempts < max_attempts`.execute(db);
          await sql`create index jobs_queue_lock on jobs (queue_key, locked_until) where queue_key is not null`.execute(
            db,
          );
        }
      },
    },
    "0002_webhooks": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("webhooks")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("url", "text", (c) => c.notNull())
          // The signing secret, sealed with a key derived from the server secret (AES-256-GCM).
          .addColumn("secret_sealed", "text", (c) => c.notNull())
          .addColumn("events", "text", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          // Delivery cursor over the website's event log: every event up to here was delivered (or skipped).
          .addColumn("delivered_seq", big, (c) => c.notNull())
          .addColumn("last_error", "text")
          .addColumn("last_attempt_at", big)
          .execute();
        await db.schema.createIndex("webhooks_website").on("webhooks").column("website_id").execute();
      },
    },
    "0003_workflows": {
      async up(db: Kysely<unknown>) {
        const double = dialect === "postgres" ? "double precision" : "real";
        await db.schema
          .createTable("workflows")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
          // The draft graph (JSON); only deploying makes it run in production.
          .addColumn("draft", "text", (c) => c.notNull())
          .addColumn("browser_startable", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("deployed_version", "integer")
          .addColumn("latest_version", "integer", (c) => c.notNull().defaultTo(0))
          // The deployed start block's kind: what the event follower and triggers select on.
          .addColumn("deployed_start", "text")
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("updated_at", big, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("workflows_website")
          .on("workflows")
          .columns(["website_id", "created_at"])
          .execute();

        // Deployed graphs, immutable; they go with their workflow.
        await db.schema
          .createTable("workflow_versions")
          .addColumn("website_id", "text", (c) => c.notNull())
          .addColumn("workflow_id", "text", (c) => c.notNull().references("workflows.id").onDelete("cascade"))
          .addColumn("version", "integer", (c) => c.notNull())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("graph", "text", (c) => c.notNull())
          .addColumn("deployed_at", big, (c) => c.notNull())
          .addPrimaryKeyConstraint("workflow_versions_pk", ["workflow_id", "version"])
          .execute();

        // Runs outlive a deleted workflow (no foreign key on workflow_id): they are the record.
        await db.schema
          .createTable("workflow_runs")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("workflow_id", "text", (c) => c.notNull())
          .addColumn("version", "integer")
          .addColumn("graph", "text")
          .addColumn("session_id", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("test", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("source_event", "text")
          .addColumn("block_id", "text")
          // Steps taken, and the optimistic-concurrency counter every advance checks and bumps.
          .addColumn("step", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("wait", "text")
          .addColumn("variables", "text", (c) => c.notNull())
          .addColumn("started_at", big, (c) => c.notNull())
          .addColumn("updated_at", big, (c) => c.notNull())
          .addColumn("ended_at", big)
          .addColumn("end_reason", "text")
          .execute();
        // Runs of a workflow, or of a conversation, newest first (`id` breaks ties in the same ms).
        await db.schema
          .createIndex("workflow_runs_workflow")
          .on("workflow_runs")
          .columns(["website_id", "workflow_id", "started_at", "id"])
          .execute();
        await db.schema
          .createIndex("workflow_runs_session")
          .on("workflow_runs")
          .columns(["website_id", "session_id", "started_at", "id"])
          .execute();
        // At most one active run per conversation. Queries for active runs repeat this predicate
        // verbatim (ACTIVE in workflow-store.ts): SQLite uses a partial index only for a literal match.
        await sql`create unique index workflow_runs_one_active on workflow_runs (website_id, session_id)
          where status in ('running', 'waiting')`.execute(db);

        await db.schema
          .createTable("workflow_run_steps")
          .addColumn("run_id", "text", (c) => c.notNull().references("workflow_runs.id").onDelete("cascade"))
          .addColumn("website_id", "text", (c) => c.notNull())
          .addColumn("step", "integer", (c) => c.notNull())
          .addColumn("block_id", "text", (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("outcome", "text", (c) => c.notNull())
          .addColumn("handle", "text")
          .addColumn("at", big, (c) => c.notNull())
          .addColumn("duration_ms", double, (c) => c.notNull())
          .addColumn("log", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("workflow_run_steps_pk", ["run_id", "step"])
          .execute();

        // How far the workflow event follower has read each website's event log.
        await db.schema
          .createTable("workflow_cursors")
          .addColumn("website_id", "text", (c) =>
            c.primaryKey().references("websites.id").onDelete("cascade"),
          )
          .addColumn("seq", big, (c) => c.notNull())
          .execute();
      },
    },
    // A run's log: one row per batch (up to hundreds of steps as a JSON array) instead of one per
    // step — a 100-step batch was 100 heap and index entries and 100 foreign-key checks.
    "0004_run_step_batches": {
      async up(db) {
        await db.schema
          .createTable("workflow_run_batches")
          .addColumn("run_id", "text", (c) => c.notNull().references("workflow_runs.id").onDelete("cascade"))
          .addColumn("website_id", "text", (c) => c.notNull())
          .addColumn("first_step", "integer", (c) => c.notNull())
          .addColumn("steps", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("workflow_run_batches_pk", ["run_id", "first_step"])
          .execute();
        const step =
          dialect === "postgres"
            ? sql`json_build_array(json_build_object('step', step, 'block_id', block_id, 'kind', kind,
                'outcome', outcome, 'handle', handle, 'at', at, 'duration_ms', duration_ms, 'log', log::json))::text`
            : sql`json_array(json_object('step', step, 'block_id', block_id, 'kind', kind,
                'outcome', outcome, 'handle', handle, 'at', at, 'duration_ms', duration_ms, 'log', json(log)))`;
        await sql`insert into workflow_run_batches (run_id, website_id, first_step, steps)
          select run_id, website_id, step, ${step} from workflow_run_steps`.execute(db);
        await db.schema.dropTable("workflow_run_steps").execute();
      },
    },
    // The knowledge base: sources (with what is needed to index them again), their passages, and a
    // BM25 index of the enabled passages' analysed terms — FTS5 on SQLite, a postings table on
    // PostgreSQL (its own full-text ranking is not BM25). See agent/ARCHITECTURE.md.
    "0005_knowledge": {
      async up(db) {
        await db.schema
          .createTable("knowledge_sources")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("title", "text", (c) => c.notNull())
          .addColumn("url", "text")
          .addColumn("locale", "text")
          .addColumn("enabled", "integer", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("error", "text")
          .addColumn("passages", "integer", (c) => c.notNull().defaultTo(0))
          // What the source was made from (JSON), so it can be indexed again.
          .addColumn("content", "text", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("updated_at", big, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("knowledge_sources_website")
          .on("knowledge_sources")
          .columns(["website_id", "created_at", "id"])
          .execute();
        await db.schema
          .createTable("knowledge_passages")
          .addColumn("id", dialect === "postgres" ? "bigserial" : "integer", (c) =>
            dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn("website_id", "text", (c) => c.notNull())
          .addColumn("source_id", "text", (c) =>
            c.notNull().references("knowledge_sources.id").onDelete("cascade"),
          )
          .addColumn("ord", "integer", (c) => c.notNull())
          .addColumn("heading", "text", (c) => c.notNull())
          .addColumn("text", "text", (c) => c.notNull())
          // Analysed terms (space-separated), as indexed.
          .addColumn("title_terms", "text", (c) => c.notNull())
          .addColumn("body_terms", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("knowledge_passages_source")
          .on("knowledge_passages")
          .columns(["source_id", "ord"])
          .execute();
        if (dialect === "sqlite") {
          // Contentless: the text lives in knowledge_passages; rowid = passage id.
          await sql`create virtual table knowledge_fts using fts5(title, body, content='',
            contentless_delete=1, tokenize='unicode61 remove_diacritics 0')`.execute(db);
          // Per-term document counts (BM25's idf), for the agent's confidence.
          await sql`create virtual table knowledge_vocab using fts5vocab(knowledge_fts, 'row')`.execute(db);
        } else {
          // One row per (term, passage): BM25 as an index-only scan of the query's terms.
          await sql`create table knowledge_postings (
            website_id text not null, term text not null, passage_id bigint not null,
            tf real not null, len integer not null,
            primary key (website_id, term, passage_id) include (tf, len))`.execute(db);
          await sql`create index knowledge_postings_passage on knowledge_postings (passage_id)`.execute(db);
          await sql`create table knowledge_stats (
            website_id text primary key references websites(id) on delete cascade,
            passages integer not null, len bigint not null)`.execute(db);
        }
      },
    },
    // The AI agent: its settings per website, and one row per turn (what it did, and why).
    "0006_agent": {
      async up(db) {
        await db.schema
          .createTable("agent_settings")
          .addColumn("website_id", "text", (c) =>
            c.primaryKey().references("websites.id").onDelete("cascade"),
          )
          .addColumn("settings", "text", (c) => c.notNull())
          .addColumn("updated_at", big, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("agent_turns")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("session_id", "text", (c) => c.notNull())
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("instruction", "text")
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("fingerprint", big)
          .addColumn("trace", "text")
          .addColumn("error", "text")
          .addColumn("workflow_run_id", "text")
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("finished_at", big)
          .execute();
        await db.schema
          .createIndex("agent_turns_session")
          .on("agent_turns")
          .columns(["website_id", "session_id", "created_at"])
          .execute();
      },
    },
    // Optional hybrid search: a website's embedding provider, and one vector per passage and model
    // (float32 bytes, normalised; cosine similarity is computed in the server). A vector goes with
    // its passage (foreign key) and when its source is disabled (the store deletes it).
    "0007_knowledge_embeddings": {
      async up(db) {
        await db.schema
          .createTable("knowledge_settings")
          .addColumn("website_id", "text", (c) =>
            c.primaryKey().references("websites.id").onDelete("cascade"),
          )
          .addColumn("embeddings", "text")
          .addColumn("updated_at", big, (c) => c.notNull())
          .execute();
        const pg = dialect === "postgres";
        await db.schema
          .createTable("knowledge_embeddings")
          // Never reused (AUTOINCREMENT): a website's count and largest id tell when its vectors changed.
          .addColumn("id", pg ? "bigserial" : "integer", (c) =>
            pg ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn("website_id", "text", (c) => c.notNull())
          .addColumn("passage_id", big, (c) =>
            c.notNull().references("knowledge_passages.id").onDelete("cascade"),
          )
          .addColumn("model", "text", (c) => c.notNull())
          .addColumn("vector", pg ? "bytea" : "blob", (c) => c.notNull())
          .addUniqueConstraint("knowledge_embeddings_passage_model", ["passage_id", "model"])
          .execute();
        await db.schema
          .createIndex("knowledge_embeddings_website")
          .on("knowledge_embeddings")
          .columns(["website_id", "model", "id"])
          .execute();
      },
    },
    // SQLite ranks FTS5 matches, then keeps the website's: a lookup per match. In the passages
    // table (text and terms, rows spilling over pages) that lookup was two thirds of a search; in
    // this narrow covering index it is a third as costly (search p50 6.1 → 2.9 ms in process, 20,000
    // passages). PostgreSQL ranks its own postings, already per website.
    "0008_knowledge_passages_site": {
      async up(db) {
        if (dialect !== "sqlite") return;
        await db.schema
          .createIndex("knowledge_passages_site")
          .on("knowledge_passages")
          .columns(["id", "website_id", "source_id"])
          .execute();
      },
    },
    // A sealed copy of each new API token's secret (AES-256-GCM under the server secret), so the
    // dashboard can show snippets with the token filled in. Tokens created before stay hash-only.
    "0009_token_sealed": {
      async up(db) {
        await db.schema.alterTable("api_tokens").addColumn("secret_sealed", "text").execute();
      },
    },
    // The widget: a website's allowed origins (JSON array, empty = any origin) and the visitor's
    // language on their conversation (the browser's, or CRISP_RUNTIME_CONFIG.locale; "" = unknown).
    "0010_widget_origins_visitor_locale": {
      async up(db) {
        await db.schema
          .alterTable("websites")
          .addColumn("widget_allowed_origins", "text", (c) => c.notNull().defaultTo("[]"))
          .execute();
        await db.schema
          .alterTable("conversations")
          .addColumn("locale", "text", (c) => c.notNull().defaultTo(""))
          .execute();
        // Files visitors send from the widget: in the database, so every process serves them; they
        // go with their conversation.
        await db.schema
          .createTable("widget_files")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("session_id", "text", (c) =>
            c.notNull().references("conversations.session_id").onDelete("cascade"),
          )
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("size", big, (c) => c.notNull())
          .addColumn("data", dialect === "postgres" ? "bytea" : "blob", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex("widget_files_session").on("widget_files").column("session_id").execute();
      },
    },
    // Operators' dashboard sessions: the row's id is the SHA-256 of the cookie's secret, so a copy of
    // the table signs no one in. Removing an operator or a website ends their sessions.
    "0011_operator_sessions": {
      async up(db) {
        await db.schema
          .createTable("operator_sessions")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("operator_id", "text", (c) => c.notNull().references("operators.id").onDelete("cascade"))
          .addColumn("website_id", "text", (c) => c.notNull().references("websites.id").onDelete("cascade"))
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("expires_at", big, (c) => c.notNull())
          .addColumn("last_seen_at", big, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("operator_sessions_operator")
          .on("operator_sessions")
          .column("operator_id")
          .execute();
        await db.schema
          .createIndex("operator_sessions_expiry")
          .on("operator_sessions")
          .column("expires_at")
          .execute();
      },
    },
    // The dashboard's analytics count a website's conversations, agent turns and runs over a window.
    "0012_analytics_indexes": {
      async up(db) {
        await db.schema
          .createIndex("conversations_website_created")
          .on("conversations")
          .columns(["website_id", "created_at"])
          .execute();
        await db.schema
          .createIndex("agent_turns_website_created")
          .on("agent_turns")
          .columns(["website_id", "created_at", "status"])
          .execute();
        await db.schema
          .createIndex("workflow_runs_website_started")
          .on("workflow_runs")
          .columns(["website_id", "started_at"])
          .execute();
      },
    },
  };
}

/**
 * Brings the schema to the latest version (or, for tests of a migration, to `target`); safe to call
 * on every start and from several processes.
 */
export async function migrateToLatest(
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against any schema version
  db: Kysely<any>,
  dialect: Dialect,
  target?: string,
): Promise<string[]> {
  // Name the schema explicitly: Kysely otherwise detects its bookkeeping tables by name in ANY schema
  // and skips creating them when another schema on the server (another app, another test) has them.
  const schema =
    dialect === "postgres"
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) } satisfies MigrationProvider,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await (target ? migrator.migrateTo(target) : migrator.migrateToLatest());
    if (!error) return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
    // Kysely's existence checks introspect every schema of the database; one dropped or altered at that
    // moment by someone else fails the read-only check, which is safe to repeat.
    const code = (error as { code?: string }).code;
    if (attempt >= 5 || !code || !INTROSPECTION_RACES.has(code))
      throw error instanceof Error ? error : new Error(String(error));
    await new Promise((r) => setTimeout(r, 50 * attempt));
  }
}

// undefined_schema, undefined_table, undefined_column, internal_error (catalog lookups racing a drop).
const INTROSPECTION_RACES = new Set(["3F000", "42P01", "42703", "XX000"]);
