import type { MessageInput } from "@hugo/protocol";
import type { ConversationService } from "../core/conversations.ts";
import { AppError } from "../core/errors.ts";
import type { AnswerStream } from "./answerer.ts";

/** How often a growing message is rewritten: often enough to read as it grows, rarely enough for the log. */
export const UPDATE_MS = 250;

/**
 * The agent's message as an LLM writes it. The conversation shows the agent typing from `start()`;
 * the message is sent with the first words and then rewritten in place (`message:updated`) at most
 * every UPDATE_MS with the text so far; `close()` waits for the last write and stops the typing.
 * The message carries the turn's fingerprint, so a turn retried after a crash rewrites the message
 * it had begun instead of sending a second one. Writes are chained (one at a time, in order); a
 * failed write is logged and left to the turn's final write, which sets the whole answer anyway.
 */
export class MessageStream implements AnswerStream {
  readonly #conversations: ConversationService;
  readonly #websiteId: string;
  readonly #sessionId: string;
  readonly #message: MessageInput & { fingerprint: number };
  readonly #onError: (error: unknown) => void;
  #latest = "";
  #written = "";
  #sent = false;
  #typing = false;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #lastWrite = 0;

  constructor(
    conversations: ConversationService,
    target: { websiteId: string; sessionId: string; message: MessageInput & { fingerprint: number } },
    onError: (error: unknown) => void,
  ) {
    this.#conversations = conversations;
    this.#websiteId = target.websiteId;
    this.#sessionId = target.sessionId;
    this.#message = target.message;
    this.#onError = onError;
  }

  /** Whether the message exists in the conversation (then the turn's final text rewrites it). */
  get sent(): boolean {
    return this.#sent;
  }

  start(): void {
    this.#typing = true;
    this.#enqueue(() => this.#conversations.compose(this.#websiteId, this.#sessionId, "operator", "start"));
  }

  text(sofar: string): void {
    this.#latest = sofar;
    if (this.#timer) return;
    // Spaced from the last write's start — the first send included, while it is still under way.
    const wait = this.#lastWrite ? Math.max(0, this.#lastWrite + UPDATE_MS - Date.now()) : 0;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#enqueue(() => this.#write());
    }, wait);
  }

  /** Waits for the writes under way (a pending rewrite is dropped: the final write supersedes it); stops the typing. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#chain;
    if (this.#typing) {
      this.#typing = false;
      await this.#conversations
        .compose(this.#websiteId, this.#sessionId, "operator", "stop")
        .catch(this.#onError);
    }
  }

  async #write(): Promise<void> {
    const text = this.#latest;
    if (text === this.#written) return;
    this.#lastWrite = Date.now();
    if (!this.#sent) {
      try {
        await this.#conversations.sendMessage(this.#websiteId, this.#sessionId, {
          ...this.#message,
          content: text,
        } as MessageInput);
      } catch (error) {
        // A retried turn: the message it began before the crash is there; rewrite it.
        if (!(error instanceof AppError && error.reason === "fingerprint_conflict")) throw error;
        await this.#rewrite(text);
      }
      this.#sent = true;
    } else {
      await this.#rewrite(text);
    }
    this.#written = text;
  }

  #rewrite(text: string) {
    return this.#conversations.updateMessage(
      this.#websiteId,
      this.#sessionId,
      this.#message.fingerprint,
      text,
    );
  }

  #enqueue(write: () => Promise<unknown>): void {
    this.#chain = this.#chain.then(write).then(
      () => {},
      (error: unknown) => this.#onError(error),
    );
  }
}
