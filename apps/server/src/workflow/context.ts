import {
  type Conversation,
  type ConversationMeta,
  type ConversationState,
  MessageContentByType,
  type MessageInput,
  MetaPatch,
  type RunWait,
  type VariableValue,
} from "@hugo/protocol";
import type { AgentService } from "../agent/service.ts";
import type { ConversationService, LogInput } from "../core/conversations.ts";
import { AppError } from "../core/errors.ts";
import type { Stores } from "../core/ports.ts";
import { BlockError, type StepContext } from "./runner.ts";
import { renderTemplate, templateLookup } from "./template.ts";

export interface ContextDeps {
  stores: Stores;
  conversations: ConversationService;
  /** The AI agent, for the "answer with the AI agent" block. */
  agent: Pick<AgentService, "answerInWorkflow" | "answerMessage">;
  botName: string;
  /** Outbound HTTP through the SSRF guard. */
  request(
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
  ): Promise<{ status: number; body: string }>;
  compose(websiteId: string, frame: { session_id: string; from: "operator"; state: "start" | "stop" }): void;
}

export interface ContextInit {
  websiteId: string;
  sessionId: string;
  runId: string;
  workflowId: string;
  step: number;
  blockId: string;
  test: boolean;
  startedAt: number;
  conversation: Conversation;
  variables: Record<string, VariableValue>;
  wait: RunWait | null;
  /** Outside a transaction (external blocks): effect methods refuse. */
  external: boolean;
  /** The batch's outbox (absent for external blocks). */
  outbox?: Outbox;
}

/**
 * A batch's messages and run events, written together: a chain of send blocks becomes one write
 * (one statement on PostgreSQL) instead of one per block. Anything that reads or changes the
 * conversation otherwise flushes first, and the engine flushes last, right before it commits the
 * batch, so the order of effects and what each block sees are as if every entry were written at
 * once. On PostgreSQL, appending to the log takes the website's sequence lock until commit; writing
 * it last keeps that lock for one statement and the commit. A typing signal keeps its place among
 * the messages (it is published after the ones before it).
 */
export class Outbox {
  readonly #conversations: ConversationService;
  readonly #stores: Stores;
  readonly #websiteId: string;
  readonly #sessionId: string;
  #pending: (LogInput | (() => void))[] = [];

  constructor(
    deps: { conversations: ConversationService; stores: Stores },
    websiteId: string,
    sessionId: string,
  ) {
    this.#conversations = deps.conversations;
    this.#stores = deps.stores;
    this.#websiteId = websiteId;
    this.#sessionId = sessionId;
  }

  add(message: MessageInput): void {
    this.#pending.push({ message });
  }

  /** An event of Hugo's own for the conversation's log (`workflow:run:started`…), in its place. */
  event(name: string, data: unknown): void {
    this.#pending.push({ event: name, data });
  }

  /** Runs `signal` once the entries added so far are committed and published. */
  signal(signal: () => void): void {
    if (this.#pending.length === 0) this.#stores.afterCommit(signal);
    else this.#pending.push(signal);
  }

  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    let entries: LogInput[] = [];
    for (const item of [...pending, null]) {
      if (item !== null && typeof item !== "function") {
        entries.push(item);
        continue;
      }
      if (entries.length) await this.#conversations.appendLog(this.#websiteId, this.#sessionId, entries);
      entries = [];
      if (item) this.#stores.afterCommit(item);
    }
  }
}

/** A core refusal (an invalid email, an unknown operator…) is the block's failure, not a crash. */
async function asBlockError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof AppError) throw new BlockError(error.message);
    throw error;
  }
}

/** The engine's StepContext: one per step; the engine reads back variables, lines and the handoff. */
export class RunContext implements StepContext {
  readonly websiteId: string;
  readonly sessionId: string;
  readonly runId: string;
  readonly workflowId: string;
  readonly step: number;
  readonly blockId: string;
  readonly test: boolean;
  readonly startedAt: number;
  readonly wait: RunWait | null;
  readonly now = Date.now();
  readonly lines: string[] = [];
  /** Set by startWorkflow: the engine starts it once this run has ended. */
  handoff: string | undefined;
  #conversation: Conversation;
  readonly #variables: Record<string, VariableValue>;
  readonly #deps: ContextDeps;
  readonly #external: boolean;
  readonly #outbox: Outbox | undefined;

  constructor(deps: ContextDeps, init: ContextInit) {
    this.#deps = deps;
    this.websiteId = init.websiteId;
    this.sessionId = init.sessionId;
    this.runId = init.runId;
    this.workflowId = init.workflowId;
    this.step = init.step;
    this.blockId = init.blockId;
    this.test = init.test;
    this.startedAt = init.startedAt;
    this.wait = init.wait;
    this.#conversation = init.conversation;
    this.#variables = init.variables;
    this.#external = init.external;
    this.#outbox = init.outbox;
  }

  get conversation(): Conversation {
    return this.#conversation;
  }
  get variables(): Readonly<Record<string, VariableValue>> {
    return this.#variables;
  }
  setVariable(name: string, value: VariableValue): void {
    this.#variables[name] = typeof value === "string" ? value.slice(0, 2000) : value;
  }
  render(template: string, escaping: "none" | "json" | "url" = "none"): string {
    return renderTemplate(template, templateLookup(this.#variables, this.#conversation), escaping);
  }
  log(line: string): void {
    if (this.lines.length < 50) this.lines.push(line.slice(0, 1000));
  }
  random(): number {
    return Math.random();
  }

  /** Effects need the batch's transaction; all but `send` first write the messages sent before them. */
  #local(what: string): Outbox {
    if (this.#external || !this.#outbox) throw new Error(`${what} is not allowed in an external block`);
    return this.#outbox;
  }

  async #flushed(what: string): Promise<void> {
    const outbox = this.#local(what);
    await asBlockError(() => outbox.flush());
  }

  async send(message: Pick<MessageInput, "type" | "content">): Promise<void> {
    const outbox = this.#local("send");
    const parsed = MessageContentByType[message.type].safeParse(message.content);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` (${issue.path.join(".")})` : "";
      throw new BlockError(
        `The ${message.type} message is invalid after filling its variables${where}: ${issue?.message}`,
      );
    }
    outbox.add({
      type: message.type,
      content: parsed.data,
      from: "operator",
      origin: "chat",
      automated: true,
      user: { type: "website", user_id: "hugo:workflow", nickname: this.#deps.botName },
    } as MessageInput);
  }

  async updateMeta(patch: MetaPatch): Promise<ConversationMeta> {
    await this.#flushed("updateMeta");
    const parsed = MetaPatch.safeParse(patch);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BlockError(`${issue?.path.join(".") || "value"}: ${issue?.message}`);
    }
    const meta = await asBlockError(() =>
      this.#deps.conversations.updateMeta(this.websiteId, this.sessionId, parsed.data),
    );
    this.#conversation = { ...this.#conversation, meta };
    return meta;
  }

  async setState(state: ConversationState): Promise<void> {
    await this.#flushed("setState");
    this.#conversation = await asBlockError(() =>
      this.#deps.conversations.setState(this.websiteId, this.sessionId, state),
    );
  }

  async agent(instruction: string): Promise<{ decision: "answer" | "escalate"; reason: string }> {
    if (!this.#external) throw new Error("the agent only answers in an external block");
    const turn = await this.#deps.agent.answerInWorkflow(
      this.websiteId,
      this.sessionId,
      { id: this.runId, step: this.step },
      instruction || null,
    );
    if (turn.decision === "failed") throw new BlockError(`The agent could not answer: ${turn.reason}`);
    return { decision: turn.decision, reason: turn.reason };
  }

  async setInbox(inboxId: string | null): Promise<void> {
    await this.#flushed("setInbox");
    this.#conversation = await asBlockError(() =>
      this.#deps.conversations.setInbox(this.websiteId, this.sessionId, inboxId),
    );
  }

  async assign(operatorId: string | null): Promise<void> {
    await this.#flushed("assign");
    this.#conversation = await asBlockError(() =>
      this.#deps.conversations.assign(this.websiteId, this.sessionId, operatorId),
    );
  }

  async pushEvent(name: string, data: Record<string, string>): Promise<void> {
    await this.#flushed("pushEvent");
    this.#conversation = await asBlockError(() =>
      this.#deps.conversations.pushEvent(this.websiteId, this.sessionId, name, data),
    );
  }

  typing(state: "start" | "stop"): void {
    this.#local("typing").signal(() =>
      this.#deps.compose(this.websiteId, { session_id: this.sessionId, from: "operator", state }),
    );
  }

  async startWorkflow(workflowId: string): Promise<void> {
    await this.#flushed("startWorkflow");
    const target = await this.#deps.stores.workflows.find(this.websiteId, workflowId);
    if (!target) throw new BlockError(`Workflow ${workflowId} does not exist (any more).`);
    if (target.deployed_version === null) throw new BlockError(`Workflow ${workflowId} is not deployed.`);
    this.handoff = workflowId;
  }

  request(
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
  ): Promise<{ status: number; body: string }> {
    if (!this.#external) throw new Error("request is only allowed in an external block");
    return this.#deps.request(url, init);
  }

  async pageUrl(): Promise<string | undefined> {
    await this.#outbox?.flush();
    const fromVariables = this.#variables.page_url;
    const data = (await this.#deps.stores.conversations.lastEventData(
      this.websiteId,
      this.sessionId,
      "session:set_page",
    )) as { url?: unknown } | undefined;
    if (typeof data?.url === "string") return data.url;
    return typeof fromVariables === "string" ? fromVariables : undefined;
  }

  async lastMessageAt(from?: "user" | "operator"): Promise<number | undefined> {
    await this.#outbox?.flush();
    return this.#deps.stores.workflows.lastMessageAt(this.websiteId, this.sessionId, from);
  }

  async hadOperatorMessage(): Promise<boolean> {
    await this.#outbox?.flush();
    return this.#deps.stores.workflows.hasOperatorMessageBefore(
      this.websiteId,
      this.sessionId,
      this.startedAt,
    );
  }
}
