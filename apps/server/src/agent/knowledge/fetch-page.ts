import { AppError } from "../../core/errors.ts";
import { guardedRequest, OutboundError, type OutboundPolicy } from "../../outbound/guarded-request.ts";
import type { PageFetcher } from "./service.ts";

const MAX_REDIRECTS = 5;
/** A sitemap holds at most 50,000 URLs (sitemaps.org); 10 MiB is room for them, uncompressed. */
export const MAX_SITEMAP_BYTES = 10 * 1024 * 1024;

/**
 * Fetches a web page — or a sitemap — for the knowledge base through the SSRF guard, following
 * redirects itself (each hop is checked again). Refused addresses are the caller's mistake
 * (`url_not_allowed`); a page that cannot be had is `source_unreachable`. A page must be HTML (or
 * XHTML); a sitemap's content type is not judged, its parser tells whether it is one.
 */
export function pageFetcher(
  policy: OutboundPolicy,
  options: { timeoutMs: number; maxBytes: number; userAgent: string; maxSitemapBytes?: number },
): PageFetcher {
  return async (start, as = "page") => {
    const sitemap = as === "sitemap";
    let url = start;
    for (let hop = 0; ; hop++) {
      let res: Awaited<ReturnType<typeof guardedRequest>>;
      try {
        res = await guardedRequest(policy, url, {
          method: "GET",
          headers: {
            accept: sitemap ? "application/xml,text/xml;q=0.9,*/*;q=0.5" : "text/html,application/xhtml+xml",
            "user-agent": options.userAgent,
          },
          timeoutMs: options.timeoutMs,
          maxBytes: sitemap ? (options.maxSitemapBytes ?? MAX_SITEMAP_BYTES) : options.maxBytes,
        });
      } catch (error) {
        if (!(error instanceof OutboundError)) throw error;
        if (error.code === "url_invalid" || error.code === "url_not_allowed")
          throw new AppError("url_not_allowed", error.message, { field: "url" });
        throw new AppError("source_unreachable", `${url}: ${error.message}`, { field: "url" });
      }
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && typeof location === "string") {
        if (hop >= MAX_REDIRECTS) throw new AppError("source_unreachable", `${start}: too many redirects`);
        try {
          url = new URL(location, url).toString();
        } catch {
          throw new AppError("source_unreachable", `${url} redirects to an invalid URL.`, { field: "url" });
        }
        continue;
      }
      if (res.status >= 400)
        throw new AppError("source_unreachable", `${url} answered HTTP ${res.status}.`, { field: "url" });
      const type = String(res.headers["content-type"] ?? "");
      if (!sitemap && type && !/html|xml/i.test(type))
        throw new AppError("source_unreachable", `${url} is not an HTML page (${type}).`, { field: "url" });
      return { body: res.body, url };
    }
  };
}
