import http from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { parseHTML } from "linkedom";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nastyString } from "../test/arbitraries.ts";
import { BACKEND_SNIPPETS, findInterpreters, runSnippet } from "../test/interpreters.ts";
import {
  generateSnippets,
  SESSION_PLACEHOLDER,
  SNIPPET_IDS,
  type Snippet,
  type SnippetInput,
  TOKEN_PLACEHOLDER,
} from "./index.ts";
import { isInvisible } from "./literals.ts";

const WORKFLOW = "scenario_0e9c6f3e-5b6a-4c7e-9f3a-2b1c0d9e8f7a";
const SESSION = "session_9b2f1c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
const TOKEN = `hugo_6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b_${"ab".repeat(32)}`;

const byId = (snippets: Snippet[]) =>
  Object.fromEntries(snippets.map((s) => [s.id, s])) as Record<string, Snippet>;

const variableName = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/),
  nastyString(5),
  fc.constantFrom("__proto__", "0", "1", "-1", "constructor", ""),
);
const variables = fc.dictionary(
  variableName,
  fc.oneof(nastyString(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean()),
  { maxKeys: 6 },
);

/** What a trigger body holds after a UTF-8 JSON round trip: unpaired surrogates (in keys too) become U+FFFD, -0 becomes 0. */
const asSent = (value: unknown): unknown => {
  const clean = (v: unknown): unknown =>
    typeof v === "string"
      ? v.toWellFormed()
      : Array.isArray(v)
        ? v.map(clean)
        : v !== null && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.toWellFormed(), clean(x)]))
          : v;
  return JSON.parse(JSON.stringify(clean(value)));
};

describe("generateSnippets", () => {
  it("gives every snippet for a workflow and only backend snippets for the agent, in order", () => {
    const workflow = generateSnippets({
      target: { kind: "workflow", workflowId: WORKFLOW },
      baseUrl: "https://h.example",
    });
    expect(workflow.map((s) => s.id)).toEqual([...SNIPPET_IDS]);
    const agent = generateSnippets({ target: { kind: "agent" }, baseUrl: "https://h.example" });
    expect(agent.map((s) => s.id)).toEqual(
      SNIPPET_IDS.filter((id) => id !== "web-sdk" && id !== "html-button"),
    );
    for (const s of [...workflow, ...agent]) expect(s.label).not.toBe("");
    // The agent's endpoint and scope; the workflow's, with the id in the path.
    expect(byId(agent).curl!.code).toContain("'https://h.example/api/agent/trigger/'");
    expect(byId(agent).node!.code).toContain('the "agent:trigger" scope');
    expect(byId(workflow).python!.code).toContain(`"https://h.example/api/scenario/${WORKFLOW}/trigger/"`);
    expect(byId(workflow).php!.code).toContain('the "workflows:trigger" scope');
  });

  it("writes placeholders, named near the top, when no session or token is given, and the values when they are", () => {
    const input = {
      target: { kind: "agent" as const, instruction: "VIP customer" },
      baseUrl: "http://127.0.0.1:8080/",
    };
    for (const s of generateSnippets(input)) {
      // Both are assigned before the request is made.
      const top = s.code.slice(0, s.code.indexOf("http://127.0.0.1:8080/api/agent/trigger/"));
      expect(top).toContain(SESSION_PLACEHOLDER);
      expect(top).toContain('$crisp.get("session:identifier")');
      expect(top).toContain(TOKEN_PLACEHOLDER);
      expect(s.code).toContain("http://127.0.0.1:8080/api/agent/trigger/");
    }
    for (const s of generateSnippets({ ...input, sessionId: SESSION, token: TOKEN })) {
      expect(s.code).toContain(SESSION);
      expect(s.code).toContain(TOKEN);
      expect(s.code).not.toContain(TOKEN_PLACEHOLDER);
      expect(s.code).not.toContain('$crisp.get("session:identifier")');
    }
  });

  it("refuses a base URL, session id, token or variable it could not write safely", () => {
    const target = { kind: "workflow" as const, workflowId: WORKFLOW };
    expect(() => generateSnippets({ target, baseUrl: "not a url" })).toThrow(TypeError);
    expect(() => generateSnippets({ target, baseUrl: "javascript:alert(1)" })).toThrow(/http\(s\) URL/);
    expect(() => generateSnippets({ target, baseUrl: "https://h.example/?x=1" })).toThrow(/query string/);
    expect(() =>
      generateSnippets({ target, baseUrl: "http://h", sessionId: `session_1"; rm -rf /` }),
    ).toThrow(/sessionId/);
    expect(() => generateSnippets({ target, baseUrl: "http://h", token: "a b" })).toThrow(/token/);
    expect(() => generateSnippets({ target, baseUrl: "http://h", token: "é" })).toThrow(/token/);
    expect(() =>
      generateSnippets({ target: { ...target, variables: { n: Number.NaN } }, baseUrl: "http://h" }),
    ).toThrow(RangeError);
    expect(() =>
      generateSnippets({
        target: { ...target, variables: { n: null as unknown as string } },
        baseUrl: "http://h",
      }),
    ).toThrow(/variable "n" must be a string, a number or a boolean/);
  });

  it("never writes data into a comment, and no invisible character anywhere", () => {
    const comments = (snippets: Snippet[]) =>
      snippets.flatMap((s) => s.code.split("\n").filter((l) => /^\s*(\/\/|#)/.test(l)));
    const allowed = new Set(
      [{}, { sessionId: SESSION, token: TOKEN }].flatMap((given) => [
        ...comments(
          generateSnippets({
            target: { kind: "workflow", workflowId: WORKFLOW },
            baseUrl: "http://h",
            ...given,
          }),
        ),
        ...comments(generateSnippets({ target: { kind: "agent" }, baseUrl: "http://h", ...given })),
      ]),
    );
    fc.assert(
      fc.property(
        nastyString(),
        variables,
        nastyString(),
        fc.boolean(),
        (instruction, vars, workflowId, given) => {
          const extra = given ? { sessionId: SESSION, token: TOKEN } : {};
          const snippets = [
            ...generateSnippets({
              target: { kind: "workflow", workflowId, variables: vars },
              baseUrl: "http://h",
              ...extra,
            }),
            ...generateSnippets({ target: { kind: "agent", instruction }, baseUrl: "http://h", ...extra }),
          ];
          for (const line of comments(snippets)) expect(allowed).toContain(line);
          for (const s of snippets)
            expect([...s.code].filter((ch) => ch !== "\n" && isInvisible(ch))).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("browser snippets push exactly bot:scenario:run [id, variables], inside <script> and as an onclick attribute", () => {
    fc.assert(
      fc.property(nastyString(), variables, (workflowId, vars) => {
        const snippets = byId(
          generateSnippets({
            target: { kind: "workflow", workflowId, variables: vars },
            baseUrl: "http://h",
          }),
        );
        const args = Object.keys(vars).length > 0 ? [workflowId, vars] : [workflowId];
        const want = asSent([["do", "bot:scenario:run", args]]);

        const sdk = snippets["web-sdk"]!.code;
        const { document } = parseHTML(
          `<html><body><script>${sdk}</script><p id="after"></p>${snippets["html-button"]!.code}</body></html>`,
        );
        // The HTML parser ends the script exactly where the snippet ends.
        expect(document.querySelector("script")!.textContent).toBe(sdk);
        expect(document.getElementById("after")).not.toBeNull();
        expect(pushes(sdk)).toEqual(want);

        const button = document.querySelector("button")!;
        expect(button.textContent).toBe("Start Support Chat");
        expect(pushes(button.getAttribute("onclick")!)).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });
});

/** Runs browser code against a stand-in `$crisp` queue; what it pushed. */
function pushes(code: string): unknown {
  const queue: unknown[] = [];
  new Function("$crisp", code)({ push: (command: unknown) => queue.push(command) });
  return asSent(queue);
}

/**
 * Every backend snippet run by its real interpreter against a loopback server that records the
 * request: the body is exactly the trigger's, the headers carry the token; an error status exits
 * non-zero. (The same snippets against a real Hugo: apps/server/src/http/snippets.test.ts.)
 */
describe("backend snippets in their real interpreters", () => {
  let server: http.Server;
  let url: string;
  let status = 202;
  const received: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({
          path: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        res.writeHead(status, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: status >= 400,
            reason: status >= 400 ? "unauthorized" : "dispatched",
            data: {},
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hugo`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const cases: { name: string; input: SnippetInput; path: string; body: Record<string, unknown> }[] = [
    ...fc
      .sample(fc.tuple(nastyString(), variables), { numRuns: 3, seed: 11 })
      .map(([workflowId, vars], n) => ({
        name: `workflow #${n}`,
        input: {
          target: { kind: "workflow" as const, workflowId, variables: vars },
          baseUrl: "",
          sessionId: SESSION,
          token: TOKEN,
        },
        path: `/hugo/api/scenario/${encodeURIComponent(workflowId.toWellFormed())}/trigger/`,
        body: { session_id: SESSION, ...(Object.keys(vars).length > 0 ? { variables: vars } : {}) },
      })),
    ...fc.sample(nastyString(200), { numRuns: 3, seed: 5 }).map((instruction, n) => ({
      name: `agent #${n}`,
      input: {
        target: { kind: "agent" as const, instruction },
        baseUrl: "",
        sessionId: SESSION,
        token: TOKEN,
      },
      path: "/hugo/api/agent/trigger/",
      body: { session_id: SESSION, ...(instruction ? { instruction } : {}) },
    })),
  ];

  it.each(BACKEND_SNIPPETS)(
    "%s sends exactly the trigger's body and exits non-zero on an error status",
    async (id) => {
      const interpreters = findInterpreters();
      for (const c of cases) {
        const code = byId(generateSnippets({ ...c.input, baseUrl: url }))[id]!.code;
        status = 202;
        received.length = 0;
        const ok = await runSnippet(interpreters, id, code);
        expect(ok.code, `${c.name}: ${ok.stdout}${ok.stderr}`).toBe(0);
        expect(ok.stdout).toContain("dispatched");
        expect(received).toHaveLength(1);
        expect(received[0]!.path).toBe(c.path);
        expect(received[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
        expect(received[0]!.headers["content-type"]).toMatch(/^application\/json/);
        expect(JSON.parse(received[0]!.body), c.name).toEqual(asSent(c.body));

        status = 401;
        const failed = await runSnippet(interpreters, id, code);
        expect(failed.code, c.name).not.toBe(0);
        expect(`${failed.stdout}${failed.stderr}`).toContain("unauthorized");
      }
    },
  );
});
