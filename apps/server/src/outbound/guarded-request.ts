/**
 * The SSRF guard for every outbound HTTP request a user configures (web hooks; later workflow HTTP
 * blocks and the knowledge crawler).
 *
 * - URLs are parsed with WHATWG `URL`, so odd IPv4 spellings (`http://2130706433/`, `http://0x7f.1/`,
 *   `http://127.1/`) are judged in their normalized form (`127.0.0.1`).
 * - IP-literal hosts must be public; host names must resolve only to public addresses.
 * - The connection's own DNS lookup is guarded too, so a name that re-resolves to a private address
 *   between a check and the connect (DNS rebinding) is refused at connect time.
 * - Redirects are never followed, the whole exchange has one deadline and the body a size cap.
 *
 * `policy.allowHosts` exempts exact hosts (names or IP literals) from the address checks, for tests
 * and intranet services.
 */
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { Readable } from "node:stream";

export interface OutboundPolicy {
  /** Hosts (names or IP literals, lowercase) allowed even though they resolve to private/loopback addresses, e.g. ["127.0.0.1", "localhost"] for tests or an intranet service. */
  allowHosts: readonly string[];
}

export type OutboundErrorCode = "url_invalid" | "url_not_allowed" | "timeout" | "too_large" | "network";

export class OutboundError extends Error {
  readonly code: OutboundErrorCode;
  constructor(code: OutboundErrorCode, message: string) {
    super(message);
    this.name = "OutboundError";
    this.code = code;
  }
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Address classification
// ---------------------------------------------------------------------------------------------

/** Dotted-quad IPv4 to its 32-bit value; null unless exactly four decimal octets. */
function parseIPv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** IPv6 text (optionally bracketed, with a zone id or a trailing dotted quad) to its 128-bit value. */
function parseIPv6(text: string): bigint | null {
  let s = text;
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone !== -1) s = s.slice(0, zone);
  if (isIP(s) !== 6) return null;
  // A trailing dotted quad stands for the last two groups.
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIPv4(tail);
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return value;
}

type Cidr4 = readonly [base: string, prefix: number];

/** Non-public IPv4 ranges. */
const PRIVATE_V4: readonly Cidr4[] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT shared address space
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, incl. cloud metadata 169.254.169.254
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // TEST-NET-1
  ["192.88.99.0", 24], // deprecated 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // TEST-NET-2
  ["203.0.113.0", 24], // TEST-NET-3
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, incl. broadcast 255.255.255.255
];

const PRIVATE_V4_RANGES = PRIVATE_V4.map(([base, prefix]) => {
  const size = 2 ** (32 - prefix);
  const start = Math.floor((parseIPv4(base) as number) / size) * size;
  return { start, end: start + size - 1 };
});

function isPublicV4(value: number): boolean {
  return !PRIVATE_V4_RANGES.some((r) => value >= r.start && value <= r.end);
}

function inV6(value: bigint, base: bigint, prefix: number): boolean {
  const shift = BigInt(128 - prefix);
  return value >> shift === base >> shift;
}

const V6 = (text: string): bigint => parseIPv6(text) as bigint;
const V6_GLOBAL_UNICAST = V6("2000::");
const V6_NAT64 = V6("64:ff9b::");
const V6_NAT64_LOCAL = V6("64:ff9b:1::");
const V6_MAPPED = V6("::ffff:0:0");
const V6_TRANSLATED = V6("::ffff:0:0:0");
const V6_6TO4 = V6("2002::");
const V6_IETF = V6("2001::");
const V6_DOC = V6("2001:db8::");
const V6_DOC2 = V6("3fff::");
const LOW32 = 0xffffffffn;

function isPublicV6(value: bigint): boolean {
  // Forms that embed an IPv4 address are judged by it.
  if (value >> 32n === 0n) return isPublicV4(Number(value & LOW32)); // ::, ::1, IPv4-compatible ::a.b.c.d
  if (inV6(value, V6_MAPPED, 96)) return isPublicV4(Number(value & LOW32)); // ::ffff:a.b.c.d
  if (inV6(value, V6_TRANSLATED, 96)) return isPublicV4(Number(value & LOW32)); // ::ffff:0:a.b.c.d
  if (inV6(value, V6_NAT64, 96)) return isPublicV4(Number(value & LOW32)); // 64:ff9b::a.b.c.d
  if (inV6(value, V6_NAT64_LOCAL, 48)) return false; // local-use NAT64
  if (inV6(value, V6_6TO4, 16)) return isPublicV4(Number((value >> 80n) & LOW32)); // 2002:aabb:ccdd::
  // Everything else must be global unicast (2000::/3): this excludes fc00::/7 (ULA), fe80::/10
  // (link-local), fec0::/10 (site-local), ff00::/8 (multicast) and the rest of the reserved space.
  if (!inV6(value, V6_GLOBAL_UNICAST, 3)) return false;
  if (inV6(value, V6_IETF, 23)) return false; // IETF protocol assignments, incl. Teredo 2001::/32
  if (inV6(value, V6_DOC, 32)) return false; // documentation
  if (inV6(value, V6_DOC2, 20)) return false; // documentation (RFC 9637)
  return true;
}

/** True when `address` (an IPv4 or IPv6 literal, IPv6 optionally bracketed) is a public unicast address. Anything unparsable is not public. */
export function isPublicAddress(address: string): boolean {
  const v4 = isIP(address) === 4 ? parseIPv4(address) : null;
  if (v4 !== null) return isPublicV4(v4);
  const v6 = parseIPv6(address);
  if (v6 !== null) return isPublicV6(v6);
  return false;
}

// ---------------------------------------------------------------------------------------------
// URL checks
// ---------------------------------------------------------------------------------------------

/** The URL's host without IPv6 brackets, lowercase, without a trailing dot. */
function bareHost(url: URL): string {
  let host = url.hostname.toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host.endsWith(".")) host = host.slice(0, -1);
  return host;
}

function isAllowedHost(url: URL, policy: OutboundPolicy): boolean {
  const host = bareHost(url);
  const v6 = isIP(host) === 6 ? parseIPv6(host) : null;
  return policy.allowHosts.some((entry) => {
    let allowed = entry.trim().toLowerCase();
    if (allowed.startsWith("[") && allowed.endsWith("]")) allowed = allowed.slice(1, -1);
    if (allowed.endsWith(".")) allowed = allowed.slice(0, -1);
    if (allowed === host) return true;
    // Compare IPv6 literals by value, so "::1" and "0:0::1" match.
    return v6 !== null && isIP(allowed) === 6 && parseIPv6(allowed) === v6;
  });
}

/** Parses and checks a URL without connecting: http(s) only, no userinfo, a host, port 1-65535; IP-literal hosts must be public unless allowed. Throws OutboundError("url_invalid" | "url_not_allowed"). */
export function checkUrlSyntax(raw: string, policy: OutboundPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError("url_invalid", "The URL could not be parsed.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OutboundError(
      "url_invalid",
      `The URL scheme ${url.protocol} is not allowed; use http or https.`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new OutboundError("url_invalid", "The URL must not contain credentials.");
  }
  const host = bareHost(url);
  if (host === "") throw new OutboundError("url_invalid", "The URL has no host.");
  if (url.port !== "") {
    const port = Number(url.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new OutboundError("url_invalid", "The URL port must be between 1 and 65535.");
    }
  }
  if (isIP(host) !== 0 && !isPublicAddress(host) && !isAllowedHost(url, policy)) {
    throw new OutboundError("url_not_allowed", `The address ${host} is not a public address.`);
  }
  return url;
}

function lookupAll(host: string, options: dns.LookupOptions = {}): Promise<dns.LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dns.lookup(host, { ...options, all: true }, (err, addresses) => {
      if (err) reject(new OutboundError("network", `Could not resolve ${host}: ${err.message}`));
      else if (addresses.length === 0) reject(new OutboundError("network", `Could not resolve ${host}.`));
      else resolve(addresses);
    });
  });
}

function refuseNonPublic(host: string, addresses: readonly dns.LookupAddress[]): void {
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  if (bad)
    throw new OutboundError(
      "url_not_allowed",
      `The host ${host} resolves to a non-public address (${bad.address}).`,
    );
}

/** checkUrlSyntax + resolves the host with dns.lookup({all:true}) and rejects if ANY resolved address is non-public (unless the host is in allowHosts). */
export async function assertPublicUrl(raw: string, policy: OutboundPolicy): Promise<URL> {
  const url = checkUrlSyntax(raw, policy);
  const host = bareHost(url);
  if (isIP(host) !== 0 || isAllowedHost(url, policy)) return url;
  refuseNonPublic(host, await lookupAll(host));
  return url;
}

// ---------------------------------------------------------------------------------------------
// The request
// ---------------------------------------------------------------------------------------------

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for net/http that resolves like dns.lookup but refuses non-public answers unless `allowed`. */
function guardedLookup(allowed: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    const { all, ...rest } = options ?? {};
    lookupAll(hostname, rest).then(
      (addresses) => {
        try {
          if (!allowed) refuseNonPublic(hostname, addresses);
        } catch (err) {
          callback(err as NodeJS.ErrnoException, all ? [] : "", 0);
          return;
        }
        if (all) callback(null, addresses);
        else
          callback(
            null,
            (addresses[0] as dns.LookupAddress).address,
            (addresses[0] as dns.LookupAddress).family,
          );
      },
      (err: NodeJS.ErrnoException) => callback(err, all ? [] : "", 0),
    );
  };
}

/** The request options every guarded exchange connects with: the guarded lookup, no pooling, SNI. */
function connectOptions(
  policy: OutboundPolicy,
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
): { isHttps: boolean; options: https.RequestOptions } {
  const target = checkUrlSyntax(url, policy);
  const allowed = isAllowedHost(target, policy);
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) {
    headers["content-length"] = String(Buffer.byteLength(init.body));
  }
  const isHttps = target.protocol === "https:";
  const options: https.RequestOptions = {
    method: init.method,
    hostname: bareHost(target),
    port: target.port === "" ? (isHttps ? 443 : 80) : Number(target.port),
    path: `${target.pathname}${target.search}`,
    headers,
    agent: false,
    lookup: guardedLookup(allowed) as unknown as http.RequestOptions["lookup"],
  };
  if (isHttps && isIP(bareHost(target)) === 0) options.servername = bareHost(target);
  return { isHttps, options };
}

/** Sends one request. The connection's DNS lookup is the guarded one (so a name that re-resolves to a private address between check and connect — DNS rebinding — is refused at connect time), redirects are NOT followed (3xx returned as is), a total timeout aborts with OutboundError("timeout"), a response body over maxBytes aborts with OutboundError("too_large"), other failures are OutboundError("network") with the cause's message. */
export async function guardedRequest(
  policy: OutboundPolicy,
  url: string,
  init: {
    method: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs: number;
    maxBytes?: number;
  },
): Promise<OutboundResponse> {
  const { isHttps, options } = connectOptions(policy, url, init);
  const maxBytes = init.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise<OutboundResponse>((resolve, reject) => {
    let settled = false;
    let response: http.IncomingMessage | undefined;
    let req: http.ClientRequest | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: OutboundError | null, value?: OutboundResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        response?.destroy();
        req?.destroy();
        reject(err);
      } else {
        resolve(value as OutboundResponse);
      }
    };
    const fail = (err: unknown) => {
      if (err instanceof OutboundError) finish(err);
      else finish(new OutboundError("network", err instanceof Error ? err.message : String(err)));
    };

    try {
      req = (isHttps ? https : http).request(options, (res) => {
        response = res;
        const declared = Number(res.headers["content-length"]);
        if (Number.isFinite(declared) && declared > maxBytes) {
          finish(new OutboundError("too_large", `The response body exceeds ${maxBytes} bytes.`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            finish(new OutboundError("too_large", `The response body exceeds ${maxBytes} bytes.`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("error", fail);
        res.on("end", () =>
          finish(null, {
            status: res.statusCode ?? 0,
            headers: { ...res.headers },
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      });
      req.on("error", fail);
    } catch (err) {
      fail(err); // e.g. a header value with invalid characters
      return;
    }
    timer = setTimeout(
      () => finish(new OutboundError("timeout", `The request did not complete within ${init.timeoutMs} ms.`)),
      init.timeoutMs,
    );
    req.end(init.body);
  });
}

// ---------------------------------------------------------------------------------------------
// A streaming fetch
// ---------------------------------------------------------------------------------------------

/** Statuses whose response has no body (a web `Response` refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * A WHATWG `fetch` through the guard, for libraries that take a custom fetch (the AI SDK's
 * providers): the same address checks and guarded connect-time lookup as `guardedRequest`, no
 * redirects followed, but the response body streams (server-sent events arrive as they are sent)
 * and stops with `OutboundError("too_large")` past `maxBytes`. Deadlines are the caller's, through
 * `init.signal`: aborting it destroys the connection.
 */
export function guardedFetch(policy: OutboundPolicy, limits: { maxBytes: number }): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const signal = init?.signal ?? request.signal;
    signal?.throwIfAborted();
    const body = request.body ? await request.text() : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const { isHttps, options } = connectOptions(policy, request.url, {
      method: request.method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    return new Promise<Response>((resolve, reject) => {
      const req = (isHttps ? https : http).request(options, (res) => {
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxBytes)
            res.destroy(
              new OutboundError("too_large", `The response body exceeds ${limits.maxBytes} bytes.`),
            );
        });
        const status = res.statusCode ?? 0;
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const one of Array.isArray(value) ? value : [value ?? ""]) responseHeaders.append(name, one);
        }
        const stream = NULL_BODY.has(status) ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        if (!stream) res.resume();
        resolve(
          new Response(stream, { status, statusText: res.statusMessage ?? "", headers: responseHeaders }),
        );
      });
      const abort = () => req.destroy(signal?.reason ?? new DOMException("aborted", "AbortError"));
      signal?.addEventListener("abort", abort, { once: true });
      req.on("close", () => signal?.removeEventListener("abort", abort));
      req.on("error", (err) =>
        reject(
          err instanceof OutboundError || signal?.aborted
            ? err
            : new OutboundError("network", err instanceof Error ? err.message : String(err)),
        ),
      );
      req.end(body);
    });
  };
}
