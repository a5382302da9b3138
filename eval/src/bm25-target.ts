/**
 * The harness's own baseline: an in-memory BM25 over title + body, one passage per document, with
 * Anserini's BEIR parameters (k1 = 0.9, b = 0.4) and a Lucene-like English analyzer (analyzer.ts).
 */
import { type AnalyzeOptions, analyze } from "./analyzer.ts";
import type { EvalDoc, EvalQuery } from "./datasets.ts";
import type { AgentDecision, EvalTarget, SearchHit } from "./target.ts";

/** Options of {@link createBm25Target} and {@link Bm25Index}. */
export interface Bm25Options extends AnalyzeOptions {
  k1?: number;
  b?: number;
  /** Earlier turns (user or agent) appended to a multi-turn query (entity names are often only there). */
  historyTurns?: number;
  /** `decide` answers when the normalised top score ({@link Bm25Index.coverage}) reaches this. */
  answerThreshold?: number;
}

/** Default `decide` threshold: a round number, deliberately not tuned on any dev set. */
export const BM25_ANSWER_THRESHOLD = 0.5;

/** An immutable inverted index with Lucene-style BM25 scoring (idf = ln(1 + (N − df + 0.5)/(df + 0.5))). */
export class Bm25Index {
  readonly k1: number;
  readonly b: number;
  readonly ids: string[];
  readonly #analyze: (text: string) => string[];
  readonly #postings = new Map<string, { docs: Int32Array; tfs: Float64Array }>();
  readonly #lengths: Float64Array;
  readonly #avgLength: number;

  constructor(docs: { id: string; text: string }[], options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 0.9;
    this.b = options.b ?? 0.4;
    this.#analyze = (text) => analyze(text, options);
    this.ids = docs.map((d) => d.id);
    this.#lengths = new Float64Array(docs.length);
    const building = new Map<string, { docs: number[]; tfs: number[] }>();
    let total = 0;
    for (const [i, doc] of docs.entries()) {
      const terms = this.#analyze(doc.text);
      this.#lengths[i] = terms.length;
      total += terms.length;
      const tf = new Map<string, number>();
      for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const [t, n] of tf) {
        const p = building.get(t) ?? { docs: [], tfs: [] };
        building.set(t, p);
        p.docs.push(i);
        p.tfs.push(n);
      }
    }
    for (const [t, p] of building)
      this.#postings.set(t, { docs: Int32Array.from(p.docs), tfs: Float64Array.from(p.tfs) });
    this.#avgLength = docs.length === 0 ? 0 : total / docs.length;
  }

  /** Inverse document frequency; a term no document has gets the largest possible value. */
  idf(term: string): number {
    const n = this.ids.length;
    const df = this.#postings.get(term)?.docs.length ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** The top `k` documents for `text`, best first; ties go to the earlier-ingested document. */
  search(text: string, k: number): SearchHit[] {
    const scores = new Float64Array(this.ids.length);
    const touched: number[] = [];
    const { k1, b } = this;
    // A repeated query term counts once per occurrence, as in Lucene's bag-of-words query.
    for (const term of this.#analyze(text)) {
      const p = this.#postings.get(term);
      if (!p) continue;
      const idf = this.idf(term);
      for (let j = 0; j < p.docs.length; j++) {
        const d = p.docs[j]!;
        const tf = p.tfs[j]!;
        const norm = k1 * (1 - b + (b * this.#lengths[d]!) / this.#avgLength);
        if (scores[d] === 0) touched.push(d);
        scores[d]! += (idf * tf * (k1 + 1)) / (tf + norm);
      }
    }
    touched.sort((x, y) => scores[y]! - scores[x]! || x - y);
    return touched.slice(0, k).map((d) => ({ docId: this.ids[d]!, score: scores[d]! }));
  }

  /**
   * The top score relative to Σ idf over the query's terms, which is what a document of average length
   * containing each term once would score: about 1 for a full match. Unknown words count with the largest
   * idf, so wording the KB has never seen lowers it.
   */
  coverage(text: string, topScore: number): number {
    let reference = 0;
    for (const term of this.#analyze(text)) reference += this.idf(term);
    return reference === 0 ? 0 : topScore / reference;
  }
}

/** The text BM25 searches for a query: its own text plus the last few turns (either side) before it. */
export function queryText(query: EvalQuery, historyTurns: number): string {
  if (historyTurns <= 0 || !query.history) return query.text;
  const earlier = query.history.slice(-historyTurns);
  return [...earlier.map((t) => t.text), query.text].join(" ");
}

/** The BM25 reference target; `decide` answers when the normalised top score reaches a fixed threshold. */
export function createBm25Target(options: Bm25Options = {}): EvalTarget {
  const historyTurns = options.historyTurns ?? 0;
  const threshold = options.answerThreshold ?? BM25_ANSWER_THRESHOLD;
  let index = new Bm25Index([], options);
  const current = () => {
    if (index.ids.length === 0) throw new Error("bm25: search before ingest");
    return index;
  };
  return {
    name: "bm25",
    async ingest(docs: EvalDoc[]) {
      const start = performance.now();
      index = new Bm25Index(
        docs.map((d) => ({ id: d.id, text: `${d.title} ${d.body}` })),
        options,
      );
      return { passages: docs.length, ms: performance.now() - start };
    },
    async search(query: EvalQuery, k: number) {
      return current().search(queryText(query, historyTurns), k);
    },
    async decide(query: EvalQuery): Promise<AgentDecision> {
      const text = queryText(query, historyTurns);
      const hits = current().search(text, 3);
      const confidence = hits.length === 0 ? 0 : index.coverage(text, hits[0]!.score);
      return { answered: confidence >= threshold, confidence, docIds: hits.map((h) => h.docId) };
    },
    async close() {
      index = new Bm25Index([], options);
    },
  };
}
