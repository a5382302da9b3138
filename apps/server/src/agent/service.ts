import { createHash, randomUUID } from "node:crypto";
import {
  type AgentSettings,
  type AgentSettingsUpdate,
  type AgentTrigger,
  type AgentTriggerResult,
  type AgentTurn,
  ANTHROPIC_BASE_URL,
  AUTOMATED_INBOX,
  type Conversation,
  type ConversationState,
  INSTRUCTION_MAX,
  type LlmProviderInput,
  type Message,
  type MessageInput,
  type ProviderCheck,
  type TurnTrace,
} from "@hugo/protocol";
import type { ConversationService } from "../core/conversations.ts";
import { unseal } from "../core/crypto.ts";
import { AppError } from "../core/errors.ts";
import type { JobQueue } from "../core/jobs.ts";
import type { StoredAgentSettings, StoredProvider, Stores, TurnRecord } from "../core/ports.ts";
import type { OutboundPolicy } from "../outbound/guarded-request.ts";
import { sessionLane } from "../workflow/engine.ts";
import {
  type Answerer,
  type AnswerInput,
  type AnswerResult,
  type AnswerStream,
  emptyTrace,
} from "./answerer.ts";
import { loadAnalyzer } from "./knowledge/analyze.ts";
import { bindApiKey } from "./knowledge/api-key.ts";
import type { KnowledgeService } from "./knowledge/service.ts";
import { LlmAnswerer } from "./llm-answerer.ts";
import { MessageStream } from "./message-stream.ts";
import { matchRule } from "./routing.ts";

export const AGENT_TURN = "agent.turn";
export const AGENT_RESOLVE = "agent.resolve";

const DAY_MS = 86_400_000;
/** A visitor writing again within this long gets the agent back; later, a human (contract §5). */
const REACTIVATION_MS = 5 * DAY_MS;

export const DEFAULT_SETTINGS: Omit<AgentSettings, "provider"> & { provider: null } = {
  name: "Hugo",
  instructions: "",
  activation: "answer",
  guidance: "balanced",
  locale: "auto",
  escalation_message: "I am handing you over to our team: someone will answer you here shortly.",
  auto_resolve_days: 5,
  routing_rules: [],
  provider: null,
};

/** What provider keys are sealed for (the key derivation's purpose). */
const KEY_PURPOSE = "llm-provider-key";
/** The default time one model has for a whole answer. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** The settings as the API shows them: a provider's key only as whether one is set. */
function view(stored: StoredAgentSettings): AgentSettings {
  const { provider, ...rest } = stored;
  if (!provider) return { ...rest, provider: null };
  const { api_key_sealed, ...shown } = provider;
  return { ...rest, provider: { ...shown, api_key_set: api_key_sealed !== null } };
}

/** How many recent messages the agent reads. */
const HISTORY = 20;

export function toTurn(r: TurnRecord): AgentTurn {
  return {
    turn_id: r.id,
    session_id: r.session_id,
    source: r.source,
    instruction: r.instruction,
    status: r.status,
    fingerprint: r.fingerprint,
    trace: r.trace,
    error: r.error,
    created_at: r.created_at,
    finished_at: r.finished_at,
    workflow_run_id: r.workflow_run_id,
  };
}

/** A turn as it starts (queued unless `fields` say otherwise). */
function newTurn(
  websiteId: string,
  sessionId: string,
  fields: Pick<TurnRecord, "source"> & Partial<TurnRecord>,
): TurnRecord {
  return {
    id: `turn_${randomUUID()}`,
    website_id: websiteId,
    session_id: sessionId,
    instruction: null,
    status: "queued",
    fingerprint: null,
    trace: null,
    error: null,
    workflow_run_id: null,
    created_at: Date.now(),
    finished_at: null,
    ...fields,
  };
}

/** Another run of the turn's job finished it first: roll this one's effects back. */
class TurnAlreadyFinished extends Error {}

/** A UUID-shaped digest of `key` (a stable id for something that happens once). */
function uuidOf(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A turn's message fingerprint, derived from the turn: a job that runs twice cannot send twice. */
export function turnFingerprint(turnId: string): number {
  return Number.parseInt(createHash("sha256").update(turnId).digest("hex").slice(0, 12), 16) + 1;
}

/** What a message says in words (text and notes carry strings; other types carry structures). */
const textOf = (m: Message): string => (typeof m.content === "string" ? m.content : "");

/**
 * The AI agent: it reads the conversation, asks its answerer (offline or an LLM provider) for an
 * answer grounded in the knowledge base, and either answers or hands over to a human — moving the
 * conversation to the main inbox and telling the visitor. Every turn is recorded with its trace.
 */
export class AgentService {
  readonly #stores: Stores;
  readonly #conversations: ConversationService;
  readonly #knowledge: KnowledgeService;
  readonly #jobs: JobQueue;
  readonly #offline: Answerer;
  readonly #secret: string;
  readonly #policy: OutboundPolicy;
  readonly #llmFetch: typeof fetch;
  readonly #log: (error: unknown, what: string) => void;
  #workflows:
    | { startForAgent(websiteId: string, sessionId: string, workflowId: string): Promise<boolean> }
    | undefined;

  constructor(deps: {
    stores: Stores;
    conversations: ConversationService;
    knowledge: KnowledgeService;
    jobs: JobQueue;
    /** The offline answerer: the default, and the fallback when an LLM fails. */
    answerer: Answerer;
    /** The server secret, which seals provider keys. */
    secret: string;
    /** Which hosts a provider's base URL may name. */
    policy: OutboundPolicy;
    /** The SSRF-guarded fetch LLM providers are called through. */
    llmFetch: typeof fetch;
    log?: (error: unknown, what: string) => void;
  }) {
    this.#stores = deps.stores;
    this.#conversations = deps.conversations;
    this.#knowledge = deps.knowledge;
    this.#jobs = deps.jobs;
    this.#offline = deps.answerer;
    this.#secret = deps.secret;
    this.#policy = deps.policy;
    this.#llmFetch = deps.llmFetch;
    this.#log = deps.log ?? (() => {});
  }

  async #stored(websiteId: string): Promise<StoredAgentSettings> {
    return { ...DEFAULT_SETTINGS, ...(await this.#stores.agent.getSettings(websiteId)) };
  }

  async settings(websiteId: string): Promise<AgentSettings> {
    return view(await this.#stored(websiteId));
  }

  async updateSettings(websiteId: string, patch: AgentSettingsUpdate): Promise<AgentSettings> {
    const { provider, ...rest } = patch;
    return this.#stores.atomically(async () => {
      const current = await this.#stored(websiteId);
      const next: StoredAgentSettings = {
        ...current,
        ...rest,
        provider:
          provider === undefined ? current.provider : provider && this.#provider(provider, current.provider),
      };
      await this.#stores.agent.putSettings(websiteId, next, Date.now());
      return view(next);
    });
  }

  /**
   * A provider as it will be stored: its base URL checked against the SSRF guard's syntax and
   * address rules (a host name is checked again at every connection), its key sealed. A key is
   * bound to the API it was given for: changing the kind or the base URL without a new key drops it,
   * so whoever can edit settings cannot send the stored key to a server of their choosing.
   */
  #provider(input: LlmProviderInput, previous: StoredProvider | null): StoredProvider {
    const { base_url: baseUrl, api_key_sealed: sealed } = bindApiKey(
      {
        baseUrl: input.base_url ?? ANTHROPIC_BASE_URL,
        apiKey: input.api_key,
        sameApi: previous?.kind === input.kind,
      },
      previous,
      { secret: this.#secret, purpose: KEY_PURPOSE, policy: this.#policy, field: "provider.base_url" },
    );
    if (input.kind === "anthropic" && sealed === null) {
      throw new AppError("invalid_body", "provider.api_key: Anthropic's API needs a key.", {
        field: "provider.api_key",
      });
    }
    return {
      kind: input.kind,
      base_url: baseUrl,
      model: input.model,
      fallback_model: input.fallback_model ?? null,
      timeout_ms: input.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      api_key_sealed: sealed,
    };
  }

  /** Asks the website's provider, model by model, for a one-word reply. */
  async checkProvider(websiteId: string): Promise<ProviderCheck> {
    const answerer = this.#answererFor(await this.#stored(websiteId));
    if (!(answerer instanceof LlmAnswerer)) {
      throw new AppError("provider_not_configured", "The agent has no LLM provider to check.");
    }
    return answerer.check();
  }

  /** The website's answerer: its LLM provider, falling back to the offline answerer; or the offline one. */
  #answererFor(stored: StoredAgentSettings): Answerer {
    const p = stored.provider;
    if (!p) return { name: this.#offline.name, answer: (input) => this.#offlineDecision(input) };
    return new LlmAnswerer(
      {
        kind: p.kind,
        baseUrl: p.base_url,
        apiKey: p.api_key_sealed === null ? null : unseal(this.#secret, KEY_PURPOSE, p.api_key_sealed),
        model: p.model,
        fallbackModel: p.fallback_model,
        timeoutMs: p.timeout_ms,
      },
      { fetch: this.#llmFetch, fallback: (input) => this.#offlineDecision(input) },
    );
  }

  /** Offline: routing rules matched by similarity, then the offline answerer. */
  async #offlineDecision(input: AnswerInput): Promise<AnswerResult> {
    const matched =
      input.rules.length > 0
        ? matchRule(input.rules, input.question, await loadAnalyzer(input.locale))
        : undefined;
    if (!matched) return this.#offline.answer(input);
    return {
      decision: "route",
      action: matched.rule.action,
      rule: matched.rule,
      text: input.settings.escalation_message,
      reason: `routing rule "${matched.rule.name}" matched (${matched.similarity.toFixed(2)})`,
      trace: emptyTrace(this.#offline.name),
    };
  }

  /** Contract §1: records a turn and queues it; the agent answers (or escalates) from a job. */
  async trigger(websiteId: string, input: AgentTrigger): Promise<AgentTriggerResult> {
    const instruction = input.instruction?.trim() ? input.instruction : null;
    if (instruction && instruction.length > INSTRUCTION_MAX) {
      throw new AppError(
        "instruction_too_long",
        `The instruction is ${instruction.length} characters long; the limit is ${INSTRUCTION_MAX}.`,
        { field: "instruction", extra: { limit: INSTRUCTION_MAX } },
      );
    }
    return this.#stores.atomically(async () => {
      await this.#conversations.get(websiteId, input.session_id);
      const turn = newTurn(websiteId, input.session_id, { source: "api", instruction });
      await this.#stores.agent.createTurn(turn);
      await this.#jobs.enqueue(this.#stores, {
        kind: AGENT_TURN,
        payload: { website_id: websiteId, turn_id: turn.id },
        queueKey: sessionLane(input.session_id),
      });
      return { turn_id: turn.id, status: turn.status };
    });
  }

  /** Runs a queued turn (the job). A turn already finished — the job ran before — does nothing. */
  async runTurn(websiteId: string, turnId: string): Promise<void> {
    const turn = await this.#stores.agent.findTurn(websiteId, turnId);
    if (turn?.status !== "queued") return;
    const conversation = await this.#stores.conversations.find(websiteId, turn.session_id);
    if (!conversation) {
      await this.#stores.agent.finishTurn(websiteId, turnId, {
        status: "failed",
        fingerprint: null,
        trace: null,
        error: "the conversation was removed",
        finished_at: Date.now(),
      });
      return;
    }
    await this.#take(turn, conversation, { rules: true });
  }

  /**
   * Decides a queued turn and commits its effects with its end. `messages`: the recent ones, when
   * read. With an LLM, the answer streams into the conversation first (MessageStream); the final
   * text, the decision's effects and the turn's end then commit together.
   */
  async #take(
    turn: TurnRecord,
    conversation: Conversation,
    options: { messages?: Message[]; rules: boolean },
  ): Promise<void> {
    const websiteId = turn.website_id;
    const turnId = turn.id;
    const stored = await this.#stored(websiteId);
    const message = this.#message(stored.name, turn.id);
    const stream = stored.provider
      ? new MessageStream(this.#conversations, { websiteId, sessionId: turn.session_id, message }, (error) =>
          this.#log(error, "streaming an agent message failed"),
        )
      : undefined;
    stream?.start();
    let decided: Awaited<ReturnType<AgentService["decide"]>>;
    try {
      decided = await this.decide(websiteId, turn.session_id, turn.instruction, {
        rules: options.rules,
        messages: options.messages,
        stored,
        stream,
      });
    } finally {
      await stream?.close();
    }
    const { result, trace, settings } = decided;
    message.content = result.text;
    const status =
      result.decision === "answer" ? "answered" : result.decision === "escalate" ? "escalated" : "routed";
    await this.#stores
      .atomically(async () => {
        // The effects first, then the turn's end: they commit together, and a turn that turns out to
        // be finished already (its job ran before) rolls them back.
        const spoke = await this.#act(websiteId, turn.session_id, result, message, {
          state: conversation.state,
          settings,
          streamed: stream?.sent ?? false,
        });
        const finished = await this.#stores.agent.finishTurn(websiteId, turnId, {
          status,
          fingerprint: spoke ? message.fingerprint : null,
          trace,
          error: null,
          finished_at: Date.now(),
        });
        if (!finished) throw new TurnAlreadyFinished();
      })
      .catch((error) => {
        // Its message already sent (the turn's fingerprint) means the same: an earlier run did it all.
        const sent = error instanceof AppError && error.reason === "fingerprint_conflict";
        if (!(error instanceof TurnAlreadyFinished) && !sent) throw error;
      });
  }

  /**
   * Carries out a decision; true when the agent's message is in the conversation. `streamed`: the
   * message was sent while the answer was written (its final text replaces what was streamed).
   */
  async #act(
    websiteId: string,
    sessionId: string,
    result: AnswerResult,
    message: MessageInput & { fingerprint: number },
    turn: { state: ConversationState; settings: AgentSettings; streamed: boolean },
  ): Promise<boolean> {
    if (result.contact) await this.#conversations.updateMeta(websiteId, sessionId, result.contact);
    const action = result.action;
    let speak = true;
    if (result.decision === "route" && action?.kind === "inbox") {
      await this.#conversations.setInbox(websiteId, sessionId, action.inbox_id);
      speak = false;
    } else if (result.decision === "route" && action?.kind === "workflow") {
      if (await this.#workflows?.startForAgent(websiteId, sessionId, action.workflow_id)) speak = false;
      // The workflow is gone or not deployed: a human, rather than silence.
      else message.content = turn.settings.escalation_message;
    }
    if (speak || turn.streamed) {
      if (!turn.streamed) await this.#conversations.sendMessage(websiteId, sessionId, message);
      else
        await this.#conversations.updateMessage(websiteId, sessionId, message.fingerprint, message.content);
    }
    if (!speak) return turn.streamed;
    if (result.decision === "answer") await this.#scheduleResolve(websiteId, sessionId, turn.settings);
    else await this.#escalate(websiteId, sessionId, turn.state);
    return true;
  }

  /** Lets routing rules start workflows (the engine is built after the agent). */
  useWorkflows(workflows: {
    startForAgent(websiteId: string, sessionId: string, workflowId: string): Promise<boolean>;
  }) {
    this.#workflows = workflows;
  }

  /** Checks, once the configured inactivity has passed, whether the conversation can be resolved. */
  async #scheduleResolve(websiteId: string, sessionId: string, settings: AgentSettings): Promise<void> {
    await this.#jobs.enqueue(this.#stores, {
      kind: AGENT_RESOLVE,
      payload: { website_id: websiteId, session_id: sessionId },
      queueKey: sessionLane(sessionId),
      runAt: Date.now() + settings.auto_resolve_days * DAY_MS,
    });
  }

  /**
   * The job: resolves a conversation the agent handles once the visitor has been silent for the
   * configured number of days; a conversation a human took, or that moved on, is left alone.
   */
  async autoResolve(websiteId: string, sessionId: string, now = Date.now()): Promise<boolean> {
    const conversation = await this.#stores.conversations.find(websiteId, sessionId);
    if (conversation?.inbox_id !== AUTOMATED_INBOX || conversation.state === "resolved") return false;
    const settings = await this.settings(websiteId);
    const last = await this.#stores.workflows.lastMessageAt(websiteId, sessionId, "user");
    if (last !== undefined && now - last < settings.auto_resolve_days * DAY_MS) return false;
    await this.#conversations.setState(websiteId, sessionId, "resolved");
    return true;
  }

  /**
   * A visitor's message that no workflow took (run in the conversation's lane): the agent answers
   * when the conversation is in the automated inbox and no human operator has written in it — a
   * human's reply takes over and the agent stays silent. The turn's id comes from the message's
   * place in the log, so the job running twice answers once.
   */
  async answerMessage(websiteId: string, sessionId: string, websiteSeq: number): Promise<void> {
    const conversation = await this.#stores.conversations.find(websiteId, sessionId);
    if (conversation?.inbox_id !== AUTOMATED_INBOX) return;
    const recent = await this.#stores.conversations.listMessages(websiteId, sessionId, { limit: HISTORY });
    if (recent.some((m) => m.from === "operator" && !m.automated && m.type !== "note")) return;
    // Already answered (the visitor's message is no longer the last word): nothing to add.
    if (recent.filter((m) => m.type !== "note").at(-1)?.from !== "user") return;
    // Coming back after days away: a human picks the conversation up, not the agent.
    const [previous, latest] = recent.slice(-2);
    if (previous && latest && latest.timestamp - previous.timestamp > REACTIVATION_MS) {
      await this.#conversations.setInbox(websiteId, sessionId, null);
      return;
    }
    const id = `turn_${uuidOf(`${websiteId}:${sessionId}:${websiteSeq}`)}`;
    let turn = await this.#stores.agent.findTurn(websiteId, id);
    if (!turn) {
      turn = newTurn(websiteId, sessionId, { id, source: "message" });
      await this.#stores.agent.createTurn(turn);
    }
    if (turn.status === "queued") await this.#take(turn, conversation, { messages: recent, rules: true });
  }

  /**
   * A turn asked for by a workflow's "answer with the AI agent" block (an external block: it runs
   * outside the run's transaction, as an LLM may take seconds). The turn's id derives from the run
   * and its step, so a block run again after a crash finds its turn done and says what it decided
   * instead of answering twice. Routing rules are not consulted: the workflow is in charge.
   */
  async answerInWorkflow(
    websiteId: string,
    sessionId: string,
    run: { id: string; step: number },
    instruction: string | null,
  ): Promise<{ decision: "answer" | "escalate" | "failed"; reason: string }> {
    const id = `turn_${uuidOf(`${websiteId}:${run.id}:${run.step}`)}`;
    let turn = await this.#stores.agent.findTurn(websiteId, id);
    if (!turn) {
      turn = newTurn(websiteId, sessionId, { id, source: "workflow", instruction, workflow_run_id: run.id });
      await this.#stores.agent.createTurn(turn);
    }
    if (turn.status === "queued") {
      const conversation = await this.#stores.conversations.find(websiteId, sessionId);
      if (!conversation) return { decision: "failed", reason: "the conversation was removed" };
      await this.#take(turn, conversation, { rules: false });
      turn = (await this.#stores.agent.findTurn(websiteId, id)) ?? turn;
    }
    const reason = turn.trace?.reason ?? turn.error ?? "";
    return {
      decision: turn.status === "answered" ? "answer" : turn.status === "failed" ? "failed" : "escalate",
      reason,
    };
  }

  /** The agent's message, signed with its name; its fingerprint comes from the turn. */
  #message(name: string, turnId: string): MessageInput & { fingerprint: number } {
    return {
      type: "text",
      from: "operator",
      origin: "chat",
      content: "",
      fingerprint: turnFingerprint(turnId),
      automated: true,
      user: { type: "website", user_id: "hugo:agent", nickname: name },
    } as MessageInput & { fingerprint: number };
  }

  /**
   * One decision over the conversation as it stands: what the answerer would say, and the trace.
   * Sends nothing (the caller does, in its own transaction) — but an LLM's answer streams into
   * `options.stream` as it is written.
   */
  async decide(
    websiteId: string,
    sessionId: string,
    instruction: string | null,
    options: {
      rules?: boolean;
      messages?: Message[] | undefined;
      stored?: StoredAgentSettings;
      stream?: AnswerStream | undefined;
    } = {},
  ): Promise<{ result: AnswerResult; trace: TurnTrace; settings: AgentSettings }> {
    const started = performance.now();
    const stored = options.stored ?? (await this.#stored(websiteId));
    const settings = view(stored);
    const messages =
      options.messages ??
      (await this.#stores.conversations.listMessages(websiteId, sessionId, { limit: HISTORY }));
    // `auto`: the visitor's language (their browser's, from the widget), English when unknown.
    const visitor =
      settings.locale === "auto"
        ? (await this.#stores.conversations.find(websiteId, sessionId))?.meta.locale || undefined
        : settings.locale;
    const locale = visitor ?? "en";
    const asked = splitQuestion(messages);
    const input: AnswerInput = {
      ...asked,
      instruction,
      settings,
      websiteName: async () => (await this.#stores.websites.find(websiteId))?.name ?? "this website",
      locale,
      rules: options.rules && asked.question ? settings.routing_rules : [],
      workflows: async () =>
        (await this.#stores.workflows.list(websiteId))
          .filter((w) => w.deployed_version !== null)
          .map((w) => ({ id: w.id, name: w.name })),
      termStats: (query) => this.#knowledge.termStats(websiteId, query, visitor),
      search: (query, limit) =>
        this.#knowledge.search(websiteId, {
          q: query.slice(0, 1000),
          limit,
          ...(visitor ? { locale: visitor } : {}),
        }),
    };
    const result = await this.#answererFor(stored).answer(input, options.stream);
    const trace: TurnTrace = {
      ...result.trace,
      decision: result.decision,
      ...(result.rule ? { rule: result.rule.name } : {}),
      reason: result.reason,
      latency_ms: Math.round((performance.now() - started) * 10) / 10,
    };
    return { result, trace, settings };
  }

  async getTurn(websiteId: string, turnId: string): Promise<AgentTurn> {
    const turn = await this.#stores.agent.findTurn(websiteId, turnId);
    if (!turn) throw new AppError("turn_not_found", `No agent turn ${turnId} in this website.`);
    return toTurn(turn);
  }

  async listTurns(websiteId: string, sessionId: string, limit: number): Promise<AgentTurn[]> {
    await this.#conversations.get(websiteId, sessionId);
    return (await this.#stores.agent.listTurns(websiteId, sessionId, limit)).map(toTurn);
  }

  /** Hands the conversation to the humans: the main inbox (operators are notified by its event), unresolved. */
  async #escalate(websiteId: string, sessionId: string, state: ConversationState): Promise<void> {
    await this.#conversations.setInbox(websiteId, sessionId, null);
    if (state !== "unresolved") await this.#conversations.setState(websiteId, sessionId, "unresolved");
  }
}

/**
 * The visitor's question: their messages since the agent or an operator last wrote (the visitor
 * often splits a question over several messages), else their last message; the rest is history.
 */
export function splitQuestion(messages: Message[]): Pick<AnswerInput, "question" | "history"> {
  const visible = messages.filter((m) => m.type !== "note" && textOf(m).trim());
  let start = visible.length;
  while (start > 0 && visible[start - 1]!.from === "user") start--;
  const history = visible.slice(0, start).map((m) => ({
    role: m.from === "user" ? ("visitor" as const) : m.automated ? ("agent" as const) : ("operator" as const),
    text: textOf(m),
  }));
  if (start < visible.length) return { question: visible.slice(start).map(textOf).join("\n"), history };
  // Nothing new since the agent or an operator last wrote (a trigger asking the agent to step in):
  // the visitor's last message is still the question.
  const last = visible.findLastIndex((m) => m.from === "user");
  return { question: last < 0 ? "" : textOf(visible[last]!), history: history.slice(0, Math.max(0, last)) };
}
