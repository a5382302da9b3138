/**
 * The LLM phase: what Hugo adds to an answer an LLM writes. A fake OpenAI-compatible model (the
 * tests' `fake-llm.ts`, in the bench process) streams the same ~60-word reply to every request, a
 * few characters per event, a couple of ms apart. Measured in the same run:
 *
 * - baseline: the AI SDK alone (`streamText` with `createOpenAICompatible`, a system prompt of the
 *   size Hugo's is, the same tools declared), one call after another; ms from the call to the first
 *   text delta and to the end of the stream.
 * - Hugo, on SQLite and on PostgreSQL: that model set as the website's provider over a small
 *   knowledge base; answer turns one after another, each in a fresh conversation with a subscribed
 *   socket (`agent-turns.ts`, as the knowledge phase): ms from `POST /api/agent/trigger/` written to
 *   the agent's `message:received` (its first words visible) and to the last frame that carries the
 *   whole reply (the message as it stays); `message:updated` frames per answer; Hugo's RSS.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { jsonSchema, streamText, tool } from "ai";
import { type FakeLlm, startFakeLlm } from "../../apps/server/test/fake-llm.ts";
import { mulberry32 } from "../../eval/src/metrics.ts";
import { type AgentMessageSeen, Api, failure, runAgentTurns, tallyTurns } from "./agent-turns.ts";
import type { Skipped } from "./bench.ts";
import { type RunningHugo, withHugoOn } from "./hugo.ts";
import { Corpus, visitorQuestion } from "./knowledge.ts";
import type { BenchOptions, Dialect } from "./options.ts";
import { type MemSnapshot, sampleRss } from "./procs.ts";
import { type LatencySummary, summarize } from "./stats.ts";

// The SDK's console warnings (an unknown model name) are not for the bench's output.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

/** The model's answer, every time: ~60 words, a Markdown link as Hugo's prompt asks. */
export const LLM_REPLY =
  "Refunds go back to the card you paid with within five business days of the return reaching our " +
  "warehouse. You can follow each step under Orders, then Returns, in your account. If the parcel " +
  "was lost on its way back, reply here with the tracking number and we will open a claim with the " +
  "carrier for you. [Returns and refunds](https://help.example.test/returns)";
/** Milliseconds between the fake's streamed events (it sends ~4 characters per text event). */
export const LLM_PACE_MS = 2;
/** Unmeasured answers before the measured ones, for the baseline and for each Hugo. */
export const LLM_WARMUP = 5;
/** Passages of the small knowledge base (a few articles of the knowledge phase's synthetic help centre). */
const KB_PASSAGES = 40;
const KEY = "sk-bench-0123456789abcdef";
const MODEL = "gpt-bench";
const TURN_TIMEOUT_MS = 10_000;
/** What Hugo puts in the prompt at most: 5 passages of up to 1,500 characters. */
const PROMPT_PASSAGES = 5;
const PASSAGE_CHARS = 1500;
/** Hugo rewrites a growing message at most every 250 ms (message-stream.ts); this leaves room for jitter. */
export const EARLY_MS = 200;

/** The AI SDK alone against the fake, one call after another. */
export interface LlmBaselineResult {
  runs: number;
  /** Calls that failed or did not return the whole reply (not in the latencies). */
  errors: number;
  /** Characters of the system prompt sent (Hugo's is shown next to it). */
  promptChars: number;
  /** `streamText()` called → first non-empty text delta, ms. */
  firstText: LatencySummary;
  /** `streamText()` called → the stream finished (usage read), ms. */
  end: LatencySummary;
}

/** Hugo answering through the fake, one turn after another, on one database. */
export interface LlmHugoResult {
  /** Measured turns; `triggered` adds the warm-up ones. */
  turns: number;
  triggered: number;
  /** Over all triggered turns: conversations with an agent message, without, with more than one. */
  delivered: number;
  missing: number;
  duplicates: number;
  triggerErrors: number;
  /** Measured turns whose message never showed the whole reply within the timeout. */
  incomplete: number;
  /** Measured turns the model answered (trace.provider is the LLM), and turns answered offline instead. */
  llmAnswered: number;
  fellBack: number;
  /** Trigger written → the agent's `message:received` (its first words), ms. */
  firstWords: LatencySummary;
  /** Trigger written → the first frame carrying the whole reply, ms. */
  complete: LatencySummary;
  /** Trigger written → the last frame carrying the whole reply (the message as it stays), ms. */
  final: LatencySummary;
  /** The trigger's own round trip (202), ms. */
  trigger: LatencySummary;
  /** The turn's `trace.latency_ms`, ms. */
  traceLatency: LatencySummary;
  /** `message:updated` frames per answer (measured turns). */
  updates: { mean: number; min: number; max: number };
  /**
   * Rewrites before an answer's last one that arrived less than EARLY_MS after the frame before them
   * (measured turns): Hugo means to rewrite a growing message at most every 250 ms.
   */
  earlyUpdates: number;
  /** Mean characters of the system prompt Hugo sent, and model requests per triggered turn. */
  promptChars: number;
  requestsPerTurn: number;
  /**
   * Hugo's RSS before the turns (after a full GC), the highest sample during them (every 200 ms), and
   * after them and a full GC, bytes; the whole memory reading before and after (`process.memoryUsage()`
   * after a full GC: heap used / reserved, external), which tells the V8 heap from native memory.
   */
  rss: { before: number; peak: number; afterGc: number };
  mem: { before: MemSnapshot; after: MemSnapshot };
}

/** The llm phase (`results.json` → `llm`). */
export interface LlmResults {
  reply?: { words: number; chars: number; events: number; paceMs: number };
  baseline?: LlmBaselineResult;
  sqlite?: LlmHugoResult | Skipped;
  postgres?: LlmHugoResult | Skipped;
}

// ─── The prompt ────────────────────────────────────────────────────────────────────────────────────

/** A section of an article as Hugo makes a passage of it. */
interface Passage {
  where: string;
  text: string;
}

/** The small knowledge base: the first articles of the synthetic help centre, and their sections. */
function smallKnowledgeBase(): { corpus: Corpus; passages: Passage[] } {
  const corpus = new Corpus();
  corpus.plan(KB_PASSAGES);
  const passages: Passage[] = [];
  for (const article of corpus.articles) {
    const body = (JSON.parse(article.json) as { body: string }).body;
    for (const part of body.split("\n## ").slice(1)) {
      const newline = part.indexOf("\n");
      passages.push({
        where: `${article.title} › ${part.slice(0, newline)}`,
        text: part.slice(newline).trim(),
      });
    }
  }
  return { corpus, passages };
}

/**
 * A system prompt laid out and sized as Hugo's (`systemPrompt` in llm-answerer.ts, which the bench
 * does not import): who the agent is, how to answer, then 5 numbered passages.
 */
function baselinePrompt(passages: Passage[], rng: () => number): string {
  const picked = Array.from(
    { length: PROMPT_PASSAGES },
    () => passages[Math.floor(rng() * passages.length)]!,
  );
  return [
    "You are Hugo, the customer support agent of Bench, chatting with a visitor of its website.",
    [
      "How to answer:",
      "- Answer from the knowledge passages below, or ones you find with search_knowledge_base. Never invent facts, prices, policies or links.",
      "- Answer when the passages support the answer. If they do not cover the question, call escalate_to_human rather than guess.",
      "- When the visitor asks for a human, call escalate_to_human.",
      "- When you call escalate_to_human, write nothing else: the visitor is told for you.",
      "- When the visitor gives their email, phone number or name, record it with set_contact_data.",
      "- Be brief: a few sentences of plain text. When you use a passage that has a link, cite it as a Markdown link.",
      "- Reply in the language of the visitor's last message.",
    ].join("\n"),
    `Knowledge passages:\n${picked
      .map((p, i) => `[${i + 1}] ${p.where}\n${p.text.slice(0, PASSAGE_CHARS)}`)
      .join("\n\n")}`,
  ].join("\n\n");
}

/** The tools Hugo declares to the model here (no rules, no workflows): the request carries the same schemas. */
const baselineTools = {
  search_knowledge_base: tool({
    description: "Search the knowledge base (help articles, answers, web pages, documents) for passages.",
    inputSchema: jsonSchema<{ query: string }>({
      type: "object",
      properties: {
        query: {
          type: "string",
          minLength: 1,
          maxLength: 500,
          description: "What to look for, in a few words",
        },
      },
      required: ["query"],
      additionalProperties: false,
    }),
  }),
  escalate_to_human: tool({
    description: "Hand the conversation over to a human of the team.",
    inputSchema: jsonSchema<{ reason: string }>({
      type: "object",
      properties: { reason: { type: "string", maxLength: 300, description: "Why, in a few words" } },
      required: ["reason"],
      additionalProperties: false,
    }),
  }),
  set_contact_data: tool({
    description: "Record the contact details the visitor gave (only what they gave).",
    inputSchema: jsonSchema<{ email?: string; phone?: string; nickname?: string }>({
      type: "object",
      properties: {
        email: { type: "string", format: "email" },
        phone: { type: "string" },
        nickname: { type: "string" },
      },
      additionalProperties: false,
    }),
  }),
};

// ─── The measurements ──────────────────────────────────────────────────────────────────────────────

async function baseline(fake: FakeLlm, runs: number): Promise<LlmBaselineResult> {
  const { corpus, passages } = smallKnowledgeBase();
  // visitorQuestion draws from ingested articles only; here every article counts.
  for (const article of corpus.articles) article.sourceId = "baseline";
  const rng = mulberry32(13);
  const model = createOpenAICompatible({
    name: "openai-compatible",
    baseURL: `${fake.url}/v1`,
    apiKey: KEY,
    includeUsage: true,
  }).chatModel(MODEL);
  const firstText: number[] = [];
  const end: number[] = [];
  let errors = 0;
  let promptChars = 0;
  for (let i = -LLM_WARMUP; i < runs; i++) {
    const system = baselinePrompt(passages, rng);
    const question = visitorQuestion(corpus, rng);
    promptChars += system.length;
    let first = Number.NaN;
    let text = "";
    let failed = false;
    const started = performance.now();
    // The options Hugo's answerer passes the SDK, less what only a multi-step turn uses.
    const result = streamText({
      model,
      system,
      messages: [{ role: "user", content: question }],
      tools: baselineTools,
      maxOutputTokens: 1024,
      maxRetries: 1,
      timeout: { totalMs: 30_000 },
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      if (part.type === "text-delta") {
        text += part.text;
        if (Number.isNaN(first) && text.trim()) first = performance.now();
      } else if (part.type === "error" || part.type === "abort") failed = true;
    }
    if (!failed) await result.totalUsage;
    const ended = performance.now();
    if (i < 0) continue;
    if (failed || text.trim() !== LLM_REPLY) {
      errors++;
      continue;
    }
    firstText.push(first - started);
    end.push(ended - started);
  }
  return {
    runs,
    errors,
    promptChars: promptChars / (runs + LLM_WARMUP),
    firstText: summarize(firstText),
    end: summarize(end),
  };
}

/** Frames that carried the whole reply (the `message:received` one included), in order of arrival. */
function wholeReplyAt(seen: AgentMessageSeen): number[] {
  const at = seen.content === LLM_REPLY ? [seen.at] : [];
  for (const u of seen.updates) if (u.content === LLM_REPLY) at.push(u.at);
  return at;
}

async function hugoTurns(hugo: RunningHugo, fake: FakeLlm, turns: number): Promise<LlmHugoResult> {
  const api = new Api(hugo, 1);
  const { corpus } = smallKnowledgeBase();
  try {
    for (const article of corpus.articles) {
      const r = await api.request("POST", "/api/knowledge/sources", article.json);
      const data = r.json?.data as { source_id?: string } | undefined;
      if (r.status !== 201 || !data?.source_id) throw failure("adding a source", r);
      article.sourceId = data.source_id;
    }
    const provider = { kind: "openai-compatible", base_url: `${fake.url}/v1`, model: MODEL, api_key: KEY };
    const set = await api.request("PATCH", "/api/agent/settings", JSON.stringify({ provider }));
    if (set.status !== 200) throw failure("setting the provider", set);
  } finally {
    api.close();
  }

  fake.requests.length = 0;
  const rng = mulberry32(11);
  const memBefore = await hugo.proc.mem(true);
  const stop = sampleRss(hugo.proc.pid);
  const run = await runAgentTurns(hugo, {
    turns,
    warmup: LLM_WARMUP,
    question: () => visitorQuestion(corpus, rng),
    until: (seen) => wholeReplyAt(seen).length > 0,
    finished: true,
    timeoutMs: TURN_TIMEOUT_MS,
  });
  const { peak } = stop();
  const memAfter = await hugo.proc.mem(true);

  const tally = tallyTurns(run);
  const firstWords: number[] = [];
  const complete: number[] = [];
  const final: number[] = [];
  const updates: number[] = [];
  let earlyUpdates = 0;
  let incomplete = 0;
  let llmAnswered = 0;
  let fellBack = 0;
  for (const t of tally.measured) {
    const provider = t.turn?.trace?.provider;
    if (t.turn?.status === "answered" && provider === "openai-compatible") llmAnswered++;
    else if (provider === "offline") fellBack++;
    const seen = run.seen.get(t.session);
    const whole = seen ? wholeReplyAt(seen) : [];
    if (!seen || whole.length === 0) {
      incomplete++;
      continue;
    }
    firstWords.push(seen.at - t.started);
    complete.push(whole[0]! - t.started);
    final.push(whole.at(-1)! - t.started);
    updates.push(seen.updates.length);
    // The last rewrite (the turn's final text) may follow the one before it at once; the others may not.
    for (let u = 0; u < seen.updates.length - 1; u++) {
      const previous = u === 0 ? seen.at : seen.updates[u - 1]!.at;
      if (seen.updates[u]!.at - previous < EARLY_MS) earlyUpdates++;
    }
  }
  const systemChars = fake.requests.map((r) => {
    const system = (r.body?.messages as { role?: string; content?: unknown }[] | undefined)?.find(
      (m) => m.role === "system",
    );
    return typeof system?.content === "string" ? system.content.length : 0;
  });
  return {
    turns,
    triggered: tally.triggered,
    delivered: tally.delivered,
    missing: tally.missing,
    duplicates: tally.duplicates,
    triggerErrors: tally.triggerErrors,
    incomplete,
    llmAnswered,
    fellBack,
    firstWords: summarize(firstWords),
    complete: summarize(complete),
    final: summarize(final),
    trigger: summarize(tally.triggerMs),
    traceLatency: summarize(tally.traceMs),
    updates: {
      mean: updates.reduce((a, b) => a + b, 0) / Math.max(1, updates.length),
      min: updates.length ? Math.min(...updates) : Number.NaN,
      max: updates.length ? Math.max(...updates) : Number.NaN,
    },
    earlyUpdates,
    promptChars: systemChars.reduce((a, b) => a + b, 0) / Math.max(1, systemChars.length),
    requestsPerTurn: fake.requests.length / Math.max(1, tally.triggered - tally.triggerErrors),
    rss: { before: memBefore.rss, peak, afterGc: memAfter.rss },
    mem: { before: memBefore, after: memAfter },
  };
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

/** The llm phase: the AI SDK alone, then Hugo on each selected database, against one fake model. */
export async function runLlmBench(options: BenchOptions): Promise<LlmResults> {
  const log = options.log;
  const fake = await startFakeLlm({ apiKey: KEY });
  fake.fallback = { text: LLM_REPLY, paceMs: LLM_PACE_MS };
  const chars = LLM_REPLY.length;
  const results: LlmResults = {
    reply: {
      words: LLM_REPLY.split(/\s+/).length,
      chars,
      // The role chunk, ~4 characters per text chunk, the finish chunk and the usage chunk.
      events: Math.ceil(chars / 4) + 3,
      paceMs: LLM_PACE_MS,
    },
  };
  try {
    log(`AI SDK streamText alone: ${options.llmTurns} answers from the fake model, one after another`);
    results.baseline = await baseline(fake, options.llmTurns);
    log(
      `    first text p50 ${ms(results.baseline.firstText.p50)}, end p50 ${ms(results.baseline.end.p50)}` +
        (results.baseline.errors ? `; ${results.baseline.errors} failed` : ""),
    );
    for (const dialect of options.dialects) results[dialect] = await benchDialect(dialect, fake, options);
  } finally {
    await fake.close();
  }
  return results;
}

async function benchDialect(
  dialect: Dialect,
  fake: FakeLlm,
  options: BenchOptions,
): Promise<LlmHugoResult | Skipped> {
  // Hugo refuses loopback providers unless told otherwise (its SSRF guard).
  const env = { OUTBOUND_ALLOW_HOSTS: "127.0.0.1" };
  return withHugoOn(dialect, { ...options, env }, async (hugo) => {
    options.log(`Hugo on ${dialect}: ${options.llmTurns} LLM answer turns, one after another`);
    const r = await hugoTurns(hugo, fake, options.llmTurns);
    options.log(
      `    first words p50 ${ms(r.firstWords.p50)}, final p50 ${ms(r.final.p50)}; ` +
        `${r.llmAnswered}/${r.turns} answered by the model`,
    );
    return r;
  });
}
