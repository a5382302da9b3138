import type { ExtractedDocument } from "./extract.ts";

export interface Chunk {
  heading: string;
  text: string;
  ord: number;
}

const PATH_SEPARATOR = " › ";
// Joins the heading paths of sections merged into one passage (a short section and the next one).
const MERGED_SEPARATOR = " · ";
const DEFAULT_MAX_WORDS = 180;
const DEFAULT_MIN_WORDS = 25;

// A fixed locale keeps chunking deterministic across machines; the rules barely depend on it.
const wordSegmenter = new Intl.Segmenter("en", { granularity: "word" });
const sentenceSegmenter = new Intl.Segmenter("en", { granularity: "sentence" });

/** Words as `Intl.Segmenter` counts them: punctuation is none, unspaced Japanese counts per word. */
export function countWords(text: string): number {
  let words = 0;
  for (const segment of wordSegmenter.segment(text)) if (segment.isWordLike) words++;
  return words;
}

/** A trimmed slice [start, end) of one text block. */
interface Piece {
  block: number;
  text: string;
  start: number;
  end: number;
  words: number;
}
interface Passage {
  paths: string[][];
  pieces: Piece[];
  words: number;
}
interface Section {
  path: string[];
  blocks: { index: number; text: string }[];
}

/**
 * Splits a document into passages that keep their headings: each passage carries the heading path
 * ("Billing › Refunds") of the section it comes from. Sizes are in words as `countWords` counts them.
 */
export function chunkDocument(
  doc: ExtractedDocument,
  options?: { maxWords?: number; minWords?: number },
): Chunk[] {
  const maxWords = Math.max(1, Math.floor(options?.maxWords ?? DEFAULT_MAX_WORDS));
  const minWords = Math.max(0, options?.minWords ?? DEFAULT_MIN_WORDS);

  const passages: Passage[] = [];
  // A short section waits here to be merged into the first passage of the next one.
  let carry: Passage | undefined;
  for (const section of sectionsOf(doc)) {
    const packed = packSection(section, maxWords);
    if (packed.length === 0) continue;
    if (carry) {
      const first = packed[0]!;
      if (carry.words + first.words <= maxWords) {
        packed[0] = {
          paths: [...carry.paths, ...first.paths],
          pieces: [...carry.pieces, ...first.pieces],
          words: carry.words + first.words,
        };
      } else {
        passages.push(carry);
      }
      carry = undefined;
    }
    const sectionWords = section.blocks.reduce((sum, b) => sum + countWords(b.text), 0);
    // A document's untitled opening stays on its own: merged forward it would carry the next
    // section's heading ("Shipping") over text that is about something else.
    if (sectionWords < minWords && packed.length === 1 && section.path.length > 0) carry = packed.pop();
    passages.push(...packed);
  }
  if (carry) passages.push(carry);

  return passages.map((p, ord) => ({ heading: headingOf(p.paths), text: textOf(p.pieces), ord }));
}

function sectionsOf(doc: ExtractedDocument): Section[] {
  const sections: Section[] = [];
  const stack: { level: number; text: string }[] = [];
  let current: Section = { path: [], blocks: [] };
  doc.blocks.forEach((block, index) => {
    if (block.type === "heading") {
      if (current.blocks.length > 0) sections.push(current);
      while (stack.length > 0 && stack[stack.length - 1]!.level >= block.level) stack.pop();
      stack.push({ level: block.level, text: block.text.trim() });
      current = { path: stack.map((h) => h.text).filter((t) => t !== ""), blocks: [] };
    } else if (block.text.trim() !== "") {
      current.blocks.push({ index, text: block.text });
    }
  });
  if (current.blocks.length > 0) sections.push(current);
  return sections;
}

/** Packs a section's blocks greedily: whole blocks when they fit, else sentences, else runs of words. */
function packSection(section: Section, maxWords: number): Passage[] {
  const passages: Passage[] = [];
  let current: Passage = { paths: [section.path], pieces: [], words: 0 };
  const add = (piece: Piece) => {
    if (current.pieces.length > 0 && current.words + piece.words > maxWords) {
      passages.push(current);
      current = { paths: [section.path], pieces: [], words: 0 };
    }
    current.pieces.push(piece);
    current.words += piece.words;
  };
  for (const { index, text } of section.blocks) {
    const whole = trimmed(index, text, 0, text.length);
    if (whole.words <= maxWords) {
      add(whole);
      continue;
    }
    for (const { index: at, segment } of sentenceSegmenter.segment(text)) {
      const sentence = trimmed(index, text, at, at + segment.length);
      if (sentence.end <= sentence.start) continue;
      if (sentence.words <= maxWords) add(sentence);
      else for (const run of splitWords(sentence, maxWords)) add(run);
    }
  }
  if (current.pieces.length > 0) passages.push(current);
  return passages;
}

function trimmed(block: number, text: string, start: number, end: number): Piece {
  const slice = text.slice(start, end);
  const from = start + (slice.length - slice.trimStart().length);
  const to = start + slice.trimEnd().length;
  return { block, text, start: from, end: Math.max(from, to), words: countWords(text.slice(from, to)) };
}

/**
 * Cuts a sentence longer than `maxWords` into runs of at most `maxWords` words, at the last space
 * before the limit (so no word is cut), or between two words when there is none (text without spaces).
 */
function splitWords(sentence: Piece, maxWords: number): Piece[] {
  const runs: Piece[] = [];
  const { block, text } = sentence;
  let start = sentence.start;
  let words = 0;
  let lastSpace = -1;
  let wordsBeforeSpace = 0;
  for (const seg of wordSegmenter.segment(text.slice(sentence.start, sentence.end))) {
    const at = sentence.start + seg.index;
    if (seg.isWordLike) {
      if (words === maxWords) {
        const cut = lastSpace > start && wordsBeforeSpace > 0 ? lastSpace : at;
        runs.push(trimmed(block, text, start, cut));
        words = cut === at ? 0 : words - wordsBeforeSpace;
        start = cut;
        lastSpace = -1;
        wordsBeforeSpace = 0;
      }
      words++;
    } else if (/^\s+$/.test(seg.segment)) {
      lastSpace = at;
      wordsBeforeSpace = words;
    }
  }
  runs.push(trimmed(block, text, start, sentence.end));
  return runs.filter((r) => r.end > r.start);
}

/** A passage's text: pieces of one block keep the text between them, blocks are separated by a blank line. */
function textOf(pieces: Piece[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < pieces.length) {
    const first = pieces[i]!;
    let last = first;
    while (i + 1 < pieces.length && pieces[i + 1]!.block === first.block) last = pieces[++i]!;
    parts.push(first.text.slice(first.start, last.end));
    i++;
  }
  return parts.join("\n\n");
}

/** The heading of a passage; a path that the next one extends (its parent, or the top) is left out. */
function headingOf(paths: string[][]): string {
  const kept = paths.filter((path, i) => {
    const next = paths[i + 1];
    return !next || path.length > next.length || path.some((segment, j) => segment !== next[j]);
  });
  const distinct = kept
    .map((p) => p.join(PATH_SEPARATOR))
    .filter((p, i, all) => p !== "" && all.indexOf(p) === i);
  return distinct.join(MERGED_SEPARATOR);
}
