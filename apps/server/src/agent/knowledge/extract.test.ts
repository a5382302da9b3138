import { readFileSync } from "node:fs";
import { isProbablyReaderable } from "@mozilla/readability";
import { parseHTML } from "linkedom";
import { describe, expect, it } from "vitest";
import { type DocBlock, extractDocument, formatFromName } from "./extract.ts";

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url));
const texts = (blocks: DocBlock[]) => blocks.filter((b) => b.type === "text").map((b) => b.text);
const headings = (blocks: DocBlock[]) =>
  blocks.flatMap((b) => (b.type === "heading" ? [`h${b.level} ${b.text}`] : []));

describe("extractDocument on HTML", () => {
  it("keeps only the article of a help-center page: its headings and paragraphs, no menu, banner, script or footer", async () => {
    const html = fixture("help-center.html");
    expect(isProbablyReaderable(parseHTML(html.toString("utf8")).document)).toBe(true);

    const doc = await extractDocument({
      format: "html",
      body: html,
      url: "https://help.acme.test/billing/refunds",
    });

    expect(doc.title).toBe("Refunds & cancellations");
    // The h1 is the title, stored apart; readability's h1 → h2 renaming does not flatten the levels.
    expect(headings(doc.blocks)).toEqual([
      "h2 How to request a refund",
      "h3 Processing times",
      "h2 Cancelling a trial",
    ]);
    const all = texts(doc.blocks).join("\n");
    expect(all).toContain("You can cancel your Acme subscription at any time");
    expect(all).toContain("cancel before the trial ends & you will not pay anything.");
    for (const boilerplate of [
      "Skip to content",
      "Search articles",
      "Getting started",
      "cookies",
      "Accept all",
      "In this section",
      "dataLayer",
      "gtag",
      "Was this article helpful",
      "All rights reserved",
      "Privacy",
      "Share",
    ]) {
      expect(all).not.toContain(boilerplate);
    }
  });

  it("keeps the heading levels of an article with several h1, which readability renames h2", async () => {
    const paragraph = (topic: string) =>
      `<p>${`Everything about ${topic} is explained in this paragraph, which is long enough to be read as an article. `.repeat(3)}</p>`;
    const html = `<html><head><title>Account guide</title></head><body><article>
      <h1>Billing</h1>${paragraph("billing")}<h2>Invoices</h2>${paragraph("invoices")}
      <h1>Security</h1>${paragraph("security")}<h2>Two-factor login</h2>${paragraph("2FA")}
    </article></body></html>`;
    expect(isProbablyReaderable(parseHTML(html).document)).toBe(true);

    const doc = await extractDocument({ format: "html", body: html });

    expect(doc.title).toBe("Account guide");
    expect(headings(doc.blocks)).toEqual(["h1 Billing", "h2 Invoices", "h1 Security", "h2 Two-factor login"]);
  });

  it("decodes entities, keeps the text of links and inline code, and never returns markup", async () => {
    const doc = await extractDocument({ format: "html", body: fixture("help-center.html") });
    const all = texts(doc.blocks);

    expect(all).toContain(
      "Refunds are available within 30 days of a charge for annual plans. Monthly plans are not refunded, " +
        "but you keep access until the end of the month. We never refund add-ons that were used, such as extra messaging credits.",
    );
    expect(all.find((t) => t.startsWith("Write to our billing team"))).toBe(
      "Write to our billing team from the chat widget or by email at billing@acme.test, and include your " +
        "workspace ID. You can find the ID by running acme workspace --id in the command line tool, or under Settings › General.",
    );
    expect(all).toContain("Tell us why you are leaving — it helps us improve.");
    expect(all).toContain("5–10 days");
    for (const text of all) {
      expect(text).not.toMatch(/<\/?[a-z][^>]*>|&[a-z]+;|&#\d+;/i);
      expect(text).toBe(text.replace(/\s+/g, " ").trim());
    }
  });

  it("gives list items and table cells a block each", async () => {
    const doc = await extractDocument({ format: "html", body: fixture("help-center.html") });
    const all = texts(doc.blocks);
    const first = all.indexOf("Open Settings and choose Billing.");

    expect(all.slice(first, first + 3)).toEqual([
      "Open Settings and choose Billing.",
      "Click Request a refund next to the charge.",
      "Tell us why you are leaving — it helps us improve.",
    ]);
    const method = all.indexOf("Method");
    expect(all.slice(method, method + 6)).toEqual([
      "Method",
      "Delay",
      "Card",
      "5–10 days",
      "Bank transfer",
      "Up to 3 weeks",
    ]);
  });

  it("falls back to the body text of a short page that readability does not take for an article", async () => {
    const html = `<!doctype html><html><head><title>FAQ — Acme</title></head><body>
      <nav><a href="/">Home</a> <a href="/pricing">Pricing</a></nav>
      <h1>Frequently asked questions</h1>
      <h2>Can I pay by card?</h2><p>Yes, all major cards.</p>
      <h2>Do you send invoices?</h2><p>Every month, by email.</p>
      <dl><dt>Support hours</dt><dd>9:00–18:00 CET</dd></dl>
      <footer>© Acme</footer><script>track()</script>
    </body></html>`;
    expect(isProbablyReaderable(parseHTML(html).document)).toBe(false);

    const doc = await extractDocument({ format: "html", body: html });

    expect(doc).toEqual({
      title: "FAQ — Acme",
      blocks: [
        { type: "heading", level: 1, text: "Frequently asked questions" },
        { type: "heading", level: 2, text: "Can I pay by card?" },
        { type: "text", text: "Yes, all major cards." },
        { type: "heading", level: 2, text: "Do you send invoices?" },
        { type: "text", text: "Every month, by email." },
        { type: "text", text: "Support hours" },
        { type: "text", text: "9:00–18:00 CET" },
      ],
    });
  });

  it("reads a fragment without <html> and takes the caller's title when the page has none", async () => {
    const doc = await extractDocument({
      format: "html",
      body: "<p>Open <b>Settings</b>, then <i>Team</i>.</p><ul><li>Invite</li><li>Remove</li></ul>",
      title: "Managing your team",
    });

    expect(doc).toEqual({
      title: "Managing your team",
      blocks: [
        { type: "text", text: "Open Settings, then Team." },
        { type: "text", text: "Invite" },
        { type: "text", text: "Remove" },
      ],
    });
  });

  it("takes the title from <title> when the page has no h1, and returns no blocks for an empty page", async () => {
    const doc = await extractDocument({
      format: "html",
      body: "<html><head><title>Status &amp; uptime</title></head><body><p>All systems go.</p></body></html>",
    });
    expect(doc).toEqual({ title: "Status & uptime", blocks: [{ type: "text", text: "All systems go." }] });

    const empty = await extractDocument({
      format: "html",
      body: "<html><body><script>x()</script></body></html>",
    });
    expect(empty).toEqual({ title: "", blocks: [] });
  });

  it("decodes UTF-8 bytes and drops a byte-order mark", async () => {
    const bytes = new TextEncoder().encode("\uFEFF<html><body><p>Café crème à 3 €</p></body></html>");
    const doc = await extractDocument({ format: "html", body: bytes });
    expect(doc.blocks).toEqual([{ type: "text", text: "Café crème à 3 €" }]);
  });
});

describe("extractDocument on Markdown", () => {
  const markdown = [
    "---",
    'title: "Billing guide"',
    "tags: [billing]",
    "---",
    "",
    "# Billing guide",
    "",
    "Pay with [a card](https://acme.test/cards) or **by _bank_ transfer**; run `acme pay <id>` to check.",
    "AT&amp;T customers ~~can~~ get \\*discounts\\*. ![A screenshot](shot.png)",
    "",
    "## Plans",
    "",
    "- Starter: **free**",
    "  - one inbox",
    "- [ ] Pro: see [pricing][p]",
    "",
    "### Prices",
    "",
    "| Plan | Price |",
    "|------|------:|",
    "| Pro  | *$10* |",
    "",
    "## Refunds",
    "",
    "> Refunds take *up to* 10 days.",
    "",
    "```sh",
    "acme refund --last",
    "```",
    "",
    '<div class="note"><p>Annual plans only &amp; <b>never</b> add-ons.</p></div>',
    "",
    "[p]: https://acme.test/pricing",
    "",
  ].join("\n");

  it("reads headings, paragraphs, list items, tables, quotes and code as plain text, with the front matter's title", async () => {
    const doc = await extractDocument({ format: "markdown", body: markdown });

    expect(doc).toEqual({
      title: "Billing guide",
      blocks: [
        {
          type: "text",
          text: "Pay with a card or by bank transfer; run acme pay <id> to check. AT&T customers can get *discounts*.",
        },
        { type: "heading", level: 2, text: "Plans" },
        { type: "text", text: "Starter: free" },
        { type: "text", text: "one inbox" },
        { type: "text", text: "Pro: see pricing" },
        { type: "heading", level: 3, text: "Prices" },
        { type: "text", text: "Plan | Price" },
        { type: "text", text: "Pro | $10" },
        { type: "heading", level: 2, text: "Refunds" },
        { type: "text", text: "Refunds take up to 10 days." },
        { type: "text", text: "acme refund --last" },
        { type: "text", text: "Annual plans only & never add-ons." },
      ],
    });
  });

  it("takes the title from the first h1, else from the caller, else leaves it empty", async () => {
    const withH1 = await extractDocument({ format: "markdown", body: "Intro.\n\n# Setup\n\nInstall it.\n" });
    expect(withH1.title).toBe("Setup");
    // Only an h1 that opens the document is dropped as the title; this one heads a section.
    expect(headings(withH1.blocks)).toEqual(["h1 Setup"]);

    const untitled = await extractDocument({ format: "markdown", body: "## Setup\n\nInstall it.\n" });
    expect(untitled.title).toBe("");
    const given = await extractDocument({
      format: "markdown",
      body: "## Setup\n\nInstall it.\n",
      title: "Guide",
    });
    expect(given.title).toBe("Guide");
  });

  it("decodes UTF-8 bytes and drops a byte-order mark", async () => {
    const doc = await extractDocument({
      format: "markdown",
      body: new TextEncoder().encode("\uFEFF# Déjà vu\n\nÇa marche.\n"),
    });
    expect(doc).toEqual({ title: "Déjà vu", blocks: [{ type: "text", text: "Ça marche." }] });
  });
});

describe("extractDocument on plain text", () => {
  it("splits paragraphs on blank lines and takes a short first line followed by a blank line as the title", async () => {
    const doc = await extractDocument({
      format: "text",
      body: new TextEncoder().encode(
        "\uFEFFShipping policy\r\n\r\nWe ship\r\nworldwide.\r\n\r\n \r\n  Returns are free.  \n",
      ),
    });
    expect(doc).toEqual({
      title: "Shipping policy",
      blocks: [
        { type: "text", text: "We ship worldwide." },
        { type: "text", text: "Returns are free." },
      ],
    });
  });

  it("keeps the first line as text when the caller gives a title or when it is no title", async () => {
    const given = await extractDocument({
      format: "text",
      body: "Shipping policy\n\nWe ship.",
      title: "Shipping",
    });
    expect(given).toEqual({
      title: "Shipping",
      blocks: [
        { type: "text", text: "Shipping policy" },
        { type: "text", text: "We ship." },
      ],
    });

    const longLine = `${"word ".repeat(20).trim()}\n\nMore.`;
    expect((await extractDocument({ format: "text", body: longLine })).title).toBe("");
    const noBlankLine = "Shipping policy\nWe ship.";
    expect(await extractDocument({ format: "text", body: noBlankLine })).toEqual({
      title: "",
      blocks: [{ type: "text", text: "Shipping policy We ship." }],
    });
  });
});

describe("extractDocument on PDF", () => {
  it("reads the text of each page in paragraphs and the title from the document's metadata", async () => {
    const doc = await extractDocument({ format: "pdf", body: fixture("guide.pdf"), title: "Ignored" });

    expect(doc).toEqual({
      title: "Hugo Billing Guide",
      blocks: [
        { type: "text", text: "Billing guide" },
        {
          type: "text",
          text: "Hugo bills each workspace once a month, on the day the subscription started. Invoices are sent by email.",
        },
        { type: "text", text: "Refunds are possible within 30 days (café plans excluded)." },
        { type: "text", text: "Changing plans" },
        { type: "text", text: "Upgrades take effect at once and are prorated to the day." },
      ],
    });
  });

  it("leaves the caller's bytes usable after reading them", async () => {
    const bytes = new Uint8Array(fixture("guide.pdf"));
    await extractDocument({ format: "pdf", body: bytes });
    expect(bytes.byteLength).toBeGreaterThan(0);
    expect((await extractDocument({ format: "pdf", body: bytes })).title).toBe("Hugo Billing Guide");
  });

  it("rejects a corrupt, truncated or empty PDF with a clear error", async () => {
    const pdf = fixture("guide.pdf");
    for (const body of [
      new TextEncoder().encode("%PDF-1.4\nthis is not really a PDF"),
      pdf.subarray(0, pdf.length / 2),
      new Uint8Array(),
    ]) {
      await expect(extractDocument({ format: "pdf", body })).rejects.toThrow(/^not a readable PDF: ./);
    }
    await expect(extractDocument({ format: "pdf", body: "%PDF-1.4" })).rejects.toThrow(
      /^not a readable PDF: ./,
    );
  });
});

describe("formatFromName", () => {
  it("knows the formats by extension, whatever their case", () => {
    expect(
      [
        "faq.md",
        "FAQ.Markdown",
        "notes.txt",
        "page.html",
        "page.HTM",
        "guide.pdf",
        "a/b.c/guide.pdf?v=2",
      ].map((n) => formatFromName(n)),
    ).toEqual(["markdown", "markdown", "text", "html", "html", "pdf", "pdf"]);
  });

  it("prefers a known content type over the extension and ignores its parameters", () => {
    expect(formatFromName("upload", "text/html; charset=utf-8")).toBe("html");
    expect(formatFromName("upload.bin", "Text/Markdown")).toBe("markdown");
    expect(formatFromName("upload", "text/plain")).toBe("text");
    expect(formatFromName("upload", "application/pdf")).toBe("pdf");
    expect(formatFromName("report.pdf", "application/octet-stream")).toBe("pdf");
  });

  it("knows nothing of other files", () => {
    expect(formatFromName("photo.png")).toBeUndefined();
    expect(formatFromName("README")).toBeUndefined();
    expect(formatFromName("archive.tar/README")).toBeUndefined();
    expect(formatFromName("data.csv", "text/csv")).toBeUndefined();
  });
});
