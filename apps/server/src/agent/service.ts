import { createHash, randomUUID } from "node:crypto";
import {
  type AgentSettings,
  type AgentSettingsUpdate,
  type AgentTrigger,
  type AgentTriggerResult,
  type AgentTurn,
  AUTOMATED_INBOX,
  type Conversation,
  type ConversationState,
  INSTRUCTION_MAX,
  type Message,
  type MessageInput,
  type TurnTrace,
} from "@hugo/protocol";
import type { ConversationService } from "../core/conversations.ts";
import { AppError } from "../core/errors.ts";
import type { JobQueue } from "../core/jobs.ts";
import type { Stores, TurnRecord } from "../core/ports.ts";
import { sessionLane } from "../workflow/engine.ts";
import type { Answerer, AnswerInput, AnswerResult } from "./answerer.ts";
import { loadAnalyzer } from "./knowledge/analyze.ts";
import type { KnowledgeService } from "./knowledge/service.ts";
import { matchRule } from "./routing.ts";

export const AGENT_TURN = "agent.turn";
export const AGENT_RESOLVE = "agent.resolve";

const DAY_MS = 86_400_000;
/** A visitor writing again within this long gets the agent back; later, a human (contract §5). */
const REACTIVATION_MS = 5 * DAY_MS;

export const DEFAULT_SETTINGS: AgentSettings = {
  name: "Hugo",
  instructions: "",
  activation: "answer",
  guidance: "balanced",
  locale: "auto",
  escalation_message: "I am handing you over to our team: someone will answer you here shortly.",
  auto_resolve_days: 5,
  routing_rules: [],
};

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
  readonly #answerer: Answerer;
  #workflows:
    | { startForAgent(websiteId: string, sessionId: string, workflowId: string): Promise<boolean> }
    | undefined;

  constructor(deps: {
    stores: Stores;
    conversations: ConversationService;
    knowledge: KnowledgeService;
    jobs: JobQueue;
    answerer: Answerer;
  }) {
    this.#stores = deps.stores;
    this.#conversations = deps.conversations;
    this.#knowledge = deps.knowledge;
    this.#jobs = deps.jobs;
    this.#answerer = deps.answerer;
  }

  async settings(websiteId: string): Promise<AgentSettings> {
    return { ...DEFAULT_SETTINGS, ...(await this.#stores.agent.getSettings(websiteId)) };
  }

  async updateSettings(websiteId: string, patch: AgentSettingsUpdate): Promise<AgentSettings> {
    return this.#stores.atomically(async () => {
      const next = { ...(await this.settings(websiteId)), ...patch };
      await this.#stores.agent.putSettings(websiteId, next, Date.now());
      return next;
    });
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
    await this.#take(turn, conversation);
  }

  /** Decides a queued turn and commits its effects with its end. `messages`: the recent ones, when read. */
  async #take(turn: TurnRecord, conversation: Conversation, messages?: Message[]): Promise<void> {
    const websiteId = turn.website_id;
    const turnId = turn.id;
    const { result, trace, settings } = await this.decide(websiteId, turn.session_id, turn.instruction, {
      rules: true,
      messages,
    });
    const message = this.#message(settings, turn.id, result.text);
    const status =
      result.decision === "answer" ? "answered" : result.decision === "escalate" ? "escalated" : "routed";
    await this.#stores
      .atomically(async () => {
        // The effects first, then the turn's end: they commit together, and a turn that turns out to
        // be finished already (its job ran before) rolls them back.
        const spoke = await this.#act(
          websiteId,
          turn.session_id,
          result,
          message,
          conversation.state,
          settings,
        );
        const finished = await this.#stores.agent.finishTurn(websiteId, turnId, {
          status,
          fingerprint: spoke ? (message.fingerprint ?? null) : null,
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

  /** Carries out a decision; true when the agent sent `message`. */
  async #act(
    websiteId: string,
    sessionId: string,
    result: AnswerResult,
    message: MessageInput,
    state: ConversationState,
    settings: AgentSettings,
  ): Promise<boolean> {
    const action = result.rule?.action;
    if (result.decision === "route" && action?.kind === "inbox") {
      await this.#conversations.setInbox(websiteId, sessionId, action.inbox_id);
      return false;
    }
    if (result.decision === "route" && action?.kind === "workflow") {
      if (await this.#workflows?.startForAgent(websiteId, sessionId, action.workflow_id)) return false;
      // The rule's workflow is gone or not deployed: a human, rather than silence.
      message.content = settings.escalation_message;
    }
    await this.#conversations.sendMessage(websiteId, sessionId, message);
    if (result.decision === "answer") await this.#scheduleResolve(websiteId, sessionId, settings);
    else await this.#escalate(websiteId, sessionId, state);
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
    if (turn.status === "queued") await this.#take(turn, conversation, recent);
  }

  /**
   * A turn asked for by a workflow's "answer with the AI agent" block, inside the run's batch: the
   * turn is recorded here; the block sends the returned message (and escalates) with the batch.
   */
  async answerInWorkflow(
    websiteId: string,
    sessionId: string,
    runId: string,
    instruction: string | null,
  ): Promise<{ decision: "answer" | "escalate"; reason: string; message: MessageInput }> {
    const { result, trace, settings } = await this.decide(websiteId, sessionId, instruction);
    const now = Date.now();
    const turn = newTurn(websiteId, sessionId, {
      source: "workflow",
      instruction,
      status: result.decision === "answer" ? "answered" : "escalated",
      trace,
      workflow_run_id: runId,
      created_at: now,
      finished_at: now,
    });
    const message = this.#message(settings, turn.id, result.text);
    await this.#stores.agent.createTurn({ ...turn, fingerprint: message.fingerprint ?? null });
    // Routing rules are not consulted here: the workflow is in charge of the conversation.
    return { decision: result.decision === "answer" ? "answer" : "escalate", reason: result.reason, message };
  }

  /** The agent's message, signed with its name; its fingerprint comes from the turn. */
  #message(settings: AgentSettings, turnId: string, text: string): MessageInput {
    return {
      type: "text",
      from: "operator",
      origin: "chat",
      content: text,
      fingerprint: turnFingerprint(turnId),
      automated: true,
      user: { type: "website", user_id: "hugo:agent", nickname: settings.name },
    } as MessageInput;
  }

  /**
   * One decision over the conversation as it stands: what the answerer would say, and the trace.
   * Sends nothing (the caller does, in its own transaction).
   */
  async decide(
    websiteId: string,
    sessionId: string,
    instruction: string | null,
    options: { rules?: boolean; messages?: Message[] | undefined } = {},
  ): Promise<{ result: AnswerResult; trace: TurnTrace; settings: AgentSettings }> {
    const started = performance.now();
    const settings = await this.settings(websiteId);
    const messages =
      options.messages ??
      (await this.#stores.conversations.listMessages(websiteId, sessionId, { limit: HISTORY }));
    const locale = settings.locale === "auto" ? "en" : settings.locale;
    const asked = splitQuestion(messages);
    const matched =
      options.rules && settings.routing_rules.length > 0 && asked.question
        ? matchRule(settings.routing_rules, asked.question, await loadAnalyzer(locale))
        : undefined;
    if (matched) {
      const reason = `routing rule "${matched.rule.name}" matched (${matched.similarity.toFixed(2)})`;
      const trace: TurnTrace = {
        queries: [],
        passages: [],
        decision: "route",
        rule: matched.rule.name,
        reason,
        confidence: null,
        tools: [],
        provider: this.#answerer.name,
        model: null,
        tokens: null,
        latency_ms: Math.round((performance.now() - started) * 10) / 10,
      };
      return {
        result: { decision: "route", rule: matched.rule, text: settings.escalation_message, reason, trace },
        trace,
        settings,
      };
    }
    const input: AnswerInput = {
      ...asked,
      instruction,
      settings,
      locale,
      termStats: (query) =>
        this.#knowledge.termStats(websiteId, query, settings.locale === "auto" ? undefined : settings.locale),
      search: (query, limit) =>
        this.#knowledge.search(websiteId, {
          q: query.slice(0, 1000),
          limit,
          ...(settings.locale === "auto" ? {} : { locale: settings.locale }),
        }),
    };
    const result = await this.#answerer.answer(input);
    const trace: TurnTrace = {
      ...result.trace,
      decision: result.decision,
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
