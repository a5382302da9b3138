import type { ConversationEvent } from "./ports.ts";

/** Notes and stealth messages are operator-only: a visitor never sees them. */
export function messageVisibleToVisitor(message: { type?: unknown; stealth?: unknown }): boolean {
  return message.type !== "note" && message.stealth !== true;
}

// An allow-list, not a deny-list: a new event name stays operator-only until someone decides a
// visitor may see it (session:created and the session:set_<meta field> events, for instance, carry operator data).
const VISITOR_EVENTS = new Set([
  "message:send",
  "message:received",
  "message:updated",
  "message:acknowledge:read",
  "session:set_state",
  "session:removed",
]);

/** Whether the visitor of the event's conversation may receive this event. */
export function eventVisibleToVisitor(event: ConversationEvent): boolean {
  if (!VISITOR_EVENTS.has(event.name)) return false;
  if (
    event.name === "message:send" ||
    event.name === "message:received" ||
    event.name === "message:updated"
  ) {
    return messageVisibleToVisitor((event.data ?? {}) as { type?: unknown; stealth?: unknown });
  }
  return true;
}
