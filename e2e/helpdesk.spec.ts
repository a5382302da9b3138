import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
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

/** The widget's help-desk search (`helpdesk:*` commands) over the knowledge base, in real Chromium. */
describe.skipIf(!hasChromium)("the widget's help-desk search in Chromium", () => {
  let hugo: RunningHugo;
  let site: HostSite;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let articleUrl: string;

  const page = (name: string, before: string) => {
    site.pages.set(`/${name}`, snippetPage(hugo.url, hugo.seed.websiteId, { before }));
    return `${site.url}/${name}`;
  };
  const focused = (p: Page) =>
    p.evaluate(() => {
      const el = document.getElementById("crisp-chatbox")?.shadowRoot?.activeElement as HTMLElement | null;
      return el ? `${el.tagName.toLowerCase()}.${el.className}` : null;
    });

  beforeAll(async () => {
    ({ hugo, site, browser } = await openBrowserSuite());
    articleUrl = `${site.url}/help/gift-wrapping`;
    site.pages.set(
      "/help/gift-wrapping",
      "<!doctype html><title>Gift wrapping</title><h1>Gift wrapping</h1>",
    );
    const created = await Promise.all([
      demoApi(hugo, "POST", "/api/knowledge/sources", {
        kind: "helpdesk",
        title: "Gift wrapping",
        url: articleUrl,
        body: "# Gift wrapping\n\nAdd gift wrapping at checkout: we wrap the parcel in recycled paper with a ribbon and a handwritten card.\n\n## Price\n\nGift wrapping costs 3 euros per parcel.",
      }),
      demoApi(hugo, "POST", "/api/knowledge/sources", {
        kind: "answer",
        question: "Do you sell gift cards?",
        answer: "Yes: gift cards from 10 to 200 euros, sent by email with a <b>ribbon</b> design.",
      }),
    ]);
    for (const c of created) expect(c.error).toBe(false);
  });
  afterAll(() => closeBrowserSuite({ hugo, site, browser, contexts }));

  it("runs helpdesk:query, fires helpdesk:queried, and opens a result's URL in a new tab", async () => {
    const url = page(
      "help",
      `window.queried=[];$crisp.push(["on","helpdesk:queried",function(r){window.queried.push(r);}]);
       $crisp.push(["do","helpdesk:query",["gift wrapping"]]);`,
    );
    const { page: p, errors, warnings } = await visitPage(browser, url, { contexts });
    await sessionOf(p);
    const results = p.locator("#crisp-chatbox .hresults li");
    await results.first().waitFor();
    await expect.poll(() => results.count()).toBeGreaterThanOrEqual(2);
    expect(await results.first().locator(".htitle").textContent()).toBe("Gift wrapping");
    expect(await p.locator("#crisp-chatbox .hstatus").textContent()).toMatch(/\d+ articles/);
    const queried = (await p.evaluate(() => (window as unknown as { queried: unknown[] }).queried)) as {
      query: string;
      results: { title: string; url: string | null; snippet: string }[];
    }[];
    expect(queried).toHaveLength(1);
    expect(queried[0]!.query).toBe("gift wrapping");
    expect(queried[0]!.results[0]).toMatchObject({ title: "Gift wrapping", url: articleUrl });
    // Text only: the answer's markup is shown as text, never parsed.
    const answer = results.filter({ hasText: "Do you sell gift cards?" });
    expect(await answer.locator(".hsnip").textContent()).toContain("a <b>ribbon</b> design");
    expect(await p.locator("#crisp-chatbox .hresults b").count()).toBe(0);
    await p.screenshot({ path: path.join(SHOTS, "helpdesk.png") });
    // From the search field, Tab reaches the first result; Enter opens it in a new tab.
    await p.locator("#crisp-chatbox .hsearch input").focus();
    await p.keyboard.press("Tab");
    expect(await focused(p)).toBe("a.hresult");
    const [popup] = await Promise.all([p.context().waitForEvent("page"), p.keyboard.press("Enter")]);
    await popup.waitForLoadState();
    expect(popup.url()).toBe(articleUrl);
    await popup.close();
    // A click too.
    const [clicked] = await Promise.all([
      p.context().waitForEvent("page"),
      results.first().locator("a").click(),
    ]);
    expect(clicked.url()).toBe(articleUrl);
    await clicked.close();
    // A result without a URL expands in place.
    const button = answer.locator("button");
    expect(await button.getAttribute("aria-expanded")).toBe("false");
    await button.click();
    expect(await button.getAttribute("aria-expanded")).toBe("true");
    expect(errors).toEqual([]);
    expect(warnings.filter((w) => w.includes("[Hugo]"))).toEqual([]);
  });

  it("opens on an empty search, searches as the visitor types, goes back to the chat, and opens an article by slug", async () => {
    const url = page(
      "search",
      `window.queried=[];$crisp.push(["on","helpdesk:queried",function(r){window.queried.push(r.query);}]);`,
    );
    const { page: p, errors, warnings } = await visitPage(browser, url, { contexts });
    await sessionOf(p);
    // After load (a page that opens the search at load keeps its own focus, as with chat:open).
    await p.evaluate(() =>
      (window as unknown as { $crisp: { push(c: unknown): void } }).$crisp.push(["do", "helpdesk:search"]),
    );
    const input = p.locator("#crisp-chatbox .hsearch input");
    await input.waitFor();
    expect(await p.locator("#crisp-chatbox [role=dialog]").getAttribute("aria-label")).toBe("Help center");
    expect(await focused(p)).toBe("input.");
    await p.keyboard.type("ribbon");
    await p.locator("#crisp-chatbox .hresults li").first().waitFor();
    expect(await p.evaluate(() => (window as unknown as { queried: string[] }).queried)).toEqual(["ribbon"]);
    await p.keyboard.press("Escape");
    expect(
      await p.evaluate(() =>
        (window as unknown as { $crisp: { is(s: string): boolean } }).$crisp.is("chat:opened"),
      ),
    ).toBe(false);
    // Opened again from the launcher, the panel shows the chat; its search button leads back.
    await p.locator("#crisp-chatbox .launcher").click();
    await p.locator("#crisp-chatbox .compose input").waitFor();
    await p.locator('#crisp-chatbox button[aria-label="Search help articles"]').click();
    await input.waitFor();
    await p.locator('#crisp-chatbox button[aria-label="Back to chat"]').click();
    await p.locator("#crisp-chatbox .compose input").waitFor();
    // helpdesk:article:open finds the article whose URL ends with the slug.
    const [popup] = await Promise.all([
      p.context().waitForEvent("page"),
      p.evaluate(() =>
        (window as unknown as { $crisp: { push(c: unknown): void } }).$crisp.push([
          "do",
          "helpdesk:article:open",
          ["en", "gift-wrapping", "Gift wrapping"],
        ]),
      ),
    ]);
    expect(popup.url()).toBe(articleUrl);
    await popup.close();
    // An unknown article warns once.
    for (let i = 0; i < 2; i++) {
      await p.evaluate(() =>
        (window as unknown as { $crisp: { push(c: unknown): void } }).$crisp.push([
          "do",
          "helpdesk:article:open",
          ["en", "no-such-article"],
        ]),
      );
    }
    await expect.poll(() => warnings.filter((w) => w.includes("helpdesk:article:open")).length).toBe(1);
    await p.waitForTimeout(300);
    expect(warnings.filter((w) => w.includes("helpdesk:article:open"))).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
