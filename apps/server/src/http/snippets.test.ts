import { SnippetSet } from "@hugo/protocol";
import { generateSnippets, SNIPPET_IDS, TOKEN_PLACEHOLDER } from "@hugo/snippets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NASTY } from "../../../../packages/snippets/test/arbitraries.ts";
import {
  BACKEND_SNIPPETS,
  findInterpreters,
  type Interpreters,
  interpreterVersions,
  runSnippet,
} from "../../../../packages/snippets/test/interpreters.ts";
import { type AgentSite, agentSite } from "../../test/agent-site.ts";
import { type RunningHugo, startOnPublicUrl } from "../../test/hugo.ts";

type Json = Record<string, unknown>;

/** A workflow triggered from code that says one thing, deployed; its id. */
async function deployedWorkflow(t: AgentSite, name: string, browser = false): Promise<string> {
  const created = await t.api("POST", "/api/workflows", {
    name,
    browser_startable: browser,
    graph: {
      blocks: [
        { id: "start", kind: "start.code", options: {} },
        { id: "hello", kind: "action.text", options: { text: "Welcome to the {{ plan }} plan" } },
      ],
      edges: [{ from: "start", handle: "next", to: "hello" }],
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.data.workflow_id as string;
  expect((await t.api("POST", `/api/workflows/${id}/deploy`)).status).toBe(201);
  return id;
}

const query = (params: Record<string, string | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return `?${q}`;
};

/** The API's JSON answer in a snippet's output (curl prints it alone, the others after the status). */
const answerOf = (stdout: string) => JSON.parse(stdout.slice(stdout.indexOf("{"))) as Json & { data: Json };

/** The snippets routes over real HTTP: the schema, scopes, errors, and the token written in. */
describe.each(["sqlite", "postgres"] as const)("the snippets API on %s", (dialect) => {
  let server: RunningHugo;
  let t: AgentSite;
  let workflowId: string;

  beforeAll(async () => {
    server = await startOnPublicUrl(dialect);
    t = await agentSite(server, "Snippets API");
    workflowId = await deployedWorkflow(t, "Snippet target", true);
  });
  afterAll(async () => {
    t?.ws.ws.close();
    await server?.stop();
  });

  it("gives every snippet for a workflow, calling PUBLIC_URL, with placeholders by default and never cached", async () => {
    const res = await fetch(`${server.url}/api/scenario/${workflowId}/snippets/`, {
      headers: { authorization: `Bearer ${t.own.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { error: boolean; data: unknown };
    expect(body.error).toBe(false);
    const set = SnippetSet.parse(body.data);
    expect(set).toMatchObject({
      base_url: server.url,
      workflow_id: workflowId,
      session_id: null,
      token_id: null,
      browser_startable: true,
    });
    // The server's list is the package's, in its order.
    expect(set.snippets.map((s) => s.id)).toEqual([...SNIPPET_IDS]);
    for (const s of set.snippets.slice(2)) {
      expect(s.code).toContain(`${server.url}/api/scenario/${workflowId}/trigger/`);
      expect(s.code).toContain(TOKEN_PLACEHOLDER);
    }
    expect(set.snippets[0]!.code).toContain(`["do", "bot:scenario:run", ["${workflowId}"]]`);
  });

  it("gives only backend snippets for the agent, with the instruction", async () => {
    const res = await t.api("GET", `/api/agent/snippets${query({ instruction: "VIP customer" })}`);
    expect(res.status).toBe(200);
    const set = SnippetSet.parse(res.body.data);
    expect(set).toMatchObject({ workflow_id: null, browser_startable: null });
    expect(set.snippets.map((s) => s.id)).toEqual(BACKEND_SNIPPETS);
    for (const s of set.snippets) expect(s.code).toContain("VIP customer");
  });

  it("writes a token in only for a caller that manages tokens, and only a live token with a sealed secret", async () => {
    const made = await t.api("POST", "/api/tokens", { name: "backend", scopes: ["workflows:trigger"] });
    const { id, token } = made.body.data as { id: string; token: string };
    const withToken = await t.api("GET", `/api/scenario/${workflowId}/snippets${query({ token_id: id })}`);
    expect(withToken.status).toBe(200);
    expect(withToken.body.data.token_id).toBe(id);
    for (const s of withToken.body.data.snippets.slice(2)) expect(s.code).toContain(token);

    // A token that may read workflows but not manage tokens sees no secret.
    const reader = (await t.api("POST", "/api/tokens", { name: "reader", scopes: ["workflows:read"] })).body
      .data;
    const refused = await t.api(
      "GET",
      `/api/scenario/${workflowId}/snippets${query({ token_id: id })}`,
      undefined,
      reader.token,
    );
    expect(refused).toMatchObject({ status: 403, body: { reason: "insufficient_scope" } });
    expect(refused.body.data.message).toContain("tokens:manage");
    expect(JSON.stringify(refused.body)).not.toContain(token);

    const unknown = await t.api(
      "GET",
      `/api/agent/snippets${query({ token_id: "00000000-0000-4000-8000-000000000000" })}`,
    );
    expect(unknown).toMatchObject({
      status: 404,
      body: { reason: "token_not_found", data: { field: "token_id" } },
    });
    // Another website's token answers exactly like an unknown one.
    const other = await server.hugo.services.tokens.create(server.seed.websiteId, { name: "other site" });
    expect((await t.api("GET", `/api/agent/snippets${query({ token_id: other.id })}`)).body.reason).toBe(
      "token_not_found",
    );

    expect((await t.api("DELETE", `/api/tokens/${id}`)).status).toBe(200);
    const revoked = await t.api("GET", `/api/agent/snippets${query({ token_id: id })}`);
    expect(revoked).toMatchObject({
      status: 409,
      body: { reason: "token_not_revealable", data: { field: "token_id" } },
    });
    expect(revoked.body.data.message).toContain("revoked");

    const short = (await t.api("POST", "/api/tokens", { name: "short", expires_in: 60 })).body.data;
    await server.hugo.database.db
      .updateTable("api_tokens")
      .set({ expires_at: Date.now() - 1 })
      .where("id", "=", short.id)
      .execute();
    const expired = await t.api("GET", `/api/agent/snippets${query({ token_id: short.id })}`);
    expect(expired).toMatchObject({ status: 409, body: { reason: "token_not_revealable" } });
    expect(expired.body.data.message).toContain("expired");

    // A token from before 0009 has only its hash.
    const old = (await t.api("POST", "/api/tokens", { name: "old" })).body.data;
    await server.hugo.database.db
      .updateTable("api_tokens")
      .set({ secret_sealed: null })
      .where("id", "=", old.id)
      .execute();
    const hashOnly = await t.api("GET", `/api/agent/snippets${query({ token_id: old.id })}`);
    expect(hashOnly).toMatchObject({ status: 409, body: { reason: "token_not_revealable" } });
    expect(hashOnly.body.data.message).toContain("create a new token");
  });

  it("answers bad input with a stable code naming the field", async () => {
    const get = (path: string, token?: string) => t.api("GET", path, undefined, token);
    expect(await get(`/api/scenario/scenario_00000000-0000-4000-8000-000000000000/snippets`)).toMatchObject({
      status: 404,
      body: { reason: "workflow_not_found" },
    });
    // Another website's workflow is unknown here.
    const demoWorkflow = server.seed.workflows[0]!.workflow_id;
    expect((await get(`/api/scenario/${demoWorkflow}/snippets`)).body.reason).toBe("workflow_not_found");
    expect(await get("/api/scenario/nope/snippets")).toMatchObject({
      status: 400,
      body: { reason: "invalid_params", data: { field: "workflow_id" } },
    });
    const cases: [string, string][] = [
      [`/api/scenario/${workflowId}/snippets${query({ variables: "{not json" })}`, "variables"],
      [`/api/scenario/${workflowId}/snippets${query({ variables: "[1]" })}`, "variables"],
      [`/api/scenario/${workflowId}/snippets${query({ variables: '{"bad-name":1}' })}`, "variables.bad-name"],
      [`/api/scenario/${workflowId}/snippets${query({ variables: '{"x":null}' })}`, "variables.x"],
      [`/api/scenario/${workflowId}/snippets${query({ session_id: "session_1" })}`, "session_id"],
      [`/api/scenario/${workflowId}/snippets${query({ token_id: "x" })}`, "token_id"],
      [`/api/agent/snippets${query({ instruction: "x".repeat(2001) })}`, "instruction"],
      [`/api/agent/snippets${query({ whatever: "1" })}`, ""],
    ];
    for (const [path, field] of cases) {
      const res = await get(path);
      expect(res, path).toMatchObject({ status: 400, body: { error: true, reason: "invalid_query" } });
      if (field) expect(res.body.data.field, path).toBe(field);
      if (field) expect(res.body.data.message, path).toContain(`"${field}"`);
    }
    expect(
      (await get(`/api/agent/snippets${query({ instruction: "x".repeat(2001) })}`)).body.data.message,
    ).toContain("2000");
    // A token without the route's scope, and no token at all.
    const limited = (await t.api("POST", "/api/tokens", { name: "limited", scopes: ["conversations:read"] }))
      .body.data;
    expect(await get(`/api/scenario/${workflowId}/snippets`, limited.token)).toMatchObject({
      status: 403,
      body: { reason: "insufficient_scope" },
    });
    expect(await get("/api/agent/snippets", limited.token)).toMatchObject({ status: 403 });
    expect((await fetch(`${server.url}/api/agent/snippets`)).status).toBe(401);
  });

  it("is described in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Json>;
    };
    expect(doc.paths["/api/scenario/{workflow_id}/snippets"]).toHaveProperty("get");
    expect(doc.paths["/api/agent/snippets"]).toHaveProperty("get");
  });
});

/**
 * Every backend snippet, as the API gives it, written to a file and run by its real interpreter
 * against a real Hugo: the workflow runs (or the agent turn happens) in that conversation with
 * exactly the variables (or instruction) given, nasty characters included. Errors exit non-zero.
 */
describe("the snippets run by their real interpreters against Hugo", () => {
  let interpreters: Interpreters;
  let server: RunningHugo;
  let t: AgentSite;
  let workflowId: string;
  let tokenId: string;

  // Every piece that breaks naive quoting somewhere (NUL included: SQLite keeps it in JSON text).
  // (Unpaired surrogates are not Unicode text: no HTTP client sends them; the unit tests cover them.)
  const nasty = NASTY.join(" ").toWellFormed();
  const variables = {
    plan: "pro",
    quotes: `it's "quoted" and \\"escaped\\"`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell interpolation, as text
    shell: "$HOME ${HOME} $(id) `id` 'single' \\",
    ruby_php: "#{x} #$y #@z {$a} <?php echo 1; ?> <?= 2 ?>",
    html: "</script><!-- &amp; <b>",
    lines: "a\nb\r\nc\rd\u2028e\u2029f\tg",
    unicode: "héllo 中文 😀 👨‍👩‍👧 \u202e\u2066 \u200b\ufeff \u0085 \u007f",
    nasty,
    long: `${nasty} ${"🎉 ü ".repeat(100)}`.slice(0, 2000),
    count: 42,
    ratio: -0.125,
    huge: 1e21,
    vip: true,
    churned: false,
    empty: "",
  };
  const filler = " Please help with the refund; the customer is VIP. ";
  const instruction = `${nasty}\n${"😀 ".repeat(50)}${filler.repeat(40)}`.slice(0, 2000);

  beforeAll(async () => {
    // A missing interpreter fails every test here, with what to install.
    interpreters = findInterpreters();
    console.info("[snippets] runtimes:", interpreterVersions(interpreters));
    server = await startOnPublicUrl("sqlite");
    t = await agentSite(server, "Snippet runs");
    workflowId = await deployedWorkflow(t, "Triggered from code");
    tokenId = (
      await t.api("POST", "/api/tokens", { name: "snippets", scopes: ["workflows:trigger", "agent:trigger"] })
    ).body.data.id;
  });
  afterAll(async () => {
    t?.ws.ws.close();
    await server?.stop();
  });

  it("the instruction and variables are as nasty as promised", () => {
    expect(instruction).toHaveLength(2000);
    expect(variables.long.length).toBeLessThanOrEqual(2000);
    for (const piece of ["'", '"', "\\", "$HOME", "`", "#{x}", "\n", "\u2028", "</script>", "?>", "😀"]) {
      expect(instruction).toContain(piece);
      expect(variables.nasty).toContain(piece);
    }
  });

  it.each(BACKEND_SNIPPETS)(
    "%s runs the workflow in the conversation with exactly the variables",
    async (id) => {
      const sessionId = await t.conversation();
      const path = `/api/scenario/${workflowId}/snippets${query({
        session_id: sessionId,
        token_id: tokenId,
        variables: JSON.stringify(variables),
      })}`;
      const set = (await t.api("GET", path)).body.data;
      const code = set.snippets.find((s: { id: string }) => s.id === id).code as string;

      const result = await runSnippet(interpreters, id, code);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      const answer = answerOf(result.stdout);
      expect(answer).toMatchObject({ error: false, reason: "dispatched", data: { session_id: sessionId } });
      const runId = answer.data.run_id as string;

      const run = await t.poll(`run ${runId}`, async () => {
        const detail = (await t.api("GET", `/api/runs/${runId}`)).body.data;
        return detail.status === "completed" ? detail : undefined;
      });
      expect(run).toMatchObject({ workflow_id: workflowId, session_id: sessionId, source: "api" });
      expect(run.variables).toEqual(variables);
      const messages = (await t.api("GET", `${t.site()}/conversation/${sessionId}/messages`)).body
        .data as Json[];
      expect(messages.map((m) => m.content)).toContain("Welcome to the pro plan");
    },
  );

  it.each(BACKEND_SNIPPETS)(
    "%s triggers the agent in the conversation with exactly the instruction",
    async (id) => {
      const sessionId = await t.conversation();
      await t.visitorSays(sessionId, "Hello, I need help with my order");
      const path = `/api/agent/snippets${query({ session_id: sessionId, token_id: tokenId, instruction })}`;
      const res = await t.api("GET", path);
      expect(res.status).toBe(200);
      const code = res.body.data.snippets.find((s: { id: string }) => s.id === id).code as string;

      const result = await runSnippet(interpreters, id, code);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      const answer = answerOf(result.stdout);
      expect(answer).toMatchObject({ error: false, reason: "dispatched" });
      const turn = await t.turnDone(answer.data.turn_id as string);
      expect(turn).toMatchObject({ session_id: sessionId, source: "api" });
      expect(turn.instruction).toBe(instruction);
      expect(["answered", "escalated"]).toContain(turn.status);
    },
  );

  it.each(BACKEND_SNIPPETS)(
    "%s exits non-zero and shows Hugo's reason when the token is wrong",
    async (id) => {
      const sessionId = await t.conversation();
      // As the API gives it without token_id: the placeholder token.
      const placeholder = (
        await t.api("GET", `/api/agent/snippets${query({ session_id: sessionId, instruction: "x" })}`)
      ).body.data.snippets.find((s: { id: string }) => s.id === id).code as string;
      // A well-formed token that Hugo does not know.
      const wrong = generateSnippets({
        target: { kind: "workflow", workflowId, variables },
        baseUrl: server.url,
        sessionId,
        token: `hugo_00000000-0000-4000-8000-000000000000_${"0".repeat(64)}`,
      }).find((s) => s.id === id)!.code;
      for (const code of [placeholder, wrong]) {
        const result = await runSnippet(interpreters, id, code);
        expect(result.code, result.stdout).not.toBe(0);
        expect(`${result.stdout}${result.stderr}`).toContain('"reason":"unauthorized"');
      }
      expect((await t.api("GET", `/api/conversations/${sessionId}/runs`)).body.data).toEqual([]);
      expect((await t.api("GET", `/api/agent/turns${query({ session_id: sessionId })}`)).body.data).toEqual(
        [],
      );
    },
  );
});
