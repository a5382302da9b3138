import fs from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../apps/server/src/config.ts";
import type { DemoSeed } from "../apps/server/src/core/seed.ts";
import { createHugo, type Hugo } from "../apps/server/src/server.ts";

/**
 * The widget across a Hugo restart, in real Chromium: Hugo runs in this process on a fixed port and
 * a SQLite data directory, is closed, and a new Hugo starts on the same port and data.
 */
const CHROMIUM = "/usr/bin/chromium";
const SHOTS = path.join(import.meta.dirname, "..", ".e2e");
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[e2e] ${CHROMIUM} is absent: the widget's reconnect tests are skipped.`);

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

async function startHostSite() {
  const pages = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const page = pages.get((req.url ?? "/").split("?")[0]!);
    res.writeHead(page ? 200 : 404, { "content-type": "text/html; charset=utf-8" });
    res.end(page ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  return { url, pages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

type Widget = { $crisp: { push(c: unknown): void }; __hugoWidget: { online: boolean } };

describe.skipIf(!hasChromium)("the widget across a Hugo restart and a network drop", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-restart-"));
  let port: number;
  let url: string;
  let hugo: Hugo | undefined;
  let seed: DemoSeed;
  let site: Awaited<ReturnType<typeof startHostSite>>;
  let browser: Browser;

  /** Hugo on the fixed port and data directory, as `hugo serve` would run it. */
  async function start(): Promise<Hugo> {
    const config = loadConfig({
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      LOG_LEVEL: "silent",
      PUBLIC_URL: url,
    });
    const started = await createHugo(config);
    await started.listen();
    return started;
  }
  const api = async (method: string, p: string, body?: unknown) => {
    const response = await fetch(`${url}${p}`, {
      method,
      headers: { authorization: `Bearer ${seed.token.token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return response.json();
  };
  const conversation = (sessionId: string) => `/v1/website/${seed.websiteId}/conversation/${sessionId}`;
  const userMessages = async (sessionId: string) =>
    ((await api("GET", `${conversation(sessionId)}/messages`)).data as { from: string; content: string }[])
      .filter((m) => m.from === "user")
      .map((m) => m.content);
  const operatorSays = (sessionId: string, content: string) =>
    api("POST", `${conversation(sessionId)}/message`, {
      type: "text",
      from: "operator",
      origin: "chat",
      content,
    });
  /** How many messages in the widget read exactly `text` (confirmed or pending). */
  const shown = async (page: Page, text: string) =>
    (await page.locator("#crisp-chatbox .msg .bubble").allTextContents()).filter((t) => t.trim() === text)
      .length;
  const push = (page: Page, command: unknown[]) =>
    page.evaluate((c) => (window as unknown as Widget).$crisp.push(c), command);
  const online = (page: Page) => page.evaluate(() => (window as unknown as Widget).__hugoWidget.online);

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    hugo = await start();
    if (!hugo.seed) throw new Error("expected a demo seed on a fresh data directory");
    seed = hugo.seed;
    [site, browser] = await Promise.all([
      startHostSite(),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] }),
    ]);
    site.pages.set(
      "/",
      `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<script>window.$crisp=[];window.CRISP_WEBSITE_ID=${JSON.stringify(seed.websiteId)};$crisp.push(["do","chat:open"]);
(function(){var d=document,s=d.createElement("script");s.src=${JSON.stringify(`${url}/l.js`)};s.async=1;d.getElementsByTagName("head")[0].appendChild(s);})();</script>
</head><body><h1>Acme shop</h1></body></html>`,
    );
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await hugo?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("loses and duplicates nothing when Hugo restarts, and sends the message typed meanwhile once", async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${site.url}/`);
    const sessionId = (await page
      .waitForFunction(() =>
        (window as unknown as { $crisp: { get?(k: string): string | null } }).$crisp.get?.(
          "session:identifier",
        ),
      )
      .then((h) => h.jsonValue())) as string;

    await push(page, ["do", "message:send", ["text", "before the restart"]]);
    await page
      .locator('#crisp-chatbox .msg[data-from="visitor"]:not(.pending)', { hasText: "before the restart" })
      .waitFor();
    await operatorSays(sessionId, "Operator, before the restart");
    await page
      .locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "before the restart" })
      .waitFor();
    await expect.poll(() => online(page)).toBe(true);

    // Hugo stops; the widget notices and the visitor writes meanwhile.
    await hugo!.close();
    hugo = undefined;
    await expect.poll(() => online(page), { timeout: 15_000 }).toBe(false);
    await push(page, ["do", "message:send", ["text", "while down"]]);
    await page
      .locator('#crisp-chatbox .msg[data-from="visitor"].pending', { hasText: "while down" })
      .waitFor();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await shown(page, "while down")).toBe(1);

    // A new Hugo on the same port and data: the widget reconnects and sends what waited, once.
    hugo = await start();
    expect(hugo.seed).toBeUndefined();
    await expect.poll(() => userMessages(sessionId), { timeout: 30_000 }).toContain("while down");
    await page
      .locator('#crisp-chatbox .msg[data-from="visitor"]:not(.pending)', { hasText: "while down" })
      .waitFor({ timeout: 30_000 });
    await expect.poll(() => online(page), { timeout: 30_000 }).toBe(true);

    await operatorSays(sessionId, "Operator, after the restart");
    await page
      .locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "after the restart" })
      .waitFor();
    // Let any late replay or retry land before counting.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await userMessages(sessionId)).toEqual(["before the restart", "while down"]);
    for (const text of [
      "before the restart",
      "Operator, before the restart",
      "while down",
      "Operator, after the restart",
    ])
      expect(await shown(page, text), text).toBe(1);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, "realtime-restart.png") });
    await context.close();
  });

  it("sends a message typed during a network drop exactly once when the network returns", async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    await page.goto(`${site.url}/`);
    const sessionId = (await page
      .waitForFunction(() =>
        (window as unknown as { $crisp: { get?(k: string): string | null } }).$crisp.get?.(
          "session:identifier",
        ),
      )
      .then((h) => h.jsonValue())) as string;
    await expect.poll(() => online(page)).toBe(true);
    await context.setOffline(true);
    await push(page, ["do", "message:send", ["text", "typed offline"]]);
    await page
      .locator('#crisp-chatbox .msg[data-from="visitor"].pending', { hasText: "typed offline" })
      .waitFor();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await userMessages(sessionId)).toEqual([]);
    await context.setOffline(false);
    await page
      .locator('#crisp-chatbox .msg[data-from="visitor"]:not(.pending)', { hasText: "typed offline" })
      .waitFor({ timeout: 30_000 });
    await operatorSays(sessionId, "Operator, after the drop");
    await page.locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "after the drop" }).waitFor();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await userMessages(sessionId)).toEqual(["typed offline"]);
    expect(await shown(page, "typed offline")).toBe(1);
    expect(await shown(page, "Operator, after the drop")).toBe(1);
    await context.close();
  });
});
