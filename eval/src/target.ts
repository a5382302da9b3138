/** The contract between the evaluation harness and a system under test (BM25 reference, Hugo). */
import type { EvalDoc, EvalQuery } from "./datasets.ts";

/** One ranked search result: a document id from the ingested set and the target's own score. */
export interface SearchHit {
  docId: string;
  score: number;
}

/** What the agent would do with a query: answer from the KB or escalate to a human. */
export interface AgentDecision {
  answered: boolean;
  /** higher = more confident the KB answers it */
  confidence: number;
  docIds: string[];
  text?: string;
}

/** A system the harness can drive: ingest a knowledge base, then search it and (optionally) decide. */
export interface EvalTarget {
  name: string;
  /** Loads the documents (fresh knowledge base per set/kb): each call replaces what an earlier call loaded. */
  ingest(docs: EvalDoc[], kb?: string): Promise<{ passages: number; ms: number }>;
  search(query: EvalQuery, k: number): Promise<SearchHit[]>;
  /** Absent until the answerer exists: answer-vs-escalate sets then report only retrieval. */
  decide?(query: EvalQuery): Promise<AgentDecision>;
  close(): Promise<void>;
}
