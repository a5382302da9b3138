import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freshPostgres, type TestDatabase } from "../test/databases.ts";
import {
  HUGO_BIN as BIN,
  exitCode,
  listAllMessages,
  startHugoProcess as start,
} from "../test/hugo-process.ts";

describe.each(["sqlite", "postgres"] as const)("hugo serve on %s", (dialect) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-main-"));
  let pg: TestDatabase | undefined;
  afterAll(async () => {
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("seeds and prints the demo once, drains on SIGTERM with exit 0, and keeps every acknowledged write", async () => {
    const env: Record<string, string> = { DATA_DIR: dataDir };
    if (dialect === "postgres") {
      pg = await freshPostgres();
      env.DATABASE_URL = pg.url!;
    }
    const first = await start(env);
    const banner = first.output();
    const websiteId = /Website id:\s+(\S+)/.exec(banner)?.[1];
    const token = /API token:\s+(\S+)/.exec(banner)?.[1];
    const session = /Demo session:\s+(\S+)/.exec(banner)?.[1];
    expect(banner).toMatch(/Owner login:\s+owner@hugo\.local \/ \S+/);
    expect(banner).toContain(`Demo page:     ${first.url}/demo`);
    expect(banner).toContain(`Dashboard:     ${first.url}/app/`);
    expect(websiteId && token && session).toBeTruthy();
    if (dialect === "sqlite") expect(fs.existsSync(path.join(dataDir, "hugo.sqlite"))).toBe(true);

    const send = (i: number) =>
      fetch(`${first.url}/v1/website/${websiteId}/conversation/${session}/message`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "text", from: "user", origin: "chat", content: `drain ${i}` }),
      }).then(
        (r) => r.status,
        () => "refused" as const,
      );
    // Requests in flight when SIGTERM arrives are answered, not cut; the process then exits 0.
    const inflight = Array.from({ length: 100 }, (_, i) => send(i));
    await new Promise((r) => setTimeout(r, 5));
    first.child.kill("SIGTERM");
    const statuses = await Promise.all(inflight);
    expect(await exitCode(first.child), first.output()).toBe(0);
    expect(statuses.every((s) => s === 202 || s === 503 || s === "refused")).toBe(true);
    const acknowledged = statuses.filter((s) => s === 202).length;

    const second = await start(env);
    try {
      expect(second.output()).not.toContain("API token:");
      // The demo page is still linked after a restart, and served.
      expect(second.output()).toContain(`Demo page:     ${second.url}/demo`);
      expect((await fetch(`${second.url}/demo`)).status).toBe(200);
      const res = await fetch(`${second.url}/v1/website/${websiteId}/conversation/${session}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      const db = await fetch(`${second.url}/v1/website/${websiteId}/conversations/1?per_page=50`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect((await db.json()).data.length).toBeGreaterThan(0);
      // Every acknowledged message survived the restart (the demo's own first message is one more).
      const stored = (await listAllMessages(second.url, token!, websiteId!, session!)).filter((m) =>
        String(m.content).startsWith("drain "),
      ).length;
      expect(stored).toBe(acknowledged);
    } finally {
      second.child.kill("SIGTERM");
      expect(await exitCode(second.child)).toBe(0);
    }
  });
});

describe("hugo with a bad configuration", () => {
  it("fails at boot with a message naming the variable", async () => {
    const child = spawn(process.execPath, [BIN, "serve"], {
      env: { ...process.env, PORT: "not-a-port", DATA_DIR: os.tmpdir() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stderr!.on("data", (d) => (out += d));
    expect(await exitCode(child)).toBe(1);
    expect(out).toContain("PORT");
  });
});
