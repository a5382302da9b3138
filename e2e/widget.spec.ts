import path from "node:path";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHugo } from "../apps/server/test/hugo.ts";
import {
  closeBrowserSuite,
  demoApi,
  type HostSite,
  hasChromium,
  openBrowserSuite,
  SHOTS,
  sessionOf,
  snippetPage,
  visitPage,
} from "./harness.ts";

describe.skipIf(!hasChromium)("the widget in Chromium", () => {
  let hugo: RunningHugo;
  let site: HostSite;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const api = (method: string, p: string, body?: unknown) => demoApi(hugo, method, p, body);
  const workflow = (name: string) => hugo.seed.workflows.find((w) => w.name === name)!.workflow_id;

  const visit = (pagePath: string, context?: BrowserContext) =>
    visitPage(browser, `${site.url}${pagePath}`, { ...(context ? { context } : {}), contexts });

  beforeAll(async () => {
    ({ hugo, site, browser } = await openBrowserSuite());
  });
  afterAll(() => closeBrowserSuite({ hugo, site, browser, contexts }));

  it("runs the commands queued before load in order, then answers get/is synchronously", async () => {
    site.pages.set(
      "/queue",
      snippetPage(hugo.url, hugo.seed.websiteId, {
        before: `window.__events=[];
$crisp.push(["on","session:loaded",function(id){__events.push("loaded:"+id)}]);
$crisp.push(["on","message:sent",function(m){__events.push("sent:"+m.content)}]);
$crisp.push(["set","user:nickname",["Ada"]]);
$crisp.push(["set","session:data",[[["plan","pro"],["seats",3]]]]);
$crisp.push(["do","message:send",["text","first"]]);
$crisp.push(["do","message:send",["text","second"]]);
$crisp.push(["do","chat:open"]);
$crisp.push(["do","no:such:action"]);
$crisp.push(["do","no:such:action"]);
$crisp.push(["do","message:send","not an array"]);
$crisp.push(["safe",true]);`,
      }),
    );
    const { page, warnings, errors } = await visit("/queue");
    const sessionId = await sessionOf(page);
    expect(sessionId).toMatch(/^session_[0-9a-f-]{36}$/);
    await page.waitForFunction(() => (window as unknown as { __events: string[] }).__events.length >= 3);
    const state = await page.evaluate(() => {
      const w = window as unknown as {
        $crisp: { get(k: string, s?: string): unknown; is(s: string): boolean };
        __events: string[];
      };
      return {
        events: w.__events,
        opened: w.$crisp.is("chat:opened"),
        plan: w.$crisp.get("session:data", "plan"),
        nickname: w.$crisp.get("user:nickname"),
        isArray: Array.isArray(w.$crisp),
      };
    });
    expect(state).toMatchObject({ opened: true, plan: "pro", nickname: "Ada", isArray: false });
    expect(state.events).toEqual([`loaded:${sessionId}`, "sent:first", "sent:second"]);
    // Safe mode (queued anywhere) turned the bad command into a warning; the unknown one warned once.
    expect(errors).toEqual([]);
    expect(warnings.filter((w) => w.includes("no:such:action"))).toHaveLength(1);
    expect(warnings.some((w) => w.includes("message:send") && w.includes("array"))).toBe(true);
    const messages = (
      await api("GET", `/v1/website/${hugo.seed.websiteId}/conversation/${sessionId}/messages`)
    ).data;
    expect(
      messages.filter((m: { from: string }) => m.from === "user").map((m: { content: string }) => m.content),
    ).toEqual(["first", "second"]);
    const meta = (await api("GET", `/v1/website/${hugo.seed.websiteId}/conversation/${sessionId}/meta`)).data;
    expect(meta).toMatchObject({ nickname: "Ada", data: { plan: "pro", seats: 3 } });

    // A visitor types in the widget; an operator answers through the REST API; the answer shows up live.
    await page.locator("#crisp-chatbox input").fill("Do you ship to Norway?");
    await page.locator("#crisp-chatbox input").press("Enter");
    await expect
      .poll(async () =>
        (
          (await api("GET", `/v1/website/${hugo.seed.websiteId}/conversation/${sessionId}/messages`))
            .data as { content: string }[]
        ).some((m) => m.content === "Do you ship to Norway?"),
      )
      .toBe(true);
    await api("POST", `/v1/website/${hugo.seed.websiteId}/conversation/${sessionId}/message`, {
      type: "text",
      from: "operator",
      origin: "chat",
      content: "Yes — <b>we ship</b> to Norway!",
      user: { nickname: "Sam" },
    });
    const reply = page.locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "to Norway!" });
    await reply.waitFor();
    // Text, never HTML.
    expect(await reply.locator(".bubble").textContent()).toBe("Yes — <b>we ship</b> to Norway!");
    await page.screenshot({ path: path.join(SHOTS, "widget-conversation.png") });
  });

  it("runs a browser-startable workflow with bot:scenario:run and refuses the others", async () => {
    site.pages.set(
      "/scenario",
      snippetPage(hugo.url, hugo.seed.websiteId, {
        before: `$crisp.push(["do","chat:open"]);$crisp.push(["do","bot:scenario:run",["${workflow("Onboarding tour")}",{plan:"pro"}]]);`,
      }),
    );
    const { page, warnings } = await visit("/scenario");
    await page.locator('#crisp-chatbox .msg[data-from="bot"]', { hasText: "Welcome aboard" }).waitFor();
    await page.evaluate((id) => {
      (window as unknown as { $crisp: { push(c: unknown): void } }).$crisp.push([
        "do",
        "bot:scenario:run",
        [id],
      ]);
    }, workflow("Lead capture"));
    await expect.poll(() => warnings.some((w) => w.includes("workflow_not_browser_startable"))).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, "widget-scenario.png") });
  });

  it("resumes the same conversation with CRISP_TOKEN_ID in another browser", async () => {
    site.pages.set(
      "/account",
      snippetPage(hugo.url, hugo.seed.websiteId, {
        before: `window.CRISP_TOKEN_ID="customer-1042";$crisp.push(["do","chat:open"]);`,
      }),
    );
    const laptop = await visit("/account");
    const first = await sessionOf(laptop.page);
    await laptop.page.evaluate(() => {
      (window as unknown as { $crisp: { push(c: unknown): void } }).$crisp.push([
        "do",
        "message:send",
        ["text", "Sent from my laptop"],
      ]);
    });
    await laptop.page
      .locator('#crisp-chatbox .msg[data-from="visitor"]:not(.pending)', { hasText: "Sent from my laptop" })
      .waitFor();
    const phone = await visit("/account");
    expect(await sessionOf(phone.page)).toBe(first);
    await phone.page
      .locator('#crisp-chatbox .msg[data-from="visitor"]', { hasText: "Sent from my laptop" })
      .waitFor();
    // Without the token id, another browser gets its own conversation.
    site.pages.set("/anonymous", snippetPage(hugo.url, hugo.seed.websiteId));
    const stranger = await visit("/anonymous");
    expect(await sessionOf(stranger.page)).not.toBe(first);
    // The same browser keeps its conversation across page loads (the first-party cookie).
    const cookies = await contexts.at(-1)!.cookies(site.url);
    expect(
      cookies.find((c) => c.name === encodeURIComponent(`crisp-client/session/${hugo.seed.websiteId}`)),
    ).toBeDefined();
    await stranger.page.reload();
    expect(await sessionOf(stranger.page)).not.toBe(first);
  });

  it("follows CRISP_TOKEN_ID on session:reset: a logout unbinds the browser, a login restores the conversation", async () => {
    const ada = `ada-${crypto.randomUUID()}`;
    site.pages.set(
      "/login",
      snippetPage(hugo.url, hugo.seed.websiteId, {
        before: `window.CRISP_TOKEN_ID=${JSON.stringify(ada)};window.__loaded=[];
$crisp.push(["on","session:loaded",function(id){__loaded.push(id)}]);$crisp.push(["do","chat:open"]);`,
      }),
    );
    const { page, errors } = await visit("/login");
    const adas = await sessionOf(page);
    type W = {
      CRISP_TOKEN_ID: string | null;
      __loaded: string[];
      $crisp: { push(c: unknown): void; get(k: string): unknown };
    };
    /** Sets CRISP_TOKEN_ID as the site's login or logout code does, resets, waits for the next session. */
    const resetWith = async (token: string | null) => {
      const before = await page.evaluate(() => (window as unknown as W).__loaded.length);
      await page.evaluate((t) => {
        const w = window as unknown as W;
        w.CRISP_TOKEN_ID = t;
        w.$crisp.push(["do", "session:reset"]);
      }, token);
      await page.waitForFunction((n) => (window as unknown as W).__loaded.length > n, before);
      return page.evaluate(() => (window as unknown as W).$crisp.get("session:identifier") as string);
    };
    const cookie = async () =>
      (await page.context().cookies(site.url)).find(
        (c) => c.name === encodeURIComponent(`crisp-client/session/${hugo.seed.websiteId}`),
      )?.value;
    await page.evaluate(() =>
      (window as unknown as W).$crisp.push(["do", "message:send", ["text", "Ada's question"]]),
    );
    await page.locator(".msg:not(.pending)", { hasText: "Ada's question" }).waitFor();
    const adaCookie = await cookie();

    // Logout: CRISP_TOKEN_ID cleared, then reset → a new, empty conversation in this browser.
    const anonymous = await resetWith(null);
    expect(anonymous).not.toBe(adas);
    expect(await page.locator("#crisp-chatbox .msg").count()).toBe(0);
    expect(await cookie()).not.toBe(adaCookie);
    // The remote conversation is not destroyed: Ada's token id still leads to it on any device.
    const phone = await visit("/login");
    expect(await sessionOf(phone.page)).toBe(adas);

    // Login again (the token set after load, then reset): Ada's conversation comes back, with its history.
    expect(await resetWith(ada)).toBe(adas);
    await page.locator(".msg", { hasText: "Ada's question" }).waitFor();
    // Another user logs in on the same browser: their own conversation, not Ada's nor the anonymous one.
    const bob = await resetWith(`bob-${crypto.randomUUID()}`);
    expect([adas, anonymous]).not.toContain(bob);
    expect(await page.locator("#crisp-chatbox .msg").count()).toBe(0);
    // A reset that leaves the token id set is recovered by it (Crisp: "it will take the token into account").
    expect(await resetWith(await page.evaluate(() => (window as unknown as W).CRISP_TOKEN_ID))).toBe(bob);
    expect(await page.evaluate(() => (window as unknown as W).__loaded)).toEqual([
      adas,
      anonymous,
      adas,
      bob,
      bob,
    ]);
    expect(errors).toEqual([]);
  });

  it("tells Hugo the browser's language, or CRISP_RUNTIME_CONFIG.locale when the site sets one", async () => {
    site.pages.set("/bonjour", snippetPage(hugo.url, hugo.seed.websiteId));
    site.pages.set(
      "/configured",
      snippetPage(hugo.url, hugo.seed.websiteId, { before: 'window.CRISP_RUNTIME_CONFIG={locale:"de"};' }),
    );
    const localeOf = async (sessionId: string) =>
      (await api("GET", `/v1/website/${hugo.seed.websiteId}/conversation/${sessionId}`)).data.meta.locale;
    const french = await browser.newContext({ locale: "fr-CA" });
    contexts.push(french);
    const inFrench = await visit("/bonjour", french);
    expect(await inFrench.page.evaluate(() => navigator.language)).toBe("fr-CA");
    expect(await localeOf(await sessionOf(inFrench.page))).toBe("fr-CA");
    const configured = await browser.newContext({ locale: "fr-CA" });
    contexts.push(configured);
    const inGerman = await visit("/configured", configured);
    expect(await localeOf(await sessionOf(inGerman.page))).toBe("de");
  });

  it("keeps working on a page with hostile CSS", async () => {
    site.pages.set(
      "/hostile",
      snippetPage(hugo.url, hugo.seed.websiteId, {
        head: `<style>
body * { display: none !important; }
div, button, input, span, form { all: unset !important; font-size: 40px !important; color: red !important; background: yellow !important; }
* { line-height: 5 !important; letter-spacing: 6px !important; box-sizing: content-box !important; font-family: "Comic Sans MS", cursive !important; }
#crisp-chatbox { opacity: 0.1; transform: scale(0.5); }
</style>`,
        body: "<h1>Hostile shop</h1><div><button>Buy</button></div>",
      }),
    );
    const { page, errors } = await visit("/hostile");
    await sessionOf(page);
    const launcher = page.locator("#crisp-chatbox .launcher");
    await launcher.click();
    const input = page.locator("#crisp-chatbox input");
    await input.fill("Still there?");
    await input.press("Enter");
    await page
      .locator('#crisp-chatbox .msg[data-from="visitor"]:not(.pending)', { hasText: "Still there?" })
      .waitFor();
    const box = await page.locator("#crisp-chatbox .panel").boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, "widget-hostile-css.png") });
  });
});
