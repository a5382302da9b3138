import { z } from "zod";
import { SourceId, WebsiteId } from "./ids.ts";

/** Crisp's knowledge source kinds (contract §5). */
export const SOURCE_KINDS = ["webpage", "helpdesk", "answer", "document"] as const;
export const SourceKind = z.enum(SOURCE_KINDS);
export type SourceKind = z.infer<typeof SourceKind>;

/** A BCP 47 language tag such as `en` or `pt-BR`. */
export const Locale = z
  .string()
  .trim()
  .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, "must be a language tag such as en or pt-BR");

const Title = z.string().trim().min(1).max(300);
const Url = z
  .string()
  .trim()
  .max(2048)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), "must be an http(s) URL");
/** Long enough for a real help-centre article; larger documents are uploaded as files. */
const Body = z.string().max(1_000_000);

export const AnswerSourceCreate = z.strictObject({
  kind: z.literal("answer"),
  question: Title,
  answer: z.string().trim().min(1).max(20_000),
  locale: Locale.optional(),
  enabled: z.boolean().optional(),
});

export const HelpdeskSourceCreate = z.strictObject({
  kind: z.literal("helpdesk"),
  title: Title,
  body: Body.refine((b) => b.trim().length > 0, "must not be empty"),
  format: z.enum(["markdown", "html", "text"]).default("markdown"),
  locale: Locale.optional(),
  url: Url.optional(),
  enabled: z.boolean().optional(),
});

export const WebpageSourceCreate = z.strictObject({
  kind: z.literal("webpage"),
  url: Url,
  /** The page's content when the caller already has it; fetched from `url` (SSRF-guarded) otherwise. */
  html: Body.optional(),
  title: Title.optional(),
  locale: Locale.optional(),
  enabled: z.boolean().optional(),
});

export const DocumentSourceCreate = z.strictObject({
  kind: z.literal("document"),
  filename: z.string().trim().min(1).max(255),
  /** The file, base64-encoded (.md, .txt, .html, .pdf). */
  content_base64: z.string().max(14_000_000).base64(),
  title: Title.optional(),
  locale: Locale.optional(),
  enabled: z.boolean().optional(),
});

export const SourceCreate = z.discriminatedUnion("kind", [
  AnswerSourceCreate,
  HelpdeskSourceCreate,
  WebpageSourceCreate,
  DocumentSourceCreate,
]);
export type SourceCreate = z.infer<typeof SourceCreate>;

export const SourceUpdate = z
  .strictObject({ enabled: z.boolean().optional(), title: Title.optional(), locale: Locale.optional() })
  .refine((u) => Object.keys(u).length > 0, "nothing to update");
export type SourceUpdate = z.infer<typeof SourceUpdate>;

export const SourceStatus = z.enum(["indexed", "failed"]);

export const Source = z.object({
  source_id: SourceId,
  website_id: WebsiteId,
  kind: SourceKind,
  title: z.string(),
  url: z.string().nullable(),
  locale: z.string().nullable(),
  enabled: z.boolean(),
  status: SourceStatus,
  /** Why indexing failed, when it did. */
  error: z.string().nullable(),
  passages: z.number().int(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
});
export type Source = z.infer<typeof Source>;

export const SourceListQuery = z.strictObject({
  kind: SourceKind.optional(),
  enabled: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Sources created before this one (newest first), for paging. */
  before: SourceId.optional(),
});
export type SourceListQuery = z.infer<typeof SourceListQuery>;

export const KnowledgeSearchQuery = z.strictObject({
  q: z.string().trim().min(1).max(1000),
  limit: z.coerce.number().int().min(1).max(50).default(5),
  kind: SourceKind.optional(),
  locale: Locale.optional(),
});
export type KnowledgeSearchQuery = z.infer<typeof KnowledgeSearchQuery>;

export const SearchHit = z.object({
  /** The passage's id (a source's passages get new ids when it is re-indexed). */
  passage_id: z.number().int(),
  source_id: SourceId,
  kind: SourceKind,
  /** The source's title (an answer's question). */
  title: z.string(),
  /** Headings above the passage in its document ("Billing › Refunds"), or "". */
  heading: z.string(),
  text: z.string(),
  url: z.string().nullable(),
  /**
   * Higher is better; comparable within one search only. BM25, or in a hybrid search the fused
   * score (the sum of 1 / (60 + rank) over the BM25 and vector rankings).
   */
  score: z.number(),
});
export type SearchHit = z.infer<typeof SearchHit>;

/** Bulk import: up to 500 sources, each added on its own. */
export const SourceImport = z.strictObject({ sources: z.array(SourceCreate).min(1).max(500) });
export type SourceImport = z.infer<typeof SourceImport>;

export const SourceImportResult = z.object({
  created: z.array(Source),
  /** Sources that could not be added (an unreachable page, an unreadable file), by their index. */
  failed: z.array(z.object({ index: z.number().int(), reason: z.string(), message: z.string() })),
});
export type SourceImportResult = z.infer<typeof SourceImportResult>;

/** Crawling a sitemap: one `webpage` source per page it lists (`POST /api/knowledge/crawl`). */
export const KnowledgeCrawl = z.strictObject({
  /** A sitemap (`<urlset>`) or a sitemap index (`<sitemapindex>`, its sitemaps read one level deep). */
  sitemap: Url,
  /** At most this many pages are fetched, in the sitemaps' order. */
  max_pages: z.number().int().min(1).max(500).default(100),
  /** Only pages whose path starts with this prefix, e.g. `/help/`. */
  include: z.string().trim().max(2048).regex(/^\//, "must be a path starting with /").optional(),
  /** The locale of the pages created (pages already sources keep theirs). */
  locale: Locale.optional(),
});
export type KnowledgeCrawl = z.infer<typeof KnowledgeCrawl>;

/**
 * Why a listed page (or nested sitemap) was not indexed: `foreign_host` (not on the sitemap's host),
 * `invalid_url` (not an absolute http(s) URL), `duplicate` (it redirects to a page already crawled),
 * `sitemap_depth` (a sitemap index inside a sitemap index), `sitemap_limit` (more than 50 sitemaps),
 * or the error a single source would get: `url_not_allowed` (SSRF guard), `source_unreachable`,
 * `source_unreadable`.
 */
export const CrawlSkipReason = z.enum([
  "foreign_host",
  "invalid_url",
  "duplicate",
  "sitemap_depth",
  "sitemap_limit",
  "url_not_allowed",
  "source_unreachable",
  "source_unreadable",
]);
export type CrawlSkipReason = z.infer<typeof CrawlSkipReason>;

export const KnowledgeCrawlResult = z.object({
  /** The sitemaps read, the one given first. */
  sitemaps: z.array(z.string()),
  /** New `webpage` sources, one per page. */
  created: z.array(Source),
  /** Pages that were already `webpage` sources of this website (same URL), fetched and indexed again. */
  updated: z.array(Source),
  skipped: z.array(z.object({ url: z.string(), reason: CrawlSkipReason, message: z.string() })),
  /** The sitemaps list more pages than `max_pages`: those after the limit were not fetched. */
  truncated: z.boolean(),
});
export type KnowledgeCrawlResult = z.infer<typeof KnowledgeCrawlResult>;

const EmbeddingFields = {
  kind: z.literal("openai-compatible"),
  /** The API's base URL, up to the version: `https://api.openai.com/v1`, `http://ollama:11434/v1`. */
  base_url: z.string().trim().url().max(2000),
  /** The embedding model, e.g. `text-embedding-3-small`. */
  model: z.string().trim().min(1).max(200),
  /** Asked of models that can shorten their vectors (`text-embedding-3-*`); omitted: the model's own. */
  dimensions: z.number().int().min(1).max(8192).nullable(),
};

/** An embedding provider as the API shows it: the key is never shown, only whether one is set. */
export const EmbeddingProvider = z.strictObject({ ...EmbeddingFields, api_key_set: z.boolean() });
export type EmbeddingProvider = z.infer<typeof EmbeddingProvider>;

/**
 * An embedding provider as it is set. `api_key`: omitted keeps the stored key (unless `base_url`
 * changes, which drops it), null removes it; it is stored encrypted and never returned.
 */
export const EmbeddingProviderInput = z.strictObject({
  ...EmbeddingFields,
  dimensions: EmbeddingFields.dimensions.optional(),
  api_key: z.string().trim().min(1).max(500).nullable().optional(),
});
export type EmbeddingProviderInput = z.infer<typeof EmbeddingProviderInput>;

/** The knowledge base's settings (`GET /api/knowledge/settings`). */
export const KnowledgeSettings = z.object({
  /** With a provider, searches are hybrid (BM25 fused with vector similarity); null: BM25 only. */
  embeddings: EmbeddingProvider.nullable(),
  /** Progress of embedding the enabled sources' passages with the current model (0 of n without one). */
  embedded: z.number().int(),
  passages: z.number().int(),
});
export type KnowledgeSettings = z.infer<typeof KnowledgeSettings>;

export const KnowledgeSettingsUpdate = z.strictObject({
  embeddings: EmbeddingProviderInput.nullable(),
});
export type KnowledgeSettingsUpdate = z.infer<typeof KnowledgeSettingsUpdate>;

/** Which ranking a search used: BM25 alone, or BM25 and vector similarity fused (RRF, k = 60). */
export const SearchMode = z.enum(["bm25", "hybrid"]);
export type SearchMode = z.infer<typeof SearchMode>;
