import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardRoutes } from "./routes/dashboard.ts";

/**
 * `/app/` from a build folder laid out as Vite writes it (index.html, hashed assets with their
 * .br/.gz, .vite/manifest.json), on Fastify with Hugo's router options. The real build in Chromium:
 * e2e/dashboard.spec.ts.
 */
describe("the dashboard's static route", () => {
  let dir: string;
  let app: FastifyInstance;
  const script = `console.log(${JSON.stringify("x".repeat(2000))});`;
  const index =
    '<!doctype html><html><head><script type="module" src="/app/assets/index-Ab12.js"></script></head><body><div id="root"></div></body></html>';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-dashboard-"));
    app = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
    await app.register(dashboardRoutes({ dist: dir }));
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("says how to build it while the build is missing, then serves it once built, without a restart", async () => {
    for (const url of ["/app/", "/app/analytics", "/app/assets/index-Ab12.js"]) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(503);
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.body).toContain("npm run build -w @hugo/dashboard");
    }

    fs.mkdirSync(path.join(dir, "assets"));
    fs.mkdirSync(path.join(dir, ".vite"));
    fs.writeFileSync(path.join(dir, "index.html"), index);
    fs.writeFileSync(path.join(dir, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    fs.writeFileSync(path.join(dir, "assets", "index-Ab12.js"), script);
    fs.writeFileSync(path.join(dir, "assets", "index-Ab12.js.gz"), gzipSync(script));
    fs.writeFileSync(path.join(dir, ".vite", "manifest.json"), "{}");
    expect((await app.inject({ url: "/app/" })).statusCode).toBe(200);
  });

  it("answers every app route with index.html, revalidated on each load, under a strict CSP", async () => {
    const redirect = await app.inject({ url: "/app?from=mail" });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe("/app/?from=mail");
    for (const url of ["/app/", "/app/inbox", "/app/settings/tokens?tab=1", "/app/no/such/page"]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toBe(index);
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.headers["content-security-policy"]).toContain("default-src 'self'");
      expect(res.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    }
    const first = await app.inject({ url: "/app/inbox" });
    const again = await app.inject({
      url: "/app/inbox",
      headers: { "if-none-match": String(first.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it("serves hashed assets for a year, precompressed when the browser accepts it", async () => {
    const gz = await app.inject({
      url: "/app/assets/index-Ab12.js",
      headers: { "accept-encoding": "br, gzip" },
    });
    expect(gz.statusCode).toBe(200);
    // No .br beside this one: the .gz is next in the browser's preference.
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gz.headers["content-type"]).toMatch(/^(application|text)\/javascript/);
    expect(gz.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(gz.headers.vary).toMatch(/accept-encoding/i);
    expect(gz.rawPayload.equals(gzipSync(script))).toBe(true);

    const plain = await app.inject({
      url: "/app/assets/index-Ab12.js",
      headers: { "accept-encoding": "identity" },
    });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body).toBe(script);

    const icon = await app.inject({ url: "/app/favicon.svg" });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers["cache-control"]).toBe("public, max-age=3600");
  });

  it("answers 404 for a missing file instead of the app, and never serves what is outside the build", async () => {
    // A chunk from before an upgrade must fail as a script, not parse HTML.
    expect((await app.inject({ url: "/app/assets/index-Old1.js" })).statusCode).toBe(404);
    expect((await app.inject({ url: "/app/.vite/manifest.json" })).statusCode).toBe(404);
    for (const url of [
      "/app/../package.json",
      "/app/%2e%2e/%2e%2e/package.json",
      "/app/assets/..%2f..%2findex.html",
    ])
      expect((await app.inject({ url })).statusCode, url).toBeGreaterThanOrEqual(400);
  });
});
