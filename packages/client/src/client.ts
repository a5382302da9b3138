import type { EndpointName, VISITOR_HEADER } from "@hugo/protocol";
import { ConnectionError, errorFromResponse, HugoError, parseRetryAfter, TimeoutError } from "./errors.ts";
import { ROUTES, type Route } from "./routes.ts";
import type { EndpointArgs, EndpointResult, HugoApi, RequestOptions } from "./types.ts";

export interface HugoClientOptions {
  /** Where Hugo answers, e.g. `https://hugo.example.com` (a path prefix is kept); in a browser `""` is the page's origin. */
  baseUrl: string;
  /** An API token, `hugo_<identifier>_<key>`, sent as `Authorization: Bearer …`. A server-side secret. */
  token?: string;
  /** A widget visitor credential, sent as `X-Hugo-Visitor` to the widget API. */
  visitor?: string;
  /**
   * The dashboard's way in, instead of a token: the operator's session cookie goes with the request
   * (`"include"` for another origin), and `csrfToken` (from sign-in) in `X-CSRF-Token` on every change.
   */
  credentials?: RequestCredentials;
  csrfToken?: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
  /** Retries after a 429, a 5xx or a lost connection (idempotent calls only); default 2. */
  retries?: number;
  /** Per attempt, in milliseconds; default 60 000. */
  timeoutMs?: number;
  /** A `Retry-After` longer than this (ms) is not waited for: the RateLimitError is thrown; default 60 000. */
  maxRetryAfterMs?: number;
  /** Sent as `User-Agent` (Node; browsers may ignore it). None by default. */
  userAgent?: string;
  /** Give every POST an `Idempotency-Key` unless the call brings its own; default true. */
  idempotencyKeys?: boolean;
  /** Told before each retry wait: for logs and progress output. */
  onRetry?: (retry: RetryInfo) => void;
}

export interface RetryInfo {
  /** The endpoint, `area.verb`. */
  endpoint: EndpointName;
  /** 1 for the first retry. */
  attempt: number;
  /** How long the client waits before it: the server's `Retry-After`, or backoff with jitter. */
  delayMs: number;
  /** Why: the error the attempt ended with. */
  error: HugoError;
}

const DEFAULT_RETRIES = 2;
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8_000;

const PATH_PARAM = /\{(\w+)\}/g;
// Spelled out so that the bundle imports nothing from the protocol (the type checks the visitor's).
const VISITOR: typeof VISITOR_HEADER = "x-hugo-visitor";
/** The dashboard session's CSRF header (the server's `CSRF_HEADER`). */
const CSRF = "x-csrf-token";

/**
 * A typed client for Hugo's `/api/`: one method per endpoint, typed from the server's own schemas.
 * Resolves to the envelope's `data`; throws a HugoError subclass with the server's `reason` as `code`.
 * @example
 * const client = new HugoClient({ baseUrl: "https://hugo.example.com", token: process.env.HUGO_TOKEN });
 * await client.workflows.trigger("scenario_…", { session_id: "session_…", variables: { plan: "pro" } });
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor defines every area of HugoApi (from ROUTES).
export class HugoClient {
  readonly baseUrl: string;
  /** Sent as `X-CSRF-Token` on every call but a GET (not to the widget API); set it after signing in. */
  csrfToken: string | undefined;
  readonly #options: HugoClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: HugoClientOptions) {
    this.#options = options;
    this.csrfToken = options.csrfToken;
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    for (const [area, verbs] of Object.entries(ROUTES)) {
      const group: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
      for (const [verb, route] of Object.entries(verbs as Record<string, Route>)) {
        const name = `${area}.${verb}` as EndpointName;
        group[verb] = (...args) => this.#request(name, route, args);
      }
      Object.defineProperty(this, area, { value: Object.freeze(group), enumerable: true });
    }
  }

  /**
   * Calls an endpoint by its name in the protocol table, with the same arguments as its method.
   * @example const run = await client.call("workflows.trigger", "scenario_…", { session_id: "session_…" });
   */
  call<N extends EndpointName>(name: N, ...args: EndpointArgs<N>): Promise<EndpointResult<N>> {
    const [area, verb] = name.split(".") as [keyof typeof ROUTES, string];
    const route = (ROUTES[area] as Record<string, Route> | undefined)?.[verb];
    if (!route) return Promise.reject(new TypeError(`No endpoint ${name}.`));
    return this.#request(name, route, args) as Promise<EndpointResult<N>>;
  }

  async #request(name: EndpointName, route: Route, args: unknown[]): Promise<unknown> {
    const params = [...route.path.matchAll(PATH_PARAM)].map((m) => m[1]!);
    let path = route.path;
    params.forEach((param, i) => {
      const value = args[i];
      if (typeof value !== "string" && typeof value !== "number") {
        throw new TypeError(`${name}: ${param} must be a string or a number.`);
      }
      path = path.replace(`{${param}}`, encodeURIComponent(String(value)));
    });
    const file = route.upload ? args[params.length] : undefined;
    const at = params.length + (route.upload ? 1 : 0);
    const input = route.input ? args[at] : undefined;
    const options = (args[at + (route.input ? 1 : 0)] ?? {}) as RequestOptions;

    // A relative base (`""`, `/hugo`) is the page's own origin: the dashboard served by Hugo itself.
    const url = new URL(`${this.baseUrl}${path}`, globalThis.location?.href);
    if (route.input === "query" && input) {
      for (const [key, value] of Object.entries(input)) {
        if (value === undefined || value === null) continue;
        for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
      }
    }
    const headers: Record<string, string> = { accept: "application/json" };
    let body: BodyInit | undefined;
    if (route.input === "body") {
      headers["content-type"] = "application/json";
      body = JSON.stringify(input ?? {});
    } else if (route.upload) {
      const blobType = file instanceof Blob ? file.type : "";
      headers["content-type"] = options.contentType ?? (blobType || "application/octet-stream");
      body = file as BodyInit;
    }
    const token = this.#options.token;
    if (route.auth === "bearer" && token) headers.authorization = `Bearer ${token}`;
    const visitor = options.visitor ?? this.#options.visitor;
    if (route.auth === "visitor" && visitor) headers[VISITOR] = visitor;
    if (route.auth !== "visitor" && route.method !== "GET" && this.csrfToken) headers[CSRF] = this.csrfToken;
    if (this.#options.userAgent) headers["user-agent"] = this.#options.userAgent;
    let key = options.idempotencyKey;
    if (route.method === "POST" && key === undefined && this.#options.idempotencyKeys !== false) {
      key = newKey();
    }
    if (route.method === "POST" && key) headers["idempotency-key"] = key;
    // Sent again after a lost answer, a POST without a key might run twice, and a PATCH may push events.
    const repeatable = route.method === "GET" || route.method === "DELETE" || Boolean(key);

    const retries = options.retries ?? this.#options.retries ?? DEFAULT_RETRIES;
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#attempt(url, { method: route.method, headers, body }, timeoutMs, options);
      if (!outcome.error) return unwrap(route, outcome.body);
      const { error } = outcome;
      const delayMs = retryDelay(error, attempt, outcome.retryAfterMs, this.#options.maxRetryAfterMs);
      if (!repeatable || attempt >= retries || delayMs === undefined) throw error;
      this.#options.onRetry?.({ endpoint: name, attempt: attempt + 1, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }

  /** One HTTP exchange: the parsed success body, or the error to throw or retry on. */
  async #attempt(
    url: URL,
    init: { method: string; headers: Record<string, string>; body: BodyInit | undefined },
    timeoutMs: number,
    { signal }: RequestOptions,
  ): Promise<{ error?: undefined; body: unknown } | { error: HugoError; retryAfterMs?: number }> {
    signal?.throwIfAborted();
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const { credentials } = this.#options;
      const response = await this.#fetch(url, {
        ...init,
        signal: controller.signal,
        ...(credentials ? { credentials } : {}),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        if (response.ok) {
          const message = `The answer (HTTP ${response.status}) is not JSON.`;
          return { error: new HugoError({ status: response.status, code: "invalid_response", message }) };
        }
      }
      if (response.ok) return { body: parsed };
      return {
        error: errorFromResponse(response.status, parsed, response.headers),
        retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
      };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut) return { error: new TimeoutError(timeoutMs) };
      const message = `Could not reach ${url.origin}: ${(error as Error).message}`;
      return { error: new ConnectionError(message, error) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

// The area groups are made in the constructor from ROUTES; this gives them their types.
export interface HugoClient extends HugoApi {}

function unwrap(route: Route, body: unknown): unknown {
  if (route.returns === "body") return body;
  const { error: _error, reason: _reason, ...rest } = (body ?? {}) as Record<string, unknown>;
  return route.returns === "envelope" ? rest : rest.data;
}

/**
 * How long to wait before retrying after `error`, or undefined when it is not worth a retry:
 * 429, 5xx, a lost connection, and a twin request still running (`idempotency_in_progress`) are.
 * The server's `Retry-After` wins; otherwise exponential backoff (0.5 s, 1 s, 2 s … 8 s) less up to 25 % jitter.
 */
function retryDelay(
  error: HugoError,
  attempt: number,
  retryAfterMs: number | undefined,
  maxRetryAfterMs = DEFAULT_MAX_RETRY_AFTER_MS,
): number | undefined {
  const retryable =
    error.status === 0 ||
    error.status === 429 ||
    error.status >= 500 ||
    error.code === "idempotency_in_progress";
  if (!retryable) return undefined;
  if (retryAfterMs !== undefined) return retryAfterMs > maxRetryAfterMs ? undefined : retryAfterMs;
  return Math.min(BACKOFF_BASE_MS * 2 ** attempt, BACKOFF_MAX_MS) * (1 - Math.random() * 0.25);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener("abort", abort);
      resolve();
    };
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}

/**
 * A random UUID v4 for `Idempotency-Key`. `crypto.randomUUID` exists only in secure contexts (https,
 * localhost); a dashboard reached over plain http on a LAN still has `getRandomValues`.
 */
function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
