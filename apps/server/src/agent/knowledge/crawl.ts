import type { CrawlSkipReason } from "@hugo/protocol";
import { Parser } from "htmlparser2";
import { AppError } from "../../core/errors.ts";
import type { PageFetcher } from "./service.ts";

/** A sitemap index's sitemaps are read; an index inside them is not (sitemaps.org allows no nesting). */
const MAX_SITEMAP_DEPTH = 2;
/** At most this many sitemaps are fetched in one crawl, the one given included. */
export const MAX_SITEMAPS = 50;

export interface CrawlSkip {
  url: string;
  reason: CrawlSkipReason;
  message: string;
}

/** What the sitemaps list, within the crawl's limits. */
export interface SitemapListing {
  /** The sitemaps read, the one given first. */
  sitemaps: string[];
  /** The pages to fetch: on the sitemap's host, deduplicated, in the sitemaps' order. */
  pages: string[];
  skipped: CrawlSkip[];
  /** More pages were listed than `maxPages`. */
  truncated: boolean;
}

/**
 * Reads a sitemap (`<urlset>`) or a sitemap index (`<sitemapindex>`, its sitemaps read in turn) and
 * lists the pages to crawl: absolute http(s) URLs on the sitemap's own host (sitemaps.org: "all URLs
 * in a sitemap must be from a single host"), under `include` when given, each once, at most
 * `maxPages`. Every fetch goes through `fetch` (the SSRF-guarded page fetcher).
 *
 * The sitemap given must be readable — otherwise its AppError is thrown, naming the field
 * `sitemap` — while a nested sitemap that fails, or a URL that is refused, is only reported in
 * `skipped`.
 */
export async function readSitemaps(
  fetch: PageFetcher,
  sitemap: string,
  limits: { maxPages: number; include?: string | undefined },
): Promise<SitemapListing> {
  const listing: SitemapListing = { sitemaps: [], pages: [], skipped: [], truncated: false };
  /** The host of the sitemap given, where it ends up (example.com's may redirect to www.example.com). */
  let host = "";
  const seenPages = new Set<string>();
  const seenSitemaps = new Set<string>();

  const fetchSitemap = async (url: string) => {
    seenSitemaps.add(url);
    const fetched = await fetch(url, "sitemap");
    host ||= new URL(fetched.url).host;
    const parsed = parseSitemap(fetched.url, fetched.body);
    listing.sitemaps.push(url);
    return parsed;
  };
  /** The URL without its fragment, or a skip when it is not an absolute http(s) URL on the host. */
  const accept = (loc: string): string | CrawlSkip => {
    let url: URL;
    try {
      url = new URL(loc);
    } catch {
      return { url: loc, reason: "invalid_url", message: "Not an absolute URL." };
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      return { url: loc, reason: "invalid_url", message: `The URL scheme ${url.protocol} is not http(s).` };
    if (url.host !== host)
      return { url: loc, reason: "foreign_host", message: `Not on the sitemap's host (${host}).` };
    url.hash = "";
    return url.href;
  };

  const visit = async (parsed: ParsedSitemap, depth: number): Promise<void> => {
    for (const loc of parsed.locs) {
      if (listing.truncated) return;
      const url = accept(loc);
      if (typeof url !== "string") {
        listing.skipped.push(url);
        continue;
      }
      if (parsed.kind === "urlset") {
        if (limits.include && !new URL(url).pathname.startsWith(limits.include)) continue;
        if (seenPages.has(url)) continue;
        if (listing.pages.length >= limits.maxPages) {
          listing.truncated = true;
          return;
        }
        seenPages.add(url);
        listing.pages.push(url);
        continue;
      }
      // A sitemap index: read each of its sitemaps in turn, within the limits.
      if (seenSitemaps.has(url)) continue;
      if (depth >= MAX_SITEMAP_DEPTH) {
        const message = "A sitemap index inside a sitemap index is not read.";
        listing.skipped.push({ url, reason: "sitemap_depth", message });
        continue;
      }
      if (seenSitemaps.size >= MAX_SITEMAPS) {
        const message = `At most ${MAX_SITEMAPS} sitemaps are read in one crawl.`;
        listing.skipped.push({ url, reason: "sitemap_limit", message });
        continue;
      }
      let nested: ParsedSitemap;
      try {
        nested = await fetchSitemap(url);
      } catch (error) {
        listing.skipped.push(skipOf(url, error));
        continue;
      }
      await visit(nested, depth + 1);
    }
  };

  let root: ParsedSitemap;
  try {
    const start = new URL(sitemap);
    start.hash = "";
    root = await fetchSitemap(start.href);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    throw new AppError(error.reason, error.message, { field: "sitemap" });
  }
  await visit(root, 1);
  return listing;
}

interface ParsedSitemap {
  kind: "urlset" | "sitemapindex";
  /** The `<loc>` of each `<url>` (a urlset) or `<sitemap>` (an index), in order. */
  locs: string[];
}

/** The entry element of each kind of sitemap. */
const ENTRY = { urlset: "url", sitemapindex: "sitemap" } as const;

/**
 * The URLs a sitemap lists. XML is read by htmlparser2's streaming parser in XML mode (no DOM: a
 * 10 MB sitemap stays 10 MB of text; no DTD entity is expanded; CDATA is text; the odd malformed
 * tag is forgiven). Element names are matched without their namespace prefix, and only a `<loc>`
 * right inside an entry counts, so `<image:loc>` inside a `<url>` is not the page's.
 * Throws AppError `source_unreadable` when the document is not a sitemap.
 */
export function parseSitemap(url: string, xml: string): ParsedSitemap {
  // Gzip's magic number, as the UTF-8 decoder leaves it.
  if (xml.charCodeAt(0) === 0x1f)
    throw new AppError("source_unreadable", `${url} is compressed; give the uncompressed sitemap (.xml).`, {
      field: "sitemap",
    });
  let root: string | undefined;
  /** The open elements' names, the root first. */
  const open: string[] = [];
  /** The text of the `<loc>` being read, if one is. */
  let loc: string | null = null;
  const locs: string[] = [];
  const parser = new Parser(
    {
      onopentag(tag) {
        const name = localName(tag);
        root ??= name;
        open.push(name);
        const entry = ENTRY[root as keyof typeof ENTRY];
        if (open.length === 3 && name === "loc" && open[1] === entry) loc = "";
      },
      ontext(text) {
        if (loc !== null) loc += text;
      },
      onclosetag() {
        if (open.length === 3 && loc !== null) {
          if (loc.trim()) locs.push(loc.trim());
          loc = null;
        }
        open.pop();
      },
    },
    { xmlMode: true },
  );
  parser.end(xml);
  if (root !== "urlset" && root !== "sitemapindex")
    throw new AppError(
      "source_unreadable",
      `${url} is not a sitemap: ${root ? `its root element is <${root}>` : "no XML was found"}, not <urlset> or <sitemapindex>.`,
      { field: "sitemap" },
    );
  return { kind: root, locs };
}

/** An element's name without its namespace prefix (`sm:loc` → `loc`). */
const localName = (tag: string) => tag.slice(tag.indexOf(":") + 1);

/** A failure to fetch or read a page or a nested sitemap, as a skip; anything but an AppError is rethrown. */
export function skipOf(url: string, error: unknown): CrawlSkip {
  if (
    error instanceof AppError &&
    (error.reason === "url_not_allowed" ||
      error.reason === "source_unreachable" ||
      error.reason === "source_unreadable")
  )
    return { url, reason: error.reason, message: error.message };
  throw error;
}

/**
 * Runs `fn` over `items`, at most `limit` at a time. An error stops the others from taking more
 * items; it is thrown once those in flight have finished.
 */
export async function eachConcurrently<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await fn(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = settled.find((s) => s.status === "rejected");
  if (rejected) throw rejected.reason;
}
