import fs from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync, FastifyReply } from "fastify";

/** Where `npm run build -w @hugo/dashboard` writes the operator app (the root `prepare` script runs it on install). */
export const DASHBOARD_DIST = path.resolve(import.meta.dirname, "../../../../dashboard/dist");
/** Whether the dashboard is built (its index.html exists), for `/app/` and `hugo serve`'s banner. */
export const dashboardBuilt = (dist = DASHBOARD_DIST) => fs.existsSync(path.join(dist, "index.html"));

/** The dashboard's address on Hugo's origin. */
export const DASHBOARD_PATH = "/app/";

const YEAR_MS = 365 * 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;

/**
 * The app talks to its own origin only (`connect-src 'self'` covers the same-origin WebSocket too);
 * nothing inline, nothing framed.
 */
const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The operator dashboard at `/app/`, from `apps/dashboard/dist`: hashed assets cached for a year,
 * `index.html` revalidated on every load (so an upgrade reaches operators at once), and every other
 * path under `/app/` answered with `index.html` for the app's own router. Files are served
 * precompressed (.br / .gz written by the build) through @fastify/static, which also handles ETags,
 * ranges and path traversal. Without a build, `/app/` says how to make one; the API is unaffected.
 */
export const dashboardRoutes =
  (options: { dist?: string } = {}): FastifyPluginAsync =>
  async (app) => {
    const dist = options.dist ?? DASHBOARD_DIST;
    await app.register(fastifyStatic, {
      root: dist,
      serve: false,
      preCompressed: true,
      // A missing build is answered per request (below): it may be built while Hugo runs.
      suppressWarning: true,
      // The build's .vite/manifest.json is for the bench, not for browsers.
      dotfiles: "ignore",
      index: false,
    });
    const built = () => dashboardBuilt(dist);
    const hide = { schema: { hide: true } };

    const sendIndex = (reply: FastifyReply) =>
      reply
        .header("cache-control", "no-cache")
        .header("content-security-policy", CSP)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "same-origin")
        .sendFile("index.html", { cacheControl: false });

    app.get("/app", hide, async (req, reply) => {
      const [pathname, query] = splitUrl(req.url);
      // The router treats /app and /app/ alike; the app's own URLs all live under /app/.
      if (pathname === "/app") return reply.redirect(`${DASHBOARD_PATH}${query}`, 301);
      return built() ? sendIndex(reply) : notBuilt(reply);
    });
    app.get("/app/*", hide, async (req, reply) => {
      if (!built()) return notBuilt(reply);
      const file = (req.params as { "*": string })["*"];
      // A path naming a file is that file or a 404, never the app: a missing chunk must fail as a script.
      if (/\.[A-Za-z0-9]+$/.test(file)) {
        reply.header("x-content-type-options", "nosniff");
        return file.startsWith("assets/")
          ? reply.sendFile(file, { maxAge: YEAR_MS, immutable: true })
          : reply.sendFile(file, { maxAge: HOUR_MS });
      }
      return sendIndex(reply);
    });
  };

function splitUrl(url: string): [string, string] {
  const at = url.indexOf("?");
  return at < 0 ? [url, ""] : [url.slice(0, at), url.slice(at)];
}

function notBuilt(reply: FastifyReply) {
  return reply
    .code(503)
    .header("content-type", "text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
    .send(NOT_BUILT_PAGE);
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hugo — the dashboard is not built</title>
<style>
body{font:16px/1.55 system-ui,sans-serif;color:#1d2433;background:#f5f7fa;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;border:1px solid #e4e7ec;border-radius:14px;padding:32px;max-width:560px;margin:16px}
h1{font-size:22px;margin:0 0 12px}
pre{background:#f1f3f6;padding:12px 14px;border-radius:8px;font-size:14px;overflow:auto}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
p{color:#5f6b7c}
a{color:#1972f5}
</style></head><body><main>
<h1>The dashboard is not built yet</h1>
<p>Hugo serves its operator dashboard from <code>apps/dashboard/dist</code>, which is missing. Build it once, from the Hugo checkout:</p>
<pre>npm run build -w @hugo/dashboard</pre>
<p><code>npm install</code> and <code>npm ci</code> build it too, unless scripts are turned off (<code>--ignore-scripts</code>). Then reload this page — no restart needed.</p>
<p>The API works meanwhile: <a href="/api/docs">API reference</a>.</p>
</main></body></html>
`;
