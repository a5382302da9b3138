import { describe, expect, it } from "vitest";
import type { EvalDoc, EvalQuery, EvalSet } from "./datasets.ts";
import { type EvaluateOptions, evaluateSet, limitQueries } from "./evaluate.ts";
import { formatReport } from "./report.ts";
import type { AgentDecision, EvalTarget, SearchHit } from "./target.ts";

const options: EvaluateOptions & { dataFolder: string } = {
  k: 10,
  decide: true,
  concurrency: 2,
  maxFalseEscalation: 0.2,
  dataFolder: "(in memory)",
};

/** A scripted target: fixed rankings and decisions per query id, and a log of what it was asked. */
function scripted(
  rankings: Record<string, string[]>,
  decisions?: Record<string, AgentDecision>,
): EvalTarget & { calls: string[] } {
  const calls: string[] = [];
  let loaded = new Set<string>();
  const target: EvalTarget & { calls: string[] } = {
    name: "scripted",
    calls,
    async ingest(docs: EvalDoc[], kb?: string) {
      calls.push(`ingest ${kb ?? "-"} ${docs.length}`);
      loaded = new Set(docs.map((d) => d.id));
      return { passages: docs.length * 2, ms: 10 };
    },
    async search(q: EvalQuery, k: number): Promise<SearchHit[]> {
      calls.push(`search ${q.id}`);
      // Only what the current KB holds can come back: a query searched against the wrong KB shows up.
      return (rankings[q.id] ?? [])
        .filter((id) => loaded.has(id))
        .slice(0, k)
        .map((docId, i) => ({ docId, score: 10 - i }));
    },
    async close() {},
  };
  if (decisions) target.decide = async (q) => decisions[q.id]!;
  return target;
}

const doc = (id: string, kb?: string, intent?: string): EvalDoc => ({
  id,
  title: id,
  body: id,
  kind: "helpdesk",
  ...(kb ? { kb } : {}),
  ...(intent ? { intent } : {}),
});

describe("evaluating a set against a target", () => {
  it("ingests each KB fresh before its own queries and scores retrieval per query", async () => {
    const set: EvalSet = {
      name: "mtragun",
      notes: "",
      docs: [doc("a1", "a"), doc("a2", "a"), doc("b1", "b")],
      queries: [
        { id: "qa", text: "x", relevant: { a2: 1 }, answerable: true, kb: "a" },
        { id: "qb", text: "y", relevant: { b1: 1 }, answerable: true, kb: "b" },
      ],
    };
    const target = scripted({ qa: ["a1", "a2"], qb: ["b1"] });
    const report = await evaluateSet(set, target, options);
    expect(target.calls).toEqual(["ingest a 2", "search qa", "ingest b 1", "search qb"]);
    // qa: first relevant at rank 2 (RR ½), qb at rank 1 → MRR 0.75, Hit@1 0.5.
    expect(report.retrieval.metrics["MRR@10"]!.value).toBe(0.75);
    expect(report.retrieval.metrics["Hit@1"]!.value).toBe(0.5);
    expect(report.retrieval.byKb.a!["MRR@10"]!.value).toBe(0.5);
    expect(report.ingest).toMatchObject({ passages: 6, ms: 20, passagesPerSecond: 300 });
    expect(report.decision).toBeNull();
    expect(report.queries.map((q) => q.rank)).toEqual([2, 1]);
  });

  it("measures answer-or-escalate at the target's decision and marks the ClapNQ target", async () => {
    const set: EvalSet = {
      name: "clapnq",
      notes: "",
      docs: [doc("p1"), doc("p2")],
      queries: [
        { id: "a1", text: "x", relevant: { p1: 1 }, answerable: true },
        { id: "a2", text: "x", relevant: { p2: 1 }, answerable: true },
        { id: "u1", text: "x", relevant: {}, answerable: false },
        { id: "u2", text: "x", relevant: {}, answerable: false },
        {
          id: "c1",
          text: "x",
          relevant: { p1: 1 },
          answerable: true,
          clarify: true,
          label: "UNDERSPECIFIED",
        },
      ],
    };
    const d = (answered: boolean, confidence: number): AgentDecision => ({
      answered,
      confidence,
      docIds: [],
    });
    // Confidences: answerable 0.9, 0.4; unanswerable 0.5, 0.1 → AUROC 3 of 4 pairs = 0.75.
    // Decisions: a2 wrongly escalated (false-escalation ½), u1 wrongly answered (escalation recall ½).
    const decisions = {
      a1: d(true, 0.9),
      a2: d(false, 0.4),
      u1: d(true, 0.5),
      u2: d(false, 0.1),
      c1: d(true, 0.3),
    };
    const report = await evaluateSet(set, scripted({ a1: ["p1"], a2: ["p1", "p2"] }, decisions), options);
    const decision = report.decision!;
    expect(decision).toMatchObject({ n: 4, answerable: 2, unanswerable: 2 });
    expect(decision.auroc.value).toBe(0.75);
    expect(decision.escalationRecall.value).toBe(0.5);
    expect(decision.falseEscalation.value).toBe(0.5);
    expect(decision.byLabel.UNDERSPECIFIED).toEqual({ n: 1, answered: 1 });
    // With no false escalation allowed, escalate only below every answerable confidence: ≤ 0.1 catches u2.
    expect(decision.best!).toMatchObject({ confidenceAtMost: 0.1, recall: 0.5, falsePositiveRate: 0 });
    const clapnq = report.targets.find((t) => t.id === "clapnq-escalation")!;
    expect(clapnq.status).toBe("MISS");
    expect(report.targets.filter((t) => t.status === "NOT MEASURED")).toHaveLength(3);
    expect(formatReport(report)).toContain("| AUROC (confidence, answerable vs not) | 0.750 |");
  });

  it("counts CLINC150 in-scope accuracy only for answered queries with the right top intent", async () => {
    const set: EvalSet = {
      name: "clinc150",
      notes: "",
      docs: [doc("pay#0", undefined, "pay"), doc("card#0", undefined, "card")],
      queries: [
        { id: "i1", text: "x", relevant: { "pay#0": 1 }, answerable: true, intent: "pay" },
        { id: "i2", text: "x", relevant: { "pay#0": 1 }, answerable: true, intent: "pay" },
        { id: "i3", text: "x", relevant: { "card#0": 1 }, answerable: true, intent: "card" },
        { id: "o1", text: "x", relevant: {}, answerable: false, intent: "oos" },
      ],
    };
    const d = (answered: boolean): AgentDecision => ({ answered, confidence: answered ? 1 : 0, docIds: [] });
    const rankings = { i1: ["pay#0"], i2: ["pay#0"], i3: ["pay#0"], o1: ["card#0"] };
    // i1 right + answered; i2 right but escalated; i3 wrong intent; o1 escalated.
    const decisions = { i1: d(true), i2: d(false), i3: d(true), o1: d(false) };
    const report = await evaluateSet(set, scripted(rankings, decisions), options);
    expect(report.intent!.top1Accuracy.value).toBeCloseTo(2 / 3, 12);
    expect(report.intent!.inScopeAccuracy!.value).toBeCloseTo(1 / 3, 12);
    expect(report.intent!.oosRecall!.value).toBe(1);
    expect(report.targets.find((t) => t.id === "clinc150-oos")!.status).toBe("MISS");
  });

  it("reports the targets as not measured when the target cannot decide", async () => {
    const set: EvalSet = {
      name: "clinc150",
      notes: "",
      docs: [doc("pay#0", undefined, "pay")],
      queries: [{ id: "i1", text: "x", relevant: { "pay#0": 1 }, answerable: true, intent: "pay" }],
    };
    const report = await evaluateSet(set, scripted({ i1: ["pay#0"] }), options);
    expect(report.intent!.top1Accuracy.value).toBe(1);
    expect(report.targets.every((t) => t.status === "NOT MEASURED")).toBe(true);
  });

  it("limits to a deterministic spread of queries, in their original order", () => {
    const queries = Array.from({ length: 100 }, (_, i) => ({
      id: `q${i}`,
      text: "x",
      relevant: {},
      answerable: true,
    }));
    const a = limitQueries(queries, 10);
    expect(a).toHaveLength(10);
    expect(limitQueries(queries, 10)).toEqual(a);
    expect(a.map((q) => Number(q.id.slice(1)))).toEqual(
      [...a.map((q) => Number(q.id.slice(1)))].sort((x, y) => x - y),
    );
    expect(Number(a[a.length - 1]!.id.slice(1))).toBeGreaterThan(10);
  });
});
