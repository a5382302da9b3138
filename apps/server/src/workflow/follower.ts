import { AUTOMATED_INBOX } from "@hugo/protocol";
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
 * deployed start block listens to — or, for a visitor's message in the automated inbox, that the AI
 * agent answers — enqueues a `workflow.event` job in the conversation's lane —
 * in the same transaction that moves the cursor. Committed events wake it at once; a sweep every
 * 30 s catches events of other processes and of a process that died before waking it.
 */
export class WorkflowFollower implements Pick<EventSink, "committed"> {
  readonly #jobs: JobQueue;
  readonly #stores: Stores;
  /** Websites to follow, with the first log position that woke them (a website's first follow starts there). */
  readonly #pending = new Map<string, number | undefined>();
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
        for (const website of await this.#stores.workflows.websitesBehind()) {
          if (!this.#pending.has(website)) this.#pending.set(website, undefined);
        }
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
    for (const event of events) {
      if (!isFollowed(event)) continue;
      const from = this.#pending.get(event.website_id);
      this.#pending.set(event.website_id, Math.min(from ?? event.website_seq, event.website_seq));
    }
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

  /**
   * The job: forward the events after the cursor, batch by batch, moving the cursor with them. A
   * website followed for the first time starts at `from`, the event that woke it: its history is
   * never scanned.
   */
  async follow(websiteId: string, from?: number): Promise<void> {
    for (;;) {
      const more = await this.#stores.atomically(async () => {
        const store = this.#stores.workflows;
        let cursor = await store.getCursor(websiteId);
        if (cursor === undefined) {
          if (from === undefined) return false;
          cursor = from - 1;
          await store.setCursor(websiteId, cursor);
        }
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
          if (
            !listening.get(key) &&
            !(await store.findActiveRun(websiteId, event.session_id)) &&
            !(await this.#agentAnswers(websiteId, event))
          )
            continue;
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

  /** A visitor's message in a conversation the AI agent handles (the automated inbox). */
  async #agentAnswers(websiteId: string, event: ConversationEvent): Promise<boolean> {
    if (event.name !== "message:send" || !event.session_id) return false;
    const conversation = await this.#stores.conversations.find(websiteId, event.session_id);
    return conversation?.inbox_id === AUTOMATED_INBOX;
  }

  async #flush(): Promise<void> {
    this.#timer = undefined;
    const websites = [...this.#pending];
    this.#pending.clear();
    for (const [website_id, from] of websites) {
      await this.#jobs.enqueue(this.#stores, {
        kind: WORKFLOW_FOLLOW,
        payload: { website_id, ...(from === undefined ? {} : { from }) },
        queueKey: `wf-follow:${website_id}`,
      });
    }
  }
}
