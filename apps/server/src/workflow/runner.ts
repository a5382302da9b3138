import type {
  Conversation,
  ConversationMeta,
  ConversationState,
  Message,
  MessageInput,
  MetaPatch,
  RunWait,
  VariableValue,
} from "@hugo/protocol";

/**
 * What a block runner sees and may do. The engine builds one per step. Local effects (messages,
 * meta, state…) go through the core services and join the step's transaction, which also records
 * the run's new position: they commit together or not at all. Runners marked `external` run
 * outside any transaction (they do network I/O) and must not call the effect methods; they return
 * variables instead, which the engine commits with the outcome.
 */
export interface StepContext {
  readonly websiteId: string;
  readonly sessionId: string;
  readonly runId: string;
  readonly workflowId: string;
  /** The run's step counter before this step: with `runId`, a stable key for external idempotency. */
  readonly step: number;
  readonly blockId: string;
  readonly test: boolean;
  /** The run's start time (ms). */
  readonly startedAt: number;
  readonly now: number;
  /** The conversation as of the start of the step, updated by the effect methods below. */
  readonly conversation: Conversation;
  /** What the run waits for, when resuming a waiting block; null otherwise. */
  readonly wait: RunWait | null;
  /** Run variables: trigger variables, answers and HTTP results. */
  readonly variables: Readonly<Record<string, VariableValue>>;
  setVariable(name: string, value: VariableValue): void;
  /** Renders `{{ name }}` templates from variables and the conversation; missing ones render empty. */
  render(template: string, escaping?: "none" | "json" | "url"): string;
  /** Appends a line to this step's run log. */
  log(line: string): void;
  /** A number in [0, 1) (A/B splits). */
  random(): number;

  /**
   * Sends a message as the bot (`from: operator`, `automated: true`). Written with the batch's other
   * messages, before any other effect and before the batch commits.
   */
  send(message: Pick<MessageInput, "type" | "content">): Promise<void>;
  updateMeta(patch: MetaPatch): Promise<ConversationMeta>;
  setState(state: ConversationState): Promise<void>;
  setInbox(inboxId: string | null): Promise<void>;
  assign(operatorId: string | null): Promise<void>;
  /** Records a custom session event (`session:event` with `{ name, data }`). */
  pushEvent(name: string, data: Record<string, string>): Promise<void>;
  /** Shows (or hides) the bot's typing indicator once the step has committed. */
  typing(state: "start" | "stop"): void;
  /**
   * The AI agent takes a turn in the conversation (guided by `instruction`): it answers from the
   * knowledge base, or hands over to a human (main inbox, unresolved). Sent with the batch.
   */
  agent(instruction: string): Promise<{ decision: "answer" | "escalate"; reason: string }>;
  /** Ends this run and starts `workflowId` (deployed) in the conversation with these variables. */
  startWorkflow(workflowId: string): Promise<void>;
  /** An outbound HTTP request through the SSRF guard (external blocks only). */
  request(
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
  ): Promise<{ status: number; body: string }>;
  /** The last page URL the visitor was seen on, if any. */
  pageUrl(): Promise<string | undefined>;
  lastMessageAt(from?: "user" | "operator"): Promise<number | undefined>;
  /** Whether an operator, bot or agent wrote before this run started. */
  hadOperatorMessage(): Promise<boolean>;
}

/** What a visitor (or the clock) did that a waiting run resumes on. */
export type ResumeInput =
  | { kind: "timer" }
  | { kind: "timeout" }
  | { kind: "message"; message: Message }
  | { kind: "picker"; id: string; value: string; label: string }
  | { kind: "field"; id: string; value: string };

/** Where the run goes after a step. */
export type Outcome =
  /** Follow the edge leaving this output; with none connected, the run completes. */
  | { next: string }
  /** Park the run here until the wait is over (a resume comes back to this block). */
  | { wait: RunWait }
  /** Stay parked after a resume that did not satisfy the wait (e.g. an invalid field value). */
  | { retry: RunWait }
  /** End the run. */
  | { end: "completed" | "failed"; reason: string };

export interface BlockRunner<O = unknown> {
  run(ctx: StepContext, options: O): Promise<Outcome>;
  /** For waiting blocks: the visitor answered, or the timer or timeout fired. */
  resume?(ctx: StepContext, options: O, input: ResumeInput): Promise<Outcome>;
  /** Does network I/O: runs outside the step's transaction and must not call effect methods. */
  external?: boolean;
}

/** A block failed: logged in the run, then its `failure` output is taken if connected, else the run fails. */
export class BlockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BlockError";
  }
}
