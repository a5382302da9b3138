/**
 * Fits the offline answerer's confidence model on a public dev set (ClapNQ by default): computes
 * the answerer's retrieval features for every query through Hugo's real ingestion and search, fits
 * a logistic regression (answerable vs not) and prints each feature's AUROC and the fitted weights
 * to copy into `offline-answerer.ts`. `node eval/src/calibrate.ts [set] [--data folder]`.
 */
import { parseArgs } from "node:util";
import { everydayTerms, loadAnalyzer } from "../../apps/server/src/agent/knowledge/analyze.ts";
import { confidenceOf, FEATURES, featuresOf, WEIGHTS } from "../../apps/server/src/agent/offline-answerer.ts";
import { loadSet } from "./datasets.ts";
import { createHugoTarget, HUGO_EVAL_WEBSITE } from "./hugo-target.ts";
import { auroc } from "./metrics.ts";
import { defaultDataFolder } from "./paths.ts";

const { positionals, values } = parseArgs({ allowPositionals: true, options: { data: { type: "string" } } });
const name = positionals[0] ?? "clapnq";
const set = await loadSet(name, values.data ?? defaultDataFolder(name));
const target = await createHugoTarget();
await target.ingest(set.docs);
const en = await loadAnalyzer("en");
const rows: { x: number[]; y: boolean; current: number }[] = [];
const kb = target.knowledge();
const common = await everydayTerms("en");
console.log(`${name}: ${set.queries.length} queries`);
for (const q of set.queries) {
  if (q.clarify) continue;
  const stats = { ...(await kb.termStats(HUGO_EVAL_WEBSITE, q.text)), common };
  const hits = await kb.search(HUGO_EVAL_WEBSITE, { q: q.text.slice(0, 1000), limit: 5 });
  if (!hits.length) {
    rows.push({ x: FEATURES.map(() => 0), y: q.answerable, current: 0 });
    continue;
  }
  const f = featuresOf(stats, hits, (t) => en.terms(t));
  rows.push({ x: FEATURES.map((n) => f[n]), y: q.answerable, current: confidenceOf(f) });
}
const names = FEATURES;
for (const [i, n] of names.entries()) {
  const values = rows.map((r) => r.x[i]!);
  console.log(
    `AUROC ${n}: ${auroc(
      values,
      rows.map((r) => r.y),
    ).toFixed(3)}`,
  );
}
console.log(
  `AUROC current model ${JSON.stringify(WEIGHTS)}: ${auroc(
    rows.map((r) => r.current),
    rows.map((r) => r.y),
  ).toFixed(3)}`,
);
/** Logistic regression by gradient descent (few features, a few hundred rows). */
function fit(data: typeof rows): number[] {
  let w = [0, ...names.map(() => 0)];
  for (let epoch = 0; epoch < 20_000; epoch++) {
    const grad = w.map(() => 0);
    for (const r of data) {
      const e = 1 / (1 + Math.exp(-score(w, r.x))) - (r.y ? 1 : 0);
      grad[0]! += e;
      r.x.forEach((v, i) => {
        grad[i + 1]! += e * v;
      });
    }
    w = w.map((v, i) => v - (0.5 * grad[i]!) / data.length);
  }
  return w;
}
const score = (w: number[], x: number[]) => w[0]! + x.reduce((s, v, i) => s + v * w[i + 1]!, 0);
const w = fit(rows);
const fitted = rows.map((r) => score(w, r.x));
console.log(
  `fitted weights ${JSON.stringify(w.map((v) => Math.round(v * 100) / 100))}: AUROC ${auroc(
    fitted,
    rows.map((r) => r.y),
  ).toFixed(3)} (in sample)`,
);
// 5-fold cross-validation: the AUROC to expect on questions the weights were not fitted on.
const folds = 5;
const held: number[] = new Array(rows.length);
for (let k = 0; k < folds; k++) {
  const wk = fit(rows.filter((_, i) => i % folds !== k));
  rows.forEach((r, i) => {
    if (i % folds === k) held[i] = score(wk, r.x);
  });
}
console.log(
  `AUROC ${folds}-fold cross-validated: ${auroc(
    held,
    rows.map((r) => r.y),
  ).toFixed(3)}`,
);
await target.close();
