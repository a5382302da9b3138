import type { ConversationEvent, ConversationStore } from "../core/ports.ts";
import { type ComposeSignal, EventFrames } from "./frames.ts";
import type { RealtimeLog } from "./log.ts";

/** One subscription as a feed sees it. */
export interface FeedSubscriber {
  /** The conversation followed, or null for the whole website. */
  readonly sessionId: string | null;
  /** Receives typing signals; one receiver may hold several subscriptions and gets each signal once. */
  readonly receiver: { compose(signal: ComposeSignal): void };
  /** Called once per event, in `website_seq` order, synchronously. */
  push(event: ConversationEvent, frames: EventFrames): void;
}

const READ_PAGE = 500;
// Locally committed events kept while a database read is in flight; past this they are read again.
const MAX_PENDING = 1_000;
const RETRY_MS = 1_000;

/**
 * The live tail of one website's log, shared by every subscriber of that website in this process.
 * It follows `website_seq` without gaps: events committed here arrive through `offer` and are used
 * as they are when they extend the tail; anything else (a notification from another process, a
 * hole) is read from the database once and fanned out to all subscribers.
 */
export class WebsiteFeed {
  readonly websiteId: string;
  readonly ready: Promise<void>;
  readonly #store: ConversationStore;
  readonly #log: RealtimeLog;
  readonly #website = new Set<FeedSubscriber>();
  readonly #conversations = new Map<string, Set<FeedSubscriber>>();
  readonly #pending = new Map<number, ConversationEvent>();
  /** Highest website_seq fanned out; -1 until the feed knows where the log ends. */
  #delivered = -1;
  /** Highest website_seq known to be committed. */
  #known = 0;
  #draining = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(websiteId: string, store: ConversationStore, log: RealtimeLog) {
    this.websiteId = websiteId;
    this.#store = store;
    this.#log = log;
    this.ready = this.#init();
  }

  get size(): number {
    let n = this.#website.size;
    for (const subs of this.#conversations.values()) n += subs.size;
    return n;
  }

  add(sub: FeedSubscriber): void {
    if (sub.sessionId === null) {
      this.#website.add(sub);
      return;
    }
    const subs = this.#conversations.get(sub.sessionId);
    if (subs) subs.add(sub);
    else this.#conversations.set(sub.sessionId, new Set([sub]));
  }

  remove(sub: FeedSubscriber): void {
    if (sub.sessionId === null) {
      this.#website.delete(sub);
      return;
    }
    const subs = this.#conversations.get(sub.sessionId);
    if (subs?.delete(sub) && subs.size === 0) this.#conversations.delete(sub.sessionId);
  }

  /** Events this process just committed (any order, possibly with holes). */
  offer(events: ConversationEvent[]): void {
    for (const event of events) {
      if (event.website_seq > this.#delivered) this.#pending.set(event.website_seq, event);
      if (event.website_seq > this.#known) this.#known = event.website_seq;
    }
    if (this.#pending.size > MAX_PENDING) this.#pending.clear();
    this.#drain();
  }

  /** A nudge: the log reached `websiteSeq` (another process, or a periodic resync). */
  nudge(websiteSeq: number): void {
    if (websiteSeq > this.#known) this.#known = websiteSeq;
    this.#drain();
  }

  compose(signal: ComposeSignal): void {
    const receivers = new Set<FeedSubscriber["receiver"]>();
    for (const sub of this.#website) receivers.add(sub.receiver);
    for (const sub of this.#conversations.get(signal.session_id) ?? []) receivers.add(sub.receiver);
    for (const receiver of receivers) receiver.compose(signal);
  }

  close(): void {
    this.#closed = true;
    this.#pending.clear();
    clearTimeout(this.#retry);
  }

  async #init(): Promise<void> {
    const head = await this.#store.lastSeq(this.websiteId);
    // A missing website has no events: subscribers find out from their own reads.
    this.#delivered = head ?? 0;
    if (this.#delivered > this.#known) this.#known = this.#delivered;
    for (const seq of this.#pending.keys()) if (seq <= this.#delivered) this.#pending.delete(seq);
    this.#drain();
  }

  #drain(): void {
    if (this.#draining || this.#closed || this.#delivered < 0 || this.#known <= this.#delivered) return;
    this.#draining = true;
    void this.#run();
  }

  async #run(): Promise<void> {
    try {
      while (!this.#closed && this.#known > this.#delivered) {
        const local = this.#pending.get(this.#delivered + 1);
        if (local) {
          this.#pending.delete(local.website_seq);
          this.#fanOut(local);
          continue;
        }
        const knownBefore = this.#known;
        const batch = await this.#store.readEvents(this.websiteId, {
          after: this.#delivered,
          limit: READ_PAGE,
        });
        if (this.#closed) break;
        // The log has no holes, so an empty read means the nudge was stale (unless a newer one came meanwhile).
        if (batch.length === 0 && this.#known === knownBefore) this.#known = this.#delivered;
        for (const event of batch) if (event.website_seq > this.#delivered) this.#fanOut(event);
        for (const seq of this.#pending.keys()) if (seq <= this.#delivered) this.#pending.delete(seq);
      }
    } catch (err) {
      if (this.#closed) {
        this.#draining = false;
        return;
      }
      this.#log.warn({ err, website_id: this.websiteId }, "realtime: reading the event log failed; retrying");
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#drain();
      }, RETRY_MS);
      this.#retry.unref();
    }
    // Synchronous after the last check: an offer racing the loop's end starts a new run.
    this.#draining = false;
  }

  #fanOut(event: ConversationEvent): void {
    this.#delivered = event.website_seq;
    const frames = new EventFrames(event);
    for (const sub of this.#website) sub.push(event, frames);
    if (event.session_id !== null) {
      for (const sub of this.#conversations.get(event.session_id) ?? []) sub.push(event, frames);
    }
  }
}
