/**
 * Hugo as an evaluation target: the real knowledge ingestion (reading, chunking, analysis, the
 * SQLite FTS5 index) and the real offline answerer, in process. Each `ingest` opens a fresh
 * database, because FTS5 keeps its BM25 statistics per index, not per website.
 */
import { randomUUID } from "node:crypto";
import type { AgentSettings } from "@hugo/protocol";
import { KnowledgeService } from "../../apps/server/src/agent/knowledge/service.ts";
import { LlmAnswerer, type LlmConfig } from "../../apps/server/src/agent/llm-answerer.ts";
import { OfflineAnswerer, retrieve } from "../../apps/server/src/agent/offline-answerer.ts";
import { DEFAULT_SETTINGS } from "../../apps/server/src/agent/service.ts";
import { type Database, openDatabase } from "../../apps/server/src/db/database.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrations.ts";
import { createStores } from "../../apps/server/src/db/stores.ts";
import type { EvalDoc, EvalQuery } from "./datasets.ts";
import type { AgentDecision, EvalTarget, SearchHit } from "./target.ts";

/** The one website the target loads its knowledge into. */
export const HUGO_EVAL_WEBSITE = randomUUID();
const WEBSITE = HUGO_EVAL_WEBSITE;

/**
 * Hugo as the system under test: the real ingestion and search over an in-memory SQLite database, and
 * the agent's decision — the offline answerer's, or with `llm` the LLM answerer's (the offline one
 * deciding when the model fails, as in production).
 */
export async function createHugoTarget(
  settings: Partial<Omit<AgentSettings, "provider">> = {},
  llm?: LlmConfig,
): Promise<EvalTarget & { knowledge(): KnowledgeService }> {
  let database: Database | undefined;
  let knowledge: KnowledgeService | undefined;
  const docOf = new Map<string, string>();
  const offline = new OfflineAnswerer();
  const answerer = llm
    ? new LlmAnswerer(llm, { fetch: globalThis.fetch, fallback: (input) => offline.answer(input) })
    : offline;
  const agentSettings = { ...DEFAULT_SETTINGS, ...settings };
  const kb = () => {
    if (!knowledge) throw new Error("ingest first");
    return knowledge;
  };
  return {
    name: llm ? "hugo-llm" : "hugo",
    knowledge: kb,
    async ingest(docs: EvalDoc[]) {
      await database?.close();
      database = openDatabase({ sqliteFile: ":memory:" });
      await migrateToLatest(database.db, database.dialect);
      const stores = createStores(database.db, database.sqlite);
      await stores.websites.create({ id: WEBSITE, name: "eval", domain: "", created_at: Date.now() });
      knowledge = new KnowledgeService(stores, async () => {
        throw new Error("the evaluation fetches no pages");
      });
      docOf.clear();
      const started = performance.now();
      let passages = 0;
      for (const doc of docs) {
        const source =
          doc.kind === "answer"
            ? await knowledge.create(WEBSITE, {
                kind: "answer",
                question: doc.title || doc.body.slice(0, 200),
                answer: doc.body || doc.title,
              })
            : await knowledge.create(WEBSITE, {
                kind: "helpdesk",
                title: doc.title || doc.body.slice(0, 80) || doc.id,
                body: doc.body || doc.title,
                format: "markdown",
                ...(doc.url ? { url: doc.url } : {}),
              });
        docOf.set(source.source_id, doc.id);
        passages += source.passages;
      }
      return { passages, ms: performance.now() - started };
    },
    async search(query: EvalQuery, k: number): Promise<SearchHit[]> {
      const { hits } = await retrieve(
        (q, limit) => kb().search(WEBSITE, { q: q.slice(0, 1000), limit }),
        query.text,
        query.history ?? [],
        Math.min(50, k * 3),
      );
      const seen = new Set<string>();
      const out: SearchHit[] = [];
      for (const h of hits) {
        const docId = docOf.get(h.source_id);
        if (!docId || seen.has(docId)) continue;
        seen.add(docId);
        out.push({ docId, score: h.score });
        if (out.length === k) break;
      }
      return out;
    },
    async decide(query: EvalQuery): Promise<AgentDecision> {
      const result = await answerer.answer({
        question: query.text,
        instruction: null,
        history: (query.history ?? []).map((h) => ({
          role: h.role === "user" ? "visitor" : "agent",
          text: h.text,
        })),
        settings: agentSettings,
        websiteName: async () => "the evaluation website",
        locale: "en",
        rules: [],
        workflows: async () => [],
        search: (q, limit) => kb().search(WEBSITE, { q: q.slice(0, 1000), limit }),
        termStats: (q) => kb().termStats(WEBSITE, q),
      });
      return {
        answered: result.decision === "answer",
        // An LLM states no confidence: its decision is the only score (AUROC then measures the decision).
        confidence: result.trace.confidence ?? (result.decision === "answer" ? 1 : 0),
        docIds: result.trace.passages.map((p) => docOf.get(p.source_id) ?? ""),
        text: result.text,
      };
    },
    async close() {
      await database?.close();
    },
  };
}
