import { AppError } from "../core/errors.ts";
import type { ConversationEvent, ConversationStore } from "../core/ports.ts";
import { eventVisibleToVisitor } from "../core/visitor-visibility.ts";
import { type ComposeSignal, type EventFrames, encodeEvent, encodeFrame } from "./frames.ts";
import type { Hub } from "./hub.ts";
import type { FeedSubscriber } from "./website-feed.ts";

/** The connection a subscription writes to. */
export interface SubscriptionOwner {
  readonly visitor: boolean;
  /** Bytes queued on the socket, and the level above which a replay waits for them to drain. */
  readonly buffered: number;
  readonly lowWater: number;
  /** Resolves when the connection is gone. */
  readonly gone: Promise<void>;
  send(frame: string): void;
  /** Sends and resolves once the frame has been handed to the kernel (or the connection is gone). */
  sendTracked(frame: string): Promise<void>;
  compose(signal: ComposeSignal): void;
  /** The subscription ended on an error; the owner reports it and forgets the subscription. */
  failed(sub: Subscription, error: unknown): void;
}

const REPLAY_PAGE = 200;
// Live events held while replaying (shared objects, not copies); past this they are dropped and
// read from the log instead.
const MAX_HELD = 256;

/**
 * One "replay from N, then live" stream: a conversation (keyed by `seq`) or a whole website
 * (keyed by `website_seq`). The cursor is the last sequence number handled; an event at or below
 * it is a duplicate and dropped, one past `cursor + 1` is a gap and sends the subscription back to
 * the log. Live events that arrive during a replay are held (bounded) and merged by sequence.
 */
export class Subscription implements FeedSubscriber {
  readonly websiteId: string;
  readonly sessionId: string | null;
  readonly #hub: Hub;
  readonly #store: ConversationStore;
  readonly #owner: SubscriptionOwner;
  #state: "replaying" | "live" | "closed" = "replaying";
  #cursor = 0;
  /** Live events that arrived during a replay; allocated by the first one. */
  #held: ConversationEvent[] | undefined;
  #overflow = false;
  #announced = false;

  constructor(
    hub: Hub,
    store: ConversationStore,
    owner: SubscriptionOwner,
    websiteId: string,
    sessionId: string | null,
  ) {
    this.#hub = hub;
    this.#store = store;
    this.#owner = owner;
    this.websiteId = websiteId;
    this.sessionId = sessionId;
  }

  get receiver(): { compose(signal: ComposeSignal): void } {
    return this.#owner;
  }

  /** Replays the log after `after` (or from its end when undefined), then goes live. Never throws. */
  async start(after: number | undefined): Promise<void> {
    try {
      await this.#hub.attach(this.websiteId, this);
      if (this.#isClosed()) return;
      this.#cursor = await this.#startingCursor(after);
      if (this.#isClosed()) return;
      await this.#catchUp();
    } catch (err) {
      this.#fail(err);
    }
  }

  cancel(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#held = undefined;
    this.#hub.detach(this.websiteId, this);
  }

  push(event: ConversationEvent, frames: EventFrames): void {
    if (this.#state === "closed") return;
    const key = this.#key(event);
    if (this.#state === "replaying") {
      if (key <= this.#cursor) return;
      if (!this.#held) this.#held = [event];
      else if (this.#held.length < MAX_HELD) this.#held.push(event);
      else this.#overflow = true;
      return;
    }
    if (key <= this.#cursor) return;
    if (key === this.#cursor + 1) {
      this.#cursor = key;
      if (this.#visible(event)) this.#owner.send(frames.get(this.sessionId, this.#owner.visitor));
      return;
    }
    // A hole: never trust the stream to fill it, read the log.
    this.#state = "replaying";
    this.#held = [event];
    this.#catchUp().catch((err) => this.#fail(err));
  }

  async #startingCursor(after: number | undefined): Promise<number> {
    const head = await this.#store.lastSeq(this.websiteId, this.sessionId ?? undefined);
    if (head !== undefined) return after === undefined ? head : Math.min(after, head);
    if (this.sessionId === null) throw new AppError("website_not_found");
    // A removed conversation keeps its events (session:removed last): they can still be replayed.
    if (after !== undefined) {
      const any = await this.#store.readEvents(this.websiteId, {
        sessionId: this.sessionId,
        after: 0,
        limit: 1,
      });
      if (any.length > 0) return after;
    }
    throw new AppError("session_not_found", `No conversation ${this.sessionId} in this website.`);
  }

  async #catchUp(): Promise<void> {
    for (;;) {
      // 1. The log, page by page; the socket's buffer drains before a page piles on.
      for (;;) {
        const page = await this.#store.readEvents(this.websiteId, {
          sessionId: this.sessionId ?? undefined,
          after: this.#cursor,
          limit: REPLAY_PAGE,
        });
        if (this.#isClosed()) return;
        let written: Promise<void> | undefined;
        for (const event of page) {
          const key = this.#key(event);
          if (key <= this.#cursor) continue;
          this.#cursor = key;
          if (!this.#visible(event)) continue;
          if (written && this.#owner.buffered > this.#owner.lowWater) {
            await Promise.race([written, this.#owner.gone]);
            if (this.#isClosed()) return;
          }
          written = this.#owner.sendTracked(encodeEvent(event, this.sessionId, this.#owner.visitor));
        }
        if (page.length < REPLAY_PAGE) break;
      }
      // 2. Live events held meanwhile: in sequence they extend the cursor; a hole or an overflow
      // means reading the log again. No await from here to "live", so nothing slips in between.
      if (this.#overflow) {
        this.#overflow = false;
        this.#held = undefined;
        continue;
      }
      const held = this.#held;
      this.#held = undefined;
      let hole = false;
      for (const event of held ?? []) {
        const key = this.#key(event);
        if (key <= this.#cursor) continue;
        if (key !== this.#cursor + 1) {
          hole = true;
          break;
        }
        this.#cursor = key;
        if (this.#visible(event)) this.#owner.send(encodeEvent(event, this.sessionId, this.#owner.visitor));
      }
      if (hole) continue;
      this.#state = "live";
      if (!this.#announced) {
        this.#announced = true;
        this.#owner.send(
          encodeFrame({ type: "subscribed", session_id: this.sessionId, up_to: this.#cursor }),
        );
      }
      return;
    }
  }

  /** A method, not a field read, so the compiler does not narrow it across awaits. */
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #key(event: ConversationEvent): number {
    return this.sessionId === null ? event.website_seq : (event.seq ?? 0);
  }

  #visible(event: ConversationEvent): boolean {
    return !this.#owner.visitor || eventVisibleToVisitor(event);
  }

  #fail(err: unknown): void {
    if (this.#state === "closed") return;
    this.cancel();
    this.#owner.failed(this, err);
  }
}
