import { isProbablyReaderable, Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";
import { marked, type Token, type Tokens } from "marked";

export type DocumentFormat = "html" | "markdown" | "text" | "pdf";
export type DocBlock = { type: "heading"; level: number; text: string } | { type: "text"; text: string };
export interface ExtractedDocument {
  title: string;
  blocks: DocBlock[];
}

/** Main text of a document, as headings and text blocks. `url` is only used as readability's base URI. */
export async function extractDocument(input: {
  format: DocumentFormat;
  body: string | Uint8Array;
  url?: string;
  title?: string;
}): Promise<ExtractedDocument> {
  if (input.format === "pdf") {
    if (typeof input.body === "string") throw new Error("not a readable PDF: a PDF must be given as bytes");
    return extractPdf(input.body, input.title);
  }
  const source = decodeText(input.body);
  switch (input.format) {
    case "html":
      return extractHtml(source, input.url, input.title);
    case "markdown":
      return extractMarkdown(source, input.title);
    case "text":
      return extractText(source, input.title);
  }
}

const EXTENSIONS: Record<string, DocumentFormat> = {
  md: "markdown",
  markdown: "markdown",
  txt: "text",
  html: "html",
  htm: "html",
  pdf: "pdf",
};

const CONTENT_TYPES: Record<string, DocumentFormat> = {
  "text/html": "html",
  "application/xhtml+xml": "html",
  "text/markdown": "markdown",
  "text/x-markdown": "markdown",
  "text/plain": "text",
  "application/pdf": "pdf",
};

/** The format of a file from its content type, else its extension; undefined when neither is known. */
export function formatFromName(filename: string, contentType?: string): DocumentFormat | undefined {
  // A known content type wins; a generic one (application/octet-stream) leaves it to the extension.
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type && CONTENT_TYPES[type]) return CONTENT_TYPES[type];
  const name = filename.split(/[?#]/)[0] ?? "";
  const dot = name.lastIndexOf(".");
  if (dot < 0 || dot < name.lastIndexOf("/")) return undefined;
  return EXTENSIONS[name.slice(dot + 1).toLowerCase()];
}

const utf8 = new TextDecoder("utf-8");

function decodeText(body: string | Uint8Array): string {
  // TextDecoder drops a leading BOM by itself; a string may still carry one from a careless reader.
  const text = typeof body === "string" ? body : utf8.decode(body);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

const collapse = (text: string) => text.replace(/\s+/g, " ").trim();

/** Drops an opening heading that only repeats the title, which the caller stores apart. */
function withoutTitleHeading(title: string, blocks: DocBlock[]): ExtractedDocument {
  const first = blocks[0];
  const repeatsTitle = first?.type === "heading" && title !== "" && first.text === title;
  return { title, blocks: repeatsTitle ? blocks.slice(1) : blocks };
}

// ---------------------------------------------------------------------------------------------- HTML

// Page chrome removed before readability sees the page: readability keeps whatever is left when a
// page is short, cookie banners and menus included.
const BOILERPLATE = [
  "script",
  "style",
  "noscript",
  "template",
  "iframe",
  "object",
  "embed",
  "svg",
  "canvas",
  "nav",
  "footer",
  "button",
  "select",
  "input",
  "textarea",
  "dialog",
  "[hidden]",
  '[aria-hidden="true"]',
  '[role="navigation"]',
  '[role="contentinfo"]',
  '[role="search"]',
  '[role="dialog"]',
  '[role="alertdialog"]',
].join(",");
const BOILERPLATE_NAME = /cookie|consent|gdpr|breadcrumb|skip-link|skip-to|navbar|site-header|site-footer/i;
const CONTAINERS = new Set(["html", "body", "main", "article"]);
const INVISIBLE_STYLE = /display\s*:\s*none|visibility\s*:\s*hidden/i;

// Elements that end the text before them and start a new block; everything else is inline.
const BLOCK_TAGS = new Set(
  (
    "address article aside blockquote body caption center dd details dialog div dl dt fieldset figcaption " +
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section summary table " +
    "tbody td tfoot th thead tr ul"
  ).split(" "),
);
const SKIPPED_TAGS = new Set(
  (
    "head title meta link base script style noscript template iframe object embed svg canvas img button " +
    "select input textarea"
  ).split(" "),
);
const HEADING_TAG = /^h([1-6])$/;
// Readability turns every h1 into an h2; the original level rides along in this attribute.
const LEVEL_ATTR = "data-hugo-level";

function extractHtml(html: string, url: string | undefined, fallbackTitle: string | undefined) {
  const document = parseDocument(html, url);
  removeBoilerplate(document);
  const titleTag = collapse(document.querySelector("title")?.textContent ?? "");
  const h1 = collapse(document.querySelector("h1")?.textContent ?? "");
  for (const heading of Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6"))) {
    heading.setAttribute(LEVEL_ATTR, heading.tagName.slice(1));
  }

  let article: { title: string; root: Element } | undefined;
  // Short pages (a FAQ, a contact page) are not articles: readability would keep a shred of them.
  if (isProbablyReaderable(document)) {
    const parsed = new Readability<Element>(document.cloneNode(true) as Document, {
      serializer: (node) => node as Element,
    }).parse();
    if (parsed?.content && collapse(parsed.content.textContent ?? "") !== "") {
      article = { title: collapse(parsed.title ?? ""), root: parsed.content };
    }
  }
  const blocks = htmlBlocks(article?.root ?? document.body);
  // `<title>` usually carries the site's name too ("Refunds | Acme Help"); the h1 is then cleaner.
  const title =
    h1 && titleTag.includes(h1) ? h1 : article?.title || titleTag || h1 || collapse(fallbackTitle ?? "");
  return withoutTitleHeading(title, blocks);
}

function parseDocument(html: string, url: string | undefined): Document {
  // linkedom only builds a proper <html><body> tree when the markup has one.
  const whole = /<html[\s>]/i.test(html)
    ? html
    : `<!doctype html><html><head></head><body>${html}</body></html>`;
  const { document } = parseHTML(whole);
  if (url && document.head && !document.querySelector("base[href]")) {
    const base = document.createElement("base");
    base.setAttribute("href", url);
    document.head.prepend(base);
  }
  return document;
}

function removeBoilerplate(document: Document) {
  for (const el of Array.from(document.querySelectorAll(BOILERPLATE))) el.remove();
  for (const el of Array.from(document.querySelectorAll("[id], [class], [style]"))) {
    // `<body class="cookie-banner-open">` names the page's state, not a banner.
    if (!el.isConnected || CONTAINERS.has(el.tagName.toLowerCase()) || el.querySelector("main, article"))
      continue;
    const name = `${el.getAttribute("id") ?? ""} ${el.getAttribute("class") ?? ""}`;
    if (BOILERPLATE_NAME.test(name) || INVISIBLE_STYLE.test(el.getAttribute("style") ?? "")) el.remove();
  }
  // A page's own header and sidebar go; those inside the article (its title, a callout) stay.
  for (const el of Array.from(document.querySelectorAll("header, aside"))) {
    if (el.isConnected && !el.closest("main, article") && !el.querySelector("h1")) el.remove();
  }
  // Search boxes and feedback forms go, but not a form wrapping the whole page (ASP.NET does that).
  for (const el of Array.from(document.querySelectorAll("form"))) {
    if (el.isConnected && !el.querySelector("main, article, h1")) el.remove();
  }
}

/** Headings and text blocks of an element, in document order. */
function htmlBlocks(root: Element | null): DocBlock[] {
  const blocks: DocBlock[] = [];
  let pending = "";
  const flush = () => {
    const text = collapse(pending);
    if (text) blocks.push({ type: "text", text });
    pending = "";
  };
  const walk = (node: Node) => {
    if (node.nodeType === 3) {
      pending += node.nodeValue ?? "";
      return;
    }
    if (node.nodeType !== 1) return;
    const el = node as Element;
    const tag = el.tagName.toLowerCase();
    if (SKIPPED_TAGS.has(tag)) return;
    if (tag === "br") {
      pending += " ";
      return;
    }
    const heading = HEADING_TAG.exec(tag);
    if (heading) {
      flush();
      const text = collapse(el.textContent ?? "");
      const level = Number(el.getAttribute(LEVEL_ATTR) ?? heading[1]);
      if (text) blocks.push({ type: "heading", level, text });
      return;
    }
    const block = BLOCK_TAGS.has(tag);
    if (block) flush();
    for (const child of Array.from(el.childNodes)) walk(child);
    if (block) flush();
  };
  if (root) walk(root);
  flush();
  return blocks;
}

// ------------------------------------------------------------------------------------------ Markdown

const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

function extractMarkdown(source: string, fallbackTitle: string | undefined): ExtractedDocument {
  const front = FRONT_MATTER.exec(source);
  const frontTitle = front ? frontMatterTitle(front[1] ?? "") : "";
  const blocks: DocBlock[] = [];
  markdownBlocks(marked.lexer(front ? source.slice(front[0].length) : source), blocks);
  const h1 = blocks.find((b) => b.type === "heading" && b.level === 1)?.text ?? "";
  return withoutTitleHeading(frontTitle || h1 || collapse(fallbackTitle ?? ""), blocks);
}

function frontMatterTitle(yaml: string): string {
  const line = /^title[ \t]*:[ \t]*(.*)$/m.exec(yaml);
  const value = line?.[1]?.trim() ?? "";
  const quoted = /^(["'])(.*)\1$/.exec(value);
  return collapse(quoted ? (quoted[2] ?? "") : value);
}

function markdownBlocks(tokens: Token[], out: DocBlock[]) {
  const text = (value: string) => {
    const t = collapse(value);
    if (t) out.push({ type: "text", text: t });
  };
  for (const token of tokens) {
    switch (token.type) {
      case "heading": {
        const t = collapse(inlineText(token.tokens));
        if (t) out.push({ type: "heading", level: token.depth, text: t });
        break;
      }
      case "paragraph":
      case "text":
        text(token.tokens ? inlineText(token.tokens) : decodeEntities(token.text));
        break;
      case "code":
        text(token.text);
        break;
      case "list":
        for (const item of (token as Tokens.List).items) markdownBlocks(item.tokens, out);
        break;
      case "blockquote":
        markdownBlocks(token.tokens ?? [], out);
        break;
      case "table": {
        const table = token as Tokens.Table;
        for (const row of [table.header, ...table.rows]) {
          text(row.map((cell) => collapse(inlineText(cell.tokens))).join(" | "));
        }
        break;
      }
      case "html":
        out.push(...htmlBlocks(parseDocument(token.text, undefined).body));
        break;
      // space, hr, def (link definitions), checkbox: no text of their own.
    }
  }
}

function inlineText(tokens: Token[] | undefined): string {
  let out = "";
  for (const token of tokens ?? []) {
    switch (token.type) {
      case "text":
        out += token.tokens ? inlineText(token.tokens) : decodeEntities(token.text);
        break;
      case "escape":
      case "codespan":
        out += token.text;
        break;
      case "br":
        out += " ";
        break;
      // Inline HTML tags are markup; the text between them comes as text tokens. Images are pictures.
      case "html":
      case "image":
        break;
      default: {
        const other = token as Tokens.Generic;
        out += other.tokens ? inlineText(other.tokens) : (other.text ?? "");
      }
    }
  }
  return out;
}

let entityDecoder: Element | undefined;

function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  // The HTML parser knows every named entity; escaping `<` keeps it from reading any markup.
  entityDecoder ??= parseHTML("<!doctype html><html><body><p></p></body></html>").document.querySelector(
    "p",
  )!;
  entityDecoder.innerHTML = text.replace(/</g, "&lt;");
  return entityDecoder.textContent ?? text;
}

// ---------------------------------------------------------------------------------------------- Text

function extractText(source: string, fallbackTitle: string | undefined): ExtractedDocument {
  const paragraphs = source
    .replace(/\r\n?/g, "\n")
    .split(/\n[ \t]*\n/)
    .map(collapse)
    .filter((p) => p !== "");
  const firstLine = source.trimStart().split("\n", 1)[0]?.trim() ?? "";
  const given = collapse(fallbackTitle ?? "");
  if (!given && firstLine.length <= 80 && paragraphs[0] === collapse(firstLine) && paragraphs.length > 1) {
    return { title: paragraphs[0]!, blocks: paragraphs.slice(1).map((text) => ({ type: "text", text })) };
  }
  return { title: given, blocks: paragraphs.map((text) => ({ type: "text", text })) };
}

// ----------------------------------------------------------------------------------------------- PDF

interface PdfItem {
  str: string;
  x: number;
  y: number;
  width: number;
  fontSize: number;
  hasEOL: boolean;
}
interface PdfLine {
  text: string;
  y: number;
  size: number;
  end: number;
}

async function extractPdf(bytes: Uint8Array, fallbackTitle: string | undefined): Promise<ExtractedDocument> {
  // pdf.js is large; only a PDF upload pays for loading it.
  const { extractTextItems, getDocumentProxy, getMeta } = await import("unpdf");
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>> | undefined;
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    const { info } = await getMeta(pdf);
    const { items } = await extractTextItems(pdf);
    const blocks: DocBlock[] = items.flatMap((page) =>
      pdfParagraphs(page).map((text): DocBlock => ({ type: "text", text })),
    );
    const metaTitle = typeof info?.Title === "string" ? collapse(info.Title) : "";
    return { title: metaTitle || collapse(fallbackTitle ?? ""), blocks };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`not a readable PDF: ${message}`, { cause: error });
  } finally {
    await pdf?.loadingTask.destroy();
  }
}

/** A page's text items as paragraphs: lines are grouped by baseline, paragraphs end at large gaps. */
function pdfParagraphs(items: PdfItem[]): string[] {
  const lines: PdfLine[] = [];
  let line: PdfLine | undefined;
  let lineEnded = false;
  for (const item of items) {
    const size = item.fontSize || 1;
    if (item.str !== "") {
      if (!line || lineEnded || Math.abs(item.y - line.y) > size * 0.4) {
        line = { text: item.str, y: item.y, size, end: item.x + item.width };
        lines.push(line);
      } else {
        const apart = item.x - line.end > size * 0.15 && !/\s$/.test(line.text) && !/^\s/.test(item.str);
        line.text += (apart ? " " : "") + item.str;
        line.size = Math.max(line.size, size);
        line.end = item.x + item.width;
      }
    }
    lineEnded = item.hasEOL;
  }

  // A paragraph break is a gap well above the page's usual line spacing (taken among lines of one size,
  // capped at 1.5 × the font size so a page of one-line paragraphs still splits), a change of font
  // size (a heading), or a jump upwards (a new column).
  const gaps: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const gap = lines[i - 1]!.y - lines[i]!.y;
    if (gap > 0 && lines[i - 1]!.size === lines[i]!.size) gaps.push(gap);
  }
  gaps.sort((a, b) => a - b);
  const usual = gaps[Math.floor((gaps.length - 1) / 2)];

  const paragraphs: string[] = [];
  let current: string[] = [];
  lines.forEach((l, i) => {
    const prev = lines[i - 1];
    if (prev) {
      const gap = prev.y - l.y;
      const spacing = Math.min(usual ?? Number.POSITIVE_INFINITY, 1.5 * Math.max(prev.size, l.size));
      if (gap > 1.3 * spacing || gap < -0.5 * l.size || Math.abs(prev.size - l.size) > 0.5) {
        paragraphs.push(collapse(current.join(" ")));
        current = [];
      }
    }
    current.push(l.text);
  });
  paragraphs.push(collapse(current.join(" ")));
  return paragraphs.filter((p) => p !== "");
}
