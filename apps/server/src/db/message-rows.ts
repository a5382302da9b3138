import { AppError } from "../core/errors.ts";
import type { NewMessage } from "../core/ports.ts";
import type { MessagesTable } from "./schema.ts";

/** How a new message moves a conversation's counters: the same rule for every implementation. */
export function messageCounters(m: NewMessage) {
  const toVisitor = m.from === "operator" && m.type !== "note" && !m.stealth;
  return {
    setLastMessage: m.type !== "note",
    unreadOperator: m.from === "user" ? 1 : 0,
    unreadVisitor: toVisitor ? 1 : 0,
  };
}

export function messageRow(websiteId: string, sessionId: string, seq: number, m: NewMessage): MessagesTable {
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
  };
}

export const fingerprintConflict = (fingerprint: number) =>
  new AppError("fingerprint_conflict", `Message ${fingerprint} already exists in this conversation.`, {
    field: "fingerprint",
  });
