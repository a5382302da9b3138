import path from "node:path";
import type { Snippet } from "@hugo/protocol";
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
  visitPage,
} from "./harness.ts";

/**
 * The "Workflow API" browser snippets as the API gives them, pasted into a customer's page and run
 * by Chromium: the workflow starts in the visitor's chat with exactly its variables.
 */
describe.skipIf(!hasChromium)("the browser snippets in Chromium", () => {
  let hugo: RunningHugo;
  let site: HostSite;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let workflowId: string;
  let snippets: Record<string, Snippet>;

  // Values that would break a snippet written naively into a <script> or an onclick="…" attribute.
  const variables = {
    name: `Zoë "the" O'Neil </script><!-- \\ 😀`,
    note: "it's <b>bold</b> &amp; $HOME `x` #{y}\u2028next",
    seats: 3,
    vip: true,
  };
  const greeting = `Welcome, ${variables.name}! ${variables.note} (${variables.seats} seats, VIP: true)`;

  beforeAll(async () => {
    ({ hugo, site, browser } = await openBrowserSuite());
    // So that the page's console stays empty: Chromium asks for it.
    site.pages.set("/favicon.ico", { type: "image/x-icon", body: "" });
    const created = await demoApi(hugo, "POST", "/api/workflows", {
      name: "Snippet greeting",
      browser_startable: true,
      graph: {
        blocks: [
          { id: "start", kind: "start.code", options: {} },
          {
            id: "hello",
            kind: "action.text",
            options: { text: "Welcome, {{ name }}! {{ note }} ({{ seats }} seats, VIP: {{ vip }})" },
          },
        ],
        edges: [{ from: "start", handle: "next", to: "hello" }],
      },
    });
    workflowId = created.data.workflow_id;
    expect((await demoApi(hugo, "POST", `/api/workflows/${workflowId}/deploy`, {})).error).toBe(false);
    const set = await demoApi(
      hugo,
      "GET",
      `/api/scenario/${workflowId}/snippets?${new URLSearchParams({ variables: JSON.stringify(variables) })}`,
    );
    expect(set.data.browser_startable).toBe(true);
    snippets = Object.fromEntries((set.data.snippets as Snippet[]).map((s) => [s.id, s]));
  });
  afterAll(() => closeBrowserSuite({ hugo, site, browser, contexts }));

  /** The workflow's message in the widget and in the conversation (REST), and the run's variables. */
  async function expectGreeting(page: Page, shot: string) {
    const sessionId = await sessionOf(page);
    const bubble = page.locator('#crisp-chatbox .msg[data-from="bot"] .bubble', { hasText: "Welcome, Zoë" });
    await bubble.waitFor();
    await page.screenshot({ path: path.join(SHOTS, shot) });
    // The widget shows text, never HTML; U+2028 is whitespace there.
    expect((await bubble.textContent())?.replace("\u2028", " ")).toBe(greeting.replace("\u2028", " "));
    const messages = (await demoApi(hugo, "GET", `${conversationPath(hugo, sessionId)}/messages`)).data as {
      from: string;
      content: string;
    }[];
    expect(messages.filter((m) => m.from === "operator").map((m) => m.content)).toContain(greeting);
    const runs = (await demoApi(hugo, "GET", `/api/conversations/${sessionId}/runs`)).data;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ workflow_id: workflowId, source: "widget", variables });
  }

  it("the Web SDK snippet, in a <script> of the page, runs the workflow in the visitor's chat", async () => {
    const code = snippets["web-sdk"]!.code;
    site.pages.set(
      "/web-sdk",
      snippetPage(hugo.url, hugo.seed.websiteId, {
        before: `$crisp.push(["do","chat:open"]);`,
        body: `<h1>Acme shop</h1><script>${code}</script><p id="after-snippet">The page goes on.</p>`,
      }),
    );
    const { page, errors, warnings } = await visitPage(browser, `${site.url}/web-sdk`, { contexts });
    await expectGreeting(page, "snippets-web-sdk.png");
    // The snippet's </script> inside a string did not end the script early.
    expect(await page.locator("#after-snippet").textContent()).toBe("The page goes on.");
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("the HTML button snippet, clicked, runs the workflow in the visitor's chat", async () => {
    site.pages.set(
      "/button",
      snippetPage(hugo.url, hugo.seed.websiteId, {
        body: `<h1>Acme shop</h1><p>Need a hand?</p>${snippets["html-button"]!.code}`,
      }),
    );
    const { page, errors, warnings } = await visitPage(browser, `${site.url}/button`, { contexts });
    const sessionId = await sessionOf(page);
    // Nothing runs before the click.
    expect((await demoApi(hugo, "GET", `/api/conversations/${sessionId}/runs`)).data).toEqual([]);
    await page.getByRole("button", { name: "Start Support Chat" }).click();
    await page.evaluate(() =>
      (window as unknown as { $crisp: { push(c: unknown): void } }).$crisp.push(["do", "chat:open"]),
    );
    await expectGreeting(page, "snippets-html-button.png");
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
