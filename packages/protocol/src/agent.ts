import { z } from "zod";
import { AUTOMATED_INBOX } from "./conversation.ts";
import { ScenarioId, SessionId, SourceId, TurnId } from "./ids.ts";
import { Locale, SourceKind } from "./knowledge.ts";

/** Contract §1 — must be exact: `{session_id, instruction?}` with the instruction at most 2000 characters. */
export const INSTRUCTION_MAX = 2000;
export const AgentTrigger = z.strictObject({
  session_id: SessionId,
  instruction: z.string().optional(),
});
export type AgentTrigger = z.infer<typeof AgentTrigger>;

export const TURN_STATUSES = ["queued", "answered", "escalated", "routed", "failed"] as const;
export const TurnStatus = z.enum(TURN_STATUSES);
export type TurnStatus = z.infer<typeof TurnStatus>;

/** `data` of a successful agent trigger (202). */
export const AgentTriggerResult = z.object({ turn_id: TurnId, status: TurnStatus });
export type AgentTriggerResult = z.infer<typeof AgentTriggerResult>;

/** How sure the agent must be before it answers rather than hands over. */
export const AnswerGuidance = z.enum(["cautious", "balanced", "confident"]);
export type AnswerGuidance = z.infer<typeof AnswerGuidance>;

/** A routing rule: when a visitor's message matches the situation described, do this instead of answering. */
export const RoutingRule = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** The situation, in words: an intent, a topic or an emotion ("wants to cancel their subscription"). */
  description: z.string().trim().min(3).max(500),
  action: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("escalate") }),
    z.strictObject({ kind: z.literal("workflow"), workflow_id: ScenarioId }),
    z.strictObject({ kind: z.literal("inbox"), inbox_id: z.union([z.literal(AUTOMATED_INBOX), z.null()]) }),
  ]),
});
export type RoutingRule = z.infer<typeof RoutingRule>;

/** The LLM APIs Hugo speaks (through the AI SDK): OpenAI's chat completions as OpenAI, Ollama, vLLM, llama.cpp's server or LM Studio serve it, and Anthropic's messages. */
export const LLM_PROVIDER_KINDS = ["openai-compatible", "anthropic"] as const;
export const LlmProviderKind = z.enum(LLM_PROVIDER_KINDS);
export type LlmProviderKind = z.infer<typeof LlmProviderKind>;

/** Anthropic's API, when no base URL is given. */
export const ANTHROPIC_BASE_URL = "https://api.anthropic.com/v1";

const ModelName = z.string().trim().min(1).max(200);
const ProviderFields = {
  kind: LlmProviderKind,
  /** The API's base URL, up to the version: `https://api.openai.com/v1`, `http://ollama:11434/v1`. */
  base_url: z.string().trim().url().max(2000),
  model: ModelName,
  /** Tried when the model fails (an error, a timeout, 429s past the retries). */
  fallback_model: ModelName.nullable(),
  /** How long one model may take for a whole answer before the next one (or the offline answerer) takes over. */
  timeout_ms: z.number().int().min(1000).max(300_000),
};

/** An LLM provider as the API shows it: the key is never shown, only whether one is set. */
export const LlmProvider = z.strictObject({ ...ProviderFields, api_key_set: z.boolean() });
export type LlmProvider = z.infer<typeof LlmProvider>;

/**
 * An LLM provider as it is set. `api_key`: omitted keeps the stored key, null removes it; it is
 * stored encrypted and never returned.
 */
export const LlmProviderInput = z
  .strictObject({
    ...ProviderFields,
    base_url: ProviderFields.base_url.optional(),
    fallback_model: ProviderFields.fallback_model.optional(),
    timeout_ms: ProviderFields.timeout_ms.optional(),
    api_key: z.string().trim().min(1).max(500).nullable().optional(),
  })
  .refine((p) => p.kind !== "openai-compatible" || p.base_url !== undefined, {
    message: "an OpenAI-compatible provider needs its base_url",
    path: ["base_url"],
  });
export type LlmProviderInput = z.infer<typeof LlmProviderInput>;

const SettingsFields = {
  /** The name the agent signs its messages with. */
  name: z.string().trim().min(1).max(60),
  /** Global rules for tone, format and boundaries (not a place for facts). */
  instructions: z.string().max(10_000),
  /** New conversations: the agent answers each visitor message, or they go to the inbox. */
  activation: z.enum(["answer", "route"]),
  guidance: AnswerGuidance,
  /** `auto`: the visitor's language when known; otherwise a fixed language tag. */
  locale: z.union([z.literal("auto"), Locale]),
  /** Told to the visitor when the agent hands the conversation over to a human. */
  escalation_message: z.string().trim().min(1).max(1000),
  /** Conversations the agent handles resolve after this many days without a visitor message. */
  auto_resolve_days: z.number().int().min(1).max(90),
  /** Checked on every visitor message the agent would answer, in order; the first match acts. */
  routing_rules: z.array(RoutingRule).max(50),
};

export const AgentSettings = z.strictObject({
  ...SettingsFields,
  /** The LLM that writes answers; null: the offline answerer (extractive, from the knowledge base). */
  provider: LlmProvider.nullable(),
});
export type AgentSettings = z.infer<typeof AgentSettings>;

export const AgentSettingsUpdate = z
  .strictObject(SettingsFields)
  .partial()
  .extend({ provider: LlmProviderInput.nullable().optional() })
  .refine((u) => Object.keys(u).length > 0, "nothing to update");
export type AgentSettingsUpdate = z.infer<typeof AgentSettingsUpdate>;

/** `POST /api/agent/settings/provider/check`: each model asked for a one-word reply. */
export const ProviderCheck = z.array(
  z.object({
    model: z.string(),
    ok: z.boolean(),
    latency_ms: z.number(),
    /** What went wrong (the provider's status and message), when it did. */
    error: z.string().nullable(),
  }),
);
export type ProviderCheck = z.infer<typeof ProviderCheck>;

/** A passage the agent looked at, with its BM25 score. */
export const TracePassage = z.object({
  source_id: SourceId,
  kind: SourceKind,
  title: z.string(),
  heading: z.string(),
  url: z.string().nullable(),
  score: z.number(),
});

/** What one agent turn did and why: the guardrails trace. */
export const TurnTrace = z.object({
  queries: z.array(z.string()),
  passages: z.array(TracePassage),
  decision: z.enum(["answer", "escalate", "route"]),
  /** The routing rule that matched, when one did. */
  rule: z.string().nullable().optional(),
  reason: z.string(),
  /** Calibrated probability that the knowledge base answers the visitor (offline answerer). */
  confidence: z.number().nullable(),
  tools: z.array(z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()) })),
  provider: z.string(),
  model: z.string().nullable(),
  tokens: z.object({ input: z.number().int(), output: z.number().int() }).nullable(),
  /** Models that failed before the one that decided (`model: reason`), in order. */
  provider_errors: z.array(z.string()).optional(),
  latency_ms: z.number(),
});
export type TurnTrace = z.infer<typeof TurnTrace>;

export const AgentTurn = z.object({
  turn_id: TurnId,
  session_id: SessionId,
  source: z.enum(["api", "message", "workflow", "playground"]),
  instruction: z.string().nullable(),
  status: TurnStatus,
  /** The fingerprint of the message the agent sent, when it sent one. */
  fingerprint: z.number().int().nullable(),
  trace: TurnTrace.nullable(),
  error: z.string().nullable(),
  created_at: z.number().int(),
  finished_at: z.number().int().nullable(),
  /** The workflow run that asked, for the "answer with the AI agent" block. */
  workflow_run_id: z.string().nullable(),
});
export type AgentTurn = z.infer<typeof AgentTurn>;

export const AgentTurnListQuery = z.strictObject({
  session_id: SessionId,
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
