/** Markdown rendering of evaluation reports (also what `npm run eval` prints). */
import type { SetReport, TargetCheck } from "./evaluate.ts";
import type { Estimate } from "./metrics.ts";

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");

function interval(e: Estimate): string {
  return Number.isFinite(e.lo) && Number.isFinite(e.hi) ? `${f3(e.lo)}–${f3(e.hi)}` : "n/a";
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

const estimateRow = (name: string, e: Estimate) => [name, f3(e.value), interval(e), String(e.n)];

/** The targets table (PASS / MISS / NOT MEASURED). */
export function formatTargets(targets: TargetCheck[]): string {
  return table(
    ["target", "status", "measured"],
    targets.map((t) => [t.description, t.status === "PASS" ? "**PASS**" : t.status, t.measured]),
  );
}

/** One set's report as Markdown. */
export function formatReport(r: SetReport): string {
  const out: string[] = [];
  out.push(`# ${r.set} — target ${r.target}`);
  out.push("");
  out.push(
    `${r.date} · ${r.counts.queries} queries${r.limit !== null ? ` (--limit ${r.limit})` : ""} · ` +
      `${r.counts.docs} documents${r.counts.kbs.length > 1 ? ` in ${r.counts.kbs.length} KBs (${r.counts.kbs.join(", ")})` : ""} · ` +
      `${r.counts.answerable} answerable / ${r.counts.unanswerable} not` +
      `${r.counts.clarify ? ` (${r.counts.clarify} need a clarifying question)` : ""} · ${r.seconds.toFixed(1)} s`,
  );
  out.push("");
  out.push(`> ${r.notes}`);
  out.push("");
  out.push("## Ingestion");
  out.push("");
  out.push(
    table(
      ["kb", "documents", "passages", "ms", "passages/s"],
      [
        ...r.ingest.perKb.map((p) => [
          p.kb,
          int(p.docs),
          int(p.passages),
          int(p.ms),
          int(p.passages / (p.ms / 1000)),
        ]),
        ...(r.ingest.perKb.length > 1
          ? [["all", "", int(r.ingest.passages), int(r.ingest.ms), int(r.ingest.passagesPerSecond)]]
          : []),
      ],
    ),
  );
  out.push("");
  out.push(
    `## Retrieval (${r.retrieval.n} queries with a relevant document, search depth ${Math.max(r.k, 10)})`,
  );
  out.push("");
  out.push(
    table(
      ["metric", "value", "95% CI", "n"],
      Object.entries(r.retrieval.metrics).map(([name, e]) => estimateRow(name, e)),
    ),
  );
  out.push("");
  out.push(
    `Search latency p50 ${f3(r.retrieval.latencyMs.p50)} ms, p95 ${f3(r.retrieval.latencyMs.p95)} ms.`,
  );
  const kbNames = Object.keys(r.retrieval.byKb);
  if (kbNames.length > 0) {
    const metricNames = Object.keys(r.retrieval.metrics);
    out.push("");
    out.push(
      table(
        ["kb", "n", ...metricNames],
        kbNames.map((kb) => {
          const m = r.retrieval.byKb[kb]!;
          return [
            kb,
            String(m["MRR@10"]?.n ?? ""),
            ...metricNames.map((name) => f3(m[name]?.value ?? Number.NaN)),
          ];
        }),
      ),
    );
  }
  if (r.intent) {
    out.push("");
    out.push("## Intents");
    out.push("");
    const rows = [estimateRow("top-1 intent accuracy (in-scope, retrieval only)", r.intent.top1Accuracy)];
    if (r.intent.inScopeAccuracy)
      rows.push(estimateRow("in-scope accuracy (right intent AND answered)", r.intent.inScopeAccuracy));
    if (r.intent.oosRecall) rows.push(estimateRow("out-of-scope recall (escalated)", r.intent.oosRecall));
    out.push(table(["metric", "value", "95% CI", "n"], rows));
  }
  const d = r.decision;
  out.push("");
  out.push("## Answer or escalate");
  out.push("");
  if (!d) out.push("Not measured: the target has no `decide()` (or `--no-decide`).");
  else {
    out.push(
      table(
        ["metric", "value", "95% CI", "n"],
        [
          estimateRow("AUROC (confidence, answerable vs not)", d.auroc),
          estimateRow("escalation recall (unanswerable escalated)", d.escalationRecall),
          estimateRow("escalation precision", d.escalationPrecision),
          estimateRow("false-escalation rate (answerable escalated)", d.falseEscalation),
        ],
      ),
    );
    out.push("");
    if (!d.best) out.push("Best threshold: not defined without both answerable and unanswerable queries.");
    else {
      const budget = `${(d.best.maxFalseEscalation * 100).toFixed(0)}%`;
      out.push(
        `Best threshold with false-escalation ≤ ${budget}: escalate when confidence ≤ ${f3(d.best.confidenceAtMost)}` +
          ` → escalation recall ${f3(d.best.recall)}, false-escalation ${f3(d.best.falsePositiveRate)},` +
          ` precision ${f3(d.best.precision)}.`,
      );
    }
    out.push("");
    out.push(
      table(
        ["label", "n", "answered"],
        Object.entries(d.byLabel).map(([label, v]) => [
          label,
          String(v.n),
          `${v.answered} (${f3(v.answered / v.n)})`,
        ]),
      ),
    );
    out.push("");
    out.push(`Decide latency p50 ${f3(d.latencyMs.p50)} ms, p95 ${f3(d.latencyMs.p95)} ms.`);
  }
  out.push("");
  out.push("## Targets");
  out.push("");
  out.push(formatTargets(r.targets));
  out.push("");
  return out.join("\n");
}

/** The `all` summary: every set's headline figures and each target from the set that measures it. */
export function formatSummary(reports: SetReport[]): string {
  const rows = reports.map((r) => {
    const m = r.retrieval.metrics;
    return [
      r.set,
      String(r.counts.queries),
      f3(m["nDCG@10"]?.value ?? Number.NaN),
      f3(m["MRR@10"]?.value ?? Number.NaN),
      f3(m["Hit@1"]?.value ?? Number.NaN),
      r.decision ? f3(r.decision.auroc.value) : "–",
      r.intent ? f3(r.intent.top1Accuracy.value) : "–",
      int(r.ingest.passagesPerSecond),
      r.seconds.toFixed(1),
    ];
  });
  const targets = reports.flatMap((r) => r.targets.filter((t) => t.set === r.set));
  return [
    `# Evaluation summary — target ${reports[0]?.target ?? "?"}`,
    "",
    table(["set", "queries", "nDCG@10", "MRR@10", "Hit@1", "AUROC", "intent acc.", "passages/s", "s"], rows),
    "",
    formatTargets(targets),
    "",
  ].join("\n");
}
