import path from "node:path";
import { build } from "esbuild";
import type { Browser, BrowserContext } from "playwright-core";
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
  visitPage,
} from "./harness.ts";

/**
 * The official `crisp-sdk-web` package pointed at Hugo with its `clientUrl` option, and Hugo's own
 * demo page (`GET /demo`), in real Chromium. Screenshots go to `.e2e/`.
 */
const REPO = path.join(import.meta.dirname, "..");

/** The page's own bundle, as a site using the SDK would ship it: `crisp-sdk-web` from node_modules, bundled by esbuild. */
async function bundleSdk(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `import { Crisp } from "crisp-sdk-web"; window.Crisp = Crisp;`,
      resolveDir: REPO,
      loader: "js",
    },
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: ["es2020"],
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

type W = {
  Crisp: {
    configure(id: string, options: Record<string, unknown>): void;
    chat: { open(): void; isChatOpened(): boolean };
    message: {
      send(type: string, content: string): void;
      onMessageReceived(cb: (m: { content: string }) => void): void;
    };
    session: {
      getIdentifier(): string | null;
      onLoaded(cb: (id: string) => void): void;
      setData(data: Record<string, unknown>): void;
      setSegments(segments: string[], overwrite?: boolean): void;
    };
    user: { setEmail(email: string): void; setNickname(n: string): void; getEmail(): string | undefined };
  };
  __loaded?: string;
  __received: string[];
};

describe.skipIf(!hasChromium)("crisp-sdk-web and the demo page in Chromium", () => {
  let hugo: RunningHugo;
  let site: HostSite;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const api = (method: string, p: string, body?: unknown) => demoApi(hugo, method, p, body);
  const conversation = (sessionId: string) => conversationPath(hugo, sessionId);
  const messagesOf = async (sessionId: string) =>
    (await api("GET", `${conversation(sessionId)}/messages`)).data as {
      content: unknown;
      from: string;
      user?: { user_id?: string };
    }[];

  const open = (url: string) => visitPage(browser, url, { contexts, viewport: { width: 1100, height: 760 } });

  beforeAll(async () => {
    ({ hugo, site, browser } = await openBrowserSuite());
  });
  afterAll(() => closeBrowserSuite({ hugo, site, browser, contexts }));

  it("drives the widget through crisp-sdk-web with clientUrl pointed at Hugo", async () => {
    site.pages.set("/sdk.js", { type: "text/javascript", body: await bundleSdk() });
    site.pages.set("/sdk", {
      type: "text/html; charset=utf-8",
      body: `<!doctype html><html><head><meta charset="utf-8"><title>SDK shop</title>
<script src="/sdk.js"></script>
<script>
window.__received = [];
Crisp.configure(${JSON.stringify(hugo.seed.websiteId)}, { clientUrl: ${JSON.stringify(`${hugo.url}/l.js`)} });
Crisp.session.onLoaded(function (id) { window.__loaded = id; });
Crisp.message.onMessageReceived(function (m) { window.__received.push(m.content); });
Crisp.user.setNickname("Grace");
Crisp.user.setEmail("grace@example.com");
Crisp.session.setData({ plan: "pro", seats: 4 });
Crisp.session.setSegments(["sdk"]);
Crisp.chat.open();
Crisp.message.send("text", "Hello from crisp-sdk-web");
</script></head><body><h1>A shop using crisp-sdk-web</h1></body></html>`,
    });
    const { page, errors } = await open(`${site.url}/sdk`);
    // The SDK injected exactly the URL it was given, and Hugo's loader took it from there.
    const scripts = await page.evaluate(() => Array.from(document.scripts, (s) => s.src).filter(Boolean));
    expect(scripts).toContain(`${hugo.url}/l.js`);
    expect(scripts.some((s) => /\/widget\/[\w-]+\.js$/.test(s))).toBe(true);

    await page.waitForFunction(() => (window as unknown as W).__loaded);
    const state = await page.evaluate(() => {
      const w = window as unknown as W;
      return {
        loaded: w.__loaded,
        identifier: w.Crisp.session.getIdentifier(),
        opened: w.Crisp.chat.isChatOpened(),
        email: w.Crisp.user.getEmail(),
      };
    });
    expect(state.loaded).toMatch(/^session_[0-9a-f-]{36}$/);
    expect(state).toMatchObject({ identifier: state.loaded, opened: true, email: "grace@example.com" });
    const sessionId = state.loaded!;

    // Everything the SDK pushed reached Hugo, checked through the REST API.
    await expect
      .poll(async () => (await messagesOf(sessionId)).filter((m) => m.from === "user").map((m) => m.content))
      .toEqual(["Hello from crisp-sdk-web"]);
    await expect
      .poll(async () => (await api("GET", `${conversation(sessionId)}/meta`)).data)
      .toMatchObject({
        nickname: "Grace",
        email: "grace@example.com",
        data: { plan: "pro", seats: 4 },
        segments: expect.arrayContaining(["sdk"]),
      });

    // Sending through the SDK after load, and an operator's reply through its callback.
    await page.evaluate(() => (window as unknown as W).Crisp.message.send("text", "Second, after load"));
    await page
      .locator('#crisp-chatbox .msg[data-from="visitor"]:not(.pending)', { hasText: "Second, after load" })
      .waitFor();
    await api("POST", `${conversation(sessionId)}/message`, {
      type: "text",
      from: "operator",
      origin: "chat",
      content: "Hi Grace, an operator here.",
    });
    // message:received fires once for it (the demo agent may have spoken before: its website's
    // agent answers new conversations).
    await page.waitForFunction(() =>
      (window as unknown as W).__received.includes("Hi Grace, an operator here."),
    );
    expect(
      (await page.evaluate(() => (window as unknown as W).__received)).filter(
        (c) => c === "Hi Grace, an operator here.",
      ),
    ).toHaveLength(1);
    await page
      .locator('#crisp-chatbox .msg[data-from="operator"]', { hasText: "an operator here" })
      .waitFor();
    expect((await messagesOf(sessionId)).filter((m) => m.from === "user").map((m) => m.content)).toEqual([
      "Hello from crisp-sdk-web",
      "Second, after load",
    ]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, "sdk-crisp-sdk-web.png") });
  });

  it("serves the demo page: its workflow button and its backend → agent trigger example", async () => {
    const { page, errors } = await open(`${hugo.url}/demo`);
    const sessionId = await sessionOf(page);
    await page.locator("#ask-agent:not([disabled])").waitFor();
    expect(await page.locator("#status").textContent()).toContain(sessionId);
    // No secret reaches the page.
    const html = await page.content();
    expect(html).not.toContain(hugo.seed.token.token);
    expect(html).not.toContain(hugo.seed.token.key);

    // 1. The visitor asks; "the backend" (the demo route) triggers the agent, whose answer appears.
    await page.locator("#crisp-chatbox .launcher").click();
    const input = page.locator("#crisp-chatbox input");
    await input.fill("How do I trigger a workflow from my backend?");
    await input.press("Enter");
    // The demo website's agent answers new conversations by itself: wait for that answer first.
    const agentMessages = page.locator('#crisp-chatbox .msg[data-from="agent"]');
    await agentMessages.first().waitFor();
    const before = await agentMessages.count();
    const triggered = page.waitForResponse((r) => r.url().endsWith("/api/demo/agent"));
    await page.locator("#ask-agent").click();
    expect((await triggered).status()).toBe(202);
    await expect.poll(() => agentMessages.count()).toBe(before + 1);
    await expect.poll(() => page.locator("#status").textContent()).toContain("The agent is on it");
    const answer = (await agentMessages.last().textContent()) ?? "";
    expect(answer.length).toBeGreaterThan(20);

    // 2. The button runs the demo workflow; its first message appears in the widget.
    await page.locator("#run-workflow").click();
    await page.locator('#crisp-chatbox .msg[data-from="bot"]', { hasText: "Welcome aboard" }).waitFor();
    // Through the REST API: the agent's messages are in the conversation.
    const fromAgent = (await messagesOf(sessionId)).filter((m) => m.user?.user_id === "hugo:agent");
    expect(fromAgent).toHaveLength(before + 1);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, "demo-page.png"), fullPage: false });
  });

  it("keeps the demo backend route to the demo website, and rate-limited", async () => {
    // A conversation that is not the demo website's is not found.
    const post = (sessionId: string) =>
      fetch(`${hugo.url}/api/demo/agent`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ session_id: sessionId }),
      });
    const stranger = await post("session_00000000-0000-4000-8000-000000000000");
    expect(stranger.status).toBe(404);
    expect(((await stranger.json()) as { reason: string }).reason).toBe("session_not_found");
    // 5 calls a minute per conversation.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(hugo.seed.sessionId)).status);
    expect(statuses.slice(0, 5).every((s) => s === 202)).toBe(true);
    expect(statuses[5]).toBe(429);
  });
});
