import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";
import { runProcess } from "../../test/run-process.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/hugo.js");

/** The real CLI in a child process. */
const hugoCli = (args: string[], env: Record<string, string> = {}) =>
  runProcess(process.execPath, [BIN, ...args], { env });

describe.each(["sqlite", "postgres"] as const)("bulk knowledge import on %s", (dialect) => {
  let server: RunningHugo;
  let token: string;
  let folder: string;
  const search = async (q: string) =>
    (
      (await (
        await fetch(`${server.url}/api/knowledge/search?q=${encodeURIComponent(q)}`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as { data: { title: string; text: string }[] }
    ).data;

  beforeAll(async () => {
    server = await startHugo(dialect);
    const website = await server.hugo.services.websites.create({ name: "Import", domain: "import.example" });
    token = (await server.hugo.services.tokens.create(website.id, { name: "cli" })).token;
    folder = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-kb-"));
    fs.writeFileSync(
      path.join(folder, "returns.md"),
      "# Returns\n\nReturn a kayak within 60 days; we send a prepaid freight label.",
    );
    fs.writeFileSync(path.join(folder, "hours.txt"), "Our paddle shop opens at 9 on weekdays.");
    fs.mkdirSync(path.join(folder, "site"));
    fs.writeFileSync(
      path.join(folder, "site", "warranty.html"),
      "<html><body><main><h1>Warranty</h1><p>Hulls carry a ten-year warranty against cracks.</p></main></body></html>",
    );
    fs.writeFileSync(path.join(folder, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    fs.writeFileSync(
      path.join(folder, "faq.jsonl"),
      [
        JSON.stringify({ kind: "answer", question: "Do you rent paddles?", answer: "Yes, 10 euros a day." }),
        "",
        "{not json",
        JSON.stringify({ kind: "answer", question: "x" }),
        JSON.stringify({ kind: "answer", question: "Do you ship abroad?", answer: "Across the EU." }),
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await server?.stop();
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  it("imports a folder's documents and JSON Lines through the API, reporting each failure by file and line", async () => {
    const r = await hugoCli(["kb", "import", folder, "--url", server.url, "--json", "--batch", "2"], {
      HUGO_TOKEN: token,
    });
    expect(r.code, r.stderr).toBe(1);
    const result = JSON.parse(r.stdout) as {
      created: { origin: string; passages: number }[];
      failed: { origin: string; reason: string; message: string }[];
      skipped: { origin: string }[];
    };
    expect(result.created.map((c) => c.origin).sort()).toEqual([
      "faq.jsonl:1",
      "faq.jsonl:5",
      "hours.txt",
      "returns.md",
      path.join("site", "warranty.html"),
    ]);
    expect(result.created.every((c) => c.passages > 0)).toBe(true);
    expect(result.failed).toEqual([
      { origin: "faq.jsonl:3", reason: "invalid_json", message: expect.any(String) },
      { origin: "faq.jsonl:4", reason: "invalid_body", message: expect.stringContaining("sources.") },
    ]);
    expect(result.skipped).toEqual([{ origin: "logo.png", message: "not a document or JSON Lines file" }]);
    expect((await search("kayak freight label"))[0]?.text).toContain("prepaid freight label");
    expect((await search("hull warranty cracks"))[0]?.title).toBe("Warranty");
    expect((await search("rent paddles"))[0]?.text).toBe("Yes, 10 euros a day.");
  });

  it("refuses a missing token or target with usage and exit code 2, and says so for an unreachable Hugo", async () => {
    const noToken = await hugoCli(["kb", "import", folder, "--url", server.url], { HUGO_TOKEN: "" });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("an API token is needed");
    const noTarget = await hugoCli(["kb", "import", path.join(folder, "nope")], { HUGO_TOKEN: token });
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain("does not exist");
    const down = await hugoCli(
      ["kb", "import", path.join(folder, "hours.txt"), "--url", "http://127.0.0.1:1"],
      {
        HUGO_TOKEN: token,
      },
    );
    expect(down.code).toBe(1);
    expect(down.stdout).toContain("failed  hours.txt: unreachable");
  });

  it("takes JSON Lines on POST /api/knowledge/import, and names a line that is not JSON", async () => {
    const post = (body: string) =>
      fetch(`${server.url}/api/knowledge/import`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" },
        body,
      }).then(async (res) => ({
        status: res.status,
        body: (await res.json()) as { reason: string; data: never },
      }));
    const lines = [
      { kind: "answer", question: "Is there parking?", answer: "Yes, behind the shop." },
      { kind: "helpdesk", title: "Lessons", body: "Beginner lessons run on Saturdays." },
    ];
    const ok = await post(`${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    expect(ok.status).toBe(200);
    expect((ok.body.data as { created: unknown[] }).created).toHaveLength(2);
    const bad = await post(`${JSON.stringify(lines[0])}\n{"kind": oops}\n`);
    expect(bad).toMatchObject({ status: 400, body: { reason: "invalid_json" } });
    expect(JSON.stringify(bad.body)).toContain("line 2");
  });
});
