/**
 * Smoke test of the harness, not of Hugo's speed: every phase runs briefly against real processes
 * (B0, B2, B4, `main.ts serve`) and must produce numbers. No timing assertions.
 */
import { describe, expect, it } from "vitest";
import { runBench } from "./bench.ts";
import { parseResponse } from "./load.ts";
import { type BenchOptions, parseOptions } from "./options.ts";
import { formatReport } from "./report.ts";
import { summarize } from "./stats.ts";

const positive = (n: number | undefined) => expect(n).toBeGreaterThan(0);

describe("bench harness", () => {
  it("parses HTTP responses with content-length and chunked bodies", () => {
    const cl = Buffer.from("HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nhello");
    expect(parseResponse(cl)).toEqual({ status: 202, end: cl.length });
    expect(parseResponse(cl.subarray(0, cl.length - 1))).toBeUndefined();
    const chunked = Buffer.from(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    expect(parseResponse(chunked)).toEqual({ status: 200, end: chunked.length });
    expect(parseResponse(chunked.subarray(0, chunked.length - 2))).toBeUndefined();
  });

  it("takes nearest-rank percentiles", () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect([s.p50, s.p99, s.max]).toEqual([50, 99, 100]);
  });

  it("runs every phase in quick mode against real processes", { timeout: 120_000 }, async () => {
    const options = parseOptions(
      [
        "--quick",
        "--duration=1",
        "--warmup=0.5",
        "--connections=10",
        "--conversations=10",
        "--subscribers=200",
        "--delivery-rate=200",
        "--settle=300",
        "--rate=300",
        "--trigger-rate=50",
        "--chain-steps=20",
        "--chain-runs=2",
        "--kb-passages=300",
        "--kb-queries=20",
        "--agent-turns=5",
        "--llm-turns=3",
        "--widget-loads=2",
        "--inbox-conversations=150",
      ],
      {},
    ) as BenchOptions;
    const r = await runBench(options);

    for (const t of [r.throughput.b0, r.throughput.b2, r.throughput.hugo]) {
      positive(t?.rps);
      // autocannon's histogram has 1 ms resolution: a sub-millisecond server reads 0.
      expect(t?.latency.p99).toBeGreaterThanOrEqual(0);
      positive(t?.rss.peak);
    }
    positive(r.rate.rate);
    for (const t of [r.rate.b2, r.rate.hugo]) {
      positive(t?.ok);
      positive(t?.latency.p99);
    }
    positive(r.delivery.b4?.delivered);
    positive(r.delivery.b4?.latency.p99);
    positive(r.memory.b4?.connected);
    positive(r.memory.b4?.rssAfter);
    positive(r.idle.hugo?.rss);
    positive(r.idle.b0?.rss);
    // The realtime endpoint may legitimately be missing; then it is reported, not measured.
    const hd = r.delivery.hugo;
    if (hd && !("skipped" in hd)) positive(hd.latency.p99);
    const hm = r.memory.hugo;
    if (hm && !("skipped" in hm)) positive(hm.connected);

    // Workflows on both databases (PostgreSQL runs on every machine of this project, CI included).
    positive(r.workflows.b3?.rowsPerS);
    for (const dialect of ["sqlite", "postgres"] as const) {
      const w = r.workflows[dialect];
      if (!w || "skipped" in w) throw new Error(`workflows on ${dialect}: ${JSON.stringify(w)}`);
      positive(w.trigger.delivered);
      expect(w.trigger.duplicates).toBe(0);
      expect(w.chain.missing + w.chain.duplicates).toBe(0);
      positive(w.chain.stepsPerS);
    }

    // Knowledge and agent turns on both databases: numbers, and nothing lost.
    const finitePositive = (n: number) => {
      expect(Number.isFinite(n)).toBe(true);
      positive(n);
    };
    for (const dialect of ["sqlite", "postgres"] as const) {
      const k = r.knowledge[dialect];
      if (!k || "skipped" in k) throw new Error(`knowledge on ${dialect}: ${JSON.stringify(k)}`);
      expect(k.ingest.passages).toBeGreaterThanOrEqual(300);
      finitePositive(k.ingest.passagesPerS);
      expect(k.search.errors).toBe(0);
      expect(k.search.latency.count).toBe(20);
      finitePositive(k.search.latency.p50);
      finitePositive(k.search.latency.p99);
      positive(k.search.hitAt5);
      const t = k.turns;
      // Every triggered turn (warm-up ones included) sent exactly one agent message.
      expect(t.triggerErrors).toBe(0);
      expect(t.delivered).toBe(t.triggered);
      expect(t.missing + t.duplicates).toBe(0);
      expect(t.latency.count).toBe(5);
      expect(t.answered + t.escalated).toBe(5);
      finitePositive(t.latency.p50);
      finitePositive(t.latency.p99);
      expect(t.traceLatency.count).toBe(5);
      expect(Number.isFinite(t.traceLatency.p99)).toBe(true);
    }

    // LLM answers: the AI SDK alone, then Hugo on both databases, every answer the model's whole reply.
    const b = r.llm.baseline;
    expect(b?.errors).toBe(0);
    expect(b?.end.count).toBe(3);
    finitePositive(b!.firstText.p50);
    finitePositive(b!.end.p99);
    for (const dialect of ["sqlite", "postgres"] as const) {
      const l = r.llm[dialect];
      if (!l || "skipped" in l) throw new Error(`llm on ${dialect}: ${JSON.stringify(l)}`);
      expect(l.triggerErrors + l.missing + l.duplicates + l.incomplete + l.fellBack).toBe(0);
      expect(l.delivered).toBe(l.triggered);
      expect(l.llmAnswered).toBe(3);
      expect(l.firstWords.count).toBe(3);
      finitePositive(l.firstWords.p50);
      finitePositive(l.final.p99);
      // The turn's final text rewrites the streamed message at least once.
      expect(l.updates.min).toBeGreaterThanOrEqual(1);
      expect(l.requestsPerTurn).toBe(1);
      positive(l.promptChars);
      positive(l.rss.peak);
      positive(l.rss.afterGc);
    }

    // The widget: sizes as served, and (where Chromium is installed) page loads that reached session:loaded.
    positive(r.widget.loader?.gzip);
    positive(r.widget.widget?.gzip);
    const wh = r.widget.hugo;
    if (wh && !("skipped" in wh)) {
      expect(wh.failed).toBe(0);
      positive(wh.latency.p50);
    }

    expect(r.targets.map((t) => t.id)).toEqual([
      "throughput",
      "rate_p99",
      "delivery_p99",
      "socket_memory",
      "idle_rss",
      "workflow_trigger_sqlite",
      "workflow_chain_sqlite",
      "workflow_trigger_postgres",
      "workflow_chain_postgres",
      "knowledge_ingest_sqlite",
      "knowledge_search_sqlite",
      "agent_turn_sqlite",
      "knowledge_ingest_postgres",
      "knowledge_search_postgres",
      "agent_turn_postgres",
      "widget_loader_size",
      "widget_bundle_size",
      "widget_session_loaded",
      "dashboard_inbox_js",
      "inbox_page_sqlite",
      "inbox_page_postgres",
    ]);
    for (const t of r.targets) expect(["PASS", "MISS", "NOT MEASURED"]).toContain(t.status);
    const report = formatReport(r);
    expect(report).toContain("Targets");
    expect(report).toMatch(/B2 {3}node:http \+ SQLite insert/);
    expect(report).toMatch(/Hugo on postgres/);
    expect(report).toContain("Knowledge base:");
    expect(report).toContain("AI agent answer turns");
    expect(report).toContain("LLM answers");
    expect(report).toContain("What Hugo adds to the AI SDK alone");
    expect(report).toContain("Chat widget");
    // The dashboard: the inbox route's JS as served, and the lazy routes beside it.
    positive(r.dashboard.inbox?.gzip);
    expect(r.dashboard.lazy?.map((l) => l.name)).toEqual(
      expect.arrayContaining(["src/pages/analytics.tsx", "src/pages/settings.tsx"]),
    );
    expect(report).toContain("Operator dashboard");
    // The inbox API: the cursor walk saw every conversation on both databases.
    for (const dialect of ["sqlite", "postgres"] as const) {
      const i = r.inbox[dialect];
      if (!i || "skipped" in i) throw new Error(`inbox on ${dialect}: ${JSON.stringify(i)}`);
      expect(i.walk.seen).toBeGreaterThanOrEqual(150);
      expect(i.walk.pages).toBe(Math.ceil(i.walk.seen / 100));
      finitePositive(i.firstPage.p99);
      finitePositive(i.counts.p99);
    }
  });
});
