import type { ConversationEvent, ConversationStore, EventSink } from "../core/ports.ts";
import type { ComposeSignal } from "./frames.ts";
import { type RealtimeLog, silentLog } from "./log.ts";
import { type FeedSubscriber, WebsiteFeed } from "./website-feed.ts";

export type { ComposeSignal } from "./frames.ts";

/** What the hub hears from other processes. */
export interface NotifyHandler {
  /** The website's log reached `websiteSeq`. */
  events(websiteId: string, websiteSeq: number): void;
  compose(websiteId: string, signal: ComposeSignal): void;
  /** Notifications may have been missed (the listener reconnected): re-read where each log ends. */
  resync(): void;
}

/** Cross-process nudges (PostgreSQL LISTEN/NOTIFY). Only a hint: the log stays the truth. */
export interface Notifier {
  start(handler: NotifyHandler, log: RealtimeLog): Promise<void>;
  publishEvents(websiteId: string, websiteSeq: number): void;
  publishCompose(websiteId: string, signal: ComposeSignal): void;
  close(): Promise<void>;
}

export interface HubOptions {
  store: ConversationStore;
  /** Absent on SQLite: one process, in-process fan-out is all there is. */
  notifier?: Notifier | undefined;
  /** With a notifier: how often every followed website's log end is re-read, in case a nudge was lost. */
  resyncIntervalMs?: number;
}

/**
 * Realtime fan-out. Core services report committed events and typing signals here (EventSink);
 * subscriptions attach to one feed per website, which follows the log and fans each event out
 * once. Other processes are told through the notifier, and their nudges make feeds read the log.
 */
export class Hub implements EventSink {
  readonly #store: ConversationStore;
  readonly #notifier: Notifier | undefined;
  readonly #resyncIntervalMs: number;
  readonly #feeds = new Map<string, WebsiteFeed>();
  #log: RealtimeLog = silentLog;
  #resyncTimer: NodeJS.Timeout | undefined;

  constructor(options: HubOptions) {
    this.#store = options.store;
    this.#notifier = options.notifier;
    this.#resyncIntervalMs = options.resyncIntervalMs ?? 30_000;
  }

  /** Starts listening to other processes. */
  async start(log: RealtimeLog): Promise<void> {
    this.#log = log;
    if (!this.#notifier) return;
    await this.#notifier.start(
      {
        events: (websiteId, websiteSeq) => this.#feeds.get(websiteId)?.nudge(websiteSeq),
        compose: (websiteId, signal) => this.#feeds.get(websiteId)?.compose(signal),
        resync: () => this.#resync(),
      },
      log,
    );
    this.#resyncTimer = setInterval(() => this.#resync(), this.#resyncIntervalMs);
    this.#resyncTimer.unref();
  }

  committed(events: ConversationEvent[]): void {
    const byWebsite = new Map<string, ConversationEvent[]>();
    for (const event of events) {
      const list = byWebsite.get(event.website_id);
      if (list) list.push(event);
      else byWebsite.set(event.website_id, [event]);
    }
    for (const [websiteId, list] of byWebsite) {
      this.#feeds.get(websiteId)?.offer(list);
      this.#notifier?.publishEvents(websiteId, Math.max(...list.map((e) => e.website_seq)));
    }
  }

  compose(websiteId: string, signal: ComposeSignal): void {
    this.#feeds.get(websiteId)?.compose(signal);
    this.#notifier?.publishCompose(websiteId, signal);
  }

  /**
   * Registers a subscriber with the website's feed and waits until the feed knows where the log
   * ends. Every event after that point reaches the subscriber, so a replay read started after this
   * returns overlaps the live stream and leaves no gap.
   */
  async attach(websiteId: string, sub: FeedSubscriber): Promise<void> {
    let feed = this.#feeds.get(websiteId);
    if (!feed) {
      const created = new WebsiteFeed(websiteId, this.#store, this.#log);
      this.#feeds.set(websiteId, created);
      created.ready.catch(() => {
        created.close();
        if (this.#feeds.get(websiteId) === created) this.#feeds.delete(websiteId);
      });
      feed = created;
    }
    feed.add(sub);
    try {
      await feed.ready;
    } catch (err) {
      feed.remove(sub);
      throw err;
    }
  }

  detach(websiteId: string, sub: FeedSubscriber): void {
    const feed = this.#feeds.get(websiteId);
    if (!feed) return;
    feed.remove(sub);
    if (feed.size === 0) {
      feed.close();
      this.#feeds.delete(websiteId);
    }
  }

  stats(): { websites: number; subscriptions: number } {
    let subscriptions = 0;
    for (const feed of this.#feeds.values()) subscriptions += feed.size;
    return { websites: this.#feeds.size, subscriptions };
  }

  async close(): Promise<void> {
    clearInterval(this.#resyncTimer);
    for (const feed of this.#feeds.values()) feed.close();
    this.#feeds.clear();
    await this.#notifier?.close();
  }

  #resync(): void {
    for (const [websiteId, feed] of this.#feeds) {
      this.#store.lastSeq(websiteId).then(
        (seq) => {
          if (seq !== undefined) feed.nudge(seq);
        },
        (err) => this.#log.warn({ err, website_id: websiteId }, "realtime: resync failed"),
      );
    }
  }
}
