import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeLlm, fakeEmbedding, startFakeLlm } from "./fake-llm.ts";

const KEY = "sk-test-key";
const MESSAGES = [{ role: "user", content: "Where is my parcel?" }];
const ARGS = { order: "A-1042", carriers: ["dhl", "ups"], express: true, note: "naïve ☕ 🚚" };

interface SseEvent {
  event: string | undefined;
  data: string;
}

/** A minimal text/event-stream parser: blank-line separated blocks of `event:` and `data:` lines. */
function parseSse(text: string): SseEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== "")
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      return { event, data: data.join("\n") };
    });
}

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are checked field by field
type Wire = any;

/** The `data:` payloads of an OpenAI stream, checking it ends with `[DONE]`. */
async function openAiChunks(res: Response): Promise<Wire[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const events = parseSse(await res.text());
  expect(events.at(-1)?.data).toBe("[DONE]");
  return events.slice(0, -1).map((e) => JSON.parse(e.data));
}

/** The events of an Anthropic stream, checking each `event:` name matches its payload's `type`. */
async function anthropicEvents(res: Response): Promise<Wire[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  return parseSse(await res.text()).map((e) => {
    const data = JSON.parse(e.data);
    expect(data.type).toBe(e.event);
    return data;
  });
}

describe("the fake LLM server", () => {
  let fake: FakeLlm;
  const openai = (
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ) =>
    fetch(`${fake.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, ...headers },
      body: JSON.stringify({ model: "gpt-test", messages: MESSAGES, ...body }),
      ...(signal ? { signal } : {}),
    });
  const anthropic = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": KEY,
        "anthropic-version": "2023-06-01",
        ...headers,
      },
      body: JSON.stringify({ model: "claude-test", max_tokens: 256, messages: MESSAGES, ...body }),
    });

  beforeAll(async () => {
    fake = await startFakeLlm({ apiKey: KEY });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.script();
    fake.fallback = { text: "ok" };
    fake.requests.length = 0;
  });

  describe("OpenAI embeddings", () => {
    const embeddings = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      fetch(`${fake.url}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, ...headers },
        body: JSON.stringify({ model: "embed-test", ...body }),
      });
    const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    beforeEach(() => {
      fake.scriptEmbeddings();
      fake.embeddingFallback = { text: "" };
    });

    it("answers a list of unit vectors in OpenAI's shape, one per input, in order", async () => {
      const res = await embeddings({ input: ["Refunds within 30 days", "Shipping to Lyon"] });
      expect(res.status).toBe(200);
      const body: Wire = await res.json();
      expect(body).toMatchObject({ object: "list", model: "embed-test" });
      expect(body.data.map((d: Wire) => [d.object, d.index, d.embedding.length])).toEqual([
        ["embedding", 0, 64],
        ["embedding", 1, 64],
      ]);
      expect(body.usage.prompt_tokens).toBeGreaterThan(0);
      expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens);
      for (const d of body.data) expect(cosine(d.embedding, d.embedding)).toBeCloseTo(1, 6);
      expect(body.data[0].embedding).toEqual(fakeEmbedding("Refunds within 30 days"));
      // One string, and asked dimensions.
      const one: Wire = await (await embeddings({ input: "hello", dimensions: 16 })).json();
      expect(one.data).toHaveLength(1);
      expect(one.data[0].embedding).toHaveLength(16);
    });

    it("is deterministic and folds synonyms: a reimbursement is close to a refund, far from shipping", () => {
      const refund = fakeEmbedding("How do I get a refund?");
      expect(fakeEmbedding("How do I get a refund?")).toEqual(refund);
      expect(cosine(fakeEmbedding("reimbursement"), refund)).toBeCloseTo(1, 6);
      expect(cosine(fakeEmbedding("Can I have my money back"), refund)).toBeGreaterThan(0.5);
      expect(cosine(fakeEmbedding("shipping times"), refund)).toBe(0);
    });

    it("checks the key and the body like OpenAI, and plays scripted failures", async () => {
      expect((await embeddings({ input: "x" }, { authorization: "Bearer nope" })).status).toBe(401);
      expect((await embeddings({ input: [] })).status).toBe(400);
      expect((await embeddings({ input: "x", model: 3 })).status).toBe(400);
      fake.scriptEmbeddings({ status: 503 });
      const failed = await embeddings({ input: "x" });
      expect(failed.status).toBe(503);
      expect(((await failed.json()) as Wire).error.type).toBe("server_error");
      expect((await embeddings({ input: "x" })).status).toBe(200);
      // Chat replies are not consumed by embedding calls.
      fake.script({ text: "chat" });
      fake.embeddingFallback = { status: 500 };
      expect((await embeddings({ input: "x" })).status).toBe(500);
      const chat: Wire = await (await openai({})).json();
      expect(chat.choices[0].message.content).toBe("chat");
      expect(fake.requests.at(-2)).toMatchObject({ path: "/v1/embeddings", body: { input: "x" } });
    });
  });

  describe("OpenAI chat completions", () => {
    it("answers a non-streaming request with a chat.completion object", async () => {
      fake.script({ text: "Your parcel is in Lyon.", usage: { input: 12, output: 6 } });
      const res = await openai({});
      expect(res.status).toBe(200);
      const body: Wire = await res.json();
      expect(body).toMatchObject({
        object: "chat.completion",
        model: "gpt-test",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: "Your parcel is in Lyon." },
            finish_reason: "stop",
            logprobs: null,
          },
        ],
        usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
      });
      expect(body.id).toMatch(/^chatcmpl-/);
      expect(typeof body.created).toBe("number");
      expect(body.choices[0].message.tool_calls).toBeUndefined();
    });

    it("answers with tool calls whose arguments are a JSON string", async () => {
      fake.script({
        toolCalls: [
          { name: "track_order", arguments: ARGS },
          { id: "call_fixed", name: "handoff", arguments: {} },
        ],
      });
      const body: Wire = await (await openai({ tools: [] })).json();
      const [choice] = body.choices;
      expect(choice.finish_reason).toBe("tool_calls");
      expect(choice.message.content).toBeNull();
      expect(choice.message.tool_calls).toHaveLength(2);
      expect(choice.message.tool_calls[0]).toMatchObject({
        type: "function",
        function: { name: "track_order" },
      });
      expect(choice.message.tool_calls[0].id).toMatch(/^call_/);
      expect(JSON.parse(choice.message.tool_calls[0].function.arguments)).toEqual(ARGS);
      expect(choice.message.tool_calls[1]).toEqual({
        id: "call_fixed",
        type: "function",
        function: { name: "handoff", arguments: "{}" },
      });
    });

    it("streams text in several content deltas that reassemble exactly", async () => {
      const text = "Your parcel left the Lyon depot this morning — expect it tomorrow 🚚.";
      fake.script({ text });
      const chunks = await openAiChunks(await openai({ stream: true }));
      for (const chunk of chunks) expect(chunk.object).toBe("chat.completion.chunk");
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(chunks[0].choices[0].delta).toMatchObject({ role: "assistant", content: "" });
      const deltas = chunks
        .slice(1)
        .flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
      expect(deltas.length).toBeGreaterThan(5);
      expect(deltas.join("")).toBe(text);
      const last = chunks.at(-1);
      expect(last.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
      // Without stream_options.include_usage OpenAI sends no usage at all.
      expect(chunks.some((c) => "usage" in c)).toBe(false);
    });

    it("streams tool calls as a named start then argument fragments that reassemble to the JSON given", async () => {
      fake.script({
        text: "Let me check.",
        toolCalls: [
          { name: "track_order", arguments: ARGS },
          { name: "handoff", arguments: { why: "angry" } },
        ],
      });
      const chunks = await openAiChunks(await openai({ stream: true }));
      const calls = new Map<number, { id: string; name: string; args: string[] }>();
      for (const chunk of chunks) {
        for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
          if (delta.id) {
            expect(delta).toMatchObject({ type: "function", function: { arguments: "" } });
            calls.set(delta.index, { id: delta.id, name: delta.function.name, args: [] });
          } else {
            calls.get(delta.index)?.args.push(delta.function.arguments);
          }
        }
      }
      const track = calls.get(0);
      expect(track?.name).toBe("track_order");
      expect(track?.id).toMatch(/^call_/);
      expect(track?.args.length).toBeGreaterThan(3);
      expect(JSON.parse(track?.args.join("") ?? "")).toEqual(ARGS);
      expect(calls.get(1)?.name).toBe("handoff");
      expect(JSON.parse(calls.get(1)?.args.join("") ?? "")).toEqual({ why: "angry" });
      expect(chunks.at(-1).choices[0].finish_reason).toBe("tool_calls");
    });

    it("sends a usage chunk with no choices after the finish when include_usage is asked for", async () => {
      fake.script({ text: "Done.", usage: { input: 40, output: 2 } });
      const chunks = await openAiChunks(
        await openai({ stream: true, stream_options: { include_usage: true } }),
      );
      const usage = chunks.at(-1);
      expect(usage.choices).toEqual([]);
      expect(usage.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 2, total_tokens: 42 });
      expect(chunks.at(-2).choices[0].finish_reason).toBe("stop");
      // The other chunks carry an explicit null, as OpenAI's do.
      for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    });

    it("maps finish length to finish_reason length", async () => {
      fake.script({ text: "Trunc", finish: "length" });
      const body: Wire = await (await openai({})).json();
      expect(body.choices[0].finish_reason).toBe("length");
    });

    it("refuses a wrong or missing key with OpenAI's 401 shape", async () => {
      const wrong = await openai({}, { authorization: "Bearer nope" });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toEqual({
        error: {
          message: expect.stringMatching(/Incorrect API key/),
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      });
      const missing = await openai({}, { authorization: "" });
      expect(missing.status).toBe(401);
      expect(await missing.json()).toEqual({
        error: { message: expect.any(String), type: "invalid_request_error", param: null, code: null },
      });
    });

    it("answers 429 with a retry-after header and OpenAI's error shape", async () => {
      fake.script({ status: 429, retryAfterSeconds: 2 });
      const res = await openai({});
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("2");
      const body: Wire = await res.json();
      expect(body.error).toMatchObject({ type: "requests", code: "rate_limit_exceeded", param: null });
      expect(body.error.message).toEqual(expect.any(String));
    });

    it("answers 500 with OpenAI's server_error shape and a scripted message when given", async () => {
      fake.script({ status: 500 }, { status: 503, error: { type: "overloaded", message: "Try later" } });
      const first = await openai({});
      expect(first.status).toBe(500);
      expect(await first.json()).toEqual({
        error: { message: expect.any(String), type: "server_error", param: null, code: null },
      });
      const second = await openai({});
      expect(second.status).toBe(503);
      expect(await second.json()).toEqual({
        error: { message: "Try later", type: "overloaded", param: null, code: null },
      });
    });

    it("rejects a body OpenAI would reject without using a scripted reply", async () => {
      fake.script({ text: "kept" });
      const res = await fetch(`${fake.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ messages: MESSAGES }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Wire).error.type).toBe("invalid_request_error");
      expect(((await (await openai({})).json()) as Wire).choices[0].message.content).toBe("kept");
    });
  });

  describe("Anthropic messages", () => {
    it("answers a non-streaming request with a message object", async () => {
      fake.script({ text: "Your parcel is in Lyon.", usage: { input: 12, output: 6 } });
      const res = await anthropic({ system: "You are Hugo." });
      expect(res.status).toBe(200);
      const body: Wire = await res.json();
      expect(body).toMatchObject({
        type: "message",
        role: "assistant",
        model: "claude-test",
        content: [{ type: "text", text: "Your parcel is in Lyon." }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 6 },
      });
      expect(body.id).toMatch(/^msg_/);
    });

    it("answers with tool_use blocks carrying the input object", async () => {
      fake.script({ text: "Checking.", toolCalls: [{ name: "track_order", arguments: ARGS }] });
      const body: Wire = await (await anthropic({ tools: [] })).json();
      expect(body.stop_reason).toBe("tool_use");
      expect(body.content).toHaveLength(2);
      expect(body.content[0]).toEqual({ type: "text", text: "Checking." });
      expect(body.content[1]).toMatchObject({ type: "tool_use", name: "track_order", input: ARGS });
      expect(body.content[1].id).toMatch(/^toolu_/);
    });

    it("streams text as text_delta pieces inside one content block, in the real event order", async () => {
      const text = "Your parcel left the Lyon depot this morning — expect it tomorrow 🚚.";
      fake.script({ text, usage: { input: 30, output: 17 } });
      const events = await anthropicEvents(await anthropic({ stream: true }));
      const order = events.map((e) => e.type).filter((t) => t !== "content_block_delta" && t !== "ping");
      expect(order).toEqual([
        "message_start",
        "content_block_start",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ]);
      const start = events[0];
      expect(start.message).toMatchObject({
        type: "message",
        role: "assistant",
        content: [],
        stop_reason: null,
      });
      expect(start.message.usage.input_tokens).toBe(30);
      expect(events.find((e) => e.type === "content_block_start").content_block).toEqual({
        type: "text",
        text: "",
      });
      const deltas = events.filter((e) => e.type === "content_block_delta");
      expect(deltas.length).toBeGreaterThan(5);
      for (const d of deltas) expect(d).toMatchObject({ index: 0, delta: { type: "text_delta" } });
      expect(deltas.map((d) => d.delta.text).join("")).toBe(text);
      expect(events.find((e) => e.type === "message_delta")).toEqual({
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: 17 },
      });
    });

    it("streams tool input as input_json_delta pieces that reassemble to the JSON given", async () => {
      fake.script({
        text: "Checking.",
        toolCalls: [
          { name: "track_order", arguments: ARGS },
          { name: "handoff", arguments: {} },
        ],
      });
      const events = await anthropicEvents(await anthropic({ stream: true }));
      const starts = events.filter((e) => e.type === "content_block_start");
      expect(starts.map((s) => [s.index, s.content_block.type])).toEqual([
        [0, "text"],
        [1, "tool_use"],
        [2, "tool_use"],
      ]);
      expect(starts[1].content_block).toMatchObject({ name: "track_order", input: {} });
      expect(starts[1].content_block.id).toMatch(/^toolu_/);
      const json = (index: number) =>
        events
          .filter((e) => e.type === "content_block_delta" && e.index === index)
          .map((e) => {
            expect(e.delta.type).toBe("input_json_delta");
            return e.delta.partial_json;
          });
      expect(json(1).length).toBeGreaterThan(3);
      expect(JSON.parse(json(1).join(""))).toEqual(ARGS);
      expect(JSON.parse(json(2).join(""))).toEqual({});
      expect(events.filter((e) => e.type === "content_block_stop").map((e) => e.index)).toEqual([0, 1, 2]);
      expect(events.find((e) => e.type === "message_delta").delta.stop_reason).toBe("tool_use");
    });

    it("refuses a wrong key with Anthropic's 401 authentication_error", async () => {
      const res = await anthropic({}, { "x-api-key": "nope" });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({
        type: "error",
        error: { type: "authentication_error", message: expect.any(String) },
      });
    });

    it("refuses a request without anthropic-version like Anthropic does", async () => {
      const res = await fetch(`${fake.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": KEY },
        body: JSON.stringify({ model: "claude-test", max_tokens: 10, messages: MESSAGES }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Wire).error.type).toBe("invalid_request_error");
    });

    it("answers 429 with a retry-after header and a rate_limit_error", async () => {
      fake.script({ status: 429, retryAfterSeconds: 7 });
      const res = await anthropic({});
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("7");
      expect(await res.json()).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    });

    it("answers 500 with an api_error and 529 with an overloaded_error", async () => {
      fake.script({ status: 500 }, { status: 529, error: { message: "Overloaded right now" } });
      const first = await anthropic({});
      expect(first.status).toBe(500);
      expect(await first.json()).toMatchObject({
        type: "error",
        error: { type: "api_error", message: expect.any(String) },
      });
      const second = await anthropic({});
      expect(second.status).toBe(529);
      expect(await second.json()).toMatchObject({
        type: "error",
        error: { type: "overloaded_error", message: "Overloaded right now" },
      });
    });

    it("rejects a system turn inside messages, as the Messages API does", async () => {
      const res = await anthropic({ messages: [{ role: "system", content: "x" }, ...MESSAGES] });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Wire).error.message).toMatch(/messages\.0\.role/);
    });
  });

  describe("scripting and recording", () => {
    it("records every request in order with its parsed body, headers and stream flag", async () => {
      await openai({ temperature: 0.2 });
      await anthropic({ stream: true, system: "You are Hugo." }).then((r) => r.text());
      expect(fake.requests).toHaveLength(2);
      const [first, second] = fake.requests;
      expect(first).toMatchObject({ path: "/v1/chat/completions", stream: false });
      expect(first?.body).toEqual({ model: "gpt-test", messages: MESSAGES, temperature: 0.2 });
      expect(first?.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(second).toMatchObject({ path: "/v1/messages", stream: true });
      expect(second?.body.system).toBe("You are Hugo.");
      expect(second?.headers["anthropic-version"]).toBe("2023-06-01");
    });

    it("records refused requests too, so a test can see what was sent", async () => {
      await openai({}, { authorization: "Bearer wrong" });
      expect(fake.requests[0]?.headers.authorization).toBe("Bearer wrong");
    });

    it("uses scripted replies in order, then the fallback, in both protocols", async () => {
      fake.script({ text: "one" }, { text: "two" }, { status: 500 });
      const content = async (res: Response) => ((await res.json()) as Wire).choices?.[0].message.content;
      expect(await content(await openai({}))).toBe("one");
      expect(((await (await anthropic({})).json()) as Wire).content[0].text).toBe("two");
      expect((await openai({})).status).toBe(500);
      expect(await content(await openai({}))).toBe("ok");
      fake.fallback = { text: "fallback" };
      expect(await content(await openai({}))).toBe("fallback");
      expect(await content(await openai({}))).toBe("fallback");
    });

    it("answers a delayed reply no sooner than its delay", async () => {
      fake.script({ delayMs: 150, reply: { text: "late" } });
      const started = performance.now();
      const res = await openai({});
      // A lower bound only: the server waits at least this long, however slow the machine.
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
      expect(((await res.json()) as Wire).choices[0].message.content).toBe("late");
    });

    it("keeps other requests flowing while one reply is delayed", async () => {
      fake.script({ delayMs: 60_000, reply: { text: "late" } }, { text: "fast" });
      const abort = new AbortController();
      const slow = openai({}, {}, abort.signal).catch((error: unknown) => error);
      await waitFor(() => fake.requests.length === 1);
      const fast: Wire = await (await openai({})).json();
      expect(fast.choices[0].message.content).toBe("fast");
      abort.abort();
      expect(await slow).toMatchObject({ name: "AbortError" });
    });

    it("hangs until the client gives up, and then keeps serving", async () => {
      fake.script({ hang: true }, { text: "after" });
      await expect(openai({}, {}, AbortSignal.timeout(200))).rejects.toMatchObject({ name: "TimeoutError" });
      const res = await openai({});
      expect(((await res.json()) as Wire).choices[0].message.content).toBe("after");
      expect(fake.requests).toHaveLength(2);
    });

    it("hangs a streaming request before any header is sent", async () => {
      fake.script({ hang: true });
      const res = fetch(`${fake.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": KEY, "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-test", max_tokens: 10, messages: MESSAGES, stream: true }),
        signal: AbortSignal.timeout(200),
      });
      // fetch resolves once headers arrive, so a timeout here means none were sent.
      await expect(res).rejects.toMatchObject({ name: "TimeoutError" });
    });

    it("answers 404 in OpenAI's shape for a path neither API has", async () => {
      const res = await fetch(`${fake.url}/v1/completions`, { method: "POST", body: "{}" });
      expect(res.status).toBe(404);
      expect(((await res.json()) as Wire).error.type).toBe("invalid_request_error");
    });
  });

  it("closes promptly even with a hung request open", async () => {
    const own = await startFakeLlm();
    own.script({ hang: true });
    const hung = fetch(`${own.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: MESSAGES }),
    }).catch((error: unknown) => error);
    await waitFor(() => own.requests.length === 1);
    // Without destroying the hung socket, close() would never settle; the cap only turns that into a failure.
    await expect(withCap(own.close(), 10_000)).resolves.toBeUndefined();
    expect(await hung).toBeInstanceOf(TypeError);
    await expect(own.close()).resolves.toBeUndefined();
  });

  it("accepts any key when started without one", async () => {
    const own = await startFakeLlm();
    try {
      const res = await fetch(`${own.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-test", max_tokens: 10, messages: MESSAGES }),
      });
      expect(((await res.json()) as Wire).content).toEqual([{ type: "text", text: "ok" }]);
    } finally {
      await own.close();
    }
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  const until = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function withCap<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, cap]).finally(() => clearTimeout(timer));
}
