/**
 * The inbox phase (issue: operator dashboard, "stays fast with 10,000 conversations"), on SQLite and
 * PostgreSQL: `--inbox-conversations` conversations, each with a visitor message, created over the
 * Crisp API (8 requests in flight); then, one request after another, what the dashboard's inbox asks:
 *
 * - the first page (`GET /api/conversations?limit=50`), as the inbox opens;
 * - every page of the whole list by cursor (`limit=100`), so deep pages are measured too;
 * - a text search (`q=`), and the badges (`/api/conversations/counts`).
 *
 * ms from the request written to the response parsed.
 */
import { performance } from "node:perf_hooks";
import pg from "pg";
import { Api } from "./agent-turns.ts";
import type { Skipped } from "./bench.ts";
import { type RunningHugo, withHugoOn } from "./hugo.ts";
import type { BenchOptions, Dialect } from "./options.ts";
import { type LatencySummary, summarize } from "./stats.ts";

/** The target: a page of the inbox, first or deep, answers within this at p99. */
export const INBOX_PAGE_P99_LIMIT_MS = 50;
const IN_FLIGHT = 8;
const FIRST_PAGES = 200;
const SEARCHES = 100;
const COUNTS = 100;

export interface InboxDialectResult {
  conversations: number;
  /** Conversations (and their first message) created per second over the Crisp API. */
  seedPerS: number;
  firstPage: LatencySummary;
  /** Every page of the whole list by cursor, 100 a page. */
  walk: { pages: number; seen: number; latency: LatencySummary };
  search: LatencySummary;
  counts: LatencySummary;
}

export interface InboxResults {
  sqlite?: InboxDialectResult | Skipped;
  postgres?: InboxDialectResult | Skipped;
}

type Json = { data?: Record<string, unknown> } | undefined;

async function seed(hugo: RunningHugo, api: Api, n: number): Promise<number> {
  const site = `/v1/website/${hugo.seed.websiteId}`;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const created = await api.request("POST", `${site}/conversation`, "{}");
      const sessionId = (created.json as Json)?.data?.session_id as string | undefined;
      if (!sessionId) throw new Error(`creating a conversation answered ${created.status}`);
      const sent = await api.request(
        "POST",
        `${site}/conversation/${sessionId}/message`,
        JSON.stringify({
          type: "text",
          from: "user",
          origin: "chat",
          content: `Order ${1000 + i}: where is my parcel number ${i}?`,
        }),
      );
      if (sent.status !== 202 && sent.status !== 200 && sent.status !== 201)
        throw new Error(`sending a message answered ${sent.status}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return n / ((performance.now() - started) / 1000);
}

async function timed(api: Api, path: string): Promise<{ ms: number; data: Record<string, unknown> }> {
  const res = await api.request("GET", path);
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
  return { ms: res.ms, data: (res.json as Json)?.data ?? {} };
}

async function benchDialect(dialect: Dialect, options: BenchOptions): Promise<InboxDialectResult | Skipped> {
  const log = options.log;
  return withHugoOn(dialect, options, async (hugo) => {
    const api = new Api(hugo, IN_FLIGHT);
    const n = options.inboxConversations;
    log(`Hugo on ${dialect}: ${n.toLocaleString("en-US")} conversations with a visitor message (Crisp API)`);
    const seedPerS = await seed(hugo, api, n);
    if (hugo.databaseUrl) {
      // What autovacuum does after a bulk insert: the steady state, not the minute after it.
      const client = new pg.Client({ connectionString: hugo.databaseUrl });
      await client.connect();
      await client.query("vacuum (analyze) conversations");
      await client.end();
    }
    const first: number[] = [];
    for (let i = 0; i < FIRST_PAGES; i++) first.push((await timed(api, "/api/conversations?limit=50")).ms);
    const walk: number[] = [];
    let seen = 0;
    let cursor: string | null = null;
    do {
      const page = await timed(api, `/api/conversations?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
      walk.push(page.ms);
      seen += (page.data.conversations as unknown[]).length;
      cursor = page.data.next_cursor as string | null;
    } while (cursor);
    if (seen < n) throw new Error(`the cursor walk saw ${seen} of ${n} conversations`);
    const search: number[] = [];
    for (let i = 0; i < SEARCHES; i++)
      search.push(
        (
          await timed(
            api,
            `/api/conversations?limit=50&q=${encodeURIComponent(`parcel number ${(i * 97) % n}`)}`,
          )
        ).ms,
      );
    const counts: number[] = [];
    for (let i = 0; i < COUNTS; i++) counts.push((await timed(api, "/api/conversations/counts")).ms);
    const result = {
      conversations: n,
      seedPerS,
      firstPage: summarize(first),
      walk: { pages: walk.length, seen, latency: summarize(walk) },
      search: summarize(search),
      counts: summarize(counts),
    };
    log(
      `    first page p50 ${result.firstPage.p50.toFixed(1)} / p99 ${result.firstPage.p99.toFixed(1)} ms; ` +
        `${walk.length} pages by cursor p99 ${result.walk.latency.p99.toFixed(1)} ms; ` +
        `search p99 ${result.search.p99.toFixed(1)} ms; counts p99 ${result.counts.p99.toFixed(1)} ms`,
    );
    return result;
  });
}

/** The inbox phase on each selected database. */
export async function runInboxBench(options: BenchOptions): Promise<InboxResults> {
  const results: InboxResults = {};
  for (const dialect of options.dialects) results[dialect] = await benchDialect(dialect, options);
  return results;
}
