import { randomUUID } from "node:crypto";
import type { EventFrame } from "@hugo/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS, type TestDatabase } from "../../test/databases.ts";
import { ConversationService } from "../core/conversations.ts";
import type { ConversationStore, EventSink, Stores } from "../core/ports.ts";
import { createStores } from "../db/stores.ts";
import type { ComposeSignal } from "./frames.ts";
import { Hub, type Notifier, type NotifyHandler } from "./hub.ts";
import { silentLog } from "./log.ts";
import { Subscription, type SubscriptionOwner } from "./subscription.ts";

/** Records what a subscription writes, as a socket would carry it. */
class Recorder implements SubscriptionOwner {
  readonly visitor = false;
  readonly buffered = 0;
  readonly lowWater = Number.POSITIVE_INFINITY;
  readonly gone = new Promise<void>(() => {});
  readonly events: EventFrame[] = [];
  subscribed = false;
  upTo = -1;
  error: unknown;
  send(frame: string): void {
    const f = JSON.parse(frame);
    if (f.type === "event") this.events.push(f);
    if (f.type === "subscribed") {
      this.subscribed = true;
      this.upTo = f.up_to;
    }
  }
  async sendTracked(frame: string): Promise<void> {
    this.send(frame);
  }
  compose(_signal: ComposeSignal): void {}
  failed(_sub: Subscription, error: unknown): void {
    this.error = error;
  }
}

/**
 * The store, counting reads of the log and optionally handing their results back late (a slow
 * database widens the window in which live events race a replay): instrumentation, not a fake.
 */
function counting(store: ConversationStore, lag?: () => number) {
  const counts = { readEvents: 0, lastSeq: 0 };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "readEvents" || prop === "lastSeq") counts[prop]++;
        const result = value.apply(target, args);
        if (prop !== "readEvents" || !lag) return result;
        const ms = lag();
        return result.then((r: unknown) => new Promise((resolve) => setTimeout(() => resolve(r), ms)));
      };
    },
  });
  return { store: proxy, counts };
}

/** Stands in for LISTEN/NOTIFY: the test decides when (and whether) a nudge from "another process" arrives. */
class ManualNotifier implements Notifier {
  handler!: NotifyHandler;
  async start(handler: NotifyHandler): Promise<void> {
    this.handler = handler;
  }
  publishEvents(): void {}
  publishCompose(): void {}
  async close(): Promise<void> {}
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A tiny seeded PRNG, so a failing interleaving can be replayed from its seed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each(DIALECTS)("realtime hub on $dialect", ({ fresh }) => {
  let tdb: TestDatabase;
  let stores: Stores;

  beforeAll(async () => {
    tdb = await fresh();
    stores = createStores(tdb.database.db, tdb.database.sqlite);
  });
  afterAll(() => tdb?.drop());

  async function setup(lag?: () => number) {
    const websiteId = randomUUID();
    await stores.websites.create({ id: websiteId, name: "Site", domain: "", created_at: 1 });
    const { store, counts } = counting(stores.conversations, lag);
    const notifier = new ManualNotifier();
    const hub = new Hub({ store, notifier });
    await hub.start(silentLog);
    // "This process" commits through the hub; "another process" commits without telling it.
    const local = new ConversationService(stores, hub);
    const foreignSink: EventSink = { committed: () => {}, compose: () => {} };
    const foreign = new ConversationService(stores, foreignSink);
    const subscribe = (sessionId: string | null, after?: number) => {
      const recorder = new Recorder();
      const sub = new Subscription(hub, store, recorder, websiteId, sessionId);
      const started = sub.start(after);
      return { recorder, sub, started, after };
    };
    return { websiteId, hub, notifier, counts, local, foreign, subscribe };
  }

  const say = (svc: ConversationService, websiteId: string, sessionId: string, content: string) =>
    svc.sendMessage(websiteId, sessionId, { type: "text", from: "user", origin: "chat", content });

  it("reads the log once per nudge, however many subscribers follow the website", async () => {
    const { websiteId, hub, notifier, counts, local, foreign, subscribe } = await setup();
    const conversation = await local.create(websiteId);
    const subs = Array.from({ length: 40 }, (_, i) => subscribe(i % 2 ? null : conversation.session_id));
    await Promise.all(subs.map((s) => s.started));
    await until("all live", () => subs.every((s) => s.recorder.subscribed));

    // Committed here: fanned out from memory, no read at all.
    const before = counts.readEvents;
    for (let i = 0; i < 5; i++) await say(local, websiteId, conversation.session_id, `local ${i}`);
    await until("local events", () => subs.every((s) => s.recorder.events.length === 5));
    expect(counts.readEvents).toBe(before);

    // Committed elsewhere: one nudge, one read, 40 deliveries.
    for (let i = 0; i < 5; i++) await say(foreign, websiteId, conversation.session_id, `foreign ${i}`);
    notifier.handler.events(websiteId, (await stores.conversations.lastSeq(websiteId))!);
    await until("foreign events", () => subs.every((s) => s.recorder.events.length === 10));
    expect(counts.readEvents).toBe(before + 1);
    expect(hub.stats()).toEqual({ websites: 1, subscriptions: 40 });
    for (const s of subs) s.sub.cancel();
    expect(hub.stats()).toEqual({ websites: 0, subscriptions: 0 });
  });

  it.each([1, 2, 3, 4, 5])(
    "gives every subscriber exactly the log after its cursor, whatever the interleaving (seed %i)",
    async (seed) => {
      const random = prng(seed);
      const { websiteId, hub, notifier, local, foreign, subscribe } = await setup(() =>
        Math.floor(random() * 4),
      );
      const conversations = [await local.create(websiteId), await local.create(websiteId)];
      const subs: ReturnType<typeof subscribe>[] = [];
      const nudges: Promise<void>[] = [];
      // Commits overlap each other and the subscriptions' replays: that is where races live.
      let inFlight: Promise<unknown>[] = [];
      for (let step = 0; step < 120; step++) {
        const r = random();
        const target = conversations[Math.floor(random() * 2)]!.session_id;
        if (r < 0.15) {
          // Subscribe mid-stream, from a random point of the past or from now.
          const sessionId = random() < 0.5 ? null : target;
          const head = (await stores.conversations.lastSeq(websiteId, sessionId ?? undefined)) ?? 0;
          subs.push(subscribe(sessionId, random() < 0.2 ? undefined : Math.floor(random() * (head + 1))));
        } else if (r < 0.55) {
          inFlight.push(say(local, websiteId, target, `step ${step}`));
        } else {
          inFlight.push(
            say(foreign, websiteId, target, `step ${step}`).then(async (message) => {
              // Nudges arrive late, out of order, or never.
              if (random() >= 0.7) return;
              const seq = (await stores.conversations.lastSeq(websiteId))!;
              const delay = Math.floor(random() * 20);
              nudges.push(
                new Promise((resolve) =>
                  setTimeout(() => {
                    notifier.handler.events(websiteId, seq);
                    resolve();
                  }, delay),
                ),
              );
              return message;
            }),
          );
        }
        if (random() < 0.25) {
          await Promise.all(inFlight);
          inFlight = [];
        }
      }
      await Promise.all(inFlight);
      await Promise.all(nudges);
      // What a reconnected listener (or the periodic resync) does: catch up on lost nudges.
      notifier.handler.resync();

      const websiteHead = (await stores.conversations.lastSeq(websiteId))!;
      for (const { recorder, sub, started, after } of subs) {
        await started;
        expect(recorder.error).toBeUndefined();
        const head =
          sub.sessionId === null
            ? websiteHead
            : (await stores.conversations.lastSeq(websiteId, sub.sessionId))!;
        const key = (e: EventFrame) => (sub.sessionId === null ? e.website_seq! : e.seq!);
        await until(
          "the subscriber to catch up",
          () =>
            recorder.subscribed &&
            Math.max(recorder.upTo, recorder.events.at(-1) ? key(recorder.events.at(-1)!) : -1) >= head,
        );
        const keys = recorder.events.map(key);
        // Nothing lost at the start either: from `after + 1`, or (from "now") no later than the live point.
        if (after !== undefined && after < head) expect(keys[0]).toBe(after + 1);
        if (keys.length > 0) expect(keys[0]).toBeLessThanOrEqual(recorder.upTo + 1);
        if (keys.length > 0) {
          // Exactly the log from its first event to the head: ordered, no hole, no duplicate.
          expect(keys).toEqual(keys.map((_, i) => keys[0]! + i));
          expect(keys.at(-1)).toBe(head);
          const expected = await stores.conversations.readEvents(websiteId, {
            sessionId: sub.sessionId ?? undefined,
            after: keys[0]! - 1,
            limit: 1_000,
          });
          expect(recorder.events.map((e) => [e.name, e.website_seq])).toEqual(
            expected.map((e) => [e.name, e.website_seq]),
          );
        }
      }
      await hub.close();
    },
  );
});
