/**
 * The widget phase: what a page pays for Hugo's chat widget. The loader and the widget bundle are
 * fetched from a running Hugo (`main.ts serve`, so exactly what it serves) and gzipped; then real
 * Chromium (headless, loopback) loads a host page on another origin `--widget-loads` times, each in a
 * fresh context (no cache, no cookie: a first visit), timing the loader's start → `session:loaded`.
 *
 * Baseline (same run, same browser): a bare node:http server serving the same chain — a loader of
 * the same size that adds a script of the widget's size, which POSTs JSON cross-origin (preflight
 * included) and answers at once. Hugo − baseline is what the widget's own work costs: parsing and
 * running the bundle, mounting the UI, Hugo creating the session.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import type { Skipped } from "./bench.ts";
import { startHugo } from "./hugo.ts";
import type { BenchOptions } from "./options.ts";
import { type LatencySummary, summarize } from "./stats.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** Budgets of issue 5 item 8. */
export const LOADER_GZ_LIMIT = 2 * 1024;
export const WIDGET_GZ_LIMIT = 40 * 1024;
export const SESSION_LOADED_LIMIT_MS = 300;

export interface AssetSize {
  path: string;
  bytes: number;
  gzip: number;
}

export interface PageLoads {
  loads: number;
  /** Loads that never reached session:loaded within 10 s. */
  failed: number;
  /** Loader start → session:loaded, ms (performance.now() in the page). */
  latency: LatencySummary;
  /** Navigation start → DOMContentLoaded of the host page itself, for context. */
  domContentLoaded: LatencySummary;
}

export interface WidgetResults {
  loader?: AssetSize;
  widget?: AssetSize;
  /** The first load after Hugo started (it builds the bundle on that request), ms; not in the summary. */
  coldMs?: number;
  hugo?: PageLoads | Skipped;
  baseline?: PageLoads | Skipped;
}

const gz = (body: Buffer) => gzipSync(body, { level: 6 }).length;

/** A file as Hugo serves it, with its size raw and gzipped (level 6). */
export async function fetchAsset(base: string, path: string): Promise<{ body: Buffer; size: AssetSize }> {
  const res = await fetch(`${base}${path}`);
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  return { body, size: { path, bytes: body.length, gzip: gz(body) } };
}

/** A host page: the Crisp snippet, its start stamped, `session:loaded` stamped. */
function hostPage(loaderUrl: string, websiteId: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<script>window.$crisp=[];window.CRISP_WEBSITE_ID=${JSON.stringify(websiteId)};
$crisp.push(["on","session:loaded",function(){window.__t1=performance.now();}]);
window.__t0=performance.now();
(function(){var d=document,s=d.createElement("script");s.src=${JSON.stringify(loaderUrl)};s.async=1;d.getElementsByTagName("head")[0].appendChild(s);})();</script>
</head><body><h1>Acme shop</h1><p>Welcome.</p></body></html>`;
}

interface Server {
  url: string;
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener, host: string): Promise<Server> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The baseline's server: `/l.js` (padded to the loader's size) adds `/w.js` (padded to the widget's
 * size), which POSTs JSON to `/session` (a CORS preflight, then the POST) and calls `session:loaded`.
 */
function baselineServer(loaderBytes: number, widgetBytes: number): Promise<Server> {
  const pad = (code: string, bytes: number) =>
    `${code}/*${"x".repeat(Math.max(0, bytes - code.length - 4))}*/`;
  let origin = "";
  const loader = () =>
    pad(
      `(function(){var s=document.createElement("script");s.src=${JSON.stringify(`${origin}/w.js`)};s.async=true;document.head.appendChild(s);})();`,
      loaderBytes,
    );
  const widget = () =>
    pad(
      `(function(){var q=window.$crisp;fetch(${JSON.stringify(`${origin}/session`)},{method:"POST",headers:{"content-type":"application/json"},body:"{}"}).then(function(r){return r.json()}).then(function(){for(var i=0;i<q.length;i++){var c=q[i];if(c[0]==="on"&&c[1]==="session:loaded")c[2]("session_x");}});})();`,
      widgetBytes,
    );
  const cors = { "access-control-allow-origin": "*" };
  return listen((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        ...cors,
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type",
      });
      res.end();
    } else if (url === "/l.js" || url === "/w.js") {
      res.writeHead(200, { ...cors, "content-type": "text/javascript; charset=utf-8" });
      res.end(url === "/l.js" ? loader() : widget());
    } else if (url === "/session") {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { ...cors, "content-type": "application/json" });
        res.end('{"error":false,"reason":"ok","data":{"session_id":"session_x"}}');
      });
    } else {
      res.writeHead(404);
      res.end();
    }
  }, "127.0.0.1").then((s) => {
    origin = s.url;
    return s;
  });
}

type PlaywrightBrowser = import("playwright-core").Browser;

/** One page load in a fresh context: ms from the loader's start to session:loaded, and the page's DCL. */
async function loadOnce(
  browser: PlaywrightBrowser,
  pageUrl: string,
): Promise<{ ms: number; dcl: number } | undefined> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(pageUrl);
    return await page
      .waitForFunction(
        () => {
          const w = window as unknown as { __t0?: number; __t1?: number };
          return w.__t1 === undefined
            ? undefined
            : {
                ms: w.__t1 - w.__t0!,
                dcl: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming)
                  .domContentLoadedEventEnd,
              };
        },
        undefined,
        { timeout: 10_000 },
      )
      .then((h) => h.jsonValue() as Promise<{ ms: number; dcl: number }>);
  } catch {
    return undefined;
  } finally {
    await context.close();
  }
}

/**
 * `loads` page loads of each URL, alternating between them (a burst of load from elsewhere on the
 * machine tends to hit both sides), each in a fresh context.
 */
async function measureLoads(browser: PlaywrightBrowser, urls: string[], loads: number): Promise<PageLoads[]> {
  const samples = urls.map(() => ({ ms: [] as number[], dcl: [] as number[], failed: 0 }));
  for (let i = 0; i < loads; i++) {
    for (const [j, url] of urls.entries()) {
      const t = await loadOnce(browser, url);
      if (t) {
        samples[j]!.ms.push(t.ms);
        samples[j]!.dcl.push(t.dcl);
      } else samples[j]!.failed++;
    }
  }
  return samples.map((s) => ({
    loads,
    failed: s.failed,
    latency: summarize(s.ms),
    domContentLoaded: summarize(s.dcl),
  }));
}

export async function runWidgetBench(options: BenchOptions): Promise<WidgetResults> {
  const log = options.log;
  const results: WidgetResults = {};
  const hugo = await startHugo({ main: options.hugoMain });
  const servers: Server[] = [];
  let browser: PlaywrightBrowser | undefined;
  try {
    const base = `http://127.0.0.1:${hugo.proc.port}`;
    // Sizes: exactly what Hugo serves (the widget path is the one its loader names).
    const loader = await fetchAsset(base, "/l.js");
    const widgetPath = /"(\/widget\/[\w-]+\.js)"/.exec(loader.body.toString())?.[1];
    if (!widgetPath) throw new Error("the loader names no /widget/<hash>.js");
    const widget = await fetchAsset(base, widgetPath);
    results.loader = loader.size;
    results.widget = widget.size;
    log(
      `widget: l.js ${loader.size.bytes} B (${loader.size.gzip} B gz), ${widgetPath} ${widget.size.bytes} B (${widget.size.gzip} B gz)`,
    );

    if (!fs.existsSync(CHROMIUM)) {
      const skipped = { skipped: `${CHROMIUM} is absent` };
      results.hugo = skipped;
      results.baseline = skipped;
      return results;
    }
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    const baseline = await baselineServer(loader.size.bytes, widget.size.bytes);
    servers.push(baseline);
    const pages = new Map<string, string>([
      ["/hugo", hostPage(`${base}/l.js`, hugo.seed.websiteId)],
      ["/baseline", hostPage(`${baseline.url}/l.js`, "00000000-0000-4000-8000-000000000000")],
    ]);
    // The host site is "localhost", Hugo and the baseline "127.0.0.1": cross-origin, as on a real site.
    const site = await listen((req, res) => {
      const page = pages.get((req.url ?? "/").split("?")[0]!);
      res.writeHead(page ? 200 : 404, { "content-type": "text/html; charset=utf-8" });
      res.end(page ?? "not found");
    }, "localhost");
    servers.push(site);

    // Hugo builds the bundle on its first request: that load is reported apart, not in the summary.
    results.coldMs = (await loadOnce(browser, `${site.url}/hugo`))?.ms;
    const urls = [`${site.url}/baseline`, `${site.url}/hugo`];
    // Warm-up, unmeasured: the browser's own first-load costs, both sides.
    await measureLoads(browser, urls, 3);
    const loads = options.widgetLoads;
    log(`widget: ${loads} page loads each in Chromium, a fresh context each, baseline and Hugo alternating`);
    const [bare, withHugo] = await measureLoads(browser, urls, loads);
    results.baseline = bare!;
    results.hugo = withHugo!;
    const h = results.hugo;
    log(
      `    loader start → session:loaded p50 ${h.latency.p50.toFixed(1)} ms, p99 ${h.latency.p99.toFixed(1)} ms`,
    );
    return results;
  } finally {
    await browser?.close().catch(() => {});
    for (const s of servers) await s.close();
    await hugo.proc.stop();
  }
}
