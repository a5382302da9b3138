import type { SourceKind } from "@hugo/protocol";
import { sql } from "kysely";
import type {
  EmbeddingStore,
  PassageToEmbed,
  StoredEmbeddings,
  StoredVector,
  VectorPassage,
} from "../agent/knowledge/embeddings.ts";
import { inTransaction } from "./conversation-store.ts";
import { SqlStore } from "./sql-store.ts";

/** At most this many vectors per insert statement. */
const ROWS_PER_INSERT = 200;

/** A vector as stored: its float32s' bytes (little-endian on every platform Node runs on). */
export const vectorBytes = (v: Float32Array): Uint8Array =>
  new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** Copies the bytes out (a driver's buffer may sit at an offset float32s cannot be read at). */
export function vectorOf(bytes: Uint8Array): Float32Array {
  const v = new Float32Array(Math.floor(bytes.byteLength / 4));
  new Uint8Array(v.buffer).set(bytes.subarray(0, v.byteLength));
  return v;
}

/** A website's embedding provider and its passages' vectors, one per passage and model. */
export class SqlEmbeddingStore extends SqlStore implements EmbeddingStore {
  async getSettings(websiteId: string): Promise<StoredEmbeddings | null> {
    const row = await this.db
      .selectFrom("knowledge_settings")
      .select("embeddings")
      .where("website_id", "=", websiteId)
      .executeTakeFirst();
    return row?.embeddings ? (JSON.parse(row.embeddings) as StoredEmbeddings) : null;
  }

  async putSettings(websiteId: string, embeddings: StoredEmbeddings | null, at: number): Promise<void> {
    const value = embeddings === null ? null : JSON.stringify(embeddings);
    await this.db
      .insertInto("knowledge_settings")
      .values({ website_id: websiteId, embeddings: value, updated_at: at })
      .onConflict((oc) => oc.column("website_id").doUpdateSet({ embeddings: value, updated_at: at }))
      .execute();
  }

  async deleteVectorsExcept(websiteId: string, model: string | null): Promise<void> {
    let q = this.db.deleteFrom("knowledge_embeddings").where("website_id", "=", websiteId);
    if (model !== null) q = q.where("model", "<>", model);
    await q.execute();
  }

  async missing(websiteId: string, model: string, limit: number): Promise<PassageToEmbed[]> {
    const rows = await this.db
      .selectFrom("knowledge_passages as k")
      .innerJoin("knowledge_sources as s", "s.id", "k.source_id")
      .select(["k.id", "s.title", "k.heading", "k.text"])
      .where("s.website_id", "=", websiteId)
      .where("s.enabled", "=", 1)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("knowledge_embeddings as e")
              .select("e.id")
              .whereRef("e.passage_id", "=", "k.id")
              .where("e.model", "=", model),
          ),
        ),
      )
      .orderBy("k.id")
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  putVectors(
    websiteId: string,
    model: string,
    vectors: { passage_id: number; vector: Float32Array }[],
  ): Promise<number> {
    if (vectors.length === 0) return Promise.resolve(0);
    return inTransaction(this.db, async (trx) => {
      // Only passages still there, of enabled sources of this website (one may have gone meanwhile).
      const live = new Set(
        (
          await trx
            .selectFrom("knowledge_passages as k")
            .innerJoin("knowledge_sources as s", "s.id", "k.source_id")
            .select("k.id")
            .where("s.website_id", "=", websiteId)
            .where("s.enabled", "=", 1)
            .where(
              "k.id",
              "in",
              vectors.map((v) => v.passage_id),
            )
            .execute()
        ).map((r) => Number(r.id)),
      );
      const rows = vectors
        .filter((v) => live.has(v.passage_id))
        .map((v) => ({
          website_id: websiteId,
          passage_id: v.passage_id,
          model,
          vector: vectorBytes(v.vector),
        }));
      let stored = 0;
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const res = await trx
          .insertInto("knowledge_embeddings")
          .values(rows.slice(i, i + ROWS_PER_INSERT))
          .onConflict((oc) => oc.columns(["passage_id", "model"]).doNothing())
          .executeTakeFirst();
        stored += Number(res.numInsertedOrUpdatedRows ?? 0);
      }
      return stored;
    });
  }

  async progress(websiteId: string, model: string | null): Promise<{ embedded: number; passages: number }> {
    const { rows } = await sql<{ passages: string | number; embedded: string | number }>`
      select count(*) as passages, count(e.id) as embedded
      from knowledge_sources s
      join knowledge_passages k on k.source_id = s.id
      left join knowledge_embeddings e on e.passage_id = k.id and e.model = ${model ?? ""}
      where s.website_id = ${websiteId} and s.enabled = 1`.execute(this.db);
    return { embedded: Number(rows[0]?.embedded ?? 0), passages: Number(rows[0]?.passages ?? 0) };
  }

  async version(websiteId: string, model: string): Promise<string> {
    // Vectors are only inserted (ids never reused) and deleted: their count and largest id change
    // with every write.
    const { rows } = await sql<{ n: string | number; last: string | number | null }>`
      select count(*) as n, max(id) as last from knowledge_embeddings
      where website_id = ${websiteId} and model = ${model}`.execute(this.db);
    return `${rows[0]?.n ?? 0}:${rows[0]?.last ?? 0}`;
  }

  async vectors(websiteId: string, model: string): Promise<StoredVector[]> {
    const rows = await this.db
      .selectFrom("knowledge_embeddings as e")
      .innerJoin("knowledge_passages as k", "k.id", "e.passage_id")
      .innerJoin("knowledge_sources as s", "s.id", "k.source_id")
      .select(["e.passage_id", "s.kind", "s.locale", "e.vector"])
      .where("e.website_id", "=", websiteId)
      .where("e.model", "=", model)
      .where("s.enabled", "=", 1)
      .execute();
    return rows.map((r) => ({
      passage_id: Number(r.passage_id),
      kind: r.kind as SourceKind,
      locale: r.locale,
      vector: vectorOf(r.vector),
    }));
  }

  async passages(websiteId: string, ids: number[]): Promise<VectorPassage[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom("knowledge_passages as k")
      .innerJoin("knowledge_sources as s", "s.id", "k.source_id")
      .select([
        "k.id as passage_id",
        "s.id as source_id",
        "s.kind",
        "s.title",
        "s.url",
        "k.heading",
        "k.text",
      ])
      .where("s.website_id", "=", websiteId)
      .where("s.enabled", "=", 1)
      .where("k.id", "in", ids)
      .execute();
    return rows.map((r) => ({ ...r, passage_id: Number(r.passage_id), kind: r.kind as SourceKind }));
  }
}
