import { EventEmitter } from "node:events";
import type { ConversationEvent, EventSink } from "../core/ports.ts";

export type ComposeSignal = Parameters<EventSink["compose"]>[1];

/**
 * In-process fan-out of committed events and typing signals, keyed by website. Subscribers get a
 * "new events up to website_seq N" nudge and read the log themselves, so a missed nudge costs
 * latency, never an event.
 */
export class Hub implements EventSink {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  committed(events: ConversationEvent[]): void {
    for (const event of events) this.#emitter.emit(`events:${event.website_id}`, event);
  }

  compose(websiteId: string, frame: ComposeSignal): void {
    this.#emitter.emit(`compose:${websiteId}`, frame);
  }

  onEvent(websiteId: string, listener: (event: ConversationEvent) => void): () => void {
    this.#emitter.on(`events:${websiteId}`, listener);
    return () => this.#emitter.off(`events:${websiteId}`, listener);
  }

  onCompose(websiteId: string, listener: (frame: ComposeSignal) => void): () => void {
    this.#emitter.on(`compose:${websiteId}`, listener);
    return () => this.#emitter.off(`compose:${websiteId}`, listener);
  }
}
