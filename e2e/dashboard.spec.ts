import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HugoClient } from "@hugo/client";
import type { Analytics } from "@hugo/protocol";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../apps/server/src/config.ts";
import { createHugo, type Hugo } from "../apps/server/src/server.ts";
import type { RunningHugo } from "../apps/server/test/hugo.ts";
import { closeDashboardSuite, type DashboardSuite, openDashboardSuite } from "./dashboard-harness.ts";
import { demoApi, hasChromium, SHOTS } from "./harness.ts";

/**
 * The operator dashboard (apps/dashboard) as Hugo serves it at /app/, in real Chromium against a
 * real Hugo: first-run setup, sign-in and the session across reloads, analytics equal to the API's,
 * API tokens (secret shown once, copied, revoked), the widget snippet and allowed origins, operators
 * (invite, sign in as them, role change, the last owner kept, removal), an agent refused the tokens,
 * the website switcher, sign-out. The build is the one `npm ci` made (rebuilt first if a source is newer).
 */

const VIEWPORT = { width: 1360, height: 860 };
const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const pct = (share: number | null) =>
  share === null
    ? "—"
    : new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 0 }).format(share);

/** Waits for what the page shows (Playwright's own `expect` is not in playwright-core). */
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 10_000, interval: 50 });
const shown = (l: Locator) => l.first().waitFor({ timeout: 10_000 });
const text = (l: Locator) => poll(() => l.first().textContent());
const count = (l: Locator) => poll(() => l.count());
const focused = (l: Locator) => poll(() => l.evaluate((el) => el === document.activeElement)).toBe(true);
/** What a screen reader reads after the control's name: the elements its aria-describedby names. */
const description = (l: Locator) =>
  l.evaluate((el) =>
    (el.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .map((id) => document.getElementById(id)?.textContent ?? "")
      .join(" "),
  );

/** Polls `read` until `done` holds (bounded), for work Hugo finishes in the background. */
async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Activity on the demo website, through the API: visitors' questions the agent answers or escalates
 * (two alike, so they group), a workflow that completes and one left waiting for the visitor.
 */
async function seedActivity(hugo: RunningHugo, api: HugoClient) {
  const site = `/v1/website/${hugo.seed.websiteId}`;
  const note = await api.workflows.create({
    name: "Thank-you note",
    graph: {
      blocks: [
        { id: "start", kind: "start.code", options: {}, position: { x: 0, y: 0 } },
        {
          id: "thanks",
          kind: "action.text",
          options: { text: "Thanks for your message!" },
          position: { x: 0, y: 130 },
        },
      ],
      edges: [{ from: "start", handle: "next", to: "thanks" }],
    },
  });
  await api.workflows.deploy(note.workflow_id);
  const refund = hugo.seed.workflows.find((w) => w.name === "Refund request")!.workflow_id;
  const questions = [
    "How do I trigger a workflow from my backend?",
    "Can I pay with bitcoin?",
    "can I pay with Bitcoin",
    "Do you have an office in <b>Lisbon</b>?",
  ];
  for (const [i, question] of questions.entries()) {
    const { data } = await demoApi(hugo, "POST", `${site}/conversation`, {});
    const sessionId = data.session_id as string;
    await demoApi(hugo, "POST", `${site}/conversation/${sessionId}/message`, {
      type: "text",
      from: "user",
      origin: "chat",
      content: question,
    });
    const { turn_id } = await api.agent.trigger({ session_id: sessionId });
    await until(
      "the agent's turn",
      () => api.agent.getTurn(turn_id),
      (t) => t.status !== "queued",
    );
    const run = await api.workflows.trigger(i === 0 ? refund : note.workflow_id, { session_id: sessionId });
    await until(
      "the run to settle",
      () => api.runs.get(run.run_id),
      (r) => r.status !== "running",
    );
  }
}

/** A Hugo with no operator yet (SEED_DEMO=false), as on a fresh install. */
async function startBareHugo(): Promise<{ hugo: Hugo; url: string; stop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-dashboard-"));
  const hugo = await createHugo(
    loadConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "silent", SEED_DEMO: "false" }),
  );
  const url = (await hugo.listen()).replace("0.0.0.0", "127.0.0.1");
  return {
    hugo,
    url,
    async stop() {
      await hugo.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe.skipIf(!hasChromium)("the operator dashboard in Chromium", () => {
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

  /** A new browser profile (its own cookies) on a page of Hugo; console errors are collected. */
  async function open(url: string, options: { clipboard?: boolean } = {}) {
    const context = await browser.newContext({
      viewport: VIEWPORT,
      locale: "en-US",
      ...(options.clipboard ? { permissions: ["clipboard-read", "clipboard-write"] } : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    const scripts: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      // A 4xx (signed out, no access, a refused form) is an answer the app shows; anything else is a fault.
      if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
    page.on("request", (r) => {
      if (r.resourceType() === "script") scripts.push(new URL(r.url()).pathname);
    });
    await page.goto(url);
    return { page, context, errors, scripts };
  }

  const signIn = async (page: Page, email: string, password: string) => {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  };
  const heading = (page: Page, name: string) => page.getByRole("heading", { level: 1, name });
  const nav = (page: Page, name: string) =>
    page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });

  it("signs the demo owner in, keeps the session across a reload, loads only the inbox's code, and signs out", async () => {
    const { page, errors, scripts } = await open(`${hugo.url}/app/`);
    await shown(heading(page, "Sign in"));
    await page.screenshot({ path: path.join(SHOTS, "dashboard-sign-in.png") });

    // Empty fields are named before anything is sent; a wrong password is refused with the server's code.
    await page.getByRole("button", { name: "Sign in" }).click();
    await shown(page.getByText("Enter your email address."));
    await focused(page.getByLabel("Email"));
    await signIn(page, hugo.seed.ownerEmail, "not the password");
    await text(page.getByRole("alert")).toContain("Wrong email or password.");

    await signIn(page, hugo.seed.ownerEmail, hugo.seed.ownerPassword);
    await shown(heading(page, "Inbox"));
    expect(new URL(page.url()).pathname).toBe("/app/inbox");
    const operator = page.getByRole("region", { name: "Signed in as" });
    await text(operator).toContain("Demo owner");
    await text(operator).toContain(hugo.seed.ownerEmail);
    await text(operator).toContain("Owner");
    await poll(() => nav(page, "Inbox").getAttribute("aria-current")).toBe("page");
    await page.screenshot({ path: path.join(SHOTS, "dashboard-inbox.png") });
    // The inbox route loads the app's entry alone: the other sections are chunks of their own.
    expect(scripts.filter((s) => s.startsWith("/app/assets/"))).toHaveLength(1);

    await nav(page, "Analytics").click();
    await shown(heading(page, "Analytics"));
    expect(scripts.some((s) => /\/app\/assets\/analytics-[\w-]+\.js$/.test(s))).toBe(true);

    // The session is the HttpOnly cookie: a reload opens the same page, signed in.
    await page.reload();
    await shown(heading(page, "Analytics"));
    expect(await page.evaluate(() => document.cookie)).not.toContain("hugo_session");

    await page.getByRole("button", { name: "Sign out" }).click();
    await shown(heading(page, "Sign in"));
    await page.reload();
    await shown(heading(page, "Sign in"));
    const after = await page.evaluate(async () => (await fetch("/api/auth/session")).status);
    expect(after).toBe(401);
    expect(errors).toEqual([]);
  });

  it("shows analytics equal to GET /api/analytics: totals, both charts, workflows and unanswered questions", async () => {
    await seedActivity(hugo, api);
    const { page, errors } = await open(`${hugo.url}/app/analytics`);
    await signIn(page, hugo.seed.ownerEmail, hugo.seed.ownerPassword);
    await shown(heading(page, "Analytics"));
    await text(page.locator("[data-stat=conversations] .stat-value")).toMatch(/\S/);

    const data = (await demoApi(hugo, "GET", "/api/analytics")).data as Analytics;
    const t = data.totals;
    expect(t.escalated).toBeGreaterThan(0);
    expect(t.runs_completed).toBeGreaterThan(0);
    const stat = (id: string) => page.locator(`[data-stat=${id}] .stat-value`);
    await text(stat("conversations")).toBe(int.format(t.conversations));
    await text(stat("answered")).toBe(int.format(t.answered));
    await text(stat("escalated")).toBe(int.format(t.escalated));
    await text(stat("handled_rate")).toBe(pct(t.handled_rate));
    await text(stat("runs")).toBe(int.format(t.runs));
    await text(stat("completion")).toBe(pct(t.runs ? t.runs_completed / t.runs : null));

    // Each chart states its numbers for screen readers, and as a table.
    const sum = (k: "conversations" | "answered" | "escalated") => data.series.reduce((n, b) => n + b[k], 0);
    const chart = (title: string) => page.getByRole("img", { name: title });
    await text(chart("Conversations over time").locator("desc")).toMatch(
      new RegExp(`^${sum("conversations")} conversations from `),
    );
    await text(chart("Answered by the agent vs escalated").locator("desc")).toContain(
      `answered ${sum("answered")}, escalated ${sum("escalated")}.`,
    );
    expect(await page.locator(".chart-svg").first().locator("rect").count()).toBe(
      data.series.filter((b) => b.conversations > 0).length,
    );

    for (const w of data.workflows) {
      const row = page.locator(`tr[data-workflow="${w.workflow_id}"]`);
      await text(row.locator("th")).toBe(w.name);
      await text(row.locator("td").first()).toBe(int.format(w.runs));
      await text(row.locator("[data-completion]")).toBe(pct(w.completion_rate));
    }
    expect(data.workflows.map((w) => w.name)).toEqual(
      expect.arrayContaining(["Thank-you note", "Refund request"]),
    );

    // Questions are text: the visitor's "<b>" is shown as typed, never as markup.
    expect(data.unanswered.length).toBeGreaterThan(0);
    await poll(() => page.locator(".questions .question").allTextContents()).toEqual(
      data.unanswered.map((q) => q.question),
    );
    expect(await page.locator(".questions b").count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-analytics.png"), fullPage: true });

    // Weeks instead of days: the same totals in fewer buckets.
    await page.getByLabel("Group by").selectOption("week");
    const weekly = (await demoApi(hugo, "GET", "/api/analytics?interval=week")).data as Analytics;
    await count(page.locator(".chart-table").first().locator("tbody tr")).toBe(weekly.series.length);
    await text(stat("conversations")).toBe(int.format(weekly.totals.conversations));
    expect(errors).toEqual([]);
  });

  it("creates an API token whose secret is shown once and copied, and revokes it after a confirmation", async () => {
    const { page, errors } = await open(`${hugo.url}/app/settings/tokens`, { clipboard: true });
    await signIn(page, hugo.seed.ownerEmail, hugo.seed.ownerPassword);
    await shown(heading(page, "API tokens"));
    await text(page.getByRole("row", { name: /Demo token/ })).toContain("Full access");

    await page.getByRole("button", { name: "New token" }).click();
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByRole("button", { name: "Create token" }).click();
    await shown(page.getByText("Name the token"));
    await shown(page.getByText("Choose at least one scope."));
    await focused(page.getByLabel("Name"));
    await page.getByLabel("Name").fill("Backend <script>");
    await page.getByRole("checkbox", { name: /workflows:trigger/ }).check();
    await page.getByRole("checkbox", { name: /conversations:read/ }).check();
    await page.screenshot({ path: path.join(SHOTS, "dashboard-token-form.png"), fullPage: true });
    await page.getByRole("button", { name: "Create token" }).click();

    const secretBox = page.getByLabel("Token secret");
    await shown(secretBox);
    const secret = await secretBox.inputValue();
    expect(secret).toMatch(/^hugo_[0-9a-f-]{36}_[0-9a-f]{64}$/);
    // The secret works, with the scopes chosen.
    const asToken = new HugoClient({ baseUrl: hugo.url, token: secret });
    expect((await asToken.analytics.get()).totals.conversations).toBeGreaterThan(0);
    await expect(asToken.tokens.list()).rejects.toMatchObject({ status: 403, code: "insufficient_scope" });

    await page.getByRole("button", { name: "Copy" }).click();
    await shown(page.getByText("Copied to the clipboard."));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-token-created.png"), fullPage: true });

    // Shown once: gone when dismissed, and not on the page after a reload either.
    await page.getByRole("button", { name: "Done, I've stored it" }).click();
    await count(secretBox).toBe(0);
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    const row = page.getByRole("row", { name: /Backend <script>/ });
    await text(row).toContain("Active");
    await text(row).toContain("workflows:trigger, conversations:read");
    expect(await page.content()).not.toContain(secret.slice(-64));

    // Revoking asks first; Cancel (or Escape) keeps the token.
    await page.getByRole("button", { name: "Revoke Backend <script>" }).click();
    const dialog = page.getByRole("dialog", { name: "Revoke “Backend <script>”?" });
    await shown(dialog);
    await focused(dialog.getByRole("button", { name: "Cancel" }));
    await page.screenshot({ path: path.join(SHOTS, "dashboard-token-revoke.png") });
    await page.keyboard.press("Escape");
    await count(dialog).toBe(0);
    await text(row).toContain("Active");

    await page.getByRole("button", { name: "Revoke Backend <script>" }).click();
    await dialog.getByRole("button", { name: "Revoke token" }).click();
    await count(dialog).toBe(0);
    await text(row).toContain("Revoked");
    await shown(page.getByRole("status").filter({ hasText: "is revoked" }));
    await count(row.getByRole("button", { name: /Revoke/ })).toBe(0);
    await expect(asToken.analytics.get()).rejects.toMatchObject({ status: 401, code: "token_revoked" });
    expect(errors).toEqual([]);
  });

  it("copies the widget's install snippet and adds and removes an allowed origin", async () => {
    const { page, errors } = await open(`${hugo.url}/app/settings/widget`, { clipboard: true });
    await signIn(page, hugo.seed.ownerEmail, hugo.seed.ownerPassword);
    await shown(heading(page, "Chat widget"));

    await page.getByRole("button", { name: "Copy snippet" }).click();
    await shown(page.getByText("Copied to the clipboard."));
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain(`window.CRISP_WEBSITE_ID = "${hugo.seed.websiteId}"`);
    expect(copied).toContain(`s.src="${hugo.url}/l.js"`);
    expect(await page.getByRole("textbox", { name: "Install snippet" }).inputValue()).toBe(copied);

    // The server's rule, under the field; then a valid origin is saved (normalised by Hugo).
    const field = page.getByLabel("Add an origin");
    await field.fill("https://shop.example.com/checkout");
    await page.getByRole("button", { name: "Add origin" }).click();
    await poll(() => description(field)).toContain("Must be an origin such as https://shop.example.com");
    await focused(field);
    await field.fill("https://Shop.Example.com:443");
    await page.getByRole("button", { name: "Add origin" }).click();
    await shown(page.getByRole("button", { name: "Remove https://shop.example.com" }));
    await field.fill("https://*.acme.example");
    await page.getByRole("button", { name: "Add origin" }).click();
    await shown(page.getByRole("button", { name: "Remove https://*.acme.example" }));
    expect((await api.website.get()).widget.allowed_origins).toEqual([
      "https://shop.example.com",
      "https://*.acme.example",
    ]);
    await page.screenshot({ path: path.join(SHOTS, "dashboard-settings-widget.png"), fullPage: true });

    await page.getByRole("button", { name: "Remove https://*.acme.example" }).click();
    await count(page.getByRole("button", { name: "Remove https://*.acme.example" })).toBe(0);
    expect((await api.website.get()).widget.allowed_origins).toEqual(["https://shop.example.com"]);
    await api.website.update({ widget: { allowed_origins: [] } });
    expect(errors).toEqual([]);
  });

  it("invites an operator who signs in, changes their role, keeps the last owner and removes them", async () => {
    const { page, errors } = await open(`${hugo.url}/app/settings/operators`);
    await signIn(page, hugo.seed.ownerEmail, hugo.seed.ownerPassword);
    await shown(heading(page, "Operators"));
    await text(page.getByRole("row", { name: /Demo owner/ })).toContain(hugo.seed.ownerEmail);

    // Missing fields are named before sending; then the server's rules under their fields.
    await page.getByRole("button", { name: "Invite operator" }).click();
    const form = page.getByRole("region", { name: "Invite an operator" });
    await form.getByRole("button", { name: "Invite", exact: true }).click();
    await shown(page.getByText("Enter their name."));
    await focused(form.getByLabel("Name"));
    await form.getByLabel("Name").fill("Olga Ops");
    await form.getByLabel("Email").fill(hugo.seed.ownerEmail);
    await form.getByLabel("Password").fill("short");
    await form.getByRole("button", { name: "Invite", exact: true }).click();
    await poll(() => description(form.getByLabel("Password"))).toContain("Must be at least 10 characters.");
    await form.getByLabel("Password").fill("olga's long password");
    await form.getByRole("button", { name: "Invite", exact: true }).click();
    await poll(() => description(form.getByLabel("Email"))).toContain("already exists");
    await form.getByLabel("Email").fill("olga@acme.example");
    await form.getByLabel("Role").selectOption("agent");
    await form.getByRole("button", { name: "Invite", exact: true }).click();
    const row = page.getByRole("row", { name: /Olga Ops/ });
    await text(row).toContain("olga@acme.example");
    await text(row).toContain("Never");
    await poll(() => row.getByLabel("Role of Olga Ops").inputValue()).toBe("agent");
    await shown(page.getByRole("status").filter({ hasText: "Olga Ops can sign in now" }));

    // Olga signs in elsewhere as an agent: operators are not hers to manage.
    const olga = await open(`${hugo.url}/app/settings/operators`);
    await signIn(olga.page, "olga@acme.example", "olga's long password");
    await shown(olga.page.getByRole("heading", { name: "You don't have access to operators" }));
    await shown(olga.page.getByText("insufficient_scope"));
    await olga.page.goto(`${hugo.url}/app/settings/widget`);
    await shown(
      olga.page.getByRole("heading", { name: "You don't have access to the chat widget's settings" }),
    );
    expect(olga.errors).toEqual([]);

    await page.reload();
    await text(row).not.toContain("Never");
    await row.getByLabel("Role of Olga Ops").selectOption("admin");
    await shown(page.getByRole("status").filter({ hasText: "Olga Ops is admin now." }));
    expect((await api.operators.list()).find((o) => o.email === "olga@acme.example")?.role).toBe("admin");

    // The last owner stays: Hugo refuses, and says why.
    await page.getByLabel("Role of Demo owner").selectOption("agent");
    await text(page.getByRole("alert")).toContain("A website must keep at least one owner.");
    await poll(() => page.getByLabel("Role of Demo owner").inputValue()).toBe("owner");
    await page.screenshot({ path: path.join(SHOTS, "dashboard-settings-operators.png"), fullPage: true });
    await page.getByRole("button", { name: "Remove Demo owner" }).click();
    const ownerDialog = page.getByRole("dialog", { name: "Remove Demo owner?" });
    await ownerDialog.getByRole("button", { name: "Remove operator" }).click();
    await text(ownerDialog.getByRole("alert")).toContain("A website must keep at least one owner.");
    await ownerDialog.getByRole("button", { name: "Cancel" }).click();
    await count(ownerDialog).toBe(0);

    await page.getByRole("button", { name: "Remove Olga Ops" }).click();
    const dialog = page.getByRole("dialog", { name: "Remove Olga Ops?" });
    await focused(dialog.getByRole("button", { name: "Cancel" }));
    await dialog.getByRole("button", { name: "Remove operator" }).click();
    await count(dialog).toBe(0);
    await count(row).toBe(0);
    expect((await api.operators.list()).some((o) => o.email === "olga@acme.example")).toBe(false);
    expect(errors).toEqual([]);
  });

  it("tells an agent they have no access to tokens, and switches to a website where they are an admin", async () => {
    const ann = await api.operators.create({
      email: "ann@acme.example",
      name: "Ann Agent",
      role: "agent",
      password: "correct horse battery",
    });
    const shop = await hugo.hugo.services.websites.create({ name: "Acme Shop", domain: "shop.example" });
    await hugo.hugo.stores.operators.addMembership(
      { website_id: shop.id, operator_id: ann.id, role: "admin" },
      Date.now(),
    );

    const { page, errors } = await open(`${hugo.url}/app/settings/tokens`);
    await signIn(page, "ann@acme.example", "correct horse battery");
    await shown(page.getByRole("heading", { name: "You don't have access to API tokens" }));
    await shown(page.getByText("insufficient_scope"));
    await text(page.getByRole("region", { name: "Signed in as" })).toContain("Agent");
    await page.screenshot({ path: path.join(SHOTS, "dashboard-no-access.png") });
    // An agent still reads analytics (conversations:read).
    await nav(page, "Analytics").click();
    await text(page.locator("[data-stat=conversations] .stat-value")).toMatch(/\S/);

    const switcher = page.getByLabel("Website");
    await poll(() => switcher.locator("option").allTextContents()).toEqual(["Demo website", "Acme Shop"]);
    await switcher.selectOption({ label: "Acme Shop" });
    await text(page.getByRole("region", { name: "Signed in as" })).toContain("Admin");
    await text(page.locator("[data-stat=conversations] .stat-value")).toBe("0");
    await nav(page, "Settings").click();
    await shown(heading(page, "API tokens"));
    await shown(page.getByText("No token yet."));
    // The switch holds across a reload (it is the session's website now).
    await page.reload();
    await poll(() => page.getByLabel("Website").inputValue()).toBe(shop.id);
    expect(errors).toEqual([]);
  });

  it("sets up the first owner on a Hugo without the demo, then signs in and names a rate limit", async () => {
    const bare = await startBareHugo();
    try {
      const { page, errors } = await open(`${bare.url}/app/`);
      await shown(heading(page, "Set up Hugo"));
      await page.screenshot({ path: path.join(SHOTS, "dashboard-setup.png") });

      await page.getByRole("button", { name: "Create owner account" }).click();
      await shown(page.getByText("Enter your name."));
      await shown(page.getByText("Name your website."));
      await page.getByLabel("Your name").fill("Maya Owner");
      await page.getByLabel("Email").fill("maya@acme.example");
      await page.getByLabel("Password").fill("short");
      await page.getByLabel("Website name").fill("Acme");
      await page.getByRole("button", { name: "Create owner account" }).click();
      // The server's rule, under its field, read with it.
      await poll(() => description(page.getByLabel("Password"))).toContain("Must be at least 10 characters.");
      await focused(page.getByLabel("Password"));

      await page.getByLabel("Password").fill("a long enough password");
      await page.getByRole("button", { name: "Create owner account" }).click();
      await shown(heading(page, "Inbox"));
      const operator = page.getByRole("region", { name: "Signed in as" });
      await text(operator).toContain("Maya Owner");
      await text(operator).toContain("Owner");
      await text(page.locator(".website-name")).toBe("Acme");
      await page.reload();
      await shown(heading(page, "Inbox"));
      expect(errors).toEqual([]);

      // Another browser gets the sign-in page now; too many failures are named with the wait.
      const other = await open(`${bare.url}/app/`);
      await shown(heading(other.page, "Sign in"));
      for (let i = 0; i < 10; i++)
        await fetch(`${bare.url}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: "maya@acme.example", password: "wrong password" }),
        });
      await signIn(other.page, "maya@acme.example", "a long enough password");
      await text(other.page.getByRole("alert")).toMatch(/Too many attempts\. Try again in \d+ seconds\./);
      await other.page.screenshot({ path: path.join(SHOTS, "dashboard-rate-limited.png") });
    } finally {
      await bare.stop();
    }
  });
});
