import type { SourceKind } from "@hugo/protocol";
import { type Kysely, sql } from "kysely";
import type { KnowledgeStore, PassageHit, PassageInput, SourceRecord } from "../core/ports.ts";
import { inTransaction } from "./conversation-store.ts";
import type { DB, KnowledgeSourcesTable } from "./schema.ts";
import { isPostgres, SqlStore } from "./sql-store.ts";

/**
 * BM25 as SQLite's FTS5 computes it (k1 1.2, b 0.75; a term's frequency is the sum over columns of
 * weight × count; the document length is all columns' terms), so both databases rank alike. The
 * title (an answer's question, an article's title and the passage's headings) weighs 3 body terms.
 */
export const TITLE_WEIGHT = 3;
const K1 = 1.2;
const B = 0.75;

const toSource = (r: KnowledgeSourcesTable): SourceRecord => ({
  ...r,
  kind: r.kind as SourceKind,
  enabled: r.enabled === 1,
  status: r.status as SourceRecord["status"],
  passages: Number(r.passages),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

const fromSource = (s: SourceRecord): KnowledgeSourcesTable => ({ ...s, enabled: s.enabled ? 1 : 0 });

/** At most this many passages per insert statement (SQLite's parameter limit is 32,766). */
const ROWS_PER_INSERT = 500;

type Indexed = { id: number; titleTerms: string[]; bodyTerms: string[] };

export class SqlKnowledgeStore extends SqlStore implements KnowledgeStore {
  createSource(source: SourceRecord, passages: PassageInput[]): Promise<void> {
    return inTransaction(this.db, async (trx) => {
      await trx
        .insertInto("knowledge_sources")
        .values(fromSource({ ...source, passages: passages.length }))
        .execute();
      await this.#insertPassages(trx, source.website_id, source.id, passages, source.enabled);
    });
  }

  replacePassages(
    websiteId: string,
    sourceId: string,
    passages: PassageInput[],
    patch: Partial<Pick<SourceRecord, "title" | "status" | "error" | "content" | "updated_at">>,
  ): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const row = await trx
        .updateTable("knowledge_sources")
        .set({ ...patch, passages: passages.length })
        .where("website_id", "=", websiteId)
        .where("id", "=", sourceId)
        .returning("enabled")
        .executeTakeFirst();
      if (!row) return false;
      await this.#unindex(trx, websiteId, sourceId);
      await trx.deleteFrom("knowledge_passages").where("source_id", "=", sourceId).execute();
      await this.#insertPassages(trx, websiteId, sourceId, passages, row.enabled === 1);
      return true;
    });
  }

  updateSource(
    websiteId: string,
    sourceId: string,
    patch: Partial<Pick<SourceRecord, "enabled" | "locale" | "status" | "error" | "updated_at">>,
  ): Promise<SourceRecord | undefined> {
    return inTransaction(this.db, async (trx) => {
      const before = await trx
        .selectFrom("knowledge_sources")
        .select("enabled")
        .where("website_id", "=", websiteId)
        .where("id", "=", sourceId)
        .executeTakeFirst();
      if (!before) return undefined;
      const { enabled, ...rest } = patch;
      const row = await trx
        .updateTable("knowledge_sources")
        .set({ ...rest, ...(enabled === undefined ? {} : { enabled: enabled ? 1 : 0 }) })
        .where("website_id", "=", websiteId)
        .where("id", "=", sourceId)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (enabled !== undefined && enabled !== (before.enabled === 1)) {
        if (enabled) await this.#index(trx, websiteId, await this.#indexedOf(trx, sourceId));
        else await this.#unindex(trx, websiteId, sourceId);
      }
      return toSource(row);
    });
  }

  async findSource(websiteId: string, sourceId: string): Promise<SourceRecord | undefined> {
    const row = await this.db
      .selectFrom("knowledge_sources")
      .selectAll()
      .where("website_id", "=", websiteId)
      .where("id", "=", sourceId)
      .executeTakeFirst();
    return row && toSource(row);
  }

  async findSourcesByUrl(websiteId: string, kind: SourceKind, url: string): Promise<SourceRecord[]> {
    const rows = await this.db
      .selectFrom("knowledge_sources")
      .selectAll()
      .where("website_id", "=", websiteId)
      .where("kind", "=", kind)
      .where("url", "=", url)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toSource);
  }

  async listSources(
    websiteId: string,
    query: {
      kind?: SourceKind | undefined;
      enabled?: boolean | undefined;
      before?: string | undefined;
      limit: number;
    },
  ): Promise<SourceRecord[]> {
    let q = this.db.selectFrom("knowledge_sources").selectAll().where("website_id", "=", websiteId);
    if (query.kind) q = q.where("kind", "=", query.kind);
    if (query.enabled !== undefined) q = q.where("enabled", "=", query.enabled ? 1 : 0);
    if (query.before) {
      const cursor = await this.findSource(websiteId, query.before);
      if (!cursor) return [];
      q = q.where((eb) =>
        eb.or([
          eb("created_at", "<", cursor.created_at),
          eb.and([eb("created_at", "=", cursor.created_at), eb("id", "<", cursor.id)]),
        ]),
      );
    }
    const rows = await q.orderBy("created_at", "desc").orderBy("id", "desc").limit(query.limit).execute();
    return rows.map(toSource);
  }

  deleteSource(websiteId: string, sourceId: string): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      await this.#unindex(trx, websiteId, sourceId);
      const res = await trx
        .deleteFrom("knowledge_sources")
        .where("website_id", "=", websiteId)
        .where("id", "=", sourceId)
        .executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  async termStats(
    websiteId: string,
    terms: string[],
  ): Promise<{ passages: number; df: Record<string, number> }> {
    const distinct = [...new Set(terms)];
    const df: Record<string, number> = Object.fromEntries(distinct.map((t) => [t, 0]));
    if (isPostgres(this.db)) {
      const stats = await sql<{ passages: number }>`select passages from knowledge_stats
        where website_id = ${websiteId}`.execute(this.db);
      if (distinct.length) {
        const { rows } = await sql<{ term: string; n: string | number }>`select term, count(*) as n
          from knowledge_postings where website_id = ${websiteId} and term = any(${distinct}::text[])
          group by term`.execute(this.db);
        for (const r of rows) df[r.term] = Number(r.n);
      }
      return { passages: Number(stats.rows[0]?.passages ?? 0), df };
    }
    const { rows: total } = await sql<{ n: number }>`select count(*) as n from knowledge_fts`.execute(
      this.db,
    );
    if (distinct.length) {
      const { rows } = await sql<{ term: string; doc: number }>`select term, doc from knowledge_vocab
        where term in (${sql.join(distinct)})`.execute(this.db);
      for (const r of rows) df[r.term] = Number(r.doc);
    }
    return { passages: Number(total[0]?.n ?? 0), df };
  }

  async search(
    websiteId: string,
    terms: string[],
    options: { limit: number; kind?: SourceKind | undefined; locale?: string | undefined },
  ): Promise<PassageHit[]> {
    const distinct = [...new Set(terms)];
    if (distinct.length === 0) return [];
    const kind = options.kind ?? null;
    const locale = options.locale ?? null;
    const limit = options.limit;
    type Row = {
      passage_id: number | string;
      source_id: string;
      kind: string;
      title: string;
      url: string | null;
      heading: string;
      text: string;
      score: number;
    };
    let rows: Row[];
    if (isPostgres(this.db)) {
      ({ rows } = await sql<Row>`
        with st as (
          select passages::float8 as n, len::float8 / greatest(passages, 1) as avgdl
          from knowledge_stats where website_id = ${websiteId}
        ),
        -- One pass over the query terms' postings: each row with its term's document count.
        p as (
          -- float8 throughout: an integer times a numeric literal would be numeric, several times slower.
          select term, passage_id, tf::float8 as tf, len::float8 as len,
            (count(*) over (partition by term))::float8 as df
          from knowledge_postings
          where website_id = ${websiteId} and term = any(${distinct}::text[])
        ),
        ranked as (
          select p.passage_id, sum(greatest(ln((st.n - p.df + 0.5) / (p.df + 0.5)), 1e-6) * (p.tf * ${sql.lit(K1 + 1)}) /
            (p.tf + ${sql.lit(K1)} * (1 - ${sql.lit(B)} + ${sql.lit(B)} * p.len / st.avgdl))) as score
          from p, st
          group by p.passage_id
          ${kind === null && locale === null ? sql`order by score desc, p.passage_id limit ${limit}` : sql``}
        )
        select k.id as passage_id, s.id as source_id, s.kind, s.title, s.url, k.heading, k.text, r.score
        from ranked r
        join knowledge_passages k on k.id = r.passage_id
        join knowledge_sources s on s.id = k.source_id
        where (${kind}::text is null or s.kind = ${kind})
          and (${locale}::text is null or s.locale is null or s.locale = ${locale} or s.locale like ${`${locale}-%`})
        order by r.score desc, k.id
        limit ${limit}`.execute(this.db));
    } else {
      const match = distinct.map((t) => `"${t.replaceAll('"', '""')}"`).join(" OR ");
      // Ranks passage ids first (reading only each match's website), then joins the text of the
      // few kept: a common word matches thousands of passages.
      const filtered = kind !== null || locale !== null;
      ({ rows } = await sql<Row>`
        with ranked as (
          select f.rowid as id, bm25(knowledge_fts, ${TITLE_WEIGHT}, 1.0) as rank
          from knowledge_fts f
          -- The narrow covering index, not the passages' wide rows (migration 0008).
          join knowledge_passages k indexed by knowledge_passages_site on k.id = f.rowid
          ${filtered ? sql`join knowledge_sources s on s.id = k.source_id` : sql``}
          where knowledge_fts match ${match} and k.website_id = ${websiteId}
          ${
            filtered
              ? sql`and (${kind} is null or s.kind = ${kind}) and (${locale} is null or s.locale is null
                  or s.locale = ${locale} or s.locale like ${`${locale}-%`})`
              : sql``
          }
          order by rank, f.rowid
          limit ${limit}
        )
        select k.id as passage_id, s.id as source_id, s.kind, s.title, s.url, k.heading, k.text, -r.rank as score
        from ranked r
        join knowledge_passages k on k.id = r.id
        join knowledge_sources s on s.id = k.source_id
        order by r.rank, r.id`.execute(this.db));
    }
    return rows.map((r) => ({
      ...r,
      passage_id: Number(r.passage_id),
      kind: r.kind as SourceKind,
      score: Number(r.score),
    }));
  }

  async #insertPassages(
    trx: Kysely<DB>,
    websiteId: string,
    sourceId: string,
    passages: PassageInput[],
    enabled: boolean,
  ): Promise<void> {
    const indexed: Indexed[] = [];
    for (let i = 0; i < passages.length; i += ROWS_PER_INSERT) {
      const slice = passages.slice(i, i + ROWS_PER_INSERT);
      const ids = await trx
        .insertInto("knowledge_passages")
        .values(
          slice.map((p) => ({
            website_id: websiteId,
            source_id: sourceId,
            ord: p.ord,
            heading: p.heading,
            text: p.text,
            title_terms: p.titleTerms.join(" "),
            body_terms: p.bodyTerms.join(" "),
          })),
        )
        .returning("id")
        .execute();
      ids.forEach((r, j) => {
        indexed.push({ id: Number(r.id), titleTerms: slice[j]!.titleTerms, bodyTerms: slice[j]!.bodyTerms });
      });
    }
    if (enabled) await this.#index(trx, websiteId, indexed);
  }

  async #indexedOf(trx: Kysely<DB>, sourceId: string): Promise<Indexed[]> {
    const rows = await trx
      .selectFrom("knowledge_passages")
      .select(["id", "title_terms", "body_terms"])
      .where("source_id", "=", sourceId)
      .execute();
    const split = (s: string) => (s ? s.split(" ") : []);
    return rows.map((r) => ({
      id: Number(r.id),
      titleTerms: split(r.title_terms),
      bodyTerms: split(r.body_terms),
    }));
  }

  /** Adds passages to the BM25 index. */
  async #index(trx: Kysely<DB>, websiteId: string, passages: Indexed[]): Promise<void> {
    if (passages.length === 0) return;
    if (!isPostgres(trx)) {
      for (let i = 0; i < passages.length; i += ROWS_PER_INSERT) {
        const rows = passages
          .slice(i, i + ROWS_PER_INSERT)
          .map((p) => sql`(${p.id}, ${p.titleTerms.join(" ")}, ${p.bodyTerms.join(" ")})`);
        await sql`insert into knowledge_fts (rowid, title, body) values ${sql.join(rows)}`.execute(trx);
      }
      return;
    }
    const ids: number[] = [];
    const terms: string[] = [];
    const tfs: number[] = [];
    const lens: number[] = [];
    let total = 0;
    for (const p of passages) {
      const len = p.titleTerms.length + p.bodyTerms.length;
      total += len;
      const tf = new Map<string, number>();
      for (const t of p.titleTerms) tf.set(t, (tf.get(t) ?? 0) + TITLE_WEIGHT);
      for (const t of p.bodyTerms) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const [term, f] of tf) {
        ids.push(p.id);
        terms.push(term);
        tfs.push(f);
        lens.push(len);
      }
    }
    await sql`insert into knowledge_postings (website_id, term, passage_id, tf, len)
      select ${websiteId}, * from unnest(${terms}::text[], ${ids}::bigint[], ${tfs}::real[], ${lens}::int[])`.execute(
      trx,
    );
    await this.#stats(trx, websiteId, passages.length, total);
  }

  /** Removes a source's passages from the BM25 index, and their vectors (embedded again when enabled). */
  async #unindex(trx: Kysely<DB>, websiteId: string, sourceId: string): Promise<void> {
    await sql`delete from knowledge_embeddings where passage_id in
      (select id from knowledge_passages where source_id = ${sourceId})`.execute(trx);
    if (!isPostgres(trx)) {
      await sql`delete from knowledge_fts where rowid in
        (select id from knowledge_passages where source_id = ${sourceId})`.execute(trx);
      return;
    }
    const { rows } = await sql<{ n: string | number; len: string | number }>`
      with gone as (
        delete from knowledge_postings where passage_id in
          (select id from knowledge_passages where source_id = ${sourceId})
        returning passage_id, len
      ),
      per as (select distinct passage_id, len from gone)
      select count(*) as n, coalesce(sum(len), 0) as len from per`.execute(trx);
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) await this.#stats(trx, websiteId, -n, -Number(rows[0]!.len));
  }

  async #stats(trx: Kysely<DB>, websiteId: string, passages: number, len: number): Promise<void> {
    await sql`insert into knowledge_stats (website_id, passages, len) values (${websiteId}, ${passages}, ${len})
      on conflict (website_id) do update set passages = knowledge_stats.passages + excluded.passages,
        len = knowledge_stats.len + excluded.len`.execute(trx);
  }
}
