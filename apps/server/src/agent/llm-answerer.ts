import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import {
  type AnswerGuidance,
  type LlmProviderKind,
  type MetaPatch,
  MetaPatch as MetaPatchSchema,
  type ProviderCheck,
  type RoutingRule,
} from "@hugo/protocol";
import {
  APICallError,
  generateText,
  hasToolCall,
  type LanguageModel,
  type ModelMessage,
  stepCountIs,
  streamText,
  tool,
} from "ai";
import { z } from "zod";
import type { PassageHit } from "../core/ports.ts";
import {
  type Answerer,
  type AnswerInput,
  type AnswerResult,
  type AnswerStream,
  emptyTrace,
  type TurnAction,
  tracePassage,
} from "./answerer.ts";

// The SDK's own console warnings (unknown model names and the like) are not for a server's log.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

/** A website's LLM provider, its key unsealed. */
export interface LlmConfig {
  kind: LlmProviderKind;
  baseUrl: string;
  apiKey: string | null;
  model: string;
  fallbackModel: string | null;
  timeoutMs: number;
}

/** Passages put in the prompt up front; the model may search for more. */
const PROMPT_PASSAGES = 5;
/** Model calls in one turn: the answer, plus up to three searches. */
const MAX_STEPS = 4;
const MAX_OUTPUT_TOKENS = 1024;
/** Tools that decide the turn instead of an answer. */
const ACTING_TOOLS = ["escalate_to_human", "apply_routing_rule", "start_workflow"];
/** Characters of a passage shown to the model. */
const PASSAGE_CHARS = 1500;

const GUIDANCE: Record<AnswerGuidance, string> = {
  cautious:
    "Answer only when the passages state the answer plainly. If they do not, or you are unsure, call escalate_to_human.",
  balanced:
    "Answer when the passages support the answer. If they do not cover the question, call escalate_to_human rather than guess.",
  confident:
    "Answer whenever the passages reasonably support an answer, even partly (say what they do not cover). Call escalate_to_human only when they say nothing relevant.",
};

/**
 * An answerer that has an LLM write the answer, through the AI SDK (OpenAI-compatible chat
 * completions or Anthropic messages), over passages retrieved from the knowledge base. The answer
 * streams as it is written. The model acts through tools: search the knowledge base again, hand
 * over to a human, apply a routing rule, start a workflow, record the visitor's contact details.
 * If the model fails — an error, a timeout, rate limits past the retries — the fallback model is
 * tried, then `fallback` (the offline answerer): the visitor never meets silence.
 */
export class LlmAnswerer implements Answerer {
  readonly name: string;
  readonly #config: LlmConfig;
  readonly #fetch: typeof fetch;
  readonly #fallback: (input: AnswerInput) => Promise<AnswerResult>;

  constructor(
    config: LlmConfig,
    deps: { fetch: typeof fetch; fallback: (input: AnswerInput) => Promise<AnswerResult> },
  ) {
    this.name = config.kind;
    this.#config = config;
    this.#fetch = deps.fetch;
    this.#fallback = deps.fallback;
  }

  async answer(input: AnswerInput, stream?: AnswerStream): Promise<AnswerResult> {
    const query = input.question.trim() || input.instruction || "";
    const hits = query ? await input.search(query.slice(0, 1000), PROMPT_PASSAGES) : [];
    const errors: string[] = [];
    for (const model of [this.#config.model, this.#config.fallbackModel]) {
      if (!model) continue;
      try {
        const result = await this.#attempt(model, input, query, hits, stream);
        return errors.length > 0
          ? { ...result, trace: { ...result.trace, provider_errors: errors } }
          : result;
      } catch (error) {
        errors.push(`${model}: ${describe(error)}`);
      }
    }
    const result = await this.#fallback(input);
    return {
      ...result,
      reason: `${result.reason} (the LLM failed; the offline answerer decided)`,
      trace: { ...result.trace, provider_errors: errors },
    };
  }

  /** Asks each model for a one-word reply: whether the base URL, the key and the model names work. */
  async check(): Promise<ProviderCheck> {
    const results: ProviderCheck = [];
    for (const model of [this.#config.model, this.#config.fallbackModel]) {
      if (!model) continue;
      const started = performance.now();
      let error: string | null = null;
      try {
        await generateText({
          model: this.#model(model),
          prompt: "Reply with the word OK.",
          maxOutputTokens: 16,
          maxRetries: 0,
          timeout: { totalMs: this.#config.timeoutMs },
        });
      } catch (e) {
        error = describe(e);
      }
      const latency_ms = Math.round(performance.now() - started);
      results.push({ model, ok: error === null, latency_ms, error });
    }
    return results;
  }

  #model(name: string): LanguageModel {
    const { kind, baseUrl, apiKey } = this.#config;
    if (kind === "anthropic") {
      return createAnthropic({ baseURL: baseUrl, apiKey: apiKey ?? "", fetch: this.#fetch })(name);
    }
    return createOpenAICompatible({
      name: "openai-compatible",
      baseURL: baseUrl,
      ...(apiKey ? { apiKey } : {}),
      includeUsage: true,
      fetch: this.#fetch,
    }).chatModel(name);
  }

  async #attempt(
    model: string,
    input: AnswerInput,
    query: string,
    hits: PassageHit[],
    stream: AnswerStream | undefined,
  ): Promise<AnswerResult> {
    const trace: AnswerResult["trace"] = {
      ...emptyTrace(this.#config.kind, model),
      queries: query ? [query] : [],
      passages: hits.map(tracePassage),
    };
    const acts: Acts = { contact: {} };
    const workflows = await input.workflows();
    const result = streamText({
      model: this.#model(model),
      system: systemPrompt(input, await input.websiteName(), hits),
      messages: conversation(input),
      tools: tools(input, workflows, acts, trace),
      // An acting tool ends the turn: nothing the model would write after it reaches the visitor.
      stopWhen: [stepCountIs(MAX_STEPS), hasToolCall(...ACTING_TOOLS)],
      maxOutputTokens: MAX_OUTPUT_TOKENS,
      // One retry (after the 429's Retry-After, or 2 s): the visitor is waiting; the fallback model is next.
      maxRetries: 1,
      timeout: { totalMs: this.#config.timeoutMs },
      // Errors arrive as stream parts, handled below (the default would print them to the console).
      onError: () => {},
    });
    let text = "";
    for await (const part of result.fullStream) {
      if (part.type === "start-step" && text) text += "\n\n";
      else if (part.type === "text-delta") {
        text += part.text;
        if (!acts.escalate && !acts.route && text.trim()) stream?.text(text.trim());
      } else if (part.type === "error") throw part.error;
      else if (part.type === "abort") throw new Error(`no answer within ${this.#config.timeoutMs} ms`);
    }
    const usage = await result.totalUsage;
    trace.tokens = { input: usage.inputTokens ?? 0, output: usage.outputTokens ?? 0 };
    const contact = Object.keys(acts.contact).length > 0 ? { contact: acts.contact } : {};
    if (acts.route) {
      return {
        decision: "route",
        action: acts.route.action,
        ...(acts.route.rule ? { rule: acts.route.rule } : {}),
        ...contact,
        text: input.settings.escalation_message,
        reason: acts.route.reason,
        trace,
      };
    }
    if (acts.escalate !== undefined) {
      return {
        decision: "escalate",
        ...contact,
        text: input.settings.escalation_message,
        reason: `the model handed over: ${acts.escalate}`,
        trace,
      };
    }
    const answer = text.trim();
    if (!answer) throw new Error("the model wrote nothing");
    return { decision: "answer", ...contact, text: answer, reason: "the model answered", trace };
  }
}

/** What the model's tools decided, read once the model is done. */
interface Acts {
  escalate?: string;
  route?: { action: TurnAction; rule?: RoutingRule; reason: string };
  contact: MetaPatch;
}

/** The error as one line for the trace: the provider's status and message when it has them. */
function describe(error: unknown): string {
  if (APICallError.isInstance(error)) {
    return `HTTP ${error.statusCode ?? "?"}: ${error.message}`.slice(0, 300);
  }
  const cause =
    error instanceof Error && "lastError" in error ? (error as { lastError: unknown }).lastError : null;
  if (cause) return describe(cause);
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}

/** The passages as the model reads them: numbered, with where they come from. */
function passagesText(hits: PassageHit[]): string {
  if (hits.length === 0) return "(nothing in the knowledge base matches)";
  return hits
    .map((h, i) => {
      const where = [h.title, h.heading].filter(Boolean).join(" › ");
      return `[${i + 1}] ${where}${h.url ? ` — ${h.url}` : ""}\n${h.text.slice(0, PASSAGE_CHARS)}`;
    })
    .join("\n\n");
}

/** The system prompt: who the agent is, the team's instructions, this conversation's instruction, the rules, the passages. */
export function systemPrompt(input: AnswerInput, websiteName: string, hits: PassageHit[]): string {
  const { settings } = input;
  const language =
    settings.locale === "auto"
      ? "Reply in the language of the visitor's last message."
      : `Reply in the language with the tag "${settings.locale}".`;
  const parts = [
    `You are ${settings.name}, the customer support agent of ${websiteName}, chatting with a visitor of its website.`,
    [
      "How to answer:",
      "- Answer from the knowledge passages below, or ones you find with search_knowledge_base. Never invent facts, prices, policies or links.",
      `- ${GUIDANCE[settings.guidance]}`,
      "- When the visitor asks for a human, call escalate_to_human.",
      "- When you call escalate_to_human, apply_routing_rule or start_workflow, write nothing else: the visitor is told for you.",
      "- When the visitor gives their email, phone number or name, record it with set_contact_data.",
      "- Be brief: a few sentences of plain text. When you use a passage that has a link, cite it as a Markdown link.",
      `- ${language}`,
    ].join("\n"),
  ];
  if (settings.instructions.trim()) parts.push(`The team's instructions:\n${settings.instructions.trim()}`);
  if (input.instruction) parts.push(`For this conversation only:\n${input.instruction}`);
  if (input.rules.length > 0) {
    parts.push(
      [
        "Routing rules: when the visitor's message matches one of these situations, call apply_routing_rule with its name instead of answering.",
        ...input.rules.map((r) => `- ${r.name}: ${r.description}`),
      ].join("\n"),
    );
  }
  parts.push(`Knowledge passages:\n${passagesText(hits)}`);
  return parts.join("\n\n");
}

/** The conversation as chat messages: the visitor speaks as the user, the agent and operators as the assistant. */
function conversation(input: AnswerInput): ModelMessage[] {
  const messages: ModelMessage[] = input.history.map((m) =>
    m.role === "visitor"
      ? { role: "user", content: m.text }
      : { role: "assistant", content: m.role === "operator" ? `(a human operator) ${m.text}` : m.text },
  );
  messages.push({
    role: "user",
    content: input.question.trim() || "(the visitor has not asked anything yet)",
  });
  // Providers want the conversation to start with the user.
  while (messages[0]?.role === "assistant") messages.shift();
  return messages;
}

/** The model's tools. Acting tools (hand over, route, start a workflow) end the turn: they have no result to read. */
function tools(
  input: AnswerInput,
  workflows: { id: string; name: string }[],
  acts: Acts,
  trace: AnswerResult["trace"],
) {
  const used = (name: string, args: Record<string, unknown>) => trace.tools.push({ name, arguments: args });
  const all = {
    search_knowledge_base: tool({
      description: "Search the knowledge base (help articles, answers, web pages, documents) for passages.",
      inputSchema: z.object({
        query: z.string().min(1).max(500).describe("What to look for, in a few words"),
      }),
      execute: async ({ query }) => {
        used("search_knowledge_base", { query });
        const hits = await input.search(query, PROMPT_PASSAGES);
        trace.queries.push(query);
        for (const h of hits)
          if (!trace.passages.some((p) => p.source_id === h.source_id && p.heading === h.heading))
            trace.passages.push(tracePassage(h));
        return passagesText(hits);
      },
    }),
    escalate_to_human: tool({
      description: "Hand the conversation over to a human of the team.",
      inputSchema: z.object({ reason: z.string().max(300).describe("Why, in a few words") }),
      execute: async ({ reason }) => {
        used("escalate_to_human", { reason });
        acts.escalate = reason;
        return "Handed over. Write nothing more.";
      },
    }),
    set_contact_data: tool({
      description: "Record the contact details the visitor gave (only what they gave).",
      inputSchema: MetaPatchSchema.pick({ email: true, phone: true, nickname: true }),
      execute: async (details) => {
        used("set_contact_data", details);
        Object.assign(acts.contact, details);
        return "Recorded.";
      },
    }),
    ...(input.rules.length > 0
      ? {
          apply_routing_rule: tool({
            description: "Apply the routing rule whose situation the visitor's message matches.",
            inputSchema: z.object({ name: z.enum(input.rules.map((r) => r.name) as [string, ...string[]]) }),
            execute: async ({ name }) => {
              used("apply_routing_rule", { name });
              const rule = input.rules.find((r) => r.name === name);
              if (rule) acts.route = { action: rule.action, rule, reason: `routing rule "${name}" applies` };
              return "Applied. Write nothing more.";
            },
          }),
        }
      : {}),
    ...(workflows.length > 0
      ? {
          start_workflow: tool({
            description: `Start one of the team's workflows in this conversation: ${workflows
              .map((w) => `${w.id} (${w.name})`)
              .join("; ")}.`,
            inputSchema: z.object({
              workflow_id: z.enum(workflows.map((w) => w.id) as [string, ...string[]]),
            }),
            execute: async ({ workflow_id }) => {
              used("start_workflow", { workflow_id });
              acts.route = {
                action: { kind: "workflow", workflow_id },
                reason: `the model started ${workflow_id}`,
              };
              return "Started. Write nothing more.";
            },
          }),
        }
      : {}),
  };
  return all;
}
