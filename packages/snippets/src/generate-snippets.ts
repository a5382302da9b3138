import {
  htmlAttribute,
  jsonString,
  jsString,
  numberText,
  type Primitive,
  phpString,
  pythonString,
  rubyString,
  shellQuote,
} from "./literals.ts";

/** Every snippet, in the order they are shown. */
export const SNIPPET_IDS = [
  "web-sdk",
  "html-button",
  "curl",
  "node",
  "python",
  "python-stdlib",
  "php",
  "ruby",
] as const;
export type SnippetId = (typeof SNIPPET_IDS)[number];

/** What the snippets trigger: a workflow (with its `{{ variables }}`), or the AI agent (with an instruction). */
export type SnippetTarget =
  | { kind: "workflow"; workflowId: string; variables?: Record<string, Primitive> | undefined }
  | { kind: "agent"; instruction?: string | undefined };

export interface SnippetInput {
  target: SnippetTarget;
  /** Hugo's public URL, as backends reach it: `https://hugo.example.com`. */
  baseUrl: string;
  /** The Bearer token to write in; absent, the snippets hold `TOKEN_PLACEHOLDER`. */
  token?: string | undefined;
  /** The conversation (`session_<uuid>`); absent, the snippets hold `SESSION_PLACEHOLDER`. */
  sessionId?: string | undefined;
}

export interface Snippet {
  id: SnippetId;
  label: string;
  /** For syntax highlighting: javascript, html, shell, python, php, ruby. */
  language: string;
  code: string;
}

export const TOKEN_PLACEHOLDER = "YOUR_HUGO_API_TOKEN";
export const SESSION_PLACEHOLDER = "SESSION_ID";

// Checked rather than escaped: the shell snippet splices the session id into JSON text, and a token or
// id with spaces or quotes is a mistake to report, not a value to quote.
const SESSION_RE = /^[A-Za-z0-9_-]{1,200}$/;
const TOKEN_RE = /^[\x21-\x7e]{1,1000}$/;

/** One request a backend snippet makes: its URL and the body fields that follow `session_id`. */
interface TriggerRequest {
  url: string;
  scope: string;
  fields: [name: string, value: string | [string, Primitive][]][];
}

/**
 * The "Workflow API" snippets for a workflow or the agent: ready to paste and run, with every value
 * written as a literal of its language. The agent has no browser snippets (`web-sdk`,
 * `html-button`): its trigger needs the API token, which must never be in a page.
 *
 * @example generateSnippets({ target: { kind: "workflow", workflowId: "scenario_…" }, baseUrl: "https://hugo.example.com" })
 */
export function generateSnippets(input: SnippetInput): Snippet[] {
  const base = new URL(input.baseUrl);
  if (base.protocol !== "http:" && base.protocol !== "https:")
    throw new TypeError(`baseUrl must be an http(s) URL, not ${base.protocol}`);
  if (base.search || base.hash) throw new TypeError("baseUrl must have no query string or fragment");
  const root = base.href.replace(/\/+$/, "");
  if (input.sessionId !== undefined && !SESSION_RE.test(input.sessionId))
    throw new TypeError("sessionId must be a Crisp session id such as session_<uuid>");
  if (input.token !== undefined && !TOKEN_RE.test(input.token))
    throw new TypeError("token must be printable ASCII without spaces, such as hugo_<identifier>_<key>");
  const { target } = input;
  const variables = target.kind === "workflow" ? Object.entries(target.variables ?? {}) : [];
  for (const [name, value] of variables) {
    if (typeof value !== "string" && typeof value !== "boolean" && typeof value !== "number")
      throw new TypeError(`variable ${JSON.stringify(name)} must be a string, a number or a boolean`);
  }
  const request: TriggerRequest =
    target.kind === "workflow"
      ? {
          url: `${root}/api/scenario/${encodeURIComponent(target.workflowId.toWellFormed())}/trigger/`,
          scope: "workflows:trigger",
          fields: variables.length > 0 ? [["variables", variables]] : [],
        }
      : {
          url: `${root}/api/agent/trigger/`,
          scope: "agent:trigger",
          fields: target.instruction ? [["instruction", target.instruction]] : [],
        };
  const ctx: Context = {
    sessionId: input.sessionId ?? SESSION_PLACEHOLDER,
    sessionComment:
      input.sessionId === undefined
        ? `The visitor's conversation (session_<uuid>): read it in their browser with $crisp.get("session:identifier") and send it to your backend.`
        : "The visitor's conversation.",
    token: input.token ?? TOKEN_PLACEHOLDER,
    tokenComment:
      input.token === undefined
        ? `A Hugo API token with the "${request.scope}" scope. It is a secret: keep it on your server.`
        : "Your Hugo API token. It is a secret: keep it on your server (an environment variable, a secret store).",
  };

  const backend: Snippet[] = [
    { id: "curl", label: "cURL", language: "shell", code: curl(request, ctx) },
    { id: "node", label: "Node.js", language: "javascript", code: node(request, ctx) },
    { id: "python", label: "Python (requests)", language: "python", code: python(request, ctx) },
    {
      id: "python-stdlib",
      label: "Python (standard library)",
      language: "python",
      code: pythonStdlib(request, ctx),
    },
    { id: "php", label: "PHP", language: "php", code: php(request, ctx) },
    { id: "ruby", label: "Ruby", language: "ruby", code: ruby(request, ctx) },
  ];
  if (target.kind === "agent") return backend;
  return [...browser(target.workflowId, variables), ...backend];
}

interface Context {
  sessionId: string;
  sessionComment: string;
  token: string;
  tokenComment: string;
}

/** `bot:scenario:run [scenario_id, variables?]` (contract §2); no token: the widget's own credential is used. */
function browser(workflowId: string, variables: [string, Primitive][]): Snippet[] {
  const command = (quote: '"' | "'", html: "script" | "attribute") => {
    const str = (s: string) => jsString(s, { quote, html });
    const args = [str(workflowId)];
    if (variables.length > 0)
      args.push(`{ ${variables.map(([k, v]) => `${jsKey(k, str)}: ${primitive(v, str)}`).join(", ")} }`);
    return `$crisp.push([${str("do")}, ${str("bot:scenario:run")}, [${args.join(", ")}]]);`;
  };
  return [
    {
      id: "web-sdk",
      label: "Web SDK",
      language: "javascript",
      code: `// Runs the workflow in the visitor's chat (turn on the workflow's browser switch).\n${command('"', "script")}\n`,
    },
    {
      id: "html-button",
      label: "HTML button",
      language: "html",
      code: `<button type="button" onclick="${htmlAttribute(command("'", "attribute"))}">Start Support Chat</button>\n`,
    },
  ];
}

const primitive = (v: Primitive, str: (s: string) => string, bools: [string, string] = ["true", "false"]) =>
  typeof v === "string" ? str(v) : typeof v === "number" ? numberText(v) : v ? bools[0] : bools[1];

// `"__proto__": v` in an object literal sets the prototype instead of adding a key; a computed key adds it.
const jsKey = (key: string, str: (s: string) => string) => (key === "__proto__" ? `[${str(key)}]` : str(key));

/** A map literal over several lines: `open`, one `key sep value,` line per entry, `close`. */
function block(
  entries: [string, string][],
  indent: string,
  syntax: { open: string; close: string; sep: string; empty: string; trailingComma?: boolean; step?: string },
): string {
  if (entries.length === 0) return syntax.empty;
  const inner = indent + (syntax.step ?? "  ");
  const lines = entries.map(
    ([k, v], i) =>
      `${inner}${k}${syntax.sep}${v}${syntax.trailingComma === false && i === entries.length - 1 ? "" : ","}`,
  );
  return `${syntax.open}\n${lines.join("\n")}\n${indent}${syntax.close}`;
}

function curl(request: TriggerRequest, ctx: Context): string {
  // The body is JSON text in single quotes, with the session id spliced in from the shell variable.
  const json = (entries: [string, string][], indent: string) =>
    block(entries, indent, { open: "{", close: "}", sep: ": ", empty: "{}", trailingComma: false });
  const fields = request.fields.map(([name, value]): [string, string] => [
    jsonString(name),
    typeof value === "string"
      ? jsonString(value)
      : json(
          value.map(([k, v]) => [jsonString(k), primitive(v, jsonString)]),
          "  ",
        ),
  ]);
  const body = json([[jsonString("session_id"), `"${"\u0000"}"`], ...fields], "");
  const [before, after] = body.split("\u0000") as [string, string];
  return [
    `# ${ctx.sessionComment}`,
    `SESSION_ID=${shellQuote(ctx.sessionId)}`,
    `# ${ctx.tokenComment}`,
    `HUGO_TOKEN=${shellQuote(ctx.token)}`,
    "",
    `curl --fail-with-body --silent --show-error --request POST ${shellQuote(request.url)} \\`,
    `  --header 'Content-Type: application/json' \\`,
    `  --header "Authorization: Bearer $HUGO_TOKEN" \\`,
    `  --write-out '\\n' \\`,
    `  --data-raw ${shellQuote(before)}"$SESSION_ID"${shellQuote(after)}`,
    "",
  ].join("\n");
}

function node(request: TriggerRequest, ctx: Context): string {
  const str = (s: string) => jsString(s);
  const map = (entries: [string, Primitive][], indent: string) =>
    block(
      entries.map(([k, v]) => [jsKey(k, str), primitive(v, str)]),
      indent,
      { open: "{", close: "}", sep: ": ", empty: "{}" },
    );
  const body = block(
    [
      ["session_id", "sessionId"],
      ...request.fields.map(([name, value]): [string, string] => [
        name,
        typeof value === "string" ? str(value) : map(value, "    "),
      ]),
    ],
    "  ",
    { open: "{", close: "}", sep: ": ", empty: "{}" },
  );
  return [
    "// Node.js 18 or later, as an ES module: save as trigger.mjs and run `node trigger.mjs`.",
    `// ${ctx.sessionComment}`,
    `const sessionId = ${str(ctx.sessionId)};`,
    `// ${ctx.tokenComment}`,
    `const token = ${str(ctx.token)};`,
    "",
    `const response = await fetch(${str(request.url)}, {`,
    `  method: "POST",`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the snippet's own template literal
    '  headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },',
    `  body: JSON.stringify(${body}),`,
    "});",
    "console.log(response.status, await response.text());",
    "if (!response.ok) process.exitCode = 1;",
    "",
  ].join("\n");
}

/** The body as a Python dict literal, its lines indented by `indent`. */
function pythonBody(request: TriggerRequest, indent: string): string {
  const map = (entries: [string, Primitive][], at: string) =>
    block(
      entries.map(([k, v]) => [pythonString(k), primitive(v, pythonString, ["True", "False"])]),
      at,
      { open: "{", close: "}", sep: ": ", empty: "{}", step: "    " },
    );
  return block(
    [
      [pythonString("session_id"), "session_id"],
      ...request.fields.map(([name, value]): [string, string] => [
        pythonString(name),
        typeof value === "string" ? pythonString(value) : map(value, `${indent}    `),
      ]),
    ],
    indent,
    { open: "{", close: "}", sep: ": ", empty: "{}", step: "    " },
  );
}

const pythonHeader = (ctx: Context) => [
  `# ${ctx.sessionComment}`,
  `session_id = ${pythonString(ctx.sessionId)}`,
  `# ${ctx.tokenComment}`,
  `token = ${pythonString(ctx.token)}`,
  "",
];

function python(request: TriggerRequest, ctx: Context): string {
  return [
    "import requests",
    "",
    ...pythonHeader(ctx),
    "response = requests.post(",
    `    ${pythonString(request.url)},`,
    `    headers={"Authorization": f"Bearer {token}"},`,
    `    json=${pythonBody(request, "    ")},`,
    "    timeout=30,",
    ")",
    "print(response.status_code, response.text)",
    "response.raise_for_status()",
    "",
  ].join("\n");
}

function pythonStdlib(request: TriggerRequest, ctx: Context): string {
  return [
    "import json",
    "import sys",
    "import urllib.error",
    "import urllib.request",
    "",
    ...pythonHeader(ctx),
    "request = urllib.request.Request(",
    `    ${pythonString(request.url)},`,
    `    data=json.dumps(${pythonBody(request, "    ")}).encode("utf-8"),`,
    `    headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},`,
    `    method="POST",`,
    ")",
    "try:",
    "    with urllib.request.urlopen(request, timeout=30) as response:",
    `        print(response.status, response.read().decode("utf-8"))`,
    "except urllib.error.HTTPError as error:",
    `    print(error.code, error.read().decode("utf-8"))`,
    "    sys.exit(1)",
    "",
  ].join("\n");
}

// A PHP array whose keys are all canonical integers (or that is empty) encodes as a JSON list.
const phpListLike = (keys: string[]) => keys.every((k) => /^(0|-?[1-9][0-9]*)$/.test(k));

function php(request: TriggerRequest, ctx: Context): string {
  const map = (entries: [string, Primitive][], indent: string) =>
    (phpListLike(entries.map(([k]) => k)) ? "(object) " : "") +
    block(
      entries.map(([k, v]) => [phpString(k), primitive(v, phpString)]),
      indent,
      { open: "[", close: "]", sep: " => ", empty: "[]", step: "    " },
    );
  const body = block(
    [
      [phpString("session_id"), "$sessionId"],
      ...request.fields.map(([name, value]): [string, string] => [
        phpString(name),
        typeof value === "string" ? phpString(value) : map(value, "        "),
      ]),
    ],
    "    ",
    { open: "[", close: "]", sep: " => ", empty: "[]", step: "    " },
  );
  return [
    "<?php",
    `// ${ctx.sessionComment}`,
    `$sessionId = ${phpString(ctx.sessionId)};`,
    `// ${ctx.tokenComment}`,
    `$token = ${phpString(ctx.token)};`,
    "",
    `$curl = curl_init(${phpString(request.url)});`,
    "curl_setopt_array($curl, [",
    "    CURLOPT_POST => true,",
    "    CURLOPT_RETURNTRANSFER => true,",
    "    CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'Authorization: Bearer ' . $token],",
    `    CURLOPT_POSTFIELDS => json_encode(${body}, JSON_THROW_ON_ERROR),`,
    "]);",
    "$body = curl_exec($curl);",
    "if ($body === false) {",
    "    fwrite(STDERR, curl_error($curl) . PHP_EOL);",
    "    exit(1);",
    "}",
    "$status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);",
    "echo $status, ' ', $body, PHP_EOL;",
    "exit($status >= 200 && $status < 300 ? 0 : 1);",
    "",
  ].join("\n");
}

function ruby(request: TriggerRequest, ctx: Context): string {
  const map = (entries: [string, Primitive][], indent: string) =>
    block(
      entries.map(([k, v]) => [rubyString(k), primitive(v, rubyString)]),
      indent,
      { open: "{", close: "}", sep: " => ", empty: "{}" },
    );
  const body = block(
    [
      [rubyString("session_id"), "session_id"],
      ...request.fields.map(([name, value]): [string, string] => [
        rubyString(name),
        typeof value === "string" ? rubyString(value) : map(value, "  "),
      ]),
    ],
    "",
    { open: "{", close: "}", sep: " => ", empty: "{}" },
  );
  return [
    `require "json"`,
    `require "net/http"`,
    "",
    `# ${ctx.sessionComment}`,
    `session_id = ${rubyString(ctx.sessionId)}`,
    `# ${ctx.tokenComment}`,
    `token = ${rubyString(ctx.token)}`,
    "",
    `uri = URI(${rubyString(request.url)})`,
    `request = Net::HTTP::Post.new(uri, "Content-Type" => "application/json", "Authorization" => "Bearer #{token}")`,
    `request.body = JSON.generate(${body})`,
    `response = Net::HTTP.start(uri.hostname, uri.port, use_ssl: uri.scheme == "https") do |http|`,
    "  http.request(request)",
    "end",
    `puts "#{response.code} #{response.body}"`,
    "exit(response.is_a?(Net::HTTPSuccess) ? 0 : 1)",
    "",
  ].join("\n");
}
