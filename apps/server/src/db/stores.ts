import type { Database as SQLiteDatabase } from "better-sqlite3";
import type { Kysely } from "kysely";
import type { Stores } from "../core/ports.ts";
import { SqlAgentStore } from "./agent-store.ts";
import { SqlAnalyticsStore } from "./analytics-store.ts";
import { SqlConversationStore } from "./conversation-store.ts";
import { SqlIdempotencyStore } from "./idempotency-store.ts";
import { SqlKnowledgeStore } from "./knowledge-store.ts";
import { SqlOperatorStore } from "./operator-store.ts";
import type { DB } from "./schema.ts";
import { SqlTokenStore } from "./token-store.ts";
import { afterCommit, atomically, executor, savepoint } from "./tx-context.ts";
import { SqlWebhookStore } from "./webhook-store.ts";
import { SqlKvStore, SqlWebsiteStore } from "./website-store.ts";
import { SqlWidgetFileStore } from "./widget-file-store.ts";
import { SqlWorkflowStore } from "./workflow-store.ts";

/** `sqlite` (the raw better-sqlite3 handle) enables prepared-statement fast paths on SQLite. */
export function createStores(db: Kysely<DB>, sqlite?: SQLiteDatabase): Stores {
  const stores: Stores = {
    analytics: new SqlAnalyticsStore(db),
    websites: new SqlWebsiteStore(db),
    operators: new SqlOperatorStore(db),
    tokens: new SqlTokenStore(db),
    conversations: new SqlConversationStore(db, sqlite),
    idempotency: new SqlIdempotencyStore(db),
    kv: new SqlKvStore(db),
    files: new SqlWidgetFileStore(db),
    webhooks: new SqlWebhookStore(db),
    workflows: new SqlWorkflowStore(db),
    knowledge: new SqlKnowledgeStore(db),
    agent: new SqlAgentStore(db),
    get executor() {
      return executor(db);
    },
    transaction: (fn) => atomically(db, () => fn(stores)),
    atomically: (fn) => atomically(db, fn),
    afterCommit: (fn) => afterCommit(db, fn),
    savepoint: () => savepoint(db),
  };
  return stores;
}
