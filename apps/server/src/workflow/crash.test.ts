/**
 * `kill -9` mid-run, then restart: the run continues where its last committed step left it, and the
 * visitor sees every message exactly once, in order. Real `hugo serve` processes (bin/hugo.js), the
 * real job queue on SQLite and PostgreSQL, and an HTTP block calling a local service that records
 * the Idempotency-Key of every call.
 */

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { RunDetail, WorkflowGraph } from "@hugo/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { freshPostgres, type TestDatabase } from "../../test/databases.ts";
import { exitCode, type HugoProcess, listAllMessages, startHugoProcess } from "../../test/hugo-process.ts";

const STEPS = 12;

/** Answers `{"ok":true}` after 150 ms, so a kill can land while a call is in flight. */
async function startSlowService() {
  const keys: string[] = [];
  const server = http.createServer((req, res) => {
    keys.push(String(req.headers["idempotency-key"] ?? ""));
    setTimeout(() => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"ok":true}');
    }, 150);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/check`,
    keys,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * start → a burst of texts (one long transaction) → for each step: text, typing 100 ms (a durable
 * timer), and halfway an HTTP call → a closing text.
 */
function crashGraph(serviceUrl: string): WorkflowGraph {
  const blocks: WorkflowGraph["blocks"] = [{ id: "start", kind: "start.code", options: {} }];
  for (let i = 1; i <= 30; i++)
    blocks.push({ id: `burst${i}`, kind: "action.text", options: { text: `burst ${i}` } });
  for (let i = 1; i <= STEPS; i++) {
    blocks.push({ id: `text${i}`, kind: "action.text", options: { text: `step ${i}` } });
    blocks.push({ id: `typing${i}`, kind: "action.typing", options: { duration_ms: 100 } });
    if (i === STEPS / 2)
      blocks.push({
        id: "call",
        kind: "action.http",
        options: { method: "POST", url: serviceUrl, body: '{"step":"{{ n }}"}', response: [] },
      });
  }
  blocks.push({ id: "done", kind: "action.text", options: { text: "all done" } });
  const edges = blocks.slice(1).map((b, i) => ({
    from: blocks[i]!.id,
    handle: blocks[i]!.kind === "action.http" ? "success" : "next",
    to: b.id,
  }));
  return { blocks, edges };
}

describe.each(["sqlite", "postgres"] as const)("a workflow run killed with SIGKILL on %s", (dialect) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-wf-crash-"));
  let pg: TestDatabase | undefined;
  let service: Awaited<ReturnType<typeof startSlowService>> | undefined;
  const processes: HugoProcess[] = [];
  afterAll(async () => {
    for (const p of processes)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await Promise.all(processes.map((p) => exitCode(p.child)));
    await service?.close();
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("continues after each restart and sends no message twice", { timeout: 120_000 }, async () => {
    service = await startSlowService();
    const env: Record<string, string> = {
      DATA_DIR: dataDir,
      OUTBOUND_ALLOW_HOSTS: "127.0.0.1",
      // PostgreSQL: a dead process's claimed jobs come back after this lease (SQLite: at the next start).
      JOB_LEASE_MS: "1500",
    };
    if (dialect === "postgres") {
      pg = await freshPostgres();
      env.DATABASE_URL = pg.url!;
    }
    const start = async () => {
      const p = await startHugoProcess(env);
      processes.push(p);
      return p;
    };
    let hugo = await start();
    const banner = hugo.output();
    const websiteId = /Website id:\s+(\S+)/.exec(banner)![1]!;
    const token = /API token:\s+(\S+)/.exec(banner)![1]!;
    const session = /Demo session:\s+(\S+)/.exec(banner)![1]!;

    const api = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${hugo.url}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as { data: unknown } };
    };
    const botTexts = async () =>
      (await listAllMessages(hugo.url, token, websiteId, session))
        // The workflow's messages (the demo conversation also holds the AI agent's answer).
        .filter((m) => m.from === "operator" && m.automated && m.user?.user_id === "hugo:workflow")
        .map((m) => String(m.content));
    let runId: string | undefined;
    const waitFor = async (what: string, check: () => Promise<boolean>) => {
      const until = Date.now() + 45_000;
      while (!(await check())) {
        if (Date.now() > until) {
          const run = runId ? JSON.stringify((await api("GET", `/api/runs/${runId}`)).body.data) : "";
          throw new Error(`timed out waiting for ${what}\nrun: ${run}\n${hugo.output()}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const kill = async () => {
      hugo.child.kill("SIGKILL");
      await exitCode(hugo.child);
      expect(hugo.child.signalCode).toBe("SIGKILL");
    };

    const created = await api("POST", "/api/workflows", {
      name: "crash",
      graph: crashGraph(service.url),
    });
    expect(created.status).toBe(201);
    const workflowId = (created.body.data as { workflow_id: string }).workflow_id;
    expect((await api("POST", `/api/workflows/${workflowId}/deploy`, {})).status).toBe(201);
    const triggered = await api("POST", `/api/scenario/${workflowId}/trigger/`, {
      session_id: session,
      variables: { n: 7 },
    });
    expect(triggered.status).toBe(202);
    runId = (triggered.body.data as { run_id: string }).run_id;

    // First kill: during the burst or just after it; second: around the HTTP call.
    await waitFor("the burst to begin", async () => (await botTexts()).length > 0);
    await kill();
    hugo = await start();
    await waitFor("step 5", async () => (await botTexts()).includes(`step ${STEPS / 2 - 1}`));
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
    await kill();
    hugo = await start();

    await waitFor("the run to complete", async () => {
      const run = await api("GET", `/api/runs/${runId}`);
      return (run.body.data as RunDetail).status === "completed";
    });
    const expected = [
      ...Array.from({ length: 30 }, (_, i) => `burst ${i + 1}`),
      ...Array.from({ length: STEPS }, (_, i) => `step ${i + 1}`),
      "all done",
    ];
    expect(await botTexts()).toEqual(expected);
    // The run's log holds every step once, numbered without gaps.
    const detail = (await api("GET", `/api/runs/${runId}`)).body.data as RunDetail;
    expect(detail.log.map((s) => s.step)).toEqual(detail.log.map((_, i) => i));
    expect(detail.log.filter((s) => s.block_id === "call").map((s) => s.outcome)).toEqual(["next"]);
    // The HTTP call may have been repeated by a kill, but always with the same Idempotency-Key.
    expect(service.keys.length).toBeGreaterThanOrEqual(1);
    expect(new Set(service.keys)).toEqual(new Set([`${runId}:${service.keys[0]!.split(":")[1]}`]));

    hugo.child.kill("SIGTERM");
    expect(await exitCode(hugo.child)).toBe(0);
  });
});
