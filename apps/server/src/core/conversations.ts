import {
  AUTOMATED_INBOX,
  type Conversation,
  type ConversationListQuery,
  type ConversationMeta,
  type ConversationState,
  type Message,
  MessageContentByType,
  type MessageInput,
  type MetaPatch,
} from "@hugo/protocol";
import { AppError } from "./errors.ts";
import { newFingerprint, newSessionId } from "./ids.ts";
import type { ConversationEvent, EventSink, NewMessage, StateTransition, Stores } from "./ports.ts";

export const EMPTY_META: ConversationMeta = {
  nickname: "",
  email: "",
  phone: "",
  avatar: "",
  ip: "",
  subject: "",
  origin: "",
  segments: [],
  data: {},
  locale: "",
};

/** The one-line text a conversation list shows for a message. */
export function excerptOf(type: Message["type"], content: unknown): string {
  const c = content as Record<string, unknown>;
  const text =
    typeof content === "string"
      ? content
      : type === "file"
        ? `[file] ${c.name}`
        : type === "animation"
          ? "[animation]"
          : type === "audio"
            ? "[audio]"
            : typeof c?.text === "string"
              ? c.text
              : `[${type}]`;
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

/** An entry of a batch written to a conversation's log: a message to send, or an event to record. */
export type LogInput = { message: MessageInput } | { event: string; data: unknown };

export interface CreateConversationInput {
  inbox_id?: string | null;
  meta?: Partial<ConversationMeta>;
}

/** Conversation rules. Routes call these; the stores only persist. */
export class ConversationService {
  readonly #stores: Stores;
  readonly #sink: EventSink;

  constructor(stores: Stores, sink: EventSink) {
    this.#stores = stores;
    this.#sink = sink;
  }

  async create(websiteId: string, input: CreateConversationInput = {}): Promise<Conversation> {
    const now = Date.now();
    const conversation: Conversation = {
      session_id: newSessionId(),
      website_id: websiteId,
      inbox_id: input.inbox_id ?? null,
      state: "pending",
      is_blocked: false,
      assigned: null,
      meta: { ...EMPTY_META, ...input.meta },
      created_at: now,
      updated_at: now,
      last_message: "",
      unread: { operator: 0, visitor: 0 },
      last_seq: 1,
    };
    const event = await this.#stores.conversations.create(conversation);
    this.#publish([event]);
    return conversation;
  }

  async get(websiteId: string, sessionId: string): Promise<Conversation> {
    const conversation = await this.#stores.conversations.find(websiteId, sessionId);
    if (!conversation)
      throw new AppError("session_not_found", `No conversation ${sessionId} in this website.`);
    return conversation;
  }

  list(websiteId: string, query: ConversationListQuery, page: number): Promise<Conversation[]> {
    return this.#stores.conversations.list(websiteId, query, page);
  }

  /**
   * Posts a message. A visitor writing in a resolved conversation reopens it; an operator's reply
   * moves a pending conversation to unresolved. Both happen in the message's transaction.
   */
  async sendMessage(websiteId: string, sessionId: string, input: MessageInput): Promise<Message> {
    const stealth = input.stealth ?? false;
    // A generated fingerprint that collides (another process, same microsecond) is simply retried;
    // a client-chosen one that exists is the client's conflict.
    for (let attempt = 0; ; attempt++) {
      try {
        const appended = await this.#stores.conversations.appendMessage(
          websiteId,
          sessionId,
          newMessage(input, Date.now()),
          { transition: transitionOf(input, stealth) },
        );
        if (!appended)
          throw new AppError("session_not_found", `No conversation ${sessionId} in this website.`);
        this.#publish(appended.events);
        return appended.message;
      } catch (error) {
        const retry =
          error instanceof AppError &&
          error.reason === "fingerprint_conflict" &&
          input.fingerprint === undefined;
        if (!retry || attempt >= 3) throw error;
      }
    }
  }

  /**
   * Sends messages and records events, in order, as one write (a workflow batch's): the same
   * messages and events as sending and recording them one by one. When a message changes the state
   * or carries its own fingerprint, everything is written one by one.
   */
  async appendLog(websiteId: string, sessionId: string, entries: LogInput[]): Promise<void> {
    const simple = entries.every(
      (e) =>
        !("message" in e) ||
        (e.message.fingerprint === undefined && !transitionOf(e.message, e.message.stealth ?? false)),
    );
    if (!simple || entries.length === 1) {
      for (const e of entries) {
        if ("message" in e) await this.sendMessage(websiteId, sessionId, e.message);
        else await this.recordEvent(websiteId, sessionId, e.event, e.data);
      }
      return;
    }
    const now = Date.now();
    const appended = await this.#stores.conversations.appendLog(
      websiteId,
      sessionId,
      entries.map((e) => ("message" in e ? { message: newMessage(e.message, now) } : { ...e, at: now })),
    );
    if (!appended) throw new AppError("session_not_found", `No conversation ${sessionId} in this website.`);
    this.#publish(appended.events);
  }

  async listMessages(
    websiteId: string,
    sessionId: string,
    window: { before?: number | undefined; after?: number | undefined; limit?: number | undefined },
  ): Promise<Message[]> {
    await this.get(websiteId, sessionId);
    return this.#stores.conversations.listMessages(websiteId, sessionId, {
      ...window,
      limit: window.limit ?? 50,
    });
  }

  async getMessage(websiteId: string, sessionId: string, fingerprint: number): Promise<Message> {
    await this.get(websiteId, sessionId);
    const message = await this.#stores.conversations.findMessage(websiteId, sessionId, fingerprint);
    if (!message) throw new AppError("message_not_found", `No message ${fingerprint} in this conversation.`);
    return message;
  }

  async updateMeta(websiteId: string, sessionId: string, patch: MetaPatch): Promise<ConversationMeta> {
    const { data, ...rest } = patch;
    const conversation = await this.#stores.transaction(async (tx) => {
      const current = await tx.conversations.find(websiteId, sessionId);
      if (!current) throw new AppError("session_not_found", `No conversation ${sessionId} in this website.`);
      const meta: Partial<ConversationMeta> = { ...rest };
      if (data) {
        const merged = { ...current.meta.data };
        for (const [k, v] of Object.entries(data)) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        if (Object.keys(merged).length > 200) {
          throw new AppError("invalid_body", "meta.data may hold at most 200 keys.", { field: "data" });
        }
        meta.data = merged;
      }
      if (meta.segments) meta.segments = [...new Set(meta.segments)];
      // One Crisp-named event per field (session:set_email, session:set_nickname, session:set_data, …),
      // as web hooks and realtime clients written for Crisp expect; all in this transaction.
      let result = { conversation: current, events: [] as ConversationEvent[] };
      for (const [field, value] of Object.entries(meta) as [keyof ConversationMeta, unknown][]) {
        const changed = await tx.conversations.change(
          websiteId,
          sessionId,
          { meta: { [field]: value } },
          { name: `session:set_${field}`, data: { [field]: value } },
        );
        if (!changed)
          throw new AppError("session_not_found", `No conversation ${sessionId} in this website.`);
        result = { conversation: changed.conversation, events: [...result.events, changed.event] };
      }
      return result;
    });
    this.#publish(conversation.events);
    return conversation.conversation.meta;
  }

  setState(websiteId: string, sessionId: string, state: ConversationState): Promise<Conversation> {
    return this.#change(websiteId, sessionId, { state }, "session:set_state", { state });
  }

  setInbox(websiteId: string, sessionId: string, inboxId: string | null): Promise<Conversation> {
    if (inboxId !== null && inboxId !== AUTOMATED_INBOX) {
      throw new AppError(
        "inbox_not_found",
        `No inbox ${inboxId}; use "automated" or null (the main inbox).`,
        {
          field: "inbox_id",
        },
      );
    }
    return this.#change(websiteId, sessionId, { inbox_id: inboxId }, "session:set_inbox", {
      inbox_id: inboxId,
    });
  }

  async assign(websiteId: string, sessionId: string, userId: string | null): Promise<Conversation> {
    if (userId !== null && !(await this.#stores.operators.findMembership(websiteId, userId))) {
      throw new AppError("operator_not_found", `No operator ${userId} in this website.`, {
        field: "assigned.user_id",
      });
    }
    return this.#change(websiteId, sessionId, { assigned_user_id: userId }, "session:set_routing", {
      assigned: userId ? { user_id: userId } : null,
    });
  }

  async markRead(
    websiteId: string,
    sessionId: string,
    reader: "operator" | "user",
    fingerprints?: number[],
  ): Promise<number[]> {
    const result = await this.#stores.conversations.markRead(websiteId, sessionId, reader, fingerprints);
    if (!result) throw new AppError("session_not_found", `No conversation ${sessionId} in this website.`);
    this.#publish([result.event]);
    return result.fingerprints;
  }

  /** Typing indicators are ephemeral: broadcast, never stored. */
  async compose(
    websiteId: string,
    sessionId: string,
    from: "user" | "operator",
    state: "start" | "stop",
    excerpt?: string,
  ): Promise<void> {
    await this.get(websiteId, sessionId);
    this.#sink.compose(websiteId, { session_id: sessionId, from, state, ...(excerpt ? { excerpt } : {}) });
  }

  /**
   * Replaces a message's content — how a visitor's widget records a picker choice or a field value,
   * and how an operator edits a message. The new content must fit the message's type.
   */
  async updateMessage(
    websiteId: string,
    sessionId: string,
    fingerprint: number,
    content: unknown,
  ): Promise<Message> {
    const current = await this.getMessage(websiteId, sessionId, fingerprint);
    const parsed = MessageContentByType[current.type].safeParse(content);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = ["content", ...(issue?.path ?? [])].join(".");
      throw new AppError("invalid_body", `${path}: ${issue?.message ?? "invalid"}`, { field: path });
    }
    const updated = await this.#stores.conversations.updateMessage(
      websiteId,
      sessionId,
      fingerprint,
      parsed.data,
    );
    if (!updated) throw new AppError("message_not_found", `No message ${fingerprint} in this conversation.`);
    this.#publish([updated.event]);
    return updated.message;
  }

  /** A custom session event (`$crisp.push(["set","session:event",…])`); workflows may start on it. */
  pushEvent(
    websiteId: string,
    sessionId: string,
    name: string,
    data: Record<string, unknown> = {},
  ): Promise<Conversation> {
    return this.recordEvent(websiteId, sessionId, "session:event", { name, data });
  }

  /** Appends an event to the conversation's log (Hugo's own, e.g. `workflow:run:started`). */
  recordEvent(websiteId: string, sessionId: string, name: string, data: unknown): Promise<Conversation> {
    return this.#change(websiteId, sessionId, {}, name, data);
  }

  /** The visitor opened a page (reported by the widget); workflows may start on it. */
  visitPage(websiteId: string, sessionId: string, url: string, title = ""): Promise<Conversation> {
    return this.recordEvent(websiteId, sessionId, "session:set_page", { url, title });
  }

  async remove(websiteId: string, sessionId: string): Promise<void> {
    const event = await this.#stores.conversations.remove(websiteId, sessionId);
    if (!event) throw new AppError("session_not_found", `No conversation ${sessionId} in this website.`);
    this.#publish([event]);
  }

  /** Realtime hears of events only once they are committed. */
  #publish(events: ConversationEvent[]): void {
    this.#stores.afterCommit(() => this.#sink.committed(events));
  }

  async #change(
    websiteId: string,
    sessionId: string,
    change: Parameters<Stores["conversations"]["change"]>[2],
    name: string,
    data: unknown,
  ): Promise<Conversation> {
    const changed = await this.#stores.conversations.change(websiteId, sessionId, change, { name, data });
    if (!changed) throw new AppError("session_not_found", `No conversation ${sessionId} in this website.`);
    this.#publish([changed.event]);
    return changed.conversation;
  }
}

function newMessage(input: MessageInput, timestamp: number): NewMessage {
  return {
    type: input.type,
    from: input.from,
    origin: input.origin,
    content: input.content,
    fingerprint: input.fingerprint ?? newFingerprint(timestamp),
    timestamp,
    user: input.user ?? {},
    automated: input.automated ?? false,
    stealth: input.stealth ?? false,
    excerpt: excerptOf(input.type, input.content),
  };
}

/** A visitor writing reopens a resolved conversation; a human operator's reply takes a pending one. */
function transitionOf(input: MessageInput, stealth: boolean): StateTransition | undefined {
  if (input.type === "note" || stealth) return undefined;
  if (input.from === "user") return { from: "resolved", to: "unresolved" };
  if (input.from === "operator" && !input.automated) return { from: "pending", to: "unresolved" };
  return undefined;
}
