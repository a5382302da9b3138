import { describe, expect, it } from "vitest";
import { analyze, porterStem } from "./analyzer.ts";
import { Bm25Index, createBm25Target, queryText } from "./bm25-target.ts";
import type { EvalDoc, EvalQuery } from "./datasets.ts";

describe("the English analyzer", () => {
  it("stems the examples of Porter's paper as Porter does", () => {
    const examples: Record<string, string> = {
      caresses: "caress",
      ponies: "poni",
      ties: "ti",
      cats: "cat",
      feed: "feed",
      agreed: "agre",
      plastered: "plaster",
      motoring: "motor",
      sing: "sing",
      conflated: "conflat",
      troubled: "troubl",
      sized: "size",
      hopping: "hop",
      falling: "fall",
      hissing: "hiss",
      filing: "file",
      happy: "happi",
      sky: "sky",
      relational: "relat",
      conditional: "condit",
      rational: "ration",
      digitizer: "digit",
      vietnamization: "vietnam",
      operator: "oper",
      hopefulness: "hope",
      sensibiliti: "sensibl",
      triplicate: "triplic",
      electrical: "electr",
      goodness: "good",
      revival: "reviv",
      allowance: "allow",
      adjustable: "adjust",
      replacement: "replac",
      adoption: "adopt",
      communism: "commun",
      effective: "effect",
      probate: "probat",
      cease: "ceas",
      controll: "control",
      roll: "roll",
      generalizations: "gener",
      oscillators: "oscil",
    };
    for (const [word, stem] of Object.entries(examples))
      expect([word, porterStem(word)]).toEqual([word, stem]);
  });

  it("gives a word and its nominalisation the same stem", () => {
    expect(porterStem("deletion")).toBe(porterStem("deleted"));
    expect(porterStem("connection")).toBe(porterStem("connected"));
  });

  it("lowercases, drops stop words and possessives, and splits on punctuation", () => {
    expect(analyze("The user's Passwords, and 2FA-codes!")).toEqual(["user", "password", "2fa", "code"]);
    expect(analyze("The user's passwords", { stem: false, stopWords: false })).toEqual([
      "the",
      "user",
      "passwords",
    ]);
  });
});

describe("the BM25 index", () => {
  it("scores a one-word match by hand", () => {
    // N = 2, df(cat) = 1: idf = ln(1 + 1.5/1.5) = ln 2. Doc "cat": length 1, average 1.5,
    // norm = 0.9·(0.6 + 0.4·1/1.5) = 0.78 → score = ln 2 · 1·1.9/(1 + 0.78) = 0.739876.
    const index = new Bm25Index([
      { id: "c", text: "cat" },
      { id: "d", text: "dog dog" },
    ]);
    const hits = index.search("cat", 10);
    expect(hits).toHaveLength(1);
    expect(hits[0]!.docId).toBe("c");
    expect(hits[0]!.score).toBeCloseTo(0.739876, 6);
  });

  it("ranks the document with more of the rarer query terms first", () => {
    const index = new Bm25Index([
      { id: "1", text: "reset your password from the login page" },
      { id: "2", text: "change the billing address on your invoice" },
      { id: "3", text: "password rules for your account" },
    ]);
    expect(index.search("how do I reset my password", 3).map((h) => h.docId)).toEqual(["1", "3"]);
  });
});

describe("the BM25 reference target", () => {
  const docs: EvalDoc[] = [
    {
      id: "pw",
      title: "How do I reset my password?",
      body: "Use the link on the sign-in page.",
      kind: "answer",
    },
    { id: "bill", title: "Where is my invoice?", body: "Invoices are under Billing.", kind: "answer" },
  ];
  const query = (text: string): EvalQuery => ({ id: text, text, relevant: {}, answerable: true });

  it("searches title and body and answers only well-covered questions", async () => {
    const target = createBm25Target();
    expect(await target.ingest(docs)).toMatchObject({ passages: 2 });
    expect((await target.search(query("reset password"), 5))[0]!.docId).toBe("pw");
    const known = await target.decide!(query("reset my password"));
    const unknown = await target.decide!(query("what is the weather in Lisbon tomorrow"));
    expect(known.answered).toBe(true);
    expect(known.docIds[0]).toBe("pw");
    expect(unknown.answered).toBe(false);
    expect(unknown.confidence).toBeLessThan(known.confidence);
    await target.close();
  });

  it("replaces the knowledge base on each ingest", async () => {
    const target = createBm25Target();
    await target.ingest(docs);
    await target.ingest([{ id: "new", title: "Shipping", body: "We ship worldwide.", kind: "helpdesk" }]);
    expect((await target.search(query("password shipping"), 5)).map((h) => h.docId)).toEqual(["new"]);
  });

  it("adds earlier turns to the query only when asked", () => {
    const q: EvalQuery = {
      ...query("is parking free there"),
      history: [
        { role: "user", text: "a hotel near the station" },
        { role: "agent", text: "the Alpha Hotel" },
      ],
    };
    expect(queryText(q, 0)).toBe("is parking free there");
    expect(queryText(q, 1)).toBe("the Alpha Hotel is parking free there");
  });
});
