import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS, type TestDatabase } from "../../test/databases.ts";
import { normalise, type StoredEmbeddings } from "../agent/knowledge/embeddings.ts";
import type { SourceRecord, Stores } from "../core/ports.ts";
import { SqlEmbeddingStore } from "./embedding-store.ts";
import { createStores } from "./stores.ts";

describe.each(DIALECTS)("embedding store contract on $dialect", ({ fresh }) => {
  let tdb: TestDatabase;
  let stores: Stores;
  let store: SqlEmbeddingStore;
  let site: string;
  let other: string;

  beforeAll(async () => {
    tdb = await fresh();
    stores = createStores(tdb.database.db, tdb.database.sqlite);
    store = new SqlEmbeddingStore(tdb.database.db);
    site = randomUUID();
    other = randomUUID();
    for (const id of [site, other])
      await stores.websites.create({ id, name: "Site", domain: "", created_at: 1 });
  });
  afterAll(() => tdb.drop());

  const addSource = async (websiteId: string, texts: string[], patch: Partial<SourceRecord> = {}) => {
    const record: SourceRecord = {
      id: `source_${randomUUID()}`,
      website_id: websiteId,
      kind: "helpdesk",
      title: "Article",
      url: null,
      locale: "en",
      enabled: true,
      status: "indexed",
      error: null,
      passages: 0,
      content: "{}",
      created_at: 1,
      updated_at: 1,
      ...patch,
    };
    await stores.knowledge.createSource(
      record,
      texts.map((text, ord) => ({
        ord,
        heading: ord ? `Part ${ord}` : "",
        text,
        titleTerms: [],
        bodyTerms: [text],
      })),
    );
    return record.id;
  };
  const vec = (...xs: number[]) => normalise(xs);

  it("stores settings per website, JSON in and out, and null", async () => {
    const e: StoredEmbeddings = {
      kind: "openai-compatible",
      base_url: "https://api.example.com/v1",
      model: "m",
      dimensions: null,
      api_key_sealed: "sealed",
    };
    expect(await store.getSettings(site)).toBeNull();
    await store.putSettings(site, e, 1);
    await store.putSettings(site, { ...e, model: "m2" }, 2);
    expect(await store.getSettings(site)).toEqual({ ...e, model: "m2" });
    expect(await store.getSettings(other)).toBeNull();
    await store.putSettings(site, null, 3);
    expect(await store.getSettings(site)).toBeNull();
  });

  it("lists missing passages, stores vectors exactly, counts progress, and changes version on every write", async () => {
    const a = await addSource(site, ["alpha", "beta"], { title: "A" });
    await addSource(other, ["gamma"]);
    const missing = await store.missing(site, "m1", 10);
    expect(missing.map((p) => [p.title, p.heading, p.text])).toEqual([
      ["A", "", "alpha"],
      ["A", "Part 1", "beta"],
    ]);
    expect(await store.missing(site, "m1", 1)).toHaveLength(1);
    const v0 = await store.version(site, "m1");
    expect(v0).toBe("0:0");
    const stored = await store.putVectors(site, "m1", [
      { passage_id: missing[0]!.id, vector: vec(1, 2, 3) },
      // Another website's passage id is never stored under this website.
      { passage_id: (await store.missing(other, "m1", 1))[0]!.id, vector: vec(1, 0, 0) },
    ]);
    expect(stored).toBe(1);
    // Stored twice: kept once.
    expect(await store.putVectors(site, "m1", [{ passage_id: missing[0]!.id, vector: vec(9, 9, 9) }])).toBe(
      0,
    );
    const v1 = await store.version(site, "m1");
    expect(v1).not.toBe(v0);
    expect(await store.progress(site, "m1")).toEqual({ embedded: 1, passages: 2 });
    expect(await store.progress(site, null)).toEqual({ embedded: 0, passages: 2 });
    const [row] = await store.vectors(site, "m1");
    expect(row).toMatchObject({ passage_id: missing[0]!.id, kind: "helpdesk", locale: "en" });
    expect([...row!.vector]).toEqual([...vec(1, 2, 3)]);
    expect((await store.missing(site, "m1", 10)).map((p) => p.text)).toEqual(["beta"]);
    expect(await store.passages(site, [missing[1]!.id, missing[0]!.id])).toEqual(
      expect.arrayContaining([
        {
          passage_id: missing[0]!.id,
          source_id: a,
          kind: "helpdesk",
          title: "A",
          url: null,
          heading: "",
          text: "alpha",
        },
        {
          passage_id: missing[1]!.id,
          source_id: a,
          kind: "helpdesk",
          title: "A",
          url: null,
          heading: "Part 1",
          text: "beta",
        },
      ]),
    );
    expect(await store.passages(other, [missing[0]!.id])).toEqual([]);

    // Disabling drops the source's vectors (and its passages from the count); enabling lists them again.
    await stores.knowledge.updateSource(site, a, { enabled: false });
    expect(await store.vectors(site, "m1")).toEqual([]);
    expect(await store.version(site, "m1")).not.toBe(v1);
    expect(await store.progress(site, "m1")).toEqual({ embedded: 0, passages: 0 });
    expect(await store.missing(site, "m1", 10)).toEqual([]);
    await stores.knowledge.updateSource(site, a, { enabled: true });
    expect(await store.missing(site, "m1", 10)).toHaveLength(2);

    // Reindexing replaces passages: their vectors go with them.
    await store.putVectors(site, "m1", [{ passage_id: missing[0]!.id, vector: vec(1, 0, 0) }]);
    await stores.knowledge.replacePassages(
      site,
      a,
      [{ ord: 0, heading: "", text: "new", titleTerms: [], bodyTerms: ["new"] }],
      {},
    );
    expect(await store.vectors(site, "m1")).toEqual([]);
    // Deleting the source too; and another model's vectors can be dropped on their own.
    const [fresh1] = await store.missing(site, "m1", 10);
    await store.putVectors(site, "m1", [{ passage_id: fresh1!.id, vector: vec(1, 0) }]);
    await store.putVectors(site, "m2", [{ passage_id: fresh1!.id, vector: vec(0, 1) }]);
    await store.deleteVectorsExcept(site, "m2");
    expect(await store.vectors(site, "m1")).toEqual([]);
    expect(await store.vectors(site, "m2")).toHaveLength(1);
    await stores.knowledge.deleteSource(site, a);
    expect(await store.vectors(site, "m2")).toEqual([]);
    // A vector for a passage that is gone is not stored (no foreign-key failure).
    expect(await store.putVectors(site, "m2", [{ passage_id: fresh1!.id, vector: vec(1) }])).toBe(0);
  });
});
