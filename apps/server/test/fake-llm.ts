import { randomBytes } from "node:crypto";
import http from "node:http";
import type net from "node:net";

/** One tool call the fake model makes; `id` defaults to a provider-style random id. */
export interface FakeToolCall {
  id?: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** What the fake answers to one request: text (optionally with tool calls), or a failure. */
export type FakeReply =
  | {
      text?: string;
      toolCalls?: FakeToolCall[];
      usage?: { input: number; output: number };
      finish?: "stop" | "tool_calls" | "length";
      /** Milliseconds between streamed events: a model writing at a pace a reader can see. */
      paceMs?: number;
    }
  | { status: number; error?: { type?: string; message: string }; retryAfterSeconds?: number } // e.g. 429, 500, 401
  | { hang: true } // accepts the request and never answers (timeouts)
  | { delayMs: number; reply: FakeReply }; // answers `reply` after a delay

/** A request as the fake received it, recorded before it is answered. */
export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: tests index freely into the prompt they sent
  body: any;
  stream: boolean;
}

/** A local stand-in for OpenAI chat completions and embeddings and Anthropic messages, on 127.0.0.1. */
export interface FakeLlm {
  /** e.g. http://127.0.0.1:PORT; both providers' base URL is `${url}/v1`. */
  url: string;
  requests: RecordedRequest[];
  /** Replies used in order, one per request; when they run out, `fallback` answers (default: text "ok"). */
  script(...replies: FakeReply[]): void;
  fallback: FakeReply;
  /**
   * Replies to `/v1/embeddings`, in order, one per request (their own queue, so embedding calls never
   * take a chat reply): a failure, a hang or a delay; any text reply means "embed". When they run
   * out, `embeddingFallback` answers (default: embed).
   */
  scriptEmbeddings(...replies: FakeReply[]): void;
  embeddingFallback: FakeReply;
  close(): Promise<void>;
}

type TextReply = Exclude<FakeReply, { status: number } | { hang: true } | { delayMs: number }>;
/** A scripted failure, or one of the fake's own refusals (which may carry OpenAI's `code`). */
type ErrorReply = Extract<FakeReply, { status: number }> & { code?: string };
type Protocol = "openai" | "anthropic";
type Json = Record<string, unknown>;

/** Characters per streamed text delta: about a token, so a client sees the answer grow. */
const TEXT_PIECE = 4;
/** Characters per streamed tool-argument fragment; small enough to split keys and values mid-way. */
const ARGS_PIECE = 8;

/** Starts the fake on an ephemeral loopback port; `apiKey` turns on the providers' auth checks. */
export async function startFakeLlm(options: { apiKey?: string } = {}): Promise<FakeLlm> {
  let queue: FakeReply[] = [];
  let embeddingQueue: FakeReply[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug in the fake must fail the test loudly rather than leave the client waiting.
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error) } });
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });

  let closing: Promise<void> | undefined;
  const fake: FakeLlm = {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests: [],
    script(...replies) {
      // Replacing (not appending) keeps one test's unused replies from leaking into the next.
      queue = [...replies];
    },
    fallback: { text: "ok" },
    scriptEmbeddings(...replies) {
      embeddingQueue = [...replies];
    },
    embeddingFallback: { text: "" },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Hung and keep-alive connections would keep `server.close` waiting forever.
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let open = true;
    res.on("close", () => {
      open = false;
    });
    // A client that leaves mid-body has nothing left to answer.
    const raw = await readBody(req).catch(() => undefined);
    if (raw === undefined || !open) return;
    const pathname = new URL(req.url ?? "/", "http://fake").pathname;
    const isEmbeddings = req.method === "POST" && pathname === "/v1/embeddings";
    const protocol: Protocol | undefined =
      req.method === "POST" && (pathname === "/v1/chat/completions" || isEmbeddings)
        ? "openai"
        : req.method === "POST" && pathname === "/v1/messages"
          ? "anthropic"
          : undefined;
    const body = parseJson(raw);
    fake.requests.push({
      path: req.url ?? "/",
      headers: { ...req.headers },
      body: body ?? (raw === "" ? undefined : raw),
      stream: isRecord(body) && body.stream === true,
    });

    if (!protocol) {
      sendError(res, pathname.startsWith("/v1/messages") ? "anthropic" : "openai", {
        status: 404,
        error: { message: `Invalid URL (${req.method} ${req.url})` },
      });
      return;
    }
    const refusal =
      checkAuth(protocol, req.headers, options.apiKey) ??
      (isEmbeddings ? validateEmbeddings(body) : validate(protocol, raw, body));
    if (refusal) {
      sendError(res, protocol, refusal);
      return;
    }
    // Checked above: `validate` refuses anything that is not a JSON object.
    const request = body as Json;
    let reply =
      (isEmbeddings ? embeddingQueue.shift() : queue.shift()) ??
      (isEmbeddings ? fake.embeddingFallback : fake.fallback);
    while ("delayMs" in reply) {
      await sleepUnlessClosed(reply.delayMs, res);
      if (!open) return;
      reply = reply.reply;
    }
    // Never answering, while the socket stays open, is what a stuck upstream looks like to a client.
    if ("hang" in reply) return;
    if ("status" in reply) {
      sendError(res, protocol, reply);
      return;
    }
    if (isEmbeddings) {
      sendJson(res, 200, embeddingsResponse(request), { "x-request-id": `req_${randomId(24)}` });
      return;
    }
    const answer = new Answer(reply, request, protocol);
    const requestId = { [protocol === "openai" ? "x-request-id" : "request-id"]: `req_${randomId(24)}` };
    if (request.stream !== true) {
      const response = protocol === "openai" ? answer.openAiResponse() : answer.anthropicResponse();
      sendJson(res, 200, response, requestId);
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...requestId,
    });
    res.flushHeaders();
    for (const event of protocol === "openai" ? answer.openAiEvents() : answer.anthropicEvents()) {
      if (!open) return;
      res.write(event);
      // One event per turn of the event loop, so they leave as separate writes like a real stream.
      if (reply.paceMs) await sleepUnlessClosed(reply.paceMs, res);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    if (open) res.end();
  }

  return fake;
}

/** One successful reply rendered in either protocol; tool-call ids and usage are settled once, up front. */
class Answer {
  readonly text: string;
  readonly calls: { id: string; name: string; arguments: Record<string, unknown>; json: string }[];
  readonly finish: "stop" | "tool_calls" | "length";
  readonly input: number;
  readonly output: number;
  readonly model: string;
  readonly created = Math.floor(Date.now() / 1000);
  readonly request: Json;
  readonly protocol: Protocol;

  constructor(reply: TextReply, request: Json, protocol: Protocol) {
    this.request = request;
    this.protocol = protocol;
    this.text = reply.text ?? "";
    this.calls = (reply.toolCalls ?? []).map((call) => ({
      id: call.id ?? (protocol === "openai" ? `call_${randomId(24)}` : `toolu_${randomId(24)}`),
      name: call.name,
      arguments: call.arguments,
      json: JSON.stringify(call.arguments),
    }));
    this.finish = reply.finish ?? (this.calls.length > 0 ? "tool_calls" : "stop");
    this.model = typeof request.model === "string" ? request.model : "fake-model";
    // Without scripted usage, a deterministic estimate (~4 characters a token) keeps counts plausible.
    const prompt = JSON.stringify([request.system, request.messages, request.tools]);
    this.input = reply.usage?.input ?? estimateTokens(prompt);
    this.output = reply.usage?.output ?? estimateTokens(this.text + this.calls.map((c) => c.json).join(""));
  }

  openAiResponse(): Json {
    return {
      id: `chatcmpl-${randomId(29)}`,
      object: "chat.completion",
      created: this.created,
      model: this.model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            // OpenAI sends null content when the model only calls tools.
            content: this.text === "" && this.calls.length > 0 ? null : this.text,
            refusal: null,
            ...(this.calls.length > 0
              ? {
                  tool_calls: this.calls.map((c) => ({
                    id: c.id,
                    type: "function",
                    function: { name: c.name, arguments: c.json },
                  })),
                }
              : {}),
          },
          logprobs: null,
          finish_reason: this.finish,
        },
      ],
      usage: this.openAiUsage(),
      system_fingerprint: null,
    };
  }

  openAiEvents(): string[] {
    const streamOptions = this.request.stream_options;
    const includeUsage = isRecord(streamOptions) && streamOptions.include_usage === true;
    const base = {
      id: `chatcmpl-${randomId(29)}`,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      system_fingerprint: null,
    };
    // With include_usage, OpenAI puts `usage: null` on every chunk but the last.
    const chunk = (delta: Json, finishReason: string | null = null): Json => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });
    const chunks: Json[] = [chunk({ role: "assistant", content: "", refusal: null })];
    for (const piece of pieces(this.text, TEXT_PIECE)) chunks.push(chunk({ content: piece }));
    this.calls.forEach((call, index) => {
      chunks.push(
        chunk({
          tool_calls: [
            { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
          ],
        }),
      );
      for (const piece of pieces(call.json, ARGS_PIECE)) {
        chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
      }
    });
    chunks.push(chunk({}, this.finish));
    if (includeUsage) chunks.push({ ...base, choices: [], usage: this.openAiUsage() });
    return [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), "data: [DONE]\n\n"];
  }

  private openAiUsage(): Json {
    return {
      prompt_tokens: this.input,
      completion_tokens: this.output,
      total_tokens: this.input + this.output,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    };
  }

  anthropicResponse(): Json {
    return {
      ...this.anthropicMessage(),
      content: [
        ...(this.text !== "" ? [{ type: "text", text: this.text }] : []),
        ...this.calls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.arguments })),
      ],
      stop_reason: this.stopReason(),
      usage: { ...this.anthropicInputUsage(), output_tokens: this.output },
    };
  }

  anthropicEvents(): string[] {
    const events: Json[] = [
      {
        type: "message_start",
        // Real streams open with one output token already counted; the final count comes in message_delta.
        message: {
          ...this.anthropicMessage(),
          content: [],
          stop_reason: null,
          usage: { ...this.anthropicInputUsage(), output_tokens: 1 },
        },
      },
    ];
    let index = 0;
    if (this.text !== "") {
      events.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
      for (const text of pieces(this.text, TEXT_PIECE)) {
        events.push({ type: "content_block_delta", index, delta: { type: "text_delta", text } });
      }
      events.push({ type: "content_block_stop", index });
      index++;
    }
    for (const call of this.calls) {
      // `input` starts empty: the client appends the partial_json pieces to whatever it holds here.
      events.push({
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
      });
      for (const partial of ["", ...pieces(call.json, ARGS_PIECE)]) {
        events.push({
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: partial },
        });
      }
      events.push({ type: "content_block_stop", index });
      index++;
    }
    // Anthropic sends a ping early in every stream; clients must tolerate it.
    events.splice(Math.min(2, events.length), 0, { type: "ping" });
    events.push(
      {
        type: "message_delta",
        delta: { stop_reason: this.stopReason(), stop_sequence: null },
        usage: { output_tokens: this.output },
      },
      { type: "message_stop" },
    );
    return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  }

  private anthropicMessage(): Json {
    return {
      id: `msg_${randomId(24)}`,
      type: "message",
      role: "assistant",
      model: this.model,
      stop_sequence: null,
    };
  }

  private anthropicInputUsage(): Json {
    return { input_tokens: this.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  }

  private stopReason(): string {
    return { stop: "end_turn", tool_calls: "tool_use", length: "max_tokens" }[this.finish];
  }
}

/** The provider's real refusal for a missing or wrong key, or undefined when auth is off or passes. */
function checkAuth(
  protocol: Protocol,
  headers: http.IncomingHttpHeaders,
  apiKey: string | undefined,
): ErrorReply | undefined {
  if (apiKey === undefined) return undefined;
  if (protocol === "openai") {
    const auth = headers.authorization;
    if (auth === `Bearer ${apiKey}`) return undefined;
    return {
      status: 401,
      ...(auth ? { code: "invalid_api_key" } : {}),
      error: {
        type: "invalid_request_error",
        message: auth
          ? "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
          : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      },
    };
  }
  if (headers["x-api-key"] !== apiKey) {
    return { status: 401, error: { type: "authentication_error", message: "invalid x-api-key" } };
  }
  // Anthropic answers a missing version with 400, not 401: the key was fine, the request was not.
  if (!headers["anthropic-version"]) {
    return {
      status: 400,
      error: { type: "invalid_request_error", message: "anthropic-version: header is required" },
    };
  }
  return undefined;
}

/** The provider's 400 for a body its API would reject, so a malformed prompt fails like it would live. */
function validate(protocol: Protocol, raw: string, body: unknown): ErrorReply | undefined {
  const invalid = (message: string): ErrorReply => ({
    status: 400,
    error: { type: "invalid_request_error", message },
  });
  if (!isRecord(body)) {
    return invalid(
      protocol === "openai"
        ? "We could not parse the JSON body of your request."
        : `There was an error parsing the body of your request: ${raw.slice(0, 80)}`,
    );
  }
  if (typeof body.model !== "string") {
    return invalid(protocol === "openai" ? "you must provide a model parameter" : "model: Field required");
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return invalid(
      protocol === "openai" ? "Missing required parameter: 'messages'." : "messages: Field required",
    );
  }
  if (protocol === "anthropic") {
    if (typeof body.max_tokens !== "number") return invalid("max_tokens: Field required");
    // The system prompt is a top-level field in the Messages API; a "system" turn is a client bug.
    const roles = body.messages.map((m: unknown) => (isRecord(m) ? m.role : undefined));
    const bad = roles.findIndex((role) => role !== "user" && role !== "assistant");
    if (bad >= 0) {
      return invalid(`messages.${bad}.role: Input should be 'user' or 'assistant'`);
    }
  }
  return undefined;
}

/** OpenAI's 400s for an embeddings body it would reject. */
function validateEmbeddings(body: unknown): ErrorReply | undefined {
  const invalid = (message: string): ErrorReply => ({
    status: 400,
    error: { type: "invalid_request_error", message },
  });
  if (!isRecord(body)) return invalid("We could not parse the JSON body of your request.");
  if (typeof body.model !== "string") return invalid("you must provide a model parameter");
  const input = body.input;
  const ok =
    (typeof input === "string" && input !== "") ||
    (Array.isArray(input) &&
      input.length > 0 &&
      input.length <= 2048 &&
      input.every((i) => typeof i === "string" && i !== ""));
  if (!ok) return invalid("'input' : input must be a non-empty string or array of non-empty strings");
  if (
    body.dimensions !== undefined &&
    !(Number.isInteger(body.dimensions) && (body.dimensions as number) >= 1)
  ) {
    return invalid("'dimensions' must be a positive integer");
  }
  return undefined;
}

/** Dimensions of the fake's embeddings unless the request asks for others. */
export const FAKE_EMBEDDING_DIMENSIONS = 64;

/** Words the fake embeds as one meaning, so a search can find by meaning what shares no word. */
const SYNONYMS: [RegExp, string][] = [
  [/\bmoney back\b/g, "refund"],
  [/\breimburs\w*/g, "refund"],
  [/\brefund\w*/g, "refund"],
  [/\b(parcel|package)s?\b/g, "delivery"],
  [/\b(shipping|shipment|deliver\w*)\b/g, "delivery"],
];
const STOP = new Set(
  "a an and are as at be by can do does for from get how i in is it me my of on or our the this to we what when where will with you your".split(
    " ",
  ),
);

/**
 * A deterministic embedding: the lower-cased words (synonyms folded, stop words left out) hashed
 * into `dims` buckets, normalised. Texts sharing words (or meanings) are close; others are orthogonal.
 */
export function fakeEmbedding(text: string, dims = FAKE_EMBEDDING_DIMENSIONS): number[] {
  let folded = text.toLowerCase();
  for (const [pattern, meaning] of SYNONYMS) folded = folded.replace(pattern, meaning);
  const v = new Array<number>(dims).fill(0);
  for (const word of folded.match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (STOP.has(word)) continue;
    // FNV-1a
    let h = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
    v[(h >>> 0) % dims]! += 1;
  }
  const norm = Math.hypot(...v);
  return norm === 0 ? v : v.map((x) => x / norm);
}

function embeddingsResponse(request: Json): Json {
  const inputs = typeof request.input === "string" ? [request.input] : (request.input as string[]);
  const dims = typeof request.dimensions === "number" ? request.dimensions : FAKE_EMBEDDING_DIMENSIONS;
  const tokens = inputs.reduce((n, i) => n + estimateTokens(i), 0);
  return {
    object: "list",
    data: inputs.map((input, index) => ({
      object: "embedding",
      index,
      embedding: fakeEmbedding(input, dims),
    })),
    model: request.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

function sendError(res: http.ServerResponse, protocol: Protocol, reply: ErrorReply): void {
  const headers: Record<string, string> = {};
  if (reply.retryAfterSeconds !== undefined) headers["retry-after"] = String(reply.retryAfterSeconds);
  const defaults =
    protocol === "openai" ? openAiErrorDefaults(reply.status) : anthropicErrorDefaults(reply.status);
  const type = reply.error?.type ?? defaults.type;
  const message = reply.error?.message ?? defaults.message;
  if (protocol === "openai") {
    // OpenAI's rate limit errors carry a code; scripted others leave it null.
    const code = reply.code ?? (reply.status === 429 ? "rate_limit_exceeded" : null);
    headers["x-request-id"] = `req_${randomId(24)}`;
    sendJson(res, reply.status, { error: { message, type, param: null, code } }, headers);
  } else {
    const requestId = `req_${randomId(24)}`;
    headers["request-id"] = requestId;
    sendJson(res, reply.status, { type: "error", error: { type, message }, request_id: requestId }, headers);
  }
}

function openAiErrorDefaults(status: number): { type: string; message: string } {
  if (status === 429) return { type: "requests", message: "Rate limit reached. Please try again later." };
  if (status >= 500) {
    return {
      type: "server_error",
      message: "The server had an error while processing your request. Sorry about that!",
    };
  }
  return { type: "invalid_request_error", message: `Request failed with status ${status}.` };
}

function anthropicErrorDefaults(status: number): { type: string; message: string } {
  const known: Record<number, { type: string; message: string }> = {
    400: { type: "invalid_request_error", message: "Invalid request" },
    401: { type: "authentication_error", message: "invalid x-api-key" },
    402: { type: "billing_error", message: "Your credit balance is too low" },
    403: { type: "permission_error", message: "Your API key does not have permission to use this resource" },
    404: { type: "not_found_error", message: "Not found" },
    413: { type: "request_too_large", message: "Request exceeds the maximum allowed number of bytes" },
    429: { type: "rate_limit_error", message: "Number of requests has exceeded your rate limit" },
    500: { type: "api_error", message: "Internal server error" },
    504: { type: "timeout_error", message: "Request timed out" },
    529: { type: "overloaded_error", message: "Overloaded" },
  };
  return (
    known[status] ??
    (status >= 500
      ? { type: "api_error", message: "Internal server error" }
      : { type: "invalid_request_error", message: `Request failed with status ${status}` })
  );
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Waits `ms`, cut short when the client goes away or `close()` destroys the socket. */
function sleepUnlessClosed(ms: number, res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once("close", done);
  });
}

function parseJson(raw: string): unknown {
  if (raw === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Splits by code point, so no piece ends inside a surrogate pair. */
function pieces(text: string, size: number): string[] {
  const points = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(""));
  return out;
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Alphanumeric like the providers' ids (base64url would add `-` and `_`). */
function randomId(length: number): string {
  return Array.from(randomBytes(length), (b) => ALPHABET[b % ALPHABET.length]).join("");
}
