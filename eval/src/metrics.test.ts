import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  auroc,
  bestThreshold,
  bootstrapAuroc,
  bootstrapMean,
  confusion,
  falseEscalationRate,
  firstRelevantRank,
  hitAt,
  mulberry32,
  ndcgAt,
  quantile,
  recallAt,
  reciprocalRankAt,
  wilson,
} from "./metrics.ts";

// Worked example used by the ranking tests:
//   ranking a, b, c, d; judgements b = 2, d = 1, e = 3 (e is never retrieved).
//   DCG@10  = 2/log2(3) + 1/log2(5)            = 1.2618595 + 0.4306766 = 1.6925361
//   IDCG@10 = 3/log2(2) + 2/log2(3) + 1/log2(4) = 3 + 1.2618595 + 0.5    = 4.7618595
//   nDCG@10 = 1.6925361 / 4.7618595 = 0.3554360;  nDCG@3 = 1.2618595 / 4.7618595 = 0.2649930
const ranking = ["a", "b", "c", "d"];
const judged = { b: 2, d: 1, e: 3 };

// Threshold example: scores 0.9 … 0.2, positives at 0.9, 0.8, 0.6, 0.3 (4 of each). Lowering the threshold:
//   t   0.9  0.8  0.7  0.6  0.5  0.4  0.3  0.2
//   TP   1    2    2    3    3    3    4    4
//   FP   0    0    1    1    2    3    3    4
const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
const positive = [true, true, false, true, false, false, true, false];

describe("ranking metrics", () => {
  it("scores a known ranking's nDCG with linear gains and a log2 discount", () => {
    expect(ndcgAt(ranking, judged, 10)).toBeCloseTo(0.355436, 6);
    expect(ndcgAt(ranking, judged, 3)).toBeCloseTo(0.264993, 6);
  });

  it("gives nDCG 1 to the ideal ranking and NaN when nothing is relevant", () => {
    expect(ndcgAt(["e", "b", "d"], judged)).toBeCloseTo(1, 12);
    expect(ndcgAt(ranking, {})).toBeNaN();
  });

  it("does not pay twice for a document ranked twice", () => {
    // b at ranks 1 and 2 counts once: 2/log2(2) = 2 over IDCG 2 → 1, not 2 + 2/log2(3).
    expect(ndcgAt(["b", "b"], { b: 2 })).toBeCloseTo(1, 12);
  });

  it("finds the first relevant rank, Hit@k and MRR@10 of the worked example", () => {
    expect(firstRelevantRank(ranking, judged)).toBe(2);
    expect(hitAt(ranking, judged, 1)).toBe(0);
    expect(hitAt(ranking, judged, 2)).toBe(1);
    expect(reciprocalRankAt(ranking, judged, 10)).toBe(0.5);
    expect(reciprocalRankAt(ranking, judged, 1)).toBe(0);
  });

  it("treats relevance 0 as not relevant", () => {
    expect(hitAt(["x"], { x: 0 }, 1)).toBe(0);
    expect(firstRelevantRank(["x", "y"], { x: 0, y: 1 })).toBe(2);
  });

  it("computes recall@k over every relevant document, retrieved or not", () => {
    // 3 relevant (b, d, e): top 2 holds b → 1/3; top 4 holds b, d → 2/3.
    expect(recallAt(ranking, judged, 2)).toBeCloseTo(1 / 3, 12);
    expect(recallAt(ranking, judged, 4)).toBeCloseTo(2 / 3, 12);
  });

  it("keeps nDCG in [0, 1] and Hit@k non-decreasing in k for any ranking", () => {
    const ids = fc.constantFrom("a", "b", "c", "d", "e", "f");
    fc.assert(
      fc.property(
        fc.array(ids, { maxLength: 8 }),
        fc.dictionary(ids, fc.integer({ min: 0, max: 3 })),
        fc.integer({ min: 1, max: 8 }),
        (r, rel, k) => {
          const n = ndcgAt(r, rel, k);
          if (!Number.isNaN(n)) expect(n).toBeGreaterThanOrEqual(0);
          if (!Number.isNaN(n)) expect(n).toBeLessThanOrEqual(1 + 1e-12);
          expect(hitAt(r, rel, k)).toBeLessThanOrEqual(hitAt(r, rel, k + 1));
        },
      ),
    );
  });
});

describe("binary answer-or-escalate metrics", () => {
  it("computes the AUROC of a known score list, ties counting one half", () => {
    // Positives 0.9, 0.8, 0.4 vs negatives 0.7, 0.4, 0.2:
    //   0.9 beats 3, 0.8 beats 3, 0.4 beats 0.2 and ties 0.4 (½) → 7.5 of 9 pairs = 0.8333.
    expect(auroc([0.9, 0.8, 0.4, 0.7, 0.4, 0.2], [true, true, true, false, false, false])).toBeCloseTo(
      7.5 / 9,
      12,
    );
  });

  it("gives AUROC ½ to constant scores and NaN without both classes", () => {
    expect(auroc([1, 1, 1, 1], [true, false, true, false])).toBe(0.5);
    expect(auroc([0.3, 0.4], [true, true])).toBeNaN();
  });

  it("matches brute-force pair counting, and flipping the scores gives 1 − AUROC", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { minLength: 2, maxLength: 30 }),
        (rows) => {
          const scores = rows.map((r) => r[0]);
          const labels = rows.map((r) => r[1]);
          const pos = scores.filter((_, i) => labels[i]);
          const neg = scores.filter((_, i) => !labels[i]);
          if (pos.length === 0 || neg.length === 0) return;
          let wins = 0;
          for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
          expect(auroc(scores, labels)).toBeCloseTo(wins / (pos.length * neg.length), 10);
          expect(
            auroc(
              scores.map((s) => -s),
              labels,
            ),
          ).toBeCloseTo(1 - wins / (pos.length * neg.length), 10);
        },
      ),
    );
  });

  it("counts a confusion matrix and the false-escalation rate", () => {
    expect(confusion([true, true, false, false], [true, false, true, false])).toEqual({
      tp: 1,
      fp: 1,
      fn: 1,
      tn: 1,
    });
    // Answerable queries are the first two; one of them was escalated → 1/2.
    expect(falseEscalationRate([true, false, true, false], [true, true, false, false])).toBe(0.5);
  });

  it("picks the threshold that maximises recall within a false-positive budget", () => {
    expect(bestThreshold(scores, positive, 0.25)).toEqual({
      threshold: 0.6,
      recall: 0.75,
      precision: 0.75,
      falsePositiveRate: 0.25,
    });
    expect(bestThreshold(scores, positive, 0)).toMatchObject({
      threshold: 0.8,
      recall: 0.5,
      falsePositiveRate: 0,
    });
    expect(bestThreshold(scores, positive, 0.75)).toMatchObject({
      threshold: 0.3,
      recall: 1,
      precision: 4 / 7,
    });
  });

  it("predicts nothing when even the strictest threshold breaks the budget", () => {
    const p = bestThreshold([0.9, 0.1], [false, true], 0);
    expect(p.threshold).toBe(Number.POSITIVE_INFINITY);
    expect(p.recall).toBe(0);
  });

  it("gives the worked example an AUROC of 12/16", () => {
    // 0.9 and 0.8 beat all 4 negatives, 0.6 beats 3 (not 0.7), 0.3 beats 1 (0.2) → 12 of 16 pairs.
    expect(auroc(scores, positive)).toBe(0.75);
  });
});

describe("intervals", () => {
  it("computes the Wilson interval of 8/10 as 0.490–0.943", () => {
    // p = 0.8, z² = 3.8415: centre (0.8 + 0.19207)/1.38415 = 0.71674,
    // half (1.95996/1.38415)·√(0.016 + 0.0096037) = 0.22658 → 0.49016–0.94332.
    const { lo, hi } = wilson(8, 10);
    expect(lo).toBeCloseTo(0.490162, 5);
    expect(hi).toBeCloseTo(0.943318, 5);
  });

  it("keeps Wilson bounds inside [0, 1] at the extremes", () => {
    // 0/10: upper = (z²/n)/(1 + z²/n) = 0.38415/1.38415 = 0.27753.
    expect(wilson(0, 10).lo).toBe(0);
    expect(wilson(0, 10).hi).toBeCloseTo(0.277533, 5);
    expect(wilson(10, 10).hi).toBeCloseTo(1, 12);
    expect(wilson(0, 0).lo).toBeNaN();
  });

  it("interpolates quantiles linearly between closest ranks", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([7], 0.975)).toBe(7);
  });

  it("draws reproducible uniform numbers from a seeded mulberry32", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const draws = Array.from({ length: 10_000 }, () => a());
    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(draws.reduce((s, x) => s + x, 0) / draws.length).toBeCloseTo(0.5, 1);
    expect(mulberry32(43)()).not.toBe(draws[0]);
  });

  it("bootstraps the mean of two values to the full 0–1 range", () => {
    // Resample means of {0, 1} with n = 2 are 0, ½, 1 with probabilities ¼, ½, ¼:
    // the 2.5th percentile is 0 and the 97.5th is 1.
    expect(bootstrapMean([0, 1])).toEqual({ lo: 0, hi: 1 });
    const constant = bootstrapMean([0.4, 0.4, 0.4]);
    expect(constant.lo).toBeCloseTo(0.4, 12);
    expect(constant.hi).toBeCloseTo(0.4, 12);
  });

  it("bootstraps a proportion's mean close to its normal-approximation interval, reproducibly", () => {
    // 30 ones in 100: SE = √(0.3·0.7/100) = 0.0458 → about 0.21–0.39.
    const values = Array.from({ length: 100 }, (_, i) => (i < 30 ? 1 : 0));
    const ci = bootstrapMean(values, { seed: 7 });
    expect(ci.lo).toBeGreaterThan(0.19);
    expect(ci.lo).toBeLessThan(0.23);
    expect(ci.hi).toBeGreaterThan(0.37);
    expect(ci.hi).toBeLessThan(0.41);
    expect(bootstrapMean(values, { seed: 7 })).toEqual(ci);
  });

  it("bootstraps the AUROC with both classes kept in every resample", () => {
    expect(bootstrapAuroc([0.9, 0.8, 0.1, 0.2], [true, true, false, false])).toEqual({ lo: 1, hi: 1 });
    const ci = bootstrapAuroc(scores, positive);
    expect(ci.lo).toBeLessThanOrEqual(0.75);
    expect(ci.hi).toBeGreaterThanOrEqual(0.75);
    expect(bootstrapAuroc([0.5], [true]).lo).toBeNaN();
  });
});
