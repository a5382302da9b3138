/**
 * Text analysis for the BM25 reference target, modelled on Lucene's EnglishAnalyzer (what Anserini's
 * BEIR baselines use): possessive stripping, lowercasing, Lucene's 33 English stop words, Porter stemming.
 */

/** Lucene's `EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`, so BM25 figures are comparable with Anserini's. */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these " +
    "they this to was will with"
  ).split(" "),
);

/** Options of {@link analyze}. */
export interface AnalyzeOptions {
  stopWords?: boolean;
  stem?: boolean;
}

/** Splits text into index terms: lowercased letter/digit runs, stop words dropped, Porter-stemmed. */
export function analyze(text: string, options: AnalyzeOptions = {}): string[] {
  const { stopWords = true, stem = true } = options;
  const terms: string[] = [];
  const lower = text.toLowerCase().replace(/['’]s\b/g, "");
  for (const token of lower.split(/[^\p{L}\p{N}]+/u)) {
    if (token === "" || (stopWords && STOP_WORDS.has(token))) continue;
    terms.push(stem ? porterStem(token) : token);
  }
  return terms;
}

// Porter, "An algorithm for suffix stripping" (1980), as in Lucene's PorterStemmer (with its
// "bli"→"ble" and "logi"→"log" departures). Words are ASCII-lowercase; anything else is left alone.

function isConsonant(w: string, i: number): boolean {
  const c = w[i];
  if (c === "a" || c === "e" || c === "i" || c === "o" || c === "u") return false;
  if (c === "y") return i === 0 || !isConsonant(w, i - 1);
  return true;
}

/** Porter's m: the number of vowel-consonant sequences in `stem` ([C](VC)^m[V]). */
function measure(stem: string): number {
  let m = 0;
  let i = 0;
  const n = stem.length;
  while (i < n && isConsonant(stem, i)) i++;
  while (i < n) {
    while (i < n && !isConsonant(stem, i)) i++;
    if (i >= n) break;
    while (i < n && isConsonant(stem, i)) i++;
    m++;
  }
  return m;
}

function hasVowel(stem: string): boolean {
  for (let i = 0; i < stem.length; i++) if (!isConsonant(stem, i)) return true;
  return false;
}

function endsDoubleConsonant(w: string): boolean {
  const n = w.length;
  return n >= 2 && w[n - 1] === w[n - 2] && isConsonant(w, n - 1);
}

/** *o: the stem ends consonant-vowel-consonant and the last consonant is not w, x or y. */
function endsCvc(w: string): boolean {
  const n = w.length;
  if (n < 3 || !isConsonant(w, n - 1) || isConsonant(w, n - 2) || !isConsonant(w, n - 3)) return false;
  const c = w[n - 1];
  return c !== "w" && c !== "x" && c !== "y";
}

/** Replaces the first matching suffix whose stem satisfies `when`; returns undefined if no suffix matched. */
function replaceSuffix(
  w: string,
  rules: readonly (readonly [string, string])[],
  when: (stem: string) => boolean,
): string | undefined {
  for (const [suffix, replacement] of rules) {
    if (!w.endsWith(suffix)) continue;
    const stem = w.slice(0, w.length - suffix.length);
    // Porter stops at the longest matching suffix even when its condition fails.
    return when(stem) ? stem + replacement : w;
  }
  return undefined;
}

const STEP2: readonly (readonly [string, string])[] = [
  ["ational", "ate"],
  ["tional", "tion"],
  ["enci", "ence"],
  ["anci", "ance"],
  ["izer", "ize"],
  ["bli", "ble"],
  ["alli", "al"],
  ["entli", "ent"],
  ["eli", "e"],
  ["ousli", "ous"],
  ["ization", "ize"],
  ["ation", "ate"],
  ["ator", "ate"],
  ["alism", "al"],
  ["iveness", "ive"],
  ["fulness", "ful"],
  ["ousness", "ous"],
  ["aliti", "al"],
  ["iviti", "ive"],
  ["biliti", "ble"],
  ["logi", "log"],
];

const STEP3: readonly (readonly [string, string])[] = [
  ["icate", "ic"],
  ["ative", ""],
  ["alize", "al"],
  ["iciti", "ic"],
  ["ical", "ic"],
  ["ful", ""],
  ["ness", ""],
];

const STEP4 = [
  "al",
  "ance",
  "ence",
  "er",
  "ic",
  "able",
  "ible",
  "ant",
  "ement",
  "ment",
  "ent",
  "ion",
  "ou",
  "ism",
  "ate",
  "iti",
  "ous",
  "ive",
  "ize",
] as const;

/** Longest-suffix-first order, which Porter's table order does not guarantee within a step. */
const byLengthDesc = <T extends readonly [string, string]>(rules: readonly T[]): T[] =>
  [...rules].sort((a, b) => b[0].length - a[0].length);
const STEP2_SORTED = byLengthDesc(STEP2);
const STEP3_SORTED = byLengthDesc(STEP3);
const STEP4_SORTED = [...STEP4].sort((a, b) => b.length - a.length);

/** The Porter stem of one lowercase word (words of two letters or fewer, and non-ASCII ones, are kept). */
export function porterStem(word: string): string {
  if (word.length <= 2 || !/^[a-z]+$/.test(word)) return word;
  let w = word;

  // Step 1a: plurals.
  if (w.endsWith("sses")) w = w.slice(0, -2);
  else if (w.endsWith("ies")) w = w.slice(0, -2);
  else if (w.endsWith("ss")) {
    // unchanged
  } else if (w.endsWith("s")) w = w.slice(0, -1);

  // Step 1b: -eed, -ed, -ing.
  if (w.endsWith("eed")) {
    if (measure(w.slice(0, -3)) > 0) w = w.slice(0, -1);
  } else {
    let cut: string | undefined;
    if (w.endsWith("ed") && hasVowel(w.slice(0, -2))) cut = w.slice(0, -2);
    else if (w.endsWith("ing") && hasVowel(w.slice(0, -3))) cut = w.slice(0, -3);
    if (cut !== undefined) {
      w = cut;
      if (w.endsWith("at") || w.endsWith("bl") || w.endsWith("iz")) w += "e";
      else if (endsDoubleConsonant(w) && !/[lsz]$/.test(w)) w = w.slice(0, -1);
      else if (measure(w) === 1 && endsCvc(w)) w += "e";
    }
  }

  // Step 1c: y → i after a vowel in the stem.
  if (w.endsWith("y") && hasVowel(w.slice(0, -1))) w = `${w.slice(0, -1)}i`;

  // Steps 2 and 3: double and single suffixes to simpler ones.
  w = replaceSuffix(w, STEP2_SORTED, (s) => measure(s) > 0) ?? w;
  w = replaceSuffix(w, STEP3_SORTED, (s) => measure(s) > 0) ?? w;

  // Step 4: drop suffixes from stems with m > 1 (-ion only after s or t).
  for (const suffix of STEP4_SORTED) {
    if (!w.endsWith(suffix)) continue;
    const stem = w.slice(0, w.length - suffix.length);
    if (measure(stem) > 1 && (suffix !== "ion" || /[st]$/.test(stem))) w = stem;
    break;
  }

  // Step 5a: final -e; 5b: -ll → -l.
  if (w.endsWith("e")) {
    const stem = w.slice(0, -1);
    const m = measure(stem);
    if (m > 1 || (m === 1 && !endsCvc(stem))) w = stem;
  }
  if (w.endsWith("ll") && measure(w) > 1) w = w.slice(0, -1);
  return w;
}
