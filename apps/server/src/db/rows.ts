import type { Conversation, Message } from "@hugo/protocol";
import type { ConversationEvent, TokenRecord } from "../core/ports.ts";
import type { ApiTokensTable, ConversationsTable, EventsTable, MessagesTable } from "./schema.ts";

/** Row ↔ model mapping shared by every store; the schema is identical on both dialects. */

export function toConversation(r: ConversationsTable): Conversation {
  return {
    session_id: r.session_id,
    website_id: r.website_id,
    inbox_id: r.inbox_id,
    state: r.state as Conversation["state"],
    is_blocked: r.is_blocked === 1,
    assigned: r.assigned_user_id ? { user_id: r.assigned_user_id } : null,
    meta: {
      nickname: r.nickname,
      email: r.email,
      phone: r.phone,
      avatar: r.avatar,
      ip: r.ip,
      subject: r.subject,
      origin: r.origin,
      segments: JSON.parse(r.segments),
      data: JSON.parse(r.data),
      locale: r.locale,
    },
    created_at: r.created_at,
    updated_at: r.updated_at,
    last_message: r.last_message,
    unread: { operator: r.unread_operator, visitor: r.unread_visitor },
    last_seq: r.last_seq,
  };
}

export function fromConversation(c: Conversation): ConversationsTable {
  return {
    session_id: c.session_id,
    website_id: c.website_id,
    inbox_id: c.inbox_id,
    state: c.state,
    is_blocked: c.is_blocked ? 1 : 0,
    assigned_user_id: c.assigned?.user_id ?? null,
    nickname: c.meta.nickname,
    email: c.meta.email,
    phone: c.meta.phone,
    avatar: c.meta.avatar,
    ip: c.meta.ip,
    subject: c.meta.subject,
    origin: c.meta.origin,
    segments: JSON.stringify(c.meta.segments),
    data: JSON.stringify(c.meta.data),
    locale: c.meta.locale,
    created_at: c.created_at,
    updated_at: c.updated_at,
    last_message: c.last_message,
    unread_operator: c.unread.operator,
    unread_visitor: c.unread.visitor,
    last_seq: c.last_seq,
  };
}

export function toMessage(r: MessagesTable): Message {
  return {
    session_id: r.session_id,
    website_id: r.website_id,
    type: r.type as Message["type"],
    from: r.sender as Message["from"],
    origin: r.origin,
    content: JSON.parse(r.content),
    fingerprint: r.fingerprint,
    timestamp: r.timestamp,
    user: JSON.parse(r.user),
    automated: r.automated === 1,
    stealth: r.stealth === 1,
    read: r.read === 1,
    delivered: r.delivered === 1,
    seq: r.seq,
    edited: r.edited === 1,
  };
}

export function toEvent(r: Omit<EventsTable, "is_message">): ConversationEvent {
  return {
    website_id: r.website_id,
    website_seq: r.website_seq,
    session_id: r.session_id,
    seq: r.seq,
    name: r.name,
    data: JSON.parse(r.data),
    created_at: r.created_at,
  };
}

export function toToken(r: ApiTokensTable): TokenRecord {
  return { ...r, scopes: JSON.parse(r.scopes) };
}
