import fs from "node:fs";
import { HugoClient } from "@hugo/client";
import { type Browser, type BrowserContext, chromium } from "playwright-core";
import { ensureDashboardBuilt } from "../apps/dashboard/build.ts";
import { type RunningHugo, startHugo } from "../apps/server/test/hugo.ts";
import { CHROMIUM, SHOTS } from "./harness.ts";

/** What the dashboard's browser suites share: the built dashboard, a Hugo (SQLite, demo), Chromium, a typed client. */
export interface DashboardSuite {
  hugo: RunningHugo;
  browser: Browser;
  /** The demo website's API, with its token. */
  api: HugoClient;
  /** Browser profiles the suite opened; closed with it. */
  contexts: BrowserContext[];
}

export async function openDashboardSuite(): Promise<DashboardSuite> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await ensureDashboardBuilt();
  const [hugo, browser] = await Promise.all([
    startHugo("sqlite"),
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] }),
  ]);
  return {
    hugo,
    browser,
    api: new HugoClient({ baseUrl: hugo.url, token: hugo.seed.token.token }),
    contexts: [],
  };
}

export async function closeDashboardSuite(suite: DashboardSuite | undefined): Promise<void> {
  for (const context of suite?.contexts ?? []) await context.close().catch(() => {});
  await suite?.browser.close();
  await suite?.hugo.stop();
}
