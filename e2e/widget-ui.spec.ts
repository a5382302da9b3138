import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pickerFieldGraph } from "../apps/server/test/graphs.ts";
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

/** The chat widget's UI (issue 5 item 4) in real Chromium: message types, answers, typing, a11y. */
describe.skipIf(!hasChromium)("the widget's UI in Chromium", () => {
  let hugo: RunningHugo;
  let site: HostSite;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const api = (method: string, p: string, body?: unknown) => demoApi(hugo, method, p, body);
  const conversation = (sessionId: string) => conversationPath(hugo, sessionId);
  const operatorSays = (sessionId: string, type: string, content: unknown, nickname = "Sam") =>
    api("POST", `${conversation(sessionId)}/message`, {
      type,
      from: "operator",
      origin: "chat",
      content,
      user: { nickname },
    });
  const page = (name: string, before: string) => {
    site.pages.set(`/${name}`, snippetPage(hugo.url, hugo.seed.websiteId, { before }));
    return `${site.url}/${name}`;
  };
  const visit = (url: string, viewport?: { width: number; height: number }) =>
    visitPage(browser, url, { contexts, ...(viewport ? { viewport } : {}) });
  /** The element focused inside the widget's shadow root, as "tag.class" or "tag[aria-label]". */
  const focused = (p: Page) =>
    p.evaluate(() => {
      const el = document.getElementById("crisp-chatbox")?.shadowRoot?.activeElement as HTMLElement | null;
      return el ? `${el.tagName.toLowerCase()}.${el.className}:${el.getAttribute("aria-label") ?? ""}` : null;
    });

  beforeAll(async () => {
    ({ hugo, site, browser } = await openBrowserSuite());
  });
  afterAll(() => closeBrowserSuite({ hugo, site, browser, contexts }));

  it("runs a workflow whose picker is answered by a click and whose field is answered by typing", async () => {
    const created = await api("POST", "/api/workflows", {
      name: "Refund flow (widget UI)",
      browser_startable: true,
      graph: pickerFieldGraph({
        question: "Do you want a **refund**?",
        yes: "Yes please",
        explain: "name@example.com",
        thanks: "Thanks {{ email }}, refund: {{ choice }}",
      }),
    });
    const id = created.data.workflow_id as string;
    expect((await api("POST", `/api/workflows/${id}/deploy`, {})).error).toBe(false);
    const { page: p, errors } = await visit(
      page("refund", `$crisp.push(["do","chat:open"]);$crisp.push(["do","bot:scenario:run",["${id}"]]);`),
    );
    const picker = p.locator('#crisp-chatbox .msg[data-type="picker"]');
    await picker.waitFor();
    // The bot's name above its messages (the workflow's sender nickname).
    expect(await picker.getAttribute("data-from")).toBe("bot");
    expect(await picker.locator(".who").textContent()).toBe("Hugo");
    expect(await picker.locator(".bubble strong").textContent()).toBe("refund");
    await picker.getByRole("button", { name: "Yes please" }).click();
    await expect
      .poll(() => picker.locator("button.choice.chosen").textContent(), { timeout: 5000 })
      .toBe("Yes please");
    expect(await picker.locator("button.choice:disabled").count()).toBe(2);

    const field = p.locator('#crisp-chatbox .msg[data-type="field"]');
    await field.waitFor();
    const input = field.locator("input");
    expect(await input.getAttribute("placeholder")).toBe("name@example.com");
    // An invalid email is refused at once (the field block's type), shown next to the field.
    await input.fill("not an email");
    await input.press("Enter");
    await field.getByRole("alert").waitFor();
    expect(await field.getByRole("alert").textContent()).toContain("not an email address");
    await p.screenshot({ path: path.join(SHOTS, "widget-ui-field-invalid.png") });
    await input.fill("Ada@Example.com");
    await input.press("Enter");
    await p
      .locator('#crisp-chatbox .msg[data-from="bot"]', { hasText: "Thanks ada@example.com, refund: yes" })
      .waitFor();
    expect(await field.getByRole("alert").count()).toBe(0);
    expect(errors).toEqual([]);
    await p.screenshot({ path: path.join(SHOTS, "widget-ui-workflow.png") });
  });

  it("renders Markdown as safe links, and files, images, audio and carousels", async () => {
    const { page: p } = await visit(page("markdown", `$crisp.push(["do","chat:open"]);`));
    const sessionId = await sessionOf(p);
    await operatorSays(
      sessionId,
      "text",
      "See [our FAQ](https://example.com/faq), **bold** and *italic*,\nor https://example.org/help. " +
        "Not a link: [click me](javascript:alert(1)) nor [this](javascript:void%200) <img src=x onerror=alert(1)>",
    );
    const bubble = p.locator('#crisp-chatbox .msg[data-from="operator"] .bubble', { hasText: "our FAQ" });
    await bubble.waitFor();
    const links = await bubble
      .locator("a")
      .evaluateAll((as) =>
        as.map((a) => [
          a.textContent,
          a.getAttribute("href"),
          a.getAttribute("target"),
          a.getAttribute("rel"),
        ]),
      );
    expect(links).toEqual([
      ["our FAQ", "https://example.com/faq", "_blank", "noopener noreferrer"],
      ["https://example.org/help", "https://example.org/help", "_blank", "noopener noreferrer"],
    ]);
    expect(await bubble.locator("strong").textContent()).toBe("bold");
    expect(await bubble.locator("em").textContent()).toBe("italic");
    expect(await bubble.locator("br").count()).toBe(1);
    expect(await bubble.locator("img").count()).toBe(0);
    const text = (await bubble.textContent()) ?? "";
    expect(text).toContain("[click me](javascript:alert(1))");
    expect(text).toContain("this");
    expect(await p.locator("#crisp-chatbox a[href^='javascript']").count()).toBe(0);

    await operatorSays(sessionId, "file", {
      name: "invoice.pdf",
      url: "https://files.example.com/invoice.pdf",
      type: "application/pdf",
    });
    await operatorSays(sessionId, "audio", {
      url: "https://files.example.com/hello.mp3",
      type: "audio/mpeg",
      duration: 3,
    });
    await operatorSays(sessionId, "carousel", {
      text: "Our plans",
      targets: [
        {
          title: "Starter",
          description: "For one shop",
          actions: [{ label: "Choose", url: "https://example.com/s" }],
        },
        {
          title: "Pro",
          description: "For *teams*",
          actions: [{ label: "Choose Pro", url: "https://example.com/p" }],
        },
        { title: "Enterprise", description: "Talk to us", actions: [] },
      ],
    });
    await p.locator('#crisp-chatbox .msg[data-type="carousel"] .card').nth(2).waitFor();
    expect(await p.locator('#crisp-chatbox .msg[data-type="file"] a').first().getAttribute("href")).toBe(
      "https://files.example.com/invoice.pdf",
    );
    expect(await p.locator("#crisp-chatbox audio[controls]").getAttribute("src")).toBe(
      "https://files.example.com/hello.mp3",
    );
    const carousel = p.locator('#crisp-chatbox .msg[data-type="carousel"] .carousel');
    expect(await carousel.evaluate((el) => getComputedStyle(el).overflowX)).toBe("auto");
    expect(await carousel.locator("a").count()).toBe(2);
    await p.screenshot({ path: path.join(SHOTS, "widget-ui-markdown.png") });
  });

  it("shows three dots while an operator composes and reports the visitor's own typing", async () => {
    const { page: p } = await visit(
      page(
        "typing",
        `window.__compose=[];$crisp.push(["on","message:compose:sent",function(e){__compose.push(e.type)}]);$crisp.push(["do","chat:open"]);`,
      ),
    );
    const sessionId = await sessionOf(p);
    await p.locator("#crisp-chatbox .status", { hasText: "We reply" }).waitFor();
    await api("PATCH", `${conversation(sessionId)}/compose`, { type: "start", from: "operator" });
    const dots = p.locator('#crisp-chatbox .typing[role="status"] i');
    await expect.poll(() => dots.count()).toBe(3);
    await p.screenshot({ path: path.join(SHOTS, "widget-ui-typing.png") });
    await api("PATCH", `${conversation(sessionId)}/compose`, { type: "stop", from: "operator" });
    await expect.poll(() => dots.count()).toBe(0);
    // The visitor types: one "start" however many keys, "stop" when the field empties.
    const input = p.locator("#crisp-chatbox .compose input");
    await input.pressSequentially("hello", { delay: 20 });
    await input.fill("");
    await input.dispatchEvent("input");
    expect(await p.evaluate(() => (window as unknown as { __compose: string[] }).__compose)).toEqual([
      "start",
      "stop",
    ]);
  });

  it("closes with Esc, moving the focus into the input on open and back to the launcher on close", async () => {
    const { page: p } = await visit(page("a11y", ""));
    await sessionOf(p);
    const launcher = p.locator("#crisp-chatbox .launcher");
    expect(await launcher.getAttribute("aria-label")).toBe("Open chat");
    await launcher.click();
    const dialog = p.locator('#crisp-chatbox [role="dialog"]');
    await dialog.waitFor();
    expect(await dialog.getAttribute("aria-label")).toBe("Chat with us");
    expect(await p.locator('#crisp-chatbox [role="log"]').getAttribute("aria-live")).toBe("polite");
    expect(await p.locator("#crisp-chatbox .close").getAttribute("aria-label")).toBe("Close chat");
    await expect.poll(() => focused(p)).toBe("input.:Message");
    await p.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await expect.poll(() => focused(p)).toBe("button.launcher:Open chat");
    expect(
      await p.evaluate(() =>
        (window as unknown as { $crisp: { is(s: string): boolean } }).$crisp.is("chat:opened"),
      ),
    ).toBe(false);
  });

  it("counts unread operator messages on the launcher while closed, full screen on a phone", async () => {
    const { page: p } = await visit(page("unread", `$crisp.push(["config","color:theme",["green"]]);`), {
      width: 390,
      height: 740,
    });
    const sessionId = await sessionOf(p);
    await p.waitForTimeout(300); // the WebSocket subscribes
    await operatorSays(sessionId, "text", "Hello there!");
    await operatorSays(sessionId, "text", "Can I help with your order?");
    const badge = p.locator("#crisp-chatbox .badge");
    await expect.poll(() => badge.textContent().catch(() => null)).toBe("2");
    expect(await p.locator("#crisp-chatbox .launcher").getAttribute("aria-label")).toBe(
      "Open chat (2 unread)",
    );
    expect(
      await p.evaluate(() =>
        (window as unknown as { $crisp: { get(k: string): number } }).$crisp.get("chat:unread:count"),
      ),
    ).toBe(2);
    await p.screenshot({ path: path.join(SHOTS, "widget-ui-unread.png") });
    await p.locator("#crisp-chatbox .launcher").click();
    await expect.poll(() => badge.count()).toBe(0);
    const box = await p.locator("#crisp-chatbox .panel").boundingBox();
    expect(box).toMatchObject({ x: 0, y: 0, width: 390, height: 740 });
    await p.screenshot({ path: path.join(SHOTS, "widget-ui-phone.png") });
  });

  it("sends read receipts once the operator's messages are on screen, or on message:read", async () => {
    const { page: p } = await visit(page("receipts", ""));
    const sessionId = await sessionOf(p);
    await expect
      .poll(() =>
        p.evaluate(() => (window as unknown as { __hugoWidget: { online: boolean } }).__hugoWidget.online),
      )
      .toBe(true);
    const read = async () =>
      (
        (await api("GET", `${conversation(sessionId)}/messages`)).data as {
          from: string;
          read: boolean;
          content: unknown;
        }[]
      )
        .filter((m) => m.from === "operator")
        .map((m) => [m.content, m.read]);
    await operatorSays(sessionId, "text", "Seen?");
    const badge = p.locator("#crisp-chatbox .badge");
    await expect.poll(() => badge.textContent().catch(() => null)).toBe("1");
    // The chat is closed: the visitor has not seen it.
    expect(await read()).toEqual([["Seen?", false]]);
    await p.locator("#crisp-chatbox .launcher").click();
    await expect.poll(read).toEqual([["Seen?", true]]);
    // While open, a new message is read as it arrives.
    await operatorSays(sessionId, "text", "And this one?");
    await expect.poll(read).toEqual([
      ["Seen?", true],
      ["And this one?", true],
    ]);
    // Closed again: the page itself says the visitor read them.
    await p.locator("#crisp-chatbox .close").click();
    await operatorSays(sessionId, "text", "Read by the page");
    await expect.poll(() => badge.textContent().catch(() => null)).toBe("1");
    expect((await read()).at(-1)).toEqual(["Read by the page", false]);
    await p.evaluate(() =>
      (window as unknown as { $crisp: { push(c: unknown): void } }).$crisp.push(["do", "message:read"]),
    );
    await expect.poll(read).toEqual([
      ["Seen?", true],
      ["And this one?", true],
      ["Read by the page", true],
    ]);
    expect(await badge.count()).toBe(0);
  });

  it("sends files the visitor picks, showing an image inline and another file as a link", async () => {
    const { page: p, errors } = await visit(page("files", '$crisp.push(["do","chat:open"]);'));
    const sessionId = await sessionOf(p);
    // A 40×40 PNG made by the browser itself.
    const png = Buffer.from(
      await p.evaluate(() => {
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 40;
        const g = canvas.getContext("2d")!;
        g.fillStyle = "#16a34a";
        g.fillRect(0, 0, 40, 40);
        return canvas.toDataURL("image/png").split(",")[1]!;
      }),
      "base64",
    );
    const choose = async (files: { name: string; mimeType: string; buffer: Buffer }[]) => {
      const chooser = p.waitForEvent("filechooser");
      await p.locator('#crisp-chatbox button[aria-label="Send a file"]').click();
      await (await chooser).setFiles(files);
    };
    await choose([{ name: "parcel.png", mimeType: "image/png", buffer: png }]);
    const image = p.locator('#crisp-chatbox .msg.visitor:not(.pending) img[alt="parcel.png"]');
    await image.waitFor();
    await expect.poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(40);
    await choose([{ name: "invoice.txt", mimeType: "text/plain", buffer: Buffer.from("Invoice 42") }]);
    const link = p.locator("#crisp-chatbox .msg.visitor:not(.pending) a", { hasText: "invoice.txt" });
    await link.waitFor();
    expect(await p.locator("#crisp-chatbox .msg.visitor img").count()).toBe(1);
    const files = (
      (await api("GET", `${conversation(sessionId)}/messages`)).data as {
        type: string;
        from: string;
        content: { name: string; url: string; type: string };
      }[]
    ).filter((m) => m.type === "file");
    expect(files.map((m) => [m.from, m.content.name, m.content.type])).toEqual([
      ["user", "parcel.png", "image/png"],
      ["user", "invoice.txt", "text/plain"],
    ]);
    // The operator downloads the text file; it is never shown as a page.
    const download = await fetch(files[1]!.content.url);
    expect(download.headers.get("content-disposition")).toMatch(/^attachment; filename="invoice.txt"/);
    expect(await download.text()).toBe("Invoice 42");
    expect(await link.getAttribute("href")).toBe(files[1]!.content.url);
    expect(errors).toEqual([]);
    await p.screenshot({ path: path.join(SHOTS, "widget-ui-files.png") });
  });
});
