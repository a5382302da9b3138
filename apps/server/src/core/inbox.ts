import type {
  Conversation,
  ConversationUpdate,
  InboxCounts,
  InboxPage,
  InboxQuery,
  Message,
  OperatorReply,
} from "@hugo/protocol";
import type { ConversationService } from "./conversations.ts";
import { AppError } from "./errors.ts";
import type { ConversationFilter, Stores } from "./ports.ts";
import type { Principal } from "./tokens.ts";

/** The cursor of the row a page ended on: `updated_at.session_id`, base64url (opaque to clients). */
const encodeCursor = (c: Conversation) =>
  Buffer.from(`${c.updated_at}.${c.session_id}`).toString("base64url");

function decodeCursor(cursor: string): { updated_at: number; session_id: string } {
  const [at, sessionId] = Buffer.from(cursor, "base64url").toString("utf8").split(".", 2);
  if (!at || !/^\d{1,16}$/.test(at) || !sessionId?.startsWith("session_"))
    throw new AppError("invalid_query", "`cursor` must be the next_cursor of a previous page.", {
      field: "cursor",
    });
  return { updated_at: Number(at), session_id: sessionId };
}

/**
 * The dashboard's inbox: conversations paged by keyset (newest activity first) with the inbox's
 * filters, its badges, a conversation's messages, and operator replies, notes and changes — each
 * through the conversation service, so events, web hooks and the agent's hand-over behave exactly
 * as for the Crisp API.
 */
export class InboxService {
  readonly #stores: Stores;
  readonly #conversations: ConversationService;
  constructor(stores: Stores, conversations: ConversationService) {
    this.#stores = stores;
    this.#conversations = conversations;
  }

  async list(websiteId: string, q: InboxQuery): Promise<InboxPage> {
    const filter: ConversationFilter = {
      ...(q.inbox === "automated" ? { inbox: "automated", notResolved: true } : {}),
      ...(q.inbox === "main" ? { inbox: null, notResolved: true } : {}),
      ...(q.inbox === "resolved" ? { states: ["resolved"] } : {}),
      ...(q.state ? { states: [q.state] } : {}),
      ...(q.assigned ? { assigned: q.assigned === "none" ? null : q.assigned } : {}),
      ...(q.segment ? { segment: q.segment } : {}),
      ...(q.q ? { text: q.q } : {}),
      ...(q.unread !== undefined ? { unread: q.unread } : {}),
    };
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    // One more than asked: whether there is a next page, without counting.
    const rows = await this.#stores.conversations.listPage(websiteId, filter, after, q.limit + 1);
    const conversations = rows.slice(0, q.limit);
    const last = conversations.at(-1);
    return { conversations, next_cursor: rows.length > q.limit && last ? encodeCursor(last) : null };
  }

  counts(websiteId: string): Promise<InboxCounts> {
    return this.#stores.conversations.countInboxes(websiteId);
  }

  get(websiteId: string, sessionId: string): Promise<Conversation> {
    return this.#conversations.get(websiteId, sessionId);
  }

  async messages(
    websiteId: string,
    sessionId: string,
    window: { before?: number | undefined; limit: number },
  ): Promise<Message[]> {
    return this.#conversations.listMessages(websiteId, sessionId, window);
  }

  /** A reply or a note as the signed-in operator (by name), or as the API for a token. */
  async reply(principal: Principal, sessionId: string, input: OperatorReply): Promise<Message> {
    let user: { type: "website"; user_id: string; nickname: string } | undefined;
    if (principal.kind === "operator") {
      const operator = await this.#stores.operators.findById(principal.operatorId);
      if (operator) user = { type: "website", user_id: operator.id, nickname: operator.name };
    }
    return this.#conversations.sendMessage(principal.websiteId, sessionId, {
      type: input.type,
      content: input.content,
      from: "operator",
      origin: "chat",
      ...(user ? { user } : {}),
    });
  }

  async update(websiteId: string, sessionId: string, patch: ConversationUpdate): Promise<Conversation> {
    let conversation = await this.#conversations.get(websiteId, sessionId);
    // The assignee is checked first: a refused change leaves the conversation as it was.
    if (patch.assigned_user_id !== undefined)
      conversation = await this.#conversations
        .assign(websiteId, sessionId, patch.assigned_user_id)
        .catch((error: unknown) => {
          if (error instanceof AppError && error.reason === "operator_not_found")
            throw new AppError(error.reason, error.message, { field: "assigned_user_id" });
          throw error;
        });
    if (patch.inbox_id !== undefined)
      conversation = await this.#conversations.setInbox(websiteId, sessionId, patch.inbox_id);
    if (patch.state !== undefined)
      conversation = await this.#conversations.setState(websiteId, sessionId, patch.state);
    return conversation;
  }
}
