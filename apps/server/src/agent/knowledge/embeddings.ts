import { createHash } from "node:crypto";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type {
  EmbeddingProvider,
  KnowledgeSettings,
  KnowledgeSettingsUpdate,
  SourceKind,
} from "@hugo/protocol";
import { type EmbeddingModel, embed, embedMany } from "ai";
import { unseal } from "../../core/crypto.ts";
import type { JobQueue } from "../../core/jobs.ts";
import type { PassageHit, Stores } from "../../core/ports.ts";
import type { OutboundPolicy } from "../../outbound/guarded-request.ts";
import { bindApiKey } from "./api-key.ts";

/** The job that embeds a website's passages that have no vector for its current model. */
export const KNOWLEDGE_EMBED = "knowledge.embed";

/** An embedding provider as stored: its key sealed (AES-GCM under the server secret). */
export interface StoredEmbeddings {
  kind: "openai-compatible";
  base_url: string;
  model: string;
  dimensions: number | null;
  api_key_sealed: string | null;
}

/** A passage waiting for its vector, with what it is embedded from. */
export interface PassageToEmbed {
  id: number;
  title: string;
  heading: string;
  text: string;
}

/** A vector of an enabled source's passage, with what searches filter on. */
export interface StoredVector {
  passage_id: number;
  kind: SourceKind;
  locale: string | null;
  vector: Float32Array;
}

export type VectorPassage = Omit<PassageHit, "score">;

/** Embedding settings and vectors, per website (SQL: db/embedding-store.ts). */
export interface EmbeddingStore {
  getSettings(websiteId: string): Promise<StoredEmbeddings | null>;
  putSettings(websiteId: string, embeddings: StoredEmbeddings | null, at: number): Promise<void>;
  /** Deletes the website's vectors of every model but `model` (all of them for null). */
  deleteVectorsExcept(websiteId: string, model: string | null): Promise<void>;
  /** Passages of enabled sources without a vector for `model`, oldest first. */
  missing(websiteId: string, model: string, limit: number): Promise<PassageToEmbed[]>;
  /** Stores vectors of passages still there (of enabled sources); answers how many were added. */
  putVectors(
    websiteId: string,
    model: string,
    vectors: { passage_id: number; vector: Float32Array }[],
  ): Promise<number>;
  /** Enabled sources' passages, and how many of them have a vector for `model`. */
  progress(websiteId: string, model: string | null): Promise<{ embedded: number; passages: number }>;
  /** Changes whenever the website's vectors for `model` do (for caches). */
  version(websiteId: string, model: string): Promise<string>;
  /** The vectors of enabled sources' passages. */
  vectors(websiteId: string, model: string): Promise<StoredVector[]>;
  /** These passages (of enabled sources of the website), in no particular order. */
  passages(websiteId: string, ids: number[]): Promise<VectorPassage[]>;
}

/** What provider keys are sealed for (the key derivation's purpose). */
const KEY_PURPOSE = "embedding-provider-key";
/** Passages per embedding call. */
export const EMBED_BATCH = 64;
/** A batch of passages may take this long; a failure is retried by the job queue, with backoff. */
const BATCH_TIMEOUT_MS = 60_000;
/** A query's embedding may take this long before the search goes on with BM25 alone. */
const QUERY_TIMEOUT_MS = 2_000;
/** Characters of a passage embedded (passages are ≤ 180 words; this only bounds odd ones). */
const MAX_EMBED_CHARS = 8_000;
/** Websites whose vectors are kept in memory. */
const CACHED_WEBSITES = 64;

/** Which provider, model and dimensions made a vector: vectors of different ones never mix. */
export const modelKey = (e: Pick<StoredEmbeddings, "base_url" | "model" | "dimensions">): string =>
  createHash("sha256")
    .update(JSON.stringify([e.base_url, e.model, e.dimensions]))
    .digest("hex")
    .slice(0, 24);

/** Scales to length 1 (a zero vector stays zero), so cosine similarity is a dot product. */
export function normalise(values: ArrayLike<number>): Float32Array {
  const v = Float32Array.from(values);
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

/** A website's embedding settings and the state of its vectors for them, as `active` found them. */
export interface ActiveVectors {
  settings: StoredEmbeddings;
  key: string;
  version: string;
}

/** A website's vectors as one matrix, row i being passage ids[i]. */
interface Matrix {
  model: string;
  version: string;
  dims: number;
  ids: number[];
  kinds: SourceKind[];
  locales: (string | null)[];
  data: Float32Array;
}

const view = (e: StoredEmbeddings): EmbeddingProvider => {
  const { api_key_sealed, ...shown } = e;
  return { ...shown, api_key_set: api_key_sealed !== null };
};

/**
 * Optional embeddings for hybrid search: a website's provider (OpenAI-compatible `/embeddings`,
 * through the AI SDK and the SSRF-guarded fetch), a durable job that embeds passages without a vector
 * for the current model, and a vector ranking (brute-force cosine over the website's vectors, kept in
 * memory while they do not change) that the knowledge service fuses with BM25.
 */
export class Embeddings {
  readonly #stores: Stores;
  readonly #store: EmbeddingStore;
  readonly #jobs: JobQueue;
  readonly #secret: string;
  readonly #policy: OutboundPolicy;
  readonly #fetch: typeof fetch;
  readonly #log: (error: unknown, what: string) => void;
  readonly #cache = new Map<string, Matrix>();

  constructor(deps: {
    stores: Stores;
    store: EmbeddingStore;
    jobs: JobQueue;
    /** The server secret, which seals provider keys. */
    secret: string;
    /** Which hosts a provider's base URL may name. */
    policy: OutboundPolicy;
    /** The SSRF-guarded fetch providers are called through. */
    fetch: typeof fetch;
    log?: (error: unknown, what: string) => void;
  }) {
    this.#stores = deps.stores;
    this.#store = deps.store;
    this.#jobs = deps.jobs;
    this.#secret = deps.secret;
    this.#policy = deps.policy;
    this.#fetch = deps.fetch;
    this.#log = deps.log ?? (() => {});
  }

  async settings(websiteId: string): Promise<KnowledgeSettings> {
    const stored = await this.#store.getSettings(websiteId);
    return {
      embeddings: stored && view(stored),
      ...(await this.#store.progress(websiteId, stored && modelKey(stored))),
    };
  }

  /**
   * Sets (or removes) the provider. A new provider, model or dimension count drops the other
   * models' vectors and enqueues embedding every passage again, in the same transaction.
   */
  async updateSettings(websiteId: string, patch: KnowledgeSettingsUpdate): Promise<KnowledgeSettings> {
    await this.#stores.atomically(async () => {
      const previous = await this.#store.getSettings(websiteId);
      const input = patch.embeddings;
      let next: StoredEmbeddings | null = null;
      if (input) {
        const bound = bindApiKey({ baseUrl: input.base_url, apiKey: input.api_key }, previous, {
          secret: this.#secret,
          purpose: KEY_PURPOSE,
          policy: this.#policy,
          field: "embeddings.base_url",
        });
        next = {
          kind: input.kind,
          base_url: bound.base_url,
          model: input.model,
          dimensions: input.dimensions ?? null,
          api_key_sealed: bound.api_key_sealed,
        };
      }
      await this.#store.putSettings(websiteId, next, Date.now());
      const key = next && modelKey(next);
      if (key !== (previous && modelKey(previous))) await this.#store.deleteVectorsExcept(websiteId, key);
      // A new key for the same model may be what un-sticks failing jobs: enqueue in every case.
      if (next) await this.#enqueue(websiteId);
    });
    this.#cache.delete(websiteId);
    return this.settings(websiteId);
  }

  /**
   * Called in the transaction that added or re-enabled passages: when the website has a provider,
   * enqueues embedding them (committed, or rolled back, with the passages).
   */
  async passagesChanged(websiteId: string): Promise<void> {
    if (await this.#store.getSettings(websiteId)) await this.#enqueue(websiteId);
  }

  #enqueue(websiteId: string): Promise<void> {
    // One lane per website: jobs run one at a time, each embedding whatever is still missing then.
    return this.#jobs.enqueue(this.#stores, {
      kind: KNOWLEDGE_EMBED,
      payload: { website_id: websiteId },
      queueKey: `knowledge-embed:${websiteId}`,
    });
  }

  /**
   * The job: embeds, EMBED_BATCH at a time, the passages without a vector for the website's model.
   * Each batch is stored as it arrives; a provider failure throws, and the queue retries with
   * backoff from where it stopped.
   */
  async embedMissing(websiteId: string): Promise<void> {
    for (;;) {
      const settings = await this.#store.getSettings(websiteId);
      if (!settings) return;
      const key = modelKey(settings);
      const batch = await this.#store.missing(websiteId, key, EMBED_BATCH);
      if (batch.length === 0) return;
      const values = batch.map((p) =>
        `${p.title}${p.heading ? ` › ${p.heading}` : ""}\n\n${p.text}`.slice(0, MAX_EMBED_CHARS),
      );
      const { embeddings } = await embedMany({
        model: this.#model(settings),
        values,
        maxRetries: 0,
        maxParallelCalls: 1,
        abortSignal: AbortSignal.timeout(BATCH_TIMEOUT_MS),
        ...(settings.dimensions === null ? {} : { dimensions: settings.dimensions }),
      });
      if (embeddings.length !== batch.length || embeddings.some((e) => e.length === 0)) {
        throw new Error(
          `The embedding provider answered ${embeddings.length} vectors for ${batch.length} passages.`,
        );
      }
      const stored = await this.#store.putVectors(
        websiteId,
        key,
        batch.map((p, i) => ({ passage_id: p.id, vector: normalise(embeddings[i]!) })),
      );
      // None stored: the batch's passages went meanwhile; the next query no longer lists them. Stop
      // rather than loop should a passage be listed and never stored.
      if (stored === 0) return;
    }
  }

  /**
   * The website's vectors when its searches can be hybrid (a provider is set and some passages have
   * vectors), else undefined; `rank` takes them, so a search reads the settings once.
   */
  async active(websiteId: string): Promise<ActiveVectors | undefined> {
    const settings = await this.#store.getSettings(websiteId);
    if (!settings) return undefined;
    const key = modelKey(settings);
    const version = await this.#store.version(websiteId, key);
    return version.startsWith("0:") ? undefined : { settings, key, version };
  }

  /**
   * The website's passages closest to the query among the `active` vectors, best first (at most
   * `limit`, similarity above 0); undefined when the query cannot be embedded in time (the caller
   * searches with BM25 alone).
   */
  async rank(
    websiteId: string,
    { settings, key, version }: ActiveVectors,
    query: string,
    options: { limit: number; kind?: SourceKind | undefined; locale?: string | undefined },
  ): Promise<VectorPassage[] | undefined> {
    let q: Float32Array;
    try {
      const [matrix, { embedding }] = await Promise.all([
        this.#matrix(websiteId, key, version),
        embed({
          model: this.#model(settings),
          value: query,
          maxRetries: 0,
          abortSignal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
          ...(settings.dimensions === null ? {} : { dimensions: settings.dimensions }),
        }),
      ]);
      q = normalise(embedding);
      if (q.length !== matrix.dims)
        throw new Error(`A ${q.length}-dimension query for ${matrix.dims}-dimension vectors.`);
      const ids = topK(matrix, q, options);
      return orderBy(ids, await this.#store.passages(websiteId, ids));
    } catch (error) {
      this.#log(error, "query embedding failed; searching with BM25 alone");
      return undefined;
    }
  }

  async #matrix(websiteId: string, model: string, version: string): Promise<Matrix> {
    const cached = this.#cache.get(websiteId);
    if (cached && cached.model === model && cached.version === version) return cached;
    const rows = await this.#store.vectors(websiteId, model);
    const dims = rows[0]?.vector.length ?? 0;
    const kept = rows.filter((r) => r.vector.length === dims);
    const data = new Float32Array(kept.length * dims);
    kept.forEach((r, i) => {
      data.set(r.vector, i * dims);
    });
    const matrix: Matrix = {
      model,
      version,
      dims,
      ids: kept.map((r) => r.passage_id),
      kinds: kept.map((r) => r.kind),
      locales: kept.map((r) => r.locale),
      data,
    };
    this.#cache.delete(websiteId);
    this.#cache.set(websiteId, matrix);
    if (this.#cache.size > CACHED_WEBSITES) this.#cache.delete(this.#cache.keys().next().value!);
    return matrix;
  }

  #model(settings: StoredEmbeddings): EmbeddingModel {
    const apiKey =
      settings.api_key_sealed === null ? null : unseal(this.#secret, KEY_PURPOSE, settings.api_key_sealed);
    return createOpenAICompatible({
      name: "openai-compatible",
      baseURL: settings.base_url,
      ...(apiKey ? { apiKey } : {}),
      fetch: this.#fetch,
    }).embeddingModel(settings.model);
  }
}

/** Ids of the rows most similar to `q` (normalised), best first; filters as the BM25 search does. */
function topK(
  m: Matrix,
  q: Float32Array,
  options: { limit: number; kind?: SourceKind | undefined; locale?: string | undefined },
): number[] {
  const { kind, locale } = options;
  const best: { id: number; score: number }[] = [];
  for (let row = 0; row < m.ids.length; row++) {
    if (kind !== undefined && m.kinds[row] !== kind) continue;
    if (locale !== undefined) {
      const l = m.locales[row] ?? null;
      if (l !== null && l !== locale && !l.startsWith(`${locale}-`)) continue;
    }
    let score = 0;
    const base = row * m.dims;
    for (let i = 0; i < m.dims; i++) score += q[i]! * m.data[base + i]!;
    if (score <= 0) continue;
    if (best.length === options.limit && score <= best[best.length - 1]!.score) continue;
    // Insertion into a short sorted list: `limit` is small (tens).
    let at = best.length;
    while (at > 0 && best[at - 1]!.score < score) at--;
    best.splice(at, 0, { id: m.ids[row]!, score });
    if (best.length > options.limit) best.pop();
  }
  return best.map((b) => b.id);
}

function orderBy(ids: number[], passages: VectorPassage[]): VectorPassage[] {
  const byId = new Map(passages.map((p) => [p.passage_id, p]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}
