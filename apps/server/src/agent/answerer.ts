import type { AgentSettings, RoutingRule, TurnTrace } from "@hugo/protocol";
import type { PassageHit } from "../core/ports.ts";

/** What an answerer gets for one turn. */
export interface AnswerInput {
  /** The visitor's recent messages, oldest first: what needs an answer. */
  question: string;
  /** The trigger's instruction for this conversation, if any. */
  instruction: string | null;
  /** Earlier messages, oldest first, for context. */
  history: { role: "visitor" | "agent" | "operator"; text: string }[];
  settings: AgentSettings;
  /** The language to answer in (a tag), when known. */
  locale: string;
  /** Searches the knowledge base (the same search the API serves). */
  search(query: string, limit: number): Promise<PassageHit[]>;
  /** The query's analysed terms, and how many passages hold each (BM25's idf) out of how many. */
  termStats(query: string): Promise<{ terms: string[]; passages: number; df: Record<string, number> }>;
}

/** The turn's outcome: a message to send, a handover to a human, or a routing rule's action. */
export interface AnswerResult {
  decision: "answer" | "escalate" | "route";
  /** The routing rule that matched (`route`). */
  rule?: RoutingRule;
  /** The visitor-facing text: the answer, or why the agent hands over. */
  text: string;
  reason: string;
  trace: Omit<TurnTrace, "latency_ms" | "decision" | "reason">;
}

/** An answerer behind one port: the offline default, or an LLM provider. */
export interface Answerer {
  readonly name: string;
  answer(input: AnswerInput): Promise<AnswerResult>;
}
