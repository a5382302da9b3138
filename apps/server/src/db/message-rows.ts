import { AppError } from "../core/errors.ts";
import type { ConversationEvent, LogEntry, NewMessage } from "../core/ports.ts";
import { toMessage } from "./rows.ts";
import type { EventsTable, MessagesTable } from "./schema.ts";

/** How a new message moves a conversation's counters: the same rule for every implementation. */
export function messageCounters(m: NewMessage) {
  const toVisitor = m.from === "operator" && m.type !== "note" && !m.stealth;
  return {
    setLastMessage: m.type !== "note",
    unreadOperator: m.from === "user" ? 1 : 0,
    unreadVisitor: toVisitor ? 1 : 0,
  };
}

export function messageRow(
  websiteId: string,
  sessionId: string,
  seq: number,
  websiteSeq: number,
  m: NewMessage,
): MessagesTable {
  return {
    session_id: sessionId,
    fingerprint: m.fingerprint,
    website_id: websiteId,
    seq,
    type: m.type,
    sender: m.from,
    origin: m.origin,
    content: JSON.stringify(m.content),
    user: JSON.stringify(m.user),
    automated: m.automated ? 1 : 0,
    stealth: m.stealth ? 1 : 0,
    read: 0,
    delivered: 0,
    edited: 0,
    timestamp: m.timestamp,
    website_seq: websiteSeq,
  };
}

/** Visitor messages are `message:send`; operator, bot and agent messages `message:received` (Crisp). */
export const messageEventName = (sender: string) => (sender === "user" ? "message:send" : "message:received");

/** A message row as the event that carries it. */
export function messageEvent(row: MessagesTable): ConversationEvent {
  return {
    website_id: row.website_id,
    website_seq: row.website_seq,
    session_id: row.session_id,
    seq: row.seq,
    name: messageEventName(row.sender),
    data: toMessage(row),
    created_at: row.timestamp,
  };
}

/** An event as its events-table row; a message's event stores no data of its own (it is the message row). */
export function eventRow(event: ConversationEvent, isMessage = false): EventsTable {
  return {
    ...event,
    data: isMessage ? "null" : JSON.stringify(event.data),
    is_message: isMessage ? 1 : 0,
  };
}

/** The row of a message's event. */
export const messageEventRow = (row: MessagesTable): EventsTable => eventRow(messageEvent(row), true);

/** The `session:set_state` event a message's state change appends. */
export function stateChangeEvent(
  websiteId: string,
  websiteSeq: number,
  sessionId: string,
  seq: number,
  state: string,
  at: number,
): ConversationEvent {
  return logEvent(websiteId, sessionId, { event: "session:set_state", data: { state } }, seq, websiteSeq, at);
}

export const fingerprintConflict = (fingerprint: number) =>
  new AppError("fingerprint_conflict", `Message ${fingerprint} already exists in this conversation.`, {
    field: "fingerprint",
  });

/**
 * Several log entries — messages and plain events — appended in one write (a workflow batch's): the
 * conversation's counters move once by the sum, and timestamps stay strictly increasing. `stamps`
 * are the entries' own times made strictly increasing among themselves; once the conversation's
 * `updated_at` has become max(last stamp, previous + n) — `updatedAt` — entry i (0-based) gets
 * max(stamps[i], updatedAt − n + 1 + i): above the previous message, increasing, the last = updatedAt.
 */
export function logBatch(entries: LogEntry[]) {
  const stamps: number[] = [];
  let unreadOperator = 0;
  let unreadVisitor = 0;
  let lastExcerpt: string | undefined;
  for (const entry of entries) {
    const at = "message" in entry ? entry.message.timestamp : entry.at;
    stamps.push(Math.max(at, (stamps.at(-1) ?? 0) + 1));
    if (!("message" in entry)) continue;
    const c = messageCounters(entry.message);
    unreadOperator += c.unreadOperator;
    unreadVisitor += c.unreadVisitor;
    if (c.setLastMessage) lastExcerpt = entry.message.excerpt;
  }
  const n = entries.length;
  return {
    n,
    stamps,
    lastStamp: stamps[n - 1] ?? 0,
    unreadOperator,
    unreadVisitor,
    lastExcerpt,
    timestampOf: (i: number, updatedAt: number) => Math.max(stamps[i]!, updatedAt - n + 1 + i),
  };
}

/** The event of a plain log entry, numbered. */
export function logEvent(
  websiteId: string,
  sessionId: string,
  entry: { event: string; data: unknown },
  seq: number,
  websiteSeq: number,
  at: number,
): ConversationEvent {
  return {
    website_id: websiteId,
    website_seq: websiteSeq,
    session_id: sessionId,
    seq,
    name: entry.event,
    data: entry.data,
    created_at: at,
  };
}
