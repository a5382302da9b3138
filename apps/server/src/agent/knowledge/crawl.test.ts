import { describe, expect, it } from "vitest";
import { parseSitemap } from "./crawl.ts";

const URL_ = "https://shop.example.com/sitemap.xml";

describe("parseSitemap", () => {
  it("lists each <url>'s <loc>, decoded and trimmed, and not its image's", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>
      https://shop.example.com/search?q=kettle&amp;page=2
    </loc>
    <lastmod>2024-05-01</lastmod>
    <image:image><image:loc>https://shop.example.com/kettle.png</image:loc></image:image>
  </url>
  <url><image:image><image:loc>https://shop.example.com/only-an-image.png</image:loc></image:image></url>
  <url><loc><![CDATA[https://shop.example.com/a&b]]></loc></url>
  <url><loc>   </loc></url>
</urlset>`;
    expect(parseSitemap(URL_, xml)).toEqual({
      kind: "urlset",
      locs: ["https://shop.example.com/search?q=kettle&page=2", "https://shop.example.com/a&b"],
    });
  });

  it("reads a sitemap index, and elements with a namespace prefix", () => {
    const xml = `<sm:sitemapindex xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sm:sitemap><sm:loc>https://shop.example.com/sitemap-help.xml</sm:loc></sm:sitemap>
  <sm:sitemap><sm:loc>https://shop.example.com/sitemap-blog.xml</sm:loc></sm:sitemap>
</sm:sitemapindex>`;
    expect(parseSitemap(URL_, xml)).toEqual({
      kind: "sitemapindex",
      locs: ["https://shop.example.com/sitemap-help.xml", "https://shop.example.com/sitemap-blog.xml"],
    });
  });

  it("expands no DTD entity", () => {
    const xml = `<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<urlset><url><loc>https://shop.example.com/&b;</loc></url></urlset>`;
    const { locs } = parseSitemap(URL_, xml);
    expect(locs).toHaveLength(1);
    expect(locs[0]).not.toContain("aaaaaaaaaa");
  });

  it("refuses what is not a sitemap, saying what it is", () => {
    const refused = (body: string) => {
      try {
        parseSitemap(URL_, body);
      } catch (error) {
        return error;
      }
      throw new Error("expected a refusal");
    };
    expect(refused("<!doctype html><html><body>Home</body></html>")).toMatchObject({
      reason: "source_unreadable",
      field: "sitemap",
      message: expect.stringContaining("<html>"),
    });
    expect(refused("")).toMatchObject({
      reason: "source_unreadable",
      message: expect.stringContaining("no XML"),
    });
    expect(refused("\u001f\ufffd\b\u0000compressed")).toMatchObject({
      reason: "source_unreadable",
      message: expect.stringContaining("compressed"),
    });
  });
});
