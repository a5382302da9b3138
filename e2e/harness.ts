import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
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

/**
 * A TCP proxy in front of Hugo on loopback, so a test can break the widget's WebSockets as networks
 * do: `drop` closes them (the browser sees the close), `blackhole` keeps them open but forwards
 * nothing either way (a laptop woken from sleep behind a NAT that forgot the connection: no close,
 * no error, silence). Other connections (plain HTTP) and new ones are not affected.
 */
export interface BreakableProxy {
  url: string;
  /** WebSocket connections currently open through the proxy (broken ones excluded). */
  sockets(): number;
  drop(): void;
  blackhole(): void;
  close(): Promise<void>;
}

export async function startProxy(targetUrl: string): Promise<BreakableProxy> {
  const target = new URL(targetUrl);
  type Pair = { client: net.Socket; upstream: net.Socket; websocket: boolean; dead: boolean };
  const pairs = new Set<Pair>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    const pair: Pair = { client, upstream, websocket: false, dead: false };
    pairs.add(pair);
    client.on("data", (chunk) => {
      if (!pair.websocket && /^upgrade: *websocket/im.test(chunk.toString("latin1"))) pair.websocket = true;
      if (!pair.dead) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!pair.dead) client.write(chunk);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    // Hugo ending a blackholed socket (no pong) is not heard by the browser either.
    upstream.on("close", () => pair.dead || end()).on("error", () => pair.dead || end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const live = () => [...pairs].filter((p) => p.websocket && !p.dead);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets: () => live().length,
    drop() {
      for (const p of live()) {
        p.client.destroy();
        p.upstream.destroy();
      }
    },
    blackhole() {
      for (const p of live()) p.dead = true;
    },
    close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Chromium as a person runs it: Playwright attached over CDP with `noDefaults`, so its focus
 * emulation (which keeps every page "visible") is off and a page can be hidden and frozen with
 * `Page.setWebLifecycleState`, as Chrome freezes background tabs. Pages open in `context`.
 */
export async function launchFreezableChromium(): Promise<{
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-chromium-"));
  const proc = spawn(
    CHROMIUM,
    ["--headless", "--no-sandbox", "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let seen = "";
    proc.stderr.on("data", (chunk) => {
      seen += String(chunk);
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (found) resolve(found[1]!);
    });
    proc.once("exit", (code) => reject(new Error(`chromium exited (${code}): ${seen.slice(-500)}`)));
  });
  const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true });
  return {
    browser,
    context: browser.contexts()[0]!,
    async close() {
      await browser.close().catch(() => {});
      proc.kill();
      await new Promise((resolve) => (proc.exitCode === null ? proc.once("exit", resolve) : resolve(null)));
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
