import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AgentSite, agentSite } from "../../../test/agent-site.ts";
import { type FakeLlm, startFakeLlm } from "../../../test/fake-llm.ts";
import { type RunningHugo, startHugo } from "../../../test/hugo.ts";

type Json = Record<string, unknown>;
const KEY = "sk-embed-7c1d9e2a4b";

/**
 * Hybrid search with an embedding provider: real HTTP, the real job queue and database, and the
 * fake LLM server's deterministic `/v1/embeddings` (hashed words, a few synonyms) as the provider.
 */
describe.each(["sqlite", "postgres"] as const)("knowledge embeddings on %s", (dialect) => {
  let server: RunningHugo;
  let llm: FakeLlm;
  let t: AgentSite;
  const provider = (extra: Json = {}) => ({
    kind: "openai-compatible",
    base_url: `${llm.url}/v1`,
    model: "embed-test",
    api_key: KEY,
    ...extra,
  });
  const setEmbeddings = async (embeddings: Json | null) => {
    const res = await t.api("PATCH", "/api/knowledge/settings", { embeddings });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data;
  };
  const settings = async () => (await t.api("GET", "/api/knowledge/settings")).body.data;
  /** Settings once every enabled passage has its vector. */
  const allEmbedded = () =>
    t.poll("every passage embedded", async () => {
      const s = await settings();
      return s.passages > 0 && s.embedded === s.passages ? s : undefined;
    });
  const search = async (q: string) => {
    const res = await t.api("GET", `/api/knowledge/search?q=${encodeURIComponent(q)}&limit=5`);
    expect(res.status).toBe(200);
    return res.body as unknown as { mode: string; data: { title: string; score: number }[] };
  };
  const addSource = async (title: string, body: string) => {
    const res = await t.api("POST", "/api/knowledge/sources", {
      kind: "helpdesk",
      title,
      format: "markdown",
      body,
    });
    expect(res.status).toBe(201);
    return res.body.data.source_id as string;
  };
  /** Vectors stored for a source's passages, read from the database itself. */
  const vectorsOf = async (sourceId: string) => {
    const { rows } = await sql<{ n: string | number }>`select count(*) as n from knowledge_embeddings e
      join knowledge_passages k on k.id = e.passage_id where k.source_id = ${sourceId}`.execute(
      server.hugo.database.db,
    );
    return Number(rows[0]!.n);
  };
  const embeddingCalls = () => llm.requests.filter((r) => r.path === "/v1/embeddings");

  let refunds: string;
  beforeAll(async () => {
    llm = await startFakeLlm({ apiKey: KEY });
    server = await startHugo(dialect, { OUTBOUND_ALLOW_HOSTS: "127.0.0.1" });
    t = await agentSite(server, "Acme");
    refunds = await addSource(
      "Refunds",
      "# Refunds\n\nWe refund any order within 30 days of purchase, to the card you paid with.",
    );
    await addSource(
      "Shipping",
      "# Shipping\n\nParcels leave our warehouse within two business days and arrive in three to five days.",
    );
    await t.api("POST", "/api/knowledge/sources", {
      kind: "answer",
      question: "Do you have a store in Paris?",
      answer: "Yes, on Rue de Rivoli, open every day from 10 to 19.",
    });
  });
  beforeEach(() => {
    llm.requests.length = 0;
    llm.scriptEmbeddings();
    llm.embeddingFallback = { text: "" };
  });
  afterAll(async () => {
    t?.ws.ws.close();
    await server?.stop();
    await llm?.close();
  });

  it("keeps the key sealed, bound to its base URL, and refuses a provider it cannot use", async () => {
    expect(await settings()).toEqual({ embeddings: null, embedded: 0, passages: 3 });
    const cases: [Json, string, string][] = [
      [provider({ base_url: "http://10.0.0.7/v1" }), "url_not_allowed", "embeddings.base_url"],
      [provider({ base_url: "file:///etc/passwd" }), "url_not_allowed", "embeddings.base_url"],
      [provider({ dimensions: 0 }), "invalid_body", "embeddings.dimensions"],
      [provider({ kind: "anthropic" }), "invalid_body", "embeddings.kind"],
      [provider({ model: "" }), "invalid_body", "embeddings.model"],
    ];
    for (const [embeddings, reason, field] of cases) {
      const res = await t.api("PATCH", "/api/knowledge/settings", { embeddings });
      expect(res.status, JSON.stringify(embeddings)).toBe(400);
      expect(res.body).toMatchObject({ error: true, reason });
      expect(JSON.stringify(res.body.data)).toContain(field);
    }
    expect((await settings()).embeddings).toBeNull();

    const shown = await setEmbeddings(provider({ dimensions: 32 }));
    expect(shown.embeddings).toEqual({
      kind: "openai-compatible",
      base_url: `${llm.url}/v1`,
      model: "embed-test",
      dimensions: 32,
      api_key_set: true,
    });
    expect(JSON.stringify(await settings())).not.toContain(KEY);
    const { rows } = await sql<{ embeddings: string }>`select embeddings from knowledge_settings
      where website_id = ${t.own.websiteId}`.execute(server.hugo.database.db);
    expect(rows[0]!.embeddings).not.toContain(KEY);
    expect(rows[0]!.embeddings).toContain("api_key_sealed");

    // Another field changes: the key stays. The base URL changes without a key: it is dropped.
    const { api_key: _, ...keyless } = provider();
    expect((await setEmbeddings({ ...keyless, model: "embed-2" })).embeddings.api_key_set).toBe(true);
    const moved = await setEmbeddings({ ...keyless, base_url: `${llm.url}/v2` });
    expect(moved.embeddings.api_key_set).toBe(false);
    expect((await setEmbeddings(null)).embeddings).toBeNull();
  });

  it("embeds passages in a job, then finds by meaning what BM25 misses", async () => {
    // BM25 alone: no passage says "reimbursement".
    expect(await search("reimbursement")).toMatchObject({ mode: "bm25", data: [] });

    await setEmbeddings(provider());
    const done = await allEmbedded();
    expect(done).toMatchObject({ embedded: 3, passages: 3 });
    const calls = embeddingCalls();
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(call.body.model).toBe("embed-test");
      expect(call.body.input.length).toBeLessThanOrEqual(64);
    }

    const found = await search("reimbursement");
    expect(found.mode).toBe("hybrid");
    expect(found.data[0]).toMatchObject({ title: "Refunds" });
    // The fused score: 1 / (60 + 1) from the vector ranking alone.
    expect(found.data[0]!.score).toBeCloseTo(1 / 61, 9);
    // In both rankings, first in both: 2 / 61.
    const both = await search("refund my order");
    expect(both.mode).toBe("hybrid");
    expect(both.data[0]).toMatchObject({ title: "Refunds", score: 2 / 61 });

    // The agent's search (the same service) is hybrid too.
    const hits = await server.hugo.services.knowledge.search(t.own.websiteId, {
      q: "Can I have my money back?",
      limit: 3,
    });
    expect(hits[0]?.title).toBe("Refunds");

    // A source added now is embedded by the job enqueued with it, not within the request.
    await addSource("Gift cards", "# Gift cards\n\nGift cards never expire and work on every order.");
    expect((await settings()).passages).toBe(4);
    await allEmbedded();
    expect((await search("gift cards")).data[0]).toMatchObject({ title: "Gift cards" });
  });

  it("answers with BM25 when the provider fails or hangs, and embeds once it is back", async () => {
    await setEmbeddings(provider());
    await allEmbedded();
    llm.embeddingFallback = { status: 503 };
    expect(await search("reimbursement")).toMatchObject({ mode: "bm25", data: [] });
    const lexical = await search("refund");
    expect(lexical.mode).toBe("bm25");
    expect(lexical.data[0]).toMatchObject({ title: "Refunds" });

    // Passages added while it is down wait (the job retries with backoff); none is lost.
    const sourceId = await addSource("Returns", "# Returns\n\nReturn an item unworn, in its box, by post.");
    const triedReturns = () =>
      embeddingCalls().filter((c) => JSON.stringify(c.body.input).includes("unworn")).length;
    await t.poll("a failed call embedding the new passage", async () =>
      triedReturns() > 0 ? true : undefined,
    );
    const waiting = await settings();
    expect(waiting.embedded).toBeLessThan(waiting.passages);
    llm.embeddingFallback = { text: "" };
    await allEmbedded();
    expect(await vectorsOf(sourceId)).toBe(1);
    expect(triedReturns()).toBeGreaterThanOrEqual(2);

    // A provider that never answers: the search gives up on it within its deadline.
    llm.embeddingFallback = { hang: true };
    const started = Date.now();
    expect(await search("reimbursement")).toMatchObject({ mode: "bm25", data: [] });
    expect(Date.now() - started).toBeLessThan(5_000);
    llm.embeddingFallback = { text: "" };
  });

  it("drops a source's vectors when it is disabled or deleted, and the old model's on a change", async () => {
    await setEmbeddings(provider());
    await allEmbedded();
    expect(await vectorsOf(refunds)).toBe(1);

    expect((await t.api("PATCH", `/api/knowledge/sources/${refunds}`, { enabled: false })).status).toBe(200);
    expect(await vectorsOf(refunds)).toBe(0);
    const found = await search("reimbursement");
    expect(found.data.map((h) => h.title)).not.toContain("Refunds");
    // Enabled again: embedded again.
    expect((await t.api("PATCH", `/api/knowledge/sources/${refunds}`, { enabled: true })).status).toBe(200);
    await allEmbedded();
    expect(await vectorsOf(refunds)).toBe(1);
    expect((await search("reimbursement")).data[0]).toMatchObject({ title: "Refunds" });

    // Another model: the old vectors go, every passage is embedded again with the new one.
    llm.requests.length = 0;
    const changed = await setEmbeddings(provider({ model: "embed-3" }));
    expect(changed.embedded).toBe(0);
    await allEmbedded();
    expect(embeddingCalls().every((c) => c.body.model === "embed-3")).toBe(true);
    const { rows } = await sql<{
      n: string | number;
    }>`select count(distinct model) as n from knowledge_embeddings
      where website_id = ${t.own.websiteId}`.execute(server.hugo.database.db);
    expect(Number(rows[0]!.n)).toBe(1);

    expect((await t.api("DELETE", `/api/knowledge/sources/${refunds}`)).status).toBe(200);
    expect(await vectorsOf(refunds)).toBe(0);
    const { rows: left } = await sql<{ n: string | number }>`select count(*) as n from knowledge_embeddings e
      left join knowledge_passages k on k.id = e.passage_id where k.id is null`.execute(
      server.hugo.database.db,
    );
    expect(Number(left[0]!.n)).toBe(0);

    // No provider: BM25, and no vectors kept.
    await setEmbeddings(null);
    expect((await search("parcels")).mode).toBe("bm25");
    const { rows: none } = await sql<{ n: string | number }>`select count(*) as n from knowledge_embeddings
      where website_id = ${t.own.websiteId}`.execute(server.hugo.database.db);
    expect(Number(none[0]!.n)).toBe(0);
  });
});
