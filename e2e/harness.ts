import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type RunningHugo, startHugo } from "../apps/server/test/hugo.ts";

/** What the widget's browser suites share: Chromium, the host site on another origin, the snippet page. */

export const CHROMIUM = "/usr/bin/chromium";
export const SHOTS = path.join(import.meta.dirname, "..", ".e2e");
export const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[e2e] ${CHROMIUM} is absent: the widget's browser tests are skipped.`);

export interface HostSite {
  url: string;
  pages: Map<string, string | { type: string; body: string }>;
  close(): Promise<void>;
}

/** A suite's Hugo (SQLite, demo seeded), the host site on another origin, and Chromium, started together. */
export async function openBrowserSuite(): Promise<{ hugo: RunningHugo; site: HostSite; browser: Browser }> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const [hugo, site, browser] = await Promise.all([
    startHugo("sqlite"),
    startHostSite(),
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] }),
  ]);
  return { hugo, site, browser };
}

/** Closes what `openBrowserSuite` started (any of it may be missing when starting failed), and the contexts opened. */
export async function closeBrowserSuite(suite: {
  hugo?: RunningHugo;
  site?: HostSite;
  browser?: Browser;
  contexts: BrowserContext[];
}): Promise<void> {
  for (const ctx of suite.contexts) await ctx.close().catch(() => {});
  await suite.browser?.close();
  await suite.site?.close();
  await suite.hugo?.stop();
}

/** The customer's website: plain HTML pages on another loopback origin, so CORS is real. */
export async function startHostSite(): Promise<HostSite> {
  /** An HTML page, or any other file with its type (a site's own script bundle). */
  const pages = new Map<string, string | { type: string; body: string }>();
  const server = http.createServer((req, res) => {
    const page = pages.get((req.url ?? "/").split("?")[0]!);
    const file = typeof page === "string" ? { type: "text/html; charset=utf-8", body: page } : page;
    res.writeHead(file ? 200 : 404, { "content-type": file?.type ?? "text/plain" });
    res.end(file?.body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  // "localhost" vs Hugo's "127.0.0.1": two origins (and two cookie jars) on one machine.
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  return { url, pages, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The standard Crisp snippet with only the script URL changed; `before` runs between the globals and the script. */
export function snippetPage(
  hugoUrl: string,
  websiteId: string,
  options: { before?: string; head?: string; body?: string } = {},
) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>${options.head ?? ""}
<script type="text/javascript">window.$crisp=[];window.CRISP_WEBSITE_ID="${websiteId}";${options.before ?? ""}
(function(){var d=document;var s=d.createElement("script");s.src="${hugoUrl}/l.js";s.async=1;d.getElementsByTagName("head")[0].appendChild(s);})();</script>
</head><body>${options.body ?? "<h1>Acme shop</h1><p>Welcome to our shop.</p>"}</body></html>`;
}

/** Opens a page in a fresh context (its own cookies: another device); records console output and page errors. */
export async function visitPage(
  browser: Browser,
  url: string,
  options: {
    context?: BrowserContext;
    contexts?: BrowserContext[];
    viewport?: { width: number; height: number };
  } = {},
) {
  const ctx =
    options.context ??
    (await browser.newContext({ viewport: options.viewport ?? { width: 1000, height: 700 } }));
  if (!options.context) options.contexts?.push(ctx);
  const page = await ctx.newPage();
  const warnings: string[] = [];
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "warning" || m.type() === "error") warnings.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, warnings, errors };
}

/** The widget's session id, once `session:loaded` happened. */
export const sessionOf = (page: Page) =>
  page
    .waitForFunction(() =>
      (window as unknown as { $crisp: { get(k: string): string | null } }).$crisp.get?.("session:identifier"),
    )
    .then((h) => h.jsonValue() as Promise<string>);

/** A call to Hugo's API with the demo's token; the JSON answer. */
export async function demoApi(hugo: RunningHugo, method: string, p: string, body?: unknown) {
  const response = await fetch(`${hugo.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${hugo.seed.token.token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return response.json();
}

/** A demo conversation's REST path. */
export const conversationPath = (hugo: RunningHugo, sessionId: string) =>
  `/v1/website/${hugo.seed.websiteId}/conversation/${sessionId}`;
