import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startOnPublicUrl } from "../../test/hugo.ts";
import { runProcess } from "../../test/run-process.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/hugo.js");

/** A workflow that greets with a variable, as an exported file. */
const greeting = (text: string) => ({
  format: "hugo.workflow",
  format_version: 1,
  name: "CLI greeting",
  description: "",
  graph: {
    blocks: [
      { id: "start", kind: "start.code", options: {} },
      { id: "hello", kind: "action.text", options: { text } },
    ],
    edges: [{ from: "start", handle: "next", to: "hello" }],
  },
});

describe("hugo commands that talk to a running Hugo", () => {
  let server: RunningHugo;
  let token: string;
  let folder: string;
  /** The real CLI in a child process, pointed at the server by environment variables. */
  const hugo = (args: string[], env: Record<string, string> = {}, stdin?: string) =>
    runProcess(process.execPath, [BIN, ...args], {
      env: { HUGO_URL: server.url, HUGO_TOKEN: token, ...env },
      ...(stdin !== undefined ? { stdin } : {}),
    });
  const api = async <T>(p: string) =>
    (
      (await (
        await fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { data: T }
    ).data;
  const texts = async (sessionId: string) =>
    (
      await api<{ content: unknown; from: string }[]>(
        `/v1/website/${server.seed.websiteId}/conversation/${sessionId}/messages`,
      )
    ).map((m) => m.content);

  beforeAll(async () => {
    server = await startOnPublicUrl("sqlite");
    token = server.seed.token.token;
    folder = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-cli-"));
  });
  afterAll(async () => {
    await server.stop();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it("imports, deploys, lists, exports and triggers a workflow, waiting for the run", async () => {
    const file = path.join(folder, "greeting.json");
    fs.writeFileSync(file, JSON.stringify(greeting("Hello {{ name }}, {{ seats }} seats")));
    const imported = await hugo(["workflow", "import", file, "--deploy", "--json"]);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    const { workflow, deployed } = JSON.parse(imported.stdout) as {
      workflow: { workflow_id: string };
      deployed: { version: number };
    };
    expect(workflow.workflow_id).toMatch(/^scenario_/);
    expect(deployed.version).toBe(1);

    const list = await hugo(["workflow", "list"]);
    expect(list.stdout).toMatch(new RegExp(`${workflow.workflow_id}\\s+v1\\s+CLI greeting`));

    const exported = await hugo(["workflow", "export", workflow.workflow_id]);
    expect(JSON.parse(exported.stdout)).toMatchObject({ format: "hugo.workflow", name: "CLI greeting" });
    const out = path.join(folder, "out.json");
    expect((await hugo(["workflow", "export", workflow.workflow_id, "-o", out])).code).toBe(0);
    const written = JSON.parse(fs.readFileSync(out, "utf8")) as { graph: unknown; name: string };
    expect(written).toMatchObject({ name: "CLI greeting", graph: JSON.parse(exported.stdout).graph });

    const sessionId = server.seed.sessionId;
    const run = await hugo([
      "trigger",
      "workflow",
      workflow.workflow_id,
      "--session",
      sessionId,
      "--var",
      'name=Zoë "$HOME" `x`',
      "--vars",
      '{"seats": 3}',
      "--wait",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Run run_\S+: completed after 2 steps/);
    expect(await texts(sessionId)).toContain('Hello Zoë "$HOME" `x`, 3 seats');

    // Deploying a draft that does not validate lists the problems by block.
    await fetch(`${server.url}/api/workflows/${workflow.workflow_id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        graph: { blocks: [{ id: "hello", kind: "action.text", options: { text: "" } }], edges: [] },
      }),
    });
    const invalid = await hugo(["workflow", "deploy", workflow.workflow_id]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain("[workflow_invalid]");
    expect(invalid.stderr).toMatch(/ {2}- .*block hello/);
  });

  it("triggers the agent with an instruction from a file and waits for its turn", async () => {
    const file = path.join(folder, "instruction.txt");
    const instruction = 'VIP: answer "briefly" — café ☕\nsecond line';
    fs.writeFileSync(file, `${instruction}\n`);
    const turn = await hugo([
      "trigger",
      "agent",
      "--session",
      server.seed.sessionId,
      "--instruction-file",
      file,
      "--wait",
      "--json",
    ]);
    expect(turn.stderr).toBe("");
    expect(turn.code).toBe(0);
    const result = JSON.parse(turn.stdout) as { instruction: string; status: string; source: string };
    expect(result).toMatchObject({ instruction, source: "api" });
    expect(["answered", "escalated", "routed"]).toContain(result.status);

    const tooLong = await hugo([
      "trigger",
      "agent",
      "--session",
      server.seed.sessionId,
      "--instruction",
      "x".repeat(2001),
      "--json",
    ]);
    expect(tooLong.code).toBe(1);
    expect(JSON.parse(tooLong.stderr)).toMatchObject({
      error: { code: "instruction_too_long", field: "instruction" },
    });
  });

  it("prints one snippet's code that runs as is: cURL for a workflow, Node for the agent", async () => {
    const imported = JSON.parse(
      (
        await hugo(
          ["workflow", "import", "-", "--deploy", "--json"],
          {},
          JSON.stringify(greeting("Snippet for {{ name }}")),
        )
      ).stdout,
    ) as { workflow: { workflow_id: string } };
    const created = await fetch(`${server.url}/api/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "snippets", scopes: ["workflows:trigger", "agent:trigger"] }),
    });
    const tokenId = ((await created.json()) as { data: { id: string } }).data.id;
    const sessionId = server.seed.sessionId;

    const curl = await hugo([
      "snippet",
      "workflow",
      imported.workflow.workflow_id,
      "--lang",
      "curl",
      "--session",
      sessionId,
      "--token-id",
      tokenId,
      "--var",
      "name=O'Brien $USER",
    ]);
    expect(curl.stderr).toBe("");
    expect(curl.stdout).toMatch(/^(#.*\n)*curl /m);
    const ran = await runProcess("sh", ["-c", curl.stdout]);
    expect(ran.code).toBe(0);
    expect(await texts(sessionId)).toContain("Snippet for O'Brien $USER");

    const node = await hugo([
      "snippet",
      "agent",
      "--lang",
      "node",
      "--session",
      sessionId,
      "--token-id",
      tokenId,
      "--instruction",
      "Be brief ✨",
    ]);
    expect(node.code).toBe(0);
    const file = path.join(folder, "agent.mjs");
    fs.writeFileSync(file, node.stdout);
    expect((await runProcess(process.execPath, [file])).code).toBe(0);
    const turns = await api<{ instruction: string | null }[]>(`/api/agent/turns?session_id=${sessionId}`);
    expect(turns[0]?.instruction).toBe("Be brief ✨");

    const all = await hugo(["snippet", "agent"]);
    expect(all.stdout).toContain("(curl)");
    expect(all.stdout).toContain("YOUR_HUGO_API_TOKEN");
    const browser = await hugo(["snippet", "agent", "--lang", "web-sdk"]);
    expect(browser.code).toBe(2);
    expect(browser.stderr).toContain("no web-sdk snippet");
  });

  it("re-indexes every knowledge source and reports the count", async () => {
    const sources = await api<{ source_id: string }[]>("/api/knowledge/sources?limit=200");
    expect(sources.length).toBeGreaterThan(0);
    const all = await hugo(["kb", "reindex", "--json"]);
    expect(all.stderr).toBe("");
    expect(all.code).toBe(0);
    const outcome = JSON.parse(all.stdout) as { reindexed: { source_id: string }[]; failed: unknown[] };
    expect(outcome.reindexed.map((s) => s.source_id).sort()).toEqual(sources.map((s) => s.source_id).sort());
    expect(outcome.failed).toEqual([]);

    const unknown = await hugo([
      "kb",
      "reindex",
      "src_00000000-0000-4000-8000-000000000000",
      sources[0]!.source_id,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("Re-indexed 1 sources");
    expect(unknown.stdout).toMatch(/failed src_0+-0+-4000-8000-0+: \w+/);
  });

  it("fails clearly: unknown ids, a missing token, an unreachable server, bad options", async () => {
    const missing = await hugo([
      "workflow",
      "deploy",
      "scenario_00000000-0000-4000-8000-000000000000",
      "--json",
    ]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: { code: "workflow_not_found" } });

    const noToken = await hugo(["workflow", "list"], { HUGO_TOKEN: "" });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("--token");

    const wrongToken = await hugo(["workflow", "list"], { HUGO_TOKEN: "hugo_nope_nope" });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain("[unauthorized]");

    const down = await hugo(["workflow", "list"], { HUGO_URL: "http://127.0.0.1:9" });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("127.0.0.1:9");

    const noSession = await hugo(["trigger", "workflow", "scenario_00000000-0000-4000-8000-000000000000"]);
    expect(noSession.code).toBe(2);
    expect(noSession.stderr).toContain("--session");

    const badVars = await hugo(["trigger", "workflow", "x", "--session", "s", "--vars", "[1]"]);
    expect(badVars.code).toBe(2);
    expect(badVars.stderr).toContain("--vars");
  });
});
