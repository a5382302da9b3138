import path from "node:path";
import type { HugoClient } from "@hugo/client";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHugo } from "../apps/server/test/hugo.ts";
import { closeDashboardSuite, type DashboardSuite, openDashboardSuite } from "./dashboard-harness.ts";
import { conversationPath, demoApi, hasChromium, SHOTS } from "./harness.ts";

/**
 * The dashboard's inbox in real Chromium against a real Hugo: the demo conversation listed, a
 * visitor's message arriving live (no reload), an operator reply and a private note as the signed-in
 * operator, resolving, and a long list that renders only the rows in view and pages by cursor.
 */

const VIEWPORT = { width: 1440, height: 900 };
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 10_000, interval: 50 });
const shown = (l: Locator) => l.first().waitFor({ timeout: 10_000 });
const text = (l: Locator) => poll(() => l.first().textContent());

describe.skipIf(!hasChromium)("the dashboard's inbox in Chromium", () => {
  let suite: DashboardSuite;
  let hugo: RunningHugo;
  let browser: Browser;
  let api: HugoClient;
  let contexts: BrowserContext[];

  beforeAll(async () => {
    suite = await openDashboardSuite();
    ({ hugo, browser, api, contexts } = suite);
  }, 120_000);
  afterAll(() => closeDashboardSuite(suite));

  async function openSignedIn(url: string, email = hugo.seed.ownerEmail, password = hugo.seed.ownerPassword) {
    const context = await browser.newContext({ viewport: VIEWPORT, locale: "en-US" });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
    await page.goto(url);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await shown(page.getByRole("heading", { level: 1, name: "Inbox" }));
    return { page, errors };
  }
  const tab = (page: Page, name: string) =>
    page.getByRole("group", { name: "Inboxes" }).getByRole("button", { name: new RegExp(`^${name}`) });
  const row = (page: Page, sessionId: string) =>
    page.locator(`.conversation-row[data-session="${sessionId}"]`);
  const log = (page: Page) => page.getByRole("log", { name: "Messages" });
  const boxOf = (inboxId: string | null) => (inboxId === "automated" ? "Automated" : "Main");

  it("lists the demo conversation, shows a visitor's message live, replies, writes a note and resolves", async () => {
    const sessionId = hugo.seed.sessionId;
    const before = await api.conversations.get(sessionId);
    const { page, errors } = await openSignedIn(`${hugo.url}/app/inbox`);

    // The counts are the API's, and the demo conversation is in its inbox.
    const counts = await api.conversations.counts();
    await text(page.locator("[data-count=automated]")).toBe(String(counts.automated));
    await text(page.locator("[data-count=main]")).toBe(String(counts.main));
    await tab(page, boxOf(before.inbox_id)).click();
    await shown(row(page, sessionId));
    await row(page, sessionId).click();
    await poll(async () => new URL(page.url()).pathname).toBe(`/app/inbox/${sessionId}`);
    await shown(log(page));
    await text(page.locator(".live")).toBe("Live");

    // A visitor writes (over the REST API): the message and the list's excerpt change without a reload.
    const botsBefore = await log(page).locator(".message-bot").count();
    const said = `Is my order <b>#4412</b> shipped? ${Date.now()}`;
    await demoApi(hugo, "POST", `${conversationPath(hugo, sessionId)}/message`, {
      type: "text",
      from: "user",
      origin: "chat",
      content: said,
    });
    await shown(log(page).locator(".message-visitor").filter({ hasText: said }));
    // The list follows too: the excerpt is the API's last message, or the row left this inbox when
    // the AI agent handed the conversation over to the team (Automated → Main).
    await poll(async () => {
      const { inbox_id, last_message } = await api.conversations.get(sessionId);
      const excerpts = await row(page, sessionId).locator(".conversation-excerpt").allTextContents();
      return inbox_id === before.inbox_id ? excerpts[0] === last_message : excerpts.length === 0;
    }).toBe(true);
    // In the automated inbox the AI agent answers: its message arrives live as well.
    if (before.inbox_id === "automated")
      await poll(() => log(page).locator(".message-bot").count()).toBeGreaterThan(botsBefore);
    // The side panel: the visitor's details and the agent's turns, each with its guardrail trace.
    const panel = page.getByRole("complementary", { name: "Visitor" });
    await text(panel.locator(".pairs dd").first()).toBe(before.meta.nickname || "—");
    const turns = await api.agent.listTurns({ session_id: sessionId });
    expect(turns.length).toBeGreaterThan(0);
    await poll(() => panel.locator("[data-turn]").count()).toBe(turns.length);
    const newest = panel.locator(`[data-turn="${turns[0]!.turn_id}"]`);
    await newest.getByText("Trace").click();
    await text(newest.locator(".trace dd").first()).toContain(turns[0]!.trace!.decision);
    // Text, never markup.
    expect(await log(page).locator("b").count()).toBe(0);

    // A reply: Enter sends it, under the operator's name.
    const composer = page.getByLabel("Reply to the visitor");
    await composer.fill("It left our warehouse this morning.");
    await composer.press("Enter");
    await shown(
      log(page).locator(".message-operator").filter({ hasText: "It left our warehouse this morning." }),
    );
    await poll(() => composer.inputValue()).toBe("");
    const afterReply = await api.conversations.listMessages(sessionId, { limit: 5 });
    expect(afterReply.at(-1)).toMatchObject({
      type: "text",
      from: "operator",
      content: "It left our warehouse this morning.",
      user: { nickname: "Demo owner" },
    });

    // A private note; Shift+Enter is a new line.
    await page.getByRole("button", { name: "Note", exact: true }).click();
    const note = page.getByLabel("Private note");
    await note.fill("Customer asked twice.");
    await note.press("Shift+Enter");
    await note.pressSequentially("Check the carrier.");
    await page.getByRole("button", { name: "Add note" }).click();
    await shown(log(page).locator(".message-note").filter({ hasText: "Check the carrier." }));
    const afterNote = await api.conversations.listMessages(sessionId, { limit: 5 });
    expect(afterNote.at(-1)).toMatchObject({
      type: "note",
      from: "operator",
      content: "Customer asked twice.\nCheck the carrier.",
    });
    await page.screenshot({ path: path.join(SHOTS, "dashboard-inbox-conversation.png") });
    await newest.getByText("Trace").click();

    // Assigned to me, then resolved: it leaves the open inbox for Resolved.
    await tab(page, boxOf((await api.conversations.get(sessionId)).inbox_id)).click();
    await shown(row(page, sessionId));
    await page.getByLabel("Assign to").selectOption({ label: "Demo owner (you)" });
    await poll(async () => (await api.conversations.get(sessionId)).assigned?.user_id).toBe(
      (await api.operators.list()).find((o) => o.email === hugo.seed.ownerEmail)!.id,
    );
    await text(row(page, sessionId).locator(".assignee")).toBe("You");
    await page.getByRole("button", { name: "Resolve", exact: true }).click();
    await shown(page.getByRole("button", { name: "Reopen" }));
    await poll(async () => (await api.conversations.get(sessionId)).state).toBe("resolved");
    await poll(() => row(page, sessionId).count()).toBe(0);
    await tab(page, "Resolved").click();
    await shown(row(page, sessionId));
    await text(page.locator("[data-count=resolved]")).toBe(
      String((await api.conversations.counts()).resolved),
    );
    await page.screenshot({ path: path.join(SHOTS, "dashboard-inbox-resolved.png") });

    // Reopened from the dashboard, it is back in its inbox.
    await page.getByRole("button", { name: "Reopen" }).click();
    await poll(async () => (await api.conversations.get(sessionId)).state).toBe("unresolved");
    expect(errors).toEqual([]);
  });

  it("renders only the rows in view of a long inbox and loads the next page when scrolled", async () => {
    // 130 conversations (the list pages by 50), each with a visitor's message.
    const site = `/v1/website/${hugo.seed.websiteId}`;
    const made: string[] = [];
    for (let i = 0; i < 130; i++) {
      const { data } = await demoApi(hugo, "POST", `${site}/conversation`, {});
      const sessionId = data.session_id as string;
      await demoApi(hugo, "PATCH", `${site}/conversation/${sessionId}/meta`, {
        nickname: `Visitor ${String(i).padStart(3, "0")}`,
        email: `visitor${i}@example.com`,
      });
      await demoApi(hugo, "POST", `${site}/conversation/${sessionId}/message`, {
        type: "text",
        from: "user",
        origin: "chat",
        content: `Question number ${i}`,
      });
      made.push(sessionId);
    }
    const counts = await api.conversations.counts();
    const box = counts.automated >= counts.main ? "Automated" : "Main";
    const total = Math.max(counts.automated, counts.main);
    expect(total).toBeGreaterThanOrEqual(130);

    const { page, errors } = await openSignedIn(`${hugo.url}/app/inbox`);
    await tab(page, box).click();
    await shown(page.locator(".conversation-row").filter({ hasText: "Visitor 129" }));
    // Virtualised: a screenful of rows in the document, not 50 (nor 10,000).
    const rendered = await page.locator(".conversation-row").count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(30);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-inbox-list.png") });

    // Scrolling to the end pages by cursor until the oldest conversation is there.
    const scroller = page.locator(".conversation-scroll");
    await poll(async () => {
      await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      return page.locator(".conversation-row").filter({ hasText: "Visitor 000" }).count();
    }).toBe(1);
    expect(await page.locator(".conversation-row").count()).toBeLessThan(30);

    // Search narrows the list on the server.
    await page.getByLabel("Search conversations").fill("visitor42@example.com");
    await poll(() => page.locator(".conversation-row .conversation-name").allTextContents()).toEqual([
      "Visitor 042",
    ]);
    expect(errors).toEqual([]);
  });

  it("shows a long conversation's latest messages first, and earlier ones on demand", async () => {
    const site = `/v1/website/${hugo.seed.websiteId}`;
    const { data } = await demoApi(hugo, "POST", `${site}/conversation`, {});
    const sessionId = data.session_id as string;
    for (let i = 1; i <= 120; i++)
      await demoApi(hugo, "POST", `${site}/conversation/${sessionId}/message`, {
        type: "text",
        from: i % 2 ? "user" : "operator",
        origin: "chat",
        content: `Line ${i}`,
      });
    const { page, errors } = await openSignedIn(`${hugo.url}/app/inbox/${sessionId}`);
    const messages = log(page).locator(".message");
    await shown(messages.filter({ hasText: "Line 120" }));
    await poll(() => messages.count()).toBe(100);
    await page.getByRole("button", { name: "Show earlier messages" }).click();
    await poll(() => messages.count()).toBe(120);
    await text(messages.first().locator(".message-text")).toBe("Line 1");
    await poll(() => page.getByRole("button", { name: "Show earlier messages" }).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("lets an agent, who may not list operators, assign a conversation to themselves and unassign it", async () => {
    const ann = await api.operators.create({
      email: "ann.inbox@acme.example",
      name: "Ann Agent",
      role: "agent",
      password: "correct horse battery",
    });
    const sessionId = hugo.seed.sessionId;
    await api.conversations.update(sessionId, { assigned_user_id: null });
    const { page, errors } = await openSignedIn(
      `${hugo.url}/app/inbox/${sessionId}`,
      "ann.inbox@acme.example",
      "correct horse battery",
    );
    const assign = page.getByLabel("Assign to");
    await poll(() => assign.locator("option").allTextContents()).toEqual(["Unassigned", "Ann Agent (you)"]);
    await assign.selectOption({ label: "Ann Agent (you)" });
    await poll(async () => (await api.conversations.get(sessionId)).assigned?.user_id).toBe(ann.id);
    await assign.selectOption({ label: "Unassigned" });
    await poll(async () => (await api.conversations.get(sessionId)).assigned).toBeNull();
    expect(errors).toEqual([]);
  });
});
