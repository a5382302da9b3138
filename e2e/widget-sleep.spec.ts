import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHugo } from "../apps/server/test/hugo.ts";
import { startHugo } from "../apps/server/test/hugo.ts";
import {
  type BreakableProxy,
  conversationPath,
  demoApi,
  type HostSite,
  hasChromium,
  launchFreezableChromium,
  SHOTS,
  sessionOf,
  snippetPage,
  startHostSite,
  startProxy,
  visitPage,
} from "./harness.ts";

type Widget = { __hugoWidget: { online: boolean } };

/**
 * A sleeping tab in real Chromium: the page is frozen (CDP `Page.setWebLifecycleState`, what Chrome
 * does to background tabs and a laptop's lid does to all of them), its WebSocket breaks meanwhile and
 * operators write; when the page wakes, every message is shown exactly once, in order. Hugo is
 * reached through a proxy that can close or silently blackhole the widget's WebSockets.
 */
describe.skipIf(!hasChromium)("the widget in a tab that sleeps", () => {
  let hugo: RunningHugo;
  let site: HostSite;
  let chromium: Awaited<ReturnType<typeof launchFreezableChromium>>;
  let context: BrowserContext;
  let proxy: BreakableProxy;

  const operatorSays = (sessionId: string, content: string) =>
    demoApi(hugo, "POST", `${conversationPath(hugo, sessionId)}/message`, {
      type: "text",
      from: "operator",
      origin: "chat",
      content,
    });
  /** The texts of the operator's bubbles, in the order the widget shows them. */
  const shownOperator = (page: Page) =>
    page.locator('#crisp-chatbox .msg[data-from="operator"] .bubble').allTextContents();
  const online = (page: Page) => page.evaluate(() => (window as unknown as Widget).__hugoWidget.online);

  /** Opens the chat through the proxy and waits until the widget follows the conversation live. */
  async function sleeper(name: string) {
    site.pages.set(
      `/${name}`,
      snippetPage(proxy.url, hugo.seed.websiteId, { before: '$crisp.push(["do","chat:open"]);' }),
    );
    // One context (only the default one escapes focus emulation): a new conversation per test.
    await context.clearCookies();
    const visit = await visitPage(chromium.browser, `${site.url}/${name}`, { context });
    const { page } = visit;
    const sessionId = await sessionOf(page);
    await expect.poll(() => online(page)).toBe(true);
    await operatorSays(sessionId, "Awake 1");
    await page.locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "Awake 1" }).waitFor();
    await page.evaluate(() => {
      const w = window as unknown as { lifecycle: string[] };
      w.lifecycle = [];
      for (const name of ["freeze", "resume"]) document.addEventListener(name, () => w.lifecycle.push(name));
    });
    const cdp = await context.newCDPSession(page);
    /** The visitor comes back to the tab: it is shown again (`visibilitychange` to visible). */
    const show = async () => {
      // Focus emulation holds a page visible (it is what keeps Playwright's own pages visible).
      await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: true });
      await page.bringToFront();
      expect(await page.evaluate(() => document.visibilityState)).toBe("visible");
    };
    return {
      ...visit,
      sessionId,
      show,
      freeze: () => cdp.send("Page.setWebLifecycleState", { state: "frozen" }),
      /** Thaws the page; `visible` also shows it (else it stays a background tab). */
      async resume(visible: boolean) {
        await cdp.send("Page.setWebLifecycleState", { state: "active" });
        if (visible) await show();
        // The page really was frozen (a freeze that does nothing would make this test pass vacuously).
        expect(await page.evaluate(() => (window as unknown as { lifecycle: string[] }).lifecycle)).toEqual([
          "freeze",
          "resume",
        ]);
      },
    };
  }

  beforeAll(async () => {
    [hugo, site, chromium] = await Promise.all([
      startHugo("sqlite"),
      startHostSite(),
      launchFreezableChromium(),
    ]);
    context = chromium.context;
    proxy = await startProxy(hugo.url);
  });
  afterAll(async () => {
    await chromium?.close();
    await proxy?.close();
    await site?.close();
    await hugo?.stop();
  });

  it("shows what operators wrote while the tab was frozen, once and in order, when it resumes", async () => {
    const { page, sessionId, freeze, resume, errors } = await sleeper("frozen");
    await freeze();
    for (const text of ["Asleep 1", "Asleep 2", "Asleep 3"]) await operatorSays(sessionId, text);
    // Chrome closes a frozen page's WebSockets; resuming, the widget reconnects at once and replays.
    await resume(true);
    await page.locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "Asleep 3" }).waitFor();
    await operatorSays(sessionId, "Awake 2");
    await page.locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "Awake 2" }).waitFor();
    expect(await shownOperator(page)).toEqual(["Awake 1", "Asleep 1", "Asleep 2", "Asleep 3", "Awake 2"]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("keeps following the conversation in a background tab whose socket is closed", async () => {
    const { page, sessionId, freeze, resume, errors } = await sleeper("background-dropped");
    await freeze();
    await operatorSays(sessionId, "Asleep 1");
    // Thawed in the background (the tab stays hidden), then its new socket is closed by the network.
    await resume(false);
    await page.locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "Asleep 1" }).waitFor();
    await expect.poll(() => online(page)).toBe(true);
    proxy.drop();
    await operatorSays(sessionId, "Asleep 2");
    await operatorSays(sessionId, "Asleep 3");
    await page
      .locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "Asleep 3" })
      .waitFor({ timeout: 30_000 });
    await expect.poll(() => online(page), { timeout: 30_000 }).toBe(true);
    await operatorSays(sessionId, "Awake 2");
    await page.locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "Awake 2" }).waitFor();
    expect(await shownOperator(page)).toEqual(["Awake 1", "Asleep 1", "Asleep 2", "Asleep 3", "Awake 2"]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("notices a socket that died silently while the tab was away, when the visitor comes back", async () => {
    const { page, sessionId, freeze, resume, show, errors } = await sleeper("background-blackholed");
    await freeze();
    await resume(false);
    await expect.poll(() => online(page), { timeout: 30_000 }).toBe(true);
    // The connection goes silent (no close, no error), as when a NAT forgets it during a sleep.
    proxy.blackhole();
    for (const text of ["Asleep 1", "Asleep 2", "Asleep 3"]) await operatorSays(sessionId, text);
    // The visitor comes back to the tab: the widget pings its socket instead of trusting it, gets no
    // pong, and replaces it (long before its periodic heartbeat would have noticed).
    await show();
    await page
      .locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "Asleep 3" })
      .waitFor({ timeout: 20_000 });
    await expect.poll(() => online(page)).toBe(true);
    await operatorSays(sessionId, "Awake 2");
    await page.locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "Awake 2" }).waitFor();
    // Let any late replay land before counting.
    await new Promise((r) => setTimeout(r, 500));
    expect(await shownOperator(page)).toEqual(["Awake 1", "Asleep 1", "Asleep 2", "Asleep 3", "Awake 2"]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, "widget-sleep.png") });
    await page.close();
  });
});
