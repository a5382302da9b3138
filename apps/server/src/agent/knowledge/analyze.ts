/**
 * Text analysis shared by indexing and search, so both sides agree on terms whatever the database:
 * lower-cased words, the locale's stop words dropped, Snowball/Porter stems (Orama's stemmers), then
 * diacritics folded (stemmers expect them; visitors often type without them). The databases index
 * the analysed terms as plain space-separated words.
 */

/**
 * The stemmer and stop-word modules of `@orama/stemmers` / `@orama/stopwords`, by language subtag;
 * static imports (loaded on first use) so that bundlers and tools can see them.
 */
type Stemmer = Promise<{ stemmer: (word: string) => string }>;
type Stopwords = Promise<{ stopwords: string[] }>;
const LANGUAGES: Record<string, () => [Stemmer, Stopwords]> = {
  ar: () => [import("@orama/stemmers/arabic"), import("@orama/stopwords/arabic")],
  bg: () => [import("@orama/stemmers/bulgarian"), import("@orama/stopwords/bulgarian")],
  da: () => [import("@orama/stemmers/danish"), import("@orama/stopwords/danish")],
  de: () => [import("@orama/stemmers/german"), import("@orama/stopwords/german")],
  el: () => [import("@orama/stemmers/greek"), import("@orama/stopwords/greek")],
  en: () => [import("@orama/stemmers/english"), import("@orama/stopwords/english")],
  es: () => [import("@orama/stemmers/spanish"), import("@orama/stopwords/spanish")],
  fi: () => [import("@orama/stemmers/finnish"), import("@orama/stopwords/finnish")],
  fr: () => [import("@orama/stemmers/french"), import("@orama/stopwords/french")],
  ga: () => [import("@orama/stemmers/irish"), import("@orama/stopwords/irish")],
  hu: () => [import("@orama/stemmers/hungarian"), import("@orama/stopwords/hungarian")],
  hy: () => [import("@orama/stemmers/armenian"), import("@orama/stopwords/armenian")],
  id: () => [import("@orama/stemmers/indonesian"), import("@orama/stopwords/indonesian")],
  it: () => [import("@orama/stemmers/italian"), import("@orama/stopwords/italian")],
  lt: () => [import("@orama/stemmers/lithuanian"), import("@orama/stopwords/lithuanian")],
  nb: () => [import("@orama/stemmers/norwegian"), import("@orama/stopwords/norwegian")],
  ne: () => [import("@orama/stemmers/nepali"), import("@orama/stopwords/nepali")],
  nl: () => [import("@orama/stemmers/dutch"), import("@orama/stopwords/dutch")],
  nn: () => [import("@orama/stemmers/norwegian"), import("@orama/stopwords/norwegian")],
  no: () => [import("@orama/stemmers/norwegian"), import("@orama/stopwords/norwegian")],
  pt: () => [import("@orama/stemmers/portuguese"), import("@orama/stopwords/portuguese")],
  ro: () => [import("@orama/stemmers/romanian"), import("@orama/stopwords/romanian")],
  ru: () => [import("@orama/stemmers/russian"), import("@orama/stopwords/russian")],
  sr: () => [import("@orama/stemmers/serbian"), import("@orama/stopwords/serbian")],
  sv: () => [import("@orama/stemmers/swedish"), import("@orama/stopwords/swedish")],
  ta: () => [import("@orama/stemmers/tamil"), import("@orama/stopwords/tamil")],
  tr: () => [import("@orama/stemmers/turkish"), import("@orama/stopwords/turkish")],
  uk: () => [import("@orama/stemmers/ukrainian"), import("@orama/stopwords/ukrainian")],
};

/** Scripts written without spaces: words come from Intl.Segmenter instead of a regular expression. */
const SEGMENTED = new Set(["zh", "ja", "ko", "th", "lo", "km", "my"]);

export interface Analyzer {
  readonly locale: string;
  /** The terms of a text, in order (repeats kept: they are term frequencies). */
  terms(text: string): string[];
}

const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}+/gu;

const cache = new Map<string, Promise<Analyzer>>();

/** The analyzer of a locale (`en`, `pt-BR`…); an unknown language gets words without stems or stop words. */
export function loadAnalyzer(locale: string): Promise<Analyzer> {
  const language = locale.toLowerCase().split("-")[0] ?? "en";
  let analyzer = cache.get(language);
  if (!analyzer) {
    analyzer = build(language);
    cache.set(language, analyzer);
  }
  return analyzer;
}

async function build(language: string): Promise<Analyzer> {
  const modules = LANGUAGES[language];
  let stem: (word: string) => string = (w) => w;
  let stop = new Set<string>();
  if (modules) {
    const [stemmers, stopwords] = await Promise.all(modules());
    stem = stemmers.stemmer;
    stop = new Set(stopwords.stopwords.map((w) => w.toLowerCase()));
  }
  const segmenter = SEGMENTED.has(language)
    ? new Intl.Segmenter(language, { granularity: "word" })
    : undefined;
  const words = (text: string): string[] =>
    segmenter
      ? [...segmenter.segment(text)].filter((s) => s.isWordLike).map((s) => s.segment)
      : (text.match(WORD) ?? []);
  const memo = new Map<string, string>();
  return {
    locale: language,
    terms(text) {
      const out: string[] = [];
      for (const word of words(text.toLowerCase())) {
        if (stop.has(word)) continue;
        let term = memo.get(word);
        if (term === undefined) {
          term = stem(word);
          // Folding would change kana and hangul, whose marks are part of the letter.
          if (!segmenter) term = term.normalize("NFKD").replace(MARKS, "");
          // One letter carries no meaning for search (digits do: "step 2").
          if (term.length < 2 && !/\d/.test(term)) term = "";
          if (memo.size > 50_000) memo.clear();
          memo.set(word, term);
        }
        if (term) out.push(term);
      }
      return out;
    },
  };
}

const everyday = new Map<string, Promise<Set<string>>>();

/**
 * The locale's everyday words (stopwords-iso's long lists, analysed like any text): words that carry
 * little on their own — "long", "take", "get" — beyond the short stop-word lists indexing drops.
 */
export function everydayTerms(locale: string): Promise<Set<string>> {
  const language = locale.toLowerCase().split("-")[0] ?? "en";
  let found = everyday.get(language);
  if (!found) {
    found = (async () => {
      const lists = (await import("stopwords-iso", { with: { type: "json" } })).default as Record<
        string,
        string[]
      >;
      const analyzer = await loadAnalyzer(language);
      return new Set((lists[language] ?? []).flatMap((w) => analyzer.terms(w)));
    })();
    everyday.set(language, found);
  }
  return found;
}
