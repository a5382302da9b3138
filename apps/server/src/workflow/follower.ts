import type { JobQueue } from "../core/jobs.ts";
import type { ConversationEvent, EventSink, Stores } from "../core/ports.ts";
import { sessionLane, startKindsFor, WORKFLOW_EVENT } from "./engine.ts";
import { isFollowed, type WorkflowEventInput } from "./events.ts";

export const WORKFLOW_FOLLOW = "workflow.follow";

const DEBOUNCE_MS = 5;
const SWEEP_MS = 30_000;
const BATCH = 200;

/**
 * Turns the website's event log into workflow input, durably: a per-website cursor over the log
 * (the transactional outbox the web hooks use too). A `workflow.follow` job reads the events after
 * the cursor and, for each visitor message, answer or contact change that a run waits for or a
 * deployed start block listens to, enqueues a `workflow.event` job in the conversation's lane —
 * in the same transaction that moves the cursor. Committed events wake it at once; a sweep every
 * 30 s catches events of other processes and of a process that died before waking it.
 */
export class WorkflowFollower implements Pick<EventSink, "committed"> {
  readonly #jobs: JobQueue;
  readonly #stores: Stores;
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #sweep: NodeJS.Timeout | undefined;
  #log: { warn(obj: object, msg: string): void } = { warn: () => {} };

  constructor(jobs: JobQueue, stores: Stores) {
    this.#jobs = jobs;
    this.#stores = stores;
  }

  async start(log: { warn(obj: object, msg: string): void }): Promise<void> {
    this.#log = log;
    const sweep = async () => {
      try {
        for (const website of await this.#stores.workflows.websitesBehind()) this.#pending.add(website);
        await this.#flush();
      } catch (err) {
        log.warn({ err }, "workflows: sweep failed");
      }
    };
    await sweep();
    this.#sweep = setInterval(() => void sweep(), SWEEP_MS);
    this.#sweep.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#sweep);
    clearTimeout(this.#timer);
  }

  committed(events: ConversationEvent[]): void {
    // Requests still draining at shutdown commit events; the next start's sweep picks them up.
    if (this.#stopped) return;
    for (const event of events) if (isFollowed(event)) this.#pending.add(event.website_id);
    if (this.#pending.size > 0 && !this.#timer) {
      this.#timer = setTimeout(() => {
        this.#flush().catch((err) => this.#log.warn({ err }, "workflows: could not enqueue a follow"));
      }, DEBOUNCE_MS);
      this.#timer.unref();
    }
  }

  /** Starts following a website from now on (its first deploy or test run): history is not replayed. */
  async watch(websiteId: string): Promise<void> {
    if ((await this.#stores.workflows.getCursor(websiteId)) !== undefined) return;
    await this.#stores.workflows.setCursor(
      websiteId,
      (await this.#stores.conversations.lastSeq(websiteId)) ?? 0,
    );
  }

  /** The job: forward the events after the cursor, batch by batch, moving the cursor with them. */
  async follow(websiteId: string): Promise<void> {
    for (;;) {
      const more = await this.#stores.atomically(async () => {
        const store = this.#stores.workflows;
        const cursor = await store.getCursor(websiteId);
        // A website without workflows is not followed: its history is never scanned.
        if (cursor === undefined) return false;
        const events = await this.#stores.conversations.readEvents(websiteId, {
          after: cursor,
          limit: BATCH,
        });
        if (events.length === 0) return false;
        const listening = new Map<string, boolean>();
        for (const event of events) {
          if (!event.session_id || !isFollowed(event)) continue;
          const kinds = startKindsFor(event.name);
          const key = kinds.join(",");
          if (!listening.has(key)) {
            listening.set(
              key,
              kinds.length > 0 && (await store.listDeployedByStart(websiteId, kinds)).length > 0,
            );
          }
          if (!listening.get(key) && !(await store.findActiveRun(websiteId, event.session_id))) continue;
          const input: WorkflowEventInput = {
            name: event.name,
            data: event.data,
            website_seq: event.website_seq,
            created_at: event.created_at,
          };
          await this.#jobs.enqueue(this.#stores, {
            kind: WORKFLOW_EVENT,
            payload: { website_id: websiteId, session_id: event.session_id, event: input },
            queueKey: sessionLane(event.session_id),
          });
        }
        await store.setCursor(websiteId, events.at(-1)!.website_seq);
        return events.length === BATCH;
      });
      if (!more) return;
    }
  }

  async #flush(): Promise<void> {
    this.#timer = undefined;
    const websites = [...this.#pending];
    this.#pending.clear();
    for (const website_id of websites) {
      await this.#jobs.enqueue(this.#stores, {
        kind: WORKFLOW_FOLLOW,
        payload: { website_id },
        queueKey: `wf-follow:${website_id}`,
      });
    }
  }
}
