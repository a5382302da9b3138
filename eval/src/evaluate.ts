/**
 * Drives one target over one loaded set: ingest each KB fresh, search (and decide) every query,
 * and turn the per-query outcomes into a report with 95% intervals and the PASS/MISS targets.
 */
import type { EvalQuery, EvalSet } from "./datasets.ts";
import {
  auroc,
  bestThreshold,
  bootstrapAuroc,
  confusion,
  type Estimate,
  firstRelevantRank,
  hitAt,
  meanEstimate,
  ndcgAt,
  type OperatingPoint,
  proportionEstimate,
  quantile,
  recallAt,
  reciprocalRankAt,
} from "./metrics.ts";
import type { AgentDecision, EvalTarget, SearchHit } from "./target.ts";

/** Options of {@link evaluateSet}. */
export interface EvaluateOptions {
  /** Cutoff for Hit@k / Recall@k; the search depth is max(k, 10). */
  k: number;
  /** Evaluate only this many queries, a deterministic spread over the set (smoke runs). */
  limit?: number;
  /** Call `decide` when the target has it. */
  decide: boolean;
  /** Queries in flight at once (a target backed by a model may want a few). */
  concurrency: number;
  /** The false-escalation budget for the best-threshold operating point. */
  maxFalseEscalation: number;
  log?: (line: string) => void;
}

/** What happened to one query. */
export interface QueryOutcome {
  id: string;
  kb?: string;
  label?: string;
  answerable: boolean;
  clarify?: boolean;
  /** 1-based rank of the first relevant document in the search results (null: not found or none judged). */
  rank: number | null;
  top: string[];
  intent?: string;
  predictedIntent?: string;
  answered?: boolean;
  confidence?: number;
}

/** Answer-or-escalate quality at the target's own decision and at the best threshold. */
export interface DecisionReport {
  /** Queries scored (clarify turns are left out). */
  n: number;
  answerable: number;
  unanswerable: number;
  /** P(confidence of an answerable query > that of an unanswerable one); stratified bootstrap interval. */
  auroc: Estimate;
  /** Share of unanswerable / out-of-scope queries escalated. */
  escalationRecall: Estimate;
  /** Share of escalations that were unanswerable. */
  escalationPrecision: Estimate;
  /** Share of answerable queries escalated. */
  falseEscalation: Estimate;
  /**
   * Best escalation recall with false-escalation ≤ the budget: escalate when confidence ≤ `confidenceAtMost`
   * (null without both answerable and unanswerable queries).
   */
  best: (OperatingPoint & { maxFalseEscalation: number; confidenceAtMost: number }) | null;
  /** Answer rate per dataset label (e.g. mtragun's UNDERSPECIFIED turns, left out above). */
  byLabel: Record<string, { n: number; answered: number }>;
  latencyMs: { p50: number; p95: number };
}

/** Intent-set figures (clinc150, banking77). */
export interface IntentReport {
  /** In-scope queries whose top hit has the gold intent (retrieval only). */
  top1Accuracy: Estimate;
  /** In-scope queries answered AND whose top hit has the gold intent (needs decide). */
  inScopeAccuracy?: Estimate;
  /** Out-of-scope queries escalated (needs decide). */
  oosRecall?: Estimate;
}

/** PASS / MISS / NOT MEASURED for one of the project's answer-quality targets. */
export interface TargetCheck {
  id: string;
  set: string;
  description: string;
  status: "PASS" | "MISS" | "NOT MEASURED";
  measured: string;
}

/** Everything `npm run eval` writes for one set. */
export interface SetReport {
  set: string;
  target: string;
  date: string;
  dataFolder: string;
  k: number;
  limit: number | null;
  notes: string;
  counts: {
    docs: number;
    queries: number;
    answerable: number;
    unanswerable: number;
    clarify: number;
    kbs: string[];
  };
  ingest: {
    passages: number;
    ms: number;
    passagesPerSecond: number;
    perKb: { kb: string; docs: number; passages: number; ms: number }[];
  };
  retrieval: {
    /** Queries with at least one relevant document. */
    n: number;
    metrics: Record<string, Estimate>;
    byKb: Record<string, Record<string, Estimate>>;
    latencyMs: { p50: number; p95: number };
  };
  decision: DecisionReport | null;
  intent: IntentReport | null;
  targets: TargetCheck[];
  seconds: number;
  queries: QueryOutcome[];
}

/** A spread-out, deterministic subset: queries ordered by a hash of their id. */
export function limitQueries(queries: EvalQuery[], limit: number | undefined): EvalQuery[] {
  if (limit === undefined || limit >= queries.length) return queries;
  const keyed = queries.map((q) => ({ q, key: fnv1a(q.id) }));
  keyed.sort((a, b) => a.key - b.key || (a.q.id < b.q.id ? -1 : 1));
  const keep = new Set(keyed.slice(0, limit).map((x) => x.q));
  return queries.filter((q) => keep.has(q));
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

async function mapPool<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return out;
}

/** Hit@k for these cutoffs, MRR@10, nDCG@10 and Recall@k. */
function retrievalCutoffs(k: number): { hits: number[]; recalls: number[] } {
  return {
    hits: [...new Set([1, 5, 10, k])].sort((a, b) => a - b),
    recalls: [...new Set([10, k])].sort((a, b) => a - b),
  };
}

function retrievalMetrics(
  rows: { ranking: string[]; relevant: Record<string, number> }[],
  k: number,
): Record<string, Estimate> {
  const { hits, recalls } = retrievalCutoffs(k);
  const metrics: Record<string, Estimate> = {};
  for (const c of hits) metrics[`Hit@${c}`] = meanEstimate(rows.map((r) => hitAt(r.ranking, r.relevant, c)));
  metrics["MRR@10"] = meanEstimate(rows.map((r) => reciprocalRankAt(r.ranking, r.relevant, 10)));
  metrics["nDCG@10"] = meanEstimate(rows.map((r) => ndcgAt(r.ranking, r.relevant, 10)));
  for (const c of recalls)
    metrics[`Recall@${c}`] = meanEstimate(rows.map((r) => recallAt(r.ranking, r.relevant, c)));
  return metrics;
}

const latency = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
};

/** Runs `target` over `set` and builds the report (the caller owns `target` and closes it). */
export async function evaluateSet(
  set: EvalSet,
  target: EvalTarget,
  options: EvaluateOptions & { dataFolder: string },
): Promise<SetReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const queries = limitQueries(set.queries, options.limit);
  const depth = Math.max(options.k, 10);
  const useDecide = options.decide && typeof target.decide === "function";
  const docIntent = new Map(set.docs.filter((d) => d.intent).map((d) => [d.id, d.intent!]));

  const kbs = [...new Set(set.docs.map((d) => d.kb))];
  const perKb: SetReport["ingest"]["perKb"] = [];
  const hitsById = new Map<string, SearchHit[]>();
  const decisionById = new Map<string, AgentDecision>();
  const searchMs: number[] = [];
  const decideMs: number[] = [];
  for (const kb of kbs) {
    const kbQueries = queries.filter((q) => q.kb === kb);
    // A KB nobody asks about (a --limit run) is not worth ingesting.
    if (kbQueries.length === 0) continue;
    const docs = set.docs.filter((d) => d.kb === kb);
    const kbName = kb ?? set.name;
    log(`${set.name}: ingesting ${docs.length} documents${kb ? ` (kb ${kb})` : ""}`);
    const ingested = await target.ingest(docs, kb);
    perKb.push({ kb: kbName, docs: docs.length, ...ingested });
    log(`${set.name}: ${kbQueries.length} queries${useDecide ? " (search + decide)" : ""}`);
    await mapPool(kbQueries, options.concurrency, async (q) => {
      const t0 = performance.now();
      hitsById.set(q.id, await target.search(q, depth));
      searchMs.push(performance.now() - t0);
      if (useDecide) {
        const t1 = performance.now();
        decisionById.set(q.id, await target.decide!(q));
        decideMs.push(performance.now() - t1);
      }
    });
  }

  const outcomes: QueryOutcome[] = queries.map((q) => {
    const ranking = (hitsById.get(q.id) ?? []).map((h) => h.docId);
    const decision = decisionById.get(q.id);
    const top = ranking[0];
    const outcome: QueryOutcome = {
      id: q.id,
      answerable: q.answerable,
      rank: firstRelevantRank(ranking, q.relevant) ?? null,
      top: ranking.slice(0, 5),
    };
    if (q.kb !== undefined) outcome.kb = q.kb;
    if (q.label !== undefined) outcome.label = q.label;
    if (q.clarify) outcome.clarify = true;
    if (q.intent !== undefined) {
      outcome.intent = q.intent;
      const predicted = top === undefined ? undefined : docIntent.get(top);
      if (predicted !== undefined) outcome.predictedIntent = predicted;
    }
    if (decision) {
      outcome.answered = decision.answered;
      outcome.confidence = decision.confidence;
    }
    return outcome;
  });

  const judged = queries.filter((q) => Object.values(q.relevant).some((g) => g > 0));
  const rows = judged.map((q) => ({
    q,
    ranking: (hitsById.get(q.id) ?? []).map((h) => h.docId),
    relevant: q.relevant,
  }));
  const byKb: Record<string, Record<string, Estimate>> = {};
  if (kbs.length > 1)
    for (const kb of kbs) {
      const kbRows = rows.filter((r) => r.q.kb === kb);
      if (kbRows.length > 0) byKb[kb ?? set.name] = retrievalMetrics(kbRows, options.k);
    }

  const ingestMs = perKb.reduce((s, p) => s + p.ms, 0);
  const passages = perKb.reduce((s, p) => s + p.passages, 0);
  const report: SetReport = {
    set: set.name,
    target: target.name,
    date: new Date().toISOString(),
    dataFolder: options.dataFolder,
    k: options.k,
    limit: options.limit !== undefined && options.limit < set.queries.length ? options.limit : null,
    notes: set.notes,
    counts: {
      docs: set.docs.length,
      queries: queries.length,
      answerable: queries.filter((q) => q.answerable).length,
      unanswerable: queries.filter((q) => !q.answerable).length,
      clarify: queries.filter((q) => q.clarify).length,
      kbs: kbs.map((kb) => kb ?? set.name),
    },
    ingest: {
      passages,
      ms: ingestMs,
      passagesPerSecond: ingestMs > 0 ? passages / (ingestMs / 1000) : Number.NaN,
      perKb,
    },
    retrieval: {
      n: rows.length,
      metrics: retrievalMetrics(rows, options.k),
      byKb,
      latencyMs: latency(searchMs),
    },
    decision: useDecide ? decisionReport(queries, decisionById, decideMs, options.maxFalseEscalation) : null,
    intent: intentReport(outcomes, useDecide),
    targets: [],
    seconds: 0,
    queries: outcomes,
  };
  report.targets = checkTargets(report);
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

function decisionReport(
  queries: EvalQuery[],
  decisions: Map<string, AgentDecision>,
  decideMs: number[],
  maxFalseEscalation: number,
): DecisionReport {
  const byLabel: DecisionReport["byLabel"] = {};
  for (const q of queries) {
    const d = decisions.get(q.id)!;
    const key = q.label ?? (q.answerable ? "answerable" : "unanswerable");
    const row = byLabel[key] ?? { n: 0, answered: 0 };
    byLabel[key] = row;
    row.n++;
    if (d.answered) row.answered++;
  }
  const scored = queries.filter((q) => !q.clarify);
  const shouldEscalate = scored.map((q) => !q.answerable);
  const confidence = scored.map((q) => decisions.get(q.id)!.confidence);
  const escalated = scored.map((q) => !decisions.get(q.id)!.answered);
  const c = confusion(escalated, shouldEscalate);
  const nPos = c.tp + c.fn;
  const nNeg = c.fp + c.tn;
  // AUROC is symmetric: confidence separating answerable from not = −confidence separating escalations.
  const answerable = shouldEscalate.map((e) => !e);
  const best = bestThreshold(
    confidence.map((x) => -x),
    shouldEscalate,
    maxFalseEscalation,
  );
  return {
    n: scored.length,
    answerable: nNeg,
    unanswerable: nPos,
    auroc: {
      value: auroc(confidence, answerable),
      ...bootstrapAuroc(confidence, answerable),
      n: scored.length,
    },
    escalationRecall: proportionEstimate(c.tp, nPos),
    escalationPrecision: proportionEstimate(c.tp, c.tp + c.fp),
    falseEscalation: proportionEstimate(c.fp, nNeg),
    best: nPos > 0 && nNeg > 0 ? { ...best, maxFalseEscalation, confidenceAtMost: -best.threshold } : null,
    byLabel,
    latencyMs: latency(decideMs),
  };
}

function intentReport(outcomes: QueryOutcome[], withDecisions: boolean): IntentReport | null {
  const withIntent = outcomes.filter((o) => o.intent !== undefined);
  if (withIntent.length === 0) return null;
  const inScope = withIntent.filter((o) => o.intent !== "oos");
  const oos = withIntent.filter((o) => o.intent === "oos");
  const correct = (o: QueryOutcome) => o.predictedIntent === o.intent;
  const report: IntentReport = {
    top1Accuracy: proportionEstimate(inScope.filter(correct).length, inScope.length),
  };
  if (withDecisions) {
    report.inScopeAccuracy = proportionEstimate(
      inScope.filter((o) => correct(o) && o.answered).length,
      inScope.length,
    );
    if (oos.length > 0)
      report.oosRecall = proportionEstimate(oos.filter((o) => !o.answered).length, oos.length);
  }
  return report;
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "n/a");

interface TargetSpec {
  id: string;
  set: string;
  description: string;
  check(r: SetReport): { status: TargetCheck["status"]; measured: string };
}

const notMeasured = (why: string) => ({ status: "NOT MEASURED" as const, measured: why });
const verdict = (ok: boolean) => (ok ? ("PASS" as const) : ("MISS" as const));

/** The project's answer-quality targets; every report lists all of them. */
export const TARGETS: readonly TargetSpec[] = [
  {
    id: "scifact-ndcg",
    set: "scifact",
    description: "SciFact nDCG@10 ≥ 0.65",
    check(r) {
      const m = r.retrieval.metrics["nDCG@10"];
      if (!m || !Number.isFinite(m.value)) return notMeasured("no judged queries");
      return { status: verdict(m.value >= 0.65), measured: `nDCG@10 ${f3(m.value)}` };
    },
  },
  {
    id: "stackfaq-mrr",
    set: "stackfaq",
    description: "StackFAQ MRR@10 ≥ 0.80",
    check(r) {
      const m = r.retrieval.metrics["MRR@10"];
      if (!m || !Number.isFinite(m.value)) return notMeasured("no judged queries");
      return { status: verdict(m.value >= 0.8), measured: `MRR@10 ${f3(m.value)}` };
    },
  },
  {
    id: "clapnq-escalation",
    set: "clapnq",
    description:
      "ClapNQ answer-or-escalate AUROC ≥ 0.80, with false-escalation ≤ 20% at the target's own decision",
    check(r) {
      const d = r.decision;
      if (!d) return notMeasured("the target has no decide()");
      if (!Number.isFinite(d.auroc.value)) return notMeasured("needs answerable and unanswerable queries");
      const ok = d.auroc.value >= 0.8 && d.falseEscalation.value <= 0.2;
      return {
        status: verdict(ok),
        measured: `AUROC ${f3(d.auroc.value)}, false-escalation ${pct(d.falseEscalation.value)}`,
      };
    },
  },
  {
    id: "clinc150-oos",
    set: "clinc150",
    description: "CLINC150 val in-scope accuracy ≥ 80% with OOS recall ≥ 50%",
    check(r) {
      const i = r.intent;
      if (!i?.inScopeAccuracy || !i.oosRecall) return notMeasured("the target has no decide()");
      const ok = i.inScopeAccuracy.value >= 0.8 && i.oosRecall.value >= 0.5;
      return {
        status: verdict(ok),
        measured: `in-scope accuracy ${pct(i.inScopeAccuracy.value)}, OOS recall ${pct(i.oosRecall.value)}`,
      };
    },
  },
];

/** Marks every target for this report: measured ones PASS or MISS, the others NOT MEASURED. */
export function checkTargets(report: SetReport): TargetCheck[] {
  return TARGETS.map((t) => {
    const base = { id: t.id, set: t.set, description: t.description };
    if (t.set !== report.set) return { ...base, ...notMeasured(`measured by the ${t.set} set`) };
    const result = t.check(report);
    if (report.limit !== null && result.status !== "NOT MEASURED")
      result.measured += ` (on a --limit ${report.limit} sample)`;
    return { ...base, ...result };
  });
}
