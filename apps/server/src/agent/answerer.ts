import type { AgentSettings, MetaPatch, RoutingRule, TurnTrace } from "@hugo/protocol";
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
  /** The name of the website the agent speaks for (read when an answerer needs it). */
  websiteName(): Promise<string>;
  /** The language to answer in (a tag), when known. */
  locale: string;
  /**
   * Routing rules still to judge: an LLM answerer decides whether one applies (the offline one is
   * never asked: rules are matched by similarity before it). Empty when rules do not apply.
   */
  rules: RoutingRule[];
  /** Deployed workflows the agent may start (an LLM's tool). */
  workflows(): Promise<{ id: string; name: string }[]>;
  /** Searches the knowledge base (the same search the API serves). */
  search(query: string, limit: number): Promise<PassageHit[]>;
  /** The query's analysed terms, and how many passages hold each (BM25's idf) out of how many. */
  termStats(query: string): Promise<{ terms: string[]; passages: number; df: Record<string, number> }>;
}

/** Where a streaming answerer writes its answer as it grows (the whole text so far, each time). */
export interface AnswerStream {
  text(sofar: string): void;
}

/** What the turn does besides answering or escalating: a routing rule's action, or a tool's. */
export type TurnAction = RoutingRule["action"];

/** The turn's outcome: a message to send, a handover to a human, or a routing action. */
export interface AnswerResult {
  decision: "answer" | "escalate" | "route";
  /** What `route` does, and the routing rule that asked for it (absent when a tool did). */
  action?: TurnAction;
  rule?: RoutingRule;
  /** Contact details the visitor gave, to record on the conversation. */
  contact?: MetaPatch;
  /** The visitor-facing text: the answer, or why the agent hands over. */
  text: string;
  reason: string;
  trace: Omit<TurnTrace, "latency_ms" | "decision" | "reason">;
}

/** An answerer behind one port: the offline default, or an LLM provider. */
export interface Answerer {
  readonly name: string;
  /** Streaming answerers report the answer as it grows through `stream`. */
  answer(input: AnswerInput, stream?: AnswerStream): Promise<AnswerResult>;
}

/** A trace before anything was searched or decided. */
export const emptyTrace = (provider: string, model: string | null = null): AnswerResult["trace"] => ({
  queries: [],
  passages: [],
  confidence: null,
  tools: [],
  provider,
  model,
  tokens: null,
});

/** A passage as the trace records it (without its text). */
export const tracePassage = ({ source_id, kind, title, heading, url, score }: PassageHit) => ({
  source_id,
  kind,
  title,
  heading,
  url,
  score,
});
