import type { JobQueue } from "./jobs.ts";
import type { ConversationEvent, EventSink, Stores } from "./ports.ts";

const DEBOUNCE_MS = 100;
const SWEEP_MS = 30_000;
const HOUR = 3_600_000;

/**
 * Wakes web hook delivery. After events commit, it enqueues one `webhooks.dispatch` job per website
 * (debounced); a sweep every 30 s enqueues one for every website with hooks, which covers events
 * committed by another process or while a dispatch was finishing. Jobs of one website run one at a
 * time (queueKey); the jobKey (website + hour) dedupes bursts and still lets a new job start after a
 * job that keeps failing.
 */
export class WebhookTrigger implements Pick<EventSink, "committed"> {
  readonly #jobs: JobQueue;
  readonly #stores: Stores;
  readonly #websites: () => Promise<string[]>;
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #hooked = new Set<string>();
  #log: { warn(obj: object, msg: string): void } = { warn: () => {} };

  constructor(jobs: JobQueue, stores: Stores, websitesWithHooks: () => Promise<string[]>) {
    this.#jobs = jobs;
    this.#stores = stores;
    this.#websites = websitesWithHooks;
  }

  async start(log: { warn(obj: object, msg: string): void }): Promise<void> {
    this.#log = log;
    const sweep = async () => {
      try {
        this.#hooked = new Set(await this.#websites());
        for (const website of this.#hooked) this.#pending.add(website);
        await this.#flush();
      } catch (err) {
        log.warn({ err }, "webhooks: sweep failed");
      }
    };
    await sweep();
    this.#sweep = setInterval(() => void sweep(), SWEEP_MS);
    this.#sweep.unref();
  }

  /** A hook was created or removed here: follow the change at once. */
  async refresh(): Promise<void> {
    this.#hooked = new Set(await this.#websites());
  }

  committed(events: ConversationEvent[]): void {
    for (const event of events) if (this.#hooked.has(event.website_id)) this.#pending.add(event.website_id);
    if (this.#pending.size > 0 && !this.#timer) {
      this.#timer = setTimeout(() => {
        this.#flush().catch((err) => this.#log.warn({ err }, "webhooks: could not enqueue a dispatch"));
      }, DEBOUNCE_MS);
      this.#timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.#sweep);
    clearTimeout(this.#timer);
  }

  async #flush(): Promise<void> {
    this.#timer = undefined;
    const websites = [...this.#pending];
    this.#pending.clear();
    const hour = Math.floor(Date.now() / HOUR);
    for (const website_id of websites) {
      await this.#jobs.enqueue(this.#stores, {
        kind: "webhooks.dispatch",
        payload: { website_id },
        queueKey: `webhooks:${website_id}`,
        jobKey: `webhooks:${website_id}:${hour}`,
      });
    }
  }
}
