import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";
import { runProcess } from "../../test/run-process.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/hugo.js");

describe.each(["sqlite", "postgres"] as const)("hugo token commands on %s", (dialect) => {
  let server: RunningHugo;
  /** The real CLI in a child process, on the running server's database. */
  const hugo = (...args: string[]) =>
    runProcess(process.execPath, [BIN, ...args], {
      env: {
        DATA_DIR: server.dataDir,
        LOG_LEVEL: "silent",
        ...(server.databaseUrl ? { DATABASE_URL: server.databaseUrl } : {}),
      },
    });
  const api = (token: string, method: string, url: string, body?: unknown) =>
    fetch(`${server.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  beforeAll(async () => {
    server = await startHugo(dialect);
  });
  afterAll(() => server.stop());

  it("creates a scoped token a running Hugo accepts, lists it without its secret, and revokes it", async () => {
    const created = await hugo(
      "token",
      "create",
      "--name",
      "ci deploys",
      "--scope",
      "workflows:trigger",
      "--json",
    );
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout) as {
      id: string;
      token: string;
      scopes: string[];
      website_id: string;
    };
    expect(token.scopes).toEqual(["workflows:trigger"]);
    expect(token.website_id).toBe(server.seed.websiteId);

    // The token works for its scope and only for it.
    const workflowId = server.seed.workflows[0]!.workflow_id;
    const triggered = await api(token.token, "POST", `/api/scenario/${workflowId}/trigger/`, {
      session_id: server.seed.sessionId,
    });
    expect(triggered.status).toBe(202);
    const listing = await api(token.token, "GET", "/api/workflows");
    expect(listing.status).toBe(403);
    expect(((await listing.json()) as { reason: string }).reason).toBe("insufficient_scope");

    const list = await hugo("token", "list", "--json");
    expect(list.code).toBe(0);
    const tokens = JSON.parse(list.stdout) as Record<string, unknown>[];
    const listed = tokens.find((t) => t.id === token.id);
    expect(listed).toMatchObject({ name: "ci deploys", revoked_at: null });
    expect(list.stdout).not.toContain(token.token.split("_").at(-1));
    expect(Object.keys(listed!)).not.toContain("token");

    const human = await hugo("token", "list");
    expect(human.stdout).toMatch(new RegExp(`${token.id}\\s+active\\s+`));

    const revoked = await hugo("token", "revoke", token.id);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked token ${token.id}`);
    // The server caches a verified token for a few seconds; it then refuses the revoked one.
    let reason = "";
    for (let i = 0; i < 100 && reason !== "token_revoked"; i++) {
      const res = await api(token.token, "POST", `/api/scenario/${workflowId}/trigger/`, {
        session_id: server.seed.sessionId,
      });
      reason = ((await res.json()) as { reason: string }).reason;
      if (reason !== "token_revoked") await new Promise((r) => setTimeout(r, 100));
    }
    expect(reason).toBe("token_revoked");
    expect((await hugo("token", "list")).stdout).toMatch(new RegExp(`${token.id}\\s+revoked\\s+`));
    // Revoking again is not an error.
    expect((await hugo("token", "revoke", token.id)).code).toBe(0);
  });

  it("refuses a wrong command line with exit code 2 and a message naming the option", async () => {
    const noName = await hugo("token", "create");
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("--name");
    expect(noName.stderr).toContain("hugo token create --help");

    const badScope = await hugo("token", "create", "--name", "x", "--scope", "everything");
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain("--scope");

    const unknownOption = await hugo("token", "list", "--colour");
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("--colour");

    const shortLife = await hugo("token", "create", "--name", "x", "--expires-in", "5", "--json");
    expect(shortLife.code).toBe(2);
    expect(JSON.parse(shortLife.stderr)).toMatchObject({ error: { code: "usage" } });
  });

  it("fails with exit code 1 and a clear message for an unknown token or website", async () => {
    const unknown = await hugo("token", "revoke", "00000000-0000-4000-8000-000000000000", "--json");
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ error: { code: "token_not_found" } });

    const noWebsite = await hugo("token", "list", "--website", "00000000-0000-4000-8000-000000000000");
    expect(noWebsite.code).toBe(1);
    expect(noWebsite.stderr).toContain("No website");

    // With two websites, the command asks which.
    await server.hugo.services.websites.create({ name: "Second", domain: "second.example" });
    const ambiguous = await hugo("token", "list");
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain("--website");
    expect(ambiguous.stderr).toContain(server.seed.websiteId);
    const chosen = await hugo("token", "list", "--website", server.seed.websiteId, "--json");
    expect(chosen.code).toBe(0);
  });
});

describe("hugo's command line", () => {
  const hugo = (...args: string[]) => runProcess(process.execPath, [BIN, ...args]);

  it("lists its commands, shows each one's help, and refuses an unknown command", async () => {
    const overview = await hugo("--help");
    expect(overview.code).toBe(0);
    const names = [...overview.stdout.matchAll(/^ {2}([a-z]+(?: [a-z]+)?) {2,}/gm)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(["serve", "migrate", "token create", "kb import"]));
    for (const name of names) {
      const help = await hugo(...name.split(" "), "--help");
      expect(help.code, name).toBe(0);
      expect(help.stdout, name).toContain(`Usage: hugo ${name}`);
      expect(help.stdout, name).toContain("--json");
    }
    const group = await hugo("token");
    expect(group.code).toBe(0);
    expect(group.stdout).toContain("hugo token revoke");

    const unknown = await hugo("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");

    const version = await hugo("--version");
    expect(version.stdout).toMatch(/^hugo \d+\.\d+\.\d+/);
  });
});
