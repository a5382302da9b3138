import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type EvalSet, htmlLinesToMarkdown, loadSet, parseCsv, SET_NAMES, splitBucket } from "./datasets.ts";
import { EVALDATA_ROOT } from "./paths.ts";

// CI clones the repository without ../shared/evaldata beside it; the loaders are then not testable.
const haveData = fs.existsSync(EVALDATA_ROOT);

const load = (name: string) => loadSet(name, path.join(EVALDATA_ROOT, name));
const count = <T>(items: T[], pred: (x: T) => boolean) => items.filter(pred).length;

function expectSane(set: EvalSet): void {
  const ids = new Set(set.docs.map((d) => d.id));
  expect(ids.size).toBe(set.docs.length);
  for (const d of set.docs) expect(`${d.title}${d.body}`.trim()).not.toBe("");
  for (const q of set.queries) {
    expect(q.text.trim()).not.toBe("");
    for (const id of Object.keys(q.relevant)) expect(ids.has(id)).toBe(true);
    // Unanswerable means no relevant document, by the EvalQuery contract.
    if (!q.answerable) expect(q.relevant).toEqual({});
  }
  expect(new Set(set.queries.map((q) => q.id)).size).toBe(set.queries.length);
}

describe("dataset helpers", () => {
  it("turns ConditionalQA's HTML lines into Markdown", () => {
    expect(
      htmlLinesToMarkdown([
        "<h1>Overview</h1>",
        "<p>You can <b>appeal</b>.</p>",
        "<li>Wales</li>",
        "<tr>A | B</tr>",
      ]),
    ).toBe("# Overview\nYou can appeal.\n- Wales\n| A | B |");
  });

  it("reads quoted CSV fields with commas, doubled quotes and newlines", () => {
    expect(parseCsv('text,category\n"a, ""b""\nc",x\nplain,y\n')).toEqual([
      ["text", "category"],
      ['a, "b"\nc', "x"],
      ["plain", "y"],
    ]);
  });

  it("reproduces the evaldata split rule (sha256 of salt:key, first 8 hex digits, mod 100)", () => {
    const bucket = splitBucket("stackfaq", "t000_q3");
    expect(bucket).toBeGreaterThanOrEqual(0);
    expect(bucket).toBeLessThan(100);
    // t000_q3 is in the public dev half, so its bucket is below 50 by the folder's own rule.
    expect(bucket).toBeLessThan(50);
  });

  it("refuses an unknown set name", async () => {
    await expect(loadSet("nope", ".")).rejects.toThrow(/unknown evaluation set/);
  });
});

describe.skipIf(!haveData)("the loaders on the real evaldata folders", () => {
  it("knows a loader for every folder in evaldata", () => {
    const folders = fs
      .readdirSync(EVALDATA_ROOT)
      .filter((f) => fs.statSync(path.join(EVALDATA_ROOT, f)).isDirectory());
    expect([...folders].sort()).toEqual([...SET_NAMES].sort());
  });

  it("loads StackFAQ: 719 FAQ items and 618 dev queries, each with its thread's items", async () => {
    const set = await load("stackfaq");
    expectSane(set);
    expect(set.docs).toHaveLength(719);
    expect(set.queries).toHaveLength(618);
    expect(set.docs.every((d) => d.kind === "answer")).toBe(true);
    expect(set.queries.every((q) => Object.keys(q.relevant).length > 0 && q.answerable)).toBe(true);
    expect(set.queries.reduce((s, q) => s + Object.keys(q.relevant).length, 0)).toBe(3575);
  });

  it("loads SciFact: 5,183 abstracts, 809 train claims and 919 judgements", async () => {
    const set = await load("scifact");
    expectSane(set);
    expect(set.docs).toHaveLength(5183);
    expect(set.queries).toHaveLength(809);
    expect(set.queries.reduce((s, q) => s + Object.keys(q.relevant).length, 0)).toBe(919);
  });

  it("loads ClapNQ: 597 passages, 297 questions of which 144 answerable", async () => {
    const set = await load("clapnq");
    expectSane(set);
    expect(set.docs).toHaveLength(597);
    expect(set.queries).toHaveLength(297);
    expect(count(set.queries, (q) => q.answerable)).toBe(144);
    expect(count(set.queries, (q) => Object.keys(q.relevant).length === 1)).toBe(144);
  });

  it("loads ConditionalQA: 59 gov.uk pages as Markdown, 142 questions of which 6 not answerable", async () => {
    const set = await load("conditionalqa");
    expectSane(set);
    expect(set.docs).toHaveLength(59);
    expect(set.docs.every((d) => d.url === d.id && d.id.startsWith("https://www.gov.uk/"))).toBe(true);
    expect(set.docs.some((d) => d.body.includes("<p>"))).toBe(false);
    expect(set.queries).toHaveLength(142);
    expect(count(set.queries, (q) => !q.answerable)).toBe(6);
  });

  it("loads MTRAG-UN: 1,152 passages in 4 KBs and 243 multi-turn tasks", async () => {
    const set = await load("mtragun");
    expectSane(set);
    expect(set.docs).toHaveLength(1152);
    const perKb = (kb: string) => count(set.docs, (d) => d.kb === kb);
    expect([perKb("ibmcloud"), perKb("govt"), perKb("clapnq"), perKb("fiqa")]).toEqual([248, 435, 312, 157]);
    expect(set.queries).toHaveLength(243);
    const labels = (l: string) => count(set.queries, (q) => q.label === l);
    expect([
      labels("ANSWERABLE"),
      labels("PARTIAL"),
      labels("UNANSWERABLE"),
      labels("UNDERSPECIFIED"),
    ]).toEqual([146, 20, 38, 39]);
    expect(count(set.queries, (q) => q.clarify === true)).toBe(39);
    expect(count(set.queries, (q) => !q.answerable)).toBe(38);
    // Every judged passage lives in the query's own KB (checked by loadSet), and history precedes the turn.
    expect(set.queries.some((q) => (q.history?.length ?? 0) > 0)).toBe(true);
  });

  it("loads DSTC10: 12,039 FAQ snippets and 135 turns of which 54 seek knowledge", async () => {
    const set = await load("dstc10-faq");
    expectSane(set);
    expect(set.docs).toHaveLength(12039);
    expect(set.queries).toHaveLength(135);
    expect(count(set.queries, (q) => q.answerable)).toBe(54);
    expect(count(set.queries, (q) => Object.keys(q.relevant).length === 1)).toBe(54);
    expect(set.docs.find((d) => d.id === "hotel/0/3")?.title).toBe(
      "A AND B GUEST HOUSE: What time is check-in there?",
    );
  });

  it("loads CLINC150: 15,000 training utterances over 150 intents, 3,000 val + 100 out-of-scope queries", async () => {
    const set = await load("clinc150");
    expectSane(set);
    expect(set.docs).toHaveLength(15000);
    expect(new Set(set.docs.map((d) => d.intent)).size).toBe(150);
    expect(set.docs.every((d) => d.id === `${d.intent}#${d.id.split("#")[1]}`)).toBe(true);
    expect(set.queries).toHaveLength(3100);
    expect(count(set.queries, (q) => q.intent === "oos" && !q.answerable)).toBe(100);
    const inScope = set.queries.find((q) => q.intent !== "oos")!;
    expect(Object.keys(inScope.relevant)).toHaveLength(100);
  });

  it("loads Banking77: its 10,003 training rows split about 80/20 into documents and queries", async () => {
    const set = await load("banking77");
    expectSane(set);
    expect(set.docs.length + set.queries.length).toBe(10003);
    expect(set.queries.length).toBeGreaterThan(1700);
    expect(set.queries.length).toBeLessThan(2300);
    expect(new Set(set.docs.map((d) => d.intent)).size).toBe(77);
    expect(set.queries.every((q) => q.answerable && Object.keys(q.relevant).length > 0)).toBe(true);
  });
});
