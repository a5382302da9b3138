import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS, type TestDatabase } from "../../test/databases.ts";
import { loadAnalyzer } from "../agent/knowledge/analyze.ts";
import type { PassageInput, SourceRecord, Stores } from "../core/ports.ts";
import { createStores } from "./stores.ts";

describe.each(DIALECTS)("knowledge store contract on $dialect", ({ fresh }) => {
  let tdb: TestDatabase;
  let stores: Stores;
  let websiteId: string;
  let otherWebsiteId: string;
  const en = loadAnalyzer("en");

  beforeAll(async () => {
    tdb = await fresh();
    stores = createStores(tdb.database.db, tdb.database.sqlite);
    websiteId = randomUUID();
    otherWebsiteId = randomUUID();
    for (const id of [websiteId, otherWebsiteId]) {
      await stores.websites.create({ id, name: "Site", domain: "", created_at: 1 });
    }
  });
  afterAll(() => tdb.drop());

  const source = (site: string, patch: Partial<SourceRecord> = {}): SourceRecord => ({
    id: `source_${randomUUID()}`,
    website_id: site,
    kind: "helpdesk",
    title: "An article",
    url: "https://help.example.com/a",
    locale: "en",
    enabled: true,
    status: "indexed",
    error: null,
    passages: 0,
    content: "{}",
    created_at: 1_000,
    updated_at: 1_000,
    ...patch,
  });

  const passages = async (title: string, texts: string[]): Promise<PassageInput[]> => {
    const a = await en;
    return texts.map((text, ord) => ({
      ord,
      heading: ord === 0 ? "" : `Part ${ord}`,
      text,
      titleTerms: a.terms(`${title} ${ord === 0 ? "" : `Part ${ord}`}`),
      bodyTerms: a.terms(text),
    }));
  };
  const search = async (
    site: string,
    q: string,
    options: { limit?: number; kind?: "answer" | "helpdesk" } = {},
  ) => stores.knowledge.search(site, (await en).terms(q), { limit: options.limit ?? 5, ...options });

  it("ranks passages by BM25, a title match above a body match, with their source", async () => {
    const refunds = source(websiteId, { title: "Refunds" });
    const shipping = source(websiteId, { title: "Shipping", url: null });
    await stores.knowledge.createSource(
      refunds,
      await passages("Refunds", ["We process refunds within five days.", "Contact billing for invoices."]),
    );
    await stores.knowledge.createSource(
      shipping,
      await passages("Shipping", [
        "Parcels ship in two days. A refund of shipping costs is possible when a parcel is late.",
      ]),
    );
    const hits = await search(websiteId, "How do I get a refund?");
    expect(hits.map((h) => [h.source_id, h.heading])).toEqual([
      [refunds.id, ""],
      [refunds.id, "Part 1"],
      [shipping.id, ""],
    ]);
    expect(hits[0]).toMatchObject({ kind: "helpdesk", title: "Refunds", url: "https://help.example.com/a" });
    expect(hits[0]!.text).toBe("We process refunds within five days.");
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(hits[1]!.score).toBeGreaterThan(hits[2]!.score);
    expect(hits[2]!.score).toBeGreaterThan(0);
    expect(await search(websiteId, "refund", { limit: 1 })).toHaveLength(1);
    // Another website sees none of it; a query of stop words finds nothing.
    expect(await search(otherWebsiteId, "refund")).toEqual([]);
    expect(await search(websiteId, "how do I")).toEqual([]);
    expect(await search(websiteId, "xylophone")).toEqual([]);
  });

  it("keeps disabled sources out of the index and puts them back when enabled", async () => {
    const s = source(websiteId, { title: "Warranty", enabled: false });
    await stores.knowledge.createSource(s, await passages("Warranty", ["Two years of warranty on laptops."]));
    expect(await search(websiteId, "warranty")).toEqual([]);
    const enabled = await stores.knowledge.updateSource(websiteId, s.id, {
      enabled: true,
      updated_at: 2_000,
    });
    expect(enabled).toMatchObject({ enabled: true, updated_at: 2_000, passages: 1 });
    expect((await search(websiteId, "warranty")).map((h) => h.source_id)).toEqual([s.id]);
    await stores.knowledge.updateSource(websiteId, s.id, { enabled: false });
    expect(await search(websiteId, "warranty")).toEqual([]);
    // Not in another website's name.
    expect(await stores.knowledge.updateSource(otherWebsiteId, s.id, { enabled: true })).toBeUndefined();
    expect(await search(websiteId, "warranty")).toEqual([]);
  });

  it("replaces a source's passages and deletes a source with its passages", async () => {
    const s = source(websiteId, { title: "Passwords" });
    await stores.knowledge.createSource(
      s,
      await passages("Passwords", ["Reset your password from the login page."]),
    );
    expect(
      await stores.knowledge.replacePassages(
        websiteId,
        s.id,
        await passages("Passwords", ["Use the magic link."]),
        {
          status: "indexed",
          updated_at: 3_000,
        },
      ),
    ).toBe(true);
    expect((await search(websiteId, "login page")).map((h) => h.source_id)).not.toContain(s.id);
    expect((await search(websiteId, "magic link"))[0]).toMatchObject({
      source_id: s.id,
      text: "Use the magic link.",
    });
    expect(await stores.knowledge.findSource(websiteId, s.id)).toMatchObject({
      passages: 1,
      updated_at: 3_000,
    });
    expect(await stores.knowledge.replacePassages(otherWebsiteId, s.id, [], {})).toBe(false);
    expect(await stores.knowledge.deleteSource(otherWebsiteId, s.id)).toBe(false);
    expect(await stores.knowledge.deleteSource(websiteId, s.id)).toBe(true);
    expect(await stores.knowledge.deleteSource(websiteId, s.id)).toBe(false);
    expect(await search(websiteId, "magic link")).toEqual([]);
    expect(await stores.knowledge.findSource(websiteId, s.id)).toBeUndefined();
  });

  it("filters by kind and lists sources newest first in pages", async () => {
    const site = randomUUID();
    await stores.websites.create({ id: site, name: "Paged", domain: "", created_at: 1 });
    const made: SourceRecord[] = [];
    for (let i = 0; i < 5; i++) {
      const s = source(site, {
        kind: i % 2 ? "answer" : "helpdesk",
        title: `Topic ${i}`,
        created_at: 10 + (i >> 1),
      });
      made.push(s);
      await stores.knowledge.createSource(s, await passages(s.title, [`Billing topic number ${i}.`]));
    }
    const newestFirst = [...made].sort((a, b) => b.created_at - a.created_at || (b.id < a.id ? -1 : 1));
    const page1 = await stores.knowledge.listSources(site, { limit: 2 });
    const page2 = await stores.knowledge.listSources(site, { limit: 2, before: page1[1]!.id });
    const page3 = await stores.knowledge.listSources(site, { limit: 2, before: page2[1]!.id });
    expect([...page1, ...page2, ...page3].map((s) => s.id)).toEqual(newestFirst.map((s) => s.id));
    expect(
      (await stores.knowledge.listSources(site, { limit: 10, kind: "answer" })).map((s) => s.kind),
    ).toEqual(["answer", "answer"]);
    expect(await stores.knowledge.listSources(websiteId, { limit: 10, before: made[0]!.id })).toEqual([]);
    const answers = await search(site, "billing topic", { kind: "answer", limit: 10 });
    expect(answers.map((h) => h.kind)).toEqual(["answer", "answer"]);
  });

  it("finds the sources of a kind with exactly a URL, oldest first, in one website", async () => {
    const site = randomUUID();
    await stores.websites.create({ id: site, name: "Urls", domain: "", created_at: 1 });
    const url = "https://shop.example.com/help/returns";
    const older = source(site, { kind: "webpage", url, created_at: 5 });
    const newer = source(site, { kind: "webpage", url, created_at: 9 });
    for (const s of [
      newer,
      older,
      source(site, { kind: "helpdesk", url }),
      source(site, { kind: "webpage", url: `${url}?page=2` }),
      source(otherWebsiteId, { kind: "webpage", url }),
    ])
      await stores.knowledge.createSource(s, []);
    const found = await stores.knowledge.findSourcesByUrl(site, "webpage", url);
    expect(found.map((s) => s.id)).toEqual([older.id, newer.id]);
    expect(await stores.knowledge.findSourcesByUrl(site, "webpage", "https://shop.example.com/")).toEqual([]);
  });
});
