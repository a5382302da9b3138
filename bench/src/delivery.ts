import { performance } from "node:perf_hooks";
import type { RssInfo } from "./bench.ts";
import { buildPost, openLoop } from "./load.ts";
import type { BenchOptions } from "./options.ts";
import { type ServerProcess, sampleRss, settle } from "./procs.ts";
import { type LatencySummary, summarize } from "./stats.ts";
import { openSubscribers } from "./subscribers.ts";

export interface DeliveryResult {
  rate: number;
  subscribers: number;
  sent: number;
  delivered: number;
  missing: number;
  duplicates: number;
  /** Request written → event frame received on the subscribed socket, ms. */
  latency: LatencySummary;
  /** The request's own round trip, ms. */
  post: LatencySummary;
  postErrors: number;
  rss: RssInfo;
}

/** The request that makes `content` appear as a message in `session`. */
export type DeliveryRequest = (session: string, content: string) => { path: string; body: string };

/** Hugo's and B4's send-message request: a visitor's text message. */
export const postMessage =
  (pathFor: (session: string) => string): DeliveryRequest =>
  (session, content) => ({
    path: pathFor(session),
    body: JSON.stringify({ type: "text", from: "user", origin: "chat", content }),
  });

/**
 * One subscriber per conversation; requests go round-robin over the conversations at `rate` per
 * second, each making a message that carries its send time (`bench:<i>:<performance.now()>`, same
 * process and clock as the receiving socket). Measures request written → `message:*` frame received.
 */
export async function measureDelivery(
  proc: ServerProcess,
  wsUrl: string,
  headers: Record<string, string>,
  sessions: string[],
  request: DeliveryRequest,
  rate: number,
  options: Pick<BenchOptions, "durationS" | "warmupS">,
): Promise<DeliveryResult> {
  const total = Math.max(1, Math.round(rate * options.durationS));
  const latencies = new Float64Array(total).fill(Number.NaN);
  let duplicates = 0;
  const subs = await openSubscribers({
    url: wsUrl,
    headers,
    sessions,
    count: sessions.length,
    concurrency: 10,
    onFrame(frame) {
      if (frame.type !== "event" || !frame.name?.startsWith("message:")) return;
      const content = (frame.data as { content?: unknown } | undefined)?.content;
      if (typeof content !== "string" || !content.startsWith("bench:")) return;
      const now = performance.now();
      const [, i, t] = content.split(":");
      const index = Number(i);
      if (!(index >= 0 && index < total)) return;
      if (Number.isNaN(latencies[index]!)) latencies[index] = now - Number(t);
      else duplicates++;
    },
  });
  if (subs.ok < sessions.length) {
    await subs.close();
    throw new Error(`only ${subs.ok}/${sessions.length} delivery subscribers connected: ${subs.firstError}`);
  }
  const target = proc.target;
  const post = (content: (i: number) => string) => (i: number) => {
    const r = request(sessions[i % sessions.length]!, content(i));
    return buildPost(target, r.path, headers, r.body);
  };
  try {
    if (options.warmupS > 0)
      await openLoop(target, {
        connections: 8,
        rate,
        durationS: Math.min(options.warmupS, 2),
        build: post(() => "warm-up"),
      });
    const before = proc.rss();
    const stop = sampleRss(proc.pid);
    const http = await openLoop(target, {
      connections: 8,
      rate,
      durationS: options.durationS,
      build: post((i) => `bench:${i}:${performance.now().toFixed(3)}`),
    });
    // Let the last frames arrive.
    const deadline = performance.now() + 2_000;
    const count = () => latencies.reduce((n, v) => (Number.isNaN(v) ? n : n + 1), 0);
    while (count() < http.ok && performance.now() < deadline) await settle(50);
    const rss = { before, peak: stop().peak };
    const got = latencies.filter((v) => !Number.isNaN(v));
    return {
      rate,
      subscribers: subs.ok,
      sent: http.ok,
      delivered: got.length,
      missing: http.ok - got.length,
      duplicates,
      latency: summarize(got),
      post: http.service,
      postErrors: http.errors + http.non2xx,
      rss,
    };
  } finally {
    await subs.close();
  }
}
