import {
  KnowledgeCrawl,
  KnowledgeCrawlResult,
  KnowledgeSearchQuery,
  KnowledgeSettings,
  KnowledgeSettingsUpdate,
  SearchHit,
  SearchMode,
  Source,
  SourceCreate,
  SourceImport,
  SourceImportResult,
  SourceListQuery,
  SourceParams,
  SourceUpdate,
} from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { KnowledgeService } from "../../agent/knowledge/service.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

const tags = ["Knowledge"];
/** A document upload travels base64-encoded in JSON: 10 MB of file is ~14 MB of body. */
export const UPLOAD_BODY_LIMIT = 16 * 1024 * 1024;

/** The knowledge base: sources (webpage, helpdesk article, answer, document) and search. */
export const knowledgeRoutes =
  (knowledge: KnowledgeService): FastifyPluginAsyncZod =>
  async (app) => {
    const site = (req: { principal?: { websiteId: string } }) => req.principal!.websiteId;

    app.post(
      "/knowledge/sources",
      {
        bodyLimit: UPLOAD_BODY_LIMIT,
        config: { scope: "knowledge:write" },
        schema: {
          tags,
          summary: "Add a knowledge source",
          description:
            "Reads the source (a web page is fetched unless `html` is given; a document is decoded from base64), splits it into passages that keep their headings, and indexes them. Answers with the source and its passage count.",
          body: SourceCreate,
          response: { 201: Envelope(Source), ...errorResponses },
        },
      },
      async (req, reply) => {
        const created = await knowledge.create(site(req), req.body);
        reply.code(201);
        return ok(created, "added");
      },
    );

    // JSON Lines (one source per line) becomes the JSON body's `{sources: [...]}`: the same checks,
    // `sources.N` being line N + 1. A line that is not JSON is refused naming its number.
    app.addContentTypeParser(
      ["application/x-ndjson", "application/jsonl"],
      { parseAs: "string", bodyLimit: UPLOAD_BODY_LIMIT },
      (_req, body, done) => {
        const sources: unknown[] = [];
        for (const [i, line] of String(body).split(/\r?\n/).entries()) {
          if (line.trim() === "") continue;
          try {
            sources.push(JSON.parse(line));
          } catch (error) {
            done(new SyntaxError(`line ${i + 1}: ${(error as Error).message}`), undefined);
            return;
          }
        }
        done(null, { sources });
      },
    );

    app.post(
      "/knowledge/import",
      {
        bodyLimit: UPLOAD_BODY_LIMIT,
        config: { scope: "knowledge:write" },
        schema: {
          tags,
          summary: "Add many knowledge sources at once",
          description:
            "Up to 500 sources, as JSON `{sources: [...]}` or as JSON Lines (`Content-Type: application/x-ndjson`, one source per line; blank lines skipped; `sources.N` in errors is line N + 1). The body is checked whole first (a malformed source refuses the import, naming its index); then each source is added on its own, and those that cannot be read or fetched are listed in `failed` while the others are kept. `hugo kb import <folder|file.jsonl>` sends a folder's documents and JSONL files in batches.",
          body: SourceImport,
          response: { 200: Envelope(SourceImportResult), ...errorResponses },
        },
      },
      async (req) => ok(await knowledge.importMany(site(req), req.body.sources), "imported"),
    );

    app.post(
      "/knowledge/crawl",
      {
        config: { scope: "knowledge:write" },
        schema: {
          tags,
          summary: "Crawl a sitemap into web page sources",
          description: [
            "Reads `sitemap` — a `<urlset>`, or a `<sitemapindex>` whose sitemaps are read in turn (one level deep, at most 50; gzip is not read) — and fetches the pages it lists, 4 at a time, each through the SSRF guard with every redirect checked again. Each page becomes a `webpage` source of its own, listed, disabled, re-indexed and deleted like any other.",
            "Only absolute http(s) URLs on the sitemap's host are crawled, each once, those under the path prefix `include` when it is given, and at most `max_pages` of them in the sitemaps' order (`truncated` says when more were listed). A page that is already a `webpage` source of this website (same URL) is fetched and indexed again in place, listed in `updated`, never duplicated.",
            "A page or nested sitemap that is refused or cannot be fetched or read is listed in `skipped` with its reason, and the crawl goes on; only the sitemap given failing fails the request (`url_not_allowed`, `source_unreachable`, `source_unreadable`, naming the field `sitemap`).",
          ].join("\n\n"),
          body: KnowledgeCrawl,
          response: { 200: Envelope(KnowledgeCrawlResult), ...errorResponses },
        },
      },
      async (req) => ok(await knowledge.crawl(site(req), req.body), "crawled"),
    );

    app.get(
      "/knowledge/sources",
      {
        config: { scope: "knowledge:read" },
        schema: {
          tags,
          summary: "List knowledge sources",
          description: "Newest first; page with `before` (the last source id of the previous page).",
          querystring: SourceListQuery,
          response: { 200: Envelope(z.array(Source)), ...errorResponses },
        },
      },
      async (req) => ok(await knowledge.list(site(req), req.query)),
    );

    app.get(
      "/knowledge/sources/:source_id",
      {
        config: { scope: "knowledge:read" },
        schema: {
          tags,
          summary: "Get a knowledge source",
          params: SourceParams,
          response: { 200: Envelope(Source), ...errorResponses },
        },
      },
      async (req) => ok(await knowledge.get(site(req), req.params.source_id)),
    );

    app.patch(
      "/knowledge/sources/:source_id",
      {
        config: { scope: "knowledge:write" },
        schema: {
          tags,
          summary: "Enable, disable or rename a knowledge source",
          description: "A disabled source stays listed but is never searched.",
          params: SourceParams,
          body: SourceUpdate,
          response: { 200: Envelope(Source), ...errorResponses },
        },
      },
      async (req) => ok(await knowledge.update(site(req), req.params.source_id, req.body), "updated"),
    );

    app.delete(
      "/knowledge/sources/:source_id",
      {
        config: { scope: "knowledge:write" },
        schema: {
          tags,
          summary: "Delete a knowledge source and its passages",
          params: SourceParams,
          response: { 200: Envelope(z.null()), ...errorResponses },
        },
      },
      async (req) => {
        await knowledge.remove(site(req), req.params.source_id);
        return ok(null, "deleted");
      },
    );

    app.post(
      "/knowledge/sources/:source_id/reindex",
      {
        config: { scope: "knowledge:write" },
        schema: {
          tags,
          summary: "Index a knowledge source again",
          description:
            "Reads the source again (fetching a web page again). If that fails, the passages indexed before stay searchable and the source reports `status: failed` with the reason.",
          params: SourceParams,
          response: { 200: Envelope(Source), ...errorResponses },
        },
      },
      async (req) => ok(await knowledge.reindex(site(req), req.params.source_id), "reindexed"),
    );

    app.get(
      "/knowledge/search",
      {
        config: { scope: "knowledge:read" },
        schema: {
          tags,
          summary: "Search the knowledge base",
          description: [
            "BM25 over the enabled sources' passages (title and headings weigh three times the body), with stemming and stop words for `locale` (default English). The same search serves the agent.",
            "When the website has an embedding provider (`/api/knowledge/settings`) and the query's embedding arrives within 2 s, the BM25 ranking and the vector ranking (cosine similarity; 50 passages each) are fused by Reciprocal Rank Fusion (k = 60): `mode` is `hybrid` and `score` the fused score. Otherwise `mode` is `bm25` — a provider that fails never fails the search.",
          ].join("\n\n"),
          querystring: KnowledgeSearchQuery,
          response: {
            200: Envelope(z.array(SearchHit)).extend({
              mode: SearchMode.describe("The ranking used: BM25 alone, or hybrid."),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const { hits, mode } = await knowledge.searchRanked(site(req), req.query);
        return { ...ok(hits), mode };
      },
    );

    app.get(
      "/knowledge/settings",
      {
        config: { scope: "website:manage" },
        schema: {
          tags,
          summary: "Get the knowledge base's settings",
          description:
            "The embedding provider, if any (its key only as `api_key_set`), and how many of the enabled sources' passages have a vector for its model (`embedded` of `passages`).",
          response: { 200: Envelope(KnowledgeSettings), ...errorResponses },
        },
      },
      async (req) => ok(await knowledge.settings(site(req))),
    );

    app.patch(
      "/knowledge/settings",
      {
        config: { scope: "website:manage" },
        schema: {
          tags,
          summary: "Set the embedding provider for hybrid search",
          description: [
            "`embeddings`: an OpenAI-compatible `/embeddings` API (`base_url` up to the version, `model`, optional `dimensions`), or null for BM25 only. `api_key` is stored encrypted and never returned: omitted keeps the stored key — unless `base_url` changes, which drops it — and null removes it. The base URL must pass the SSRF guard (`url_not_allowed`, naming `embeddings.base_url`).",
            "Passages are embedded by a background job (64 per call), never while a source is added: a new model embeds every passage again, a failing provider is retried with backoff, and searches use BM25 meanwhile.",
          ].join("\n\n"),
          body: KnowledgeSettingsUpdate,
          response: { 200: Envelope(KnowledgeSettings), ...errorResponses },
        },
      },
      async (req) => ok(await knowledge.updateSettings(site(req), req.body), "updated"),
    );
  };
