/**
 * Knowledge and AI agent phases (issue: AI agent, benchmark targets), on SQLite and on PostgreSQL:
 *
 * - ingestion: a deterministic synthetic help centre (articles of ~10 `##` sections, Zipf-distributed
 *   words) posted to `POST /api/knowledge/sources`, 4 requests in flight; passages/s over the wall time.
 * - retrieval: `GET /api/knowledge/search` one query after another, each a few words of a random
 *   section; ms from the request written to the response parsed.
 * - answer turns: in fresh conversations, a visitor question built from one section, then
 *   `POST /api/agent/trigger/`; ms from the trigger written to the agent's message frame received on
 *   a socket subscribed to that conversation, and the turn's own `trace.latency_ms`.
 */
import { performance } from "node:perf_hooks";
import pg from "pg";
// The evaluation harness's seeded PRNG: every run (and both databases) gets the same corpus and queries.
import { mulberry32 } from "../../eval/src/metrics.ts";
import { Api, failure, runAgentTurns, tallyTurns } from "./agent-turns.ts";
import type { Skipped } from "./bench.ts";
import { type RunningHugo, withHugoOn } from "./hugo.ts";
import type { BenchOptions, Dialect } from "./options.ts";
import { type LatencySummary, summarize } from "./stats.ts";

/** Ingestion of the synthetic help centre on one database. */
export interface KnowledgeIngestResult {
  /** Passages asked for (`--kb-passages`) and passages the API reported creating. */
  requested: number;
  passages: number;
  articles: number;
  inFlight: number;
  /** First request written → last response parsed, ms. */
  durationMs: number;
  passagesPerS: number;
  /** One article's request, ms. */
  request: LatencySummary;
  /** Hugo's RSS once everything is indexed, bytes. */
  rssAfter: number;
}

/** Searches one after another on one database. */
export interface KnowledgeSearchResult {
  queries: number;
  /** Requests that did not answer 200 (not in the latencies). */
  errors: number;
  /** Request written → response parsed, ms. */
  latency: LatencySummary;
  /** Searches with no hit at all. */
  empty: number;
  /** Share of queries whose section's passage came first / in the top 5 (a sanity check of ranking). */
  hitAt1: number;
  hitAt5: number;
}

/** Agent answer turns one after another on one database. */
export interface AgentTurnsResult {
  /** Measured turns (`--agent-turns`); `triggered` adds the unmeasured warm-up turns. */
  turns: number;
  triggered: number;
  /** Turns whose agent message arrived, never arrived, or arrived more than once (over `triggered`). */
  delivered: number;
  missing: number;
  duplicates: number;
  triggerErrors: number;
  /** Turn status as `GET /api/agent/turns/{id}` reports it after the message (measured turns). */
  answered: number;
  escalated: number;
  other: number;
  /** Trigger written → the agent's message frame received, ms. */
  latency: LatencySummary;
  /** The trigger request's own round trip (202), ms. */
  trigger: LatencySummary;
  /** The turn's `trace.latency_ms`: Hugo's decision time (read, search, confidence), ms. */
  traceLatency: LatencySummary;
  /**
   * The turn's `finished_at − created_at` (Hugo's clock, 1 ms resolution): queueing and running, but
   * not the event's way to the socket — separates the job queue's share from the delivery's.
   */
  queuedToFinished: LatencySummary;
}

/** The knowledge phase on one database. */
export interface KnowledgeDialectResult {
  ingest: KnowledgeIngestResult;
  search: KnowledgeSearchResult;
  turns: AgentTurnsResult;
}

/** The knowledge phase per database (`results.json` → `knowledge`). */
export interface KnowledgeResults {
  sqlite?: KnowledgeDialectResult | Skipped;
  postgres?: KnowledgeDialectResult | Skipped;
}

/** Requests in flight during ingestion. */
export const INGEST_IN_FLIGHT = 4;
const WARMUP_QUERIES = 20;
const WARMUP_TURNS = 2;
const TURN_TIMEOUT_MS = 10_000;

// ─── The synthetic help centre ─────────────────────────────────────────────────────────────────────

// English stop words, the top ranks of the distribution as in real text (~45% of the words): they
// count for chunking and are dropped by Hugo's analyser. With them on top, the most frequent content
// word is in ~20% of passages, as "account" might be in a help centre, rather than in nearly all.
const FUNCTION_WORDS = (
  "the a to of and your is in for you it on with can this that be or if are from by when we will not at " +
  "an as any our all then"
).split(" ");
// Next: everyday help-centre words, so the most frequent indexed terms look real.
const COMMON_WORDS = (
  "account order payment refund password email shipping delivery invoice subscription plan settings " +
  "profile team billing card address product return exchange support message notification app browser " +
  "device login code link page report export import data file upload download integration webhook key " +
  "token workspace member role permission admin access security privacy storage limit usage trial upgrade " +
  "downgrade cancel renew discount coupon tax currency price quote contract customer user agent ticket chat " +
  "widget website domain language timezone schedule calendar reminder template campaign contact segment " +
  "tag filter search dashboard analytics chart metric sync backup restore archive delete update install " +
  "configure enable disable connect verify reset change create edit share invite assign track check open " +
  "close send receive select click save view manage set add remove move copy print scan store warehouse " +
  "carrier package label parcel size color stock item cart checkout wallet bank transfer receipt statement " +
  "balance credit debit fee charge deadline status error issue problem step option feature version release " +
  "mobile desktop screen button menu tab field form list window network server connection phone number " +
  "time day week month year hour minute first new old default custom automatic manual available required " +
  "optional secure quick easy free paid monthly annual online local global public private"
).split(" ");
// Pseudo-words that happen to spell an English stop word would be dropped by the analyser.
const EXCLUDED = new Set(
  (
    "about above after again against because before being below between could doing during further " +
    "having other should their there these those through under until where which while would yours " +
    "there then than them they this that what when whom with were here have into only over same some such"
  ).split(" "),
);
const ONSETS = "b br c ch cl d dr f fl g gr h j k l m n p pl pr r s sh sl st t th tr v w z".split(" ");
const VOWELS = "a e i o u ai ea ee oo ou".split(" ");
const CODAS = ["", "", "n", "r", "l", "s", "t", "m", "nd", "nt", "st", "ck", "ng", "rk"];
const SUFFIXES = ["", "", "", "", "er", "ing", "ment", "ion", "ly", "al", "ive", "ness", "able"];
/** Words around a search query, as visitors type them (most are stop words). */
const FILLERS = "how do i can my please help what why where is the not".split(" ");

const VOCABULARY = 4_000;
const FUNCTION_SET = new Set(FUNCTION_WORDS);
/** Zipf's exponent: close to 1 for natural language. */
const ZIPF_S = 1.05;
/** Topic words are drawn from below this rank, so they are specific to their article. */
const TOPIC_FROM_RANK = 300;

/** A vocabulary in Zipf rank order: stop words, common words, then pronounceable pseudo-words. */
function vocabulary(rng: () => number): string[] {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rng() * list.length)]!;
  const words = [...FUNCTION_WORDS, ...COMMON_WORDS];
  const seen = new Set([...COMMON_WORDS, ...FUNCTION_WORDS, ...EXCLUDED]);
  while (words.length < VOCABULARY) {
    const syllables = 1 + Math.floor(rng() * 3);
    let w = "";
    for (let i = 0; i < syllables; i++) w += pick(ONSETS) + pick(VOWELS) + pick(CODAS);
    w += pick(SUFFIXES);
    if (w.length < 4 || seen.has(w)) continue;
    seen.add(w);
    words.push(w);
  }
  return words;
}

/** One `##` section of a generated article: one passage once ingested. */
export interface CorpusSection {
  heading: string;
  /** The section's content words in order (function words left out): queries are drawn from them. */
  words: string[];
}

/** One generated help-centre article. */
export interface CorpusArticle {
  title: string;
  /** The `POST /api/knowledge/sources` body. */
  json: string;
  sections: CorpusSection[];
  /** Set once the API has created it. */
  sourceId?: string;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A deterministic help centre: articles are generated in order from one seed. */
export class Corpus {
  readonly articles: CorpusArticle[] = [];
  readonly #rng: () => number;
  readonly #words: string[];
  readonly #cumulative: Float64Array;

  constructor(seed = 20_251) {
    this.#rng = mulberry32(seed);
    this.#words = vocabulary(this.#rng);
    this.#cumulative = new Float64Array(this.#words.length);
    let sum = 0;
    for (let r = 0; r < this.#words.length; r++) {
      sum += 1 / (r + 1) ** ZIPF_S;
      this.#cumulative[r] = sum;
    }
  }

  #int(min: number, max: number): number {
    return min + Math.floor(this.#rng() * (max - min + 1));
  }

  #zipf(): string {
    const u = this.#rng() * this.#cumulative[this.#cumulative.length - 1]!;
    let lo = 0;
    let hi = this.#cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#cumulative[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return this.#words[lo]!;
  }

  /** A Zipf draw that is not a stop word (titles and headings). */
  #content(): string {
    for (;;) {
      const w = this.#zipf();
      if (!FUNCTION_SET.has(w)) return w;
    }
  }

  #rare(): string {
    return this.#words[this.#int(TOPIC_FROM_RANK, this.#words.length - 1)]!;
  }

  #pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.#rng() * list.length)]!;
  }

  /** Appends one article of `sections` sections of 40–120 words each (one passage per section). */
  add(sections: number): CorpusArticle {
    const topic = Array.from({ length: 6 }, () => this.#rare());
    const title = capitalize(
      `${this.#pick(topic)} ${this.#content()} ${this.#pick(topic)} ${this.#content()}`,
    );
    const out: CorpusSection[] = [];
    let body = `# ${title}\n`;
    for (let s = 0; s < sections; s++) {
      const own = Array.from({ length: 3 }, () => this.#rare());
      const heading = capitalize(
        [own[0]!, this.#pick(topic), ...(this.#rng() < 0.5 ? [own[1]!] : [])].join(" "),
      );
      const target = this.#int(40, 120);
      const words: string[] = [];
      const paragraphs: string[][] = [[]];
      let sentence: string[] = [];
      let sentenceLength = this.#int(8, 16);
      for (let n = 0; n < target; n++) {
        // The article's topic and the section's own words now and then, so queries have real matches.
        const r = this.#rng();
        const w = r < 0.07 ? this.#pick(topic) : r < 0.12 ? this.#pick(own) : this.#zipf();
        if (!FUNCTION_SET.has(w)) words.push(w);
        sentence.push(sentence.length === 0 ? capitalize(w) : w);
        if (sentence.length === sentenceLength || n === target - 1) {
          paragraphs[paragraphs.length - 1]!.push(`${sentence.join(" ")}.`);
          sentence = [];
          sentenceLength = this.#int(8, 16);
          // A second paragraph now and then, as articles have.
          if (n < target - 20 && this.#rng() < 0.15) paragraphs.push([]);
        }
      }
      body += `\n## ${heading}\n\n${paragraphs.map((p) => p.join(" ")).join("\n\n")}\n`;
      out.push({ heading, words });
    }
    const article: CorpusArticle = {
      title,
      json: JSON.stringify({ kind: "helpdesk", title, format: "markdown", body }),
      sections: out,
    };
    this.articles.push(article);
    return article;
  }

  /** Articles of 6–14 sections until `passages` sections are planned (the last one trimmed). */
  plan(passages: number): void {
    let planned = this.articles.reduce((n, a) => n + a.sections.length, 0);
    while (planned < passages) {
      const n = Math.min(this.#int(6, 14), passages - planned);
      this.add(n);
      planned += n;
    }
  }
}

/** One random section of an ingested article, with its article. */
function randomSection(
  corpus: Corpus,
  rng: () => number,
): { article: CorpusArticle; section: CorpusSection } {
  const ingested = corpus.articles.filter((a) => a.sourceId);
  if (ingested.length === 0) throw new Error("no article of the corpus was ingested");
  for (;;) {
    const article = ingested[Math.floor(rng() * ingested.length)]!;
    const section = article.sections[Math.floor(rng() * article.sections.length)]!;
    if (new Set(section.words).size >= 6) return { article, section };
  }
}

/** `count` distinct words of a section, in random order. */
function wordsOf(section: CorpusSection, count: number, rng: () => number): string[] {
  const distinct = [...new Set(section.words)];
  for (let i = distinct.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [distinct[i], distinct[j]] = [distinct[j]!, distinct[i]!];
  }
  return distinct.slice(0, count);
}

/** A search query: 3–6 words of one section with one or two filler words around them. */
export function searchQuery(
  corpus: Corpus,
  rng: () => number,
): { q: string; article: CorpusArticle; section: CorpusSection } {
  const { article, section } = randomSection(corpus, rng);
  const words = wordsOf(section, 3 + Math.floor(rng() * 4), rng);
  const fillers = Array.from(
    { length: 1 + Math.floor(rng() * 2) },
    () => FILLERS[Math.floor(rng() * FILLERS.length)]!,
  );
  const q = rng() < 0.5 ? [...fillers, ...words] : [...words, ...fillers];
  return { q: q.join(" "), article, section };
}

/** A visitor's question built from one section's words. */
export function visitorQuestion(corpus: Corpus, rng: () => number): string {
  const { section } = randomSection(corpus, rng);
  const opening = ["How do I", "Can I", "Why does my", "What happens when I", "Where can I"];
  return `${opening[Math.floor(rng() * opening.length)]} ${wordsOf(section, 4 + Math.floor(rng() * 3), rng).join(" ")}?`;
}

// ─── The phases ────────────────────────────────────────────────────────────────────────────────────

async function ingest(
  hugo: RunningHugo,
  corpus: Corpus,
  target: number,
  log: (line: string) => void,
): Promise<KnowledgeIngestResult> {
  corpus.plan(target);
  const api = new Api(hugo, INGEST_IN_FLIGHT);
  const requestMs: number[] = [];
  let next = 0;
  let reported = 0;
  // Passages planned in the requests in flight: more articles only when the API reported fewer.
  let pending = 0;
  let quarter = 1;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      if (next >= corpus.articles.length) {
        const short = target - reported - pending;
        if (short <= 0) return;
        corpus.add(Math.min(short, 10));
      }
      const article = corpus.articles[next++]!;
      pending += article.sections.length;
      const r = await api.request("POST", "/api/knowledge/sources", article.json);
      pending -= article.sections.length;
      const data = r.json?.data as { source_id?: string; passages?: number } | undefined;
      if (r.status !== 201 || typeof data?.passages !== "number") throw failure("adding a source", r);
      article.sourceId = data.source_id;
      reported += data.passages;
      requestMs.push(r.ms);
      if (reported >= (quarter * target) / 4 && reported < target) {
        log(`    ${reported.toLocaleString("en-US")} passages…`);
        quarter = Math.floor((4 * reported) / target) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: INGEST_IN_FLIGHT }, worker));
  } finally {
    api.close();
  }
  const durationMs = performance.now() - started;
  return {
    requested: target,
    passages: reported,
    articles: corpus.articles.filter((a) => a.sourceId).length,
    inFlight: INGEST_IN_FLIGHT,
    durationMs,
    passagesPerS: reported / (durationMs / 1000),
    request: summarize(requestMs),
    rssAfter: hugo.proc.rss(),
  };
}

async function search(hugo: RunningHugo, corpus: Corpus, queries: number): Promise<KnowledgeSearchResult> {
  const rng = mulberry32(7);
  const api = new Api(hugo, 1);
  const latencies: number[] = [];
  let errors = 0;
  let empty = 0;
  let at1 = 0;
  let at5 = 0;
  try {
    for (let i = -Math.min(WARMUP_QUERIES, queries); i < queries; i++) {
      const { q, article, section } = searchQuery(corpus, rng);
      const r = await api.request("GET", `/api/knowledge/search?q=${encodeURIComponent(q)}&limit=5`);
      if (i < 0) continue;
      const hits = r.json?.data as { source_id: string; heading: string }[] | undefined;
      if (r.status !== 200 || !Array.isArray(hits)) {
        errors++;
        continue;
      }
      latencies.push(r.ms);
      if (hits.length === 0) empty++;
      // The heading path ends with the section's heading ("Title › Heading").
      const rank = hits.findIndex(
        (h) => h.source_id === article.sourceId && h.heading.endsWith(section.heading),
      );
      if (rank === 0) at1++;
      if (rank >= 0) at5++;
    }
  } finally {
    api.close();
  }
  const answered = Math.max(latencies.length, 1);
  return {
    queries,
    errors,
    latency: summarize(latencies),
    empty,
    hitAt1: at1 / answered,
    hitAt5: at5 / answered,
  };
}

async function answerTurns(hugo: RunningHugo, corpus: Corpus, turns: number): Promise<AgentTurnsResult> {
  const rng = mulberry32(11);
  const run = await runAgentTurns(hugo, {
    turns,
    warmup: WARMUP_TURNS,
    question: () => visitorQuestion(corpus, rng),
    timeoutMs: TURN_TIMEOUT_MS,
  });
  const tally = tallyTurns(run);
  const latencies: number[] = [];
  const finishMs: number[] = [];
  let answered = 0;
  let escalated = 0;
  let other = 0;
  for (const t of tally.measured) {
    if (t.arrived) latencies.push(run.seen.get(t.session)!.at - t.started);
    const data = t.turn;
    if (data?.status === "answered") answered++;
    else if (data?.status === "escalated") escalated++;
    else other++;
    if (typeof data?.finished_at === "number" && typeof data.created_at === "number")
      finishMs.push(data.finished_at - data.created_at);
  }
  return {
    turns,
    triggered: tally.triggered,
    delivered: tally.delivered,
    missing: tally.missing,
    duplicates: tally.duplicates,
    triggerErrors: tally.triggerErrors,
    answered,
    escalated,
    other,
    latency: summarize(latencies),
    trigger: summarize(tally.triggerMs),
    traceLatency: summarize(tally.traceMs),
    queuedToFinished: summarize(finishMs),
  };
}

const ms = (n: number) => `${n.toFixed(2)} ms`;

async function benchDialect(
  dialect: Dialect,
  options: BenchOptions,
): Promise<KnowledgeDialectResult | Skipped> {
  const log = options.log;
  return withHugoOn(dialect, options, async (hugo) => {
    // The same seed on every database: both index the same help centre and answer the same queries.
    const corpus = new Corpus();
    log(
      `Hugo on ${dialect}: ingest ${options.kbPassages.toLocaleString("en-US")} knowledge passages, ` +
        `${INGEST_IN_FLIGHT} requests in flight`,
    );
    const ingested = await ingest(hugo, corpus, options.kbPassages, log);
    log(
      `    ${ingested.passagesPerS.toFixed(0)} passages/s (${ingested.articles.toLocaleString("en-US")} ` +
        `articles in ${(ingested.durationMs / 1000).toFixed(1)} s)`,
    );

    if (hugo.databaseUrl) {
      // A running PostgreSQL has vacuumed and analysed a table that grew by a million postings
      // within a minute or two (autovacuum's insert threshold): searches are measured in that
      // steady state, not in the minute after a bulk import (when they are about 2× slower: no
      // visibility map for index-only scans, no statistics).
      log(`Hugo on ${dialect}: vacuum analyze (what autovacuum does after a bulk import)`);
      await vacuumAnalyze(hugo.databaseUrl);
    }
    log(`Hugo on ${dialect}: ${options.kbQueries} knowledge searches, one after another`);
    const searched = await search(hugo, corpus, options.kbQueries);
    log(
      `    p50 ${ms(searched.latency.p50)}, p99 ${ms(searched.latency.p99)}, ` +
        `section in the top 5 for ${(searched.hitAt5 * 100).toFixed(0)}%`,
    );

    log(`Hugo on ${dialect}: ${options.agentTurns} AI agent answer turns, one after another`);
    const turns = await answerTurns(hugo, corpus, options.agentTurns);
    log(
      `    p50 ${ms(turns.latency.p50)}, p99 ${ms(turns.latency.p99)}; ` +
        `${turns.answered} answered, ${turns.escalated} escalated`,
    );
    return { ingest: ingested, search: searched, turns };
  });
}

async function vacuumAnalyze(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const table of ["knowledge_postings", "knowledge_passages", "knowledge_sources", "knowledge_stats"])
      await client.query(`vacuum (analyze) ${table}`);
  } finally {
    await client.end();
  }
}

/** The knowledge phase: ingestion, search and agent answer turns on each selected database. */
export async function runKnowledgeBench(options: BenchOptions): Promise<KnowledgeResults> {
  const results: KnowledgeResults = {};
  for (const dialect of options.dialects) results[dialect] = await benchDialect(dialect, options);
  return results;
}
