import path from "node:path";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../apps/server/test/hugo.ts";
import { CHROMIUM, hasChromium } from "./harness.ts";

/**
 * @hugo/client in a real browser, as the dashboard will use it: served from Hugo's origin, signed
 * in with the session cookie and the CSRF token (no API token in the page), typed errors, and an
 * Idempotency-Key on every POST even where `crypto.randomUUID` is missing (plain http on a LAN).
 */
describe.skipIf(!hasChromium)("the typed client in Chromium", () => {
  let hugo: RunningHugo;
  let browser: Browser;
  let bundle: string;

  beforeAll(async () => {
    const [server, chrome, built] = await Promise.all([
      startHugo("sqlite"),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] }),
      build({
        entryPoints: [path.join(import.meta.dirname, "../packages/client/src/index.ts")],
        bundle: true,
        write: false,
        format: "iife",
        globalName: "HugoLib",
        platform: "browser",
        target: ["chrome100"],
        logLevel: "silent",
      }),
    ]);
    hugo = server;
    browser = chrome;
    bundle = built.outputFiles[0]!.text;
  });
  afterAll(async () => {
    await browser?.close();
    await hugo?.stop();
  });

  it("signs in with the cookie, changes things with the CSRF token, and throws typed errors", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const keys: string[] = [];
    page.on("request", (req) => {
      const key = req.headers()["idempotency-key"];
      if (key) keys.push(key);
    });
    await page.goto(`${hugo.url}/health`);
    await page.addScriptTag({ content: bundle });
    const outcome = await page.evaluate(
      async ({ email, password }) => {
        // As on a dashboard served over plain http: no crypto.randomUUID.
        Object.defineProperty(crypto, "randomUUID", { value: undefined, configurable: true });
        // biome-ignore lint/suspicious/noExplicitAny: the IIFE bundle's global
        const { HugoClient, HugoError, BadRequestError } = (window as any).HugoLib;
        const client = new HugoClient({ baseUrl: "" });
        const session = await client.auth.login({ email, password });
        const refusedWithoutCsrf = await client.workflows
          .create({ name: "No CSRF", graph: { blocks: [], edges: [] } })
          .then(
            () => "created",
            (e: { code: string }) => e.code,
          );
        client.csrfToken = session.csrf_token;
        const created = await client.workflows.create({
          name: "From the browser",
          graph: { blocks: [], edges: [] },
        });
        const names = (await client.workflows.list()).map((w: { name: string }) => w.name);
        let typed = {};
        try {
          await client.agent.trigger({ session_id: "not-a-session" });
        } catch (e) {
          typed = {
            isHugoError: e instanceof HugoError,
            isBadRequest: e instanceof BadRequestError,
            code: (e as { code: string }).code,
            field: (e as { field: string }).field,
            status: (e as { status: number }).status,
          };
        }
        await client.auth.logout();
        const afterLogout = await client.workflows.list().then(
          () => "listed",
          (e: { code: string; status: number }) => `${e.status} ${e.code}`,
        );
        return {
          role: session.role,
          refusedWithoutCsrf,
          created: created.name,
          names,
          typed,
          afterLogout,
          cookieVisible: document.cookie,
        };
      },
      { email: hugo.seed.ownerEmail, password: hugo.seed.ownerPassword },
    );
    expect(outcome.role).toBe("owner");
    expect(outcome.refusedWithoutCsrf).toBe("csrf_failed");
    expect(outcome.created).toBe("From the browser");
    expect(outcome.names).toContain("From the browser");
    expect(outcome.names).not.toContain("No CSRF");
    expect(outcome.typed).toEqual({
      isHugoError: true,
      isBadRequest: true,
      code: "invalid_body",
      field: "session_id",
      status: 400,
    });
    expect(outcome.afterLogout).toBe("401 unauthorized");
    // The session cookie is HttpOnly: page scripts never see it.
    expect(outcome.cookieVisible).not.toContain("hugo_session");
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const key of keys)
      expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(keys).size).toBe(keys.length);
    await context.close();
  });
});
