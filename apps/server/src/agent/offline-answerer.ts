import type { AnswerGuidance } from "@hugo/protocol";
import type { PassageHit } from "../core/ports.ts";
import { type Answerer, type AnswerInput, type AnswerResult, emptyTrace, tracePassage } from "./answerer.ts";
import { everydayTerms, loadAnalyzer } from "./knowledge/analyze.ts";

/**
 * The offline answerer, used when no LLM provider is configured: it retrieves passages, estimates
 * how likely they answer the visitor (a logistic model over retrieval features, calibrated on the
 * public dev sets — see ARCHITECTURE.md), and either quotes the sentences that answer, citing the
 * source, or hands over to a human. It never writes text of its own beyond the citation.
 */

/** Minimum calibrated confidence to answer, by answer guidance. */
export const THRESHOLDS: Record<AnswerGuidance, number> = { cautious: 0.55, balanced: 0.39, confident: 0.25 };

/**
 * Logistic weights over [1, ...FEATURES], fitted on ClapNQ dev (answerable vs not) by
 * `node eval/src/calibrate.ts clapnq`; see ARCHITECTURE.md for the figures.
 */
export const WEIGHTS = [-2.89, -1.02, 6.58, 2.07];
export const FEATURES = ["coverage", "saturation", "sentence"] as const;

const MAX_WORDS = 80;

/** Visitors asking for a person, in the languages Hugo analyses most. */
const HUMAN =
  /\b(human|real person|live (agent|person|chat)|talk to (a |an |some)?(one|body|person|agent|operator|representative)|speak (to|with) (a |an |some)?(one|body|person|agent|operator|representative)|customer service rep|un humain|une personne|un conseiller|parler à quelqu|una persona|un agente|hablar con alguien|mit einem menschen|einen mitarbeiter|persona reale|operatore)\b/i;

export function asksForHuman(text: string): boolean {
  return HUMAN.test(text);
}

/** Greetings and politeness carry no question: left out of the search and of the confidence. */
const CHAT_NOISE =
  /\b(hi|hello|hey|hiya|thanks|thank you|thx|please|pls|good (morning|afternoon|evening)|bonjour|salut|merci|s'il vous plaît|hola|gracias|por favor|hallo|danke|bitte|ciao|grazie|per favore)\b[!,.:;]*/gi;

export function withoutChatNoise(text: string): string {
  return text.replace(CHAT_NOISE, " ").replace(/\s+/g, " ").trim();
}

/** Earlier messages a follow-up question is searched with ("do they deliver?" needs the place named before). */
const CONTEXT_TURNS = 3;
/** Each ranking's depth before fusion. */
const FUSION_DEPTH = 20;

/**
 * The passages for a question. Without earlier messages: the search for the question. With them,
 * two rankings fused (the sum of each passage's score relative to its ranking's best): the
 * question alone, and the question with the last
 * few earlier messages — a follow-up rarely names its subject again, but the conversation's words
 * alone would drown a question that changes the subject. Each passage keeps its own BM25 score.
 */
export async function retrieve(
  search: (query: string, limit: number) => Promise<PassageHit[]>,
  question: string,
  history: readonly { text: string }[],
  limit: number,
): Promise<{ hits: PassageHit[]; queries: string[] }> {
  const context = history
    .slice(-CONTEXT_TURNS)
    .map((h) => withoutChatNoise(h.text))
    .filter(Boolean);
  if (context.length === 0) return { hits: await search(question, limit), queries: [question] };
  const wide = [question, ...context].join(" ");
  const rankings = await Promise.all([search(question, FUSION_DEPTH), search(wide, FUSION_DEPTH)]);
  const fused = new Map<number, { hit: PassageHit; score: number }>();
  for (const ranking of rankings) {
    // Scores relative to the ranking's best: a near tie on the question alone (the same FAQ asked
    // of two places) is decided by the other ranking, as a clear lead on the question is kept.
    const best = ranking[0]?.score ?? 1;
    for (const hit of ranking) {
      const entry = fused.get(hit.passage_id) ?? { hit, score: 0 };
      entry.score += best > 0 ? hit.score / best : 0;
      fused.set(hit.passage_id, entry);
    }
  }
  const hits = [...fused.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, limit)
    .map((e) => e.hit);
  return { hits, queries: [question, wide] };
}

export type Features = Record<(typeof FEATURES)[number], number>;

export function confidenceOf(f: Features): number {
  const z = FEATURES.reduce((sum, name, i) => sum + WEIGHTS[i + 1]! * f[name], WEIGHTS[0]!);
  return 1 / (1 + Math.exp(-z));
}

/**
 * A query term's weight: Lucene's idf (positive, largest for a term no passage holds), pulled
 * towards a constant while the knowledge base is small — with a handful of passages, every word the
 * visitor types looks rare, "hi" and "long" included.
 */
function weightOf(passages: number, df: number, common: boolean): number {
  const idf = Math.log(1 + (passages - df + 0.5) / (df + 0.5));
  const prior = common ? PRIOR_IDF * COMMON_WEIGHT : PRIOR_IDF;
  return (passages * idf + PRIOR_PASSAGES * prior) / (passages + PRIOR_PASSAGES);
}
/** How much less an everyday word ("long", "take", "get") is worth while the knowledge base is small. */
const COMMON_WEIGHT = 0.3;
const PRIOR_PASSAGES = 50;
const PRIOR_IDF = 1.5;

/** Retrieval features of the best passage for the question (see FEATURES). */
export function featuresOf(
  stats: { terms: string[]; passages: number; df: Record<string, number>; common?: Set<string> },
  hits: PassageHit[],
  terms: (text: string) => string[],
): Features {
  const top = hits[0]!;
  const passageTerms = terms(`${top.title} ${top.heading} ${top.text}`);
  const tf = new Map<string, number>();
  for (const t of passageTerms) tf.set(t, (tf.get(t) ?? 0) + 1);
  let total = 0;
  let covered = 0;
  let saturated = 0;
  const weight = new Map<string, number>();
  for (const t of stats.terms) {
    const w = weightOf(stats.passages, stats.df[t] ?? 0, stats.common?.has(t) ?? false);
    weight.set(t, w);
    total += w;
    const f = tf.get(t) ?? 0;
    if (f > 0) covered += w;
    saturated += (w * f) / (f + 1.2);
  }
  // The best single sentence: answers live in one sentence more often than across several.
  let sentence = 0;
  // An answer snippet is matched by its question as much as by its answer.
  const candidates = top.kind === "answer" ? [top.title, ...sentences(top.text)] : sentences(top.text);
  for (const text of candidates) {
    const found = new Set(terms(text));
    let c = 0;
    for (const t of stats.terms) if (found.has(t)) c += weight.get(t)!;
    sentence = Math.max(sentence, c);
  }
  return {
    coverage: total > 0 ? covered / total : 0,
    saturation: total > 0 ? saturated / total : 0,
    sentence: total > 0 ? sentence / total : 0,
  };
}

export class OfflineAnswerer implements Answerer {
  readonly name = "offline";

  async answer(input: AnswerInput): Promise<AnswerResult> {
    const base = emptyTrace(this.name);
    if (asksForHuman(input.question)) {
      return {
        decision: "escalate",
        text: input.settings.escalation_message,
        reason: "the visitor asked for a human",
        trace: base,
      };
    }
    const query = withoutChatNoise(input.question) || (input.instruction ?? "");
    if (!query) {
      // A conversation with nothing asked yet: an offer to help, not a guess.
      return {
        decision: "answer",
        text: `Hello! I am ${input.settings.name}. How can I help you?`,
        reason: "nothing was asked yet",
        trace: base,
      };
    }
    const { hits, queries } = await retrieve(input.search, query, input.history, 5);
    const trace = {
      ...base,
      queries,
      passages: hits.map(tracePassage),
    };
    const top = hits[0];
    if (!top) {
      return {
        decision: "escalate",
        text: input.settings.escalation_message,
        reason: "nothing in the knowledge base matches",
        trace,
      };
    }
    const analyzer = await loadAnalyzer(input.locale);
    const stats = { ...(await input.termStats(query)), common: await everydayTerms(input.locale) };
    const wanted = new Set(stats.terms);
    const features = featuresOf(stats, hits, (t) => analyzer.terms(t));
    const confidence = confidenceOf(features);
    const threshold = THRESHOLDS[input.settings.guidance];
    if (confidence < threshold) {
      return {
        decision: "escalate",
        text: input.settings.escalation_message,
        reason: `not confident enough (${confidence.toFixed(2)} < ${threshold} for ${input.settings.guidance} answers)`,
        trace: { ...trace, confidence },
      };
    }
    const { text, used } = compose(wanted, hits, (t) => analyzer.terms(t));
    return {
      decision: "answer",
      text: `${text}\n\n${citation(used)}`,
      reason: `the knowledge base answers it (confidence ${confidence.toFixed(2)})`,
      trace: { ...trace, confidence },
    };
  }
}

const sentences = (text: string): string[] =>
  [...new Intl.Segmenter("en", { granularity: "sentence" }).segment(text)]
    .map((s) => s.segment.trim())
    .filter(Boolean);

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

/**
 * The answer: a curated answer snippet as it is; otherwise the best-matching sentence of the best
 * passages and the sentences after it, up to MAX_WORDS, in the passage's order.
 */
function compose(
  wanted: Set<string>,
  hits: PassageHit[],
  terms: (text: string) => string[],
): { text: string; used: PassageHit } {
  const top = hits[0]!;
  if (top.kind === "answer" && words(top.text) <= MAX_WORDS * 1.5) return { text: top.text, used: top };
  const candidates = hits.filter((h) => h.score >= top.score * 0.6).slice(0, 3);
  let best: { hit: PassageHit; index: number; score: number; list: string[] } | undefined;
  for (const [rank, hit] of candidates.entries()) {
    const list = sentences(hit.text);
    list.forEach((sentence, index) => {
      const overlap = new Set(terms(sentence).filter((t) => wanted.has(t))).size;
      const score = overlap - rank * 0.5;
      if (!best || score > best.score) best = { hit, index, score, list };
    });
  }
  if (!best) return { text: top.text, used: top };
  const chosen = [best.list[best.index]!];
  let count = words(chosen[0]!);
  for (let i = best.index + 1; i < best.list.length && count < MAX_WORDS / 2; i++) {
    const next = best.list[i]!;
    if (count + words(next) > MAX_WORDS) break;
    chosen.push(next);
    count += words(next);
  }
  return { text: chosen.join(" "), used: best.hit };
}

function citation(hit: PassageHit): string {
  const title = hit.heading ? `${hit.title} › ${hit.heading}` : hit.title;
  return hit.url ? `Source: [${title}](${hit.url})` : `Source: ${title}`;
}
