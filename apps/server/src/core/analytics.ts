import type { Analytics, AnalyticsQuery, TurnTrace } from "@hugo/protocol";
import { AppError } from "./errors.ts";
import type { Stores } from "./ports.ts";

const DAY_MS = 24 * 3600 * 1000;
const BUCKET_MS = { day: DAY_MS, week: 7 * DAY_MS } as const;
/** A chart of more points than this is unreadable and a sign of a mistaken window. */
const MAX_BUCKETS = 400;
/** Escalated turns read to rank the unanswered questions (the newest ones). */
const UNANSWERED_SCAN = 5000;

/** Questions that differ only in case, spacing or final punctuation count as one. */
const normalise = (q: string) =>
  q
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/[\s?!.…]+$/u, "")
    .trim();

/**
 * The dashboard's analytics for one website: conversations over time, the agent's turns by outcome
 * (answered by itself vs handed to a human), workflow runs and their completion, and the questions
 * the agent escalated most often. Buckets are UTC days or weeks from the window's start.
 */
export class AnalyticsService {
  readonly #stores: Stores;
  constructor(stores: Stores) {
    this.#stores = stores;
  }

  async overview(websiteId: string, query: AnalyticsQuery, now = Date.now()): Promise<Analytics> {
    const bucketMs = BUCKET_MS[query.interval];
    const to = query.to ?? now;
    // By default the last 30 days, from a UTC midnight so that buckets are calendar days.
    const from = query.from ?? Math.floor((to - 30 * DAY_MS) / DAY_MS) * DAY_MS;
    if (from >= to) throw new AppError("invalid_query", "`from` must be before `to`.", { field: "from" });
    const buckets = Math.ceil((to - from) / bucketMs);
    if (buckets > MAX_BUCKETS)
      throw new AppError(
        "invalid_query",
        `The window holds ${buckets} ${query.interval}s; at most ${MAX_BUCKETS} (use a shorter window or weeks).`,
        { field: "from" },
      );
    const a = this.#stores.analytics;
    const [conversations, turns, runs, escalated, workflows] = await Promise.all([
      a.conversationsPerBucket(websiteId, from, to, bucketMs),
      a.turnsPerBucket(websiteId, from, to, bucketMs),
      a.runsPerBucket(websiteId, from, to, bucketMs),
      a.escalatedTurns(websiteId, from, to, UNANSWERED_SCAN),
      this.#stores.workflows.list(websiteId),
    ]);

    const series = Array.from({ length: buckets }, (_, i) => ({
      start: from + i * bucketMs,
      conversations: 0,
      answered: 0,
      escalated: 0,
      routed: 0,
      failed: 0,
      runs: 0,
      runs_completed: 0,
    }));
    for (const c of conversations) if (series[c.bucket]) series[c.bucket]!.conversations += c.n;
    for (const t of turns) {
      const b = series[t.bucket];
      if (
        b &&
        (t.status === "answered" ||
          t.status === "escalated" ||
          t.status === "routed" ||
          t.status === "failed")
      )
        b[t.status] += t.n;
    }
    const names = new Map(workflows.map((w) => [w.id, w.name]));
    const perWorkflow = new Map<
      string,
      { runs: number; completed: number; failed: number; cancelled: number; active: number }
    >();
    for (const r of runs) {
      const b = series[r.bucket];
      if (b) {
        b.runs += r.n;
        if (r.status === "completed") b.runs_completed += r.n;
      }
      const w = perWorkflow.get(r.workflow_id) ?? {
        runs: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
        active: 0,
      };
      w.runs += r.n;
      if (r.status === "completed") w.completed += r.n;
      else if (r.status === "failed") w.failed += r.n;
      else if (r.status === "cancelled") w.cancelled += r.n;
      else w.active += r.n;
      perWorkflow.set(r.workflow_id, w);
    }

    const sum = (key: keyof (typeof series)[number]) =>
      series.reduce((n, b) => n + (key === "start" ? 0 : b[key]), 0);
    const totals = {
      conversations: sum("conversations"),
      answered: sum("answered"),
      escalated: sum("escalated"),
      routed: sum("routed"),
      failed: sum("failed"),
      handled_rate: null as number | null,
      runs: sum("runs"),
      runs_completed: sum("runs_completed"),
    };
    const decided = totals.answered + totals.escalated + totals.routed;
    totals.handled_rate = decided > 0 ? totals.answered / decided : null;

    // Escalated turns come newest first: the first one seen of a question is its latest.
    const questions = new Map<
      string,
      { question: string; count: number; last_at: number; session_id: string }
    >();
    for (const turn of escalated) {
      const asked = turn.trace ? (JSON.parse(turn.trace) as TurnTrace).queries[0] : undefined;
      if (!asked?.trim()) continue;
      const key = normalise(asked);
      const seen = questions.get(key);
      if (seen) seen.count += 1;
      else
        questions.set(key, {
          question: asked.trim(),
          count: 1,
          last_at: turn.created_at,
          session_id: turn.session_id,
        });
    }
    const unanswered = [...questions.values()]
      .sort((x, y) => y.count - x.count || y.last_at - x.last_at)
      .slice(0, query.top);

    return {
      from,
      to,
      interval: query.interval,
      totals,
      series,
      workflows: [...perWorkflow.entries()]
        .map(([workflow_id, w]) => {
          const ended = w.completed + w.failed + w.cancelled;
          return {
            workflow_id,
            name: names.get(workflow_id) ?? "(deleted workflow)",
            ...w,
            completion_rate: ended > 0 ? w.completed / ended : null,
          };
        })
        .sort((x, y) => y.runs - x.runs || x.name.localeCompare(y.name)),
      unanswered,
    };
  }
}
