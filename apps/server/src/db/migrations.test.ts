import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { DIALECTS, type TestDatabase } from "../../test/databases.ts";
import { sha256Hex } from "../core/crypto.ts";
import { TokenService } from "../core/tokens.ts";
import { SqlEmbeddingStore } from "./embedding-store.ts";
import { migrateToLatest } from "./migrations.ts";
import { createStores } from "./stores.ts";

describe.each(DIALECTS)("migrations on $dialect", ({ fresh }) => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it("0004 keeps every step of existing runs, in order, with all its fields", async () => {
    db = await fresh("0003_workflows");
    const k = db.database.db;
    await sql`insert into websites (id, name, domain, created_at, last_seq) values ('w1', 'Site', '', 1, 0)`.execute(
      k,
    );
    await sql`insert into workflow_runs (id, website_id, workflow_id, version, session_id, status, source,
        block_id, step, variables, started_at, updated_at)
      values ('run_1', 'w1', 'scenario_1', 1, 'session_1', 'completed', 'api', 'b2', 2, '{}', 1, 1)`.execute(
      k,
    );
    await sql`insert into workflow_run_steps (run_id, website_id, step, block_id, kind, outcome, handle, at,
        duration_ms, log)
      values ('run_1', 'w1', 1, 'b1', 'action.text', 'failed', 'failure', 1001, 0.5, '["sent", "quote \\" here"]'),
             ('run_1', 'w1', 0, 'start', 'start.code', 'next', null, 1000, 0.25, '[]')`.execute(k);

    expect(await migrateToLatest(k, db.database.dialect)).toContain("0004_run_step_batches");
    const stores = createStores(k, db.database.sqlite);
    expect(await stores.workflows.listSteps("w1", "run_1")).toEqual([
      {
        run_id: "run_1",
        website_id: "w1",
        step: 0,
        block_id: "start",
        kind: "start.code",
        outcome: "next",
        handle: null,
        at: 1000,
        duration_ms: 0.25,
        log: [],
      },
      {
        run_id: "run_1",
        website_id: "w1",
        step: 1,
        block_id: "b1",
        kind: "action.text",
        outcome: "failed",
        handle: "failure",
        at: 1001,
        duration_ms: 0.5,
        log: ["sent", 'quote " here'],
      },
    ]);
    expect(await stores.workflows.listSteps("w2", "run_1")).toEqual([]);
  });

  it("0007 adds settings and vectors that go with their passage, on existing knowledge", async () => {
    db = await fresh("0006_agent");
    const k = db.database.db;
    await sql`insert into websites (id, name, domain, created_at, last_seq) values ('w1', 'Site', '', 1, 0)`.execute(
      k,
    );
    await sql`insert into knowledge_sources (id, website_id, kind, title, url, locale, enabled, status, error,
        passages, content, created_at, updated_at)
      values ('source_1', 'w1', 'answer', 'Q', null, null, 1, 'indexed', null, 1, '{}', 1, 1)`.execute(k);
    await sql`insert into knowledge_passages (website_id, source_id, ord, heading, text, title_terms, body_terms)
      values ('w1', 'source_1', 0, '', 'An answer', 'q', 'answer')`.execute(k);

    expect(await migrateToLatest(k, db.database.dialect)).toContain("0007_knowledge_embeddings");
    const store = new SqlEmbeddingStore(k);
    const [passage] = await store.missing("w1", "m", 10);
    expect(passage).toMatchObject({ title: "Q", text: "An answer" });
    expect(
      await store.putVectors("w1", "m", [{ passage_id: passage!.id, vector: Float32Array.of(0.6, 0.8) }]),
    ).toBe(1);
    expect(await store.progress("w1", "m")).toEqual({ embedded: 1, passages: 1 });
    await sql`delete from knowledge_passages`.execute(k);
    expect(await store.version("w1", "m")).toBe("0:0");
  });

  it("0009 keeps existing tokens working but hash-only, and seals the secrets of new ones", async () => {
    db = await fresh("0008_knowledge_passages_site");
    const k = db.database.db;
    await sql`insert into websites (id, name, domain, created_at, last_seq) values ('w1', 'Site', '', 1, 0)`.execute(
      k,
    );
    const id = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b";
    const key = "ab".repeat(32);
    await sql`insert into api_tokens (id, website_id, name, scopes, secret_hash, hint, created_at)
      values (${id}, 'w1', 'old', '["workflows:trigger"]', ${sha256Hex(key)}, 'ababab', 1)`.execute(k);

    expect(await migrateToLatest(k, db.database.dialect)).toContain("0009_token_sealed");
    const tokens = new TokenService(
      createStores(k, db.database.sqlite),
      "a server secret of at least 32 chars!",
    );
    expect(await tokens.authenticate(id, key)).toMatchObject({ websiteId: "w1", tokenId: id });
    await expect(tokens.reveal("w1", id)).rejects.toMatchObject({
      reason: "token_not_revealable",
      message: expect.stringContaining("only its hash is stored"),
    });
    const created = await tokens.create("w1", { name: "new" });
    expect(await tokens.reveal("w1", created.id)).toBe(created.token);
    const row = await k
      .selectFrom("api_tokens")
      .select("secret_sealed")
      .where("id", "=", created.id)
      .executeTakeFirstOrThrow();
    expect(row.secret_sealed).toMatch(/^v1\./);
    expect(row.secret_sealed).not.toContain(created.key);
    await expect(tokens.reveal("w2", created.id)).rejects.toMatchObject({ reason: "token_not_found" });
  });
});
