import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunkDocument, countWords } from "./chunk.ts";
import type { DocBlock, ExtractedDocument } from "./extract.ts";

const h = (level: number, text: string): DocBlock => ({ type: "heading", level, text });
const p = (text: string): DocBlock => ({ type: "text", text });
const doc = (...blocks: DocBlock[]): ExtractedDocument => ({ title: "Help", blocks });
/** `n` distinct words: w1 w2 … wn (prefix keeps words of different blocks apart). */
const words = (n: number, prefix = "w") => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`).join(" ");
const tokens = (text: string) => text.split(/\s+/).filter((t) => t !== "");

describe("chunkDocument", () => {
  it("gives each passage the path of the headings above it, without the document title", () => {
    const chunks = chunkDocument(
      doc(
        p(`Before any heading, ${words(30)}.`),
        h(1, "Billing"),
        p(`About billing, ${words(30)}.`),
        h(2, "Refunds"),
        p(`About refunds, ${words(30)}.`),
        h(3, "Card refunds"),
        p(`About card refunds, ${words(30)}.`),
        h(2, "Invoices"),
        p(`About invoices, ${words(30)}.`),
        h(1, "Security"),
        p(`About security, ${words(30)}.`),
      ),
    );

    expect(chunks.map((c) => [c.heading, c.text.split(",")[0]])).toEqual([
      ["", "Before any heading"],
      ["Billing", "About billing"],
      ["Billing › Refunds", "About refunds"],
      ["Billing › Refunds › Card refunds", "About card refunds"],
      ["Billing › Invoices", "About invoices"],
      ["Security", "About security"],
    ]);
  });

  it("packs the blocks of a section into passages of at most maxWords, keeping each block whole", () => {
    const chunks = chunkDocument(doc(h(2, "FAQ"), p(words(40, "a")), p(words(40, "b")), p(words(40, "c"))), {
      maxWords: 100,
    });

    expect(chunks).toEqual([
      { heading: "FAQ", text: `${words(40, "a")}\n\n${words(40, "b")}`, ord: 0 },
      { heading: "FAQ", text: words(40, "c"), ord: 1 },
    ]);
  });

  it("splits a block longer than maxWords between sentences", () => {
    const sentences = [0, 1, 2, 3].map((i) => `Sentence ${i} has ${words(6, `s${i}x`)}.`); // 9 words each
    const chunks = chunkDocument(doc(p(sentences.join(" "))), { maxWords: 20 });

    expect(chunks.map((c) => c.text)).toEqual([
      `${sentences[0]} ${sentences[1]}`,
      `${sentences[2]} ${sentences[3]}`,
    ]);
  });

  it("fills a passage with the first sentences of a long block when they fit after the previous block", () => {
    const intro = "Short intro here.";
    const sentences = [0, 1, 2].map((i) => `Sentence ${i} has ${words(6, `s${i}x`)}.`); // 9 words each
    const chunks = chunkDocument(doc(p(intro), p(sentences.join(" "))), { maxWords: 20, minWords: 0 });

    expect(chunks.map((c) => c.text)).toEqual([
      `${intro}\n\n${sentences[0]}`,
      `${sentences[1]} ${sentences[2]}`,
    ]);
  });

  it("splits a single sentence longer than maxWords between words, never inside one", () => {
    const giant = `${words(45)}, and so on`; // 48 words, one sentence
    const chunks = chunkDocument(doc(h(2, "Terms"), p(giant)), { maxWords: 20, minWords: 0 });

    expect(chunks.map((c) => c.text)).toEqual([
      words(20),
      words(40).slice(words(20).length + 1),
      `w41 w42 w43 w44 w45, and so on`,
    ]);
    expect(chunks.map((c) => countWords(c.text))).toEqual([20, 20, 8]);
    expect(chunks.every((c) => c.heading === "Terms")).toBe(true);
  });

  it("splits text without spaces between words, counting each word", () => {
    const japanese = "返金は購入から三十日以内に請求できます".repeat(6);
    const chunks = chunkDocument(doc(p(japanese)), { maxWords: 10, minWords: 0 });

    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.text).join("")).toBe(japanese);
    for (const c of chunks) expect(countWords(c.text)).toBeLessThanOrEqual(10);
  });

  it("merges a section shorter than minWords into the next section's first passage", () => {
    const chunks = chunkDocument(
      doc(
        h(1, "Billing"),
        p("Everything about paying."),
        h(2, "Refunds"),
        p(words(30, "r")),
        h(2, "Invoices"),
        p("Sent monthly."),
        h(2, "Taxes"),
        p(words(30, "t")),
      ),
      { maxWords: 100, minWords: 10 },
    );

    expect(chunks).toEqual([
      // A parent's introduction joins its first child; the child's path already names the parent.
      { heading: "Billing › Refunds", text: `Everything about paying.\n\n${words(30, "r")}`, ord: 0 },
      // Siblings name both sections.
      { heading: "Billing › Invoices · Billing › Taxes", text: `Sent monthly.\n\n${words(30, "t")}`, ord: 1 },
    ]);
  });

  it("keeps a short section alone when merging it would pass maxWords, or when nothing follows", () => {
    const chunks = chunkDocument(
      doc(
        h(2, "Intro"),
        p(words(5, "i")),
        h(2, "Details"),
        p(words(30, "d")),
        h(2, "Outro"),
        p(words(5, "o")),
      ),
      { maxWords: 32, minWords: 10 },
    );

    expect(chunks).toEqual([
      { heading: "Intro", text: words(5, "i"), ord: 0 },
      { heading: "Details", text: words(30, "d"), ord: 1 },
      { heading: "Outro", text: words(5, "o"), ord: 2 },
    ]);
  });

  it("lets a heading without text only add to the path of the passages after it", () => {
    const chunks = chunkDocument(
      doc(
        h(1, "Account"),
        h(2, "Security"),
        h(3, "Passwords"),
        p(words(30)),
        h(2, "Empty section"),
        h(2, "Profile"),
        p(words(30)),
        h(2, "Trailing heading"),
      ),
    );

    expect(chunks.map((c) => c.heading)).toEqual(["Account › Security › Passwords", "Account › Profile"]);
    expect(chunks.every((c) => c.text !== "")).toBe(true);
  });

  it("numbers passages 0 to n-1 in document order", () => {
    const chunks = chunkDocument(
      doc(h(1, "A"), p(words(50, "a")), h(1, "B"), p(words(50, "b")), h(1, "C"), p(words(50, "c"))),
      { maxWords: 30 },
    );

    expect(chunks.map((c) => c.ord)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(chunks.map((c) => c.heading)).toEqual(["A", "A", "B", "B", "C", "C"]);
  });

  it("returns no passages for a document without text", () => {
    expect(chunkDocument({ title: "", blocks: [] })).toEqual([]);
    expect(chunkDocument(doc(h(1, "Only"), h(2, "Headings"), p("  ")))).toEqual([]);
  });

  it("keeps every word of every text block, once and in order, and no passage over maxWords", () => {
    const word = fc.oneof(
      { weight: 8, arbitrary: fc.stringMatching(/^[a-z]{1,8}$/) },
      {
        weight: 1,
        arbitrary: fc.constantFrom("don't", "3.5", "e-mail", "U.S.", "—", "(see", "it)", "café", "日本語"),
      },
    );
    const sentence = fc
      .tuple(fc.array(word, { minLength: 1, maxLength: 40 }), fc.constantFrom(".", "!", "?", ""))
      .map(([ws, end]) => ws.join(" ") + end);
    const block = fc.oneof(
      { weight: 3, arbitrary: fc.array(sentence, { minLength: 1, maxLength: 8 }).map((s) => p(s.join(" "))) },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.integer({ min: 1, max: 6 }), sentence).map(([level, t]) => h(level, t)),
      },
    );
    const options = fc.record({
      maxWords: fc.integer({ min: 5, max: 200 }),
      minWords: fc.integer({ min: 0, max: 40 }),
    });

    fc.assert(
      fc.property(fc.array(block, { maxLength: 30 }), options, (blocks, opts) => {
        const document = doc(...blocks);
        const chunks = chunkDocument(document, opts);

        const expected = blocks.flatMap((b) => (b.type === "text" ? tokens(b.text) : []));
        expect(chunks.flatMap((c) => tokens(c.text))).toEqual(expected);
        for (const [i, c] of chunks.entries()) {
          expect(c.ord).toBe(i);
          expect(c.text.trim()).not.toBe("");
          expect(countWords(c.text)).toBeLessThanOrEqual(opts.maxWords);
        }
        expect(chunkDocument(document, opts)).toEqual(chunks);
      }),
      { numRuns: 300 },
    );
  });
});

describe("countWords", () => {
  it("counts word-like segments: punctuation is no word, each Japanese word is one", () => {
    expect(countWords("Refunds — within 30 days, e-mail us!")).toBe(7);
    expect(countWords("")).toBe(0);
    expect(countWords("返金は三十日以内")).toBeGreaterThan(1);
  });
});
