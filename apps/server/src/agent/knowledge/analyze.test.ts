import { describe, expect, it } from "vitest";
import { loadAnalyzer } from "./analyze.ts";

describe("text analysis", () => {
  it("drops English stop words, stems, keeps repeats and digits, and folds diacritics", async () => {
    const en = await loadAnalyzer("en-US");
    expect(en.terms("How do I get a refund for my orders? Refunds take 5 days — résumé, café.")).toEqual([
      "get",
      "refund",
      "order",
      "refund",
      "take",
      "5",
      "dai",
      "resume",
      "cafe",
    ]);
    // The same analyzer serves indexing and queries, so an inflected query meets its base form.
    expect(en.terms("refunding")).toEqual(en.terms("refunded"));
  });

  it("uses the locale's own stemmer and stop words", async () => {
    const fr = await loadAnalyzer("fr");
    expect(fr.terms("Les remboursements sont traités")).toEqual(["rembours", "trait"]);
    expect(fr.terms("remboursement")).toEqual(fr.terms("rembourser"));
    const de = await loadAnalyzer("de-AT");
    expect(de.terms("Die Rückerstattungen und die Bestellung")).toEqual(["ruckerstatt", "bestell"]);
  });

  it("segments scripts written without spaces and keeps their marks", async () => {
    const ja = await loadAnalyzer("ja");
    const terms = ja.terms("返金はどうすればいいですか");
    expect(terms.length).toBeGreaterThan(1);
    expect(terms).toContain("返金");
    expect(terms.join("")).toContain("ど");
  });

  it("splits words without stemming for a language it has no stemmer for", async () => {
    const xx = await loadAnalyzer("xx");
    expect(xx.terms("Hello, WORLD: hello")).toEqual(["hello", "world", "hello"]);
    expect(await loadAnalyzer("xx")).toBe(xx);
  });
});
