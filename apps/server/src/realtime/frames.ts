import type { ComposeFrame, EventFrame, ServerFrame } from "@hugo/protocol";
import type { ConversationEvent, EventSink } from "../core/ports.ts";

export type ComposeSignal = Parameters<EventSink["compose"]>[1];

export const encodeFrame = (frame: ServerFrame): string => JSON.stringify(frame);

/** The wire form of an event for one kind of subscriber; visitors do not learn the website's event count. */
export function encodeEvent(event: ConversationEvent, subscription: string | null, visitor: boolean): string {
  const frame: EventFrame = {
    type: "event",
    subscription,
    session_id: event.session_id,
    seq: event.seq,
    website_seq: visitor ? null : event.website_seq,
    name: event.name,
    data: event.data,
    timestamp: event.created_at,
  };
  return JSON.stringify(frame);
}

/** Encodes an event at most once per variant while it is fanned out to many subscribers. */
export class EventFrames {
  readonly event: ConversationEvent;
  readonly #cache = new Map<string, string>();

  constructor(event: ConversationEvent) {
    this.event = event;
  }

  get(subscription: string | null, visitor: boolean): string {
    const key = `${subscription ?? ""}|${visitor ? 1 : 0}`;
    let frame = this.#cache.get(key);
    if (frame === undefined) {
      frame = encodeEvent(this.event, subscription, visitor);
      this.#cache.set(key, frame);
    }
    return frame;
  }
}

/** Typing indicators as each side sees them: visitors never get their own echo nor the operator's draft. */
export function encodeCompose(signal: ComposeSignal, visitor: boolean): string | undefined {
  if (visitor && signal.from === "user") return undefined;
  const frame: ComposeFrame = {
    type: "compose",
    session_id: signal.session_id,
    from: signal.from,
    state: signal.state,
    ...(!visitor && signal.excerpt ? { excerpt: signal.excerpt } : {}),
  };
  return JSON.stringify(frame);
}
