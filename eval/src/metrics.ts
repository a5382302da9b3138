/**
 * Pure metric functions: ranking quality (Hit@k, MRR, nDCG, recall), binary answer-or-escalate
 * quality (AUROC, threshold rates) and 95% intervals (percentile bootstrap, Wilson).
 * Rankings are arrays of document ids, best first; judgements map document id → graded relevance (> 0 = relevant).
 */

/** Graded relevance judgements of one query: document id → relevance (0 or absent = not relevant). */
export type Judgements = Readonly<Record<string, number>>;

/** A two-sided interval. */
export interface Interval {
  lo: number;
  hi: number;
}

/** A point estimate with its 95% interval and sample size. */
export interface Estimate extends Interval {
  value: number;
  n: number;
}

const gain = (relevant: Judgements, docId: string): number => {
  const g = relevant[docId];
  return g !== undefined && g > 0 ? g : 0;
};

/** 1-based rank of the first relevant document, or undefined when none is ranked. */
export function firstRelevantRank(ranking: readonly string[], relevant: Judgements): number | undefined {
  const i = ranking.findIndex((id) => gain(relevant, id) > 0);
  return i < 0 ? undefined : i + 1;
}

/** 1 if a relevant document is among the first `k`, else 0. */
export function hitAt(ranking: readonly string[], relevant: Judgements, k: number): number {
  const rank = firstRelevantRank(ranking.slice(0, k), relevant);
  return rank === undefined ? 0 : 1;
}

/** Reciprocal rank of the first relevant document within the first `k` (0 when none). */
export function reciprocalRankAt(ranking: readonly string[], relevant: Judgements, k = 10): number {
  const rank = firstRelevantRank(ranking.slice(0, k), relevant);
  return rank === undefined ? 0 : 1 / rank;
}

/** Share of the relevant documents found among the first `k` (NaN when nothing is relevant). */
export function recallAt(ranking: readonly string[], relevant: Judgements, k: number): number {
  const total = Object.values(relevant).filter((g) => g > 0).length;
  if (total === 0) return Number.NaN;
  const found = new Set(ranking.slice(0, k).filter((id) => gain(relevant, id) > 0)).size;
  return found / total;
}

/**
 * nDCG@k as trec_eval and BEIR compute it: linear gain (the relevance grade), discount log2(rank + 1),
 * ideal DCG from the judgements sorted by grade. NaN when nothing is relevant.
 */
export function ndcgAt(ranking: readonly string[], relevant: Judgements, k = 10): number {
  const ideal = Object.values(relevant)
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  if (ideal.length === 0) return Number.NaN;
  const seen = new Set<string>();
  let dcg = 0;
  for (const [i, id] of ranking.slice(0, k).entries()) {
    // A target that returns a document twice must not be paid twice for it.
    if (seen.has(id)) continue;
    seen.add(id);
    dcg += gain(relevant, id) / Math.log2(i + 2);
  }
  let idcg = 0;
  for (const [i, g] of ideal.entries()) idcg += g / Math.log2(i + 2);
  return dcg / idcg;
}

/** Arithmetic mean (NaN for no values). */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Share of true values: accuracy when each entry says whether one prediction was right. */
export function accuracy(correct: readonly boolean[]): number {
  return correct.length === 0 ? Number.NaN : correct.filter(Boolean).length / correct.length;
}

/**
 * Area under the ROC curve: the probability that a random positive scores higher than a random negative,
 * ties counting ½ (the Mann–Whitney U statistic over n⁺·n⁻, via mid-ranks). NaN without both classes.
 */
export function auroc(scores: readonly number[], positive: readonly boolean[]): number {
  if (scores.length !== positive.length) throw new Error("auroc: scores and labels differ in length");
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (positive[order[t]!]) {
        nPos++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Counts of a binary prediction against the truth. */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Tallies predictions against labels (true = the positive class). */
export function confusion(predicted: readonly boolean[], actual: readonly boolean[]): Confusion {
  if (predicted.length !== actual.length) throw new Error("confusion: lengths differ");
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const [i, p] of predicted.entries()) {
    if (p) actual[i] ? c.tp++ : c.fp++;
    else actual[i] ? c.fn++ : c.tn++;
  }
  return c;
}

/** Predicting positive when `score ≥ threshold`. */
export function confusionAt(
  scores: readonly number[],
  actual: readonly boolean[],
  threshold: number,
): Confusion {
  return confusion(
    scores.map((s) => s >= threshold),
    actual,
  );
}

/** TP / (TP + FN): the share of positives caught (NaN without positives). */
export const recallOf = (c: Confusion): number => c.tp / (c.tp + c.fn);
/** TP / (TP + FP): the share of positive predictions that were right (NaN without any). */
export const precisionOf = (c: Confusion): number => c.tp / (c.tp + c.fp);
/** FP / (FP + TN): the share of negatives wrongly flagged (NaN without negatives). */
export const falsePositiveRateOf = (c: Confusion): number => c.fp / (c.fp + c.tn);

/** Share of answerable queries the agent escalated (a false escalation = a lost self-service answer). */
export function falseEscalationRate(escalated: readonly boolean[], answerable: readonly boolean[]): number {
  return falsePositiveRateOf(
    confusion(
      escalated,
      answerable.map((a) => !a),
    ),
  );
}

/** The operating point chosen by {@link bestThreshold}. */
export interface OperatingPoint {
  /** predict positive when score ≥ threshold (+Infinity = never) */
  threshold: number;
  recall: number;
  precision: number;
  falsePositiveRate: number;
}

/**
 * The threshold that maximises recall subject to false-positive rate ≤ `maxFalsePositiveRate`
 * (for escalation: positive = should escalate, score = −confidence). Among equal recalls the higher
 * threshold wins, since it cannot have more false positives.
 */
export function bestThreshold(
  scores: readonly number[],
  actual: readonly boolean[],
  maxFalsePositiveRate: number,
): OperatingPoint {
  if (scores.length !== actual.length) throw new Error("bestThreshold: lengths differ");
  const nPos = actual.filter(Boolean).length;
  const nNeg = actual.length - nPos;
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const point = (threshold: number, tp: number, fp: number): OperatingPoint => ({
    threshold,
    recall: tp / nPos,
    precision: tp / (tp + fp),
    falsePositiveRate: nNeg === 0 ? 0 : fp / nNeg,
  });
  let best = point(Number.POSITIVE_INFINITY, 0, 0);
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; ) {
    const s = scores[order[i]!]!;
    while (i < order.length && scores[order[i]!] === s) actual[order[i++]!] ? tp++ : fp++;
    const p = point(s, tp, fp);
    if (p.falsePositiveRate > maxFalsePositiveRate) break;
    if (p.recall > best.recall || Number.isNaN(best.recall)) best = p;
  }
  return best;
}

/** Mulberry32: a tiny seeded PRNG, uniform in [0, 1), so intervals are reproducible run to run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Quantile `q` of ascending `sorted` values by linear interpolation between closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Options of the bootstrap intervals. */
export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  /** coverage, default 0.95 */
  level?: number;
}

function percentileInterval(stats: number[], level: number): Interval {
  const finite = stats.filter(Number.isFinite).sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return { lo: quantile(finite, alpha), hi: quantile(finite, 1 - alpha) };
}

/** Percentile-bootstrap interval of the mean (resampling values with replacement). */
export function bootstrapMean(values: readonly number[], options: BootstrapOptions = {}): Interval {
  const { resamples = 1000, seed = 1, level = 0.95 } = options;
  const n = values.length;
  if (n === 0) return { lo: Number.NaN, hi: Number.NaN };
  const random = mulberry32(seed);
  const stats: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    stats.push(sum / n);
  }
  return percentileInterval(stats, level);
}

/**
 * Percentile-bootstrap interval of the AUROC. Positives and negatives are resampled separately
 * (stratified), so every resample keeps both classes and the class balance of the sample.
 */
export function bootstrapAuroc(
  scores: readonly number[],
  positive: readonly boolean[],
  options: BootstrapOptions = {},
): Interval {
  const { resamples = 1000, seed = 1, level = 0.95 } = options;
  const pos = scores.filter((_, i) => positive[i]);
  const neg = scores.filter((_, i) => !positive[i]);
  if (pos.length === 0 || neg.length === 0) return { lo: Number.NaN, hi: Number.NaN };
  const random = mulberry32(seed);
  const labels = [...pos.map(() => true), ...neg.map(() => false)];
  const draw = (from: number[]) => from.map(() => from[Math.floor(random() * from.length)]!);
  const stats: number[] = [];
  for (let r = 0; r < resamples; r++) stats.push(auroc([...draw(pos), ...draw(neg)], labels));
  return percentileInterval(stats, level);
}

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/** Wilson score interval for a proportion `successes / n` (NaN bounds when n = 0). */
export function wilson(successes: number, n: number, z = Z95): Interval {
  if (n === 0) return { lo: Number.NaN, hi: Number.NaN };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** Mean of per-query values with its bootstrap interval; NaN values (undefined for that query) are dropped. */
export function meanEstimate(values: readonly number[], options: BootstrapOptions = {}): Estimate {
  const defined = values.filter((v) => !Number.isNaN(v));
  return { value: mean(defined), ...bootstrapMean(defined, options), n: defined.length };
}

/** A proportion with its Wilson interval. */
export function proportionEstimate(successes: number, n: number): Estimate {
  return { value: n === 0 ? Number.NaN : successes / n, ...wilson(successes, n), n };
}
