import type {
  SearchHit,
  WidgetHelpdeskQuery,
  WidgetHelpdeskResult,
  WidgetHelpdeskResults,
} from "@hugo/protocol";

/** The knowledge base's search (KnowledgeService.search): BM25, or hybrid when embeddings are on. */
export type KnowledgeSearch = (
  websiteId: string,
  query: { q: string; limit: number; locale?: string },
) => Promise<SearchHit[]>;

/**
 * The source kinds a visitor's help-desk search reaches: help articles and answers, written for
 * customers. Web pages (the site's own pages, already public where they are) and uploaded documents
 * (possibly internal: contracts, procedures) serve the agent only. Disabled sources are not in the
 * index at all.
 */
export const HELPDESK_KINDS: ReadonlySet<string> = new Set(["helpdesk", "answer"]);
/** Results a search answers, one per source. */
export const HELPDESK_RESULTS = 8;
/** Passages ranked before filtering by kind and keeping the best one of each source. */
const HELPDESK_DEPTH = 50;
export const SNIPPET_CHARS = 240;

/** The text cut at a word boundary to at most `max` characters, "…" included; whitespace collapsed. */
export function snippetOf(text: string, max = SNIPPET_CHARS): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s.,;:!?-]+$/, "")}…`;
}

/**
 * The widget's help-desk search: the agent's own ranking (the same search, the same analyser for the
 * locale), restricted to help articles and answers, and deduplicated to the best passage per source.
 */
export async function searchHelpdesk(
  search: KnowledgeSearch,
  websiteId: string,
  query: WidgetHelpdeskQuery,
): Promise<WidgetHelpdeskResults> {
  const hits = await search(websiteId, {
    q: query.q,
    limit: HELPDESK_DEPTH,
    ...(query.locale ? { locale: query.locale } : {}),
  });
  const seen = new Set<string>();
  const results: WidgetHelpdeskResult[] = [];
  for (const hit of hits) {
    if (!HELPDESK_KINDS.has(hit.kind) || seen.has(hit.source_id)) continue;
    seen.add(hit.source_id);
    results.push({
      source_id: hit.source_id,
      kind: hit.kind as WidgetHelpdeskResult["kind"],
      title: hit.title,
      heading: hit.heading,
      snippet: snippetOf(hit.text),
      url: hit.url,
    });
    if (results.length === HELPDESK_RESULTS) break;
  }
  return { query: query.q, results };
}
