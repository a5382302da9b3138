import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../../test/hugo.ts";

/** A web page server on loopback whose pages the test changes; it counts the requests in flight. */
function pageServer() {
  const pages = new Map<string, { status: number; type: string; body: string; delayMs?: number }>();
  const load = { inFlight: 0, max: 0, requests: [] as string[] };
  const server = http.createServer((req, res) => {
    load.requests.push(req.url ?? "");
    load.max = Math.max(load.max, ++load.inFlight);
    res.on("close", () => load.inFlight--);
    const page = pages.get(req.url ?? "");
    if (!page) return res.writeHead(404).end("missing");
    const redirect = page.status >= 300 && page.status < 400;
    setTimeout(() => {
      if (redirect) res.writeHead(page.status, { location: page.body }).end();
      else res.writeHead(page.status, { "content-type": page.type }).end(page.body);
    }, page.delayMs ?? 0);
  });
  return {
    pages,
    load,
    start: () =>
      new Promise<string>((r) =>
        server.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A sitemap (`<urlset>`) or a sitemap index listing these URLs. */
const sitemapOf = (kind: "urlset" | "sitemapindex", locs: string[]) => {
  const entry = kind === "urlset" ? "url" : "sitemap";
  const entries = locs.map((loc) => `<${entry}><loc>${loc.replaceAll("&", "&amp;")}</loc></${entry}>`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<${kind} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
${entries.join("\n")}
</${kind}>`;
};
const xml = (body: string) => ({ status: 200, type: "application/xml", body });
const html = (title: string, text: string, delayMs = 0) => ({
  status: 200,
  type: "text/html; charset=utf-8",
  body: `<!doctype html><html><head><title>${title}</title></head><body><nav><a href="/">Home</a></nav><article><h1>${title}</h1><p>${text}</p></article></body></html>`,
  delayMs,
});

const ARTICLE = `<!doctype html><html><head><title>Shipping times | Acme Help</title></head><body>
<nav><a href="/">Home</a> <a href="/pricing">Pricing</a></nav>
<article><h1>Shipping times</h1>
<p>Orders leave our warehouse within two business days. Tracking numbers are emailed as soon as the parcel ships.</p>
<h2>International shipping</h2>
<p>International parcels take seven to fourteen days depending on customs in the destination country.</p>
</article><footer>© Acme — cookie settings</footer></body></html>`;

describe.each(["sqlite", "postgres"] as const)("knowledge base API on %s", (dialect) => {
  let server: RunningHugo;
  let pages: ReturnType<typeof pageServer>;
  let origin: string;
  let auth: Record<string, string>;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...auth, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const search = async (q: string, extra = "") =>
    (await call("GET", `/api/knowledge/search?q=${encodeURIComponent(q)}${extra}`)).body.data as {
      source_id: string;
      title: string;
      heading: string;
      text: string;
      url: string | null;
      score: number;
    }[];

  beforeAll(async () => {
    pages = pageServer();
    origin = await pages.start();
    server = await startHugo(dialect, { OUTBOUND_ALLOW_HOSTS: "127.0.0.1" });
    // A website of the tests' own, so the demo's knowledge does not take part.
    const website = await server.hugo.services.websites.create({
      name: "Knowledge tests",
      domain: "kb.example",
    });
    const token = await server.hugo.services.tokens.create(website.id, { name: "tests" });
    auth = { authorization: `Bearer ${token.token}` };
  });
  afterAll(async () => {
    await server?.stop();
    await pages?.stop();
  });

  it("indexes an answer, an article, a fetched web page and an uploaded document, and finds each with its source", async () => {
    const answer = await call("POST", "/api/knowledge/sources", {
      kind: "answer",
      question: "Can I change my delivery address?",
      answer: "Yes, until the order ships: open the order and choose Edit address.",
    });
    expect(answer.status).toBe(201);
    expect(answer.body.data).toMatchObject({
      kind: "answer",
      title: "Can I change my delivery address?",
      passages: 1,
      status: "indexed",
      enabled: true,
    });

    const article = await call("POST", "/api/knowledge/sources", {
      kind: "helpdesk",
      title: "Refund policy",
      format: "markdown",
      url: "https://help.acme.test/refunds",
      body: "# Refund policy\n\nWe refund any order within 30 days of delivery.\n\n## Damaged items\n\nSend a photo of the damage and we refund you at once, without returning the item.",
    });
    expect(article.body.data).toMatchObject({
      kind: "helpdesk",
      passages: expect.any(Number),
      url: "https://help.acme.test/refunds",
    });

    pages.pages.set("/old-shipping", { status: 301, type: "", body: "/shipping" });
    pages.pages.set("/shipping", { status: 200, type: "text/html; charset=utf-8", body: ARTICLE });
    const page = await call("POST", "/api/knowledge/sources", {
      kind: "webpage",
      url: `${origin}/old-shipping`,
    });
    expect(page.status).toBe(201);
    expect(page.body.data).toMatchObject({
      kind: "webpage",
      title: "Shipping times",
      url: `${origin}/shipping`,
    });

    const doc = await call("POST", "/api/knowledge/sources", {
      kind: "document",
      filename: "warranty.md",
      content_base64: Buffer.from(
        "# Warranty\n\nEvery laptop carries a two-year warranty covering parts and labour.",
      ).toString("base64"),
    });
    expect(doc.body.data).toMatchObject({ kind: "document", title: "Warranty", passages: 1 });

    const [refund] = await search("how do I get my money back for a damaged item");
    expect(refund).toMatchObject({
      source_id: article.body.data.source_id,
      heading: "Damaged items",
      url: "https://help.acme.test/refunds",
    });
    expect(refund!.text).toContain("Send a photo of the damage");
    const [intl] = await search("how long does international delivery take");
    expect(intl).toMatchObject({ source_id: page.body.data.source_id, heading: "International shipping" });
    expect(intl!.text).not.toMatch(/cookie|Pricing/);
    expect((await search("change delivery address"))[0]).toMatchObject({
      source_id: answer.body.data.source_id,
      title: "Can I change my delivery address?",
    });
    expect((await search("laptop warranty"))[0]).toMatchObject({ source_id: doc.body.data.source_id });
    const scored = await search("shipping refund warranty", "&limit=10");
    expect(scored.length).toBeGreaterThan(2);
    expect(scored.map((h) => h.score)).toEqual([...scored.map((h) => h.score)].sort((a, b) => b - a));
    expect(await search("refund", "&kind=answer")).toEqual([]);

    const listed = await call("GET", "/api/knowledge/sources?limit=2");
    expect(listed.body.data.map((s: { source_id: string }) => s.source_id)).toEqual([
      doc.body.data.source_id,
      page.body.data.source_id,
    ]);
  });

  it("disables, re-enables, renames and deletes a source", async () => {
    const created = (
      await call("POST", "/api/knowledge/sources", {
        kind: "answer",
        question: "Do you sell gift cards?",
        answer: "Gift cards come in 25, 50 and 100 euros.",
      })
    ).body.data;
    const id = created.source_id;
    expect((await call("PATCH", `/api/knowledge/sources/${id}`, { enabled: false })).body.data).toMatchObject(
      { enabled: false },
    );
    expect((await search("gift cards")).map((h) => h.source_id)).not.toContain(id);
    await call("PATCH", `/api/knowledge/sources/${id}`, { enabled: true });
    expect((await search("gift cards"))[0]?.source_id).toBe(id);
    expect((await call("DELETE", `/api/knowledge/sources/${id}`)).status).toBe(200);
    expect((await call("GET", `/api/knowledge/sources/${id}`)).body).toMatchObject({
      error: true,
      reason: "source_not_found",
    });
    expect((await search("gift cards")).map((h) => h.source_id)).not.toContain(id);
  });

  it("keeps a page's passages searchable when it cannot be fetched again, and says why", async () => {
    pages.pages.set("/faq", {
      status: 200,
      type: "text/html",
      body: "<html><head><title>FAQ</title></head><body><h1>FAQ</h1><p>Our support team answers every day from nine to six.</p></body></html>",
    });
    const id = (await call("POST", "/api/knowledge/sources", { kind: "webpage", url: `${origin}/faq` })).body
      .data.source_id;
    pages.pages.set("/faq", { status: 500, type: "text/plain", body: "down" });
    const failed = await call("POST", `/api/knowledge/sources/${id}/reindex`);
    expect(failed.body.data).toMatchObject({ status: "failed", error: expect.stringContaining("HTTP 500") });
    expect((await search("support team hours"))[0]?.source_id).toBe(id);
    pages.pages.set("/faq", {
      status: 200,
      type: "text/html",
      body: "<html><body><h1>FAQ</h1><p>Support now answers around the clock, seven days a week.</p></body></html>",
    });
    const again = await call("POST", `/api/knowledge/sources/${id}/reindex`);
    expect(again.body.data).toMatchObject({ status: "indexed", error: null });
    expect((await search("around the clock"))[0]?.source_id).toBe(id);
  });

  it("analyses a source in its own language and searches in the visitor's", async () => {
    const fr = await call("POST", "/api/knowledge/sources", {
      kind: "helpdesk",
      title: "Remboursements",
      locale: "fr-FR",
      body: "Nous remboursons toute commande dans les trente jours suivant la livraison.",
    });
    expect(fr.body.data).toMatchObject({ locale: "fr-FR", passages: 1 });
    // French stems: "remboursée" and "commandes" meet "remboursons" and "commande".
    const found = await search("commandes remboursées", "&locale=fr");
    expect(found[0]?.source_id).toBe(fr.body.data.source_id);
    // A search in English leaves the sources labelled French out; unlabelled ones stay in.
    const english = await search("refund", "&locale=en&limit=20");
    expect(english.length).toBeGreaterThan(0);
    expect(english.map((h) => h.source_id)).not.toContain(fr.body.data.source_id);
  });

  it("imports many sources at once, keeping those it can read and listing the others", async () => {
    const imported = await call("POST", "/api/knowledge/import", {
      sources: [
        {
          kind: "answer",
          question: "Do you have a loyalty programme?",
          answer: "Yes: every euro earns one point.",
        },
        { kind: "webpage", url: `${origin}/gone` },
        { kind: "helpdesk", title: "Returns", body: "Return any item within 30 days for a full refund." },
      ],
    });
    expect(imported.status).toBe(200);
    expect(imported.body.data.created.map((s: { title: string }) => s.title)).toEqual([
      "Do you have a loyalty programme?",
      "Returns",
    ]);
    expect(imported.body.data.failed).toEqual([
      { index: 1, reason: "source_unreachable", message: expect.stringContaining("404") },
    ]);
    expect((await search("loyalty points"))[0]?.title).toBe("Do you have a loyalty programme?");
    // A malformed source refuses the whole import, naming its index.
    const bad = await call("POST", "/api/knowledge/import", {
      sources: [
        { kind: "answer", question: "Fine?", answer: "Yes." },
        { kind: "answer", question: "" },
      ],
    });
    expect([bad.status, bad.body.reason]).toEqual([400, "invalid_body"]);
    expect(JSON.stringify(bad.body.data)).toContain("sources.1");
    expect(await search("Fine")).toEqual([]);
    expect((await call("POST", "/api/knowledge/import", { sources: [] })).status).toBe(400);
  });

  it("refuses bad sources with a clear error and adds nothing", async () => {
    const before = (await call("GET", "/api/knowledge/sources?limit=200")).body.data.length;
    const cases: [unknown, number, string, string?][] = [
      [{ kind: "faq", question: "x", answer: "y" }, 400, "invalid_body", "kind"],
      [{ kind: "answer", question: "", answer: "y" }, 400, "invalid_body", "question"],
      [{ kind: "helpdesk", title: "T", body: "   " }, 400, "invalid_body", "body"],
      [{ kind: "webpage", url: "ftp://example.com/" }, 400, "invalid_body", "url"],
      [{ kind: "webpage", url: "http://10.1.2.3/admin" }, 400, "url_not_allowed", "url"],
      [{ kind: "webpage", url: `${origin}/missing` }, 422, "source_unreachable", "url"],
      [
        { kind: "document", filename: "virus.exe", content_base64: "TVo=" },
        422,
        "source_unreadable",
        "filename",
      ],
      [
        {
          kind: "document",
          filename: "broken.pdf",
          content_base64: Buffer.from("%PDF-1.4 garbage").toString("base64"),
        },
        422,
        "source_unreadable",
      ],
      [
        { kind: "document", filename: "a.md", content_base64: "not base64!" },
        400,
        "invalid_body",
        "content_base64",
      ],
    ];
    for (const [body, status, reason, field] of cases) {
      const res = await call("POST", "/api/knowledge/sources", body);
      expect({ body, status: res.status, reason: res.body.reason }).toEqual({ body, status, reason });
      if (field) expect(JSON.stringify(res.body.data)).toContain(field);
    }
    expect((await call("GET", "/api/knowledge/search?q=")).body.reason).toBe("invalid_query");
    expect((await call("GET", "/api/knowledge/sources/source_nope")).body.reason).toBe("invalid_params");
    expect(
      (
        await call("PATCH", "/api/knowledge/sources/source_00000000-0000-4000-8000-000000000000", {
          enabled: true,
        })
      ).status,
    ).toBe(404);
    expect((await call("GET", "/api/knowledge/sources?limit=200")).body.data.length).toBe(before);
  });

  it("crawls a sitemap index into one web page source per page, skipping what it may not or cannot read", async () => {
    const local = origin.replace("127.0.0.1", "localhost");
    pages.pages.set(
      "/sitemap_index.xml",
      xml(
        sitemapOf("sitemapindex", [
          `${origin}/sitemaps/help.xml`,
          `${origin}/sitemaps/blog.xml`,
          "http://foreign.test/sitemap.xml",
          `${origin}/sitemaps/gone.xml`,
          `${origin}/help/returns`,
          `${origin}/sitemaps/index-in-index.xml`,
        ]),
      ),
    );
    pages.pages.set(
      "/sitemaps/help.xml",
      xml(
        sitemapOf("urlset", [
          `${origin}/help/returns`,
          `${origin}/help/warranty`,
          `${origin}/help/warranty#claims`,
          `${origin}/help/down`,
          "http://other.test/help/returns",
          "mailto:help@acme.test",
          `${origin}/help/moved`,
          `${origin}/help/blank`,
          `${origin}/help/warranty-old`,
        ]),
      ),
    );
    pages.pages.set(
      "/sitemaps/blog.xml",
      xml(sitemapOf("urlset", [`${origin}/blog/gardening?page=1&sort=new`])),
    );
    pages.pages.set(
      "/sitemaps/index-in-index.xml",
      xml(sitemapOf("sitemapindex", [`${origin}/sitemaps/help.xml`, `${origin}/sitemaps/deeper.xml`])),
    );
    pages.pages.set(
      "/help/returns",
      html("Returns", "Send back any parcel within thirty days for a full refund."),
    );
    pages.pages.set("/help/warranty", html("Warranty claims", "Every kettle carries a five-year guarantee."));
    pages.pages.set("/help/down", { status: 500, type: "text/plain", body: "down" });
    // A redirect to an address the SSRF guard refuses (only 127.0.0.1 is allowed, not localhost).
    pages.pages.set("/help/moved", { status: 302, type: "", body: `${local}/help/returns` });
    pages.pages.set("/help/blank", { status: 200, type: "text/html", body: "<html><body></body></html>" });
    // Slow, so that the page it leads to is crawled first and this one is the duplicate.
    pages.pages.set("/help/warranty-old", { status: 301, type: "", body: "/help/warranty", delayMs: 100 });
    pages.pages.set(
      "/blog/gardening?page=1&sort=new",
      html("Gardening", "Tomatoes want sun and daily watering."),
    );

    const res = await call("POST", "/api/knowledge/crawl", { sitemap: `${origin}/sitemap_index.xml` });
    expect(res.status).toBe(200);
    const crawl = res.body.data;
    expect(crawl.sitemaps).toEqual([
      `${origin}/sitemap_index.xml`,
      `${origin}/sitemaps/help.xml`,
      `${origin}/sitemaps/blog.xml`,
      `${origin}/sitemaps/index-in-index.xml`,
    ]);
    expect(crawl.created.map((s: { title: string; url: string }) => [s.title, s.url])).toEqual([
      ["Returns", `${origin}/help/returns`],
      ["Warranty claims", `${origin}/help/warranty`],
      ["Gardening", `${origin}/blog/gardening?page=1&sort=new`],
    ]);
    expect(crawl.created.every((s: { kind: string }) => s.kind === "webpage")).toBe(true);
    expect(crawl.updated).toEqual([]);
    expect(crawl.truncated).toBe(false);
    expect(crawl.skipped.map((s: { url: string; reason: string }) => [s.url, s.reason])).toEqual([
      ["http://other.test/help/returns", "foreign_host"],
      ["mailto:help@acme.test", "invalid_url"],
      ["http://foreign.test/sitemap.xml", "foreign_host"],
      [`${origin}/sitemaps/gone.xml`, "source_unreachable"],
      [`${origin}/help/returns`, "source_unreadable"], // a page listed as a sitemap
      [`${origin}/sitemaps/deeper.xml`, "sitemap_depth"],
      [`${origin}/help/down`, "source_unreachable"],
      [`${origin}/help/moved`, "url_not_allowed"],
      [`${origin}/help/blank`, "source_unreadable"],
      [`${origin}/help/warranty-old`, "duplicate"],
    ]);
    expect(crawl.skipped.find((s: { reason: string }) => s.reason === "foreign_host").message).toContain(
      new URL(origin).host,
    );
    // The page listed twice (once with a fragment) was fetched once, and once more through the old URL.
    expect(pages.load.requests.filter((r) => r === "/help/warranty")).toHaveLength(2);

    // Each page is a source like any other: searchable, listed, disabled and deleted on its own.
    const [returns, warranty, gardening] = crawl.created as { source_id: string }[];
    expect((await search("how long do I have to send a parcel back"))[0]).toMatchObject({
      source_id: returns!.source_id,
      url: `${origin}/help/returns`,
    });
    expect((await search("kettle guarantee"))[0]?.source_id).toBe(warranty!.source_id);
    expect((await search("watering tomatoes"))[0]?.source_id).toBe(gardening!.source_id);
    await call("PATCH", `/api/knowledge/sources/${gardening!.source_id}`, { enabled: false });
    expect((await search("watering tomatoes")).map((h) => h.source_id)).not.toContain(gardening!.source_id);
    expect((await call("DELETE", `/api/knowledge/sources/${gardening!.source_id}`)).status).toBe(200);
  });

  it("crawls at most max_pages under the include prefix, 4 at a time, and updates pages it already has", async () => {
    const paths = Array.from({ length: 12 }, (_, i) => `/guides/step-${i + 1}`);
    pages.pages.set(
      "/guides-sitemap.xml",
      xml(sitemapOf("urlset", [`${origin}/about`, ...paths.map((p) => `${origin}${p}`)])),
    );
    pages.pages.set("/about", html("About us", "A family business since 1987."));
    for (const [i, path] of paths.entries())
      pages.pages.set(path, html(`Setup step ${i + 1}`, `Step ${i + 1} of the espresso machine setup.`, 40));
    const before = pages.load.requests.length;
    pages.load.max = 0;

    const first = await call("POST", "/api/knowledge/crawl", {
      sitemap: `${origin}/guides-sitemap.xml`,
      include: "/guides/",
      max_pages: 10,
      locale: "en",
    });
    expect(first.status).toBe(200);
    expect(first.body.data.created.map((s: { url: string }) => s.url)).toEqual(
      paths.slice(0, 10).map((p) => `${origin}${p}`),
    );
    expect(first.body.data.created[0]).toMatchObject({ locale: "en", status: "indexed" });
    expect(first.body.data).toMatchObject({ updated: [], skipped: [], truncated: true });
    const fetched = pages.load.requests.slice(before);
    expect(fetched).not.toContain("/about");
    expect(fetched).not.toContain("/guides/step-11");
    expect(pages.load.max).toBeGreaterThan(1);
    expect(pages.load.max).toBeLessThanOrEqual(4);

    // Crawling again indexes the same pages again in place: no duplicates, new text searchable.
    pages.pages.set(paths[0]!, html("Setup step 1", "First descale the boiler with citric acid."));
    const sources = async () =>
      (await call("GET", "/api/knowledge/sources?limit=200&kind=webpage")).body.data.length;
    const count = await sources();
    const again = await call("POST", "/api/knowledge/crawl", {
      sitemap: `${origin}/guides-sitemap.xml`,
      include: "/guides/step-1",
      max_pages: 500,
    });
    // "/guides/step-1" is a path prefix: step-1, step-10, step-11 and step-12.
    expect(again.body.data.updated.map((s: { url: string }) => s.url)).toEqual(
      [paths[0], paths[9]].map((p) => `${origin}${p}`),
    );
    expect(again.body.data.created.map((s: { url: string }) => s.url)).toEqual(
      [paths[10], paths[11]].map((p) => `${origin}${p}`),
    );
    expect(again.body.data.updated[0].source_id).toBe(first.body.data.created[0].source_id);
    expect(await sources()).toBe(count + 2);
    expect((await search("descale boiler citric acid"))[0]?.source_id).toBe(
      first.body.data.created[0].source_id,
    );
  });

  it("refuses a bad crawl with a clear error naming the field, and adds nothing", async () => {
    pages.pages.set("/not-a-sitemap.html", html("Home", "Welcome to Acme."));
    pages.pages.set("/empty-sitemap.xml", xml(sitemapOf("urlset", [])));
    const before = (await call("GET", "/api/knowledge/sources?limit=200")).body.data.length;
    const port = new URL(origin).port;
    const cases: [unknown, number, string, string][] = [
      [{}, 400, "invalid_body", "sitemap"],
      [{ sitemap: "ftp://example.com/sitemap.xml" }, 400, "invalid_body", "sitemap"],
      [{ sitemap: `${origin}/sitemap_index.xml`, max_pages: 0 }, 400, "invalid_body", "max_pages"],
      [{ sitemap: `${origin}/sitemap_index.xml`, max_pages: 501 }, 400, "invalid_body", "max_pages"],
      [{ sitemap: `${origin}/sitemap_index.xml`, include: "help" }, 400, "invalid_body", "include"],
      [{ sitemap: `${origin}/sitemap_index.xml`, depth: 3 }, 400, "invalid_body", "depth"],
      // Private addresses are refused unless allowed (only 127.0.0.1 is, here).
      [{ sitemap: "http://10.1.2.3/sitemap.xml" }, 400, "url_not_allowed", "sitemap"],
      [{ sitemap: `http://localhost:${port}/sitemap_index.xml` }, 400, "url_not_allowed", "sitemap"],
      [{ sitemap: `${origin}/no-sitemap.xml` }, 422, "source_unreachable", "sitemap"],
      [{ sitemap: `${origin}/not-a-sitemap.html` }, 422, "source_unreadable", "sitemap"],
    ];
    for (const [body, status, reason, field] of cases) {
      const res = await call("POST", "/api/knowledge/crawl", body);
      expect({ body, status: res.status, reason: res.body.reason }).toEqual({ body, status, reason });
      expect(JSON.stringify(res.body.data)).toContain(field);
    }
    const empty = await call("POST", "/api/knowledge/crawl", { sitemap: `${origin}/empty-sitemap.xml` });
    expect(empty.body.data).toEqual({
      sitemaps: [`${origin}/empty-sitemap.xml`],
      created: [],
      updated: [],
      skipped: [],
      truncated: false,
    });
    expect((await call("GET", "/api/knowledge/sources?limit=200")).body.data.length).toBe(before);
  });
});
