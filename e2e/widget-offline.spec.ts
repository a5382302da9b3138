import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHugo } from "../apps/server/test/hugo.ts";
import {
  closeBrowserSuite,
  conversationPath,
  demoApi,
  type HostSite,
  hasChromium,
  openBrowserSuite,
  SHOTS,
  sessionOf,
  snippetPage,
} from "./harness.ts";

type Widget = { __hugoWidget: { online: boolean } };

/**
 * Messages the visitor typed while offline outlive the page: kept in localStorage with their
 * fingerprints, sent once when the connection returns, even after a reload or a closed tab.
 */
describe.skipIf(!hasChromium)("the widget's unsent messages across reloads", () => {
  let hugo: RunningHugo;
  let site: HostSite;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let url: string;

  const visitorMessages = async (sessionId: string) =>
    (
      (await demoApi(hugo, "GET", `${conversationPath(hugo, sessionId)}/messages`)).data as {
        from: string;
        content: string;
        fingerprint: number;
      }[]
    ).filter((m) => m.from === "user");
  /** How many bubbles read exactly `text`, and how many of them are still pending. */
  const shown = async (page: Page, text: string) => {
    const bubbles = page.locator("#crisp-chatbox .msg", {
      has: page.locator(".bubble", {
        hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`),
      }),
    });
    const pending = bubbles.and(page.locator("#crisp-chatbox .msg.pending"));
    return { count: await bubbles.count(), pending: await pending.count() };
  };
  const unsent = (page: Page) =>
    page.evaluate(
      (key) => JSON.parse(localStorage.getItem(key) ?? "[]") as { fingerprint: number; content: string }[],
      `hugo/unsent/${hugo.seed.websiteId}`,
    );
  /** Types in the chat's field and presses Enter, as a visitor does. */
  const type = async (page: Page, text: string) => {
    const input = page.locator("#crisp-chatbox .compose input");
    await input.fill(text);
    await input.press("Enter");
    await page.locator("#crisp-chatbox .msg.visitor", { hasText: text }).waitFor();
  };
  const online = (page: Page) => page.evaluate(() => (window as unknown as Widget).__hugoWidget.online);

  async function openChat() {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    const sessionId = await sessionOf(page);
    await expect.poll(() => online(page)).toBe(true);
    return { context, page, sessionId, errors };
  }

  beforeAll(async () => {
    ({ hugo, site, browser } = await openBrowserSuite());
    site.pages.set(
      "/",
      snippetPage(hugo.url, hugo.seed.websiteId, { before: '$crisp.push(["do","chat:open"]);' }),
    );
    url = `${site.url}/`;
  });
  afterAll(() => closeBrowserSuite({ hugo, site, browser, contexts }));

  it("sends messages typed offline once, after a reload made while still offline", async () => {
    const { context, page, sessionId } = await openChat();
    await context.setOffline(true);
    await type(page, "Typed offline, first");
    await type(page, "Typed offline, second");
    expect((await unsent(page)).map((u) => u.content)).toEqual([
      "Typed offline, first",
      "Typed offline, second",
    ]);
    // Reloading offline shows the browser's error page; the messages wait in the site's storage.
    await page.reload().catch(() => undefined);
    await context.setOffline(false);
    await page.goto(url);
    expect(await sessionOf(page)).toBe(sessionId);
    await expect
      .poll(async () => (await visitorMessages(sessionId)).map((m) => m.content), { timeout: 30_000 })
      .toEqual(["Typed offline, first", "Typed offline, second"]);
    for (const text of ["Typed offline, first", "Typed offline, second"])
      await expect.poll(() => shown(page, text), { timeout: 30_000 }).toEqual({ count: 1, pending: 0 });
    await expect.poll(() => unsent(page)).toEqual([]);
    // Nothing is sent again by a later page of the same conversation.
    await page.reload();
    await expect.poll(() => online(page)).toBe(true);
    expect(await shown(page, "Typed offline, first")).toEqual({ count: 1, pending: 0 });
    expect((await visitorMessages(sessionId)).length).toBe(2);
    await page.screenshot({ path: path.join(SHOTS, "widget-offline-reload.png") });
  });

  it("sends them from the next tab when the tab they were typed in was closed offline", async () => {
    const { context, page, sessionId } = await openChat();
    await context.setOffline(true);
    await type(page, "Written on the train");
    await page.close();
    await context.setOffline(false);
    const next = await context.newPage();
    await next.goto(url);
    await expect
      .poll(async () => (await visitorMessages(sessionId)).map((m) => m.content), { timeout: 30_000 })
      .toEqual(["Written on the train"]);
    await expect.poll(() => shown(next, "Written on the train")).toEqual({ count: 1, pending: 0 });
  });

  it("stores a message once when its answer was lost and the page reloaded before the retry", async () => {
    const { page, sessionId, errors } = await openChat();
    // Hugo receives the message and stores it, but the answer never reaches the page.
    await page.route("**/api/widget/*/message", async (route) => {
      await route.fetch();
      await route.abort("connectionreset");
    });
    await type(page, "Did this arrive?");
    await expect.poll(async () => (await visitorMessages(sessionId)).length).toBe(1);
    const [stored] = await unsent(page);
    expect(stored?.content).toBe("Did this arrive?");
    await page.unrouteAll({ behavior: "ignoreErrors" });
    await page.reload();
    // The new page sends it again with the same fingerprint: Hugo answers with the stored message.
    await expect.poll(() => unsent(page), { timeout: 30_000 }).toEqual([]);
    await expect.poll(() => shown(page, "Did this arrive?")).toEqual({ count: 1, pending: 0 });
    const messages = await visitorMessages(sessionId);
    expect(messages.map((m) => [m.content, m.fingerprint])).toEqual([
      ["Did this arrive?", stored!.fingerprint],
    ]);
    expect(errors).toEqual([]);
  });

  it("drops the unsent messages of a conversation that was reset", async () => {
    const { context, page, sessionId } = await openChat();
    await context.setOffline(true);
    await type(page, "Sent by the previous user");
    await page.evaluate(() =>
      (window as unknown as { $crisp: { push(c: unknown): void } }).$crisp.push(["do", "session:reset"]),
    );
    expect(await unsent(page)).toEqual([]);
    await context.setOffline(false);
    const current = () =>
      page.evaluate(() =>
        (window as unknown as { $crisp: { get(k: string): string | null } }).$crisp.get("session:identifier"),
      );
    await expect.poll(current, { timeout: 30_000 }).toMatch(/^session_/);
    expect(await current()).not.toBe(sessionId);
    await expect.poll(() => online(page), { timeout: 30_000 }).toBe(true);
    expect(await shown(page, "Sent by the previous user")).toEqual({ count: 0, pending: 0 });
    expect(await visitorMessages(sessionId)).toEqual([]);
  });
});
