import {
  type Conversation,
  type ConversationMeta,
  type ConversationState,
  type Message,
  MessageContentByType,
  type MessageInput,
  MetaPatch,
  type RunWait,
  type VariableValue,
} from "@hugo/protocol";
import type { ConversationService } from "../core/conversations.ts";
import { AppError } from "../core/errors.ts";
import type { Stores } from "../core/ports.ts";
import { BlockError, type StepContext } from "./runner.ts";
import { renderTemplate, templateLookup } from "./template.ts";

export interface ContextDeps {
  stores: Stores;
  conversations: ConversationService;
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

  #local(what: string): void {
    if (this.#external) throw new Error(`${what} is not allowed in an external block`);
  }

  async send(message: Pick<MessageInput, "type" | "content">): Promise<Message> {
    this.#local("send");
    const parsed = MessageContentByType[message.type].safeParse(message.content);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` (${issue.path.join(".")})` : "";
      throw new BlockError(
        `The ${message.type} message is invalid after filling its variables${where}: ${issue?.message}`,
      );
    }
    const sent = await asBlockError(() =>
      this.#deps.conversations.sendMessage(this.websiteId, this.sessionId, {
        type: message.type,
        content: parsed.data,
        from: "operator",
        origin: "chat",
        automated: true,
        user: { type: "website", user_id: "hugo:workflow", nickname: this.#deps.botName },
      } as MessageInput),
    );
    return sent;
  }

  async updateMeta(patch: MetaPatch): Promise<ConversationMeta> {
    this.#local("updateMeta");
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
    this.#local("setState");
    this.#conversation = await asBlockError(() =>
      this.#deps.conversations.setState(this.websiteId, this.sessionId, state),
    );
  }

  async setInbox(inboxId: string | null): Promise<void> {
    this.#local("setInbox");
    this.#conversation = await asBlockError(() =>
      this.#deps.conversations.setInbox(this.websiteId, this.sessionId, inboxId),
    );
  }

  async assign(operatorId: string | null): Promise<void> {
    this.#local("assign");
    this.#conversation = await asBlockError(() =>
      this.#deps.conversations.assign(this.websiteId, this.sessionId, operatorId),
    );
  }

  async pushEvent(name: string, data: Record<string, string>): Promise<void> {
    this.#local("pushEvent");
    this.#conversation = await asBlockError(() =>
      this.#deps.conversations.pushEvent(this.websiteId, this.sessionId, name, data),
    );
  }

  typing(state: "start" | "stop"): void {
    this.#deps.stores.afterCommit(() =>
      this.#deps.compose(this.websiteId, { session_id: this.sessionId, from: "operator", state }),
    );
  }

  async startWorkflow(workflowId: string): Promise<void> {
    this.#local("startWorkflow");
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
    const fromVariables = this.#variables.page_url;
    const data = (await this.#deps.stores.conversations.lastEventData(
      this.websiteId,
      this.sessionId,
      "session:set_page",
    )) as { url?: unknown } | undefined;
    if (typeof data?.url === "string") return data.url;
    return typeof fromVariables === "string" ? fromVariables : undefined;
  }

  lastMessageAt(from?: "user" | "operator"): Promise<number | undefined> {
    return this.#deps.stores.workflows.lastMessageAt(this.websiteId, this.sessionId, from);
  }

  hadOperatorMessage(): Promise<boolean> {
    return this.#deps.stores.workflows.hasOperatorMessageBefore(
      this.websiteId,
      this.sessionId,
      this.startedAt,
    );
  }
}
